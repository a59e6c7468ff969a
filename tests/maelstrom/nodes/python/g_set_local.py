#!/usr/bin/env python3
"""g-set workload, BUGGY: each node keeps its own set and never replicates.

Expected verdict: invalid with more than one node (a final read on one node
misses elements added on the others); valid with --node-count 1.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))

import json  # noqa: E402

from node import Node  # noqa: E402

node = Node()
elements = {}


@node.on("add")
def on_add(msg):
    e = msg["body"]["element"]
    elements.setdefault(json.dumps(e, sort_keys=True), e)
    node.reply(msg, {"type": "add_ok"})


@node.on("read")
def on_read(msg):
    node.reply(msg, {"type": "read_ok", "value": list(elements.values())})


if __name__ == "__main__":
    node.run()
