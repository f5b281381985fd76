"""The client library's file store through cicada-pub --store: QoS 1 messages a
producer accepted and could not deliver survive the producer being killed (SIGKILL),
and the next run with the same client id sends every one of them; a stored message's
Message Expiry Interval counts from when it was first queued, so one that ran out
while the producer was down is dropped and one that did not arrives with what is left.
Against cicada and mosquitto. Nothing is timed: every wait is bounded generously and
polls (the expiry tests wait out a few seconds of the clock on purpose)."""
import os
import re
import signal
import subprocess
import time

from client_helpers import Proxy, Running, WAIT, tool_env
from test_client_reconnect import restartable  # noqa: F401 (a fixture)

CLIENT_ID = "store-producer"


def stored_files(store, client_id=CLIENT_ID):
    directory = os.path.join(store, client_id)
    if not os.path.isdir(directory):
        return []
    return sorted(n for n in os.listdir(directory) if not n.endswith(".tmp"))


def wait_for_files(store, count):
    deadline = time.time() + WAIT
    while time.time() < deadline:
        names = stored_files(store)
        if len(names) >= count:
            return names
        time.sleep(0.05)
    raise AssertionError("the store holds %r, expected %d files" % (stored_files(store), count))


def producer(tools, port, store, stdin=subprocess.PIPE):
    return subprocess.Popen([tools["cicada-pub"], "-p", str(port), "-t", "st/m", "-l", "-q", "1",
                             "-c", "-i", CLIENT_ID, "--store", store, "-d"],
                            stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=tool_env())


def wait_connected(process):
    line = process.stderr.readline().decode()
    assert line.startswith("Connected to"), line


def test_killed_producer_resends_messages_queued_during_outage(restartable, client_tools,
                                                               tmp_path):
    store = str(tmp_path / "store")
    pub = producer(client_tools, restartable.port, store)
    wait_connected(pub)

    restartable.kill()
    for i in range(1, 6):  # accepted while the broker is down: only the store has them
        pub.stdin.write(b"m%d\n" % i)
    pub.stdin.flush()
    names = wait_for_files(store, 5)
    pub.send_signal(signal.SIGKILL)
    pub.wait(timeout=WAIT)
    assert stored_files(store) == names

    restartable.start()
    sub = Running([client_tools["cicada-sub"], "-p", str(restartable.port), "-t", "st/#",
                   "-q", "1", "-v", "-d"])
    sub.wait_err(lambda line: line.startswith("Subscribed"))

    # The next run has nothing new to send: what it sends comes from the store.
    again = producer(client_tools, restartable.port, store, stdin=subprocess.DEVNULL)
    out, err = again.communicate(timeout=WAIT)
    assert again.returncode == 0, err
    for i in range(1, 6):
        sub.wait_out(lambda line, i=i: line == "st/m m%d" % i)
    received = [l for l in sub.drain_out() if l.startswith("st/m ")]
    assert received == ["st/m m%d" % i for i in range(1, 6)]  # in publish order
    assert stored_files(store) == []
    assert sub.stop() == 0


def test_killed_producer_resumes_its_session_with_dup(restartable, client_tools, tmp_path):
    """The broker keeps the producer's session (only the producer's network goes),
    so the restarted producer resumes it and re-sends what was in flight."""
    store = str(tmp_path / "store")
    sub = Running([client_tools["cicada-sub"], "-p", str(restartable.port), "-t", "st/#",
                   "-q", "1", "-v", "-d"])
    sub.wait_err(lambda line: line.startswith("Subscribed"))
    proxy = Proxy(restartable.port)
    pub = producer(client_tools, proxy.port, store)
    wait_connected(pub)
    pub.stdin.write(b"m0\n")
    pub.stdin.flush()
    sub.wait_out(lambda line: line == "st/m m0")

    proxy.cut()
    for i in range(1, 4):
        pub.stdin.write(b"m%d\n" % i)
    pub.stdin.flush()
    wait_for_files(store, 3)
    pub.send_signal(signal.SIGKILL)
    pub.wait(timeout=WAIT)
    proxy.resume()

    again = producer(client_tools, proxy.port, store, stdin=subprocess.DEVNULL)
    out, err = again.communicate(timeout=WAIT)
    assert again.returncode == 0, err
    assert b"session present 1" in err, err
    for i in range(1, 4):
        sub.wait_out(lambda line, i=i: line == "st/m m%d" % i)
    assert stored_files(store) == []
    proxy.cut()
    assert sub.stop() == 0


EXPIRY_ID = "store-expiry"


