#!/usr/bin/python3
"""Capture "golden bytes": real MQTT packet encodings from third-party code.

Regenerates every file in tests/data/golden/ (except README.md):

  paho_v31.txt  paho_v311.txt  paho_v5.txt        python paho-mqtt clients
  mosquitto_clients_v31.txt ..._v311.txt ..._v5.txt mosquitto_pub / mosquitto_sub
  mqtt_packet_v5.txt                                 npm mqtt-packet (AUTH etc.)

Both directions of the paho / mosquitto_* traffic go through a small TCP
recording proxy in this script (127.0.0.1:<ephemeral> -> a private mosquitto
broker started here), so the s2c lines are mosquitto's own encodings.

Usage (from the repository root):
    /usr/bin/python3 tests/tools/capture_golden.py            # capture + write
    /usr/bin/python3 tests/tools/capture_golden.py --check    # only re-validate
                                                              # the existing files

Needs: mosquitto + mosquitto-clients (2.0.11 in Debian 12), python3-paho-mqtt
(1.6.1, hence /usr/bin/python3), node + npm (mqtt-packet is installed into
tests/tools/node_modules by `npm install` when missing).

Every captured packet is decoded by the small decoder below, which checks the
fixed header flags, that the remaining length equals the number of bytes that
follow, and that the variable header / payload / properties consume exactly the
remaining length.  With node available it is also parsed by mqtt-packet as an
independent cross-check.
"""

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import base64
import hashlib

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
OUT_DIR = os.path.join(REPO, "tests", "data", "golden")
HOST = "127.0.0.1"

# --------------------------------------------------------------------------
# MQTT constants and a tiny decoder (used for notes and for checking)
# --------------------------------------------------------------------------

TYPE_NAMES = {
    1: "CONNECT", 2: "CONNACK", 3: "PUBLISH", 4: "PUBACK", 5: "PUBREC",
    6: "PUBREL", 7: "PUBCOMP", 8: "SUBSCRIBE", 9: "SUBACK", 10: "UNSUBSCRIBE",
    11: "UNSUBACK", 12: "PINGREQ", 13: "PINGRESP", 14: "DISCONNECT", 15: "AUTH",
}
TYPE_IDS = {v: k for k, v in TYPE_NAMES.items()}
LEVEL_TO_VERSION = {3: "3.1", 4: "3.1.1", 5: "5"}
VERSION_TO_LEVEL = {v: k for k, v in LEVEL_TO_VERSION.items()}

# property id -> (short name, value type)
PROPS = {
    0x01: ("payload_format", "u8"), 0x02: ("message_expiry", "u32"),
    0x03: ("content_type", "str"), 0x08: ("response_topic", "str"),
    0x09: ("correlation_data", "bin"), 0x0B: ("subscription_id", "vbi"),
    0x11: ("session_expiry", "u32"), 0x12: ("assigned_client_id", "str"),
    0x13: ("server_keep_alive", "u16"), 0x15: ("auth_method", "str"),
    0x16: ("auth_data", "bin"), 0x17: ("request_problem_info", "u8"),
    0x18: ("will_delay", "u32"), 0x19: ("request_response_info", "u8"),
    0x1A: ("response_info", "str"), 0x1C: ("server_reference", "str"),
    0x1F: ("reason_string", "str"), 0x21: ("receive_maximum", "u16"),
    0x22: ("topic_alias_maximum", "u16"), 0x23: ("topic_alias", "u16"),
    0x24: ("maximum_qos", "u8"), 0x25: ("retain_available", "u8"),
    0x26: ("user_property", "pair"), 0x27: ("maximum_packet_size", "u32"),
    0x28: ("wildcard_sub_available", "u8"), 0x29: ("sub_id_available", "u8"),
    0x2A: ("shared_sub_available", "u8"),
}


class DecodeError(Exception):
    pass


def split_packet(buf):
    """Return (packet_bytes, total_len) for the first complete packet in buf,
    or (None, 0) if more bytes are needed.  Raises DecodeError on a bad VBI."""
    if len(buf) < 2:
        return None, 0
    mult, value, i = 1, 0, 1
    while True:
        if i >= len(buf):
            return None, 0
        b = buf[i]
        value += (b & 0x7F) * mult
        i += 1
        if not b & 0x80:
            break
        mult *= 128
        if i > 4:
            raise DecodeError("remaining length VBI longer than 4 bytes")
    total = i + value
    if len(buf) < total:
        return None, 0
    return bytes(buf[:total]), total


class Reader:
    def __init__(self, data):
        self.d = data
        self.p = 0

    def left(self):
        return len(self.d) - self.p

    def take(self, n):
        if n > self.left():
            raise DecodeError("truncated: need %d bytes, %d left" % (n, self.left()))
        v = self.d[self.p:self.p + n]
        self.p += n
        return v

    def u8(self):
        return self.take(1)[0]

    def u16(self):
        return int.from_bytes(self.take(2), "big")

    def u32(self):
        return int.from_bytes(self.take(4), "big")

    def vbi(self):
        mult, value, n = 1, 0, 0
        while True:
            b = self.u8()
            n += 1
            value += (b & 0x7F) * mult
            if not b & 0x80:
                break
            mult *= 128
            if n >= 4:
                raise DecodeError("VBI longer than 4 bytes")
        return value

    def bin(self):
        return self.take(self.u16())

    def str(self):
        raw = self.bin()
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise DecodeError("invalid UTF-8 string")

    def props(self):
        """Decode a property block; returns list of (id, value) in wire order."""
        n = self.vbi()
        sub = Reader(self.take(n))
        out = []
        while sub.left():
            pid = sub.vbi()
            if pid not in PROPS:
                raise DecodeError("unknown property id 0x%02x" % pid)
            kind = PROPS[pid][1]
            if kind == "pair":
                val = (sub.str(), sub.str())
            else:
                val = getattr(sub, kind)()
            out.append((pid, val))
        return out


def fmt_props(props, label="props"):
    if not props:
        return ""
    return " %s=%s" % (label, ",".join("%02x" % pid for pid, _ in props))


def short(s, n=24):
    s = s if isinstance(s, str) else repr(s)
    return s if len(s) <= n else s[: n - 1] + "~"


