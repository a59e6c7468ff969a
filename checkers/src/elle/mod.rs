//! Elle-style transactional consistency checking (Kingsbury & Alvaro,
//! VLDB 2020) for list-append and read-write register histories, with
//! Elle's semantics and anomaly names.
//!
//! From a black-box history, [`check`] infers each key's version order and
//! which transaction wrote each value, builds the dependency graph between
//! transactions (ww, wr and rw edges, plus process and real-time edges),
//! finds cycles in its strongly connected components, and names every
//! anomaly as Elle does (G0, G1a, G1b, G1c, G-single-item,
//! G-nonadjacent-item, G2-item, their -process and -realtime variants,
//! lost-update, internal, dirty-update, duplicate-elements,
//! incompatible-order, future-read, cyclic-versions, and the
//! `*-cycle-exists` findings). The consistency models (and extra
//! anomalies) asked for decide which anomalies are reported and make the
//! history invalid; `not`, `also_not` and `may_satisfy` come from
//! everything found, whatever was asked for.
//!
//! The verdict is `unknown`, never valid, when nothing could be checked:
//! no dependency was inferred (`empty-transaction-graph`), the history
//! breaks the workload's preconditions (`duplicate-appends`,
//! `unexplained-element`, `duplicate-writes`), or a time or memory limit
//! stopped the inference.
//!
//! # Layout
//!
//! - [`parsed`]: `txn` values read straight from JSON; [`txn`]:
//!   transactions and micro-ops decoded from the history.
//! - `list_append`, `rw_register`: inference and non-cycle anomalies.
//! - [`graph`]: typed edges, strongly connected components.
//! - `cycles`: cycle existence, cycle search and naming; [`models`]:
//!   Elle's consistency models and anomaly implications.
//! - `synth` (with the `testing` feature): simulated databases at chosen isolation levels, and
//!   injected anomalies, for tests and benchmarks.

mod cycles;
mod elements;
mod found;
pub mod graph;
mod list_append;
pub mod models;
pub mod parsed;
mod rw_register;
#[cfg(feature = "testing")]
pub mod synth;
pub mod txn;

pub use found::{Example, Occurrences};
pub use rw_register::Sources;

use crate::error::CheckError;
use crate::history::History;
use crate::verdict::Validity;
use found::Found;
use graph::Graph;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};
use txn::{Mop, TxnId, Txns};

/// Which kind of transactional workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// `["append", k, v]` and `["r", k, [..]]`.
    ListAppend,
    /// `["w", k, v]` and `["r", k, v]`.
    RwRegister,
}

impl Workload {
    /// The checker's name (`list-append`, `rw-register`).
    pub fn name(self) -> &'static str {
        match self {
            Workload::ListAppend => "list-append",
            Workload::RwRegister => "rw-register",
        }
    }
}

/// Options for a check.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Options {
    /// Consistency models to check against (default: serializable).
    pub models: Vec<String>,
    /// Further anomalies that make the history invalid (Elle's
    /// `:anomalies`), with every anomaly implying them.
    pub anomalies: Vec<String>,
    /// Give up after this long (unknown, unless the verdict is already
    /// decided).
    pub time_limit: Option<Duration>,
    /// Memory the dependency graph may use, in bytes (unknown beyond).
    pub memory_limit: Option<usize>,
    /// Work (edge visits) allowed per anomaly searched per component.
    pub budget: usize,
    /// rw-register version-order sources.
    pub sources: Sources,
    /// When set (by Ctrl-C, say), the check stops: unknown, unless already
    /// decided.
    pub interrupt: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            models: vec!["serializable".into()],
            anomalies: Vec::new(),
            time_limit: None,
            memory_limit: None,
            budget: 2_000_000,
            sources: Sources {
                wfr_keys: true,
                sequential_keys: false,
                linearizable_keys: false,
                unwritten_reads_initial: false,
            },
            interrupt: None,
        }
    }
}

impl Options {
    /// These options checking against `models`.
    pub fn with_models(mut self, models: Vec<String>) -> Self {
        self.models = models;
        self
    }

    /// These options also forbidding `anomalies`.
    pub fn with_anomalies(mut self, anomalies: Vec<String>) -> Self {
        self.anomalies = anomalies;
        self
    }

    /// These options with a time limit.
    pub fn with_time_limit(mut self, limit: Option<Duration>) -> Self {
        self.time_limit = limit;
        self
    }

    /// These options with a memory limit, in bytes.
    pub fn with_memory_limit(mut self, bytes: Option<usize>) -> Self {
        self.memory_limit = bytes;
        self
    }

    /// These options, stopping when `flag` is set.
    pub fn with_interrupt(
        mut self,
        flag: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    ) -> Self {
        self.interrupt = flag;
        self
    }