def expiring_producer(tools, port, store, args, stdin=subprocess.PIPE):
    """cicada-pub -V 5 with a file store (a persistent session, as it needs)."""
    return subprocess.Popen([tools["cicada-pub"], "-p", str(port), "-V", "5", "-t", "exp/m",
                             "-q", "1", "-c", "-i", EXPIRY_ID, "-x", "600", "--store", store,
                             "-d"] + args,
                            stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=tool_env())


def kill_holding_one_stored_message(restartable, tools, store, interval):
    """A producer accepts one QoS 1 message with Message Expiry Interval `interval`
    while the broker is down, and is SIGKILLed: only the store holds the message, with
    the time it was queued. Returns a moment by the test's clock no earlier than that:
    the file is written before publish() returns."""
    pub = expiring_producer(tools, restartable.port, store,
                            ["-l", "-D", "publish", "message-expiry-interval", str(interval)])
    wait_connected(pub)
    restartable.kill()
    pub.stdin.write(b"old\n")
    pub.stdin.flush()
    deadline = time.time() + WAIT
    while not stored_files(store, EXPIRY_ID) and time.time() < deadline:
        time.sleep(0.05)
    queued = time.time()
    assert len(stored_files(store, EXPIRY_ID)) == 1
    pub.send_signal(signal.SIGKILL)
    pub.wait(timeout=WAIT)
    return queued


def wait_until(moment):
    while time.time() < moment:
        time.sleep(moment - time.time())


def restart_and_publish_after(restartable, tools, store):
    """The broker comes back, a paho MQTT 5 subscriber subscribes, and the next run of
    the producer with the same client id publishes "after" (no expiry): the store's
    message, if it goes at all, goes before it."""
    from mqtt_helpers import PahoClient
    restartable.start()
    sub = PahoClient(restartable.port)
    sub.subscribe("exp/#", qos=1)
    again = expiring_producer(tools, restartable.port, store, ["-m", "after"],
                              stdin=subprocess.DEVNULL)
    out, err = again.communicate(timeout=WAIT)
    assert again.returncode == 0, err
    return sub, err.decode()


def test_stored_message_whose_expiry_ran_out_during_the_restart_is_dropped(
        restartable, client_tools, tmp_path):
    store = str(tmp_path / "store")
    queued = kill_holding_one_stored_message(restartable, client_tools, store, interval=2)
    wait_until(queued + 3)  # the interval has run out while no producer ran

    sub, err = restart_and_publish_after(restartable, client_tools, store)
    messages = sub.wait_messages(1)
    assert [m.payload for m in messages] == [b"after"], err
    # Reported, not silently lost: ErrorKind::expired, through the store's callback.
    # (.q when the producer saw the broker go before it took the message, .p1 when it
    # had already written it to the dying connection.)
    assert re.search(r"store: stored message 0000000000000001\.(q|p1) to 'exp/m' dropped: "
                     r"expired", err), err
    assert stored_files(store, EXPIRY_ID) == []
    sub.close()


def test_stored_message_goes_out_with_what_is_left_of_its_expiry(restartable, client_tools,
                                                                  tmp_path):
    store = str(tmp_path / "store")
    queued = kill_holding_one_stored_message(restartable, client_tools, store, interval=600)
    wait_until(queued + 3)  # 3 s on disk, more than one whole second off the interval

    sub, err = restart_and_publish_after(restartable, client_tools, store)
    messages = sub.wait_messages(2)
    assert [m.payload for m in messages] == [b"old", b"after"], err
    # [MQTT-3.3.2-6] the subscriber sees the interval less the time the message spent
    # in the killed producer's store (and in the broker, a moment).
    left = messages[0].properties.MessageExpiryInterval
    assert 0 < left <= 598, left
    assert not hasattr(messages[1].properties, "MessageExpiryInterval")
    assert "expired" not in err, err
    assert stored_files(store, EXPIRY_ID) == []
    sub.close()


def test_store_flags_need_a_persistent_session(client_tools, tmp_path):
    base = [client_tools["cicada-pub"], "-t", "t", "-m", "x", "-q", "1", "--store", str(tmp_path)]
    for extra, text in ((["-i", "a"], "needs a persistent session"),
                        (["-c"], "provide a client id"),
                        (["-c", "-i", "a", "-V", "5"], "needs a session expiry interval")):
        done = subprocess.run(base + extra, capture_output=True, env=tool_env(), timeout=WAIT)
        assert done.returncode == 1
        assert text in done.stderr.decode(), done.stderr
