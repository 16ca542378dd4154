#!/usr/bin/env python3
"""Fault-injecting HTTP/1.1 reverse proxy for carehub's tests (Python 3 stdlib only). See README.md.

    /usr/bin/python3 proxy.py --upstream 127.0.0.1:PORT [--port 0] [--control-port 0] [--host 127.0.0.1] [--quiet]
                              [--tls-cert FILE --tls-key FILE [--client-ca FILE]]

Prints exactly one line, `LISTENING <port> <control-port>`, on stdout once both ports accept
connections; one log line per request goes to stderr.
"""
import argparse
import asyncio
import http
import ipaddress
import json
import signal
import socket
import ssl
import struct
import sys
import time

KINDS = ("status", "reset_before", "reset_after", "reset_mid_response", "stall_mid_response", "down")
# The keys each kind accepts besides "kind" and "count"; anything else is a typo to refuse loudly.
KIND_KEYS = {
    "status": {"status", "headers", "body"},
    "reset_before": set(),
    "reset_after": set(),
    "reset_mid_response": set(),
    "stall_mid_response": set(),
    "down": set(),
}
HEAD_LIMIT = 64 * 1024
# A client that connects and never completes the handshake must not hold a task forever.
TLS_HANDSHAKE_TIMEOUT_S = 10
CONTROL_BODY_LIMIT = 1024 * 1024


def log(message):
    sys.stderr.write(f"proxy: {message}\n")
    sys.stderr.flush()


class BadMessage(Exception):
    """A request or response that is not HTTP/1.1 as this proxy understands it."""


class Message:
    """One request or response head: the start line and the header fields, as received."""

    def __init__(self, raw):
        self.raw = raw  # the head as received, CRLF CRLF included: forwarded byte for byte
        lines = raw[:-4].decode("latin-1").split("\r\n")
        self.start = lines[0]
        self.headers = []
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep or not name or name != name.strip():
                raise BadMessage(f"malformed header line {line[:80]!r}")
            self.headers.append((name, value.strip()))

    def header(self, name):
        name = name.lower()
        values = [v for k, v in self.headers if k.lower() == name]
        return ", ".join(values) if values else None

    def tokens(self, name):
        value = self.header(name)
        return {t.strip().lower() for t in value.split(",")} if value else set()

    def version(self):
        return self.start.split(" ", 1)[0] if self.start.startswith("HTTP/") else self.start.rsplit(" ", 1)[-1]

    def wants_close(self):
        """Whether the connection ends after this message (RFC 9112 §9.3)."""
        if "close" in self.tokens("connection"):
            return True
        return self.version() == "HTTP/1.0" and "keep-alive" not in self.tokens("connection")


async def read_head(reader, what):
    """The next head, or None on a clean end of stream before its first byte."""
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as e:
        if not e.partial.strip():
            return None
        raise BadMessage(f"{what}: stream ended inside the head") from e
    except asyncio.LimitOverrunError as e:
        raise BadMessage(f"{what}: head larger than {HEAD_LIMIT} bytes") from e
    while raw.startswith(b"\r\n"):  # RFC 9112 §2.2: ignore empty lines before a request line
        raw = raw[2:]
    return Message(raw)


async def read_chunked(reader, what):
    """A chunked body exactly as on the wire (sizes, extensions and trailers included)."""
    parts = []
    while True:
        line = await reader.readuntil(b"\r\n")
        parts.append(line)
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError as e:
            raise BadMessage(f"{what}: bad chunk size line {line[:40]!r}") from e
        if size == 0:
            while True:  # trailers, then the empty line
                trailer = await reader.readuntil(b"\r\n")
                parts.append(trailer)
                if trailer == b"\r\n":
                    return b"".join(parts)
        parts.append(await reader.readexactly(size + 2))


async def read_body(reader, head, what, *, request_method=None):
    """The body as on the wire, and whether it was delimited by the end of the stream.

    `request_method` is given for a response: its framing depends on the request (RFC 9112 §6.3).
    """
    if request_method is not None:
        status = int(head.start.split(" ", 2)[1])
        if request_method == "HEAD" or status < 200 or status in (204, 304):
            return b"", False
    if "chunked" in head.tokens("transfer-encoding"):
        return await read_chunked(reader, what), False
    length = head.header("content-length")
    if length is not None:
        if not length.isdigit():
            raise BadMessage(f"{what}: bad Content-Length {length!r}")
        return await reader.readexactly(int(length)), False
    if request_method is None:
        return b"", False  # a request without framing has no body
    return await reader.read(), True  # a response without framing ends with the connection


