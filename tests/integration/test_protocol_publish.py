"""Byte-exact PUBLISH tests against the real broker: QoS 0, 1 and 2 in both
directions, duplicates and re-delivery, QoS downgrade, Receive Maximum, Maximum Packet
Size, and the MQTT 5 properties (Message Expiry, Topic Alias, Payload Format
Indicator, User Properties ...), in MQTT 3.1.1 and 5.0.

Statement ids are MQTT 5.0's unless marked (3.1.1)."""
import time

import pytest

from mqtt_bytes import (
    CONTENT_TYPE, CORRELATION_DATA, MAXIMUM_PACKET_SIZE, MAXIMUM_QOS, MESSAGE_EXPIRY_INTERVAL,
    PAYLOAD_FORMAT_INDICATOR, PUBACK, RECEIVE_MAXIMUM, RESPONSE_TOPIC, RETAIN_AVAILABLE,
    SESSION_EXPIRY_INTERVAL, SUBSCRIPTION_IDENTIFIER, TOPIC_ALIAS, TOPIC_ALIAS_MAXIMUM,
    USER_PROPERTY, V311, V5, body_of, decode_properties, disconnect, expect_closed,
    expect_no_packet, h, open_client, packet_type, parse_connack, parse_publish, pingreq, prop,
    prop_values, puback, pubcomp, publish, pubrec, pubrel, read_packet, subscribe,
    subscribe_ok, unique)

VERSIONS = pytest.mark.parametrize("version", [V311, V5], ids=["v311", "v5"])


def pid_bytes(packet_id):
    return packet_id.to_bytes(2, "big")


def pair(broker, version, qos=2, sub_version=None, sub_props=None):
    """A subscriber on a fresh topic (granted `qos`) and a publisher."""
    topic = unique("pub") + "/t"
    sub_version = sub_version or version
    sub, _ = open_client(broker, unique("s"), version=sub_version, props=sub_props)
    assert subscribe_ok(sub, 1, [(topic, qos)], version=sub_version) == [qos]
    pub, _ = open_client(broker, unique("p"), version=version)
    return topic, sub, pub


# --- QoS 0 -----------------------------------------------------------------------------

@pytest.mark.parametrize("pub_version,sub_version", [(V311, V311), (V5, V5), (V5, V311),
                                                     (V311, V5)],
                         ids=["v311-v311", "v5-v5", "v5-v311", "v311-v5"])
def test_qos0_end_to_end(broker, pub_version, sub_version):
    topic, sub, pub = pair(broker, pub_version, qos=0, sub_version=sub_version)
    props = [(CONTENT_TYPE, "x")] if pub_version == V5 else None
    pub.sendall(publish(topic, b"hello", qos=0, props=props, version=pub_version))
    expected_props = props if sub_version == V5 else None
    # [MQTT-4.3.1-1] QoS 0, DUP 0, no packet id [MQTT-2.2.1-2]; each side in its own
    # protocol version's format (a 3.1.1 subscriber gets no property block).
    assert read_packet(sub) == publish(topic, b"hello", qos=0, props=expected_props,
                                       version=sub_version)
    pub.sendall(pingreq())
    assert read_packet(pub) == h("d0 00")  # QoS 0: no acknowledgement [MQTT-3.3.4-1]


# --- QoS 1 and 2 from the client ------------------------------------------------------

@VERSIONS
def test_qos1_publish_gets_puback(broker, version):
    topic, sub, pub = pair(broker, version)
    pub.sendall(publish(topic, b"one", qos=1, packet_id=0x1234, version=version))
    # [MQTT-4.3.2-4] (5.0) / [MQTT-4.3.2-2] (3.1.1) PUBACK with the PUBLISH's packet id
    # [MQTT-2.2.1-5]; the issue: exactly 40 02 id (5.0 3.4.2.1: Success, no properties).
    assert read_packet(pub) == h("40 02 12 34")
    data = read_packet(sub)
    pid = parse_publish(data, version)["packet_id"]
    assert data == publish(topic, b"one", qos=1, packet_id=pid, version=version)


@VERSIONS
def test_qos2_publish_pubrec_pubrel_pubcomp(broker, version):
    topic, sub, pub = pair(broker, version)
    pub.sendall(publish(topic, b"two", qos=2, packet_id=0x0102, version=version))
    # [MQTT-4.3.3-8] (5.0) / [MQTT-4.3.3-2] (3.1.1) PUBREC with the packet id.
    assert read_packet(pub) == h("50 02 01 02")
    pub.sendall(pubrel(0x0102))
    # [MQTT-4.3.3-11] (5.0) / [MQTT-4.3.3-2] (3.1.1) PUBCOMP with the PUBREL's packet id.
    assert read_packet(pub) == h("70 02 01 02")
    data = read_packet(sub)
    pid = parse_publish(data, version)["packet_id"]
    assert data == publish(topic, b"two", qos=2, packet_id=pid, version=version)
    sub.sendall(pubrec(pid))
    assert read_packet(sub) == h("62 02") + pid_bytes(pid)
    sub.sendall(pubcomp(pid))


