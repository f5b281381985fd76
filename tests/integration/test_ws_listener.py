"""MQTT over WebSocket ([listeners.ws.NAME], docs/listeners.md): the real cicada with a
ws listener on 127.0.0.1:0 (found in the log as "listening on ws 127.0.0.1:PORT")
beside the fixture's plain --listen one, driven by paho-mqtt over websockets, plain
TCP paho clients, and hand-built upgrade requests and frames (ws_raw.py)."""
import socket
import struct

import pytest

from mqtt_helpers import (CONNACK, PUBLISH, SUBACK, V311, V5, PahoClient, connect_packet,
                          publish_packet, subscribe_packet, unique, wait_until)
from ws_raw import BINARY, CLOSE, CONTINUATION, PING, PONG, TEXT, RawWebSocket

WS_CONFIG = '[listeners.ws.default]\nbind = "127.0.0.1:0"\n'


def ws_config(extra="", tail=""):
    return WS_CONFIG + extra + "\n" + tail


@pytest.fixture
def ws_broker(start_broker):
    b = start_broker(config=ws_config(), args=["--threads", "2", "--log-level", "debug"])
    assert b.ws_port is not None and b.ws_port != b.port
    return b


def ws_client(port, version, path="/mqtt", **kwargs):
    return PahoClient(port, version=version, transport="websockets", ws_path=path, **kwargs)


@pytest.mark.parametrize("version", [V311, V5], ids=["3.1.1", "5"])
@pytest.mark.parametrize("qos", [0, 1, 2])
def test_publish_and_subscribe_across_ws_and_tcp(ws_broker, version, qos):
    ws = ws_client(ws_broker.ws_port, version)
    tcp = PahoClient(ws_broker.port, version=version)
    try:
        to_tcp, to_ws = unique("ws/to-tcp/"), unique("ws/to-ws/")
        ws.subscribe(to_ws, qos=qos)
        tcp.subscribe(to_tcp, qos=qos)
        ws.publish(to_tcp, b"from ws", qos=qos)
        tcp.publish(to_ws, b"from tcp", qos=qos)
        got_tcp = tcp.wait_messages(1)
        got_ws = ws.wait_messages(1)
        assert [(m.topic, m.payload, m.qos) for m in got_tcp] == [(to_tcp, b"from ws", qos)]
        assert [(m.topic, m.payload, m.qos) for m in got_ws] == [(to_ws, b"from tcp", qos)]
    finally:
        ws.close()
        tcp.close()


@pytest.mark.parametrize("version", [V311, V5], ids=["3.1.1", "5"])
def test_large_payload_both_ways(ws_broker, version):
    # 200 KiB: many socket reads and, towards the ws client, several frames (64 KiB each).
    payload = bytes(range(256)) * 800
    ws = ws_client(ws_broker.ws_port, version)
    tcp = PahoClient(ws_broker.port, version=version)
    try:
        big = unique("ws/big/")
        ws.subscribe(big + "/to-ws", qos=1)
        tcp.subscribe(big + "/to-tcp", qos=1)
        ws.publish(big + "/to-tcp", payload, qos=1)
        tcp.publish(big + "/to-ws", payload, qos=1)
        assert tcp.wait_messages(1)[0].payload == payload
        assert ws.wait_messages(1)[0].payload == payload
    finally:
        ws.close()
        tcp.close()


def test_the_101_names_mqtt_and_frames_carry_any_split_of_packets(ws_broker):
    raw = RawWebSocket.connect(ws_broker.ws_port)
    try:
        status, headers = raw.upgrade(protocol="mqtt")
        assert status == 101
        # [MQTT-6.0.0-4] the subprotocol the server selects is "mqtt".
        assert headers["sec-websocket-protocol"] == "mqtt"
        # A masked binary frame carrying CONNECT, split over two frames (FIN = 0, then a
        # continuation) [MQTT-6.0.0-2].
        connect = connect_packet(unique("raw-ws"), version=4)
        raw.send_frame(BINARY, connect[:5], fin=False)
        raw.send_frame(CONTINUATION, connect[5:])
        packet_type, _, body = raw.read_mqtt()
        assert packet_type == CONNACK and body == b"\x00\x00"
        # SUBSCRIBE and a PUBLISH to it in one frame: two packets, one frame.
        topic = unique("raw/ws/")
        raw.send_frame(BINARY, subscribe_packet(1, [(topic, 0)]) +
                       publish_packet(topic, b"hello", qos=0))
        packet_type, _, body = raw.read_mqtt()
        assert packet_type == SUBACK and body == b"\x00\x01\x00"
        packet_type, _, body = raw.read_mqtt()
        assert packet_type == PUBLISH and body.endswith(b"hello")
        # A Ping between packets gets its Pong with the same payload [RFC 6455 5.5.3].
        raw.send_frame(PING, b"are you there")
        assert raw.read_frame() == (True, PONG, b"are you there")
    finally:
        raw.close()


