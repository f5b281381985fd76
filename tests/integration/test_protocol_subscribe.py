"""Byte-exact SUBSCRIBE / UNSUBSCRIBE tests against the real broker: SUBACK and
UNSUBACK codes, wildcards, overlapping subscriptions, No Local, Retain As Published,
Retain Handling, shared subscriptions, `$` topics and retained messages, in MQTT 3.1.1
and 5.0.

Statement ids are MQTT 5.0's unless marked (3.1.1)."""
import time

import pytest

from mqtt_bytes import (
    MESSAGE_EXPIRY_INTERVAL, PUBACK, PUBLISH, SHARED_SUBSCRIPTION_AVAILABLE, SUBACK,
    SUBSCRIPTION_IDENTIFIER, V311, V5, WILDCARD_SUBSCRIPTION_AVAILABLE, body_of,
    decode_properties, expect_no_packet, h, open_client, packet_type, parse_connack,
    parse_publish, pingreq, prop, prop_values, puback, publish, pubrel, read_packet,
    subscribe, subscribe_ok, unique, unsubscribe)

VERSIONS = pytest.mark.parametrize("version", [V311, V5], ids=["v311", "v5"])

NO_LOCAL = 0x04
RETAIN_AS_PUBLISHED = 0x08
RETAIN_HANDLING_1 = 0x10
RETAIN_HANDLING_2 = 0x20


def suback(packet_id, codes, version):
    """A SUBACK without properties (the only kind these tests expect)."""
    body = packet_id.to_bytes(2, "big") + (b"\x00" if version == V5 else b"") + bytes(codes)
    return bytes([0x90, len(body)]) + body


def subscribe_and_collect(sock, packet_id, filters, version, publishes, props=None):
    """Sends SUBSCRIBE; returns (SUBACK bytes, [PUBLISH bytes]) once the SUBACK and
    `publishes` PUBLISH packets have arrived, in whatever order (MQTT 5.0 3.8.4: the
    server may send matching PUBLISH packets before the SUBACK)."""
    sock.sendall(subscribe(packet_id, filters, version=version, props=props))
    ack, got = None, []
    while ack is None or len(got) < publishes:
        data = read_packet(sock)
        if packet_type(data) == SUBACK:
            assert ack is None, "two SUBACKs"
            ack = data
        else:
            assert packet_type(data) == PUBLISH, data.hex(" ")
            got.append(data)
    return ack, got


def drain(sock, wait=1.0):
    """Every packet that arrives until `wait` s pass without one."""
    out = []
    while True:
        try:
            out.append(read_packet(sock, wait))
        except TimeoutError:
            return out


def publish_acked(pub, topic, payload, version, qos=1, packet_id=1, retain=False, props=None):
    pub.sendall(publish(topic, payload, qos=qos, packet_id=packet_id if qos else None,
                        retain=retain, props=props, version=version))
    if qos == 1:
        assert read_packet(pub) == h("40 02") + packet_id.to_bytes(2, "big")
    elif qos == 2:
        assert read_packet(pub) == h("50 02") + packet_id.to_bytes(2, "big")
        pub.sendall(pubrel(packet_id))
        assert read_packet(pub) == h("70 02") + packet_id.to_bytes(2, "big")
    else:
        pub.sendall(pingreq())  # the PUBLISH before it has been handled
        assert read_packet(pub) == h("d0 00")


# --- SUBACK and UNSUBACK ----------------------------------------------------------------

@VERSIONS
def test_suback_grants_each_requested_qos_in_order(broker, version):
    sock, _ = open_client(broker, unique("sa"), version=version)
    base = unique("sa")
    sock.sendall(subscribe(0x0A0B, [(base + "/0", 0), (base + "/1", 1), (base + "/2", 2)],
                           version=version))
    # [MQTT-3.8.4-1] SUBACK; [MQTT-3.8.4-2] same packet id; [MQTT-3.8.4-6] (5.0) /
    # [MQTT-3.8.4-5] (3.1.1) a code per filter, [MQTT-3.9.3-1] in order; the granted QoS.
    # 5.0 SUBACK carries a property block, empty here [MQTT-2.2.2-1].
    expected = {V311: "90 05 0a 0b 00 01 02", V5: "90 06 0a 0b 00 00 01 02"}[version]
    assert read_packet(sock) == h(expected)