@VERSIONS
def test_qos2_duplicate_publish_is_acknowledged_and_delivered_once(broker, version):
    topic, sub, pub = pair(broker, version, qos=0)
    pub.sendall(publish(topic, b"dup", qos=2, packet_id=7, version=version))
    assert read_packet(pub) == h("50 02 00 07")
    pub.sendall(publish(topic, b"dup", qos=2, packet_id=7, dup=True, version=version))
    # [MQTT-4.3.3-10] (5.0) / [MQTT-4.3.3-2] (3.1.1): until PUBREL, a PUBLISH with the same
    # packet id is answered with PUBREC again and not delivered again.
    assert read_packet(pub) == h("50 02 00 07")
    pub.sendall(pubrel(7))
    assert read_packet(pub) == h("70 02 00 07")
    assert read_packet(sub) == publish(topic, b"dup", qos=0, version=version)
    expect_no_packet(sub, 1.0)
    # [MQTT-4.3.3-12] (5.0): after PUBCOMP a PUBLISH with that id is a new message, and
    # is delivered.
    pub.sendall(publish(topic, b"new", qos=2, packet_id=7, version=version))
    assert read_packet(pub) == h("50 02 00 07")
    assert read_packet(sub) == publish(topic, b"new", qos=0, version=version)
    pub.sendall(pubrel(7))
    assert read_packet(pub) == h("70 02 00 07")


# --- QoS 1 and 2 from the broker -------------------------------------------------------

@VERSIONS
def test_outbound_qos1(broker, version):
    topic, sub, pub = pair(broker, version, qos=1)
    ids = []
    for payload in (b"a", b"b"):
        pub.sendall(publish(topic, payload, qos=1, packet_id=1, version=version))
        assert read_packet(pub) == h("40 02 00 01")
        data = read_packet(sub)
        pid = parse_publish(data, version)["packet_id"]
        # [MQTT-4.3.2-1] [MQTT-4.3.2-2] an unused non-zero packet id [MQTT-2.2.1-4],
        # QoS 1, DUP 0.
        assert pid != 0
        assert data == publish(topic, payload, qos=1, packet_id=pid, version=version)
        sub.sendall(puback(pid))
        ids.append(pid)
    sub.sendall(pingreq())
    assert read_packet(sub) == h("d0 00")


@VERSIONS
def test_outbound_qos2(broker, version):
    topic, sub, pub = pair(broker, version, qos=2)
    pub.sendall(publish(topic, b"q2", qos=2, packet_id=9, version=version))
    assert read_packet(pub) == h("50 02 00 09")
    data = read_packet(sub)
    pid = parse_publish(data, version)["packet_id"]
    # [MQTT-4.3.3-1] [MQTT-4.3.3-2] (5.0) / [MQTT-4.3.3-1] (3.1.1): a new packet id, QoS 2,
    # DUP 0.
    assert pid != 0
    assert data == publish(topic, b"q2", qos=2, packet_id=pid, version=version)
    sub.sendall(pubrec(pid))
    # [MQTT-4.3.3-4] (5.0) / [MQTT-4.3.3-1] (3.1.1) PUBREL with the same id; flags 0010
    # [MQTT-3.6.1-1].
    assert read_packet(sub) == h("62 02") + pid_bytes(pid)
    sub.sendall(pubcomp(pid))
    pub.sendall(pubrel(9))
    assert read_packet(pub) == h("70 02 00 09")
    sub.sendall(pingreq())
    assert read_packet(sub) == h("d0 00")


@VERSIONS
def test_unacknowledged_messages_are_resent_with_dup_on_resume(broker, version):
    cid, topic = unique("redeliver"), unique("redeliver") + "/t"
    props = [(SESSION_EXPIRY_INTERVAL, 60)] if version == V5 else None
    sub, _ = open_client(broker, cid, version=version, clean=False, props=props)
    subscribe_ok(sub, 1, [(topic, 2)], version=version)
    pub, _ = open_client(broker, unique("p"), version=version)
    pub.sendall(publish(topic, b"first", qos=1, packet_id=1, version=version))
    assert read_packet(pub) == h("40 02 00 01")
    pub.sendall(publish(topic, b"second", qos=2, packet_id=2, version=version))
    assert read_packet(pub) == h("50 02 00 02")
    pub.sendall(pubrel(2))
    assert read_packet(pub) == h("70 02 00 02")
    pub.sendall(publish(topic, b"third", qos=2, packet_id=3, version=version))
    assert read_packet(pub) == h("50 02 00 03")
    pub.sendall(pubrel(3))
    assert read_packet(pub) == h("70 02 00 03")

    first = parse_publish(read_packet(sub), version)
    second = parse_publish(read_packet(sub), version)
    third = parse_publish(read_packet(sub), version)
    assert [first["payload"], second["payload"], third["payload"]] == \
        [b"first", b"second", b"third"]
    # "third" gets PUBREC (so the broker owes a PUBREL); nothing else is acknowledged.
    sub.sendall(pubrec(third["packet_id"]))
    assert read_packet(sub) == h("62 02") + pid_bytes(third["packet_id"])
    sub.close()
    time.sleep(0.3)

    sub, ack = open_client(broker, cid, version=version, clean=False, props=props)
    assert parse_connack(ack, version)[0] == 1
    # [MQTT-4.4.0-1] (both): on resumption, unacknowledged PUBLISH packets are resent
    # with their original packet ids and DUP 1 [MQTT-3.3.1-1], and PUBREL packets are
    # resent, in their original order ([MQTT-4.6.0-5] (5.0) / [MQTT-4.6.0-6] (3.1.1)).
    assert read_packet(sub) == publish(topic, b"first", qos=1, dup=True,
                                       packet_id=first["packet_id"], version=version)
    assert read_packet(sub) == publish(topic, b"second", qos=2, dup=True,
                                       packet_id=second["packet_id"], version=version)
    assert read_packet(sub) == h("62 02") + pid_bytes(third["packet_id"])
    sub.sendall(puback(first["packet_id"]) + pubrec(second["packet_id"]))
    assert read_packet(sub) == h("62 02") + pid_bytes(second["packet_id"])
    sub.sendall(pubcomp(second["packet_id"]) + pubcomp(third["packet_id"]))
    sub.sendall(pingreq())
    assert read_packet(sub) == h("d0 00")


