"""The HTTP answer caches (auth.http.cache_ttl, authorization.http.cache_ttl): the same
request within the TTL is answered without asking the service again; a different one
(another password, another topic) is asked; after the TTL it is asked again."""
import time

from test_auth_files import raw_connect, raw_publish
from test_auth_http import AuthService, config, service  # noqa: F401 (service is a fixture)


def test_answers_are_reused_within_the_ttl(start_broker, service):
    broker = start_broker(config=config(
        authn_url=service.url("/authn"), authz_url=service.url("/authz"),
        authn=['request_timeout = "1s"', 'cache_ttl = "60s"'], authz=['cache_ttl = "1s"']))

    def authn_requests():
        return len(service.bodies("/authn"))

    def authz_requests(topic):
        return len([b for b in service.bodies("/authz") if b["topic"] == topic])

    for _ in range(3):
        client, code = raw_connect(broker.port, 5, "allowed", "pw", client_id="cached")
        assert code == 0
        assert raw_publish(client, 5, "allowed/t", 1) == 0
        assert raw_publish(client, 5, "allowed/t", 2) == 0
        client.close()
    assert authn_requests() == 1
    assert authz_requests("allowed/t") == 1
    # Another password is another request; so is another topic.
    client, code = raw_connect(broker.port, 5, "allowed", "other pw", client_id="cached")
    assert code == 0
    assert raw_publish(client, 5, "allowed/u", 1) == 0
    assert authn_requests() == 2
    assert authz_requests("allowed/u") == 1
    # The authorization TTL is 1 s: afterwards the service is asked again.
    time.sleep(1.5)
    assert raw_publish(client, 5, "allowed/t", 2) == 0
    assert authz_requests("allowed/t") == 2
    client.close()


def test_no_cache_by_default(start_broker, service):
    broker = start_broker(config=config(authn_url=service.url("/authn")))
    for _ in range(2):
        client, code = raw_connect(broker.port, 5, "allowed", "pw", client_id="uncached")
        assert code == 0
        client.close()
    assert len(service.bodies("/authn")) == 2
