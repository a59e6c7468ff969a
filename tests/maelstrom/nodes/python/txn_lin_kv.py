#!/usr/bin/env python3
"""txn-list-append workload over Maelstrom's lin-kv service.

The whole database is one JSON value under the lin-kv key "db"; each
transaction is a read of it plus (if it appends) a cas from the value read
to the new value, retried on error 22 (see txn_kv.py).  ["r", k, null] is
filled in with k's list (null if absent); ["append", k, v] extends k's list.

Expected verdict: valid as strict-serializable (so also serializable,
snapshot-isolation, ...).
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
            cur = db.get(kt)
            done.append([f, k, list(cur) if cur is not None else None])
        elif f == "append":
            db.setdefault(kt, []).append(v)
            done.append([f, k, v])
            wrote = True
        else:
            raise ValueError("unknown micro-op %r" % (f,))
    return done, wrote


node = Node()
txn_kv.serve(node, apply_ops)

if __name__ == "__main__":
    node.run()
