//! Maelstrom's echo checker: every ok `echo` returns what it was sent.
//! An invocation's value is the payload; its ok completion's value is what
//! the node echoed (or Maelstrom's whole reply body, whose `echo` field is
//! then compared). Invalid when an ok echo returned anything else
//! (`errors`: index, node, sent, got); unknown when no echo completed ok.
//!
//! Where faultline differs from Maelstrom: echoes that failed or ended
//! indeterminate are not errors (Maelstrom's checker, comparing every
//! pair, counts them), since they claim nothing.

use crate::datum::Datum;
use crate::error::CheckError;
use crate::history::History;
use crate::jepsen::Report;
use crate::op::OpType;
use crate::verdict::Validity;
use serde::Serialize;

/// An ok echo whose reply differs from what was sent.
#[derive(Debug, Serialize)]
pub struct EchoError {
    /// The completion's `index` in the history.
    pub index: u64,
    /// The node that replied.
    pub node: Option<Box<str>>,
    /// The payload sent.
    pub sent: Datum,
    /// What came back.
    pub got: Datum,
}

/// The result.
#[derive(Debug, Serialize)]
pub struct EchoResult {
    /// true, false or "unknown".
    pub valid: Validity,
    /// Echoes invoked.
    pub attempt_count: usize,
    /// Echoes that completed ok.
    pub ok_count: usize,
    /// Ok echoes whose reply differs.
    pub error_count: usize,
    /// Those echoes (the first 32).
    pub errors: Vec<EchoError>,
}

/// What an ok echo returned: the value, or its `echo` field when it is a
/// Maelstrom reply body.
fn echoed(v: &Datum) -> &Datum {
    v.as_map()
        .and_then(|m| m.iter().find(|(k, _)| &**k == "echo"))
        .map_or(v, |(_, e)| e)
}

/// Checks an echo history.
pub fn check(history: &History<Datum>) -> Result<Report, CheckError> {
    let ops = history.ops();
    let mut r = EchoResult {
        valid: Validity::Valid,
        attempt_count: 0,
        ok_count: 0,
        error_count: 0,
        errors: Vec::new(),
    };
    for p in history.pairs().map_err(CheckError::History)? {
        let inv = &ops[p.invoke];
        if &*inv.f != "echo" {
            continue;
        }
        r.attempt_count += 1;
        let Some(c) = p.completion.filter(|&c| ops[c].kind == OpType::Ok) else {
            continue;
        };
        r.ok_count += 1;
        let got = echoed(&ops[c].value);
        if *got != inv.value {
            r.error_count += 1;
            if r.errors.len() < 32 {
                r.errors.push(EchoError {
                    index: ops[c].index,
                    node: ops[c].node.clone().or_else(|| inv.node.clone()),
                    sent: inv.value.clone(),
                    got: got.clone(),
                });
            }
        }
    }
    r.valid = if r.error_count > 0 {
        Validity::Invalid
    } else if r.ok_count == 0 {
        Validity::Unknown
    } else {
        Validity::Valid
    };
    let mut lines = vec![format!(
        "{} echoes, {} ok, {} returned something else",
        r.attempt_count, r.ok_count, r.error_count
    )];
    for e in r.errors.iter().take(8) {
        lines.push(format!(
            "op {} on {}: sent {}, got {}",
            e.index,
            e.node.as_deref().unwrap_or("?"),
            e.sent,
            e.got
        ));
    }
    if r.valid == Validity::Unknown {
        lines.push("unknown: no echo completed ok".into());
    }
    Ok(Report::new(r.valid, &r, lines))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::jsonl;
    use serde_json::{json, Value};
    use std::path::Path;

    fn run(ops: &[(u64, &str, Value)]) -> Report {
        let mut text = String::new();
        for (i, (p, t, v)) in ops.iter().enumerate() {
            let o = json!({"index": i, "process": p, "type": t, "f": "echo", "value": v, "node": format!("n{p}")});
            text.push_str(&format!("{o}\n"));
        }
        check(&jsonl::read_as::<Datum>(Path::new("e.jsonl"), &text).unwrap()).unwrap()
    }

    #[test]
    fn echoes_that_match_are_valid() {
        let r = run(&[
            (0, "invoke", json!("Please echo 35")),
            (1, "invoke", json!("Please echo 7")),
            (0, "ok", json!("Please echo 35")),
            (
                1,
                "ok",
                json!({"type": "echo_ok", "echo": "Please echo 7", "in_reply_to": 1}),
            ),
            (2, "invoke", json!("Please echo 9")),
            (2, "info", json!("Please echo 9")),
        ]);
        assert_eq!(r.valid, Validity::Valid, "{}", r.json);
        assert_eq!(
            (r.json["attempt_count"].clone(), r.json["ok_count"].clone()),
            (json!(3), json!(2))
        );
    }

    #[test]
    fn a_different_echo_is_invalid() {
        let r = run(&[
            (0, "invoke", json!("Please echo 35")),
            (0, "ok", json!("Please echo 36")),
            (1, "invoke", json!("Please echo 1")),
            (1, "ok", json!("Please echo 1")),
        ]);
        assert_eq!(r.valid, Validity::Invalid);
        assert_eq!(
            r.json["errors"],
            json!([{"index": 1, "node": "n0", "sent": "Please echo 35", "got": "Please echo 36"}])
        );
        assert_eq!(
            r.lines[1],
            r#"op 1 on n0: sent "Please echo 35", got "Please echo 36""#
        );
    }

    #[test]
    fn no_ok_echo_is_unknown() {
        let r = run(&[(0, "invoke", json!("x")), (0, "fail", json!("x"))]);
        assert_eq!(r.valid, Validity::Unknown);
    }
}
