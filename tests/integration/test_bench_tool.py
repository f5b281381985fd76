"""cicada-bench end to end, against the real cicada and Debian's mosquitto: every message
a limited run publishes arrives once (the tool's own loss and duplicate counts, checked
against what was sent), the JSON line carries the figures scripts/bench reads, and the
conn command holds the connections it was asked for; the same over mqtts:// with a
throwaway CA (openssl CLI), where a certificate for another name or an unknown CA ends
the run with the verification error, and over ws:// and wss:// to both brokers'
WebSocket listeners, where a refused upgrade ends the run with the HTTP status.
Counts only, never timings."""
import json
import os
import subprocess

import pytest

from client_helpers import (Mosquitto, cicada_ws_config, free_port, make_certs, tls_listener,
                            tool_env, wait_port)


@pytest.fixture
def bench_tool(cicada_binary):
    """cicada-bench beside the broker in the build tree, or from CICADA_BENCH."""
    apps = os.path.dirname(os.path.dirname(os.path.abspath(cicada_binary)))
    path = os.environ.get("CICADA_BENCH") or os.path.join(apps, "cicada-bench", "cicada-bench")
    if not os.path.exists(path):
        pytest.fail("no cicada-bench at %s (build it, or set CICADA_BENCH)" % path)
    return path


@pytest.fixture(params=["cicada", "mosquitto"])
def any_broker(request, start_broker):
    """The port of a fresh broker: cicada with two workers, or mosquitto."""
    if request.param == "cicada":
        yield start_broker(args=["--threads", "2"]).port
        return
    mosquitto = Mosquitto()
    wait_port(mosquitto.port)
    yield mosquitto.port
    mosquitto.stop()


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return make_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture(params=["cicada", "mosquitto"])
def tls_broker(request, certs, start_broker):
    """The ports of a broker with two TLS listeners: `good` (a certificate for localhost
    and 127.0.0.1) and `wrong` (one for wrong.example)."""
    ports = {"good": free_port(), "wrong": free_port()}
    mosquitto = None
    if request.param == "cicada":
        config = ""
        for name, server in (("good", "server"), ("wrong", "wrong")):
            config += ('[listeners.ssl.%s]\nbind = "127.0.0.1:%d"\ncertfile = "%s"\n'
                       'keyfile = "%s"\n' % (name, ports[name], certs[server + ".crt"],
                                              certs[server + ".key"]))
        start_broker(args=["--threads", "2"], config=config)
    else:
        mosquitto = Mosquitto(listeners=[(ports["good"], tls_listener(certs)),
                                         (ports["wrong"], tls_listener(certs, server="wrong"))])
    for port in ports.values():
        wait_port(port)
    yield ports
    if mosquitto:
        mosquitto.stop()


@pytest.fixture(params=["cicada", "mosquitto"])
def ws_broker(request, certs, start_broker):
    """The ports of a broker with a plain MQTT (`mqtt`), a WebSocket (`ws`) and a secure
    WebSocket (`wss`) listener, the last with the certificate for localhost/127.0.0.1."""
    if request.param == "cicada":
        broker = start_broker(args=["--threads", "2"], config=cicada_ws_config(certs))
        yield {"broker": "cicada", "mqtt": broker.port, "ws": broker.ws_port,
               "wss": broker.wss_port}
        return
    ports = {"ws": free_port(), "wss": free_port()}
    # mosquitto will not start with WebSocket listeners only; Mosquitto() adds a TCP one.
    mosquitto = Mosquitto(listeners=[(ports["ws"], "protocol websockets"),
                                     (ports["wss"], tls_listener(certs, websockets=True))])
    for port in (mosquitto.port, *ports.values()):
        wait_port(port)
    yield {"broker": "mosquitto", "mqtt": mosquitto.port, **ports}
    mosquitto.stop()


