"""Byte-exact CONNECT / CONNACK tests against the real broker: protocol name and
level, CONNACK codes and properties, client identifiers, the CONNECT timeout,
keep alive, Server Keep Alive, a second CONNECT, and SIGTERM, in MQTT 3.1.1 and 5.0.

Statement ids are MQTT 5.0's unless marked (3.1.1)."""
import signal
import time

import pytest

from mqtt_bytes import (
    ASSIGNED_CLIENT_IDENTIFIER, AUTHENTICATION_METHOD, DISCONNECT, Closed, MAXIMUM_PACKET_SIZE,
    RECEIVE_MAXIMUM, REQUEST_RESPONSE_INFORMATION, RESPONSE_INFORMATION, SERVER_KEEP_ALIVE,
    SESSION_EXPIRY_INTERVAL, TOPIC_ALIAS_MAXIMUM, V311, V5, body_of, connect,
    decode_properties, expect_closed, expect_no_packet, h, open_client, packet_type,
    parse_connack, pingreq, prop, publish, read_packet, subscribe, subscribe_ok, unique)

VERSIONS = pytest.mark.parametrize("version", [V311, V5], ids=["v311", "v5"])


def test_connack_success_v311(broker):
    sock = broker.connect()
    sock.sendall(connect(unique("c"), version=V311))
    # [MQTT-3.2.2-1] (3.1.1) Clean Session 1: Session Present 0 and return code 0.
    # [MQTT-3.1.4-4] (3.1.1) a successful CONNECT is acknowledged with return code 0.
    assert read_packet(sock) == h("20 02 00 00")
    sock.sendall(pingreq())
    assert read_packet(sock) == h("d0 00")  # [MQTT-3.12.4-1]


def test_connack_success_v5_default_properties(broker):
    sock = broker.connect()
    sock.sendall(connect(unique("c"), version=V5))
    data = read_packet(sock)
    present, code, props = parse_connack(data, V5)
    # [MQTT-3.2.2-1] reserved flag bits 0; [MQTT-3.2.2-2] Clean Start 1: Session Present 0;
    # [MQTT-3.1.4-5] Reason Code 0x00.
    assert (present, code) == (0, 0)
    # The issue: a v5 CONNACK with built-in defaults carries Receive Maximum 32
    # (mqtt.max_inflight), Maximum Packet Size 1 MB and Topic Alias Maximum 65535; no
    # Assigned Client Identifier since the client gave one. Order is not significant.
    assert sorted(props) == sorted([(RECEIVE_MAXIMUM, 32), (MAXIMUM_PACKET_SIZE, 1048576),
                                    (TOPIC_ALIAS_MAXIMUM, 65535)]), data.hex(" ")
    # [MQTT-2.2.2-1] the fixed part is exact: 20, length, flags 00, reason 00.
    assert data[:4] == bytes([0x20, len(data) - 2, 0x00, 0x00])


@pytest.mark.parametrize("level", [0, 2, 6, 255])
def test_unsupported_protocol_level_gets_connack_0x01_and_close(broker, level):
    sock = broker.connect()
    sock.sendall(connect(unique("c"), version=level))
    # (3.1.1) [MQTT-3.1.2-2] CONNACK return code 0x01 (unacceptable protocol level), then
    # disconnect; [MQTT-3.2.2-4] (3.1.1) Session Present 0 with a non-zero code. The issue
    # asks for the 3.1.1 form, which a client of any version can read.
    assert read_packet(sock) == h("20 02 00 01")
    expect_closed(sock)  # [MQTT-3.2.2-5] (3.1.1), [MQTT-3.1.2-2]


@pytest.mark.parametrize("name", ["MQTX", "mqtt", "MQIsdpX"])
@VERSIONS
def test_unknown_protocol_name_is_closed_without_connack(broker, version, name):
    sock = broker.connect()
    sock.sendall(connect(unique("c"), version=version, protocol_name=name))
    # [MQTT-3.1.2-1] (both): the name must be "MQTT"; the issue: unknown name -> close.
    expect_closed(sock)