@VERSIONS
def test_resubscribe_replaces_the_subscription(broker, version):
    sock, _ = open_client(broker, unique("rs"), version=version)
    topic = unique("rs") + "/t"
    assert subscribe_ok(sock, 1, [(topic, 2)], version=version) == [2]
    assert subscribe_ok(sock, 2, [(topic, 0)], version=version) == [0]
    pub, _ = open_client(broker, unique("p"), version=version)
    publish_acked(pub, topic, b"once", version, qos=2)
    # [MQTT-3.8.4-3] (both) an identical filter replaces the subscription: one copy, at
    # the new maximum QoS 0.
    assert read_packet(sock) == publish(topic, b"once", version=version)
    expect_no_packet(sock, 0.5)


def test_unsuback_v311(broker):
    sock, _ = open_client(broker, unique("us"), version=V311)
    topic = unique("us") + "/t"
    subscribe_ok(sock, 1, [(topic, 1)])
    sock.sendall(unsubscribe(0x0203, [topic, topic + "/never"]))
    # (3.1.1) [MQTT-3.10.4-4] UNSUBACK with the same packet id, [MQTT-3.10.4-5] even for
    # a filter that matched nothing; 3.1.1 UNSUBACK has no payload.
    assert read_packet(sock) == h("b0 02 02 03")
    pub, _ = open_client(broker, unique("p"), version=V311)
    publish_acked(pub, topic, b"gone", V311)
    expect_no_packet(sock, 1.0)  # [MQTT-3.10.4-2] no new messages for it


def test_unsuback_reason_codes_v5(broker):
    sock, _ = open_client(broker, unique("us"), version=V5)
    topic = unique("us") + "/t"
    subscribe_ok(sock, 1, [(topic, 1)], version=V5)
    sock.sendall(unsubscribe(0x0203, [topic, topic + "/never"], version=V5))
    # [MQTT-3.10.4-4] [MQTT-3.10.4-5] UNSUBACK with the packet id; [MQTT-3.11.3-1] a
    # reason per filter in order: 0x00 Success, 0x11 No subscription existed (3.11.3).
    assert read_packet(sock) == h("b0 05 02 03 00 00 11")
    pub, _ = open_client(broker, unique("p"), version=V5)
    publish_acked(pub, topic, b"gone", V5)
    expect_no_packet(sock, 1.0)  # [MQTT-3.10.4-2]


def test_suback_failure_0x80_when_wildcards_disabled_v311(start_broker):
    b = start_broker(args=["--threads", "2", "--set", "mqtt.wildcard_subscription=false"])
    sock, _ = open_client(b, unique("wd"), version=V311)
    base = unique("wd")
    sock.sendall(subscribe(5, [(base + "/plain", 1), (base + "/+", 1), (base + "/#", 0)]))
    # (3.1.1) [MQTT-3.8.3-2] a server without wildcard support rejects filters with
    # wildcards: return code 0x80 (Failure) [MQTT-3.9.3-2]; the others are granted.
    assert read_packet(sock) == h("90 05 00 05 01 80 80")


def test_suback_0xa2_when_wildcards_disabled_v5(start_broker):
    b = start_broker(args=["--threads", "2", "--set", "mqtt.wildcard_subscription=false"])
    sock, ack = open_client(b, unique("wd"), version=V5)
    # MQTT 5.0 3.2.2.3.11: the CONNACK says Wildcard Subscription Available 0.
    assert prop(parse_connack(ack, V5)[2], WILDCARD_SUBSCRIPTION_AVAILABLE) == 0
    base = unique("wd")
    sock.sendall(subscribe(5, [(base + "/plain", 1), (base + "/+", 1)], version=V5))
    # [MQTT-3.9.3-2] 0xA2 Wildcard Subscriptions not supported.
    assert read_packet(sock) == h("90 05 00 05 00 01 a2")


def test_suback_0x9e_when_shared_subscriptions_disabled_v5(start_broker):
    b = start_broker(args=["--threads", "2", "--set", "mqtt.shared_subscription=false"])
    sock, ack = open_client(b, unique("sd"), version=V5)
    # MQTT 5.0 3.2.2.3.13: the CONNACK says Shared Subscription Available 0.
    assert prop(parse_connack(ack, V5)[2], SHARED_SUBSCRIPTION_AVAILABLE) == 0
    base = unique("sd")
    sock.sendall(subscribe(6, [("$share/g/" + base, 1), (base, 2)], version=V5))
    # [MQTT-3.9.3-2] 0x9E Shared Subscriptions not supported.
    assert read_packet(sock) == h("90 05 00 06 00 9e 02")


