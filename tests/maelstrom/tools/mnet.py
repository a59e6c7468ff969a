#!/usr/bin/env python3
"""A tiny in-process Maelstrom network for testing nodes by hand.

Not the faultline harness: this only exists so the nodes under
tests/maelstrom/nodes/ can be exercised without it.  It spawns N instances
of one node program, plays the network between them (with optional
partitions), plays Maelstrom's services, and offers clients that make RPCs
to the nodes.  Every line a node prints on stdout must be a JSON message
with src/dest/body and src equal to the node's id, or the run fails.

Services (all in-process, simplified):
  lin-kv   a linearizable map: read/write/cas, errors 20 and 22,
           create_if_not_exists on cas
  seq-kv   sequentially consistent: every state is kept; a request that
           changes nothing may be served from any state between the last
           one this client saw and the newest (so reads can be stale), a
           changing one runs on the newest state
  lww-kv   3 replicas; each request goes to a random replica and replicas
           merge last-write-wins only now and then, so reads can be stale
  lin-tso  ts -> ts_ok with 0, 1, 2, ...

Usage as a library: see selftest.py next to this file.
"""

import json
import queue
import random
import subprocess
import sys
import threading
import time


class ProtocolError(Exception):
    pass


class KVState:
    def __init__(self):
        self.m = {}

    @staticmethod
    def k(key):
        return json.dumps(key, sort_keys=True)

    def handle(self, body):
        t, k = body["type"], self.k(body.get("key"))
        if t == "read":
            if k not in self.m:
                return {"type": "error", "code": 20, "text": "key does not exist"}
            return {"type": "read_ok", "value": self.m[k]}
        if t == "write":
            self.m[k] = body["value"]
            return {"type": "write_ok"}
        if t == "cas":
            if k not in self.m:
                if body.get("create_if_not_exists"):
                    self.m[k] = body["to"]
                    return {"type": "cas_ok"}
                return {"type": "error", "code": 20, "text": "key does not exist"}
            if self.m[k] != body["from"]:
                return {"type": "error", "code": 22,
                        "text": "current value %r is not %r" % (self.m[k], body["from"])}
            self.m[k] = body["to"]
            return {"type": "cas_ok"}
        return {"type": "error", "code": 10, "text": "unsupported %r" % t}


class SeqKV:
    """Maelstrom-style seq-kv: stale but per-client monotonic reads."""

    def __init__(self):
        self.states = [{}]
        self.seen = {}  # client -> index of the last state it observed

    def handle(self, body, client):
        lo = self.seen.get(client, 0)
        i = random.randint(lo, len(self.states) - 1)
        kv = KVState()
        kv.m = dict(self.states[i])
        reply = kv.handle(body)
        if kv.m == self.states[i]:
            self.seen[client] = i
            return reply
        kv.m = dict(self.states[-1])
        reply = kv.handle(body)
        self.states.append(kv.m)
        self.seen[client] = len(self.states) - 1
        return reply


class LWW:
    """Replicas of KVState with per-key Lamport timestamps merged rarely."""

    def __init__(self, n=3):
        self.reps = [({}, [0]) for _ in range(n)]  # (key -> (ts, value), clock)

    def handle(self, body):
        if random.random() < 0.2:
            a, b = random.sample(range(len(self.reps)), 2)
            (ma, ca), (mb, cb) = self.reps[a], self.reps[b]
            for k, tv in ma.items():
                if k not in mb or mb[k][0] < tv[0]:
                    mb[k] = tv
            cb[0] = max(ca[0], cb[0])
        m, clock = random.choice(self.reps)
        t, k = body["type"], KVState.k(body.get("key"))
        if t == "read":
            if k not in m:
                return {"type": "error", "code": 20, "text": "key does not exist"}
            return {"type": "read_ok", "value": m[k][1]}
        if t == "write" or (t == "cas" and (
                (k in m and m[k][1] == body["from"])
                or (k not in m and body.get("create_if_not_exists")))):
            clock[0] += 1
            m[k] = (clock[0], body["value"] if t == "write" else body["to"])
            return {"type": t + "_ok"}
        if t == "cas":
            code = 22 if k in m else 20
            return {"type": "error", "code": code, "text": "cas failed"}
        return {"type": "error", "code": 10, "text": "unsupported %r" % t}