    /// These options with rw-register version-order sources.
    pub fn with_sources(mut self, sources: Sources) -> Self {
        self.sources = sources;
        self
    }
}

/// The result.
#[derive(Clone, Debug, Serialize)]
pub struct Analysis {
    /// true, false or "unknown".
    pub valid: Validity,
    /// `list-append` or `rw-register`.
    pub checker: &'static str,
    /// The models checked against.
    pub consistency_models: Vec<String>,
    /// Names of the anomalies reported: those the models (or the extra
    /// anomalies) forbid, and those that make the result unknown.
    pub anomaly_types: Vec<String>,
    /// Reported anomalies by name: count and a few explained examples.
    pub anomalies: BTreeMap<String, Occurrences>,
    /// Anomalies found that the models asked for allow, with counts.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub allowed: BTreeMap<String, usize>,
    /// The weakest models the history is not consistent with.
    pub not: Vec<&'static str>,
    /// Stronger models it is not consistent with either.
    pub also_not: Vec<&'static str>,
    /// The strongest usual models nothing found rules out.
    pub may_satisfy: Vec<&'static str>,
    /// Transactions checked.
    pub txns: usize,
    /// Dependency edges (ww, wr, rw, process, real-time).
    pub edges: usize,
    /// Strongly connected components (each holds cycles).
    pub sccs: usize,
    /// Why the verdict is unknown, if it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown: Option<String>,
    /// Searches for specific cycles that stopped short (the verdict does
    /// not depend on them; the names found may be incomplete).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub incomplete: Vec<String>,
}

impl Analysis {
    /// What the verdict rests on, line by line: why it is unknown, each
    /// reported anomaly with its first example, what the models asked for
    /// allow, the models ruled out, and where the search stopped short.
    pub fn details(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(u) = &self.unknown {
            out.push(format!("unknown: {u}"));
        }
        for (name, o) in &self.anomalies {
            out.push(format!("{name} ({} found):", o.count));
            if let Some(ex) = o.examples.first() {
                out.extend(ex.explanation.lines().map(|l| format!("    {l}")));
            }
        }
        if !self.allowed.is_empty() {
            let allowed: Vec<String> = self
                .allowed
                .iter()
                .map(|(n, c)| format!("{n} x{c}"))
                .collect();
            out.push(format!(
                "also found, allowed by {}: {}",
                self.consistency_models.join(", "),
                allowed.join(", ")
            ));
        }
        if !self.not.is_empty() {
            out.push(format!(
                "not {} (nor {}); may still satisfy {}",
                self.not.join(", "),
                if self.also_not.is_empty() {
                    "anything stronger".to_string()
                } else {
                    self.also_not.join(", ")
                },
                self.may_satisfy.join(", ")
            ));
        }
        for i in &self.incomplete {
            out.push(format!("search stopped short: {i}"));
        }
        out
    }
}

/// Turns inferred dependencies into sentences.
pub(crate) trait Explain {
    /// The transactions.
    fn txns(&self) -> &Txns;
    /// Why a data edge a→b of `kind` (ww, wr or rw) exists.
    fn why(&self, a: TxnId, b: TxnId, kind: u8) -> Option<String>;

    /// How transaction `t` ended.
    fn kind(&self, t: TxnId) -> crate::op::OpType {
        self.txns().txns[t as usize].kind
    }

    /// A key's name as written in the history.
    fn key(&self, k: u32) -> String {
        self.txns().keys[k as usize].to_string()
    }

    /// An example about transactions `ids`, pointing at their invocations.
    fn example(&self, ids: &[TxnId], explanation: String) -> Example {
        Example {
            explanation,
            ops: ids
                .iter()
                .map(|t| self.txns().txns[*t as usize].invoke)
                .collect(),
            ..Example::default()
        }
    }

    /// `T12 (process 3, op 17: [append 1 3] [r 2 [1 2]])`.
    fn describe(&self, t: TxnId) -> String {
        let x = &self.txns().txns[t as usize];
        let key = |k: u32| self.key(k);
        let mops: Vec<String> = x
            .mops
            .iter()
            .map(|m| match m {
                Mop::Append { key: k, val, .. } => format!("[append {} {val}]", key(*k)),
                Mop::Write { key: k, val } => format!("[w {} {val}]", key(*k)),
                Mop::Read {
                    key: k,
                    val: Some(v),
                } => format!("[r {} {v:?}]", key(*k)),
                Mop::ReadList {
                    key: k,
                    elems: Some(es),
                } => format!("[r {} {:?}]", key(*k), self.txns().list(es)),
                Mop::Read { key: k, val: None }
                | Mop::ReadList {
                    key: k,
                    elems: None,
                } => {
                    format!("[r {} ?]", key(*k))
                }
            })
            .collect();
        let status = match x.kind {
            crate::op::OpType::Info => ", indeterminate",
            crate::op::OpType::Fail => ", failed",
            _ => "",
        };
        format!(
            "T{t} (process {}, op {}{status}: {})",
            x.process,
            x.invoke,
            mops.join(" ")
        )
    }
}