# --- matching -------------------------------------------------------------------------

@VERSIONS
def test_wildcards(broker, version):
    base = unique("wc")
    sub, _ = open_client(broker, unique("s"), version=version)
    assert subscribe_ok(sub, 1, [(base + "/+/c", 0), (base + "/x/#", 0)],
                        version=version) == [0, 0]
    pub, _ = open_client(broker, unique("p"), version=version)
    topics = [base + "/a/c", base + "/a/d", base + "/a/b/c", base + "//c", base + "/x",
              base + "/x/y/z", base + "/xy/z", base + "/a/c/d"]
    for topic in topics:
        publish_acked(pub, topic, topic.encode(), version, qos=0)
    # [MQTT-4.7.1-3] '+' matches exactly one level, an empty one too; [MQTT-4.7.1-2] '#'
    # matches the parent and any number of levels; [MQTT-3.3.2-3] the topic sent is the
    # message's; in order ([MQTT-4.6.0-5] (5.0) / [MQTT-4.6.0-6] (3.1.1)).
    want = [base + "/a/c", base + "//c", base + "/x", base + "/x/y/z"]
    assert drain(sub) == [publish(t, t.encode(), version=version) for t in want]


@VERSIONS
def test_overlapping_subscriptions_get_one_copy_at_the_highest_qos(broker, version):
    base = unique("ov")
    topic = base + "/t"
    sub, _ = open_client(broker, unique("s"), version=version)
    v5 = version == V5
    # One SUBSCRIBE per filter, so each can carry its own Subscription Identifier.
    assert subscribe_ok(sub, 1, [(base + "/#", 0)], version=version,
                        props=[(SUBSCRIPTION_IDENTIFIER, 1)] if v5 else None) == [0]
    assert subscribe_ok(sub, 2, [(base + "/+", 1)], version=version,
                        props=[(SUBSCRIPTION_IDENTIFIER, 300)] if v5 else None) == [1]
    assert subscribe_ok(sub, 3, [(topic, 0)], version=version) == [0]
    pub, _ = open_client(broker, unique("p"), version=version)
    publish_acked(pub, topic, b"overlap", version, qos=2)
    got = drain(sub)
    # [MQTT-3.3.4-2] (5.0) / [MQTT-3.3.5-1] (3.1.1) the maximum QoS of the matching
    # subscriptions (1); the issue: one copy. [MQTT-3.3.4-3] [MQTT-3.3.4-4] that copy has
    # every Subscription Identifier of the matching subscriptions, in any order.
    assert len(got) == 1, [g.hex(" ") for g in got]
    msg = parse_publish(got[0], version)
    assert (msg["topic"], msg["payload"], msg["qos"]) == (topic, b"overlap", 1)
    if v5:
        assert sorted(prop_values(msg["props"], SUBSCRIPTION_IDENTIFIER)) == [1, 300]
        assert len(msg["props"]) == 2
    else:
        assert got[0] == publish(topic, b"overlap", qos=1, packet_id=msg["packet_id"])
    sub.sendall(puback(msg["packet_id"]))


def test_subscription_identifier_is_sent_v5(broker):
    topic = unique("sid") + "/t"
    sub, _ = open_client(broker, unique("s"), version=V5)
    subscribe_ok(sub, 1, [(topic, 0)], version=V5, props=[(SUBSCRIPTION_IDENTIFIER, 268435455)])
    pub, _ = open_client(broker, unique("p"), version=V5)
    publish_acked(pub, topic, b"id", V5)
    # [MQTT-3.3.4-3] the Subscription Identifier (a Variable Byte Integer, here the
    # largest) is sent with the message.
    assert read_packet(sub) == publish(topic, b"id", version=V5,
                                       props=[(SUBSCRIPTION_IDENTIFIER, 268435455)])


def test_no_local_v5(broker):
    topic = unique("nl") + "/t"
    me, _ = open_client(broker, unique("me"), version=V5)
    assert subscribe_ok(me, 1, [(topic, 1 | NO_LOCAL)], version=V5) == [1]
    other, _ = open_client(broker, unique("other"), version=V5)
    subscribe_ok(other, 1, [(topic, 0)], version=V5)
    publish_acked(me, topic, b"mine", V5)
    # [MQTT-3.8.3-3] No Local: not forwarded to the publishing client ...
    assert read_packet(other) == publish(topic, b"mine", version=V5)
    expect_no_packet(me, 1.0)
    # ... but messages of other clients are.
    third, _ = open_client(broker, unique("third"), version=V5)
    publish_acked(third, topic, b"theirs", V5)
    data = read_packet(me)
    pid = parse_publish(data, V5)["packet_id"]
    assert data == publish(topic, b"theirs", qos=1, packet_id=pid, version=V5)


