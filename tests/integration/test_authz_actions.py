"""What authorization does beyond SUBACK/PUBACK refusals: authorization.deny_action =
"disconnect" (EMQX), and the Will authorized as a PUBLISH (a denied one is discarded,
the connection accepted, as Mosquitto and EMQX do)."""
import os
import struct

import pytest

from mqtt_helpers import (CONNACK, DISCONNECT, PUBACK, SUBACK, RawClient, packet,
                          publish_packet, subscribe_packet, unique, utf8)
from test_auth_files import (ACL, make_config, mosquitto_passwd, paho, raw_connect, write,
                             workdir)  # noqa: F401 (workdir is a fixture)

NOT_AUTHORIZED = 0x87


def start_acl_broker(start_broker, workdir, deny_action=None):
    passwd = os.path.join(workdir, "passwd")
    mosquitto_passwd(passwd, "alice", "a", create=True)
    mosquitto_passwd(passwd, "root", "r")
    acl = os.path.join(workdir, "acl")
    write(acl, ACL)
    config = make_config(passwd=passwd, acl=acl, no_match="deny", superusers="root")
    if deny_action:
        config = config.replace('[authorization]\n',
                                '[authorization]\ndeny_action = "%s"\n' % deny_action)
    return start_broker(config=config)


def expect_disconnect(client, version):
    """MQTT 5: DISCONNECT 0x87, then the end; 3.1.1: just the end [MQTT-3.14.0-1]."""
    if version == 5:
        body = client.expect(DISCONNECT)
        assert body[0] == NOT_AUTHORIZED
    assert client.read_packet() is None


@pytest.mark.parametrize("version", [4, 5])
def test_deny_action_disconnect_on_publish(start_broker, workdir, version):
    broker = start_acl_broker(start_broker, workdir, "disconnect")
    watcher = paho(broker.port, "root", "r")
    try:
        assert watcher.subscribe("#", qos=1) == [1]
        alice, code = raw_connect(broker.port, version, "alice", "a")
        assert code == 0
        alice.send(publish_packet("alice/ok", b"allowed", qos=1, packet_id=1, version=version))
        assert alice.expect(PUBACK)[:2] == b"\x00\x01"
        alice.send(publish_packet("alice/secret/x", b"denied", qos=1, packet_id=2,
                                  version=version))
        expect_disconnect(alice, version)  # no PUBACK for the denied one
        alice.close()
        assert [m.payload for m in watcher.wait_messages(1)] == [b"allowed"]
        # Others are served on: a fresh connection of the same user works.
        again = paho(broker.port, "alice", "a")
        again.publish("alice/ok", b"after", qos=1)
        again.close()
        assert [m.payload for m in watcher.wait_messages(2)] == [b"allowed", b"after"]
    finally:
        watcher.close()


@pytest.mark.parametrize("version", [4, 5])
def test_deny_action_disconnect_on_subscribe(start_broker, workdir, version):
    broker = start_acl_broker(start_broker, workdir, "disconnect")
    alice, code = raw_connect(broker.port, version, "alice", "a")
    assert code == 0
    alice.send(subscribe_packet(1, [("alice/ok/+", 1)], version=version))
    alice.expect(SUBACK)
    # One refused filter among allowed ones: no SUBACK, the connection ends.
    alice.send(subscribe_packet(2, [("alice/ok/#", 1), ("alice/secret/x", 1)], version=version))
    expect_disconnect(alice, version)
    alice.close()


def test_deny_action_ignore_is_the_default(start_broker, workdir):
    broker = start_acl_broker(start_broker, workdir)
    alice, code = raw_connect(broker.port, 5, "alice", "a")
    assert code == 0
    alice.send(publish_packet("alice/secret/x", b"denied", qos=1, packet_id=1, version=5))
    assert alice.expect(PUBACK)[2] == NOT_AUTHORIZED
    alice.close()


def test_bad_deny_action_stops_start_up(start_broker, workdir):
    with pytest.raises(Exception) as failure:
        start_acl_broker(start_broker, workdir, "explode")
    assert "authorization.deny_action" in str(failure.value)


def connect_with_will(client_id, version, username, password, will_topic):
    """CONNECT with a user name, password and a QoS 1 Will (clean start)."""
    flags = 0x02 | 0x04 | (1 << 3) | 0x80 | 0x40
    body = utf8("MQTT") + bytes([version, flags]) + struct.pack("!H", 60)
    if version == 5:
        body += b"\x00"
    payload = utf8(client_id)
    if version == 5:
        payload += b"\x00"  # Will properties
    payload += utf8(will_topic) + utf8("gone") + utf8(username) + utf8(password)
    return packet(0x10, body + payload)


@pytest.mark.parametrize("version", [4, 5])
def test_a_will_that_may_not_be_published_is_discarded(start_broker, workdir, version):
    broker = start_acl_broker(start_broker, workdir)
    watcher = paho(broker.port, "root", "r")
    try:
        assert watcher.subscribe("#", qos=1) == [1]
        for topic in ["alice/secret/will", "alice/ok/will"]:
            client = RawClient(broker.port)
            client.send(connect_with_will(unique("will"), version, "alice", "a", topic))
            body = client.expect(CONNACK)
            assert body[1] == 0  # accepted either way, as Mosquitto does
            client.close()  # no DISCONNECT: the Will is due
        # Only the authorized Will is published.
        messages = watcher.wait_messages(1)
        assert [(m.topic, m.payload) for m in messages] == [("alice/ok/will", b"gone")]
        denied_marker = paho(broker.port, "root", "r")
        denied_marker.publish("marker", b"m", qos=1)
        denied_marker.close()
        assert [m.topic for m in watcher.wait_messages(2)] == ["alice/ok/will", "marker"]
    finally:
        watcher.close()
