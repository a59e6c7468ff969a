//! Register shortcuts: what the checker can settle about a register's
//! sub-history without the exponential search.
//!
//! Three steps, each exact (no verdict changes, only how it is reached):
//!
//! 1. **Unobserved indeterminate writes are dropped** ([`prune`]). An
//!    `info` write (or cas) of a value that no read returns and no cas
//!    expects may always be taken as "never happened": in any
//!    linearization where it took effect, the next op to take effect after
//!    it cannot observe its value, so it is a write, and removing the
//!    dropped op changes no other op's result. Histories with many timed-out
//!    writes (the usual shape under partitions) lose most of their
//!    branching this way.
//! 2. **A read of a value no op could have produced** ([`decide`]): not the
//!    initial value, and no write or cas (completed or pending) writes it,
//!    or every one that does was invoked after the read completed. Invalid
//!    at once, with that read as the explanation.
//! 3. **Unique values** ([`decide`]): when a read/write register's written
//!    values are all distinct (and differ from the initial value), which is
//!    what faultline's `values: unique` workloads produce, every read maps
//!    to the one write it saw, and linearizability is decidable in
//!    O(n log n) (Gibbons & Korach, "Testing shared memories", SIAM J.
//!    Comput. 1997). Each value's *cluster* (its write and its reads) must
//!    take effect as a contiguous block: write first, then its reads. If
//!    the earliest completion among a cluster's ops comes before the latest
//!    invocation, the value must stay in the register over that whole
//!    window (a *forward zone*); otherwise the cluster fits at one instant
//!    inside the window where all its ops overlap (a *backward zone*). The
//!    history is linearizable iff no read completes before its write is
//!    invoked, no two forward zones overlap, and every backward zone has an
//!    instant outside all forward zones. The order is then built and
//!    replayed against the register before the verdict is given, and that
//!    order is the witness; should the replay ever fail, the search
//!    decides instead.
//!
//! Only models that describe their ops as register ops
//! ([`Model::register_view`]) get shortcuts; cas ops rule out step 3 (but
//! not 1 and 2).

use super::search::Call;
use super::values::ValueTable;
use crate::model::{Model, RegisterView, Scalar};

/// Cap on pruning rounds (each round can only remove ops: dropping an
/// indeterminate cas may make another value unobserved).
const PRUNE_ROUNDS: usize = 8;

/// What the shortcuts decided about one sub-history.
pub(crate) enum Decision {
    /// Linearizable; the calls (indexes) in the order they took effect.
    Linearizable(Vec<usize>),
    /// Not linearizable, and why.
    NotLinearizable(Refutation),
}

/// Why a sub-history is not linearizable, found without the search.
pub(crate) struct Refutation {
    /// The call that cannot be linearized.
    pub op: usize,
    /// Calls that show why (the writes and reads the reason names).
    pub related: Vec<usize>,
    /// The reason, as a sentence about values and ops (ops named as
    /// `{N}`, N an index into `related`, for the caller to describe).
    pub reason: String,
    /// Values the register could hold just before `op`, when the reason is
    /// about that one op (none of them is what it needed).
    pub states: Vec<Scalar>,
}

/// The register view of every call, or `None` if the model is not a
/// register or some call is not a register op.
fn views<'a, M: Model>(model: &M, calls: &'a [Call<M>]) -> Option<Vec<RegisterView<'a>>> {
    model.register_initial()?;
    calls
        .iter()
        .map(|c| model.register_view(&c.input, c.output.as_ref()))
        .collect()
}

/// Indexes of the calls to keep: all but the indeterminate writes and cas
/// ops whose value nobody observes (step 1). Everything is kept for models
/// without register views.
pub(crate) fn prune<M: Model>(model: &M, calls: &[Call<M>]) -> Vec<usize> {
    let all: Vec<usize> = (0..calls.len()).collect();
    let Some(views) = views(model, calls) else {
        return all;
    };
    let mut keep = all;
    for _ in 0..PRUNE_ROUNDS {
        let read = keep.iter().filter_map(|&i| match views[i] {
            RegisterView::Read(v) | RegisterView::Cas(v, _) => Some(v),
            RegisterView::Write(_) => None,
        });
        let mut observed: ValueTable<'_, ()> = ValueTable::for_keys(read.clone());
        for v in read {
            observed.insert(v, ());
        }
        let before = keep.len();
        keep.retain(|&i| {
            calls[i].ret.is_some()
                || match views[i] {
                    RegisterView::Write(v) | RegisterView::Cas(_, v) => observed.contains(v),
                    RegisterView::Read(_) => true,
                }
        });
        if keep.len() == before {
            break;
        }
    }
    keep
}

