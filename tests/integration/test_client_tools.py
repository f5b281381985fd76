"""cicada-pub / cicada-sub against the cicada broker and mosquitto, and side by side
with mosquitto_pub / mosquitto_sub: the same command lines must give the same
observable results (output and exit codes)."""
import pytest

from client_helpers import Mosquitto, Running, run, free_port

MOSQUITTO_PUB = "/usr/bin/mosquitto_pub"
MOSQUITTO_SUB = "/usr/bin/mosquitto_sub"


@pytest.fixture(params=["cicada", "mosquitto"])
def any_broker(request, start_broker):
    if request.param == "cicada":
        b = start_broker(args=["--threads", "2"])
        yield b.port
    else:
        m = Mosquitto()
        yield m.port
        m.stop()


def start_sub(cmd):
    """Starts a subscriber with -d and waits until its SUBACK is in."""
    if "cicada-sub" not in cmd[0]:
        cmd = ["stdbuf", "-oL"] + cmd  # mosquitto_sub does not flush its -d lines
    sub = Running(cmd + ["-d"])
    if "cicada-sub" in cmd[-2] or any("cicada-sub" in c for c in cmd):
        sub.wait_err(lambda line: line.startswith("Subscribed"))
    else:
        sub.wait_out(lambda line: "SUBACK" in line)
    return sub


def messages(sub):
    # mosquitto_sub -d mixes its debug lines into stdout.
    return [l for l in sub.drain_out()
            if not l.startswith("Client ") and not l.startswith("Subscribed (mid")]


@pytest.mark.parametrize("version", ["311", "5"])
@pytest.mark.parametrize("qos", ["0", "1", "2"])
def test_cicada_pub_to_cicada_sub(any_broker, client_tools, version, qos):
    port = str(any_broker)
    sub = start_sub([client_tools["cicada-sub"], "-p", port, "-t", "rt/#", "-q", qos, "-v",
                     "-V", version, "-C", "1"])
    pub = run([client_tools["cicada-pub"], "-p", port, "-t", "rt/x", "-m", "hello " + qos,
               "-q", qos, "-V", version])
    assert pub.returncode == 0, pub.stderr
    sub.wait_out(lambda line: line == "rt/x hello " + qos)
    assert sub.process.wait(timeout=30) == 0  # -C 1 reached


@pytest.mark.parametrize("direction", ["cicada-pub->mosquitto_sub", "mosquitto_pub->cicada-sub"])
def test_interop_with_mosquitto_tools(any_broker, client_tools, direction):
    port = str(any_broker)
    if direction.startswith("cicada-pub"):
        pub_tool, sub_tool = client_tools["cicada-pub"], MOSQUITTO_SUB
    else:
        pub_tool, sub_tool = MOSQUITTO_PUB, client_tools["cicada-sub"]
    sub = start_sub([sub_tool, "-p", port, "-t", "io/+", "-q", "1", "-v", "-C", "3"])
    for i in range(3):
        pub = run([pub_tool, "-p", port, "-t", "io/%d" % i, "-m", "m%d" % i, "-q", "1"])
        assert pub.returncode == 0, pub.stderr
    assert sub.process.wait(timeout=30) == 0
    assert messages(sub) == ["io/0 m0", "io/1 m1", "io/2 m2"]


@pytest.mark.parametrize("tool", ["cicada", "mosquitto"])
def test_publish_modes(any_broker, client_tools, tool, tmp_path):
    port = str(any_broker)
    pub_tool = client_tools["cicada-pub"] if tool == "cicada" else MOSQUITTO_PUB
    sub = start_sub([MOSQUITTO_SUB, "-p", port, "-t", "pm/#", "-v", "-C", "5"])
    payload_file = tmp_path / "payload.txt"
    payload_file.write_bytes(b"from a file")
    assert run([pub_tool, "-p", port, "-t", "pm/f", "-f", str(payload_file)]).returncode == 0
    assert run([pub_tool, "-p", port, "-t", "pm/n", "-n"]).returncode == 0
    assert run([pub_tool, "-p", port, "-t", "pm/s", "-s"], stdin_data=b"whole stdin").returncode == 0
    lines = run([pub_tool, "-p", port, "-t", "pm/l", "-l", "-q", "1"], stdin_data=b"one\ntwo\n")
    assert lines.returncode == 0, lines.stderr
    assert sub.process.wait(timeout=30) == 0
    assert messages(sub) == ["pm/f from a file", "pm/n (null)", "pm/s whole stdin", "pm/l one", "pm/l two"]


