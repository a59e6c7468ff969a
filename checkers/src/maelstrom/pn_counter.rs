//! Maelstrom's g-counter / pn-counter checker: every final read must be
//! the sum of the adds that happened. The ok adds' deltas sum to a
//! definite total; each indeterminate add (`info`, or never completed) may
//! or may not have happened, so the acceptable values are the definite
//! sum plus the sum of any subset of the indeterminate deltas (failed adds
//! did not happen). The set is kept as sorted, disjoint closed integer
//! ranges, adjacent ones merged: exactly the integers Maelstrom's Guava
//! `RangeSet` of open ranges widened by one accepts, reported the same way
//! (`acceptable`: `[[lo, hi], ...]`).
//!
//! Only final reads are checked: reads invoked after the nemesis op
//! `{"process": "nemesis", "f": "final-reads"}` that marks the final
//! phase (Maelstrom's `:final? true` reads). Without a marker, the reads
//! invoked after every add had completed are final; an add that never
//! completed never has, so then no read is final.
//!
//! Valid when every ok final read is acceptable; invalid when one is not
//! (`errors`: its index, node and value); unknown when no final read
//! completed ok, when the acceptable set grows past [`MAX_RANGES`] ranges
//! (indeterminate deltas far apart; faultline never widens the set, which
//! would be unsound), or when a sum overflows 64 bits.

use crate::datum::Datum;
use crate::error::CheckError;
use crate::history::History;
use crate::jepsen::{bad, Report};
use crate::op::{OpType, Process};
use crate::verdict::Validity;
use serde::Serialize;

/// Most ranges the acceptable set may hold before the checker gives up.
pub const MAX_RANGES: usize = 1 << 20;

/// A final read outside the acceptable set.
#[derive(Debug, Serialize)]
pub struct ReadError {
    /// The read's completion (`index` in the history).
    pub index: u64,
    /// The node it read from.
    pub node: Option<Box<str>>,
    /// The value it read.
    pub value: i64,
}

/// The result, with Maelstrom's fields (and a few of faultline's).
#[derive(Debug, Serialize)]
pub struct PnCounterResult {
    /// true, false or "unknown".
    pub valid: Validity,
    /// Closed ranges `[lo, hi]` of acceptable final values (empty when
    /// they could not be computed).
    pub acceptable: Vec<[i64; 2]>,
    /// Final reads outside `acceptable`.
    pub errors: Vec<ReadError>,
    /// Final reads that completed ok.
    pub final_reads: usize,
    /// Sum of the ok adds.
    pub definite_sum: i64,
    /// Adds that may or may not have happened.
    pub indeterminate_adds: usize,
    /// How final reads were told: `"marker"` or `"after-adds"`.
    pub final_by: &'static str,
    /// Why the verdict is unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `ranges` ∪ (`ranges` + `delta`), merged; `None` on overflow.
fn shift_union(ranges: &[[i64; 2]], delta: i64) -> Option<Vec<[i64; 2]>> {
    let shifted: Option<Vec<[i64; 2]>> = ranges
        .iter()
        .map(|r| Some([r[0].checked_add(delta)?, r[1].checked_add(delta)?]))
        .collect();
    let shifted = shifted?;
    let (mut a, mut b) = (ranges.iter().peekable(), shifted.iter().peekable());
    let mut out: Vec<[i64; 2]> = Vec::with_capacity(ranges.len() + 1);
    loop {
        let next = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) if x[0] <= y[0] => a.next(),
            (Some(_), Some(_)) => b.next(),
            (Some(_), None) => a.next(),
            (None, Some(_)) => b.next(),
            (None, None) => break,
        };
        let r = *next?;
        match out.last_mut() {
            // Overlapping or adjacent integer ranges merge.
            Some(last) if r[0] <= last[1].saturating_add(1) => last[1] = last[1].max(r[1]),
            _ => out.push(r),
        }
    }
    Some(out)
}

/// The acceptable set, or why it could not be computed.
fn acceptable(definite: i64, deltas: &[i64]) -> Result<Vec<[i64; 2]>, String> {
    let mut ranges = vec![[definite, definite]];
    for &d in deltas.iter().filter(|&&d| d != 0) {
        ranges = shift_union(&ranges, d).ok_or("a possible sum overflows 64 bits")?;
        if ranges.len() > MAX_RANGES {
            return Err(format!(
                "the acceptable set grew past {MAX_RANGES} ranges (indeterminate deltas too far apart to check exactly)"
            ));
        }
    }
    Ok(ranges)
}

fn contains(ranges: &[[i64; 2]], v: i64) -> bool {
    let i = ranges.partition_point(|r| r[1] < v);
    ranges.get(i).is_some_and(|r| r[0] <= v)
}

