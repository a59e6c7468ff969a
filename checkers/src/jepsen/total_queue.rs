//! Jepsen's `total-queue` checker: `enqueue` and `dequeue` ops (a `drain`
//! returns many dequeued elements at once), compared as multisets. Every
//! acknowledged enqueue must be dequeued (`lost` otherwise); a dequeued
//! value never enqueued is `unexpected`; values dequeued more often than
//! enqueued are `duplicated` (reported, but, as in Jepsen, not invalid);
//! dequeued values whose enqueue was not acknowledged are `recovered`.
//!
//! Where faultline differs from Jepsen: an indeterminate dequeue or drain
//! (Jepsen throws on the drain) may have removed elements nobody saw, so
//! when no more elements are lost than indeterminate dequeues could have
//! taken (or a drain was indeterminate), the verdict is unknown instead of
//! invalid.

use super::{client_ops, elems, Elem, Report};
use crate::datum::Datum;
use crate::error::CheckError;
use crate::history::History;
use crate::op::OpType;
use crate::verdict::Validity;
use rustc_hash::FxHashMap;
use serde::Serialize;

/// A multiset: element → count.
type Bag = FxHashMap<Elem, usize>;

fn add(b: &mut Bag, e: Elem) {
    *b.entry(e).or_default() += 1;
}

/// `a` minus `b`, by multiplicity.
fn minus(a: &Bag, b: &Bag) -> Bag {
    a.iter()
        .filter_map(|(e, n)| {
            let left = n.saturating_sub(b.get(e).copied().unwrap_or(0));
            (left > 0).then(|| (e.clone(), left))
        })
        .collect()
}

/// The multiset as a sorted list.
fn list_of(b: &Bag) -> Vec<Elem> {
    let mut entries: Vec<(&Elem, &usize)> = b.iter().collect();
    entries.sort_unstable();
    entries
        .into_iter()
        .flat_map(|(e, n)| std::iter::repeat_n(e.clone(), *n))
        .collect()
}

fn count(b: &Bag) -> usize {
    b.values().sum()
}

/// The result, with Jepsen's fields (multisets as sorted lists).
#[derive(Debug, Serialize)]
pub struct TotalQueueResult {
    /// true, false or "unknown".
    pub valid: Validity,
    /// Enqueues invoked.
    pub attempt_count: usize,
    /// Enqueues acknowledged.
    pub acknowledged_count: usize,
    /// Dequeued values that were attempted.
    pub ok_count: usize,
    /// Dequeued values never enqueued.
    pub unexpected_count: usize,
    /// Values dequeued more often than enqueued.
    pub duplicated_count: usize,
    /// Acknowledged values never dequeued.
    pub lost_count: usize,
    /// Dequeued values whose enqueue was not acknowledged.
    pub recovered_count: usize,
    /// Lost values.
    pub lost: Vec<Elem>,
    /// Unexpected values.
    pub unexpected: Vec<Elem>,
    /// Duplicated values.
    pub duplicated: Vec<Elem>,
    /// Recovered values.
    pub recovered: Vec<Elem>,
    /// Why the verdict is unknown, if it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Checks a queue history.
pub fn check(history: &History<Datum>) -> Result<Report, CheckError> {
    let (mut attempts, mut enqueues, mut dequeues) =
        (Bag::default(), Bag::default(), Bag::default());
    let mut crashed_drains = 0;
    let mut crashed_dequeues = 0usize;
    for (i, op) in client_ops(history) {
        match (op.kind, &*op.f) {
            (OpType::Invoke, "enqueue") => add(&mut attempts, Elem::of(&op.value)),
            (OpType::Ok, "enqueue") => add(&mut enqueues, Elem::of(&op.value)),
            (OpType::Ok, "dequeue") => add(&mut dequeues, Elem::of(&op.value)),
            (OpType::Ok, "drain") => {
                for e in elems(op, i, "a drain")? {
                    add(&mut dequeues, e);
                }
            }
            (OpType::Info, "drain") => crashed_drains += 1,
            (OpType::Info, "dequeue") => crashed_dequeues += 1,
            _ => {}
        }
    }
    let ok: Bag = dequeues
        .iter()
        .filter_map(|(e, n)| attempts.get(e).map(|m| (e.clone(), (*n).min(*m))))
        .collect();
    let unexpected: Bag = dequeues
        .iter()
        .filter(|(e, _)| !attempts.contains_key(e))
        .map(|(e, n)| (e.clone(), *n))
        .collect();
    let duplicated = minus(&minus(&dequeues, &attempts), &unexpected);
    let lost = minus(&enqueues, &dequeues);
    let recovered = minus(&ok, &enqueues);
    let (valid, error) = if !unexpected.is_empty() {
        (Validity::Invalid, None)
    } else if !lost.is_empty() && (crashed_drains > 0 || count(&lost) <= crashed_dequeues) {
        (
            Validity::Unknown,
            Some(format!(
                "{crashed_drains} drain(s) and {crashed_dequeues} dequeue(s) ended indeterminate \
                 and may have removed the {} values never seen dequeued",
                count(&lost)
            )),
        )
    } else if !lost.is_empty() {
        (Validity::Invalid, None)
    } else {
        (Validity::Valid, None)
    };
    let r = TotalQueueResult {
        valid,
        attempt_count: count(&attempts),
        acknowledged_count: count(&enqueues),
        ok_count: count(&ok),
        unexpected_count: count(&unexpected),
        duplicated_count: count(&duplicated),
        lost_count: count(&lost),
        recovered_count: count(&recovered),
        lost: list_of(&lost),
        unexpected: list_of(&unexpected),
        duplicated: list_of(&duplicated),
        recovered: list_of(&recovered),
        error,
    };
    let mut lines = vec![format!(
        "{} enqueued ({} acknowledged), {} dequeued: {} lost, {} unexpected, {} duplicated, {} recovered",
        r.attempt_count,
        r.acknowledged_count,
        count(&dequeues),
        r.lost_count,
        r.unexpected_count,
        r.duplicated_count,
        r.recovered_count
    )];
    if r.lost_count > 0 {
        lines.push(format!("lost: {}", super::interval_set_shown(&r.lost)));
    }
    if let Some(e) = &r.error {
        lines.push(format!("unknown: {e}"));
    }
    Ok(Report::new(valid, &r, lines))
}
