#!/usr/bin/env python3
"""g-counter workload over Maelstrom's seq-kv service (Gossip Glomers style).

Each node owns one seq-kv key, "count-<node id>", and is its only writer.
add: read the node's own key (absent = 0), then cas it from that value to
value + delta with create_if_not_exists; on error 22 (a stale read) read
again and retry.  Adds on one node are serialised by a lock, so a plain
write stands in if the service answers the creating cas with 20 (a service
without create_if_not_exists).  A cas that times out is answered with error
0 (indefinite: it may have happened).

read: seq-kv may serve stale states, but a write moves this client to the
latest state.  So a read first writes a unique key ("sync-<node id>", a
fresh counter value), then reads every node's key and sums them.

Expected verdict: valid.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))

import threading  # noqa: E402

from node import (KEY_DOES_NOT_EXIST, PRECONDITION_FAILED,  # noqa: E402
                  TEMPORARILY_UNAVAILABLE, KV, Node, RPCError, log)

node = Node()
kv = KV(node, "seq-kv", timeout=1.0)
add_lock = threading.Lock()
sync_counter = [0]
# g_counter_seqkv_stale.py turns this off to get the buggy twin.
SYNC_BEFORE_READ = True


def key_of(n):
    return "count-%s" % n


@node.on("add", threaded=True)
def add(msg):
    delta = msg["body"]["delta"]
    mine = key_of(node.node_id)
    with add_lock:
        for _ in range(100):
            try:
                cur = kv.read(mine, 0)
            except RPCError as e:
                node.error(msg, TEMPORARILY_UNAVAILABLE, "read: %s" % e)
                return
            if delta == 0:
                break
            try:
                kv.cas(mine, cur, cur + delta, create_if_not_exists=True)
                break
            except RPCError as e:
                if e.code == PRECONDITION_FAILED:
                    continue
                if e.code == KEY_DOES_NOT_EXIST and cur == 0:
                    try:
                        kv.write(mine, delta)
                        break
                    except RPCError as e2:
                        e = e2
                log("add failed:", e)
                node.error(msg, e.code, "cas: %s" % e)
                return
        else:
            node.error(msg, TEMPORARILY_UNAVAILABLE, "too much contention")
            return
    node.reply(msg, {"type": "add_ok"})


@node.on("read", threaded=True)
def read(msg):
    try:
        with add_lock:
            sync_counter[0] += 1
            n = sync_counter[0]
        if SYNC_BEFORE_READ:
            kv.write("sync-%s" % node.node_id, n)
        total = 0
        for other in node.node_ids:
            total += kv.read(key_of(other), 0)
    except RPCError as e:
        node.error(msg, TEMPORARILY_UNAVAILABLE, "read: %s" % e)
        return
    node.reply(msg, {"type": "read_ok", "value": total})


if __name__ == "__main__":
    node.run()
