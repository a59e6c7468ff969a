//! Jepsen's `set` checker: `add` ops, then one final read. The final read
//! is the last `ok` `read` in the history; against every add attempted
//! (invoked, whatever its outcome) and every add acknowledged (`ok`), it
//! gives the elements `lost` (acknowledged, not read), `unexpected` (read,
//! never attempted), `recovered` (read, attempted but not acknowledged)
//! and `ok` (read and attempted). Lost or unexpected elements make the
//! history invalid; with no ok read at all the verdict is unknown.

use super::{client_ops, elems, interval_set, interval_set_shown, is, Elem, Report};
use crate::datum::Datum;
use crate::error::CheckError;
use crate::history::History;
use crate::op::OpType;
use crate::verdict::Validity;
use serde::Serialize;
use std::collections::BTreeSet;

/// The result, with Jepsen's fields (sets as Jepsen prints them).
#[derive(Debug, Serialize)]
pub struct SetResult {
    /// true, false or "unknown".
    pub valid: Validity,
    /// Adds invoked.
    pub attempt_count: usize,
    /// Adds acknowledged.
    pub acknowledged_count: usize,
    /// Elements read that were attempted.
    pub ok_count: usize,
    /// Acknowledged elements missing from the final read.
    pub lost_count: usize,
    /// Unacknowledged elements that were read.
    pub recovered_count: usize,
    /// Elements read that were never attempted.
    pub unexpected_count: usize,
    /// `#{0..2 5}`-style sets.
    pub ok: String,
    /// Lost elements.
    pub lost: String,
    /// Unexpected elements.
    pub unexpected: String,
    /// Recovered elements.
    pub recovered: String,
}

/// No ok read: nothing to judge.
#[derive(Debug, Serialize)]
struct NeverRead {
    valid: Validity,
    error: &'static str,
}

/// Checks a set history.
pub fn check(history: &History<Datum>) -> Result<Report, CheckError> {
    let mut attempts: BTreeSet<Elem> = BTreeSet::new();
    let mut adds: BTreeSet<Elem> = BTreeSet::new();
    let mut last_read: Option<(usize, BTreeSet<Elem>)> = None;
    for (i, op) in client_ops(history) {
        if is(op, OpType::Invoke, "add") {
            attempts.insert(Elem::of(&op.value));
        } else if is(op, OpType::Ok, "add") {
            adds.insert(Elem::of(&op.value));
        } else if is(op, OpType::Ok, "read") {
            last_read = Some((i, elems(op, i, "a set read")?.collect()));
        }
    }
    let Some((at, read)) = last_read else {
        let r = NeverRead {
            valid: Validity::Unknown,
            error: "Set was never read",
        };
        return Ok(Report::new(
            r.valid,
            &r,
            vec!["unknown: the set was never read (no ok read)".into()],
        ));
    };
    let ok: Vec<Elem> = read.intersection(&attempts).cloned().collect();
    let unexpected: Vec<Elem> = read.difference(&attempts).cloned().collect();
    let lost: Vec<Elem> = adds.difference(&read).cloned().collect();
    let recovered: Vec<Elem> = ok.iter().filter(|e| !adds.contains(e)).cloned().collect();
    let valid = if lost.is_empty() && unexpected.is_empty() {
        Validity::Valid
    } else {
        Validity::Invalid
    };
    let r = SetResult {
        valid,
        attempt_count: attempts.len(),
        acknowledged_count: adds.len(),
        ok_count: ok.len(),
        lost_count: lost.len(),
        recovered_count: recovered.len(),
        unexpected_count: unexpected.len(),
        ok: interval_set(&ok),
        lost: interval_set(&lost),
        unexpected: interval_set(&unexpected),
        recovered: interval_set(&recovered),
    };
    let mut lines = vec![format!(
        "final read (op {at}): {} of {} attempted adds ({} acknowledged)",
        r.ok_count, r.attempt_count, r.acknowledged_count
    )];
    if !lost.is_empty() {
        lines.push(format!(
            "lost (acknowledged, not read): {}",
            interval_set_shown(&lost)
        ));
    }
    if !unexpected.is_empty() {
        lines.push(format!(
            "unexpected (read, never added): {}",
            interval_set_shown(&unexpected)
        ));
    }
    if !recovered.is_empty() {
        lines.push(format!(
            "recovered (read, not acknowledged): {}",
            interval_set_shown(&recovered)
        ));
    }
    Ok(Report::new(valid, &r, lines))
}