/// Checks a transactional history.
pub fn check(
    history: &History,
    workload: Workload,
    opts: &Options,
) -> Result<Analysis, CheckError> {
    let txns = txn::decode(history, workload == Workload::RwRegister)?;
    check_txns(&txns, workload, opts)
}

fn model_error(message: String) -> CheckError {
    CheckError::Model(crate::error::ModelError { index: 0, message })
}

/// What a check needs to know about the models asked for.
struct Asked {
    models: Vec<String>,
    /// Anomalies that make the history invalid.
    prohibited: BTreeSet<String>,
    /// Whether Elle would build real-time (or else process) edges, which
    /// decides whether the graph counts as empty.
    realtime: bool,
    process: bool,
}

impl Asked {
    fn new(opts: &Options) -> Result<Asked, CheckError> {
        let models: Vec<String> = opts
            .models
            .iter()
            .map(|m| {
                models::canonical(m)
                    .map(String::from)
                    .ok_or_else(|| m.clone())
            })
            .collect::<Result<_, _>>()
            .map_err(|m| {
                model_error(format!(
                    "unknown consistency model {m:?}; expected one of {}",
                    models::names().join(", ")
                ))
            })?;
        if let Some(a) = opts.anomalies.iter().find(|a| !models::is_anomaly(a)) {
            return Err(model_error(format!(
                "unknown anomaly {a:?}; expected Elle's names, such as G0, G1, G1c, G-single-item, G2, G2-item, lost-update"
            )));
        }
        let names: Vec<&str> = models.iter().map(String::as_str).collect();
        let prohibited: BTreeSet<String> = models::prohibited_by(&names)
            .into_iter()
            .map(String::from)
            .chain(
                models::all_implying(opts.anomalies.iter().map(String::as_str))
                    .into_iter()
                    .map(String::from),
            )
            .collect();
        let reportable = |suffix: &str| {
            models::CYCLE_TYPES
                .iter()
                .any(|t| t.ends_with(suffix) && prohibited.contains(*t))
        };
        let realtime = reportable("-realtime");
        let process = !realtime && reportable("-process");
        Ok(Asked {
            models,
            prohibited,
            realtime,
            process,
        })
    }
}

/// Checks transactions already decoded with [`txn::decode`] (so a caller
/// can free the history first: it is most of the memory).
pub fn check_txns(txns: &Txns, workload: Workload, opts: &Options) -> Result<Analysis, CheckError> {
    let asked = Asked::new(opts)?;
    let stop = cycles::Stop {
        deadline: opts.time_limit.and_then(|t| Instant::now().checked_add(t)),
        interrupt: opts.interrupt.clone(),
    };
    let mut found = Found::default();
    // What the preconditions' check computes, the analysis uses.
    let (mut writers, mut externals) = (None, None);
    let refused = match workload {
        Workload::ListAppend => {
            writers = list_append::ListAppend::writers(txns, &mut found);
            writers.is_none()
        }
        Workload::RwRegister => {
            externals = rw_register::RwRegister::externals(txns, &mut found);
            externals.is_none()
        }
    };
    let mut run = Run {
        txns,
        workload,
        asked,
        opts,
        stop,
        found,
        edges: 0,
        sccs: 0,
        incomplete: Vec::new(),
        stopped: None,
    };
    if refused {
        run.stopped = Some(format!(
            "the history breaks {}'s preconditions, so it was not analysed",
            workload.name()
        ));
        return Ok(run.finish());
    }
    match workload {
        Workload::ListAppend => {
            let writers = writers.unwrap_or_default();
            let (la, edges) = list_append::ListAppend::analyze(txns, writers, &mut run.found);
            run.graph(edges, &la);
        }
        Workload::RwRegister => {
            let externals = externals.unwrap_or_default();
            let (rr, edges) =
                rw_register::RwRegister::analyze(txns, externals, opts.sources, &mut run.found);
            run.graph(edges, &rr);
        }
    }
    Ok(run.finish())
}

/// One check in progress.
struct Run<'a> {
    txns: &'a Txns,
    workload: Workload,
    asked: Asked,
    opts: &'a Options,
    stop: cycles::Stop,
    found: Found,
    edges: usize,
    sccs: usize,
    incomplete: Vec<String>,
    /// Why the analysis stopped before deciding, if it did.
    stopped: Option<String>,
}

