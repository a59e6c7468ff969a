"""In-memory Kafka-style logs shared by kafka_leader.py and kafka_local.py
(not a node itself).

Offsets in a key's log are 0, 1, 2, ... in send order; committed offsets
only move forward.
"""


class Logs:
    def __init__(self):
        self.logs = {}       # key -> [msg, ...]; offset = index
        self.committed = {}  # key -> offset

    def handle(self, body):
        """Answers one client request body; returns the reply body (without
        msg_id/in_reply_to), or None for a type this does not know."""
        t = body.get("type")
        if t == "send":
            log = self.logs.setdefault(body["key"], [])
            log.append(body["msg"])
            return {"type": "send_ok", "offset": len(log) - 1}
        if t == "poll":
            msgs = {}
            for k, start in body["offsets"].items():
                log = self.logs.get(k, [])
                start = max(0, start)
                if start < len(log):
                    msgs[k] = [[i, log[i]] for i in range(start, len(log))]
            return {"type": "poll_ok", "msgs": msgs}
        if t == "commit_offsets":
            for k, off in body["offsets"].items():
                if off > self.committed.get(k, -1):
                    self.committed[k] = off
            return {"type": "commit_offsets_ok"}
        if t == "list_committed_offsets":
            return {"type": "list_committed_offsets_ok",
                    "offsets": {k: self.committed[k] for k in body["keys"]
                                if k in self.committed}}
        return None


REQUEST_TYPES = ("send", "poll", "commit_offsets", "list_committed_offsets")
