"""Bad input ends only the offending client's connection: MQTT 5 clients get
DISCONNECT with the reason code first, 3.1.1 clients are closed; a client connected
at the same time keeps working. Byte-exact, against the real broker.

Statement ids are MQTT 5.0's unless marked (3.1.1)."""
import pytest

from mqtt_bytes import (
    PAYLOAD_FORMAT_INDICATOR, SESSION_EXPIRY_INTERVAL, SUBSCRIPTION_IDENTIFIER, V311, V5,
    expect_closed, h,
    open_client, packet, parse_publish, pingreq, properties, publish, puback, read_packet,
    string, subscribe, subscribe_ok, u16, unique, unsubscribe, varint)

MALFORMED = 0x81
PROTOCOL_ERROR = 0x82
TOPIC_NAME_INVALID = 0x90


def props_block(version):
    return b"\x00" if version == V5 else b""


def raw_publish(topic_bytes, version, first=0x30, packet_id=None, props=b"\x00",
                payload=b"p"):
    body = u16(len(topic_bytes)) + topic_bytes
    if packet_id is not None:
        body += u16(packet_id)
    if version == V5:
        body += props
    return packet(first, body + payload)


# Each case: id -> (builder(version) -> bytes, MQTT 5 reason codes allowed, statement).
# A single code where the specification names it; two where it leaves the choice
# between Malformed Packet and Protocol Error open.
CASES = {
    # [MQTT-2.1.3-1] (5.0) / [MQTT-2.2.2-2] (3.1.1): reserved flag bits that are not as
    # Table 2.2 lists are a Malformed Packet.
    "subscribe-flags-0000": (
        lambda v: bytes([0x80]) + subscribe(1, [("a/b", 0)], version=v)[1:],
        {MALFORMED}, "[MQTT-3.8.1-1]"),
    "unsubscribe-flags-0000": (
        lambda v: bytes([0xA0]) + unsubscribe(1, ["a/b"], version=v)[1:],
        {MALFORMED}, "[MQTT-3.10.1-1]"),
    "pubrel-flags-0000": (lambda v: h("60 02 00 01"), {MALFORMED}, "[MQTT-3.6.1-1]"),
    "pingreq-flags-0001": (lambda v: h("c1 00"), {MALFORMED}, "[MQTT-2.1.3-1]"),
    "puback-flags-0001": (lambda v: h("41 02 00 01"), {MALFORMED}, "[MQTT-2.1.3-1]"),
    "disconnect-flags-0001": (lambda v: h("e1 00"), {MALFORMED}, "[MQTT-2.1.3-1]"),
    "publish-qos-3": (lambda v: raw_publish(b"a/b", v, first=0x36, packet_id=1),
                      {MALFORMED}, "[MQTT-3.3.1-4]"),
    "reserved-packet-type-0": (lambda v: h("00 00"), {MALFORMED}, "2.1.2 type 0 Forbidden"),
    # [MQTT-3.8.3-5] (5.0) / [MQTT-3-8.3-4] (3.1.1): reserved bits of the Subscription
    # Options / Requested QoS byte; a QoS of 3.
    "subscribe-options-reserved-bits": (
        lambda v: subscribe(1, [("a/b", 0xC0 if v == V5 else 0x04)], version=v),
        {MALFORMED}, "[MQTT-3.8.3-5]"),
    "subscribe-qos-3": (lambda v: subscribe(1, [("a/b", 3)], version=v),
                        {MALFORMED, PROTOCOL_ERROR}, "[MQTT-3.8.3-5]"),
    # 1.5.5: at most four bytes of Remaining Length.
    "remaining-length-5-bytes": (lambda v: h("30 ff ff ff ff 01"), {MALFORMED},
                                 "1.5.5 Variable Byte Integer"),
    # The Remaining Length ends inside the topic name.
    "remaining-length-too-short": (lambda v: h("30 03 00 05 61"), {MALFORMED},
                                   "2.1.4 Remaining Length"),
    # [MQTT-1.5.4-1] (5.0) / [MQTT-1.5.3-1] (3.1.1): ill-formed UTF-8 -> Malformed Packet.
    "topic-invalid-utf8": (lambda v: raw_publish(b"a/\xff", v), {MALFORMED},
                           "[MQTT-1.5.4-1]"),
    "topic-utf16-surrogate": (lambda v: raw_publish(b"a/\xed\xa0\x80", v), {MALFORMED},
                              "[MQTT-1.5.4-1]"),
    # [MQTT-1.5.4-2] (5.0) / [MQTT-1.5.3-2] (3.1.1): U+0000.
    "topic-null-character": (lambda v: raw_publish(b"a/\x00", v), {MALFORMED},
                             "[MQTT-1.5.4-2]"),
    "filter-invalid-utf8": (
        lambda v: packet(0x82, u16(1) + props_block(v) + string(b"a/\xc3") + b"\x00"),
        {MALFORMED}, "[MQTT-1.5.4-1]"),
    # [MQTT-3.3.2-2] (both) no wildcards in a Topic Name: 0x90 Topic Name invalid.
    "publish-wildcard-plus": (lambda v: raw_publish(b"a/+/b", v), {TOPIC_NAME_INVALID},
                              "[MQTT-3.3.2-2]"),
    "publish-wildcard-hash": (lambda v: raw_publish(b"a/#", v, first=0x32, packet_id=1),
                              {TOPIC_NAME_INVALID}, "[MQTT-3.3.2-2]"),
    # [MQTT-3.8.3-2] (5.0) / [MQTT-3.8.3-3] (3.1.1): a SUBSCRIBE with no filters is a
    # Protocol Error; [MQTT-3.10.3-2] (both) the same for UNSUBSCRIBE.
    "subscribe-no-filters": (lambda v: packet(0x82, u16(1) + props_block(v)),
                             {PROTOCOL_ERROR}, "[MQTT-3.8.3-2]"),
    "unsubscribe-no-filters": (lambda v: packet(0xA2, u16(1) + props_block(v)),
                               {PROTOCOL_ERROR}, "[MQTT-3.10.3-2]"),
    # [MQTT-2.2.1-3] (5.0) / [MQTT-2.3.1-1] (3.1.1): packet id 0 is never valid.
    "publish-qos1-packet-id-0": (lambda v: raw_publish(b"a/b", v, first=0x32, packet_id=0),
                                 {MALFORMED, PROTOCOL_ERROR}, "[MQTT-2.2.1-3]"),
    "publish-qos2-packet-id-0": (lambda v: raw_publish(b"a/b", v, first=0x34, packet_id=0),
                                 {MALFORMED, PROTOCOL_ERROR}, "[MQTT-2.2.1-3]"),
    "subscribe-packet-id-0": (lambda v: subscribe(0, [("a/b", 0)], version=v),
                              {MALFORMED, PROTOCOL_ERROR}, "[MQTT-2.2.1-3]"),
    "unsubscribe-packet-id-0": (lambda v: unsubscribe(0, ["a/b"], version=v),
                                {MALFORMED, PROTOCOL_ERROR}, "[MQTT-2.2.1-3]"),
    # MQTT 5.0 3.3.2.1: an empty Topic Name without Topic Alias is a Protocol Error;
    # (3.1.1) [MQTT-4.7.3-1] a Topic Name is at least one character.
    "publish-empty-topic": (lambda v: raw_publish(b"", v), {PROTOCOL_ERROR},
                            "[MQTT-4.7.3-1]"),
    # [MQTT-3.2.0-2] / 2.1.2: CONNACK only travels from server to client.
    "connack-from-client": (lambda v: h("20 02 00 00") if v == V311 else h("20 03 00 00 00"),
                            {PROTOCOL_ERROR, MALFORMED}, "2.1.2 direction"),
}