def decode(pkt, version):
    """Fully decode one packet; return a short human-readable note.
    Raises DecodeError if anything is inconsistent."""
    if isinstance(pkt, str):
        pkt = bytes.fromhex(pkt)
    whole, total = split_packet(pkt)
    if whole is None or total != len(pkt):
        raise DecodeError("remaining length does not match packet length")
    first = pkt[0]
    ptype, flags = first >> 4, first & 0x0F
    if ptype not in TYPE_NAMES:
        raise DecodeError("reserved packet type 0")
    name = TYPE_NAMES[ptype]
    # minimal VBI check
    r = Reader(pkt)
    r.u8()
    start = r.p
    rl = r.vbi()
    vbi_len = r.p - start
    min_len = 1 if rl < 128 else 2 if rl < 16384 else 3 if rl < 2097152 else 4
    if vbi_len != min_len:
        raise DecodeError("non-minimal remaining length encoding")
    if rl != r.left():
        raise DecodeError("remaining length %d != %d bytes" % (rl, r.left()))
    v5 = version == "5"
    if name == "AUTH" and not v5:
        raise DecodeError("AUTH only exists in MQTT 5")
    expected_flags = {"PUBREL": 2, "SUBSCRIBE": 2, "UNSUBSCRIBE": 2}.get(name, 0)
    if name != "PUBLISH" and flags != expected_flags:
        raise DecodeError("bad fixed header flags 0x%x for %s" % (flags, name))
    notes = []
    if name == "CONNECT":
        proto = r.str()
        level = r.u8()
        if LEVEL_TO_VERSION.get(level) != version:
            raise DecodeError("protocol level %d does not match version %s" % (level, version))
        cflags = r.u8()
        if cflags & 1:
            raise DecodeError("reserved connect flag set")
        ka = r.u16()
        notes.append("%s/%d flags=0x%02x ka=%d" % (proto, level, cflags, ka))
        if v5:
            notes.append(fmt_props(r.props()).strip())
        cid = r.str()
        notes.append("id=%s" % (short(cid) if cid else '""'))
        if cflags & 0x04:
            wprops = r.props() if v5 else []
            wt = r.str()
            wp = r.bin()
            notes.append("will(q%d%s topic=%s %dB%s)" % (
                (cflags >> 3) & 3, " retain" if cflags & 0x20 else "", short(wt), len(wp),
                fmt_props(wprops, "wprops")))
        elif cflags & 0x38:
            raise DecodeError("will qos/retain without will flag")
        if cflags & 0x80:
            notes.append("user=%s" % short(r.str()))
        if cflags & 0x40:
            r.bin()
            notes.append("pass")
    elif name == "CONNACK":
        ack = r.u8()
        if ack & 0xFE:
            raise DecodeError("reserved CONNACK flags")
        rc = r.u8()
        notes.append("sp=%d rc=0x%02x" % (ack & 1, rc))
        if v5:
            notes.append(fmt_props(r.props()).strip())
    elif name == "PUBLISH":
        qos = (flags >> 1) & 3
        if qos == 3:
            raise DecodeError("PUBLISH qos 3")
        topic = r.str()
        notes.append("q%d%s%s" % (qos, " dup" if flags & 8 else "", " retain" if flags & 1 else ""))
        if qos:
            notes.append("pid=%d" % r.u16())
        notes.append("topic=%s" % (short(topic) if topic else '""'))
        if v5:
            notes.append(fmt_props(r.props()).strip())
        payload = r.take(r.left())
        notes.append("%dB" % len(payload))
    elif name in ("PUBACK", "PUBREC", "PUBREL", "PUBCOMP"):
        notes.append("pid=%d" % r.u16())
        if v5 and r.left():
            notes.append("rc=0x%02x" % r.u8())
            if r.left():
                notes.append(fmt_props(r.props()).strip() or "props=(len 0)")
        elif not v5 and r.left():
            raise DecodeError("extra bytes in v3 ack")
    elif name in ("SUBSCRIBE", "UNSUBSCRIBE"):
        notes.append("pid=%d" % r.u16())
        if v5:
            notes.append(fmt_props(r.props()).strip())
        count = 0
        while r.left():
            f = r.str()
            if name == "SUBSCRIBE":
                o = r.u8()
                notes.append("%s:0x%02x" % (short(f, 20), o))
            else:
                notes.append(short(f, 20))
            count += 1
        if not count:
            raise DecodeError("no topic filters")
    elif name in ("SUBACK", "UNSUBACK"):
        notes.append("pid=%d" % r.u16())
        if v5:
            notes.append(fmt_props(r.props()).strip())
        codes = r.take(r.left())
        if name == "SUBACK" or v5:
            if not codes:
                raise DecodeError("no reason codes")
            notes.append("codes=" + ",".join("%02x" % c for c in codes))
        elif codes:
            raise DecodeError("v3 UNSUBACK with payload")
    elif name in ("PINGREQ", "PINGRESP"):
        pass
    elif name in ("DISCONNECT", "AUTH"):
        if not v5 and rl:
            raise DecodeError("v3 DISCONNECT with payload")
        if r.left():
            notes.append("rc=0x%02x" % r.u8())
            if r.left():
                notes.append(fmt_props(r.props()).strip() or "props=(len 0)")
        else:
            notes.append("(RL 0)")
    if r.left():
        raise DecodeError("%d trailing bytes" % r.left())
    return " ".join(n for n in notes if n)


# --------------------------------------------------------------------------
# Recording proxy
# --------------------------------------------------------------------------

_seq_lock = threading.Lock()
_seq = [0]


def next_seq():
    with _seq_lock:
        _seq[0] += 1
        return _seq[0]


class Conn:
    def __init__(self, proxy, index, csock, ssock, scenario):
        self.proxy = proxy
        self.index = index
        self.csock = csock
        self.ssock = ssock
        self.scenario = scenario
        self.client_id = None
        self.level = None
        self.packets = []  # (seq, direction, bytes, extra note)
        self.closed = threading.Event()
        self._done = 0
        self._lock = threading.Lock()
        self.errors = []

    def start(self):
        threading.Thread(target=self._pump, args=("c2s", self.csock, self.ssock), daemon=True).start()
        threading.Thread(target=self._pump, args=("s2c", self.ssock, self.csock), daemon=True).start()

    def abort(self):
        for s in (self.csock, self.ssock):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _pump(self, direction, src, dst):
        buf = bytearray()
        try:
            while True:
                try:
                    data = src.recv(65536)
                except OSError:
                    break
                if not data:
                    break
                buf += data
                while True:
                    pkt, n = split_packet(buf)
                    if pkt is None:
                        break
                    del buf[:n]
                    ptype = TYPE_NAMES.get(pkt[0] >> 4)
                    if direction == "c2s" and ptype == "CONNECT" and self.level is None:
                        r = Reader(pkt)
                        r.u8()
                        r.vbi()
                        r.str()
                        self.level = r.u8()
                        try:
                            r.u8()
                            r.u16()
                            if self.level == 5:
                                r.props()
                            self.client_id = r.str()
                        except DecodeError:
                            pass
                    rule = self.proxy.match_rule(self, direction, ptype)
                    note = "dropped by the proxy, which then closed the connection" if rule else ""
                    self.packets.append((next_seq(), direction, pkt, note))
                    if rule:
                        self.abort()
                        return
                    try:
                        dst.sendall(pkt)
                    except OSError:
                        return
            if buf:
                self.errors.append("%s: %d trailing bytes at EOF" % (direction, len(buf)))
        finally:
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            with self._lock:
                self._done += 1
                if self._done == 2:
                    for s in (self.csock, self.ssock):
                        try:
                            s.close()
                        except OSError:
                            pass
                    self.closed.set()