def set_rst_on_close(writer):
    """SO_LINGER 0: closing sends RST instead of FIN, as a crashed or overloaded peer does."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass


def reset(writer):
    set_rst_on_close(writer)
    writer.transport.abort()


def simple_response(status, body, headers=None, close=False):
    body = body.encode() if isinstance(body, str) else body
    try:
        reason = http.HTTPStatus(status).phrase
    except ValueError:
        reason = "Injected Fault"
    lines = [f"HTTP/1.1 {status} {reason}"]
    given = {k.lower() for k in (headers or {})}
    for k, v in (headers or {}).items():
        lines.append(f"{k}: {v}")
    if body and "content-type" not in given:
        lines.append("Content-Type: text/plain; charset=utf-8")
    lines.append(f"Content-Length: {len(body)}")
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def validate_fault(index, fault):
    where = f"faults[{index}]"
    if not isinstance(fault, dict):
        raise ValueError(f"{where}: must be an object like {{\"kind\": \"status\", \"count\": 1}}")
    kind = fault.get("kind")
    if kind not in KINDS:
        raise ValueError(f"{where}: unknown kind {kind!r} (one of {', '.join(KINDS)})")
    unknown = set(fault) - {"kind", "count"} - KIND_KEYS[kind]
    if unknown:
        raise ValueError(f"{where}: {kind} takes no {', '.join(sorted(unknown))}")
    count = fault.get("count", None if kind == "down" else 1)
    if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
        raise ValueError(f"{where}: count must be a whole number >= 1, got {count!r}")
    out = {"kind": kind, "count": count}
    if kind == "status":
        status = fault.get("status", 503)
        if not isinstance(status, int) or isinstance(status, bool) or not 200 <= status <= 599:
            raise ValueError(f"{where}: status must be a whole number 200..599, got {status!r}")
        headers = fault.get("headers", {})
        if not isinstance(headers, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
            raise ValueError(f"{where}: headers must be an object of strings")
        for k, v in headers.items():
            if not k or any(c in k for c in ":\r\n ") or any(c in v for c in "\r\n"):
                raise ValueError(f"{where}: bad header {k!r}: {v!r}")
            if k.lower() in ("content-length", "transfer-encoding"):
                raise ValueError(f"{where}: {k} is set by the proxy")
        body = fault.get("body", "")
        if not isinstance(body, str):
            raise ValueError(f"{where}: body must be a string")
        out.update(status=status, headers=headers, body=body)
    return out


class Proxy:
    def __init__(self, args):
        self.args = args
        self.upstream = args.upstream
        self.faults = []  # pending request faults, in order: dicts with a remaining "count"
        self.stats = {"requests": 0, "forwarded": 0, "connections": 0, "refused_connections": 0,
                      "tls_handshakes": 0, "tls_handshake_failures": 0}
        self.tls = make_tls_context(args)  # None: plain HTTP on the data port
        self.tls_last_error = ""  # why the latest refused handshake failed, for a test's message
        self.applied = {kind: 0 for kind in KINDS}
        self.stalled = 0
        self.release_event = asyncio.Event()
        self.listener = None  # the data port's listening socket; None while down
        self.accept_task = None
        self.port = 0
        self.down = False  # listener closed until /up
        self.refuse_left = 0  # counted down: connections still to refuse
        self.clients = set()  # open client writers, closed when the proxy goes down
        # Counts the times it went down: a connection accepted before a down but registered in `clients`
        # only after it (the accept and serve_client's start are separate steps of the loop) is closed
        # then too, so no keep-alive connection outlives a down.
        self.downs = 0

    # ---- the data port ------------------------------------------------------------------------

    def listen(self, port):
        sock = socket.socket(socket.AF_INET6 if ":" in self.args.host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.args.host, port))
        sock.listen(128)
        sock.setblocking(False)
        self.listener = sock
        self.port = sock.getsockname()[1]
        self.accept_task = asyncio.get_running_loop().create_task(self.accept_loop(sock))

    async def accept_loop(self, sock):
        loop = asyncio.get_running_loop()
        while True:
            try:
                conn, _ = await loop.sock_accept(sock)
            except (asyncio.CancelledError, OSError):
                return
            self.stats["connections"] += 1
            if self.refuse_left > 0:
                self.refuse_left -= 1
                self.stats["refused_connections"] += 1
                self.applied["down"] += 1
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
                log(f"connection refused by reset (counted down, {self.refuse_left} left)")
                continue
            loop.create_task(self.serve_client(conn, self.downs))

    def go_down(self, count):
        """Down until /up (listener closed: ECONNREFUSED), or for `count` connections (reset at accept)."""
        self.downs += 1
        for writer in list(self.clients):  # a server that goes away takes its connections with it
            writer.transport.abort()
        if count is None:
            if self.listener is not None:
                self.accept_task.cancel()
                self.listener.close()
                self.listener = None
            self.down = True
            self.applied["down"] += 1
            log(f"down: port {self.port} closed until POST /up")
        else:
            self.refuse_left = count
            log(f"down: the next {count} connections are reset at accept")

    def go_up(self):
        self.refuse_left = 0
        if self.listener is None:
            self.listen(self.port)  # the same port: clients are configured with it
        self.down = False
        log(f"up: port {self.port} accepting")

    def next_fault(self):
        if not self.faults:
            return None
        fault = self.faults[0]
        fault["count"] -= 1
        if fault["count"] == 0:
            self.faults.pop(0)
        return fault

    async def open_tls(self, conn):
        """The server side of a TLS handshake on an accepted socket; raises if the handshake fails.

        The stream is made over plain TCP first so that the TCP transport under TLS gets zero buffer
        limits too (see serve_client): start_tls then wraps it, server side because the protocol has a
        client-connected callback.
        """
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=HEAD_LIMIT)
        made = loop.create_future()
        protocol = asyncio.StreamReaderProtocol(reader, lambda _reader, writer: made.set_result(writer))
        transport, _ = await loop.connect_accepted_socket(lambda: protocol, sock=conn)
        writer = await made
        transport.set_write_buffer_limits(0)
        try:
            await writer.start_tls(self.tls, ssl_handshake_timeout=TLS_HANDSHAKE_TIMEOUT_S)
        except BaseException:
            transport.abort()
            raise
        return reader, writer

    async def serve_client(self, conn, downs_at_accept):
        if self.tls is None:
            reader, writer = await asyncio.open_connection(sock=conn, limit=HEAD_LIMIT)
        else:
            try:
                peer_port = conn.getpeername()[1]
            except OSError:
                peer_port = "?"
            try:
                reader, writer = await self.open_tls(conn)
            except (OSError, EOFError, asyncio.IncompleteReadError) as e:
                # ssl.SSLError (no or an untrusted client certificate, the client refusing ours, not
                # TLS at all), a reset or a handshake timeout: the connection is refused, and counted
                # so a test can tell a refused handshake from a request that never came.
                self.stats["tls_handshake_failures"] += 1
                self.tls_last_error = f"{e.__class__.__name__}: {e}"
                log(f"{peer_port}: TLS handshake failed: {self.tls_last_error}")
                conn.close()
                return
            self.stats["tls_handshakes"] += 1
            if not self.args.quiet:
                ssl_object = writer.get_extra_info("ssl_object")
                cert = writer.get_extra_info("peercert")
                subject = ", ".join(f"{k}={v}" for rdn in cert.get("subject", ()) for k, v in rdn) if cert else "none"
                log(f"{peer_port}: TLS handshake done: {ssl_object.version()}, client certificate: {subject}")
        # Zero buffer limits: drain() returns only once everything is in the kernel, so a RST that
        # follows cannot overtake bytes a fault means to deliver.
        if self.tls is None:
            writer.transport.set_write_buffer_limits(0)
        else:
            # The same for TLS (the TCP transport under it has limit 0, see open_tls). asyncio's TLS
            # transport pauses when its buffer is >= high and resumes when it is <= low: with 0/0 an
            # empty buffer flips paused/resumed on every check and drain() can wait forever.
            writer.transport.set_write_buffer_limits(high=1, low=0)
        peer = writer.get_extra_info("peername")
        if self.downs != downs_at_accept:  # accepted, then the proxy went down before it got here
            writer.transport.abort()
            return
        self.clients.add(writer)
        upstream = None
        try:
            while True:
                try:
                    req = await read_head(reader, "request")
                    if req is None:
                        return
                    method, _, rest = req.start.partition(" ")
                    target = rest.rsplit(" ", 1)[0]
                    raw_head = req.raw
                    if "100-continue" in req.tokens("expect"):
                        # Answer it here and do not forward it: the body is read before forwarding.
                        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                        raw_head = b"".join(
                            line + b"\r\n" for line in req.raw[:-4].split(b"\r\n") if not line.lower().startswith(b"expect:")
                        ) + b"\r\n"
                    body = await read_body(reader, req, "request")
                    body = body[0]
                except (BadMessage, asyncio.IncompleteReadError, ValueError) as e:
                    log(f"{peer[1]}: bad request: {e}")
                    writer.write(simple_response(400, f"proxy: bad request: {e}\n", close=True))
                    await writer.drain()
                    return
                self.stats["requests"] += 1
                started = time.monotonic()
                fault = self.next_fault()
                kind = fault["kind"] if fault else None
                outcome, keep = await self.handle(req, method, raw_head + body, fault, reader, writer, upstream)
                upstream = outcome.pop("upstream", None)
                if not self.args.quiet or kind:
                    ms = (time.monotonic() - started) * 1000
                    log(f"{peer[1]}: {method} {target} -> {outcome['text']} [{kind or 'forwarded'}] {ms:.1f}ms")
                if not keep:
                    return
        except (ConnectionError, OSError, asyncio.IncompleteReadError) as e:
            log(f"{peer[1]}: connection ended: {e.__class__.__name__}: {e}")
        finally:
            self.clients.discard(writer)
            if upstream is not None:
                upstream[1].close()
            if not writer.transport.is_closing():
                writer.close()

    async def handle(self, req, method, raw_request, fault, reader, writer, upstream):
        """Serves one request; returns ({"text": log text, "upstream": connection to keep}, keep_client)."""
        kind = fault["kind"] if fault else None
        client_close = req.wants_close()
        if kind == "status":
            self.applied["status"] += 1
            writer.write(simple_response(fault["status"], fault["body"], fault["headers"], close=client_close))
            await writer.drain()
            return {"text": f"{fault['status']} (injected)", "upstream": upstream}, not client_close
        if kind == "reset_before":
            self.applied[kind] += 1
            reset(writer)
            return {"text": "reset before forwarding", "upstream": upstream}, False

        try:
            upstream, resp, resp_body, eof_delimited, interim = await self.exchange(upstream, raw_request, method)
        except (OSError, asyncio.IncompleteReadError, BadMessage) as e:
            if upstream is not None:
                upstream[1].close()
            if kind is not None:  # the fault was taken for this request; it still happens
                self.applied[kind] += 1
                reset(writer)
                return {"text": f"upstream failed ({e}); client reset"}, False
            writer.write(simple_response(502, f"proxy: upstream {self.upstream[0]}:{self.upstream[1]}: {e}\n", close=client_close))
            await writer.drain()
            return {"text": f"502 (upstream: {e})"}, not client_close
        status = resp.start.split(" ", 2)[1]
        upstream_close = eof_delimited or resp.wants_close()
        if upstream_close:
            upstream[1].close()
            upstream = None
        keep_client = not (client_close or upstream_close)
        for head in interim:
            writer.write(head.raw)

        if kind == "reset_after":
            self.applied[kind] += 1
            reset(writer)
            return {"text": f"upstream {status}, client reset without a byte", "upstream": upstream}, False
        if kind in ("reset_mid_response", "stall_mid_response"):
            half = len(resp_body) // 2
            writer.write(resp.raw + resp_body[:half])
            await writer.drain()
            self.applied[kind] += 1
            if kind == "reset_mid_response":
                reset(writer)
                return {"text": f"upstream {status}, client reset after {half} of {len(resp_body)} body bytes", "upstream": upstream}, False
            released = await self.stall(reader)
            if not released:
                return {"text": f"upstream {status}, stalled after {half} of {len(resp_body)} body bytes until the client left", "upstream": upstream}, False
            writer.write(resp_body[half:])
            await writer.drain()
            return {"text": f"upstream {status}, stalled after {half} body bytes, then released", "upstream": upstream}, keep_client

        writer.write(resp.raw + resp_body)
        await writer.drain()
        return {"text": status, "upstream": upstream}, keep_client

    async def stall(self, reader):
        """Waits for POST /release (True) or for the client to go away (False)."""
        self.stalled += 1
        release = asyncio.ensure_future(self.release_event.wait())
        gone = asyncio.ensure_future(self.client_gone(reader))
        try:
            done, _ = await asyncio.wait({release, gone}, return_when=asyncio.FIRST_COMPLETED)
            return release in done
        finally:
            self.stalled -= 1
            release.cancel()
            gone.cancel()

    @staticmethod
    async def client_gone(reader):
        while True:
            try:
                data = await reader.read(65536)
            except (ConnectionError, OSError):
                return
            if not data:
                return
            log("stalled: discarding bytes the client sent meanwhile")

    async def connect_upstream(self):
        host, port = self.upstream
        return await asyncio.open_connection(host, port, limit=HEAD_LIMIT)

    async def exchange(self, upstream, raw_request, method):
        """Sends the request upstream and reads the whole response.

        A kept-alive upstream connection may have been closed by the server while idle (Node closes
        them after 5 s); then the request goes once more on a new connection, as browsers and
        libcurl do, but only if not a byte of the response had arrived.
        """
        for attempt in (0, 1):
            reused = upstream is not None
            if upstream is None:
                upstream = await self.connect_upstream()
            up_reader, up_writer = upstream
            try:
                up_writer.write(raw_request)
                await up_writer.drain()
                if attempt == 0:
                    self.stats["forwarded"] += 1
                interim = []
                while True:
                    resp = await read_head(up_reader, "response")
                    if resp is None:
                        raise ConnectionResetError("upstream closed the connection before answering")
                    code = int(resp.start.split(" ", 2)[1])
                    if 100 <= code < 200 and code != 101:
                        interim.append(resp)
                        continue
                    break
            except (ConnectionError, asyncio.IncompleteReadError):
                up_writer.close()
                upstream = None
                if reused and attempt == 0:
                    continue
                raise
            body, eof_delimited = await read_body(up_reader, resp, "response", request_method=method)
            return upstream, resp, body, eof_delimited, interim
        raise AssertionError("unreachable")

    # ---- the control port ---------------------------------------------------------------------

    async def serve_control(self, reader, writer):
        try:
            while True:
                req = await read_head(reader, "control request")
                if req is None:
                    return
                body, _ = await read_body(reader, req, "control request")
                method, _, rest = req.start.partition(" ")
                path = rest.rsplit(" ", 1)[0]
                status, answer = self.control(method, path, body)
                log(f"control: {method} {path} -> {status}" + (f" {answer['error']}" if "error" in answer else ""))
                data = json.dumps(answer).encode()
                writer.write(simple_response(status, data, {"Content-Type": "application/json"}, close=req.wants_close()))
                await writer.drain()
                if req.wants_close():
                    return
        except (BadMessage, ConnectionError, asyncio.IncompleteReadError) as e:
            log(f"control: connection ended: {e}")
        finally:
            writer.close()

    def pending(self):
        return sum(f["count"] for f in self.faults)

    def control(self, method, path, body):
        route = f"{method} {path}"
        try:
            payload = json.loads(body) if body.strip() else None
        except ValueError as e:
            return 400, {"error": f"{route}: body is not JSON: {e}"}
        if route == "GET /stats":
            return 200, {
                "requests": self.stats["requests"],
                "forwarded": self.stats["forwarded"],
                "faults_applied": dict(self.applied),
                "pending_faults": self.pending(),
                "connections": self.stats["connections"],
                "refused_connections": self.stats["refused_connections"],
                "stalled": self.stalled,
                "down": self.down,
                "tls": self.tls is not None,
                "tls_handshakes": self.stats["tls_handshakes"],
                "tls_handshake_failures": self.stats["tls_handshake_failures"],
                "tls_last_error": self.tls_last_error,
            }
        if route == "POST /faults":
            faults = payload if isinstance(payload, list) else [payload]
            try:
                checked = [validate_fault(i, f) for i, f in enumerate(faults)]
            except ValueError as e:
                return 400, {"error": f"POST /faults: {e}; nothing was added"}
            for fault in checked:
                if fault["kind"] == "down":
                    self.go_down(fault["count"])  # about connections, not requests: at once
                else:
                    self.faults.append(fault)
            return 200, {"pending_faults": self.pending(), "down": self.down, "refusing": self.refuse_left}
        if route == "POST /clear":
            dropped = self.pending()
            self.faults.clear()
            return 200, {"dropped": dropped}
        if route == "POST /release":
            stalled = self.stalled
            self.release_event.set()
            self.release_event = asyncio.Event()  # later stalls wait for the next /release
            return 200, {"released": stalled}
        if route == "POST /up":
            try:
                self.go_up()
            except OSError as e:
                return 500, {"error": f"POST /up: cannot listen on port {self.port} again: {e}"}
            return 200, {"down": False}
        return 404, {"error": f"no control endpoint {route} (GET /stats, POST /faults, /clear, /release, /up)"}


def loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def make_tls_context(args):
    """The data port's server-side TLS context, or None without --tls-cert. Raises ValueError naming the
    file that could not be used."""
    if not args.tls_cert:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(args.tls_cert, args.tls_key)
    except (OSError, ssl.SSLError) as e:
        raise ValueError(f"--tls-cert {args.tls_cert} / --tls-key {args.tls_key}: cannot load the certificate and key: {e}") from e
    if args.client_ca:
        try:
            context.load_verify_locations(cafile=args.client_ca)
        except (OSError, ssl.SSLError) as e:
            raise ValueError(f"--client-ca {args.client_ca}: cannot load the CA certificates: {e}") from e
        context.verify_mode = ssl.CERT_REQUIRED  # no certificate, or one the CA did not sign: refused
    return context


def parse_args(argv):
    p = argparse.ArgumentParser(description="Fault-injecting HTTP/1.1 reverse proxy for tests (loopback only)")
    p.add_argument("--upstream", required=True, help="HOST:PORT of the server to forward to (loopback)")
    p.add_argument("--port", type=int, default=0, help="data port, 0 = any free port (default 0)")
    p.add_argument("--control-port", type=int, default=0, help="control port, 0 = any free port (default 0)")
    p.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    p.add_argument("--quiet", action="store_true", help="log only faults and control requests")
    p.add_argument("--tls-cert", help="PEM server certificate (chain): the data port speaks TLS (control stays plain)")
    p.add_argument("--tls-key", help="PEM private key of --tls-cert (default: in the --tls-cert file)")
    p.add_argument("--client-ca", help="PEM CA(s): clients must present a certificate they signed (mutual TLS)")
    args = p.parse_args(argv)
    if args.tls_key and not args.tls_cert:
        p.error("--tls-key needs --tls-cert")
    if args.client_ca and not args.tls_cert:
        p.error("--client-ca needs --tls-cert (client certificates exist only under TLS)")
    host, sep, port = args.upstream.rpartition(":")
    host = host.strip("[]")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        p.error(f"--upstream must be HOST:PORT, not {args.upstream!r}")
    if not loopback(host):
        p.error(f"--upstream must be a loopback address (127.x.x.x, ::1, localhost), not {host!r}")
    if not loopback(args.host):
        p.error(f"--host must be a loopback address (127.x.x.x, ::1, localhost), not {args.host!r}")
    for name in ("port", "control_port"):
        if not 0 <= getattr(args, name) <= 65535:
            p.error(f"--{name.replace('_', '-')} must be 0..65535")
    args.upstream = (host, int(port))
    return args


async def main(argv):
    args = parse_args(argv)
    try:
        proxy = Proxy(args)
    except ValueError as e:
        log(str(e))
        return 2
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        proxy.listen(args.port)
        control = await asyncio.start_server(proxy.serve_control, args.host, args.control_port, limit=CONTROL_BODY_LIMIT)
    except OSError as e:
        log(f"cannot listen on {args.host}: {e}")
        return 1
    control_port = control.sockets[0].getsockname()[1]
    tls = "" if proxy.tls is None else " (TLS" + (", client certificate required" if args.client_ca else "") + ")"
    log(f"forwarding {args.host}:{proxy.port}{tls} -> {args.upstream[0]}:{args.upstream[1]}, control on port {control_port}")
    sys.stdout.write(f"LISTENING {proxy.port} {control_port}\n")
    sys.stdout.flush()
    await stop.wait()
    log("stopping")
    control.close()
    if proxy.listener is not None:
        proxy.accept_task.cancel()
        proxy.listener.close()
    for writer in list(proxy.clients):
        writer.transport.abort()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
