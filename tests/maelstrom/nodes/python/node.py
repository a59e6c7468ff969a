"""A small Maelstrom node library (Python 3 standard library only).

The protocol is Maelstrom's (jepsen-io/maelstrom): one JSON object per line on
stdin and stdout, each ``{"src", "dest", "body"}``; logs go to stderr.  This
code is original to faultline.

Threading model
---------------
* The main thread reads stdin.  Replies to our own RPCs (bodies carrying an
  ``in_reply_to`` we are waiting on) are matched to their callbacks; every
  other message goes to the handler registered for its ``type``.
* Plain handlers, RPC callbacks, RPC timeouts and periodic tasks all run while
  holding ``node.lock`` (an RLock), so node state touched only from them needs
  no further locking.
* A handler registered with ``threaded=True`` runs in its own daemon thread
  *without* the lock.  Only such handlers may use the blocking ``call`` (and
  the ``KV`` helper built on it); take ``node.lock`` yourself around shared
  state.
* When stdin closes the node flushes stdout and exits with status 0.

Unknown message types: a *request* (a body with ``msg_id`` and no
``in_reply_to``) gets an error reply with code 10 (not-supported); anything
else (unsolicited replies, late replies to timed-out RPCs, messages without a
``msg_id``) is ignored, with a line on stderr.
"""

import json
import sys
import threading
import time

# Maelstrom's error codes (doc/protocol.md).
TIMEOUT = 0
NODE_NOT_FOUND = 1
NOT_SUPPORTED = 10
TEMPORARILY_UNAVAILABLE = 11
MALFORMED_REQUEST = 12
CRASH = 13
ABORT = 14
KEY_DOES_NOT_EXIST = 20
KEY_ALREADY_EXISTS = 21
PRECONDITION_FAILED = 22
TXN_CONFLICT = 30


def log(*args):
    """Writes one line to stderr (never stdout)."""
    print(*args, file=sys.stderr, flush=True)


class RPCError(Exception):
    """An error reply (or a timeout) to a blocking ``call``."""

    def __init__(self, code, text=""):
        super().__init__("error %s: %s" % (code, text))
        self.code = code
        self.text = text

    @staticmethod
    def from_body(body):
        return RPCError(body.get("code", CRASH), body.get("text", ""))