def test_verbose_empty_payload_prints_null_like_mosquitto(any_broker, client_tools):
    port = str(any_broker)
    subs = [start_sub([tool, "-p", port, "-t", "null/t", "-v", "-C", "1"])
            for tool in (client_tools["cicada-sub"], MOSQUITTO_SUB)]
    assert run([MOSQUITTO_PUB, "-p", port, "-t", "null/t", "-n"]).returncode == 0
    for sub in subs:
        assert sub.process.wait(timeout=30) == 0
        assert messages(sub) == ["null/t (null)"]


def test_format_retained_and_no_stale(any_broker, client_tools):
    """-F output and -R behave as mosquitto_sub's do, byte for byte."""
    port = str(any_broker)
    assert run([MOSQUITTO_PUB, "-p", port, "-t", "fmt/a", "-m", "kept", "-r", "-q", "1"]).returncode == 0
    fmt = ["-F", "%t|%p|%q|%r|%l|%x"]
    ours = run([client_tools["cicada-sub"], "-p", port, "-t", "fmt/#", "-C", "1", *fmt])
    theirs = run([MOSQUITTO_SUB, "-p", port, "-t", "fmt/#", "-C", "1", *fmt])
    assert ours.returncode == theirs.returncode == 0
    assert ours.stdout == theirs.stdout == b"fmt/a|kept|0|1|4|6b657074\n"
    # -R skips the stale retained message, so -W expires: exit code 27 for both.
    ours = run([client_tools["cicada-sub"], "-p", port, "-t", "fmt/#", "-R", "-W", "1"])
    theirs = run([MOSQUITTO_SUB, "-p", port, "-t", "fmt/#", "-R", "-W", "1"])
    assert ours.returncode == theirs.returncode == 27
    assert ours.stdout == theirs.stdout == b""


@pytest.mark.parametrize("args", [
    ["-t", "a", "-m", "x", "--bogus"],            # unknown flag
    ["-t", "a/+", "-m", "x"],                     # wildcard in a topic name
    ["-t", "a", "-m", "x", "-q", "3"],            # bad QoS
    ["-t", "a"],                                  # no message
    ["-m", "x"],                                  # no topic
    ["-t", "a", "-m", "x", "-V", "7"],            # bad protocol version
    ["-t", "a", "-m", "x", "-c"],                 # -c without a client id
])
def test_pub_bad_flags_exit_1_like_mosquitto(client_tools, args):
    ours = run([client_tools["cicada-pub"], *args])
    theirs = run([MOSQUITTO_PUB, *args])
    assert theirs.returncode == 1
    assert ours.returncode == 1, ours.stderr
    assert ours.stderr.startswith(b"Error: ")


@pytest.mark.parametrize("args", [
    ["-t", "a/#/b"],                              # bad filter
    ["-W", "1"],                                  # no topic
    ["-t", "a", "-x", "10"],                      # -x needs MQTT 5 (mosquitto: -c without id too)
])
def test_sub_bad_flags_exit_1_like_mosquitto(client_tools, args):
    ours = run([client_tools["cicada-sub"], *args])
    theirs = run([MOSQUITTO_SUB, *args])
    assert theirs.returncode == 1
    assert ours.returncode == 1, ours.stderr


