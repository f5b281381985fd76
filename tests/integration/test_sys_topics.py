"""The $SYS tree (docs/monitoring.md): the broker publishes its figures as retained
messages under $SYS/broker/ every sys_topics.sys_msg_interval, with Mosquitto's topic
names, and its overload counters under $SYS/broker/overload/<name>.

Checked from the outside with paho-mqtt and mosquitto_sub subscribing to $SYS/#: the
values are there and right, they are retained (a late subscriber gets them at once),
a filter starting with a wildcard does not get them [MQTT-4.7.2-1], clients still may
not publish into $SYS, and an interval of 0 publishes nothing. The tests wait for
values (generous deadlines: a Debug + ASan broker on two shared cores); they never
assert how long anything took.
"""
import re
import signal
import socket
import subprocess
import time

from mqtt_bytes import (PUBACK, V5, Closed, body_of, connect, h, open_client, packet_type,
                        publish, read_packet)
from mqtt_helpers import V311, PahoClient, unique
from test_limits import listener_port

SYS = "$SYS/broker/"
ONE_SECOND = ["--threads", "2", "--set", "sys_topics.sys_msg_interval=1s"]
WAIT = 30.0

# Every topic of the tree: Mosquitto's names, then the overload counters.
FIGURES = ["version", "uptime", "clients/connected", "clients/maximum", "clients/total",
           "clients/disconnected", "clients/expired", "messages/received", "messages/sent",
           "publish/messages/received", "publish/messages/sent", "publish/messages/dropped",
           "publish/bytes/received", "publish/bytes/sent", "bytes/received", "bytes/sent",
           "subscriptions/count", "retained messages/count"]
OVERLOAD = ["refused_listener_max_connections", "refused_node_max_connections",
            "accept_rate_pauses", "publish_rate_pauses", "connect_timeouts",
            "refused_max_subscriptions", "refused_topic_levels", "refused_topic_length",
            "auth_failures", "refused_banned"]
# Mosquitto's load averages: each counter's rate per minute over 1, 5 and 15 minutes.
LOADS = ["messages/received", "messages/sent", "publish/dropped", "publish/received",
         "publish/sent", "bytes/received", "bytes/sent", "sockets", "connections"]
LOAD_TOPICS = [SYS + "load/%s/%s" % (name, window) for name in LOADS
               for window in ("1min", "5min", "15min")]
ALL_TOPICS = [SYS + name for name in FIGURES] + \
    [SYS + "overload/" + name for name in OVERLOAD] + LOAD_TOPICS


class SysWatcher(PahoClient):
    """A paho client subscribed to $SYS/# that keeps the latest payload of each topic."""

    def __init__(self, port, version=V5, filter_="$SYS/#"):
        self.latest = {}
        self.retained_topics = set()
        super().__init__(port, version=version)
        self.subscribe(filter_, qos=1)

    def _on_message(self, client, userdata, message):
        with self._cond:
            self.latest[message.topic] = message.payload.decode()
            if message.retain:
                self.retained_topics.add(message.topic)
        super()._on_message(client, userdata, message)

    def value(self, name):
        with self._cond:
            return self.latest.get(SYS + name)

    def snapshot(self):
        """A copy of the latest payloads by topic."""
        with self._cond:
            return dict(self.latest)

    def wait_value(self, name, predicate, timeout=WAIT):
        """Waits until the latest payload of $SYS/broker/<name> satisfies `predicate`;
        returns it (or the last one seen, which the caller's assert then shows)."""
        self.wait_for(lambda: SYS + name in self.latest and predicate(self.latest[SYS + name]),
                      timeout)
        return self.value(name)

    def wait_number(self, name, expected, timeout=WAIT):
        return self.wait_value(name, lambda v: v == str(expected), timeout)


