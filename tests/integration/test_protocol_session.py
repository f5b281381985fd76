"""Byte-exact session tests against the real broker: Clean Session / Clean Start and
Session Expiry Interval, Session Present, offline queueing, expiry, takeover, and the
Will Message, in MQTT 3.1.1 and 5.0.

Statement ids are MQTT 5.0's unless marked (3.1.1)."""
import time

import pytest

from mqtt_bytes import (
    CONTENT_TYPE, CORRELATION_DATA, MESSAGE_EXPIRY_INTERVAL, PAYLOAD_FORMAT_INDICATOR,
    RESPONSE_TOPIC, SESSION_EXPIRY_INTERVAL, USER_PROPERTY, V311, V5, WILL_DELAY_INTERVAL,
    Closed, connect, disconnect, expect_closed, expect_no_packet, h, open_client, parse_connack,
    parse_publish, pingreq, prop, prop_values, puback, pubcomp, publish, pubrec, read_packet,
    subscribe, subscribe_ok, unique)

VERSIONS = pytest.mark.parametrize("version", [V311, V5], ids=["v311", "v5"])


def persistent(version, expiry=60):
    """CONNECT properties that make a session outlive its connection: 3.1.1 uses Clean
    Session 0 alone; MQTT 5 also needs a Session Expiry Interval [MQTT-3.1.2-23]."""
    return [(SESSION_EXPIRY_INTERVAL, expiry)] if version == V5 else None


def reconnect(broker, client_id, version, clean=False, expiry=60, **kw):
    """Connects with a session that outlives the connection (Clean Start as given)."""
    return open_client(broker, client_id, version=version, clean=clean,
                       props=persistent(version, expiry), **kw)


def close_normally(sock):
    sock.sendall(disconnect())
    expect_closed(sock)


def drop(sock):
    """Ends the connection without DISCONNECT (an abnormal disconnection)."""
    sock.close()


def present_of(connack, version):
    return parse_connack(connack, version)[0]


# --- Session Present ---------------------------------------------------------------

def test_session_present_v311(broker):
    cid = unique("sp3")
    sock = broker.connect()
    sock.sendall(connect(cid, version=V311, clean=False))
    # [MQTT-3.2.2-3] (3.1.1) no stored session: Session Present 0, return code 0.
    assert read_packet(sock) == h("20 02 00 00")
    close_normally(sock)

    sock = broker.connect()
    sock.sendall(connect(cid, version=V311, clean=False))
    # [MQTT-3.1.2-4] (3.1.1) Clean Session 0 resumes the stored session; [MQTT-3.2.2-2]
    # (3.1.1) Session Present 1.
    assert read_packet(sock) == h("20 02 01 00")
    close_normally(sock)

    sock = broker.connect()
    sock.sendall(connect(cid, version=V311, clean=True))
    # [MQTT-3.1.2-6] (3.1.1) Clean Session 1 discards the session; [MQTT-3.2.2-1] (3.1.1)
    # Session Present 0.
    assert read_packet(sock) == h("20 02 00 00")
    close_normally(sock)

    sock = broker.connect()
    sock.sendall(connect(cid, version=V311, clean=False))
    # [MQTT-3.1.2-6] (3.1.1) the clean session's state is not reused: nothing to resume.
    assert read_packet(sock) == h("20 02 00 00")
    close_normally(sock)


