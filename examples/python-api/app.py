"""A small JSON HTTP service built on the Python standard library only."""

import itertools
import json
import os
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_NAME = 100
MAX_BODY = 10 * 1024


def validate_item(body):
    """Return an error message for a bad item body, or None."""
    if not isinstance(body, dict):
        return 'body must be a JSON object like {"name": "apple", "quantity": 3}'
    name, quantity = body.get("name"), body.get("quantity", 1)
    if not isinstance(name, str) or not name.strip():
        return "name is required and must be a non-empty string"
    if len(name) > MAX_NAME:
        return f"name must be at most {MAX_NAME} characters"
    # bool is a subclass of int in Python: refuse true/false explicitly.
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
        return "quantity must be a whole number of 0 or more"
    return None


class Store:
    """In-memory items, safe for the server's request threads."""

    def __init__(self):
        self.lock, self.items, self.ids = threading.Lock(), {}, itertools.count(1)

    def add(self, name, quantity):
        with self.lock:
            item = {"id": next(self.ids), "name": name, "quantity": quantity}
            self.items[item["id"]] = item
            return item

    def all(self):
        with self.lock:
            return list(self.items.values())

    def get(self, item_id):
        with self.lock:
            return self.items.get(item_id)


class Handler(BaseHTTPRequestHandler):
    server_version, sys_version = "python-api", ""  # no Python version in the Server header
    timeout = 10  # seconds a client may stall mid-request

    def send_json(self, status, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in headers:
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/healthz":
            return self.send_json(200, {"status": "ok", "version": self.server.version})
        if path == "/items":
            return self.send_json(200, {"items": self.server.store.all()})
        if path.startswith("/items/"):
            raw = path[len("/items/"):]
            item = self.server.store.get(int(raw)) if raw.isdigit() else None
            if item is None:
                return self.send_json(404, {"error": f"no item with id {raw}"})
            return self.send_json(200, item)
        self.not_found()

    def do_POST(self):
        if self.path.split("?", 1)[0] != "/items":
            return self.not_found()
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            return self.send_json(411, {"error": "Content-Length is required"})
        if int(length) > MAX_BODY:
            # Drain (up to 1 MiB) so the client reads the reply rather than a reset, then hang up.
            self.rfile.read(min(int(length), 1 << 20))
            self.close_connection = True
            return self.send_json(413, {"error": f"body must be at most {MAX_BODY} bytes"})
        try:
            body = json.loads(self.rfile.read(int(length)))
        except ValueError as err:  # also covers bad UTF-8
            return self.send_json(400, {"error": f"invalid request body: {err}"})
        problem = validate_item(body)
        if problem:
            return self.send_json(400, {"error": problem})
        item = self.server.store.add(body["name"].strip(), body.get("quantity", 1))
        self.send_json(201, item, [("Location", f"/items/{item['id']}")])

    def not_found(self):
        self.send_json(404, {"error": f"no route for {self.command} {self.path.split('?', 1)[0]}"})

    def log_message(self, format, *args):
        if not self.server.quiet:
            super().log_message(format, *args)


def make_server(host="0.0.0.0", port=8080, version="dev", quiet=False):
    """Bind a server with its own store; port 0 picks a free port."""
    server = ThreadingHTTPServer((host, port), Handler)
    server.store, server.version, server.quiet = Store(), version, quiet
    return server


def main():
    server = make_server(
        os.environ.get("HOST", "0.0.0.0"),
        int(os.environ.get("PORT", "8080")),
        os.environ.get("APP_VERSION", "dev"),
    )
    # Containers stop with SIGTERM; shutdown() must run off the serving thread.
    stop = lambda *_: threading.Thread(target=server.shutdown).start()  # noqa: E731
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"python-api listening on http://{server.server_address[0]}:{server.server_address[1]}", flush=True)
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    main()
