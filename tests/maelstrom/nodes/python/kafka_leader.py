#!/usr/bin/env python3
"""kafka workload: a single leader holds every log.

The leader is the first node of init's node_ids (n0, or n1 in Maelstrom's
numbering); it answers send, poll, commit_offsets and list_committed_offsets
from its in-memory logs (offsets 0, 1, 2, ... per key; committed offsets only
move forward).  Every other node forwards each request body unchanged to the
leader and relays the leader's answer to its client.  If the leader does not
answer within 1 s (a partition), the client gets error 0 for send and
commit_offsets (indefinite: the leader may have applied it) and error 11
for poll and list_committed_offsets.

Expected verdict: valid, with or without --nemesis partition (clients cut
off from the leader get errors, not wrong answers).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))

from kafka_log import REQUEST_TYPES, Logs  # noqa: E402
from node import TEMPORARILY_UNAVAILABLE, TIMEOUT, Node  # noqa: E402

node = Node()
logs = Logs()


def leader():
    return node.node_ids[0]


def handle(msg):
    body = msg["body"]
    if node.node_id == leader():
        node.reply(msg, logs.handle(body))
        return
    fwd = {k: v for k, v in body.items() if k != "msg_id"}

    def relay(reply):
        node.reply(msg, {k: v for k, v in reply["body"].items()
                         if k not in ("msg_id", "in_reply_to")})

    def timed_out():
        if body["type"] in ("send", "commit_offsets"):
            node.error(msg, TIMEOUT, "leader %s did not answer" % leader())
        else:
            node.error(msg, TEMPORARILY_UNAVAILABLE,
                       "leader %s unreachable" % leader())

    node.rpc(leader(), fwd, relay, timeout=1.0, on_timeout=timed_out)


for t in REQUEST_TYPES:
    node.on(t, handle)

if __name__ == "__main__":
    node.run()