# MQTT 5 only: properties and AUTH.
CASES_V5 = {
    # 2.2.2.2: an identifier not valid for the packet type is a Malformed Packet.
    "publish-property-not-for-publish": (
        lambda v: raw_publish(b"a/b", v, props=properties([(SESSION_EXPIRY_INTERVAL, 5)])),
        {MALFORMED}, "2.2.2.2"),
    # 3.3.2.3.2: the Payload Format Indicator more than once is a Protocol Error.
    "publish-property-twice": (
        lambda v: raw_publish(b"a/b", v, props=properties([(PAYLOAD_FORMAT_INDICATOR, 0),
                                                           (PAYLOAD_FORMAT_INDICATOR, 0)])),
        {PROTOCOL_ERROR}, "3.3.2.3.2"),
    # Property length running past the Remaining Length.
    "publish-property-length-overrun": (
        lambda v: raw_publish(b"a/b", v, props=varint(50), payload=b""),
        {MALFORMED}, "2.2.2.1"),
    # 3.8.3.1: Retain Handling 3 is a Protocol Error.
    "subscribe-retain-handling-3": (lambda v: subscribe(1, [("a/b", 0x30)], version=v),
                                    {PROTOCOL_ERROR}, "3.8.3.1"),
    # [MQTT-3.8.3-4]: No Local on a Shared Subscription is a Protocol Error.
    "subscribe-no-local-shared": (lambda v: subscribe(1, [("$share/g/a", 0x04)], version=v),
                                  {PROTOCOL_ERROR}, "[MQTT-3.8.3-4]"),
    # 3.8.2.1.2: a Subscription Identifier of 0, or more than one, is a Protocol Error.
    "subscribe-identifier-0": (
        lambda v: subscribe(1, [("a/b", 0)], version=v, props=[(SUBSCRIPTION_IDENTIFIER, 0)]),
        {PROTOCOL_ERROR}, "3.8.2.1.2"),
    "subscribe-identifier-twice": (
        lambda v: subscribe(1, [("a/b", 0)], version=v,
                            props=[(SUBSCRIPTION_IDENTIFIER, 1), (SUBSCRIPTION_IDENTIFIER, 2)]),
        {PROTOCOL_ERROR}, "3.8.2.1.2"),
    # 4.12: AUTH when CONNECT named no Authentication Method is a Protocol Error.
    "auth-without-method": (lambda v: h("f0 00"), {PROTOCOL_ERROR}, "4.12"),
}


