//! A brute-force linearizability checker: tries every order of the ops
//! that respects real time, and every choice of which indeterminate ops
//! took effect. Exponential; for cross-checking [`crate::linear`] on small
//! histories (up to about 10 ops).

use crate::error::CheckError;
use crate::history::History;
use crate::linear::{self, search::Call};
use crate::model::Model;

/// Whether `history` is linearizable under `model`, by exhaustive search.
pub fn is_linearizable<M: Model>(model: &M, history: &History) -> Result<bool, CheckError> {
    let parts = linear::partition(model, history)?;
    Ok(parts.iter().all(|p| {
        let optional: Vec<usize> = (0..p.calls.len())
            .filter(|&i| p.calls[i].ret.is_none())
            .collect();
        // Each subset of indeterminate ops is tried as "the ones that took effect".
        (0u64..1 << optional.len()).any(|mask| {
            let mut chosen: Vec<bool> = p.calls.iter().map(|c| c.ret.is_some()).collect();
            for (bit, &i) in optional.iter().enumerate() {
                chosen[i] = mask & (1 << bit) != 0;
            }
            let mut done = vec![false; p.calls.len()];
            orders(model, &p.calls, &chosen, &mut done, model.init())
        })
    }))
}

/// Can the chosen, not yet done ops be ordered from `state`?
fn orders<M: Model>(
    model: &M,
    calls: &[Call<M>],
    chosen: &[bool],
    done: &mut [bool],
    state: M::State,
) -> bool {
    let left: Vec<usize> = (0..calls.len())
        .filter(|&i| chosen[i] && !done[i])
        .collect();
    if left.is_empty() {
        return true;
    }
    // An op may go next only if no other remaining op completed before it was invoked.
    let first_return = left
        .iter()
        .filter_map(|&i| calls[i].ret)
        .min()
        .unwrap_or(u32::MAX);
    for &i in &left {
        if calls[i].call > first_return {
            continue;
        }
        if let Some(next) = model.step(&state, &calls[i].input, calls[i].output.as_ref()) {
            done[i] = true;
            let ok = orders(model, calls, chosen, done, next);
            done[i] = false;
            if ok {
                return true;
            }
        }
    }
    false
}
