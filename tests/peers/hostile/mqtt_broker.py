#!/usr/bin/python3
"""A hostile MQTT 3.1.1 broker for one subscriber (carehubd), at the byte level.

It speaks enough of the protocol to be a broker carehubd accepts: CONNECT/CONNACK (with a persistent
session: subscriptions and unacknowledged QoS 1 messages survive a reconnect and are redelivered with
DUP=1), SUBSCRIBE/SUBACK, PUBLISH QoS 0/1 both ways with PUBACK, PINGREQ/PINGRESP, DISCONNECT. Tests
publish honest messages through it and read which were acknowledged, and between them ask it for a
round of hostile input: malformed packets, lying remaining lengths, oversize payloads, huge topics,
garbage, hostile payloads, redeliveries of acknowledged messages (a lost PUBACK), a broker gone silent
mid-packet, resets, hostile CONNACK and SUBACK.

Usage: mqtt_broker.py --seed S --scenarios a,b,c [--port 0] [--control-port 0] [--topic-count 300]
Prints "SEED <seed>" on stderr and "LISTENING <port> <control-port>" on stdout once it accepts connections.

Control (JSON over HTTP on the control port):
  POST /publish {"topic","payload","label","round"}  an honest QoS 1 message (queued while nobody is subscribed)
  POST /round {"round": r[, "scenarios": [...]]}      the hostile input of round r: every scenario of the list
                                                      (or the given ones), in an order drawn from the seed
  GET  /state   {"connects","connected","subscribed","acked":{label:n},"pending":[labels],"client_id",...}
"""
import argparse
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (HUGE_NUMBERS, NOT_NUMBERS, ControlServer, deep_array, deep_object, deep_unclosed,  # noqa: E402
                    garbage, log, mutate, order_for_round, reset, rng_for, scenario_list)

WHO = "hostile-mqtt"
# Filters carehubd is configured with in the hostile test (tests/hostile/hostile_test.cpp); hostile
# payloads go where they are parsed, not where they are ignored.
READINGS = "hub/readings"
NUMBERS = "hub/number/"
STATES = "openhab/out/"


def varint(n):
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def packet(first, body):
    return bytes([first]) + varint(len(body)) + body


def utf8(s):
    b = s.encode() if isinstance(s, str) else s
    return len(b).to_bytes(2, "big") + b


def publish(topic, payload, qos=1, pid=1, dup=False, retain=False):
    payload = payload.encode() if isinstance(payload, str) else payload
    body = utf8(topic) + (pid.to_bytes(2, "big") if qos else b"") + payload
    return packet(0x30 | (0x08 if dup else 0) | (qos << 1) | (1 if retain else 0), body)


def topic_matches(flt, topic):
    f, t = flt.split("/"), topic.split("/")
    for i, part in enumerate(f):
        if part == "#":
            return True
        if i >= len(t) or (part != "+" and part != t[i]):
            return False
    return len(f) == len(t)


