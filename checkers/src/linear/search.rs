//! The Wing & Gong / Lowe search for one independent sub-history.
//!
//! Calls and returns form a doubly linked list in real-time order. The
//! search walks it from the front: a call whose op can step the model from
//! the current state (to a configuration not seen before) is linearized and
//! lifted out of the list; reaching a return means the op it completes can
//! no longer be linearized, so the last choice is undone. Indeterminate ops
//! have no return: they may be linearized anywhere after their call, or
//! never. The history is linearizable once every `ok` op is linearized.
//!
//! Indeterminate ops with the same input are interchangeable once invoked
//! (none has a return to meet), so of each such class only the earliest
//! invoked one not yet linearized is tried ([`Twins`]): with 200 timed-out
//! writes of five values, what has been linearized of them is five counts,
//! not one of 2^200 subsets. And at each step the completed ops are tried
//! before the indeterminate ones, so the paths that use fewer of those come
//! first.
//!
//! Model states are interned to `u32` ids and transitions memoized, so the
//! inner loop hashes integers, not states.
//!
//! When the search succeeds, its stack holds the linearization it found:
//! the lifted calls, in the order they took effect. Asked to, it hands that
//! order back (the witness); otherwise it costs nothing.

use super::cache::{Cache, OpSet};
use super::hash::FxBuild;
use crate::model::Model;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

/// One op of a sub-history, decoded for the model.
pub(crate) struct Call<M: Model> {
    pub input: M::Input,
    pub output: Option<M::Output>,
    /// History position of the invocation.
    pub call: u32,
    /// History position of the `ok` completion; `None` if indeterminate.
    pub ret: Option<u32>,
}

/// Limits shared by every sub-history of one check.
pub(crate) struct Budget<'a> {
    pub deadline: Option<Instant>,
    pub memory_limit: usize,
    pub memory_used: &'a AtomicUsize,
    /// Set when another sub-history was found invalid: stop early.
    pub stop: &'a AtomicBool,
    /// Set by the caller (Ctrl-C): give up.
    pub interrupt: Option<&'a AtomicBool>,
}

/// Where the search got furthest before failing.
#[derive(Debug, Clone)]
pub(crate) struct Stuck {
    /// Index (into the calls) of the op whose return could not be passed.
    pub op: usize,
    /// Model states (ids) from which that op could not be linearized.
    pub states: Vec<u32>,
    /// Number of ops linearized on the path that got there.
    pub linearized: usize,
    /// The last ops of that path, in linearization order (indexes into calls).
    pub path_tail: Vec<usize>,
}

/// Why the search gave up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Limit {
    Time,
    Memory,
    Cancelled,
    Interrupted,
}

/// What the search found.
pub(crate) enum Outcome {
    Linearizable,
    NotLinearizable(Stuck),
    Unknown(Limit, Option<Stuck>),
}

/// Search result plus what it cost.
pub(crate) struct Report<S> {
    pub outcome: Outcome,
    /// When linearizable and asked for: the history positions of the
    /// invocations of the ops that took effect, in linearization order.
    pub order: Option<Vec<u32>>,
    /// Interned model states, indexed by id.
    pub states: Vec<S>,
    pub configurations: usize,
}

const STATES_KEPT: usize = 8;
const PATH_KEPT: usize = 32;
const NIL: u32 = u32::MAX;

struct List {
    next: Vec<u32>,
    prev: Vec<u32>,
    /// For event e (1-based; 0 is the head): the op, and whether it is a call.
    op: Vec<u32>,
    is_call: Vec<bool>,
    /// For each op: its return event, or NIL.
    ret_event: Vec<u32>,
}

impl List {
    fn build<M: Model>(calls: &[Call<M>]) -> List {
        let mut events: Vec<(u32, u32, bool)> = Vec::with_capacity(calls.len() * 2);
        for (i, c) in calls.iter().enumerate() {
            events.push((c.call, i as u32, true));
            if let Some(r) = c.ret {
                events.push((r, i as u32, false));
            }
        }
        events.sort_unstable_by_key(|&(pos, _, _)| pos);
        let n = events.len();
        let mut list = List {
            next: (1..=n as u32 + 1).collect(),
            prev: (0..=n as u32).map(|i| i.wrapping_sub(1)).collect(),
            op: vec![NIL; n + 1],
            is_call: vec![false; n + 1],
            ret_event: vec![NIL; calls.len()],
        };
        list.next[n] = NIL;
        for (e, &(_, op, is_call)) in events.iter().enumerate() {
            list.op[e + 1] = op;
            list.is_call[e + 1] = is_call;
            if !is_call {
                list.ret_event[op as usize] = e as u32 + 1;
            }
        }
        list
    }

    fn unlink(&mut self, e: u32) {
        let (p, n) = (self.prev[e as usize], self.next[e as usize]);
        self.next[p as usize] = n;
        if n != NIL {
            self.prev[n as usize] = p;
        }
    }