def test_unmasked_client_frame_is_closed_with_1002(ws_broker):
    raw = RawWebSocket.connect(ws_broker.ws_port)
    try:
        assert raw.upgrade()[0] == 101
        # [RFC 6455 5.1] a server closes the connection on an unmasked client frame.
        raw.send_frame(BINARY, connect_packet(unique("unmasked"), version=4), mask=False)
        assert raw.read_close() == 1002
    finally:
        raw.close()
    wait_until(lambda: "unmasked" in ws_broker.log())


def test_text_frame_is_closed_with_1003(ws_broker):
    raw = RawWebSocket.connect(ws_broker.ws_port)
    try:
        assert raw.upgrade()[0] == 101
        # [MQTT-6.0.0-1] MQTT travels in binary frames; a text frame closes the connection.
        raw.send_frame(TEXT, b"hello")
        assert raw.read_close() == 1003
    finally:
        raw.close()


def test_frame_above_the_maximum_packet_size_is_closed_with_1009(start_broker):
    b = start_broker(config=ws_config(tail='[mqtt]\nmax_packet_size = "1KB"\n'))
    raw = RawWebSocket.connect(b.ws_port)
    try:
        assert raw.upgrade()[0] == 101
        # Only the header of a 2000-byte frame: refused before its payload is read.
        raw.sock.sendall(struct.pack("!BBH", 0x82, 0x80 | 126, 2000) + b"\x01\x02\x03\x04")
        assert raw.read_close() == 1009
    finally:
        raw.close()


def test_a_closing_handshake_ends_the_connection_and_publishes_the_will(ws_broker):
    watcher = PahoClient(ws_broker.port, version=V5)
    raw = RawWebSocket.connect(ws_broker.ws_port)
    try:
        will_topic = unique("ws/will/")
        watcher.subscribe(will_topic, qos=1)
        assert raw.upgrade()[0] == 101
        raw.send_frame(BINARY, connect_packet(unique("will-ws"), version=4,
                                              will={"topic": will_topic, "payload": b"gone", "qos": 1}))
        assert raw.read_mqtt()[0] == CONNACK
        # A Close without DISCONNECT: the broker echoes it and closes; the client went
        # away without DISCONNECT, so its Will is published [MQTT-3.1.2-8].
        raw.send_frame(CLOSE, struct.pack("!H", 1000))
        assert raw.read_close() == 1000
        assert [m.payload for m in watcher.wait_messages(1)] == [b"gone"]
    finally:
        raw.close()
        watcher.close()


def test_wrong_path_gets_404_and_is_closed(ws_broker):
    raw = RawWebSocket.connect(ws_broker.ws_port)
    try:
        assert raw.upgrade(path="/other")[0] == 404
        assert raw.closed()
    finally:
        raw.close()
    # paho asking for another path gets no connection either.
    c = PahoClient(ws_broker.ws_port, version=V5, transport="websockets", ws_path="/ws",
                   connect=False)
    try:
        with pytest.raises(Exception):
            c.connect(timeout=5)
    finally:
        c.close()
    wait_until(lambda: "WebSocket error before CONNECT" in ws_broker.log())


def test_configured_path_and_query_string(start_broker):
    b = start_broker(config=ws_config('mqtt_path = "/custom/mqtt"'))
    raw = RawWebSocket.connect(b.ws_port)
    try:
        assert raw.upgrade(path="/custom/mqtt?token=abc")[0] == 101  # the query is ignored
    finally:
        raw.close()
    raw = RawWebSocket.connect(b.ws_port)
    try:
        assert raw.upgrade(path="/mqtt")[0] == 404
    finally:
        raw.close()
    ws = ws_client(b.ws_port, V311, path="/custom/mqtt")
    ws.close()


@pytest.mark.parametrize("request_bytes", [
    b"GET /mqtt HTTP/1.1\r\nHost: x\r\n\r\n",  # no Upgrade: 426
    b"POST /mqtt HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",  # not GET: 405
    b"GET /mqtt HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: short\r\n\r\n",  # bad key: 400
    b"\x10\x10\x00\x04MQTT\x04\x02\x00\x3c\x00\x04test",  # MQTT, not HTTP: 400 at once
], ids=["no-upgrade", "post", "bad-key", "mqtt-bytes"])
def test_malformed_upgrade_gets_an_http_error_and_is_closed(ws_broker, request_bytes):
    raw = RawWebSocket.connect(ws_broker.ws_port)
    try:
        raw.sock.sendall(request_bytes)
        status, _ = raw.http_response()
        assert status in (400, 405, 426)
        expected = {b"GET /mqtt HTTP/1.1\r\nHost: x\r\n\r\n": 426,
                    b"POST /mqtt HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n": 405}
        assert status == expected.get(request_bytes, 400)
        assert raw.closed()
    finally:
        raw.close()


