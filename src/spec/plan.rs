//! A validated spec: every value checked and typed ([`Plan`]).

use super::{ConcurrencyField, DbSpec, Loaded, NodesField, ReadyField, SpecError};
use faultline_nemesis::{FaultKind, GrudgeSpec, ScheduleSpec, Target};
use std::time::Duration;

/// Where the nodes come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodesPlan {
    /// A local namespace cluster of N nodes, made for the test.
    Local(usize),
    /// Real hosts over SSH.
    Hosts(Vec<String>),
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
            Concurrency::PerNode(k) => k * nodes,
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

/// Which client talks to the DB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientKind {
    /// An exec plugin.
    Exec,
    /// The native PostgreSQL client (transactional workloads).
    Postgres {
        /// `serializable`, `repeatable read` or `read committed`.
        isolation: &'static str,
        /// Client port.
        port: u16,
    },
    /// The native etcd client.
    Etcd {
        /// Serializable (possibly stale) reads instead of linearizable.
        serializable: bool,
        /// Client port.
        port: u16,
    },
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
}

impl WorkloadKind {
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
    /// The exec plugin command.
    pub client_command: String,
    /// Which client.
    pub client: ClientKind,
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
    /// Transactional workloads: keys in use at once.
    pub key_count: usize,
    /// Transactional workloads: most micro-ops per txn.
    pub txn_length: usize,
    /// Transactional workloads: writes per key before it is retired.
    pub max_writes_per_key: usize,
}

const CHECKERS: [&str; 4] = ["linearizable", "elle", "stats", "perf"];

