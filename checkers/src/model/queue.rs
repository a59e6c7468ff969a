//! A FIFO queue: `enqueue` a value, `dequeue` returns the oldest one, or
//! `null` when the queue is empty.

use super::{Model, Scalar};
use crate::op::Op;
use serde_json::Value;
use std::collections::VecDeque;

/// A FIFO queue that starts empty.
#[derive(Clone, Debug, Default)]
pub struct FifoQueue;

/// A queue operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueueOp {
    /// Append a value.
    Enqueue(Scalar),
    /// Remove the oldest value; the output says which (or `Null`: empty).
    Dequeue,
}

impl Model for FifoQueue {
    type State = VecDeque<Scalar>;
    type Input = QueueOp;
    type Output = Scalar;

    fn name(&self) -> &'static str {
        "fifo-queue"
    }

    fn init(&self) -> Self::State {
        VecDeque::new()
    }

    fn initial_value(&self) -> Value {
        Value::Array(Vec::new())
    }

    fn decode(
        &self,
        invoke: &Op,
        completion: Option<&Op>,
    ) -> Result<Option<(QueueOp, Option<Scalar>)>, String> {
        match &*invoke.f {
            "enqueue" => Ok(Some((
                QueueOp::Enqueue(Scalar::from_json(&invoke.value)),
                None,
            ))),
            "dequeue" => Ok(Some((
                QueueOp::Dequeue,
                completion.map(|c| Scalar::from_json(&c.value)),
            ))),
            f => Err(format!(
                "expected :enqueue or :dequeue for the fifo-queue model, found :{f}"
            )),
        }
    }

    fn step(
        &self,
        state: &Self::State,
        input: &QueueOp,
        output: Option<&Scalar>,
    ) -> Option<Self::State> {
        match input {
            QueueOp::Enqueue(x) => {
                let mut q = state.clone();
                q.push_back(x.clone());
                Some(q)
            }
            QueueOp::Dequeue => match (state.front(), output) {
                (None, Some(Scalar::Null)) => Some(state.clone()),
                (Some(head), Some(v)) if head != v => None,
                (Some(_), _) => {
                    let mut q = state.clone();
                    q.pop_front();
                    Some(q)
                }
                (None, _) => None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dequeues_in_order() {
        let m = FifoQueue;
        let q = m
            .step(&m.init(), &QueueOp::Enqueue(Scalar::Int(1)), None)
            .unwrap();
        let q = m.step(&q, &QueueOp::Enqueue(Scalar::Int(2)), None).unwrap();
        assert_eq!(m.step(&q, &QueueOp::Dequeue, Some(&Scalar::Int(2))), None);
        let q = m
            .step(&q, &QueueOp::Dequeue, Some(&Scalar::Int(1)))
            .unwrap();
        assert_eq!(q.len(), 1);
        assert_eq!(
            m.step(&m.init(), &QueueOp::Dequeue, Some(&Scalar::Null)),
            Some(m.init())
        );
    }
}
