"""Interoperability with Debian's mosquitto_pub and mosquitto_sub (libmosquitto 2.0),
over MQTT 3.1.1 and 5.0: QoS levels, retained messages, line mode, message counts,
wildcards, Wills of killed clients, persistent sessions and MQTT 5 properties.

mosquitto_sub runs with -d, so its "received SUBACK" line says when its
subscription is in place and publishing can start; received messages are printed with a
-F format whose lines start with ">>|", which no debug line does.
"""
import os
import signal
import subprocess
import tempfile
import threading

import pytest

from mqtt_helpers import TIMEOUT, V5, PahoClient, unique

FORMAT = ">>|%t|%q|%r|%C|%P|%E|%R|%p"
VERSIONS = ["mqttv311", "mqttv5"]


class MosquittoSub:
    """A mosquitto_sub process whose output lines are collected by a thread."""

    def __init__(self, port, version, topics, qos=0, count=None, extra=(), fmt=FORMAT,
                 timeout=TIMEOUT):
        # stdbuf: line-buffered stdout, or the lines sit in a pipe buffer.
        cmd = ["stdbuf", "-oL", "mosquitto_sub", "-p", str(port), "-V", version, "-d",
               "-q", str(qos), "-F", fmt, "-W", str(int(timeout))]
        for topic in topics:
            cmd += ["-t", topic]
        if count is not None:
            cmd += ["-C", str(count)]
        cmd += list(extra)
        self.cmd = cmd
        self.lines = []
        self._cond = threading.Condition()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, errors="replace")
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self.lines.append(None)  # end of output
            self._cond.notify_all()

    def _wait(self, predicate, timeout=TIMEOUT):
        with self._cond:
            return self._cond.wait_for(lambda: predicate() or None in self.lines, timeout)

    def wait_subscribed(self):
        """Waits for the debug line "Client ID received SUBACK"."""
        def subacked():
            return any(l and l.startswith("Client ") and l.endswith(" received SUBACK")
                       for l in self.lines)
        self._wait(subacked)
        with self._cond:
            assert subacked(), "mosquitto_sub did not subscribe:\n%s" % self.output()

    def messages(self):
        """Received messages as dicts (topic, qos, retain, content_type,
        user_properties, expiry, response_topic, payload)."""
        with self._cond:
            lines = [l for l in self.lines if l and l.startswith(">>|")]
        keys = ["topic", "qos", "retain", "content_type", "user_properties", "expiry",
                "response_topic", "payload"]
        return [dict(zip(keys, line[3:].split("|", len(keys) - 1))) for line in lines]

    def wait_messages(self, count, timeout=TIMEOUT):
        self._wait(lambda: len(self.messages()) >= count, timeout)
        return self.messages()

    def wait_exit(self, timeout=TIMEOUT):
        code = self.proc.wait(timeout)
        self._reader.join(5)
        return code

    def output(self):
        with self._cond:
            return "\n".join(l for l in self.lines if l is not None)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._reader.join(5)


@pytest.fixture
def subs(broker):
    """Factory of MosquittoSub processes on the broker, killed at the end of the test."""
    started = []

    def start(*args, **kwargs):
        sub = MosquittoSub(broker.port, *args, **kwargs)
        started.append(sub)
        return sub

    yield start
    for sub in started:
        sub.stop()


def pub(port, version, topic, *args, stdin=None, check=True):
    """Runs mosquitto_pub to completion."""
    cmd = ["mosquitto_pub", "-p", str(port), "-V", version, "-t", topic, *map(str, args)]
    result = subprocess.run(cmd, input=stdin, capture_output=True, timeout=TIMEOUT,
                            text=isinstance(stdin, str) or stdin is None)
    if check:
        assert result.returncode == 0, "%s failed: %s" % (cmd, result.stderr)
    return result


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("qos", [0, 1, 2])
def test_qos_levels(broker, subs, version, qos):
    topic = unique("mosq-qos")
    sub = subs(version, [topic], qos=qos, count=3)
    sub.wait_subscribed()
    for i in range(3):
        pub(broker.port, version, topic, "-q", qos, "-m", "message %d" % i)
    assert sub.wait_exit() == 0, sub.output()  # -C 3: exits after three messages
    got = sub.messages()
    assert [m["payload"] for m in got] == ["message 0", "message 1", "message 2"]
    assert {m["qos"] for m in got} == {str(qos)}


