//! Jepsen's `stats` checker: counts of ok, fail and info completions, in
//! all and per operation. An operation that never succeeded makes the
//! verdict unknown (the intent Jepsen's docstring states; its code says
//! false): the workload did not exercise what it meant to.

use super::Report;
use crate::datum::Datum;
use crate::history::History;
use crate::op::{OpType, Process};
use crate::verdict::Validity;
use serde::Serialize;
use std::collections::BTreeMap;

/// Counts for one operation, or for all.
#[derive(Debug, Default, Serialize)]
pub struct Counts {
    /// true, or "unknown" when nothing succeeded.
    pub valid: Validity,
    /// Completions.
    pub count: usize,
    /// ok completions.
    pub ok_count: usize,
    /// fail completions.
    pub fail_count: usize,
    /// info completions.
    pub info_count: usize,
}

/// The result: all completions, and per `f`.
#[derive(Debug, Serialize)]
pub struct StatsResult {
    /// The counts of every client completion, and the merged verdict.
    #[serde(flatten)]
    pub all: Counts,
    /// Per operation.
    pub by_f: BTreeMap<String, Counts>,
}

impl Counts {
    fn add(&mut self, kind: OpType) {
        self.count += 1;
        match kind {
            OpType::Ok => self.ok_count += 1,
            OpType::Fail => self.fail_count += 1,
            _ => self.info_count += 1,
        }
        self.valid = if self.ok_count > 0 {
            Validity::Valid
        } else {
            Validity::Unknown
        };
    }
}

/// Counts a history's completions.
pub fn check(history: &History<Datum>) -> Report {
    let mut all = Counts::default();
    let mut by_f: BTreeMap<String, Counts> = BTreeMap::new();
    for op in history.ops() {
        if op.kind == OpType::Invoke || op.process == Process::Nemesis {
            continue;
        }
        all.add(op.kind);
        by_f.entry(op.f.to_string()).or_default().add(op.kind);
    }
    all.valid = by_f.values().fold(Validity::Valid, |v, c| v.merge(c.valid));
    let mut lines = vec![format!(
        "{} completions: {} ok, {} failed, {} indeterminate",
        all.count, all.ok_count, all.fail_count, all.info_count
    )];
    lines.extend(by_f.iter().filter(|(_, c)| c.ok_count == 0).map(|(f, c)| {
        format!(
            "unknown: no {f} succeeded ({} failed, {} indeterminate)",
            c.fail_count, c.info_count
        )
    }));
    let r = StatsResult { all, by_f };
    Report::new(r.all.valid, &r, lines)
}