class Net:
    def __init__(self, argv, n=3, services=True, log_stderr=False):
        self.ids = ["n%d" % i for i in range(n)]
        self.q = queue.Queue()
        self.procs = {}
        self.cut = set()  # (a, b) pairs that drop messages
        self.lock = threading.Lock()
        self.waiting = {}  # (client, msg_id) -> [event, reply]
        self.next_id = 0
        self.errors = []
        self.lines = {i: 0 for i in self.ids}
        self.services = {}
        if services:
            self.services = {"lin-kv": KVState(), "seq-kv": SeqKV(),
                             "lww-kv": LWW()}
            self.tso = 0
        for nid in self.ids:
            p = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE,
                                 stderr=None if log_stderr else subprocess.DEVNULL,
                                 text=True, bufsize=1)
            self.procs[nid] = p
            threading.Thread(target=self._reader, args=(nid, p), daemon=True).start()
        threading.Thread(target=self._router, daemon=True).start()
        for nid in self.ids:
            r = self.call(nid, {"type": "init", "node_id": nid, "node_ids": self.ids})
            if r["type"] != "init_ok":
                raise ProtocolError("init of %s answered %r" % (nid, r))

    # -- plumbing
    def _reader(self, nid, p):
        for line in p.stdout:
            self.lines[nid] += 1
            try:
                msg = json.loads(line)
                assert isinstance(msg, dict) and set(msg) >= {"src", "dest", "body"}
                assert msg["src"] == nid, "src %r from %s" % (msg["src"], nid)
                assert isinstance(msg["body"].get("type"), str)
            except Exception as e:
                self.errors.append("%s printed a bad line %r (%s)" % (nid, line, e))
                continue
            self.q.put(msg)

    def _deliver(self, msg):
        dest = msg["dest"]
        if dest in self.procs:
            p = self.procs[dest]
            try:
                p.stdin.write(json.dumps(msg) + "\n")
                p.stdin.flush()
            except (BrokenPipeError, ValueError):
                pass
        else:
            key = (dest, msg["body"].get("in_reply_to"))
            with self.lock:
                w = self.waiting.get(key)
            if w is None:
                self.errors.append("unexpected message to %s: %r" % (dest, msg))
            else:
                w[1] = msg
                w[0].set()

    def _router(self):
        while True:
            msg = self.q.get()
            src, dest = msg["src"], msg["dest"]
            if (src, dest) in self.cut:
                continue
            if dest in self.services or dest == "lin-tso":
                body = msg["body"]
                if dest == "lin-tso":
                    reply = {"type": "ts_ok", "ts": self.tso}
                    self.tso += 1
                elif dest == "seq-kv":
                    reply = self.services[dest].handle(body, src)
                else:
                    reply = self.services[dest].handle(body)
                reply["in_reply_to"] = body.get("msg_id")
                self._deliver({"src": dest, "dest": src, "body": reply})
            else:
                self._deliver(msg)

    # -- API
    def call(self, node, body, timeout=5.0, client="c0"):
        """Sends body from client to node; returns the reply body, or None on
        timeout.  Checks in_reply_to."""
        with self.lock:
            self.next_id += 1
            mid = self.next_id
            w = [threading.Event(), None]
            self.waiting[(client, mid)] = w
        body = dict(body, msg_id=mid)
        self.q.put({"src": client, "dest": node, "body": body})
        ok = w[0].wait(timeout)
        with self.lock:
            del self.waiting[(client, mid)]
        if not ok:
            return None
        return w[1]["body"]

    def send_raw(self, node, body, src="c0"):
        self.q.put({"src": src, "dest": node, "body": body})

    def partition(self, *groups):
        """Cuts every link between different groups of node ids."""
        self.cut = set()
        for g in groups:
            for h in groups:
                if g is not h:
                    self.cut |= {(a, b) for a in g for b in h}

    def heal(self):
        self.cut = set()

    def close(self, timeout=5.0):
        """Closes every node's stdin; checks each exits 0 in time."""
        for nid, p in self.procs.items():
            try:
                p.stdin.close()
            except BrokenPipeError:
                pass
        for nid, p in self.procs.items():
            try:
                rc = p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                self.errors.append("%s did not exit after stdin closed" % nid)
                continue
            if rc != 0:
                self.errors.append("%s exited %d" % (nid, rc))
        time.sleep(0.1)
        if self.errors:
            raise ProtocolError("; ".join(self.errors))


if __name__ == "__main__":
    print(__doc__, file=sys.stderr)
