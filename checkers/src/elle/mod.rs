//! Elle-style transactional consistency checking (Kingsbury & Alvaro,
//! VLDB 2020) for list-append and read-write register histories.
//!
//! From a black-box history, [`check`] infers each key's version order and
//! which transaction wrote each value, builds the dependency graph between
//! transactions (ww, wr, rw edges, plus process and real-time edges when the
//! requested consistency models need them), finds cycles in its strongly
//! connected components, and names every anomaly as Elle does (G0, G1a,
//! G1b, G1c, G-single, G-nonadjacent, G2-item, their -process and
//! -realtime variants, lost-update, internal, dirty-update,
//! duplicate-elements, incompatible-order, future-read, cyclic-versions).
//! The consistency models asked for decide the verdict; the result also
//! says which models the history is not consistent with, and the strongest
//! it may still satisfy.
//!
//! # Layout
//!
//! - [`txn`]: transactions and micro-ops decoded from the history.
//! - `list_append`, `rw_register`: inference and non-cycle anomalies.
//! - [`graph`]: typed edges, SCCs, restricted shortest paths.
//! - `cycles`: cycle search and naming; [`models`]: the consistency lattice.
//! - [`synth`]: simulated databases at chosen isolation levels, and
//!   injected anomalies, for tests and benchmarks.

mod cycles;
mod found;
pub mod graph;
mod list_append;
pub mod models;
mod rw_register;
pub mod synth;
pub mod txn;

pub use found::{Example, Occurrences};

use crate::error::CheckError;
use crate::history::History;
use crate::verdict::Validity;
use found::Found;
use graph::kind::{PROCESS, REALTIME};
use graph::Graph;
use serde::Serialize;
use std::collections::BTreeMap;
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
    /// Give up on the cycle search after this long (the verdict is then
    /// unknown unless something invalid was already found).
    pub time_limit: Option<Duration>,
    /// Seed edges tried per anomaly shape per component.
    pub tries: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            models: vec!["serializable".into()],
            time_limit: None,
            tries: 16,
        }
    }
}

impl Options {
    /// These options checking against `models`.
    pub fn with_models(mut self, models: Vec<String>) -> Self {
        self.models = models;
        self
    }

    /// These options with a time limit.
    pub fn with_time_limit(mut self, limit: Option<Duration>) -> Self {
        self.time_limit = limit;
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
    /// Names of the anomalies found.
    pub anomaly_types: Vec<String>,
    /// Anomalies by name: count and a few explained examples.
    pub anomalies: BTreeMap<String, Occurrences>,
    /// The weakest models the history is not consistent with.
    pub not: Vec<&'static str>,
    /// The strongest models the history may still satisfy.
    pub may_satisfy: Vec<&'static str>,
    /// Transactions checked.
    pub txns: usize,
    /// Dependency edges.
    pub edges: usize,
    /// Strongly connected components (each holds cycles).
    pub sccs: usize,
    /// Why the verdict is unknown, if it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown: Option<String>,
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
                Mop::Append { key: k, val } => format!("[append {} {val}]", key(*k)),
                Mop::Write { key: k, val } => format!("[w {} {val}]", key(*k)),
                Mop::Read {
                    key: k,
                    val: Some(v),
                } => format!("[r {} {v:?}]", key(*k)),
                Mop::Read { key: k, val: None } => format!("[r {} ?]", key(*k)),
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

/// Checks transactions already decoded with [`txn::decode`] (so a caller
/// can free the history first: it is most of the memory).
pub fn check_txns(txns: &Txns, workload: Workload, opts: &Options) -> Result<Analysis, CheckError> {
    let start = Instant::now();
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
            CheckError::Model(crate::error::ModelError {
                index: 0,
                message: format!(
                    "unknown consistency model {m:?}; expected one of {}",
                    models::names().join(", ")
                ),
            })
        })?;
    let extra = models.iter().fold(0u8, |acc, m| {
        acc | match m.as_str() {
            "strict-serializable" => PROCESS | REALTIME,
            m if m.starts_with("strong-session") => PROCESS,
            _ => 0,
        }
    });
    let mut found = Found::default();
    let deadline = opts.time_limit.map(|t| start + t);
    let (edges_n, sccs, timed_out) = match workload {
        Workload::ListAppend => {
            let (la, edges) = list_append::ListAppend::analyze(txns, &mut found);
            search(txns, edges, extra, opts, deadline, &la, &mut found)
        }
        Workload::RwRegister => {
            let (rr, edges) = rw_register::RwRegister::analyze(txns, &mut found);
            search(txns, edges, extra, opts, deadline, &rr, &mut found)
        }
    };
    let names: Vec<&str> = found.0.keys().map(String::as_str).collect();
    let (not, may_satisfy) = models::judge(&names);
    let invalid = names
        .iter()
        .any(|a| models.iter().any(|m| models::proscribes(m, a)));
    let valid = match (invalid, timed_out) {
        (true, _) => Validity::Invalid,
        (false, true) => Validity::Unknown,
        _ => Validity::Valid,
    };
    Ok(Analysis {
        valid,
        checker: workload.name(),
        consistency_models: models,
        anomaly_types: names.iter().map(|s| s.to_string()).collect(),
        anomalies: found.0,
        not,
        may_satisfy,
        txns: txns.txns.len(),
        edges: edges_n,
        sccs,
        unknown: (timed_out && !invalid)
            .then(|| "time limit reached during the cycle search".to_string()),
    })
}

fn search<E: Explain + Sync>(
    txns: &Txns,
    mut edges: Vec<(TxnId, TxnId, u8)>,
    extra: u8,
    opts: &Options,
    deadline: Option<Instant>,
    explain: &E,
    found: &mut Found,
) -> (usize, usize, bool) {
    if extra & PROCESS != 0 {
        edges.extend(cycles::process_edges(txns));
    }
    if extra & REALTIME != 0 {
        edges.extend(cycles::realtime_edges(txns));
    }
    let g = Graph::new(txns.txns.len(), edges);
    let (cyc, sccs, timed_out) = cycles::search(&g, extra, opts.tries, deadline, explain);
    found.merge(cyc);
    (g.edge_count(), sccs, timed_out)
}
