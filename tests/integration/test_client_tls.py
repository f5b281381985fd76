"""cicada-pub / cicada-sub over mqtts:// to mosquitto and to cicada with TLS listeners,
with a throwaway CA and certificates made by the openssl CLI in the test's tmp_path. The
failure cases run the same command line with mosquitto_pub and compare exit codes.
mosquitto_pub exits 8 (MOSQ_ERR_TLS) when the handshake fails after connect() has
returned and 1 when it fails inside it, depending on timing; cicada exits 8."""
import os
import shlex
import subprocess

import pytest

from client_helpers import (Mosquitto, Running, run, free_port, make_certs, tls_listener,
                            tool_env, wait_port)

MOSQUITTO_PUB = "/usr/bin/mosquitto_pub"


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return make_certs(tmp_path_factory.mktemp("certs"))


class _Ports:
    pass


def cicada_tls_config(certs, ports):
    """Cicada's [listeners.ssl.NAME] for the same three TLS listeners as mosquitto's."""
    def listener(name, server="server", mutual=False):
        lines = ["[listeners.ssl.%s]" % name, 'bind = "127.0.0.1:%d"' % ports[name],
                 'certfile = "%s"' % certs[server + ".crt"],
                 'keyfile = "%s"' % certs[server + ".key"],
                 'cacertfile = "%s"' % certs["ca.crt"]]
        if mutual:
            lines += ['verify = "verify_peer"', "fail_if_no_peer_cert = true"]
        return "\n".join(lines) + "\n"
    return (listener("tls") + listener("wrong", server="wrong") +
            listener("mutual", mutual=True))


@pytest.fixture(params=["mosquitto", "cicada"])
def tls_broker(request, certs, start_broker):
    """A broker, mosquitto or cicada, with TLS listeners: .tls (server certificate for
    localhost / 127.0.0.1), .wrong (certificate for wrong.example) and .mutual (client
    certificate required)."""
    ports = {"tls": free_port(), "wrong": free_port(), "mutual": free_port()}
    if request.param == "cicada":
        broker = _Ports()
        started = start_broker(config=cicada_tls_config(certs, ports))
        for port in ports.values():
            wait_port(port)
        broker.port = started.port
    else:
        broker = Mosquitto(listeners=[
            (ports["tls"], tls_listener(certs)),
            (ports["wrong"], tls_listener(certs, server="wrong")),
            (ports["mutual"], tls_listener(certs, require_certificate=True)),
        ])
    for name, port in ports.items():
        setattr(broker, name, port)
    yield broker
    if request.param == "mosquitto":
        broker.stop()


def subscribe(tool, args):
    """cicada-sub with -d, once its SUBACK is in."""
    sub = Running([tool, "-t", "tls/#", "-v", "-C", "1", "-q", "1", "-d", *args])
    sub.wait_err(lambda line: line.startswith("Subscribed"))
    return sub


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_round_trip_with_cafile(tls_broker, certs, client_tools, host):
    tls = ["-h", host, "-p", str(tls_broker.tls), "--cafile", certs["ca.crt"]]
    sub = subscribe(client_tools["cicada-sub"], tls)
    pub = run([client_tools["cicada-pub"], *tls, "-t", "tls/a", "-m", "over tls", "-q", "1",
               "-d"])
    assert pub.returncode == 0, pub.stderr
    assert b"Connected to mqtts://" in pub.stderr
    sub.wait_out(lambda line: line == "tls/a over tls")
    assert sub.process.wait(timeout=30) == 0


def test_capath(tls_broker, certs, client_tools, tmp_path):
    # A hashed CA directory, as `openssl rehash` / c_rehash makes it.
    import shutil
    import subprocess
    ca_dir = tmp_path / "cas"
    ca_dir.mkdir()
    shutil.copy(certs["ca.crt"], ca_dir / "ca.pem")
    subprocess.run(["openssl", "rehash", str(ca_dir)], check=True, capture_output=True)
    pub = run([client_tools["cicada-pub"], "-p", str(tls_broker.tls), "--capath", str(ca_dir),
               "-t", "tls/p", "-m", "x"])
    assert pub.returncode == 0, pub.stderr


def test_tls_flags_make_8883_the_default_port(certs, client_tools):
    # As mosquitto_pub: --cafile without -p means port 8883.
    pub = run([client_tools["cicada-pub"], "-h", "127.0.0.1", "--cafile", certs["ca.crt"],
               "-t", "tls/d", "-m", "x"])
    assert pub.returncode == 1
    assert b"mqtts://127.0.0.1:8883" in pub.stderr


@pytest.mark.parametrize("case", ["system CAs (-L mqtts://)", "another CA"])
def test_untrusted_server_fails_like_mosquitto(tls_broker, certs, client_tools, case):
    if case.startswith("system"):
        args = ["-L", "mqtts://127.0.0.1:%d/tls/u" % tls_broker.tls]
    else:
        args = ["-h", "127.0.0.1", "-p", str(tls_broker.tls), "--cafile", certs["other-ca.crt"],
                "-t", "tls/u"]
    ours = run([client_tools["cicada-pub"], *args, "-m", "x"])
    theirs = run([MOSQUITTO_PUB, *args, "-m", "x"])
    assert ours.returncode == 8 and theirs.returncode in (1, 8), (ours.stderr, theirs.stderr)
    assert b"certificate verify failed" in ours.stderr, ours.stderr


