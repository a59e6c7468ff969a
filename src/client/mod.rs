//! Clients: how workers talk to the system under test.
//!
//! A client kind is one file here: it validates its own `client:` options
//! ([`Options`]) into a [`ClientConfig`], which opens one [`Client`] per
//! worker process. [`guard::invoke`] wraps every call the same way for all
//! of them (Jepsen's timeout and `client/Validate` wrappers): the op
//! timeout, the ok / fail / info classification, and resetting a client
//! whose last op ended indeterminate. Adding a client is its own file plus
//! one line in [`KINDS`].

pub mod etcd;
pub mod exec;
pub mod guard;
pub mod mariadb;
pub mod options;
pub mod postgres;
pub mod redis;
pub mod txn;

use crate::control::{BoxFuture, Node};
use crate::spec::WorkloadKind;
use faultline_checkers::OpType;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

pub use guard::invoke;
pub use options::{OptionError, Options};

/// One operation to perform.
#[derive(Clone, Debug)]
pub struct Request {
    /// Request id (unique per run).
    pub id: u64,
    /// Operation name.
    pub f: Arc<str>,
    /// Key for independent-key workloads.
    pub key: Option<Value>,
    /// Argument (`null` for reads).
    pub value: Value,
}

/// How an operation ended.
#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    /// ok, fail or info.
    pub kind: OpType,
    /// The value (what a read saw).
    pub value: Value,
    /// Error text for fail/info.
    pub error: Option<String>,
}

impl Reply {
    /// A successful reply with `value`.
    pub fn ok(value: Value) -> Reply {
        Reply {
            kind: OpType::Ok,
            value,
            error: None,
        }
    }

    /// A reply for an op that definitely did not happen.
    pub fn fail(value: Value, error: impl Into<String>) -> Reply {
        Reply {
            kind: OpType::Fail,
            value,
            error: Some(error.into()),
        }
    }

    /// An indeterminate reply: the op may or may not have happened.
    pub fn info(value: Value, error: impl Into<String>) -> Reply {
        Reply {
            kind: OpType::Info,
            value,
            error: Some(error.into()),
        }
    }
}

/// Talks to the DB for one worker process (Jepsen's client protocol:
/// opened per process, `setup` once per test, `invoke` per op, `close`).
/// Timeouts and the ok / fail / info rules are applied around `invoke` by
/// [`guard::invoke`]; a client only says what it saw.
pub trait Client: Send {
    /// Prepares the DB for the workload (tables, ...), once per test,
    /// before any op; must be idempotent. Default: nothing to do.
    fn setup(&mut self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async { Ok(()) })
    }

    /// Performs `req`. Never fails: problems are `info` (may have happened)
    /// or `fail` (definitely did not). May be cancelled at any await point
    /// (the op timeout), after which [`Client::reset`] is called.
    fn invoke<'a>(&'a mut self, req: &'a Request) -> BoxFuture<'a, Reply>;

    /// Forgets any connection, after an op that timed out or ended
    /// indeterminate: its state is unknown. Default: nothing to forget.
    fn reset(&mut self) {}

    /// Releases the client (closes connections, kills a plugin).
    fn close(&mut self) -> BoxFuture<'_, ()>;
}

/// Where plugin stderr and client diagnostics go (the run's log).
pub type LogSink = Arc<Mutex<Box<dyn std::io::Write + Send>>>;

/// What a client is opened with: which node, as which process.
pub struct OpenCtx<'a> {
    /// The node this worker talks to.
    pub node: &'a Node,
    /// All nodes of the test.
    pub nodes: &'a [Node],
    /// The worker's process number (it changes after an info op).
    pub process: u64,
    /// The spec file's directory (relative paths in options resolve here).
    pub base_dir: &'a Path,
    /// The run's log.
    pub log: LogSink,
}

/// A validated `client:` section: how to open clients of one kind.
pub trait ClientConfig: std::fmt::Debug + Send + Sync {
    /// One line for `test --dry-run` (e.g. "etcd on port 2379, linearizable reads").
    fn describe(&self) -> String;