    fn relink(&mut self, e: u32) {
        let (p, n) = (self.prev[e as usize], self.next[e as usize]);
        self.next[p as usize] = e;
        if n != NIL {
            self.prev[n as usize] = e;
        }
    }

    /// Takes a call event and its op's return event out of the list.
    fn lift(&mut self, call: u32) {
        self.unlink(call);
        let r = self.ret_event[self.op[call as usize] as usize];
        if r != NIL {
            self.unlink(r);
        }
    }

    /// Undoes [`List::lift`]; lifts must be undone in reverse order.
    fn unlift(&mut self, call: u32) {
        let r = self.ret_event[self.op[call as usize] as usize];
        if r != NIL {
            self.relink(r);
        }
        self.relink(call);
    }
}

/// Classes of interchangeable indeterminate ops: same input (compared by
/// its `Debug` form: the models' inputs are plain data), no output, no
/// return. Exchange argument: in any linearization, an indeterminate op B
/// can trade places with an equal one A invoked before it that is not yet
/// linearized — A's interval, open to the end, holds B's point — so the
/// search only ever linearizes each class's members in invocation order.
struct Twins {
    /// Per op: its class, or NIL.
    class: Vec<u32>,
    /// Per op: its rank in its class, by invocation.
    rank: Vec<u32>,
    /// Per class: how many of its members are linearized (always its first
    /// ones).
    taken: Vec<u32>,
}

impl Twins {
    fn new<M: Model>(calls: &[Call<M>]) -> Twins {
        let mut order: Vec<usize> = (0..calls.len())
            .filter(|&i| calls[i].ret.is_none() && calls[i].output.is_none())
            .collect();
        order.sort_unstable_by_key(|&i| calls[i].call);
        let mut class = vec![NIL; calls.len()];
        let mut rank = vec![0; calls.len()];
        let mut sizes: Vec<u32> = Vec::new();
        let mut ids: HashMap<String, u32, FxBuild> = HashMap::default();
        for i in order {
            let next = ids.len() as u32;
            let c = *ids.entry(format!("{:?}", calls[i].input)).or_insert(next);
            if c as usize == sizes.len() {
                sizes.push(0);
            }
            class[i] = c;
            rank[i] = sizes[c as usize];
            sizes[c as usize] += 1;
        }
        Twins {
            class,
            rank,
            taken: vec![0; sizes.len()],
        }
    }

    /// Whether `op` may be linearized now: it is in no class, or it is its
    /// class's earliest member not yet linearized.
    fn next_of_its_class(&self, op: u32) -> bool {
        let c = self.class[op as usize];
        c == NIL || self.taken[c as usize] == self.rank[op as usize]
    }

    fn take(&mut self, op: u32) {
        let c = self.class[op as usize];
        if c != NIL {
            self.taken[c as usize] += 1;
        }
    }

    fn give_back(&mut self, op: u32) {
        let c = self.class[op as usize];
        if c != NIL {
            self.taken[c as usize] -= 1;
        }
    }
}

/// Interned states and memoized transitions.
struct Machine<'m, M: Model> {
    model: &'m M,
    states: Vec<M::State>,
    ids: HashMap<M::State, u32, FxBuild>,
    steps: HashMap<u64, u32, FxBuild>,
}

impl<'m, M: Model> Machine<'m, M> {
    fn new(model: &'m M) -> Self {
        let mut m = Machine {
            model,
            states: Vec::new(),
            ids: HashMap::default(),
            steps: HashMap::default(),
        };
        m.intern(model.init());
        m
    }

    fn intern(&mut self, s: M::State) -> u32 {
        if let Some(&id) = self.ids.get(&s) {
            return id;
        }
        let id = self.states.len() as u32;
        self.states.push(s.clone());
        self.ids.insert(s, id);
        id
    }

    fn step(&mut self, state: u32, op: u32, call: &Call<M>) -> Option<u32> {
        let key = (state as u64) << 32 | op as u64;
        if let Some(&next) = self.steps.get(&key) {
            return (next != NIL).then_some(next);
        }
        let next = self
            .model
            .step(
                &self.states[state as usize],
                &call.input,
                call.output.as_ref(),
            )
            .map(|s| self.intern(s));
        self.steps.insert(key, next.unwrap_or(NIL));
        next
    }

    fn bytes(&self) -> usize {
        self.states.capacity() * (std::mem::size_of::<M::State>() * 2 + 8)
            + self.steps.capacity() * 16
    }
}