/// Decides a register sub-history without the search when steps 2 or 3
/// apply; `None` leaves it to the search.
pub(crate) fn decide<M: Model>(model: &M, calls: &[Call<M>]) -> Option<Decision> {
    let views = views(model, calls)?;
    let initial = model.register_initial()?;
    if let Some(r) = unproduced_read(initial, calls, &views) {
        return Some(Decision::NotLinearizable(r));
    }
    unique_values(initial, calls, &views)
}

/// The values the calls write (writes and cas ops), in call order: the
/// keys of the tables keyed by written value.
fn written<'a, 'v>(views: &'v [RegisterView<'a>]) -> impl Iterator<Item = &'a Scalar> + Clone + 'v {
    views.iter().filter_map(|v| match v {
        RegisterView::Write(x) | RegisterView::Cas(_, x) => Some(*x),
        RegisterView::Read(_) => None,
    })
}

/// Step 2: a completed read (or cas) of a value that is not the initial
/// value and that no write or cas invoked before the read completed writes.
fn unproduced_read<M: Model>(
    initial: &Scalar,
    calls: &[Call<M>],
    views: &[RegisterView<'_>],
) -> Option<Refutation> {
    // Each written value's earliest-invoked writer.
    let mut first_writer: ValueTable<'_, usize> = ValueTable::for_keys(written(views));
    for (i, v) in views.iter().enumerate() {
        if let RegisterView::Write(x) | RegisterView::Cas(_, x) = v {
            let e = first_writer.get_or_insert_with(x, || i);
            if calls[i].call < calls[*e].call {
                *e = i;
            }
        }
    }
    for (i, v) in views.iter().enumerate() {
        let (RegisterView::Read(x) | RegisterView::Cas(x, _)) = v else {
            continue;
        };
        // An indeterminate cas expects nothing: it may not have happened.
        let Some(ret) = calls[i].ret else { continue };
        if *x == initial {
            continue;
        }
        let what = if matches!(v, RegisterView::Read(_)) {
            "read"
        } else {
            "cas expected"
        };
        match first_writer.get(x) {
            None => {
                return Some(Refutation {
                    op: i,
                    related: vec![i],
                    reason: format!(
                        "it {what} {x:?}, which is not the initial value {initial:?} and which \
                         no write or cas in the history (completed or not) wrote"
                    ),
                    states: candidates(initial, calls, views, i),
                })
            }
            Some(&w) if calls[w].call > ret => {
                return Some(Refutation {
                    op: i,
                    related: vec![i, w],
                    reason: format!(
                        "it {what} {x:?}, and completed before any op that writes {x:?} \
                         began: the first was {{1}}"
                    ),
                    states: candidates(initial, calls, views, i),
                })
            }
            Some(_) => {}
        }
    }
    None
}

/// The values the register could hold just before call `op` takes effect,
/// by real time alone: the initial value unless a write completed before
/// `op` began, and the values of the writes (and cas ops) invoked before
/// `op` completed that no completed write surely followed before `op`
/// began. A superset of what the search would find reachable.
fn candidates<M: Model>(
    initial: &Scalar,
    calls: &[Call<M>],
    views: &[RegisterView<'_>],
    op: usize,
) -> Vec<Scalar> {
    let (begin, end) = (calls[op].call, calls[op].ret.unwrap_or(u32::MAX));
    let writes = || {
        views.iter().enumerate().filter_map(|(j, v)| match v {
            RegisterView::Write(x) | RegisterView::Cas(_, x) if j != op => Some((j, *x)),
            _ => None,
        })
    };
    // The latest invocation of a write that surely took effect before `op`.
    let latest = writes()
        .filter(|&(j, _)| calls[j].ret.is_some_and(|r| r < begin))
        .map(|(j, _)| calls[j].call)
        .max();
    let mut out: Vec<Scalar> = writes()
        .filter(|&(j, _)| calls[j].call < end)
        .filter(|&(j, _)| !matches!((calls[j].ret, latest), (Some(r), Some(l)) if r < l))
        .map(|(_, x)| x.clone())
        .collect();
    if latest.is_none() {
        out.push(initial.clone());
    }
    out.sort();
    out.dedup();
    out
}

/// One value's cluster: its write (none for the initial value) and reads.
struct Cluster {
    write: Option<usize>,
    reads: Vec<usize>,
    /// Earliest completion among its ops (`i64::MIN` for the initial
    /// value's implied write, `i64::MAX` if none completed).
    first_ret: i64,
    /// The op completing at `first_ret`.
    first_ret_op: Option<usize>,
    /// Latest invocation among its ops (`i64::MIN` if none).
    last_call: i64,
    /// The op invoked at `last_call`.
    last_call_op: Option<usize>,
}

impl Cluster {
    fn new(write: Option<usize>) -> Self {
        Cluster {
            write,
            reads: Vec::new(),
            first_ret: if write.is_none() { i64::MIN } else { i64::MAX },
            first_ret_op: None,
            last_call: i64::MIN,
            last_call_op: None,
        }
    }

    fn add<M: Model>(&mut self, i: usize, c: &Call<M>) {
        let ret = c.ret.map_or(i64::MAX, i64::from);
        if ret < self.first_ret {
            self.first_ret = ret;
            self.first_ret_op = Some(i);
        }
        if i64::from(c.call) > self.last_call {
            self.last_call = i64::from(c.call);
            self.last_call_op = Some(i);
        }
    }

    /// Whether the value must stay in the register from `first_ret` to
    /// `last_call` (a forward zone).
    fn forward(&self) -> bool {
        self.first_ret < self.last_call
    }

    /// The ops that pin its zone, for explanations.
    fn pins(&self) -> Vec<usize> {
        let mut v: Vec<usize> = [self.write, self.first_ret_op, self.last_call_op]
            .into_iter()
            .flatten()
            .collect();
        v.dedup();
        v
    }
}

/// Step 3, for read/write registers whose written values are unique.
fn unique_values<M: Model>(
    initial: &Scalar,
    calls: &[Call<M>],
    views: &[RegisterView<'_>],
) -> Option<Decision> {
    // Cluster 0 is the initial value's; a write of the initial value or a
    // value written twice makes reads ambiguous: leave it to the search.
    let mut clusters = vec![Cluster::new(None)];
    let mut of_value: ValueTable<'_, usize> =
        ValueTable::for_keys(written(views).chain(std::iter::once(initial)));
    of_value.insert(initial, 0);
    for (i, v) in views.iter().enumerate() {
        match v {
            RegisterView::Cas(..) => return None,
            RegisterView::Write(x) => {
                if of_value.insert(x, clusters.len()).is_some() {
                    return None;
                }
                let mut c = Cluster::new(Some(i));
                c.add(i, &calls[i]);
                clusters.push(c);
            }
            RegisterView::Read(_) => {}
        }
    }
    for (i, v) in views.iter().enumerate() {
        if let RegisterView::Read(x) = v {
            // Step 2 ran first: every read's value has a writer.
            let c = &mut clusters[*of_value.get(x)?];
            c.reads.push(i);
            c.add(i, &calls[i]);
        }
    }
    // A read that completed before its write began (step 2 covered it; kept
    // so this step stands on its own).
    for c in &clusters[1..] {
        let w = c.write?;
        if let Some(&r) = c
            .reads
            .iter()
            .find(|&&r| calls[r].ret.is_some_and(|ret| ret < calls[w].call))
        {
            return Some(Decision::NotLinearizable(Refutation {
                op: r,
                related: vec![r, w],
                reason: "it completed before the only write of its value, {1}, began".into(),
                states: candidates(initial, calls, views, r),
            }));
        }
    }

    // Forward zones, as the points they occupy on a scale of four points
    // per history position (4·pos is the event itself, +1 just after it,
    // +2 between it and the next, +3 just before the next): the write at
    // 4·first_ret − 1 (just before the first completion), reads invoked
    // after that at 4·call + 1 (just after their invocation), the others
    // with the write. A gap between two events, however short, keeps a free
    // point (+2) for a backward cluster.
    let mut forward: Vec<usize> = (0..clusters.len())
        .filter(|&k| clusters[k].forward())
        .collect();
    forward.sort_by_key(|&k| clusters[k].first_ret);
    for pair in forward.windows(2) {
        let (a, b) = (&clusters[pair[0]], &clusters[pair[1]]);
        if a.last_call > b.first_ret {
            let mut related = b.pins();
            related.extend(a.pins());
            let op = a.last_call_op.unwrap_or(related[0]);
            let x = value_of(initial, views, a);
            let y = value_of(initial, views, b);
            return Some(Decision::NotLinearizable(Refutation {
                op,
                related,
                reason: format!(
                    "written values are unique, so each value's write and reads take effect \
                     together, with no other write between them: {y:?} must stay in the register \
                     from where one of its ops completes to where another begins, and so must \
                     {x:?}, and the two spans overlap (ops: {})",
                    (0..a.pins().len() + b.pins().len())
                        .map(|n| format!("{{{n}}}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                states: Vec::new(),
            }));
        }
    }
    let span = |k: usize| {
        let c = &clusters[k];
        let start = scaled_write_point(c);
        (start, scale(c.last_call) + 1)
    };
    let spans: Vec<(i64, i64)> = forward.iter().map(|&k| span(k)).collect();

    // Each op's point; backward clusters go at the first point after their
    // last invocation that no forward zone occupies, which must come before
    // their first completion.
    let mut point: Vec<(i64, usize, bool)> = vec![(0, 0, false); calls.len()];
    for (k, c) in clusters.iter().enumerate() {
        if c.forward() {
            let at = scaled_write_point(c);
            for &i in c.write.iter().chain(&c.reads) {
                let call = i64::from(calls[i].call);
                let p = if Some(i) == c.write || call < c.first_ret {
                    at
                } else {
                    scale(call) + 1
                };
                point[i] = (p, k, Some(i) != c.write);
            }
            continue;
        }
        let mut p = scale(c.last_call) + 2;
        let mut z = spans.partition_point(|&(_, end)| end < p);
        while z < spans.len() && spans[z].0 <= p {
            p = spans[z].1 + 1;
            z += 1;
        }
        if c.write.is_some() && p >= scale(c.first_ret) {
            let covering: Vec<usize> = forward
                .iter()
                .zip(&spans)
                .filter(|(_, &(a, b))| b > scale(c.last_call) && a < scale(c.first_ret))
                .map(|(&k, _)| k)
                .collect();
            let mut related = c.pins();
            let own = related.len();
            for &k in &covering {
                related.extend(clusters[k].pins());
            }
            let x = value_of(initial, views, c);
            return Some(Decision::NotLinearizable(Refutation {
                op: c.reads.first().copied().or(c.write).unwrap_or(related[0]),
                related,
                reason: format!(
                    "written values are unique, so the write of {x:?} and its reads take effect \
                     together; they all overlap only between where the last of them begins and \
                     the first of them completes ({}), and other values must stay in the register \
                     over all of that time ({})",
                    (0..own)
                        .map(|n| format!("{{{n}}}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    (own..own
                        + covering
                            .iter()
                            .map(|&k| clusters[k].pins().len())
                            .sum::<usize>())
                        .map(|n| format!("{{{n}}}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                states: Vec::new(),
            }));
        }
        for &i in c.write.iter().chain(&c.reads) {
            point[i] = (p, k, Some(i) != c.write);
        }
    }
    let mut order: Vec<usize> = (0..calls.len()).collect();
    order.sort_by_key(|&i| (point[i], i));
    replay(initial, calls, views, &order).then_some(Decision::Linearizable(order))
}

/// A history position (or `i64::MIN`) on the four-points scale.
fn scale(pos: i64) -> i64 {
    if pos == i64::MIN {
        i64::MIN / 2
    } else {
        pos.saturating_mul(4)
    }
}

/// Where a forward cluster's write goes: just before its first completion
/// (the initial value's implied write: before everything).
fn scaled_write_point(c: &Cluster) -> i64 {
    if c.write.is_none() {
        i64::MIN / 2
    } else {
        scale(c.first_ret) - 1
    }
}

/// The value a cluster stands for.
fn value_of<'a>(initial: &'a Scalar, views: &[RegisterView<'a>], c: &Cluster) -> &'a Scalar {
    match c.write.map(|w| views[w]) {
        Some(RegisterView::Write(x)) => x,
        _ => initial,
    }
}

/// Whether `order` is a linearization: every read returns the value of the
/// write before it (or the initial value), and no op comes before one that
/// completed before it was invoked.
fn replay<M: Model>(
    initial: &Scalar,
    calls: &[Call<M>],
    views: &[RegisterView<'_>],
    order: &[usize],
) -> bool {
    let mut state = initial;
    let mut latest_call = 0u32;
    // Real time: an op may follow only ops invoked before it completed,
    // i.e. the latest invocation so far must not be after its completion.
    for &i in order {
        if calls[i].ret.is_some_and(|r| r < latest_call) {
            return false;
        }
        latest_call = latest_call.max(calls[i].call);
        match views[i] {
            RegisterView::Write(x) => state = x,
            RegisterView::Read(x) if x != state => return false,
            RegisterView::Read(_) => {}
            RegisterView::Cas(..) => return false,
        }
    }
    true
}