def test_session_present_v5(broker):
    cid = unique("sp5")
    sock, ack = open_client(broker, cid, version=V5, clean=False, props=persistent(V5))
    assert present_of(ack, V5) == 0  # [MQTT-3.1.2-6] [MQTT-3.2.2-3] a new session
    close_normally(sock)

    sock, ack = open_client(broker, cid, version=V5, clean=False, props=persistent(V5))
    # [MQTT-3.1.2-23] kept after the close (expiry 60 s); [MQTT-3.1.2-5] resumed;
    # [MQTT-3.2.2-3] Session Present 1. The CONNACK is otherwise the default one.
    assert parse_connack(ack, V5)[:2] == (1, 0)
    assert ack[2] == 0x01
    close_normally(sock)

    sock, ack = open_client(broker, cid, version=V5, clean=True, props=persistent(V5))
    # [MQTT-3.1.2-4] Clean Start 1 discards it; [MQTT-3.2.2-2] Session Present 0.
    assert present_of(ack, V5) == 0
    close_normally(sock)

    # This time without Session Expiry Interval (absent = 0): the session ends with the
    # connection (MQTT 5.0 3.1.2.11.2), so there is nothing to resume.
    sock, ack = open_client(broker, cid, version=V5, clean=False)
    assert present_of(ack, V5) == 1  # the session of the previous connection, expiry 60
    close_normally(sock)
    sock, ack = open_client(broker, cid, version=V5, clean=False)
    assert present_of(ack, V5) == 0  # [MQTT-3.2.2-3]


# --- offline queueing ----------------------------------------------------------------

@VERSIONS
def test_offline_messages_are_queued_in_order(broker, version):
    cid, topic = unique("q"), unique("queue") + "/t"
    sub, _ = reconnect(broker, cid, version)
    assert subscribe_ok(sub, 1, [(topic, 2)], version=version) == [2]
    close_normally(sub)

    pub, _ = open_client(broker, unique("qp"), version=version)
    pub.sendall(publish(topic, b"m0", qos=0, version=version))
    pub.sendall(publish(topic, b"m1", qos=1, packet_id=1, version=version))
    assert read_packet(pub) == h("40 02 00 01")
    pub.sendall(publish(topic, b"m2", qos=2, packet_id=2, version=version))
    assert read_packet(pub) == h("50 02 00 02")
    pub.sendall(h("62 02 00 02"))
    assert read_packet(pub) == h("70 02 00 02")

    sub, ack = reconnect(broker, cid, version)
    assert present_of(ack, version) == 1
    got = [read_packet(sub) for _ in range(3)]
    # (3.1.1) [MQTT-3.1.2-5]: QoS 1 and 2 messages for an offline Clean Session 0 client
    # are stored and sent on reconnection; QoS 0 too, since mqtt.mqueue_store_qos0 defaults
    # to true (the issue). [MQTT-4.6.0-5] (5.0) / [MQTT-4.6.0-6] (3.1.1) in the order
    # they were published.
    # Each keeps its own QoS (the subscription grants 2) [MQTT-3.8.4-8]; a first
    # transmission has DUP 0 ([MQTT-4.3.2-2], [MQTT-4.3.3-2] in 5.0) with a non-zero packet id
    # [MQTT-2.2.1-4].
    assert got[0] == publish(topic, b"m0", qos=0, version=version)
    id1 = parse_publish(got[1], version)["packet_id"]
    id2 = parse_publish(got[2], version)["packet_id"]
    assert id1 and id2 and id1 != id2
    assert got[1] == publish(topic, b"m1", qos=1, packet_id=id1, version=version)
    assert got[2] == publish(topic, b"m2", qos=2, packet_id=id2, version=version)
    sub.sendall(puback(id1) + pubrec(id2))
    # [MQTT-4.3.3-4] PUBREL with the original packet id, 0x00 (2-byte form).
    assert read_packet(sub) == bytes([0x62, 0x02]) + id2.to_bytes(2, "big")
    sub.sendall(pubcomp(id2))
    sub.sendall(pingreq())
    assert read_packet(sub) == h("d0 00")  # and nothing else was queued


