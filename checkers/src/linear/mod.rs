//! The linearizability checker.
//!
//! [`check`] decides whether a history of single-object ops could have
//! happened in some sequential order that respects real time and the
//! [`Model`]: every op takes effect at one instant
//! between its invocation and its completion. `fail` ops never happened;
//! `info` ops (and invocations without completion) may take effect at any
//! time after their invocation, or never.
//!
//! The history is split into independent sub-histories by
//! [`Model::partition_key`]
//! (P-compositionality), which are searched in parallel with
//! `search`: Wing & Gong's algorithm with Lowe's cache of configurations.
//! Register sub-histories go through exact shortcuts first (`shortcut`):
//! indeterminate writes nobody observes are dropped, a read of a value no
//! op could have produced refutes at once, and registers whose written
//! values are unique are decided in O(n log n) without the search.
//! A time limit and a memory limit turn a search that runs too long into an
//! `Unknown` verdict that says how far it got. Asked to
//! ([`Options::with_witness`]), a valid verdict comes with its proof: the
//! order the search found ([`Witness`]).
//!
//! ```
//! use faultline_checkers::{linear, model::{CasRegister, Scalar}, History, Op, OpType, Process};
//! use serde_json::json;
//! let op = |p, t, f: &str, v| Op::new(0, Process::Client(p), t, f, v);
//! let h = History::new(vec![
//!     op(0, OpType::Invoke, "write", json!(1)),
//!     op(0, OpType::Ok, "write", json!(1)),
//!     op(1, OpType::Invoke, "read", json!(null)),
//!     op(1, OpType::Ok, "read", json!(2)),
//! ]);
//! let a = linear::check(&CasRegister::new(Scalar::Null), &h, &linear::Options::default()).unwrap();
//! assert_eq!(a.valid, faultline_checkers::Validity::Invalid);
//! println!("{}", a.failure.unwrap().explanation);
//! ```

mod cache;
mod explain;
mod hash;
mod shortcut;
mod values;
mod witness;

pub(crate) use hash::FxBuild;
use hash::MixedBuild;
pub(crate) mod search;

pub use explain::{Failure, OpSummary};
pub use witness::{Witness, WitnessPartition};

use crate::error::{CheckError, ModelError};
use crate::history::History;
use crate::model::Model;
use crate::op::OpType;
use crate::verdict::Validity;
use rayon::prelude::*;
use search::{Budget, Call, Limit, Outcome};
use serde::Serialize;
use serde_json::Value;
use shortcut::Decision;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Limits for one check.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Options {
    /// Give up with `Unknown` after this long.
    pub time_limit: Option<Duration>,
    /// Give up with `Unknown` when the search's tables reach this many bytes.
    pub memory_limit: usize,
    /// Record the linearization of a valid history ([`Analysis::witness`]).
    pub witness: bool,
    /// When set (by Ctrl-C, say), the search gives up with `Unknown`.
    pub interrupt: Option<Arc<AtomicBool>>,
    /// Take the register shortcuts (on by default); off, every
    /// sub-history goes through the search, for cross-checking.
    pub shortcuts: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            time_limit: None,
            memory_limit: 4 << 30,
            witness: false,
            interrupt: None,
            shortcuts: true,
        }
    }
}

impl Options {
    /// These options with a time limit.
    pub fn with_time_limit(mut self, limit: Option<Duration>) -> Self {
        self.time_limit = limit;
        self
    }

    /// These options with a memory limit in bytes.
    pub fn with_memory_limit(mut self, bytes: usize) -> Self {
        self.memory_limit = bytes;
        self
    }

    /// These options, giving up when `flag` is set.
    pub fn with_interrupt(mut self, flag: Option<Arc<AtomicBool>>) -> Self {
        self.interrupt = flag;
        self
    }

    /// These options, with the register shortcuts on or off.
    pub fn with_shortcuts(mut self, on: bool) -> Self {
        self.shortcuts = on;
        self
    }