@VERSIONS
def test_resent_messages_come_before_queued_ones(broker, version):
    cid, topic = unique("order"), unique("order") + "/t"
    props = [(SESSION_EXPIRY_INTERVAL, 60)] if version == V5 else None
    sub, _ = open_client(broker, cid, version=version, clean=False, props=props)
    subscribe_ok(sub, 1, [(topic, 1)], version=version)
    pub, _ = open_client(broker, unique("p"), version=version)
    for i in (1, 2):
        pub.sendall(publish(topic, b"m%d" % i, qos=1, packet_id=i, version=version))
        assert read_packet(pub) == h("40 02 00") + bytes([i])
    sent = [parse_publish(read_packet(sub), version) for _ in range(2)]
    sub.close()  # m1 and m2 unacknowledged
    time.sleep(0.3)
    for i in (3, 4):
        pub.sendall(publish(topic, b"m%d" % i, qos=1, packet_id=i, version=version))
        assert read_packet(pub) == h("40 02 00") + bytes([i])
    sub, _ = open_client(broker, cid, version=version, clean=False, props=props)
    got = [read_packet(sub) for _ in range(4)]
    # [MQTT-4.4.0-1] the unacknowledged ones again, original ids, DUP 1 [MQTT-3.3.1-1];
    # then the queued ones, first transmissions with DUP 0 [MQTT-3.3.1-3]; in the order
    # published ([MQTT-4.6.0-5] (5.0) / [MQTT-4.6.0-6] (3.1.1)).
    for i in (0, 1):
        assert got[i] == publish(topic, sent[i]["payload"], qos=1, dup=True,
                                 packet_id=sent[i]["packet_id"], version=version)
    for i in (2, 3):
        pid = parse_publish(got[i], version)["packet_id"]
        assert pid not in (0, sent[0]["packet_id"], sent[1]["packet_id"])
        assert got[i] == publish(topic, b"m%d" % (i + 1), qos=1, packet_id=pid,
                                 version=version)
    for data in got:
        sub.sendall(puback(parse_publish(data, version)["packet_id"]))
    sub.sendall(pingreq())
    assert read_packet(sub) == h("d0 00")


def test_resent_messages_respect_a_smaller_receive_maximum_v5(broker):
    cid, topic = unique("rmr"), unique("rmr") + "/t"
    sub, _ = open_client(broker, cid, version=V5, clean=False,
                         props=[(SESSION_EXPIRY_INTERVAL, 60)])
    subscribe_ok(sub, 1, [(topic, 1)], version=V5)
    pub, _ = open_client(broker, unique("p"), version=V5)
    for i in (1, 2, 3):
        pub.sendall(publish(topic, b"m%d" % i, qos=1, packet_id=i, version=V5))
        assert read_packet(pub) == h("40 02 00") + bytes([i])
    sent = [parse_publish(read_packet(sub), V5) for _ in range(3)]
    sub.close()
    time.sleep(0.3)
    sub, _ = open_client(broker, cid, version=V5, clean=False,
                         props=[(SESSION_EXPIRY_INTERVAL, 60), (RECEIVE_MAXIMUM, 1)])
    for i in range(3):
        # [MQTT-3.3.4-9] the new connection's Receive Maximum (1) bounds the resends
        # too: one at a time, each after the previous PUBACK; [MQTT-4.4.0-1] DUP 1.
        assert read_packet(sub) == publish(topic, sent[i]["payload"], qos=1, dup=True,
                                           packet_id=sent[i]["packet_id"], version=V5)
        expect_no_packet(sub, 0.5)
        sub.sendall(puback(sent[i]["packet_id"]))
    sub.sendall(pingreq())
    assert read_packet(sub) == h("d0 00")


@pytest.mark.parametrize("sub_qos,pub_qos,want", [(0, 2, 0), (1, 2, 1), (0, 1, 0), (2, 0, 0),
                                                  (2, 1, 1)])
@VERSIONS
def test_qos_is_the_minimum_of_message_and_subscription(broker, version, sub_qos, pub_qos,
                                                        want):
    topic, sub, pub = pair(broker, version, qos=sub_qos)
    pub.sendall(publish(topic, b"q", qos=pub_qos, packet_id=1 if pub_qos else None,
                        version=version))
    if pub_qos:
        assert read_packet(pub)[0] in (0x40, 0x50)
    data = read_packet(sub)
    pid = parse_publish(data, version)["packet_id"]
    # [MQTT-3.8.4-8] (5.0) / [MQTT-3.8.4-6] (3.1.1): the QoS sent is the minimum of the
    # message's and the subscription's.
    assert data == publish(topic, b"q", qos=want, packet_id=pid, version=version)


