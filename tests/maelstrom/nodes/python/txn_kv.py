"""Transactions over one lin-kv key, shared by txn_lin_kv.py and
txn_rw_lin_kv.py (not a node itself).

The whole database is a single JSON object stored under the lin-kv key
"db": {"<json of key>": value}.  A transaction reads "db" (absent = empty),
applies its micro-ops in order to a copy, and, unless it wrote nothing,
installs the result with cas from the exact value read (create_if_not_exists
for the first transaction).  Error 22 (someone else committed in between)
means: read again and retry.  Because every committed transaction is one
linearizable cas (and a read-only transaction is one linearizable read) of
the whole state, the history is strict serializable.

Errors: a failed read or too many retries is error 11 (definite: nothing
was written); a cas that timed out is error 0 (indefinite).
"""

import copy
import json
import random
import time

from node import (KEY_DOES_NOT_EXIST, PRECONDITION_FAILED,
                  TEMPORARILY_UNAVAILABLE, KV, RPCError, log)

DB_KEY = "db"


def key_text(k):
    return json.dumps(k, sort_keys=True)


def serve(node, apply_ops):
    """Registers a threaded "txn" handler on node.  apply_ops(db, txn)
    mutates db (a dict) and returns (completed txn, wrote_anything)."""
    kv = KV(node, "lin-kv", timeout=1.0)

    def txn(msg):
        ops = msg["body"]["txn"]
        for attempt in range(200):
            try:
                old = kv.read(DB_KEY, None)
            except RPCError as e:
                node.error(msg, TEMPORARILY_UNAVAILABLE, "read: %s" % e)
                return
            db = copy.deepcopy(old) if old is not None else {}
            done, wrote = apply_ops(db, ops)
            if not wrote:
                break
            try:
                if old is None:
                    kv.cas(DB_KEY, {}, db, create_if_not_exists=True)
                else:
                    kv.cas(DB_KEY, old, db)
                break
            except RPCError as e:
                if e.code in (PRECONDITION_FAILED, KEY_DOES_NOT_EXIST):
                    time.sleep(random.uniform(0, 0.002 * min(attempt, 20)))
                    continue
                log("txn cas failed:", e)
                node.error(msg, e.code, "cas: %s" % e)
                return
        else:
            node.error(msg, TEMPORARILY_UNAVAILABLE, "too much contention")
            return
        node.reply(msg, {"type": "txn_ok", "txn": done})

    node.on("txn", txn, threaded=True)
