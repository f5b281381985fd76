"""Retained messages are authorized at delivery: a subscription with wildcards may be
granted while a retained message under it may not be read (issue 5). Each such message
is asked about as a subscribe to its own topic; a denied one is not sent, the others
are, in order."""
import pytest

from json_service import JsonService

from mqtt_helpers import V5, V311, PahoClient
from test_auth_http import AuthService, config, service  # noqa: F401 (service is a fixture)


class ReadGuard(JsonService):
    """An HTTP authorizer that allows every publish and every subscribe except those to a
    topic or filter under private/: what a retained message's publisher may do, its
    readers may not. Records what it was asked."""

    def __init__(self):
        self.asked = []
        super().__init__(self._answer, "/authz")

    def _answer(self, body):
        self.asked.append((body["topic"], body["action"]))
        deny = body["action"] == "subscribe" and body["topic"].startswith("private/")
        return {"result": "deny" if deny else "allow"}


@pytest.fixture
def guard():
    g = ReadGuard()
    yield g
    g.stop()


@pytest.mark.parametrize("version", [V5, V311])
def test_retained_messages_under_a_granted_wildcard_are_authorized(start_broker, guard,
                                                                   version):
    broker = start_broker(config=config(authz_url=guard.url, anonymous=True))
    publisher = PahoClient(broker.port)
    for topic, payload in [("public/r", b"p"), ("private/r", b"secret"), ("shared/r", b"s")]:
        publisher.publish(topic, payload, qos=1, retain=True)
    publisher.close()

    subscriber = PahoClient(broker.port, version=version)
    try:
        assert subscriber.subscribe("+/r", qos=1) == [1]  # the filter is granted
        # A marker published after the SUBSCRIBE, so that a denied retained message
        # would have been seen by the time three messages are in.
        marker = PahoClient(broker.port)
        marker.publish("public/r", b"live", qos=1)
        marker.close()
        subscriber.wait_messages(3)
        # Everything the retained batch held is in by now; a last marker comes after it.
        marker = PahoClient(broker.port)
        marker.publish("public/r", b"end", qos=1)
        marker.close()
        messages = subscriber.wait_messages(4)
        assert messages[-1].payload == b"end"
        # The HTTP answers come later than the live message may: no order between them.
        assert sorted((m.topic, m.payload, bool(m.retain)) for m in messages[:-1]) == [
            ("public/r", b"live", False), ("public/r", b"p", True), ("shared/r", b"s", True)]
        assert ("private/r", "subscribe") in guard.asked  # asked, and denied
    finally:
        subscriber.close()


def test_an_exact_filter_is_not_asked_twice(start_broker, service):
    broker = start_broker(config=config(authz_url=service.url("/authz"), anonymous=True,
                                        no_match="deny"))
    publisher = PahoClient(broker.port)
    publisher.publish("allowed/one", b"1", qos=1, retain=True)
    publisher.close()
    before = len([b for b in service.bodies("/authz") if b["action"] == "subscribe"])
    subscriber = PahoClient(broker.port)
    try:
        assert subscriber.subscribe("allowed/one", qos=1) == [1]
        assert [m.payload for m in subscriber.wait_messages(1)] == [b"1"]
        subscribes = [b for b in service.bodies("/authz") if b["action"] == "subscribe"]
        assert len(subscribes) - before == 1  # the SUBSCRIBE's own question only
    finally:
        subscriber.close()
