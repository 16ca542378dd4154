#!/usr/bin/python3
"""A hostile FHIR server in front of an honest one (tests/peers/fhir, the validating FHIR peer).

Honest, it forwards every request to --upstream and the answer back (so what carehubd uploads lands in a
real repository that a test can count). Told to, it answers the next requests itself, with hostile
responses: garbage, deep or huge JSON (a 100,000-deep OperationOutcome), numbers beyond a double, gzip
bombs, endless and lying bodies, slowloris, resets before and after forwarding (the duplicate trap),
absurd Retry-After values, odd statuses, batch-responses that do not match the request; and on the
OAuth2 token endpoint, tokens with absurd expires_in. None of them claims a success the repository did
not see (a 2xx answer with per-entry outcomes says 5xx), and none refuses an entry for its content
(400/409/412/413/422), so after the hostile round every honest reading must reach the repository once.

Usage: fhir.py --seed S --scenarios a,b --upstream 127.0.0.1:PORT [--port 0] [--control-port 0]
Prints "SEED <seed>" on stderr and "LISTENING <port> <control-port>" on stdout.

Control (JSON over HTTP on the control port):
  POST /round {"round": r[, "scenarios": [...]]}  queues the hostile answers of round r (returns at once)
  POST /honest                                    drops every queued hostile answer
  GET  /state  {"pending_fhir","pending_token","requests","forwarded","hostile":{action:n}}
"""
import argparse
import gzip
import http.client
import json
import os
import socket
import socketserver
import sys
import threading
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (HUGE_NUMBERS, NOT_NUMBERS, ControlServer, deep_array, deep_object, garbage,  # noqa: E402
                    gzip_bomb, log, mutate, order_for_round, reset, rng_for, scenario_list)

WHO = "hostile-fhir"
HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "proxy-connection", "te",
       "upgrade", "trailer"}


class Request:
    def __init__(self, method, target, headers, body):
        self.method, self.target, self.headers, self.body = method, target, headers, body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def entries(self):
        """How many entries the request bundle has (1 when it cannot be read)."""
        body = self.body
        try:
            if (self.header("content-encoding") or "").lower() == "gzip":
                body = gzip.decompress(body)
            return max(1, len(json.loads(body).get("entry", [])))
        except Exception:
            return 1


def status_line(code, reason="X"):
    return ("HTTP/1.1 %d %s\r\n" % (code, reason)).encode()


def head(code, headers, reason="X"):
    return status_line(code, reason) + b"".join(("%s: %s\r\n" % (k, v)).encode() for k, v in headers) + b"\r\n"


def answer(code, body, headers=(), ctype="application/fhir+json"):
    body = body.encode() if isinstance(body, str) else body
    hs = [("Content-Type", ctype)] + list(headers)
    if not any(k.lower() == "content-length" for k, _ in hs):
        hs.append(("Content-Length", str(len(body))))
    return head(code, hs) + body


def batch_response(n, status="503 Service Unavailable", outcome=None, extra=""):
    entry = '{"response":{"status":"%s"%s}}' % (status, (',"outcome":' + outcome) if outcome else "")
    return '{"resourceType":"Bundle","type":"batch-response"%s,"entry":[%s]}' % (extra, ",".join([entry] * n))