def test_tls_flag_errors_are_clear(client_tools):
    # TLS itself is tested in test_client_tls.py; here only the flags' errors.
    for tool, extra in (("cicada-pub", ["-m", "x"]), ("cicada-sub", [])):
        missing = run([client_tools[tool], "-t", "a", *extra, "--cafile", "/nonexistent"])
        theirs = run([MOSQUITTO_PUB if tool == "cicada-pub" else MOSQUITTO_SUB, "-t", "a",
                      *extra, "--cafile", "/nonexistent"])
        assert missing.returncode == theirs.returncode == 1
        assert b"cannot load CA file '/nonexistent'" in missing.stderr, missing.stderr
        unsupported = run([client_tools[tool], "-t", "a", *extra, "--psk", "abcd"])
        assert unsupported.returncode == 1
        assert b"--psk is not supported yet" in unsupported.stderr, unsupported.stderr


def test_unreachable_broker_exit_1_like_mosquitto(client_tools):
    port = str(free_port())  # nothing listens there
    for pub in (client_tools["cicada-pub"], MOSQUITTO_PUB):
        assert run([pub, "-p", port, "-t", "a", "-m", "x"]).returncode == 1
    for sub in (client_tools["cicada-sub"], MOSQUITTO_SUB):
        assert run([sub, "-p", port, "-t", "a"]).returncode == 1
    result = run([client_tools["cicada-pub"], "-p", port, "-t", "a", "-m", "x"])
    assert b"Connection refused" in result.stderr


def test_url_flag_and_credentials(any_broker, client_tools):
    port = str(any_broker)
    sub = start_sub([client_tools["cicada-sub"], "-L", "mqtt://user:pw@127.0.0.1:%s/url/t" % port,
                     "-C", "1", "-v"])
    pub = run([client_tools["cicada-pub"], "-L", "mqtt://127.0.0.1:%s/url/t" % port, "-m", "via url",
               "-i", "fixed-id", "-k", "30"])
    assert pub.returncode == 0, pub.stderr
    assert sub.process.wait(timeout=30) == 0
    assert messages(sub) == ["url/t via url"]


def test_will_message(any_broker, client_tools):
    port = str(any_broker)
    watcher = start_sub([MOSQUITTO_SUB, "-p", port, "-t", "will/t", "-v", "-C", "1"])
    doomed = start_sub([client_tools["cicada-sub"], "-p", port, "-t", "x", "-k", "5",
                        "--will-topic", "will/t", "--will-payload", "gone", "--will-qos", "1"])
    doomed.stop(sig=9)  # no DISCONNECT: the broker publishes the Will
    assert watcher.process.wait(timeout=30) == 0
    assert messages(watcher) == ["will/t gone"]


def test_pub_mqtt5_properties_reach_a_paho_subscriber(broker, client_tools):
    """-D publish ... properties arrive as the subscriber sees them (paho, MQTT 5)."""
    from mqtt_helpers import PahoClient
    sub = PahoClient(broker.port)
    sub.subscribe("props/t", qos=1)
    result = run([client_tools["cicada-pub"], "-p", str(broker.port), "-V", "5", "-q", "1",
                  "-t", "props/t", "-m", "{}",
                  "-D", "publish", "user-property", "k1", "v1",
                  "-D", "publish", "user-property", "k2", "v2",
                  "-D", "publish", "content-type", "application/json",
                  "-D", "publish", "response-topic", "props/reply",
                  "-D", "publish", "correlation-data", "abc",
                  "-D", "publish", "payload-format-indicator", "1",
                  "-D", "connect", "user-property", "who", "test"])
    assert result.returncode == 0, result.stderr
    message = sub.wait_messages(1)[0]
    props = message.properties
    assert props.UserProperty == [("k1", "v1"), ("k2", "v2")]
    assert props.ContentType == "application/json"
    assert props.ResponseTopic == "props/reply"
    assert props.CorrelationData == b"abc"
    assert props.PayloadFormatIndicator == 1
    sub.close()


def test_properties_need_mqtt5(client_tools):
    result = run([client_tools["cicada-pub"], "-t", "a", "-m", "x", "-D", "publish", "content-type", "t"])
    assert result.returncode == 1
    assert b"MQTT v5" in result.stderr
    result = run([client_tools["cicada-pub"], "-V", "5", "-t", "a", "-m", "x",
                  "-D", "publish", "topic-alias", "3"])
    assert result.returncode == 1
    assert b"not supported yet" in result.stderr
