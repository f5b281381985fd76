"""A tiny HTTP service for auth tests that need answers the shared AuthService does not
give: every POST's JSON body goes to `answer(body)`, whose return value is sent back as
JSON with status 200. With `tls` (an ssl.SSLContext for the server side) it speaks
https."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class JsonService:
    def __init__(self, answer, path="/", tls=None):
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the broker's pool expects

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                data = json.dumps(answer(body)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls is not None:
            # The handshake runs in the handling thread, so a client that fails it (the
            # tests' point) holds up no one else.
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True,
                                                 do_handshake_on_connect=False)
            self.server.handle_error = lambda request, address: None
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.port = self.server.server_address[1]
        self.url = "%s://127.0.0.1:%d%s" % ("https" if tls else "http", self.port, path)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
