//! Jepsen's checkers for non-transactional workloads, with Jepsen's op
//! conventions and result fields (snake_case in JSON): [`set`],
//! [`set_full`], [`counter`], [`bank`], [`long_fork`], [`unique_ids`],
//! [`total_queue`] and [`stats`] (`jepsen.checker`, `jepsen.tests.bank`,
//! `jepsen.tests.long-fork`).
//!
//! Each checker takes a [`History`] of compact values ([`Datum`]s, which
//! [`crate::format::jsonl::read_as`] reads straight from JSONL and
//! [`History::map_values`] makes of any history) and [`Options`], and gives
//! a [`Report`]: the verdict, the result as JSON, and a few lines for a
//! terminal. Where
//! faultline differs from Jepsen on purpose, the checker's module says so.

pub mod bank;
pub mod counter;
pub mod kafka;
pub mod long_fork;
pub mod set;
pub mod set_full;
#[cfg(feature = "testing")]
pub mod sim;
pub mod stats;
pub mod total_queue;
pub mod unique_ids;

use crate::datum::{Datum, List};
use crate::error::{CheckError, ModelError};
use crate::history::History;
use crate::op::{Op, OpType, Process};
use crate::verdict::Validity;
use rayon::prelude::*;
use rustc_hash::FxHashMap as HashMap;
use serde::{Serialize, Serializer};
use serde_json::Value;
use std::fmt;

/// Every checker name, as `--checker` and specs spell it.
pub const NAMES: &[&str] = &[
    "set",
    "set-full",
    "counter",
    "bank",
    "long-fork",
    "unique-ids",
    "total-queue",
    "stats",
    "kafka",
    "pn-counter",
    "echo",
];

/// Options some checkers take.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Options {
    /// set-full: stale reads make the history invalid.
    pub linearizable: bool,
    /// bank: the accounts (default: those of the first read).
    pub accounts: Option<Vec<String>>,
    /// bank: the total of all balances (default: the first read's sum).
    pub total: Option<i64>,
    /// bank: negative balances are allowed.
    pub negative_balances: bool,
    /// long-fork: keys per read group (default: inferred from the reads).
    pub group_size: Option<usize>,
}

/// What a checker concluded.
#[derive(Clone, Debug)]
pub struct Report {
    /// The verdict.
    pub valid: Validity,
    /// The checker's result, as Jepsen's fields in snake_case.
    pub json: Value,
    /// A short explanation for a terminal.
    pub lines: Vec<String>,
}

impl Report {
    pub(crate) fn new<T: Serialize>(valid: Validity, result: &T, lines: Vec<String>) -> Report {
        Report {
            valid,
            json: serde_json::to_value(result).unwrap_or_else(|e| {
                serde_json::json!({"valid": "unknown", "error": format!("result not serializable: {e}")})
            }),
            lines,
        }
    }
}

/// Runs the checker called `name` (one of [`NAMES`]). A history whose
/// client ops carry a `key` is checked key by key, as Jepsen's
/// `independent` checker does (except `stats`, which counts them all).
pub fn check(name: &str, history: &History<Datum>, opts: &Options) -> Result<Report, CheckError> {
    let keyed = name != "stats"
        && history
            .ops()
            .iter()
            .any(|o| o.key.is_some() && o.process != Process::Nemesis);
    if keyed {
        independent(name, history, opts)
    } else {
        check_one(name, history, opts)
    }
}

/// Results per key, for `independent`.
#[derive(Debug, serde::Serialize)]
struct Independent {
    valid: Validity,
    key_count: usize,
    /// Keys whose history is invalid.
    failures: Vec<Value>,
    /// Keys whose verdict is unknown.
    unknown: Vec<Value>,
    /// The result of every key that is not valid.
    results: serde_json::Map<String, Value>,
}