def test_own_messages_are_delivered_without_no_local(broker):
    for version in (V311, V5):
        topic = unique("loop") + "/t"
        me, _ = open_client(broker, unique("me"), version=version)
        subscribe_ok(me, 1, [(topic, 0)], version=version)
        me.sendall(publish(topic, b"echo", version=version))
        # A matching subscription gets the message, the publisher's own included (3.1.1
        # has no No Local; in 5.0 it is off here, 3.8.3.1).
        assert read_packet(me) == publish(topic, b"echo", version=version)


@VERSIONS
def test_retain_flag_on_live_messages(broker, version):
    topic = unique("rap") + "/t"
    plain, _ = open_client(broker, unique("plain"), version=version)
    subscribe_ok(plain, 1, [(topic, 0)], version=version)
    if version == V5:
        rap, _ = open_client(broker, unique("rap"), version=V5)
        subscribe_ok(rap, 1, [(topic, RETAIN_AS_PUBLISHED)], version=V5)
    pub, _ = open_client(broker, unique("p"), version=version)
    publish_acked(pub, topic, b"live", version, retain=True)
    # (3.1.1) [MQTT-3.3.1-9] / (5.0) [MQTT-3.3.1-12]: to an established subscription
    # (without Retain As Published) the message goes with RETAIN 0.
    assert read_packet(plain) == publish(topic, b"live", version=version)
    if version == V5:
        # [MQTT-3.3.1-13] Retain As Published: RETAIN as the publisher set it.
        assert read_packet(rap) == publish(topic, b"live", retain=True, version=V5)
        publish_acked(pub, topic, b"not-retained", V5, packet_id=2)
        assert read_packet(rap) == publish(topic, b"not-retained", version=V5)
    publish_acked(pub, topic, b"", version, retain=True, packet_id=3)  # clean up


# --- retained messages ----------------------------------------------------------------

@VERSIONS
def test_retained_store_replace_delete(broker, version):
    topic = unique("ret") + "/t"
    pub, _ = open_client(broker, unique("p"), version=version)
    publish_acked(pub, topic, b"first", version, qos=0, retain=True)
    publish_acked(pub, topic, b"second", version, qos=0, retain=True)
    publish_acked(pub, topic, b"not retained", version, qos=0)

    sub, _ = open_client(broker, unique("s"), version=version)
    ack, got = subscribe_and_collect(sub, 1, [(topic, 0)], version, 1)
    assert ack == suback(1, [0], version)
    # (5.0) [MQTT-3.3.1-5] / (3.1.1) [MQTT-3.3.1-5] [MQTT-3.3.1-7]: the retained message is
    # replaced by the newer one; (5.0) [MQTT-3.3.1-8] / (3.1.1) [MQTT-3.3.1-12] a RETAIN 0
    # message does not replace it; sent on subscribe with RETAIN 1 ((3.1.1)
    # [MQTT-3.3.1-6] [MQTT-3.3.1-8]; 5.0 3.3.1.3).
    assert got == [publish(topic, b"second", retain=True, version=version)]
    expect_no_packet(sub, 0.5)

    publish_acked(pub, topic, b"", version, qos=0, retain=True)
    # (5.0) [MQTT-3.3.1-6] / (3.1.1) [MQTT-3.3.1-10]: a zero-byte retained message is
    # processed normally, sent to current subscribers (RETAIN 0: an established
    # subscription) ...
    assert read_packet(sub) == publish(topic, b"", version=version)
    late, _ = open_client(broker, unique("late"), version=version)
    ack, _ = subscribe_and_collect(late, 1, [(topic, 0)], version, 0)
    # ... and removes the retained message, and is not stored itself: a new subscriber
    # gets nothing ((5.0) [MQTT-3.3.1-7], (3.1.1) [MQTT-3.3.1-11]).
    assert ack == suback(1, [0], version)
    expect_no_packet(late, 1.0)


