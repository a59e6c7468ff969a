#!/usr/bin/env python3
"""Runs each node of tests/maelstrom/nodes/ on mnet.py's in-process network
and checks the behaviour its docstring promises: correct nodes give the
right answers (also across a healed partition where that matters), buggy
twins show their bug.  This is a smoke test of the corpus, not a checker.

    python3 tests/maelstrom/tools/selftest.py            # every node
    python3 tests/maelstrom/tools/selftest.py g_set kafka_local
    python3 tests/maelstrom/tools/selftest.py --bin PATH broadcast
        (runs the named scenario against another program, e.g. a Rust
        example: --bin target/debug/examples/maelstrom_broadcast broadcast)
"""

import os
import sys
import time

HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, HERE)
from mnet import Net  # noqa: E402

NODES = os.path.join(HERE, "..", "nodes", "python")


def ok(cond, what):
    if not cond:
        raise AssertionError(what)


def t_echo(argv):
    net = Net(argv, 2)
    r = net.call("n1", {"type": "echo", "echo": {"x": [1, "two", None]}})
    ok(r["type"] == "echo_ok" and r["echo"] == {"x": [1, "two", None]}, r)
    r = net.call("n0", {"type": "bogus"})
    ok(r["type"] == "error" and r["code"] == 10, r)
    net.close()
    return True


def _ids(argv):
    net = Net(argv, 3)
    ids = [net.call(n, {"type": "generate"})["id"] for n in net.ids for _ in range(5)]
    net.close()
    return len(set(map(repr, ids))) == len(ids)


def _broadcast(argv, partition):
    net = Net(argv, 3)
    topo = {"n0": ["n1"], "n1": ["n0", "n2"], "n2": ["n1"]}
    for n in net.ids:
        ok(net.call(n, {"type": "topology", "topology": topo})["type"] == "topology_ok", n)
    if partition:
        net.partition(["n0"], ["n1", "n2"])
    for i in range(10):
        r = net.call(net.ids[i % 3], {"type": "broadcast", "message": i})
        ok(r["type"] == "broadcast_ok", r)
    time.sleep(0.5)
    net.heal()
    time.sleep(1.5)
    reads = [sorted(net.call(n, {"type": "read"})["messages"]) for n in net.ids]
    net.close()
    return all(r == list(range(10)) for r in reads)


def _gset(argv, partition=True):
    net = Net(argv, 3)
    if partition:
        net.partition(["n0"], ["n1", "n2"])
    for i in range(9):
        ok(net.call(net.ids[i % 3], {"type": "add", "element": i})["type"] == "add_ok", i)
    net.heal()
    time.sleep(1.0)
    reads = [sorted(net.call(n, {"type": "read"})["value"]) for n in net.ids]
    net.close()
    return all(r == list(range(9)) for r in reads)


def _counter(argv, deltas):
    net = Net(argv, 3)
    for i, d in enumerate(deltas):
        r = net.call(net.ids[i % 3], {"type": "add", "delta": d})
        ok(r["type"] == "add_ok", r)
    time.sleep(1.0)
    reads = [net.call(n, {"type": "read"})["value"] for n in net.ids]
    net.close()
    return all(r == sum(deltas) for r in reads)


def _kv(argv):
    """True if a write on one node is read back on every node at once."""
    net = Net(argv, 3)
    r = net.call("n0", {"type": "read", "key": 1})
    ok(r["type"] == "error" and r["code"] == 20, r)
    r = net.call("n1", {"type": "cas", "key": 1, "from": 0, "to": 1})
    ok(r["type"] == "error" and r["code"] == 20, r)
    fresh = True
    for v in range(30):
        ok(net.call(net.ids[v % 3], {"type": "write", "key": 1, "value": v})["type"] == "write_ok", v)
        for n in net.ids:
            r = net.call(n, {"type": "read", "key": 1})
            fresh &= r["type"] == "read_ok" and r["value"] == v
    r = net.call("n2", {"type": "cas", "key": 2, "from": 0, "to": 1})
    ok(r["type"] == "error" and r["code"] == 20, r)
    net.close()
    return fresh


def _kafka(argv):
    """True if offsets are unique per key and every node polls every send."""
    net = Net(argv, 3)
    offs = []
    for i in range(6):
        r = net.call(net.ids[i % 3], {"type": "send", "key": "k", "msg": i})
        ok(r["type"] == "send_ok", r)
        offs.append(r["offset"])
    r = net.call("n1", {"type": "commit_offsets", "offsets": {"k": 2}})
    ok(r["type"] == "commit_offsets_ok", r)
    good = len(set(offs)) == len(offs)
    for n in net.ids:
        r = net.call(n, {"type": "poll", "offsets": {"k": 0}})
        ok(r["type"] == "poll_ok", r)
        good &= sorted(m for _, m in r["msgs"].get("k", [])) == list(range(6))
        r = net.call(n, {"type": "list_committed_offsets", "keys": ["k", "zz"]})
        good &= r["type"] == "list_committed_offsets_ok" and r["offsets"] == {"k": 2}
    net.close()
    return good


def _txn(argv, w):
    """True if appends/writes made on one node are seen in order on all."""
    net = Net(argv, 3)
    good = True
    for i in range(6):
        op = ["append", 7, i] if w == "append" else ["w", 7, i]
        r = net.call(net.ids[i % 3], {"type": "txn", "txn": [["r", 7, None], op, ["r", 7, None]]})
        ok(r["type"] == "txn_ok", r)
        want_after = list(range(i + 1)) if w == "append" else i
        good &= r["txn"][1] == op and r["txn"][2] == ["r", 7, want_after]
    for n in net.ids:
        r = net.call(n, {"type": "txn", "txn": [["r", 7, None], ["r", "other", None]]})
        want = list(range(6)) if w == "append" else 5
        good &= r["txn"] == [["r", 7, want], ["r", "other", None]]
    net.close()
    return good