def run_bench(tool, args, timeout=120, expect=0):
    """Runs cicada-bench and returns its final JSON line, parsed."""
    done = subprocess.run([tool, *args, "-Q"], capture_output=True, text=True, timeout=timeout,
                          env=tool_env())
    assert done.returncode == expect, done.stdout + done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, done.stdout + done.stderr
    result = json.loads(lines[-1])
    result["stderr"] = done.stderr
    return result


def assert_every_message_once(result, connected, sent, copies, qos):
    """Every sent message arrived `copies` times (once per subscriber), none lost or
    repeated, and at QoS > 0 every publish was acknowledged."""
    assert result["connected"] == connected
    assert result["sent"] == sent
    assert result["received"] == copies * sent
    assert result["lost"] == 0
    assert result["duplicates"] == 0
    assert result["errors"] == 0
    if qos > 0:
        assert result["acked"] == sent


@pytest.mark.parametrize("qos", [0, 1, 2])
@pytest.mark.parametrize("version", ["3", "4", "5"])
def test_pubsub_delivers_every_message_once(any_broker, bench_tool, qos, version):
    # 4 publishers x 500 messages, paced (1,000 msg/s) so that no broker's queue overflows
    # (mosquitto's 1,000 messages behind 20 in flight drops at QoS 2 and 4,000 msg/s); two
    # subscribers on the wildcard each get all of them.
    result = run_bench(bench_tool, [
        "pubsub", "-p", str(any_broker), "-c", "4", "--subs", "2", "-t", "bench/%i",
        "--sub-topic", "bench/+", "-q", str(qos), "-V", version, "-s", "64",
        "--rate", "1000", "-L", "2000", "-d", "0", "--drain", "5"])
    assert result["protocol"] == {"3": "3.1", "4": "3.1.1", "5": "5.0"}[version]
    assert_every_message_once(result, connected=6, sent=2000, copies=2, qos=qos)
    latency = result["latency_us"]
    assert latency["count"] == 4000
    assert 0 < latency["p50"] <= latency["p99"] <= latency["max"]


def test_conn_holds_the_connections(any_broker, bench_tool):
    result = run_bench(bench_tool, ["conn", "-p", str(any_broker), "-c", "200", "-R", "2000",
                                    "-d", "2"])
    assert result["connected"] == 200
    assert result["conn_failed"] == 0
    assert result["connect_ms"]["count"] == 200


@pytest.mark.parametrize("qos", [0, 1])
def test_pubsub_over_tls_delivers_every_message_once(tls_broker, bench_tool, certs, qos):
    result = run_bench(bench_tool, [
        "pubsub", "--url", "mqtts://localhost:%d" % tls_broker["good"], "--cafile",
        certs["ca.crt"], "-c", "3", "--subs", "1", "-t", "tls/%i", "-q", str(qos), "-s", "1000",
        "--rate", "3000", "-L", "1500", "-d", "0", "--drain", "5"])
    assert result["broker"].startswith("mqtts://")
    assert_every_message_once(result, connected=4, sent=1500, copies=1, qos=qos)


def test_tls_by_address_with_tls_flag_and_idle_connections(tls_broker, bench_tool, certs):
    # -h/-p with --tls; the server certificate names 127.0.0.1 as an IP address.
    result = run_bench(bench_tool, ["conn", "--tls", "-h", "127.0.0.1", "-p",
                                    str(tls_broker["good"]), "--cafile", certs["ca.crt"],
                                    "-c", "50", "-R", "500", "-d", "1"])
    assert result["connected"] == 50
    assert result["conn_failed"] == 0