@pytest.mark.parametrize("version", VERSIONS)
def test_qos_is_downgraded_to_the_subscription(broker, subs, version):
    topic = unique("mosq-downgrade")
    sub = subs(version, [topic], qos=1, count=1)
    sub.wait_subscribed()
    pub(broker.port, version, topic, "-q", 2, "-m", "two")
    assert sub.wait_exit() == 0, sub.output()
    assert [(m["payload"], m["qos"]) for m in sub.messages()] == [("two", "1")]


@pytest.mark.parametrize("version", VERSIONS)
def test_retained_store_replace_delete(broker, subs, version):
    topic = unique("mosq-retained")
    pub(broker.port, version, topic, "-r", "-q", 1, "-m", "old")
    pub(broker.port, version, topic, "-r", "-q", 1, "-m", "new")
    first = subs(version, [topic], qos=1, count=1)
    assert first.wait_exit() == 0, first.output()
    assert [(m["payload"], m["retain"]) for m in first.messages()] == [("new", "1")]

    pub(broker.port, version, topic, "-r", "-q", 1, "-n")  # a null message deletes it
    second = subs(version, [topic], qos=1, count=1, timeout=3)
    second.wait_subscribed()
    second.wait_exit()  # -W 3: times out, having received nothing
    assert second.messages() == []


@pytest.mark.parametrize("version", VERSIONS)
def test_line_mode_and_count(broker, subs, version):
    topic = unique("mosq-lines")
    count = 200
    sub = subs(version, [topic], qos=1, count=count)
    sub.wait_subscribed()
    lines = "".join("line %03d\n" % i for i in range(count))
    pub(broker.port, version, topic, "-q", 1, "-l", stdin=lines)
    assert sub.wait_exit() == 0, sub.output()
    assert [m["payload"] for m in sub.messages()] == ["line %03d" % i for i in range(count)]


@pytest.mark.parametrize("version", VERSIONS)
def test_binary_payload_from_file(broker, subs, version):
    topic = unique("mosq-binary")
    payload = os.urandom(64 * 1024)
    sub = subs(version, [topic], qos=1, count=1, fmt=">>|%t|%q|%r|||||%x")
    sub.wait_subscribed()
    with tempfile.NamedTemporaryFile() as f:
        f.write(payload)
        f.flush()
        pub(broker.port, version, topic, "-q", 1, "-f", f.name)
    assert sub.wait_exit() == 0, sub.output()
    assert bytes.fromhex(sub.messages()[0]["payload"]) == payload


@pytest.mark.parametrize("version", VERSIONS)
def test_wildcard_subscriptions(broker, subs, version):
    prefix = unique("mosq-wild")
    plus = subs(version, [prefix + "/+/temp"], qos=1, count=2)
    hash_ = subs(version, [prefix + "/#"], qos=1, count=4)
    plus.wait_subscribed()
    hash_.wait_subscribed()
    for topic in ("a/temp", "b/temp", "a/b/temp", "a/humidity"):
        pub(broker.port, version, prefix + "/" + topic, "-q", 1, "-m", topic)
    assert hash_.wait_exit() == 0, hash_.output()
    assert plus.wait_exit() == 0, plus.output()
    assert [m["payload"] for m in plus.messages()] == ["a/temp", "b/temp"]
    assert [m["payload"] for m in hash_.messages()] == ["a/temp", "b/temp", "a/b/temp",
                                                        "a/humidity"]


@pytest.mark.parametrize("version", VERSIONS)
def test_will_of_a_killed_client(broker, subs, version):
    will_topic = unique("mosq-will")
    watcher = subs(version, [will_topic], qos=1, count=1)
    watcher.wait_subscribed()
    dying = subs(version, [unique("mosq-anything")], qos=1,
                 extra=["--will-topic", will_topic, "--will-payload", "killed",
                        "--will-qos", "1"])
    dying.wait_subscribed()
    dying.proc.send_signal(signal.SIGKILL)  # no DISCONNECT: the kernel closes the socket
    dying.wait_exit()
    assert watcher.wait_exit() == 0, watcher.output()
    assert [(m["payload"], m["qos"]) for m in watcher.messages()] == [("killed", "1")]


