"""HTTP authentication and authorization in EMQX's format (docs/security.md): the real cicada
asks an auth service that the test runs (Python's threaded http.server on 127.0.0.1, an
ephemeral port), and paho (MQTT 5 and 3.1.1) or hand-built packets check the outcome.

The service answers by user name (authentication) or topic (authorization) from the tables
below, and records every request body so tests can check the substituted values.
"""
import json
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mqtt_helpers import V311, V5, PahoClient, unique, wait_until
from test_auth_files import (NOT_AUTHORIZED, RC311_NOT_AUTHORIZED, connack_code, raw_connect,
                             raw_publish, raw_subscribe)

# user name -> (status, body) for authentication; "slow" waits for the test's go-ahead.
AUTHN = {
    "allowed": (200, {"result": "allow", "is_superuser": False}),
    "super": (200, {"result": "allow", "is_superuser": True}),
    "denied": (200, {"result": "deny"}),
    "ignored": (200, {"result": "ignore"}),
    "nocontent": (204, None),
    "broken": (500, {"result": "allow"}),
    "garbage": (200, "not json"),
    "slow": (200, {"result": "allow"}),
    "stuck": (200, {"result": "allow"}),  # sleeps longer than the broker's timeout
    # EMQX 5.8's extras (built when asked: expire_at is relative to now).
    "expiring": (200, lambda: {"result": "allow", "expire_at": int(time.time()) + 2}),
    "expired": (200, lambda: {"result": "allow", "expire_at": int(time.time()) - 10}),
    "ruled": (200, lambda: {"result": "allow", "acl": [
        {"permission": "deny", "action": "publish", "topic": "denied/${clientid}/own"},
        {"permission": "allow", "action": "publish", "topic": "ruled/yes", "qos": [0, 1]},
        {"permission": "deny", "action": "all", "topic": "ruled/#"},
        {"permission": "allow", "action": "subscribe", "topic": "eq mine/#"}]}),
    "badacl": (200, lambda: {"result": "allow", "acl": [{"permission": "allow",
                                                         "action": "read", "topic": "a"}]}),
}
SLOW_SECONDS = 10.0  # the longest "slow" waits; the test releases it earlier


class AuthService:
    """The test's auth service: POST /authn and /authz with JSON or form bodies, GET with a
    query string."""

    def __init__(self):
        self.requests = []  # (path, headers dict, parsed body)
        self.lock = threading.Lock()
        self.release_slow = threading.Event()
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the broker's pool expects

            def log_message(self, *args):
                pass

            def _answer(self, status, body):
                if body is None:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, params):
                path = urllib.parse.urlsplit(self.path).path
                with service.lock:
                    service.requests.append((path, dict(self.headers), params))
                if path == "/authn":
                    status, body = AUTHN.get(params.get("username", ""),
                                             (200, {"result": "ignore"}))
                    if params.get("username") == "slow":
                        service.release_slow.wait(SLOW_SECONDS)
                    if params.get("username") == "stuck":
                        time.sleep(3.0)
                    return self._answer(status, body() if callable(body) else body)
                if path == "/authz":
                    topic = params.get("topic", "")
                    if topic.startswith("allowed/"):
                        return self._answer(200, {"result": "allow"})
                    if topic.startswith("denied/"):
                        return self._answer(200, {"result": "deny"})
                    return self._answer(200, {"result": "ignore"})
                return self._answer(404, {"error": "no such path"})

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length).decode()
                if self.headers.get("Content-Type", "").startswith(
                        "application/x-www-form-urlencoded"):
                    params = dict(urllib.parse.parse_qsl(raw, keep_blank_values=True))
                else:
                    params = json.loads(raw)
                self._handle(params)

            def do_GET(self):
                query = urllib.parse.urlsplit(self.path).query
                self._handle(dict(urllib.parse.parse_qsl(query, keep_blank_values=True)))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def bodies(self, path):
        with self.lock:
            return [body for p, _, body in self.requests if p == path]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def service():
    s = AuthService()
    yield s
    s.stop()


