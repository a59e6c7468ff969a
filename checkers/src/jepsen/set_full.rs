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
#[derive(Clone)]
struct Tracked {
    /// Position of its (latest) add invocation.
    added: usize,
    /// Position of the op that proved it exists.
    known: Option<usize>,
    /// Position of the last read invocation that saw it / missed it.
    present: Option<usize>,
    absent: Option<usize>,
}

/// An ok read: completion and invocation positions, and the elements it
/// saw that some add attempted, as ascending positions in the sorted
/// table of elements.
struct Read {
    done: usize,
    invoked: usize,
    seen: Vec<u32>,
}

/// One element's outcome, before the ops it names are cloned.
struct Outcome {
    outcome: &'static str,
    stable_latency: Option<i64>,
    lost_latency: Option<i64>,
}

/// The first position at or after `from` in the sorted `keys` whose key is
/// not below `e`: a galloping search, so that a read's elements, sorted,
/// are found in one pass over the table (about one step an element when
/// the read holds most of the table, a binary search's steps when few).
fn seek(keys: &[Elem], from: usize, e: &Elem) -> usize {
    let rest = &keys[from..];
    let mut bound = 1;
    while bound <= rest.len() && rest[bound - 1] < *e {
        bound *= 2;
    }
    let lo = bound / 2;
    let hi = bound.min(rest.len());
    from + lo + rest[lo..hi].partition_point(|k| k < e)
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
///
/// Linear in the elements of the reads (plus sorting each read and the
/// elements): each read's elements are matched against the sorted table
/// of added elements in one galloping pass, and the last read that missed
/// each element is found by going through the reads latest-invoked first
/// over the elements not yet placed, in order of their adds, so that each
/// read costs what it saw plus the elements it settles.
pub fn check(history: &History<Datum>, opts: &Options) -> Result<Report, CheckError> {
    let ops = history.ops();
    let partners = Partners::new(history)?;
    let mut attempts: Vec<(Elem, usize)> = Vec::new();
    let mut adds_ok: Vec<(Elem, usize)> = Vec::new();
    let mut read_ops: Vec<usize> = Vec::new();
    for (i, op) in client_ops(history) {
        if is(op, OpType::Invoke, "add") {
            attempts.push((Elem::of(&op.value), i));
        } else if is(op, OpType::Ok, "add") {
            adds_ok.push((Elem::of(&op.value), i));
        } else if is(op, OpType::Ok, "read") {
            read_ops.push(i);
        }
    }
    // The table of elements, sorted; an element added more than once is
    // tracked from its latest add invocation.
    attempts.sort_unstable();
    let mut keys: Vec<Elem> = Vec::with_capacity(attempts.len());
    let mut tracked: Vec<Tracked> = Vec::with_capacity(attempts.len());
    for (e, i) in attempts {
        let t = Tracked {
            added: i,
            known: None,
            present: None,
            absent: None,
        };
        if keys.last() == Some(&e) {
            *tracked.last_mut().expect("a key has its entry") = t;
        } else {
            keys.push(e);
            tracked.push(t);
        }
    }
    if u32::try_from(keys.len()).is_err() {
        return Err(super::bad(
            0,
            format!(
                "{} distinct elements added; at most 2^32 are checked",
                keys.len()
            ),
        ));
    }
    for (e, i) in adds_ok {
        if let Ok(j) = keys.binary_search(&e) {
            let t = &mut tracked[j];
            if i > t.added {
                t.known = Some(t.known.map_or(i, |k| k.min(i)));
            }
        }
    }
    // Duplicates, unexpected elements, and what each read saw.
    let mut duplicated: BTreeMap<Elem, usize> = BTreeMap::new();
    let mut unexpected: Vec<Elem> = Vec::new();
    let mut reads: Vec<Read> = Vec::with_capacity(read_ops.len());
    for i in read_ops {
        let mut elems: Vec<Elem> = elems(&ops[i], i, "a set read")?.collect();
        elems.sort_unstable();
        let r_done = i;
        let r_invoked = partners.of(i).unwrap_or(i);
        let mut seen: Vec<u32> = Vec::with_capacity(elems.len());
        let mut from = 0;
        let mut j = 0;
        while j < elems.len() {
            let e = &elems[j];
            let mut k = j;
            while k + 1 < elems.len() && elems[k + 1] == *e {
                k += 1;
            }
            if k > j {
                let d = duplicated.entry(e.clone()).or_insert(0);
                *d = (*d).max(k - j + 1);
            }
            from = seek(&keys, from, e);
            if keys.get(from) == Some(e) {
                let t = &mut tracked[from];
                if r_done > t.added {
                    t.known = Some(t.known.map_or(r_done, |x| x.min(r_done)));
                    t.present = Some(t.present.map_or(r_invoked, |p| p.max(r_invoked)));
                }
                seen.push(from as u32);
                from += 1;
            } else {
                unexpected.push(e.clone());
            }
            j = k + 1;
        }
        reads.push(Read {
            done: r_done,
            invoked: r_invoked,
            seen,
        });
    }
    unexpected.sort();
    unexpected.dedup();
    // The last read that missed each element: the latest-invoked read that
    // completed after its add and did not see it. Reads go latest-invoked
    // first; the elements not yet placed wait in a list in order of their
    // adds, so each read walks those added before it completed: the ones
    // it saw (which stay) and the ones it missed (placed, and unlinked).
    reads.sort_by_key(|r| std::cmp::Reverse(r.invoked));
    const END: u32 = u32::MAX;
    let mut order: Vec<u32> = (0..keys.len() as u32).collect();
    order.sort_unstable_by_key(|&x| tracked[x as usize].added);
    let mut next: Vec<u32> = vec![END; keys.len()];
    for w in order.windows(2) {
        next[w[0] as usize] = w[1];
    }
    let mut head = order.first().copied().unwrap_or(END);
    drop(order);
    let mut seen_by: Vec<u32> = vec![END; keys.len()];
    for (n, r) in reads.iter().enumerate() {
        if head == END {
            break;
        }
        for &x in &r.seen {
            seen_by[x as usize] = n as u32;
        }
        let (mut prev, mut x) = (END, head);
        while x != END && tracked[x as usize].added < r.done {
            let after = next[x as usize];
            if seen_by[x as usize] != n as u32 {
                tracked[x as usize].absent = Some(r.invoked);
                match prev {
                    END => head = after,
                    p => next[p as usize] = after,
                }
            } else {
                prev = x;
            }
            x = after;
        }
    }
    drop(reads);
    let time = |i: usize| ops[i].time;
    let idx = |x: Option<usize>| x.map_or(-1, |i| i as i64);
    let ms = |from: i64, to: i64| (to - from).max(0) / 1_000_000;
    let results: Vec<Outcome> = tracked
        .iter()
        .map(|t| {
            let stable = t.present.is_some() && idx(t.absent) < idx(t.present);
            let lost = match (t.known, t.absent) {
                (Some(k), Some(a)) => idx(t.present) < a as i64 && k < a,
                _ => false,
            };
            let known_time = t.known.map_or(0, time);
            Outcome {
                outcome: if stable {
                    "stable"
                } else if lost {
                    "lost"
                } else {
                    "never-read"
                },
                stable_latency: stable.then(|| ms(known_time, t.absent.map_or(0, |a| time(a) + 1))),
                lost_latency: lost.then(|| ms(known_time, t.present.map_or(0, |p| time(p) + 1))),
            }
        })
        .collect();
    let with = |o: &str| -> Vec<Elem> {
        results
            .iter()
            .zip(&keys)
            .filter(|(r, _)| r.outcome == o)
            .map(|(_, e)| e.clone())
            .collect()
    };
    let (lost, never_read) = (with("lost"), with("never-read"));
    let stable_count = results.iter().filter(|r| r.outcome == "stable").count();
    // Positions (in `results`) of the stale elements.
    let mut stale: Vec<usize> = (0..results.len())
        .filter(|i| results[*i].stable_latency.is_some_and(|l| l > 0))
        .collect();
    let stale_elems: Vec<Elem> = stale.iter().map(|i| keys[*i].clone()).collect();
    // Jepsen sorts by latency then reverses: ties put the larger element first.
    let rank = |i: &usize| (results[*i].stable_latency, &keys[*i]);
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
    // Only the worst stale elements are reported whole, with their ops.
    let worst_stale: Vec<ElementResult> = stale
        .into_iter()
        .map(|i| {
            let (r, t) = (&results[i], &tracked[i]);
            ElementResult {
                element: keys[i].clone(),
                outcome: r.outcome,
                stable_latency: r.stable_latency,
                lost_latency: r.lost_latency,
                known: t.known.map(|k| ops[k].clone()),
                last_absent: t.absent.map(|a| ops[a].clone()),
            }
        })
        .collect();
    let r = SetFullResult {
        valid,
        attempt_count: keys.len(),
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
