"""Helpers for the client-tool tests: a mosquitto broker on an ephemeral port,
line-collecting wrappers around long-running tools, and a TCP proxy that the test
can cut to simulate a network outage. No timing assertions: timeouts only bound
how long a test waits for something that must happen."""
import getpass
import os
import queue
import signal
import socket
import subprocess
import tempfile
import threading
import time

MOSQUITTO = "/usr/sbin/mosquitto"
WAIT = 30.0  # generous upper bound for anything that must happen


def tool_env():
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=0")
    return env


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=WAIT):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nothing listens on port %d" % port)


class Mosquitto:
    """mosquitto listening on 127.0.0.1:port, anonymous access allowed. `listeners`
    adds more: a list of (port, config lines) pairs, e.g. a TLS or WebSocket listener.
    `env`: the broker's environment (e.g. OPENSSL_CONF). `persistence`: a directory
    (a test's tmp_path) where it saves sessions and queued messages every second, so
    they survive even a SIGKILL once a save has happened (see wait_saved)."""

    def __init__(self, port=None, listeners=(), env=None, persistence=None):
        self.port = port or free_port()
        self.persistence = persistence
        fd, self.config = tempfile.mkstemp(prefix="mosquitto-", suffix=".conf")
        with os.fdopen(fd, "w") as f:
            # Run as ourselves: as root mosquitto would switch to the `mosquitto` user,
            # which cannot read keys in a test's private tmp_path.
            f.write("user %s\n" % getpass.getuser())
            f.write("per_listener_settings false\nallow_anonymous true\n")
            if persistence:
                # Time-based saves (autosave_on_changes false): every second, so the test
                # can wait for one that began after a change of its own.
                f.write("persistence true\npersistence_location %s/\nautosave_interval 1\n"
                        % persistence)
            f.write("listener %d 127.0.0.1\n" % self.port)
            for extra_port, lines in listeners:
                f.write("listener %d 127.0.0.1\n%s\n" % (extra_port, lines))
        self.process = subprocess.Popen([MOSQUITTO, "-c", self.config], env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)
        for extra_port, _ in listeners:
            wait_port(extra_port)

    def wait_saved(self, timeout=WAIT):
        """With `persistence`: returns once a save that began after this call is on disk.
        Each save writes mosquitto.db.new and renames it over mosquitto.db, so every save
        gives the file a new inode; the second new inode seen after the call belongs to
        a save that started after it."""
        path = os.path.join(self.persistence, "mosquitto.db")

        def inode():
            try:
                return os.stat(path).st_ino
            except FileNotFoundError:
                return None

        seen = inode()
        changes = 0
        deadline = time.time() + timeout
        while time.time() < deadline:
            now = inode()
            if now is not None and now != seen:
                seen = now
                changes += 1
                if changes == 2:
                    return
            time.sleep(0.05)
        raise AssertionError("mosquitto did not save to %s" % path)

    def stop(self, sig=signal.SIGTERM):
        if self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=10)
        if os.path.exists(self.config):
            os.unlink(self.config)


class Running:
    """A long-running tool whose stdout and stderr lines are collected by threads."""

    def __init__(self, cmd, stdin=None):
        self.cmd = cmd
        self.process = subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, env=tool_env())
        self.out = queue.Queue()
        self.err = queue.Queue()
        self.out_lines = []
        self.err_lines = []
        self.pumps = [threading.Thread(target=self._pump, args=(stream, q), daemon=True)
                      for stream, q in ((self.process.stdout, self.out),
                                        (self.process.stderr, self.err))]
        for pump in self.pumps:
            pump.start()

    @staticmethod
    def _pump(stream, q):
        for line in iter(stream.readline, b""):
            q.put(line.decode(errors="replace").rstrip("\n"))
        q.put(None)

    def _wait(self, q, seen, predicate, timeout):
        for line in seen:
            if predicate(line):
                return line
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                line = q.get(timeout=0.1)
            except queue.Empty:
                continue
            if line is None:
                break
            seen.append(line)
            if predicate(line):
                return line
        raise AssertionError("%s: no matching line; stdout=%r stderr=%r" %
                             (self.cmd[0], self.out_lines, self.err_lines))

    def wait_out(self, predicate, timeout=WAIT):
        return self._wait(self.out, self.out_lines, predicate, timeout)

    def wait_err(self, predicate, timeout=WAIT):
        return self._wait(self.err, self.err_lines, predicate, timeout)

    def drain_out(self, timeout=WAIT):
        """The stdout lines so far. Once the process has ended, all of them: its last lines
        may still be in the pipe, not yet read by the pump thread, so wait for the end."""
        if self.process.poll() is not None:
            self.pumps[0].join(timeout)  # the stdout pump ends at the pipe's end
        while True:
            try:
                line = self.out.get_nowait()
            except queue.Empty:
                return self.out_lines
            if line is None:
                return self.out_lines
            self.out_lines.append(line)

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def run(cmd, timeout=WAIT, stdin_data=None):
    return subprocess.run(cmd, input=stdin_data, capture_output=True, timeout=timeout,
                          env=tool_env())