@VERSIONS
def test_retained_message_keeps_its_qos(broker, version):
    base = unique("rq")
    pub, _ = open_client(broker, unique("p"), version=version)
    publish_acked(pub, base + "/one", b"q1", version, qos=1, retain=True)
    publish_acked(pub, base + "/two", b"q0", version, qos=0, retain=True)
    sub, _ = open_client(broker, unique("s"), version=version)
    ack, got = subscribe_and_collect(sub, 1, [(base + "/#", 2)], version, 2)
    assert ack == suback(1, [2], version)
    # (3.1.1) [MQTT-3.3.1-5] the message is stored with its QoS; [MQTT-3.8.4-8] delivered
    # at the lower of it and the subscription's; every matching retained message is sent
    # ((5.0) [MQTT-3.3.1-9], (3.1.1) [MQTT-3.3.1-6]).
    by_topic = {parse_publish(g, version)["topic"]: g for g in got}
    one = parse_publish(by_topic[base + "/one"], version)
    assert by_topic[base + "/one"] == publish(base + "/one", b"q1", qos=1, retain=True,
                                              packet_id=one["packet_id"], version=version)
    assert by_topic[base + "/two"] == publish(base + "/two", b"q0", retain=True,
                                              version=version)
    sub.sendall(puback(one["packet_id"]))


def test_retain_handling_v5(broker):
    base = unique("rh")
    pub, _ = open_client(broker, unique("p"), version=V5)
    for rh in ("0", "1", "2"):
        publish_acked(pub, base + "/" + rh, b"kept" + rh.encode(), V5, qos=0, retain=True)
    sub, _ = open_client(broker, unique("s"), version=V5)
    retained = {rh: publish(base + "/" + rh, b"kept" + rh.encode(), retain=True, version=V5)
                for rh in ("0", "1", "2")}

    # [MQTT-3.3.1-9] Retain Handling 0: sent at every subscribe, a repeated one included
    # ([MQTT-3.8.4-4]).
    for packet_id in (1, 2):
        ack, got = subscribe_and_collect(sub, packet_id, [(base + "/0", 0)], V5, 1)
        assert ack == suback(packet_id, [0], V5) and got == [retained["0"]]
    # [MQTT-3.3.1-10] Retain Handling 1: sent only when the subscription is new.
    ack, got = subscribe_and_collect(sub, 3, [(base + "/1", RETAIN_HANDLING_1)], V5, 1)
    assert ack == suback(3, [0], V5) and got == [retained["1"]]
    ack, _ = subscribe_and_collect(sub, 4, [(base + "/1", RETAIN_HANDLING_1)], V5, 0)
    assert ack == suback(4, [0], V5)
    # [MQTT-3.3.1-11] Retain Handling 2: never at subscribe time.
    ack, _ = subscribe_and_collect(sub, 5, [(base + "/2", RETAIN_HANDLING_2)], V5, 0)
    assert ack == suback(5, [0], V5)
    expect_no_packet(sub, 1.0)


def test_retained_message_expiry_v5(broker):
    base = unique("rx")
    pub, _ = open_client(broker, unique("p"), version=V5)
    publish_acked(pub, base + "/short", b"short", V5, qos=0, retain=True,
                  props=[(MESSAGE_EXPIRY_INTERVAL, 1)])
    publish_acked(pub, base + "/long", b"long", V5, qos=0, retain=True,
                  props=[(MESSAGE_EXPIRY_INTERVAL, 60)])
    time.sleep(2.2)
    sub, _ = open_client(broker, unique("s"), version=V5)
    ack, got = subscribe_and_collect(sub, 1, [(base + "/#", 0)], V5, 1)
    assert ack == suback(1, [0], V5)
    # [MQTT-3.3.2-5] the expired retained message is not delivered; [MQTT-3.3.2-6] the
    # other one carries what is left of its interval.
    msg = parse_publish(got[0], V5)
    assert (msg["topic"], msg["payload"], msg["retain"]) == (base + "/long", b"long", True)
    assert 55 <= prop(msg["props"], MESSAGE_EXPIRY_INTERVAL) <= 58
    expect_no_packet(sub, 1.0)


# --- shared subscriptions ---------------------------------------------------------------

