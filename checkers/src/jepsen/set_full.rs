//! Jepsen's `set-full` checker: every read over time, per element. An
//! element is tracked from its add's invocation; each ok read, invoked at
//! some point, either saw it or did not. An element is
//!
//! - **stable** when the last read that saw it was invoked after the last
//!   read that missed it;
//! - **lost** when it was known to exist (its add was acknowledged, or a
//!   read saw it) and the last read that missed it was invoked after both
//!   the last read that saw it and the moment it became known;
//! - **never read** otherwise.
//!
//! A stable element is **stale** when a read invoked at least 1 ms after
//! it became known still missed it; `worst_stale` lists up to 8 of them.
//! Latencies to stability (or loss) are in ms. Verdict as Jepsen's: any
//! lost element → invalid; else no stable element → unknown; else stale
//! reads → invalid when `linearizable`; else valid.
//!
//! Where faultline differs from Jepsen: duplicates are reported as element
//! → the highest count in any one read, and make the history invalid
//! (Jepsen's test for them, `(< v 1)`, never fires); elements read but
//! never added are reported as `unexpected` and make it invalid (Jepsen
//! ignores them).

use super::{client_ops, elems, is, Elem, Options, Partners, Report};
use crate::datum::Datum;
use crate::error::CheckError;
use crate::history::History;
use crate::op::{Op, OpType};
use crate::verdict::Validity;
use rustc_hash::FxHashMap as HashMap;
use serde::Serialize;
use std::collections::BTreeMap;

/// One element's outcome, as Jepsen reports it in `worst_stale`.
#[derive(Debug, Serialize)]
pub struct ElementResult {
    /// The element.
    pub element: Elem,
    /// `stable`, `lost` or `never-read`.
    pub outcome: &'static str,
    /// ms from known to stable.
    pub stable_latency: Option<i64>,
    /// ms from known to lost.
    pub lost_latency: Option<i64>,
    /// The op that proved it exists.
    pub known: Option<Op<Datum>>,
    /// The invocation of the last read that missed it.
    pub last_absent: Option<Op<Datum>>,
}

/// The result, with Jepsen's fields.
#[derive(Debug, Serialize)]
pub struct SetFullResult {
    /// true, false or "unknown".
    pub valid: Validity,
    /// Distinct elements whose add was invoked.
    pub attempt_count: usize,
    /// Elements stable at the end.
    pub stable_count: usize,
    /// Elements lost.
    pub lost_count: usize,
    /// Lost elements, sorted.
    pub lost: Vec<Elem>,
    /// Elements never reliably read.
    pub never_read_count: usize,
    /// Those elements, sorted.
    pub never_read: Vec<Elem>,
    /// Stable elements some read missed at least 1 ms after they were known.
    pub stale_count: usize,
    /// Those elements, sorted.
    pub stale: Vec<Elem>,
    /// Up to 8 stale elements, the stalest first.
    pub worst_stale: Vec<ElementResult>,
    /// Latency to stability (ms) at quantiles 0, 0.5, 0.95, 0.99, 1.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub stable_latencies: BTreeMap<&'static str, i64>,
    /// Latency to loss (ms) at the same quantiles.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub lost_latencies: BTreeMap<&'static str, i64>,
    /// Elements that occurred more than once in some read.
    pub duplicated_count: usize,
    /// Element → the highest count in any one read.
    pub duplicated: BTreeMap<String, usize>,
    /// Elements read that no add attempted (faultline's addition).
    pub unexpected_count: usize,
    /// Those elements, sorted.
    pub unexpected: Vec<Elem>,
}

/// What is known of one element.
#[derive(Default, Clone)]
struct Tracked {
    /// Position of its (latest) add invocation.
    added: usize,
    /// Position of the op that proved it exists.
    known: Option<usize>,
    /// Position of the last read invocation that saw it / missed it.
    present: Option<usize>,
    absent: Option<usize>,
}