@VERSIONS
def test_first_packet_not_connect_is_closed(broker, version):
    sock = broker.connect()
    sock.sendall(pingreq())
    # [MQTT-3.1.0-1] (both) the first packet from the client MUST be CONNECT; [MQTT-4.8.0-1]
    # (3.1.1) / 4.13 (5.0): close. No CONNACK was sent, so no DISCONNECT either
    # [MQTT-3.14.0-1].
    expect_closed(sock)


def test_connect_reserved_flag_closes(broker):
    sock = broker.connect()
    data = bytearray(connect(unique("c"), version=V311))
    data[9] |= 0x01  # Connect Flags byte: bit 0 is reserved
    sock.sendall(bytes(data))
    # [MQTT-3.1.2-3] (3.1.1) validate the reserved flag is zero and disconnect if not;
    # [MQTT-3.1.4-1] (3.1.1) close without CONNACK.
    expect_closed(sock)


def test_connect_reserved_flag_closes_v5(broker):
    sock = broker.connect()
    data = bytearray(connect(unique("c"), version=V5))
    data[9] |= 0x01
    sock.sendall(bytes(data))
    # [MQTT-3.1.2-3] Malformed Packet; 4.13.1: before CONNACK the server MAY send CONNACK
    # 0x81, then MUST close. [MQTT-3.14.0-1] never DISCONNECT before a successful CONNACK.
    try:
        answer = read_packet(sock)
    except Closed:  # closed at once
        return
    present, code, _ = parse_connack(answer, V5)
    assert (present, code) == (0, 0x81), answer.hex(" ")
    expect_closed(sock)


# --- client identifiers --------------------------------------------------------

def test_empty_client_id_v311_clean_session_gets_accepted(broker):
    sock = broker.connect()
    sock.sendall(connect("", version=V311, clean=True))
    # [MQTT-3.1.3-6] (3.1.1) a zero-byte ClientId is given a unique id and processed as if
    # the client had supplied it: CONNACK 0, Session Present 0 [MQTT-3.2.2-1].
    assert read_packet(sock) == h("20 02 00 00")
    sock.sendall(pingreq())
    assert read_packet(sock) == h("d0 00")


def test_empty_client_id_v311_persistent_session_is_rejected(broker):
    sock = broker.connect()
    sock.sendall(connect("", version=V311, clean=False))
    # [MQTT-3.1.3-8] (3.1.1) zero-byte ClientId with CleanSession 0: CONNACK 0x02
    # (Identifier rejected) and then close.
    assert read_packet(sock) == h("20 02 00 02")
    expect_closed(sock)


def test_empty_client_id_v5_gets_assigned_client_identifier(broker):
    ids = []
    for _ in range(2):
        sock = broker.connect()
        sock.sendall(connect("", version=V5, clean=True))
        data = read_packet(sock)
        present, code, props = parse_connack(data, V5)
        assert (present, code) == (0, 0), data.hex(" ")
        # [MQTT-3.1.3-7] [MQTT-3.2.2-16] the CONNACK carries an Assigned Client
        # Identifier (0x12), new and not used by any other session.
        assigned = prop(props, ASSIGNED_CLIENT_IDENTIFIER)
        assert assigned, data.hex(" ")
        ids.append(assigned)
        # The other default properties are the same as with a client id.
        rest = sorted(p for p in props if p[0] != ASSIGNED_CLIENT_IDENTIFIER)
        assert rest == sorted([(RECEIVE_MAXIMUM, 32), (MAXIMUM_PACKET_SIZE, 1048576),
                               (TOPIC_ALIAS_MAXIMUM, 65535)])
    assert ids[0] != ids[1]  # [MQTT-3.1.3-6] unique