def test_every_figure_is_published_with_mosquittos_names(start_broker):
    broker = start_broker(args=ONE_SECOND)
    watcher = SysWatcher(broker.port)
    try:
        watcher.wait_for(lambda: set(ALL_TOPICS) <= set(watcher.latest), WAIT)
        assert set(watcher.latest) == set(ALL_TOPICS), sorted(watcher.latest)
        assert watcher.value("version") == "cicada version " + \
            subprocess.run([broker.binary, "--version"], capture_output=True, text=True,
                           check=True).stdout.split()[-1]
        assert re.fullmatch(r"\d+ seconds", watcher.value("uptime")), watcher.value("uptime")
        # Payloads are plain decimal text; the load averages with two decimals.
        for topic in ALL_TOPICS[2:]:
            pattern = r"\d+\.\d\d" if topic in LOAD_TOPICS else r"\d+"
            assert re.fullmatch(pattern, watcher.latest[topic]), (topic, watcher.latest[topic])
        # The uptime moves every interval (the one figure that always changes).
        first = int(watcher.value("uptime").split()[0])
        assert watcher.wait_value("uptime", lambda v: int(v.split()[0]) > first) != \
            "%d seconds" % first
    finally:
        watcher.close()


def test_clients_and_subscriptions_count_the_tests_own_clients(start_broker):
    broker = start_broker(args=ONE_SECOND)
    watcher = SysWatcher(broker.port)
    others = []
    try:
        # The watcher alone: one client, one session, one subscription.
        assert watcher.wait_number("clients/connected", 1) == "1"
        assert watcher.wait_number("clients/total", 1) == "1"
        assert watcher.wait_number("subscriptions/count", 1) == "1"
        # Two more, of both protocol versions, one with two subscriptions.
        others = [PahoClient(broker.port, version=V311), PahoClient(broker.port, version=V5)]
        others[1].subscribe(unique("sys/a"), qos=0)
        others[1].subscribe(unique("sys/b") + "/#", qos=1)
        assert watcher.wait_number("clients/connected", 3) == "3"
        assert watcher.wait_number("subscriptions/count", 3) == "3"
        assert watcher.wait_number("clients/maximum", 3) == "3"
        # They connected after a publication: the connection rates moved.
        for name in ("load/connections/1min", "load/sockets/15min"):
            assert float(watcher.wait_value(name, lambda v: float(v) > 0)) > 0, name
        # One leaves (clean session: its session ends with it).
        others[1].disconnect()
        assert watcher.wait_number("clients/connected", 2) == "2"
        assert watcher.value("clients/maximum") == "3"  # the peak stays
        assert watcher.wait_number("clients/total", 2) == "2"
        assert watcher.wait_number("subscriptions/count", 1) == "1"
        # A persistent session that disconnects stays registered: disconnected.
        persistent = PahoClient(broker.port, version=V5, session_expiry=300)
        assert watcher.wait_number("clients/connected", 3) == "3"
        persistent.disconnect()
        assert watcher.wait_number("clients/connected", 2) == "2"
        assert watcher.wait_number("clients/total", 3) == "3"
        assert watcher.wait_number("clients/disconnected", 1) == "1"
    finally:
        for client in others:
            client.close()
        watcher.close()


