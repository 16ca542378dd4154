#!/usr/bin/python3
"""A stand-in for openHAB 3.x/4.x's REST API, as far as carehub reads it: GET /rest/events (Server-Sent
Events in openHAB's wire format, anchored topic filters where `*` also matches `/`, `alive` keep-alives
since 3.4) and GET /rest/items. Tests steer it over /test/* on the same port: change states (with or
without an event), send raw bytes, drop every stream, stop the keep-alives (the stream hangs, silent).

Usage: server.py --port 0 [--items items.json] [--alive-interval 10 | 0 for a pre-3.4 server]
                 [--token T] [--basic user:password] [--cloud-token T]
Prints "LISTENING <port>" on stdout once it accepts connections. Standard library only.
"""
import argparse
import base64
import json
import queue
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class State:
    def __init__(self, items, alive_interval):
        self.lock = threading.Lock()
        self.items = {i["name"]: i for i in items}
        self.order = [i["name"] for i in items]
        self.alive_interval = alive_interval
        self.alive = True          # False: send nothing at all (a hung server or a dead NAT mapping)
        self.streams = []          # (queue, filters)
        self.connections = 0       # event streams ever opened
        self.items_requests = 0
        self.auth_failures = 0

    def broadcast(self, topic, raw):
        with self.lock:
            for q, filters in self.streams:
                if topic is None or any(f.fullmatch(topic) for f in filters):
                    q.put(raw)


def frame(topic, payload, event_type):
    envelope = {"topic": topic, "payload": json.dumps(payload, ensure_ascii=False), "type": event_type}
    return ("event: message\ndata: " + json.dumps(envelope, ensure_ascii=False) + "\n\n").encode()


def compile_filters(topics):
    # openHAB 3.3+: each comma-separated filter is anchored; `*` matches any characters, `/` included.
    out = []
    for t in topics.split(","):
        t = t.strip()
        if t:
            out.append(re.compile(".*".join(re.escape(p) for p in t.split("*"))))
    return out or [re.compile(".*")]


def make_handler(state, args):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # the event stream ends when the connection closes

        def log_message(self, fmt, *a):
            sys.stderr.write("openhab-peer: " + (fmt % a) + "\n")

        def authorised(self):
            header = self.headers.get("Authorization", "")
            ok = True
            if args.token:
                ok = header == "Bearer " + args.token
            if args.basic:
                ok = header == "Basic " + base64.b64encode(args.basic.encode()).decode()
            if args.cloud_token:
                ok = ok and self.headers.get("X-OPENHAB-TOKEN", "") == args.cloud_token
            if not ok:
                with state.lock:
                    state.auth_failures += 1
                self.reply(401, {"error": {"message": "Authentication required", "http-code": 401}})
            return ok

        def reply(self, code, body):
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            url = urlparse(self.path)
            if url.path == "/rest/items":
                if not self.authorised():
                    return
                with state.lock:
                    state.items_requests += 1
                    items = [dict(state.items[n], link="http://localhost/rest/items/" + n, editable=False)
                             for n in state.order]
                return self.reply(200, items)
            if url.path == "/rest/events":
                if not self.authorised():
                    return
                return self.stream(parse_qs(url.query).get("topics", [""])[0])
            if url.path == "/test/clients":
                with state.lock:
                    return self.reply(200, {"connected": len(state.streams), "connections": state.connections,
                                            "items_requests": state.items_requests,
                                            "auth_failures": state.auth_failures})
            self.reply(404, {"error": "not found"})

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
            path = urlparse(self.path).path
            if path == "/test/update":
                self.update(body)
            elif path == "/test/send":
                state.broadcast(None, body["raw"].encode())
            elif path == "/test/drop":
                state.broadcast(None, None)
            elif path == "/test/keepalive":
                state.alive = bool(body.get("on", True))
            else:
                return self.reply(404, {"error": "not found"})
            self.reply(200, {"ok": True})

        def update(self, body):
            name = body["item"]
            with state.lock:
                item = state.items[name]
                old = item["state"]
                item["state"] = body["state"]
            if not body.get("event", True):
                return  # changed without telling anyone: only /rest/items knows
            payload = {"type": body.get("type", "Quantity"), "value": body["state"],
                       "oldType": body.get("type", "Quantity"), "oldValue": old}
            topic = "openhab/items/%s/statechanged" % name
            state.broadcast(topic, frame(topic, payload, "ItemStateChangedEvent"))
            for group in body.get("groups", []):  # the group's recomputed state, as openHAB sends it
                gtopic = "openhab/items/%s/%s/statechanged" % (group["name"], name)
                gpayload = {"type": group.get("type", "Quantity"), "value": group["state"],
                            "oldType": group.get("type", "Quantity"), "oldValue": group.get("old", "NULL")}
                state.broadcast(gtopic, frame(gtopic, gpayload, "GroupItemStateChangedEvent"))

        def stream(self, topics):
            q = queue.Queue()
            entry = (q, compile_filters(topics))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            self.wfile.flush()
            with state.lock:
                state.streams.append(entry)
                state.connections += 1
            try:
                if state.alive_interval > 0 and state.alive:
                    self.send_alive()
                while True:
                    timeout = state.alive_interval if state.alive_interval > 0 else None
                    try:
                        raw = q.get(timeout=timeout)
                    except queue.Empty:
                        if state.alive:
                            self.send_alive()
                        continue
                    if raw is None:
                        break
                    if not state.alive:
                        continue  # hung: nothing reaches the client
                    self.wfile.write(raw)
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass
            finally:
                with state.lock:
                    state.streams.remove(entry)

        def send_alive(self):
            self.wfile.write(("event: alive\ndata: {\"type\":\"ALIVE\",\"interval\":%d}\n\n"
                              % state.alive_interval).encode())
            self.wfile.flush()

    return Handler


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--items", help="JSON file: the item list /rest/items starts with")
    p.add_argument("--alive-interval", type=int, default=10)
    p.add_argument("--token")
    p.add_argument("--basic")
    p.add_argument("--cloud-token")
    args = p.parse_args()
    items = json.load(open(args.items, encoding="utf-8")) if args.items else []
    state = State(items, args.alive_interval)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(state, args))
    server.daemon_threads = True
    print("LISTENING %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
