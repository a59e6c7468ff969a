//! Faults on the simulated network and the node processes. Maelstrom's
//! `partition`, plus what Maelstrom lacks: `one-way` partitions (a minority
//! stops hearing the others), `kill` (SIGKILL; on stop a fresh process and
//! a fresh `init`, so the node's memory is lost as in a crash), `pause`
//! (SIGSTOP/SIGCONT), `loss` and `duplicate` (node-to-node messages lost or
//! delivered twice). Faults are drawn by the nemesis crate's seeded
//! [`Schedule`] — the same partitions (halves, one node, majorities ring)
//! and targets (one node, a majority) a real cluster gets — one kind at a
//! time in shuffled rounds, every `--nemesis-interval` on average.

use fastrand::Rng;
use faultline_nemesis::{Fault, FaultKind, GrudgeSpec, Schedule, ScheduleSpec, Target};
use serde_json::{json, Value};
use std::time::Duration;

/// Every fault `--nemesis` takes.
pub const NAMES: [&str; 6] = ["partition", "one-way", "kill", "pause", "loss", "duplicate"];

/// One fault as applied.
#[derive(Clone, Debug, PartialEq)]
pub enum Applied {
    /// A fault the nemesis crate knows (partition, kill, pause, loss).
    Net(Fault),
    /// Messages to these nodes from other nodes delivered twice with this
    /// probability.
    Duplicate {
        /// Receiving nodes.
        nodes: Vec<String>,
        /// Probability.
        probability: f64,
    },
}

impl Applied {
    /// Its kind's name (`partition`, `kill`, ..., `duplicate`).
    pub fn name(&self) -> &'static str {
        match self {
            Applied::Net(f) => f.kind().name(),
            Applied::Duplicate { .. } => "duplicate",
        }
    }

    /// The fault a run recorded as `kind` and `value` (results.json's
    /// `maelstrom.faults`), for a replay.
    pub fn from_record(kind: &str, value: &Value) -> Result<Applied, String> {
        if kind == "duplicate" {
            let nodes = value["nodes"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|n| n.as_str().map(String::from))
                        .collect()
                })
                .ok_or_else(|| format!("a duplicate fault without nodes: {value}"))?;
            let probability = value["probability"]
                .as_f64()
                .ok_or_else(|| format!("a duplicate fault without a probability: {value}"))?;
            return Ok(Applied::Duplicate { nodes, probability });
        }
        Fault::from_value(kind, value).map(Applied::Net)
    }

    /// Its value in the history.
    pub fn value(&self) -> Value {
        match self {
            Applied::Net(f) => f.value(),
            Applied::Duplicate { nodes, probability } => {
                json!({"nodes": nodes, "probability": probability})
            }
        }
    }
}

enum Slot {
    Net(Box<Schedule>),
    Duplicate,
}

/// Draws the faults of a run.
pub struct Nemesis {
    slots: Vec<Slot>,
    order: Vec<usize>,
    turn: usize,
    rng: Rng,
    /// Mean time between a fault's start and stop, and between faults.
    pub interval: Duration,
    loss_probability: f64,
}