    /// A client for one worker process.
    fn open(&self, ctx: &OpenCtx<'_>) -> Box<dyn Client>;
}

/// What a client kind may need to know while validating its options.
pub struct Context {
    /// The spec's workload.
    pub workload: WorkloadKind,
}

/// A client kind: its `client.kind` name and how it validates its options.
pub struct Kind {
    /// The name in `client.kind`.
    pub name: &'static str,
    /// Reads this kind's options (errors go into the [`Options`]), and
    /// returns its config (with defaults where an option was bad).
    pub configure: fn(&mut Options<'_>, &Context) -> Arc<dyn ClientConfig>,
}

/// Every client kind. Adding a client: its file, and one line here.
pub const KINDS: &[Kind] = &[
    exec::KIND,
    etcd::KIND,
    postgres::KIND,
    redis::KIND,
    mariadb::KIND,
];

/// Validates a `client:` section of kind `kind` with options `options`
/// (every key but `kind` and `timeout`); errors name `client.KEY`.
pub fn configure(
    kind: &str,
    options: &BTreeMap<String, Value>,
    ctx: &Context,
) -> Result<Arc<dyn ClientConfig>, Vec<OptionError>> {
    let Some(k) = KINDS.iter().find(|k| k.name == kind) else {
        let names: Vec<&str> = KINDS.iter().map(|k| k.name).collect();
        let hint = crate::spec::did_you_mean(kind, &names)
            .map_or(String::new(), |m| format!(" (did you mean `{m}`?)"));
        return Err(vec![OptionError {
            key: "client.kind".into(),
            message: format!(
                "unknown client {kind:?}; expected {}{hint}",
                names.join(", ")
            ),
        }]);
    };
    let mut o = Options::new(k.name, options);
    let config = (k.configure)(&mut o, ctx);
    o.finish().map(|()| config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn opts(v: Value) -> BTreeMap<String, Value> {
        serde_json::from_value(v).unwrap()
    }

    fn ctx(workload: WorkloadKind) -> Context {
        Context { workload }
    }

    #[test]
    fn every_kind_is_registered_once_and_unknown_kinds_get_a_hint() {
        let mut names: Vec<&str> = KINDS.iter().map(|k| k.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), KINDS.len());
        let e = configure("etdc", &opts(json!({})), &ctx(WorkloadKind::Register)).unwrap_err();
        assert_eq!(e[0].key, "client.kind");
        assert!(
            e[0].message.contains("did you mean `etcd`"),
            "{}",
            e[0].message
        );
    }

    #[test]
    fn each_kind_checks_its_own_options() {
        let reg = ctx(WorkloadKind::Register);
        let c = configure(
            "etcd",
            &opts(json!({"reads": "serializable", "port": 2380})),
            &reg,
        )
        .unwrap();
        assert_eq!(c.describe(), "etcd on port 2380, serializable reads");
        // An option of another client is unknown here, with a hint.
        let e = configure("etcd", &opts(json!({"isolation": "serializable"})), &reg).unwrap_err();
        assert_eq!(e[0].key, "client.isolation");
        assert!(e[0].message.contains("etcd"), "{}", e[0].message);
        let e = configure("etcd", &opts(json!({"raeds": "serializable"})), &reg).unwrap_err();
        assert!(
            e[0].message.contains("did you mean `reads`"),
            "{}",
            e[0].message
        );
        // Values are checked, with the key named.
        let e = configure("etcd", &opts(json!({"port": 0})), &reg).unwrap_err();
        assert_eq!(e[0].key, "client.port");
        let e = configure("etcd", &opts(json!({"port": "x"})), &reg).unwrap_err();
        assert!(e[0].message.contains("\"x\""), "{}", e[0].message);
        // A client refuses workloads it cannot run.
        let e = configure("etcd", &opts(json!({})), &ctx(WorkloadKind::ListAppend)).unwrap_err();
        assert_eq!(e[0].key, "client.kind");
        let e = configure("postgres", &opts(json!({})), &reg).unwrap_err();
        assert_eq!(e[0].key, "client.kind");
        let e = configure(
            "postgres",
            &opts(json!({"isolation": "snapshot"})),
            &ctx(WorkloadKind::ListAppend),
        )
        .unwrap_err();
        assert_eq!(e[0].key, "client.isolation");
        // exec needs its command.
        let e = configure("exec", &opts(json!({})), &reg).unwrap_err();
        assert_eq!(e[0].key, "client");
        assert!(e[0].message.contains("command"), "{}", e[0].message);
        let c = configure("exec", &opts(json!({"command": "./p"})), &reg).unwrap();
        assert_eq!(c.describe(), "exec plugin `./p`");
    }
}
