"""Shared fixtures for integration tests: start the real `cicada` binary on an
ephemeral port and talk to it with third-party clients and hand-built bytes.

The binary comes from --cicada PATH (ctest passes the one it built) or the
CICADA_BINARY environment variable.
"""
import os
import re
import signal
import socket
import subprocess
import tempfile
import time

import pytest


def pytest_addoption(parser):
    parser.addoption("--cicada", action="store", default=os.environ.get("CICADA_BINARY"),
                     help="path to the cicada broker binary")


class Broker:
    """A running cicada process listening on 127.0.0.1:<port>, and on
    127.0.0.1:<ssl_port> (<ws_port>, <wss_port>) when its config has an ssl (ws, wss)
    listener there (else None)."""

    def __init__(self, binary, args=(), env=None, config=None, listen="127.0.0.1:0"):
        self.binary = binary
        self.log_path = tempfile.NamedTemporaryFile(prefix="cicada-", suffix=".log",
                                                    delete=False).name
        cmd = [binary, "--listen", listen, *args]
        self._config_file = None
        if config is not None:
            fd, path = tempfile.mkstemp(prefix="cicada-", suffix=".toml")
            with os.fdopen(fd, "w") as f:
                f.write(config)
            self._config_file = path
            cmd += ["--config", path]
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("CICADA_")}
        full_env.update(env or {})
        # ASan builds: a leak report at exit must not hide the test's real outcome.
        full_env.setdefault("ASAN_OPTIONS", "detect_leaks=0")
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT,
                                        env=full_env)
        self.port = self._wait_for_port()

    def _wait_for_port(self, timeout=20.0):
        deadline = time.time() + timeout
        pattern = re.compile(r"listening on tcp 127\.0\.0\.1:(\d+)")
        while time.time() < deadline:
            with open(self.log_path) as f:
                match = pattern.search(f.read())
            if match:
                # Listeners are started in order, the configured ones before --listen's.
                with open(self.log_path) as f:
                    text = f.read()
                for kind in ("ssl", "ws", "wss"):
                    found = re.search(r"listening on %s 127\.0\.0\.1:(\d+)" % kind, text)
                    setattr(self, kind + "_port", int(found.group(1)) if found else None)
                return int(match.group(1))
            if self.process.poll() is not None:
                raise RuntimeError("cicada exited early:\n" + self.log())
            time.sleep(0.02)
        raise RuntimeError("cicada did not start listening:\n" + self.log())

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def connect(self):
        """A raw TCP socket to the broker (for hand-built bytes)."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        if self._config_file:
            os.unlink(self._config_file)
        return self.process.returncode


@pytest.fixture
def cicada_binary(request):
    binary = request.config.getoption("--cicada")
    if not binary or not os.path.exists(binary):
        pytest.fail("no cicada binary: pass --cicada PATH or set CICADA_BINARY")
    return binary


@pytest.fixture
def broker(cicada_binary):
    """A broker with built-in defaults (two workers, so cross-worker paths run)."""
    b = Broker(cicada_binary, args=["--threads", "2"])
    yield b
    code = b.stop()
    assert code == 0, "cicada exited with %s:\n%s" % (code, b.log())


@pytest.fixture
def start_broker(cicada_binary):
    """Factory for brokers with extra flags, environment or a TOML config."""
    started = []

    def start(args=(), env=None, config=None, listen="127.0.0.1:0"):
        b = Broker(cicada_binary, args=args, env=env, config=config, listen=listen)
        started.append(b)
        return b

    yield start
    for b in started:
        b.stop()


@pytest.fixture
def client_tools(cicada_binary):
    """Paths of cicada-pub and cicada-sub: beside the broker in the build tree
    (build/<preset>/apps/<name>/<name>), or from CICADA_PUB / CICADA_SUB."""
    apps = os.path.dirname(os.path.dirname(os.path.abspath(cicada_binary)))
    tools = {}
    for name, env in (("cicada-pub", "CICADA_PUB"), ("cicada-sub", "CICADA_SUB")):
        path = os.environ.get(env) or os.path.join(apps, name, name)
        if not os.path.exists(path):
            pytest.fail("no %s binary at %s (build it, or set %s)" % (name, path, env))
        tools[name] = path
    return tools