class Proxy:
    """A TCP proxy 127.0.0.1:port -> 127.0.0.1:target. cut() closes the listener and
    every connection through it; resume() listens again on the same port."""

    def __init__(self, target):
        self.target = target
        self.port = free_port()
        self._lock = threading.Lock()
        self._sockets = []
        self._listener = None
        self.resume()

    def resume(self):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target), timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._copy, args=(a, b), daemon=True).start()

    @staticmethod
    def _copy(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        # shutdown() wakes the thread blocked in accept(); close() alone does not.
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for s in sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


def make_certs(directory):
    """A throwaway CA, a server certificate for localhost / 127.0.0.1, one for another
    name (wrong.example), a client certificate, and a second CA that signed nothing
    here; made with the openssl CLI in `directory` (a test's tmp_path, never the repo).
    Returns a dict of paths."""
    d = str(directory)
    p = {name: os.path.join(d, name) for name in (
        "ca.crt", "ca.key", "other-ca.crt", "other-ca.key", "server.crt", "server.key",
        "wrong.crt", "wrong.key", "client.crt", "client.key")}

    def openssl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for ca in ("ca", "other-ca"):
        openssl("req", "-x509", *key, "-keyout", p[ca + ".key"], "-out", p[ca + ".crt"],
                "-days", "2", "-subj", "/CN=cicada test " + ca,
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    for name, cn, san, usage in (
            ("server", "localhost", "DNS:localhost,IP:127.0.0.1", "serverAuth"),
            ("wrong", "wrong.example", "DNS:wrong.example", "serverAuth"),
            ("client", "cicada-client", None, "clientAuth")):
        csr = os.path.join(d, name + ".csr")
        openssl("req", *key, "-keyout", p[name + ".key"], "-out", csr, "-subj", "/CN=" + cn)
        ext = os.path.join(d, name + ".ext")
        with open(ext, "w") as f:
            f.write("basicConstraints=CA:FALSE\nextendedKeyUsage=%s\n" % usage)
            if san:
                f.write("subjectAltName=%s\n" % san)
        openssl("x509", "-req", "-in", csr, "-CA", p["ca.crt"], "-CAkey", p["ca.key"],
                "-CAcreateserial", "-out", p[name + ".crt"], "-days", "2", "-extfile", ext)
    return p


def cicada_ws_config(certs, path="/mqtt"):
    """cicada config for a ws and a wss listener on ephemeral ports, upgrading at `path`."""
    return "\n".join([
        "[listeners.ws.default]", 'bind = "127.0.0.1:0"', 'mqtt_path = "%s"' % path,
        "[listeners.wss.default]", 'bind = "127.0.0.1:0"', 'mqtt_path = "%s"' % path,
        'certfile = "%s"' % certs["server.crt"], 'keyfile = "%s"' % certs["server.key"], ""])


def tls_listener(certs, server="server", require_certificate=False, websockets=False):
    """mosquitto.conf lines for a TLS (or secure WebSocket) listener."""
    lines = ["cafile " + certs["ca.crt"], "certfile " + certs[server + ".crt"],
             "keyfile " + certs[server + ".key"]]
    if require_certificate:
        lines.append("require_certificate true")
    if websockets:
        lines.append("protocol websockets")
    return "\n".join(lines)