@VERSIONS
def test_inbound_qos2_state_survives_reconnection(broker, version):
    topic, sub, _ = pair(broker, version, qos=0)
    cid = unique("q2s")
    props = [(SESSION_EXPIRY_INTERVAL, 60)] if version == V5 else None
    pub, _ = open_client(broker, cid, version=version, clean=False, props=props)
    pub.sendall(publish(topic, b"exactly once", qos=2, packet_id=5, version=version))
    assert read_packet(pub) == h("50 02 00 05")
    assert read_packet(sub) == publish(topic, b"exactly once", version=version)
    pub.close()  # as if the PUBREC was lost
    time.sleep(0.3)
    pub, ack = open_client(broker, cid, version=version, clean=False, props=props)
    assert parse_connack(ack, version)[0] == 1
    pub.sendall(publish(topic, b"exactly once", qos=2, packet_id=5, dup=True,
                        version=version))
    # Session state includes QoS 2 messages received and not completely acknowledged
    # (MQTT 5.0 4.1 / 3.1.1 4.1): the resent PUBLISH [MQTT-4.4.0-1] gets PUBREC again and
    # is not delivered twice ([MQTT-4.3.3-10] (5.0) / [MQTT-4.3.3-2] (3.1.1)).
    assert read_packet(pub) == h("50 02 00 05")
    pub.sendall(pubrel(5))
    assert read_packet(pub) == h("70 02 00 05")
    expect_no_packet(sub, 1.0)


@VERSIONS
def test_pubrel_for_an_unknown_packet_id_gets_pubcomp(broker, version):
    sock, _ = open_client(broker, unique("rel"), version=version)
    sock.sendall(pubrel(0x4242))
    data = read_packet(sock)
    if version == V311:
        # (3.1.1) [MQTT-4.3.3-2] a PUBREL is answered with PUBCOMP with its packet id.
        assert data == h("70 02 42 42")
    else:
        # [MQTT-4.3.3-11] PUBCOMP with the packet id; 3.7.2.1: 0x00, or 0x92 Packet
        # Identifier not found.
        assert data in (h("70 02 42 42"), h("70 03 42 42 00"), h("70 03 42 42 92")), \
            data.hex(" ")
    sock.sendall(pingreq())
    assert read_packet(sock) == h("d0 00")


def test_error_pubrec_ends_the_exchange_v5(broker):
    topic, sub, pub = pair(broker, V5, qos=2, sub_props=[(RECEIVE_MAXIMUM, 1)])
    for i in (1, 2):
        pub.sendall(publish(topic, b"m%d" % i, qos=2, packet_id=i, version=V5))
        assert read_packet(pub) == h("50 02 00") + bytes([i])
        pub.sendall(pubrel(i))
        assert read_packet(pub) == h("70 02 00") + bytes([i])
    first = parse_publish(read_packet(sub), V5)
    sub.sendall(pubrec(first["packet_id"], reason=0x80))
    # [MQTT-4.3.3-4]: PUBREL only for a PUBREC below 0x80; [MQTT-4.4.0-2] a PUBREC of 0x80
    # or more acknowledges the PUBLISH, and frees its Receive Maximum slot
    # [MQTT-3.3.4-9]: the next message comes, and no PUBREL.
    data = read_packet(sub)
    second = parse_publish(data, V5)
    assert data == publish(topic, b"m2", qos=2, packet_id=second["packet_id"], version=V5)
    sub.sendall(pubrec(second["packet_id"]))
    assert read_packet(sub) == h("62 02") + pid_bytes(second["packet_id"])
    sub.sendall(pubcomp(second["packet_id"]))


def test_error_puback_is_an_acknowledgement_v5(broker):
    cid, topic = unique("eack"), unique("eack") + "/t"
    props = [(SESSION_EXPIRY_INTERVAL, 60)]
    sub, _ = open_client(broker, cid, version=V5, clean=False, props=props)
    subscribe_ok(sub, 1, [(topic, 1)], version=V5)
    pub, _ = open_client(broker, unique("p"), version=V5)
    pub.sendall(publish(topic, b"refused", qos=1, packet_id=1, version=V5))
    assert read_packet(pub) == h("40 02 00 01")
    got = parse_publish(read_packet(sub), V5)
    sub.sendall(puback(got["packet_id"], reason=0x80))
    sub.sendall(disconnect())
    expect_closed(sub)
    sub, ack = open_client(broker, cid, version=V5, clean=False, props=props)
    assert parse_connack(ack, V5)[0] == 1
    # [MQTT-4.4.0-2] a PUBACK with a Reason Code of 0x80 or greater acknowledges the
    # PUBLISH: it is not resent.
    expect_no_packet(sub, 1.0)


# --- Receive Maximum --------------------------------------------------------------------

def test_receive_maximum_limits_outbound_publishes_v5(broker):
    topic, sub, pub = pair(broker, V5, qos=1, sub_props=[(RECEIVE_MAXIMUM, 2)])
    for i in range(5):
        pub.sendall(publish(topic, b"m%d" % i, qos=1, packet_id=i + 1, version=V5))
        assert read_packet(pub) == h("40 02 00") + bytes([i + 1])
    got = [parse_publish(read_packet(sub), V5) for _ in range(2)]
    assert [g["payload"] for g in got] == [b"m0", b"m1"]
    # [MQTT-3.3.4-9] no more than Receive Maximum (2) unacknowledged QoS 1 PUBLISH.
    expect_no_packet(sub, 1.0)
    # [MQTT-3.3.4-10] other packets are not held back.
    sub.sendall(pingreq())
    assert read_packet(sub) == h("d0 00")
    for i in range(2, 5):
        sub.sendall(puback(got[0]["packet_id"]))
        got.pop(0)
        got.append(parse_publish(read_packet(sub), V5))
        # One acknowledgement, one more PUBLISH, in order [MQTT-4.6.0-5].
        assert got[-1]["payload"] == b"m%d" % i
        expect_no_packet(sub, 0.3)
    for g in got:
        sub.sendall(puback(g["packet_id"]))
    sub.sendall(pingreq())
    assert read_packet(sub) == h("d0 00")


