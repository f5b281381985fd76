"""A tiny hand-rolled MQTT packet builder and reader for byte-exact protocol tests.

Builders return the complete packet as `bytes` (fixed header included); the reader
returns exactly one packet's bytes, so a test can compare whole packets:

    sock.sendall(connect("c1", version=V311))
    assert read_packet(sock) == bytes.fromhex("20 02 00 00")

Nothing here knows the broker: it is the MQTT 3.1.1 / 5.0 wire format and no more.
"""
import select
import socket
import struct
import time

V311 = 4
V5 = 5

# Packet types (upper nibble of the first byte).
CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT, AUTH = \
    8, 9, 10, 11, 12, 13, 14, 15

# MQTT 5.0 property identifiers (MQTT 5.0 2.2.2.2) and their wire types.
PAYLOAD_FORMAT_INDICATOR = 0x01
MESSAGE_EXPIRY_INTERVAL = 0x02
CONTENT_TYPE = 0x03
RESPONSE_TOPIC = 0x08
CORRELATION_DATA = 0x09
SUBSCRIPTION_IDENTIFIER = 0x0B
SESSION_EXPIRY_INTERVAL = 0x11
ASSIGNED_CLIENT_IDENTIFIER = 0x12
SERVER_KEEP_ALIVE = 0x13
AUTHENTICATION_METHOD = 0x15
AUTHENTICATION_DATA = 0x16
REQUEST_PROBLEM_INFORMATION = 0x17
WILL_DELAY_INTERVAL = 0x18
REQUEST_RESPONSE_INFORMATION = 0x19
RESPONSE_INFORMATION = 0x1A
SERVER_REFERENCE = 0x1C
REASON_STRING = 0x1F
RECEIVE_MAXIMUM = 0x21
TOPIC_ALIAS_MAXIMUM = 0x22
TOPIC_ALIAS = 0x23
MAXIMUM_QOS = 0x24
RETAIN_AVAILABLE = 0x25
USER_PROPERTY = 0x26
MAXIMUM_PACKET_SIZE = 0x27
WILDCARD_SUBSCRIPTION_AVAILABLE = 0x28
SUBSCRIPTION_IDENTIFIER_AVAILABLE = 0x29
SHARED_SUBSCRIPTION_AVAILABLE = 0x2A

_BYTE, _U16, _U32, _VARINT, _UTF8, _BINARY, _PAIR = range(7)
PROPERTY_TYPES = {
    0x01: _BYTE, 0x02: _U32, 0x03: _UTF8, 0x08: _UTF8, 0x09: _BINARY, 0x0B: _VARINT,
    0x11: _U32, 0x12: _UTF8, 0x13: _U16, 0x15: _UTF8, 0x16: _BINARY, 0x17: _BYTE,
    0x18: _U32, 0x19: _BYTE, 0x1A: _UTF8, 0x1C: _UTF8, 0x1F: _UTF8, 0x21: _U16,
    0x22: _U16, 0x23: _U16, 0x24: _BYTE, 0x25: _BYTE, 0x26: _PAIR, 0x27: _U32,
    0x28: _BYTE, 0x29: _BYTE, 0x2A: _BYTE,
}


# --- primitive encodings (MQTT 5.0 1.5 / 3.1.1 1.5) -------------------------------

def varint(n):
    """Variable Byte Integer: 7 bits a byte, least significant first."""
    assert 0 <= n <= 268435455
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def decode_varint(data, offset=0):
    """Returns (value, offset after it)."""
    value, shift = 0, 0
    for i in range(4):
        byte = data[offset + i]
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, offset + i + 1
    raise ValueError("Variable Byte Integer longer than 4 bytes")


def u16(n):
    return struct.pack(">H", n)


def u32(n):
    return struct.pack(">I", n)


def string(s):
    """UTF-8 Encoded String; `bytes` are sent as they are (for invalid UTF-8)."""
    raw = s.encode("utf-8") if isinstance(s, str) else bytes(s)
    return u16(len(raw)) + raw


binary = string


def properties(props=()):
    """A property block: length, then each (identifier, value) in the order given.

    Values: int for numeric types, str/bytes for strings and binary data, a
    (name, value) pair for User Property."""
    body = bytearray()
    for ident, value in props:
        kind = PROPERTY_TYPES[ident]
        body += varint(ident)
        if kind == _BYTE:
            body.append(value)
        elif kind == _U16:
            body += u16(value)
        elif kind == _U32:
            body += u32(value)
        elif kind == _VARINT:
            body += varint(value)
        elif kind in (_UTF8, _BINARY):
            body += string(value)
        else:
            body += string(value[0]) + string(value[1])
    return varint(len(body)) + bytes(body)