fn independent(name: &str, history: &History<Datum>, opts: &Options) -> Result<Report, CheckError> {
    // Each key's ops by position; integer keys (the usual case) are
    // grouped without formatting them.
    let mut parts: Vec<(Datum, Vec<u32>)> = Vec::new();
    let mut by_int: HashMap<i64, usize> = HashMap::default();
    let mut by_text: HashMap<String, usize> = HashMap::default();
    for (i, op) in history.ops().iter().enumerate() {
        if op.process == Process::Nemesis {
            continue;
        }
        let key = op.key.as_ref().unwrap_or(&Datum::Null);
        let mut new_part = || {
            parts.push((key.clone(), Vec::new()));
            parts.len() - 1
        };
        let s = match key.as_i64() {
            Some(k) => *by_int.entry(k).or_insert_with(&mut new_part),
            None => *by_text.entry(key.to_string()).or_insert_with(new_part),
        };
        parts[s].1.push(i as u32);
    }
    let mut r = Independent {
        valid: Validity::Valid,
        key_count: parts.len(),
        failures: Vec::new(),
        unknown: Vec::new(),
        results: serde_json::Map::new(),
    };
    let mut lines = Vec::new();
    let all = history.ops();
    // Keys are checked in parallel; each key's copies are freed as soon as
    // it is checked, and only the reports of keys that are not valid kept.
    let outcomes: Vec<Result<(Validity, Option<Report>), CheckError>> = parts
        .par_iter()
        .map(|(_, positions)| {
            let part = History::part(positions.iter().map(|&i| all[i as usize].clone()).collect());
            // Errors name positions in the part; point them into the whole.
            let rep = check_one(name, &part, opts).map_err(|mut e| {
                let at = |i: usize| part.ops().get(i).map_or(i, |o| o.index as usize);
                match &mut e {
                    CheckError::History(h) => h.index = at(h.index),
                    CheckError::Model(m) => m.index = at(m.index),
                }
                e
            })?;
            Ok((rep.valid, (rep.valid != Validity::Valid).then_some(rep)))
        })
        .collect();
    for ((key, _), outcome) in parts.iter().zip(outcomes) {
        let (valid, rep) = outcome?;
        r.valid = r.valid.merge(valid);
        let Some(rep) = rep else { continue };
        match valid {
            Validity::Valid => continue,
            Validity::Invalid => r.failures.push(key.to_value()),
            Validity::Unknown => r.unknown.push(key.to_value()),
        }
        if lines.len() < 12 {
            lines.extend(rep.lines.iter().map(|l| format!("key {key}: {l}")));
        }
        r.results.insert(key.to_string(), rep.json);
    }
    lines.insert(
        0,
        format!(
            "{} keys: {} invalid, {} unknown",
            r.key_count,
            r.failures.len(),
            r.unknown.len()
        ),
    );
    Ok(Report::new(r.valid, &r, lines))
}

fn check_one(name: &str, history: &History<Datum>, opts: &Options) -> Result<Report, CheckError> {
    match name {
        "set" => set::check(history),
        "set-full" => set_full::check(history, opts),
        "counter" => counter::check(history),
        "bank" => bank::check(history, opts),
        "long-fork" => long_fork::check(history, opts),
        "unique-ids" => unique_ids::check(history),
        "total-queue" => total_queue::check(history),
        "stats" => Ok(stats::check(history)),
        "kafka" => kafka::check(history),
        "pn-counter" => crate::maelstrom::pn_counter::check(history),
        "echo" => crate::maelstrom::echo::check(history),
        other => Err(bad(
            0,
            format!(
                "unknown checker {other:?}; expected one of {}",
                NAMES.join(", ")
            ),
        )),
    }
}

/// The operations a checker needs (`f` names), to tell a history of them
/// from something else.
pub fn operations(name: &str) -> &'static [&'static str] {
    match name {
        "set" | "set-full" => &["add", "read"],
        "counter" => &["add", "read"],
        "bank" => &["transfer", "read"],
        "long-fork" => &["read", "txn", "write"],
        "unique-ids" => &["generate"],
        "total-queue" => &["enqueue", "dequeue", "drain"],
        "kafka" => &["send", "poll", "txn"],
        "pn-counter" => &["add", "read"],
        "echo" => &["echo"],
        _ => &[],
    }
}

pub(crate) fn bad(index: usize, message: String) -> CheckError {
    CheckError::Model(ModelError { index, message })
}

/// An element of a set or queue, or an id: integers order numerically
/// before any other value (kept as its JSON text).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Elem {
    /// An integer.
    Int(i64),
    /// Any other value, as JSON text.
    Other(String),
}

impl Elem {
    /// The element a value stands for.
    pub fn of(v: &Datum) -> Elem {
        match v.as_i64() {
            Some(i) => Elem::Int(i),
            None => Elem::Other(v.to_string()),
        }
    }

    /// The element as a JSON object key: an integer in decimal, a string
    /// as itself (`a7`, not `"a7"`), any other value as its JSON text.
    pub fn key(&self) -> String {
        match self {
            Elem::Int(i) => i.to_string(),
            Elem::Other(t) => match serde_json::from_str::<Value>(t) {
                Ok(Value::String(s)) => s,
                _ => t.clone(),
            },
        }
    }
}

impl fmt::Display for Elem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Elem::Int(i) => write!(f, "{i}"),
            Elem::Other(s) => f.write_str(s),
        }
    }
}

impl Serialize for Elem {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Elem::Int(i) => s.serialize_i64(*i),
            Elem::Other(t) => serde_json::from_str::<Value>(t)
                .unwrap_or(Value::String(t.clone()))
                .serialize(s),
        }
    }
}

/// Most parts (numbers or `a..b` runs) of a list a report line shows: about
/// a screenful of a terminal. The JSON result keeps every element.
pub const SHOWN_PARTS: usize = 200;

/// What ends a list cut short in a report line.
pub fn more(n: usize) -> String {
    format!("… and {n} more (results.json / --json has all)")
}