    /// These options, recording a [`Witness`] when the verdict is valid.
    pub fn with_witness(mut self, witness: bool) -> Self {
        self.witness = witness;
        self
    }
}

/// The result of a linearizability check.
#[derive(Clone, Debug, Serialize)]
pub struct Analysis {
    /// `true`, `false` or `"unknown"`.
    pub valid: Validity,
    /// Model name.
    pub model: String,
    /// Client ops checked (after dropping `fail` ops and indeterminate reads).
    pub ops: usize,
    /// Independent sub-histories.
    pub partitions: usize,
    /// Distinct (linearized set, state) configurations explored.
    pub configurations: usize,
    /// Why the history is not linearizable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    /// Why the checker could not decide, and how far it got.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown: Option<Incomplete>,
    /// The linearization found, when the verdict is valid and
    /// [`Options::witness`] asked for it. Not serialized with the analysis:
    /// write it with [`Witness::write_json`].
    #[serde(skip)]
    pub witness: Option<Witness>,
}

/// How far an undecided check got.
#[derive(Clone, Debug, Serialize)]
pub struct Incomplete {
    /// What stopped it.
    pub reason: String,
    /// Sub-histories decided (all linearizable) before it stopped.
    pub partitions_done: usize,
    /// All sub-histories.
    pub partitions: usize,
    /// In the slowest undecided sub-history: the furthest history position
    /// that some search path got past, as a fraction of its length.
    pub progress: f64,
}

/// One independent sub-history, ready to search.
pub(crate) struct Partition<M: Model> {
    pub(crate) key: Option<Value>,
    pub(crate) calls: Vec<Call<M>>,
    /// History position of each call's invocation and completion.
    pairs: Vec<(usize, Option<usize>)>,
}

/// Checks `history` against `model`. Errors only on input that does not
/// fit (unpaired ops, values of the wrong shape); every verdict, including
/// "gave up", is an [`Analysis`].
pub fn check<M: Model>(
    model: &M,
    history: &History,
    options: &Options,
) -> Result<Analysis, CheckError> {
    let start = Instant::now();
    let mut parts = partition(model, history)?;
    let ops = parts.iter().map(|p| p.calls.len()).sum();
    if options.shortcuts {
        parts = parts.into_iter().map(|p| p.pruned(model)).collect();
    }
    let memory_used = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let budget = Budget {
        deadline: options.time_limit.and_then(|t| start.checked_add(t)),
        memory_limit: options.memory_limit,
        memory_used: &memory_used,
        stop: &stop,
        interrupt: options.interrupt.as_deref(),
    };
    let mut reports: Vec<Settled<M::State>> = parts
        .par_iter()
        .map(|p| {
            let decided = options
                .shortcuts
                .then(|| shortcut::decide(model, &p.calls))
                .flatten();
            let r = match decided {
                Some(d) => Settled::Decided(d),
                None => {
                    Settled::Searched(search::search(model, &p.calls, &budget, options.witness))
                }
            };
            if r.refuted() {
                stop.store(true, Ordering::Relaxed);
            }
            r
        })
        .collect();

    let mut analysis = Analysis {
        valid: Validity::Valid,
        model: model.name().to_string(),
        ops,
        partitions: parts.len(),
        configurations: reports
            .iter()
            .map(|r| match r {
                Settled::Searched(r) => r.configurations,
                Settled::Decided(_) => 0,
            })
            .sum(),
        failure: None,
        unknown: None,
        witness: None,
    };
    let mut worst: Option<(Limit, f64)> = None;
    let mut done = 0;
    for (p, r) in parts.iter().zip(&mut reports) {
        let r = match r {
            Settled::Decided(Decision::Linearizable(_)) => {
                done += 1;
                continue;
            }
            Settled::Decided(Decision::NotLinearizable(why)) => {
                if analysis.failure.is_none() {
                    match explained(model, history, p, why, options) {
                        Ok(f) => {
                            analysis.valid = Validity::Invalid;
                            analysis.failure = Some(f);
                        }
                        // The search linearized what the shortcuts refuted
                        // (a shortcut bug): the search has the proof, so
                        // its report replaces the refutation.
                        Err(searched) => {
                            *r = Settled::Searched(*searched);
                            done += 1;
                        }
                    }
                }
                continue;
            }
            Settled::Searched(r) => &*r,
        };
        match &r.outcome {
            Outcome::Linearizable => done += 1,
            Outcome::NotLinearizable(stuck) if analysis.failure.is_none() => {
                analysis.valid = Validity::Invalid;
                analysis.failure = Some(explain::failure(
                    model,
                    history,
                    p.key.clone(),
                    &p.calls,
                    &p.pairs,
                    stuck,
                    &r.states,
                ));
            }
            Outcome::NotLinearizable(_) => {}
            Outcome::Unknown(limit, stuck) => {
                let progress = stuck.as_ref().map_or(0.0, |s| progress_of(p, s.op));
                if *limit != Limit::Cancelled && worst.is_none_or(|(_, w)| progress < w) {
                    worst = Some((*limit, progress));
                }
            }
        }
    }
    if analysis.valid == Validity::Valid && done < parts.len() {
        analysis.valid = Validity::Unknown;
        let (limit, progress) = worst.unwrap_or((Limit::Cancelled, 0.0));
        let reason = match limit {
            Limit::Time => format!(
                "time limit of {:.1} s reached",
                options.time_limit.unwrap_or_default().as_secs_f64()
            ),
            Limit::Memory => format!("memory limit of {} MiB reached", options.memory_limit >> 20),
            Limit::Cancelled => "cancelled".to_string(),
            Limit::Interrupted => "interrupted".to_string(),
        };
        analysis.unknown = Some(Incomplete {
            reason,
            partitions_done: done,
            partitions: parts.len(),
            progress,
        });
    }
    if analysis.valid == Validity::Valid && options.witness {
        analysis.witness = Some(witness_of(model, &parts, &reports));
    }
    Ok(analysis)
}

