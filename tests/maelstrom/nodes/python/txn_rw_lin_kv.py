#!/usr/bin/env python3
"""txn-rw-register workload over Maelstrom's lin-kv service.

Same design as txn_lin_kv.py (one JSON value under lin-kv key "db", read +
cas retry loop, see txn_kv.py): ["r", k, null] is filled in with k's value
(null if absent); ["w", k, v] sets it.

Expected verdict: valid as strict-serializable.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))

import txn_kv  # noqa: E402
from node import Node  # noqa: E402


def apply_ops(db, ops):
    done, wrote = [], False
    for f, k, v in ops:
        kt = txn_kv.key_text(k)
        if f == "r":
            done.append([f, k, db.get(kt)])
        elif f == "w":
            db[kt] = v
            done.append([f, k, v])
            wrote = True
        else:
            raise ValueError("unknown micro-op %r" % (f,))
    return done, wrote


node = Node()
txn_kv.serve(node, apply_ops)

if __name__ == "__main__":
    node.run()
