//! Jepsen's `bank` checker (`jepsen.tests.bank`): `transfer`s of
//! `{from, to, amount}` between accounts, and `read`s of every account's
//! balance (`{account: balance}`). Every ok read must show only known
//! accounts, no missing balance, the conserved total, and (unless negative
//! balances are allowed) no negative balance. Each read gets at most one
//! error, the first of: `unexpected-key`, `nil-balance`, `wrong-total`,
//! `negative-value`. Errors are grouped by kind, with the first, last and
//! worst of each (and the lowest and highest total for `wrong-total`).
//!
//! Accounts come from the options (`--accounts`) or else the first ok
//! read; the total from `--total` or else the first ok read's sum (Jepsen
//! takes both from the test map). Account `"0"` and `0` are the same.

use super::{bad, client_ops, is, Options, Report};
use crate::error::CheckError;
use crate::history::History;
use crate::op::{Op, OpType};
use crate::verdict::Validity;
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// One kind of error: how many, and the first, worst and last.
#[derive(Debug, Serialize)]
pub struct ErrorGroup {
    /// Reads with this error.
    pub count: usize,
    /// The earliest.
    pub first: Value,
    /// The worst (first among equals).
    pub worst: Value,
    /// The latest.
    pub last: Value,
    /// `wrong-total`: the read with the lowest total.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lowest: Option<Value>,
    /// `wrong-total`: the read with the highest total.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub highest: Option<Value>,
}

/// The result, with Jepsen's fields.
#[derive(Debug, Serialize)]
pub struct BankResult {
    /// true or false.
    pub valid: Validity,
    /// ok reads checked.
    pub read_count: usize,
    /// Reads with an error.
    pub error_count: usize,
    /// The earliest error of any kind.
    pub first_error: Option<Value>,
    /// Errors by kind.
    pub errors: BTreeMap<&'static str, ErrorGroup>,
    /// The accounts and total the reads were held to.
    pub accounts: Vec<String>,
    /// The total.
    pub total: i64,
}

/// A read's balances: account → balance (None: nil).
type Balances = Vec<(String, Option<i64>)>;

/// One read's error: kind, badness, the read's total, and the error map.
type Error = (&'static str, f64, i64, Value);

/// A read's balances: account → balance (None: nil).
fn balances(op: &Op, i: usize) -> Result<Balances, CheckError> {
    let key = |k: &Value| match k {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let bal = |v: &Value| -> Result<Option<i64>, CheckError> {
        match v {
            Value::Null => Ok(None),
            v => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| bad(i, format!("expected an integer balance, found {v}"))),
        }
    };
    match &op.value {
        Value::Object(m) => m.iter().map(|(k, v)| Ok((k.clone(), bal(v)?))).collect(),
        Value::Array(pairs) => pairs
            .iter()
            .map(|p| match p.as_array().map(Vec::as_slice) {
                Some([k, v]) => Ok((key(k), bal(v)?)),
                _ => Err(bad(
                    i,
                    format!("expected [account, balance] pairs, found {p}"),
                )),
            })
            .collect(),
        Value::Null => Ok(Vec::new()),
        v => Err(bad(
            i,
            format!("expected a read of {{account: balance}}, found {v}"),
        )),
    }
}

/// Checks a bank history.
pub fn check(history: &History, opts: &Options) -> Result<Report, CheckError> {
    let mut reads: Vec<(usize, &Op, Balances)> = Vec::new();
    for (i, op) in client_ops(history) {
        if is(op, OpType::Ok, "read") {
            reads.push((i, op, balances(op, i)?));
        }
    }
    let first = reads.first();
    let accounts: Vec<String> = match &opts.accounts {
        Some(a) => a.clone(),
        None => first.map_or_else(Vec::new, |(_, _, b)| {
            b.iter().map(|(k, _)| k.clone()).collect()
        }),
    };
    let total = match opts.total {
        Some(t) => t,
        None => first.map_or(0, |(_, _, b)| b.iter().filter_map(|(_, v)| *v).sum()),
    };
    // (kind, badness, total, error) per read with an error, in order.
    let mut errors: Vec<Error> = Vec::new();
    for (_, op, b) in &reads {
        let op_json = serde_json::to_value(op).unwrap_or(Value::Null);
        let unexpected: Vec<&String> = b
            .iter()
            .map(|(k, _)| k)
            .filter(|k| !accounts.contains(k))
            .collect();
        let nils: Map<String, Value> = b
            .iter()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| (k.clone(), Value::Null))
            .collect();
        let sum: i64 = b
            .iter()
            .filter_map(|(_, v)| *v)
            .fold(0i64, |a, x| a.saturating_add(x));
        let negative: Vec<i64> = b
            .iter()
            .filter_map(|(_, v)| *v)
            .filter(|v| *v < 0)
            .collect();
        let e = if !unexpected.is_empty() {
            (
                "unexpected-key",
                unexpected.len() as f64,
                sum,
                json!({"type": "unexpected-key", "unexpected": unexpected, "op": op_json}),
            )
        } else if !nils.is_empty() {
            (
                "nil-balance",
                nils.len() as f64,
                sum,
                json!({"type": "nil-balance", "nils": nils, "op": op_json}),
            )
        } else if sum != total {
            let badness = if total == 0 {
                f64::INFINITY
            } else {
                ((sum - total) as f64 / total as f64).abs()
            };
            (
                "wrong-total",
                badness,
                sum,
                json!({"type": "wrong-total", "total": sum, "op": op_json}),
            )
        } else if !opts.negative_balances && !negative.is_empty() {
            (
                "negative-value",
                -(negative.iter().sum::<i64>() as f64),
                sum,
                json!({"type": "negative-value", "negative": negative, "op": op_json}),
            )
        } else {
            continue;
        };
        errors.push(e);
    }
    let mut groups: BTreeMap<&'static str, ErrorGroup> = BTreeMap::new();
    for kind in [
        "unexpected-key",
        "nil-balance",
        "wrong-total",
        "negative-value",
    ] {
        let es: Vec<&Error> = errors.iter().filter(|e| e.0 == kind).collect();
        let (Some(first), Some(last)) = (es.first(), es.last()) else {
            continue;
        };
        // First among equals, as Jepsen's max-by / min-by.
        let pick = |better: &dyn Fn(&Error, &Error) -> bool| {
            es.iter()
                .fold(es[0], |m, e| if better(e, m) { e } else { m })
                .3
                .clone()
        };
        let worst = pick(&|e, m| e.1 > m.1);
        let total_kind = kind == "wrong-total";
        groups.insert(
            kind,
            ErrorGroup {
                count: es.len(),
                first: first.3.clone(),
                worst,
                last: last.3.clone(),
                lowest: total_kind.then(|| pick(&|e, m| e.2 < m.2)),
                highest: total_kind.then(|| pick(&|e, m| e.2 > m.2)),
            },
        );
    }
    let valid = if errors.is_empty() {
        Validity::Valid
    } else {
        Validity::Invalid
    };
    let mut lines = vec![format!(
        "{} reads of {} accounts (total {total}): {} with errors",
        reads.len(),
        accounts.len(),
        errors.len()
    )];
    for (kind, g) in &groups {
        lines.push(format!(
            "{kind}: {} reads, first at op {}",
            g.count, g.first["op"]["index"]
        ));
    }
    let r = BankResult {
        valid,
        read_count: reads.len(),
        error_count: errors.len(),
        first_error: errors.first().map(|e| e.3.clone()),
        errors: groups,
        accounts,
        total,
    };
    Ok(Report::new(valid, &r, lines))
}
