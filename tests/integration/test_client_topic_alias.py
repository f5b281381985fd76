"""Inbound topic aliases: cicada replaces repeated topics with aliases toward a client
that advertises a Topic Alias Maximum (checked with hand-built bytes), and cicada-sub,
whose library advertises 16 by default, resolves them back to the right topics."""
import subprocess

import mqtt_bytes as mb
from client_helpers import Running, run

MOSQUITTO_PUB = "/usr/bin/mosquitto_pub"


def publish(port, topic, payload):
    done = run([MOSQUITTO_PUB, "-p", str(port), "-t", topic, "-m", payload, "-q", "1"])
    assert done.returncode == 0, done.stderr


def test_cicada_uses_aliases_toward_clients_that_allow_them(broker):
    sock, _ = mb.open_client(broker, mb.unique("alias-raw"), version=mb.V5,
                             props=[(mb.TOPIC_ALIAS_MAXIMUM, 4)])
    assert mb.subscribe_ok(sock, 1, [("al/#", 0)], version=mb.V5) == [0]
    publish(broker.port, "al/x", "one")
    publish(broker.port, "al/x", "two")
    first = mb.parse_publish(mb.read_packet(sock), mb.V5)
    second = mb.parse_publish(mb.read_packet(sock), mb.V5)
    alias = mb.prop(first["props"], mb.TOPIC_ALIAS)
    assert first["topic"] == "al/x" and alias is not None and 1 <= alias <= 4
    # The second time the alias stands alone: this is what the client must resolve.
    assert second["topic"] == "" and mb.prop(second["props"], mb.TOPIC_ALIAS) == alias
    assert second["payload"] == b"two"
    sock.close()


def test_cicada_sub_resolves_aliases_from_cicada(broker, client_tools):
    sub = Running([client_tools["cicada-sub"], "-p", str(broker.port), "-V", "5", "-t", "al/#",
                   "-v", "-d"])
    sub.wait_err(lambda line: line.startswith("Subscribed"))
    sent = [("al/a", "1"), ("al/b", "2"), ("al/a", "3"), ("al/b", "4"), ("al/a", "5")]
    for topic, payload in sent:
        publish(broker.port, topic, payload)
    for topic, payload in sent:
        sub.wait_out(lambda line, t=topic, p=payload: line == "%s %s" % (t, p))
    assert sub.process.poll() is None, sub.err_lines  # no protocol error ended it
    assert not any(l.startswith("Connection lost") for l in sub.err_lines), sub.err_lines
    assert sub.stop() == 0
