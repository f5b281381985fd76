"""A subscriber that never reads must not slow the others down nor grow the broker's
memory past its bound (DESIGN.md: "Everything is bounded ... A subscriber that
cannot keep up loses QoS 0 first, then is disconnected with a clear reason; it
never stalls the publisher or the other clients on its worker").

The slow subscriber is a raw socket with a small receive buffer that CONNECTs,
SUBSCRIBEs and then stops reading. A publisher floods at QoS 1, never more than a
window ahead of a normal paho subscriber (so that one is never slow itself), which
must receive everything, in order. mqtt.max_outbound_bytes is lowered to 1MB so
that the bound is reached quickly.

Two bounds meet a QoS 1/2 subscriber: its in-flight window (mqtt.max_inflight,
32 by default) and then its session queue (mqtt.max_mqueue_len), both counted in
messages; and the unsent bytes of its connection (mqtt.max_outbound_bytes). The
tests of the byte bound raise mqtt.max_inflight to 65535 so that the window does
not stop the flood first.
"""
import os
import re
import socket

import pytest

from mqtt_helpers import (PUBLISH, SUBACK, V5, PahoClient, RawClient, subscribe_packet, unique,
                          wait_until)

RSS_LIMIT_KB = 200 * 1024
WINDOW = 200  # messages the publisher may be ahead of the normal subscriber
LONG = 300.0  # liveness bound on a Debug + ASan broker sharing two cores
# ASan keeps freed blocks in a quarantine (256 MB by default) that counts in RSS; a
# small one makes RSS measure what the broker itself holds.
ASAN = {"ASAN_OPTIONS": "detect_leaks=0:quarantine_size_mb=16"}


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M).group(1))


def tcp_inode(local_port, remote_port):
    """The inode of the TCP socket 127.0.0.1:local_port <-> 127.0.0.1:remote_port."""
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            if int(fields[1].split(":")[1], 16) == local_port and \
                    int(fields[2].split(":")[1], 16) == remote_port:
                return fields[9]
    return None


def holds_socket(pid, inode):
    target = "socket:[%s]" % inode
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            if os.readlink("/proc/%d/fd/%s" % (pid, fd)) == target:
                return True
        except OSError:
            continue
    return False


def assert_alive(broker):
    """The broker process is still running; if not, the failure names why."""
    if broker.process.poll() is not None:
        log = broker.log()
        summary = [l for l in log.splitlines() if l.startswith("SUMMARY:")]
        pytest.fail("the broker died (exit %s): %s\n%s" % (
            broker.process.returncode, summary[0] if summary else "", log[-3000:]))


def slow_subscriber(broker, topic, qos, clean=True):
    """A 3.1.1 subscriber that, once its SUBACK is in, reads nothing more."""
    slow = RawClient(broker.port, recv_buffer=4096)
    assert slow.connect(unique("slow"), version=4, clean=clean) == b"\x00\x00"
    slow.send(subscribe_packet(1, [(topic, qos)]))
    assert slow.expect(SUBACK) == b"\x00\x01" + bytes([qos])
    return slow


def drain(slow):
    """Reads the slow subscriber's socket until EOF or 5 s of silence; returns
    (PUBLISH packets read, whether the broker closed the connection)."""
    slow.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    publishes = 0
    while True:
        try:
            got = slow.read_packet(timeout=5)
        except OSError:  # socket.timeout: open, and nothing more is coming
            return publishes, False
        if got is None:
            return publishes, True
        publishes += got[0] == PUBLISH


class Flood:
    """One publisher flooding `topic` with `count` QoS 1 messages "<seq:08d><filler>",
    paced by a normal QoS 1 paho subscriber, while the broker's RSS is sampled."""

    def __init__(self, broker, topic, count, filler):
        self.broker, self.topic, self.count, self.filler = broker, topic, count, filler
        self.normal = PahoClient(broker.port, version=V5)
        assert self.normal.subscribe(topic, 1) == [1]
        self.publisher = PahoClient(broker.port, version=V5)
        self.publisher.client.max_inflight_messages_set(100)
        self.peak_rss_kb = rss_kb(broker.process.pid)

    def run(self):
        normal, publisher = self.normal, self.publisher
        mids = []
        for seq in range(self.count):
            if seq % WINDOW == 0:
                # The publisher never runs ahead of the normal subscriber by more than
                # WINDOW messages, so only the slow one can fall behind.
                # (A disconnection ends the wait at once: a dead broker fails fast.)
                normal.wait_for(lambda: len(normal.messages) >= seq - WINDOW
                                or normal.disconnects, LONG)
                if len(normal.messages) < seq - WINDOW:
                    assert_alive(self.broker)
                    pytest.fail("normal subscriber stalled at %d of %d"
                                % (len(normal.messages), seq))
                self.sample()
            mids.append(publisher.publish(self.topic, b"%08d" % seq + self.filler, qos=1,
                                          wait=False))
        if not publisher.wait_published(mids, LONG):
            assert_alive(self.broker)
            pytest.fail("publisher stalled")
        normal.wait_messages(self.count, LONG)
        assert_alive(self.broker)
        self.sample()
        got = normal.quiet_messages()
        assert [int(m.payload[:8]) for m in got] == list(range(self.count)), \
            "the normal subscriber lost or reordered messages"
        assert {m.qos for m in got} == {1}

    def sample(self):
        self.peak_rss_kb = max(self.peak_rss_kb, rss_kb(self.broker.process.pid))

    def close(self):
        self.publisher.close()
        self.normal.close()


