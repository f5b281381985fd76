"""cicada-pub / cicada-sub MQTT 5 flags beyond PUBLISH properties, against the cicada
broker and mosquitto, and side by side with mosquitto_sub: -D will, -D connect
maximum-packet-size, -U (with -D unsubscribe)."""
import pytest

from client_helpers import Running, run
from mqtt_helpers import PahoClient
from test_client_tools import MOSQUITTO_SUB, any_broker, messages, start_sub  # noqa: F401


def test_will_properties_reach_a_paho_subscriber(any_broker, client_tools):
    """-D will ... ends up on the Will as the broker publishes it [MQTT-3.1.3-10]."""
    watcher = PahoClient(any_broker)
    watcher.subscribe("will/props", qos=1)
    doomed = start_sub([client_tools["cicada-sub"], "-p", str(any_broker), "-V", "5", "-t", "x",
                        "-k", "5", "--will-topic", "will/props", "--will-payload", "gone",
                        "--will-qos", "1",
                        "-D", "will", "user-property", "why", "killed",
                        "-D", "will", "content-type", "text/plain",
                        "-D", "will", "response-topic", "will/reply",
                        "-D", "will", "correlation-data", "c-1",
                        "-D", "will", "payload-format-indicator", "1",
                        "-D", "will", "message-expiry-interval", "600",
                        "-D", "will", "will-delay-interval", "1"])
    doomed.stop(sig=9)  # no DISCONNECT: the broker publishes the Will
    message = watcher.wait_messages(1, timeout=30)[0]
    assert message.topic == "will/props" and message.payload == b"gone"
    props = message.properties
    assert props.UserProperty == [("why", "killed")]
    assert props.ContentType == "text/plain"
    assert props.ResponseTopic == "will/reply"
    assert props.CorrelationData == b"c-1"
    assert props.PayloadFormatIndicator == 1
    assert 0 < props.MessageExpiryInterval <= 600
    # The Will Delay Interval is a Will property of CONNECT (MQTT 5.0 3.1.3.2.2) with no
    # PUBLISH counterpart: the broker honours it and never forwards it.
    assert not hasattr(props, "WillDelayInterval")
    watcher.close()


def test_will_properties_need_a_will_topic(client_tools):
    result = run([client_tools["cicada-sub"], "-V", "5", "-t", "a",
                  "-D", "will", "content-type", "t"])
    assert result.returncode == 1
    assert b"no will topic" in result.stderr


@pytest.mark.parametrize("tool", ["cicada-sub", "mosquitto_sub"])
def test_maximum_packet_size_keeps_larger_messages_away(any_broker, client_tools, tool):
    """-D connect maximum-packet-size: the broker does not send the subscriber a PUBLISH
    larger than that [MQTT-3.1.2-24] (it drops it), smaller ones arrive."""
    binary = client_tools["cicada-sub"] if tool == "cicada-sub" else MOSQUITTO_SUB
    # QoS 0: mosquitto 2.0.11 drops a too large QoS 1 PUBLISH but then sends that
    # subscriber nothing more at QoS 1 (its in-flight slot stays taken).
    sub = start_sub([binary, "-p", str(any_broker), "-V", "5", "-t", "mps/t", "-q", "0", "-v",
                     "-C", "1", "-D", "connect", "maximum-packet-size", "200"])
    publisher = PahoClient(any_broker)  # connected: a second connect() raced the first
    publisher.publish("mps/t", b"x" * 1000, qos=1)  # over 200 bytes: dropped
    publisher.publish("mps/t", b"small", qos=1)  # in order after it [MQTT-4.6.0-5]
    assert sub.process.wait(timeout=30) == 0
    assert messages(sub) == ["mps/t small"]
    publisher.close()


@pytest.mark.parametrize("tool", ["cicada-sub", "mosquitto_sub"])
def test_unsubscribe_flag_cleans_up_a_persistent_session(any_broker, client_tools, tool):
    """-U removes a filter the session kept from an earlier connection; the -t filters
    stay, as with mosquitto_sub (subscribe first, then unsubscribe)."""
    binary = client_tools["cicada-sub"] if tool == "cicada-sub" else MOSQUITTO_SUB
    port = str(any_broker)
    client_id = "unsub-" + tool
    common = [binary, "-p", port, "-V", "5", "-c", "-i", client_id, "-x", "300", "-q", "1"]
    first = start_sub(common + ["-t", "u/drop"])
    first.stop()
    second = Running(([] if tool == "cicada-sub" else ["stdbuf", "-oL"]) +
                     common + ["-t", "u/keep", "-U", "u/drop", "-v", "-C", "1", "-d",
                               "-D", "unsubscribe", "user-property", "k", "v"])
    if tool == "cicada-sub":
        second.wait_err(lambda line: line.startswith("Unsubscribed"))
    else:
        second.wait_out(lambda line: "UNSUBACK" in line)
    pub = run(["/usr/bin/mosquitto_pub", "-p", port, "-q", "1", "-t", "u/drop", "-m", "no"])
    assert pub.returncode == 0
    pub = run(["/usr/bin/mosquitto_pub", "-p", port, "-q", "1", "-t", "u/keep", "-m", "yes"])
    assert pub.returncode == 0
    assert second.process.wait(timeout=30) == 0
    assert [m for m in messages(second) if not m.startswith("Client")] == ["u/keep yes"]


