"""Authentication and authorization from files (docs/security.md): the real cicada with
a password file made by Debian's mosquitto_passwd (or by cicada-passwd) and a Mosquitto
ACL file, driven by hand-built packets (exact reason codes), paho and mosquitto_pub/sub.

Each broker has a listener "secure" (allow_anonymous as the test says) that the fixture
finds first in the log; the fixture's own --listen listener is not used.
"""
import os
import pwd
import signal
import socket
import struct
import subprocess
import tempfile
import time

import pytest

from mqtt_helpers import (CONNACK, PUBACK, PUBLISH, SUBACK, TIMEOUT, V311, V5, PahoClient,
                          RawClient, packet, publish_packet, subscribe_packet, unique, utf8,
                          wait_until)

BAD_USER_NAME_OR_PASSWORD = 0x86
NOT_AUTHORIZED = 0x87
RC311_BAD_USER_NAME_OR_PASSWORD = 4
RC311_NOT_AUTHORIZED = 5


def mosquitto_passwd(path, user, password, create=False, algorithm=None):
    cmd = ["mosquitto_passwd"]
    if algorithm:
        cmd += ["-H", algorithm]
    if create:
        cmd += ["-c"]
    subprocess.run(cmd + ["-b", path, user, password], check=True, capture_output=True)


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


@pytest.fixture
def workdir():
    with tempfile.TemporaryDirectory(prefix="cicada-auth-") as d:
        yield d


def make_config(passwd=None, acl=None, anonymous=False, no_match="deny", superusers=None):
    lines = ["[listeners.tcp.secure]", 'bind = "127.0.0.1:0"',
             "allow_anonymous = %s" % ("true" if anonymous else "false"), ""]
    if passwd:
        lines += ["[auth.password_file]", 'path = "%s"' % passwd]
        if superusers:
            lines += ['superusers = "%s"' % superusers]
        lines += [""]
    lines += ["[authorization]", 'no_match = "%s"' % no_match, ""]
    if acl:
        lines += ["[authorization.acl_file]", 'path = "%s"' % acl, ""]
    return "\n".join(lines)


def connect_packet_auth(client_id, version, username=None, password=None):
    """CONNECT with optional user name and password (clean start, keep-alive 60)."""
    flags = 0x02
    payload = utf8(client_id)
    if username is not None:
        flags |= 0x80
        payload += utf8(username)
    if password is not None:
        flags |= 0x40
        payload += utf8(password)
    body = utf8("MQTT") + bytes([version, flags]) + struct.pack("!H", 60)
    if version == 5:
        body += b"\x00"
    return packet(0x10, body + payload)


def raw_connect(port, version, username=None, password=None, client_id=None):
    """Connects with hand-built bytes; returns (client, CONNACK reason/return code)."""
    client = RawClient(port)
    client.send(connect_packet_auth(client_id or unique("raw"), version, username, password))
    body = client.expect(CONNACK)
    return client, body[1]


def connack_code(port, version, username=None, password=None):
    client, code = raw_connect(port, version, username, password)
    if code != 0:
        # A refused client is disconnected after its CONNACK [MQTT-3.2.2-5].
        assert client.read_packet() is None
    client.close()
    return code


def raw_publish(client, version, topic, packet_id, payload=b"x"):
    """QoS 1 PUBLISH; returns the PUBACK reason code (0 when the short form is used)."""
    client.send(publish_packet(topic, payload, qos=1, packet_id=packet_id, version=version))
    body = client.expect(PUBACK)
    assert struct.unpack("!H", body[:2])[0] == packet_id
    return body[2] if len(body) > 2 else 0


def raw_subscribe(client, version, filters, packet_id=1):
    """SUBSCRIBE at QoS 1; returns the SUBACK codes."""
    client.send(subscribe_packet(packet_id, [(f, 1) for f in filters], version=version))
    body = client.expect(SUBACK)
    assert struct.unpack("!H", body[:2])[0] == packet_id
    if version == 5:
        prop_length = body[2]  # short property blocks only
        return list(body[3 + prop_length:])
    return list(body[2:])


def paho(port, username, password, version=V5, client_id=None):
    client = PahoClient(port, version=version, client_id=client_id, connect=False)
    client.client.username_pw_set(username, password)
    client.connect()
    return client