@pytest.fixture
def flood(request):
    made = []

    def make(*args, **kwargs):
        f = Flood(*args, **kwargs)
        made.append(f)
        return f

    yield make
    for f in made:
        f.close()


@pytest.mark.parametrize("slow_qos", [0, 1])
def test_slow_subscriber_does_not_hold_back_others(start_broker, flood, slow_qos):
    """Default window (32) and queue (1000): a QoS 0 slow subscriber loses messages
    once its output is over half the bound; a QoS 1 one fills its window and its
    queue, whose oldest messages then make way. Either way the others get
    everything and the broker's memory stays bounded."""
    broker = start_broker(args=["--threads", "2", "--set", "mqtt.max_outbound_bytes=1MB"],
                          env=ASAN)
    topic = unique("slow")
    slow = slow_subscriber(broker, topic, slow_qos)
    try:
        f = flood(broker, topic, count=30000, filler=b"x" * 1024)
        f.run()
        assert f.peak_rss_kb < RSS_LIMIT_KB, "broker RSS peaked at %d kB" % f.peak_rss_kb
        publishes, _closed = drain(slow)
        assert publishes < 30000  # it lost messages, as it should
        assert_alive(broker)
    finally:
        slow.close()


@pytest.fixture
def byte_bounded_broker(start_broker):
    """1MB of unsent output per connection, and no window below it."""
    return start_broker(args=["--threads", "2", "--set", "mqtt.max_outbound_bytes=1MB",
                              "--set", "mqtt.max_inflight=65535"], env=ASAN)


# Small messages on a long topic: the PUBLISH header is most of each message.
LONG_TOPIC_LEVEL = "t" * 200


@pytest.mark.parametrize("clean", [
    True,
    False,
], ids=["clean-session", "persistent-session"])
def test_slow_qos1_subscriber_is_disconnected(byte_bounded_broker, flood, clean):
    broker = byte_bounded_broker
    topic = unique("slow1") + "/" + LONG_TOPIC_LEVEL
    slow = slow_subscriber(broker, topic, 1, clean=clean)
    try:
        f = flood(broker, topic, count=40000, filler=b"")
        f.run()
        assert f.peak_rss_kb < RSS_LIMIT_KB, "broker RSS peaked at %d kB" % f.peak_rss_kb
        # Over mqtt.max_outbound_bytes: disconnected with a reason in the log ...
        assert wait_until(lambda: "slow consumer" in broker.log(), LONG), broker.log()[-2000:]
        # ... and once what was already queued is read, the connection ends.
        publishes, closed = drain(slow)
        assert closed, "slow subscriber still connected after reading %d PUBLISH" % publishes
        assert 0 < publishes < 40000
        assert_alive(broker)
    finally:
        slow.close()


def test_slow_consumer_socket_is_released_without_reading(byte_bounded_broker, flood):
    """Disconnecting a client for not reading cannot wait for it to read: the broker
    must let go of its socket, and the output queued for it, in bounded time.
    (A persistent session, so that the clean-session crash above stays out of it.)"""
    broker = byte_bounded_broker
    topic = unique("slow-release") + "/" + LONG_TOPIC_LEVEL
    slow = slow_subscriber(broker, topic, 1, clean=False)
    try:
        flood(broker, topic, count=40000, filler=b"").run()
        assert wait_until(lambda: "slow consumer" in broker.log(), LONG)
        inode = tcp_inode(broker.port, slow.sock.getsockname()[1])
        assert inode is not None
        assert wait_until(lambda: not holds_socket(broker.process.pid, inode), timeout=30), \
            "the broker still holds the slow consumer's socket 30 s after disconnecting it"
    finally:
        slow.close()


def test_output_bound_counts_payload_bytes(start_broker):
    """mqtt.max_outbound_bytes is "unsent bytes queued for one connection"
    (docs/config.md). With 64 KiB payloads and a 1MB bound, a QoS 0 subscriber that
    does not read can have at most the bound plus the kernel's socket buffers
    (a few MB on loopback) queued for it; everything beyond is dropped."""
    broker = start_broker(args=["--threads", "2", "--set", "mqtt.max_outbound_bytes=1MB"],
                          env=ASAN)
    topic = unique("slow-bytes")
    slow = slow_subscriber(broker, topic, 0)
    publisher = PahoClient(broker.port, version=V5)
    try:
        payload = b"p" * (64 * 1024)
        count = 2000  # 125 MB in all
        # One message at a time (each waits for its PUBACK), so each write the
        # broker starts towards the slow subscriber holds about one message.
        for _ in range(count):
            publisher.publish(topic, payload, qos=1)
        peak = rss_kb(broker.process.pid)
        publishes, _closed = drain(slow)
        assert_alive(broker)
        queued_mb = publishes * 64 / 1024
        assert queued_mb < 32, (
            "%d of %d 64 KiB messages (%.0f MB) were queued for a subscriber that did not "
            "read, with mqtt.max_outbound_bytes=1MB; broker RSS %d kB"
            % (publishes, count, queued_mb, peak))
    finally:
        publisher.close()
        slow.close()
