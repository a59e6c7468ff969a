//! `workload:`: the kind, the op mix, keys, values and the sizes of
//! transactional workloads.

use super::Problems;
use crate::spec::plan::{KeyMode, Values, WorkloadKind};
use crate::spec::Loaded;

/// Most keys a transactional workload keeps in use at once.
const MAX_KEY_COUNT: usize = 100_000;
/// Most micro-ops per transaction.
const MAX_TXN_LENGTH: usize = 10_000;
/// Largest weight of one op in the mix.
const MAX_WEIGHT: u32 = 1_000_000;

/// What `workload:` gives the plan, besides its kind.
pub(super) struct WorkloadPlan {
    /// Op weights.
    pub mix: Vec<(String, u32)>,
    /// Keys.
    pub keys: KeyMode,
    /// Written values.
    pub values: Values,
    /// Transactional workloads: keys in use at once.
    pub key_count: usize,
    /// Transactional workloads: most micro-ops per txn.
    pub txn_length: usize,
    /// Transactional workloads: writes per key before it is retired.
    pub max_writes_per_key: usize,
}

impl Loaded {
    /// `workload:` but its kind.
    pub(super) fn workload(&self, workload: WorkloadKind, p: &mut Problems) -> WorkloadPlan {
        let s = &self.spec;
        let mix = self.mix(workload, p);
        let keys = match s.workload.keys.as_deref() {
            None | Some("single") => KeyMode::Single,
            Some("independent") => KeyMode::Independent,
            Some(other) => {
                p.key(
                    "workload.keys",
                    format!("expected single or independent, found {other:?}"),
                );
                KeyMode::Single
            }
        };
        let values = match s.workload.values.as_deref() {
            None | Some("unique") => Values::Unique,
            Some(r) => match r
                .split_once("..")
                .map(|(a, b)| (a.trim().parse::<i64>(), b.trim().parse::<i64>()))
            {
                Some((Ok(lo), Ok(hi))) if lo < hi && hi.checked_sub(lo).is_some() => {
                    Values::Range(lo, hi)
                }
                _ => {
                    p.key(
                        "workload.values",
                        format!(
                            "expected unique or a range like 0..5 (low below high), found {r:?}"
                        ),
                    );
                    Values::Unique
                }
            },
        };
        let key_count = p.count(
            "workload.key_count",
            s.workload.key_count,
            10,
            MAX_KEY_COUNT,
        );
        let txn_length = p.count(
            "workload.txn_length",
            s.workload.txn_length,
            4,
            MAX_TXN_LENGTH,
        );
        WorkloadPlan {
            mix,
            keys,
            values,
            key_count,
            txn_length,
            max_writes_per_key: s.workload.max_writes_per_key.unwrap_or(32),
        }
    }

    pub(super) fn workload_kind(&self, p: &mut Problems) -> WorkloadKind {
        match self.spec.workload.kind.as_str() {
            "register" => WorkloadKind::Register,
            "cas-register" => WorkloadKind::CasRegister,
            "set" => WorkloadKind::Set,
            "list-append" => WorkloadKind::ListAppend,
            "rw-register" => WorkloadKind::RwRegister,
            "counter" => WorkloadKind::Counter,
            "bank" => WorkloadKind::Bank,
            "queue" => WorkloadKind::Queue,
            "unique-ids" => WorkloadKind::UniqueIds,
            "long-fork" => WorkloadKind::LongFork,
            other => {
                let kinds = [
                    "register",
                    "cas-register",
                    "set",
                    "list-append",
                    "rw-register",
                    "counter",
                    "bank",
                    "queue",
                    "unique-ids",
                    "long-fork",
                ];
                let hint = crate::spec::did_you_mean(other, &kinds)
                    .map_or(String::new(), |m| format!(" (did you mean `{m}`?)"));
                p.key(
                    "workload.kind",
                    format!(
                        "unknown workload {other:?}; expected {}{hint}",
                        kinds.join(", ")
                    ),
                );
                WorkloadKind::CasRegister
            }
        }
    }

    fn mix(&self, workload: WorkloadKind, p: &mut Problems) -> Vec<(String, u32)> {
        let allowed: &[&str] = match workload {
            WorkloadKind::Register => &["read", "write"],
            WorkloadKind::CasRegister => &["read", "write", "cas"],
            WorkloadKind::Set => &["add", "read"],
            WorkloadKind::ListAppend | WorkloadKind::RwRegister => &["txn"],
            WorkloadKind::Counter => &["add", "read"],
            WorkloadKind::Bank => &["transfer", "read"],
            WorkloadKind::Queue => &["enqueue", "dequeue"],
            WorkloadKind::UniqueIds => &["generate"],
            // Both are `txn` ops in the history, as Jepsen records them.
            WorkloadKind::LongFork => &["insert", "read"],
        };
        let mix: Vec<(String, u32)> = match &self.spec.workload.mix {
            Some(m) => m.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            None => allowed.iter().map(|f| (f.to_string(), 1)).collect(),
        };
        for (f, w) in &mix {
            if !allowed.contains(&f.as_str()) {
                let hint = crate::spec::did_you_mean(f, allowed)
                    .map_or(String::new(), |m| format!(" (did you mean `{m}`?)"));
                p.key(
                    "workload.mix",
                    format!(
                        "{f:?} is not an op of this workload; expected {}{hint}",
                        allowed.join(", ")
                    ),
                );
            }
            if *w > MAX_WEIGHT {
                p.key(
                    "workload.mix",
                    format!("weight {w} of {f:?} is above {MAX_WEIGHT}"),
                );
            }
        }
        if mix.iter().all(|(_, w)| *w == 0) {
            p.key("workload.mix", "at least one op needs a weight above 0");
        }
        mix
    }
}
