"""https:// authentication and authorization services: the broker verifies the service's
certificate (its CA, its name) unless told not to, sends a client certificate when the
service asks for one, and treats a failed handshake as the service failing (ignore, or
deny with on_error = "deny"). The service is Python's http.server behind Python's ssl
module; the certificates are made by openssl at test time."""
import ssl
import subprocess

import pytest

from client_helpers import make_certs
from json_service import JsonService
from test_auth_files import connack_code, raw_connect, raw_publish

NOT_AUTHORIZED = 0x87
BAD_USER_NAME_OR_PASSWORD = 0x86


def allow_token(body):
    return {"result": "allow"} if body.get("password") == "token" else {"result": "deny"}


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return make_certs(tmp_path_factory.mktemp("https-certs"))


def service(certs, server="server", client_ca=None, answer=allow_token, path="/auth"):
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(certs[server + ".crt"], certs[server + ".key"])
    if client_ca:
        tls.verify_mode = ssl.CERT_REQUIRED
        tls.load_verify_locations(client_ca)
    return JsonService(answer, path=path, tls=tls)


def authn_config(url, *ssl_lines, on_error="ignore"):
    """One [[authentication]] table with an inline ssl table (EMQX's form)."""
    return """
[listeners.tcp.default]
bind = "127.0.0.1:0"
allow_anonymous = false

[node]
auth_failure_delay = "0s"

[[authentication]]
backend = "http"
url = "%s"
on_error = "%s"
ssl = { %s }
""" % (url, on_error, ", ".join(ssl_lines))


@pytest.fixture
def services():
    started = []
    yield started
    for s in started:
        s.stop()


def test_verified_service_decides(start_broker, certs, services):
    s = service(certs)
    services.append(s)
    broker = start_broker(config=authn_config(s.url, 'cacertfile = "%s"' % certs["ca.crt"]),
                          listen="127.0.0.1:0")
    assert connack_code(broker.port, 5, "u", "token") == 0
    assert connack_code(broker.port, 5, "u", "wrong") == NOT_AUTHORIZED  # the service's deny
    assert connack_code(broker.port, 4, "u", "token") == 0


def test_name_is_checked_against_the_certificate(start_broker, certs, services):
    # The service shows a certificate for wrong.example while the URL names 127.0.0.1.
    s = service(certs, server="wrong")
    services.append(s)
    ca = 'cacertfile = "%s"' % certs["ca.crt"]
    broker = start_broker(config=authn_config(s.url, ca))
    assert connack_code(broker.port, 5, "u", "token") == BAD_USER_NAME_OR_PASSWORD  # ignored
    assert "TLS handshake" in broker.log()
    named = start_broker(config=authn_config(
        s.url, ca, 'server_name_indication = "wrong.example"'))
    assert connack_code(named.port, 5, "u", "token") == 0


@pytest.mark.parametrize("on_error, refused", [("ignore", BAD_USER_NAME_OR_PASSWORD),
                                               ("deny", NOT_AUTHORIZED)])
def test_unknown_ca_is_a_failed_service(start_broker, certs, services, on_error, refused):
    s = service(certs)
    services.append(s)
    broker = start_broker(config=authn_config(
        s.url, 'cacertfile = "%s"' % certs["other-ca.crt"], on_error=on_error))
    assert connack_code(broker.port, 5, "u", "token") == refused


def test_verify_none_trusts_any_certificate(start_broker, certs, services):
    s = service(certs, server="wrong")
    services.append(s)
    broker = start_broker(config=authn_config(
        s.url, 'cacertfile = "%s"' % certs["other-ca.crt"], 'verify = "verify_none"'))
    assert connack_code(broker.port, 5, "u", "token") == 0


def test_client_certificate_for_a_service_that_asks_for_one(start_broker, certs, services):
    s = service(certs, client_ca=certs["ca.crt"])
    services.append(s)
    ca = 'cacertfile = "%s"' % certs["ca.crt"]
    without = start_broker(config=authn_config(s.url, ca))
    assert connack_code(without.port, 5, "u", "token") == BAD_USER_NAME_OR_PASSWORD
    # The [auth.http] section with its [auth.http.ssl] table, and a key from the environment.
    config = """
[listeners.tcp.default]
bind = "127.0.0.1:0"
allow_anonymous = false

[auth.http]
url = "%s"

[auth.http.ssl]
certfile = "%s"
keyfile = "%s"
""" % (s.url, certs["client.crt"], certs["client.key"])
    with_cert = start_broker(config=config, env={"CICADA_AUTH__HTTP__SSL__CACERTFILE":
                                                 certs["ca.crt"]})
    assert connack_code(with_cert.port, 5, "u", "token") == 0


def test_https_authorization_source(start_broker, certs, services):
    def authz(body):
        return {"result": "allow" if body["topic"].startswith("open/") else "deny"}

    s = service(certs, answer=authz, path="/authz")
    services.append(s)
    broker = start_broker(config="""
[listeners.tcp.default]
bind = "127.0.0.1:0"

[authorization]
no_match = "deny"

[[authorization.sources]]
type = "http"
url = "%s"
ssl.cacertfile = "%s"
""" % (s.url, certs["ca.crt"]))
    client, code = raw_connect(broker.port, 5)
    assert code == 0
    assert raw_publish(client, 5, "open/a", 1) == 0
    assert raw_publish(client, 5, "closed/a", 2) == NOT_AUTHORIZED
    client.close()


def test_bad_tls_settings_stop_start_up(cicada_binary, certs, tmp_path):
    path = tmp_path / "cicada.toml"
    path.write_text('[[authentication]]\nbackend = "http"\nurl = "https://127.0.0.1:1/"\n'
                    'ssl.cacertfile = "/nonexistent/ca.pem"\n')
    run = subprocess.run([cicada_binary, "--config", str(path)], capture_output=True, text=True,
                         timeout=20)
    assert run.returncode != 0
    assert "%s:1: authentication[1].ssl.cacertfile: /nonexistent/ca.pem: " % path in run.stderr, \
        run.stderr
    path.write_text('[[authentication]]\nbackend = "http"\nurl = "https://127.0.0.1:1/"\n'
                    'ssl = { certfile = "%s" }\n' % certs["client.crt"])
    run = subprocess.run([cicada_binary, "--config", str(path)], capture_output=True, text=True,
                         timeout=20)
    assert run.returncode != 0
    assert "authentication[1].ssl.keyfile: a client certificate needs both" in run.stderr, \
        run.stderr