def closed_port():
    """A port on 127.0.0.1 where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def config(authn_url=None, authz_url=None, anonymous=False, no_match="allow", extra="",
           authn=(), authz=()):
    """A listener "secure" (found first in the log by the fixture) and the HTTP steps; `authn`
    and `authz` are extra lines for [auth.http] and [authorization.http]."""
    lines = ["[listeners.tcp.secure]", 'bind = "127.0.0.1:0"',
             "allow_anonymous = %s" % ("true" if anonymous else "false"), "",
             "[authorization]", 'no_match = "%s"' % no_match, ""]
    if authn_url:
        lines += ["[auth.http]", 'url = "%s"' % authn_url, *(authn or ['request_timeout = "1s"']), ""]
    if authz_url:
        lines += ["[authorization.http]", 'url = "%s"' % authz_url, *authz, ""]
    return "\n".join(lines) + "\n" + extra


def paho_connack(port, username, password="pw", version=V5):
    """Connects with paho; returns (client, CONNACK code as int)."""
    client = PahoClient(port, version=version, connect=False)
    client.client.username_pw_set(username, password)
    client.client.connect("127.0.0.1", port, 60)
    client.client.loop_start()
    client._loop_started = True
    assert client.wait_for(lambda: client.connacks), "no CONNACK"
    rc = client.connacks[0]["rc"]
    return client, getattr(rc, "value", rc)


@pytest.fixture
def authn_broker(start_broker, service):
    return start_broker(config=config(authn_url=service.url("/authn")))


# --- authentication ----------------------------------------------------------------------


@pytest.mark.parametrize("version", [V5, V311])
def test_allow_and_204_accepted(authn_broker, version):
    for user in ("allowed", "nocontent"):
        client, code = paho_connack(authn_broker.port, user, version=version)
        assert code == 0, user
        client.close()


@pytest.mark.parametrize("version,expected", [(5, NOT_AUTHORIZED), (4, RC311_NOT_AUTHORIZED)])
def test_deny_refused_not_authorized_like_emqx(authn_broker, version, expected):
    # EMQX's HTTP authenticator turns "deny" into not_authorized: 0x87, 3.1.1 return code 5.
    assert connack_code(authn_broker.port, version, "denied", "pw") == expected


@pytest.mark.parametrize("version", [V5, V311])
def test_paho_sees_deny(authn_broker, version):
    client, code = paho_connack(authn_broker.port, "denied", version=version)
    assert code == (NOT_AUTHORIZED if version == V5 else RC311_NOT_AUTHORIZED)
    client.close()


def test_ignore_and_failures_fall_through_to_anonymous_rules(authn_broker):
    # Every step ignored a client with a user name: refused (allow_anonymous = false here,
    # and a named client is never anonymous once an authenticator is configured).
    for user in ("ignored", "broken", "garbage", "unknown"):
        assert connack_code(authn_broker.port, 5, user, "pw") == 0x86, user


def test_ignore_falls_through_to_the_password_file(start_broker, service, tmp_path):
    # The password file is asked first; an "ignored" user it does not know goes on to HTTP,
    # which ignores too; a user the file knows is decided by the file without HTTP.
    import subprocess
    passwd = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(passwd), "filed", "secret"], check=True,
                   capture_output=True)
    extra = '[auth.password_file]\npath = "%s"\n' % passwd
    broker = start_broker(config=config(authn_url=service.url("/authn"), extra=extra))
    assert connack_code(broker.port, 5, "filed", "secret") == 0
    assert connack_code(broker.port, 5, "allowed", "x") == 0
    assert connack_code(broker.port, 5, "ignored", "x") == 0x86
    users = [b["username"] for b in service.bodies("/authn")]
    assert "filed" not in users
    assert "allowed" in users and "ignored" in users


def test_request_body_carries_substituted_values(authn_broker, service):
    client_id = 'id"with\\quote'
    client, code = raw_connect(authn_broker.port, 5, "allowed", 'pa"ss\\word\u00e9',
                               client_id=client_id)
    assert code == 0
    client.close()
    body = service.bodies("/authn")[-1]
    assert body == {"clientid": client_id, "username": "allowed",
                    "password": 'pa"ss\\word\u00e9'}


def test_custom_body_form_encoding_get_and_headers(start_broker, service):
    extra = "\n".join([
        "[auth.http]",
        'url = "%s"' % service.url("/authn"),
        "method = \"post\"",
        "body = '{\"username\": \"${username}\", \"host\": \"${peerhost}\", "
        "\"cn\": \"${cert_common_name}\", \"c\": \"${clientid}\"}'",
        "headers = \"\"\"",
        "Content-Type: application/x-www-form-urlencoded",
        "X-Api-Key: sesame",
        "\"\"\"",
        "",
        "[authorization.http]",
        'url = "%s"' % service.url("/authz"),
        'method = "get"',
        "body = '{\"topic\": \"${topic}\", \"action\": \"${action}\", \"qos\": \"${qos}\", "
        "\"retain\": \"${retain}\", \"username\": \"${username}\"}'",
        ""])
    broker = start_broker(config=config(extra=extra))
    client, code = raw_connect(broker.port, 5, "allowed", "pw", client_id="a b&c")
    assert code == 0
    assert raw_publish(client, 5, "allowed/x y", 1) == 0
    client.close()
    path, headers, body = [r for r in service.requests if r[0] == "/authn"][-1]
    assert body == {"username": "allowed", "host": "127.0.0.1", "cn": "", "c": "a b&c"}
    assert headers.get("X-Api-Key") == "sesame"
    authz = service.bodies("/authz")[-1]
    assert authz == {"topic": "allowed/x y", "action": "publish", "qos": "1", "retain": "false",
                     "username": "allowed"}


def test_service_down_is_ignore_or_deny_with_on_error_deny(start_broker):
    url = "http://127.0.0.1:%d/authn" % closed_port()
    open_broker = start_broker(config=config(authn_url=url, anonymous=True))
    # Ignored: the anonymous client is admitted by allow_anonymous; a named one is refused as
    # unknown (0x86), not as denied by the service.
    assert connack_code(open_broker.port, 5) == 0
    assert connack_code(open_broker.port, 5, "allowed", "pw") == 0x86
    closed_broker = start_broker(config=config(authn_url=url, anonymous=True,
                                               authn=["on_error = \"deny\""]))
    assert connack_code(closed_broker.port, 5) == NOT_AUTHORIZED
    assert connack_code(closed_broker.port, 4, "allowed", "pw") == RC311_NOT_AUTHORIZED


def test_timeout_is_ignore(authn_broker, service):
    # "stuck" answers after 3 s; the broker's timeout is 1 s: ignore, so the named client is
    # refused as unknown, and the broker keeps answering others.
    started = time.monotonic()
    assert connack_code(authn_broker.port, 5, "stuck", "pw") == 0x86
    assert time.monotonic() - started < 30
    assert connack_code(authn_broker.port, 5, "allowed", "pw") == 0


def test_slow_service_does_not_delay_other_clients(start_broker, service):
    # One worker: the slow client's CONNECT and the fast one share it. The service holds the
    # slow client's answer until the fast client is in (at most SLOW_SECONDS), so the proof
    # does not depend on timing: were the worker blocked, the fast CONNACK would come only
    # after the release and `slow_done` would be set first.
    broker = start_broker(args=["--threads", "1"],
                          config=config(authn_url=service.url("/authn"),
                                        authn=['request_timeout = "30s"']))
    slow_done = threading.Event()
    slow_code = []

    def slow():
        slow_code.append(connack_code(broker.port, 5, "slow", "pw"))
        slow_done.set()

    thread = threading.Thread(target=slow)
    thread.start()
    # Wait until the service has the slow request in hand.
    assert wait_until(lambda: any(b.get("username") == "slow"
                                  for b in service.bodies("/authn")))
    # The fast client is admitted while the slow one still waits for its answer.
    assert connack_code(broker.port, 5, "allowed", "pw") == 0
    assert not slow_done.is_set(), "the fast client waited for the slow one"
    service.release_slow.set()
    thread.join(30)
    assert slow_code == [0]


def test_many_concurrent_clients_share_the_pool(start_broker, service):
    broker = start_broker(config=config(authn_url=service.url("/authn"),
                                        authn=["pool_size = 2"]))
    codes = []
    lock = threading.Lock()

    def one(i):
        code = connack_code(broker.port, 5, "allowed" if i % 2 else "denied", "pw")
        with lock:
            codes.append((i, code))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(codes) == [(i, 0 if i % 2 else NOT_AUTHORIZED) for i in range(20)]


# --- authorization -----------------------------------------------------------------------


@pytest.fixture
def authz_broker(start_broker, service):
    return start_broker(config=config(authz_url=service.url("/authz"), anonymous=True,
                                      no_match="deny"))


@pytest.mark.parametrize("version", [V5, V311])
def test_paho_subscribe_allowed_and_denied(authz_broker, version):
    client = PahoClient(authz_broker.port, version=version)
    try:
        refused = 0x87 if version == V5 else 0x80
        assert client.subscribe("allowed/#", qos=1) == [1]
        assert client.subscribe("denied/#", qos=1) == [refused]
        # ignore -> authorization.no_match = deny
        assert client.subscribe("other/#", qos=1) == [refused]
    finally:
        client.close()


@pytest.mark.parametrize("version", [5, 4])
def test_publish_allowed_and_denied(authz_broker, service, version):
    watcher = PahoClient(authz_broker.port)
    try:
        assert watcher.subscribe("allowed/#", qos=1) == [1]
        client, code = raw_connect(authz_broker.port, version)
        assert code == 0
        denied = NOT_AUTHORIZED if version == 5 else 0  # 3.1.1: acknowledged, dropped
        assert raw_publish(client, version, "denied/x", 1, b"no") == denied
        assert raw_publish(client, version, "allowed/x", 2, b"yes") == 0
        client.close()
        assert [m.payload for m in watcher.wait_messages(1)] == [b"yes"]
        actions = [(b["topic"], b["action"]) for b in service.bodies("/authz")]
        assert ("denied/x", "publish") in actions
        assert ("allowed/#", "subscribe") in actions
    finally:
        watcher.close()


def test_raw_suback_codes(authz_broker):
    client, code = raw_connect(authz_broker.port, 5)
    assert code == 0
    assert raw_subscribe(client, 5, ["allowed/a", "denied/a", "allowed/b"]) == [1, 0x87, 1]
    client.close()


def test_authorization_service_down_with_on_error_deny(start_broker):
    url = "http://127.0.0.1:%d/authz" % closed_port()
    open_broker = start_broker(config=config(authz_url=url, anonymous=True, no_match="allow"))
    client, code = raw_connect(open_broker.port, 5)
    assert raw_subscribe(client, 5, ["a/b"]) == [1]  # ignore -> no_match allow
    client.close()
    closed_broker = start_broker(config=config(authz_url=url, anonymous=True, no_match="allow",
                                               authz=["on_error = \"deny\""]))
    client, code = raw_connect(closed_broker.port, 5)
    assert raw_subscribe(client, 5, ["a/b"]) == [0x87]
    client.close()


def test_http_superuser_bypasses_authorization(start_broker, service):
    """EMQX: "is_superuser": true in the authentication answer lets the client skip
    authorization; the broker asks no authorization question for it."""
    broker = start_broker(config=config(authn_url=service.url("/authn"),
                                        authz_url=service.url("/authz"), no_match="deny"))
    watcher, code = paho_connack(broker.port, "super")
    assert code == 0
    try:
        assert watcher.subscribe("denied/#", qos=1) == [1]
        client, code = paho_connack(broker.port, "allowed")
        assert code == 0
        try:
            assert client.subscribe("denied/#", qos=1) == [0x87]  # an ordinary user
        finally:
            client.close()
        raw, code = raw_connect(broker.port, 5, username="super", password=b"pw")
        assert code == 0
        assert raw_publish(raw, 5, "denied/x", 1, b"super") == 0
        raw.close()
        assert [m.payload for m in watcher.wait_messages(1)] == [b"super"]
        asked = [(b["topic"], b["action"]) for b in service.bodies("/authz")]
        assert ("denied/#", "subscribe") in asked  # the ordinary user's question
        assert ("denied/x", "publish") not in asked
    finally:
        watcher.close()


# --- expire_at and acl in the authentication answer (EMQX 5.8) --------------------------


@pytest.mark.parametrize("version", [V5, V311])
def test_expire_at_disconnects_the_client_then(authn_broker, version):
    # expire_at is 2 s ahead: the client is let in and disconnected once it passed (the
    # broker checks once a second).
    client, code = paho_connack(authn_broker.port, "expiring", version=version)
    try:
        assert code == 0
        record = client.wait_disconnected(timeout=15)
        assert record is not None, "still connected after expire_at"
        # The DISCONNECT's reason code (0x87) is not checked here yet: paho reports the lost
        # connection (7) rather than the packet's code; a raw-bytes check is still to come.
        assert record["rc"] != 0
    finally:
        client.close()


@pytest.mark.parametrize("version,expected", [(5, 0x86), (4, 4)])
def test_expire_at_in_the_past_is_refused(authn_broker, version, expected):
    assert connack_code(authn_broker.port, version, "expired", "pw") == expected


def test_bad_acl_in_the_answer_is_refused(authn_broker):
    assert connack_code(authn_broker.port, 5, "badacl", "pw") == 0x86


@pytest.mark.parametrize("version", [5, 4])
def test_acl_in_the_answer_is_asked_before_the_authorization_chain(start_broker, service,
                                                                    version):
    broker = start_broker(config=config(authn_url=service.url("/authn"),
                                        authz_url=service.url("/authz"), no_match="deny"))
    watcher, code = paho_connack(broker.port, "super")  # a superuser sees everything
    assert code == 0
    try:
        assert watcher.subscribe("#", qos=1) == [1]
        client, code = raw_connect(broker.port, version, "ruled", "pw", client_id="rc")
        assert code == 0
        denied = NOT_AUTHORIZED if version == 5 else 0  # 3.1.1: acknowledged, dropped
        # The rules decide without asking the service: "ruled/yes" is allowed although the
        # service would ignore it (-> no_match deny); "denied/rc/own" is denied by a rule
        # (${clientid}); "ruled/other" by the catch-all deny rule.
        assert raw_publish(client, version, "ruled/yes", 1, b"yes") == 0
        assert raw_publish(client, version, "denied/rc/own", 2, b"no") == denied
        assert raw_publish(client, version, "ruled/other", 3, b"no") == denied
        # No rule matches: the chain decides (the service allows "allowed/...").
        assert raw_publish(client, version, "allowed/x", 4, b"chain") == 0
        refused = 0x87 if version == 5 else 0x80
        assert raw_subscribe(client, version, ["ruled/yes", "mine/#", "mine/a", "allowed/s"],
                             packet_id=5) == [refused, 1, refused, 1]
        client.close()
        assert sorted(m.payload for m in watcher.wait_messages(2)) == [b"chain", b"yes"]
        asked = [b["topic"] for b in service.bodies("/authz") if b.get("username") == "ruled"]
        assert "allowed/x" in asked and "allowed/s" in asked and "mine/a" in asked
        for decided in ("ruled/yes", "denied/rc/own", "ruled/other", "mine/#"):
            assert decided not in asked, decided
    finally:
        watcher.close()