def test_missing_subprotocol_is_accepted_by_default(ws_broker):
    raw = RawWebSocket.connect(ws_broker.ws_port)
    try:
        status, headers = raw.upgrade(protocol=None)
        assert status == 101
        assert "sec-websocket-protocol" not in headers
        raw.send_frame(BINARY, connect_packet(unique("noproto"), version=4))
        assert raw.read_mqtt()[0] == CONNACK
    finally:
        raw.close()


def test_missing_subprotocol_is_refused_with_fail_if_no_subprotocol(start_broker):
    b = start_broker(config=ws_config("fail_if_no_subprotocol = true"))
    for offered in (None, "chat, superchat"):
        raw = RawWebSocket.connect(b.ws_port)
        try:
            # [MQTT-6.0.0-3] a client must offer "mqtt".
            assert raw.upgrade(protocol=offered)[0] == 400
            assert raw.closed()
        finally:
            raw.close()
    raw = RawWebSocket.connect(b.ws_port)
    try:
        status, headers = raw.upgrade(protocol="chat, mqtt")
        assert status == 101 and headers["sec-websocket-protocol"] == "mqtt"
    finally:
        raw.close()
    ws_client(b.ws_port, V5).close()  # paho offers "mqtt"


def test_origin_check(start_broker):
    b = start_broker(config=ws_config('check_origin_enable = true\n'
                                      'check_origins = "https://app.example, http://LOCALHOST:8080"'))

    def status(origin):
        raw = RawWebSocket.connect(b.ws_port)
        try:
            return raw.upgrade(extra="" if origin is None else "Origin: %s\r\n" % origin)[0]
        finally:
            raw.close()

    assert status("https://app.example") == 101
    assert status("http://localhost:8080") == 101  # scheme and host are case-insensitive
    assert status(None) == 101  # not a browser: allow_origin_absence = true by default
    assert status("https://evil.example") == 403
    assert status("https://app.example:8443") == 403  # another port is another origin
    b2 = start_broker(config=ws_config('check_origin_enable = true\n'
                                       'check_origins = "https://app.example"\n'
                                       "allow_origin_absence = false"))
    raw = RawWebSocket.connect(b2.ws_port)
    try:
        assert raw.upgrade()[0] == 403
    finally:
        raw.close()


def test_listener_keys_apply_to_ws_listeners(start_broker):
    b = start_broker(config=ws_config("max_connections = 1"))
    first = ws_client(b.ws_port, V311)
    try:
        # Over max_connections: closed at once, before the upgrade is answered.
        s = socket.create_connection(("127.0.0.1", b.ws_port), timeout=20)
        s.settimeout(20)
        try:
            assert s.recv(1) == b""
        except ConnectionResetError:
            pass
        s.close()
    finally:
        first.close()


def test_each_name_is_a_listener_of_its_own(start_broker):
    b = start_broker(config=WS_CONFIG + '[listeners.ws.other]\nbind = "127.0.0.1:0"\n'
                     'mqtt_path = "/other"\n')
    import re
    ports = [int(p) for p in re.findall(r"listening on ws 127\.0\.0\.1:(\d+)", b.log())]
    assert len(ports) == 2 and ports[0] != ports[1]
    assert "(listener other," in b.log()
    ws_client(ports[0], V5, path="/mqtt").close()
    ws_client(ports[1], V5, path="/other").close()


def test_bad_mqtt_path_stops_the_start_with_a_clear_error(cicada_binary, tmp_path):
    import subprocess
    path = tmp_path / "bad.toml"
    path.write_text(ws_config('mqtt_path = "mqtt"'))
    out = subprocess.run([cicada_binary, "--config", str(path)], capture_output=True, timeout=20,
                         env={"ASAN_OPTIONS": "detect_leaks=0"})
    assert out.returncode != 0
    text = (out.stdout + out.stderr).decode()
    assert "listener ws:default: mqtt_path must start with '/'" in text, text
    path.write_text(ws_config("check_origin_enable = true\nallow_origin_absence = false"))
    out = subprocess.run([cicada_binary, "--config", str(path)], capture_output=True, timeout=20,
                         env={"ASAN_OPTIONS": "detect_leaks=0"})
    assert out.returncode != 0
    text = (out.stdout + out.stderr).decode()
    assert "listener ws:default: check_origin_enable with no check_origins" in text, text