class Peer:
    def __init__(self, args):
        self.args = args
        self.seed = args.seed
        self.scenarios = scenario_list(args.scenarios, SCENARIOS)
        host, port = args.upstream.rsplit(":", 1)
        self.upstream = (host, int(port))
        self.lock = threading.Lock()
        self.fhir_plan = []
        self.token_plan = []
        self.stats = {"requests": 0, "forwarded": 0, "hostile": {}}

    # ------------------------------------------------------------------------------- the honest path
    def forward(self, req):
        c = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            headers = {k: v for k, v in req.headers if k.lower() not in HOP}
            c.request(req.method, req.target, body=req.body, headers=headers)
            r = c.getresponse()
            body = r.read()
            with self.lock:
                self.stats["forwarded"] += 1
            hs = [(k, v) for k, v in r.getheaders() if k.lower() not in HOP]
            return r.status, r.reason, hs, body
        finally:
            c.close()

    def honest(self, sock, req):
        try:
            code, reason, hs, body = self.forward(req)
        except OSError as e:
            sock.sendall(answer(502, "upstream: %s" % e, ctype="text/plain"))
            return True
        sock.sendall(head(code, hs + [("Content-Length", str(len(body)))], reason) + body)
        return True

    def take(self, req):
        with self.lock:
            self.stats["requests"] += 1
            plan = self.token_plan if req.target.endswith("/oauth2/token") else self.fhir_plan
            if not plan:
                return None
            name, act = plan.pop(0)
            self.stats["hostile"][name] = self.stats["hostile"].get(name, 0) + 1
        log(WHO, "%s %s answered with hostile %s" % (req.method, req.target, name))
        return act

    # ----------------------------------------------------------------------------------- control
    def c_round(self, body):
        rnd = body.get("round", 0)
        names = body.get("scenarios") or self.scenarios
        done = []
        for name in order_for_round(self.seed, names, rnd):
            log(WHO, "round %s: %s (seed %s)" % (rnd, name, self.seed))
            actions, token = SCENARIOS[name](self, rng_for(self.seed, name, rnd))
            with self.lock:
                (self.token_plan if token else self.fhir_plan).extend(actions)
            done.append({"scenario": name, "answers": [a for a, _ in actions]})
        return {"seed": self.seed, "round": rnd, "done": done}

    def c_honest(self, _):
        with self.lock:
            n = len(self.fhir_plan) + len(self.token_plan)
            self.fhir_plan, self.token_plan = [], []
        return {"dropped": n}

    def c_state(self, _):
        with self.lock:
            return {"pending_fhir": len(self.fhir_plan), "pending_token": len(self.token_plan),
                    "requests": self.stats["requests"], "forwarded": self.stats["forwarded"],
                    "hostile": dict(self.stats["hostile"])}


def read_request(f):
    line = f.readline(65537)
    if not line:
        return None
    parts = line.decode("latin-1").split()
    if len(parts) != 3:
        return None
    headers = []
    while True:
        h = f.readline(65537)
        if h in (b"\r\n", b"\n", b""):
            break
        k, _, v = h.decode("latin-1").partition(":")
        headers.append((k.strip(), v.strip()))
    req = Request(parts[0], parts[1], headers, b"")
    n = int(req.header("content-length") or 0)
    req.body = f.read(n) if n else b""
    if (req.header("expect") or "").lower() == "100-continue":
        pass  # curl sends the body anyway after its short wait
    return req


def make_handler(peer):
    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            sock = self.request
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            f = sock.makefile("rb")
            try:
                while True:
                    req = read_request(f)
                    if req is None:
                        return
                    act = peer.take(req)
                    keep = peer.honest(sock, req) if act is None else act(peer, sock, req)
                    if not keep:
                        return
            except OSError:
                return
            finally:
                try:
                    sock.close()
                except OSError:
                    pass

    return Handler


# ---------------------------------------------------------------------------------------- answers
# An answer is act(peer, sock, request) -> keep the connection open?
def send_close(data):
    def act(peer, sock, req):
        sock.sendall(data)
        return False
    return act


def per_request(make):
    """An answer built from the request (a batch-response must have one entry per request entry)."""
    def act(peer, sock, req):
        sock.sendall(make(req))
        return False
    return act


def endless(limit_mb, chunked=True):
    def act(peer, sock, req):
        hs = [("Content-Type", "application/fhir+json")]
        hs.append(("Transfer-Encoding", "chunked") if chunked else ("Content-Length", str(limit_mb << 21)))
        sock.sendall(head(200, hs))
        piece = b'{"resourceType":"Bundle","type":"batch-response","entry":[' + b'{"response":{"status":"503"}},' * 2000
        frame = (b"%x\r\n" % len(piece)) + piece + b"\r\n" if chunked else piece
        sent = 0
        try:
            while sent < limit_mb << 20:
                sock.sendall(frame)
                sent += len(piece)
        except OSError:
            pass
        return False
    return act


def slowloris(seconds):
    def act(peer, sock, req):
        sock.sendall(head(200, [("Content-Type", "application/fhir+json"), ("Content-Length", "100000")]))
        deadline = time.monotonic() + seconds
        try:
            while time.monotonic() < deadline:
                sock.sendall(b" ")
                time.sleep(0.1)  # the hostile pace itself, not a synchronisation
        except OSError:
            pass
        return False
    return act


def reset_before(peer, sock, req):
    reset(sock)
    return False


def reset_after(peer, sock, req):
    try:
        peer.forward(req)  # the server did the work; the client never hears of it
    except OSError:
        pass
    reset(sock)
    return False


