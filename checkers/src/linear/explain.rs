//! Turns a failed search into an explanation a person can follow: the op
//! that cannot be linearized, the states the model could be in just before
//! it, the longest linearizable prefix, and the ops concurrent with it.

use super::search::{Call, Stuck};
use super::shortcut::Refutation;
use crate::history::History;
use crate::model::Model;
use crate::op::{Op, OpType, Process};
use serde::Serialize;
use serde_json::Value;
use std::fmt::Write;

/// Concurrent ops listed at most.
const CONCURRENT_SHOWN: usize = 12;

/// One client op as reports show it.
#[derive(Clone, Debug, Serialize)]
pub struct OpSummary {
    /// Client process.
    pub process: Process,
    /// Operation name.
    pub f: String,
    /// The invocation's value.
    pub value: Value,
    /// `ok` or `info` (indeterminate, including never completed).
    #[serde(rename = "type")]
    pub outcome: OpType,
    /// The completion's value, if it completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// History position of the invocation.
    pub invoke_index: usize,
    /// History position of the completion, if any.
    pub complete_index: Option<usize>,
    /// Time of the invocation (ns; -1 if the history had none).
    pub invoke_time: i64,
    /// Time of the completion (ns), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub complete_time: Option<i64>,
}

impl OpSummary {
    fn new(history: &History, invoke: usize, completion: Option<usize>) -> Self {
        let inv: &Op = &history[invoke];
        let done = completion.map(|c| &history[c]);
        OpSummary {
            process: inv.process,
            f: inv.f.to_string(),
            value: inv.value.clone(),
            outcome: done.map_or(OpType::Info, |d| d.kind),
            result: done.map(|d| d.value.clone()),
            invoke_index: invoke,
            complete_index: completion,
            invoke_time: inv.time,
            complete_time: done.map(|d| d.time),
        }
    }

    /// `process 3 :cas [1,2] → ok` style text with its interval.
    pub fn describe(&self, history: &History) -> String {
        let at = |i: usize| match history.line_of(i) {
            Some(l) => format!("line {l}"),
            None => format!("op {i}"),
        };
        let result = match (&self.outcome, &self.result) {
            (OpType::Ok, Some(v)) if self.f == "read" || self.f == "dequeue" => format!("ok {v}"),
            (OpType::Ok, _) => "ok".to_string(),
            _ => "info (indeterminate)".to_string(),
        };
        let end = self
            .complete_index
            .map_or("never completed".to_string(), at);
        let value = if self.f == "read" && self.value.is_null() {
            String::new()
        } else {
            format!(" {}", self.value)
        };
        format!(
            "process {} :{}{} → {}  [{} .. {}]",
            self.process,
            self.f,
            value,
            result,
            at(self.invoke_index),
            end
        )
    }
}

/// Why a history is not linearizable.
#[derive(Clone, Debug, Serialize)]
pub struct Failure {
    /// The independent key, when the history was split by key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<Value>,
    /// The op that cannot be linearized: every search path that got this
    /// far was stuck before its completion.
    pub op: OpSummary,
    /// Model states reachable just before it, from none of which it can
    /// take effect with the result it returned.
    pub states: Vec<String>,
    /// Ops linearized on the longest linearizable prefix.
    pub linearized: usize,
    /// The last ops of that prefix, in linearization order.
    pub prefix_tail: Vec<OpSummary>,
    /// Ops whose intervals overlap the failing op's (at most a dozen).
    pub concurrent: Vec<OpSummary>,
    /// How many ops overlap it in all.
    pub concurrent_count: usize,
    /// Why, in words, when the register shortcuts found it without the
    /// search (a read of a value nobody wrote; with unique values, two
    /// values that would have to be in the register at once).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// All of the above as text.
    pub explanation: String,
}

/// Builds the [`Failure`] for a stuck search.
pub(crate) fn failure<M: Model>(
    model: &M,
    history: &History,
    key: Option<Value>,
    calls: &[Call<M>],
    pairs: &[(usize, Option<usize>)],
    stuck: &Stuck,
    states: &[M::State],
) -> Failure {
    let summary = |i: usize| OpSummary::new(history, pairs[i].0, pairs[i].1);
    let (op, concurrent, concurrent_count) = around(history, calls, pairs, stuck.op);
    let state_text: Vec<String> = stuck
        .states
        .iter()
        .map(|&s| model.describe_state(&states[s as usize]))
        .collect();
    let prefix_tail: Vec<OpSummary> = stuck.path_tail.iter().map(|&i| summary(i)).collect();

    let mut text = String::new();
    if let Some(k) = &key {
        let _ = write!(text, "key {k}: ");
    }
    let _ = writeln!(text, "cannot linearize {}", op.describe(history));
    let _ = writeln!(
        text,
        "  the longest linearizable prefix has {} ops; after it the {} could be in state{} {}, \
         and from none of them can this op return what it returned",
        stuck.linearized,
        model.name(),
        if state_text.len() == 1 { "" } else { "s" },
        state_text.join(" or ")
    );
    if !prefix_tail.is_empty() {
        let _ = writeln!(text, "  that prefix ends with:");
        for o in prefix_tail.iter().rev().take(5).rev() {
            let _ = writeln!(text, "    {}", o.describe(history));
        }
    }
    write_concurrent(&mut text, history, &concurrent, concurrent_count);
    Failure {
        key,
        op,
        states: state_text,
        linearized: stuck.linearized,
        prefix_tail,
        concurrent,
        concurrent_count,
        reason: None,
        explanation: text,
    }
}