@VERSIONS
def test_client_id_longer_than_allowed_is_rejected(start_broker, version):
    b = start_broker(args=["--threads", "2", "--set", "mqtt.max_clientid_len=23"])
    sock = b.connect()
    sock.sendall(connect("a" * 24, version=version))
    if version == V311:
        # [MQTT-3.1.3-9] (3.1.1) a rejected ClientId: CONNACK 0x02, then close.
        assert read_packet(sock) == h("20 02 00 02")
    else:
        # [MQTT-3.1.3-8] CONNACK 0x85 (Client Identifier not valid), Session Present 0
        # [MQTT-3.2.2-6], then close [MQTT-3.2.2-7].
        present, code, _ = parse_connack(read_packet(sock), V5)
        assert (present, code) == (0, 0x85)
    expect_closed(sock)
    # [MQTT-3.1.3-5] 23 characters are always allowed.
    open_client(b, "b" * 23, version=version)


def test_unsupported_authentication_method_is_refused_v5(broker):
    sock = broker.connect()
    sock.sendall(connect(unique("c"), version=V5,
                         props=[(AUTHENTICATION_METHOD, "SCRAM-SHA-1")]))
    # 4.12 [MQTT-4.12.0-1]: an unsupported Authentication Method MAY get CONNACK 0x8C (Bad
    # authentication method) or 0x87 (Not authorized) and MUST close.
    present, code, _ = parse_connack(read_packet(sock), V5)
    assert present == 0 and code in (0x8C, 0x87)  # [MQTT-3.2.2-6]
    expect_closed(sock)  # [MQTT-3.2.2-7]


def test_will_qos_above_maximum_qos_is_refused_v5(start_broker):
    b = start_broker(args=["--threads", "2", "--set", "mqtt.max_qos_allowed=1"])
    sock = b.connect()
    sock.sendall(connect(unique("c"), version=V5,
                         will={"topic": "w/t", "payload": b"x", "qos": 2}))
    # [MQTT-3.2.2-12] a Will QoS above the server's capability: reject, SHOULD be 0x9B.
    present, code, _ = parse_connack(read_packet(sock), V5)
    assert (present, code) == (0, 0x9B)
    expect_closed(sock)


def test_will_retain_without_retain_available_is_refused_v5(start_broker):
    b = start_broker(args=["--threads", "2", "--set", "mqtt.retain_available=false"])
    sock = b.connect()
    sock.sendall(connect(unique("c"), version=V5,
                         will={"topic": "w/t", "payload": b"x", "retain": True}))
    # [MQTT-3.2.2-13] Will Retain 1 without retain support: reject, SHOULD be 0x9A.
    present, code, _ = parse_connack(read_packet(sock), V5)
    assert (present, code) == (0, 0x9A)
    expect_closed(sock)


# --- timeouts ------------------------------------------------------------------

def test_socket_without_connect_is_closed_after_idle_timeout(start_broker):
    b = start_broker(args=["--threads", "2", "--set", "mqtt.idle_timeout=1s"])
    silent = b.connect()
    partial = b.connect()
    partial.sendall(connect(unique("c"), version=V311)[:7])  # a CONNECT cut short
    start = time.monotonic()
    # The issue (MQTT 5.0 3.1.4 / 3.1.1 3.1.4: a server SHOULD close a connection that
    # sends no CONNECT within a reasonable time): with mqtt.idle_timeout=1s, closed within
    # seconds, with nothing sent.
    expect_closed(silent, timeout=8)
    expect_closed(partial, timeout=8)
    assert time.monotonic() - start >= 0.9


@VERSIONS
def test_keep_alive_enforced_at_one_and_a_half_times(broker, version):
    sock, _ = open_client(broker, unique("ka"), version=version, keep_alive=1)
    start = time.monotonic()
    if version == V5:
        # 4.13 / 3.14.2.1: the server says why before closing: DISCONNECT 0x8D (Keep Alive
        # timeout), as the issue requires.
        assert read_packet(sock, timeout=8) == h("e0 01 8d")
    # [MQTT-3.1.2-22] (5.0) / [MQTT-3.1.2-24] (3.1.1): nothing for 1.5 x Keep Alive -> close.
    expect_closed(sock, timeout=8)
    elapsed = time.monotonic() - start
    # Not before 1.5 s have passed; the issue allows up to about 3 s (once-a-second checks).
    assert 1.4 <= elapsed <= 5.0, elapsed


