#!/usr/bin/python3
"""A hostile openHAB: the honest stand-in (tests/peers/openhab/server.py, reused as a module: /rest/items,
/rest/events, /test/update...) plus rounds of hostile input on the event stream and on /rest/items:
numbers beyond a double, deep nesting, garbage, endless lines and events, resets, slowloris, gzip bombs,
endless bodies, odd statuses.

Usage: openhab.py --seed S --scenarios a,b --items items.json [--port 0] [--alive-interval 1]
Prints "SEED <seed>" on stderr and "LISTENING <port> <port>" on stdout (control is on the same port).

Control, besides the honest server's /test/update, /test/send, /test/drop, /test/clients:
  POST /test/round {"round": r[, "scenarios": [...]]}  the hostile input of round r. Item-list scenarios
      make the next requests of /rest/items hostile, drop the streams so carehubd fetches it again, and
      return once those requests were served (or after a bounded wait).
Hostile events name only the items called Hostile_* (mapped in carehubd's configuration so that their
values are parsed all the way): the honest items' readings are what the test counts.
"""
import argparse
import json
import os
import queue
import sys
import threading
import time
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "openhab"))
import server as honest  # noqa: E402  the honest openHAB stand-in, extended here
from common import (HUGE_NUMBERS, NOT_NUMBERS, deep_array, deep_object, deep_unclosed, garbage,  # noqa: E402
                    gzip_bomb, log, mutate, order_for_round, reset, rng_for, scenario_list)

WHO = "hostile-openhab"
HOSTILE_ITEMS = ["Hostile_Temperature", "Hostile_Lux"]
END = object()  # a stream action's answer: close this stream


def message(topic, payload_text, event_type="ItemStateChangedEvent"):
    envelope = json.dumps({"topic": topic, "payload": "@P@", "type": event_type})
    return ("event: message\ndata: " + envelope.replace('"@P@"', json.dumps(payload_text)) + "\n\n").encode()


def state_event(item, value, typ="Quantity"):
    payload = '{"type":"%s","value":"%s","oldType":"%s","oldValue":"NULL"}' % (typ, value, typ)
    return message("openhab/items/%s/statechanged" % item, payload)


class Hostile:
    def __init__(self, args, state):
        self.args = args
        self.seed = args.seed
        self.scenarios = scenario_list(args.scenarios, SCENARIOS)
        self.state = state
        self.items_plan = queue.Queue()  # hostile answers for the next GET /rest/items
        self.items_served = 0            # hostile ones served

    def round(self, body):
        rnd = body.get("round", 0)
        names = body.get("scenarios") or self.scenarios
        done = []
        for name in order_for_round(self.seed, names, rnd):
            log(WHO, "round %s: %s (seed %s)" % (rnd, name, self.seed))
            done.append({"scenario": name, "result": SCENARIOS[name](self, rng_for(self.seed, name, rnd), rnd)})
        return {"seed": self.seed, "round": rnd, "done": done}

    def stream_send(self, action):
        self.state.broadcast(None, action)

    def items_hostile(self, answers, timeout=30.0):
        """The next len(answers) item lists are these; the streams are dropped so carehubd asks again."""
        target = self.items_served + len(answers)
        for a in answers:
            self.items_plan.put(a)
        deadline = time.monotonic() + timeout
        while self.items_served < target and time.monotonic() < deadline:
            self.state.broadcast(None, None)  # drop: a reconnect fetches the item list first
            time.sleep(0.05)                  # paces the drops while carehubd backs off; not a synchronisation
        return {"hostile_item_lists": len(answers), "served": self.items_served >= target}


# ---------------------------------------------------------------------------------- stream actions
def write_endless_line(limit, newline_every=None):
    def act(handler):
        chunk = b"data: " + b"x" * 65536 if newline_every is None else b"data: " + b"x" * 1000 + b"\n"
        sent = 0
        try:
            handler.wfile.write(b"event: message\n")
            while sent < limit:
                handler.wfile.write(chunk)
                sent += len(chunk)
            handler.wfile.write(b"\n\n")
            handler.wfile.flush()
        except OSError:
            return END
        return None
    return act