@pytest.mark.parametrize("form", ["share", "queue"])
@VERSIONS
def test_shared_subscription_delivers_each_message_once(broker, version, form):
    topic = unique("sh") + "/t"
    group_filter = ("$share/g/" if form == "share" else "$queue/") + topic
    members = []
    for _ in range(2):
        sock, _ = open_client(broker, unique("m"), version=version)
        assert subscribe_ok(sock, 1, [(group_filter, 1)], version=version) == [1]
        members.append(sock)
    plain, _ = open_client(broker, unique("plain"), version=version)
    subscribe_ok(plain, 1, [(topic, 0)], version=version)
    pub, _ = open_client(broker, unique("p"), version=version)
    payloads = [b"s%d" % i for i in range(6)]
    for i, payload in enumerate(payloads):
        publish_acked(pub, topic, payload, version, packet_id=i + 1)
    received = []
    for sock in members:
        for data in drain(sock):
            msg = parse_publish(data, version)
            # The message goes out with the topic it was published to [MQTT-3.3.2-3].
            assert data == publish(topic, msg["payload"], qos=1, packet_id=msg["packet_id"],
                                   version=version)
            received.append(msg["payload"])
            sock.sendall(puback(msg["packet_id"]))
    # MQTT 5.0 4.8.2 (and the issue for $share/ and EMQX's $queue/ in both versions): each
    # message goes to exactly one member of the group ...
    assert sorted(received) == sorted(payloads)
    # ... and independently to ordinary subscriptions of the topic.
    assert drain(plain) == [publish(topic, p, version=version) for p in payloads]


# --- $ topics ---------------------------------------------------------------------------

@VERSIONS
def test_wildcards_do_not_match_dollar_topics(broker, version):
    dollar = "$" + unique("dl")
    sub, _ = open_client(broker, unique("s"), version=version)
    assert subscribe_ok(sub, 1, [("#", 0), ("+/x", 0), ("+/+", 0)], version=version) == \
        [0, 0, 0]
    own, _ = open_client(broker, unique("own"), version=version)
    assert subscribe_ok(own, 1, [(dollar + "/#", 0)], version=version) == [0]
    pub, _ = open_client(broker, unique("p"), version=version)
    publish_acked(pub, dollar + "/x", b"dollar", version)
    # [MQTT-4.7.2-1] (both) filters starting with a wildcard do not match topics starting
    # with '$'; a filter starting with the same '$' level does.
    assert read_packet(own) == publish(dollar + "/x", b"dollar", version=version)
    expect_no_packet(sub, 1.0)
    plain = unique("plain") + "/x"
    publish_acked(pub, plain, b"plain", version, packet_id=2)
    # One message matched by three filters of one session: one copy (the issue).
    assert drain(sub) == [publish(plain, b"plain", version=version)]


def test_publish_to_sys_is_refused_v5(broker):
    watcher, _ = open_client(broker, unique("w"), version=V5)
    # The forged topic itself: $SYS/# would also bring the broker's retained figures.
    subscribe_ok(watcher, 1, [("$SYS/x", 0)], version=V5)
    sock, _ = open_client(broker, unique("sys"), version=V5)
    sock.sendall(publish("$SYS/x", b"fake", qos=0, version=V5))
    sock.sendall(publish("$SYS/x", b"fake", qos=1, packet_id=0x0105, version=V5))
    data = read_packet(sock)
    # The issue: PUBACK 0x87 (Not authorized, 3.4.2.1) with the packet id
    # [MQTT-2.2.1-5], properties optional; the message is refused, not delivered; the
    # connection stays open.
    assert packet_type(data) == PUBACK and data[0] == 0x40, data.hex(" ")
    body = body_of(data)
    assert body[:3] == h("01 05 87"), data.hex(" ")
    if len(body) > 3:
        assert decode_properties(body, 3)[1] == len(body)
    sock.sendall(publish("$SYS/x", b"fake", qos=2, packet_id=0x0106, version=V5))
    data = read_packet(sock)
    # Likewise PUBREC 0x87 for QoS 2 (3.5.2.1), which ends that exchange [MQTT-4.3.3-9].
    assert data[0] == 0x50 and body_of(data)[:3] == h("01 06 87"), data.hex(" ")
    sock.sendall(pingreq())
    assert read_packet(sock) == h("d0 00")
    expect_no_packet(watcher, 1.0)