/// How long the search may take to explain what the shortcuts refuted,
/// before their own explanation stands.
const EXPLAIN_TIME: Duration = Duration::from_millis(250);

/// The failure for a partition the shortcuts refuted. A short search gives
/// the usual explanation (the states reachable just before the op, the
/// longest linearizable prefix), with the shortcuts' reason added when it
/// is stuck at the same op; when it runs out of time, the shortcuts'
/// explanation stands alone. The search's report instead if it linearizes
/// the partition (a shortcut bug: the search's proof wins).
fn explained<M: Model>(
    model: &M,
    history: &History,
    p: &Partition<M>,
    why: &shortcut::Refutation,
    options: &Options,
) -> Result<Failure, Box<search::Report<M::State>>> {
    let (used, stop) = (AtomicUsize::new(0), AtomicBool::new(false));
    let budget = Budget {
        deadline: Instant::now().checked_add(EXPLAIN_TIME),
        memory_limit: options.memory_limit.min(256 << 20),
        memory_used: &used,
        stop: &stop,
        interrupt: options.interrupt.as_deref(),
    };
    let r = search::search(model, &p.calls, &budget, options.witness);
    let key = p.key.clone();
    match &r.outcome {
        Outcome::Linearizable => {
            // A shortcut bug; tests (debug builds) must hear of it.
            debug_assert!(
                false,
                "the register shortcuts refuted a linearizable sub-history"
            );
            Err(Box::new(r))
        }
        Outcome::NotLinearizable(stuck) => {
            let f = explain::failure(model, history, key, &p.calls, &p.pairs, stuck, &r.states);
            Ok(if stuck.op == why.op {
                explain::with_reason(f, explain::reason(history, &p.pairs, why))
            } else {
                f
            })
        }
        Outcome::Unknown(..) => Ok(explain::refuted(history, key, &p.calls, &p.pairs, why)),
    }
}

