"""TLS and mutual-TLS listeners ([listeners.ssl.NAME], docs/security.md): the real
cicada with certificates made by the openssl CLI in a temporary directory, driven by
mosquitto_pub/sub, openssl s_client, paho and cicada's own cicada-pub/cicada-sub.

Each broker gets an ssl listener on 127.0.0.1:0 (found in the log as "listening on ssl
127.0.0.1:PORT") beside the fixture's plain --listen listener.
"""
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time

import pytest

from client_helpers import Running
from mqtt_helpers import V311, V5, PahoClient, unique, wait_until

WAIT = 20


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """CA; server certificates for localhost / 127.0.0.1 (one more, "reloaded", for the
    SIGHUP test; one expired); client certificates CN=alice,O=Acme and CN=bob; another
    CA and a client certificate it signed."""
    d = str(tmp_path_factory.mktemp("tls"))
    p = lambda name: os.path.join(d, name)  # noqa: E731

    def openssl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for ca in ("ca", "other-ca"):
        openssl("req", "-x509", *key, "-keyout", p(ca + ".key"), "-out", p(ca + ".crt"),
                "-days", "2", "-subj", "/CN=cicada test " + ca,
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    server_ext = "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n"
    client_ext = "extendedKeyUsage=clientAuth\n"
    for name, ca, subject, ext, days in (
            ("server", "ca", "/CN=localhost", server_ext, "2"),
            ("reloaded", "ca", "/O=Reloaded/CN=localhost", server_ext, "2"),
            ("expired", "ca", "/CN=localhost", server_ext, "-1"),
            ("alice", "ca", "/O=Acme/CN=alice", client_ext, "2"),
            ("bob", "ca", "/CN=bob", client_ext, "2"),
            ("stranger", "other-ca", "/CN=alice", client_ext, "2")):
        with open(p(name + ".ext"), "w") as f:
            f.write("basicConstraints=CA:FALSE\n" + ext)
        openssl("req", *key, "-keyout", p(name + ".key"), "-out", p(name + ".csr"),
                "-subj", subject)
        openssl("x509", "-req", "-in", p(name + ".csr"), "-CA", p(ca + ".crt"), "-CAkey",
                p(ca + ".key"), "-CAcreateserial", "-out", p(name + ".crt"), "-days", days,
                "-extfile", p(name + ".ext"))
    return p


def ssl_config(certs, server="server", extra="", listener_extra="", certfile=None,
               keyfile=None):
    return "\n".join([
        "[listeners.ssl.default]",
        'bind = "127.0.0.1:0"',
        'certfile = "%s"' % (certfile or certs(server + ".crt")),
        'keyfile = "%s"' % (keyfile or certs(server + ".key")),
        'cacertfile = "%s"' % certs("ca.crt"),
        listener_extra,
        "",
        extra,
    ])


MUTUAL = 'verify = "verify_peer"\nfail_if_no_peer_cert = true'


def run(cmd, timeout=WAIT, stdin=None):
    return subprocess.run(cmd, capture_output=True, timeout=timeout, input=stdin)


def tls_args(certs, port, client=None, ca="ca", host="127.0.0.1"):
    args = ["-h", host, "-p", str(port), "--cafile", certs(ca + ".crt")]
    if client:
        args += ["--cert", certs(client + ".crt"), "--key", certs(client + ".key")]
    return args


def s_client(port, *args, stdin=b""):
    """openssl s_client's output (stdout and stderr) and exit code."""
    out = run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-servername",
               "localhost", *args], stdin=stdin)
    return out.stdout.decode(errors="replace") + out.stderr.decode(errors="replace"), out.returncode


def paho(port, certs, client=None, version=V5, ca="ca", connect=True):
    c = PahoClient(port, version=version, connect=False)
    c.client.tls_set(ca_certs=certs(ca + ".crt"), tls_version=ssl.PROTOCOL_TLS_CLIENT,
                     certfile=certs(client + ".crt") if client else None,
                     keyfile=certs(client + ".key") if client else None)
    if connect:
        c.connect()
    return c