def test_receive_maximum_counts_qos2_until_pubcomp_v5(broker):
    topic, sub, pub = pair(broker, V5, qos=2, sub_props=[(RECEIVE_MAXIMUM, 1)])
    for i in (1, 2):
        pub.sendall(publish(topic, b"m%d" % i, qos=2, packet_id=i, version=V5))
        assert read_packet(pub) == h("50 02 00") + bytes([i])
        pub.sendall(pubrel(i))
        assert read_packet(pub) == h("70 02 00") + bytes([i])
    first = parse_publish(read_packet(sub), V5)
    assert first["payload"] == b"m1"
    sub.sendall(pubrec(first["packet_id"]))
    assert read_packet(sub) == h("62 02") + pid_bytes(first["packet_id"])
    # [MQTT-3.3.4-9] a QoS 2 PUBLISH counts against Receive Maximum until its PUBCOMP (a
    # PUBREC below 0x80 does not free the slot).
    expect_no_packet(sub, 1.0)
    sub.sendall(pubcomp(first["packet_id"]))
    data = read_packet(sub)
    second = parse_publish(data, V5)
    assert data == publish(topic, b"m2", qos=2, packet_id=second["packet_id"], version=V5)


def test_client_exceeding_receive_maximum_is_disconnected_v5(start_broker):
    b = start_broker(args=["--threads", "2", "--set", "mqtt.max_inflight=2"])
    sock, ack = open_client(b, unique("rm"), version=V5)
    assert prop(parse_connack(ack, V5)[2], RECEIVE_MAXIMUM) == 2
    topic = unique("rm") + "/t"
    for i in (1, 2):
        sock.sendall(publish(topic, b"x", qos=2, packet_id=i, version=V5))
        assert read_packet(sock) == h("50 02 00") + bytes([i])
    sock.sendall(publish(topic, b"x", qos=2, packet_id=3, version=V5))
    # MQTT 5.0 3.3.4 (after [MQTT-3.3.4-7]): more than Receive Maximum QoS 2 PUBLISH without
    # PUBCOMP -> DISCONNECT 0x93 (Receive Maximum exceeded), then close.
    assert read_packet(sock) == h("e0 01 93")
    expect_closed(sock)


# --- Maximum Packet Size ----------------------------------------------------------------

def test_message_larger_than_client_maximum_packet_size_is_not_sent_v5(broker):
    topic = unique("mps") + "/t"
    small, _ = open_client(broker, unique("small"), version=V5,
                           props=[(MAXIMUM_PACKET_SIZE, 100)])
    subscribe_ok(small, 1, [(topic, 1)], version=V5)
    large, _ = open_client(broker, unique("large"), version=V5)
    subscribe_ok(large, 1, [(topic, 1)], version=V5)
    pub, _ = open_client(broker, unique("p"), version=V5)
    big = bytes(range(200))
    pub.sendall(publish(topic, big, qos=1, packet_id=1, version=V5))
    assert read_packet(pub) == h("40 02 00 01")
    data = read_packet(large)
    pid = parse_publish(data, V5)["packet_id"]
    assert data == publish(topic, big, qos=1, packet_id=pid, version=V5)
    large.sendall(puback(pid))
    # [MQTT-3.1.2-24] never a packet above the client's Maximum Packet Size; [MQTT-3.1.2-25]
    # discarded as if it had been sent: the next message still flows.
    pub.sendall(publish(topic, b"small", qos=1, packet_id=2, version=V5))
    assert read_packet(pub) == h("40 02 00 02")
    data = read_packet(small)
    pid = parse_publish(data, V5)["packet_id"]
    assert data == publish(topic, b"small", qos=1, packet_id=pid, version=V5)
    assert len(read_packet(large)) < 100


@VERSIONS
def test_packet_above_server_maximum_packet_size_disconnects(start_broker, version):
    b = start_broker(args=["--threads", "2", "--set", "mqtt.max_packet_size=1KB"])
    sock, ack = open_client(b, unique("big"), version=version)
    if version == V5:
        # The configured maximum is advertised (MQTT 5.0 3.2.2.3.6).
        assert prop(parse_connack(ack, V5)[2], MAXIMUM_PACKET_SIZE) == 1024
    topic = unique("big") + "/t"
    header = len(publish(topic, b"", version=version))
    # Exactly 1024 bytes, fixed header included, is within the limit ...
    n = 1024 - header
    while len(publish(topic, b"f" * n, version=version)) > 1024:
        n -= 1  # the Remaining Length grows to two bytes
    fits = publish(topic, b"f" * n, version=version)
    assert len(fits) == 1024
    sock.sendall(fits)
    sock.sendall(pingreq())
    assert read_packet(sock) == h("d0 00")
    # ... 2000 bytes are not: [MQTT-3.2.2-15] / MQTT 5.0 3.1.2.11.4 and 4.13: DISCONNECT
    # 0x95 (Packet too large) then close; (3.1.1) [MQTT-4.8.0-1] close.
    sock.sendall(publish(topic, b"x" * 2000, version=version))
    if version == V5:
        assert read_packet(sock) == h("e0 01 95")
    expect_closed(sock)