/// Bytes per edge while the graph is built (the edge list, its sort, and
/// the compressed graph).
const EDGE_BYTES: usize = 32;

impl Run<'_> {
    /// Adds process and real-time edges, builds the graph and searches it.
    fn graph<E: Explain + Sync>(&mut self, mut edges: Vec<(TxnId, TxnId, u8)>, explain: &E) {
        if self.stop.now() {
            self.stopped = Some(
                "the time limit was reached (or the check was interrupted) while inferring dependencies"
                    .into(),
            );
            return;
        }
        let data = edges.len();
        let process = cycles::process_edges(self.txns);
        let realtime = cycles::realtime_edges(self.txns);
        // Elle counts the process or real-time edges it would have built.
        let empty = data == 0
            && (!self.asked.realtime || realtime.is_empty())
            && (!self.asked.process || process.is_empty());
        if empty {
            self.found.add("empty-transaction-graph", || Example {
                explanation: format!(
                    "no dependency between the {} transactions could be inferred{}, so no cycle \
                     could be looked for",
                    self.txns.txns.len(),
                    if self.asked.realtime || self.asked.process {
                        ""
                    } else {
                        " from their reads and writes"
                    }
                ),
                ops: Vec::new(),
                ..Default::default()
            });
        }
        let total = data + process.len() + realtime.len();
        if let Some(limit) = self.opts.memory_limit {
            let need = total.saturating_mul(EDGE_BYTES);
            if need > limit {
                let mib = |b: usize| b as f64 / (1u64 << 20) as f64;
                self.stopped = Some(format!(
                    "the memory limit ({:.1} MiB) is too small for the dependency graph: {total} \
                     edges need about {:.1} MiB",
                    mib(limit),
                    mib(need)
                ));
                return;
            }
        }
        edges.extend(process);
        edges.extend(realtime);
        let g = Graph::new(self.txns.txns.len(), edges);
        self.edges = g.edge_count();
        let out = cycles::search(&g, explain, self.opts.budget, &self.stop);
        self.found.merge(out.found);
        self.sccs = out.sccs;
        self.incomplete = out.incomplete;
        if out.timed_out {
            self.incomplete.push(
                "the time limit (or an interrupt) stopped the search for specific cycles".into(),
            );
        }
    }

    /// The result: what to report, and the verdict.
    fn finish(self) -> Analysis {
        let names: Vec<&str> = self.found.0.keys().map(String::as_str).collect();
        let others: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| !n.ends_with("-cycle-exists"))
            .collect();
        let explained = models::impossible_friendly(&others);
        let redundant = |n: &str| cycles::exists_model(n).is_some_and(|m| explained.contains(m));
        let prohibited = &self.asked.prohibited;
        let reportable = |n: &str| {
            (prohibited.contains(n) || models::UNKNOWN_TYPES.contains(&n)) && !redundant(n)
        };
        let (not, also_not) = models::boundary(&names);
        let may_satisfy = models::may_satisfy(&names);
        let mut anomalies = BTreeMap::new();
        let mut allowed = BTreeMap::new();
        for (name, o) in self.found.0 {
            if reportable(&name) {
                anomalies.insert(name, o);
            } else if !redundant(&name) {
                allowed.insert(name, o.count);
            }
        }
        let bad = anomalies.keys().any(|n| prohibited.contains(n.as_str()));
        let unknown_types: Vec<&String> = anomalies
            .keys()
            .filter(|n| models::UNKNOWN_TYPES.contains(&n.as_str()))
            .collect();
        let valid = if bad {
            Validity::Invalid
        } else if self.stopped.is_some() || !unknown_types.is_empty() {
            Validity::Unknown
        } else {
            Validity::Valid
        };
        let unknown = (valid == Validity::Unknown).then(|| {
            let mut why: Vec<String> = unknown_types
                .iter()
                .map(|n| match n.as_str() {
                    "empty-transaction-graph" => {
                        "empty-transaction-graph: no dependency between transactions could be inferred, so nothing was checked".to_string()
                    }
                    other => format!("{other}: the history breaks {}'s preconditions", self.workload.name()),
                })
                .collect();
            why.extend(self.stopped.clone());
            why.dedup();
            why.join("; ")
        });
        Analysis {
            valid,
            checker: self.workload.name(),
            consistency_models: self.asked.models,
            anomaly_types: anomalies.keys().cloned().collect(),
            anomalies,
            allowed,
            not,
            also_not,
            may_satisfy,
            txns: self.txns.txns.len(),
            edges: self.edges,
            sccs: self.sccs,
            unknown,
            incomplete: self.incomplete,
        }
    }
}