def round_trip(certs, port, client=None, version="mqttv311", host="127.0.0.1"):
    topic = unique("tls/")
    args = tls_args(certs, port, client, host=host) + ["-V", version]
    sub = subprocess.Popen(["mosquitto_sub", *args, "-t", topic, "-C", "1", "-q", "1",
                            "-W", str(WAIT)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # mosquitto_sub prints nothing on SUBACK: publish until it receives (retain 0, QoS 1).
        deadline = time.time() + WAIT
        while sub.poll() is None and time.time() < deadline:
            pub = run(["mosquitto_pub", *args, "-t", topic, "-m", "over tls", "-q", "1"])
            assert pub.returncode == 0, pub.stderr
            time.sleep(0.3)
        out, err = sub.communicate(timeout=WAIT)
    finally:
        if sub.poll() is None:
            sub.kill()
    assert sub.returncode == 0, err
    assert out.decode().strip() == "over tls"


@pytest.mark.parametrize("version", ["mqttv311", "mqttv5"])
def test_mosquitto_clients_round_trip(start_broker, certs, version):
    b = start_broker(config=ssl_config(certs))
    assert b.ssl_port is not None and b.ssl_port != b.port
    round_trip(certs, b.ssl_port, version=version)
    round_trip(certs, b.ssl_port, version=version, host="localhost")


def test_s_client_verifies_the_server_and_speaks_tls13(start_broker, certs):
    b = start_broker(config=ssl_config(certs))
    out, code = s_client(b.ssl_port, "-CAfile", certs("ca.crt"), "-verify_return_error",
                         "-verify_hostname", "localhost")
    assert "Verify return code: 0 (ok)" in out, out
    assert "TLSv1.3" in out, out
    # TLS 1.2 is accepted too by default.
    out, code = s_client(b.ssl_port, "-CAfile", certs("ca.crt"), "-tls1_2")
    assert "New, TLSv1.2, Cipher is" in out, out


def test_plain_mqtt_to_the_tls_port_is_closed_and_logged(start_broker, certs):
    b = start_broker(config=ssl_config(certs), args=["--log-level", "debug"])
    s = socket.create_connection(("127.0.0.1", b.ssl_port), timeout=WAIT)
    # A 3.1.1 CONNECT in clear: not a TLS ClientHello.
    s.sendall(bytes.fromhex("101000044d5154540402003c0004746573740000"))
    assert s.recv(1024)[:1] in (b"\x15", b"")  # a TLS alert, or just the end
    s.close()
    wait_until(lambda: "TLS error before CONNECT" in b.log())
    # The plain listener still works, without TLS.
    assert run(["mosquitto_pub", "-p", str(b.port), "-t", "x", "-m", "y"]).returncode == 0


def test_wrong_ca_is_refused_by_the_client(start_broker, certs):
    b = start_broker(config=ssl_config(certs))
    pub = run(["mosquitto_pub", *tls_args(certs, b.ssl_port, ca="other-ca"), "-t", "x",
               "-m", "y"])
    assert pub.returncode != 0
    out, _ = s_client(b.ssl_port, "-CAfile", certs("other-ca.crt"), "-verify_return_error")
    assert "certificate verify failed" in out, out
    assert "Verify return code: 0 (ok)" not in out


def test_expired_server_certificate_is_refused_by_the_client(start_broker, certs):
    b = start_broker(config=ssl_config(certs, server="expired"))
    pub = run(["mosquitto_pub", *tls_args(certs, b.ssl_port), "-t", "x", "-m", "y"])
    assert pub.returncode != 0
    out, _ = s_client(b.ssl_port, "-CAfile", certs("ca.crt"), "-verify_return_error")
    assert "certificate has expired" in out, out


def test_mutual_tls_needs_a_client_certificate_from_the_ca(start_broker, certs):
    b = start_broker(config=ssl_config(certs, listener_extra=MUTUAL),
                     args=["--log-level", "debug"])
    round_trip(certs, b.ssl_port, client="alice")
    # No certificate at all.
    pub = run(["mosquitto_pub", *tls_args(certs, b.ssl_port), "-t", "x", "-m", "y"])
    assert pub.returncode != 0
    wait_until(lambda: "peer did not return a certificate" in b.log())
    # A certificate from another CA.
    pub = run(["mosquitto_pub", *tls_args(certs, b.ssl_port, client="stranger"), "-t", "x",
               "-m", "y"])
    assert pub.returncode != 0
    wait_until(lambda: "certificate verify failed: unable to get local issuer" in b.log())


def test_client_certificate_is_optional_without_fail_if_no_peer_cert(start_broker, certs):
    b = start_broker(config=ssl_config(certs, listener_extra='verify = "verify_peer"'))
    round_trip(certs, b.ssl_port)
    round_trip(certs, b.ssl_port, client="alice")
    pub = run(["mosquitto_pub", *tls_args(certs, b.ssl_port, client="stranger"), "-t", "x",
               "-m", "y"])
    assert pub.returncode != 0  # one that is sent must still verify


def test_tls_1_1_and_older_are_refused(start_broker, certs):
    b = start_broker(config=ssl_config(certs), args=["--log-level", "debug"])
    # Debian's OpenSSL refuses TLS 1.1 itself at its default security level; at level 0
    # the client offers it, and the broker answers with a protocol_version alert.
    for flag in ("-tls1_1", "-tls1"):
        out, code = s_client(b.ssl_port, flag, "-cipher", "DEFAULT@SECLEVEL=0")
        assert code != 0, out
        assert "alert protocol version" in out, out
        assert "Cipher is (NONE)" in out, out
    wait_until(lambda: "TLS error before CONNECT: unsupported protocol" in b.log())


def test_tls_min_version_1_3_refuses_1_2(start_broker, certs):
    b = start_broker(config=ssl_config(certs, listener_extra='tls_min_version = "tlsv1.3"'))
    out, code = s_client(b.ssl_port, "-tls1_2")
    assert code != 0, out
    assert "protocol version" in out, out
    out, code = s_client(b.ssl_port, "-tls1_3", "-CAfile", certs("ca.crt"))
    assert "New, TLSv1.3, Cipher is" in out, out


def test_ciphers_restrict_what_is_negotiated(start_broker, certs):
    b = start_broker(config=ssl_config(
        certs, listener_extra='ciphers = "TLS_CHACHA20_POLY1305_SHA256,'
                              'ECDHE-ECDSA-AES128-GCM-SHA256"'))
    out, _ = s_client(b.ssl_port, "-tls1_3", "-CAfile", certs("ca.crt"))
    assert "TLS_CHACHA20_POLY1305_SHA256" in out, out
    out, _ = s_client(b.ssl_port, "-tls1_2", "-CAfile", certs("ca.crt"))
    assert "ECDHE-ECDSA-AES128-GCM-SHA256" in out, out


@pytest.mark.parametrize("mode,user", [("cn", "alice"), ("dn", "CN=alice,O=Acme")])
def test_peer_cert_as_username_with_an_acl_file(start_broker, certs, tmp_path, mode, user):
    acl = tmp_path / "acl"
    acl.write_text("user %s\ntopic readwrite own/#\n\nuser bob\ntopic readwrite bob/#\n" % user)
    config = ssl_config(certs, listener_extra=MUTUAL + '\npeer_cert_as_username = "%s"' % mode,
                        extra='[authorization]\nno_match = "deny"\n'
                              '[authorization.acl_file]\npath = "%s"\n' % acl)
    b = start_broker(config=config)
    for version in (V311, V5):
        c = paho(b.ssl_port, certs, client="alice", version=version)
        try:
            granted = c.subscribe([("own/#", 1), ("bob/#", 1)])
            assert granted[0] == 1
            assert granted[1] >= 0x80  # the ACL names alice's certificate, not bob
            c.publish("own/a", b"mine", qos=1)
            assert [m.payload for m in c.wait_messages(1)] == [b"mine"]
        finally:
            c.close()
    # The user name in CONNECT does not override the certificate.
    c = paho(b.ssl_port, certs, client="alice", connect=False)
    c.client.username_pw_set("bob")
    c.connect()
    try:
        assert c.subscribe("bob/#", 1)[0] >= 0x80
    finally:
        c.close()


def test_paho_client_with_a_client_certificate(start_broker, certs):
    b = start_broker(config=ssl_config(certs, listener_extra=MUTUAL))
    sub = paho(b.ssl_port, certs, client="alice")
    pub = paho(b.ssl_port, certs, client="bob", version=V311)
    try:
        assert sub.subscribe("p/#", 2) == [2]
        for qos in (0, 1, 2):
            pub.publish("p/%d" % qos, b"q%d" % qos, qos=qos)
        got = sub.wait_messages(3)
        assert sorted(m.payload for m in got) == [b"q0", b"q1", b"q2"]
    finally:
        sub.close()
        pub.close()


def test_one_mebibyte_both_ways(start_broker, certs):
    b = start_broker(config=ssl_config(certs, extra='[mqtt]\nmax_packet_size = "2MB"\n'))
    payload = bytes((i * 131 + 7) % 251 for i in range(1 << 20))
    sub = paho(b.ssl_port, certs)
    pub = paho(b.ssl_port, certs, version=V311)
    try:
        assert sub.subscribe("big/#", 1) == [1]
        for i in range(3):
            pub.publish("big/%d" % i, payload, qos=1)
        got = sub.wait_messages(3, timeout=60)
        assert [m.topic for m in got] == ["big/0", "big/1", "big/2"]
        assert all(m.payload == payload for m in got)
    finally:
        sub.close()
        pub.close()


def test_handshake_that_never_starts_is_closed_after_idle_timeout(start_broker, certs):
    b = start_broker(config=ssl_config(certs, extra='[mqtt]\nidle_timeout = "1s"\n'))
    s = socket.create_connection(("127.0.0.1", b.ssl_port), timeout=WAIT)
    started = time.time()
    assert s.recv(1) == b""  # closed by the broker, not by the 20 s socket timeout
    assert time.time() - started < 10
    s.close()


def test_sighup_serves_new_certificates_and_keeps_old_connections(start_broker, certs,
                                                                   tmp_path):
    cert, key = str(tmp_path / "live.crt"), str(tmp_path / "live.key")
    shutil.copy(certs("server.crt"), cert)
    shutil.copy(certs("server.key"), key)
    b = start_broker(config=ssl_config(certs, certfile=cert, keyfile=key))
    out, _ = s_client(b.ssl_port, "-CAfile", certs("ca.crt"))
    assert "O = Reloaded" not in out
    old = paho(b.ssl_port, certs)
    try:
        assert old.subscribe("r/#", 1) == [1]
        shutil.copy(certs("reloaded.crt"), cert)
        shutil.copy(certs("reloaded.key"), key)
        b.process.send_signal(signal.SIGHUP)
        wait_until(lambda: "certificate, key and CA files reread" in b.log())
        out, _ = s_client(b.ssl_port, "-CAfile", certs("ca.crt"), "-verify_return_error")
        assert "O = Reloaded" in out, out
        assert "Verify return code: 0 (ok)" in out
        # The connection made before the reload still works, both ways.
        old.publish("r/old", b"still here", qos=1)
        assert [m.payload for m in old.wait_messages(1)] == [b"still here"]

        # A reload that fails keeps the previous certificate.
        with open(cert, "w") as f:
            f.write("not a certificate\n")
        b.process.send_signal(signal.SIGHUP)
        wait_until(lambda: "the previous certificate and key stay in use" in b.log())
        assert "certfile " + cert in b.log()
        out, _ = s_client(b.ssl_port, "-CAfile", certs("ca.crt"))
        assert "O = Reloaded" in out, out
        round_trip(certs, b.ssl_port)
    finally:
        old.close()
    assert b.process.poll() is None


def test_start_up_error_names_the_file(cicada_binary, certs, tmp_path):
    config = tmp_path / "c.toml"
    config.write_text(ssl_config(certs, certfile=str(tmp_path / "missing.pem")))
    out = run([cicada_binary, "--config", str(config)], timeout=WAIT)
    assert out.returncode != 0
    err = out.stderr.decode()
    assert "listener ssl:default: certfile %s" % (tmp_path / "missing.pem") in err, err
    assert "No such file" in err or "no such file" in err, err
    config.write_text(ssl_config(certs, listener_extra='peer_cert_as_username = "cn"'))
    out = run([cicada_binary, "--config", str(config)], timeout=WAIT)
    assert out.returncode != 0
    assert 'peer_cert_as_username needs verify = "verify_peer"' in out.stderr.decode()


def test_encrypted_key_with_its_password(start_broker, cicada_binary, certs, tmp_path):
    """An encrypted keyfile opens with listeners.ssl.NAME.password; without it (or with a
    wrong one) start-up stops with the file named, instead of asking on a terminal."""
    encrypted = str(tmp_path / "server-encrypted.key")
    subprocess.run(["openssl", "pkey", "-in", certs("server.key"), "-aes256", "-passout",
                    "pass:s3cret pass", "-out", encrypted], check=True, capture_output=True)
    with open(encrypted) as f:
        assert "ENCRYPTED" in f.read()
    b = start_broker(config=ssl_config(certs, keyfile=encrypted,
                                       listener_extra='password = "s3cret pass"'))
    round_trip(certs, b.ssl_port)
    config = tmp_path / "c.toml"
    for extra, hint in (("", " (an encrypted key needs password)"), ('password = "wrong"', "")):
        config.write_text(ssl_config(certs, keyfile=encrypted, listener_extra=extra))
        # stdin is closed: a broker waiting for a passphrase would fail this differently.
        out = run([cicada_binary, "--config", str(config)], timeout=WAIT, stdin=b"")
        assert out.returncode != 0
        err = out.stderr.decode()
        assert "listener ssl:default: keyfile %s%s" % (encrypted, hint) in err, err


def test_cicada_tools_over_mutual_tls(start_broker, certs, client_tools):
    b = start_broker(config=ssl_config(certs, listener_extra=MUTUAL))
    args = tls_args(certs, b.ssl_port, client="alice")
    sub = Running([client_tools["cicada-sub"], *args, "-t", "tools/#", "-v", "-C", "2", "-q",
                   "1", "-d"])
    try:
        sub.wait_err(lambda line: line.startswith("Subscribed"))
        pub = run([client_tools["cicada-pub"], *args, "-t", "tools/a", "-m", "one", "-q", "1"])
        assert pub.returncode == 0, pub.stderr
        url = "mqtts://127.0.0.1:%d/tools/b" % b.ssl_port
        pub = run([client_tools["cicada-pub"], "-L", url, "--cafile", certs("ca.crt"),
                   "--cert", certs("bob.crt"), "--key", certs("bob.key"), "-m", "two",
                   "-q", "1"])
        assert pub.returncode == 0, pub.stderr
        sub.wait_out(lambda line: line == "tools/b two")
        assert sub.process.wait(timeout=WAIT) == 0
        assert sub.out_lines == ["tools/a one", "tools/b two"]
    finally:
        sub.stop()
    # Without a client certificate the tools are refused.
    pub = run([client_tools["cicada-pub"], *tls_args(certs, b.ssl_port), "-t", "tools/c",
               "-m", "x"])
    assert pub.returncode != 0


def test_http_auth_gets_the_certificate_placeholders(start_broker, certs):
    from test_auth_http import AuthService
    service = AuthService()
    try:
        extra = "\n".join([
            "[auth.http]",
            'url = "%s"' % service.url("/authn"),
            'body = \'{"username":"${username}","cn":"${cert_common_name}",'
            '"dn":"${cert_subject}"}\'',
            ""])
        b = start_broker(config=ssl_config(certs, listener_extra='verify = "verify_peer"',
                                           extra=extra))
        for client, cn, dn in (("alice", "alice", "CN=alice,O=Acme"), (None, "", "")):
            c = paho(b.ssl_port, certs, client=client, connect=False)
            c.client.username_pw_set("allowed", "pw")
            c.connect()
            c.close()
            assert service.bodies("/authn")[-1] == {"username": "allowed", "cn": cn, "dn": dn}
    finally:
        service.stop()


def test_max_connections_counts_tls_connections(start_broker, certs):
    b = start_broker(config=ssl_config(certs, listener_extra="max_connections = 1"))
    first = paho(b.ssl_port, certs)
    try:
        # Refused before the handshake: the socket just closes.
        pub = run(["mosquitto_pub", *tls_args(certs, b.ssl_port), "-t", "x", "-m", "y"])
        assert pub.returncode != 0
        wait_until(lambda: "listener ssl:default: max_connections (1) reached" in b.log())
        # The plain listener is not counted with it.
        assert run(["mosquitto_pub", "-p", str(b.port), "-t", "x", "-m", "y"]).returncode == 0
    finally:
        first.close()
    wait_until(lambda: run(["mosquitto_pub", *tls_args(certs, b.ssl_port), "-t", "x", "-m",
                            "y"]).returncode == 0)
