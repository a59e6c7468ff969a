#!/usr/bin/env python3
"""broadcast workload, BUGGY under faults: each new message is forwarded
exactly once to every neighbour, with no acknowledgement and no retry.

A message dropped by a partition is never sent again, so nodes on the far
side never learn it.

Expected verdict: invalid under --nemesis partition (final reads miss
messages); likely valid without faults (nothing is dropped).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))

import json  # noqa: E402

from node import Node  # noqa: E402

node = Node()
seen = {}
neighbours = None


def learn(message, came_from):
    key = json.dumps(message, sort_keys=True)
    if key in seen:
        return
    seen[key] = message
    for n in neighbours if neighbours is not None else node.other_nodes():
        if n != came_from:
            node.send(n, {"type": "flood", "message": message})


@node.on("topology")
def topology(msg):
    global neighbours
    topo = msg["body"].get("topology") or {}
    neighbours = list(topo.get(node.node_id, node.other_nodes()))
    node.reply(msg, {"type": "topology_ok"})


@node.on("broadcast")
def broadcast(msg):
    learn(msg["body"]["message"], None)
    node.reply(msg, {"type": "broadcast_ok"})


@node.on("read")
def read(msg):
    node.reply(msg, {"type": "read_ok", "messages": list(seen.values())})


@node.on("flood")
def flood(msg):
    learn(msg["body"]["message"], msg["src"])


if __name__ == "__main__":
    node.run()