class Node:
    def __init__(self):
        self.node_id = None
        self.node_ids = []
        self.lock = threading.RLock()
        self._out_lock = threading.Lock()
        self._id_lock = threading.Lock()
        self._next_msg_id = 0
        self._handlers = {}
        # msg_id -> (callback, deadline or None, on_timeout or None)
        self._pending = {}
        self._periodic = []
        self._init_hooks = []
        self._started = False

    # ----------------------------------------------------------- registration

    def on(self, msg_type, handler=None, threaded=False):
        """Registers ``handler(msg)`` for bodies of type ``msg_type``.

        Usable as ``node.on("echo", fn)`` or as a decorator
        ``@node.on("echo")``."""

        def register(fn):
            self._handlers[msg_type] = (fn, threaded)
            return fn

        if handler is None:
            return register
        return register(handler)

    def on_init(self, fn):
        """Registers ``fn()`` to run (under the lock) once init has been
        answered; node_id and node_ids are set by then."""
        self._init_hooks.append(fn)
        return fn

    def every(self, seconds, fn):
        """Runs ``fn()`` every ``seconds`` (under the lock) once init is
        done."""
        self._periodic.append((seconds, fn))

    # ----------------------------------------------------------------- output

    def new_msg_id(self):
        with self._id_lock:
            self._next_msg_id += 1
            return self._next_msg_id

    def other_nodes(self):
        return [n for n in self.node_ids if n != self.node_id]

    def _write(self, dest, body):
        line = json.dumps({"src": self.node_id, "dest": dest, "body": body},
                          separators=(",", ":"))
        with self._out_lock:
            try:
                sys.stdout.write(line + "\n")
                sys.stdout.flush()
            except (BrokenPipeError, ValueError):
                pass  # the harness has gone; we exit when stdin closes

    def send(self, dest, body):
        """Sends ``body`` to ``dest`` without a msg_id (fire and forget)."""
        self._write(dest, body)

    def reply(self, req, body):
        """Replies to the request message ``req`` with ``body`` (a fresh
        dict; ``msg_id`` and ``in_reply_to`` are filled in)."""
        body = dict(body)
        body["msg_id"] = self.new_msg_id()
        if "msg_id" in req["body"]:
            body["in_reply_to"] = req["body"]["msg_id"]
        self._write(req["src"], body)

    def error(self, req, code, text=""):
        self.reply(req, {"type": "error", "code": code, "text": text})

    def rpc(self, dest, body, callback, timeout=None, on_timeout=None):
        """Sends ``body`` with a fresh msg_id; ``callback(reply_msg)`` runs
        (under the lock) when the reply arrives.  With ``timeout`` seconds,
        ``on_timeout()`` runs instead if no reply came in time (a late reply
        is then ignored).  Returns the msg_id."""
        body = dict(body)
        msg_id = self.new_msg_id()
        body["msg_id"] = msg_id
        deadline = None if timeout is None else time.monotonic() + timeout
        with self.lock:
            self._pending[msg_id] = (callback, deadline, on_timeout)
        self._write(dest, body)
        return msg_id

    def call(self, dest, body, timeout=1.0):
        """Blocking RPC for threaded handlers: returns the reply body, raises
        RPCError for an error reply, or RPCError(TIMEOUT) after ``timeout``
        seconds."""
        if threading.current_thread() is threading.main_thread():
            raise RuntimeError("call() from the reader thread would deadlock;"
                               " register the handler with threaded=True")
        done = threading.Event()
        box = {}

        def got(msg):
            box["reply"] = msg["body"]
            done.set()

        def timed_out():
            done.set()

        self.rpc(dest, body, got, timeout, timed_out)
        done.wait()
        reply = box.get("reply")
        if reply is None:
            raise RPCError(TIMEOUT, "timed out waiting for %s" % dest)
        if reply.get("type") == "error":
            raise RPCError.from_body(reply)
        return reply

    # -------------------------------------------------------------- internals

    def _handle_init(self, msg):
        body = msg["body"]
        self.node_id = body["node_id"]
        self.node_ids = list(body["node_ids"])
        self.reply(msg, {"type": "init_ok"})
        for hook in self._init_hooks:
            hook()
        if not self._started:
            self._started = True
            for seconds, fn in self._periodic:
                threading.Thread(target=self._run_periodic, args=(seconds, fn),
                                 daemon=True).start()
            threading.Thread(target=self._reap_timeouts, daemon=True).start()

    def _run_periodic(self, seconds, fn):
        while True:
            time.sleep(seconds)
            try:
                with self.lock:
                    fn()
            except Exception as e:  # keep the task alive
                log("periodic task failed:", repr(e))

    def _reap_timeouts(self):
        while True:
            time.sleep(0.05)
            now = time.monotonic()
            with self.lock:
                expired = [(i, p) for i, p in self._pending.items()
                           if p[1] is not None and p[1] <= now]
                for msg_id, (_, _, on_timeout) in expired:
                    del self._pending[msg_id]
                    if on_timeout is not None:
                        try:
                            on_timeout()
                        except Exception as e:
                            log("timeout callback failed:", repr(e))

    def _run_handler(self, fn, msg):
        try:
            fn(msg)
        except Exception as e:
            log("handler for %r failed: %r" % (msg["body"].get("type"), e))
            if "msg_id" in msg["body"] and "in_reply_to" not in msg["body"]:
                self.error(msg, CRASH, "handler failed: %r" % (e,))

    def _dispatch(self, msg):
        body = msg["body"]
        in_reply_to = body.get("in_reply_to")
        if in_reply_to is not None:
            with self.lock:
                pending = self._pending.pop(in_reply_to, None)
                if pending is not None:
                    try:
                        pending[0](msg)
                    except Exception as e:
                        log("rpc callback failed:", repr(e))
                    return
        msg_type = body.get("type")
        if msg_type == "init":
            with self.lock:
                self._handle_init(msg)
            return
        entry = self._handlers.get(msg_type)
        if entry is None:
            if "msg_id" in body and in_reply_to is None:
                self.error(msg, NOT_SUPPORTED,
                           "unsupported message type %r" % (msg_type,))
            else:
                log("ignoring", json.dumps(msg))
            return
        if self.node_id is None:
            if "msg_id" in body and in_reply_to is None:
                self.error(msg, TEMPORARILY_UNAVAILABLE, "not initialised")
            return
        fn, threaded = entry
        if threaded:
            threading.Thread(target=self._run_handler, args=(fn, msg),
                             daemon=True).start()
        else:
            with self.lock:
                self._run_handler(fn, msg)

    def run(self):
        """Reads stdin until it closes, then exits cleanly."""
        for line in sys.stdin:
            line = line.strip()
            if not line:
                continue
            try:
                msg = json.loads(line)
                if not isinstance(msg, dict) or not isinstance(
                        msg.get("body"), dict):
                    raise ValueError("not a message")
            except ValueError as e:
                log("bad input line:", repr(e), line[:200])
                continue
            self._dispatch(msg)
        try:
            sys.stdout.flush()
        except (BrokenPipeError, ValueError):
            pass


class KV:
    """Blocking client for a Maelstrom key-value service ("lin-kv",
    "seq-kv", "lww-kv").  For threaded handlers only (see ``Node.call``)."""

    MISSING = object()

    def __init__(self, node, service, timeout=1.0):
        self.node = node
        self.service = service
        self.timeout = timeout

    def read(self, key, default=MISSING):
        """The key's value; ``default`` if absent (error 20), or RPCError(20)
        when no default is given."""
        try:
            return self.node.call(self.service, {"type": "read", "key": key},
                                  self.timeout)["value"]
        except RPCError as e:
            if e.code == KEY_DOES_NOT_EXIST and default is not KV.MISSING:
                return default
            raise

    def write(self, key, value):
        self.node.call(self.service,
                       {"type": "write", "key": key, "value": value},
                       self.timeout)

    def cas(self, key, from_, to, create_if_not_exists=False):
        """Raises RPCError 22 if the current value is not ``from_``, 20 if
        the key is absent (unless ``create_if_not_exists``)."""
        body = {"type": "cas", "key": key, "from": from_, "to": to}
        if create_if_not_exists:
            body["create_if_not_exists"] = True
        self.node.call(self.service, body, self.timeout)