/// The reason of a refutation, its `{N}` placeholders filled in.
pub(crate) fn reason(
    history: &History,
    pairs: &[(usize, Option<usize>)],
    refutation: &Refutation,
) -> String {
    fill(&refutation.reason, |n| {
        refutation
            .related
            .get(n)
            .map(|&i| OpSummary::new(history, pairs[i].0, pairs[i].1).describe(history))
    })
}

/// `failure` (from the search, stuck at the op the shortcuts refuted) with
/// the shortcuts' reason added.
pub(crate) fn with_reason(mut failure: Failure, reason: String) -> Failure {
    let at = failure
        .explanation
        .find('\n')
        .map_or(failure.explanation.len(), |i| i + 1);
    failure.explanation.insert_str(at, &format!("  {reason}\n"));
    failure.reason = Some(reason);
    failure
}

/// Builds the [`Failure`] for a sub-history the register shortcuts refuted
/// (no search, so no linearized prefix: the reason says which ops cannot
/// be ordered, and the states are the values real time allows, if any).
pub(crate) fn refuted<M: Model>(
    history: &History,
    key: Option<Value>,
    calls: &[Call<M>],
    pairs: &[(usize, Option<usize>)],
    refutation: &Refutation,
) -> Failure {
    let (op, concurrent, concurrent_count) = around(history, calls, pairs, refutation.op);
    let why = reason(history, pairs, refutation);
    let states: Vec<String> = refutation.states.iter().map(|s| format!("{s:?}")).collect();
    let mut text = String::new();
    if let Some(k) = &key {
        let _ = write!(text, "key {k}: ");
    }
    let _ = writeln!(text, "cannot linearize {}", op.describe(history));
    let _ = writeln!(text, "  {why}");
    if !states.is_empty() {
        let _ = writeln!(
            text,
            "  just before it the register could hold {}",
            states.join(" or ")
        );
    }
    write_concurrent(&mut text, history, &concurrent, concurrent_count);
    Failure {
        key,
        op,
        states,
        linearized: 0,
        prefix_tail: Vec::new(),
        concurrent,
        concurrent_count,
        reason: Some(why),
        explanation: text,
    }
}

/// `template` with each `{N}` replaced by `op(N)` (left as is when `op`
/// has nothing for N), in one pass: replaced text is never rescanned.
fn fill(template: &str, op: impl Fn(usize) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let digits = after
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(after.len());
        let filled = (digits > 0 && after[digits..].starts_with('}'))
            .then(|| after[..digits].parse().ok().and_then(&op))
            .flatten();
        match filled {
            Some(text) => {
                out.push_str(&text);
                rest = &after[digits + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Call `op` as reports show it, the first ops whose intervals overlap
/// its own (at most [`CONCURRENT_SHOWN`]), and how many overlap it in all.
fn around<M: Model>(
    history: &History,
    calls: &[Call<M>],
    pairs: &[(usize, Option<usize>)],
    op: usize,
) -> (OpSummary, Vec<OpSummary>, usize) {
    let summary = |i: usize| OpSummary::new(history, pairs[i].0, pairs[i].1);
    let (start, end) = (calls[op].call, calls[op].ret.unwrap_or(u32::MAX));
    let overlapping: Vec<usize> = (0..calls.len())
        .filter(|&i| i != op && calls[i].call < end && calls[i].ret.is_none_or(|r| r > start))
        .collect();
    let shown = overlapping
        .iter()
        .take(CONCURRENT_SHOWN)
        .map(|&i| summary(i))
        .collect();
    (summary(op), shown, overlapping.len())
}

/// The "concurrent with it" lines of an explanation.
fn write_concurrent(text: &mut String, history: &History, shown: &[OpSummary], all: usize) {
    let _ = writeln!(
        text,
        "  concurrent with it ({} op{}):",
        all,
        if all == 1 { "" } else { "s" }
    );
    for o in shown {
        let _ = writeln!(text, "    {}", o.describe(history));
    }
    if all > shown.len() {
        let _ = writeln!(text, "    ... and {} more", all - shown.len());
    }
}
