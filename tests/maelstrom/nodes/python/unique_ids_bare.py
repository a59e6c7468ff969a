#!/usr/bin/env python3
"""unique-ids workload, BUGGY: each node hands out a bare integer counter
starting at 0, so every node produces 0, 1, 2, ...

Expected verdict: invalid with more than one node (duplicate ids across
nodes); valid with --node-count 1.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))

from node import Node  # noqa: E402

node = Node()
counter = 0


@node.on("generate")
def generate(msg):
    global counter
    node.reply(msg, {"type": "generate_ok", "id": counter})
    counter += 1


if __name__ == "__main__":
    node.run()
