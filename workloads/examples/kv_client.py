#!/usr/bin/env python3
"""faultline exec-plugin client for kvserver.py.

faultline starts one copy per worker process with these environment variables:

    FAULTLINE_NODE       node name
    FAULTLINE_NODE_ADDR  node address (an IP); kvserver listens on --port (7070)
    FAULTLINE_NODES      comma-separated node names
    FAULTLINE_PROCESS    worker process number

Each stdin line is one operation, e.g.

    {"id": 7, "f": "cas", "key": 3, "value": [1, 2]}

(``key`` is absent for single-register workloads; ``value`` is null for
reads). The client sends {"f", "key", "value"} to the kvserver over one
persistent TCP connection and writes exactly one stdout line per operation:

    {"id": 7, "type": "ok" | "fail" | "info", "value": ..., "error": "..."}

``fail`` means the operation definitely did not happen (including when the
connection could not be established); ``info`` means the outcome is unknown
(timeout or broken connection after sending; the connection is then dropped
and re-opened on the next operation). For ok reads ``value`` is the value
read (for ``txn``, the transaction with its reads filled in; for
``dequeue``, ``drain`` and ``generate`` what was taken or made); otherwise it
echoes the requested value. stdout carries protocol lines
only and is flushed after each; diagnostics go to stderr. The client exits
when stdin reaches EOF.
"""
import argparse
import json
import os
import socket
import sys

TIMEOUT = 1.5
# Ops whose ok reply carries what the op returned (not the value sent).
RESULTS = ("read", "txn", "dequeue", "drain", "generate")
# Ops that go to a named object with --workload.
NAMED = ("add", "read", "transfer")


def log(msg):
    print(f"kv_client[{os.environ.get('FAULTLINE_PROCESS', '?')}]: {msg}",
          file=sys.stderr, flush=True)


class Connection:
    """A lazily opened, persistent connection to one kvserver."""

    def __init__(self, addr):
        self.addr = addr
        self.sock = None
        self.rfile = None

    def close(self):
        if self.sock is not None:
            self.rfile.close()
            self.sock.close()
        self.sock = self.rfile = None

    def call(self, request):
        """Return the server's reply as {"type", "value"?, "error"?}."""
        if self.sock is None:
            try:
                self.sock = socket.create_connection(self.addr, TIMEOUT)
            except OSError as e:
                log(f"cannot connect to {self.addr}: {e}")
                return {"type": "fail", "error": f"cannot connect: {e}"}
            self.rfile = self.sock.makefile("rb")
        try:
            self.sock.sendall(json.dumps(request).encode() + b"\n")
            line = self.rfile.readline()
            if not line.endswith(b"\n"):
                raise ConnectionError("server closed the connection")
            reply = json.loads(line)
            if not isinstance(reply, dict) or reply.get("type") not in ("ok", "fail", "info"):
                raise ValueError(f"malformed reply {line!r}")
            return reply
        except (OSError, ValueError) as e:
            log(f"connection to {self.addr} failed after send: {e!r}")
            self.close()
            return {"type": "info", "error": f"indeterminate: {e!r}"}


def handle(conn, line, workload=None):
    """Turn one stdin line into one stdout response object."""
    try:
        op = json.loads(line)
        if not isinstance(op, dict):
            raise ValueError("operation is not a JSON object")
    except ValueError as e:
        log(f"bad operation {line!r}: {e}")
        return {"id": None, "type": "fail", "value": None, "error": f"bad operation: {e}"}
    f = op.get("f")
    server_f = f"{workload}-{f}" if workload and f in NAMED else f
    request = {"f": server_f, "key": op.get("key"), "value": op.get("value")}
    reply = conn.call(request)
    if reply["type"] == "ok" and f in RESULTS:
        value = reply.get("value")
    else:
        value = request["value"]
    out = {"id": op.get("id"), "type": reply["type"], "value": value}
    if reply.get("error") is not None:
        out["error"] = str(reply["error"])
    return out


def main():
    p = argparse.ArgumentParser(description="faultline exec client for kvserver")
    p.add_argument("--port", type=int, default=7070, help="kvserver port on the node")
    p.add_argument("--workload", choices=("set", "counter", "bank"), default=None,
                   help="the object add/read/transfer go to (default: the registers)")
    args = p.parse_args()

    host = os.environ.get("FAULTLINE_NODE_ADDR") or os.environ.get("FAULTLINE_NODE")
    if not host:
        log("FAULTLINE_NODE_ADDR is not set")
        return 2
    conn = Connection((host, args.port))
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            sys.stdout.write(json.dumps(handle(conn, line, args.workload)) + "\n")
            sys.stdout.flush()
    except BrokenPipeError:
        log("stdout closed, exiting")
    except KeyboardInterrupt:
        pass
    finally:
        conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
