"""MQTT.js (npm's `mqtt`, a client nobody here wrote; installed by scripts/setup into
tests/integration/mqttjs/node_modules) against cicada's ws and wss listeners: MQTT 3.1.1
and 5, QoS 0, 1 and 2, a small and a 200 KiB payload, to and from a paho client on the
plain TCP listener. The peer script is tests/integration/mqttjs/peer.js."""
import hashlib
import json
import os
import shutil

import pytest

from client_helpers import Running, make_certs
from mqtt_helpers import V5, PahoClient, unique

HERE = os.path.dirname(os.path.abspath(__file__))
PEER = os.path.join(HERE, "mqttjs", "peer.js")
MODULES = os.path.join(HERE, "mqttjs", "node_modules", "mqtt")


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return make_certs(tmp_path_factory.mktemp("mqttjs"))


@pytest.fixture
def ws_broker(start_broker, certs):
    if shutil.which("node") is None or not os.path.isdir(MODULES):
        pytest.fail("MQTT.js is not installed: run scripts/setup (node, npm ci in "
                    "tests/integration/mqttjs)")
    config = "\n".join([
        "[listeners.ws.default]", 'bind = "127.0.0.1:0"',
        "[listeners.wss.default]", 'bind = "127.0.0.1:0"',
        'certfile = "%s"' % certs["server.crt"], 'keyfile = "%s"' % certs["server.key"], ""])
    return start_broker(config=config, args=["--threads", "2"])


def pattern(size):
    return bytes((7 * i + 3) % 256 for i in range(size))


def stderr_of(peer):
    """What the ended peer wrote to stderr (its pump thread may still hold lines)."""
    peer.pumps[1].join(10)
    while not peer.err.empty():
        line = peer.err.get_nowait()
        if line is not None:
            peer.err_lines.append(line)
    return "\n".join(peer.err_lines)


def events(peer):
    return [json.loads(line) for line in peer.drain_out() if line.startswith("{")]


CASES = [(scheme, version, qos, 16) for scheme in ("ws", "wss") for version in (4, 5)
         for qos in (0, 1, 2)]
# 200 KiB: many frames each way (and TLS records for wss).
CASES += [("ws", 5, 1, 200 * 1024), ("wss", 5, 2, 200 * 1024), ("ws", 4, 2, 200 * 1024)]


@pytest.mark.parametrize("scheme,version,qos,size", CASES,
                         ids=["%s-v%d-qos%d-%dB" % case for case in CASES])
def test_mqttjs_round_trip_with_a_tcp_client(ws_broker, certs, scheme, version, qos, size):
    port = ws_broker.ws_port if scheme == "ws" else ws_broker.wss_port
    to_js, from_js = unique("js/in/"), unique("js/out/")
    tcp = PahoClient(ws_broker.port, version=V5)
    try:
        tcp.subscribe(from_js, qos=qos)
        cmd = ["node", PEER, "%s://127.0.0.1:%d/mqtt" % (scheme, port), str(version), str(qos),
               to_js, from_js, str(size)]
        if scheme == "wss":
            cmd.append(certs["ca.crt"])
        peer = Running(cmd)
        peer.wait_out(lambda line: '"subscribed"' in line, timeout=60)
        # MQTT.js sent its PUBLISH after the SUBACK; the TCP client gets it ...
        got = tcp.wait_messages(1)
        assert [(m.topic, m.qos, m.payload) for m in got] == [(from_js, qos, pattern(size))]
        # ... and sends one back, which MQTT.js receives over the WebSocket.
        tcp.publish(to_js, pattern(size), qos=qos)
        assert peer.process.wait(timeout=60) == 0, stderr_of(peer)
        seen = events(peer)
        assert [e["event"] for e in seen][:2] == ["connected", "subscribed"]
        assert seen[1]["granted"] == [qos]
        message = next(e for e in seen if e["event"] == "message")
        assert message == {"event": "message", "topic": to_js, "qos": qos, "size": size,
                           "sha256": hashlib.sha256(pattern(size)).hexdigest()}
        assert seen[-1]["event"] == "closed"
    finally:
        tcp.close()