@VERSIONS
def test_subscriptions_are_part_of_the_session(broker, version):
    cid, topic = unique("ss"), unique("sess") + "/t"
    sub, _ = reconnect(broker, cid, version)
    subscribe_ok(sub, 1, [(topic, 1)], version=version)
    drop(sub)
    time.sleep(0.2)
    sub, ack = reconnect(broker, cid, version)
    assert present_of(ack, version) == 1
    pub, _ = open_client(broker, unique("ssp"), version=version)
    pub.sendall(publish(topic, b"after", version=version))
    # [MQTT-3.1.2-5] the resumed session keeps its subscriptions (session state, 4.1).
    assert read_packet(sub) == publish(topic, b"after", version=version)


# --- expiry --------------------------------------------------------------------------

def test_session_expires_after_its_interval_v5(broker):
    cid, topic = unique("exp"), unique("exp") + "/t"
    sub, _ = open_client(broker, cid, version=V5, clean=False, props=persistent(V5, 1))
    subscribe_ok(sub, 1, [(topic, 1)], version=V5)
    close_normally(sub)
    time.sleep(3)
    pub, _ = open_client(broker, unique("expp"), version=V5)
    pub.sendall(publish(topic, b"late", qos=1, packet_id=1, version=V5))
    assert read_packet(pub) == h("40 02 00 01")
    sub, ack = open_client(broker, cid, version=V5, clean=False, props=persistent(V5, 1))
    # [MQTT-4.1.0-2] the session is discarded once its expiry interval (1 s) has passed:
    # Session Present 0 [MQTT-3.2.2-3], and nothing of the old session is delivered.
    assert present_of(ack, V5) == 0
    expect_no_packet(sub, 1.0)


def test_session_within_its_interval_is_resumed_v5(broker):
    cid = unique("exp")
    sub, _ = open_client(broker, cid, version=V5, clean=False, props=persistent(V5, 10))
    close_normally(sub)
    time.sleep(1.5)
    _, ack = open_client(broker, cid, version=V5, clean=False, props=persistent(V5, 10))
    assert present_of(ack, V5) == 1  # [MQTT-3.1.2-23] [MQTT-3.2.2-3]


def test_disconnect_can_end_the_session_v5(broker):
    cid = unique("dse")
    sock, _ = open_client(broker, cid, version=V5, clean=False, props=persistent(V5))
    # MQTT 5.0 3.14.2.2.2: the Session Expiry Interval on DISCONNECT replaces CONNECT's.
    sock.sendall(disconnect(0x00, props=[(SESSION_EXPIRY_INTERVAL, 0)]))
    expect_closed(sock)
    _, ack = open_client(broker, cid, version=V5, clean=False, props=persistent(V5))
    assert present_of(ack, V5) == 0  # [MQTT-3.2.2-3]


def test_disconnect_cannot_revive_a_zero_expiry_session_v5(broker):
    cid = unique("dse")
    sock, _ = open_client(broker, cid, version=V5, clean=False)  # expiry absent = 0
    sock.sendall(disconnect(0x00, props=[(SESSION_EXPIRY_INTERVAL, 30)]))
    # MQTT 5.0 3.14.2.2.2: a non-zero interval on DISCONNECT after 0 on CONNECT is a
    # Protocol Error: DISCONNECT 0x82 (4.13), then close.
    assert read_packet(sock) == h("e0 01 82")
    expect_closed(sock)
    _, ack = open_client(broker, cid, version=V5, clean=False)
    assert present_of(ack, V5) == 0


# --- takeover ------------------------------------------------------------------------

