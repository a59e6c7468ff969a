#!/usr/bin/env python3
"""broadcast workload: gossip along the topology with acknowledgements.

Every message a node learns is queued for each neighbour (except the one it
came from).  Every 100 ms the node sends each neighbour one "gossip" RPC with
all of that neighbour's unacknowledged messages; the neighbour's "gossip_ok"
removes them from the queue.  Anything lost to a partition is sent again
until it is acknowledged, so after the partition heals every node converges.
Without a topology message the neighbours are all other nodes.

Expected verdict: valid, with or without --nemesis partition (given the
usual quiet period after healing before the final reads).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))

import json  # noqa: E402

from node import Node  # noqa: E402

node = Node()
seen = {}  # json text -> message (messages may be any JSON value)
neighbours = None
unacked = {}  # neighbour -> {json text -> message}


def learn(message, came_from):
    """Records message; queues it for the neighbours if it is new."""
    key = json.dumps(message, sort_keys=True)
    if key in seen:
        return
    seen[key] = message
    for n in neighbours if neighbours is not None else node.other_nodes():
        if n != came_from:
            unacked.setdefault(n, {})[key] = message


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


@node.on("gossip")
def gossip(msg):
    for m in msg["body"]["messages"]:
        learn(m, msg["src"])
    node.reply(msg, {"type": "gossip_ok"})


def resend():
    for n, queue in unacked.items():
        if not queue:
            continue
        batch = dict(queue)

        def acked(reply, n=n, batch=batch):
            if reply["body"].get("type") != "gossip_ok":
                return  # e.g. error 11 from a node not yet initialised
            q = unacked.get(n, {})
            for k in batch:
                q.pop(k, None)

        node.rpc(n, {"type": "gossip", "messages": list(batch.values())},
                 acked, timeout=1.0)


node.every(0.1, resend)

if __name__ == "__main__":
    node.run()
