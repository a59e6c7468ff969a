//! A history: the ops of one test in the order they were recorded, and the
//! pairing of each client invocation with its completion.
//!
//! Jepsen semantics: every client op has an `invoke` and at most one
//! completion by the same process. `ok` happened, `fail` did not, `info` is
//! indeterminate; an invoke with no completion counts as `info`. Nemesis ops
//! are kept in the history but are not paired.

use crate::error::HistoryError;
use crate::op::{Op, OpType, Process};
use serde_json::Value;
use std::collections::HashMap;

/// The ops of one test, in recorded (completion) order.
///
/// Values are [`serde_json::Value`]s unless another value type is asked for
/// (see [`Op`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History<V = Value> {
    ops: Vec<Op<V>>,
    lines: Vec<u32>,
}

/// A client operation: its invocation and, if any, its completion, as
/// positions in the history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pair {
    /// Position of the `invoke` event.
    pub invoke: usize,
    /// Position of the `ok`/`fail`/`info` event, or `None` if the op never
    /// completed.
    pub completion: Option<usize>,
}

impl Pair {
    /// The outcome: the completion's type, or `Info` when there is none.
    pub fn outcome<V>(&self, history: &History<V>) -> OpType {
        self.completion
            .map_or(OpType::Info, |c| history.ops[c].kind)
    }
}

impl<V> History<V> {
    /// A history of `ops`; each op's `index` is set to its position.
    pub fn new(mut ops: Vec<Op<V>>) -> History<V> {
        for (i, op) in ops.iter_mut().enumerate() {
            op.index = i as u64;
        }
        History {
            ops,
            lines: Vec::new(),
        }
    }

    /// A part of another history: the ops keep their `index` (their
    /// position in the whole), so results point into the original file.
    pub fn part(ops: Vec<Op<V>>) -> History<V> {
        History {
            ops,
            lines: Vec::new(),
        }
    }

    /// Like [`History::new`], remembering the source line of each op so that
    /// errors can point into the file.
    pub fn with_lines(ops: Vec<Op<V>>, lines: Vec<u32>) -> History<V> {
        debug_assert_eq!(ops.len(), lines.len());
        let mut h = History::new(ops);
        h.lines = lines;
        h
    }

    /// All ops, in order.
    pub fn ops(&self) -> &[Op<V>] {
        &self.ops
    }

    /// Number of ops.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// True if there are no ops.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// The 1-based source line of op `index`, when known.
    pub fn line_of(&self, index: usize) -> Option<usize> {
        self.lines.get(index).map(|&l| l as usize)
    }

    /// Pairs every client invocation with its completion, in invocation
    /// order. Nemesis ops are skipped.
    ///
    /// Errors on a completion with no pending invocation by its process, a
    /// completion whose `f` differs from its invocation's, and a process
    /// that invokes while its previous op is still pending.
    pub fn pairs(&self) -> Result<Vec<Pair>, HistoryError> {
        let mut pairing = Pairing::default();
        let mut pairs: Vec<Pair> = Vec::new();
        // Position in `pairs` of each invocation, to fill in completions.
        let mut slot: Vec<u32> = vec![u32::MAX; self.ops.len()];
        for (i, op) in self.ops.iter().enumerate() {
            match pairing.push(i, op)? {
                Paired::Invoke => {
                    slot[i] = pairs.len() as u32;
                    pairs.push(Pair {
                        invoke: i,
                        completion: None,
                    });
                }
                Paired::Completion { invoke } => pairs[slot[invoke] as usize].completion = Some(i),
                Paired::Nemesis => {}
            }
        }
        Ok(pairs)
    }

    /// The same history with every op's value and key converted by `f`.
    pub fn map_values<W>(&self, f: impl Fn(&V) -> W + Sync) -> History<W>
    where
        V: Sync,
        W: Send,
    {
        use rayon::prelude::*;
        History {
            ops: self.ops.par_iter().map(|o| o.map_values(&f)).collect(),
            lines: self.lines.clone(),
        }
    }
}