# --- QoS and Retain not available -------------------------------------------------------

def test_publish_above_maximum_qos_v5(start_broker):
    b = start_broker(args=["--threads", "2", "--set", "mqtt.max_qos_allowed=1"])
    sock, ack = open_client(b, unique("mq"), version=V5)
    # [MQTT-3.2.2-9] a server without QoS 2 says so with Maximum QoS.
    assert prop(parse_connack(ack, V5)[2], MAXIMUM_QOS) == 1
    # [MQTT-3.2.2-10] it still accepts SUBSCRIBE asking QoS 2, granting at most 1
    # [MQTT-3.8.4-7].
    assert subscribe_ok(sock, 1, [(unique("mq"), 2)], version=V5) == [1]
    sock.sendall(publish(unique("mq"), b"x", qos=2, packet_id=1, version=V5))
    # MQTT 5.0 3.2.2.3.4: a PUBLISH above Maximum QoS -> DISCONNECT 0x9B (QoS not
    # supported).
    assert read_packet(sock) == h("e0 01 9b")
    expect_closed(sock)


def test_retained_publish_when_retain_unavailable_v5(start_broker):
    b = start_broker(args=["--threads", "2", "--set", "mqtt.retain_available=false"])
    sock, ack = open_client(b, unique("ra"), version=V5)
    assert prop(parse_connack(ack, V5)[2], RETAIN_AVAILABLE) == 0
    sock.sendall(publish(unique("ra"), b"x", retain=True, version=V5))
    # MQTT 5.0 3.2.2.3.5 ([MQTT-3.2.2-14]): RETAIN 1 when Retain Available is 0 ->
    # DISCONNECT 0x9A (Retain not supported).
    assert read_packet(sock) == h("e0 01 9a")
    expect_closed(sock)


# --- MQTT 5 properties ------------------------------------------------------------------

def test_properties_are_forwarded_unaltered_v5(broker):
    topic, sub, pub = pair(broker, V5, qos=1)
    users = [("z", "1"), ("a", "2"), ("z", "0"), ("m", "")]
    props = [(PAYLOAD_FORMAT_INDICATOR, 1), (CONTENT_TYPE, "application/json"),
             (RESPONSE_TOPIC, "answer/here"), (CORRELATION_DATA, b"\x00\xffcorr")]
    props += [(USER_PROPERTY, u) for u in users]
    pub.sendall(publish(topic, b'{"k":1}', qos=1, packet_id=1, props=props, version=V5))
    assert read_packet(pub) == h("40 02 00 01")
    got = parse_publish(read_packet(sub), V5)
    assert (got["topic"], got["payload"], got["qos"]) == (topic, b'{"k":1}', 1)
    # [MQTT-3.3.2-4] Payload Format Indicator, [MQTT-3.3.2-20] Content Type,
    # [MQTT-3.3.2-15] Response Topic, [MQTT-3.3.2-16] Correlation Data unaltered;
    # [MQTT-3.3.2-17] every User Property unaltered, [MQTT-3.3.2-18] in order.
    assert prop(got["props"], PAYLOAD_FORMAT_INDICATOR) == 1
    assert prop(got["props"], CONTENT_TYPE) == "application/json"
    assert prop(got["props"], RESPONSE_TOPIC) == "answer/here"
    assert prop(got["props"], CORRELATION_DATA) == b"\x00\xffcorr"
    assert prop_values(got["props"], USER_PROPERTY) == users
    assert len(got["props"]) == len(props)
    sub.sendall(puback(got["packet_id"]))


def test_message_expiry_interval_counts_down_while_queued_v5(broker):
    cid, topic = unique("mei"), unique("mei") + "/t"
    persistent = [(SESSION_EXPIRY_INTERVAL, 60)]
    sub, _ = open_client(broker, cid, version=V5, clean=False, props=persistent)
    subscribe_ok(sub, 1, [(topic, 1)], version=V5)
    pub, _ = open_client(broker, unique("p"), version=V5)
    # Online: forwarded with (about) the interval it was published with [MQTT-3.3.2-6].
    pub.sendall(publish(topic, b"live", qos=1, packet_id=1, version=V5,
                        props=[(MESSAGE_EXPIRY_INTERVAL, 10)]))
    assert read_packet(pub) == h("40 02 00 01")
    got = parse_publish(read_packet(sub), V5)
    assert 9 <= prop(got["props"], MESSAGE_EXPIRY_INTERVAL) <= 10
    sub.sendall(puback(got["packet_id"]) + disconnect())
    expect_closed(sub)

    pub.sendall(publish(topic, b"queued", qos=1, packet_id=2, version=V5,
                        props=[(MESSAGE_EXPIRY_INTERVAL, 10)]))
    assert read_packet(pub) == h("40 02 00 02")
    pub.sendall(publish(topic, b"expires", qos=1, packet_id=3, version=V5,
                        props=[(MESSAGE_EXPIRY_INTERVAL, 1)]))
    assert read_packet(pub) == h("40 02 00 03")
    time.sleep(2.2)
    sub, ack = open_client(broker, cid, version=V5, clean=False, props=persistent)
    assert parse_connack(ack, V5)[0] == 1
    data = read_packet(sub)
    got = parse_publish(data, V5)
    # [MQTT-3.3.2-6] the interval sent is the received one less the time waited (2.2 s).
    remaining = prop(got["props"], MESSAGE_EXPIRY_INTERVAL)
    assert got["payload"] == b"queued" and 6 <= remaining <= 8, data.hex(" ")
    assert data == publish(topic, b"queued", qos=1, packet_id=got["packet_id"], version=V5,
                           props=[(MESSAGE_EXPIRY_INTERVAL, remaining)])
    sub.sendall(puback(got["packet_id"]))
    # [MQTT-3.3.2-5] the 1 s message expired before delivery started: deleted.
    expect_no_packet(sub, 1.0)