# --- authentication ----------------------------------------------------------------------


@pytest.fixture
def passwd_file(workdir):
    """alice ($7$, mosquitto_passwd's default) and carol ($6$, -H sha512)."""
    path = os.path.join(workdir, "passwd")
    mosquitto_passwd(path, "alice", "alice-secret", create=True)
    mosquitto_passwd(path, "carol", "carol-secret", algorithm="sha512")
    return path


@pytest.mark.parametrize("version", [4, 5])
def test_right_password_accepted(start_broker, passwd_file, version):
    broker = start_broker(config=make_config(passwd=passwd_file))
    assert connack_code(broker.port, version, "alice", "alice-secret") == 0
    assert connack_code(broker.port, version, "carol", "carol-secret") == 0


def test_argon2id_hashes_as_mosquitto_2_1_writes_them(start_broker, passwd_file):
    # Debian's mosquitto_passwd (2.0) cannot write Argon2id; tests/data/auth/README.md says
    # how these lines were made.
    fixture = os.path.join(os.path.dirname(__file__), "..", "data", "auth", "argon2id.txt")
    with open(fixture) as f, open(passwd_file, "a") as out:
        out.write(f.read())
    broker = start_broker(config=make_config(passwd=passwd_file))
    assert connack_code(broker.port, 5, "grace", "grace-secret") == 0
    assert connack_code(broker.port, 4, "heidi", "heidi secret") == 0
    assert connack_code(broker.port, 5, "grace", "heidi secret") == BAD_USER_NAME_OR_PASSWORD
    assert connack_code(broker.port, 5, "alice", "alice-secret") == 0


def test_paho_clients_with_right_password_exchange_messages(start_broker, passwd_file):
    broker = start_broker(config=make_config(passwd=passwd_file, no_match="allow"))
    topic = unique("auth/paho")
    sub = paho(broker.port, "alice", "alice-secret", version=V311)
    pub = paho(broker.port, "carol", "carol-secret", version=V5)
    try:
        sub.subscribe(topic, qos=1)
        pub.publish(topic, b"hello", qos=1)
        messages = sub.wait_messages(1)
        assert [m.payload for m in messages] == [b"hello"]
    finally:
        sub.close()
        pub.close()


@pytest.mark.parametrize("version,expected", [(5, BAD_USER_NAME_OR_PASSWORD),
                                              (4, RC311_BAD_USER_NAME_OR_PASSWORD)])
def test_wrong_password_refused(start_broker, passwd_file, version, expected):
    broker = start_broker(config=make_config(passwd=passwd_file, anonymous=True))
    assert connack_code(broker.port, version, "alice", "wrong") == expected
    assert connack_code(broker.port, version, "carol", "alice-secret") == expected
    assert connack_code(broker.port, version, "alice", "") == expected
    # A known user without a password.
    assert connack_code(broker.port, version, "alice") == expected


@pytest.mark.parametrize("version,unknown,anonymous", [
    (5, BAD_USER_NAME_OR_PASSWORD, NOT_AUTHORIZED),
    (4, RC311_BAD_USER_NAME_OR_PASSWORD, RC311_NOT_AUTHORIZED)])
def test_unknown_user_and_anonymous_refused_when_anonymous_is_off(start_broker, passwd_file,
                                                                  version, unknown, anonymous):
    broker = start_broker(config=make_config(passwd=passwd_file, anonymous=False))
    assert connack_code(broker.port, version, "mallory", "alice-secret") == unknown
    assert connack_code(broker.port, version) == anonymous


def test_allow_anonymous_admits_only_clients_without_a_user_name(start_broker, passwd_file):
    broker = start_broker(config=make_config(passwd=passwd_file, anonymous=True))
    assert connack_code(broker.port, 5) == 0
    assert connack_code(broker.port, 4) == 0
    # A user name the password file does not know is still refused, as in Mosquitto.
    assert connack_code(broker.port, 5, "mallory", "x") == BAD_USER_NAME_OR_PASSWORD