@pytest.mark.parametrize("clean", [False, True], ids=["resume", "clean"])
@VERSIONS
def test_session_takeover(broker, version, clean):
    cid, topic = unique("to"), unique("takeover") + "/t"
    first, _ = reconnect(broker, cid, version)
    subscribe_ok(first, 1, [(topic, 1)], version=version)
    second, ack = reconnect(broker, cid, version, clean=clean)
    if version == V5:
        # [MQTT-3.1.4-3] the existing connection gets DISCONNECT 0x8E (Session taken
        # over), then is closed.
        assert read_packet(first) == h("e0 01 8e")
    # [MQTT-3.1.4-2] (3.1.1) the existing client is disconnected.
    expect_closed(first)
    # [MQTT-3.2.2-3] / (3.1.1) [MQTT-3.2.2-2]: Session Present 1 when resuming the
    # session; Clean Start 1: 0 [MQTT-3.2.2-2] / (3.1.1) [MQTT-3.2.2-1].
    assert present_of(ack, version) == (0 if clean else 1)

    pub, _ = open_client(broker, unique("top"), version=version)
    pub.sendall(publish(topic, b"to-second", version=version))
    if clean:
        # [MQTT-3.1.2-4] the subscription went with the discarded session.
        expect_no_packet(second, 1.0)
    else:
        # [MQTT-3.1.2-5] the resumed session's subscription delivers to the new connection.
        assert read_packet(second) == publish(topic, b"to-second", version=version)
    second.sendall(pingreq())
    assert read_packet(second) == h("d0 00")


# --- Will ----------------------------------------------------------------------------

def will_watcher(broker, topic, version=V5, qos=1):
    sock, _ = open_client(broker, unique("ww"), version=version)
    subscribe_ok(sock, 1, [(topic, qos)], version=version)
    return sock


@VERSIONS
def test_will_published_on_abnormal_disconnect(broker, version):
    topic = unique("will") + "/t"
    watcher = will_watcher(broker, topic, version)
    client, _ = open_client(broker, unique("w"), version=version,
                            will={"topic": topic, "payload": b"gone", "qos": 1})
    drop(client)
    data = read_packet(watcher)
    pid = parse_publish(data, version)["packet_id"]
    # [MQTT-3.1.2-8] published when the connection closes without DISCONNECT;
    # [MQTT-3.1.2-14] (5.0) / [MQTT-3.1.2-16] (3.1.1) Will Retain 0: not retained; at
    # the Will QoS 1.
    assert data == publish(topic, b"gone", qos=1, packet_id=pid, version=version)
    watcher.sendall(puback(pid))


@VERSIONS
def test_will_not_published_on_normal_disconnect(broker, version):
    topic = unique("will") + "/t"
    watcher = will_watcher(broker, topic, version)
    client, _ = open_client(broker, unique("w"), version=version,
                            will={"topic": topic, "payload": b"gone"})
    close_normally(client)
    # [MQTT-3.1.2-10] (both) / [MQTT-3.14.4-3]: DISCONNECT (0x00) discards the Will.
    expect_no_packet(watcher, 1.5)


@VERSIONS
def test_will_published_on_keep_alive_timeout(broker, version):
    topic = unique("will") + "/t"
    watcher = will_watcher(broker, topic, version)
    client, _ = open_client(broker, unique("w"), version=version, keep_alive=1,
                            will={"topic": topic, "payload": b"silent"})
    # (3.1.1) 3.1.2.5: the Will is published when the client fails to communicate within
    # the Keep Alive time; (5.0) [MQTT-3.1.2-8] the connection closed without DISCONNECT.
    assert read_packet(watcher, timeout=8) == publish(topic, b"silent", version=version)


def test_will_published_on_disconnect_with_will_message_v5(broker):
    topic = unique("will") + "/t"
    watcher = will_watcher(broker, topic)
    client, _ = open_client(broker, unique("w"), version=V5,
                            will={"topic": topic, "payload": b"asked"})
    client.sendall(disconnect(0x04))
    expect_closed(client)
    # MQTT 5.0 3.14.2.1: 0x04 Disconnect with Will Message: the server publishes the Will.
    assert read_packet(watcher) == publish(topic, b"asked", version=V5)