def test_publish_to_sys_is_dropped_v311(broker):
    watcher, _ = open_client(broker, unique("w"), version=V311)
    subscribe_ok(watcher, 1, [("$SYS/x", 0)])  # not $SYS/#: see above
    sock, _ = open_client(broker, unique("sys"), version=V311)
    sock.sendall(publish("$SYS/x", b"fake", qos=0))
    sock.sendall(publish("$SYS/x", b"fake", qos=1, packet_id=0x0105))
    # (3.1.1) [MQTT-3.3.5-2] an unauthorised PUBLISH gets a positive acknowledgement by the
    # normal QoS rules (or the connection is closed; the issue: dropped, still open).
    assert read_packet(sock) == h("40 02 01 05")
    sock.sendall(publish("$SYS/x", b"fake", qos=2, packet_id=0x0106))
    assert read_packet(sock) == h("50 02 01 06")
    sock.sendall(pubrel(0x0106))
    assert read_packet(sock) == h("70 02 01 06")
    sock.sendall(pingreq())
    assert read_packet(sock) == h("d0 00")
    expect_no_packet(watcher, 1.0)


@VERSIONS
def test_other_dollar_topics_work_normally(broker, version):
    topic = "$" + unique("other") + "/topic"
    sub, _ = open_client(broker, unique("s"), version=version)
    subscribe_ok(sub, 1, [(topic, 1)], version=version)
    pub, _ = open_client(broker, unique("p"), version=version)
    # The issue: only $SYS is the broker's; `$other/topic` is published normally.
    publish_acked(pub, topic, b"fine", version)
    data = read_packet(sub)
    pid = parse_publish(data, version)["packet_id"]
    assert data == publish(topic, b"fine", qos=1, packet_id=pid, version=version)
    sub.sendall(puback(pid))


# --- retained messages and matching -----------------------------------------------------

@VERSIONS
def test_retained_messages_match_like_live_ones(broker, version):
    base = unique("rm")
    pub, _ = open_client(broker, unique("p"), version=version)
    for topic in (base, base + "/x", base + "/x/y", base + "/", "$" + base + "/x"):
        publish_acked(pub, topic, topic.encode(), version, qos=0, retain=True)

    def retained_for(filters, n):
        sub, _ = open_client(broker, unique("s"), version=version)
        ack, got = subscribe_and_collect(sub, 1, [(f, 0) for f in filters], version, n)
        assert ack == suback(1, [0] * len(filters), version)
        got += drain(sub, 0.5)
        return sorted(parse_publish(g, version)["topic"] for g in got)

    # [MQTT-4.7.1-2] '#' matches the parent level and everything below.
    assert retained_for([base + "/#"], 4) == sorted([base, base + "/", base + "/x",
                                                     base + "/x/y"])
    # [MQTT-4.7.1-3] '+' matches exactly one level, an empty one included.
    assert retained_for([base + "/+"], 2) == sorted([base + "/", base + "/x"])
    # [MQTT-4.7.2-1] '#' and '+' at the start do not match a '$' topic, retained or not;
    # the '$' filter itself does.
    everything = retained_for(["#", "+/x"], 3)
    assert not any(t.startswith("$") for t in everything), everything
    assert retained_for(["$" + base + "/+"], 1) == ["$" + base + "/x"]


def test_resubscribe_resends_retained_v311(broker):
    topic = unique("rr") + "/t"
    pub, _ = open_client(broker, unique("p"), version=V311)
    publish_acked(pub, topic, b"again", V311, qos=0, retain=True)
    sub, _ = open_client(broker, unique("s"), version=V311)
    for packet_id in (1, 2):
        ack, got = subscribe_and_collect(sub, packet_id, [(topic, 0)], V311, 1)
        # (3.1.1) [MQTT-3.8.4-3] a repeated subscription replaces the old one and the
        # retained messages are sent again, with RETAIN 1 [MQTT-3.3.1-8].
        assert ack == suback(packet_id, [0], V311)
        assert got == [publish(topic, b"again", retain=True)]


def test_retained_message_carries_the_subscription_identifier_v5(broker):
    topic = unique("rsid") + "/t"
    pub, _ = open_client(broker, unique("p"), version=V5)
    publish_acked(pub, topic, b"sid", V5, qos=0, retain=True)
    sub, _ = open_client(broker, unique("s"), version=V5)
    ack, got = subscribe_and_collect(sub, 1, [(topic, 0)], V5, 1,
                                     props=[(SUBSCRIPTION_IDENTIFIER, 42)])
    # [MQTT-3.3.4-3] a message sent because of a subscription carries its identifier.
    assert got == [publish(topic, b"sid", retain=True, version=V5,
                           props=[(SUBSCRIPTION_IDENTIFIER, 42)])]
