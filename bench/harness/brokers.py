"""mosquitto and cicada, each started fresh on an ephemeral loopback port.

Both get the same file limit (the machine's 20,000 is the most a process may have) and
log only warnings and errors, so neither pays for a line per connection.
"""
import os
import resource
import signal
import socket
import subprocess
import tempfile
import time

from . import procfs

OPEN_FILES = 20000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _raise_file_limit():
    # Runs in the child between fork and exec.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = OPEN_FILES if hard == resource.RLIM_INFINITY else min(OPEN_FILES, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


class Broker:
    """One broker process. Subclasses say how to start it."""

    name = "broker"

    def __init__(self, workdir: str):
        self.workdir = workdir
        self.port = None
        self.process = None
        self.log_path = None

    def command(self, port: int) -> list:
        raise NotImplementedError

    def start(self, timeout=20.0):
        self.port = free_port()
        cmd = self.command(self.port)
        fd, self.log_path = tempfile.mkstemp(prefix=f"{self.name}-", suffix=".log",
                                             dir=self.workdir)
        env = {k: v for k, v in os.environ.items() if not k.startswith("CICADA_")}
        with os.fdopen(fd, "w") as log:
            self.process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                            env=env, preexec_fn=_raise_file_limit)
        deadline = time.monotonic() + timeout
        while self.port not in procfs.listening_ports():
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start:\n{self.log()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.name} did not listen on {self.port}:\n{self.log()}")
            time.sleep(0.02)
        return self

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        try:
            with open(self.log_path) as f:
                return f.read()[-4000:]
        except (OSError, TypeError):
            return ""

    def stop(self, timeout=15.0):
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.log_path and os.path.exists(self.log_path):
            os.unlink(self.log_path)


class Mosquitto(Broker):
    """Debian's mosquitto: persistence off, queue and in-flight limits at their defaults."""

    name = "mosquitto"

    def __init__(self, workdir: str, binary="/usr/sbin/mosquitto"):
        super().__init__(workdir)
        self.binary = binary

    def config_text(self, port: int) -> str:
        return "\n".join([
            "persistence false",
            f"listener {port} 127.0.0.1",
            "allow_anonymous true",
            "max_connections -1",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "",
        ])

    def command(self, port: int) -> list:
        path = os.path.join(self.workdir, f"mosquitto-{port}.conf")
        with open(path, "w") as f:
            f.write(self.config_text(port))
        return [self.binary, "-c", path]


class Cicada(Broker):
    """The release build of cicada with its defaults, on one loopback listener.

    The defaults already allow a million connections per listener; the file limit is
    the only thing the connection scenario needs raised.
    """

    name = "cicada"

    def __init__(self, workdir: str, binary: str, threads: int = 0):
        super().__init__(workdir)
        self.binary = binary
        self.threads = threads

    def command(self, port: int) -> list:
        cmd = [self.binary, "--listen", f"127.0.0.1:{port}", "--log-level", "warning"]
        if self.threads:
            cmd += ["--threads", str(self.threads)]
        return cmd


def version_of_mosquitto(binary="/usr/sbin/mosquitto") -> str:
    try:
        out = subprocess.run([binary, "-h"], capture_output=True, text=True, timeout=10)
    except OSError:
        return "not installed"
    first = (out.stdout or out.stderr).splitlines()
    return first[0].strip() if first else "unknown"
