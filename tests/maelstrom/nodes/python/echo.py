#!/usr/bin/env python3
"""echo workload: answers each echo with echo_ok carrying the same payload.

Expected verdict: valid.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))

from node import Node  # noqa: E402

node = Node()


@node.on("echo")
def echo(msg):
    node.reply(msg, {"type": "echo_ok", "echo": msg["body"].get("echo")})


if __name__ == "__main__":
    node.run()
