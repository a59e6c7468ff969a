//! `checkers:`, `consistency_models:`, `log_pattern:` and the workload
//! options Jepsen's checkers read.

use super::Problems;
use crate::spec::plan::{KeyMode, Values, WorkloadKind};
use crate::spec::Loaded;

impl Loaded {
    /// `checkers:`, `consistency_models:`, `log_pattern:` and the workload
    /// options Jepsen's checkers read (see `spec/checkers.rs`).
    pub(super) fn checkers(
        &self,
        workload: WorkloadKind,
        keys: KeyMode,
        p: &mut Problems,
    ) -> (
        Vec<String>,
        Vec<String>,
        crate::spec::WorkloadOptions,
        Option<String>,
    ) {
        let s = &self.spec;
        let (checkers, errs) = crate::spec::checkers::checker_list(s, workload);
        let (options, more) = crate::spec::checkers::workload_options(s, workload);
        let (log_pattern, last) = crate::spec::checkers::log_pattern(s);
        for (key, m) in errs.into_iter().chain(more).chain(last) {
            p.key(&key, m);
        }
        let consistency_models = s
            .consistency_models
            .clone()
            .unwrap_or_else(|| vec!["serializable".into()]);
        let known = faultline_checkers::elle::models::names();
        for m in &consistency_models {
            if faultline_checkers::elle::models::canonical(m).is_none() {
                p.key(
                    "consistency_models",
                    format!(
                        "unknown consistency model {m:?}; expected one of {}",
                        known.join(", ")
                    ),
                );
            }
        }
        if workload == WorkloadKind::Set
            && checkers.iter().any(|c| c == "linearizable")
            && keys == KeyMode::Independent
        {
            p.key(
                "workload.keys",
                "set workloads use a single set; remove `keys: independent`",
            );
        }
        if matches!(
            workload,
            WorkloadKind::Counter
                | WorkloadKind::Bank
                | WorkloadKind::Queue
                | WorkloadKind::UniqueIds
                | WorkloadKind::LongFork
        ) && keys == KeyMode::Independent
        {
            p.key(
                "workload.keys",
                format!(
                    "{} workloads use one {}; remove `keys: independent`",
                    workload.name(),
                    if workload == WorkloadKind::UniqueIds {
                        "id source"
                    } else {
                        "object"
                    }
                ),
            );
        }
        if workload == WorkloadKind::Counter {
            if let Some(Values::Range(lo, _)) = self.counter_values() {
                if lo < 0 {
                    p.key(
                        "workload.values",
                        format!("counter adds must not be negative (Jepsen's counter), found {lo}"),
                    );
                }
            }
        }
        (checkers, consistency_models, options, log_pattern)
    }

    /// `workload.values` as a range, when it parses as one.
    fn counter_values(&self) -> Option<Values> {
        let (a, b) = self.spec.workload.values.as_deref()?.split_once("..")?;
        Some(Values::Range(
            a.trim().parse().ok()?,
            b.trim().parse().ok()?,
        ))
    }
}
