"""MQTT over WebSocket over TLS ([listeners.wss.NAME], docs/listeners.md): the real
cicada with a wss listener on 127.0.0.1:0 ("listening on wss 127.0.0.1:PORT") beside the
fixture's plain --listen one, certificates from client_helpers.make_certs, driven by
paho-mqtt over secure websockets, openssl s_client and hand-built upgrades and frames
over a TLS socket (ws_raw.py)."""
import shutil
import signal
import socket
import ssl
import subprocess

import pytest

from client_helpers import make_certs
from mqtt_helpers import CONNACK, V311, V5, PahoClient, connect_packet, unique, wait_until
from ws_raw import BINARY, RawWebSocket, upgrade_request

WAIT = 20


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return make_certs(tmp_path_factory.mktemp("wss"))


def wss_config(certs, extra="", certfile=None, keyfile=None):
    return "\n".join([
        "[listeners.wss.default]",
        'bind = "127.0.0.1:0"',
        'certfile = "%s"' % (certfile or certs["server.crt"]),
        'keyfile = "%s"' % (keyfile or certs["server.key"]),
        'cacertfile = "%s"' % certs["ca.crt"],
        extra,
        "",
    ])


def wss_client(port, certs, version, client=None, connect=True):
    c = PahoClient(port, version=version, transport="websockets", connect=False)
    c.client.tls_set(ca_certs=certs["ca.crt"], tls_version=ssl.PROTOCOL_TLS_CLIENT,
                     certfile=certs[client + ".crt"] if client else None,
                     keyfile=certs[client + ".key"] if client else None)
    if connect:
        c.connect()
    return c


def tls_socket(port, certs, client=None):
    context = ssl.create_default_context(cafile=certs["ca.crt"])
    if client:
        context.load_cert_chain(certs[client + ".crt"], certs[client + ".key"])
    raw = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
    return context.wrap_socket(raw, server_hostname="localhost")


@pytest.fixture
def wss_broker(start_broker, certs):
    b = start_broker(config=wss_config(certs), args=["--threads", "2", "--log-level", "debug"])
    assert b.wss_port is not None and b.wss_port != b.port
    return b


@pytest.mark.parametrize("version", [V311, V5], ids=["3.1.1", "5"])
@pytest.mark.parametrize("qos", [0, 1, 2])
def test_publish_and_subscribe_across_wss_and_tcp(wss_broker, certs, version, qos):
    wss = wss_client(wss_broker.wss_port, certs, version)
    tcp = PahoClient(wss_broker.port, version=version)
    try:
        to_tcp, to_wss = unique("wss/to-tcp/"), unique("wss/to-wss/")
        wss.subscribe(to_wss, qos=qos)
        tcp.subscribe(to_tcp, qos=qos)
        wss.publish(to_tcp, b"from wss", qos=qos)
        tcp.publish(to_wss, b"from tcp", qos=qos)
        assert [(m.topic, m.payload, m.qos) for m in tcp.wait_messages(1)] == \
            [(to_tcp, b"from wss", qos)]
        assert [(m.topic, m.payload, m.qos) for m in wss.wait_messages(1)] == \
            [(to_wss, b"from tcp", qos)]
    finally:
        wss.close()
        tcp.close()


def test_large_payload_both_ways(wss_broker, certs):
    # 200 KiB: WebSocket frames of 64 KiB, each cut into 16 KiB TLS records.
    payload = bytes(range(256)) * 800
    wss = wss_client(wss_broker.wss_port, certs, V5)
    tcp = PahoClient(wss_broker.port, version=V5)
    try:
        big = unique("wss/big/")
        wss.subscribe(big + "/to-wss", qos=1)
        tcp.subscribe(big + "/to-tcp", qos=1)
        wss.publish(big + "/to-tcp", payload, qos=1)
        tcp.publish(big + "/to-wss", payload, qos=1)
        assert tcp.wait_messages(1)[0].payload == payload
        assert wss.wait_messages(1)[0].payload == payload
    finally:
        wss.close()
        tcp.close()


def test_hand_built_frames_over_tls(wss_broker, certs):
    raw = RawWebSocket(tls_socket(wss_broker.wss_port, certs))
    try:
        status, headers = raw.upgrade()
        assert status == 101 and headers["sec-websocket-protocol"] == "mqtt"  # [MQTT-6.0.0-4]
        raw.send_frame(BINARY, connect_packet(unique("raw-wss"), version=4))
        packet_type, _, body = raw.read_mqtt()
        assert packet_type == CONNACK and body == b"\x00\x00"
        # [RFC 6455 5.1] an unmasked client frame: Close 1002, then the end.
        raw.send_frame(BINARY, b"\xc0\x00", mask=False)
        assert raw.read_close() == 1002
    finally:
        raw.close()


