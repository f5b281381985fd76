"""Helpers for integration tests that talk to cicada with python3-paho-mqtt (Debian's
1.6.1) and, where paho hides what is on the wire, with hand-built packets.

- `unique(prefix)`: a client id or topic level no other test, or concurrent run, uses.
- `PahoClient`: a paho client on its own network thread that records CONNACKs,
  SUBACKs, messages and disconnections and waits for them.
- `RawClient` and the `*_packet` encoders: a minimal MQTT 3.1.1 / 5.0 client for
  byte-level assertions (reason codes paho 1.6.1 drops, sockets that never read).

Timeouts are generous because the broker under test is often a Debug + ASan build on
two shared cores. No helper asserts on timing (STYLE.md 12).
"""
import itertools
import os
import socket
import struct
import threading
import time
import uuid

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCodes
from paho.mqtt.subscribeoptions import SubscribeOptions

V311 = mqtt.MQTTv311
V5 = mqtt.MQTTv5
TIMEOUT = 30.0  # seconds to wait for anything the broker owes us
QUIET = 1.0  # seconds of silence taken as "nothing more is coming"

_counter = itertools.count()


def unique(prefix):
    """A name unique to this process and call, usable as client id and topic level."""
    return "%s-%d-%d-%s" % (prefix, os.getpid(), next(_counter), uuid.uuid4().hex[:6])


