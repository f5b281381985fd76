"""${peerhost} and ${peerport} in HTTP authentication and authorization requests (EMQX's
placeholders): the client's own address and port, as its socket sees them."""
from test_auth_http import AuthService, config, service  # noqa: F401 (service is a fixture)
from test_auth_files import raw_connect, raw_publish, raw_subscribe


def test_peer_placeholders_in_authn_and_authz(start_broker, service):
    extra = "\n".join([
        "[auth.http]",
        'url = "%s"' % service.url("/authn"),
        "body = '{\"username\": \"${username}\", \"host\": \"${peerhost}\", "
        "\"port\": \"${peerport}\"}'",
        "",
        "[authorization.http]",
        'url = "%s"' % service.url("/authz"),
        "body = '{\"topic\": \"${topic}\", \"action\": \"${action}\", "
        "\"host\": \"${peerhost}\", \"port\": \"${peerport}\"}'",
        ""])
    broker = start_broker(config=config(extra=extra))
    client, code = raw_connect(broker.port, 5, "allowed", "pw")
    assert code == 0
    host, port = client.sock.getsockname()[:2]
    assert raw_publish(client, 5, "allowed/p", 1) == 0
    assert raw_subscribe(client, 5, ["allowed/s"]) == [1]
    client.close()
    assert service.bodies("/authn")[-1] == {"username": "allowed", "host": host,
                                            "port": str(port)}
    authz = service.bodies("/authz")
    assert {"topic": "allowed/p", "action": "publish", "host": host, "port": str(port)} in authz
    assert {"topic": "allowed/s", "action": "subscribe", "host": host, "port": str(port)} in authz
