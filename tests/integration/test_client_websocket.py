"""cicada-pub / cicada-sub over ws:// and wss:// to mosquitto's WebSocket listeners
(Debian's mosquitto 2.0.11 has libwebsockets built in; it refuses to start with only
WebSocket listeners, so the plain one from Mosquitto() stays) and to cicada's own
[listeners.ws.NAME] / [listeners.wss.NAME]. Messages cross between transports, and
mosquitto_sub on plain TCP sees what cicada-pub sent over a WebSocket."""
import pytest

from client_helpers import (Mosquitto, Running, cicada_ws_config, free_port, make_certs, run,
                            tls_listener)

MOSQUITTO_SUB = "/usr/bin/mosquitto_sub"


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return make_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture
def ws_broker(certs):
    ws, wss = free_port(), free_port()
    m = Mosquitto(listeners=[(ws, "protocol websockets"),
                             (wss, tls_listener(certs, websockets=True))])
    m.ws, m.wss = ws, wss
    yield m
    m.stop()


class CicadaWs:
    """The cicada broker's ws and wss ports under the names the mosquitto fixture uses."""

    def __init__(self, broker):
        self.broker = broker
        self.port, self.ws, self.wss = broker.port, broker.ws_port, broker.wss_port


@pytest.fixture(params=["mosquitto", "cicada"])
def any_ws_broker(request, certs, start_broker):
    """Either broker, with a ws and a wss listener and a plain TCP one."""
    if request.param == "mosquitto":
        yield request.getfixturevalue("ws_broker")
    else:
        yield CicadaWs(start_broker(config=cicada_ws_config(certs), args=["--threads", "2"]))


def url(broker, scheme, topic):
    return "%s://127.0.0.1:%d/%s" % (scheme, getattr(broker, scheme), topic)


@pytest.mark.parametrize("version", ["311", "5"])
@pytest.mark.parametrize("scheme", ["ws", "wss"])
def test_round_trip(any_ws_broker, certs, client_tools, scheme, version):
    ws_broker = any_ws_broker
    tls = ["--cafile", certs["ca.crt"]] if scheme == "wss" else []
    sub = Running([client_tools["cicada-sub"], "-L", url(ws_broker, scheme, "ws/+"), "-v",
                   "-C", "2", "-q", "1", "-V", version, "-d", *tls])
    sub.wait_err(lambda line: line.startswith("Subscribed"))
    assert any(("Connected to %s://" % scheme) in line for line in sub.err_lines)
    for i in range(2):
        pub = run([client_tools["cicada-pub"], "-L", url(ws_broker, scheme, "ws/%d" % i),
                   "-m", "over %s %d" % (scheme, i), "-q", "1", "-V", version, *tls])
        assert pub.returncode == 0, pub.stderr
    sub.wait_out(lambda line: line == "ws/1 over %s 1" % scheme)
    assert sub.process.wait(timeout=30) == 0
    assert sub.drain_out() == ["ws/0 over %s 0" % scheme, "ws/1 over %s 1" % scheme]


def test_websocket_to_plain_tcp(any_ws_broker, client_tools):
    ws_broker = any_ws_broker
    sub = Running(["stdbuf", "-oL", MOSQUITTO_SUB, "-p", str(ws_broker.port), "-t", "mix/#",
                   "-v", "-C", "1", "-d"])
    sub.wait_out(lambda line: "SUBACK" in line)
    # A payload larger than one read, so it spans WebSocket reads.
    payload = "x" * 100000
    pub = run([client_tools["cicada-pub"], "-L", url(ws_broker, "ws", "mix/big"), "-m", payload,
               "-q", "1"])
    assert pub.returncode == 0, pub.stderr
    sub.wait_out(lambda line: line == "mix/big " + payload)
    assert sub.process.wait(timeout=30) == 0


def test_wss_checks_the_certificate(ws_broker, certs, client_tools):
    untrusted = run([client_tools["cicada-pub"], "-L", url(ws_broker, "wss", "ws/u"), "-m", "x",
                     "--cafile", certs["other-ca.crt"]])
    assert untrusted.returncode == 8, untrusted.stderr
    assert b"certificate verify failed" in untrusted.stderr, untrusted.stderr