impl Nemesis {
    /// A nemesis for `--nemesis` faults (comma-separated names), or an error
    /// naming the bad one.
    pub fn new(
        faults: &[String],
        interval: Duration,
        seed: u64,
        loss: f64,
    ) -> Result<Nemesis, String> {
        let mut grudges = Vec::new();
        let mut kinds = Vec::new();
        let mut duplicate = false;
        for f in faults {
            match f.as_str() {
                "partition" => grudges.extend([
                    GrudgeSpec::Halves,
                    GrudgeSpec::Isolate(None),
                    GrudgeSpec::MajoritiesRing,
                ]),
                "one-way" => grudges.push(GrudgeSpec::OneWay),
                "kill" => kinds.push(FaultKind::Kill),
                "pause" => kinds.push(FaultKind::Pause),
                "loss" => kinds.push(FaultKind::Loss),
                "duplicate" => duplicate = true,
                other => {
                    return Err(format!(
                    "unknown fault {other:?} in --nemesis; expected a comma-separated list of {}",
                    NAMES.join(", ")
                ))
                }
            }
        }
        let spec = |kind, grudges: Vec<GrudgeSpec>| ScheduleSpec {
            faults: vec![kind],
            interval,
            quiet: Duration::ZERO,
            targets: vec![Target::One, Target::Majority],
            grudges,
            loss_probability: loss,
            ..Default::default()
        };
        let mut slots = Vec::new();
        let mut k = 0u64;
        if !grudges.is_empty() {
            slots.push(Slot::Net(Box::new(Schedule::new(
                spec(FaultKind::Partition, grudges),
                seed,
            ))));
        }
        kinds.dedup();
        for kind in kinds {
            k += 1;
            slots.push(Slot::Net(Box::new(Schedule::new(
                spec(kind, Vec::new()),
                seed.wrapping_add(k),
            ))));
        }
        if duplicate {
            slots.push(Slot::Duplicate);
        }
        Ok(Nemesis {
            slots,
            order: Vec::new(),
            turn: 0,
            rng: Rng::with_seed(seed ^ 0x6e65_6d65),
            interval,
            loss_probability: loss,
        })
    }

    /// Whether any fault was asked for.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// A wait drawn around the interval: uniform on [0, 2 × interval], as
    /// Jepsen's `stagger`.
    pub fn wait(&mut self) -> Duration {
        self.interval.mul_f64(self.rng.f64() * 2.0)
    }

    /// The next fault over `nodes`.
    pub fn next(&mut self, nodes: &[String]) -> Result<Applied, String> {
        if self.slots.is_empty() {
            return Err("no faults".into());
        }
        if self.turn.is_multiple_of(self.slots.len()) {
            self.order = (0..self.slots.len()).collect();
            self.rng.shuffle(&mut self.order);
        }
        let i = self.order[self.turn % self.order.len()];
        self.turn += 1;
        match &mut self.slots[i] {
            Slot::Net(s) => s.next(nodes, &[]).map(Applied::Net),
            Slot::Duplicate => {
                let target = if self.rng.bool() {
                    Target::One
                } else {
                    Target::Majority
                };
                Ok(Applied::Duplicate {
                    nodes: target.pick(nodes, &[], &mut self.rng),
                    probability: self.loss_probability,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_drawn_in_rounds_from_the_seed() {
        let nodes: Vec<String> = (0..5).map(|i| format!("n{i}")).collect();
        let all: Vec<String> = NAMES.iter().map(|s| s.to_string()).collect();
        let draw = |seed| {
            let mut n = Nemesis::new(&all, Duration::from_secs(1), seed, 0.3).unwrap();
            (0..10).map(|_| n.next(&nodes).unwrap()).collect::<Vec<_>>()
        };
        assert_eq!(draw(5), draw(5));
        let d = draw(5);
        // partition (with one-way among its shapes), kill, pause, loss,
        // duplicate: each once per round of five.
        let mut round: Vec<&str> = d[..5].iter().map(|a| a.name()).collect();
        round.sort();
        assert_eq!(round, ["duplicate", "kill", "loss", "partition", "pause"]);
        assert!(Nemesis::new(&["flood".into()], Duration::from_secs(1), 1, 0.3).is_err());
        let mut one_way =
            Nemesis::new(&["one-way".into()], Duration::from_secs(1), 2, 0.3).unwrap();
        for _ in 0..10 {
            let Applied::Net(Fault::Partition(g)) = one_way.next(&nodes).unwrap() else {
                panic!("not a partition");
            };
            // One-way: nobody deaf is heard-from-less by a deaf node's peers.
            for (a, drops) in &g {
                for b in drops {
                    assert!(!g.contains_key(b), "{a} and {b} both deaf: not one-way");
                }
            }
        }
    }
}
