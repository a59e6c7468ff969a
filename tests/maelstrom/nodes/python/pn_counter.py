#!/usr/bin/env python3
"""pn-counter workload: a state-based PN-counter CRDT.

P[n] is the sum of positive deltas added on node n, N[n] the sum of the
magnitudes of negative ones; only node n raises its own entries.  Every 250
ms each node sends both maps to every other node ("merge", no reply), and
receivers take the per-entry maximum.  The value is sum(P) - sum(N).  Lost
gossip is repaired by the next round.

Expected verdict: valid (also for the g-counter workload), with or without
--nemesis partition.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))

from node import Node  # noqa: E402

node = Node()
P = {}
N = {}


@node.on("add")
def add(msg):
    delta = msg["body"]["delta"]
    me = node.node_id
    if delta >= 0:
        P[me] = P.get(me, 0) + delta
    else:
        N[me] = N.get(me, 0) - delta
    node.reply(msg, {"type": "add_ok"})


@node.on("read")
def read(msg):
    node.reply(msg, {"type": "read_ok",
                     "value": sum(P.values()) - sum(N.values())})


@node.on("merge")
def merge(msg):
    for mine, theirs in ((P, msg["body"]["p"]), (N, msg["body"]["n"])):
        for k, v in theirs.items():
            if v > mine.get(k, 0):
                mine[k] = v


def gossip():
    if not P and not N:
        return
    for n in node.other_nodes():
        node.send(n, {"type": "merge", "p": P, "n": N})


node.every(0.25, gossip)

if __name__ == "__main__":
    node.run()
