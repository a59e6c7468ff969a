#!/usr/bin/env python3
"""lin-kv workload, BUGGY: the same proxy as lin_kv_proxy.py, but onto
Maelstrom's lww-kv service, which is only eventually consistent (several
replicas merged last-write-wins), so reads can be stale and cas can succeed
against an old value.

Expected verdict: invalid (not linearizable) with several clients, e.g.
--node-count 3 --rate 100 (stale reads).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))

from node import TIMEOUT, Node  # noqa: E402

SERVICE = "lww-kv"
node = Node()


def proxy(msg):
    body = {k: v for k, v in msg["body"].items() if k != "msg_id"}

    def relay(reply):
        out = {k: v for k, v in reply["body"].items()
               if k not in ("msg_id", "in_reply_to")}
        node.reply(msg, out)

    def timed_out():
        node.error(msg, TIMEOUT, "%s did not answer" % SERVICE)

    node.rpc(SERVICE, body, relay, timeout=1.0, on_timeout=timed_out)


for t in ("read", "write", "cas"):
    node.on(t, proxy)

if __name__ == "__main__":
    node.run()