def test_mosquitto_clients_with_password_file(start_broker, passwd_file):
    broker = start_broker(config=make_config(passwd=passwd_file, no_match="allow"))
    base = ["-h", "127.0.0.1", "-p", str(broker.port), "-t", unique("auth/mosq"), "-m", "m",
            "-q", "1"]
    ok = subprocess.run(["mosquitto_pub", *base, "-u", "alice", "-P", "alice-secret"],
                        capture_output=True, text=True, timeout=TIMEOUT)
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run(["mosquitto_pub", *base, "-u", "alice", "-P", "nope"],
                         capture_output=True, text=True, timeout=TIMEOUT)
    assert bad.returncode != 0
    assert "not authorised" in bad.stderr.lower() or "bad user name" in bad.stderr.lower(), \
        bad.stderr


def test_no_config_keeps_anonymous_access_and_warns(broker):
    assert connack_code(broker.port, 5) == 0
    assert connack_code(broker.port, 5, "anyone", "anything") == 0
    assert "anonymous access is on" in broker.log()


# --- cicada-passwd -----------------------------------------------------------------------


@pytest.fixture
def cicada_passwd(cicada_binary):
    path = os.path.join(os.path.dirname(cicada_binary), "..", "cicada-passwd", "cicada-passwd")
    path = os.path.normpath(path)
    if not os.path.exists(path):
        pytest.fail("no cicada-passwd beside the broker at %s" % path)
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_cicada_passwd_file_is_accepted_by_mosquitto_and_cicada(start_broker, cicada_passwd,
                                                                workdir):
    path = os.path.join(workdir, "passwd")
    subprocess.run([cicada_passwd, "-c", "-b", path, "dora", "dora pw"], check=True)
    # Prompted mode reads the password twice from standard input.
    subprocess.run([cicada_passwd, path, "eve"], input="eve-pw\neve-pw\n", text=True, check=True)
    subprocess.run([cicada_passwd, "-b", path, "gone", "x"], check=True)
    subprocess.run([cicada_passwd, "-D", path, "gone"], check=True)
    with open(path) as f:
        lines = f.read().splitlines()
    assert [line.split(":")[0] for line in lines] == ["dora", "eve"]
    assert all(line.split(":", 1)[1].startswith("$7$101$") for line in lines)
    assert "dora pw" not in open(path).read()
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"

    mismatch = subprocess.run([cicada_passwd, path, "frank"], input="a\nb\n", text=True,
                              capture_output=True)
    assert mismatch.returncode != 0 and "do not match" in mismatch.stderr

    # Updating a user replaces its line in place and keeps other lines, comments included.
    with open(path, "a") as f:
        f.write("# a comment the tool must keep\n")
    subprocess.run([cicada_passwd, "-b", path, "dora", "new dora pw"], check=True)
    with open(path) as f:
        updated = f.read().splitlines()
    assert [line.split(":")[0] for line in updated] == ["dora", "eve",
                                                         "# a comment the tool must keep"]
    assert updated[0] != lines[0] and updated[1] == lines[1]
    subprocess.run([cicada_passwd, "-b", path, "dora", "dora pw"], check=True)
    # Refused: deleting a user who is not there, a user name with ':', a missing file.
    for args in (["-D", path, "nobody"], ["-b", path, "a:b", "x"],
                 ["-b", path + ".missing", "u", "p"]):
        refused = subprocess.run([cicada_passwd, *args], capture_output=True, text=True)
        assert refused.returncode != 0, args

    # The real Mosquitto accepts the file.
    port = free_port()
    conf = os.path.join(workdir, "mosquitto.conf")
    # `user`: when the tests run as root, Mosquitto would otherwise switch to the
    # "mosquitto" user, who cannot read a mode-0600 file of root's.
    write(conf, "listener %d 127.0.0.1\npassword_file %s\nallow_anonymous false\nuser %s\n"
          % (port, path, pwd.getpwuid(os.getuid()).pw_name))
    mosquitto = subprocess.Popen(["mosquitto", "-c", conf], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
    try:
        def mosquitto_up():
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return True
            except OSError:
                return mosquitto.poll() is not None
        assert wait_until(mosquitto_up), "mosquitto did not start"
        assert mosquitto.poll() is None, "mosquitto exited"
        assert connack_code(port, 5, "dora", "dora pw") == 0
        assert connack_code(port, 5, "eve", "eve-pw") == 0
        # Mosquitto 2.0 answers a wrong password with 0x87 where Cicada says 0x86.
        assert connack_code(port, 5, "dora", "wrong") in (BAD_USER_NAME_OR_PASSWORD,
                                                          NOT_AUTHORIZED)
        assert connack_code(port, 5, "gone", "x") in (BAD_USER_NAME_OR_PASSWORD, NOT_AUTHORIZED)
    finally:
        mosquitto.terminate()
        mosquitto.wait()

    # And so does cicada.
    broker = start_broker(config=make_config(passwd=path))
    assert connack_code(broker.port, 5, "dora", "dora pw") == 0
    assert connack_code(broker.port, 5, "eve", "eve-pw") == 0
    assert connack_code(broker.port, 5, "dora", "wrong") == BAD_USER_NAME_OR_PASSWORD
    assert connack_code(broker.port, 5, "gone", "x") == BAD_USER_NAME_OR_PASSWORD


# --- authorization -----------------------------------------------------------------------

ACL = """# Mosquitto ACL syntax
topic read public/#

user alice
topic readwrite alice/#
topic deny alice/secret/#
topic read public/#

user bob
topic write public/#

pattern readwrite clients/%c/#
pattern read users/%u/inbox
"""


@pytest.fixture
def acl_broker(start_broker, workdir):
    passwd = os.path.join(workdir, "passwd")
    mosquitto_passwd(passwd, "alice", "a", create=True)
    mosquitto_passwd(passwd, "bob", "b")
    mosquitto_passwd(passwd, "root", "r")
    acl = os.path.join(workdir, "acl")
    write(acl, ACL)
    return start_broker(config=make_config(passwd=passwd, acl=acl, anonymous=True,
                                           no_match="deny", superusers="root"))


def test_acl_read_write_and_delivery(acl_broker):
    alice = paho(acl_broker.port, "alice", "a")
    bob = paho(acl_broker.port, "bob", "b")
    try:
        assert alice.subscribe("public/#", qos=1) == [1]
        bob.publish("public/news", b"from bob", qos=1)
        assert [m.payload for m in alice.wait_messages(1)] == [b"from bob"]
    finally:
        alice.close()
        bob.close()


@pytest.mark.parametrize("version,refused", [(5, NOT_AUTHORIZED), (4, 0x80)])
def test_acl_subscribe_denied_gets_suback_refusal(acl_broker, version, refused):
    bob, code = raw_connect(acl_broker.port, version, "bob", "b")
    assert code == 0
    # bob may only write public/#; reading needs a read line.
    assert raw_subscribe(bob, version, ["public/#", "users/bob/inbox", "users/alice/inbox",
                                        "elsewhere"]) == [refused, 1, refused, refused]
    bob.close()
    alice, code = raw_connect(acl_broker.port, version, "alice", "a")
    assert code == 0
    # A filter that could receive alice/secret/... is refused; a narrower one granted.
    assert raw_subscribe(alice, version, ["alice/#", "alice/ok/+", "alice/secret/x"]) == \
        [refused, 1, refused]
    alice.close()
    # Anonymous clients get the lines before the first `user`.
    anonymous, code = raw_connect(acl_broker.port, version)
    assert code == 0
    assert raw_subscribe(anonymous, version, ["public/a", "alice/x"]) == [1, refused]
    anonymous.close()


@pytest.mark.parametrize("version", [4, 5])
def test_acl_publish_denied_is_refused_and_not_delivered(acl_broker, version):
    watcher = paho(acl_broker.port, "root", "r")  # a superuser: may subscribe to anything
    try:
        assert watcher.subscribe("#", qos=1) == [1]
        alice, code = raw_connect(acl_broker.port, version, "alice", "a",
                                  client_id="dev-%d" % version)
        assert code == 0
        denied_code = NOT_AUTHORIZED if version == 5 else 0  # 3.1.1: acknowledged, dropped
        assert raw_publish(alice, version, "alice/secret/x", 1, b"denied") == denied_code
        assert raw_publish(alice, version, "bob/x", 2, b"no line") == denied_code  # no_match
        assert raw_publish(alice, version, "clients/dev-9/x", 3, b"other") == denied_code
        assert raw_publish(alice, version, "clients/dev-%d/x" % version, 4, b"pattern") == 0
        assert raw_publish(alice, version, "alice/ok", 5, b"marker") == 0
        alice.close()
        # Messages from one publisher arrive in order: once the marker is here, anything
        # denied before it would have been delivered already.
        messages = watcher.wait_messages(2)
        assert [m.payload for m in messages] == [b"pattern", b"marker"]
    finally:
        watcher.close()


def test_superuser_bypasses_deny_lines(acl_broker):
    root, code = raw_connect(acl_broker.port, 5, "root", "r")
    assert code == 0
    assert raw_publish(root, 5, "alice/secret/x", 1) == 0
    assert raw_subscribe(root, 5, ["#"]) == [1]
    root.close()


def test_mosquitto_sub_denied_subscription(acl_broker):
    # With -E mosquitto_sub exits once its SUBSCRIBE is answered, saying when it was refused.
    for user, password, refused in [("bob", "b", True), ("alice", "a", False)]:
        result = subprocess.run(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(acl_broker.port),
                                 "-V", "mqttv5", "-u", user, "-P", password, "-t", "public/#",
                                 "-E"], capture_output=True, text=True, timeout=TIMEOUT)
        assert result.returncode == 0, result.stderr
        assert ("All subscription requests were denied" in result.stderr) == refused, \
            (user, result.stderr)


