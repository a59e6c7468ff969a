//! What the transactional clients (PostgreSQL, MariaDB) share: Elle's
//! micro-ops as they arrive in a `txn` request, and lists kept as
//! comma-separated text.

use super::{Context, Options, Reply, Request};
use crate::spec::WorkloadKind;
use serde_json::Value;

/// Isolation levels: the spec's name, and SQL's.
const ISOLATION: [(&str, &str); 4] = [
    ("serializable", "serializable"),
    ("repeatable-read", "repeatable read"),
    ("read-committed", "read committed"),
    ("read-uncommitted", "read uncommitted"),
];

/// The options every transactional client reads: it runs list-append and
/// rw-register only; `isolation` is one of the first `levels` of
/// `ISOLATION` (default serializable). Returns the level as SQL spells it,
/// and whether the workload keeps lists (list-append) or registers.
pub fn configure(
    o: &mut Options<'_>,
    ctx: &Context,
    client: &str,
    levels: usize,
) -> (&'static str, bool) {
    if !ctx.workload.is_txn() {
        o.error(
            "kind",
            format!("the {client} client runs list-append and rw-register workloads"),
        );
    }
    (
        isolation(o, levels),
        ctx.workload == WorkloadKind::ListAppend,
    )
}

/// The `isolation` option: one of the first `levels` of `ISOLATION`
/// (default serializable), as SQL spells it.
pub fn isolation(o: &mut Options<'_>, levels: usize) -> &'static str {
    let offered = &ISOLATION[..levels.min(ISOLATION.len())];
    let names: Vec<&'static str> = offered.iter().map(|(name, _)| *name).collect();
    let chosen = o.choice("isolation", &names, "serializable");
    offered
        .iter()
        .find(|(name, _)| *name == chosen)
        .map_or("serializable", |(_, sql)| *sql)
}

/// How a transaction went wrong: whether COMMIT may have happened, and
/// whether the connection is broken (not to be used again).
pub struct TxnError {
    /// COMMIT was sent and no answer came: the transaction may have happened.
    pub maybe_committed: bool,
    /// The connection is gone or in an unknown state.
    pub broken: bool,
    /// What went wrong.
    pub error: String,
}

/// The micro-ops of a `txn` request, all checked before anything is sent:
/// a request that is not a transaction, or has a malformed micro-op, is
/// `fail` (it never happened).
pub fn mops<'a>(req: &'a Request, client: &str) -> Result<&'a [Value], Reply> {
    let Some(mops) = req.value.as_array() else {
        return Err(Reply::fail(
            req.value.clone(),
            format!("the {client} client runs txn ops"),
        ));
    };
    match mops.iter().find_map(|m| micro_op(m).err()) {
        Some(e) => Err(Reply::fail(req.value.clone(), e)),
        None => Ok(mops),
    }
}

/// The reply for a transaction's outcome: `ok` with the micro-ops' results,
/// `info` when COMMIT may have happened, `fail` otherwise.
pub fn reply(req: &Request, outcome: Result<Value, TxnError>) -> Reply {
    match outcome {
        Ok(v) => Reply::ok(v),
        Err(e) if e.maybe_committed => Reply::info(req.value.clone(), e.error),
        Err(e) => Reply::fail(req.value.clone(), e.error),
    }
}

/// A micro-op's function, key and written value (0 for reads): `["append"
/// | "w", KEY, VALUE]` or `["r", KEY, _]`, with integer keys and values.
pub fn micro_op(m: &Value) -> Result<(&str, i64, i64), String> {
    let bad = || {
        format!(
            "malformed micro-op {m}: expected [\"append\"|\"w\"|\"r\", key, value] with integers"
        )
    };
    let f = m.get(0).and_then(Value::as_str).ok_or_else(bad)?;
    let k = m.get(1).and_then(Value::as_i64).ok_or_else(bad)?;
    match f {
        "append" | "w" => Ok((f, k, m.get(2).and_then(Value::as_i64).ok_or_else(bad)?)),
        "r" => Ok((f, k, 0)),
        _ => Err(bad()),
    }
}

/// A list stored as comma-separated integers (`""` is the empty list).
pub fn parse_list(text: &str) -> Vec<i64> {
    text.split(',').filter_map(|x| x.parse().ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn malformed_micro_ops_are_refused_not_read_as_zero() {
        assert_eq!(micro_op(&json!(["append", 3, 7])), Ok(("append", 3, 7)));
        assert_eq!(micro_op(&json!(["r", 3, null])), Ok(("r", 3, 0)));
        for bad in [
            json!([]),
            json!(["append", "k", 1]),
            json!(["append", 1]),
            json!(["w", 1, 1.5]),
            json!(["x", 1, 1]),
            json!({"f": "r"}),
        ] {
            assert!(micro_op(&bad).unwrap_err().contains("malformed"), "{bad}");
        }
    }
}