def wait_until(predicate, timeout=TIMEOUT, interval=0.02):
    """Polls `predicate` until it is true; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def properties(packet_type, **values):
    """paho Properties for `packet_type` (e.g. PacketTypes.PUBLISH) from keyword
    arguments named as paho names them: properties(PacketTypes.CONNECT,
    SessionExpiryInterval=60). A list value of UserProperty is kept in order."""
    props = Properties(packet_type)
    for name, value in values.items():
        setattr(props, name, value)
    return props


class PahoClient:
    """A paho MQTT client connected to 127.0.0.1:`port` with its network loop running.

    Everything the broker sends is recorded under a lock: `connacks` (dicts with
    session_present, rc, properties), `messages` (paho MQTTMessage), `disconnects`
    (dicts with rc, properties). paho's automatic reconnection is off, so a broker
    that closes the connection sees no unasked-for second connection.
    """

    def __init__(self, port, version=V5, client_id=None, clean=True, session_expiry=None,
                 connect_properties=None, will=None, keepalive=60, connect=True,
                 transport="tcp", ws_path="/mqtt"):
        self.port = port
        self.version = version
        self.client_id = unique("paho") if client_id is None else client_id
        self.clean = clean
        self.keepalive = keepalive
        self.connect_properties = connect_properties
        if session_expiry is not None:
            if self.connect_properties is None:
                self.connect_properties = Properties(PacketTypes.CONNECT)
            self.connect_properties.SessionExpiryInterval = session_expiry

        self.connacks = []
        self.messages = []
        self.disconnects = []
        self._subacks = {}
        self._unsubacks = {}
        self._published = set()
        self._cond = threading.Condition()
        self._loop_started = False

        if version == V5:
            self.client = mqtt.Client(client_id=self.client_id, protocol=V5,
                                      reconnect_on_failure=False, transport=transport)
        else:
            self.client = mqtt.Client(client_id=self.client_id, clean_session=clean,
                                      protocol=version, reconnect_on_failure=False,
                                      transport=transport)
        if transport == "websockets":
            self.client.ws_set_options(path=ws_path)
        if will is not None:
            self.client.will_set(**will)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.on_unsubscribe = self._on_unsubscribe
        self.client.on_publish = self._on_publish
        self.client.on_disconnect = self._on_disconnect
        if connect:
            self.connect()

    # --- paho callbacks (network thread) ---------------------------------------------

    def _on_connect(self, client, userdata, flags, rc, props=None):
        with self._cond:
            self.connacks.append({"session_present": bool(flags.get("session present")),
                                  "rc": rc, "properties": props})
            self._cond.notify_all()

    def _on_message(self, client, userdata, message):
        with self._cond:
            self.messages.append(message)
            self._cond.notify_all()

    def _on_subscribe(self, client, userdata, mid, granted, props=None):
        with self._cond:
            # v3.1.1: granted QoS ints (128 = failure); v5: ReasonCodes.
            self._subacks[mid] = [getattr(code, "value", code) for code in granted]
            self._cond.notify_all()

    def _on_unsubscribe(self, client, userdata, mid, props=None, codes=None):
        # v3.1.1: no reason codes; v5: one ReasonCodes, or a list of them for several.
        if codes is None:
            codes = []
        elif not isinstance(codes, list):
            codes = [codes]
        with self._cond:
            self._unsubacks[mid] = [code.value for code in codes]
            self._cond.notify_all()

    def _on_publish(self, client, userdata, mid):
        with self._cond:
            self._published.add(mid)
            self._cond.notify_all()

    def _on_disconnect(self, client, userdata, rc, props=None):
        with self._cond:
            self.disconnects.append({"rc": getattr(rc, "value", rc), "properties": props})
            self._cond.notify_all()

    # --- waiting ---------------------------------------------------------------------

    def wait_for(self, predicate, timeout=TIMEOUT):
        """Waits, under the lock, until predicate() is true; returns its value."""
        with self._cond:
            return self._cond.wait_for(predicate, timeout)

    def wait_messages(self, count, timeout=TIMEOUT):
        """Waits for at least `count` messages in total; returns them all (a copy)."""
        self.wait_for(lambda: len(self.messages) >= count, timeout)
        with self._cond:
            return list(self.messages)

    def quiet_messages(self, quiet=QUIET):
        """Waits until no message arrived for `quiet` seconds; returns them all."""
        seen = -1
        while True:
            with self._cond:
                if len(self.messages) == seen:
                    return list(self.messages)
                seen = len(self.messages)
            time.sleep(quiet)

    def take_messages(self):
        with self._cond:
            out, self.messages = self.messages, []
            return out

    def wait_disconnected(self, timeout=TIMEOUT):
        """Waits for paho to report the connection closed; returns that record."""
        self.wait_for(lambda: self.disconnects, timeout)
        with self._cond:
            return self.disconnects[0] if self.disconnects else None

    # --- actions ---------------------------------------------------------------------

    def connect(self, timeout=TIMEOUT):
        """Connects and waits for CONNACK; returns the CONNACK record."""
        before = len(self.connacks)
        if self.version == V5:
            self.client.connect("127.0.0.1", self.port, self.keepalive, clean_start=self.clean,
                                properties=self.connect_properties)
        else:
            self.client.connect("127.0.0.1", self.port, self.keepalive)
        if not self._loop_started:
            self.client.loop_start()
            self._loop_started = True
        assert self.wait_for(lambda: len(self.connacks) > before, timeout), \
            "no CONNACK for %s" % self.client_id
        connack = self.connacks[-1]
        assert getattr(connack["rc"], "value", connack["rc"]) == 0, \
            "CONNACK refused %s: %s" % (self.client_id, connack)
        return connack

    def subscribe(self, topic, qos=0, options=None, props=None, timeout=TIMEOUT):
        """Subscribes to one filter (or a list of (filter, qos-or-SubscribeOptions))
        and waits for SUBACK; returns its reason codes / granted QoS as ints."""
        if isinstance(topic, list):
            rc, mid = self.client.subscribe(topic, properties=props)
        elif options is not None:
            rc, mid = self.client.subscribe(topic, options=options, properties=props)
        else:
            rc, mid = self.client.subscribe(topic, qos, properties=props)
        assert rc == mqtt.MQTT_ERR_SUCCESS, "subscribe failed locally: %s" % rc
        assert self.wait_for(lambda: mid in self._subacks, timeout), "no SUBACK for %s" % topic
        with self._cond:
            return self._subacks.pop(mid)

    def unsubscribe(self, topic, timeout=TIMEOUT):
        """Unsubscribes and waits for UNSUBACK; returns its reason codes as ints
        (an empty list in MQTT 3.1.1)."""
        rc, mid = self.client.unsubscribe(topic)
        assert rc == mqtt.MQTT_ERR_SUCCESS
        assert self.wait_for(lambda: mid in self._unsubacks, timeout), "no UNSUBACK"
        with self._cond:
            return self._unsubacks.pop(mid)

    def publish(self, topic, payload=b"", qos=0, retain=False, props=None, wait=True,
                timeout=TIMEOUT):
        """Publishes; with `wait`, waits until paho has finished the QoS exchange
        (sent for QoS 0, PUBACK for 1, PUBCOMP for 2). Returns the message id."""
        info = self.client.publish(topic, payload, qos=qos, retain=retain, properties=props)
        assert info.rc == mqtt.MQTT_ERR_SUCCESS, "publish failed locally: %s" % info.rc
        if wait:
            assert self.wait_for(lambda: info.mid in self._published, timeout), \
                "publish of %s (mid %d, QoS %d) not completed" % (topic, info.mid, qos)
        return info.mid

    def wait_published(self, mids, timeout=TIMEOUT):
        """Waits until every id in `mids` has completed its QoS exchange."""
        mids = set(mids)
        return self.wait_for(lambda: mids <= self._published, timeout)

    def disconnect(self, reason=None, props=None, timeout=TIMEOUT):
        """Sends DISCONNECT (MQTT 5: with `reason`, a name such as "Disconnect with
        will message" or None for 0x00) and stops the network loop."""
        code = ReasonCodes(PacketTypes.DISCONNECT, reason) if reason is not None else None
        self.client.disconnect(reasoncode=code, properties=props)
        self.wait_disconnected(timeout)
        self.client.loop_stop()

    def drop(self, timeout=TIMEOUT):
        """Ends the TCP connection without DISCONNECT, as a crashed client would: the
        broker must treat it as an abnormal disconnection and publish the Will.
        shutdown() rather than close(), so paho's loop sees EOF on a valid descriptor."""
        sock = self.client.socket()
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.wait_disconnected(timeout)
        self.client.loop_stop()

    def close(self):
        """Best-effort cleanup for fixtures and finally blocks."""
        try:
            if not self.disconnects and self.client.is_connected():
                self.client.disconnect()
                self.wait_disconnected(5)
        except Exception:  # noqa: BLE001 - cleanup must not mask the test's outcome
            pass
        self.client.loop_stop()


# --- hand-built packets ----------------------------------------------------------------

CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT = 8, 9, 10, 11, 12, 13, 14


def vbi(n):
    """MQTT Variable Byte Integer."""
    out = bytearray()
    while True:
        digit, n = n % 128, n // 128
        out.append(digit | (0x80 if n else 0))
        if not n:
            return bytes(out)


def utf8(text):
    data = text.encode() if isinstance(text, str) else text
    return struct.pack("!H", len(data)) + data


def packet(first_byte, body):
    return bytes([first_byte]) + vbi(len(body)) + body


def props(*encoded):
    """An MQTT 5 property block from already-encoded properties (id byte + value)."""
    body = b"".join(encoded)
    return vbi(len(body)) + body


def prop_u32(identifier, value):
    return bytes([identifier]) + struct.pack("!I", value)


def connect_packet(client_id, version=4, clean=True, keepalive=60, properties=b"\x00",
                   will=None):
    """CONNECT. `will`: dict with topic, payload, qos, retain and (v5) properties."""
    flags = 0x02 if clean else 0
    payload = utf8(client_id)
    if will is not None:
        flags |= 0x04 | (will.get("qos", 0) << 3) | (0x20 if will.get("retain") else 0)
        if version == 5:
            payload += will.get("properties", b"\x00")
        payload += utf8(will["topic"]) + utf8(will.get("payload", b""))
    body = utf8("MQTT") + bytes([version, flags]) + struct.pack("!H", keepalive)
    if version == 5:
        body += properties
    return packet(0x10, body + payload)


def subscribe_packet(packet_id, filters, version=4, properties=b"\x00"):
    """SUBSCRIBE of [(filter, options byte)]."""
    body = struct.pack("!H", packet_id)
    if version == 5:
        body += properties
    for topic_filter, options in filters:
        body += utf8(topic_filter) + bytes([options])
    return packet(0x82, body)


def publish_packet(topic, payload=b"", qos=0, retain=False, packet_id=1, version=4,
                   properties=b"\x00"):
    body = utf8(topic)
    if qos:
        body += struct.pack("!H", packet_id)
    if version == 5:
        body += properties
    return packet(0x30 | (qos << 1) | (1 if retain else 0), body + payload)


def disconnect_packet(reason=None):
    return packet(0xE0, b"" if reason is None else bytes([reason]))


def ack_packet(packet_type, packet_id):
    """PUBACK, PUBREC, PUBREL or PUBCOMP with Reason Code 0 (the short form)."""
    return packet((packet_type << 4) | (0x02 if packet_type == PUBREL else 0),
                  struct.pack("!H", packet_id))


def parse_publish(flags, body, version=4):
    """A received PUBLISH as a dict: topic, qos, dup, retain, packet_id, properties
    (the raw property bytes, MQTT 5) and payload."""
    qos = (flags >> 1) & 0x03
    (length,) = struct.unpack("!H", body[:2])
    pos = 2 + length
    out = {"topic": body[2:pos].decode(), "qos": qos, "dup": bool(flags & 0x08),
           "retain": bool(flags & 0x01), "packet_id": None, "properties": b""}
    if qos:
        (out["packet_id"],) = struct.unpack("!H", body[pos:pos + 2])
        pos += 2
    if version == 5:
        prop_length, multiplier = 0, 1
        while True:
            digit = body[pos]
            pos += 1
            prop_length += (digit & 0x7F) * multiplier
            multiplier *= 128
            if not digit & 0x80:
                break
        out["properties"] = body[pos:pos + prop_length]
        pos += prop_length
    out["payload"] = body[pos:]
    return out


class RawClient:
    """A TCP connection speaking hand-built MQTT. `recv_buffer` shrinks SO_RCVBUF
    before connecting, so a client that stops reading is felt by the broker sooner."""

    def __init__(self, port, timeout=TIMEOUT, recv_buffer=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if recv_buffer is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, recv_buffer)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        self.timeout = timeout
        self._buffer = b""

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self, size):
        while len(self._buffer) < size:
            chunk = self.sock.recv(65536)
            if not chunk:
                return False
            self._buffer += chunk
        return True

    def read_packet(self, timeout=None):
        """The next packet as (type, flags, body); None when the broker closed the
        connection. Raises socket.timeout when nothing complete arrives in time."""
        self.sock.settimeout(self.timeout if timeout is None else timeout)
        try:
            if not self._fill(2):
                return None
            length, multiplier, pos = 0, 1, 1
            while True:
                if not self._fill(pos + 1):
                    return None
                digit = self._buffer[pos]
                length += (digit & 0x7F) * multiplier
                multiplier *= 128
                pos += 1
                if not digit & 0x80:
                    break
            if not self._fill(pos + length):
                return None
        except ConnectionResetError:
            return None
        first = self._buffer[0]
        body = self._buffer[pos:pos + length]
        self._buffer = self._buffer[pos + length:]
        return first >> 4, first & 0x0F, body

    def expect(self, packet_type, timeout=None):
        """Reads one packet, asserts its type and returns its body."""
        got = self.read_packet(timeout)
        assert got is not None, "connection closed while waiting for packet type %d" % packet_type
        assert got[0] == packet_type, "expected packet type %d, got %r" % (packet_type, got)
        return got[2]

    def connect(self, client_id, version=4, **kwargs):
        """Sends CONNECT and returns the CONNACK body."""
        self.send(connect_packet(client_id, version=version, **kwargs))
        return self.expect(CONNACK)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


__all__ = [
    "V311", "V5", "TIMEOUT", "QUIET", "unique", "wait_until", "properties", "PahoClient",
    "RawClient", "PacketTypes", "Properties", "ReasonCodes", "SubscribeOptions", "vbi", "utf8",
    "packet", "props", "prop_u32", "connect_packet", "subscribe_packet", "publish_packet",
    "disconnect_packet", "ack_packet", "parse_publish", "CONNECT", "CONNACK", "PUBLISH",
    "PUBACK", "PUBREC", "PUBREL", "PUBCOMP", "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK",
    "PINGREQ", "PINGRESP", "DISCONNECT",
]
