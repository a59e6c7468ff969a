//! Maelstrom mode: `faultline maelstrom test -w WORKLOAD --bin FILE ...`
//! runs programs written for Jepsen's Maelstrom (jepsen-io/maelstrom)
//! unchanged — the same protocol, services, workloads, flags and defaults —
//! on a seeded simulated network, with faults Maelstrom lacks, and checks
//! the history with faultline's checkers. The run lands in the store like
//! any other (`history.jsonl`, `results.json`, `report.html`, JUnit), so
//! `faultline check`, `report` and `serve` read it.
//!
//! This module stands where `control` and `cluster` stand for real nodes;
//! it depends on the checkers, the nemesis crate's schedules, the runner's
//! recorder, store and results, and nothing depends on it but the command.
//!
//! # Layout
//!
//! - [`protocol`]: messages, bodies, error codes.
//! - [`net`]: the router — latency, partitions, loss, duplication, counts.
//! - [`node`]: the node processes and their stdin/stdout/stderr.
//! - [`service`]: `lin-kv`, `seq-kv`, `lww-kv`, `lin-tso`.
//! - [`client`]: Maelstrom's synchronous RPC client.
//! - [`workload`]: ops, RPCs and generators of each workload.
//! - [`nemesis`]: the fault schedule and what each fault does here.
//! - [`run`]: one test, from spawning the nodes to results.json.

pub mod client;
pub mod nemesis;
pub mod net;
pub mod node;
pub mod protocol;
pub mod run;
pub mod service;
pub mod workload;

use std::path::PathBuf;
use std::time::Duration;

/// `--availability`: how many client ops must succeed.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Availability {
    /// Every op.
    Total,
    /// At least this fraction of ops.
    Fraction(f64),
}

impl std::str::FromStr for Availability {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s == "total" {
            return Ok(Availability::Total);
        }
        match s.parse::<f64>() {
            Ok(f) if (0.0..=1.0).contains(&f) => Ok(Availability::Fraction(f)),
            _ => Err(format!(
                "--availability {s:?}: expected `total` or a fraction between 0 and 1"
            )),
        }
    }
}

/// A Maelstrom test, as the command line gives it (Maelstrom's flags and
/// defaults, plus faultline's).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Options {
    /// `-w`.
    pub workload: workload::Kind,
    /// `--bin`.
    pub bin: PathBuf,
    /// Arguments after the binary.
    pub args: Vec<String>,
    /// Node ids (`n0..` with `--node-count`; Jepsen's `n1`..`n5` without).
    pub nodes: Vec<String>,
    /// `--time-limit`.
    pub time_limit: Duration,
    /// `--rate`: requests per second, all clients together.
    pub rate: f64,
    /// `--concurrency`: clients.
    pub concurrency: usize,
    /// `--latency`: mean message latency.
    pub latency: Duration,
    /// `--latency-dist`.
    pub latency_dist: net::LatencyDist,
    /// `--nemesis` faults.
    pub nemesis: Vec<String>,
    /// `--nemesis-interval`.
    pub nemesis_interval: Duration,
    /// `--availability`.
    pub availability: Option<Availability>,
    /// `--topology` (broadcast).
    pub topology: String,
    /// `--consistency-models` (txn workloads).
    pub consistency_models: Vec<String>,
    /// Workload options.
    pub workload_options: workload::Options,
    /// `--log-stderr`.
    pub log_stderr: bool,
    /// `--log-net-send`.
    pub log_net_send: bool,
    /// `--log-net-recv`.
    pub log_net_recv: bool,
    /// `--seed`.
    pub seed: u64,
    /// `--store`.
    #[serde(skip)]
    pub store: PathBuf,
    /// `--recovery-time`: the final phase's wait after healing (Maelstrom:
    /// 10 s).
    pub recovery: Duration,
    /// `--loss-probability` of loss and duplicate faults.
    pub loss_probability: f64,
    /// `--check-time-limit`.
    pub check_limit: Duration,
    /// `--journal-limit`: messages kept for the message diagram.
    pub journal_limit: usize,
}