def test_will_retained_is_published_retained(broker):
    topic = unique("will") + "/t"
    client, _ = open_client(broker, unique("w"), version=V311,
                            will={"topic": topic, "payload": b"kept", "retain": True})
    drop(client)
    time.sleep(0.5)
    late, _ = open_client(broker, unique("wl"), version=V311)
    late.sendall(subscribe(1, [(topic, 0)]))
    assert read_packet(late) == h("90 03 00 01 00")
    # (3.1.1) [MQTT-3.1.2-17] Will Retain 1: published as a retained message, so a later
    # subscriber gets it with RETAIN 1 [MQTT-3.3.1-8] (3.1.1).
    assert read_packet(late) == publish(topic, b"kept", retain=True)


def test_will_delay_reconnect_within_delay_cancels_will_v5(broker):
    cid, topic = unique("wd"), unique("will") + "/t"
    watcher = will_watcher(broker, topic)
    client, _ = open_client(broker, cid, version=V5, clean=False, props=persistent(V5),
                            will={"topic": topic, "payload": b"late",
                                  "props": [(WILL_DELAY_INTERVAL, 2)]})
    drop(client)
    time.sleep(0.5)
    client, ack = open_client(broker, cid, version=V5, clean=False, props=persistent(V5))
    assert present_of(ack, V5) == 1
    # [MQTT-3.1.3-9] a new connection for the session before the Will Delay Interval
    # has passed: the Will is not sent.
    expect_no_packet(watcher, 3.5)


def test_will_delay_is_waited_for_v5(broker):
    cid, topic = unique("wd"), unique("will") + "/t"
    watcher = will_watcher(broker, topic)
    client, _ = open_client(broker, cid, version=V5, clean=False, props=persistent(V5),
                            will={"topic": topic, "payload": b"late",
                                  "props": [(WILL_DELAY_INTERVAL, 2)]})
    drop(client)
    start = time.monotonic()
    # [MQTT-3.1.2-8] published once the Will Delay Interval (2 s) has elapsed, not before.
    expect_no_packet(watcher, 1.5)
    assert read_packet(watcher, timeout=8) == publish(topic, b"late", version=V5)
    assert time.monotonic() - start >= 1.9


def test_will_published_when_session_ends_before_delay_v5(broker):
    cid, topic = unique("wd"), unique("will") + "/t"
    watcher = will_watcher(broker, topic)
    client, _ = open_client(broker, cid, version=V5, clean=False, props=persistent(V5, 1),
                            will={"topic": topic, "payload": b"ended",
                                  "props": [(WILL_DELAY_INTERVAL, 60)]})
    drop(client)
    # [MQTT-3.1.2-8] published when the Will Delay Interval has elapsed *or the Session
    # ends*, whichever first: the session expires after 1 s.
    assert read_packet(watcher, timeout=8) == publish(topic, b"ended", version=V5)


def test_will_properties_are_passed_on_v5(broker):
    topic = unique("will") + "/t"
    watcher = will_watcher(broker, topic)
    users = [("k", "v1"), ("a", "x"), ("k", "v0")]
    will_props = [(PAYLOAD_FORMAT_INDICATOR, 1), (MESSAGE_EXPIRY_INTERVAL, 60),
                  (CONTENT_TYPE, "text/plain"), (RESPONSE_TOPIC, "reply/here"),
                  (CORRELATION_DATA, b"\x01\x02\x00")]
    will_props += [(USER_PROPERTY, u) for u in users]
    client, _ = open_client(broker, unique("w"), version=V5,
                            will={"topic": topic, "payload": b"props", "props": will_props})
    drop(client)
    got = parse_publish(read_packet(watcher), V5)
    assert (got["topic"], got["payload"], got["qos"], got["retain"]) == \
        (topic, b"props", 0, False)
    props = got["props"]
    # MQTT 5.0 3.1.3.2: the Will Properties travel with the Will Message:
    # [MQTT-3.3.2-4] Payload Format Indicator, [MQTT-3.3.2-20] Content Type,
    # [MQTT-3.3.2-15] Response Topic, [MQTT-3.3.2-16] Correlation Data unaltered;
    # [MQTT-3.1.3-10] the User Properties in their order; the Message Expiry Interval
    # less the time waited [MQTT-3.3.2-6]; no Will Delay Interval (not a PUBLISH property).
    assert prop(props, PAYLOAD_FORMAT_INDICATOR) == 1
    assert prop(props, CONTENT_TYPE) == "text/plain"
    assert prop(props, RESPONSE_TOPIC) == "reply/here"
    assert prop(props, CORRELATION_DATA) == b"\x01\x02\x00"
    assert prop_values(props, USER_PROPERTY) == users
    assert 55 <= prop(props, MESSAGE_EXPIRY_INTERVAL) <= 60
    assert prop(props, WILL_DELAY_INTERVAL) is None
    assert {i for i, _ in props} <= {PAYLOAD_FORMAT_INDICATOR, CONTENT_TYPE, RESPONSE_TOPIC,
                                     CORRELATION_DATA, USER_PROPERTY,
                                     MESSAGE_EXPIRY_INTERVAL}