/// What [`Pairing::push`] made of an op.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Paired {
    /// A client invocation, now pending.
    Invoke,
    /// The completion of the invocation at position `invoke`.
    Completion {
        /// Position of its invocation.
        invoke: usize,
    },
    /// A nemesis op (not paired).
    Nemesis,
}

/// Pairs invocations with completions one op at a time, so that a reader
/// can pair a history it streams without keeping it ([`History::pairs`]
/// uses it too).
#[derive(Default)]
pub struct Pairing {
    pending: HashMap<u64, (usize, std::sync::Arc<str>)>,
}

impl Pairing {
    /// Takes the op at position `i`. Errors on a completion with no pending
    /// invocation by its process, a completion whose `f` differs from its
    /// invocation's, and a process that invokes while it has an op pending.
    pub fn push<V>(&mut self, i: usize, op: &Op<V>) -> Result<Paired, HistoryError> {
        let Process::Client(p) = op.process else {
            return Ok(Paired::Nemesis);
        };
        if op.kind == OpType::Invoke {
            if let Some((j, _)) = self.pending.get(&p) {
                return Err(HistoryError {
                    index: i,
                    message: format!(
                        "process {p} invokes again while its op {j} is still pending \
                         (a process runs one op at a time; after an :info it must \
                         continue under a new process id)"
                    ),
                });
            }
            self.pending.insert(p, (i, op.f.clone()));
            return Ok(Paired::Invoke);
        }
        let Some((j, f)) = self.pending.remove(&p) else {
            return Err(HistoryError {
                index: i,
                message: format!(
                    "process {p} completes :{} :{} but has no pending invocation",
                    op.kind.as_str(),
                    op.f
                ),
            });
        };
        if f != op.f {
            return Err(HistoryError {
                index: i,
                message: format!(
                    "completion :{} of process {p} does not match its invocation :{f} (op {j})",
                    op.f
                ),
            });
        }
        Ok(Paired::Completion { invoke: j })
    }
}

impl<V> From<Vec<Op<V>>> for History<V> {
    fn from(ops: Vec<Op<V>>) -> History<V> {
        History::new(ops)
    }
}

impl<V> std::ops::Index<usize> for History<V> {
    type Output = Op<V>;
    fn index(&self, i: usize) -> &Op<V> {
        &self.ops[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn op(p: u64, kind: OpType, f: &str, v: serde_json::Value) -> Op {
        Op::new(0, Process::Client(p), kind, f, v)
    }

    #[test]
    fn pairs_invokes_with_completions() {
        let h = History::new(vec![
            op(0, OpType::Invoke, "write", json!(1)),
            op(1, OpType::Invoke, "read", json!(null)),
            op(0, OpType::Ok, "write", json!(1)),
            Op::new(0, Process::Nemesis, OpType::Info, "start", json!(null)),
            op(2, OpType::Invoke, "cas", json!([1, 2])),
            op(2, OpType::Info, "cas", json!([1, 2])),
        ]);
        let pairs = h.pairs().unwrap();
        assert_eq!(
            pairs,
            vec![
                Pair {
                    invoke: 0,
                    completion: Some(2)
                },
                Pair {
                    invoke: 1,
                    completion: None
                },
                Pair {
                    invoke: 4,
                    completion: Some(5)
                },
            ]
        );
        assert_eq!(pairs[1].outcome(&h), OpType::Info);
        assert_eq!(pairs[0].outcome(&h), OpType::Ok);
    }

    #[test]
    fn rejects_orphan_completion_and_double_invoke() {
        let h = History::new(vec![op(0, OpType::Ok, "write", json!(1))]);
        assert!(h.pairs().unwrap_err().message.contains("no pending"));
        let h = History::new(vec![
            op(0, OpType::Invoke, "write", json!(1)),
            op(0, OpType::Invoke, "write", json!(2)),
        ]);
        assert_eq!(h.pairs().unwrap_err().index, 1);
        let h = History::new(vec![
            op(0, OpType::Invoke, "write", json!(1)),
            op(0, OpType::Ok, "read", json!(2)),
        ]);
        assert!(h.pairs().unwrap_err().message.contains("does not match"));
    }
}
