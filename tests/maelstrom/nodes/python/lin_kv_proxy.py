#!/usr/bin/env python3
"""lin-kv workload: a stateless proxy onto Maelstrom's linearizable lin-kv
service.  read, write and cas are forwarded unchanged (with a fresh msg_id);
the service's reply, including errors 20 (key does not exist) and 22
(precondition failed), is relayed to the client with in_reply_to set to the
client's msg_id.  If the service does not answer within 1 s the client gets
error 0 (timeout, indefinite).

Expected verdict: valid.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))

from node import TIMEOUT, Node  # noqa: E402

SERVICE = "lin-kv"
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