/// How one partition was settled: by the search, or by the register
/// shortcuts.
enum Settled<S> {
    Searched(search::Report<S>),
    Decided(Decision),
}

impl<S> Settled<S> {
    fn refuted(&self) -> bool {
        matches!(
            self,
            Settled::Searched(search::Report {
                outcome: Outcome::NotLinearizable(_),
                ..
            }) | Settled::Decided(Decision::NotLinearizable(_))
        )
    }
}

/// The witness of a check whose every partition was found linearizable
/// (with orders recorded).
fn witness_of<M: Model>(
    model: &M,
    parts: &[Partition<M>],
    reports: &[Settled<M::State>],
) -> Witness {
    Witness {
        model: model.name().to_string(),
        initial_value: model.initial_value(),
        partitions: parts
            .iter()
            .zip(reports)
            .map(|(p, r)| WitnessPartition {
                key: p.key.clone(),
                order: match r {
                    Settled::Searched(r) => {
                        r.order.iter().flatten().map(|&pos| pos as usize).collect()
                    }
                    Settled::Decided(Decision::Linearizable(order)) => {
                        order.iter().map(|&i| p.calls[i].call as usize).collect()
                    }
                    Settled::Decided(Decision::NotLinearizable(_)) => Vec::new(),
                },
            })
            .collect(),
    }
}

impl<M: Model> Partition<M> {
    /// This partition without the calls the shortcuts drop (unobserved
    /// indeterminate writes).
    fn pruned(self, model: &M) -> Self {
        let keep = shortcut::prune(model, &self.calls);
        if keep.len() == self.calls.len() {
            return self;
        }
        let mut wanted = vec![false; self.calls.len()];
        for &i in &keep {
            wanted[i] = true;
        }
        let (calls, pairs) = self
            .calls
            .into_iter()
            .zip(self.pairs)
            .zip(wanted)
            .filter(|(_, w)| *w)
            .map(|(cp, _)| cp)
            .unzip();
        Partition {
            key: self.key,
            calls,
            pairs,
        }
    }
}

/// Fraction of a partition's ops whose completion comes no later than op's.
fn progress_of<M: Model>(p: &Partition<M>, op: usize) -> f64 {
    let Some(limit) = p.calls[op].ret else {
        return 1.0;
    };
    let before = p
        .calls
        .iter()
        .filter(|c| c.ret.is_some_and(|r| r <= limit))
        .count();
    before as f64 / p.calls.len().max(1) as f64
}

/// Decodes the client ops and groups them by partition key, in order of
/// first appearance.
pub(crate) fn partition<M: Model>(
    model: &M,
    history: &History,
) -> Result<Vec<Partition<M>>, CheckError> {
    let pairs = history.pairs()?;
    let mut parts: Vec<Partition<M>> = Vec::new();
    let mut by_key: HashMap<Option<String>, usize, MixedBuild> = HashMap::default();
    for pair in pairs {
        let invoke = &history[pair.invoke];
        let outcome = pair.outcome(history);
        if outcome == OpType::Fail {
            continue;
        }
        let completion = pair
            .completion
            .filter(|_| outcome == OpType::Ok)
            .map(|c| &history[c]);
        let decoded = model
            .decode(invoke, completion)
            .map_err(|message| ModelError {
                index: pair.invoke,
                message,
            })?;
        let Some((input, output)) = decoded else {
            continue;
        };
        let key = model.partition_key(invoke);
        let slot = *by_key
            .entry(key.as_ref().map(Value::to_string))
            .or_insert_with(|| {
                parts.push(Partition {
                    key,
                    calls: Vec::new(),
                    pairs: Vec::new(),
                });
                parts.len() - 1
            });
        let part = &mut parts[slot];
        part.calls.push(Call {
            input,
            output,
            call: pair.invoke as u32,
            ret: completion.map(|_| pair.completion.unwrap_or(0) as u32),
        });
        part.pairs.push((pair.invoke, pair.completion));
    }
    Ok(parts)
}