def test_message_and_byte_counters_grow_with_traffic(start_broker):
    broker = start_broker(args=ONE_SECOND)
    watcher = SysWatcher(broker.port)
    publisher = PahoClient(broker.port, version=V5)
    subscriber = PahoClient(broker.port, version=V311)
    try:
        topic = unique("sys/traffic")
        subscriber.subscribe(topic, qos=1)
        # No client has published yet: nothing received.
        assert watcher.wait_number("publish/messages/received", 0) == "0"
        assert watcher.wait_number("publish/bytes/received", 0) == "0"
        payload_out = int(watcher.wait_value("publish/bytes/sent", lambda v: True))
        received = int(watcher.wait_value("messages/received", lambda v: int(v) > 0))
        bytes_in = int(watcher.wait_value("bytes/received", lambda v: int(v) > 0))
        retained = int(watcher.wait_value("retained messages/count", lambda v: int(v) > 0))
        for i in range(5):
            publisher.publish(topic, b"m%d" % i, qos=1)
        publisher.publish(unique("sys/retained"), b"kept", qos=1, retain=True)
        assert len(subscriber.wait_messages(5)) == 5
        # Exactly the six PUBLISH packets; every packet and byte counted.
        assert watcher.wait_number("publish/messages/received", 6) == "6"
        assert watcher.wait_number("publish/bytes/received", 5 * 2 + 4) == "14"  # m0..m4, kept
        # The subscriber's payloads went out (besides the $SYS ones the watcher gets).
        assert int(watcher.wait_value("publish/bytes/sent",
                                      lambda v: int(v) >= payload_out + 10)) >= payload_out + 10
        assert int(watcher.wait_value("messages/received",
                                      lambda v: int(v) >= received + 6)) >= received + 6
        # At least the five topic names came in.
        assert int(watcher.wait_value("bytes/received",
                                      lambda v: int(v) >= bytes_in + 5 * len(topic))) >= \
            bytes_in + 5 * len(topic)
        assert watcher.wait_number("retained messages/count", retained + 1) == str(retained + 1)
        # The subscriber's five messages (and the $SYS ones the watcher gets) went out.
        assert int(watcher.wait_value("publish/messages/sent", lambda v: int(v) >= 5)) >= 5
        assert int(watcher.wait_value("bytes/sent", lambda v: int(v) > 0)) > 0
        assert watcher.value("publish/messages/dropped") == "0"
        # The load averages moved too (a rate per minute, so above zero).
        for name in ("load/publish/received/1min", "load/publish/sent/5min",
                     "load/messages/received/15min", "load/bytes/received/1min"):
            assert float(watcher.wait_value(name, lambda v: float(v) > 0)) > 0, name
        assert watcher.value("load/publish/dropped/1min") == "0.00"
    finally:
        publisher.close()
        subscriber.close()
        watcher.close()


def test_an_overload_counter_moves_after_a_refused_connection(start_broker):
    broker = start_broker(args=ONE_SECOND, config="\n".join([
        "[listeners.tcp.small]", 'bind = "127.0.0.1:0"', "max_connections = 1", ""]))
    small = listener_port(broker, "small")
    # broker.port is the first listener, the small one: the watcher uses --listen's.
    watcher = SysWatcher(listener_port(broker, "cli-1"))
    holder = PahoClient(small, version=V311)
    try:
        assert watcher.wait_number("overload/refused_listener_max_connections", 0) == "0"
        # The listener is full: the broker closes the socket without a CONNACK.
        sock = socket.create_connection(("127.0.0.1", small), timeout=10)
        try:
            sock.sendall(connect(unique("refused")))
            answer = read_packet(sock, 10)
        except (Closed, ConnectionResetError, BrokenPipeError):
            answer = None
        finally:
            sock.close()
        assert answer is None, answer.hex(" ")
        assert watcher.wait_number("overload/refused_listener_max_connections", 1) == "1"
        assert watcher.value("overload/refused_node_max_connections") == "0"
    finally:
        holder.close()
        watcher.close()
    # The exit log line is still written, with the same figure.
    broker.process.send_signal(signal.SIGTERM)
    assert broker.process.wait(timeout=30) == 0, broker.log()
    assert "refused_listener_max_connections=1" in broker.log()