@VERSIONS
def test_will_published_when_server_closes_for_a_protocol_error(broker, version):
    topic = unique("will") + "/t"
    watcher = will_watcher(broker, topic, version)
    client, _ = open_client(broker, unique("w"), version=version,
                            will={"topic": topic, "payload": b"broken"})
    client.sendall(h("c1 00"))  # PINGREQ with a reserved flag set: malformed
    if version == V5:
        assert read_packet(client) == h("e0 01 81")
    expect_closed(client)
    # (3.1.1) 3.1.2.5: the Will is published when the server closes the connection because
    # of a protocol error; (5.0) [MQTT-3.1.2-8] closed without DISCONNECT 0x00.
    assert read_packet(watcher) == publish(topic, b"broken", version=version)


def test_will_published_on_takeover_without_delay_v5(broker):
    cid, topic = unique("wt"), unique("will") + "/t"
    watcher = will_watcher(broker, topic)
    first, _ = open_client(broker, cid, version=V5, clean=False, props=persistent(V5),
                           will={"topic": topic, "payload": b"taken"})
    second, _ = open_client(broker, cid, version=V5, clean=False, props=persistent(V5))
    assert read_packet(first) == h("e0 01 8e")
    expect_closed(first)
    # MQTT 5.0 3.1.4 (after [MQTT-3.1.4-3]): the existing client's Will is published as
    # 3.1.2.5 describes; Will Delay Interval 0: at once [MQTT-3.1.2-8].
    assert read_packet(watcher) == publish(topic, b"taken", version=V5)


def test_will_with_delay_not_published_on_takeover_resume_v5(broker):
    cid, topic = unique("wt"), unique("will") + "/t"
    watcher = will_watcher(broker, topic)
    first, _ = open_client(broker, cid, version=V5, clean=False, props=persistent(V5),
                           will={"topic": topic, "payload": b"taken",
                                 "props": [(WILL_DELAY_INTERVAL, 2)]})
    second, ack = open_client(broker, cid, version=V5, clean=False, props=persistent(V5))
    assert present_of(ack, V5) == 1
    assert read_packet(first) == h("e0 01 8e")
    # [MQTT-3.1.3-9] the new connection came before the Will Delay Interval passed.
    expect_no_packet(watcher, 3.5)


# --- many connections for one client id at once ------------------------------------------

def _burst(broker, version, cid, n=6):
    """A connected persistent client, then `n` CONNECTs for the same id sent at once.
    Returns the packets each of the n+1 sockets received and whether it is still open."""
    first, _ = reconnect(broker, cid, version)
    socks = [broker.connect() for _ in range(n)]
    data = connect(cid, version=version, clean=False, props=persistent(version))
    for sock in socks:
        sock.sendall(data)
    time.sleep(0.5)
    results = []
    for sock in [first] + socks:
        got, state = [], "open"
        try:
            while True:
                got.append(read_packet(sock, 1.5))
        except Closed:
            state = "closed"
        except TimeoutError:
            pass
        results.append((sock, got, state))
    return results


