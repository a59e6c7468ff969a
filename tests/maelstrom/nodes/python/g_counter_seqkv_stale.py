#!/usr/bin/env python3
"""g-counter workload over seq-kv, BUGGY: g_counter_seqkv.py without the
write of a unique key before each read.

seq-kv only promises sequential consistency: a node that merely reads may be
served an old state for as long as it has not observed anything newer, so
its final read can miss increments made through the other nodes.

Expected verdict: likely invalid with more than one node (stale final
reads; how often depends on the service's staleness); valid with
--node-count 1.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))

import g_counter_seqkv  # noqa: E402

if __name__ == "__main__":
    g_counter_seqkv.SYNC_BEFORE_READ = False
    g_counter_seqkv.node.run()