def test_not_a_websocket_server(ws_broker, client_tools):
    # ws:// to mosquitto's plain MQTT listener: the HTTP upgrade fails, clearly.
    wrong = run([client_tools["cicada-pub"], "-L",
                 "ws://127.0.0.1:%d/ws/x" % ws_broker.port, "-m", "x"])
    assert wrong.returncode == 1
    assert b"WebSocket upgrade of /mqtt failed" in wrong.stderr, wrong.stderr


def test_cicada_listener_on_another_path_refuses_the_upgrade(certs, start_broker,
                                                            client_tools):
    # The tools upgrade at /mqtt; a listener with another mqtt_path answers 404.
    b = CicadaWs(start_broker(config=cicada_ws_config(certs, path="/elsewhere")))
    for scheme, tls in (("ws", []), ("wss", ["--cafile", certs["ca.crt"]])):
        wrong = run([client_tools["cicada-pub"], "-L", url(b, scheme, "p/x"), "-m", "x", *tls])
        assert wrong.returncode == 1, wrong.stderr
        assert b"WebSocket upgrade of /mqtt failed" in wrong.stderr, wrong.stderr
    # TLS to the ws port: no HTTP request, so an HTTP 400 at once, which is no TLS.
    tls_to_ws = run([client_tools["cicada-pub"], "-L", url(b, "ws", "p/x"), "-m", "x",
                     "--cafile", certs["ca.crt"]])
    assert tls_to_ws.returncode != 0
    assert b"timed out" not in tls_to_ws.stderr, tls_to_ws.stderr


@pytest.mark.parametrize("scheme", ["wss", "mqtts"])
def test_reconnects_over_tls_after_a_broker_restart(certs, client_tools, scheme):
    # The connection manager over the TLS transports: mosquitto killed and started
    # again on the same ports; cicada-sub gets its subscription back by itself.
    port, secure = free_port(), free_port()
    listener = tls_listener(certs, websockets=(scheme == "wss"))
    tls = ["--cafile", certs["ca.crt"], "-L", "%s://127.0.0.1:%d/re/t" % (scheme, secure)]
    m = Mosquitto(port=port, listeners=[(secure, listener)])
    try:
        sub = Running([client_tools["cicada-sub"], *tls, "-v", "-q", "1", "-d"])
        sub.wait_err(lambda line: line.startswith("Subscribed"))
        m.stop()
        sub.wait_err(lambda line: line.startswith("Connection lost"))
        m = Mosquitto(port=port, listeners=[(secure, listener)])
        # Published until one arrives: the subscriber is back once it has re-subscribed.
        for i in range(300):
            pub = run([client_tools["cicada-pub"], *tls, "-m", "again %d" % i, "-q", "1"])
            assert pub.returncode == 0, pub.stderr
            try:
                sub.wait_out(lambda line: line.startswith("re/t again"), timeout=0.5)
                break
            except AssertionError:
                pass
        else:
            raise AssertionError("no message after the restart: %r" % sub.err_lines)
        assert sub.stop() == 0
    finally:
        m.stop()


def test_examples_over_websocket(ws_broker, cicada_binary):
    # The MQTT 101 pair takes any transport in --url; here ws:// with an explicit path.
    import os
    build = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(cicada_binary))))
    url = "ws://127.0.0.1:%d/mqtt" % ws_broker.ws
    consumer = Running([os.path.join(build, "examples", "cicada-example-consumer"), "--url", url,
                        "--client-id", "ws-consumer"])
    producer = Running([os.path.join(build, "examples", "cicada-example-producer"), "--url", url,
                        "--client-id", "ws-producer"])
    try:
        consumer.wait_out(lambda line: "subscribed to test" in line)
        consumer.wait_out(lambda line: "received 'message" in line)
    finally:
        assert consumer.stop() == 0
        assert producer.stop() == 0
