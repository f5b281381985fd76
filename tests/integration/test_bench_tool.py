"""cicada-bench end to end, against the real cicada and Debian's mosquitto: every message
a limited run publishes arrives once (the tool's own loss and duplicate counts, checked
against what was sent), the JSON line carries the figures scripts/bench reads, and the
conn command holds the connections it was asked for; the same over mqtts:// with a
throwaway CA (openssl CLI), where a certificate for another name or an unknown CA ends
the run with the verification error. Counts only, never timings."""
import json
import os
import subprocess

import pytest

from client_helpers import Mosquitto, free_port, make_certs, tls_listener, tool_env, wait_port


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


@pytest.mark.parametrize("qos", [0, 1, 2])
@pytest.mark.parametrize("version", ["4", "5"])
def test_pubsub_delivers_every_message_once(any_broker, bench_tool, qos, version):
    # 4 publishers x 500 messages, paced (1,000 msg/s) so that no broker's queue overflows
    # (mosquitto's 1,000 messages behind 20 in flight drops at QoS 2 and 4,000 msg/s); two
    # subscribers on the wildcard each get all of them.
    result = run_bench(bench_tool, [
        "pubsub", "-p", str(any_broker), "-c", "4", "--subs", "2", "-t", "bench/%i",
        "--sub-topic", "bench/+", "-q", str(qos), "-V", version, "-s", "64",
        "--rate", "1000", "-L", "2000", "-d", "0", "--drain", "5"])
    assert result["connected"] == 6
    assert result["sent"] == 2000
    assert result["received"] == 2 * 2000
    assert result["lost"] == 0
    assert result["duplicates"] == 0
    assert result["errors"] == 0
    if qos > 0:
        assert result["acked"] == 2000
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
    assert result["connected"] == 4
    assert result["sent"] == 1500
    assert result["received"] == 1500
    assert result["lost"] == 0
    assert result["duplicates"] == 0
    assert result["errors"] == 0


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