@pytest.mark.parametrize("case", ["wrong_name", "unknown_ca"])
def test_tls_verification_failure_names_the_reason(tls_broker, bench_tool, certs, case):
    port = tls_broker["wrong"] if case == "wrong_name" else tls_broker["good"]
    cafile = certs["ca.crt"] if case == "wrong_name" else certs["other-ca.crt"]
    result = run_bench(bench_tool, ["conn", "--url", "mqtts://localhost:%d" % port, "--cafile",
                                    cafile, "-c", "2", "-d", "1"], expect=1)
    assert result["connected"] == 0
    assert result["conn_failed"] == 2
    assert "TLS handshake" in result["stderr"]
    assert "certificate" in result["stderr"]
    # --insecure connects anyway.
    result = run_bench(bench_tool, ["conn", "--url", "mqtts://localhost:%d" % port,
                                    "--insecure", "-c", "2", "-d", "1"])
    assert result["connected"] == 2


@pytest.mark.parametrize("qos", [0, 1])
@pytest.mark.parametrize("scheme", ["ws", "wss"])
def test_pubsub_over_websocket_delivers_every_message_once(ws_broker, bench_tool, certs,
                                                          scheme, qos):
    result = run_bench(bench_tool, [
        "pubsub", "--url", "%s://localhost:%d/mqtt" % (scheme, ws_broker[scheme]), "--cafile",
        certs["ca.crt"], "-c", "3", "--subs", "2", "-t", "ws/%i", "-q", str(qos), "-s", "1000",
        "--rate", "3000", "-L", "1500", "-d", "0", "--drain", "5"])
    assert result["broker"].startswith(scheme + "://")
    assert_every_message_once(result, connected=5, sent=1500, copies=2, qos=qos)


@pytest.mark.parametrize("scheme", ["ws", "wss"])
def test_websocket_carries_payloads_larger_than_a_frame_header_says_in_16_bits(
        start_broker, bench_tool, certs, scheme):
    # 100 kB messages: frames with 64-bit lengths both ways, each spanning many reads.
    # cicada only: mosquitto's libwebsockets writes a large packet in pieces, one per turn
    # of its service loop, so it delivers ~1 such message a second (mosquitto issue 411;
    # Beast's client, cicada-sub, sees the same).
    broker = start_broker(args=["--threads", "2"], config=cicada_ws_config(certs))
    port = broker.ws_port if scheme == "ws" else broker.wss_port
    result = run_bench(bench_tool, [
        "pubsub", "--url", "%s://127.0.0.1:%d" % (scheme, port), "--cafile",
        certs["ca.crt"], "-c", "2", "--subs", "1", "-t", "big/%i", "-q", "1",
        "-s", "100000", "--rate", "200", "-L", "100", "-d", "0", "--drain", "5"])
    assert result["broker"].endswith("/mqtt")  # the default path
    assert result["received"] == 100
    assert result["lost"] == 0
    assert result["errors"] == 0


def test_websocket_by_flags_with_idle_connections(ws_broker, bench_tool):
    result = run_bench(bench_tool, ["conn", "--ws", "-h", "127.0.0.1", "-p", str(ws_broker["ws"]),
                                    "-c", "50", "-R", "500", "-d", "1"])
    assert result["broker"].startswith("ws://127.0.0.1:")
    assert result["connected"] == 50
    assert result["conn_failed"] == 0


def test_websocket_refusals_end_the_run_with_the_reason(ws_broker, bench_tool):
    # Upgrading at a plain MQTT port: the broker closes on the HTTP bytes.
    result = run_bench(bench_tool, ["conn", "--url", "ws://127.0.0.1:%d" % ws_broker["mqtt"],
                                    "-c", "2", "-d", "1"], expect=1)
    assert result["connected"] == 0
    assert result["conn_failed"] == 2
    if ws_broker["broker"] == "cicada":
        # cicada's listener upgrades at mqtt_path only (mosquitto takes any path).
        result = run_bench(bench_tool, ["conn", "--url", "ws://127.0.0.1:%d/elsewhere"
                                        % ws_broker["ws"], "-c", "2", "-d", "1"], expect=1)
        assert result["conn_failed"] == 2
        assert "HTTP 404 Not Found instead of 101" in result["stderr"]