/// An ok read: completion and invocation positions, elements sorted.
struct Read {
    done: usize,
    invoked: usize,
    elems: Vec<Elem>,
}

/// Jepsen's `frequency-distribution` at 0, 0.5, 0.95, 0.99 and 1.
fn quantiles(mut xs: Vec<i64>) -> BTreeMap<&'static str, i64> {
    xs.sort_unstable();
    let mut out = BTreeMap::new();
    if xs.is_empty() {
        return out;
    }
    let n = xs.len();
    for (name, p) in [
        ("0", 0.0),
        ("0.5", 0.5),
        ("0.95", 0.95),
        ("0.99", 0.99),
        ("1", 1.0),
    ] {
        let i = ((n as f64 * p).floor() as usize).min(n - 1);
        out.insert(name, xs[i]);
    }
    out
}

/// Checks a set history read over time.
pub fn check(history: &History<Datum>, opts: &Options) -> Result<Report, CheckError> {
    let ops = history.ops();
    let partners = Partners::new(history)?;
    let mut tracked: HashMap<Elem, Tracked> = HashMap::default();
    let mut reads: Vec<Read> = Vec::new();
    let mut adds_ok: Vec<(Elem, usize)> = Vec::new();
    for (i, op) in client_ops(history) {
        if is(op, OpType::Invoke, "add") {
            tracked.insert(
                Elem::of(&op.value),
                Tracked {
                    added: i,
                    ..Tracked::default()
                },
            );
        } else if is(op, OpType::Ok, "add") {
            adds_ok.push((Elem::of(&op.value), i));
        } else if is(op, OpType::Ok, "read") {
            let mut elems: Vec<Elem> = elems(op, i, "a set read")?.collect();
            elems.sort();
            reads.push(Read {
                done: i,
                invoked: partners.of(i).unwrap_or(i),
                elems,
            });
        }
    }
    for (e, i) in adds_ok {
        if let Some(t) = tracked.get_mut(&e) {
            if i > t.added {
                t.known = Some(t.known.map_or(i, |k| k.min(i)));
            }
        }
    }
    // Duplicates, unexpected elements, and what each read saw.
    let mut duplicated: BTreeMap<Elem, usize> = BTreeMap::new();
    let mut unexpected: Vec<Elem> = Vec::new();
    for r in &reads {
        let mut j = 0;
        while j < r.elems.len() {
            let e = &r.elems[j];
            let mut k = j;
            while k + 1 < r.elems.len() && r.elems[k + 1] == *e {
                k += 1;
            }
            if k > j {
                let d = duplicated.entry(e.clone()).or_insert(0);
                *d = (*d).max(k - j + 1);
            }
            match tracked.get_mut(e) {
                Some(t) if r.done > t.added => {
                    t.known = Some(t.known.map_or(r.done, |x| x.min(r.done)));
                    t.present = Some(t.present.map_or(r.invoked, |p| p.max(r.invoked)));
                }
                Some(_) => {}
                None => unexpected.push(e.clone()),
            }
            j = k + 1;
        }
    }
    unexpected.sort();
    unexpected.dedup();
    // The last read that missed each element: reads by invocation, latest
    // first; skip those that saw it or completed before its add.
    let mut by_invoke: Vec<&Read> = reads.iter().collect();
    by_invoke.sort_by_key(|r| std::cmp::Reverse(r.invoked));
    for (e, t) in tracked.iter_mut() {
        t.absent = by_invoke
            .iter()
            .find(|r| r.done > t.added && r.elems.binary_search(e).is_err())
            .map(|r| r.invoked);
    }
    let time = |i: usize| ops[i].time;
    let mut elems: Vec<(&Elem, &Tracked)> = tracked.iter().collect();
    elems.sort_by(|a, b| a.0.cmp(b.0));
    let idx = |x: Option<usize>| x.map_or(-1, |i| i as i64);
    let ms = |from: i64, to: i64| (to - from).max(0) / 1_000_000;
    let mut results: Vec<ElementResult> = Vec::new();
    for (e, t) in elems {
        let stable = t.present.is_some() && idx(t.absent) < idx(t.present);
        let lost = match (t.known, t.absent) {
            (Some(k), Some(a)) => idx(t.present) < a as i64 && k < a,
            _ => false,
        };
        let known_time = t.known.map_or(0, time);
        let stable_latency = stable.then(|| ms(known_time, t.absent.map_or(0, |a| time(a) + 1)));
        let lost_latency = lost.then(|| ms(known_time, t.present.map_or(0, |p| time(p) + 1)));
        results.push(ElementResult {
            element: e.clone(),
            outcome: if stable {
                "stable"
            } else if lost {
                "lost"
            } else {
                "never-read"
            },
            stable_latency,
            lost_latency,
            known: t.known.map(|k| ops[k].clone()),
            last_absent: t.absent.map(|a| ops[a].clone()),
        });
    }
    let with = |o: &str| -> Vec<Elem> {
        results
            .iter()
            .filter(|r| r.outcome == o)
            .map(|r| r.element.clone())
            .collect()
    };
    let (lost, never_read) = (with("lost"), with("never-read"));
    let stable_count = results.iter().filter(|r| r.outcome == "stable").count();
    // Positions (in `results`) of the stale elements.
    let mut stale: Vec<usize> = (0..results.len())
        .filter(|i| results[*i].stable_latency.is_some_and(|l| l > 0))
        .collect();
    let stale_elems: Vec<Elem> = stale.iter().map(|i| results[*i].element.clone()).collect();
    // Jepsen sorts by latency then reverses: ties put the larger element first.
    let rank = |i: &usize| (results[*i].stable_latency, &results[*i].element);
    stale.sort_by(|a, b| rank(b).cmp(&rank(a)));
    stale.truncate(8);
    let stable_latencies = quantiles(results.iter().filter_map(|r| r.stable_latency).collect());
    let lost_latencies = quantiles(results.iter().filter_map(|r| r.lost_latency).collect());
    let valid = if !lost.is_empty() || !duplicated.is_empty() || !unexpected.is_empty() {
        Validity::Invalid
    } else if stable_count == 0 {
        Validity::Unknown
    } else if opts.linearizable && !stale_elems.is_empty() {
        Validity::Invalid
    } else {
        Validity::Valid
    };
    let mut lines = vec![format!(
        "{} elements added: {stable_count} stable, {} lost, {} never read, {} stale",
        results.len(),
        lost.len(),
        never_read.len(),
        stale_elems.len()
    )];
    if !lost.is_empty() {
        lines.push(format!(
            "lost after being seen: {}",
            super::interval_set_shown(&lost)
        ));
    }
    if !duplicated.is_empty() {
        lines.push(format!(
            "read more than once in one read: {}",
            duplicated.len()
        ));
    }
    if !unexpected.is_empty() {
        lines.push(format!(
            "read but never added: {}",
            super::interval_set_shown(&unexpected)
        ));
    }
    if valid == Validity::Unknown {
        lines.push("unknown: no element was ever read stably".into());
    }
    let mut taken: Vec<Option<ElementResult>> = results.into_iter().map(Some).collect();
    let worst_stale: Vec<ElementResult> =
        stale.into_iter().filter_map(|i| taken[i].take()).collect();
    let r = SetFullResult {
        valid,
        attempt_count: taken.len(),
        stable_count,
        lost_count: lost.len(),
        lost,
        never_read_count: never_read.len(),
        never_read,
        stale_count: stale_elems.len(),
        stale: stale_elems,
        worst_stale,
        stable_latencies,
        lost_latencies,
        duplicated_count: duplicated.len(),
        duplicated: duplicated.into_iter().map(|(e, n)| (e.key(), n)).collect(),
        unexpected_count: unexpected.len(),
        unexpected,
    };
    Ok(Report::new(valid, &r, lines))
}
