//! A validated spec: every value checked and typed ([`Plan`]).

use super::{ConcurrencyField, DbSpec, DurationField, Loaded, NodesField, ReadyField, SpecError};
use crate::control::nodes::{check_unique, parse_node};
use crate::control::Node;
use faultline_nemesis::{FaultKind, GrudgeSpec, ScheduleSpec, Target};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Most workers a test may run (all nodes together).
pub const MAX_WORKERS: usize = 10_000;
/// Most keys a transactional workload keeps in use at once.
const MAX_KEY_COUNT: usize = 100_000;
/// Most micro-ops per transaction.
const MAX_TXN_LENGTH: usize = 10_000;
/// Largest weight of one op in the mix.
const MAX_WEIGHT: u32 = 1_000_000;

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
    /// Seed.
    pub seed: u64,
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

/// Collects every problem found while validating.
struct Problems<'a> {
    loaded: &'a Loaded,
    errs: Vec<SpecError>,
}

impl Problems<'_> {
    /// A problem with spec key `key` (a dotted path).
    fn key(&mut self, key: &str, msg: impl Into<String>) {
        self.errs.push(self.loaded.error_at(key, msg));
    }

    /// A problem with a command-line flag that overrides a spec key.
    fn flag(&mut self, flag: &str, msg: impl Into<String>) {
        self.errs.push(SpecError::at(flag, 0, 0, msg.into()));
    }

    /// A problem with the value of `key`, or of `flag` when the value came
    /// from the command line.
    fn value(&mut self, from_flag: bool, key: &str, flag: &str, msg: String) {
        if from_flag {
            self.flag(flag, msg)
        } else {
            self.key(key, msg)
        }
    }

    /// A duration: the spec's (or `default`), bounded; `positive` refuses 0.
    fn duration(
        &mut self,
        key: &str,
        field: &Option<DurationField>,
        default: Duration,
        positive: bool,
    ) -> Duration {
        let Some(f) = field else {
            return default;
        };
        match f.get() {
            Ok(d) if positive && d.is_zero() => {
                self.key(key, "expected a duration above 0");
                default
            }
            Ok(d) => d,
            Err(m) => {
                self.key(key, m);
                default
            }
        }
    }

    /// A count that must be from 1 to `max` (absent: `default`).
    fn count(&mut self, key: &str, v: Option<usize>, default: usize, max: usize) -> usize {
        match v {
            None => default,
            Some(n) if (1..=max).contains(&n) => n,
            Some(n) => {
                self.key(key, format!("expected a number from 1 to {max}, found {n}"));
                default
            }
        }
    }
}

/// `local:N` checked: 1 to [`crate::cluster::MAX_NODES`].
fn local_nodes(n: usize) -> Result<NodesPlan, String> {
    let max = crate::cluster::MAX_NODES;
    if (1..=max).contains(&n) {
        Ok(NodesPlan::Local(n))
    } else {
        Err(format!("expected 1 to {max} local nodes, found {n}"))
    }
}

/// Ops per second checked: a number from 0 (unlimited) up.
fn rate(r: f64) -> Result<Option<f64>, String> {
    if r.is_finite() && (0.0..=1e9).contains(&r) {
        Ok((r > 0.0).then_some(r))
    } else {
        Err(format!(
            "expected ops per second from 0 (as fast as possible) to 1e9, found {r}"
        ))
    }
}

/// The nodes templates are rendered for at validation time: the ones the
/// command line names, the spec's hosts, or stand-ins for local nodes
/// (whose addresses are only known once the cluster is up).
fn sample_nodes(nodes: &NodesPlan, o: &Overrides) -> Vec<Node> {
    if let Some(n) = &o.nodes {
        return n.clone();
    }
    match nodes {
        NodesPlan::Hosts(h) => h.clone(),
        NodesPlan::Local(n) => (1..=*n)
            .map(|i| Node::new(format!("n{i}"), format!("198.18.0.{}", 10 + i)))
            .collect(),
    }
}

impl Loaded {
    /// Checks every value; returns all problems found, not just the first.
    pub fn validate(&self) -> Result<Plan, Vec<SpecError>> {
        self.validate_with(&Overrides::default())
    }

