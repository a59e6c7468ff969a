//! The YAML test spec: what a Jepsen test says in Clojure, said in YAML.
//!
//! [`load`] parses a spec file (unknown keys are errors, with a "did you
//! mean"), and [`Spec::validate`] turns it into a [`Plan`] with every value
//! checked and typed — before anything touches a node. Errors name
//! `file:line:column` and the offending key.

mod duration;
mod plan;

pub use duration::DurationField;
pub use plan::{ClientKind, Concurrency, KeyMode, NodesPlan, Plan, Values, WorkloadKind};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A spec as written.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Test name (store directory name).
    pub name: String,
    /// `local:N` (default `local:5`), or a list of hosts.
    #[serde(default)]
    pub nodes: Option<NodesField>,
    /// Data directory on every node (default `/var/lib/faultline/node`).
    #[serde(default)]
    pub data_dir: Option<String>,
    /// The DB lifecycle.
    pub db: DbSpec,
    /// How clients talk to the DB.
    pub client: ClientSpec,
    /// What operations to run.
    pub workload: WorkloadSpec,
    /// How many, how fast, for how long.
    #[serde(default)]
    pub generator: GeneratorSpec,
    /// Faults to inject.
    #[serde(default)]
    pub nemesis: Option<NemesisSpec>,
    /// Checkers to run: linearizable, elle, stats, perf.
    #[serde(default)]
    pub checkers: Option<Vec<String>>,
    /// Consistency models for the elle checker (default serializable).
    #[serde(default)]
    pub consistency_models: Option<Vec<String>>,
}

/// `nodes:` — `local:N` or a host list.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum NodesField {
    /// `local:N`.
    Text(String),
    /// Host names or addresses.
    List(Vec<String>),
}

/// The DB lifecycle; every command is a template.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DbSpec {
    /// Installs the DB (once per node).
    #[serde(default)]
    pub install: Option<String>,
    /// Succeeds when the DB is installed (then install is skipped).
    #[serde(default)]
    pub present: Option<String>,
    /// Files rendered from templates and uploaded to every node.
    #[serde(default)]
    pub configure: Vec<ConfigFile>,
    /// How to start the DB.
    pub start: StartSpec,
    /// Succeeds when the DB on a node is ready.
    #[serde(default)]
    pub ready: Option<ReadyField>,
    /// Stops the DB (default: SIGTERM through the pidfile).
    #[serde(default)]
    pub stop: Option<String>,
    /// Prints the names of the current primaries (leaders).
    #[serde(default)]
    pub primaries: Option<String>,
    /// Log files to pull into the store.
    #[serde(default)]
    pub logs: Vec<String>,
    /// Wipes the DB's state (run before setup and after the test).
    #[serde(default)]
    pub teardown: Option<String>,
    /// The DB's executable, to tell whether libfaketime can move its clock.
    #[serde(default)]
    pub binary: Option<String>,
}

/// A file to put on every node: rendered from a template, or copied from
/// a local file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Destination path (template).
    pub path: String,
    /// Contents (template).
    #[serde(default)]
    pub template: Option<String>,
    /// A local file to upload as is (relative to the working directory).
    #[serde(default)]
    pub source: Option<String>,
}

/// `start:` — the command, daemonized by faultline with a pidfile and log.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartSpec {
    /// Command that runs the DB in the foreground.
    pub command: String,
    /// Pidfile (default `{{ data_dir }}/db.pid`).
    #[serde(default)]
    pub pidfile: Option<String>,
    /// Log file (default `{{ data_dir }}/db.log`).
    #[serde(default)]
    pub log: Option<String>,
    /// Environment variables.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

/// `ready:` — a command, or a command with a timeout.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ReadyField {
    /// Just the command (timeout 30 s).
    Command(String),
    /// Command and timeout.
    Full {
        /// The probe.
        command: String,
        /// How long to keep trying.
        timeout: DurationField,
    },
}

/// `client:`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSpec {
    /// `exec` (a plugin in any language), `etcd` or `postgres` (native).
    pub kind: String,
    /// The plugin command, for `exec`.
    #[serde(default)]
    pub command: Option<String>,
    /// Per-op timeout (default 5s): no answer means `info`.
    #[serde(default)]
    pub timeout: Option<DurationField>,
    /// etcd: `linearizable` (default) or `serializable` reads.
    #[serde(default)]
    pub reads: Option<String>,
    /// etcd / postgres: client port (default 2379 / 5432).
    #[serde(default)]
    pub port: Option<u16>,
    /// postgres: `serializable` (default), `repeatable-read` or `read-committed`.
    #[serde(default)]
    pub isolation: Option<String>,
}

/// `workload:`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSpec {
    /// `register`, `cas-register` or `set`.
    pub kind: String,
    /// `independent` (many keys) or `single`.
    #[serde(default)]
    pub keys: Option<String>,
    /// Op weights, e.g. `{read: 2, write: 1, cas: 1}`.
    #[serde(default)]
    pub mix: Option<BTreeMap<String, u32>>,
    /// `unique` (increasing per key) or a range `0..5`.
    #[serde(default)]
    pub values: Option<String>,
    /// Transactional workloads: keys in use at a time (default 10).
    #[serde(default)]
    pub key_count: Option<usize>,
    /// Transactional workloads: most micro-ops per transaction (default 4).
    #[serde(default)]
    pub txn_length: Option<usize>,
    /// Transactional workloads: writes after which a key is retired for a
    /// fresh one (default 32, as Jepsen).
    #[serde(default)]
    pub max_writes_per_key: Option<usize>,
}