def reset_mid_frame(frame):
    def act(handler):
        try:
            handler.wfile.write(frame[:len(frame) // 2])
            handler.wfile.flush()
        except OSError:
            pass
        reset(handler.connection)
        return END
    return act


def trickle(data, interval):
    def act(handler):
        try:
            for i in range(len(data)):
                handler.wfile.write(data[i:i + 1])
                handler.wfile.flush()
                time.sleep(interval)  # the hostile pace itself, not a synchronisation
        except OSError:
            return END
        return None
    return act


# ---------------------------------------------------------------------------------- item-list answers
def body_answer(data, status=200, headers=()):
    def act(handler):
        handler.send_response(status)
        for k, v in headers:
            handler.send_header(k, v)
        if not any(k.lower() == "content-length" for k, _ in headers):
            handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
    return act


def endless_body(limit_mb):
    def act(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.end_headers()
        handler.wfile.write(b"[")
        item = b'{"name":"Filler","type":"Number","state":"1","tags":[],"groupNames":[]},'
        chunk = item * 1000
        sent = 0
        try:
            while sent < limit_mb << 20:
                handler.wfile.write(chunk)
                sent += len(chunk)
        except OSError:
            pass
    return act


def slow_body(rng):
    def act(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", "100000")
        handler.end_headers()
        try:
            for _ in range(200):
                handler.wfile.write(b" ")
                handler.wfile.flush()
                time.sleep(0.05)  # slowloris: the pace is the attack
        except OSError:
            pass
    return act


def reset_answer(partial):
    def act(handler):
        if partial:
            handler.wfile.write(b"HTTP/1.0 200 OK\r\nContent-Length: 1000\r\n\r\n[{\"name\":")
            handler.wfile.flush()
        reset(handler.connection)
    return act


# ---------------------------------------------------------------------------------------- scenarios
def s_alive_numbers(h, rng, rnd):
    values = HUGE_NUMBERS + NOT_NUMBERS + ["-1", "0", "4294967296", '"10"', "null", "[]", "{}", "1e308"]
    rng.shuffle(values)
    for v in values[:6]:
        h.stream_send(('event: alive\ndata: {"type":"ALIVE","interval":%s}\n\n' % v).encode())
    return {"alive": values[:6]}


def s_event_numbers(h, rng, rnd):
    frames = []
    for _ in range(8):
        item = rng.choice(HOSTILE_ITEMS)
        n = rng.choice(HUGE_NUMBERS + NOT_NUMBERS)
        topic = "openhab/items/%s/statechanged" % item
        frames.append(rng.choice([
            state_event(item, n + " °C"),
            message(topic, '{"type":"Quantity","value":%s}' % n),
            ("event: message\ndata: {\"topic\":\"%s\",\"payload\":%s,\"type\":\"ItemStateChangedEvent\"}\n\n"
             % (topic, n)).encode(),
            ("event: message\ndata: {\"topic\":%s,\"payload\":\"{}\",\"type\":\"ItemStateChangedEvent\"}\n\n"
             % n).encode(),
            state_event(item, "%s %s" % (n, rng.choice(["lx", "%", "°F", "K", "kPa", "W/m²"]))),
        ]))
    for f in frames:
        h.stream_send(f)
    return {"frames": len(frames)}


def s_event_deep(h, rng, rnd):
    item = rng.choice(HOSTILE_ITEMS)
    topic = "openhab/items/%s/statechanged" % item
    d = rng.randint(20000, 30000)
    frames = [
        ("event: message\ndata: %s\n\n" % deep_array(d)).encode(),
        ("event: message\ndata: %s\n\n" % deep_object(d // 3)).encode(),
        ("event: message\ndata: %s\n\n" % deep_unclosed(60000)).encode(),
        message(topic, '{"type":"Quantity","value":%s}' % deep_array(d)),
        message(topic, deep_object(d // 3)),
        ('event: alive\ndata: {"type":"ALIVE","interval":%s}\n\n' % deep_array(d)).encode(),
    ]
    for f in frames:
        h.stream_send(f)
    return {"frames": len(frames)}


def s_event_garbage(h, rng, rnd):
    valid = state_event(rng.choice(HOSTILE_ITEMS), "21.5 °C")
    frames = [garbage(rng, rng.randint(1, 4096)) + b"\n\n",
              b"\x00" * 100 + b"\n\n",
              b"event: message\rdata: {}\r\r",
              b"retry: 99999999999999999999999\nid: " + b"i" * 1000 + b"\n\n",
              b":" + b"c" * 60000 + b"\n",
              b"event: " + b"e" * 60000 + b"\ndata: {}\n\n",
              b"\n" * 5000,
              b"data: \xff\xfe\xfd\n\n",
              mutate(rng, valid, 4), mutate(rng, valid, 16),
              b"event: message\ndata: {\"topic\":\"openhab/items/Hostile_Lux/statechanged\"}\n\n",
              b"event: message\ndata: {\"topic\":null,\"payload\":null,\"type\":null}\n\n",
              b"event: message\ndata: []\n\n", b"event: message\ndata: \"\"\n\n"]
    rng.shuffle(frames)
    for f in frames:
        h.stream_send(f)
    return {"frames": len(frames)}


def s_event_endless(h, rng, rnd):
    # One line that never ends, then one event whose data lines never end: memory must stay bounded.
    h.stream_send(write_endless_line(h.args.stream_mb << 20))
    h.stream_send(write_endless_line(h.args.stream_mb << 20, newline_every=1000))
    return {"streamed_mb": 2 * h.args.stream_mb}


def s_stream_reset(h, rng, rnd):
    h.stream_send(reset_mid_frame(state_event(rng.choice(HOSTILE_ITEMS), "20 °C")))
    return {"reset": True}


def s_stream_slowloris(h, rng, rnd):
    h.stream_send(trickle(state_event("Hostile_Lux", "%d lx" % rng.randint(1, 999)), 0.02))
    return {"trickled": True}


def items_with(value_text):
    return ('[{"name":"Hostile_Temperature","type":"Number:Temperature","state":%s,"tags":[],"groupNames":[]}]'
            % value_text).encode()


def s_items_numbers(h, rng, rnd):
    n = rng.choice(HUGE_NUMBERS)
    answers = [body_answer(("[%s]" % n).encode()), body_answer(items_with(n)),
               body_answer(items_with('"%s °C"' % rng.choice(HUGE_NUMBERS + NOT_NUMBERS))),
               body_answer(('[{"name":%s,"type":1e999,"state":"1 °C","tags":[%s],"groupNames":null}]' % (n, n)).encode())]
    rng.shuffle(answers)
    return h.items_hostile(answers[:2])


def s_items_deep(h, rng, rnd):
    return h.items_hostile([body_answer(deep_array(100000).encode()),
                            body_answer(items_with(deep_object(30000, '"1 °C"')))])


def s_items_garbage(h, rng, rnd):
    choices = [garbage(rng, rng.randint(1, 4096)), b"{}", b"null", b'"[]"', b"[1,2,3]", b"[[]]", b'[{"name":[]}]',
               b'[{"name":"Good_Temperature","type":"Number:Temperature","state":{"a":1},"tags":7,"groupNames":"x"}]',
               mutate(rng, items_with('"21 °C"'), 8), b""]
    rng.shuffle(choices)
    return h.items_hostile([body_answer(c) for c in choices[:3]])


def s_items_endless(h, rng, rnd):
    return h.items_hostile([endless_body(h.args.endless_mb)], timeout=60.0)


def s_items_gzip_bomb(h, rng, rnd):
    bomb = gzip_bomb(h.args.bomb_mb)
    return h.items_hostile([body_answer(bomb, headers=[("Content-Type", "application/json"),
                                                       ("Content-Encoding", "gzip")])], timeout=60.0)


def s_items_slowloris(h, rng, rnd):
    return h.items_hostile([slow_body(rng)], timeout=30.0)


def s_items_reset(h, rng, rnd):
    return h.items_hostile([reset_answer(False), reset_answer(True)])


def s_items_status(h, rng, rnd):
    choices = [body_answer(b"", 500), body_answer(b"{}", 404), body_answer(b"", 301, [("Location", "/rest/items")]),
               body_answer(b"", 204), body_answer(b"x" * 100, 200, [("Content-Length", "99999999999999999999")]),
               body_answer(b"[]", 200, [("Content-Length", "-5")]), body_answer(b"", 429, [("Retry-After", "1e999")])]
    rng.shuffle(choices)
    return h.items_hostile(choices[:3])


SCENARIOS = {
    "oh_alive_numbers": s_alive_numbers,
    "oh_event_numbers": s_event_numbers,
    "oh_event_deep": s_event_deep,
    "oh_event_garbage": s_event_garbage,
    "oh_event_endless": s_event_endless,
    "oh_stream_reset": s_stream_reset,
    "oh_stream_slowloris": s_stream_slowloris,
    "oh_items_numbers": s_items_numbers,
    "oh_items_deep": s_items_deep,
    "oh_items_garbage": s_items_garbage,
    "oh_items_endless": s_items_endless,
    "oh_items_gzip_bomb": s_items_gzip_bomb,
    "oh_items_slowloris": s_items_slowloris,
    "oh_items_reset": s_items_reset,
    "oh_items_status": s_items_status,
}


def make_handler(state, args, hostile):
    Base = honest.make_handler(state, args)

    class Handler(Base):
        def do_GET(self):
            if urlparse(self.path).path == "/rest/items":
                try:
                    act = hostile.items_plan.get_nowait()
                except queue.Empty:
                    act = None
                if act is not None:
                    with state.lock:
                        state.items_requests += 1
                    try:
                        act(self)
                    except OSError:
                        pass
                    hostile.items_served += 1
                    self.close_connection = True
                    return
            return Base.do_GET(self)

        def do_POST(self):
            if urlparse(self.path).path == "/test/round":
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
                return self.reply(200, hostile.round(body))
            return Base.do_POST(self)

        def stream(self, topics):
            # The honest stream loop, where a queued action may also be a callable: it writes what it likes
            # (or resets the connection) and may end the stream.
            q = queue.Queue()
            entry = (q, honest.compile_filters(topics))
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
                    try:
                        raw = q.get(timeout=state.alive_interval if state.alive_interval > 0 else None)
                    except queue.Empty:
                        if state.alive:
                            self.send_alive()
                        continue
                    if raw is None:
                        break
                    if callable(raw):
                        if raw(self) is END:
                            break
                        continue
                    self.wfile.write(raw)
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError, OSError):
                pass
            finally:
                with state.lock:
                    state.streams.remove(entry)

    return Handler


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seed", required=True)
    p.add_argument("--scenarios", default="")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--items", required=True)
    p.add_argument("--alive-interval", type=int, default=1)
    p.add_argument("--stream-mb", type=int, default=8, help="MiB of each endless line/event")
    p.add_argument("--endless-mb", type=int, default=512, help="cap of an endless /rest/items body")
    p.add_argument("--bomb-mb", type=int, default=1024, help="decoded MiB of the gzip bomb")
    p.add_argument("--list", action="store_true")
    args = p.parse_args()
    if args.list:
        print("\n".join(sorted(SCENARIOS)))
        return
    args.token = args.basic = args.cloud_token = None
    items = json.load(open(args.items, encoding="utf-8"))
    state = honest.State(items, args.alive_interval)
    hostile = Hostile(args, state)
    log(WHO, "SEED %s scenarios %s" % (args.seed, ",".join(hostile.scenarios) or "(none)"))
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(state, args, hostile))
    server.daemon_threads = True
    print("LISTENING %d %d" % (server.server_address[1], server.server_address[1]), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