class Proxy:
    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind((HOST, 0))
        self.lsock.listen(64)
        self.port = self.lsock.getsockname()[1]
        self.conns = []
        self.scenario = None
        self.rules = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def _accept_loop(self):
        while True:
            try:
                csock, _ = self.lsock.accept()
            except OSError:
                return
            ssock = socket.create_connection((HOST, self.upstream_port))
            for s in (csock, ssock):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                conn = Conn(self, len(self.conns), csock, ssock, self.scenario)
                self.conns.append(conn)
            conn.start()

    def add_rule(self, client_id, direction, ptype):
        """Drop the next `ptype` packet seen in `direction` on a connection of
        `client_id`, then close that connection (both sides)."""
        with self._lock:
            self.rules.append((client_id, direction, ptype))

    def match_rule(self, conn, direction, ptype):
        with self._lock:
            for rule in self.rules:
                if rule == (conn.client_id, direction, ptype):
                    self.rules.remove(rule)
                    return rule
        return None

    def abort_client(self, client_id):
        with self._lock:
            conns = [c for c in self.conns if c.client_id == client_id and not c.closed.is_set()]
        for c in conns:
            c.abort()
        return len(conns)

    def wait_idle(self, scenario, timeout=10.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self._lock:
                open_ = [c for c in self.conns if c.scenario == scenario and not c.closed.is_set()]
            if not open_:
                return True
            time.sleep(0.05)
        with self._lock:
            open_ = [c for c in self.conns if c.scenario == scenario and not c.closed.is_set()]
        for c in open_:
            log("  note: closing leftover connection of %s in scenario %s" % (c.client_id, scenario))
            c.abort()
        for c in open_:
            c.closed.wait(2)
        return False

    def close(self):
        try:
            self.lsock.close()
        except OSError:
            pass


# --------------------------------------------------------------------------
# Brokers
# --------------------------------------------------------------------------

def free_port():
    s = socket.socket()
    s.bind((HOST, 0))
    p = s.getsockname()[1]
    s.close()
    return p


def dynsec_hash(password, salt, iterations=101):
    return base64.b64encode(hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)).decode()