def _parallel(net, jobs):
    """Runs each job(client_name) in its own thread; returns their results."""
    import threading
    results = [None] * len(jobs)

    def run(i):
        results[i] = jobs[i]("c%d" % (i + 1))

    ts = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return results


def _counter_concurrent(argv):
    """6 clients add concurrently on 3 nodes, then n0 alone; 3 reads per
    node must all see the total (mnet's seq-kv is stale)."""
    net = Net(argv, 3)

    def job(c):
        total = 0
        for d in range(1, 11):
            r = net.call(net.ids[int(c[1:]) % 3], {"type": "add", "delta": d}, client=c)
            ok(r is not None and r["type"] == "add_ok", r)
            total += d
        return total

    want = sum(_parallel(net, [job] * 6))
    # A tail of adds on n0 alone: n1 and n2 last observed seq-kv before it.
    for _ in range(10):
        ok(net.call("n0", {"type": "add", "delta": 1})["type"] == "add_ok", "tail")
    want += 10
    time.sleep(1.0)
    reads = [net.call(n, {"type": "read"})["value"] for n in net.ids for _ in range(3)]
    net.close()
    return all(r == want for r in reads)


def _txn_concurrent(argv):
    """6 clients append unique elements to 3 keys on 3 nodes at once; every
    read must be a prefix of the final list, every append present once."""
    net = Net(argv, 3)

    def job(c):
        i, seen = int(c[1:]), []
        for j in range(8):
            k, v = (i + j) % 3, i * 100 + j
            r = net.call(net.ids[i % 3], {"type": "txn", "txn": [["r", k, None], ["append", k, v]]},
                         timeout=20, client=c)
            ok(r is not None and r["type"] == "txn_ok", r)
            seen.append((k, r["txn"][0][2] or [], v))
        return seen

    obs = [o for res in _parallel(net, [job] * 6) for o in res]
    final = net.call("n0", {"type": "txn", "txn": [["r", k, None] for k in range(3)]})["txn"]
    net.close()
    final = {op[1]: op[2] or [] for op in final}
    good = sorted(v for k in final for v in final[k]) == sorted(v for _, _, v in obs)
    for k, before, v in obs:
        good &= final[k][:len(before)] == before and v in final[k][len(before):]
    return good


def _kafka_concurrent(argv):
    net = Net(argv, 3)

    def job(c):
        return [net.call(net.ids[int(c[1:]) % 3], {"type": "send", "key": "k", "msg": int(c[1:]) * 100 + j},
                         client=c)["offset"] for j in range(10)]

    offs = [o for res in _parallel(net, [job] * 6) for o in res]
    net.close()
    return len(set(offs)) == len(offs)


SCENARIOS = {
    # name: (scenario, expected result)
    "echo": (t_echo, True),
    "unique_ids": (_ids, True),
    "unique_ids_bare": (_ids, False),
    "broadcast_retry": (lambda a: _broadcast(a, True), True),
    "broadcast_flood": (lambda a: _broadcast(a, True), False),
    "broadcast_flood_nofault": (lambda a: _broadcast(a, False), True),
    "g_set": (_gset, True),
    "g_set_local": (lambda a: _gset(a, False), False),
    "g_counter_seqkv": (lambda a: _counter(a, [1, 2, 3, 4, 5, 6]), True),
    "g_counter_local": (lambda a: _counter(a, [1, 2, 3, 4, 5, 6]), False),
    "pn_counter": (lambda a: _counter(a, [5, -2, 3, -7, 1, 10]), True),
    "lin_kv_proxy": (_kv, True),
    "lww_kv_proxy": (_kv, False),
    "kafka_leader": (_kafka, True),
    "kafka_local": (_kafka, False),
    "txn_lin_kv": (lambda a: _txn(a, "append"), True),
    "txn_local": (lambda a: _txn(a, "append"), False),
    "txn_rw_lin_kv": (lambda a: _txn(a, "w"), True),
    "g_counter_seqkv_concurrent": (_counter_concurrent, True),
    "pn_counter_concurrent": (_counter_concurrent, True),
    "g_counter_local_concurrent": (_counter_concurrent, False),
    "g_counter_seqkv_stale_concurrent": (_counter_concurrent, False),
    "txn_lin_kv_concurrent": (_txn_concurrent, True),
    "txn_local_concurrent": (_txn_concurrent, False),
    "kafka_leader_concurrent": (_kafka_concurrent, True),
    "kafka_local_concurrent": (_kafka_concurrent, False),
    # For Rust examples via --bin:
    "broadcast": (lambda a: _broadcast(a, True), True),
    "g_counter": (lambda a: _counter(a, [1, 2, 3, 4, 5, 6]), True),
}
FILE = {"broadcast_flood_nofault": "broadcast_flood"}


def main(args):
    binary = None
    if args[:1] == ["--bin"]:
        binary, args = args[1], args[2:]
    names = args or [n for n in SCENARIOS if n not in ("broadcast", "g_counter")]
    failed = 0
    for name in names:
        fn, want = SCENARIOS[name]
        base = FILE.get(name, name.replace("_concurrent", ""))
        argv = [binary] if binary else [os.path.join(NODES, base + ".py")]
        t0 = time.time()
        try:
            got = fn(argv)
            status = "ok" if got == want else "FAIL (behaved %s, expected %s)" % (
                "correct" if got else "buggy", "correct" if want else "buggy")
        except Exception as e:
            status = "FAIL (%s: %s)" % (type(e).__name__, e)
        failed += status != "ok"
        print("%-24s %-8s %s  %.1fs" % (name, "correct" if want else "buggy", status,
                                      time.time() - t0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
