"""The MQTT 101 producer and consumer (examples/) against cicada and mosquitto: stop
the broker while both run, start it again on the same port, and the consumer
receives messages again without being restarted; and failover across two URIs."""
import os
import signal

import pytest

from client_helpers import Mosquitto, Running, WAIT


def example(cicada_binary, name):
    build = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(cicada_binary))))
    path = os.path.join(build, "examples", "cicada-example-" + name)
    if not os.path.exists(path):
        pytest.fail("no %s at %s" % (name, path))
    return path


@pytest.mark.parametrize("kind", ["cicada", "mosquitto"])
def test_producer_and_consumer_survive_broker_restart(kind, cicada_binary, start_broker):
    def start(port=0):
        if kind == "cicada":
            return start_broker(args=["--threads", "2"], listen="127.0.0.1:%d" % port)
        return Mosquitto(port or None)

    broker = start()
    port = broker.port
    url = "mqtt://127.0.0.1:%d" % port
    consumer = Running([example(cicada_binary, "consumer"), "--url", url, "--client-id", "c101"])
    producer = Running([example(cicada_binary, "producer"), "--url", url, "--client-id", "p101"])
    try:
        consumer.wait_out(lambda l: "subscribed to test" in l)
        consumer.wait_out(lambda l: "received 'message" in l)

        broker.stop(sig=signal.SIGKILL)
        consumer.wait_out(lambda l: "connection lost" in l)
        producer.wait_out(lambda l: "connection lost" in l)
        broker = start(port)

        consumer.wait_out(lambda l: "connection attempt" in l)
        marker = len(consumer.out_lines)
        consumer.wait_out(lambda l: "received 'message" in l and consumer.out_lines.index(l) >= marker,
                          timeout=WAIT * 2)
        assert any("published" in l for l in producer.drain_out())
    finally:
        assert consumer.stop() == 0
        assert producer.stop() == 0
        broker.stop()


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
