"""Interoperability with Eclipse Paho Python (Debian's python3-paho-mqtt 1.6.1), over
MQTT 3.1.1 and 5.0: QoS 0/1/2, retained messages, Wills, persistent sessions, session
takeover, shared subscriptions, and the MQTT 5 features (topic aliases, properties,
subscription identifiers and options, CONNACK properties, flow control).

paho 1.6.1 drops the reason code of a PUBACK, and of a DISCONNECT whose Remaining
Length is under 3; those assertions, and those about what is resent on the wire, use
hand-built packets (mqtt_helpers.RawClient).

Spec references: "3.1.1 [MQTT-x]" and "5.0 [MQTT-x]" name the normative statements of
the two OASIS standards, whose numbering differs.
"""
import signal
import time

import pytest

from mqtt_helpers import (DISCONNECT, PINGRESP, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL, QUIET,
                          SUBACK, V5, V311, PacketTypes, PahoClient, RawClient, SubscribeOptions,
                          ack_packet, packet, parse_publish, prop_u32, properties, props,
                          publish_packet, subscribe_packet, unique, wait_until)


@pytest.fixture(params=[V311, V5], ids=["mqttv311", "mqttv5"])
def version(request):
    return request.param


@pytest.fixture
def make_client(broker, version):
    """Factory of connected PahoClients, of the test's MQTT version unless told
    otherwise, closed at the end of the test."""
    made = []

    def make(**kwargs):
        kwargs.setdefault("version", version)
        client = PahoClient(broker.port, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def v5_client(broker):
    """Factory of connected MQTT 5 PahoClients, for the tests of MQTT 5 features."""
    made = []

    def make(**kwargs):
        client = PahoClient(broker.port, version=V5, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def raw_client(broker):
    made = []

    def make(**kwargs):
        client = RawClient(broker.port, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def persistent(version, client_id):
    """Keyword arguments for a session that outlives its connection: 3.1.1 Clean
    Session 0; 5.0 Clean Start 0 with a Session Expiry Interval."""
    kwargs = {"client_id": client_id, "clean": False}
    if version == V5:
        kwargs["session_expiry"] = 60
    return kwargs


def wire_version(version):
    return 5 if version == V5 else 4


def raw_persistent(version):
    """RawClient.connect() arguments for a session that outlives its connection."""
    if version == V5:
        return {"version": 5, "clean": False, "properties": props(prop_u32(0x11, 60))}
    return {"version": 4, "clean": False}


def payloads(messages):
    return [m.payload for m in messages]


# --- QoS ---------------------------------------------------------------------------------


@pytest.mark.parametrize("pub_qos", [0, 1, 2])
def test_delivered_qos_is_the_lower_of_publish_and_subscription(make_client, pub_qos):
    topic = unique("qos")
    subscribers = {qos: make_client() for qos in (0, 1, 2)}
    for qos, subscriber in subscribers.items():
        assert subscriber.subscribe(topic, qos) == [qos]
    publisher = make_client()
    count = 25
    mids = [publisher.publish(topic, b"%d" % i, qos=pub_qos, wait=False) for i in range(count)]
    assert publisher.wait_published(mids)
    expected = [b"%d" % i for i in range(count)]
    for sub_qos, subscriber in subscribers.items():
        subscriber.wait_messages(count)
        got = subscriber.quiet_messages()
        # Each message once (so QoS 2 is exactly once both ways), in publication order.
        assert payloads(got) == expected, "subscriber QoS %d" % sub_qos
        # 3.1.1 section 3.8.4, 5.0 [MQTT-3.8.4-8]: min(published QoS, granted QoS).
        assert {m.qos for m in got} == {min(sub_qos, pub_qos)}
        assert not any(m.dup for m in got)


def test_qos2_resent_publish_is_delivered_once(make_client, raw_client, version):
    """A PUBLISH resent with DUP before PUBREL is acknowledged again but not delivered
    onward a second time (4.3.3 of both versions, "Method B" included)."""
    topic = unique("qos2dup")
    subscriber = make_client()
    subscriber.subscribe(topic, 2)
    v = wire_version(version)
    raw = raw_client()
    assert raw.connect(unique("raw"), version=v)[1] == 0
    raw.send(publish_packet(topic, b"once", qos=2, packet_id=7, version=v))
    assert raw.expect(PUBREC)[:2] == b"\x00\x07"
    dup = bytearray(publish_packet(topic, b"once", qos=2, packet_id=7, version=v))
    dup[0] |= 0x08
    raw.send(bytes(dup))
    assert raw.expect(PUBREC)[:2] == b"\x00\x07"
    raw.send(ack_packet(PUBREL, 7))
    assert raw.expect(PUBCOMP)[:2] == b"\x00\x07"
    subscriber.wait_messages(1)
    assert payloads(subscriber.quiet_messages()) == [b"once"]


def test_large_payload_round_trip(make_client):
    topic = unique("large")
    subscriber = make_client()
    subscriber.subscribe(topic, 1)
    payload = bytes(range(256)) * 1024  # 256 KiB, under the 1 MB mqtt.max_packet_size
    make_client().publish(topic, payload, qos=1)
    assert subscriber.wait_messages(1)[0].payload == payload


# --- subscriptions -----------------------------------------------------------------------------


def test_wildcard_subscriptions(make_client):
    prefix = unique("wild")
    plus = make_client()
    plus.subscribe(prefix + "/+/temp", 1)
    hash_ = make_client()
    hash_.subscribe(prefix + "/#", 1)
    publisher = make_client()
    for topic in ("a/temp", "b/temp", "a/b/temp", "a/humidity"):
        publisher.publish(prefix + "/" + topic, topic.encode(), qos=1)
    hash_.wait_messages(4)
    assert payloads(plus.quiet_messages()) == [b"a/temp", b"b/temp"]
    assert payloads(hash_.quiet_messages()) == [b"a/temp", b"b/temp", b"a/b/temp",
                                                b"a/humidity"]


def test_resubscribe_replaces_the_subscription(make_client):
    """3.1.1 and 5.0 [MQTT-3.8.4-3]: the same filter again replaces the subscription
    (one copy, the new QoS) and the retained messages are sent again."""
    topic = unique("resub")
    publisher = make_client()
    publisher.publish(topic, b"retained", qos=2, retain=True)
    subscriber = make_client()
    assert subscriber.subscribe(topic, 0) == [0]
    assert [(m.payload, m.qos) for m in subscriber.wait_messages(1)] == [(b"retained", 0)]
    assert subscriber.subscribe(topic, 2) == [2]
    got = subscriber.wait_messages(2)
    assert [(m.payload, m.qos, m.retain) for m in got[1:]] == [(b"retained", 2, True)]
    subscriber.take_messages()
    publisher.publish(topic, b"live", qos=2)
    subscriber.wait_messages(1)
    assert [(m.payload, m.qos) for m in subscriber.quiet_messages()] == [(b"live", 2)]
    publisher.publish(topic, b"", qos=1, retain=True)


def test_unsubscribe_stops_delivery(make_client, version):
    topic = unique("unsub")
    subscriber = make_client()
    subscriber.subscribe(topic, 1)
    codes = subscriber.unsubscribe(topic)
    again = subscriber.unsubscribe(topic)
    if version == V5:
        # 5.0 3.11.3: 0x00 Success, then 0x11 No subscription existed.
        assert codes == [0x00]
        assert again == [0x11]
    make_client().publish(topic, b"nobody listens", qos=1)
    assert subscriber.quiet_messages() == []


def test_dollar_topics_do_not_match_leading_wildcards(make_client):
    """5.0 [MQTT-4.7.2-1] (3.1.1 4.7.2): '#' and '+' at the first level do not match
    topics starting with '$'."""
    name = unique("dollar")
    everything = make_client()
    everything.subscribe("#", 1)
    explicit = make_client()
    explicit.subscribe("$" + name + "/#", 1)
    make_client().publish("$" + name + "/x", b"dollar", qos=1)
    assert payloads(explicit.wait_messages(1)) == [b"dollar"]
    assert all(not m.topic.startswith("$") for m in everything.quiet_messages())


# --- retained messages ---------------------------------------------------------------------


def test_retained_store_replace_and_delete(make_client):
    topic = unique("retained")
    publisher = make_client()
    publisher.publish(topic, b"first", qos=1, retain=True)
    publisher.publish(topic, b"second", qos=1, retain=True)

    # The latest retained message replaces the earlier one (3.1.1 [MQTT-3.3.1-5],
    # 5.0 [MQTT-3.3.1-5]) and a new subscription gets it with RETAIN set (3.1.1
    # [MQTT-3.3.1-8], 5.0 [MQTT-3.3.1-9]).
    late = make_client()
    late.subscribe(topic, 1)
    late.wait_messages(1)
    got = late.quiet_messages()
    assert payloads(got) == [b"second"]
    assert got[0].retain and got[0].qos == 1

    # Sent because of an established subscription: RETAIN 0 (3.1.1 [MQTT-3.3.1-9];
    # 5.0 [MQTT-3.3.1-12] with Retain As Published 0).
    late.take_messages()
    publisher.publish(topic, b"third", qos=1, retain=True)
    got = late.wait_messages(1)
    assert payloads(got) == [b"third"] and not got[0].retain

    # An empty retained payload is forwarded as normal and deletes the retained
    # message (3.1.1 [MQTT-3.3.1-10], 5.0 [MQTT-3.3.1-6]).
    late.take_messages()
    publisher.publish(topic, b"", qos=1, retain=True)
    assert payloads(late.wait_messages(1)) == [b""]
    fresh = make_client()
    fresh.subscribe(topic, 1)
    assert fresh.quiet_messages() == []


def test_retained_messages_for_a_wildcard_subscription(make_client):
    prefix = unique("retained-wild")
    publisher = make_client()
    publisher.publish(prefix + "/a", b"A", qos=1, retain=True)
    publisher.publish(prefix + "/b/c", b"BC", qos=0, retain=True)
    publisher.publish(prefix + "/plain", b"not retained", qos=1)
    subscriber = make_client()
    subscriber.subscribe(prefix + "/#", 1)
    subscriber.wait_messages(2)
    got = {m.topic: m for m in subscriber.quiet_messages()}
    assert set(got) == {prefix + "/a", prefix + "/b/c"}
    assert got[prefix + "/a"].payload == b"A" and got[prefix + "/a"].qos == 1
    assert got[prefix + "/b/c"].payload == b"BC" and got[prefix + "/b/c"].qos == 0
    assert all(m.retain for m in got.values())
    for topic in got:
        publisher.publish(topic, b"", qos=1, retain=True)


def test_retained_qos_is_capped_by_the_subscription(make_client):
    topic = unique("retained-qos")
    publisher = make_client()
    publisher.publish(topic, b"r", qos=2, retain=True)
    subscriber = make_client()
    subscriber.subscribe(topic, 1)
    got = subscriber.wait_messages(1)
    assert got[0].payload == b"r" and got[0].qos == 1 and got[0].retain
    publisher.publish(topic, b"", qos=1, retain=True)


# --- Will ----------------------------------------------------------------------------------


def test_will_published_on_abnormal_disconnect(make_client):
    topic = unique("will")
    watcher = make_client()
    watcher.subscribe(topic, 1)
    dying = make_client(will={"topic": topic, "payload": b"gone", "qos": 1})
    dying.drop()  # TCP closed without DISCONNECT
    got = watcher.wait_messages(1)
    assert payloads(got) == [b"gone"] and got[0].qos == 1


def test_retained_will_is_kept(make_client):
    topic = unique("will-retained")
    watcher = make_client()
    watcher.subscribe(topic, 1)
    dying = make_client(will={"topic": topic, "payload": b"last words", "qos": 1,
                              "retain": True})
    dying.drop()
    # Once the watcher has the Will, the broker has published (and retained) it; a
    # subscriber arriving before that would get it live, without the retain flag.
    watcher.wait_messages(1)
    late = make_client()
    late.subscribe(topic, 1)
    got = late.wait_messages(1)
    assert payloads(got) == [b"last words"] and got[0].retain
    late.publish(topic, b"", qos=1, retain=True)


def test_no_will_on_normal_disconnect(make_client):
    topic = unique("nowill")
    watcher = make_client()
    watcher.subscribe(topic, 1)
    leaving = make_client(will={"topic": topic, "payload": b"should not", "qos": 1})
    leaving.disconnect()
    # The Will is discarded (3.1.1 [MQTT-3.1.2-10], 5.0 [MQTT-3.14.4-3]). A marker
    # published afterwards shows the broker has dealt with the disconnection.
    make_client().publish(topic, b"marker", qos=1)
    watcher.wait_messages(1)
    assert payloads(watcher.quiet_messages()) == [b"marker"]


def test_will_published_on_keep_alive_timeout(make_client, raw_client, version):
    """3.1.1 [MQTT-3.1.2-24] / 5.0 3.1.2.10: nothing for 1.5 x Keep Alive closes the
    connection, an abnormal end that publishes the Will; MQTT 5 is told 0x8D."""
    topic = unique("will-keepalive")
    watcher = make_client()
    watcher.subscribe(topic, 1)
    v = wire_version(version)
    silent = raw_client()
    assert silent.connect(unique("silent"), version=v, keepalive=1,
                          will={"topic": topic, "payload": b"timed out", "qos": 1})[1] == 0
    got = silent.read_packet()
    if v == 5:
        assert got is not None and got[0] == DISCONNECT and got[2][:1] == b"\x8d"
        got = silent.read_packet()
    assert got is None
    assert payloads(watcher.wait_messages(1)) == [b"timed out"]


def test_takeover_publishes_the_will_of_the_old_connection(make_client, version):
    """5.0 3.1.4 (after [MQTT-3.1.4-3]): the existing client's Will is published as
    for any connection closed without DISCONNECT; 3.1.1 3.1.2.5 likewise."""
    topic = unique("will-takeover")
    client_id = unique("will-takeover-id")
    watcher = make_client()
    watcher.subscribe(topic, 1)
    make_client(client_id=client_id, will={"topic": topic, "payload": b"replaced", "qos": 1})
    make_client(client_id=client_id)
    assert payloads(watcher.wait_messages(1)) == [b"replaced"]


def test_v5_disconnect_with_will_message_publishes_the_will(v5_client):
    topic = unique("will04")
    watcher = v5_client()
    watcher.subscribe(topic, 1)
    will_props = properties(PacketTypes.WILLMESSAGE, ContentType="text/plain",
                            UserProperty=[("k", "v")])
    leaving = v5_client(will={"topic": topic, "payload": b"asked for", "qos": 1,
                              "properties": will_props})
    leaving.disconnect(reason="Disconnect with will message")  # 5.0 3.14.2.1, 0x04
    got = watcher.wait_messages(1)
    assert payloads(got) == [b"asked for"]
    # The Will Properties travel with the Will Message (5.0 3.1.3.2).
    assert got[0].properties.ContentType == "text/plain"
    assert got[0].properties.UserProperty == [("k", "v")]


def test_v5_will_delay_cancelled_by_reconnect(v5_client):
    topic = unique("willdelay")
    client_id = unique("delayed")
    watcher = v5_client()
    watcher.subscribe(topic, 1)
    will = {"topic": topic, "payload": b"late", "qos": 1,
            "properties": properties(PacketTypes.WILLMESSAGE, WillDelayInterval=3)}
    dying = v5_client(will=will, **persistent(V5, client_id))
    dying.drop()
    back = v5_client(**persistent(V5, client_id))
    assert back.connacks[-1]["session_present"]
    # 5.0 [MQTT-3.1.3-9]: reconnected within the delay, the Will is never sent.
    time.sleep(5)
    v5_client().publish(topic, b"marker", qos=1)
    watcher.wait_messages(1)
    assert payloads(watcher.quiet_messages()) == [b"marker"]


def test_v5_will_delay_elapses_without_reconnect(v5_client):
    topic = unique("willdelay-elapses")
    watcher = v5_client()
    watcher.subscribe(topic, 1)
    will = {"topic": topic, "payload": b"after delay", "qos": 1,
            "properties": properties(PacketTypes.WILLMESSAGE, WillDelayInterval=2)}
    dying = v5_client(will=will, **persistent(V5, unique("delayed")))
    dying.drop()
    # Not at once (a slow broker can only make it later), and eventually.
    time.sleep(0.5)
    assert watcher.messages == []
    assert payloads(watcher.wait_messages(1)) == [b"after delay"]


# --- sessions ------------------------------------------------------------------------------


def test_persistent_session_resumes_with_queued_message(make_client, version):
    client_id = unique("persist")
    topic = unique("persist-topic")
    first = make_client(**persistent(version, client_id))
    assert not first.connacks[-1]["session_present"]
    first.subscribe(topic, 1)
    first.disconnect()

    make_client().publish(topic, b"while away", qos=1)

    back = make_client(**persistent(version, client_id))
    # 3.1.1 [MQTT-3.2.2-2], 5.0 [MQTT-3.2.2-3]: Session Present 1.
    assert back.connacks[-1]["session_present"]
    got = back.wait_messages(1)
    assert payloads(got) == [b"while away"] and got[0].qos == 1
    # The subscription is part of the session, so it still works.
    make_client().publish(topic, b"live", qos=1)
    assert payloads(back.wait_messages(2))[1] == b"live"

    # A clean connection discards the session (3.1.1 [MQTT-3.1.2-6], 5.0 [MQTT-3.1.2-4]).
    back.disconnect()
    clean = make_client(client_id=client_id, clean=True)
    assert not clean.connacks[-1]["session_present"]
    make_client().publish(topic, b"nobody", qos=1)
    assert clean.quiet_messages() == []


def test_unacknowledged_qos1_is_resent_with_dup_on_resume(make_client, raw_client, version):
    """3.1.1 and 5.0 [MQTT-4.4.0-1]: on resumption, unacknowledged PUBLISH packets are
    sent again with their original packet identifiers and DUP set [MQTT-3.3.1-1]."""
    client_id = unique("resend")
    topic = unique("resend-topic")
    v = wire_version(version)
    first = raw_client()
    assert first.connect(client_id, **raw_persistent(version))[1] == 0
    first.send(subscribe_packet(1, [(topic, 1)], version=v))
    assert first.expect(SUBACK)[-1] == 1
    make_client().publish(topic, b"unacked", qos=1)
    got = first.read_packet()
    assert got[0] == PUBLISH
    original = parse_publish(got[1], got[2], v)
    assert original["payload"] == b"unacked" and not original["dup"]
    first.close()  # no PUBACK

    back = raw_client()
    assert back.connect(client_id, **raw_persistent(version))[:1] == b"\x01"
    got = back.read_packet()
    assert got is not None and got[0] == PUBLISH
    resent = parse_publish(got[1], got[2], v)
    assert resent["payload"] == b"unacked"
    assert resent["dup"] and resent["qos"] == 1
    assert resent["packet_id"] == original["packet_id"]
    back.send(ack_packet(PUBACK, resent["packet_id"]))
    with pytest.raises(OSError):  # socket.timeout: nothing else is owed
        back.read_packet(timeout=2 * QUIET)


def test_qos2_pubrel_is_resent_on_resume(make_client, raw_client, version):
    """3.1.1 and 5.0 [MQTT-4.4.0-1]: after PUBREC the server resends PUBREL, not the
    PUBLISH, so the message is delivered exactly once."""
    client_id = unique("pubrel")
    topic = unique("pubrel-topic")
    v = wire_version(version)
    first = raw_client()
    assert first.connect(client_id, **raw_persistent(version))[1] == 0
    first.send(subscribe_packet(1, [(topic, 2)], version=v))
    assert first.expect(SUBACK)[-1] == 2
    make_client().publish(topic, b"exactly once", qos=2)
    got = first.read_packet()
    message = parse_publish(got[1], got[2], v)
    assert got[0] == PUBLISH and message["qos"] == 2
    first.send(ack_packet(PUBREC, message["packet_id"]))
    assert first.expect(PUBREL)[:2] == message["packet_id"].to_bytes(2, "big")
    first.close()  # no PUBCOMP

    back = raw_client()
    assert back.connect(client_id, **raw_persistent(version))[:1] == b"\x01"
    assert back.expect(PUBREL)[:2] == message["packet_id"].to_bytes(2, "big")
    back.send(ack_packet(PUBCOMP, message["packet_id"]))
    with pytest.raises(OSError):
        back.read_packet(timeout=2 * QUIET)


def test_v5_session_without_expiry_ends_at_disconnect(v5_client):
    client_id = unique("noexpiry")
    topic = unique("noexpiry-topic")
    first = v5_client(client_id=client_id, clean=False)  # no Session Expiry Interval
    first.subscribe(topic, 1)
    first.disconnect()
    v5_client().publish(topic, b"lost", qos=1)
    back = v5_client(client_id=client_id, clean=False)
    # 5.0 3.1.2.11.2: expiry absent means 0, the session ended with the connection.
    assert not back.connacks[-1]["session_present"]
    assert back.quiet_messages() == []


def test_session_takeover(make_client, version):
    client_id = unique("takeover")
    topic = unique("takeover-topic")
    first = make_client(**persistent(version, client_id))
    first.subscribe(topic, 1)
    second = make_client(**persistent(version, client_id))
    # [MQTT-3.1.4-3] (3.1.1 [MQTT-3.1.4-2]): the existing connection is closed and
    # the session continues on the new one.
    assert first.wait_disconnected() is not None
    assert second.connacks[-1]["session_present"]
    make_client().publish(topic, b"to the new one", qos=1)
    assert payloads(second.wait_messages(1)) == [b"to the new one"]
    assert first.messages == []


def test_v5_takeover_disconnect_reason_is_0x8e(raw_client):
    client_id = unique("takeover-raw")
    first = raw_client()
    second = raw_client()
    assert first.connect(client_id, **raw_persistent(V5))[:2] == b"\x00\x00"
    assert second.connect(client_id, **raw_persistent(V5))[:2] == b"\x01\x00"
    # 5.0 [MQTT-3.1.4-3]: DISCONNECT 0x8E Session taken over, then the connection closes.
    got = first.read_packet()
    assert got is not None and got[0] == DISCONNECT and got[2][:1] == b"\x8e"
    assert first.read_packet() is None


# --- shared subscriptions -----------------------------------------------------------------


def test_shared_subscription_delivers_each_message_to_one_member(make_client):
    topic = unique("shared")
    members = [make_client() for _ in range(3)]
    for member in members:
        member.subscribe("$share/g/" + topic, 1)
    publisher = make_client()
    count = 30
    mids = [publisher.publish(topic, b"%d" % i, qos=1, wait=False) for i in range(count)]
    assert publisher.wait_published(mids)
    wait_until(lambda: sum(len(m.messages) for m in members) >= count)
    got = [member.quiet_messages() for member in members]
    everything = sorted(int(m.payload) for messages in got for m in messages)
    # 5.0 4.8.2: each message goes to exactly one member of the group.
    assert everything == list(range(count))
    per_member = [len(messages) for messages in got]
    # round_robin (the default strategy): every member gets its turn.
    assert min(per_member) > 0, per_member
    assert max(per_member) - min(per_member) <= 1, per_member
    for messages in got:
        values = [int(m.payload) for m in messages]
        assert values == sorted(values)


def test_shared_and_plain_subscriptions_are_independent(make_client):
    topic = unique("shared-plain")
    member = make_client()
    member.subscribe("$share/grp/" + topic, 1)
    plain = make_client()
    plain.subscribe(topic, 1)
    make_client().publish(topic, b"x", qos=1)
    assert payloads(member.wait_messages(1)) == [b"x"]
    assert payloads(plain.wait_messages(1)) == [b"x"]


def test_shared_subscription_redelivers_when_a_member_session_ends(make_client, raw_client,
                                                                   version):
    """5.0 4.8.2: QoS 1 messages sent to a member whose session ends before it
    acknowledged them SHOULD go to another member."""
    topic = unique("shared-leave")
    v = wire_version(version)
    leaving = raw_client()
    assert leaving.connect(unique("leaving"), version=v)[1] == 0  # session ends on close
    leaving.send(subscribe_packet(1, [("$share/g/" + topic, 1)], version=v))
    assert leaving.expect(SUBACK)[-1] == 1
    staying = make_client()
    staying.subscribe("$share/g/" + topic, 1)
    publisher = make_client()
    count = 10
    mids = [publisher.publish(topic, b"%d" % i, qos=1, wait=False) for i in range(count)]
    assert publisher.wait_published(mids)
    held = 0
    while True:
        try:
            got = leaving.read_packet(timeout=2 * QUIET)
        except OSError:  # socket.timeout: it has all it is going to get
            break
        assert got[0] == PUBLISH
        held += 1
    assert held > 0  # round robin gave the leaving member its share
    leaving.close()  # never acknowledged
    staying.wait_messages(count)
    assert sorted(int(p) for p in payloads(staying.quiet_messages())) == list(range(count))


# --- MQTT 5 features -------------------------------------------------------------------------


def test_v5_topic_alias(v5_client):
    topic = unique("alias")
    other = unique("alias-other")
    subscriber = v5_client()
    subscriber.subscribe([(topic, 1), (other, 1)])
    publisher = v5_client()

    def alias():
        return properties(PacketTypes.PUBLISH, TopicAlias=1)

    # 5.0 3.3.2.3.4: topic + alias sets the mapping, an empty topic uses it, and a
    # new topic with the same alias replaces it.
    publisher.publish(topic, b"with topic", qos=1, props=alias())
    publisher.publish("", b"alias only", qos=1, props=alias())
    publisher.publish(other, b"remapped", qos=1, props=alias())
    publisher.publish("", b"alias only again", qos=0, props=alias())
    got = subscriber.wait_messages(4)
    assert [(m.topic, m.payload) for m in got] == [
        (topic, b"with topic"), (topic, b"alias only"), (other, b"remapped"),
        (other, b"alias only again")]
    # The subscriber sent no Topic Alias Maximum, which means 0: the server may send
    # it no Topic Alias at all (5.0 3.1.2.11.5, 3.3.2.3.4).
    assert not any(hasattr(m.properties, "TopicAlias") for m in got)


def test_v5_publish_properties_arrive_intact(v5_client):
    topic = unique("props")
    subscriber = v5_client()
    subscriber.subscribe(topic, 1)
    publisher = v5_client()
    sent = properties(PacketTypes.PUBLISH, PayloadFormatIndicator=1, MessageExpiryInterval=3600,
                      ContentType="application/json", ResponseTopic=topic + "/reply",
                      CorrelationData=b"\x00\x01corr\xff",
                      UserProperty=[("b", "2"), ("a", "1"), ("b", "3"), ("empty", "")])
    publisher.publish(topic, b'{"k": 1}', qos=1, props=sent)
    got = subscriber.wait_messages(1)[0]
    p = got.properties
    # 5.0 3.3.2.3: forwarded unaltered; user properties in order [MQTT-3.3.2-18];
    # the expiry interval is what remains of it [MQTT-3.3.2-6].
    assert got.payload == b'{"k": 1}'
    assert p.PayloadFormatIndicator == 1
    assert p.ContentType == "application/json"
    assert p.ResponseTopic == topic + "/reply"
    assert p.CorrelationData == b"\x00\x01corr\xff"
    assert p.UserProperty == [("b", "2"), ("a", "1"), ("b", "3"), ("empty", "")]
    assert 0 < p.MessageExpiryInterval <= 3600


def test_cross_version_delivery(broker):
    topic = unique("cross")
    v3 = PahoClient(broker.port, version=V311)
    v5 = PahoClient(broker.port, version=V5)
    try:
        v3.subscribe(topic, 1)
        v5.subscribe(topic, 1)
        v5.publish(topic, b"from five", qos=1,
                   props=properties(PacketTypes.PUBLISH, ContentType="text/plain",
                                    UserProperty=[("x", "y")]))
        v3.publish(topic, b"from three", qos=1)
        assert payloads(v3.wait_messages(2)) == [b"from five", b"from three"]
        got = v5.wait_messages(2)
        assert payloads(got) == [b"from five", b"from three"]
        assert got[0].properties.UserProperty == [("x", "y")]
        assert not hasattr(got[1].properties, "UserProperty")
    finally:
        v3.close()
        v5.close()


def test_v5_expired_message_is_not_delivered_from_the_queue(v5_client):
    client_id = unique("expiry")
    topic = unique("expiry-topic")
    first = v5_client(client_id=client_id, clean=False, session_expiry=60)
    first.subscribe(topic, 1)
    first.disconnect()
    publisher = v5_client()
    publisher.publish(topic, b"short-lived", qos=1,
                      props=properties(PacketTypes.PUBLISH, MessageExpiryInterval=1))
    publisher.publish(topic, b"long-lived", qos=1,
                      props=properties(PacketTypes.PUBLISH, MessageExpiryInterval=600))
    time.sleep(2.5)
    back = v5_client(client_id=client_id, clean=False, session_expiry=60)
    assert back.connacks[-1]["session_present"]
    back.wait_messages(1)
    # 5.0 [MQTT-3.3.2-5]: an expired message is not delivered.
    got = back.quiet_messages()
    assert payloads(got) == [b"long-lived"]
    assert got[0].properties.MessageExpiryInterval <= 600


def test_v5_expired_retained_message_is_not_delivered(v5_client):
    topic = unique("expiry-retained")
    publisher = v5_client()
    publisher.publish(topic + "/short", b"short-lived", qos=1, retain=True,
                      props=properties(PacketTypes.PUBLISH, MessageExpiryInterval=1))
    publisher.publish(topic + "/long", b"long-lived", qos=1, retain=True,
                      props=properties(PacketTypes.PUBLISH, MessageExpiryInterval=600))
    time.sleep(2.5)
    subscriber = v5_client()
    subscriber.subscribe(topic + "/#", 1)
    subscriber.wait_messages(1)
    got = subscriber.quiet_messages()
    # 5.0 3.3.2.3.3: a retained message whose interval has passed is not sent.
    assert payloads(got) == [b"long-lived"]
    assert got[0].properties.MessageExpiryInterval < 600
    publisher.publish(topic + "/long", b"", qos=1, retain=True)


def test_v5_subscription_identifiers(v5_client):
    prefix = unique("subid")
    v5_client().publish(prefix + "/kept", b"retained", qos=1, retain=True)
    subscriber = v5_client()
    for filter_, identifier in ((prefix + "/#", 1), (prefix + "/+", 2), (prefix + "/x/only", 3)):
        subscriber.subscribe(filter_, 1,
                             props=properties(PacketTypes.SUBSCRIBE,
                                              SubscriptionIdentifier=identifier))
    subscriber.subscribe(prefix + "/none", 1)  # no identifier
    subscriber.wait_messages(2)
    retained = subscriber.quiet_messages()
    # A retained message sent for a SUBSCRIBE carries that subscription's identifier.
    assert [(m.payload, m.properties.SubscriptionIdentifier) for m in retained] == [
        (b"retained", [1]), (b"retained", [2])]
    subscriber.take_messages()
    publisher = v5_client()
    publisher.publish(prefix + "/a", b"both", qos=1)
    publisher.publish(prefix + "/x/only", b"one and three", qos=1)
    publisher.publish(prefix + "/none", b"1 2 and none", qos=1)
    subscriber.wait_messages(3)
    got = subscriber.quiet_messages()
    # 5.0 [MQTT-3.3.4-2] [MQTT-3.3.4-4]: overlapping subscriptions give (here) one
    # copy carrying the identifier of every matching subscription that has one.
    assert payloads(got) == [b"both", b"one and three", b"1 2 and none"]
    ids = [sorted(getattr(m.properties, "SubscriptionIdentifier", [])) for m in got]
    assert ids == [[1, 2], [1, 3], [1, 2]]
    publisher.publish(prefix + "/kept", b"", qos=1, retain=True)


def test_v5_no_local(v5_client):
    topic = unique("nolocal")
    me = v5_client()
    me.subscribe(topic, options=SubscribeOptions(qos=1, noLocal=True))
    other = v5_client()
    other.subscribe(topic, 1)
    me.publish(topic, b"mine", qos=1)
    # 5.0 [MQTT-3.8.3-3]: not forwarded to the connection that published it ...
    assert payloads(other.wait_messages(1)) == [b"mine"]
    other.publish(topic, b"theirs", qos=1)
    assert payloads(me.wait_messages(1)) == [b"theirs"]
    assert payloads(me.quiet_messages()) == [b"theirs"]
    # ... while without No Local the publisher gets its own message.
    assert payloads(other.quiet_messages()) == [b"mine", b"theirs"]


def test_v5_retain_as_published(v5_client):
    topic = unique("rap")
    keep = v5_client()
    keep.subscribe(topic, options=SubscribeOptions(qos=1, retainAsPublished=True))
    clear = v5_client()
    clear.subscribe(topic, options=SubscribeOptions(qos=1, retainAsPublished=False))
    publisher = v5_client()
    publisher.publish(topic, b"retained", qos=1, retain=True)
    publisher.publish(topic, b"plain", qos=1, retain=False)
    # 5.0 [MQTT-3.3.1-12]: RAP 0 clears RETAIN; [MQTT-3.3.1-13]: RAP 1 keeps it.
    assert [(m.payload, m.retain) for m in keep.wait_messages(2)] == \
        [(b"retained", True), (b"plain", False)]
    assert [(m.payload, m.retain) for m in clear.wait_messages(2)] == \
        [(b"retained", False), (b"plain", False)]
    publisher.publish(topic, b"", qos=1, retain=True)


@pytest.mark.parametrize("handling,first,again", [
    (SubscribeOptions.RETAIN_SEND_ON_SUBSCRIBE, 1, 1),
    (SubscribeOptions.RETAIN_SEND_IF_NEW_SUB, 1, 0),
    (SubscribeOptions.RETAIN_DO_NOT_SEND, 0, 0),
], ids=["0-always", "1-if-new", "2-never"])
def test_v5_retain_handling(v5_client, handling, first, again):
    topic = unique("rh")
    publisher = v5_client()
    publisher.publish(topic, b"kept", qos=1, retain=True)
    subscriber = v5_client()
    options = SubscribeOptions(qos=1, retainHandling=handling)
    subscriber.subscribe(topic, options=options)
    # 5.0 [MQTT-3.3.1-9] [MQTT-3.3.1-10] [MQTT-3.3.1-11]
    assert len(subscriber.quiet_messages()) == first
    subscriber.subscribe(topic, options=options)  # the same subscription again
    assert len(subscriber.quiet_messages()) == first + again
    assert all(m.retain for m in subscriber.messages)
    publisher.publish(topic, b"", qos=1, retain=True)


def test_v5_assigned_client_identifier(v5_client):
    client = v5_client(client_id="")
    # 5.0 [MQTT-3.1.3-6] [MQTT-3.2.2-16]: an identifier is assigned and returned.
    assigned = client.connacks[-1]["properties"].AssignedClientIdentifier
    assert assigned
    topic = unique("assigned")
    client.subscribe(topic, 1)
    client.publish(topic, b"works", qos=1)
    assert payloads(client.wait_messages(1)) == [b"works"]
    other = v5_client(client_id="")
    assert other.connacks[-1]["properties"].AssignedClientIdentifier != assigned


def test_v311_empty_client_id(broker, raw_client):
    # 3.1.1 [MQTT-3.1.3-6]: accepted with Clean Session 1 ...
    client = PahoClient(broker.port, version=V311, client_id="", clean=True)
    client.close()
    # ... and 3.1.1 [MQTT-3.1.3-8]: refused with return code 0x02 with Clean Session 0.
    raw = raw_client()
    assert raw.connect("", version=4, clean=False) == b"\x00\x02"
    assert raw.read_packet() is None


def test_v5_connack_properties_are_the_documented_defaults(v5_client):
    p = v5_client().connacks[-1]["properties"]
    # docs/config.md: mqtt.max_inflight 32, mqtt.max_packet_size 1MB,
    # mqtt.max_topic_alias 65535. Maximum QoS 2 and retain, wildcard, shared
    # subscriptions and subscription identifiers available: said by leaving the
    # properties out (5.0 3.2.2.3).
    assert p.ReceiveMaximum == 32
    assert p.MaximumPacketSize == 1048576
    assert p.TopicAliasMaximum == 65535
    for absent in ("MaximumQoS", "RetainAvailable", "WildcardSubscriptionAvailable",
                   "SharedSubscriptionAvailable", "SubscriptionIdentifierAvailable",
                   "AssignedClientIdentifier", "ServerKeepAlive", "SessionExpiryInterval"):
        assert not hasattr(p, absent), absent


def test_v5_connack_properties_follow_the_configuration(start_broker):
    b = start_broker(args=["--threads", "2", "--set", "mqtt.max_inflight=10",
                           "--set", "mqtt.max_qos_allowed=1",
                           "--set", "mqtt.retain_available=false",
                           "--set", "mqtt.wildcard_subscription=false",
                           "--set", "mqtt.shared_subscription=false",
                           "--set", "mqtt.max_topic_alias=0", "--set", "mqtt.max_packet_size=64KB",
                           "--set", "mqtt.max_keepalive=30s",
                           "--set", "mqtt.session_expiry_interval=10s"])
    client = PahoClient(b.port, version=V5, keepalive=120, session_expiry=3600, clean=False)
    try:
        p = client.connacks[-1]["properties"]
        assert p.ReceiveMaximum == 10
        assert p.MaximumQoS == 1
        assert p.RetainAvailable == 0
        assert p.WildcardSubscriptionAvailable == 0
        assert p.SharedSubscriptionAvailable == 0
        assert p.MaximumPacketSize == 64 * 1024
        assert not hasattr(p, "TopicAliasMaximum")  # 0 is said by leaving it out
        assert p.ServerKeepAlive == 30  # 5.0 3.2.2.3.14
        assert p.SessionExpiryInterval == 10  # 5.0 3.2.2.3.2: the server's value
        # Granted QoS at most the Maximum QoS (5.0 3.2.2.3.4); wildcard and shared
        # subscriptions refused with 0xA2 and 0x9E (5.0 3.9.3).
        assert client.subscribe(unique("q"), 2) == [1]
        assert client.subscribe(unique("w") + "/#", 1) == [0xA2]
        assert client.subscribe("$share/g/" + unique("s"), 1) == [0x9E]
    finally:
        client.close()


def test_v5_receive_maximum_of_the_client_is_respected(v5_client, raw_client):
    """5.0 [MQTT-3.3.4-9]: no more unacknowledged QoS 1 PUBLISH packets than the
    client's Receive Maximum; each PUBACK lets one more through."""
    topic = unique("rm")
    raw = raw_client()
    receive_maximum = props(bytes([0x21]) + b"\x00\x05")
    assert raw.connect(unique("rm-client"), version=5, properties=receive_maximum)[1] == 0
    raw.send(subscribe_packet(1, [(topic, 1)], version=5))
    assert raw.expect(SUBACK)[-1] == 1
    publisher = v5_client()
    mids = [publisher.publish(topic, b"%d" % i, qos=1, wait=False) for i in range(12)]
    assert publisher.wait_published(mids)
    held = []
    for _ in range(5):
        got = raw.read_packet()
        assert got[0] == PUBLISH
        held.append(parse_publish(got[1], got[2], 5))
    with pytest.raises(OSError):  # socket.timeout: the window is full
        raw.read_packet(timeout=2 * QUIET)
    raw.send(ack_packet(PUBACK, held[0]["packet_id"]))
    got = raw.read_packet()
    assert got[0] == PUBLISH and parse_publish(got[1], got[2], 5)["payload"] == b"5"
    with pytest.raises(OSError):
        raw.read_packet(timeout=2 * QUIET)


def test_v5_maximum_packet_size_of_the_client_is_respected(v5_client):
    """5.0 [MQTT-3.1.2-25]: a message too large for the client's Maximum Packet Size
    is not sent to it; the client stays connected and gets the rest."""
    topic = unique("maxpacket")
    small = v5_client(connect_properties=properties(PacketTypes.CONNECT, MaximumPacketSize=256))
    small.subscribe(topic, 1)
    publisher = v5_client()
    publisher.publish(topic, b"x" * 1000, qos=1)
    publisher.publish(topic, b"fits", qos=1)
    small.wait_messages(1)
    assert payloads(small.quiet_messages()) == [b"fits"]
    assert small.disconnects == []


# --- $SYS, shutdown ----------------------------------------------------------------------------


def test_publish_to_sys_is_refused_without_disconnecting(make_client, raw_client, version):
    topic = "$SYS/" + unique("sys")
    watcher = make_client()
    watcher.subscribe(topic, 1)
    # paho completes the QoS 1 and 2 exchanges and stays connected.
    client = make_client()
    client.publish(topic, b"forged", qos=1)
    client.publish(topic, b"forged 2", qos=2)
    assert client.client.is_connected() and client.disconnects == []
    v = wire_version(version)
    raw = raw_client()
    assert raw.connect(unique("sys-raw"), version=v)[1] == 0
    raw.send(publish_packet(topic, b"forged", qos=1, packet_id=9, version=v))
    ack = raw.expect(PUBACK)
    assert ack[:2] == b"\x00\x09"
    if v == 5:
        assert ack[2:3] == b"\x87"  # Not authorized
    raw.send(packet(0xC0, b""))  # PINGREQ: still connected
    assert raw.expect(PINGRESP) == b""
    assert watcher.quiet_messages() == []


def test_sigterm_sends_v5_clients_server_shutting_down(start_broker):
    b = start_broker(args=["--threads", "2"])
    paho5 = PahoClient(b.port, version=V5)
    raw5 = RawClient(b.port)
    raw4 = RawClient(b.port)
    try:
        assert raw5.connect(unique("term5"), version=5)[1] == 0
        assert raw4.connect(unique("term4"), version=4) == b"\x00\x00"
        assert b.stop(sig=signal.SIGTERM) == 0
        # 5.0 3.14.2.1 / 4.13.2: MQTT 5 clients get DISCONNECT 0x8B Server shutting down.
        got = raw5.read_packet()
        assert got is not None and got[0] == DISCONNECT and got[2][:1] == b"\x8b"
        assert raw5.read_packet() is None
        # 3.1.1 has no DISCONNECT from the server: the connection just closes.
        assert raw4.read_packet() is None
        assert paho5.wait_disconnected() is not None
    finally:
        paho5.close()
        raw5.close()
        raw4.close()