def _describe(results):
    return [([g.hex(" ") for g in got], state) for _, got, state in results]


def test_no_disconnect_before_connack_when_connects_race_v5(broker):
    for _ in range(4):
        results = _burst(broker, V5, unique("race"))
        for _, got, _ in results[1:]:
            if got:
                # [MQTT-3.2.0-1] a CONNACK 0x00 comes before any other packet;
                # [MQTT-3.14.0-1] never a DISCONNECT before a CONNACK below 0x80. (Closing a
                # connection that lost the race without a word would be allowed.)
                assert got[0][0] == 0x20 and parse_connack(got[0], V5)[1] == 0, \
                    _describe(results)


@VERSIONS
def test_racing_connects_leave_exactly_one_connection(broker, version):
    for _ in range(4):
        results = _burst(broker, version, unique("race"))
        survivors = [(sock, got) for sock, got, state in results if state == "open"]
        # [MQTT-3.1.4-3] (5.0) / [MQTT-3.1.4-2] (3.1.1): an existing connection is closed
        # because a *new* one for the client id takes the session (0x8E "another
        # Connection using the same ClientID has connected", 3.14.2.1), so the newest
        # accepted connection stays: exactly one, holding the resumed session
        # (Session Present 1, [MQTT-3.2.2-3]).
        assert len(survivors) == 1, _describe(results)
        sock, got = survivors[0]
        assert parse_connack(got[0], version)[:2] == (1, 0), _describe(results)
        sock.sendall(pingreq())
        assert read_packet(sock) == h("d0 00")
        close_normally(sock)


def test_will_message_expiry_counts_from_publication_v5(broker):
    """MQTT 5.0 3.1.3.2.4: the Will's Message Expiry Interval is its lifetime once
    published; [MQTT-3.3.2-5] it expires while queued for an offline subscriber, and
    [MQTT-3.3.2-6] the interval forwarded is what remains of it."""
    cid, topic = unique("wme"), unique("wme") + "/t"
    persistent = [(SESSION_EXPIRY_INTERVAL, 60)]
    sub, _ = open_client(broker, cid, version=V5, clean=False, props=persistent)
    subscribe_ok(sub, 1, [(topic, 1)], version=V5)
    sub.sendall(disconnect())
    expect_closed(sub)

    # The CONNECT carrying the Will is 2.2 s older than its publication: an interval
    # counted from the CONNECT would be nearly spent when the Will is published.
    dying, _ = open_client(broker, unique("wme-d"), version=V5,
                           will={"topic": topic, "payload": b"short", "qos": 1,
                                 "props": [(MESSAGE_EXPIRY_INTERVAL, 3)]})
    time.sleep(2.2)
    drop(dying)
    time.sleep(0.5)  # the Will is published and queued for the offline session
    sub, ack = open_client(broker, cid, version=V5, clean=False, props=persistent)
    assert parse_connack(ack, V5)[0] == 1
    got = parse_publish(read_packet(sub), V5)
    assert got["payload"] == b"short"
    assert 2 <= prop(got["props"], MESSAGE_EXPIRY_INTERVAL) <= 3
    sub.sendall(puback(got["packet_id"]) + disconnect())
    expect_closed(sub)

    # Published, then left queued past its 3 s: deleted before delivery [MQTT-3.3.2-5].
    dying, _ = open_client(broker, unique("wme-d"), version=V5,
                           will={"topic": topic, "payload": b"stale", "qos": 1,
                                 "props": [(MESSAGE_EXPIRY_INTERVAL, 1)]})
    drop(dying)
    time.sleep(2.2)
    sub, ack = open_client(broker, cid, version=V5, clean=False, props=persistent)
    assert parse_connack(ack, V5)[0] == 1
    expect_no_packet(sub, 1.0)