@VERSIONS
def test_pingreq_keeps_connection_alive(broker, version):
    sock, _ = open_client(broker, unique("ka"), version=version, keep_alive=1)
    for _ in range(6):
        time.sleep(0.5)
        sock.sendall(pingreq())
        assert read_packet(sock) == h("d0 00")  # [MQTT-3.12.4-1]
    # 3 s with packets every 0.5 s: still open [MQTT-3.1.2-22] only applies to silence.
    sock.sendall(pingreq())
    assert read_packet(sock) == h("d0 00")


def test_keep_alive_zero_is_never_timed_out(broker):
    socks = [open_client(broker, unique("ka0"), version=v, keep_alive=0)[0] for v in (V311, V5)]
    time.sleep(3)
    # MQTT 5.0 3.1.2.10 / 3.1.1 3.1.2.10: Keep Alive 0 turns the mechanism off.
    for sock in socks:
        sock.sendall(pingreq())
        assert read_packet(sock) == h("d0 00")


def test_server_keep_alive_when_maximum_is_lower_v5(start_broker):
    b = start_broker(args=["--threads", "2", "--set", "mqtt.max_keepalive=10"])
    sock = b.connect()
    sock.sendall(connect(unique("ka"), version=V5, keep_alive=60))
    data = read_packet(sock)
    present, code, props = parse_connack(data, V5)
    assert (present, code) == (0, 0)
    # The issue: mqtt.max_keepalive=10 and the client asks 60 -> Server Keep Alive (0x13) =
    # 10, which the client must then use [MQTT-3.2.2-21].
    assert prop(props, SERVER_KEEP_ALIVE) == 10, data.hex(" ")

    # Within the maximum: [MQTT-3.2.2-22] without Server Keep Alive the client's value is
    # used, so the property is either absent or equal to what the client asked.
    sock = b.connect()
    sock.sendall(connect(unique("ka"), version=V5, keep_alive=5))
    _, code, props = parse_connack(read_packet(sock), V5)
    assert code == 0 and prop(props, SERVER_KEEP_ALIVE) in (None, 5)


def test_server_keep_alive_is_enforced_v5(start_broker):
    b = start_broker(args=["--threads", "2", "--set", "mqtt.max_keepalive=1"])
    sock = b.connect()
    sock.sendall(connect(unique("ka"), version=V5, keep_alive=60))
    _, code, props = parse_connack(read_packet(sock), V5)
    assert code == 0 and prop(props, SERVER_KEEP_ALIVE) == 1
    start = time.monotonic()
    # [MQTT-3.2.2-21] the Server Keep Alive replaces the client's, so [MQTT-3.1.2-22] applies
    # with 1 s: DISCONNECT 0x8D, then close.
    assert read_packet(sock, timeout=8) == h("e0 01 8d")
    expect_closed(sock)
    assert 1.4 <= time.monotonic() - start <= 5.0


# --- a second CONNECT ------------------------------------------------------------

def test_second_connect_is_protocol_error_v5(broker):
    client_id = unique("twice")
    sock, _ = open_client(broker, client_id, version=V5)
    sock.sendall(connect(client_id, version=V5))
    # [MQTT-3.1.0-2] a second CONNECT is a Protocol Error: DISCONNECT 0x82 (4.13), close.
    assert read_packet(sock) == h("e0 01 82")
    expect_closed(sock)


def test_second_connect_closes_v311(broker):
    client_id = unique("twice")
    sock, _ = open_client(broker, client_id, version=V311)
    sock.sendall(connect(client_id, version=V311))
    # [MQTT-3.1.0-2] (3.1.1) protocol violation: disconnect (3.1.1 has no DISCONNECT from
    # the server).
    expect_closed(sock)


# --- Request Response Information ---------------------------------------------------

