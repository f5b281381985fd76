"""SUBSCRIBE properties through cicada-sub: `-D subscribe subscription-identifier N`
makes the broker tag matching messages with N, which `-F %S` prints; compared with
mosquitto_sub given the same command line, against cicada and mosquitto."""
from client_helpers import run
from test_client_tools import MOSQUITTO_PUB, MOSQUITTO_SUB, any_broker, start_sub  # noqa: F401


def test_subscription_identifier_comes_back_like_mosquitto_sub(any_broker, client_tools):
    port = str(any_broker)
    outputs = {}
    for tool in (client_tools["cicada-sub"], MOSQUITTO_SUB):
        sub = start_sub([tool, "-p", port, "-V", "5", "-t", "si/#", "-C", "2",
                         "-D", "subscribe", "subscription-identifier", "42",
                         "-F", "%S %t %p %P"])
        for payload, props in (("one", []), ("two", ["-D", "publish", "user-property", "k", "v"])):
            done = run([MOSQUITTO_PUB, "-p", port, "-V", "5", "-t", "si/x", "-m", payload,
                        "-q", "1"] + props)
            assert done.returncode == 0, done.stderr
        assert sub.process.wait(timeout=30) == 0
        outputs[tool] = [l for l in sub.drain_out()
                         if not l.startswith("Client ") and not l.startswith("Subscribed (mid")]
    assert outputs[client_tools["cicada-sub"]] == ["42 si/x one ", "42 si/x two k:v"]
    assert outputs[client_tools["cicada-sub"]] == outputs[MOSQUITTO_SUB]


def test_subscribe_property_checks(client_tools):
    sub = client_tools["cicada-sub"]
    bad = run([sub, "-V", "5", "-t", "a", "-D", "subscribe", "subscription-identifier", "0"])
    assert bad.returncode == 1 and b"invalid value" in bad.stderr, bad.stderr
    old = run([sub, "-t", "a", "-D", "subscribe", "subscription-identifier", "3"])
    assert old.returncode == 1 and b"-V 5" in old.stderr, old.stderr
