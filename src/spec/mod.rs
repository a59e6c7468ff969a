//! The YAML test spec: what a Jepsen test says in Clojure, said in YAML.
//!
//! [`load`] parses a spec file (unknown keys are errors, with a "did you
//! mean"), and [`Loaded::validate`] turns it into a [`Plan`] with every value
//! checked and typed — before anything touches a node. Errors name
//! `file:line:column` and the offending key.

mod checkers;
mod duration;
mod plan;
mod render;
mod validate;

pub use checkers::{WorkloadOptions, CHECKERS};
pub use duration::{DurationField, MAX_SECONDS};
pub use plan::{
    Concurrency, KeyMode, NodesPlan, Overrides, Plan, Values, WorkloadKind, MAX_WORKERS,
};

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
    /// Checkers to run: linearizable, elle, stats, perf, Jepsen's
    /// (set, set-full, counter, bank, total-queue, unique-ids), db-alive,
    /// log-pattern.
    #[serde(default)]
    pub checkers: Option<Vec<String>>,
    /// A regular expression: every line of the pulled node logs it
    /// matches makes the run invalid (the log-pattern checker).
    #[serde(default)]
    pub log_pattern: Option<String>,
    /// Consistency models for the elle checker (default serializable).
    #[serde(default)]
    pub consistency_models: Option<Vec<String>>,
}

/// `nodes:` — `local:N` or a host list.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum NodesField {
    /// `local:N`.
    Text(String),
    /// Host names or addresses.
    List(Vec<String>),
}

impl<'de> Deserialize<'de> for NodesField {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = NodesField;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("local:N or a list of nodes (HOST, HOST:PORT or NAME=HOST:PORT)")
            }
            fn visit_str<E>(self, v: &str) -> Result<NodesField, E> {
                Ok(NodesField::Text(v.to_string()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                seq: A,
            ) -> Result<NodesField, A::Error> {
                Vec::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))
                    .map(NodesField::List)
            }
        }
        d.deserialize_any(V)
    }
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
    /// The fault filesystem: the directories the DB keeps its data in,
    /// mounted under faultline's layer so power faults can drop what the
    /// DB did not fsync (docs/disk.md).
    #[serde(default)]
    pub disk: Option<DiskSpec>,
    /// What faultline does when the DB does not come back after it was
    /// down on every node at once (docs/spec.md, `db.recover`).
    #[serde(default)]
    pub recover: Option<RecoverSpec>,
}

/// `db.recover:` — the fallback when the DB, restarted on every node after
/// all of them were down at once, is not ready in time: faultline stops it
/// everywhere, asks every node for its position, starts the node with the
/// greatest one by `start` (say, bootstrapping a new cluster from it),
/// waits for it (`ready`; the next most advanced if it fails), then starts
/// the others as usual, resetting (`reset`) those that do not come back.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoverSpec {
    /// How long the restarted DB may take to pass `db.ready` on every node
    /// before faultline steps in (default 60 s).
    #[serde(default)]
    pub within: Option<DurationField>,
    /// Run on every node with the DB stopped: prints the node's position,
    /// an integer (the last transaction it holds); anything else means it
    /// has none and is never chosen.
    pub position: String,
    /// Runs the chosen node in the foreground instead of `start.command`
    /// (daemonized the same way, same pidfile and log).
    pub start: String,
    /// Succeeds when the chosen node is ready for the others to join
    /// (polled, at most `within`); without it they start at once. A node
    /// that exits or does not pass it in time is stopped, and the next most
    /// advanced is tried.
    #[serde(default)]
    pub ready: Option<String>,
    /// Run (DB stopped) on a node that exits or is not ready within
    /// `within` of rejoining the chosen one: makes it start over from the
    /// others (say, a full state transfer); then it is started once more.
    #[serde(default)]
    pub reset: Option<String>,
}

/// `db.disk:` — where the fault filesystem goes.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiskSpec {
    /// Directories (templates) to mount the layer over, each inside the
    /// node's data directory; the data lives in `<dir>.real` beside it.
    pub dirs: Vec<String>,
    /// Globs, relative to a dir, of the files corruption faults may touch.
    #[serde(default)]
    pub files: Vec<String>,
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
    /// A local file to upload as is (relative to the spec file's directory).
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
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum ReadyField {
    /// Just the command (timeout 30 s).
    Command(String),
    /// Command and timeout.
    Full {
        /// The probe.
        command: String,
        /// How long to keep trying (default 30 s).
        timeout: Option<DurationField>,
    },
}

