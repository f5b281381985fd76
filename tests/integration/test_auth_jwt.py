"""JWT authentication ([auth.jwt]) and the per-client rules and expiry an authentication
answer may carry (the JWT's acl claim and exp; the HTTP answer's acl and expire_at),
against the real broker with hand-built packets and paho. Tokens are made here: HS256
with hmac, RS256 with `openssl dgst` and the throw-away key in tests/data/jwt."""
import base64
import hashlib
import hmac
import json
import os
import subprocess
import time

import pytest

from json_service import JsonService
from mqtt_helpers import DISCONNECT, PUBACK, SUBACK, publish_packet, subscribe_packet
from test_auth_files import raw_connect

DATA = os.path.join(os.path.dirname(__file__), "..", "data", "jwt")
SECRET = "jwt-test-secret"
BAD_USER_NAME_OR_PASSWORD = 0x86
NOT_AUTHORIZED = 0x87


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(claims, alg="HS256", secret=SECRET):
    header = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    payload = b64url(json.dumps(claims).encode())
    signing_input = ("%s.%s" % (header, payload)).encode()
    if alg == "HS256":
        signature = hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
    else:  # RS256: PKCS#1 v1.5 over SHA-256, as openssl dgst -sign makes it
        signature = subprocess.run(
            ["openssl", "dgst", "-sha256", "-sign", os.path.join(DATA, "rsa.key")],
            input=signing_input, capture_output=True, check=True).stdout
    return "%s.%s.%s" % (header, payload, b64url(signature))


def jwt_config(algorithm="hmac-based", extra=""):
    lines = ["[listeners.tcp.secure]", 'bind = "127.0.0.1:0"', "allow_anonymous = false", "",
             "[auth.jwt]", 'algorithm = "%s"' % algorithm]
    if algorithm == "hmac-based":
        lines.append('secret = "%s"' % SECRET)
    else:
        lines.append('public_key = "%s"' % os.path.join(DATA, "rsa.pub"))
    return "\n".join(lines) + "\n" + extra + "\n"


def later(seconds):
    return int(time.time()) + seconds


@pytest.mark.parametrize("version", [5, 4])
def test_valid_expired_and_forged_tokens(start_broker, version):
    broker = start_broker(config=jwt_config())
    refused = BAD_USER_NAME_OR_PASSWORD if version == 5 else 4
    cases = [
        (token({"exp": later(600)}), 0),
        (token({"exp": later(-10)}), refused),                 # expired
        (token({"nbf": later(600)}), refused),                 # not yet valid
        # A wrong signature is ignored by the JWT step (EMQX's invalid_signature); no
        # other step knows "u", so the chain's end refuses the named client.
        (token({"exp": later(600)}, secret="other"), refused),
        ("not a jwt", refused),  # ignored by the JWT step; nothing else lets it in
    ]
    for password, expected in cases:
        client, code = raw_connect(broker.port, version, "u", password)
        client.close()
        assert code == expected, password


def test_rs256_with_a_public_key_file(start_broker):
    broker = start_broker(config=jwt_config("public-key"))
    client, code = raw_connect(broker.port, 5, "u", token({"exp": later(600)}, alg="RS256"))
    client.close()
    assert code == 0
    # An HS256 token made with the public key as the secret (algorithm confusion).
    with open(os.path.join(DATA, "rsa.pub")) as f:
        forged = token({}, secret=f.read())
    client, code = raw_connect(broker.port, 5, "u", forged)
    client.close()
    assert code == BAD_USER_NAME_OR_PASSWORD


def test_verify_claims_must_name_the_client(start_broker):
    broker = start_broker(config=jwt_config(extra='verify_claims = "clientid=${clientid}"'))
    good = token({"clientid": "dev-7"})
    client, code = raw_connect(broker.port, 5, "u", good, client_id="dev-7")
    client.close()
    assert code == 0
    client, code = raw_connect(broker.port, 5, "u", good, client_id="dev-8")
    client.close()
    assert code == BAD_USER_NAME_OR_PASSWORD


ACL = [{"permission": "allow", "action": "publish", "topic": "dev/${clientid}/#"},
       {"permission": "allow", "action": "subscribe", "topic": "cmd/${clientid}", "qos": [0, 1]},
       {"permission": "deny", "action": "all", "topic": "#"}]


@pytest.mark.parametrize("version", [5, 4])
def test_acl_claim_authorizes_the_client(start_broker, version):
    broker = start_broker(config=jwt_config())
    client, code = raw_connect(broker.port, version, "u", token({"acl": ACL}), client_id="d1")
    assert code == 0
    client.send(publish_packet("dev/d1/t", b"ok", qos=1, packet_id=1, version=version))
    ack = client.expect(PUBACK)
    assert len(ack) == 2 or ack[2] == 0
    client.send(publish_packet("dev/d2/t", b"no", qos=1, packet_id=2, version=version))
    ack = client.expect(PUBACK)
    if version == 5:
        assert ack[2] == NOT_AUTHORIZED
    client.send(subscribe_packet(3, [("cmd/d1", 1), ("cmd/d1", 2), ("cmd/d2", 0)],
                                 version=version))
    body = client.expect(SUBACK)
    codes = list(body[3:]) if version == 5 else list(body[2:])
    refused = NOT_AUTHORIZED if version == 5 else 0x80
    assert codes == [1, refused, refused]  # QoS 2 is outside the rule's qos list
    client.close()


def test_exp_disconnects_the_client(start_broker):
    broker = start_broker(config=jwt_config())
    client, code = raw_connect(broker.port, 5, "u", token({"exp": later(2)}))
    assert code == 0
    # The worker's once-a-second tick notices within a second after exp.
    body = client.expect(DISCONNECT, timeout=10)
    assert body[0] == NOT_AUTHORIZED
    assert client.read_packet() is None
    client.close()


def test_http_answer_acl_and_expire_at(start_broker):
    answers = {
        "ruled": {"result": "allow", "acl": ACL},
        "expiring": {"result": "allow", "expire_at": later(4)},
        "expired": {"result": "allow", "expire_at": later(-5)},
        "garbled": {"result": "allow", "acl": [{"permission": "perhaps"}]},
    }
    service = JsonService(lambda body: answers[body["username"]], "/authn")
    try:
        broker = start_broker(config="\n".join([
            "[listeners.tcp.secure]", 'bind = "127.0.0.1:0"', "allow_anonymous = false", "",
            "[auth.http]", 'url = "%s"' % service.url, ""]))
        client, code = raw_connect(broker.port, 5, "ruled", "pw", client_id="d1")
        assert code == 0
        client.send(publish_packet("dev/d2/x", b"no", qos=1, packet_id=1, version=5))
        assert client.expect(PUBACK)[2] == NOT_AUTHORIZED
        client.close()
        expiring, code = raw_connect(broker.port, 5, "expiring", "pw")
        assert code == 0
        for user in ["expired", "garbled"]:  # each refusal waits node.auth_failure_delay
            client, code = raw_connect(broker.port, 5, user, "pw")
            client.close()
            # EMQX's emqx_authn_http answers both with bad_username_or_password.
            assert code == BAD_USER_NAME_OR_PASSWORD, user
        assert expiring.expect(DISCONNECT, timeout=10)[0] == NOT_AUTHORIZED
        expiring.close()
    finally:
        service.stop()