@pytest.mark.parametrize("version", VERSIONS)
def test_no_will_when_a_client_disconnects(broker, subs, version):
    will_topic = unique("mosq-nowill")
    watcher = subs(version, [will_topic], qos=1, count=1)
    watcher.wait_subscribed()
    # -E: exits with DISCONNECT once subscribed; the Will is discarded.
    leaving = subs(version, [unique("mosq-anything")], qos=1,
                   extra=["-E", "--will-topic", will_topic, "--will-payload", "unexpected"])
    assert leaving.wait_exit() == 0, leaving.output()
    pub(broker.port, version, will_topic, "-q", 1, "-m", "marker")
    assert watcher.wait_exit() == 0
    assert [m["payload"] for m in watcher.messages()] == ["marker"]


@pytest.mark.parametrize("version", VERSIONS)
def test_persistent_session_across_a_disconnect(broker, subs, version):
    client_id = unique("mosq-persist")
    topic = unique("mosq-persist-topic")
    # -c -i: a persistent session (v5: -c sets an infinite Session Expiry Interval,
    # which the broker caps at mqtt.session_expiry_interval). -E: leave once subscribed.
    first = subs(version, [topic], qos=1, extra=["-c", "-i", client_id, "-E"])
    assert first.wait_exit() == 0, first.output()
    pub(broker.port, version, topic, "-q", 1, "-m", "queued while away")
    back = subs(version, [topic], qos=1, count=1, extra=["-c", "-i", client_id])
    assert back.wait_exit() == 0, back.output()
    assert [(m["payload"], m["qos"]) for m in back.messages()] == [("queued while away", "1")]
    # libmosquitto's debug line shows the CONNACK's Session Present flag only as
    # "CONNACK (0)"; the queued message arriving is what proves the session resumed.


def test_v5_properties_are_forwarded(broker, subs):
    topic = unique("mosq-props")
    sub = subs("mqttv5", [topic], qos=1, count=1)
    sub.wait_subscribed()
    pub(broker.port, "mqttv5", topic, "-q", 1, "-m", "with properties",
        "-D", "publish", "user-property", "k1", "v1",
        "-D", "publish", "user-property", "k2", "v2",
        "-D", "publish", "user-property", "k1", "again",
        "-D", "publish", "content-type", "text/x-test",
        "-D", "publish", "response-topic", topic + "/reply",
        "-D", "publish", "message-expiry-interval", "100")
    assert sub.wait_exit() == 0, sub.output()
    (got,) = sub.messages()
    assert got["payload"] == "with properties"
    assert got["content_type"] == "text/x-test"
    # 5.0 [MQTT-3.3.2-18]: user properties forwarded, in order, duplicates kept.
    assert got["user_properties"] == "k1:v1 k2:v2 k1:again"
    assert got["response_topic"] == topic + "/reply"
    assert 0 < int(got["expiry"]) <= 100


def test_v5_properties_reach_a_paho_subscriber(broker):
    topic = unique("mosq-props-paho")
    subscriber = PahoClient(broker.port, version=V5)
    try:
        subscriber.subscribe(topic, 1)
        pub(broker.port, "mqttv5", topic, "-q", 1, "-m", "to paho",
            "-D", "publish", "user-property", "a", "1",
            "-D", "publish", "user-property", "b", "2",
            "-D", "publish", "content-type", "text/plain",
            "-D", "publish", "payload-format-indicator", "1",
            "-D", "publish", "correlation-data", "corr")
        got = subscriber.wait_messages(1)[0]
        assert got.payload == b"to paho"
        assert got.properties.UserProperty == [("a", "1"), ("b", "2")]
        assert got.properties.ContentType == "text/plain"
        assert got.properties.PayloadFormatIndicator == 1
        assert got.properties.CorrelationData == b"corr"
    finally:
        subscriber.close()


def test_mqttv311_publisher_to_mqttv5_subscriber_and_back(broker, subs):
    topic = unique("mosq-cross")
    v5 = subs("mqttv5", [topic], qos=2, count=2)
    v3 = subs("mqttv311", [topic], qos=2, count=2)
    v5.wait_subscribed()
    v3.wait_subscribed()
    pub(broker.port, "mqttv311", topic, "-q", 2, "-m", "from 3.1.1")
    pub(broker.port, "mqttv5", topic, "-q", 2, "-m", "from 5")
    for sub in (v5, v3):
        assert sub.wait_exit() == 0, sub.output()
        assert [(m["payload"], m["qos"]) for m in sub.messages()] == [("from 3.1.1", "2"),
                                                                     ("from 5", "2")]
