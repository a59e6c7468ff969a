//! Maelstrom's wire protocol (jepsen-io/maelstrom doc/protocol.md): one JSON
//! object per line, `{"src", "dest", "body"}`, bodies with `type`, `msg_id`
//! and `in_reply_to`, and the error codes with their definite/indefinite
//! meaning.

use serde_json::{Map, Value};

/// One message on the simulated network.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    /// Sender's node id (`n0`, `c3`, `lin-kv`, ...).
    pub src: String,
    /// Receiver's node id.
    pub dest: String,
    /// The payload: an object with at least `type`.
    pub body: Map<String, Value>,
}

impl Message {
    /// A message from `src` to `dest`.
    pub fn new(src: &str, dest: &str, body: Map<String, Value>) -> Message {
        Message {
            src: src.to_string(),
            dest: dest.to_string(),
            body,
        }
    }

    /// Parses one line a node printed. The error says what is wrong with
    /// it, for a message naming the node and the line.
    pub fn parse(line: &str) -> Result<Message, String> {
        let v: Value =
            serde_json::from_str(line).map_err(|e| format!("not JSON ({e}): {line:?}"))?;
        let Value::Object(mut m) = v else {
            return Err(format!("not a JSON object: {line:?}"));
        };
        let mut field = |k: &str| match m.remove(k) {
            Some(Value::String(s)) => Ok(s),
            Some(other) => Err(format!("`{k}` is not a string but {other}: {line:?}")),
            None => Err(format!("no `{k}` field: {line:?}")),
        };
        let src = field("src")?;
        let dest = field("dest")?;
        let body = match m.remove("body") {
            Some(Value::Object(b)) => b,
            Some(other) => return Err(format!("`body` is not an object but {other}: {line:?}")),
            None => return Err(format!("no `body` field: {line:?}")),
        };
        Ok(Message { src, dest, body })
    }

    /// The line a node reads (no trailing newline).
    pub fn to_line(&self) -> String {
        let mut out = String::with_capacity(64);
        out.push_str("{\"src\":");
        out.push_str(&Value::String(self.src.clone()).to_string());
        out.push_str(",\"dest\":");
        out.push_str(&Value::String(self.dest.clone()).to_string());
        out.push_str(",\"body\":");
        out.push_str(&serde_json::to_string(&self.body).unwrap_or_else(|_| "{}".into()));
        out.push('}');
        out
    }

    /// The body's `type`, or "".
    pub fn kind(&self) -> &str {
        self.body.get("type").and_then(Value::as_str).unwrap_or("")
    }

    /// The body's `msg_id`.
    pub fn msg_id(&self) -> Option<u64> {
        self.body.get("msg_id").and_then(Value::as_u64)
    }

    /// The body's `in_reply_to`.
    pub fn in_reply_to(&self) -> Option<u64> {
        self.body.get("in_reply_to").and_then(Value::as_u64)
    }
}

/// Whether a node id names one of Maelstrom's clients (`c0`, `c1`, ...).
pub fn is_client(id: &str) -> bool {
    id.strip_prefix('c')
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Maelstrom's name of an error code, if it defines one.
pub fn error_name(code: i64) -> Option<&'static str> {
    Some(match code {
        0 => "timeout",
        1 => "node-not-found",
        10 => "not-supported",
        11 => "temporarily-unavailable",
        12 => "malformed-request",
        13 => "crash",
        14 => "abort",
        20 => "key-does-not-exist",
        21 => "key-already-exists",
        22 => "precondition-failed",
        30 => "txn-conflict",
        _ => return None,
    })
}

/// Whether an error code is definite: the operation did not and never will
/// happen. 0 (timeout), 13 (crash), codes Maelstrom does not define and
/// codes ≥ 1000 (the node's own) are indefinite.
pub fn is_definite(code: i64) -> bool {
    matches!(code, 1 | 10 | 11 | 12 | 14 | 20 | 21 | 22 | 30)
}

/// A body: `{"type": kind, ...fields}`.
pub fn body(kind: &str, fields: Value) -> Map<String, Value> {
    let mut m = match fields {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    m.insert("type".into(), Value::String(kind.to_string()));
    m
}

/// An error reply body.
pub fn error_body(code: i64, text: &str) -> Map<String, Value> {
    body("error", serde_json::json!({"code": code, "text": text}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lines_round_trip_and_bad_lines_say_why() {
        let m = Message::parse(
            r#"{"src":"n0","dest":"c1","body":{"type":"echo_ok","in_reply_to":1,"echo":"x"}}"#,
        )
        .unwrap();
        assert_eq!(
            (m.src.as_str(), m.dest.as_str(), m.kind()),
            ("n0", "c1", "echo_ok")
        );
        assert_eq!(m.in_reply_to(), Some(1));
        assert_eq!(Message::parse(&m.to_line()).unwrap(), m);
        for (line, want) in [
            ("hello", "not JSON"),
            ("[1]", "not a JSON object"),
            (r#"{"dest":"c1","body":{}}"#, "no `src`"),
            (
                r#"{"src":1,"dest":"c1","body":{}}"#,
                "`src` is not a string",
            ),
            (
                r#"{"src":"n0","dest":"c1","body":3}"#,
                "`body` is not an object",
            ),
        ] {
            let e = Message::parse(line).unwrap_err();
            assert!(e.contains(want), "{line}: {e}");
        }
    }

    #[test]
    fn error_codes_are_definite_as_maelstrom_says() {
        for c in [1, 10, 11, 12, 14, 20, 21, 22, 30] {
            assert!(is_definite(c), "{c}");
            assert!(error_name(c).is_some());
        }
        for c in [0, 13, 1000, 1234, 99] {
            assert!(!is_definite(c), "{c}");
        }
        assert!(is_client("c0") && is_client("c12"));
        assert!(!is_client("n1") && !is_client("c") && !is_client("cx") && !is_client("lin-kv"));
        assert_eq!(body("read", json!({"key": 1}))["type"], "read");
    }
}