    /// Checks every value with the command line's overrides applied (each
    /// checked as the field it replaces); returns all problems found.
    pub fn validate_with(&self, o: &Overrides) -> Result<Plan, Vec<SpecError>> {
        let s = &self.spec;
        let mut p = Problems {
            loaded: self,
            errs: Vec::new(),
        };
        if s.name.is_empty()
            || s.name == "."
            || s.name == ".."
            || !s
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            p.key(
                "name",
                format!(
                    "expected letters, digits, '-', '_' or '.' (a directory name in the store), found {:?}",
                    s.name
                ),
            );
        }
        let nodes = self.nodes_plan(o, &mut p);
        let data_dir = s
            .data_dir
            .clone()
            .unwrap_or_else(|| crate::cluster::NODE_DATA_DIR.to_string());
        if let Err(m) = check_data_dir(&data_dir) {
            p.key("data_dir", m);
        }
        let ready = match &s.db.ready {
            None => None,
            Some(ReadyField::Command(c)) => Some((c.clone(), Duration::from_secs(30))),
            Some(ReadyField::Full { command, timeout }) => {
                let t = p.duration("db.ready.timeout", timeout, Duration::from_secs(30), true);
                Some((command.clone(), t))
            }
        };
        for (i, f) in s.db.configure.iter().enumerate() {
            match (&f.template, &f.source) {
                (Some(_), None) => {}
                (None, Some(src)) if self.base_dir().join(src).is_file() => {}
                (None, Some(src)) => p.key(
                    "db.configure",
                    format!(
                        "entry {}: source {src:?} is not a readable file (relative to {})",
                        i + 1,
                        self.base_dir().display()
                    ),
                ),
                _ => p.key(
                    "db.configure",
                    format!(
                        "entry {} ({}): give exactly one of template or source",
                        i + 1,
                        f.path
                    ),
                ),
            }
        }
        let workload = self.workload_kind(&mut p);
        let client = self.client(workload, &mut p);
        let op_timeout = p.duration(
            "client.timeout",
            &s.client.timeout,
            Duration::from_secs(5),
            true,
        );
        let g = &s.generator;
        let time_limit = match o.time_limit {
            Some(t) => super::duration::seconds(t)
                .and_then(|d| {
                    if d.is_zero() {
                        Err("expected a duration above 0".into())
                    } else {
                        Ok(d)
                    }
                })
                .unwrap_or_else(|m| {
                    p.flag("--time-limit", m);
                    Duration::from_secs(30)
                }),
            None => p.duration(
                "generator.time_limit",
                &g.time_limit,
                Duration::from_secs(30),
                true,
            ),
        };
        let recovery = p.duration(
            "generator.recovery",
            &g.recovery,
            Duration::from_secs(2),
            false,
        );
        let mix = self.mix(workload, &mut p);
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
            Some(r) => {
                match r
                    .split_once("..")
                    .map(|(a, b)| (a.trim().parse::<i64>(), b.trim().parse::<i64>()))
                {
                    Some((Ok(lo), Ok(hi))) if lo < hi && hi.checked_sub(lo).is_some() => {
                        Values::Range(lo, hi)
                    }
                    _ => {
                        p.key(
                        "workload.values",
                        format!("expected unique or a range like 0..5 (low below high), found {r:?}"),
                    );
                        Values::Unique
                    }
                }
            }
        };
        let concurrency = self.concurrency(o, &nodes, &mut p);
        let rate = match (o.rate, g.rate) {
            (Some(r), _) => rate(r).unwrap_or_else(|m| {
                p.flag("--rate", m);
                None
            }),
            (None, Some(r)) => rate(r).unwrap_or_else(|m| {
                p.key("generator.rate", m);
                None
            }),
            (None, None) => None,
        };
        let nemesis = self.nemesis(&mut p);
        if let Some(spec) = &nemesis {
            let names: Vec<String> = sample_nodes(&nodes, o)
                .into_iter()
                .map(|n| n.name)
                .collect();
            check_fault_nodes(spec, &names, &mut p);
        }
        let (checkers, consistency_models, workload_options, log_pattern) =
            self.checkers(workload, keys, &mut p);
        let ops_per_key = match g.ops_per_key {
            None => 200,
            Some(0) => {
                p.key("generator.ops_per_key", "expected at least 1 op per key");
                200
            }
            Some(n) => n,
        };
        let threads_per_key = g
            .threads_per_key
            .map(|t| p.count("generator.threads_per_key", Some(t), 1, MAX_WORKERS));
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
        let pidfile =
            s.db.start
                .pidfile
                .clone()
                .unwrap_or_else(|| "{{ data_dir }}/db.pid".into());
        let log =
            s.db.start
                .log
                .clone()
                .unwrap_or_else(|| "{{ data_dir }}/db.log".into());
        if p.errs.is_empty() {
            let sample = sample_nodes(&nodes, o);
            for (key, m) in super::render::check(&s.db, &pidfile, &log, &sample, &data_dir) {
                p.key(&key, m);
            }
        }
        if !p.errs.is_empty() {
            return Err(p.errs);
        }
        Ok(Plan {
            name: s.name.clone(),
            nodes,
            pidfile,
            log,
            data_dir,
            db: s.db.clone(),
            ready,
            client,
            op_timeout,
            workload,
            keys,
            mix,
            values,
            concurrency,
            rate,
            time_limit,
            ops_per_key,
            threads_per_key,
            recovery,
            final_reads: g.final_reads.unwrap_or(true),
            seed: o.seed.or(g.seed).unwrap_or(0),
            nemesis,
            checkers,
            consistency_models,
            workload_options,
            log_pattern,
            key_count,
            txn_length,
            max_writes_per_key: s.workload.max_writes_per_key.unwrap_or(32),
            base_dir: std::fs::canonicalize(self.base_dir()).unwrap_or_else(|_| self.base_dir()),
        })
    }

    /// `nodes:`, or `--local N`.
    fn nodes_plan(&self, o: &Overrides, p: &mut Problems) -> NodesPlan {
        if let Some(n) = o.local {
            return local_nodes(n).unwrap_or_else(|m| {
                p.flag("--local", m);
                NodesPlan::Local(5)
            });
        }
        match &self.spec.nodes {
            None => NodesPlan::Local(5),
            Some(NodesField::List(hosts)) if hosts.is_empty() => {
                p.key("nodes", "expected at least one node");
                NodesPlan::Local(5)
            }
            Some(NodesField::List(hosts)) => {
                let mut nodes = Vec::new();
                for (i, h) in hosts.iter().enumerate() {
                    match parse_node(h) {
                        Ok(n) => nodes.push(n),
                        Err(m) => p.key("nodes", format!("entry {}: {m}", i + 1)),
                    }
                }
                if let Err(m) = check_unique(&nodes) {
                    p.key("nodes", m);
                }
                NodesPlan::Hosts(nodes)
            }
            Some(NodesField::Text(t)) => match t.strip_prefix("local:").map(str::parse::<usize>) {
                Some(Ok(n)) => local_nodes(n).unwrap_or_else(|m| {
                    p.key("nodes", m);
                    NodesPlan::Local(5)
                }),
                _ => {
                    p.key(
                        "nodes",
                        format!(
                            "expected local:N (1 to {}) or a list of hosts, found {t:?}",
                            crate::cluster::MAX_NODES
                        ),
                    );
                    NodesPlan::Local(5)
                }
            },
        }
    }

    /// `client:`: its kind checks its own options.
    fn client(
        &self,
        workload: WorkloadKind,
        p: &mut Problems,
    ) -> Arc<dyn crate::client::ClientConfig> {
        let c = &self.spec.client;
        let ctx = crate::client::Context { workload };
        match crate::client::configure(&c.kind, &c.options, &ctx) {
            Ok(config) => config,
            Err(errors) => {
                for e in errors {
                    p.key(&e.key, e.message);
                }
                Arc::new(crate::client::exec::ExecConfig {
                    command: String::new(),
                })
            }
        }
    }

    fn workload_kind(&self, p: &mut Problems) -> WorkloadKind {
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
                let hint = super::did_you_mean(other, &kinds)
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
                let hint = super::did_you_mean(f, allowed)
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

    /// `generator.concurrency` or `--concurrency`, at most [`MAX_WORKERS`]
    /// workers on the planned nodes.
    fn concurrency(&self, o: &Overrides, nodes: &NodesPlan, p: &mut Problems) -> Concurrency {
        let (parsed, from_flag) = match (&o.concurrency, &self.spec.generator.concurrency) {
            (Some(c), _) => (Concurrency::parse(c), true),
            (None, None) => return Concurrency::PerNode(2),
            (None, Some(ConcurrencyField::Count(c))) => (Concurrency::parse(&c.to_string()), false),
            (None, Some(ConcurrencyField::Text(t))) => (Concurrency::parse(t), false),
        };
        let n = match (&o.nodes, nodes) {
            (Some(list), _) => list.len(),
            (None, NodesPlan::Hosts(h)) => h.len(),
            (None, NodesPlan::Local(n)) => *n,
        };
        let checked = parsed.and_then(|c| {
            let workers = match c {
                Concurrency::Count(c) => Some(c),
                Concurrency::PerNode(k) => k.checked_mul(n),
            };
            match workers {
                Some(w) if w <= MAX_WORKERS => Ok(c),
                _ => Err(format!(
                    "at most {MAX_WORKERS} workers (on {n} nodes), found {}",
                    match c {
                        Concurrency::Count(c) => c.to_string(),
                        Concurrency::PerNode(k) => format!("{k}n"),
                    }
                )),
            }
        });
        checked.unwrap_or_else(|m| {
            p.value(from_flag, "generator.concurrency", "--concurrency", m);
            Concurrency::PerNode(2)
        })
    }

    fn nemesis(&self, p: &mut Problems) -> Option<ScheduleSpec> {
        let n = self.spec.nemesis.as_ref()?;
        let interval = p.duration(
            "nemesis.interval",
            &n.interval,
            Duration::from_secs(10),
            true,
        );
        let quiet = p.duration("nemesis.quiet", &n.quiet, Duration::from_secs(2), false);
        let clock = p.duration(
            "nemesis.clock_offset",
            &n.clock_offset,
            Duration::from_secs(5),
            false,
        );
        let mut spec = ScheduleSpec {
            interval,
            quiet,
            // At most MAX_SECONDS, so this fits an i64 of milliseconds.
            clock_delta_ms: i64::try_from(clock.as_millis()).unwrap_or(i64::MAX),
            ..Default::default()
        };
        spec.faults = n
            .faults
            .iter()
            .filter_map(|f| {
                f.parse::<FaultKind>()
                    .map_err(|m| p.key("nemesis.faults", m))
                    .ok()
            })
            .collect();
        if n.faults.is_empty() {
            p.key("nemesis.faults", "expected at least one fault");
        }
        if !n.targets.is_empty() {
            spec.targets = n
                .targets
                .iter()
                .filter_map(|t| {
                    t.parse::<Target>()
                        .map_err(|m| p.key("nemesis.targets", m))
                        .ok()
                })
                .collect();
        }
        if !n.grudges.is_empty() {
            spec.grudges = n
                .grudges
                .iter()
                .filter_map(|g| {
                    g.parse::<GrudgeSpec>()
                        .map_err(|m| p.key("nemesis.grudges", m))
                        .ok()
                })
                .collect();
        }
        if let Some(prob) = n.loss_probability {
            if !(0.0..=1.0).contains(&prob) {
                p.key(
                    "nemesis.loss_probability",
                    format!("expected a probability between 0 and 1, found {prob}"),
                );
            }
            spec.loss_probability = prob;
        }
        Some(spec)
    }

    /// `checkers:`, `consistency_models:`, `log_pattern:` and the workload
    /// options Jepsen's checkers read (see `spec/checkers.rs`).
    fn checkers(
        &self,
        workload: WorkloadKind,
        keys: KeyMode,
        p: &mut Problems,
    ) -> (
        Vec<String>,
        Vec<String>,
        super::WorkloadOptions,
        Option<String>,
    ) {
        let s = &self.spec;
        let (checkers, errs) = super::checkers::checker_list(s, workload);
        let (options, more) = super::checkers::workload_options(s, workload);
        let (log_pattern, last) = super::checkers::log_pattern(s);
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

/// Node names in `nemesis.targets` and `isolate:NODE` grudges must be nodes
/// of the test (local nodes are `n1`..`nN`).
fn check_fault_nodes(spec: &ScheduleSpec, names: &[String], p: &mut Problems) {
    let unknown = |n: &String| {
        (!names.contains(n))
            .then(|| format!("no node {n:?} in this test; nodes are {}", names.join(", ")))
    };
    for t in &spec.targets {
        if let Target::Named(list) = t {
            if let Some(m) = list.iter().find_map(unknown) {
                p.key("nemesis.targets", m);
            }
        }
    }
    for g in &spec.grudges {
        if let GrudgeSpec::Isolate(Some(n)) = g {
            if let Some(m) = unknown(n) {
                p.key("nemesis.grudges", m);
            }
        }
    }
}

/// `data_dir` checked: an absolute path other than `/`, without `..`, of
/// characters that need no quoting (templates paste it into commands).
fn check_data_dir(d: &str) -> Result<(), String> {
    let ok = d.starts_with('/')
        && !d.trim_end_matches('/').is_empty()
        && !d.split('/').any(|c| c == "..")
        && d.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "expected an absolute path other than / of letters, digits, '/', '.', '_' and '-', without '..', found {d:?}"
        ))
    }
}