/// Jepsen's `integer-interval-set-str`: sorted, runs of consecutive
/// integers collapsed to `a..b`: `#{0..2 5}`.
pub fn interval_set(elems: &[Elem]) -> String {
    interval_set_capped(elems, usize::MAX)
}

/// [`interval_set`] for a report line: at most [`SHOWN_PARTS`] parts, then
/// how many elements were left out ([`more`]).
pub fn interval_set_shown(elems: &[Elem]) -> String {
    interval_set_capped(elems, SHOWN_PARTS)
}

fn interval_set_capped(elems: &[Elem], shown: usize) -> String {
    let mut sorted = elems.to_vec();
    sorted.sort();
    sorted.dedup();
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < sorted.len() && parts.len() < shown {
        match sorted[i] {
            Elem::Int(a) => {
                let mut j = i;
                while let (Some(Elem::Int(x)), Some(Elem::Int(y))) =
                    (sorted.get(j), sorted.get(j + 1))
                {
                    if *y != x + 1 {
                        break;
                    }
                    j += 1;
                }
                match sorted[j] {
                    Elem::Int(b) if j > i => parts.push(format!("{a}..{b}")),
                    _ => parts.push(a.to_string()),
                }
                i = j + 1;
            }
            Elem::Other(ref s) => {
                parts.push(s.clone());
                i += 1;
            }
        }
    }
    if i < sorted.len() {
        format!("#{{{} {}}}", parts.join(" "), more(sorted.len() - i))
    } else {
        format!("#{{{}}}", parts.join(" "))
    }
}

/// Client ops only (integer processes), with their positions.
pub(crate) fn client_ops(history: &History<Datum>) -> impl Iterator<Item = (usize, &Op<Datum>)> {
    history
        .ops()
        .iter()
        .enumerate()
        .filter(|(_, o)| matches!(o.process, Process::Client(_)))
}

/// For each position: the position of its invocation (completions) or
/// completion (invocations).
pub(crate) struct Partners {
    other: Vec<Option<usize>>,
}

impl Partners {
    pub(crate) fn new(history: &History<Datum>) -> Result<Partners, CheckError> {
        let mut other = vec![None; history.len()];
        for p in history.pairs().map_err(CheckError::History)? {
            if let Some(c) = p.completion {
                other[p.invoke] = Some(c);
                other[c] = Some(p.invoke);
            }
        }
        Ok(Partners { other })
    }

    /// The completion of the invocation at `i` (or the invocation of the
    /// completion at `i`).
    pub(crate) fn of(&self, i: usize) -> Option<usize> {
        self.other.get(i).copied().flatten()
    }
}

/// The elements of the list a read returned (`null`: none), or a
/// bad-input error naming the op.
pub(crate) fn elems<'a>(
    op: &'a Op<Datum>,
    i: usize,
    what: &str,
) -> Result<impl ExactSizeIterator<Item = Elem> + 'a, CheckError> {
    let list = match &op.value {
        Datum::Null => List::Ints(&[]),
        v => v
            .as_list()
            .ok_or_else(|| bad(i, format!("expected {what} to return a list, found {v}")))?,
    };
    Ok((0..list.len()).map(move |j| match list {
        List::Ints(xs) => Elem::Int(xs[j]),
        List::Data(xs) => Elem::of(&xs[j]),
    }))
}

/// An integer argument or result, or a bad-input error naming the op.
pub(crate) fn int(op: &Op<Datum>, i: usize, what: &str) -> Result<i64, CheckError> {
    op.value.as_i64().ok_or_else(|| {
        bad(
            i,
            format!("expected {what} to be an integer, found {}", op.value),
        )
    })
}

/// `ok` completion of the given `f`.
pub(crate) fn is(op: &Op<Datum>, kind: OpType, f: &str) -> bool {
    op.kind == kind && &*op.f == f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_sets_read_as_jepsen_prints_them() {
        let e = |v: &[i64]| v.iter().map(|i| Elem::Int(*i)).collect::<Vec<_>>();
        assert_eq!(interval_set(&e(&[])), "#{}");
        assert_eq!(interval_set(&e(&[5, 0, 1, 2])), "#{0..2 5}");
        assert_eq!(interval_set(&e(&[8, 9])), "#{8..9}");
        assert_eq!(interval_set(&e(&[3])), "#{3}");
    }

    #[test]
    fn report_lines_show_a_screenful_of_a_list() {
        let every_other: Vec<Elem> = (0..1000).map(|i| Elem::Int(2 * i)).collect();
        let all = interval_set(&every_other);
        assert_eq!(all.split(' ').count(), 1000);
        let shown = interval_set_shown(&every_other);
        assert!(shown.starts_with("#{0 2 4 "), "{shown}");
        assert!(
            shown.ends_with(" 398 … and 800 more (results.json / --json has all)}"),
            "{shown}"
        );
        let short: Vec<Elem> = (0..SHOWN_PARTS as i64).map(|i| Elem::Int(2 * i)).collect();
        assert_eq!(interval_set_shown(&short), interval_set(&short));
    }
}