/// `ready:` written as a map (unknown keys are errors, with a suggestion).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadyMap {
    command: String,
    #[serde(default)]
    timeout: Option<DurationField>,
}

impl<'de> Deserialize<'de> for ReadyField {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = ReadyField;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a command, or `command:` and `timeout:`")
            }
            fn visit_str<E>(self, v: &str) -> Result<ReadyField, E> {
                Ok(ReadyField::Command(v.to_string()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<ReadyField, A::Error> {
                let m = ReadyMap::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(ReadyField::Full {
                    command: m.command,
                    timeout: m.timeout,
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// `client:`. `kind` and `timeout` are common to every client; every other
/// key is an option of that kind of client, checked by it (`src/client/`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ClientSpec {
    /// `exec` (a plugin in any language), `etcd` or `postgres` (native).
    pub kind: String,
    /// Per-op timeout (default 5s): no answer means `info`.
    #[serde(default)]
    pub timeout: Option<DurationField>,
    /// The kind's own options (exec: `command`; etcd: `port`, `reads`;
    /// postgres: `port`, `isolation`).
    #[serde(flatten)]
    pub options: BTreeMap<String, serde_json::Value>,
}

/// `workload:`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSpec {
    /// `register`, `cas-register`, `set`, `list-append`, `rw-register`,
    /// `counter`, `bank`, `queue` or `unique-ids`.
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
    /// bank: accounts `0..accounts` (default 5).
    #[serde(default)]
    pub accounts: Option<usize>,
    /// bank: the total of all balances the checker holds reads to
    /// (default: the first read's).
    #[serde(default)]
    pub total: Option<i64>,
    /// bank: the largest amount one transfer moves (default 5).
    #[serde(default)]
    pub max_transfer: Option<i64>,
    /// bank: negative balances are allowed (default false).
    #[serde(default)]
    pub negative_balances: Option<bool>,
    /// set: reads must be linearizable, so set-full counts stale reads as
    /// errors (default false).
    #[serde(default)]
    pub linearizable_reads: Option<bool>,
    /// long-fork: keys per read group (default 3).
    #[serde(default)]
    pub group_size: Option<usize>,
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
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum ConcurrencyField {
    /// A number of workers.
    Count(usize),
    /// `Kn`.
    Text(String),
}

impl<'de> Deserialize<'de> for ConcurrencyField {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = ConcurrencyField;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number of workers like 10, or 2n (2 per node)")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<ConcurrencyField, E> {
                usize::try_from(v)
                    .map(ConcurrencyField::Count)
                    .map_err(|_| E::custom(format!("{v} workers is too many")))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<ConcurrencyField, E> {
                usize::try_from(v)
                    .map(ConcurrencyField::Count)
                    .map_err(|_| {
                        E::custom(format!(
                            "expected a number of workers of at least 1, found {v}"
                        ))
                    })
            }
            fn visit_str<E>(self, v: &str) -> Result<ConcurrencyField, E> {
                Ok(ConcurrencyField::Text(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
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
    /// Power faults' options.
    #[serde(default)]
    pub power: Option<PowerSpec>,
    /// Corruption faults' options (bitflip, truncate, snapshot).
    #[serde(default)]
    pub corruption: Option<CorruptionSpec>,
}

/// `nemesis.corruption:` — what bitflip, truncate and snapshot faults do.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorruptionSpec {
    /// Chunk size of bitflip and snapshot, in bytes (default 1 MiB).
    #[serde(default)]
    pub chunk_size: Option<u64>,
    /// Probability that bitflip flips each bit of a chosen chunk (default
    /// 1e-6, Jepsen's).
    #[serde(default)]
    pub probability: Option<f64>,
    /// Bytes truncate drops from each file's end (default 4096).
    #[serde(default)]
    pub truncate_bytes: Option<u64>,
    /// Which nodes (default: a minority, as Jepsen's).
    #[serde(default)]
    pub targets: Vec<String>,
}

/// `nemesis.power:` — how a power fault treats unsynced writes.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PowerSpec {
    /// Keep a random subset of the pending 4 KiB pages (torn writes)
    /// instead of dropping them all.
    #[serde(default)]
    pub torn: bool,
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
    /// The directory relative paths in the spec resolve against: the
    /// file's own (or, for a replay, the original spec's).
    pub base: PathBuf,
}

impl Loaded {
    /// The directory against which relative paths in the spec resolve.
    pub fn base_dir(&self) -> PathBuf {
        self.base.clone()
    }

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
    let base = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    from_text(path, text, base)
}

/// Parses spec `text` read from `path`, whose relative paths resolve
/// against `base`.
pub fn from_text(path: &Path, text: String, base: PathBuf) -> Result<Loaded, SpecError> {
    let spec = parse(path, &text)?;
    Ok(Loaded {
        path: path.into(),
        text,
        spec,
        base,
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
        let mut msg = with_suggestion(&friendly(msg, found_at(text, line, column)));
        if let Some(key) = key_at(text, line, column) {
            if !msg.starts_with("unknown field") && !msg.starts_with("missing field") {
                msg = format!("{key}: {msg}");
            }
        }
        SpecError::at(path, line, column, msg)
    })
}

/// serde's terse type errors ("invalid u16") said as what was expected,
/// with the value found.
fn friendly(msg: &str, found: Option<String>) -> String {
    let expected = match msg {
        "invalid u8" | "invalid u16" | "invalid u32" | "invalid u64" | "invalid usize" => {
            "expected a whole number of at least 0 (and not too large)"
        }
        "invalid i8" | "invalid i16" | "invalid i32" | "invalid i64" | "invalid isize" => {
            "expected a whole number"
        }
        "invalid floating point" | "invalid f64" | "invalid f32" => "expected a number",
        "invalid boolean" => "expected true or false",
        "expected string scalar" => "expected a string",
        other => return other.to_string(),
    };
    match found {
        Some(f) => format!("{expected}, found {f}"),
        None => expected.to_string(),
    }
}

/// The scalar that starts at 1-based (`line`, `column`) of `text`.
fn found_at(text: &str, line: usize, column: usize) -> Option<String> {
    let l = text.lines().nth(line.checked_sub(1)?)?;
    let rest: String = l.chars().skip(column.checked_sub(1)?).collect();
    let v = rest.split([',', '}', ']', '#']).next().unwrap_or("").trim();
    (!v.is_empty()).then(|| v.to_string())
}

/// The dotted key path whose value is at 1-based (`line`, `column`) of
/// YAML `text`: the keys written before that column on the line (flow
/// mappings included), then their parents by indentation.
fn key_at(text: &str, line: usize, column: usize) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let here = lines.get(line.checked_sub(1)?)?;
    let before: String = here.chars().take(column.saturating_sub(1)).collect();
    let mut path: Vec<String> = keys_in(&before);
    let mut indent = here.len() - here.trim_start_matches([' ', '-']).len();
    if path.is_empty() {
        let after: String = here.chars().skip(column.saturating_sub(1)).collect();
        match keys_in(&after).into_iter().next() {
            // The error points at the key itself.
            Some(k) if after.starts_with(&format!("{k}:")) => path.push(k),
            // The value is on its own line (a list item, say): its key is above.
            _ => indent += 1,
        }
    }
    for l in lines[..line - 1].iter().rev() {
        let body = l.trim_start_matches([' ', '-']);
        let ind = l.len() - body.len();
        if body.is_empty() || body.starts_with('#') || ind >= indent {
            continue;
        }
        if let Some(k) = keys_in(l).into_iter().next() {
            path.insert(0, k);
            indent = ind;
        }
        if indent == 0 {
            break;
        }
    }
    (!path.is_empty()).then(|| path.join("."))
}

/// The `key:` tokens in a piece of a YAML line, in order.
fn keys_in(s: &str) -> Vec<String> {
    s.split([' ', '{', ',', '-'])
        .filter_map(|w| w.strip_suffix(':'))
        .filter(|k| {
            !k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        })
        .map(String::from)
        .collect()
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
                .flat_map(|c| c.split(" or "))
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

    #[test]
    fn type_errors_name_their_key() {
        let text = "name: t\nclient:\n  kind: etcd\n  port: 99999\nworkload:\n  mix: { read: x }\n";
        assert_eq!(key_at(text, 4, 9).as_deref(), Some("client.port"));
        assert_eq!(key_at(text, 6, 16).as_deref(), Some("workload.mix.read"));
        assert_eq!(found_at(text, 6, 16).as_deref(), Some("x"));
        assert_eq!(
            friendly("invalid u64", Some("-1".into())),
            "expected a whole number of at least 0 (and not too large), found -1"
        );
        assert_eq!(
            with_suggestion("unknown field `timout`, expected `command` or `timeout`"),
            "unknown field `timout`, expected `command` or `timeout` (did you mean `timeout`?)"
        );
    }
}
