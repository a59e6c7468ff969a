#!/usr/bin/env python3
"""unique-ids workload: ids are "<node id>-<per-node counter>", so no two
nodes can produce the same id.

Expected verdict: valid.
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
    counter += 1
    node.reply(msg, {"type": "generate_ok",
                     "id": "%s-%d" % (node.node_id, counter)})


if __name__ == "__main__":
    node.run()