def test_topic_alias_inbound_v5(broker):
    topic, sub, pub = pair(broker, V5, qos=0)
    pub.sendall(publish(topic, b"set", props=[(TOPIC_ALIAS, 3)], version=V5))
    pub.sendall(publish("", b"use", props=[(TOPIC_ALIAS, 3)], version=V5))
    # [MQTT-3.3.2-12] aliases 1..Topic Alias Maximum are accepted; an empty topic with a
    # known alias means the aliased topic. The subscriber gets the topic itself (it
    # announced no Topic Alias Maximum [MQTT-3.1.2-27]).
    assert read_packet(sub) == publish(topic, b"set", version=V5)
    assert read_packet(sub) == publish(topic, b"use", version=V5)


def test_topic_alias_can_be_remapped_v5(broker):
    topic, sub, pub = pair(broker, V5, qos=0)
    other = topic + "/other"
    sub.sendall(subscribe(2, [(other, 0)], version=V5))
    assert read_packet(sub) == h("90 04 00 02 00 00")
    pub.sendall(publish(topic, b"a", props=[(TOPIC_ALIAS, 1)], version=V5)
                + publish(other, b"b", props=[(TOPIC_ALIAS, 1)], version=V5)
                + publish("", b"c", props=[(TOPIC_ALIAS, 1)], version=V5))
    # MQTT 5.0 3.3.2.3.4: a PUBLISH with a topic and an alias (re)sets the mapping; an
    # empty topic then means the latest mapping.
    assert [read_packet(sub) for _ in range(3)] == [publish(topic, b"a", version=V5),
                                                  publish(other, b"b", version=V5),
                                                  publish(other, b"c", version=V5)]


def test_topic_alias_table_is_bounded_in_bytes_v5(broker):
    """A client may define up to Topic Alias Maximum aliases, each for a topic of up to
    65,535 bytes: the broker holds at most 1 MiB of aliased topics per connection and
    disconnects past that with 0x97 Quota exceeded (MQTT 5.0 3.14.2.1: an
    administrative limit), rather than pinning gigabytes."""
    sock, _ = open_client(broker, unique("alias-bytes"), version=V5)
    topic = "a/" + "x" * 65000
    for alias in range(1, 16):  # 15 x 65 kB: under the limit
        sock.sendall(publish(topic + str(alias), b"", props=[(TOPIC_ALIAS, alias)], version=V5))
    sock.sendall(pingreq())
    assert read_packet(sock) == h("d0 00")
    for alias in range(16, 18):  # the 17th takes the table past 1 MiB
        sock.sendall(publish(topic + str(alias), b"", props=[(TOPIC_ALIAS, alias)], version=V5))
    assert read_packet(sock) == disconnect(0x97)
    expect_closed(sock)


def test_outbound_topic_aliases_stay_within_the_client_maximum_v5(broker):
    base = unique("oa")
    topics = [base + "/" + name for name in ("a", "b", "c", "d")]
    cid = unique("oa")
    sub, _ = open_client(broker, cid, version=V5, props=[(TOPIC_ALIAS_MAXIMUM, 2)])
    subscribe_ok(sub, 1, [(base + "/#", 0)], version=V5)
    plain, _ = open_client(broker, unique("plain"), version=V5)
    subscribe_ok(plain, 1, [(base + "/#", 0)], version=V5)
    pub, _ = open_client(broker, unique("p"), version=V5)
    sent = [topics[i % 4] if i % 3 else topics[0] for i in range(24)]
    for i, topic in enumerate(sent):
        pub.sendall(publish(topic, b"%d" % i, version=V5))
    aliases = {}
    for i, topic in enumerate(sent):
        got = parse_publish(read_packet(sub), V5)
        alias = prop(got["props"], TOPIC_ALIAS)
        if alias is not None:
            # [MQTT-3.1.2-26] never above the client's Topic Alias Maximum; [MQTT-3.3.2-8]
            # never 0.
            assert 1 <= alias <= 2, got
            if got["topic"]:
                aliases[alias] = got["topic"]
        # A PUBLISH with an empty topic uses an alias this connection set before
        # (MQTT 5.0 3.3.2.3.4); either way the topic is the one published [MQTT-3.3.2-3].
        resolved = got["topic"] or aliases.get(alias)
        assert (resolved, got["payload"]) == (topic, b"%d" % i), got
        # [MQTT-3.1.2-27] a client that announced no Topic Alias Maximum gets no alias.
        assert read_packet(plain) == publish(topic, b"%d" % i, version=V5)
    sub.sendall(disconnect())
    expect_closed(sub)
    sub, _ = open_client(broker, cid, version=V5, props=[(TOPIC_ALIAS_MAXIMUM, 2)])
    subscribe_ok(sub, 1, [(base + "/#", 0)], version=V5)
    pub.sendall(publish(topics[0], b"again", version=V5))
    got = parse_publish(read_packet(sub), V5)
    # [MQTT-3.3.2-7] no mapping is carried to a new connection: the topic is spelled out.
    assert (got["topic"], got["payload"]) == (topics[0], b"again"), got


