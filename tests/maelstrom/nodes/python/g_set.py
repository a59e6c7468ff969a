#!/usr/bin/env python3
"""g-set workload: a state-based grow-only set.  Every 250 ms each node sends
its whole set to every other node ("replicate", no reply); receivers take the
union.  Lost gossip is repaired by the next round, so partitions only delay
convergence.

Expected verdict: valid, with or without --nemesis partition.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))

import json  # noqa: E402

from node import Node  # noqa: E402

node = Node()
elements = {}  # json text -> element


def add(e):
    elements.setdefault(json.dumps(e, sort_keys=True), e)


@node.on("add")
def on_add(msg):
    add(msg["body"]["element"])
    node.reply(msg, {"type": "add_ok"})


@node.on("read")
def on_read(msg):
    node.reply(msg, {"type": "read_ok", "value": list(elements.values())})


@node.on("replicate")
def on_replicate(msg):
    for e in msg["body"]["value"]:
        add(e)


def gossip():
    if not elements:
        return
    value = list(elements.values())
    for n in node.other_nodes():
        node.send(n, {"type": "replicate", "value": value})


node.every(0.25, gossip)

if __name__ == "__main__":
    node.run()