@pytest.mark.parametrize("args", [
    ["-U", "a/#/b"],                              # bad unsubscribe filter
])
def test_bad_unsubscribe_flags_exit_1_like_mosquitto(client_tools, args):
    ours = run([client_tools["cicada-sub"], *args])
    theirs = run([MOSQUITTO_SUB, *args])
    assert theirs.returncode == 1
    assert ours.returncode == 1, ours.stderr


@pytest.mark.parametrize("tool", ["cicada-sub", "mosquitto_sub"])
def test_disconnect_session_expiry_ends_the_session(any_broker, client_tools, tool):
    """-D disconnect session-expiry-interval 0 ends a persistent session when the tool
    disconnects (MQTT 5.0 3.14.2.2.2): a message published afterwards is not kept for
    it. Without it the session (-x 300) keeps the message."""
    binary = client_tools["cicada-sub"] if tool == "cicada-sub" else MOSQUITTO_SUB
    port = str(any_broker)
    for ends, client_id in [(True, "dse-end-" + tool), (False, "dse-keep-" + tool)]:
        common = [binary, "-p", port, "-V", "5", "-c", "-i", client_id, "-x", "300", "-q", "1",
                  "-t", "dse/" + client_id]
        extra = ["-D", "disconnect", "session-expiry-interval", "0"] if ends else []
        # -C 1: the tool ends by itself after one message, with a DISCONNECT that carries
        # the property when given. (SIGTERM made mosquitto_sub skip it now and then.)
        first = start_sub(common + extra + ["-C", "1"])
        hello = run(["/usr/bin/mosquitto_pub", "-p", port, "-q", "1", "-t", "dse/" + client_id,
                     "-m", "hello"])
        assert hello.returncode == 0
        assert first.process.wait(timeout=10) == 0
        pub = run(["/usr/bin/mosquitto_pub", "-p", port, "-q", "1", "-t", "dse/" + client_id,
                   "-m", "while away"])
        assert pub.returncode == 0
        again = run(common + ["-v", "-W", "2", "-C", "1"])
        if ends:
            assert again.returncode == 27, again.stderr  # -W timed out: nothing was kept
        else:
            assert again.returncode == 0, again.stderr
            assert again.stdout.decode().strip() == "dse/%s while away" % client_id


MOSQUITTO_PUB = "/usr/bin/mosquitto_pub"


@pytest.mark.parametrize("tool", ["pub", "sub"])
def test_authentication_method_refused_exits_with_the_reason_like_mosquitto(any_broker,
                                                                             client_tools, tool):
    """-D connect authentication-method / -data go in CONNECT; neither broker knows
    SCRAM-SHA-256, so both refuse 0x8C Bad authentication method, and the tools exit
    with that code (140), as mosquitto's do."""
    ours = client_tools["cicada-" + tool]
    theirs = MOSQUITTO_PUB if tool == "pub" else MOSQUITTO_SUB
    args = ["-p", str(any_broker), "-V", "5", "-t", "auth/t",
            "-D", "connect", "authentication-method", "SCRAM-SHA-256",
            "-D", "connect", "authentication-data", "client-first"]
    args += ["-m", "x"] if tool == "pub" else ["-C", "1", "-W", "5"]
    mine, reference = run([ours, *args]), run([theirs, *args])
    assert reference.returncode == 0x8C, reference.stderr
    assert mine.returncode == 0x8C, mine.stderr
    assert b"Bad authentication method" in mine.stderr


def test_refused_connect_exit_codes_match_mosquitto_for_both_versions(start_broker, client_tools):
    broker = start_broker(config='[listeners.tcp.locked]\nbind = "127.0.0.1:0"\n'
                                 'allow_anonymous = false\n\n'
                                 '[auth.password_file]\npath = "/dev/null"\n')
    for version, code in (("5", 0x87), ("311", 5)):  # Not authorized, in each version's terms
        args = ["-p", str(broker.port), "-V", version, "-t", "t", "-m", "x"]
        mine, reference = run([client_tools["cicada-pub"], *args]), run([MOSQUITTO_PUB, *args])
        assert reference.returncode == code, reference.stderr
        assert mine.returncode == code, mine.stderr


def test_request_information_flags_are_accepted_and_checked(any_broker, client_tools):
    pub = client_tools["cicada-pub"]
    ok = run([pub, "-p", str(any_broker), "-V", "5", "-t", "t", "-m", "x",
              "-D", "connect", "request-problem-information", "0",
              "-D", "connect", "request-response-information", "1"])
    assert ok.returncode == 0, ok.stderr
    bad = run([pub, "-p", str(any_broker), "-V", "5", "-t", "t", "-m", "x",
               "-D", "connect", "request-problem-information", "2"])
    assert bad.returncode == 1
    assert b"request-problem-information: invalid value" in bad.stderr
    orphan = run([pub, "-p", str(any_broker), "-V", "5", "-t", "t", "-m", "x",
                  "-D", "connect", "authentication-data", "x"])
    assert orphan.returncode == 1
    assert b"authentication-data needs -D connect authentication-method" in orphan.stderr
