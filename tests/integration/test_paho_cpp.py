"""Interoperability with the Eclipse Paho C++ client (Debian's libpaho-mqttpp-dev, on
the Paho C library), over MQTT 3.1.1 and 5.0. paho_cpp/interop.cpp is compiled with
g++ once per run into a temporary directory; each test runs one of its scenarios
against a fresh broker and expects "ok".
"""
import os
import shutil
import signal
import subprocess

import pytest

from mqtt_helpers import TIMEOUT, V5, PahoClient, unique

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "paho_cpp", "interop.cpp")
# Headers of the C library the C++ one wraps: in libpaho-mqtt-dev, which Debian's
# libpaho-mqttpp-dev 1.2.0 does not pull in by itself.
C_HEADER = "/usr/include/MQTTAsync.h"


@pytest.fixture(scope="module")
def interop(tmp_path_factory):
    if shutil.which("g++") is None:
        pytest.skip("g++ is not installed")
    if not os.path.exists("/usr/include/mqtt/async_client.h") or not os.path.exists(C_HEADER):
        pytest.skip("Paho C/C++ headers missing: install libpaho-mqttpp-dev and libpaho-mqtt-dev")
    binary = str(tmp_path_factory.mktemp("paho_cpp") / "interop")
    result = subprocess.run(["g++", "-std=c++20", "-O1", "-Wall", "-Wextra", "-Werror", SOURCE,
                             "-o", binary, "-lpaho-mqttpp3", "-lpaho-mqtt3as"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, "building %s failed:\n%s" % (SOURCE, result.stderr)
    return binary


def run(interop, scenario, broker, version):
    result = subprocess.run([interop, scenario, "tcp://127.0.0.1:%d" % broker.port,
                             str(version), unique("cpp-" + scenario)],
                            capture_output=True, text=True, timeout=10 * TIMEOUT)
    assert result.returncode == 0 and result.stdout.strip() == "ok", \
        "paho C++ %s (MQTT %d): %s%s" % (scenario, version, result.stdout, result.stderr)


@pytest.mark.parametrize("version", [4, 5], ids=["mqttv311", "mqttv5"])
@pytest.mark.parametrize("scenario", ["qos", "retained", "session", "shared"])
def test_paho_cpp(interop, broker, scenario, version):
    run(interop, scenario, broker, version)


@pytest.mark.parametrize("scenario", ["properties", "subscribe-options"])
def test_paho_cpp_mqtt5(interop, broker, scenario):
    run(interop, scenario, broker, 5)


@pytest.mark.parametrize("version", [4, 5], ids=["mqttv311", "mqttv5"])
def test_paho_cpp_will_of_a_killed_client(interop, broker, version):
    prefix = unique("cpp-will")
    watcher = PahoClient(broker.port, version=V5)
    child = None
    try:
        watcher.subscribe(prefix + "/will", 1)
        child = subprocess.Popen([interop, "will-child", "tcp://127.0.0.1:%d" % broker.port,
                                  str(version), prefix], stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "connected"
        child.send_signal(signal.SIGKILL)  # no DISCONNECT: the kernel closes the socket
        child.wait(TIMEOUT)
        got = watcher.wait_messages(1)
        assert [(m.payload, m.qos) for m in got] == [(b"cpp client died", 1)]
    finally:
        if child is not None and child.poll() is None:
            child.kill()
            child.wait()
        watcher.close()