def test_request_response_information(start_broker):
    b = start_broker(args=["--threads", "2", "--set", "mqtt.response_information=resp/base"])
    sock = b.connect()
    sock.sendall(connect(unique("rr"), version=V5,
                         props=[(REQUEST_RESPONSE_INFORMATION, 1)]))
    _, code, props = parse_connack(read_packet(sock), V5)
    # The issue (Request Response Information) with mqtt.response_information set: the
    # CONNACK carries Response Information 0x1A (MQTT 5.0 3.2.2.3.15).
    assert code == 0 and prop(props, RESPONSE_INFORMATION) == "resp/base"

    for request in ([(REQUEST_RESPONSE_INFORMATION, 0)], None):
        sock = b.connect()
        sock.sendall(connect(unique("rr"), version=V5, props=request))
        _, code, props = parse_connack(read_packet(sock), V5)
        # [MQTT-3.1.2-28] 0 (or absent, which means 0): no Response Information.
        assert code == 0 and prop(props, RESPONSE_INFORMATION) is None


# --- shutdown ------------------------------------------------------------------

def test_sigterm_sends_disconnect_0x8b_then_exits_0(start_broker):
    b = start_broker(args=["--threads", "2"])
    v5, _ = open_client(b, unique("term5"), version=V5)
    v311, _ = open_client(b, unique("term3"), version=V311)
    b.process.send_signal(signal.SIGTERM)
    data = read_packet(v5)
    # The issue: DISCONNECT 0x8B (Server shutting down, 3.14.2.1), with or without
    # properties, arrives before the close.
    assert packet_type(data) == DISCONNECT and data[0] == 0xE0, data.hex(" ")
    body = body_of(data)
    assert body[0] == 0x8B, data.hex(" ")
    if len(body) > 1:
        _, end = decode_properties(body, 1)
        assert end == len(body)
    expect_closed(v5)
    expect_closed(v311)  # 3.1.1 has no server DISCONNECT: just closed
    assert b.process.wait(timeout=15) == 0


# --- pipelining and refused CONNECTs ----------------------------------------------------

@VERSIONS
def test_packets_pipelined_behind_connect_are_processed_after_connack(broker, version):
    topic = unique("pipe") + "/t"
    sock = broker.connect()
    # 3.1.4 (both): a client need not wait for CONNACK before sending more packets.
    sock.sendall(connect(unique("pipe"), version=version)
                 + subscribe(1, [(topic, 0)], version=version)
                 + publish(topic, b"self", version=version) + pingreq())
    # [MQTT-3.2.0-1] CONNACK first; then each packet in order: SUBACK [MQTT-3.8.4-1], the
    # message to the client's own subscription, PINGRESP [MQTT-3.12.4-1].
    _, code, _ = parse_connack(read_packet(sock), version)
    assert code == 0
    assert read_packet(sock) == (h("90 03 00 01 00") if version == V311
                                 else h("90 04 00 01 00 00"))
    assert read_packet(sock) == publish(topic, b"self", version=version)
    assert read_packet(sock) == h("d0 00")


def test_data_after_a_refused_connect_is_not_processed(broker):
    topic = unique("refused") + "/t"
    watcher, _ = open_client(broker, unique("w"), version=V311)
    subscribe_ok(watcher, 1, [(topic, 0)])
    sock = broker.connect()
    sock.sendall(connect("", version=V311, clean=False) + publish(topic, b"sneaky"))
    # [MQTT-3.1.3-8] (3.1.1) refused with 0x02, then closed; [MQTT-3.1.4-5] (3.1.1) /
    # [MQTT-3.1.4-6] nothing sent after a refused CONNECT is processed.
    assert read_packet(sock) == h("20 02 00 02")
    expect_closed(sock)
    expect_no_packet(watcher, 1.0)


def _with_flags(data, set_bits=0, clear_bits=0):
    data = bytearray(data)
    data[9] = (data[9] | set_bits) & ~clear_bits & 0xFF
    return bytes(data)