def decode_properties(data, offset=0):
    """Returns ([(identifier, value), ...] in wire order, offset after the block).

    Strings come back as str, binary data as bytes, User Property as (str, str)."""
    length, offset = decode_varint(data, offset)
    end = offset + length
    out = []
    while offset < end:
        ident, offset = decode_varint(data, offset)
        kind = PROPERTY_TYPES[ident]
        if kind == _BYTE:
            value, offset = data[offset], offset + 1
        elif kind == _U16:
            value, offset = struct.unpack_from(">H", data, offset)[0], offset + 2
        elif kind == _U32:
            value, offset = struct.unpack_from(">I", data, offset)[0], offset + 4
        elif kind == _VARINT:
            value, offset = decode_varint(data, offset)
        else:
            parts = []
            for _ in range(2 if kind == _PAIR else 1):
                n = struct.unpack_from(">H", data, offset)[0]
                raw = bytes(data[offset + 2:offset + 2 + n])
                parts.append(raw if kind == _BINARY else raw.decode("utf-8"))
                offset += 2 + n
            value = tuple(parts) if kind == _PAIR else parts[0]
        out.append((ident, value))
    if offset != end:
        raise ValueError("property block overruns its length")
    return out, end


def packet(first_byte, body=b""):
    """Fixed header (type and flags byte, Remaining Length) + body."""
    return bytes([first_byte]) + varint(len(body)) + bytes(body)


# --- packet builders ----------------------------------------------------------

def connect(client_id, version=V311, clean=True, keep_alive=60, props=None, will=None,
            username=None, password=None, protocol_name="MQTT"):
    """CONNECT. `will` is a dict: topic, payload, qos=0, retain=False, props=()
    (MQTT 5 Will Properties). `props` defaults to an empty block in MQTT 5."""
    flags = 0x02 if clean else 0
    if will is not None:
        flags |= 0x04 | (will.get("qos", 0) << 3) | (0x20 if will.get("retain") else 0)
    if password is not None:
        flags |= 0x40
    if username is not None:
        flags |= 0x80
    body = string(protocol_name) + bytes([version, flags]) + u16(keep_alive)
    if version == V5:
        body += properties(props or ())
    body += string(client_id)
    if will is not None:
        if version == V5:
            body += properties(will.get("props", ()))
        body += string(will["topic"]) + binary(will["payload"])
    if username is not None:
        body += string(username)
    if password is not None:
        body += binary(password)
    return packet(0x10, body)


def publish(topic, payload=b"", qos=0, retain=False, dup=False, packet_id=None, props=None,
            version=V311):
    first = 0x30 | (0x08 if dup else 0) | (qos << 1) | (0x01 if retain else 0)
    body = string(topic)
    if qos > 0:
        body += u16(packet_id)
    if version == V5:
        body += properties(props or ())
    payload = payload.encode() if isinstance(payload, str) else payload
    return packet(first, body + payload)


def ack(kind, packet_id, reason=None, props=None):
    """PUBACK / PUBREC / PUBREL / PUBCOMP. Without a reason: the 2-byte form
    (3.1.1, or MQTT 5 Success without properties [MQTT-3.4.2-1] 3.4.2.1)."""
    first = (kind << 4) | (0x02 if kind == PUBREL else 0)
    body = u16(packet_id)
    if reason is not None or props:
        body += bytes([reason or 0])
        if props:
            body += properties(props)
    return packet(first, body)


def puback(packet_id, reason=None):
    return ack(PUBACK, packet_id, reason)


def pubrec(packet_id, reason=None):
    return ack(PUBREC, packet_id, reason)


def pubrel(packet_id, reason=None):
    return ack(PUBREL, packet_id, reason)


def pubcomp(packet_id, reason=None):
    return ack(PUBCOMP, packet_id, reason)


def subscribe(packet_id, filters, version=V311, props=None):
    """`filters`: [(filter, options byte)] or [filter] (options 0)."""
    body = u16(packet_id)
    if version == V5:
        body += properties(props or ())
    for entry in filters:
        name, options = entry if isinstance(entry, tuple) else (entry, 0)
        body += string(name) + bytes([options])
    return packet(0x82, body)


def unsubscribe(packet_id, filters, version=V311, props=None):
    body = u16(packet_id)
    if version == V5:
        body += properties(props or ())
    for name in filters:
        body += string(name)
    return packet(0xA2, body)


def pingreq():
    return bytes([0xC0, 0x00])


def disconnect(reason=None, props=None):
    """DISCONNECT; no reason: the 2-byte form (3.1.1, or MQTT 5 Normal disconnection)."""
    if reason is None and not props:
        return bytes([0xE0, 0x00])
    body = bytes([reason or 0])
    if props:
        body += properties(props)
    return packet(0xE0, body)


# --- reading ------------------------------------------------------------------

class Closed(Exception):
    """The peer closed the connection (or reset it) before a whole packet arrived."""


def _recv_exact(sock, n, deadline, partial):
    data = bytearray()
    while len(data) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out; partial packet: %s"
                               % (bytes(partial + data).hex(" ") or "none"))
        ready, _, _ = select.select([sock], [], [], left)
        if not ready:
            continue
        try:
            chunk = sock.recv(n - len(data))
        except (ConnectionResetError, ConnectionAbortedError):
            chunk = b""
        if not chunk:
            raise Closed("connection closed; partial packet: %s"
                         % (bytes(partial + data).hex(" ") or "none"))
        data += chunk
    return bytes(data)


