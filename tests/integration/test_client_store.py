"""The client library's file store through cicada-pub --store: QoS 1 messages a
producer accepted and could not deliver survive the producer being killed (SIGKILL),
and the next run with the same client id sends every one of them. Against cicada and
mosquitto. Nothing is timed: every wait is bounded generously and polls."""
import os
import signal
import subprocess
import time

from client_helpers import Proxy, Running, WAIT, tool_env
from test_client_reconnect import restartable  # noqa: F401 (a fixture)

CLIENT_ID = "store-producer"


def stored_files(store):
    directory = os.path.join(store, CLIENT_ID)
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


def test_store_flags_need_a_persistent_session(client_tools, tmp_path):
    base = [client_tools["cicada-pub"], "-t", "t", "-m", "x", "-q", "1", "--store", str(tmp_path)]
    for extra, text in ((["-i", "a"], "needs a persistent session"),
                        (["-c"], "provide a client id"),
                        (["-c", "-i", "a", "-V", "5"], "needs a session expiry interval")):
        done = subprocess.run(base + extra, capture_output=True, env=tool_env(), timeout=WAIT)
        assert done.returncode == 1
        assert text in done.stderr.decode(), done.stderr
