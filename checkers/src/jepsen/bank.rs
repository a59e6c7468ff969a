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
use crate::datum::Datum;
use crate::error::CheckError;
use crate::history::History;
use crate::op::{Op, OpType};
use crate::verdict::Validity;
use rustc_hash::FxHashSet as HashSet;
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::borrow::Cow;
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
type Balances<'a> = Vec<(Cow<'a, str>, Option<i64>)>;

/// One read's error: kind, badness, the read's total, the error map (its
/// `op` added only to the errors reported), and the read.
type Error<'a> = (&'static str, f64, i64, Value, &'a Op<Datum>);

/// The error map as reported: with the read op.
fn reported(e: &Error<'_>) -> Value {
    let mut v = e.3.clone();
    if let Value::Object(m) = &mut v {
        m.insert(
            "op".into(),
            serde_json::to_value(e.4).unwrap_or(Value::Null),
        );
    }
    v
}

/// A read's balances: account → balance (None: nil).
fn balances(op: &Op<Datum>, i: usize) -> Result<Balances<'_>, CheckError> {
    let key = |k: &Datum| match k {
        Datum::Str(s) => s.to_string(),
        other => other.to_string(),
    };
    let bal = |v: &Datum| -> Result<Option<i64>, CheckError> {
        match v {
            Datum::Null => Ok(None),
            v => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| bad(i, format!("expected an integer balance, found {v}"))),
        }
    };
    if let Some(m) = op.value.as_map() {
        return m
            .iter()
            .map(|(k, v)| Ok((Cow::Borrowed(&**k), bal(v)?)))
            .collect();
    }
    match op.value.as_list() {
        Some(pairs) => pairs
            .iter()
            .map(|p| match p.as_list().filter(|l| l.len() == 2) {
                Some(kv) => Ok((
                    Cow::Owned(key(&kv.get(0).unwrap_or_default())),
                    bal(&kv.get(1).unwrap_or_default())?,
                )),
                _ => Err(bad(
                    i,
                    format!("expected [account, balance] pairs, found {p}"),
                )),
            })
            .collect(),
        None if op.value.is_null() => Ok(Vec::new()),
        None => Err(bad(
            i,
            format!(
                "expected a read of {{account: balance}}, found {}",
                op.value
            ),
        )),
    }
}

/// Checks a bank history.
pub fn check(history: &History<Datum>, opts: &Options) -> Result<Report, CheckError> {
    let reads: Vec<(usize, &Op<Datum>)> = client_ops(history)
        .filter(|(_, op)| is(op, OpType::Ok, "read"))
        .collect();
    let first = match reads.first() {
        Some(&(i, op)) => balances(op, i)?,
        None => Vec::new(),
    };
    let accounts: Vec<String> = match &opts.accounts {
        Some(a) => a.clone(),
        None => first.iter().map(|(k, _)| k.to_string()).collect(),
    };
    let known: HashSet<&str> = accounts.iter().map(String::as_str).collect();
    let total = match opts.total {
        Some(t) => t,
        None => first.iter().filter_map(|(_, v)| *v).sum(),
    };
    // (kind, badness, total, error) per read with an error, in order.
    let mut errors: Vec<Error> = Vec::new();
    for &(i, op) in &reads {
        let b = balances(op, i)?;
        let unexpected: Vec<&str> = b
            .iter()
            .map(|(k, _)| &**k)
            .filter(|k| !known.contains(k))
            .collect();
        let nils: Map<String, Value> = b
            .iter()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| (k.to_string(), Value::Null))
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
                json!({"type": "unexpected-key", "unexpected": unexpected}),
            )
        } else if !nils.is_empty() {
            (
                "nil-balance",
                nils.len() as f64,
                sum,
                json!({"type": "nil-balance", "nils": nils}),
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
                json!({"type": "wrong-total", "total": sum}),
            )
        } else if !opts.negative_balances && !negative.is_empty() {
            (
                "negative-value",
                -(negative.iter().sum::<i64>() as f64),
                sum,
                json!({"type": "negative-value", "negative": negative}),
            )
        } else {
            continue;
        };
        errors.push((e.0, e.1, e.2, e.3, op));
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
            reported(
                es.iter()
                    .fold(es[0], |m, e| if better(e, m) { e } else { m }),
            )
        };
        let worst = pick(&|e, m| e.1 > m.1);
        let total_kind = kind == "wrong-total";
        groups.insert(
            kind,
            ErrorGroup {
                count: es.len(),
                first: reported(first),
                worst,
                last: reported(last),
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
        first_error: errors.first().map(reported),
        errors: groups,
        accounts,
        total,
    };
    Ok(Report::new(valid, &r, lines))
}