# --- reload on SIGHUP --------------------------------------------------------------------


def wait_log(broker, text, count=1):
    assert wait_until(lambda: broker.log().count(text) >= count), \
        "no %r in the log:\n%s" % (text, broker.log())


def test_sighup_reloads_users_and_acl_without_dropping_connections(start_broker, workdir):
    passwd = os.path.join(workdir, "passwd")
    mosquitto_passwd(passwd, "alice", "a", create=True)
    acl = os.path.join(workdir, "acl")
    write(acl, "user alice\ntopic readwrite first/#\n")
    broker = start_broker(config=make_config(passwd=passwd, acl=acl, no_match="deny"))

    alice, code = raw_connect(broker.port, 5, "alice", "a")
    assert code == 0
    assert raw_publish(alice, 5, "first/x", 1) == 0
    assert raw_publish(alice, 5, "second/x", 2) == NOT_AUTHORIZED
    assert connack_code(broker.port, 5, "newbie", "n") == BAD_USER_NAME_OR_PASSWORD

    mosquitto_passwd(passwd, "newbie", "n")
    write(acl, "user alice\ntopic readwrite second/#\n")
    broker.process.send_signal(signal.SIGHUP)
    wait_log(broker, "reload: done")

    assert connack_code(broker.port, 5, "newbie", "n") == 0
    # The connection made before the reload is still open and answers to the new ACL.
    assert raw_publish(alice, 5, "second/x", 3) == 0
    assert raw_publish(alice, 5, "first/x", 4) == NOT_AUTHORIZED

    # A broken file on reload: logged, and the previous users stay.
    write(passwd, "this line is broken\n")
    broker.process.send_signal(signal.SIGHUP)
    wait_log(broker, "the previous contents stay in use")
    assert "%s:1:" % passwd in broker.log()
    assert connack_code(broker.port, 5, "newbie", "n") == 0
    assert raw_publish(alice, 5, "second/y", 5) == 0
    alice.close()
    assert broker.process.poll() is None


# --- start-up errors ---------------------------------------------------------------------


def test_bad_files_stop_start_up_naming_file_and_line(start_broker, workdir):
    passwd = os.path.join(workdir, "passwd")
    write(passwd, "# users\nalice:plaintext\n")
    with pytest.raises(RuntimeError) as error:
        start_broker(config=make_config(passwd=passwd))
    assert "%s:2:" % passwd in str(error.value)

    acl = os.path.join(workdir, "acl")
    write(acl, "topic read ok\ntopic sometimes a/b\n")
    with pytest.raises(RuntimeError) as error:
        start_broker(config=make_config(acl=acl))
    assert "%s:2:" % acl in str(error.value)

    missing = os.path.join(workdir, "missing")
    with pytest.raises(RuntimeError) as error:
        start_broker(config=make_config(passwd=missing))
    assert missing in str(error.value)