def reset_mid(peer, sock, req):
    try:
        code, reason, hs, body = peer.forward(req)
        sock.sendall(head(code, hs + [("Content-Length", str(len(body)))], reason) + body[:len(body) // 2])
    except OSError:
        pass
    reset(sock)
    return False


def forward_then(data_of):
    def act(peer, sock, req):
        try:
            peer.forward(req)
        except OSError:
            pass
        sock.sendall(data_of(req))
        return False
    return act


def token_rewrite(rewrite):
    """Forwards the token request (so the token is real) and answers with its JSON rewritten."""
    def act(peer, sock, req):
        try:
            code, reason, hs, body = peer.forward(req)
        except OSError:
            reset(sock)
            return False
        text = rewrite(body.decode(errors="replace"))
        sock.sendall(answer(code, text, ctype="application/json"))
        return False
    return act


def expires(value):
    def rewrite(text):
        try:
            j = json.loads(text)
            j["expires_in"] = "@E@"
            return json.dumps(j).replace('"@E@"', value)
        except ValueError:
            return text
    return rewrite


# -------------------------------------------------------------------------------------- scenarios
# Each returns ([(name, answer), ...], on_token_endpoint).
def s_garbage(p, rng):
    return [("garbage", send_close(answer(200, garbage(rng, rng.randint(1, 65536))))),
            ("garbage-head", send_close(garbage(rng, rng.randint(1, 4096)))),
            ("mutated", per_request(lambda r: answer(200, mutate(rng, batch_response(r.entries()), 6))))], False


def s_deep_outcome(p, rng):
    return [("deep-outcome", per_request(lambda r: answer(200, batch_response(
                r.entries(), outcome='{"resourceType":"OperationOutcome","issue":%s}' % deep_array(100000))))),
            ("deep-object", per_request(lambda r: answer(200, batch_response(r.entries(), outcome=deep_object(50000))))),
            ("deep-error", send_close(answer(500, deep_array(100000)))),
            ("deep-body", send_close(answer(200, deep_array(200000))))], False


def s_numbers(p, rng):
    n = rng.choice(HUGE_NUMBERS)
    return [("numbers-total", per_request(lambda r: answer(200, batch_response(r.entries(), extra=',"total":%s' % n)))),
            ("numbers-status", per_request(lambda r: answer(200, batch_response(r.entries(), status=n).replace('"%s"' % n, n)))),
            ("numbers-outcome", per_request(lambda r: answer(200, batch_response(
                r.entries(), outcome='{"resourceType":"OperationOutcome","issue":[{"severity":%s}]}' % n)))),
            ("not-numbers", send_close(answer(200, '{"resourceType":"Bundle","total":%s}' % rng.choice(NOT_NUMBERS))))], False


def s_gzip_bomb(p, rng):
    bomb = gzip_bomb(p.args.bomb_mb)
    return [("gzip-bomb", send_close(answer(200, bomb, [("Content-Encoding", "gzip")]))),
            ("gzip-bomb-500", send_close(answer(500, bomb, [("Content-Encoding", "gzip")])))], False


def s_endless(p, rng):
    return [("endless-chunked", endless(p.args.endless_mb, True)),
            ("huge-content-length", endless(p.args.endless_mb // 4, False))], False


def s_slowloris(p, rng):
    return [("slowloris", slowloris(p.args.slow_s))], False


def s_resets(p, rng):
    acts = [("reset-before", reset_before), ("reset-after", reset_after), ("reset-mid", reset_mid)]
    rng.shuffle(acts)
    return acts, False


def s_forward_then_garbage(p, rng):
    return [("forward-then-garbage", forward_then(lambda r: answer(200, garbage(rng, 512)))),
            ("forward-then-503", forward_then(lambda r: answer(503, "busy", ctype="text/plain"))),
            ("forward-then-truncated", forward_then(lambda r: answer(200, batch_response(r.entries())[:40])))], False


def s_retry_after(p, rng):
    values = ["1e999", "99999999999999999999", "9223372036854775807", "9223372036854775", "-1",
              "Fri, 31 Dec 9999 23:59:59 GMT", "0x10", "", " 5", "86400000", "18446744073709551615"]
    rng.shuffle(values)
    return [("retry-after %s" % v, send_close(answer(rng.choice([503, 429]), "busy", [("Retry-After", v)], "text/plain")))
            for v in values[:4]], False


def s_statuses(p, rng):
    choices = [(301, [("Location", "/fhir/R4")]), (302, [("Location", "http://127.0.0.1:1/")]), (304, []),
               (401, []), (403, []), (404, []), (405, []), (418, []), (500, []), (502, []), (504, []), (599, []),
               (204, []), (200, [])]
    rng.shuffle(choices)
    acts = [("status %d" % c, send_close(answer(c, "" if c in (204, 304) else "{}", hs))) for c, hs in choices[:4]]
    acts.append(("status 999", send_close(b"HTTP/1.1 999 What\r\nContent-Length: 0\r\n\r\n")))
    acts.append(("status line garbage", send_close(b"HTTP/1.1 abc\r\n\r\n")))
    acts.append(("interim only", send_close(b"HTTP/1.1 100 Continue\r\n\r\n")))
    return acts, False


def s_wrong_bundle(p, rng):
    shapes = [
        lambda r: '{"resourceType":"Bundle","type":"batch-response","entry":"x"}',
        lambda r: '{"resourceType":"Bundle","type":"batch-response","entry":[null]}',
        lambda r: '{"resourceType":"Bundle","type":"batch-response"}',
        lambda r: '{"resourceType":"OperationOutcome","issue":[]}',
        lambda r: "[]",
        lambda r: batch_response(r.entries() + 3, status="201 Created"),
        lambda r: batch_response(r.entries() - 1, status="201 Created") if r.entries() > 1 else "{}",
        lambda r: batch_response(r.entries(), status="abc"),
        lambda r: batch_response(r.entries()).replace('"status":"503 Service Unavailable"', '"status":201'),
        lambda r: batch_response(r.entries(), status="503", extra=',"entry":[]'),
        lambda r: batch_response(r.entries()).replace('"response":', '"response":1e999,"x":'),
    ]
    rng.shuffle(shapes)
    return [("wrong-bundle", per_request(lambda r, s=s: answer(200, s(r)))) for s in shapes[:4]], False


def s_token_numbers(p, rng):
    values = ["1e999", "1e300", "-1e300", "9223372036854775807", "1e19", "NaN", '"3600"', "null", "-1", "0",
              "4.9e-324", deep_array(100000)]
    rng.shuffle(values)
    return [("expires_in %s" % v[:20], token_rewrite(expires(v))) for v in values[:3]], True


def s_token_hostile(p, rng):
    big = "t" * (8 << 20)
    acts = [("token garbage", send_close(answer(200, garbage(rng, 4096), ctype="application/json"))),
            ("token huge", token_rewrite(lambda t: t.replace('"access_token":', '"junk":"%s","access_token":' % big))),
            ("token deep", send_close(answer(200, deep_object(100000), ctype="application/json"))),
            ("token gzip bomb", send_close(answer(200, gzip_bomb(p.args.bomb_mb), [("Content-Encoding", "gzip")],
                                                  "application/json"))),
            ("token endless", endless(p.args.endless_mb, True)),
            ("token reset", reset_before)]
    rng.shuffle(acts)
    return acts[:3], True


SCENARIOS = {
    "fhir_garbage": s_garbage,
    "fhir_deep_outcome": s_deep_outcome,
    "fhir_numbers": s_numbers,
    "fhir_gzip_bomb": s_gzip_bomb,
    "fhir_endless": s_endless,
    "fhir_slowloris": s_slowloris,
    "fhir_resets": s_resets,
    "fhir_forward_then_garbage": s_forward_then_garbage,
    "fhir_retry_after": s_retry_after,
    "fhir_statuses": s_statuses,
    "fhir_wrong_bundle": s_wrong_bundle,
    "fhir_token_numbers": s_token_numbers,
    "fhir_token_hostile": s_token_hostile,
}


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seed", required=True)
    p.add_argument("--scenarios", default="")
    p.add_argument("--upstream", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--control-port", type=int, default=0)
    p.add_argument("--bomb-mb", type=int, default=1024, help="decoded MiB of a gzip bomb")
    p.add_argument("--endless-mb", type=int, default=2048, help="cap of an endless body")
    p.add_argument("--slow-s", type=float, default=8.0, help="how long a slowloris answer trickles")
    p.add_argument("--list", action="store_true")
    args = p.parse_args()
    if args.list:
        print("\n".join(sorted(SCENARIOS)))
        return
    host = args.upstream.rsplit(":", 1)[0]
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("--upstream must be on loopback")
    peer = Peer(args)
    log(WHO, "SEED %s scenarios %s" % (args.seed, ",".join(peer.scenarios) or "(none)"))
    server = Server(("127.0.0.1", args.port), make_handler(peer))
    control = ControlServer(WHO, {"POST /round": peer.c_round, "POST /honest": peer.c_honest,
                                  "GET /state": peer.c_state}, args.control_port)
    print("LISTENING %d %d" % (server.server_address[1], control.port), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
