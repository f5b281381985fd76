"""The MQTT 101 producer and consumer (examples/) against cicada and mosquitto: stop
the broker while both run, start it again on the same port, and the consumer
receives messages again without being restarted, with a clean and with a persistent
session; the consumer killed and restarted while the producer goes on; and failover
across two URIs."""
import os
import re
import signal
import subprocess

import pytest

from client_helpers import Mosquitto, Running, WAIT, run, tool_env


def example(cicada_binary, name):
    build = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(cicada_binary))))
    path = os.path.join(build, "examples", "cicada-example-" + name)
    if not os.path.exists(path):
        pytest.fail("no %s at %s" % (name, path))
    return path


SESSION_EXPIRY = "600"  # the persistent variants' Session Expiry Interval, seconds


def session_args(session):
    return ["--session-expiry", SESSION_EXPIRY] if session == "persistent" else []


def connected_lines(process):
    return [l for l in process.drain_out() if "connected to " in l]


def number(line, event):
    """7 for "... received 'message 7' on test" when event is "received", else None."""
    m = re.search(event + r" 'message (\d+)'", line)
    return int(m.group(1)) if m else None


def numbers(process, event):
    """The message numbers of every `event` line so far, in order."""
    return [n for n in (number(l, event) for l in process.drain_out()) if n is not None]


@pytest.mark.parametrize("session", ["clean", "persistent"])
@pytest.mark.parametrize("kind", ["cicada", "mosquitto"])
def test_producer_and_consumer_survive_broker_restart(kind, session, cicada_binary, start_broker,
                                                      tmp_path):
    """With a clean session the consumer subscribes again on every connection; with a
    persistent one the broker may also keep it: cicada keeps sessions in memory only,
    so after a SIGKILL it reports no session present; mosquitto with persistence
    reloads the session from disk and reports it present."""
    persistent = session == "persistent"
    keeps_session = persistent and kind == "mosquitto"

    def start(port=0):
        if kind == "cicada":
            return start_broker(args=["--threads", "2"], listen="127.0.0.1:%d" % port)
        return Mosquitto(port or None, persistence=str(tmp_path) if persistent else None)

    broker = start()
    port = broker.port
    url = "mqtt://127.0.0.1:%d" % port
    consumer = Running([example(cicada_binary, "consumer"), "--url", url, "--client-id", "c101"] +
                       session_args(session))
    producer = Running([example(cicada_binary, "producer"), "--url", url, "--client-id", "p101"] +
                       session_args(session))
    try:
        consumer.wait_out(lambda l: "subscribed to test" in l)
        consumer.wait_out(lambda l: "received 'message" in l)
        first = connected_lines(consumer)
        assert first and all(l.endswith("(session present: no)") for l in first), first
        if keeps_session:
            broker.wait_saved()  # the consumer's subscription is on disk before the kill

        broker.stop(sig=signal.SIGKILL)
        consumer.wait_out(lambda l: "connection lost" in l)
        producer.wait_out(lambda l: "connection lost" in l)
        before = len(connected_lines(consumer))
        broker = start(port)

        consumer.wait_out(lambda l: "connection attempt" in l)
        marker = len(consumer.out_lines)
        consumer.wait_out(lambda l: "received 'message" in l and consumer.out_lines.index(l) >= marker,
                          timeout=WAIT * 2)
        again = connected_lines(consumer)[before:]
        assert again, consumer.out_lines
        expected = "(session present: %s)" % ("yes" if keeps_session else "no")
        assert again[0].endswith(expected), again
        assert any("published" in l for l in producer.drain_out())
    finally:
        assert consumer.stop() == 0
        assert producer.stop() == 0
        broker.stop()


