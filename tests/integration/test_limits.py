"""Overload protection (docs/security.md "Overload protection"): the real broker under
bursts of connections, fast publishers, idle sockets, clients over their subscription
and topic limits, and a password guesser, while other clients go on being served.

Each limit is checked from the outside: what the clients see (CONNACK or a closed
socket, reason codes of SUBACK/PUBACK, how many messages arrive in a window) and the
counters the broker logs when it stops ("overload counters: ..."). Windows and rates
have generous margins: the broker under test is a Debug + ASan build sharing two
cores with other work.
"""
import os
import re
import signal
import socket
import threading
import time

import pytest

from mqtt_bytes import (PINGRESP, PUBACK, V5, V311, Closed, connect, expect_closed, open_client,
                        packet_type, parse_connack, parse_publish, pingreq, publish, read_packet,
                        subscribe_ok)
from mqtt_helpers import PahoClient, unique

LONG = 60.0


def listener_port(broker, name):
    """The port of listener `name` as the broker logged it."""
    deadline = time.time() + 20
    pattern = re.compile(r"listening on tcp 127\.0\.0\.1:(\d+) \(listener %s," % re.escape(name))
    while time.time() < deadline:
        match = pattern.search(broker.log())
        if match:
            return int(match.group(1))
        time.sleep(0.05)
    raise AssertionError("listener %s not in the log:\n%s" % (name, broker.log()))


def counters(broker):
    """Stops the broker and returns its overload counters (name -> value). The fixture's
    own stop() later finds it stopped and only cleans up."""
    broker.process.send_signal(signal.SIGTERM)
    assert broker.process.wait(timeout=30) == 0, broker.log()
    match = re.search(r"overload counters: (.*)", broker.log())
    if not match:
        return {}
    return {k: int(v) for k, v in (item.split("=") for item in match.group(1).split(", "))}