class Broker:
    def __init__(self, workdir, name, extra_lines, dynsec=False):
        self.port = free_port()
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir)
        os.chmod(self.dir, 0o777)  # mosquitto drops privileges when run as root
        self.log = os.path.join(self.dir, "mosquitto.log")
        lines = [
            "listener %d %s" % (self.port, HOST),
            "allow_anonymous true",
            "persistence false",
            "log_dest file %s" % self.log,
            "log_type all",
        ]
        if dynsec:
            lines += self._dynsec()
        lines += extra_lines
        self.conf_lines = lines
        self.conf = os.path.join(self.dir, "mosquitto.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(self.conf, 0o644)
        self.proc = subprocess.Popen(["mosquitto", "-c", self.conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection((HOST, self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start; see %s" % self.log)

    def _dynsec(self):
        """Dynamic security plugin config: user alice/secret, anonymous clients
        allowed; everyone may publish to / subscribe to cicada/#, nothing else
        (so subscribing to secret/# yields SUBACK 0x80 / 0x87)."""
        salt = b"cicadagolden"  # dynsec expects a 12-byte salt
        role = {"rolename": "cicada", "acls": [
            {"acltype": "publishClientSend", "topic": "cicada/#", "allow": True},
            {"acltype": "publishClientReceive", "topic": "#", "allow": True},
            {"acltype": "subscribePattern", "topic": "cicada/#", "allow": True},
            {"acltype": "unsubscribePattern", "topic": "#", "allow": True},
        ]}
        cfg = {
            "clients": [{"username": "alice", "password": dynsec_hash("secret", salt),
                         "salt": base64.b64encode(salt).decode(), "iterations": 101,
                         "roles": [{"rolename": "cicada"}]}],
            "groups": [{"groupname": "anonymous", "roles": [{"rolename": "cicada"}], "clients": []}],
            "anonymousGroup": "anonymous",
            "roles": [role],
            "defaultACLAccess": {"publishClientSend": False, "publishClientReceive": True,
                                 "subscribe": False, "unsubscribe": True},
        }
        path = os.path.join(self.dir, "dynsec.json")
        with open(path, "w") as f:
            json.dump(cfg, f, indent=1)
        os.chmod(path, 0o666)
        plugin = None
        for cand in ("/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so",
                     "/usr/lib/aarch64-linux-gnu/mosquitto_dynamic_security.so",
                     "/usr/lib/mosquitto_dynamic_security.so"):
            if os.path.exists(cand):
                plugin = cand
                break
        if plugin is None:
            out = subprocess.run(["dpkg", "-L", "mosquitto"], capture_output=True, text=True).stdout
            for line in out.splitlines():
                if line.endswith("mosquitto_dynamic_security.so"):
                    plugin = line
        if plugin is None:
            raise RuntimeError("mosquitto_dynamic_security.so not found")
        return ["plugin %s" % plugin, "plugin_opt_config_file %s" % path]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()


# --------------------------------------------------------------------------
# Recording bookkeeping
# --------------------------------------------------------------------------

def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Recorder:
    """Collects scenarios (description + proxy + name) for one source."""

    def __init__(self, source, proxies):
        self.source = source
        self.proxies = proxies  # all proxies this source uses
        self.scenarios = []  # (key, title, description lines)

    def begin(self, key, title, desc_lines=()):
        key = "%s:%d:%s" % (self.source, len(self.scenarios), key)
        for p in self.proxies:
            p.scenario = key
        self.scenarios.append((key, title, list(desc_lines)))
        log("[%s] %s" % (self.source, title))
        return key

    def end(self, key):
        for p in self.proxies:
            p.wait_idle(key)
        for p in self.proxies:
            p.scenario = None

    def packets_by_version(self):
        """{version: [(scenario_title, desc, [(direction, bytes, note)])]}"""
        result = {}
        for key, title, desc in self.scenarios:
            conns = []
            for p in self.proxies:
                conns += [c for c in p.conns if c.scenario == key]
            per_version = {}
            for c in conns:
                if c.errors:
                    raise RuntimeError("stream error in %s: %s" % (key, c.errors))
                if c.level is None:
                    continue
                ver = LEVEL_TO_VERSION[c.level]
                per_version.setdefault(ver, []).extend(c.packets)
            for ver, pkts in per_version.items():
                pkts.sort(key=lambda t: t[0])
                result.setdefault(ver, []).append(
                    (title, desc, [(d, b, n) for _, d, b, n in pkts]))
        return result


# --------------------------------------------------------------------------
# paho scenarios
# --------------------------------------------------------------------------

def paho_imports():
    global mqtt, Properties, PacketTypes, SubscribeOptions, ReasonCodes
    import paho.mqtt.client as mqtt  # noqa
    from paho.mqtt.properties import Properties  # noqa
    from paho.mqtt.packettypes import PacketTypes  # noqa
    from paho.mqtt.subscribeoptions import SubscribeOptions  # noqa
    from paho.mqtt.reasoncodes import ReasonCodes  # noqa


LIMITS_CONF = ["max_keepalive 30", "max_packet_size 100", "max_inflight_messages 5",
               "max_qos 1", "retain_available false", "max_topic_alias 4"]


def wait_for(pred, timeout=10.0, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.02)
    raise RuntimeError("timeout waiting for %s" % what)


class Paho:
    """Thin wrapper around paho.mqtt.client.Client with events we can wait on."""

    def __init__(self, version, client_id, port, clean=True, username=None, password=None,
                 reconnect=False):
        self.version = version
        self.v5 = version == "5"
        self.port = port
        proto = {"3.1": mqtt.MQTTv31, "3.1.1": mqtt.MQTTv311, "5": mqtt.MQTTv5}[version]
        kw = {} if self.v5 else {"clean_session": clean}
        self.c = mqtt.Client(client_id=client_id, protocol=proto, reconnect_on_failure=reconnect, **kw)
        self.c.reconnect_delay_set(min_delay=1, max_delay=1)
        if username is not None:
            self.c.username_pw_set(username, password)
        self.connacks = []
        self.subacks = {}
        self.unsubacks = {}
        self.published = set()
        self.messages = []
        self.disconnects = []
        self.c.on_connect = self._on_connect
        self.c.on_subscribe = self._on_subscribe
        self.c.on_unsubscribe = self._on_unsubscribe
        self.c.on_publish = lambda c, u, mid: self.published.add(mid)
        self.c.on_message = lambda c, u, m: self.messages.append(m)
        self.c.on_disconnect = self._on_disconnect

    def _on_connect(self, c, u, flags, rc, props=None):
        self.connacks.append(rc)

    def _on_subscribe(self, c, u, mid, granted, props=None):
        self.subacks[mid] = granted

    def _on_unsubscribe(self, c, u, mid, *rest):
        self.unsubacks[mid] = rest

    def _on_disconnect(self, c, u, rc, props=None):
        self.disconnects.append(rc)

    def connect(self, keepalive=60, props=None, clean_start=None, expect_ok=True):
        kw = {}
        if self.v5:
            kw["properties"] = props
            if clean_start is not None:
                kw["clean_start"] = clean_start
        n = len(self.connacks)
        self.c.connect(HOST, self.port, keepalive, **kw)
        self.c.loop_start()
        wait_for(lambda: len(self.connacks) > n, what="CONNACK")
        if expect_ok and self.connacks[-1] != 0:
            raise RuntimeError("connection refused: %s" % self.connacks[-1])
        return self.connacks[-1]

    def subscribe(self, topics, props=None):
        kw = {"properties": props} if self.v5 else {}
        rc, mid = self.c.subscribe(topics, **kw)
        wait_for(lambda: mid in self.subacks, what="SUBACK")
        return self.subacks[mid]

    def unsubscribe(self, topics, props=None):
        kw = {"properties": props} if self.v5 else {}
        rc, mid = self.c.unsubscribe(topics, **kw)
        wait_for(lambda: mid in self.unsubacks, what="UNSUBACK")

    def publish(self, topic, payload, qos=0, retain=False, props=None, wait=True):
        kw = {"properties": props} if self.v5 else {}
        info = self.c.publish(topic, payload, qos=qos, retain=retain, **kw)
        if wait and qos > 0:
            wait_for(lambda: info.mid in self.published, what="publish ack of mid %d" % info.mid)
        return info.mid

    def disconnect(self, rc=None, props=None):
        kw = {}
        if self.v5 and rc is not None:
            kw["reasoncode"] = rc
        if self.v5 and props is not None:
            kw["properties"] = props
        self.c.disconnect(**kw)
        self.c.loop_stop()

    def stop(self):
        self.c.loop_stop()


def props(ptype, **kw):
    p = Properties(ptype)
    for k, v in kw.items():
        setattr(p, k, v)
    return p


def paho_run(rec, version, proxy, lim_proxy):
    tag = {"3.1": "31", "3.1.1": "311", "5": "5"}[version]
    v5 = version == "5"
    T = "cicada/p%s" % tag
    port = proxy.port

    def cid(name):
        return "pp%s-%s" % (tag, name)

    # ---- 1. CONNECT variants ------------------------------------------------
    key = rec.begin("connect", "CONNECT variants (minimal, username/password, refused)", [
        "c1: Client(client_id=%s) connect(keepalive=60), disconnect()" % cid("min"),
        "c2: username_pw_set('alice','secret'), connect(keepalive=30), disconnect()",
        "c3: username_pw_set('alice','wrong') -> refused CONNACK (bad password, dynsec plugin)",
        "c4: username_pw_set('nobody') (username, no password) -> refused CONNACK",
    ] + (["v5: c2 also sends CONNECT properties session_expiry=30 receive_maximum=20 "
          "topic_alias_maximum=5 maximum_packet_size=4096 request_problem_info=1 "
          "user properties (k1,v1),(k2,v2)"] if v5 else []))
    c = Paho(version, cid("min"), port)
    c.connect(60)
    c.disconnect()
    c = Paho(version, cid("auth"), port, username="alice", password="secret")
    cp = None
    if v5:
        cp = props(PacketTypes.CONNECT, SessionExpiryInterval=30, ReceiveMaximum=20,
                   TopicAliasMaximum=5, MaximumPacketSize=4096, RequestProblemInformation=1,
                   UserProperty=[("k1", "v1"), ("k2", "v2")])
    c.connect(30, props=cp)
    c.disconnect()
    for name, user, pw in (("bad", "alice", "wrong"), ("nopw", "nobody", None)):
        c = Paho(version, cid(name), port, username=user, password=pw)
        rc = c.connect(60, expect_ok=False)
        time.sleep(0.3)
        c.stop()
    rec.end(key)

    # ---- 2. Will -----------------------------------------------------------
    key = rec.begin("will", "CONNECT with will (QoS 1, retain) + credentials; will delivered after abrupt close", [
        "watcher subscribes %s/will/# (QoS 2)" % T,
        "w: will_set('%s/will/w', b'gone', qos=1, retain=True), username alice/secret, keepalive 20" % T,
        "the proxy then closes w's TCP connection (no DISCONNECT) so mosquitto publishes the will",
        "finally the retained will is cleared with an empty retained publish",
    ] + (["v5: will properties will_delay=0 message_expiry=300 content_type=text/plain "
          "response_topic=%s/resp correlation_data=b'\\x01\\x02' payload_format=1 user props (a,1),(b,2); "
          "CONNECT properties session_expiry=10 user property (w,1)" % T] if v5 else []))
    watcher = Paho(version, cid("watch"), port)
    watcher.connect(60)
    watcher.subscribe([("%s/will/#" % T, 2)])
    w = Paho(version, cid("will"), port, username="alice", password="secret")
    wprops = None
    if v5:
        wprops = props(PacketTypes.WILLMESSAGE, WillDelayInterval=0, MessageExpiryInterval=300,
                       ContentType="text/plain", ResponseTopic="%s/resp" % T,
                       CorrelationData=b"\x01\x02", PayloadFormatIndicator=1,
                       UserProperty=[("a", "1"), ("b", "2")])
        w.c.will_set("%s/will/w" % T, b"gone", qos=1, retain=True, properties=wprops)
        w.connect(20, props=props(PacketTypes.CONNECT, SessionExpiryInterval=10,
                                  UserProperty=[("w", "1")]))
    else:
        w.c.will_set("%s/will/w" % T, b"gone", qos=1, retain=True)
        w.connect(20)
    w.stop()
    proxy.abort_client(cid("will"))
    wait_for(lambda: len(watcher.messages) >= 1, what="will message")
    time.sleep(0.2)
    clr = Paho(version, cid("clr"), port)
    clr.connect(60)
    clr.publish("%s/will/w" % T, b"", qos=1, retain=True)
    clr.disconnect()
    wait_for(lambda: len(watcher.messages) >= 2, what="retained clear")
    watcher.disconnect()
    rec.end(key)

    # ---- 3. Publish / subscribe ---------------------------------------------
    desc = [
        "pub (alice/secret) publishes retained QoS1 '%s/r' first; sub then subscribes and receives it with retain=1" % T,
        "sub (keepalive=1 so PINGREQ/PINGRESP appear) subscribes in one SUBSCRIBE: "
        "%s/q0 QoS0, %s/q1 QoS1, %s/+/q2 QoS2, %s/r QoS1" % (T, T, T, T),
        "sub subscribes [%s/ok QoS1, secret/x QoS0] -> SUBACK with a failure code (dynsec denies secret/#)" % T,
        "pub publishes QoS 0, 1, 2 (and QoS 2 retained) to the subscribed topics; "
        "sub acks them (PUBACK / PUBREC+PUBCOMP), mosquitto sends PUBREL",
        "sub sleeps 2.5 s (pings), unsubscribes [%s/q0, %s/q1], then clears the retained message" % (T, T),
    ]
    if v5:
        desc += [
            "v5: SUBSCRIBE #1 carries Subscription Identifier 7 + user property, options "
            "q0=QoS0, q1=QoS1+noLocal, +/q2=QoS2+retainAsPublished+retainHandling 1, r=QoS1+retainHandling 0",
            "v5: SUBSCRIBE %s/sid/# with Subscription Identifier 200 (2-byte VBI), retainHandling 2" % T,
            "v5: PUBLISH with message_expiry=3600 content_type=application/json response_topic=%s/reply "
            "correlation_data=b'id-42' payload_format=1 user props (z,last),(a,first),(z,again)" % T,
            "v5: topic alias: PUBLISH %s/alias with TopicAlias=1, then PUBLISH topic '' TopicAlias=1" % T,
            "v5: QoS1/QoS2 to a topic nobody subscribes -> PUBACK/PUBREC 0x10; QoS1/QoS2 to secret/x -> 0x87",
            "v5: UNSUBSCRIBE with user property, incl. a filter never subscribed -> UNSUBACK 0x11",
            "v5: pub disconnects with DISCONNECT reason 0x04 (disconnect with will) + session_expiry=0, "
            "reason string 'bye', user property; sub with plain disconnect()",
        ]
    key = rec.begin("pubsub", "PUBLISH QoS 0/1/2, retain, SUBSCRIBE/SUBACK, UNSUBSCRIBE, PING", desc)
    pub = Paho(version, cid("pub"), port, username="alice", password="secret")
    pub.connect(60, props=props(PacketTypes.CONNECT, SessionExpiryInterval=60) if v5 else None)
    pub.publish("%s/r" % T, b"retained", qos=1, retain=True)
    sub = Paho(version, cid("sub"), port)
    sub.connect(1)
    if v5:
        sub.subscribe([("%s/q0" % T, SubscribeOptions(qos=0)),
                       ("%s/q1" % T, SubscribeOptions(qos=1, noLocal=True)),
                       ("%s/+/q2" % T, SubscribeOptions(qos=2, retainAsPublished=True, retainHandling=1)),
                       ("%s/r" % T, SubscribeOptions(qos=1))],
                      props=props(PacketTypes.SUBSCRIBE, SubscriptionIdentifier=7,
                                  UserProperty=[("s", "1")]))
        sub.subscribe([("%s/sid/#" % T, SubscribeOptions(qos=2, retainHandling=2))],
                      props=props(PacketTypes.SUBSCRIBE, SubscriptionIdentifier=200))
        sub.subscribe([("%s/ok" % T, SubscribeOptions(qos=1)), ("secret/x", SubscribeOptions(qos=0))])
    else:
        sub.subscribe([("%s/q0" % T, 0), ("%s/q1" % T, 1), ("%s/+/q2" % T, 2), ("%s/r" % T, 1)])
        sub.subscribe([("%s/ok" % T, 1), ("secret/x", 0)])
    wait_for(lambda: len(sub.messages) >= 1, what="retained message")
    n = 1
    pub.publish("%s/q0" % T, b"qos0", qos=0)
    pub.publish("%s/q1" % T, b"qos1", qos=1)
    pub.publish("%s/x/q2" % T, b"qos2", qos=2)
    pub.publish("%s/y/q2" % T, b"qos2 retained", qos=2, retain=True)
    n += 4
    if v5:
        pp = props(PacketTypes.PUBLISH, MessageExpiryInterval=3600, ContentType="application/json",
                   ResponseTopic="%s/reply" % T, CorrelationData=b"id-42", PayloadFormatIndicator=1,
                   UserProperty=[("z", "last"), ("a", "first"), ("z", "again")])
        pub.publish("%s/q1" % T, b'{"v":1}', qos=1, props=pp)
        pub.publish("%s/sid/a" % T, b"sid", qos=1)
        pub.publish("%s/sid/alias" % T, b"alias-1", qos=1,
                    props=props(PacketTypes.PUBLISH, TopicAlias=1))
        pub.publish("", b"alias-2", qos=1, props=props(PacketTypes.PUBLISH, TopicAlias=1))
        n += 4
        # noLocal: sub publishes to its own noLocal subscription -> not echoed
        sub.publish("%s/q1" % T, b"self", qos=1)
        pub.publish("%s/nobody" % T, b"x", qos=1)
        pub.publish("%s/nobody" % T, b"x", qos=2)
        pub.publish("secret/x", b"x", qos=1)
        pub.publish("secret/x", b"x", qos=2)
    wait_for(lambda: len(sub.messages) >= n, what="%d messages" % n)
    time.sleep(2.5)  # keepalive=1 -> PINGREQ/PINGRESP
    if v5:
        sub.unsubscribe(["%s/q0" % T, "%s/q1" % T, "%s/never" % T],
                        props=props(PacketTypes.UNSUBSCRIBE, UserProperty=[("u", "1")]))
    else:
        sub.unsubscribe(["%s/q0" % T, "%s/q1" % T])
    pub.publish("%s/r" % T, b"", qos=1, retain=True)
    pub.publish("%s/y/q2" % T, b"", qos=0, retain=True)
    time.sleep(0.2)
    if v5:
        pub.disconnect(ReasonCodes(PacketTypes.DISCONNECT, identifier=0x04),
                       props(PacketTypes.DISCONNECT, SessionExpiryInterval=0, ReasonString="bye",
                             UserProperty=[("d", "1")]))
    else:
        pub.disconnect()
    sub.disconnect()
    rec.end(key)

    # ---- 4. DUP flag / redelivery via persistent sessions ----------------------
    key = rec.begin("dup", "DUP redelivery: persistent sessions, acks dropped by the proxy", [
        "dsub: clean_session=False%s, subscribes %s/d/1 QoS1 and %s/d/2 QoS2; "
        "reconnect_on_failure=True (paho reconnects after 1 s)" % (
            " (v5: clean_start first-only + session_expiry=300)" if v5 else "", T, T),
        "proxy drops dsub's PUBACK and closes -> mosquitto resends PUBLISH with DUP=1 after reconnect",
        "same for dsub's PUBREC (QoS2 PUBLISH resent with DUP=1) and PUBCOMP (PUBREL resent)",
        "dpub: clean_session=False, proxy drops the broker's PUBACK / PUBREC / PUBCOMP -> paho resends "
        "PUBLISH with DUP=1 (QoS1, QoS2) and PUBREL after reconnect; CONNACK session-present=1",
    ])
    sp = props(PacketTypes.CONNECT, SessionExpiryInterval=300) if v5 else None
    dsub = Paho(version, cid("dsub"), port, clean=False, reconnect=True)
    dsub.connect(60, props=sp)
    dsub.subscribe([("%s/d/1" % T, 1), ("%s/d/2" % T, 2)])
    dpub = Paho(version, cid("dpub"), port)
    dpub.connect(60)
    for i, (ptype, topic, qos) in enumerate((("PUBACK", "%s/d/1" % T, 1), ("PUBREC", "%s/d/2" % T, 2),
                                             ("PUBCOMP", "%s/d/2" % T, 2))):
        nconn = len(dsub.connacks)
        proxy.add_rule(cid("dsub"), "c2s", ptype)
        dpub.publish(topic, ("dup%d" % i).encode(), qos=qos)
        wait_for(lambda: len(dsub.connacks) > nconn, what="dsub reconnect")
        time.sleep(0.5)
    dpub.disconnect()
    dsub.disconnect()
    dpub = Paho(version, cid("dpub2"), port, clean=False, reconnect=True)
    dpub.connect(60, props=sp)
    for ptype, qos in (("PUBACK", 1), ("PUBREC", 2), ("PUBCOMP", 2)):
        nconn = len(dpub.connacks)
        proxy.add_rule(cid("dpub2"), "s2c", ptype)
        dpub.publish("%s/d/3" % T, b"again", qos=qos, wait=False)
        wait_for(lambda: len(dpub.connacks) > nconn, what="dpub reconnect")
        time.sleep(0.5)
    wait_for(lambda: len(dpub.published) >= 3, what="dpub acks")
    dpub.disconnect()
    rec.end(key)

    if not v5:
        return

    # ---- 5. v5 session takeover -> server DISCONNECT 0x8E ---------------------
    key = rec.begin("takeover", "Server-side DISCONNECT 0x8E (session taken over)", [
        "t1 connects as %s; t2 connects with the same client id." % cid("take"),
        "Observed with mosquitto 2.0.11: the old connection is simply closed, NO DISCONNECT 0x8E",
        "is sent (so this scenario adds no s2c packet; a newer mosquitto would add one here).",
    ])
    t1 = Paho(version, cid("take"), port)
    t1.connect(60)
    t2 = Paho(version, cid("take"), port)
    t2.connect(60)
    wait_for(lambda: t1.disconnects, what="t1 disconnect")
    t1.stop()
    t2.disconnect()
    rec.end(key)

    # ---- 6. v5 limits broker: CONNACK properties, DISCONNECT 0x9B / 0x9A ------
    key = rec.begin("limits", "Broker with limits: CONNACK properties, server DISCONNECT 0x9B, 0x9A, 0x94, 0x95", [
        "second mosquitto with: " + ", ".join(LIMITS_CONF),
        "each client connects with keepalive 100 -> CONNACK with Server Keep Alive, Maximum QoS etc.",
        "l1 publishes QoS 2 -> mosquitto sends DISCONNECT 0x9B (QoS not supported)",
        "l2 publishes a retained QoS 0 message -> DISCONNECT 0x9A (retain not supported)",
        "l3 publishes QoS 0 with Topic Alias 5 (> max 4) -> DISCONNECT 0x94 (topic alias invalid)",
        "l4 publishes a 108-byte QoS 0 PUBLISH (90-byte payload; > max_packet_size 100) -> DISCONNECT 0x95",
    ])
    for name, kw in (("l1", dict(qos=2)), ("l2", dict(qos=0, retain=True)),
                     ("l3", dict(qos=0, props=props(PacketTypes.PUBLISH, TopicAlias=5))),
                     ("l4", dict(qos=0, payload=b"0123456789" * 9))):
        c = Paho(version, cid(name), lim_proxy.port)
        c.connect(100)
        kw.setdefault("payload", b"x")
        c.publish("%s/lim" % T, wait=False, **kw)
        wait_for(lambda: c.disconnects, what="server disconnect")
        c.stop()
    rec.end(key)


# --------------------------------------------------------------------------
# mosquitto_pub / mosquitto_sub scenarios
# --------------------------------------------------------------------------

def run_cmd(argv, timeout=20, check=True):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(argv), p.returncode, p.stdout))
    return p


def show_cmd(argv, port_names):
    out = []
    for a in argv:
        if a in port_names:
            a = port_names[a]
        if a == "" or any(ch in a for ch in " #'\"{}"):
            a = "'" + a.replace("'", "'\\''") + "'"
        out.append(a)
    return " ".join(out)


def clients_run(rec, version, proxy, lim_proxy):
    tag = {"3.1": "31", "3.1.1": "311", "5": "5"}[version]
    vflag = {"3.1": "mqttv31", "3.1.1": "mqttv311", "5": "mqttv5"}[version]
    v5 = version == "5"
    T = "cicada/m%s" % tag
    port_names = {str(proxy.port): "$PORT", str(lim_proxy.port): "$LIMITS_PORT"}
    base = ["-h", HOST, "-p", str(proxy.port), "-V", vflag]

    def cid(name):
        return "mc%s-%s" % (tag, name)

    def pub(*args, check=True, **kw):
        return ["mosquitto_pub"] + base + list(args)

    # ---- 1. main pub/sub --------------------------------------------------------
    sub_argv = ["mosquitto_sub"] + base + [
        "-i", cid("sub"), "-k", "5", "-q", "2", "-t", "%s/a" % T, "-t", "%s/b" % T,
        "-t", "%s/+/c" % T, "-U", "%s/a" % T, "-W", "8", "-v"]
    if v5:
        sub_argv += ["-D", "connect", "user-property", "ck", "cv",
                     "-D", "subscribe", "user-property", "sk", "sv",
                     "-D", "unsubscribe", "user-property", "uk", "uv"]
    pubs = [
        pub("-i", cid("p0"), "-t", "%s/a" % T, "-m", "hello", "-q", "0"),
        pub("-i", cid("p1"), "-u", "alice", "-P", "secret", "-t", "%s/b" % T, "-m", "qos one", "-q", "1"),
        pub("-i", cid("p2"), "-t", "%s/x/c" % T, "-m", "qos two", "-q", "2", "-r"),
        pub("-i", cid("p3"), "-t", "%s/x/c" % T, "-n", "-r", "-q", "1"),
        pub("-i", cid("will"), "-u", "alice", "-P", "secret", "-k", "30",
            "--will-topic", "%s/will" % T, "--will-payload", "gone away", "--will-qos", "2",
            "--will-retain", "-t", "%s/b" % T, "-m", "with will", "-q", "1",
            *(["-c", "-x", "60",
               "-D", "connect", "receive-maximum", "10", "-D", "connect", "topic-alias-maximum", "3",
               "-D", "connect", "maximum-packet-size", "4096", "-D", "connect", "user-property", "ck", "cv",
               "-D", "connect", "request-problem-information", "1",
               "-D", "will", "will-delay-interval", "0", "-D", "will", "message-expiry-interval", "120",
               "-D", "will", "content-type", "text/plain", "-D", "will", "response-topic", "%s/resp" % T,
               "-D", "will", "correlation-data", "c0rr", "-D", "will", "payload-format-indicator", "1",
               "-D", "will", "user-property", "wk", "wv",
               "-D", "disconnect", "session-expiry-interval", "0",
               "-D", "disconnect", "user-property", "dk", "dv"] if v5 else [])),
    ]
    if v5:
        pubs += [
            pub("-i", cid("props"), "-t", "%s/b" % T, "-m", '{"v":1}', "-q", "1",
                "-D", "publish", "message-expiry-interval", "300",
                "-D", "publish", "content-type", "application/json",
                "-D", "publish", "response-topic", "%s/reply" % T,
                "-D", "publish", "correlation-data", "abc123",
                "-D", "publish", "payload-format-indicator", "1",
                "-D", "publish", "user-property", "z", "last",
                "-D", "publish", "user-property", "a", "first"),
            pub("-i", cid("alias"), "-t", "%s/b" % T, "-m", "aliased", "-q", "1",
                "-D", "publish", "topic-alias", "1", "--repeat", "2", "--repeat-delay", "0"),
            pub("-i", cid("nobody"), "-t", "%s/nobody" % T, "-m", "x", "-q", "1"),
            pub("-i", cid("nobody2"), "-t", "%s/nobody" % T, "-m", "x", "-q", "2"),
            pub("-i", cid("denied"), "-t", "secret/x", "-m", "x", "-q", "1"),
        ]
    desc = ["sub: " + show_cmd(sub_argv, port_names) + "   (started first; -k 5 -W 8 => PINGREQ)",
            "then, one after the other:"] + ["  " + show_cmd(a, port_names) for a in pubs]
    key = rec.begin("pubsub", "mosquitto_sub with several filters + mosquitto_pub QoS 0/1/2, retain, will", desc)
    sp = subprocess.Popen(sub_argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(1.0)
    for a in pubs:
        run_cmd(a)
    out, _ = sp.communicate(timeout=20)
    rec.end(key)

    # ---- 2. refused / denied ---------------------------------------------------
    cmds = [
        (pub("-i", cid("bad"), "-u", "alice", "-P", "wrong", "-t", "%s/a" % T, "-m", "x"), False),
        (["mosquitto_sub"] + base + ["-i", cid("deny"), "-q", "1", "-t", "%s/ok" % T, "-t", "secret/x", "-E"], True),
        (["mosquitto_sub"] + base + ["-i", cid("q0"), "-q", "0", "-t", "%s/zero" % T, "-E"], True),
    ]
    key = rec.begin("refused", "Refused CONNECT (bad password) and SUBACK with a failure code", [
        show_cmd(a, port_names) for a, _ in cmds])
    for a, ok in cmds:
        run_cmd(a, check=ok)
    rec.end(key)

    # ---- 3. persistent session --------------------------------------------------
    sargv = ["mosquitto_sub"] + base + ["-i", cid("persist"), "-c", "-q", "1", "-t", "%s/p" % T, "-E"]
    if v5:
        sargv += ["-x", "120"]
    key = rec.begin("persist", "Persistent session: -c twice (second CONNACK has session present = 1)", [
        show_cmd(sargv, port_names) + "   (run twice)"])
    run_cmd(sargv)
    run_cmd(sargv)
    rec.end(key)

    if not v5:
        return

    # ---- 4. v5: assigned client id, limits broker -----------------------------------
    anon = pub("-t", "%s/a" % T, "-m", "anon")
    lim = ["mosquitto_pub", "-h", HOST, "-p", str(lim_proxy.port), "-V", vflag, "-i", cid("lim"),
           "-k", "100", "-t", "%s/lim" % T, "-m", "x", "-q", "1"]
    key = rec.begin("v5extra", "v5: assigned client identifier, broker with limits", [
        show_cmd(anon, port_names) + "   (no -i: empty client id -> Assigned Client Identifier, random per run)",
        show_cmd(lim, port_names) + "   ($LIMITS_PORT: broker with " + ", ".join(LIMITS_CONF) + ")",
        "(session takeover is not included: mosquitto 2.0.11 sends no DISCONNECT 0x8E, and",
        " libmosquitto clients with the same id just keep reconnecting; see paho_v5.txt)",
    ])
    run_cmd(anon)
    run_cmd(lim)
    rec.end(key)


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------

FILES = {
    ("paho", "3.1"): "paho_v31.txt", ("paho", "3.1.1"): "paho_v311.txt", ("paho", "5"): "paho_v5.txt",
    ("mosquitto_clients", "3.1"): "mosquitto_clients_v31.txt",
    ("mosquitto_clients", "3.1.1"): "mosquitto_clients_v311.txt",
    ("mosquitto_clients", "5"): "mosquitto_clients_v5.txt",
}

FORMAT_HELP = [
    "Line format: <direction> <version> <PACKET_TYPE> <hex>  # note",
    "  direction c2s = client to broker, s2c = broker to client; each hex string is one",
    "  complete packet incl. fixed header. Identical packets are listed once (first occurrence),",
    "  so a scenario shows only packets not seen earlier in the file. Lines are in capture order;",
    "  packets of concurrent connections may interleave differently when re-captured.",
    "  Notes are generated by the decoder in capture_golden.py: props=/wprops= list property",
    "  identifiers (hex) in wire order; codes= are reason codes; (RL 0) = remaining length 0.",
]


def tool_versions():
    v = {}
    v["mosquitto"] = run_cmd(["mosquitto", "-h"], check=False).stdout.splitlines()[0].strip()
    v["mosquitto_pub"] = run_cmd(["mosquitto_pub", "--help"], check=False).stdout.splitlines()[1].strip()
    import paho.mqtt
    v["paho"] = "paho-mqtt %s (python %s, %s)" % (paho.mqtt.__version__, platform.python_version(),
                                                  sys.executable)
    try:
        v["node"] = "node " + run_cmd(["node", "--version"]).stdout.strip()
        with open(os.path.join(HERE, "node_modules", "mqtt-packet", "package.json")) as f:
            v["mqtt-packet"] = "mqtt-packet " + json.load(f)["version"]
    except Exception:
        pass
    return v


def write_file(path, header, scenarios, version):
    """scenarios: [(title, desc, [(direction, bytes, note)])]; returns packet count."""
    seen = set()
    lines = ["# " + h if h else "#" for h in header]
    count = 0
    for title, desc, pkts in scenarios:
        body = []
        for direction, pkt, extra in pkts:
            k = (direction, pkt)
            if k in seen:
                continue
            seen.add(k)
            name = TYPE_NAMES[pkt[0] >> 4]
            note = decode(pkt, version)
            if extra:
                note += "; " + extra
            line = "%s %s %s %s" % (direction, version, name, pkt.hex())
            body.append(line + ("  # " + note if note else ""))
        lines.append("#")
        lines.append("# --- scenario: %s" % title)
        lines += ["#   " + d for d in desc]
        if not body:
            lines.append("#   (no new packets)")
        lines += body
        count += len(body)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return count


def ensure_mqtt_packet():
    if os.path.exists(os.path.join(HERE, "node_modules", "mqtt-packet")):
        return
    log("installing mqtt-packet into %s/node_modules (npm install --no-package-lock)" % HERE)
    subprocess.run(["npm", "install", "--no-package-lock", "--no-audit", "--no-fund"], cwd=HERE, check=True)


def write_mqtt_packet_file(versions):
    out = run_cmd(["node", os.path.join(HERE, "auth_packets.js")]).stdout
    header = [
        "Golden MQTT 5 packets encoded by the npm package %s (the codec of MQTT.js), %s." % (
            versions.get("mqtt-packet", "mqtt-packet"), versions.get("node", "node")),
        "Captured by: /usr/bin/python3 tests/tools/capture_golden.py, which runs",
        "  node tests/tools/auth_packets.js   (mqtt.generate(packet, {protocolVersion: 5}) for each",
        "  packet object listed in that script; tests/tools/package.json pins the version).",
        "Not network traffic: 'direction' is the direction such a packet travels in. Main purpose:",
        "AUTH (paho-mqtt 1.6.1 and mosquitto 2.0.11 do not emit it), plus packets with many",
        "properties / reason codes. mqtt-packet writes properties in the insertion order of the JS",
        "properties object (see auth_packets.js), NOT sorted by identifier.",
    ] + FORMAT_HELP
    pkts = []
    for line in out.splitlines():
        o = json.loads(line)
        pkt = bytes.fromhex(o["hex"])
        if TYPE_NAMES[pkt[0] >> 4] != o["type"]:
            raise RuntimeError("type mismatch for %s" % o)
        pkts.append((o["dir"], pkt, o["label"]))
    # label goes first so the note explains the intent
    seen = set()
    lines = ["# " + h if h else "#" for h in header] + ["#"]
    count = 0
    for d, pkt, label in pkts:
        if (d, pkt) in seen:
            continue
        seen.add((d, pkt))
        lines.append("%s 5 %s %s  # %s; %s" % (d, TYPE_NAMES[pkt[0] >> 4], pkt.hex(), label, decode(pkt, "5")))
        count += 1
    path = os.path.join(OUT_DIR, "mqtt_packet_v5.txt")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path, count


# --------------------------------------------------------------------------
# Checking
# --------------------------------------------------------------------------

EXPECTED_TYPES = {
    "3.1": set(TYPE_NAMES.values()) - {"AUTH"},
    "3.1.1": set(TYPE_NAMES.values()) - {"AUTH"},
    "5": set(TYPE_NAMES.values()),
}


def parse_golden_file(path):
    out = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            data = line.split("#", 1)[0].split()
            if len(data) != 4:
                raise DecodeError("%s:%d: expected 4 fields" % (path, n))
            out.append((n, data))
    return out


def check_files(paths, use_node=True):
    ok = True
    by_version = {}
    node_input = []
    for path in paths:
        rows = parse_golden_file(path)
        seen = set()
        for n, (direction, version, name, hexs) in rows:
            where = "%s:%d" % (os.path.basename(path), n)
            try:
                if direction not in ("c2s", "s2c"):
                    raise DecodeError("bad direction")
                if version not in VERSION_TO_LEVEL:
                    raise DecodeError("bad version")
                if hexs != hexs.lower():
                    raise DecodeError("hex not lowercase")
                pkt = bytes.fromhex(hexs)
                if TYPE_NAMES.get(pkt[0] >> 4) != name:
                    raise DecodeError("type byte says %s" % TYPE_NAMES.get(pkt[0] >> 4))
                decode(pkt, version)
                if (direction, hexs) in seen:
                    raise DecodeError("duplicate line")
                seen.add((direction, hexs))
                by_version.setdefault(version, set()).add(name)
                node_input.append((where, VERSION_TO_LEVEL[version], hexs))
            except (DecodeError, ValueError) as e:
                ok = False
                print("FAIL %s: %s" % (where, e))
    if use_node and node_input and shutil.which("node") and \
            os.path.exists(os.path.join(HERE, "node_modules", "mqtt-packet")):
        p = subprocess.run(["node", os.path.join(HERE, "auth_packets.js"), "parse"],
                           input="".join("%d %s\n" % (lv, h) for _, lv, h in node_input),
                           capture_output=True, text=True, check=True)
        results = [json.loads(l) for l in p.stdout.splitlines()]
        if len(results) != len(node_input):
            ok = False
            print("FAIL: mqtt-packet parse returned %d results for %d packets" % (len(results), len(node_input)))
        for (where, _, _), res in zip(node_input, results):
            if not res["ok"]:
                ok = False
                print("FAIL %s: mqtt-packet parser: %s" % (where, res["error"]))
        print("mqtt-packet parser cross-check: %d packets" % len(results))
    return ok, by_version


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------

def capture():
    paho_imports()
    for tool in ("mosquitto", "mosquitto_pub", "mosquitto_sub", "node"):
        if not shutil.which(tool):
            sys.exit("missing tool: %s" % tool)
    ensure_mqtt_packet()
    os.makedirs(OUT_DIR, exist_ok=True)
    versions = tool_versions()
    work = tempfile.mkdtemp(prefix="cicada-golden-")
    os.chmod(work, 0o755)
    brokers = []
    try:
        main_broker = Broker(work, "main", [], dynsec=True)
        brokers.append(main_broker)
        lim_broker = Broker(work, "limits", LIMITS_CONF)
        brokers.append(lim_broker)
        results = {}
        for source, runner in (("paho", paho_run), ("mosquitto_clients", clients_run)):
            proxy = Proxy(main_broker.port)
            lim_proxy = Proxy(lim_broker.port)
            rec = Recorder(source, [proxy, lim_proxy])
            for version in ("3.1", "3.1.1", "5"):
                runner(rec, version, proxy, lim_proxy)
            results[source] = rec.packets_by_version()
            proxy.close()
            lim_proxy.close()
        broker_desc = [
            "Broker: %s, started by the script with this config (ports are ephemeral):" % versions["mosquitto"],
        ] + ["  " + l.replace(str(main_broker.port), "$BROKER_PORT").replace(work + "/", "$WORK/")
             for l in main_broker.conf_lines] + [
            "  dynsec.json: client alice/secret; anonymous group; one role allowing publish and",
            "  subscribe on cicada/# only (so secret/# is denied); defaultACLAccess subscribe=false.",
            "Traffic goes through the recording proxy in capture_golden.py: client -> 127.0.0.1:$PORT",
            "-> proxy -> mosquitto; the proxy splits each direction into packets (type byte + VBI",
            "remaining length) and forwards them unchanged, except where a scenario says it drops one.",
        ]
        written = []
        for (source, version), fname in FILES.items():
            scen = results[source].get(version, [])
            if source == "paho":
                head = [
                    "Golden MQTT %s packets: python paho-mqtt client <-> mosquitto broker." % version,
                    "Captured by: /usr/bin/python3 tests/tools/capture_golden.py",
                    "Client: %s, protocol=%s." % (versions["paho"], {
                        "3.1": "mqtt.MQTTv31", "3.1.1": "mqtt.MQTTv311", "5": "mqtt.MQTTv5"}[version]),
                ]
            else:
                head = [
                    "Golden MQTT %s packets: mosquitto_pub / mosquitto_sub <-> mosquitto broker." % version,
                    "Captured by: /usr/bin/python3 tests/tools/capture_golden.py",
                    "Clients: %s (mosquitto-clients), -V %s." % (
                        versions["mosquitto_pub"], {"3.1": "mqttv31", "3.1.1": "mqttv311", "5": "mqttv5"}[version]),
                ]
            head += broker_desc + FORMAT_HELP
            path = os.path.join(OUT_DIR, fname)
            n = write_file(path, head, scen, version)
            written.append((path, n))
        written.append(write_mqtt_packet_file(versions))
    finally:
        for b in brokers:
            b.stop()
        if os.environ.get("GOLDEN_KEEP_WORKDIR"):
            log("work dir kept: %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    for path, n in written:
        log("wrote %-60s %3d packets" % (os.path.relpath(path, REPO), n))
    return [p for p, _ in written]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="only validate the existing golden files")
    args = ap.parse_args()
    if args.check:
        paths = sorted(os.path.join(OUT_DIR, f) for f in os.listdir(OUT_DIR) if f.endswith(".txt"))
    else:
        paths = capture()
    ok, by_version = check_files(paths)
    for path in paths:
        rows = parse_golden_file(path)
        vers = sorted({r[1][1] for r in rows})
        for ver in vers:
            missing = EXPECTED_TYPES[ver] - {r[1][2] for r in rows if r[1][1] == ver}
            if missing and not os.path.basename(path).startswith("mqtt_packet"):
                print("note: %s (MQTT %s) lacks %s" % (os.path.basename(path), ver, ", ".join(sorted(missing))))
    for ver in ("3.1", "3.1.1", "5"):
        missing = EXPECTED_TYPES[ver] - by_version.get(ver, set())
        if missing:
            ok = False
            print("FAIL: no %s packet for MQTT %s in any file" % (", ".join(sorted(missing)), ver))
    total = sum(len(parse_golden_file(p)) for p in paths)
    print("%s: %d packets in %d files" % ("OK" if ok else "FAILED", total, len(paths)))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