/// `generator:`
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeneratorSpec {
    /// Workers: a number or `Kn` (K per node).
    #[serde(default)]
    pub concurrency: Option<ConcurrencyField>,
    /// Total ops per second (0 or absent: as fast as possible).
    #[serde(default)]
    pub rate: Option<f64>,
    /// Length of the main phase.
    #[serde(default)]
    pub time_limit: Option<DurationField>,
    /// Ops per key before moving to a fresh key (independent keys).
    #[serde(default)]
    pub ops_per_key: Option<u64>,
    /// Workers sharing one key (default: the node count).
    #[serde(default)]
    pub threads_per_key: Option<usize>,
    /// Wait after healing, before final reads.
    #[serde(default)]
    pub recovery: Option<DurationField>,
    /// Read every key in use once more after recovery.
    #[serde(default)]
    pub final_reads: Option<bool>,
    /// Seed for everything random.
    #[serde(default)]
    pub seed: Option<u64>,
}

/// `concurrency:` — `10` or `2n`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ConcurrencyField {
    /// A number of workers.
    Count(usize),
    /// `Kn`.
    Text(String),
}

/// `nemesis:`
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NemesisSpec {
    /// Fault kinds.
    pub faults: Vec<String>,
    /// Between start and stop, and between faults (default 10s).
    #[serde(default)]
    pub interval: Option<DurationField>,
    /// No faults for this long at first (default 2s).
    #[serde(default)]
    pub quiet: Option<DurationField>,
    /// one, minority, majority, all, primaries, or node names.
    #[serde(default)]
    pub targets: Vec<String>,
    /// Partition shapes.
    #[serde(default)]
    pub grudges: Vec<String>,
    /// Drop probability for loss faults.
    #[serde(default)]
    pub loss_probability: Option<f64>,
    /// Clock offset for clock faults.
    #[serde(default)]
    pub clock_offset: Option<DurationField>,
}

/// A spec error at a place in the file: the same shape as a history
/// reader's error (file, 1-based line and column, what was expected).
pub type SpecError = faultline_checkers::ReadError;

/// A spec file's text and parsed form.
pub struct Loaded {
    /// The file.
    pub path: PathBuf,
    /// Its text.
    pub text: String,
    /// Parsed.
    pub spec: Spec,
}

impl Loaded {
    /// An error about `key` (a dotted path like `generator.rate`), placed at
    /// that key's line when it can be found.
    pub fn error_at(&self, key: &str, message: impl Into<String>) -> SpecError {
        let (line, column) = find_key(&self.text, key).unwrap_or((0, 0));
        SpecError::at(
            &self.path,
            line,
            column,
            format!("{key}: {}", message.into()),
        )
    }
}

/// Reads and parses a spec file.
pub fn load(path: &Path) -> Result<Loaded, SpecError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| SpecError::at(path, 0, 0, format!("cannot read: {e}")))?;
    let spec = parse(path, &text)?;
    Ok(Loaded {
        path: path.into(),
        text,
        spec,
    })
}

/// Parses spec text.
pub fn parse(path: &Path, text: &str) -> Result<Spec, SpecError> {
    serde_saphyr::from_str::<Spec>(text).map_err(|e| {
        let (line, column) = e
            .location()
            .map_or((0, 0), |l| (l.line() as usize, l.column() as usize));
        let full = e.to_string();
        let first = full.lines().next().unwrap_or(&full);
        // "error: line L column C: message" → "message"
        let msg = first.split_once(": ").map_or(first, |(_, m)| m);
        let msg = msg
            .split_once(": ")
            .filter(|(p, _)| p.starts_with("line "))
            .map_or(msg, |(_, m)| m);
        SpecError::at(path, line, column, with_suggestion(msg))
    })
}

/// Adds "did you mean `x`?" to serde's "unknown field `y`, expected one of
/// a, b, c" (and "unknown variant" alike).
fn with_suggestion(msg: &str) -> String {
    let Some(rest) = msg
        .strip_prefix("unknown field `")
        .or_else(|| msg.strip_prefix("unknown variant `"))
    else {
        return msg.to_string();
    };
    let Some((bad, tail)) = rest.split_once('`') else {
        return msg.to_string();
    };
    let candidates: Vec<&str> = tail
        .split_once("expected one of ")
        .or_else(|| tail.split_once("expected "))
        .map(|(_, list)| {
            list.split(',')
                .map(|c| c.trim().trim_matches('`'))
                .collect()
        })
        .unwrap_or_default();
    match did_you_mean(bad, &candidates) {
        Some(best) => format!("{msg} (did you mean `{best}`?)"),
        None => msg.to_string(),
    }
}

/// The closest candidate within a small edit distance.
pub fn did_you_mean<'a>(bad: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (levenshtein(bad, c), *c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(2))
        .min()
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + usize::from(ca != *cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}

/// (line, column) of a dotted key path in YAML text, following
/// indentation (good enough for specs; `None` if not found).
fn find_key(text: &str, key: &str) -> Option<(usize, usize)> {
    let mut parts = key.split('.').peekable();
    let mut want = parts.next()?;
    let mut min_indent = 0usize;
    for (i, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start().len();
        let body = line.trim_start();
        if indent < min_indent || body.starts_with('#') {
            continue;
        }
        if body.strip_prefix(want).is_some_and(|r| r.starts_with(':')) {
            match parts.next() {
                None => return Some((i + 1, indent + 1)),
                Some(next) => {
                    want = next;
                    min_indent = indent + 1;
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_and_key_positions() {
        assert_eq!(
            did_you_mean("pidfle", &["start", "pidfile", "log"]),
            Some("pidfile")
        );
        assert_eq!(did_you_mean("zzz", &["start", "pidfile"]), None);
        let text = "name: x\ngenerator:\n  rate: -1\n  time_limit: 5s\n";
        assert_eq!(find_key(text, "generator.time_limit"), Some((4, 3)));
        assert_eq!(find_key(text, "rate"), Some((3, 3)));
    }
}
