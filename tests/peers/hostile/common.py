"""What the hostile peers share: seeded randomness, hostile JSON and bytes, a small control server.

Every hostile byte a peer sends comes from `rng_for(seed, scenario, round, ...)`, so a seed, a scenario
list and a round number give the same input again (the timing of two processes never repeats exactly;
what each peer sends does). Standard library only.
"""
import json
import os
import random
import socket
import struct
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Numbers no double holds (or no 64-bit integer), and their tame-looking neighbours.
HUGE_NUMBERS = ["1e999", "-1e999", "1e309", "-1e309", "1.7976931348623157e308", "4.9e-324", "1e-999",
                "18446744073709551616", "-9223372036854775809", "123456789012345678901234567890123456789",
                "-0", "0e999999999", "1E+400"]
# Tokens that are not JSON numbers but that lenient parsers take for one.
NOT_NUMBERS = ["NaN", "Infinity", "-Infinity", "inf", "0x10", "1_000", "+1", ".5", "1.", "01", "1e", "--1"]


def log(who, message):
    sys.stderr.write("%s: %s\n" % (who, message))
    sys.stderr.flush()


def rng_for(seed, *labels):
    """A generator private to one (seed, scenario, round, ...): scenarios never shift each other's bytes."""
    return random.Random("%s|%s" % (seed, "|".join(str(x) for x in labels)))


def deep_array(depth):
    return "[" * depth + "]" * depth


def deep_object(depth, leaf="1"):
    return '{"a":' * depth + leaf + "}" * depth


def deep_unclosed(depth):
    return "[" * depth  # never closed: a parser that recurses first and checks later falls over anyway


def garbage(rng, n):
    return bytes(rng.getrandbits(8) for _ in range(n))


def mutate(rng, text, n=8):
    """`text` with a few bytes flipped, dropped or repeated: almost valid input."""
    b = bytearray(text.encode() if isinstance(text, str) else text)
    for _ in range(n):
        if not b:
            break
        i = rng.randrange(len(b))
        op = rng.randrange(3)
        if op == 0:
            b[i] = rng.getrandbits(8)
        elif op == 1:
            del b[i]
        else:
            b[i:i] = b[i:i + rng.randint(1, 16)]
    return bytes(b)


_BOMBS = {}


def gzip_bomb(decoded_mb):
    """A gzip member of `decoded_mb` MiB of zeros (about 1/1000 of that on the wire); made once, kept."""
    if decoded_mb not in _BOMBS:
        z = zlib.compressobj(9, zlib.DEFLATED, 31)
        chunk = bytes(1 << 20)
        parts = [z.compress(chunk) for _ in range(decoded_mb)]
        parts.append(z.flush())
        _BOMBS[decoded_mb] = b"".join(parts)
    return _BOMBS[decoded_mb]


def reset(sock):
    """Ends a TCP connection with RST (SO_LINGER 0), as a crashed peer or a middlebox does."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # detach + close, not sock.close(): a makefile() reader still holding the socket would keep the
        # descriptor (and the connection) open until it lets go.
        os.close(sock.detach())
    except OSError:
        pass


def scenario_list(text, known):
    names = [s.strip() for s in (text or "").split(",") if s.strip()]
    for s in names:
        if s not in known:
            raise SystemExit("unknown scenario %r (known: %s)" % (s, ", ".join(sorted(known))))
    return names


def order_for_round(seed, names, rnd):
    """The scenarios of one round, in an order drawn from the seed (the same run again gives the same order)."""
    names = list(names)
    rng_for(seed, "order", rnd).shuffle(names)
    return names


class ControlServer:
    """Plain HTTP+JSON on its own loopback port: routes {"GET /state": fn(body) -> dict, ...}. A route that
    raises answers 500 with the error, so a broken peer is visible in the test's failure, not a hang."""

    def __init__(self, who, routes, port=0):
        self.routes = routes

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *a):
                pass

            def handle_one(self, method):
                n = int(self.headers.get("Content-Length", "0") or 0)
                raw = self.rfile.read(n) if n else b""
                route = routes.get("%s %s" % (method, self.path.split("?")[0]))
                code = 200
                try:
                    if route is None:
                        code, out = 404, {"error": "no route %s %s" % (method, self.path)}
                    else:
                        out = route(json.loads(raw) if raw else {})
                except Exception as e:  # the peer's own bug: say it, keep serving
                    log(who, "control %s %s failed: %r" % (method, self.path, e))
                    code, out = 500, {"error": repr(e)}
                data = json.dumps(out).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self.handle_one("GET")

            def do_POST(self):
                self.handle_one("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
