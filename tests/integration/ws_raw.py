"""Hand-built WebSocket (RFC 6455) for the ws/wss listener tests: the HTTP upgrade and
client frames written byte by byte, so the broker's handling of each is checked
without a WebSocket library in between."""
import base64
import hashlib
import os
import socket
import struct

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
BINARY, TEXT, CLOSE, PING, PONG, CONTINUATION = 0x2, 0x1, 0x8, 0x9, 0xA, 0x0


def upgrade_request(path="/mqtt", protocol="mqtt", key=None, extra=""):
    key = key or base64.b64encode(os.urandom(16)).decode()
    lines = ["GET %s HTTP/1.1" % path, "Host: 127.0.0.1", "Upgrade: websocket",
             "Connection: Upgrade", "Sec-WebSocket-Key: " + key, "Sec-WebSocket-Version: 13"]
    if protocol is not None:
        lines.append("Sec-WebSocket-Protocol: " + protocol)
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode(), key


def accept_key(key):
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


class RawWebSocket:
    """A socket (plain, or an ssl.SSLSocket) speaking hand-built WebSocket frames."""

    def __init__(self, sock, timeout=20):
        self.sock = sock
        self.sock.settimeout(timeout)
        self.buffer = b""  # received bytes not yet taken as frames
        self.stream = b""  # MQTT bytes of binary frames not yet taken as packets

    @classmethod
    def connect(cls, port, timeout=20):
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(sock, timeout)

    def _fill(self, size):
        while len(self.buffer) < size:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                return False
            self.buffer += chunk
        return True

    def _take(self, size):
        out, self.buffer = self.buffer[:size], self.buffer[size:]
        return out

    def http_response(self):
        """(status code, {lower-case header: value}) of the response to the upgrade."""
        while b"\r\n\r\n" not in self.buffer:
            if not self._fill(len(self.buffer) + 1):
                raise AssertionError("closed before an HTTP response: %r" % self.buffer)
        head = self._take(self.buffer.index(b"\r\n\r\n") + 4).decode()
        status_line, *fields = head.split("\r\n")[:-2]
        headers = {}
        for field in fields:
            name, _, value = field.partition(":")
            headers[name.strip().lower()] = value.strip()
        return int(status_line.split()[1]), headers

    def upgrade(self, **kwargs):
        request, key = upgrade_request(**kwargs)
        self.sock.sendall(request)
        status, headers = self.http_response()
        if status == 101:
            assert headers["sec-websocket-accept"] == accept_key(key), headers
        return status, headers

    def send_frame(self, opcode, payload=b"", fin=True, mask=True):
        first = (0x80 if fin else 0) | opcode
        size = len(payload)
        mask_bit = 0x80 if mask else 0
        if size < 126:
            header = struct.pack("!BB", first, mask_bit | size)
        elif size < 65536:
            header = struct.pack("!BBH", first, mask_bit | 126, size)
        else:
            header = struct.pack("!BBQ", first, mask_bit | 127, size)
        if mask:
            key = os.urandom(4)
            payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
            header += key
        self.sock.sendall(header + payload)

    def read_frame(self):
        """(fin, opcode, payload) of the next server frame; None once the broker closed.
        Server frames must be unmasked [RFC 6455 5.1]."""
        if not self._fill(2):
            return None
        first, second = self.buffer[0], self.buffer[1]
        assert not second & 0x80, "a masked server frame"
        size, pos = second & 0x7F, 2
        if size == 126:
            if not self._fill(4):
                return None
            size, pos = struct.unpack("!H", self.buffer[2:4])[0], 4
        elif size == 127:
            if not self._fill(10):
                return None
            size, pos = struct.unpack("!Q", self.buffer[2:10])[0], 10
        if not self._fill(pos + size):
            return None
        self._take(pos)
        return bool(first & 0x80), first & 0x0F, self._take(size)

    def read_mqtt(self):
        """The next MQTT packet from the payloads of binary frames: (packet type, flags,
        body). Frames and packets are independent [MQTT-6.0.0-2]: a frame may end inside a
        packet or hold several, so what follows a packet waits for the next call."""
        while True:
            data = self.stream
            length, multiplier, pos = 0, 1, 1
            complete = False
            while pos < len(data):
                digit = data[pos]
                length += (digit & 0x7F) * multiplier
                multiplier *= 128
                pos += 1
                if not digit & 0x80:
                    complete = len(data) >= pos + length
                    break
            if complete:
                self.stream = data[pos + length:]
                return data[0] >> 4, data[0] & 0x0F, data[pos:pos + length]
            frame = self.read_frame()
            assert frame is not None, "closed while waiting for an MQTT packet"
            assert frame[1] in (BINARY, CONTINUATION), "expected a binary frame, got %r" % (frame,)
            self.stream += frame[2]

    def read_close(self):
        """The status code of the Close frame the broker sends, after which it closes the
        connection; frames before it are skipped."""
        while True:
            frame = self.read_frame()
            assert frame is not None, "closed without a Close frame"
            if frame[1] == CLOSE:
                code = struct.unpack("!H", frame[2][:2])[0] if len(frame[2]) >= 2 else None
                assert self.closed(), "the connection stayed open after the Close frame"
                return code

    def closed(self):
        """True when the broker closes the connection (nothing more arrives)."""
        while self._fill(len(self.buffer) + 1):
            pass
        return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
