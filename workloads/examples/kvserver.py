#!/usr/bin/env python3
"""A tiny primary/backup key-value register service: the database under test.

Usage:
    kvserver.py --listen HOST:PORT --primary HOST:PORT [--stale-rate P] [--seed N]
                [--accounts N --total T] [--bug NAME ...] [--crash-after N]

Protocol (JSON lines over TCP; a connection may carry many requests in turn):

    request:  {"f": "read" | "write" | "cas", "key": K, "value": V}
    response: {"type": "ok", "value": ...}
              {"type": "fail", "error": "..."}    definitely not executed
              {"type": "info", "error": "..."}    outcome unknown

``key`` may be absent or null (one default register); keys are JSON scalars.
``read`` returns the value (null if unset), ``write v`` sets it, and
``cas [old, new]`` sets ``new`` only if the value equals ``old``, else fails
with "cas mismatch".

If ``--listen`` equals ``--primary`` this node is the primary: it holds the
registers in memory behind one lock, so the service is linearizable. Otherwise
it is a backup that forwards each request to the primary (one persistent link
per client connection) and relays the answer: ``fail`` if the primary cannot be
reached, ``info`` if the link breaks or times out after sending.

``--stale-rate P`` is a deliberate bug for backups: with probability P a read
is answered from the last value the backup saw for that key, without asking
the primary. With P = 0 (the default) the service is correct.

Transactions: {"f": "txn", "value": [["append", k, v], ["r", k, null], ["w", k, v], ...]}
run atomically on the primary (serializable); the reply's value is the
transaction with every read filled in (a list for appended keys).

Jepsen's other workloads, also held by the primary under its one lock (so
correct unless a bug is switched on):

    set-add v       add v to the set            set-read      -> sorted list
    counter-add n   add n to the counter        counter-read  -> int
    bank-transfer {"from": a, "to": b, "amount": n}
                    move n from account a to b; fails if a has less than n
    bank-read       -> {"0": balance, "1": ..., ...}
                    (--accounts N accounts 0..N-1 sharing --total T, the
                    remainder of T / N on account 0; default 5 and 100)
    enqueue v       append v to the queue       dequeue -> head (fail if empty)
    drain           -> every value left, in order, removing them
    generate        -> a fresh id (unique across the service)

``--bug NAME`` (repeatable) breaks exactly one guarantee, on the primary:

    lose-set-adds   every 7th acknowledged set-add is not stored   (set: lost)
    counter-drop    every 7th acknowledged counter-add is not applied
                    (counter: errors, reads below their lower bound)
    bank-nonatomic  a transfer debits, releases the lock, then credits 5 ms
                    later: reads see money in flight (bank: wrong-total)
    lose-enqueues   every 7th acknowledged enqueue is dropped (total-queue: lost)
    duplicate-ids   every 7th generate hands out the previous id again
                    (unique-ids: duplicated)
    fork-reads      a read-only transaction reads its keys one at a time,
                    letting go of the lock 2 ms between keys: reads are no
                    longer snapshots (long-fork: forks)

``--crash-after N`` makes this node's server exit (status 70) after it has
answered N requests, after logging a FATAL line: a crash for the db-alive
and log-pattern checkers to find.
"""
import argparse
import collections
import json
import os
import random
import signal
import socket
import socketserver
import sys
import threading
import time

OPS = ("read", "write", "cas", "txn", "set-add", "set-read", "counter-add", "counter-read",
       "bank-transfer", "bank-read", "enqueue", "dequeue", "drain", "generate")
BUGS = ("lose-set-adds", "counter-drop", "bank-nonatomic", "lose-enqueues", "duplicate-ids",
        "fork-reads")
REGISTER_OPS = ("read", "write", "cas")
EVERY = 7
SCALARS = (str, int, float, bool, type(None))
UPSTREAM_TIMEOUT = 1.0


def log(msg):
    print(f"kvserver: {msg}", file=sys.stderr, flush=True)


def parse_addr(text):
    host, _, port = text.rpartition(":")
    return host or "127.0.0.1", int(port)


def parse_request(line):
    """Return (f, key, value) or raise ValueError describing the problem."""
    req = json.loads(line)
    if not isinstance(req, dict):
        raise ValueError("request is not a JSON object")
    f, key, value = req.get("f"), req.get("key"), req.get("value")
    if f not in OPS:
        raise ValueError(f"unknown f {f!r}")
    if not isinstance(key, SCALARS):
        raise ValueError("key must be a JSON scalar")
    if f == "cas" and not (isinstance(value, list) and len(value) == 2):
        raise ValueError("cas value must be [old, new]")
    if f == "txn" and not (
        isinstance(value, list)
        and all(isinstance(m, list) and len(m) == 3 and m[0] in ("append", "r", "w") for m in value)
    ):
        raise ValueError('txn value must be a list of ["append"|"r"|"w", key, value]')
    if f == "bank-transfer" and not (
        isinstance(value, dict)
        and all(isinstance(value.get(k), int) for k in ("from", "to", "amount"))
    ):
        raise ValueError('bank-transfer value must be {"from": a, "to": b, "amount": n}')
    if f == "counter-add" and not isinstance(value, int):
        raise ValueError("counter-add value must be an integer")
    return f, key, value