impl Loaded {
    /// Checks every value; returns all problems found, not just the first.
    pub fn validate(&self) -> Result<Plan, Vec<SpecError>> {
        let s = &self.spec;
        let mut errs: Vec<SpecError> = Vec::new();
        let mut err = |key: &str, msg: String| errs.push(self.error_at(key, msg));

        if s.name.is_empty()
            || !s
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            err(
                "name",
                format!(
                    "expected letters, digits, '-', '_' or '.', found {:?}",
                    s.name
                ),
            );
        }
        let nodes = match &s.nodes {
            None => NodesPlan::Local(5),
            Some(NodesField::List(hosts)) if !hosts.is_empty() => NodesPlan::Hosts(hosts.clone()),
            Some(NodesField::List(_)) => {
                err("nodes", "expected at least one node".into());
                NodesPlan::Local(5)
            }
            Some(NodesField::Text(t)) => match t.strip_prefix("local:").map(str::parse::<usize>) {
                Some(Ok(n)) if (1..=200).contains(&n) => NodesPlan::Local(n),
                _ => {
                    err(
                        "nodes",
                        format!("expected local:N (1 to 200) or a list of hosts, found {t:?}"),
                    );
                    NodesPlan::Local(5)
                }
            },
        };
        let ready = match &s.db.ready {
            None => None,
            Some(ReadyField::Command(c)) => Some((c.clone(), Duration::from_secs(30))),
            Some(ReadyField::Full { command, timeout }) => match timeout.get() {
                Ok(t) => Some((command.clone(), t)),
                Err(m) => {
                    err("db.ready.timeout", m);
                    None
                }
            },
        };
        for (i, f) in s.db.configure.iter().enumerate() {
            match (&f.template, &f.source) {
                (Some(_), None) => {}
                (None, Some(src)) if std::path::Path::new(src).is_file() => {}
                (None, Some(src)) => err(
                    "db.configure",
                    format!("entry {}: source {src:?} is not a readable file", i + 1),
                ),
                _ => err(
                    "db.configure",
                    format!(
                        "entry {} ({}): give exactly one of template or source",
                        i + 1,
                        f.path
                    ),
                ),
            }
        }
        let serializable = match s.client.reads.as_deref() {
            None | Some("linearizable") => false,
            Some("serializable") => true,
            Some(other) => {
                err(
                    "client.reads",
                    format!("expected linearizable or serializable, found {other:?}"),
                );
                false
            }
        };
        let (client, client_command) = match (s.client.kind.as_str(), &s.client.command) {
            ("exec", Some(c)) if !c.trim().is_empty() => (ClientKind::Exec, c.clone()),
            ("exec", _) => {
                err(
                    "client",
                    "an exec client needs `command:` (the plugin to run)".into(),
                );
                (ClientKind::Exec, String::new())
            }
            ("etcd", _) => (
                ClientKind::Etcd {
                    serializable,
                    port: s.client.port.unwrap_or(2379),
                },
                String::new(),
            ),
            ("postgres", _) => {
                let isolation = match s.client.isolation.as_deref() {
                    None | Some("serializable") => "serializable",
                    Some("repeatable-read") => "repeatable read",
                    Some("read-committed") => "read committed",
                    Some(other) => {
                        err("client.isolation", format!("expected serializable, repeatable-read or read-committed, found {other:?}"));
                        "serializable"
                    }
                };
                (
                    ClientKind::Postgres {
                        isolation,
                        port: s.client.port.unwrap_or(5432),
                    },
                    String::new(),
                )
            }
            (other, _) => {
                let hint = super::did_you_mean(other, &["exec", "etcd", "postgres"])
                    .map_or(String::new(), |m| format!(" (did you mean `{m}`?)"));
                err(
                    "client.kind",
                    format!("unknown client {other:?}; expected exec, etcd or postgres{hint}"),
                );
                (ClientKind::Exec, String::new())
            }
        };
        let mut dur = |key: &str, f: &Option<super::DurationField>, default: Duration| match f {
            None => default,
            Some(d) => d.get().unwrap_or_else(|m| {
                err(key, m);
                default
            }),
        };
        let op_timeout = dur("client.timeout", &s.client.timeout, Duration::from_secs(5));
        let g = &s.generator;
        let time_limit = dur(
            "generator.time_limit",
            &g.time_limit,
            Duration::from_secs(30),
        );
        let recovery = dur("generator.recovery", &g.recovery, Duration::from_secs(2));
        let (interval, quiet, clock) = match &s.nemesis {
            Some(n) => (
                dur("nemesis.interval", &n.interval, Duration::from_secs(10)),
                dur("nemesis.quiet", &n.quiet, Duration::from_secs(2)),
                dur(
                    "nemesis.clock_offset",
                    &n.clock_offset,
                    Duration::from_secs(5),
                ),
            ),
            None => Default::default(),
        };
        let workload = match s.workload.kind.as_str() {
            "register" => WorkloadKind::Register,
            "cas-register" => WorkloadKind::CasRegister,
            "set" => WorkloadKind::Set,
            "list-append" => WorkloadKind::ListAppend,
            "rw-register" => WorkloadKind::RwRegister,
            other => {
                let kinds = [
                    "register",
                    "cas-register",
                    "set",
                    "list-append",
                    "rw-register",
                ];
                let hint = super::did_you_mean(other, &kinds)
                    .map_or(String::new(), |m| format!(" (did you mean `{m}`?)"));
                err(
                    "workload.kind",
                    format!(
                        "unknown workload {other:?}; expected {}{hint}",
                        kinds.join(", ")
                    ),
                );
                WorkloadKind::CasRegister
            }
        };
        if matches!(client, ClientKind::Etcd { .. })
            && !matches!(workload, WorkloadKind::Register | WorkloadKind::CasRegister)
        {
            err(
                "client.kind",
                "the etcd client runs register and cas-register workloads".into(),
            );
        }
        if matches!(client, ClientKind::Postgres { .. }) && !workload.is_txn() {
            err(
                "client.kind",
                "the postgres client runs list-append and rw-register workloads".into(),
            );
        }
        let allowed: &[&str] = match workload {
            WorkloadKind::Register => &["read", "write"],
            WorkloadKind::CasRegister => &["read", "write", "cas"],
            WorkloadKind::Set => &["add", "read"],
            WorkloadKind::ListAppend | WorkloadKind::RwRegister => &["txn"],
        };
        let mix: Vec<(String, u32)> = match &s.workload.mix {
            Some(m) => m.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            None => allowed.iter().map(|f| (f.to_string(), 1)).collect(),
        };
        for (f, _) in &mix {
            if !allowed.contains(&f.as_str()) {
                let hint = super::did_you_mean(f, allowed)
                    .map_or(String::new(), |m| format!(" (did you mean `{m}`?)"));
                err(
                    "workload.mix",
                    format!(
                        "{f:?} is not an op of this workload; expected {}{hint}",
                        allowed.join(", ")
                    ),
                );
            }
        }
        if mix.iter().all(|(_, w)| *w == 0) {
            err(
                "workload.mix",
                "at least one op needs a weight above 0".into(),
            );
        }
        let keys = match s.workload.keys.as_deref() {
            None | Some("single") => KeyMode::Single,
            Some("independent") => KeyMode::Independent,
            Some(other) => {
                err(
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
                Some((Ok(lo), Ok(hi))) if lo < hi => Values::Range(lo, hi),
                _ => {
                    err(
                        "workload.values",
                        format!("expected unique or a range like 0..5, found {r:?}"),
                    );
                    Values::Unique
                }
            },
        };
        let concurrency = match &g.concurrency {
            None => Concurrency::PerNode(2),
            Some(ConcurrencyField::Count(c)) => {
                Concurrency::parse(&c.to_string()).unwrap_or_else(|m| {
                    err("generator.concurrency", m);
                    Concurrency::PerNode(2)
                })
            }
            Some(ConcurrencyField::Text(t)) => Concurrency::parse(t).unwrap_or_else(|m| {
                err("generator.concurrency", m);
                Concurrency::PerNode(2)
            }),
        };
        if let Some(r) = g.rate {
            if !(r >= 0.0 && r.is_finite()) {
                err(
                    "generator.rate",
                    format!("expected ops per second >= 0, found {r}"),
                );
            }
        }
        let nemesis = s.nemesis.as_ref().map(|n| {
            let mut spec = ScheduleSpec {
                interval,
                quiet,
                clock_delta_ms: clock.as_millis() as i64,
                ..Default::default()
            };
            spec.faults = n
                .faults
                .iter()
                .filter_map(|f| {
                    f.parse::<FaultKind>()
                        .map_err(|m| err("nemesis.faults", m))
                        .ok()
                })
                .collect();
            if !n.targets.is_empty() {
                spec.targets = n
                    .targets
                    .iter()
                    .filter_map(|t| {
                        t.parse::<Target>()
                            .map_err(|m| err("nemesis.targets", m))
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
                            .map_err(|m| err("nemesis.grudges", m))
                            .ok()
                    })
                    .collect();
            }
            if let Some(p) = n.loss_probability {
                if !(0.0..=1.0).contains(&p) {
                    err(
                        "nemesis.loss_probability",
                        format!("expected a probability between 0 and 1, found {p}"),
                    );
                }
                spec.loss_probability = p;
            }
            spec
        });
        let first = if workload.is_txn() {
            "elle"
        } else {
            "linearizable"
        };
        let checkers = s
            .checkers
            .clone()
            .unwrap_or_else(|| vec![first.into(), "stats".into(), "perf".into()]);
        for c in &checkers {
            if (c == "elle" && !workload.is_txn()) || (c == "linearizable" && workload.is_txn()) {
                err(
                    "checkers",
                    format!(
                        "the {c} checker does not fit a {} workload; use {first}",
                        s.workload.kind
                    ),
                );
            }
        }
        let consistency_models = s
            .consistency_models
            .clone()
            .unwrap_or_else(|| vec!["serializable".into()]);
        let known = faultline_checkers::elle::models::names();
        for m in &consistency_models {
            if faultline_checkers::elle::models::canonical(m).is_none() {
                err(
                    "consistency_models",
                    format!(
                        "unknown consistency model {m:?}; expected one of {}",
                        known.join(", ")
                    ),
                );
            }
        }
        for c in &checkers {
            if !CHECKERS.contains(&c.as_str()) {
                let hint = super::did_you_mean(c, &CHECKERS)
                    .map_or(String::new(), |m| format!(" (did you mean `{m}`?)"));
                err(
                    "checkers",
                    format!(
                        "unknown checker {c:?}; expected {}{hint}",
                        CHECKERS.join(", ")
                    ),
                );
            }
        }
        if workload == WorkloadKind::Set
            && checkers.iter().any(|c| c == "linearizable")
            && keys == KeyMode::Independent
        {
            err(
                "workload.keys",
                "set workloads use a single set; remove `keys: independent`".into(),
            );
        }
        if !errs.is_empty() {
            return Err(errs);
        }
        let data_dir = s
            .data_dir
            .clone()
            .unwrap_or_else(|| crate::cluster::NODE_DATA_DIR.to_string());
        Ok(Plan {
            name: s.name.clone(),
            nodes,
            pidfile: s
                .db
                .start
                .pidfile
                .clone()
                .unwrap_or_else(|| "{{ data_dir }}/db.pid".into()),
            log: s
                .db
                .start
                .log
                .clone()
                .unwrap_or_else(|| "{{ data_dir }}/db.log".into()),
            data_dir,
            db: s.db.clone(),
            ready,
            client_command,
            client,
            op_timeout,
            workload,
            keys,
            mix,
            values,
            concurrency,
            rate: g.rate.filter(|r| *r > 0.0),
            time_limit,
            ops_per_key: g.ops_per_key.unwrap_or(200).max(1),
            threads_per_key: g.threads_per_key,
            recovery,
            final_reads: g.final_reads.unwrap_or(true),
            seed: g.seed.unwrap_or(0),
            nemesis,
            checkers,
            consistency_models,
            key_count: s.workload.key_count.unwrap_or(10).max(1),
            txn_length: s.workload.txn_length.unwrap_or(4).max(1),
            max_writes_per_key: s.workload.max_writes_per_key.unwrap_or(32),
        })
    }
}