def try_connect(port, client_id, version=V311, results=None, timeout=10.0, **kwargs):
    """Opens a socket and sends CONNECT. Returns (socket or None, CONNACK code or None):
    None when the broker closed the connection without a CONNACK."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        sock.sendall(connect(client_id, version=version, **kwargs))
        data = read_packet(sock, timeout)
        code = parse_connack(data, version)[1]
    except (Closed, ConnectionResetError, BrokenPipeError):
        sock.close()
        sock, code = None, None
    if results is not None:
        results.append((sock, code))
    return sock, code


def burst(port, count, prefix, **kwargs):
    """`count` clients connecting at once; returns [(socket or None, code or None)]."""
    results = []
    threads = [threading.Thread(target=try_connect, args=(port, unique(prefix)),
                                kwargs=dict(results=results, **kwargs)) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(LONG)
    assert len(results) == count
    return results


def close_all(results):
    for sock, _ in results:
        if sock is not None:
            sock.close()


def round_trip(client, topic, payload, timeout=10.0):
    """Publishes QoS 1 to a topic `client` subscribes to; returns the seconds it took
    for the message to come back."""
    start = time.monotonic()
    before = len(client.messages)
    client.publish(topic, payload, qos=1, timeout=timeout)
    assert client.wait_for(lambda: len(client.messages) > before, timeout), "no round trip"
    return time.monotonic() - start


# --- connection limits -----------------------------------------------------------------

def test_listener_max_connections_holds_under_a_burst(start_broker):
    broker = start_broker(args=["--threads", "2"], config="\n".join([
        "[listeners.tcp.small]", 'bind = "127.0.0.1:0"', "max_connections = 5", ""]))
    small = listener_port(broker, "small")
    other = listener_port(broker, "cli-1")
    topic = unique("limits/listener")
    # A subscriber holds one of the five slots; its messages come from the other listener.
    subscriber = PahoClient(small)
    publisher = PahoClient(other)
    try:
        subscriber.subscribe(topic, qos=1)
        results = burst(small, 30, "burst")
        accepted = [code for _, code in results if code == 0]
        refused = [code for _, code in results if code is None]
        assert len(accepted) == 4, results
        assert len(refused) == 26, results
        # The listener is full, the one next to it is not, and the subscriber is served.
        for i in range(10):
            publisher.publish(topic, b"m%d" % i, qos=1)
        got = subscriber.wait_messages(10)
        assert [m.payload for m in got] == [b"m%d" % i for i in range(10)]
        assert PahoClient(other).client.is_connected()
        # Freed slots can be taken again.
        close_all(results)
        deadline = time.time() + 10
        retries_refused = 0  # until the broker has seen the closes
        while True:
            sock, code = try_connect(small, unique("again"))
            if code == 0 or time.time() > deadline:
                break
            retries_refused += 1
            time.sleep(0.1)
        assert code == 0
        sock.close()
    finally:
        subscriber.close()
        publisher.close()
    found = counters(broker)
    assert found.get("refused_listener_max_connections") == 26 + retries_refused, found
    assert "max_connections (5) reached" in broker.log()


def test_node_max_connections_counts_every_listener(start_broker):
    broker = start_broker(args=["--threads", "2"], config="\n".join([
        "[node]", "max_connections = 8", "",
        "[listeners.tcp.a]", 'bind = "127.0.0.1:0"', ""]))
    port_a = listener_port(broker, "a")
    port_b = listener_port(broker, "cli-1")
    topic = unique("limits/node")
    subscriber = PahoClient(port_a)
    publisher = PahoClient(port_b)
    try:
        subscriber.subscribe(topic, qos=1)
        results = []
        threads = [threading.Thread(target=lambda p=p: results.extend(burst(p, 10, "node")))
                   for p in (port_a, port_b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(LONG)
        accepted = sum(1 for _, code in results if code == 0)
        # 6 slots are left; two workers accepting at the same instant may each take the
        # last one (docs/security.md), never more.
        assert 6 <= accepted <= 7, results
        for i in range(20):
            publisher.publish(topic, b"n%d" % i, qos=1)
        got = subscriber.wait_messages(20)
        assert [m.payload for m in got] == [b"n%d" % i for i in range(20)]
        close_all(results)
    finally:
        subscriber.close()
        publisher.close()
    found = counters(broker)
    assert found.get("refused_node_max_connections", 0) == 20 - accepted, found


def test_max_conn_rate_paces_new_connections_without_refusing_them(start_broker):
    broker = start_broker(args=["--threads", "2"], config="\n".join([
        "[listeners.tcp.paced]", 'bind = "127.0.0.1:0"', "max_conn_rate = 4", ""]))
    paced = listener_port(broker, "paced")
    other = listener_port(broker, "cli-1")
    topic = unique("limits/rate")
    client = PahoClient(other)
    try:
        client.subscribe(topic, qos=1)
        start = time.monotonic()
        results = []
        threads = [threading.Thread(target=try_connect, args=(paced, unique("paced")),
                                    kwargs=dict(results=results, timeout=LONG))
                   for _ in range(16)]
        for t in threads:
            t.start()
        # While the listener holds new clients back, a connected one is served at once.
        worst = max(round_trip(client, topic, b"rt%d" % i) for i in range(5))
        for t in threads:
            t.join(LONG)
        elapsed = time.monotonic() - start
        # Every client got in: the rate limit delays, it does not refuse.
        assert sorted(code for _, code in results) == [0] * 16, results
        # A burst of 4, then 4 a second: 12 more need 3 s. Generous margin below.
        assert elapsed >= 2.0, elapsed
        assert worst < 2.0, worst
        close_all(results)
    finally:
        client.close()
    found = counters(broker)
    assert found.get("accept_rate_pauses", 0) >= 1, found


def test_connect_timeout_closes_a_burst_of_idle_sockets(start_broker):
    broker = start_broker(args=["--threads", "2", "--set", "mqtt.idle_timeout=2s"])
    topic = unique("limits/idle")
    client = PahoClient(broker.port)
    idle = [socket.create_connection(("127.0.0.1", broker.port), timeout=10) for _ in range(60)]
    try:
        client.subscribe(topic, qos=1)
        for i in range(5):
            assert round_trip(client, topic, b"i%d" % i) < 2.0
        start = time.monotonic()
        for sock in idle:
            expect_closed(sock, timeout=15)
        # 2 s of idle timeout, checked once a second.
        assert time.monotonic() - start < 10
        assert client.client.is_connected()
        assert round_trip(client, topic, b"after") < 2.0
    finally:
        for sock in idle:
            sock.close()
        client.close()
    found = counters(broker)
    assert found.get("connect_timeouts") == 60, found
    assert broker.log().count("no CONNECT within mqtt.idle_timeout, closed") == 60


# --- publish rate limits (back-pressure) -----------------------------------------------

def run_flood(start_broker, settings, count, payload, window):
    args = ["--threads", "2"]
    for setting in settings:
        args += ["--set", setting]
    broker = start_broker(args=args)
    topic = unique("limits/flood")
    subscriber = PahoClient(broker.port)
    publisher = PahoClient(broker.port)
    try:
        subscriber.subscribe(topic, qos=1)
        start = time.monotonic()
        mids = [publisher.publish(topic, payload + b"%06d" % i, qos=1, wait=False)
                for i in range(count)]
        time.sleep(window)
        early = len(subscriber.messages)
        got = subscriber.wait_messages(count, timeout=LONG)
        elapsed = time.monotonic() - start
        # Back-pressure, not loss: every QoS 1 message arrives once, in order, acked.
        assert [m.payload for m in got] == [payload + b"%06d" % i for i in range(count)]
        assert publisher.wait_published(mids, timeout=LONG)
        assert publisher.client.is_connected()
    finally:
        subscriber.close()
        publisher.close()
    return early, elapsed, broker


def test_messages_rate_slows_a_fast_publisher_without_losing_messages(start_broker):
    # 20 a second, a burst of 20: 120 messages take 5 s; after 2 s about 60 are through.
    early, elapsed, broker = run_flood(start_broker, ["mqtt.messages_rate=20"], 120, b"x", 2.0)
    assert early <= 85, early
    assert elapsed >= 3.5, elapsed
    found = counters(broker)
    assert found.get("publish_rate_pauses", 0) >= 1, found
    assert broker.log().count("publishing faster than mqtt.messages_rate") == 1


def test_bytes_rate_slows_a_fast_publisher_without_losing_messages(start_broker):
    # 1 kB payloads under 10 kB/s (burst 10 kB): 40 messages take about 3 s.
    early, elapsed, broker = run_flood(start_broker, ["mqtt.bytes_rate=10KB"], 40, b"b" * 1000,
                                       1.5)
    assert early <= 32, early
    assert elapsed >= 2.0, elapsed
    found = counters(broker)
    assert found.get("publish_rate_pauses", 0) >= 1, found
    assert "publishing faster than mqtt.bytes_rate" in broker.log()


def test_without_a_rate_limit_the_same_flood_is_fast(start_broker):
    # The control: the same flood with no limit is through well within the window,
    # so the tests above measure the limit and not a slow machine.
    early, elapsed, broker = run_flood(start_broker, [], 120, b"x", 2.0)
    assert early == 120, early
    assert "publish_rate_pauses" not in counters(broker)


def test_a_rate_limited_client_does_not_slow_another_on_the_same_broker(start_broker):
    broker = start_broker(args=["--threads", "1", "--set", "mqtt.messages_rate=10"])
    flood_topic = unique("limits/flooded")
    topic = unique("limits/quick")
    fast = PahoClient(broker.port)
    other = PahoClient(broker.port)
    try:
        other.subscribe(topic, qos=1)
        for i in range(100):
            fast.publish(flood_topic, b"f", qos=1, wait=False)
        time.sleep(0.5)
        # One worker: the flooder's pause is a timer, so the other client's round trips
        # (2 packets each way, well under its own limit) go on.
        for i in range(5):
            assert round_trip(other, topic, b"q%d" % i) < 2.0
    finally:
        fast.close()
        other.close()


def test_a_client_paused_by_its_rate_is_not_taken_for_dead(start_broker):
    # 1 kB/s and a 5 kB PUBLISH: read at once (a packet larger than the burst passes),
    # then the socket is not read for about 4 s. Keep Alive 1 s would close an idle
    # client after 1.5 s; this one is not idle, the broker is not reading it.
    broker = start_broker(args=["--set", "mqtt.bytes_rate=1KB"])
    sock, _ = open_client(broker, unique("paused"), version=V5, keep_alive=1)
    start = time.monotonic()
    sock.sendall(publish("big/one", b"p" * 5000, qos=1, packet_id=1, version=V5))
    assert packet_type(read_packet(sock)) == PUBACK
    sock.sendall(pingreq())
    assert packet_type(read_packet(sock, timeout=20)) == PINGRESP
    waited = time.monotonic() - start
    assert waited >= 2.5, waited  # the PINGREQ waited behind the debt
    sock.sendall(pingreq())
    assert packet_type(read_packet(sock, timeout=5)) == PINGRESP
    sock.close()
    assert "keep alive timeout" not in broker.log()


# --- subscription and topic limits -----------------------------------------------------

@pytest.mark.parametrize("version", [V311, V5])
def test_max_subscriptions_refusal_codes(start_broker, version):
    broker = start_broker(args=["--set", "mqtt.max_subscriptions=2"])
    sock, _ = open_client(broker, unique("subs"), version=version)
    codes = subscribe_ok(sock, 1, [("a/1", 1), ("a/2", 1), ("a/3", 1)], version=version)
    # MQTT 5: 0x97 Quota exceeded; 3.1.1: 0x80 Failure.
    assert codes == [1, 1, 0x97 if version == V5 else 0x80]
    # A filter it already has is not a new subscription; another new one is refused too.
    assert subscribe_ok(sock, 2, [("a/1", 0), ("a/4", 0)], version=version) == \
        [0, 0x97 if version == V5 else 0x80]
    sock.close()
    found = counters(broker)
    assert found.get("refused_max_subscriptions") == 2, found
    assert broker.log().count("mqtt.max_subscriptions reached") == 1


@pytest.mark.parametrize("version", [V311, V5])
def test_topic_length_and_depth_refusal_codes(start_broker, version):
    broker = start_broker(args=["--set", "mqtt.max_topic_length=32",
                                "--set", "mqtt.max_topic_levels=3"])
    sub, _ = open_client(broker, unique("sub"), version=version)
    long_filter = "t/" + "l" * 40
    deep_filter = "t/a/b/c"
    codes = subscribe_ok(sub, 1, [("t/#", 1), (long_filter, 1), (deep_filter, 1)],
                         version=version)
    refused = 0x8F if version == V5 else 0x80  # Topic Filter invalid / Failure
    assert codes == [1, refused, refused]

    pub, _ = open_client(broker, unique("pub"), version=version)
    for packet_id, topic in ((1, "t/" + "x" * 40), (2, "t/a/b/c")):
        pub.sendall(publish(topic, b"no", qos=1, packet_id=packet_id, version=version))
        ack = read_packet(pub)
        assert packet_type(ack) == PUBACK
        if version == V5:
            assert ack[4] == 0x90, ack.hex(" ")  # Topic Name invalid
        else:
            assert len(ack) == 4, ack.hex(" ")  # 3.1.1 has no refusal code: dropped
    pub.sendall(publish("t/ok", b"yes", qos=1, packet_id=3, version=version))
    assert packet_type(read_packet(pub)) == PUBACK
    # Only the allowed message reaches the subscriber.
    delivered = parse_publish(read_packet(sub), version)
    assert (delivered["topic"], delivered["payload"]) == ("t/ok", b"yes")
    sub.close()
    pub.close()
    found = counters(broker)
    assert found.get("refused_topic_length") == 2, found
    assert found.get("refused_topic_levels") == 2, found
    log = broker.log()
    assert log.count("topic filter above mqtt.max_topic_length") == 1
    assert log.count("PUBLISH topic above mqtt.max_topic_length") == 1


# --- wrong passwords -------------------------------------------------------------------

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "auth")


def argon2_passwd_file(directory):
    """A password file with the two Argon2id users of tests/data/auth/argon2id.txt:
    grace (mosquitto 2.1's cost, ~50 ms a check) and heidi (a cheaper one)."""
    path = os.path.join(directory, "passwd")
    with open(os.path.join(DATA, "argon2id.txt")) as source, open(path, "w") as out:
        out.write(source.read())
    return path


def auth_broker(start_broker, directory, threads):
    return start_broker(args=["--threads", threads], config="\n".join([
        "[listeners.tcp.main]", 'bind = "127.0.0.1:0"', "allow_anonymous = true", "",
        "[auth.password_file]", 'path = "%s"' % argon2_passwd_file(directory), ""]))


def guess(port, user, password, version, results):
    start = time.monotonic()
    sock, code = try_connect(port, unique("guess"), version=version, username=user,
                             password=password.encode(), timeout=LONG)
    results.append((code, time.monotonic() - start))
    if sock is not None:
        sock.close()


def hammer(port, user, attempts, parallel, version=V5):
    results = []

    def worker(n):
        for i in range(n):
            guess(port, user, "wrong-%d" % i, version, results)

    threads = [threading.Thread(target=worker, args=(attempts // parallel,))
               for _ in range(parallel)]
    for t in threads:
        t.start()
    return threads, results


def test_a_password_hammer_is_slowed_down_and_slows_no_one_else(start_broker, tmp_path):
    broker = auth_broker(start_broker, str(tmp_path), "2")
    topic = unique("limits/bystander")
    bystander = PahoClient(broker.port)  # anonymous: no password to check
    try:
        bystander.subscribe(topic, qos=1)
        start = time.monotonic()
        threads, results = hammer(broker.port, "heidi", 200, 20)
        # While 20 connections at a time guess heidi's password, the bystander's round
        # trips stay fast and heidi herself still gets in.
        times = [round_trip(bystander, topic, b"b%d" % i) for i in range(20)]
        good = []
        guess(broker.port, "heidi", "heidi secret", V5, good)
        for t in threads:
            t.join(LONG * 3)
        elapsed = time.monotonic() - start
        assert len(results) == 200
        # Every guess refused with 0x86, and only after node.auth_failure_delay (1 s):
        # 20 connections get about 20 guesses a second between them.
        assert sorted(set(code for code, _ in results)) == [0x86], results
        assert min(t for _, t in results) >= 0.9, min(t for _, t in results)
        assert elapsed >= 9.0, elapsed
        assert max(times) < 1.0, times
        assert good[0][0] == 0, good
        assert good[0][1] < 2.0, good
    finally:
        bystander.close()
    found = counters(broker)
    assert found.get("auth_failures") == 200, found


def test_slow_hashes_run_off_the_worker(start_broker, tmp_path):
    # One worker. grace's hash costs ~50 ms: 30 of them at once would stop the worker
    # for 1.5 s if they ran there; on the hash pool the worker keeps serving.
    broker = auth_broker(start_broker, str(tmp_path), "1")
    topic = unique("limits/offworker")
    bystander = PahoClient(broker.port)
    try:
        bystander.subscribe(topic, qos=1)
        threads, results = hammer(broker.port, "grace", 30, 30, version=V311)
        times = [round_trip(bystander, topic, b"w%d" % i) for i in range(10)]
        for t in threads:
            t.join(LONG)
        # MQTT 3.1.1: return code 4, Bad user name or password.
        assert [code for code, _ in results] == [4] * 30, results
        assert max(times) < 1.0, times
    finally:
        bystander.close()
    assert counters(broker).get("auth_failures") == 30


def test_auth_failure_delay_zero_refuses_at_once(start_broker, tmp_path):
    broker = start_broker(args=["--threads", "1", "--set", "node.auth_failure_delay=0s"],
                          config="\n".join([
                              "[listeners.tcp.main]", 'bind = "127.0.0.1:0"', "",
                              "[auth.password_file]",
                              'path = "%s"' % argon2_passwd_file(str(tmp_path)), ""]))
    results = []
    guess(broker.port, "heidi", "nope", V5, results)
    assert results[0][0] == 0x86
    assert results[0][1] < 0.9, results


def connect_from(address, port, user, password, version=V5):
    """CONNECT from the source address `address` (127.0.0.x); returns the CONNACK code."""
    sock = socket.socket()
    sock.bind((address, 0))
    sock.settimeout(LONG)
    sock.connect(("127.0.0.1", port))
    try:
        sock.sendall(connect(unique("from"), version=version, username=user,
                             password=password.encode()))
        return parse_connack(read_packet(sock, LONG), version)[1]
    finally:
        sock.close()


def test_an_address_that_keeps_failing_is_banned_and_others_are_not(start_broker, tmp_path):
    broker = start_broker(args=["--threads", "2",
                                "--set", "node.auth_failure_delay=0s",
                                "--set", "node.auth_failure_limit=5",
                                "--set", "node.auth_failure_window=1m",
                                "--set", "node.auth_failure_ban=2s"],
                          config="\n".join([
                              "[listeners.tcp.main]", 'bind = "127.0.0.1:0"', "",
                              "[auth.password_file]",
                              'path = "%s"' % argon2_passwd_file(str(tmp_path)), ""]))
    for i in range(5):
        assert connect_from("127.0.0.3", broker.port, "heidi", "wrong-%d" % i) == 0x86
    # Banned: even the right password is refused, 0x8A Banned (3.1.1: 5, not authorized).
    assert connect_from("127.0.0.3", broker.port, "heidi", "heidi secret") == 0x8A
    assert connect_from("127.0.0.3", broker.port, "heidi", "heidi secret", V311) == 5
    # Another address is not: heidi gets in from there.
    assert connect_from("127.0.0.4", broker.port, "heidi", "heidi secret") == 0
    assert "127.0.0.3 banned for 2 s after 5 failed authentications" in broker.log()
    # The ban ends.
    time.sleep(2.5)
    assert connect_from("127.0.0.3", broker.port, "heidi", "heidi secret") == 0
    found = counters(broker)
    assert found.get("refused_banned") == 2, found
    assert found.get("auth_failures") == 7, found