def test_a_late_subscriber_gets_the_retained_tree_at_once(start_broker):
    # An hour: only the first publication, at start, happens during this test, so what
    # a later subscriber gets can only come from the retained store.
    broker = start_broker(args=["--threads", "2", "--set", "sys_topics.sys_msg_interval=1h"])
    first = SysWatcher(broker.port)
    try:
        first.wait_for(lambda: set(ALL_TOPICS) <= set(first.latest), WAIT)
    finally:
        first.close()
    result = subprocess.run(
        ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.port), "-t", "$SYS/#",
         "-F", "%r %t %p", "-C", str(len(ALL_TOPICS)), "-W", "20"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(ALL_TOPICS), result.stdout
    seen = {}
    for line in lines:
        retain, rest = line.split(" ", 1)
        assert retain == "1", line  # delivered from the retained store
        topic = next(t for t in sorted(ALL_TOPICS, key=len, reverse=True)
                     if rest.startswith(t + " "))
        seen[topic] = rest[len(topic) + 1:]
    assert set(seen) == set(ALL_TOPICS)
    assert seen[SYS + "version"].startswith("cicada version ")


def test_wildcard_filters_at_the_first_level_do_not_get_sys(start_broker):
    broker = start_broker(args=ONE_SECOND)
    # [MQTT-4.7.2-1] '#' and '+/...' do not match topics starting with '$'; retained
    # messages neither [MQTT-4.7.2-1] (the store's match follows the same rule).
    wildcard = PahoClient(broker.port, version=V5)
    for filter_ in ("#", "+/broker/#", "+/broker/uptime"):
        wildcard.subscribe(filter_, qos=0)
    watcher = SysWatcher(broker.port, filter_="$SYS/broker/uptime")
    publisher = PahoClient(broker.port, version=V311)
    try:
        # Two publications of the uptime while the wildcard subscriber is there.
        watcher.wait_messages(1)
        first = watcher.value("uptime")
        assert watcher.wait_value("uptime", lambda v: v != first) != first
        # The wildcard subscriber works, and got nothing from $SYS.
        plain = unique("plain") + "/x"
        publisher.publish(plain, b"plain", qos=0)
        got = wildcard.wait_messages(1)
        assert [m.topic for m in got] == [plain], [m.topic for m in got]
        assert [m.topic for m in wildcard.quiet_messages()] == [plain]
    finally:
        publisher.close()
        watcher.close()
        wildcard.close()


def test_clients_still_may_not_publish_into_sys(start_broker):
    broker = start_broker(args=ONE_SECOND)
    watcher = SysWatcher(broker.port)
    try:
        version = watcher.wait_value("version", lambda v: v.startswith("cicada"))
        sock, _ = open_client(broker, unique("forger"), version=V5)
        sock.sendall(publish(SYS + "version", b"forged", qos=1, retain=True, packet_id=7,
                             version=V5))
        data = read_packet(sock)
        # PUBACK 0x87 Not authorized: refused, the connection stays open.
        assert packet_type(data) == PUBACK and body_of(data)[:3] == h("00 07 87"), data.hex(" ")
        sock.sendall(publish(SYS + "clients/connected", b"999", qos=0, retain=True,
                             version=V5))
        sock.close()
        # Neither forgery was delivered, nor retained: a new subscriber gets the broker's.
        late = SysWatcher(broker.port)
        try:
            assert late.wait_value("version", lambda v: True) == version
            assert late.wait_value("clients/connected", lambda v: True) != "999"
        finally:
            late.close()
        latest = watcher.snapshot()
        assert "forged" not in latest.values()
        assert latest.get(SYS + "clients/connected") != "999"
    finally:
        watcher.close()


def test_interval_zero_publishes_nothing(start_broker):
    # From the config file this time, in EMQX's form.
    broker = start_broker(args=["--threads", "2"],
                          config='[sys_topics]\nsys_msg_interval = "0s"\n')
    watcher = SysWatcher(broker.port)
    try:
        # Three seconds of silence: more than the shortest interval, twice over.
        time.sleep(3)
        assert watcher.quiet_messages() == []
    finally:
        watcher.close()


def test_a_bad_interval_is_refused_at_start(cicada_binary):
    result = subprocess.run([cicada_binary, "--listen", "127.0.0.1:0", "--set",
                             "sys_topics.sys_msg_interval=soon"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "sys_topics.sys_msg_interval" in result.stderr + result.stdout