class Primary:
    """Holds the registers; every operation runs under one lock."""

    def __init__(self, accounts=5, total=100, bugs=()):
        self.data = {}
        self.lock = threading.Lock()
        self.bugs = set(bugs)
        self.set = set()
        self.counter = 0
        self.balances = {str(a): total // accounts for a in range(accounts)}
        self.balances["0"] += total - sum(self.balances.values())
        self.queue = collections.deque()
        self.next_id = 0
        self.calls = collections.Counter()

    def buggy(self, bug):
        """Whether `bug` is on and strikes this time (every EVERY-th call)."""
        if bug not in self.bugs:
            return False
        self.calls[bug] += 1
        return self.calls[bug] % EVERY == 0

    def execute(self, f, key, value, _upstream):
        if f == "txn" and "fork-reads" in self.bugs and all(m[0] == "r" for m in value):
            return {"type": "ok", "value": self.read_one_by_one(value)}
        if f == "txn":
            with self.lock:
                return {"type": "ok", "value": self.transact(value)}
        if f == "bank-transfer" and "bank-nonatomic" in self.bugs:
            return self.transfer_nonatomic(value)
        if f not in REGISTER_OPS:
            with self.lock:
                return self.jepsen(f, value)
        k = json.dumps(key)
        with self.lock:
            current = self.data.get(k)
            if f == "read":
                return {"type": "ok", "value": current}
            if f == "write":
                self.data[k] = value
                return {"type": "ok", "value": value}
            old, new = value
            if current != old:
                return {"type": "fail", "error": "cas mismatch"}
            self.data[k] = new
            return {"type": "ok", "value": value}


    def jepsen(self, f, value):
        """Jepsen's set, counter, bank, queue and id operations (under the lock)."""
        ok = {"type": "ok", "value": value}
        if f == "set-add":
            if not self.buggy("lose-set-adds"):
                self.set.add(json.dumps(value))
            return ok
        if f == "set-read":
            values = [json.loads(v) for v in self.set]
            try:
                values.sort()
            except TypeError:
                values.sort(key=json.dumps)
            return {"type": "ok", "value": values}
        if f == "counter-add":
            if not self.buggy("counter-drop"):
                self.counter += value
            return ok
        if f == "counter-read":
            return {"type": "ok", "value": self.counter}
        if f == "bank-read":
            return {"type": "ok", "value": dict(self.balances)}
        if f == "bank-transfer":
            src, dst, n = str(value["from"]), str(value["to"]), value["amount"]
            if src not in self.balances or dst not in self.balances or src == dst:
                return {"type": "fail", "error": f"no such transfer {value}"}
            if self.balances[src] < n:
                return {"type": "fail", "error": "insufficient funds"}
            self.balances[src] -= n
            self.balances[dst] += n
            return ok
        if f == "enqueue":
            if not self.buggy("lose-enqueues"):
                self.queue.append(value)
            return ok
        if f == "dequeue":
            if not self.queue:
                return {"type": "fail", "error": "empty queue"}
            return {"type": "ok", "value": self.queue.popleft()}
        if f == "drain":
            out = list(self.queue)
            self.queue.clear()
            return {"type": "ok", "value": out}
        # generate
        if not self.buggy("duplicate-ids"):
            self.next_id += 1
        return {"type": "ok", "value": self.next_id}

    def transfer_nonatomic(self, value):
        """The bank-nonatomic bug: debit, let go of the lock, credit later."""
        src, dst, n = str(value["from"]), str(value["to"]), value["amount"]
        with self.lock:
            if src not in self.balances or dst not in self.balances or src == dst:
                return {"type": "fail", "error": f"no such transfer {value}"}
            if self.balances[src] < n:
                return {"type": "fail", "error": "insufficient funds"}
            self.balances[src] -= n
        time.sleep(0.005)
        with self.lock:
            self.balances[dst] += n
        return {"type": "ok", "value": value}

    def read_one_by_one(self, mops):
        """The fork-reads bug: each key read under the lock on its own."""
        out = []
        for i, (_, key, _) in enumerate(mops):
            if i:
                time.sleep(0.002)
            with self.lock:
                out.append(self.transact([["r", key, None]])[0])
        return out

    def transact(self, mops):
        """Runs a transaction's micro-ops atomically (called under the lock)."""
        out = []
        for f, key, value in mops:
            k = "txn:" + json.dumps(key)
            if f == "append":
                self.data[k] = self.data.get(k, []) + [value]
                out.append([f, key, value])
            elif f == "w":
                self.data[k] = value
                out.append([f, key, value])
            else:
                current = self.data.get(k)
                out.append(["r", key, list(current) if isinstance(current, list) else current])
        return out


class Upstream:
    """One persistent connection from a backup to the primary."""

    def __init__(self, addr):
        self.addr = addr
        self.sock = None
        self.rfile = None

    def close(self):
        if self.sock is not None:
            self.rfile.close()
            self.sock.close()
        self.sock = self.rfile = None

    def call(self, request):
        if self.sock is None:
            try:
                self.sock = socket.create_connection(self.addr, UPSTREAM_TIMEOUT)
            except OSError as e:
                log(f"primary unreachable: {e}")
                return {"type": "fail", "error": f"primary unreachable: {e}"}
            self.rfile = self.sock.makefile("rb")
        try:
            self.sock.sendall(json.dumps(request).encode() + b"\n")
            line = self.rfile.readline()
            if not line.endswith(b"\n"):
                raise ConnectionError("primary closed the connection")
            return json.loads(line)
        except (OSError, ValueError) as e:
            log(f"primary link failed after send: {e!r}")
            self.close()
            return {"type": "info", "error": f"primary link failed: {e!r}"}


class Backup:
    """Forwards to the primary; optionally serves stale reads from a cache."""

    def __init__(self, stale_rate, seed):
        self.stale_rate = stale_rate
        self.rng = random.Random(seed)
        self.cache = {}
        self.lock = threading.Lock()

    def execute(self, f, key, value, upstream):
        k = json.dumps(key)
        if f not in REGISTER_OPS:
            return upstream.call({"f": f, "key": key, "value": value})
        with self.lock:
            if f == "read" and k in self.cache and self.rng.random() < self.stale_rate:
                return {"type": "ok", "value": self.cache[k]}
        resp = upstream.call({"f": f, "key": key, "value": value})
        if resp.get("type") == "ok":
            seen = value[1] if f == "cas" else resp.get("value")
            with self.lock:
                self.cache[k] = seen
        return resp


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        self.upstream = Upstream(self.server.primary_addr)
        try:
            self.serve_lines()
        except OSError as e:
            # A peer that crashed or was cut off mid-connection (a reset) is
            # what fault injection does, not a server error.
            log(f"client {self.client_address} went away: {e}")
        finally:
            self.upstream.close()

    def serve_lines(self):
        for line in self.rfile:
            if not line.endswith(b"\n"):
                break  # truncated request at EOF: never execute it
            if not line.strip():
                continue
            try:
                f, key, value = parse_request(line)
            except ValueError as e:
                log(f"bad request from {self.client_address}: {e}")
                resp = {"type": "fail", "error": f"bad request: {e}"}
            else:
                resp = self.server.node.execute(f, key, value, self.upstream)
            self.server.answered()
            try:
                self.wfile.write(json.dumps(resp).encode() + b"\n")
            except OSError as e:
                log(f"client {self.client_address} went away: {e}")
                return


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 128
    crash_after = None
    count = 0
    count_lock = threading.Lock()

    def answered(self):
        """Counts a request; the --crash-after switch exits here."""
        if self.crash_after is None:
            return
        with self.count_lock:
            self.count += 1
            if self.count >= self.crash_after:
                log(f"FATAL: simulated crash after {self.count} requests (--crash-after)")
                os._exit(70)


def on_sigterm(_signum, _frame):
    log("SIGTERM, exiting")
    raise SystemExit(0)


def main():
    p = argparse.ArgumentParser(description="tiny primary/backup KV register")
    p.add_argument("--listen", required=True, help="HOST:PORT to serve on")
    p.add_argument("--primary", required=True, help="HOST:PORT of the primary")
    p.add_argument("--stale-rate", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--accounts", type=int, default=5, help="bank accounts 0..N-1")
    p.add_argument("--total", type=int, default=100, help="bank: total of all balances")
    p.add_argument("--bug", action="append", default=[], choices=BUGS,
                   help="break one guarantee on purpose (repeatable)")
    p.add_argument("--crash-after", type=int, default=None,
                   help="exit after answering N requests (a simulated crash)")
    args = p.parse_args()
    if args.accounts < 1 or args.total < 0:
        p.error("--accounts must be at least 1 and --total at least 0")

    listen, primary = parse_addr(args.listen), parse_addr(args.primary)
    is_primary = listen == primary
    if is_primary:
        node = Primary(args.accounts, args.total, args.bug)
    else:
        node = Backup(args.stale_rate, args.seed)

    signal.signal(signal.SIGTERM, on_sigterm)
    server = Server(listen, Handler)
    server.node, server.primary_addr = node, primary
    server.crash_after = args.crash_after
    role = "primary" if is_primary else f"backup (stale-rate {args.stale_rate})"
    if args.bug:
        role += f", bugs {', '.join(args.bug)}"
    log(f"listening on {args.listen} as {role}, primary {args.primary}")
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