class Msg:
    def __init__(self, label, topic, payload, rnd):
        self.label, self.topic, self.payload, self.round = label, topic, payload, rnd
        self.pid = 0
        self.sent = False   # sent at least once: a resend carries DUP=1
        self.acked = False


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.wlock = threading.Lock()
        self.open = True
        self.mute = False        # a hung broker: reads, answers nothing
        self.subscribed = False

    def send(self, data):
        with self.wlock:
            if not self.open:
                return False
            try:
                self.sock.sendall(data)
                return True
            except OSError:
                self.open = False
                return False

    def close(self, rst=False):
        with self.wlock:
            self.open = False
        if rst:
            reset(self.sock)
        else:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Broker:
    def __init__(self, args):
        self.args = args
        self.seed = args.seed
        self.scenarios = scenario_list(args.scenarios, SCENARIOS)
        self.lock = threading.Condition()
        self.conn = None
        self.connects = 0
        self.subscriptions = []     # (filter, qos): the session's, kept across connections
        self.client_id = None
        self.msgs = []              # honest messages, in publish order
        self.by_pid = {}
        self.acked = {}             # label -> PUBACKs seen (exactly one each is what a test expects)
        self.lose_acks = 0          # the next n PUBACKs of honest messages are "lost" (then the link dies)
        self.connack_plan = []      # hostile answers for the next CONNECTs
        self.suback_plan = []       # hostile answers for the next SUBSCRIBEs
        self.status = None          # carehubd's retained status payload
        self.hostile_pid = 40000
        self.next_pid = 0
        self.stats = {"hostile_bytes": 0, "connections_ended": 0, "client_publishes": 0}

    # -------------------------------------------------------------------------- the honest broker
    def serve(self, listener):
        while True:
            sock, _ = listener.accept()
            threading.Thread(target=self.connection, args=(sock,), daemon=True).start()

    def read_packet(self, f):
        first = f.read(1)
        if not first:
            return None
        n, mult = 0, 1
        for _ in range(4):
            b = f.read(1)
            if not b:
                return None
            n += (b[0] & 0x7F) * mult
            mult *= 128
            if not b[0] & 0x80:
                break
        body = f.read(n)
        if len(body) < n:
            return None
        return first[0], body

    def connection(self, sock):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = Conn(sock)
        f = sock.makefile("rb")
        try:
            p = self.read_packet(f)
            if not p or p[0] >> 4 != 1:
                return conn.close()
            if not self.on_connect(conn, p[1]):
                return
            while True:
                p = self.read_packet(f)
                if p is None:
                    break
                self.on_packet(conn, *p)
        except (OSError, ValueError):
            pass
        finally:
            conn.close()
            with self.lock:
                if self.conn is conn:
                    self.conn = None
                    self.stats["connections_ended"] += 1
                self.lock.notify_all()

    def on_connect(self, conn, body):
        name_len = int.from_bytes(body[0:2], "big")
        pos = 2 + name_len + 1
        flags = body[pos]
        pos += 3  # flags, keepalive
        cid_len = int.from_bytes(body[pos:pos + 2], "big")
        client_id = body[pos + 2:pos + 2 + cid_len].decode(errors="replace")
        clean = bool(flags & 0x02)
        with self.lock:
            plan = self.connack_plan.pop(0) if self.connack_plan else None
            old, self.conn = self.conn, conn
            present = (not clean) and self.client_id == client_id and bool(self.subscriptions)
            if clean or self.client_id != client_id:
                self.subscriptions = []
            self.client_id = client_id
            self.connects += 1
            self.lock.notify_all()
        if old is not None:
            old.close()  # session takeover, as a real broker does
        if plan:
            log(WHO, "CONNECT answered with hostile %s" % plan)
            return self.hostile_connack(conn, plan)
        conn.send(packet(0x20, bytes([1 if present else 0, 0])))
        if present:
            self.redeliver(conn)
        return True

    def hostile_connack(self, conn, plan):
        answers = {
            "refused_5": packet(0x20, b"\x00\x05"),
            "reserved_code": packet(0x20, b"\x00\x4d"),
            "bad_flags": packet(0x20, b"\xfe\x00"),
            "short": packet(0x20, b"\x00"),
            "long": packet(0x20, b"\x00\x00" + b"\x00" * 200),
            "publish_first": publish(READINGS, '{"kind":"heart-rate"}', qos=1, pid=7) + packet(0x20, b"\x00\x00"),
            "suback_first": packet(0x90, b"\x00\x01\x01"),
            "garbage": b"\xde\xad\xbe\xef" * 16,
        }
        if plan == "silent":
            return True  # no CONNACK: carehubd's connect timeout must end it (we keep reading)
        conn.send(answers[plan])
        if plan in ("refused_5", "reserved_code", "garbage", "short", "long", "bad_flags"):
            conn.close()
            return False
        return True

    def on_packet(self, conn, first, body):
        kind = first >> 4
        if conn.mute:
            return
        if kind == 8:  # SUBSCRIBE
            pid = body[0:2]
            pos, filters = 2, []
            while pos < len(body):
                n = int.from_bytes(body[pos:pos + 2], "big")
                filters.append((body[pos + 2:pos + 2 + n].decode(errors="replace"), body[pos + 2 + n]))
                pos += 3 + n
            with self.lock:
                plan = self.suback_plan.pop(0) if self.suback_plan else None
                for flt, qos in filters:
                    self.subscriptions = [s for s in self.subscriptions if s[0] != flt] + [(flt, qos)]
            if plan:
                log(WHO, "SUBSCRIBE answered with hostile %s" % plan)
                codes = bytes(min(q, 1) for _, q in filters)
                answers = {
                    "wrong_id": packet(0x90, bytes([pid[0] ^ 0x55, pid[1] ^ 0x55]) + codes),
                    "wrong_count": packet(0x90, pid + codes + b"\x01\x01"),
                    "failure": packet(0x90, pid + b"\x80" * len(filters)),
                    "reserved_code": packet(0x90, pid + b"\x07" * len(filters)),
                    "empty": packet(0x90, pid),
                }
                if plan != "silent":
                    conn.send(answers[plan])
                return
            conn.send(packet(0x90, pid + bytes(min(q, 1) for _, q in filters)))
            conn.subscribed = True
            self.redeliver(conn)
        elif kind == 3:  # PUBLISH from the client: its status
            qos = (first >> 1) & 3
            n = int.from_bytes(body[0:2], "big")
            with self.lock:
                self.status = body[2 + n + (2 if qos else 0):].decode(errors="replace")
                self.stats["client_publishes"] += 1
            if qos == 1:
                conn.send(packet(0x40, body[2 + n:4 + n]))
        elif kind == 4:  # PUBACK
            self.on_puback(conn, int.from_bytes(body[0:2], "big"))
        elif kind == 12:  # PINGREQ
            conn.send(packet(0xD0, b""))
        elif kind == 14:  # DISCONNECT
            conn.close()

    def on_puback(self, conn, pid):
        with self.lock:
            m = self.by_pid.get(pid)
            if m is None or m.acked:
                return  # one of the hostile messages: nobody waits for it
            if self.lose_acks > 0:
                self.lose_acks -= 1
                lose_now = True  # the connection that lost it dies: the broker resends on the next one
                log(WHO, "PUBACK of %s lost (it is redelivered with DUP=1 after the reconnect)" % m.label)
            else:
                m.acked = True
                del self.by_pid[pid]
                self.acked[m.label] = self.acked.get(m.label, 0) + 1
                self.lock.notify_all()
                return
        if lose_now:
            conn.close()

    def alloc_pid(self):
        for _ in range(40000):
            self.next_pid = self.next_pid % 39999 + 1
            if self.next_pid not in self.by_pid:
                return self.next_pid
        raise RuntimeError("no free packet id")

    def deliverable(self, m):
        return any(topic_matches(f, m.topic) for f, _ in self.subscriptions)

    def redeliver(self, conn):
        """Sends every unacknowledged honest message (DUP=1 for those sent before), oldest first."""
        with self.lock:
            todo = [m for m in self.msgs if not m.acked and self.deliverable(m)]
            frames = []
            for m in todo:
                if not m.pid:
                    m.pid = self.alloc_pid()
                    self.by_pid[m.pid] = m
                frames.append(publish(m.topic, m.payload, 1, m.pid, dup=m.sent))
                m.sent = True
        for fr in frames:
            conn.send(fr)

    # ---------------------------------------------------------------------------------- control
    def c_publish(self, body):
        m = Msg(body["label"], body["topic"], body["payload"], body.get("round", 0))
        with self.lock:
            self.msgs.append(m)
            conn = self.conn
        if conn is not None and conn.subscribed:
            self.redeliver(conn)
        return {"queued": m.label}

    def c_state(self, _):
        with self.lock:
            return {"connects": self.connects, "connected": self.conn is not None,
                    "subscribed": bool(self.conn is not None and self.conn.subscribed),
                    "subscriptions": [f for f, _ in self.subscriptions], "client_id": self.client_id,
                    "acked": dict(self.acked), "pending": [m.label for m in self.msgs if not m.acked],
                    "status": self.status, "stats": dict(self.stats)}

    def c_round(self, body):
        rnd = body.get("round", 0)
        names = body.get("scenarios") or self.scenarios
        done = []
        for name in order_for_round(self.seed, names, rnd):
            rng = rng_for(self.seed, name, rnd)
            log(WHO, "round %s: %s (seed %s)" % (rnd, name, self.seed))
            done.append({"scenario": name, "result": SCENARIOS[name](self, rng, rnd)})
        return {"seed": self.seed, "round": rnd, "done": done}

    # ------------------------------------------------------------------------- hostile helpers
    def current(self, timeout=15.0):
        """The subscribed connection (waiting up to `timeout` for carehubd to come back), or None."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while time.monotonic() < deadline:
                if self.conn is not None and self.conn.subscribed and self.conn.open:
                    return self.conn
                self.lock.wait(0.05)
        return None

    def send_hostile(self, data):
        conn = self.current()
        if conn is None:
            return False
        with self.lock:
            self.stats["hostile_bytes"] += len(data)
        return conn.send(data)

    def wait_reconnect(self, conns_before, timeout=15.0):
        deadline = time.monotonic() + timeout
        with self.lock:
            while self.connects <= conns_before and time.monotonic() < deadline:
                self.lock.wait(0.05)
            return self.connects > conns_before

    def pid(self):
        with self.lock:
            self.hostile_pid = 40000 + (self.hostile_pid - 40000 + 1) % 25000
            return self.hostile_pid

    def one_per_connection(self, frames):
        """Frames that each end the connection: one per connection, waiting for carehubd to reconnect."""
        survived = 0
        for fr in frames:
            before = self.connects
            if not self.send_hostile(fr):
                continue
            if self.wait_reconnect(before, timeout=10.0):
                survived += 1
        return {"sent": len(frames), "reconnected_after": survived}


# ------------------------------------------------------------------------------------ scenarios
def s_bad_remaining_length(b, rng, rnd):
    frames = [bytes([0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]),          # a fifth length byte
              bytes([0x32, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),
              bytes([0x30, 0x05, 0x00, 0x20]) + b"hub/readings",      # topic longer than the packet
              bytes([0x40, 0x00]),                                    # PUBACK without its packet id
              bytes([0xD0, 0x05]) + b"12345"]                         # PINGRESP with a body
    rng.shuffle(frames)
    return b.one_per_connection(frames[:3])


def s_huge_remaining_length(b, rng, rnd):
    # Claims the largest packet there is, then streams a few MiB of it and goes away: memory must stay flat.
    head = bytes([0x30]) + varint(268435455) + utf8(READINGS)
    conn = b.current()
    if conn is None:
        return {"sent": 0}
    before = b.connects
    conn.send(head)
    sent = 0
    chunk = garbage(rng, 64 * 1024)
    while sent < b.args.stream_mb * (1 << 20) and conn.send(chunk):
        sent += len(chunk)
    conn.close()
    b.wait_reconnect(before)
    return {"streamed_bytes": sent}


def s_oversize(b, rng, rnd):
    n = 0
    for i in range(4):
        size = (1 << 20) + rng.randrange(1 << 16)
        b.send_hostile(publish(READINGS, b"{" + b"x" * size, qos=rng.choice([0, 1]), pid=b.pid()))
        n += 1
    return {"oversize_publishes": n}


def s_garbage(b, rng, rnd):
    frames = [garbage(rng, rng.randint(1, 8192)) for _ in range(3)]
    return b.one_per_connection(frames)


def s_huge_topics(b, rng, rnd):
    # Distinct huge topics with oversize payloads: whatever is kept per topic (log rate-limiter keys,
    # counters) grows with each one unless it is bounded.
    count = b.args.topic_count
    payload = b"7" * (64 * 1024 + 1)
    sent = 0
    for i in range(count):
        topic = NUMBERS + "h%d-%d-" % (rnd, i) + "".join(rng.choice("abcdefghij") for _ in range(16)) + "x" * 60000
        if not b.send_hostile(publish(topic, payload, qos=1, pid=b.pid())):
            break
        sent += 1
    return {"huge_topics": sent}


def s_invalid_packets(b, rng, rnd):
    catalogue = [
        bytes([0x36]) + varint(2 + 12 + 2 + 2) + utf8(READINGS) + b"\x00\x01{}",  # QoS 3
        publish(READINGS, "{}", qos=1, pid=0),                                   # QoS 1 with packet id 0
        bytes([0x30]) + varint(2 + 6 + 2) + b"\x00\x06hub/\xc3\x28" + b"{}",     # invalid UTF-8 in the topic
        publish("hub/+/x", "{}", qos=0),                                         # a wildcard in a topic name
        publish("hub/\x00/x", "{}", qos=0),                                      # NUL in a topic
        publish("", "{}", qos=0),                                                # empty topic
        packet(0x20, b"\x00\x00"),                                               # a second CONNACK
        packet(0x82, b"\x00\x01\x00\x03a/b\x01"),                                # SUBSCRIBE from the broker
        packet(0x10, b"\x00\x04MQTT\x04\x02\x00\x3c\x00\x01x"),                  # CONNECT from the broker
        packet(0x00, b""),                                                       # reserved type 0
        packet(0xF0, b""),                                                       # reserved type 15
        packet(0xE0, b""),                                                       # DISCONNECT from the broker
        packet(0x62, b"\x99\x99"),                                               # PUBREL for nothing
        packet(0xB0, b"\x00\x01"),                                               # UNSUBACK never asked for
        packet(0x91, b"\x00\x01\x01"),                                           # SUBACK with reserved flags
    ]
    rng.shuffle(catalogue)
    return b.one_per_connection(catalogue[:5])


def hostile_reading(rng):
    valid = '{"kind":"heart-rate","time":"2026-11-21T10:00:00Z","device":"hostile-mqtt","values":{"value":70}}'
    choices = [
        lambda: valid.replace("70", rng.choice(HUGE_NUMBERS)),
        lambda: valid.replace("70", rng.choice(NOT_NUMBERS)),
        lambda: '{"kind":"heart-rate","values":%s}' % deep_array(rng.randint(10000, 30000)),
        lambda: deep_object(rng.randint(5000, 10000)),
        lambda: deep_unclosed(60000),
        lambda: valid.replace('"values"', '"patient":"Patient/someone-else","values"'),
        lambda: valid.replace("2026-11-21T10:00:00Z", rng.choice(
            ["9999-12-31T23:59:59Z", "0000-01-01T00:00:00Z", "2062-01-01T00:00:00Z", "2026-13-45T99:99:99Z",
             "2026-11-21T10:00:00+99:99", "2026-12-31T23:59:60Z", "1e999", "", "2026-11-21T10:00:00.%sZ" % ("9" * 5000)])),
        lambda: valid.replace('{"value":70}', rng.choice(
            ['{"value":"70"}', '{"value":null}', '{"value":[70]}', "{}", '{"value":{"value":70}}',
             '{"systolic":1e308,"diastolic":-1e308}', '{"value":70,"value":71}'])),
        lambda: valid.replace('"hostile-mqtt"', '"hostile-%s"' % ("d" * 60000)),
        lambda: valid.replace('"hostile-mqtt"', '"hostile\\nlevel=error event=forged\\u0000"'),
        lambda: valid.replace('"heart-rate"', rng.choice(['"no-such-kind"', '1e999', 'null', '"blood-pressure"'])),
        lambda: valid.replace('"values"', '"units":{"value":"%s"},"values"' % rng.choice(["kPa", "x" * 1000, "[degF]"])),
        lambda: valid[:rng.randrange(len(valid))],
        lambda: mutate(rng, valid),
        lambda: "[" + ",".join([valid] * 600) + "]",
        lambda: b"\xff\xfe" + valid.encode(),
    ]
    return rng.choice(choices)()


def s_hostile_payloads(b, rng, rnd):
    n = 0
    for i in range(24):
        target = rng.randrange(3)
        if target == 0:
            fr = publish(READINGS, hostile_reading(rng), qos=1, pid=b.pid())
        elif target == 1:
            value = rng.choice(HUGE_NUMBERS + NOT_NUMBERS + ["", " ", "21,5", "21.5 junk", "\x00", "9" * 60000,
                                                             "21.5\n22.5", "-" * 10])
            fr = publish(NUMBERS + "hostile-%d" % rng.randrange(4), value, qos=1, pid=b.pid())
        else:
            value = rng.choice([n + " %" for n in HUGE_NUMBERS] + ["NaN %", "50 %%%", "50 kg", "", deep_array(20000),
                                                                    "1e999", "50 " + "%" * 60000])
            fr = publish(STATES + "Mqtt_Hostile_Humidity/state", value, qos=1, pid=b.pid())
        if b.send_hostile(fr):
            n += 1
    return {"hostile_payloads": n}


def requeue_acked(b, rnd):
    with b.lock:
        again = [m for m in b.msgs if m.acked and m.round == rnd]
        for m in again:
            m.acked = False
            if m.pid in b.by_pid:  # its id went to a newer message meanwhile
                m.pid = b.alloc_pid()
            b.by_pid[m.pid] = m
            b.acked[m.label] -= 1  # it must be acknowledged once more, and stored no more
    return again


def s_dup_redelivery(b, rng, rnd):
    # The PUBACKs of this round's messages were "lost" with the connection: after the reconnect each comes
    # again with DUP=1 and the same packet id. Each must map to the reading already stored.
    again = requeue_acked(b, rnd)
    conn = b.current()
    before = b.connects
    if conn is not None:
        conn.close(rst=rng.random() < 0.5)
    b.wait_reconnect(before)
    return {"redelivered": [m.label for m in again]}


def s_dup_same_connection(b, rng, rnd):
    # A broker that resends on the live connection (not what 3.1.1 prescribes, but what a broker restarted
    # behind a load balancer looks like): the same message, DUP=1, twice more.
    again = requeue_acked(b, rnd)
    conn = b.current()
    if conn is not None:
        b.redeliver(conn)
    return {"redelivered": [m.label for m in again]}


def s_lost_puback(b, rng, rnd):
    with b.lock:
        b.lose_acks = rng.randint(1, 3)
        return {"armed_lost_pubacks": b.lose_acks}


def s_slowloris(b, rng, rnd):
    # Half a packet, then nothing at all (not even PINGRESP): carehubd's keepalive must notice.
    conn = b.current()
    if conn is None:
        return {"sent": 0}
    before = b.connects
    conn.mute = True
    conn.send(publish(READINGS, "{}", qos=1, pid=b.pid())[:rng.randint(1, 4)])
    ok = b.wait_reconnect(before, timeout=20.0)
    return {"reconnected": ok}


def s_reset(b, rng, rnd):
    conn = b.current()
    if conn is None:
        return {"sent": 0}
    before = b.connects
    fr = publish(READINGS, '{"kind":"heart-rate"}', qos=1, pid=b.pid())
    conn.send(fr[:rng.randint(1, len(fr) - 1)])
    conn.close(rst=True)
    return {"reconnected": b.wait_reconnect(before)}


def s_hostile_connack(b, rng, rnd):
    plans = ["refused_5", "reserved_code", "bad_flags", "short", "long", "publish_first", "suback_first", "garbage",
             "silent"]
    rng.shuffle(plans)
    with b.lock:
        b.connack_plan = plans[:3]
    conn = b.current()
    before = b.connects
    if conn is not None:
        conn.close()
    # Three hostile answers, then an honest one: four connections.
    ok = b.wait_reconnect(before + 3, timeout=30.0)
    return {"plans": plans[:3], "reconnected": ok}


def s_hostile_suback(b, rng, rnd):
    plans = ["wrong_id", "wrong_count", "failure", "reserved_code", "empty", "silent"]
    rng.shuffle(plans)
    with b.lock:
        b.suback_plan = plans[:2]
    conn = b.current()
    before = b.connects
    if conn is not None:
        conn.close()
    ok = b.wait_reconnect(before + 2, timeout=30.0)
    return {"plans": plans[:2], "reconnected": ok}


SCENARIOS = {
    "mqtt_bad_remaining_length": s_bad_remaining_length,
    "mqtt_huge_remaining_length": s_huge_remaining_length,
    "mqtt_oversize": s_oversize,
    "mqtt_garbage": s_garbage,
    "mqtt_huge_topics": s_huge_topics,
    "mqtt_invalid_packets": s_invalid_packets,
    "mqtt_hostile_payloads": s_hostile_payloads,
    "mqtt_dup_redelivery": s_dup_redelivery,
    "mqtt_dup_same_connection": s_dup_same_connection,
    "mqtt_lost_puback": s_lost_puback,
    "mqtt_slowloris": s_slowloris,
    "mqtt_reset": s_reset,
    "mqtt_hostile_connack": s_hostile_connack,
    "mqtt_hostile_suback": s_hostile_suback,
}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seed", required=True)
    p.add_argument("--scenarios", default="")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--control-port", type=int, default=0)
    p.add_argument("--topic-count", type=int, default=300, help="huge topics per round (mqtt_huge_topics)")
    p.add_argument("--stream-mb", type=int, default=8, help="MiB streamed by mqtt_huge_remaining_length")
    p.add_argument("--list", action="store_true", help="print the scenario names and exit")
    args = p.parse_args()
    if args.list:
        print("\n".join(sorted(SCENARIOS)))
        return
    broker = Broker(args)
    log(WHO, "SEED %s scenarios %s" % (args.seed, ",".join(broker.scenarios) or "(none)"))
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.listen(16)
    control = ControlServer(WHO, {"POST /publish": broker.c_publish, "POST /round": broker.c_round,
                                  "GET /state": broker.c_state}, args.control_port)
    print("LISTENING %d %d" % (listener.getsockname()[1], control.port), flush=True)
    broker.serve(listener)


if __name__ == "__main__":
    main()