@pytest.fixture
def bystanders(broker):
    """A subscriber and a publisher that stay connected while another client misbehaves."""
    topic = unique("bystander") + "/t"
    sub, _ = open_client(broker, unique("bs"), version=V5)
    subscribe_ok(sub, 1, [(topic, 1)], version=V5)
    pub, _ = open_client(broker, unique("bp"), version=V311)
    return topic, sub, pub


def check_bystanders_still_work(bystanders, n):
    topic, sub, pub = bystanders
    payload = b"after %d" % n
    pub.sendall(publish(topic, payload, qos=1, packet_id=n))
    assert read_packet(pub) == h("40 02") + n.to_bytes(2, "big")
    data = read_packet(sub)
    pid = parse_publish(data, V5)["packet_id"]
    assert data == publish(topic, payload, qos=1, packet_id=pid, version=V5)
    sub.sendall(puback(pid))


def run_case(broker, bystanders, version, build, codes, statement):
    bad, _ = open_client(broker, unique("bad"), version=version)
    bad.sendall(build(version))
    if version == V5:
        data = read_packet(bad)
        # [MQTT-4.13.1-1] / 4.13: the server SHOULD send DISCONNECT with the reason code,
        # then MUST close; the issue requires the DISCONNECT, here without properties.
        assert data in [bytes([0xE0, 0x01, code]) for code in codes], \
            "%s: got %s, want e0 01 and one of %s" % (
                statement, data.hex(" "), sorted(hex(c) for c in codes))
    # (3.1.1) [MQTT-4.8.0-1] a protocol violation closes the connection (no DISCONNECT
    # from a 3.1.1 server).
    expect_closed(bad)
    # Only that connection ends: others keep publishing and receiving.
    check_bystanders_still_work(bystanders, 1)
    bystanders[2].sendall(pingreq())
    assert read_packet(bystanders[2]) == h("d0 00")


@pytest.mark.parametrize("version", [V311, V5], ids=["v311", "v5"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_ends_only_that_connection(broker, bystanders, version, case):
    build, codes, statement = CASES[case]
    run_case(broker, bystanders, version, build, codes, statement)


@pytest.mark.parametrize("case", sorted(CASES_V5))
def test_bad_input_ends_only_that_connection_v5(broker, bystanders, case):
    build, codes, statement = CASES_V5[case]
    run_case(broker, bystanders, V5, build, codes, statement)


@pytest.mark.parametrize("version", [V311, V5], ids=["v311", "v5"])
def test_bad_packet_after_good_ones_in_one_write(broker, bystanders, version):
    """A malformed packet pipelined behind valid ones: those before it take effect,
    then the connection ends."""
    topic = bystanders[0]
    bad, _ = open_client(broker, unique("bad"), version=version)
    bad.sendall(publish(topic, b"before", qos=1, packet_id=5, version=version)
                + h("c1 00"))
    # [MQTT-4.3.2-4] the valid QoS 1 PUBLISH is acknowledged first ...
    assert read_packet(bad) == h("40 02 00 05")
    if version == V5:
        assert read_packet(bad) == h("e0 01 81")  # ... then [MQTT-2.1.3-1] 0x81
    expect_closed(bad)
    data = read_packet(bystanders[1])
    pid = parse_publish(data, V5)["packet_id"]
    assert data == publish(topic, b"before", qos=1, packet_id=pid, version=V5)
    bystanders[1].sendall(puback(pid))
    check_bystanders_still_work(bystanders, 2)