/// Checks a g-counter or pn-counter history.
pub fn check(history: &History<Datum>) -> Result<Report, CheckError> {
    let ops = history.ops();
    let marker = ops
        .iter()
        .position(|o| o.process == Process::Nemesis && &*o.f == "final-reads");
    let mut definite: Option<i64> = Some(0);
    let mut deltas: Vec<i64> = Vec::new();
    let mut adds_done = 0usize;
    let mut reads: Vec<(usize, usize)> = Vec::new();
    for p in history.pairs().map_err(CheckError::History)? {
        let inv = &ops[p.invoke];
        match &*inv.f {
            "add" => {
                let delta = crate::jepsen::int(inv, p.invoke, "an add's delta")?;
                match p.outcome(history) {
                    OpType::Ok => definite = definite.and_then(|s| s.checked_add(delta)),
                    OpType::Fail => {}
                    _ => deltas.push(delta),
                }
                adds_done = adds_done.max(p.completion.unwrap_or(usize::MAX));
            }
            "read" => {
                if let Some(c) = p.completion.filter(|&c| ops[c].kind == OpType::Ok) {
                    reads.push((p.invoke, c));
                }
            }
            _ => {}
        }
    }
    let after = marker.unwrap_or(adds_done);
    let mut r = PnCounterResult {
        valid: Validity::Valid,
        acceptable: Vec::new(),
        errors: Vec::new(),
        final_reads: 0,
        definite_sum: definite.unwrap_or(0),
        indeterminate_adds: deltas.len(),
        final_by: if marker.is_some() {
            "marker"
        } else {
            "after-adds"
        },
        reason: None,
    };
    let finals: Vec<usize> = reads
        .iter()
        .filter(|(i, _)| after != usize::MAX && *i > after)
        .map(|x| x.1)
        .collect();
    r.final_reads = finals.len();
    let set = match definite {
        None => Err("the definite sum overflows 64 bits".to_string()),
        Some(s) => acceptable(s, &deltas),
    };
    match set {
        Err(why) => r.reason = Some(why),
        Ok(set) => {
            for c in finals {
                let v = ops[c].value.as_i64().ok_or_else(|| {
                    bad(
                        c,
                        format!(
                            "expected a read to return an integer, found {}",
                            ops[c].value
                        ),
                    )
                })?;
                if !contains(&set, v) {
                    r.errors.push(ReadError {
                        index: ops[c].index,
                        node: ops[c].node.clone(),
                        value: v,
                    });
                }
            }
            r.acceptable = set;
        }
    }
    if r.reason.is_none() && r.final_reads == 0 {
        r.reason = Some(match marker {
            Some(_) => "no read invoked after the final-reads marker completed ok".into(),
            None if adds_done == usize::MAX => {
                "no final-reads marker, and some add never completed, so no read is known to be final".into()
            }
            None => "no final-reads marker, and no read was invoked after every add completed".into(),
        });
    }
    r.valid = if !r.errors.is_empty() {
        Validity::Invalid
    } else if r.reason.is_some() {
        Validity::Unknown
    } else {
        Validity::Valid
    };
    let shown: Vec<String> = r
        .acceptable
        .iter()
        .take(8)
        .map(|[a, b]| format!("[{a} {b}]"))
        .collect();
    let mut lines = vec![format!(
        "{} final reads, {} outside the acceptable set {}{} (definite sum {}, {} indeterminate adds)",
        r.final_reads,
        r.errors.len(),
        shown.join(" "),
        if r.acceptable.len() > 8 { format!(" … {} ranges", r.acceptable.len()) } else { String::new() },
        r.definite_sum,
        r.indeterminate_adds
    )];
    for e in r.errors.iter().take(8) {
        lines.push(format!(
            "op {} on {} read {}, not acceptable",
            e.index,
            e.node.as_deref().unwrap_or("?"),
            e.value
        ));
    }
    if let Some(why) = &r.reason {
        lines.push(format!("unknown: {why}"));
    }
    Ok(Report::new(r.valid, &r, lines))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::jsonl;
    use serde_json::{json, Value};
    use std::path::Path;

    /// `(process, type, f, value)`; process `None` is the nemesis. Reads
    /// name node `n{process}`.
    fn run(ops: &[(Option<u64>, &str, &str, Value)]) -> Report {
        let mut text = String::new();
        for (i, (p, t, f, v)) in ops.iter().enumerate() {
            let mut o = json!({"index": i, "time": i, "type": t, "f": f, "value": v});
            match p {
                Some(p) => {
                    o["process"] = json!(p);
                    o["node"] = json!(format!("n{p}"));
                }
                None => o["process"] = json!("nemesis"),
            }
            text.push_str(&format!("{o}\n"));
        }
        check(&jsonl::read_as::<Datum>(Path::new("c.jsonl"), &text).unwrap()).unwrap()
    }

    fn adds() -> Vec<(Option<u64>, &'static str, &'static str, Value)> {
        vec![
            (Some(0), "invoke", "add", json!(1)),
            (Some(0), "ok", "add", json!(1)),
            (Some(1), "invoke", "add", json!(2)),
            (Some(1), "ok", "add", json!(2)),
            (Some(2), "invoke", "add", json!(3)),
            (Some(2), "info", "add", json!(3)),
            (Some(3), "invoke", "add", json!(10)),
            (Some(3), "fail", "add", json!(10)),
            (Some(4), "invoke", "add", json!(-1)),
        ]
    }

    fn final_reads(values: &[i64]) -> Vec<(Option<u64>, &'static str, &'static str, Value)> {
        let mut ops = vec![(None, "info", "final-reads", Value::Null)];
        for (p, v) in values.iter().enumerate() {
            ops.push((Some(10 + p as u64), "invoke", "read", Value::Null));
            ops.push((Some(10 + p as u64), "ok", "read", json!(v)));
        }
        ops
    }

    #[test]
    fn final_reads_within_the_acceptable_set_are_valid() {
        // Definite 3; 3 and -1 may have happened: {2, 3, 5, 6}.
        let ops: Vec<_> = adds().into_iter().chain(final_reads(&[3, 6, 2])).collect();
        let r = run(&ops);
        assert_eq!(r.valid, Validity::Valid, "{}", r.json);
        assert_eq!(r.json["acceptable"], json!([[2, 3], [5, 6]]));
        assert_eq!(r.json["final_reads"], json!(3));
        assert_eq!(r.json["definite_sum"], json!(3));
        assert_eq!(r.json["indeterminate_adds"], json!(2));
    }

    #[test]
    fn a_final_read_outside_is_invalid() {
        let mut ops: Vec<_> = adds();
        // A read before the marker may be anything.
        ops.push((Some(20), "invoke", "read", Value::Null));
        ops.push((Some(20), "ok", "read", json!(100)));
        ops.extend(final_reads(&[4, 5]));
        let r = run(&ops);
        assert_eq!(r.valid, Validity::Invalid);
        assert_eq!(
            r.json["errors"],
            json!([{"index": 13, "node": "n10", "value": 4}])
        );
        assert!(
            r.lines
                .iter()
                .any(|l| l == "op 13 on n10 read 4, not acceptable"),
            "{:?}",
            r.lines
        );
    }

    #[test]
    fn without_a_marker_reads_after_every_add_are_final() {
        let mut ops: Vec<_> = adds();
        // Process 4's add of -1 completes (ok) here; only later reads count.
        ops.push((Some(20), "invoke", "read", Value::Null));
        ops.push((Some(4), "ok", "add", json!(-1)));
        ops.push((Some(20), "ok", "read", json!(100)));
        ops.push((Some(21), "invoke", "read", Value::Null));
        ops.push((Some(21), "ok", "read", json!(5)));
        let r = run(&ops);
        assert_eq!(r.json["final_by"], json!("after-adds"));
        assert_eq!(r.json["acceptable"], json!([[2, 2], [5, 5]]));
        assert_eq!(r.json["final_reads"], json!(1));
        assert_eq!(r.valid, Validity::Valid, "{}", r.json);
        // An add that never completes leaves no read known to be final.
        let mut ops = adds();
        ops.push((Some(21), "invoke", "read", Value::Null));
        ops.push((Some(21), "ok", "read", json!(5)));
        let r = run(&ops);
        assert_eq!(r.valid, Validity::Unknown);
        assert!(
            r.json["reason"]
                .as_str()
                .unwrap()
                .contains("never completed"),
            "{}",
            r.json
        );
    }

    #[test]
    fn no_final_read_is_unknown() {
        let mut ops = adds();
        ops.push((None, "info", "final-reads", Value::Null));
        let r = run(&ops);
        assert_eq!(r.valid, Validity::Unknown);
        assert_eq!(r.json["final_reads"], json!(0));
    }

    #[test]
    fn acceptable_sets_are_every_subset_sum() {
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..300 {
            let n = rng.usize(0..10);
            let deltas: Vec<i64> = (0..n)
                .map(|_| {
                    if rng.bool() {
                        rng.i64(-5..5)
                    } else {
                        rng.i64(-40..40)
                    }
                })
                .collect();
            let definite = rng.i64(-20..20);
            let mut sums = std::collections::BTreeSet::new();
            for mask in 0u32..1 << n {
                let s: i64 = (0..n)
                    .filter(|i| mask & (1 << i) != 0)
                    .map(|i| deltas[i])
                    .sum();
                sums.insert(definite + s);
            }
            let set = acceptable(definite, &deltas).unwrap();
            let lo = *sums.first().unwrap() - 2;
            let hi = *sums.last().unwrap() + 2;
            for v in lo..=hi {
                assert_eq!(
                    contains(&set, v),
                    sums.contains(&v),
                    "{definite} {deltas:?} {v} {set:?}"
                );
            }
            // Disjoint, sorted, and never adjacent (adjacent ones merge).
            assert!(set.windows(2).all(|w| w[0][1] + 1 < w[1][0]), "{set:?}");
        }
    }

    #[test]
    fn too_many_ranges_is_unknown_not_widened() {
        let deltas: Vec<i64> = (0..21).map(|k| 3 << k).collect();
        assert!(acceptable(0, &deltas).unwrap_err().contains("ranges"));
        assert!(acceptable(i64::MAX, &[1]).unwrap_err().contains("overflow"));
    }
}