/// Runs the search over `calls` (sorted by call position); with `witness`,
/// a linearizable outcome comes with its order ([`Report::order`]).
pub(crate) fn search<M: Model>(
    model: &M,
    calls: &[Call<M>],
    budget: &Budget,
    witness: bool,
) -> Report<M::State> {
    let mut machine = Machine::new(model);
    let mut list = List::build(calls);
    let mut linearized = OpSet::new(calls.len());
    let mut cache = Cache::new();
    let mut stack: Vec<(u32, u32)> = Vec::new();
    let mut state = 0u32;
    let mut remaining = calls.iter().filter(|c| c.ret.is_some()).count();
    let mut stuck: Option<Stuck> = None;
    let mut charged = 0usize;
    let mut entry = list.next[0];
    let mut iterations = 0u64;
    let mut twins = Twins::new(calls);
    // At each step the completed ops are tried first and the indeterminate
    // ones only after (`late`): paths that use fewer of them come first.
    let mut late = false;
    let mut lates: Vec<bool> = Vec::new();

    let outcome = loop {
        if remaining == 0 {
            break Outcome::Linearizable;
        }
        iterations += 1;
        if iterations.is_multiple_of(4096) {
            if let Some(limit) = over_budget(budget, cache.bytes() + machine.bytes(), &mut charged)
            {
                break Outcome::Unknown(limit, stuck);
            }
        }
        if entry != NIL && list.is_call[entry as usize] {
            let op = list.op[entry as usize];
            if (calls[op as usize].ret.is_none() != late) || !twins.next_of_its_class(op) {
                entry = list.next[entry as usize];
                continue;
            }
            if let Some(next) = machine.step(state, op, &calls[op as usize]) {
                linearized.insert(op);
                if cache.insert(&linearized, next) {
                    stack.push((entry, state));
                    lates.push(late);
                    late = false;
                    state = next;
                    if calls[op as usize].ret.is_some() {
                        remaining -= 1;
                    }
                    twins.take(op);
                    list.lift(entry);
                    entry = list.next[0];
                    continue;
                }
                linearized.remove(op);
            }
            entry = list.next[entry as usize];
            continue;
        }
        // A return (or the end): the indeterminate ops invoked before it
        // are tried next; after them, its op cannot be linearized from here.
        if !late {
            late = true;
            entry = list.next[0];
            continue;
        }
        if entry != NIL {
            note_stuck(
                &mut stuck,
                list.op[entry as usize] as usize,
                state,
                calls,
                &stack,
                &list,
            );
        }
        let Some((call, prev)) = stack.pop() else {
            break Outcome::NotLinearizable(stuck.unwrap_or(Stuck {
                op: 0,
                states: vec![state],
                linearized: 0,
                path_tail: Vec::new(),
            }));
        };
        let op = list.op[call as usize];
        state = prev;
        late = lates.pop().unwrap_or(false);
        linearized.remove(op);
        twins.give_back(op);
        if calls[op as usize].ret.is_some() {
            remaining += 1;
        }
        list.unlift(call);
        entry = list.next[call as usize];
    };
    budget.memory_used.fetch_sub(charged, Ordering::Relaxed);
    let order = (witness && matches!(outcome, Outcome::Linearizable)).then(|| {
        stack
            .iter()
            .map(|&(e, _)| calls[list.op[e as usize] as usize].call)
            .collect()
    });
    Report {
        outcome,
        order,
        configurations: cache.len(),
        states: machine.states,
    }
}

/// Checks time, cancellation and memory; charges this search's growth to
/// the shared memory counter.
fn over_budget(budget: &Budget, bytes: usize, charged: &mut usize) -> Option<Limit> {
    if budget.stop.load(Ordering::Relaxed) {
        return Some(Limit::Cancelled);
    }
    if budget.interrupt.is_some_and(|i| i.load(Ordering::Relaxed)) {
        return Some(Limit::Interrupted);
    }
    if budget.deadline.is_some_and(|d| Instant::now() >= d) {
        return Some(Limit::Time);
    }
    if bytes > *charged {
        budget
            .memory_used
            .fetch_add(bytes - *charged, Ordering::Relaxed);
        *charged = bytes;
    }
    (budget.memory_used.load(Ordering::Relaxed) > budget.memory_limit).then_some(Limit::Memory)
}

/// Remembers the op whose return was furthest along in the history when
/// the search got stuck there, with the states it was stuck in.
fn note_stuck<M: Model>(
    stuck: &mut Option<Stuck>,
    op: usize,
    state: u32,
    calls: &[Call<M>],
    stack: &[(u32, u32)],
    list: &List,
) {
    let pos = calls[op].ret;
    match stuck {
        Some(s) if calls[s.op].ret > pos => {}
        Some(s) if s.op == op => {
            if s.states.len() < STATES_KEPT && !s.states.contains(&state) {
                s.states.push(state);
            }
        }
        _ => {
            let tail = stack.len().saturating_sub(PATH_KEPT);
            *stuck = Some(Stuck {
                op,
                states: vec![state],
                linearized: stack.len(),
                path_tail: stack[tail..]
                    .iter()
                    .map(|&(e, _)| list.op[e as usize] as usize)
                    .collect(),
            });
        }
    }
}
