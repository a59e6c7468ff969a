#!/usr/bin/env python3
"""g-counter workload, BUGGY: each node counts only the adds it received and
never tells anyone.

Expected verdict: invalid with more than one node (final reads are below the
sum of all adds); valid with --node-count 1.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))

from node import Node  # noqa: E402

node = Node()
total = 0


@node.on("add")
def add(msg):
    global total
    total += msg["body"]["delta"]
    node.reply(msg, {"type": "add_ok"})


@node.on("read")
def read(msg):
    node.reply(msg, {"type": "read_ok", "value": total})


if __name__ == "__main__":
    node.run()