def read_packet(sock, timeout=10.0):
    """Reads exactly one packet and returns all of its bytes.

    Raises TimeoutError when none arrives within `timeout` s, Closed on EOF."""
    deadline = time.monotonic() + timeout
    header = bytearray(_recv_exact(sock, 1, deadline, b""))
    while True:
        byte = _recv_exact(sock, 1, deadline, header)
        header += byte
        if not byte[0] & 0x80:
            break
        if len(header) > 5:
            raise ValueError("malformed Remaining Length from the peer: %s" % header.hex(" "))
    length, _ = decode_varint(header, 1)
    return bytes(header) + _recv_exact(sock, length, deadline, header)


def read_packets(sock, n, timeout=10.0):
    return [read_packet(sock, timeout) for _ in range(n)]


def expect_no_packet(sock, wait=1.0):
    """Asserts nothing arrives within `wait` s (and the connection stays open)."""
    ready, _, _ = select.select([sock], [], [], wait)
    if ready:
        try:
            data = sock.recv(65536, socket.MSG_PEEK)
        except (ConnectionResetError, ConnectionAbortedError):
            data = b""
        assert data, "connection closed while it should have stayed open and quiet"
        raise AssertionError("unexpected bytes: %s" % data.hex(" "))


def expect_closed(sock, timeout=10.0):
    """Asserts the peer closes the connection within `timeout` s, sending nothing more."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("connection still open after %.1f s" % timeout)
        ready, _, _ = select.select([sock], [], [], left)
        if not ready:
            continue
        try:
            data = sock.recv(65536)
        except (ConnectionResetError, ConnectionAbortedError):
            return
        if not data:
            return
        raise AssertionError("bytes before close: %s" % data.hex(" "))


# --- decoding received packets ----------------------------------------------------

def packet_type(data):
    return data[0] >> 4


def body_of(data):
    """The bytes after the fixed header."""
    _, offset = decode_varint(data, 1)
    return data[offset:]


def parse_connack(data, version):
    """Returns (session_present, code, [(id, value)]) of a CONNACK."""
    assert packet_type(data) == CONNACK, data.hex(" ")
    body = body_of(data)
    props = []
    if version == V5:
        props, end = decode_properties(body, 2)
        assert end == len(body), data.hex(" ")
    return body[0], body[1], props


def parse_publish(data, version):
    """Returns a dict: dup, qos, retain, topic, packet_id, props, payload."""
    assert packet_type(data) == PUBLISH, data.hex(" ")
    first = data[0]
    body = body_of(data)
    n = struct.unpack_from(">H", body, 0)[0]
    topic = bytes(body[2:2 + n]).decode("utf-8")
    offset = 2 + n
    qos = (first >> 1) & 0x03
    packet_id = None
    if qos:
        packet_id = struct.unpack_from(">H", body, offset)[0]
        offset += 2
    props = []
    if version == V5:
        props, offset = decode_properties(body, offset)
    return {"dup": bool(first & 0x08), "qos": qos, "retain": bool(first & 0x01),
            "topic": topic, "packet_id": packet_id, "props": props,
            "payload": bytes(body[offset:])}


def prop_values(props, ident):
    """Every value of one property, in wire order."""
    return [value for i, value in props if i == ident]


def prop(props, ident):
    """The single value of a property (None when absent); fails when repeated."""
    values = prop_values(props, ident)
    assert len(values) <= 1, "property 0x%02x repeated: %r" % (ident, values)
    return values[0] if values else None


# --- small conveniences for tests ----------------------------------------------

def open_client(broker, client_id, version=V311, clean=True, keep_alive=60, props=None,
                will=None, expect_present=None, timeout=10.0):
    """Connects, asserts a successful CONNACK, returns (socket, CONNACK bytes)."""
    sock = broker.connect()
    sock.settimeout(timeout)
    sock.sendall(connect(client_id, version=version, clean=clean, keep_alive=keep_alive,
                         props=props, will=will))
    ack_bytes = read_packet(sock, timeout)
    present, code, _ = parse_connack(ack_bytes, version)
    assert code == 0, "CONNACK refused: %s" % ack_bytes.hex(" ")
    if expect_present is not None:
        assert present == (1 if expect_present else 0), ack_bytes.hex(" ")
    return sock, ack_bytes


def subscribe_ok(sock, packet_id, filters, version=V311, props=None, timeout=10.0):
    """Subscribes and returns the SUBACK's reason codes (the bytes are checked exactly
    by tests that care)."""
    sock.sendall(subscribe(packet_id, filters, version=version, props=props))
    data = read_packet(sock, timeout)
    assert packet_type(data) == SUBACK and data[0] == 0x90, data.hex(" ")
    body = body_of(data)
    assert struct.unpack_from(">H", body, 0)[0] == packet_id, data.hex(" ")
    offset = 2
    if version == V5:
        _, offset = decode_properties(body, offset)
    return list(body[offset:])


def unique(prefix):
    """A client id / topic part unique within this process and across runs."""
    unique.counter += 1
    return "%s-%d-%d" % (prefix, int(time.time() * 1000) % 100000000, unique.counter)


unique.counter = 0


def h(text):
    """bytes from hex text with spaces: h("20 02 00 00")."""
    return bytes.fromhex(text)