BAD_CONNECTS = {
    # (3.1.1) [MQTT-3.1.2-22] a password without a user name.
    "password-without-username-v311": (V311, lambda: _with_flags(
        connect(unique("c"), version=V311, password=b"pw"))),
    # [MQTT-3.1.2-11] [MQTT-3.1.2-13] (5.0) / [MQTT-3.1.2-13] [MQTT-3.1.2-15] (3.1.1):
    # Will QoS or Will Retain without the Will Flag.
    "will-qos-without-will-v311": (V311, lambda: _with_flags(
        connect(unique("c"), version=V311), set_bits=0x08)),
    "will-retain-without-will-v5": (V5, lambda: _with_flags(
        connect(unique("c"), version=V5), set_bits=0x20)),
    # [MQTT-3.1.2-12] (5.0) / [MQTT-3.1.2-14] (3.1.1): Will QoS 3.
    "will-qos-3-v5": (V5, lambda: _with_flags(
        connect(unique("c"), version=V5, will={"topic": "w", "payload": b""}),
        set_bits=0x18)),
    # [MQTT-3.1.3-4] (both): the Client Identifier is a UTF-8 string.
    "client-id-invalid-utf8-v311": (V311, lambda: connect(b"a\xff", version=V311)),
    "client-id-invalid-utf8-v5": (V5, lambda: connect(b"a\xc0\x80", version=V5)),
    # MQTT 5.0 3.1.2.11.3 / .4: Receive Maximum 0 and Maximum Packet Size 0 are Protocol
    # Errors, as is a property given twice (3.1.2.11.2).
    "receive-maximum-0-v5": (V5, lambda: connect(unique("c"), version=V5,
                                                 props=[(RECEIVE_MAXIMUM, 0)])),
    "maximum-packet-size-0-v5": (V5, lambda: connect(unique("c"), version=V5,
                                                     props=[(MAXIMUM_PACKET_SIZE, 0)])),
    "session-expiry-twice-v5": (V5, lambda: connect(unique("c"), version=V5,
                                                    props=[(0x11, 1), (0x11, 1)])),
    # MQTT 5.0 3.1.2.11.7: Request Response Information other than 0 or 1.
    "request-response-information-2-v5": (V5, lambda: connect(
        unique("c"), version=V5, props=[(REQUEST_RESPONSE_INFORMATION, 2)])),
    # [MQTT-3.1.3-11] (5.0) / [MQTT-3.1.3-10] (3.1.1): the Will Topic is a topic name.
    "will-topic-wildcard-v311": (V311, lambda: connect(
        unique("c"), version=V311, will={"topic": "w/#", "payload": b""})),
}


@pytest.mark.parametrize("case", sorted(BAD_CONNECTS))
def test_bad_connect_is_closed(broker, case):
    version, build = BAD_CONNECTS[case]
    sock = broker.connect()
    sock.sendall(build())
    # [MQTT-3.1.4-1] (both) a CONNECT that does not conform closes the connection; 3.1.1
    # without CONNACK; 5.0 4.13.1 optionally after a CONNACK with 0x80 or above (and
    # Session Present 0, [MQTT-3.2.2-6] [MQTT-3.2.2-7]). Never a DISCONNECT [MQTT-3.14.0-1].
    try:
        answer = read_packet(sock)
    except Closed:
        return
    assert version == V5, answer.hex(" ")
    present, code, _ = parse_connack(answer, V5)
    assert present == 0 and code >= 0x80, answer.hex(" ")
    expect_closed(sock)


def test_session_expiry_above_maximum_is_reported_v5(start_broker):
    b = start_broker(args=["--threads", "2", "--set", "mqtt.session_expiry_interval=1h"])
    sock = b.connect()
    sock.sendall(connect(unique("se"), version=V5, clean=False,
                         props=[(SESSION_EXPIRY_INTERVAL, 0xFFFFFFFF)]))
    _, code, props = parse_connack(read_packet(sock), V5)
    # MQTT 5.0 3.2.2.3.2: a server using another Session Expiry Interval than the
    # client's says so in CONNACK; mqtt.session_expiry_interval is the longest granted.
    assert code == 0 and prop(props, SESSION_EXPIRY_INTERVAL) == 3600
    sock = b.connect()
    sock.sendall(connect(unique("se"), version=V5, clean=False,
                         props=[(SESSION_EXPIRY_INTERVAL, 60)]))
    _, code, props = parse_connack(read_packet(sock), V5)
    assert code == 0 and prop(props, SESSION_EXPIRY_INTERVAL) in (None, 60)
