"""The connection manager through the tools: cicada-sub comes back after its broker
restarts and gets its subscriptions back; QoS 1 messages published by cicada-pub -l
while its connection is down arrive once it is back. Run against cicada and
mosquitto. Nothing is timed: every wait is bounded generously and polls."""
import signal
import subprocess
import time

import pytest

from client_helpers import Mosquitto, Proxy, Running, run, tool_env, WAIT

MOSQUITTO_PUB = "/usr/bin/mosquitto_pub"


class Restartable:
    """A broker (cicada or mosquitto) that can be killed and started again on the
    same port."""

    def __init__(self, kind, start_broker):
        self.kind = kind
        self._start_broker = start_broker
        self._current = None
        self.port = None
        self.start()

    def start(self):
        if self.kind == "cicada":
            listen = "127.0.0.1:%d" % (self.port or 0)
            self._current = self._start_broker(args=["--threads", "2"], listen=listen)
        else:
            self._current = Mosquitto(self.port)
        self.port = self._current.port

    def kill(self):
        self._current.stop(sig=signal.SIGKILL)

    def stop(self):
        self._current.stop()


@pytest.fixture(params=["cicada", "mosquitto"])
def restartable(request, start_broker):
    b = Restartable(request.param, start_broker)
    yield b
    b.stop()


def publish_until_seen(port, sub, topic, timeout=WAIT):
    """Publishes probes until `sub` prints one: proves its subscription is live."""
    deadline = time.time() + timeout
    n = 0
    while time.time() < deadline:
        n += 1
        payload = "probe-%d" % n
        run([MOSQUITTO_PUB, "-p", str(port), "-t", topic, "-m", payload, "-q", "1"])
        try:
            sub.wait_out(lambda line: line.startswith(topic + " probe-"), timeout=0.5)
            return
        except AssertionError:
            continue
    raise AssertionError("subscriber never received a probe: %r %r" % (sub.out_lines, sub.err_lines))


def test_sub_reconnects_and_restores_subscriptions(restartable, client_tools):
    sub = Running([client_tools["cicada-sub"], "-p", str(restartable.port), "-t", "rc/#",
                   "-q", "1", "-v", "-d", "-k", "5"])
    sub.wait_err(lambda line: line.startswith("Subscribed"))
    publish_until_seen(restartable.port, sub, "rc/before")

    restartable.kill()
    sub.wait_err(lambda line: line.startswith("Connection lost"))
    restartable.start()

    # A fresh broker has no session: only the library's restore brings rc/# back.
    publish_until_seen(restartable.port, sub, "rc/after")
    assert sub.process.poll() is None
    assert sub.stop() == 0
    assert sum(1 for l in sub.err_lines if l.startswith("Subscribed")) == 1  # tool subscribed once


def test_sub_without_reconnect_exits_1(restartable, client_tools):
    sub = Running([client_tools["cicada-sub"], "-p", str(restartable.port), "-t", "nr", "-d",
                   "--no-reconnect"])
    sub.wait_err(lambda line: line.startswith("Subscribed"))
    restartable.kill()
    assert sub.process.wait(timeout=WAIT) == 1
    restartable.start()


def test_qos1_published_during_outage_is_not_lost(restartable, client_tools):
    sub = Running([client_tools["cicada-sub"], "-p", str(restartable.port), "-t", "out/#",
                   "-q", "1", "-v", "-d", "-k", "5"])
    sub.wait_err(lambda line: line.startswith("Subscribed"))

    # The publisher reaches the broker through a proxy the test can cut, so its outage
    # is under the test's control while the subscriber's reconnect is checked first.
    proxy = Proxy(restartable.port)
    pub = subprocess.Popen([client_tools["cicada-pub"], "-p", str(proxy.port), "-t", "out/m", "-l",
                            "-q", "1", "-d"], stdin=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=tool_env())
    pub.stdin.write(b"m0\n")
    pub.stdin.flush()
    sub.wait_out(lambda line: line == "out/m m0")

    proxy.cut()
    restartable.kill()
    for i in range(1, 6):  # published while nothing is reachable
        pub.stdin.write(b"m%d\n" % i)
    pub.stdin.flush()
    restartable.start()
    publish_until_seen(restartable.port, sub, "out/probe")  # subscriber is back first
    proxy.resume()

    for i in range(1, 6):
        sub.wait_out(lambda line, i=i: line == "out/m m%d" % i)
    pub.stdin.close()
    assert pub.wait(timeout=WAIT) == 0, pub.stderr.read()
    received = [l for l in sub.out_lines if l.startswith("out/m ")]
    assert sorted(set(received)) == ["out/m m%d" % i for i in range(6)]
    proxy.cut()
    assert sub.stop() == 0