def test_topic_alias_above_maximum_v5(start_broker):
    b = start_broker(args=["--threads", "2", "--set", "mqtt.max_topic_alias=10"])
    sock, ack = open_client(b, unique("ta"), version=V5)
    assert prop(parse_connack(ack, V5)[2], TOPIC_ALIAS_MAXIMUM) == 10
    sock.sendall(publish(unique("ta"), b"x", props=[(TOPIC_ALIAS, 10)], version=V5))
    sock.sendall(pingreq())
    assert read_packet(sock) == h("d0 00")  # 10 is allowed [MQTT-3.3.2-12]
    sock.sendall(publish(unique("ta"), b"x", props=[(TOPIC_ALIAS, 11)], version=V5))
    # [MQTT-3.2.2-17] / MQTT 5.0 3.3.2.3.4: above Topic Alias Maximum -> DISCONNECT 0x94
    # (Topic Alias invalid), then close.
    assert read_packet(sock) == h("e0 01 94")
    expect_closed(sock)


def test_topic_alias_zero_v5(broker):
    sock, _ = open_client(broker, unique("ta"), version=V5)
    sock.sendall(publish(unique("ta"), b"x", props=[(TOPIC_ALIAS, 0)], version=V5))
    # [MQTT-3.3.2-8] a Topic Alias of 0 is never valid (MQTT 5.0 3.3.2.3.4: Protocol Error
    # / Topic Alias invalid): DISCONNECT with the reason, then close.
    data = read_packet(sock)
    assert data in (h("e0 01 94"), h("e0 01 82")), data.hex(" ")
    expect_closed(sock)


def test_unknown_topic_alias_is_protocol_error_v5(broker):
    sock, _ = open_client(broker, unique("ta"), version=V5)
    sock.sendall(publish("", b"x", props=[(TOPIC_ALIAS, 5)], version=V5))
    # The issue / MQTT 5.0 3.3.4: an empty Topic Name with an alias that has no mapping is
    # a Protocol Error: DISCONNECT 0x82, then close.
    assert read_packet(sock) == h("e0 01 82")
    expect_closed(sock)


def test_topic_alias_not_carried_to_next_connection_v5(broker):
    cid = unique("ta")
    sock, _ = open_client(broker, cid, version=V5)
    sock.sendall(publish(unique("ta"), b"x", props=[(TOPIC_ALIAS, 1)], version=V5))
    sock.sendall(disconnect())
    expect_closed(sock)
    sock, _ = open_client(broker, cid, version=V5)
    sock.sendall(publish("", b"x", props=[(TOPIC_ALIAS, 1)], version=V5))
    # [MQTT-3.3.2-7] mappings do not carry over: the alias is unknown here -> 0x82.
    assert read_packet(sock) == h("e0 01 82")
    expect_closed(sock)


def test_payload_format_indicator_with_invalid_utf8_v5(broker):
    topic, sub, pub = pair(broker, V5, qos=1)
    pub.sendall(publish(topic, b"ok \xc3\xa9", qos=1, packet_id=1, version=V5,
                        props=[(PAYLOAD_FORMAT_INDICATOR, 1)]))
    assert read_packet(pub) == h("40 02 00 01")
    got = parse_publish(read_packet(sub), V5)
    assert prop(got["props"], PAYLOAD_FORMAT_INDICATOR) == 1  # [MQTT-3.3.2-4]
    sub.sendall(puback(got["packet_id"]))

    pub.sendall(publish(topic, b"bad \xff\xfe", qos=1, packet_id=2, version=V5,
                        props=[(PAYLOAD_FORMAT_INDICATOR, 1)]))
    data = read_packet(pub)
    # The issue / MQTT 5.0 3.3.2.3.2: a payload marked UTF-8 that is not -> PUBACK 0x99
    # (Payload format invalid), optionally with properties; the message is refused, so
    # not delivered; the connection stays open.
    assert packet_type(data) == PUBACK and data[0] == 0x40, data.hex(" ")
    body = body_of(data)
    assert body[:3] == h("00 02 99"), data.hex(" ")
    if len(body) > 3:
        assert decode_properties(body, 3)[1] == len(body)
    expect_no_packet(sub, 1.0)
    pub.sendall(pingreq())
    assert read_packet(pub) == h("d0 00")


def test_subscription_identifier_from_client_is_protocol_error_v5(broker):
    sock, _ = open_client(broker, unique("si"), version=V5)
    sock.sendall(publish(unique("si"), b"x", props=[(SUBSCRIPTION_IDENTIFIER, 1)],
                         version=V5))
    # [MQTT-3.3.4-6] a client never sends a Subscription Identifier: Protocol Error,
    # DISCONNECT 0x82 (4.13), then close.
    assert read_packet(sock) == h("e0 01 82")
    expect_closed(sock)