def test_wrong_path_over_tls_gets_404(wss_broker, certs):
    raw = RawWebSocket(tls_socket(wss_broker.wss_port, certs))
    try:
        assert raw.upgrade(path="/nope")[0] == 404
        assert raw.closed()
    finally:
        raw.close()


def test_plain_websocket_to_the_wss_port_is_closed(wss_broker):
    raw = RawWebSocket.connect(wss_broker.wss_port)
    try:
        raw.sock.sendall(b"GET /mqtt HTTP/1.1\r\nHost: x\r\n\r\n")
        reply = b""
        try:
            reply = raw.sock.recv(1024)
        except ConnectionResetError:
            pass
        assert not reply.startswith(b"HTTP/"), reply  # a TLS alert or just the end
    finally:
        raw.close()
    wait_until(lambda: "TLS error before CONNECT" in wss_broker.log())


def test_untrusted_server_certificate_is_refused_by_the_client(wss_broker, certs):
    c = PahoClient(wss_broker.wss_port, version=V5, transport="websockets", connect=False)
    c.client.tls_set(ca_certs=certs["other-ca.crt"], tls_version=ssl.PROTOCOL_TLS_CLIENT)
    try:
        with pytest.raises(ssl.SSLError):
            c.connect(timeout=5)
    finally:
        c.close()


def test_mutual_tls_with_the_ssl_keys(start_broker, certs, tmp_path):
    acl = tmp_path / "acl"
    acl.write_text("user cicada-client\ntopic readwrite own/#\n")
    b = start_broker(config=wss_config(
        certs, 'verify = "verify_peer"\nfail_if_no_peer_cert = true\n'
        'peer_cert_as_username = "cn"\n'
        '[authorization]\nno_match = "deny"\n[authorization.acl_file]\npath = "%s"' % acl))
    # The certificate's CN is the user name the ACL file knows, through the WebSocket
    # layer over TLS as over TLS alone.
    with_cert = wss_client(b.wss_port, certs, V5, client="client")
    try:
        granted = with_cert.subscribe([("own/#", 1), ("other/#", 1)])
        assert granted[0] == 1
        assert granted[1] >= 0x80
    finally:
        with_cert.close()
    # No client certificate: the TLS handshake fails, and no upgrade is answered.
    try:
        s = tls_socket(b.wss_port, certs)
        try:
            s.sendall(upgrade_request()[0])
            reply = s.recv(1024)  # TLS 1.3 reports the refusal on the first read
        finally:
            s.close()
    except (ssl.SSLError, OSError):
        reply = b""
    assert reply == b"", reply


def test_sighup_rereads_the_certificate(start_broker, certs, tmp_path):
    cert, key = str(tmp_path / "live.crt"), str(tmp_path / "live.key")
    shutil.copy(certs["server.crt"], cert)
    shutil.copy(certs["server.key"], key)
    b = start_broker(config=wss_config(certs, certfile=cert, keyfile=key))
    old = wss_client(b.wss_port, certs, V5)
    try:
        old.subscribe("wss-reload/#", 1)
        shutil.copy(certs["wrong.crt"], cert)
        shutil.copy(certs["wrong.key"], key)
        b.process.send_signal(signal.SIGHUP)
        wait_until(lambda: "listener wss:default: certificate, key and CA files reread" in b.log())
        out = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % b.wss_port,
                              "-CAfile", certs["ca.crt"]], capture_output=True, input=b"",
                             timeout=WAIT)
        assert b"CN = wrong.example" in out.stdout, out.stdout
        # The connection made before the reload keeps working.
        old.publish("wss-reload/x", b"still here", qos=1)
        assert [m.payload for m in old.wait_messages(1)] == [b"still here"]
    finally:
        old.close()


def test_ssl_start_up_errors_apply_to_wss(cicada_binary, certs, tmp_path):
    config = tmp_path / "c.toml"
    config.write_text(wss_config(certs, certfile=str(tmp_path / "missing.pem")))
    out = subprocess.run([cicada_binary, "--config", str(config)], capture_output=True,
                         timeout=WAIT, env={"ASAN_OPTIONS": "detect_leaks=0"})
    assert out.returncode != 0
    text = (out.stdout + out.stderr).decode()
    assert "listener wss:default" in text and "missing.pem" in text, text
