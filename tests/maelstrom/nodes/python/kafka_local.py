#!/usr/bin/env python3
"""kafka workload, BUGGY: every node keeps its own logs and committed
offsets and never talks to the others.

Clients on different nodes are handed the same offset of one key for
different messages, polls on one node never show sends made on another, and
committed offsets differ between nodes.

Expected verdict: invalid with more than one node (inconsistent offsets /
lost writes); valid with --node-count 1.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))

from kafka_log import REQUEST_TYPES, Logs  # noqa: E402
from node import Node  # noqa: E402

node = Node()
logs = Logs()


def handle(msg):
    node.reply(msg, logs.handle(msg["body"]))


for t in REQUEST_TYPES:
    node.on(t, handle)

if __name__ == "__main__":
    node.run()