def test_name_mismatch_fails_and_insecure_skips_the_check(tls_broker, certs, client_tools):
    args = ["-h", "127.0.0.1", "-p", str(tls_broker.wrong), "--cafile", certs["ca.crt"],
            "-t", "tls/w", "-m", "x"]
    ours = run([client_tools["cicada-pub"], *args])
    theirs = run([MOSQUITTO_PUB, *args])
    assert ours.returncode == 8 and theirs.returncode in (1, 8), (ours.stderr, theirs.stderr)
    assert b"certificate verify failed: IP address mismatch" in ours.stderr, ours.stderr
    sub = subscribe(client_tools["cicada-sub"],
                    ["-h", "127.0.0.1", "-p", str(tls_broker.wrong), "--cafile", certs["ca.crt"],
                     "--insecure"])
    ours = run([client_tools["cicada-pub"], *args, "--insecure"])
    theirs = run([MOSQUITTO_PUB, *args, "--insecure"])
    assert ours.returncode == theirs.returncode == 0, (ours.stderr, theirs.stderr)
    sub.wait_out(lambda line: line == "tls/w x")
    assert sub.process.wait(timeout=30) == 0


def test_mutual_tls(tls_broker, certs, client_tools):
    base = ["-p", str(tls_broker.mutual), "--cafile", certs["ca.crt"]]
    # No client certificate: mosquitto refuses it. With TLS 1.3 the client's handshake
    # is over by then, so the refusal shows as a reset (or an alert) around CONNECT.
    ours = run([client_tools["cicada-pub"], *base, "-t", "tls/m", "-m", "x"])
    theirs = run([MOSQUITTO_PUB, *base, "-t", "tls/m", "-m", "x"])
    assert ours.returncode != 0 and theirs.returncode != 0, (ours.stderr, theirs.stderr)
    assert b"connect failed" in ours.stderr or b"TLS failed" in ours.stderr, ours.stderr
    mine = base + ["--cert", certs["client.crt"], "--key", certs["client.key"]]
    sub = subscribe(client_tools["cicada-sub"], mine)
    pub = run([client_tools["cicada-pub"], *mine, "-t", "tls/m", "-m", "mutual"])
    assert pub.returncode == 0, pub.stderr
    sub.wait_out(lambda line: line == "tls/m mutual")
    assert sub.process.wait(timeout=30) == 0


def with_terminal(command, typed):
    """Runs `command` on a pseudo-terminal (util-linux's script), typing `typed`: how
    a passphrase prompt, which reads the terminal and not stdin, is answered."""
    return subprocess.run(["script", "-qec", " ".join(shlex.quote(c) for c in command),
                           "/dev/null"], input=typed, capture_output=True, timeout=30,
                          env=tool_env())


def test_encrypted_client_key_asks_for_its_passphrase_like_mosquitto(tls_broker, certs,
                                                                     client_tools, tmp_path):
    key = str(tmp_path / "client-encrypted.key")
    subprocess.run(["openssl", "pkey", "-in", certs["client.key"], "-aes256", "-passout",
                    "pass:open sesame", "-out", key], check=True, capture_output=True)
    base = ["-p", str(tls_broker.mutual), "--cafile", certs["ca.crt"], "--cert",
            certs["client.crt"], "--key", key, "-t", "tls/k", "-m", "x", "-q", "1"]
    for tool in (client_tools["cicada-pub"], MOSQUITTO_PUB):
        typed = with_terminal([tool, *base], b"open sesame\n")
        assert typed.returncode == 0, (tool, typed.stdout)
        assert b"Enter PEM pass phrase:" in typed.stdout, typed.stdout
        wrong = with_terminal([tool, *base], b"guess\n")
        assert wrong.returncode != 0, (tool, wrong.stdout)
    # Without a terminal (a new session has none) there is nobody to ask: a clear
    # error, no hang.
    alone = subprocess.run([client_tools["cicada-pub"], *base], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=30, env=tool_env(),
                           start_new_session=True)
    assert alone.returncode != 0
    assert b"an encrypted key needs key_password" in alone.stderr, alone.stderr


def test_bad_tls_files_are_clear_errors(certs, client_tools):
    missing = run([client_tools["cicada-pub"], "--cafile", "/nonexistent/ca.crt", "-t", "t",
                   "-m", "x"])
    assert missing.returncode == 1
    assert b"cannot load CA file '/nonexistent/ca.crt'" in missing.stderr, missing.stderr
    half = run([client_tools["cicada-pub"], "--cafile", certs["ca.crt"], "--cert",
                certs["client.crt"], "-t", "t", "-m", "x"])
    assert half.returncode == 1
    assert b"Both certfile and keyfile" in half.stderr, half.stderr


