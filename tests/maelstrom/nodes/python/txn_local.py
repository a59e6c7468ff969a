#!/usr/bin/env python3
"""txn-list-append workload, BUGGY: each node applies transactions to its
own in-memory map and never talks to the others.

On one node the history is even strict serializable (each transaction runs
atomically under the node lock); across nodes each node has its own version
of every list, so reads on different nodes see incompatible orders and
appends made elsewhere are missing.

Expected verdict: invalid with more than one node (G-single / G2 /
incompatible orders, depending on what the checker finds first); valid with
--node-count 1.  Serves txn-rw-register too (["w", k, v]), equally invalid.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))

import json  # noqa: E402

from node import Node  # noqa: E402

node = Node()
db = {}


@node.on("txn")
def txn(msg):
    done = []
    for f, k, v in msg["body"]["txn"]:
        kt = json.dumps(k, sort_keys=True)
        if f == "r":
            cur = db.get(kt)
            done.append([f, k, list(cur) if isinstance(cur, list) else cur])
        elif f == "append":
            db.setdefault(kt, []).append(v)
            done.append([f, k, v])
        elif f == "w":
            db[kt] = v
            done.append([f, k, v])
        else:
            raise ValueError("unknown micro-op %r" % (f,))
    node.reply(msg, {"type": "txn_ok", "txn": done})


if __name__ == "__main__":
    node.run()
