"""[[authentication]] and [[authorization.sources]] tables: steps in the written order,
listeners that ask only their own authenticators, and superuser rights that come only
from the step that authenticated the client. The broker is configured as the issue's
example writes it (EMQX's key names, body as a TOML table) and talked to with paho,
mosquitto_pub and hand-built bytes."""
import subprocess

import pytest

from client_helpers import free_port, wait_port
from json_service import JsonService
from mqtt_helpers import unique
from test_auth_files import (connack_code, mosquitto_passwd, raw_connect, raw_publish, workdir,
                             write)  # noqa: F401  (workdir is a fixture)

NOT_AUTHORIZED = 0x87
BAD_USER_NAME_OR_PASSWORD = 0x86


class Answers:
    """The HTTP service's policy: 'device-*' users with password 'token' are allowed (as
    ordinary clients, however they are named), everyone else is ignored. It records whom
    it was asked about."""

    def __init__(self):
        self.asked = []

    def authn(self, body):
        self.asked.append(body.get("username"))
        if body.get("password") == "token":
            return {"result": "allow", "is_superuser": False}
        return {"result": "ignore"}


@pytest.fixture
def chain(start_broker, workdir):  # noqa: F811
    passwd = workdir + "/passwd"
    mosquitto_passwd(passwd, "root", "root-pw", create=True)
    mosquitto_passwd(passwd, "alice", "alice-pw")
    acl = workdir + "/acl"
    write(acl, "user alice\ntopic readwrite alice/#\n\npattern readwrite devices/%c/#\n")
    answers = Answers()
    service = JsonService(answers.authn, path="/auth")
    ports = {"default": free_port(), "devices": free_port()}
    config = """
[listeners.tcp.default]
bind = "127.0.0.1:%(default)d"
allow_anonymous = false

[listeners.tcp.devices]
bind = "127.0.0.1:%(devices)d"
allow_anonymous = false
authenticators = ["corp"]

[node]
auth_failure_delay = "0s"

[[authentication]]
mechanism = "password_based"
backend = "password_file"
name = "passwd"
path = "%(passwd)s"
superusers = "root"

[[authentication]]
mechanism = "password_based"
backend = "http"
name = "corp"
method = "post"
url = "%(url)s"
body = { clientid = "${clientid}", username = "${username}", password = "${password}" }
headers = { "X-Api-Key" = "k" }
request_timeout = "5s"
on_error = "ignore"

[[authentication]]
backend = "jwt"
name = "unused"
algorithm = "hmac-based"
secret = "s"
enable = false

[authorization]
no_match = "deny"
deny_action = "ignore"

[[authorization.sources]]
type = "file"
path = "%(acl)s"
""" % dict(ports, passwd=passwd, acl=acl, url=service.url)
    broker = start_broker(config=config)
    for port in ports.values():
        wait_port(port)
    yield broker, ports, answers
    service.stop()


def publish_code(port, username, password, topic, client_id=None):
    client, code = raw_connect(port, 5, username, password, client_id=client_id)
    assert code == 0
    try:
        return raw_publish(client, 5, topic, 1)
    finally:
        client.close()


def test_each_listener_asks_its_own_authenticators(chain):
    _, ports, answers = chain
    # The default listener asks the password file, then the HTTP service.
    assert connack_code(ports["default"], 5, "alice", "alice-pw") == 0
    assert connack_code(ports["default"], 5, "device-1", "token") == 0
    # The devices listener asks the HTTP service only: the password file's users are
    # strangers there, and their names reach the service.
    assert connack_code(ports["devices"], 5, "device-1", "token") == 0
    answers.asked.clear()
    assert connack_code(ports["devices"], 5, "alice", "alice-pw") == BAD_USER_NAME_OR_PASSWORD
    assert answers.asked == ["alice"]
    # A wrong password file password is final on the default listener: HTTP is not asked.
    answers.asked.clear()
    assert connack_code(ports["default"], 5, "alice", "wrong") == BAD_USER_NAME_OR_PASSWORD
    assert answers.asked == []


def test_superuser_rights_come_only_from_the_step_that_authenticated(chain):
    _, ports, _ = chain
    topic = "secret/" + unique("t")
    # root, proven by the password file, is a superuser: the ACL's deny does not apply.
    assert publish_code(ports["default"], "root", "root-pw", topic) == 0
    # "root" let in by the HTTP service (on the listener where only it is asked) is an
    # ordinary client, whom the ACL file refuses.
    assert publish_code(ports["devices"], "root", "token", topic) == NOT_AUTHORIZED
    # The ACL's pattern lines apply to clients of every listener.
    assert publish_code(ports["devices"], "device-7", "token", "devices/d7/up",
                        client_id="d7") == 0


def test_mosquitto_clients_through_the_chain(chain):
    _, ports, _ = chain
    ok = subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(ports["devices"]),
                         "-u", "device-2", "-P", "token", "-i", "d2", "-t", "devices/d2/up",
                         "-m", "hello", "-q", "1", "-V", "mqttv5"],
                        capture_output=True, text=True, timeout=20)
    assert ok.returncode == 0, ok.stderr
    refused = subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(ports["devices"]),
                              "-u", "alice", "-P", "alice-pw", "-t", "alice/x", "-m", "x",
                              "-V", "mqttv5"],
                             capture_output=True, text=True, timeout=20)
    assert refused.returncode != 0


@pytest.mark.parametrize("table, message", [
    ('[[authentication]]\nbackend = "ldap"\n',
     ':2: authentication[1].backend: expected one of password_file, jwt or http, got "ldap"'),
    ('[[authentication]]\nbackend = "http"\nurl = "http://h/"\ntimeout = "1s"\n',
     ':5: authentication[1].timeout: unknown key of a http step; its keys are url'),
    ('[listeners.tcp.x]\nbind = "127.0.0.1:0"\nauthenticators = ["nobody"]\n',
     ':4: listeners.tcp.x.authenticators: no authenticator is named "nobody"; none is '
     'configured'),
    ('[[authentication]]\nbackend = "password_file"\npath = "/nonexistent/passwd"\n',
     ':2: authentication[1].path: /nonexistent/passwd: cannot read'),
])
def test_bad_tables_stop_start_up_with_file_line_and_key(cicada_binary, workdir, table,  # noqa: F811
                                                         message):
    path = workdir + "/cicada.toml"
    write(path, "\n" + table)
    run = subprocess.run([cicada_binary, "--config", path], capture_output=True, text=True,
                         timeout=20)
    assert run.returncode != 0
    assert path + message in run.stderr, run.stderr