@pytest.mark.parametrize("session", ["clean", "persistent"])
@pytest.mark.parametrize("kind", ["cicada", "mosquitto"])
def test_consumer_restart_gets_what_was_published_while_it_was_away(kind, session, cicada_binary,
                                                                     start_broker):
    """The consumer is SIGKILLed and started again with the same client id while the
    broker runs and the producer keeps publishing at QoS 1. A persistent session keeps
    the QoS 1 subscription, so the broker queues what matches it and hands it over when
    the consumer is back [MQTT-3.1.2-5]; a clean one does not [MQTT-3.1.2-4]."""
    persistent = session == "persistent"
    broker = start_broker(args=["--threads", "2"]) if kind == "cicada" else Mosquitto()
    url = "mqtt://127.0.0.1:%d" % broker.port
    consumer_cmd = [example(cicada_binary, "consumer"), "--url", url, "--client-id", "c-away"
                    ] + session_args(session)
    consumer = Running(consumer_cmd)
    producer = Running([example(cicada_binary, "producer"), "--url", url, "--client-id", "p-away"])
    returned = None
    try:
        consumer.wait_out(lambda l: "subscribed to test" in l)
        consumer.wait_out(lambda l: "received 'message" in l)
        consumer.stop(sig=signal.SIGKILL)
        last_seen = max(numbers(consumer, "received"))

        # Two messages the broker acknowledged after the consumer had gone.
        producer.wait_out(lambda l: "published 'message %d'" % (last_seen + 2) in l, timeout=WAIT)
        away = [n for n in numbers(producer, "published") if n > last_seen]

        returned = Running(consumer_cmd)
        returned.wait_out(lambda l: "subscribed to test" in l)
        up = connected_lines(returned)[0]
        assert up.endswith("(session present: %s)" % ("yes" if persistent else "no")), up
        # Something published after the return arrives in every case; with a persistent
        # session everything published while away came before it (QoS 1: at least once).
        after = max(away) + 1
        returned.wait_out(lambda l: (number(l, "received") or 0) > after, timeout=WAIT * 2)
        got = set(numbers(returned, "received"))
        if persistent:
            assert set(away) <= got, (away, returned.out_lines)
        else:
            assert not (set(away) & got), (away, returned.out_lines)
    finally:
        if returned:
            assert returned.stop() == 0
        assert producer.stop() == 0
        broker.stop()


@pytest.mark.parametrize("name", ["producer", "consumer"])
def test_examples_explain_their_flags_and_refuse_bad_ones(name, cicada_binary):
    path = example(cicada_binary, name)
    shown = run([path, "--help"])
    assert shown.returncode == 0
    assert b"--session-expiry SECONDS" in shown.stdout and b"CICADA_SESSION_EXPIRY" in shown.stdout
    for args, why in ((["--session-expiry", "soon"], b"--session-expiry needs a number of seconds"),
                      (["--session-expiry", "4294967296"], b"needs a number of seconds"),
                      (["--session-expiry"], b"--session-expiry needs a value"),
                      (["--verbose"], b"unknown option '--verbose'")):
        refused = run([path] + args)
        assert refused.returncode == 2, (args, refused.stderr)
        assert why in refused.stderr, (args, refused.stderr)
    env = dict(tool_env(), CICADA_SESSION_EXPIRY="-5")
    refused = subprocess.run([path], capture_output=True, env=env, timeout=WAIT)
    assert refused.returncode == 2
    assert b"CICADA_SESSION_EXPIRY needs a number of seconds" in refused.stderr


def test_failover_across_two_server_uris(cicada_binary, start_broker):
    """Producer and consumer get two URIs; when the first broker dies they carry on
    through the second."""
    first = start_broker(args=["--threads", "2"])
    second = Mosquitto()
    url = "mqtt://127.0.0.1:%d,mqtt://127.0.0.1:%d" % (first.port, second.port)
    consumer = Running([example(cicada_binary, "consumer"), "--url", url, "--client-id", "cf"])
    producer = Running([example(cicada_binary, "producer"), "--url", url, "--client-id", "pf"])
    try:
        consumer.wait_out(lambda l: "connected to mqtt://127.0.0.1:%d" % first.port in l)
        consumer.wait_out(lambda l: "received 'message" in l)

        first.stop(sig=signal.SIGKILL)
        consumer.wait_out(lambda l: "connected to mqtt://127.0.0.1:%d" % second.port in l, timeout=WAIT * 2)
        producer.wait_out(lambda l: "connected to mqtt://127.0.0.1:%d" % second.port in l, timeout=WAIT * 2)
        marker = len(consumer.out_lines)
        consumer.wait_out(lambda l: "received 'message" in l and consumer.out_lines.index(l) >= marker,
                          timeout=WAIT * 2)
    finally:
        assert consumer.stop() == 0
        assert producer.stop() == 0
        second.stop()
