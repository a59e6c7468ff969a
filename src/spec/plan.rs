//! A validated spec: every value checked and typed ([`Plan`]), and what
//! the command line may override ([`Overrides`]). The checking itself is
//! in `validate/`, one file per spec section.

use super::DbSpec;
use crate::control::Node;
use faultline_nemesis::ScheduleSpec;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Most workers a test may run (all nodes together).
pub const MAX_WORKERS: usize = 10_000;

/// Command-line values that replace spec fields (`faultline test --rate`
/// and friends). They are validated exactly like the fields they replace,
/// and their errors name the flag.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Overrides {
    /// `--time-limit`, seconds.
    #[serde(default)]
    pub time_limit: Option<f64>,
    /// `--concurrency`: `10` or `2n`.
    #[serde(default)]
    pub concurrency: Option<String>,
    /// `--rate`: ops per second, 0 for unlimited.
    #[serde(default)]
    pub rate: Option<f64>,
    /// `--seed`.
    #[serde(default)]
    pub seed: Option<u64>,
    /// `--local N`.
    #[serde(default)]
    pub local: Option<usize>,
    /// The nodes `--nodes`, `--nodes-file` or `--cluster` name: templates
    /// are rendered for them at validation time.
    #[serde(default)]
    pub nodes: Option<Vec<Node>>,
}

/// Where the nodes come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodesPlan {
    /// A local namespace cluster of N nodes, made for the test.
    Local(usize),
    /// Real hosts over SSH.
    Hosts(Vec<Node>),
}

/// How many workers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Concurrency {
    /// Exactly this many.
    Count(usize),
    /// This many per node.
    PerNode(usize),
}

impl Concurrency {
    /// Workers for `nodes` nodes.
    pub fn workers(self, nodes: usize) -> usize {
        match self {
            Concurrency::Count(c) => c,
            Concurrency::PerNode(k) => k.saturating_mul(nodes),
        }
        .max(1)
    }

    /// Parses `10` or `2n`.
    pub fn parse(s: &str) -> Result<Concurrency, String> {
        let bad =
            || format!("expected a number of workers like 10, or 2n (2 per node), found {s:?}");
        match s.strip_suffix('n') {
            Some("") => Ok(Concurrency::PerNode(1)),
            Some(k) => k.parse().map(Concurrency::PerNode).map_err(|_| bad()),
            None => s.parse().map(Concurrency::Count).map_err(|_| bad()),
        }
        .and_then(|c| match c {
            Concurrency::Count(0) | Concurrency::PerNode(0) => {
                Err("concurrency must be at least 1".into())
            }
            c => Ok(c),
        })
    }
}

/// Keys of a register workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyMode {
    /// One register.
    Single,
    /// Many independent registers, a few workers per key at a time.
    Independent,
}

/// Written values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Values {
    /// Increasing per key, never repeated.
    Unique,
    /// Uniform in `lo..hi`.
    Range(i64, i64),
}

/// What the clients do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkloadKind {
    /// read, write.
    Register,
    /// read, write, cas.
    CasRegister,
    /// add, read.
    Set,
    /// Transactions of appends and list reads (Elle).
    ListAppend,
    /// Transactions of register writes and reads (Elle).
    RwRegister,
    /// add n, read (Jepsen's counter).
    Counter,
    /// transfer, read of every balance (Jepsen's bank).
    Bank,
    /// enqueue, dequeue, drain (Jepsen's total-queue).
    Queue,
    /// generate (Jepsen's unique-ids).
    UniqueIds,
    /// Single-key inserts and reads of key groups, as transactions
    /// (Jepsen's long-fork).
    LongFork,
}

impl WorkloadKind {
    /// The name used in specs.
    pub fn name(self) -> &'static str {
        match self {
            WorkloadKind::Register => "register",
            WorkloadKind::CasRegister => "cas-register",
            WorkloadKind::Set => "set",
            WorkloadKind::ListAppend => "list-append",
            WorkloadKind::RwRegister => "rw-register",
            WorkloadKind::Counter => "counter",
            WorkloadKind::Bank => "bank",
            WorkloadKind::Queue => "queue",
            WorkloadKind::UniqueIds => "unique-ids",
            WorkloadKind::LongFork => "long-fork",
        }
    }

    /// Whether ops are transactions.
    pub fn is_txn(self) -> bool {
        matches!(self, WorkloadKind::ListAppend | WorkloadKind::RwRegister)
    }
}

/// Everything a run needs, checked.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Test name.
    pub name: String,
    /// Nodes.
    pub nodes: NodesPlan,
    /// Data directory on the nodes.
    pub data_dir: String,
    /// The DB lifecycle (templates).
    pub db: DbSpec,
    /// Ready probe and its timeout.
    pub ready: Option<(String, Duration)>,
    /// `db.recover.within`: how long the DB may take to come back after it
    /// was down on every node before `db.recover` steps in.
    pub recover_within: Duration,
    /// Pidfile template.
    pub pidfile: String,
    /// Log file template.
    pub log: String,
    /// The client, validated by its kind (`src/client/`).
    pub client: Arc<dyn crate::client::ClientConfig>,
    /// Per-op timeout.
    pub op_timeout: Duration,
    /// Workload.
    pub workload: WorkloadKind,
    /// Keys.
    pub keys: KeyMode,
    /// Op weights.
    pub mix: Vec<(String, u32)>,
    /// Written values.
    pub values: Values,
    /// Workers.
    pub concurrency: Concurrency,
    /// Ops per second overall.
    pub rate: Option<f64>,
    /// Main phase length.
    pub time_limit: Duration,
    /// Ops per key (independent keys).
    pub ops_per_key: u64,
    /// Workers per key (default: node count).
    pub threads_per_key: Option<usize>,
    /// Wait after healing.
    pub recovery: Duration,
    /// Final reads after recovery.
    pub final_reads: bool,
    /// Seed of this run: the given one (`--seed`, `generator.seed`, a
    /// replay's), or, when none was given ([`Plan::fresh_seed`]), one drawn
    /// per run by [`Plan::seed_for_run`].
    pub seed: u64,
    /// No seed was given: every run draws its own.
    pub fresh_seed: bool,
    /// Fault schedule.
    pub nemesis: Option<ScheduleSpec>,
    /// Checkers.
    pub checkers: Vec<String>,
    /// Consistency models for the elle checker.
    pub consistency_models: Vec<String>,
    /// Workload options (bank accounts, ...) for the generator and checkers.
    pub workload_options: super::WorkloadOptions,
    /// The log-pattern checker's regular expression.
    pub log_pattern: Option<String>,
    /// Transactional workloads: keys in use at once.
    pub key_count: usize,
    /// Transactional workloads: most micro-ops per txn.
    pub txn_length: usize,
    /// Transactional workloads: writes per key before it is retired.
    pub max_writes_per_key: usize,
    /// The spec file's directory: relative paths in the spec (`source:`,
    /// the exec client's command) are relative to it.
    pub base_dir: PathBuf,
}

impl Plan {
    /// The seed of run `i` (from 0) of `--test-count`: a fresh random seed
    /// when none was given, else the given seed plus `i` (run 0 uses the
    /// given seed itself, so `--seed N` and `--replay` reproduce it).
    pub fn seed_for_run(&self, i: usize) -> u64 {
        if self.fresh_seed {
            // fastrand's thread-local generator is seeded from the OS's
            // randomness and the time.
            fastrand::u64(..)
        } else {
            self.seed.wrapping_add(i as u64)
        }
    }
}