@pytest.fixture
def tls12_broker(certs, tmp_path):
    """mosquitto speaking at most TLS 1.2: its listener's tls_version is only a
    minimum, so OpenSSL's own configuration (MaxProtocol) caps it. .tls12 offers
    OpenSSL's ciphers, .one_cipher a single one."""
    conf = tmp_path / "openssl-tls12.cnf"
    conf.write_text("openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\n"
                    "system_default = tls\n[tls]\nMaxProtocol = TLSv1.2\n")
    ports = {"tls12": free_port(), "one_cipher": free_port()}
    m = Mosquitto(listeners=[
        (ports["tls12"], tls_listener(certs)),
        (ports["one_cipher"], tls_listener(certs) + "\nciphers ECDHE-ECDSA-AES256-GCM-SHA384"),
    ], env=dict(os.environ, OPENSSL_CONF=str(conf)))
    for name, port in ports.items():
        setattr(m, name, port)
    yield m
    m.stop()


@pytest.mark.parametrize("tool", ["cicada-pub", "mosquitto_pub"])
def test_tls_version(tls12_broker, certs, client_tools, tool):
    binary = client_tools.get(tool, MOSQUITTO_PUB)
    base = [binary, "-h", "localhost", "-p", str(tls12_broker.tls12), "--cafile", certs["ca.crt"],
            "-t", "tls/v", "-m", "x", "-q", "1"]
    assert run(base).returncode == 0
    assert run(base + ["--tls-version", "tlsv1.2"]).returncode == 0
    # Asking for at least 1.3 from a 1.2-only listener: the handshake fails.
    refused = run(base + ["--tls-version", "tlsv1.3"])
    assert refused.returncode in ((8,) if tool == "cicada-pub" else (1, 8)), refused.stderr
    if tool == "cicada-pub":
        assert b"TLS failed" in refused.stderr, refused.stderr


@pytest.mark.parametrize("tool", ["cicada-pub", "mosquitto_pub"])
def test_ciphers(tls12_broker, certs, client_tools, tool):
    binary = client_tools.get(tool, MOSQUITTO_PUB)
    base = [binary, "-h", "localhost", "-p", str(tls12_broker.one_cipher), "--cafile",
            certs["ca.crt"], "-t", "tls/c", "-m", "x", "-q", "1"]
    assert run(base + ["--ciphers", "ECDHE-ECDSA-AES256-GCM-SHA384"]).returncode == 0
    # No cipher in common with the listener's one.
    other = run(base + ["--ciphers", "ECDHE-ECDSA-AES128-GCM-SHA256"])
    assert other.returncode in ((8,) if tool == "cicada-pub" else (1, 8)), other.stderr


def test_tls_flag_errors(certs, client_tools):
    pub = client_tools["cicada-pub"]
    base = [pub, "-t", "t", "-m", "x"]
    bad_list = run(base + ["--cafile", certs["ca.crt"], "--ciphers", "NO-SUCH-CIPHER"])
    assert bad_list.returncode == 1 and b"no usable TLS 1.2 cipher" in bad_list.stderr
    old = run(base + ["--cafile", certs["ca.crt"], "--tls-version", "tlsv1.1"])
    assert old.returncode == 1 and b"deprecated" in old.stderr, old.stderr
    plain = run(base + ["--tls-version", "tlsv1.3"])
    assert plain.returncode == 1 and b"need TLS" in plain.stderr, plain.stderr


def alpn_offered(certs, command):
    """Runs `command` (a client aimed at {port}) against `openssl s_server -alpn mqtt` and
    returns what the server printed about the ALPN names the client offered."""
    import subprocess
    port = free_port()
    server = subprocess.Popen(
        ["openssl", "s_server", "-accept", str(port), "-cert", certs["server.crt"],
         "-key", certs["server.key"], "-alpn", "mqtt", "-naccept", "2"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_port(port)
        # The handshake completes; no MQTT answer follows, so the client gives up. Then
        # the server, with its two connections served (wait_port's probe and the
        # client), ends and flushes what it printed.
        run([part.format(port=port) for part in command])
        out = server.communicate(timeout=10)[0].decode(errors="replace")
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
    return [line for line in out.splitlines() if "ALPN protocols advertised" in line]


@pytest.mark.parametrize("tool", ["cicada-pub", "mosquitto_pub"])
def test_tls_alpn_is_offered_in_the_handshake(certs, client_tools, tool):
    binary = client_tools["cicada-pub"] if tool == "cicada-pub" else MOSQUITTO_PUB
    command = [binary, "-h", "localhost", "-p", "{port}", "--cafile", certs["ca.crt"],
               "-t", "a", "-m", "x", "-k", "5"]
    assert alpn_offered(certs, command + ["--tls-alpn", "mqtt"]) == [
        "ALPN protocols advertised by the client: mqtt"]
    assert alpn_offered(certs, command) == []
