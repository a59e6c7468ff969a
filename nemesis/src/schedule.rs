//! The fault schedule: which faults, how often, on which nodes — drawn
//! from a seeded RNG so a run can be reproduced with `--seed`.
//!
//! The runner waits `quiet`, then repeats: start a fault, wait `interval`,
//! stop it, wait `interval`; and heals everything at the end.

use crate::fault::{Fault, FaultKind, GrudgeSpec, Target};
use fastrand::Rng;
use std::time::Duration;

/// What a spec says about faults.
#[derive(Clone, Debug, PartialEq)]
pub struct ScheduleSpec {
    /// Fault kinds to draw from (in turn, in random order).
    pub faults: Vec<FaultKind>,
    /// Time between a fault's start and stop, and between faults.
    pub interval: Duration,
    /// Time without faults at the start of the run.
    pub quiet: Duration,
    /// Targets for process, loss, clock and delay faults.
    pub targets: Vec<Target>,
    /// Partition shapes.
    pub grudges: Vec<GrudgeSpec>,
    /// Drop probability of loss faults.
    pub loss_probability: f64,
    /// Clock offset of clock faults, in ms (sign drawn at random).
    pub clock_delta_ms: i64,
    /// Delay of delay faults, in ms.
    pub delay_ms: u64,
    /// Power faults tear writes (keep a random subset of pending pages)
    /// instead of dropping them all.
    pub power_torn: bool,
    /// Targets of corruption faults (a minority by default, as Jepsen's).
    pub corrupt_targets: Vec<Target>,
    /// Chunk size of bitflip and snapshot faults, in bytes.
    pub chunk_size: u64,
    /// Probability that a bitflip fault flips each bit of a chosen chunk.
    pub bitflip_probability: f64,
    /// Bytes a truncate fault drops from the end of each file.
    pub truncate_bytes: u64,
}

impl Default for ScheduleSpec {
    fn default() -> Self {
        ScheduleSpec {
            faults: vec![FaultKind::Partition],
            interval: Duration::from_secs(10),
            quiet: Duration::from_secs(2),
            targets: vec![Target::One, Target::Majority],
            grudges: vec![
                GrudgeSpec::Halves,
                GrudgeSpec::Isolate(None),
                GrudgeSpec::MajoritiesRing,
                GrudgeSpec::Bridge,
            ],
            loss_probability: 0.3,
            clock_delta_ms: 5000,
            delay_ms: 50,
            power_torn: false,
            corrupt_targets: vec![Target::Minority],
            chunk_size: 1024 * 1024,
            bitflip_probability: 1e-6,
            truncate_bytes: 4096,
        }
    }
}

/// Draws faults per a [`ScheduleSpec`].
pub struct Schedule {
    spec: ScheduleSpec,
    rng: Rng,
    turn: usize,
    order: Vec<FaultKind>,
}

impl Schedule {
    /// A schedule from `spec`, reproducible from `seed`.
    pub fn new(spec: ScheduleSpec, seed: u64) -> Schedule {
        Schedule {
            spec,
            rng: Rng::with_seed(seed),
            turn: 0,
            order: Vec::new(),
        }
    }

    /// The spec.
    pub fn spec(&self) -> &ScheduleSpec {
        &self.spec
    }

    /// The next fault over `nodes`, given the current `primaries`.
    pub fn next(&mut self, nodes: &[String], primaries: &[String]) -> Result<Fault, String> {
        if self.spec.faults.is_empty() || nodes.is_empty() {
            return Err("no faults or no nodes to schedule".into());
        }
        if self.turn.is_multiple_of(self.spec.faults.len()) {
            // Each round uses every kind once, in a fresh random order.
            self.order = self.spec.faults.clone();
            self.rng.shuffle(&mut self.order);
        }
        let kind = self.order[self.turn % self.order.len()];
        self.turn += 1;
        let targets = if self.spec.targets.is_empty() {
            vec![Target::One]
        } else {
            self.spec.targets.clone()
        };
        let target = &targets[self.rng.usize(..targets.len())];
        let mut picked = target.pick(nodes, primaries, &mut self.rng);
        if picked.is_empty() {
            // No primaries known: fall back to one random node.
            picked = Target::One.pick(nodes, primaries, &mut self.rng);
        }
        let sign = if self.rng.usize(..2) == 0 { 1 } else { -1 };
        Ok(match kind {
            FaultKind::Partition => {
                let grudges = if self.spec.grudges.is_empty() {
                    vec![GrudgeSpec::Halves]
                } else {
                    self.spec.grudges.clone()
                };
                let g = &grudges[self.rng.usize(..grudges.len())];
                let g = match g.draw(nodes, primaries, &mut self.rng) {
                    Ok(g) => g,
                    Err(_) => GrudgeSpec::Halves.draw(nodes, primaries, &mut self.rng)?,
                };
                Fault::Partition(g)
            }
            FaultKind::Loss => Fault::Loss {
                nodes: picked,
                probability: self.spec.loss_probability,
            },
            FaultKind::Kill => Fault::Kill(picked),
            FaultKind::Pause => Fault::Pause(picked),
            FaultKind::Clock => Fault::Clock {
                nodes: picked,
                delta_ms: sign * self.spec.clock_delta_ms,
            },
            FaultKind::ClockStrobe => Fault::ClockStrobe {
                nodes: picked,
                delta_ms: sign * self.spec.clock_delta_ms,
                period_ms: 100,
                duration_ms: self.spec.interval.as_millis() as u64,
            },
            FaultKind::Delay => Fault::Delay {
                nodes: picked,
                delay_ms: self.spec.delay_ms,
            },
            FaultKind::Power => Fault::Power {
                nodes: picked,
                torn: self.spec.power_torn.then(|| self.rng.u64(..)),
            },
            k @ (FaultKind::Bitflip | FaultKind::Truncate | FaultKind::Snapshot) => {
                let targets = if self.spec.corrupt_targets.is_empty() {
                    vec![Target::Minority]
                } else {
                    self.spec.corrupt_targets.clone()
                };
                let t = &targets[self.rng.usize(..targets.len())];
                let mut hit = t.pick(nodes, primaries, &mut self.rng);
                if hit.is_empty() {
                    hit = Target::One.pick(nodes, primaries, &mut self.rng);
                }
                let args = match k {
                    FaultKind::Bitflip => format!(
                        "chunk={} probability={}",
                        self.spec.chunk_size, self.spec.bitflip_probability
                    ),
                    FaultKind::Truncate => format!("drop={}", self.spec.truncate_bytes),
                    _ => format!("chunk={}", self.spec.chunk_size),
                };
                Fault::Corrupt {
                    kind: k,
                    nodes: hit,
                    args,
                    seed: self.rng.u64(..),
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_are_reproducible_and_cycle_through_kinds() {
        let nodes: Vec<String> = (1..=5).map(|i| format!("n{i}")).collect();
        let spec = ScheduleSpec {
            faults: vec![FaultKind::Partition, FaultKind::Kill, FaultKind::Pause],
            ..Default::default()
        };
        let draw = |seed| {
            let mut s = Schedule::new(spec.clone(), seed);
            (0..9)
                .map(|_| s.next(&nodes, &[]).unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(3), draw(3));
        assert_ne!(draw(3), draw(4));
        let kinds: Vec<FaultKind> = draw(3).iter().map(Fault::kind).collect();
        for round in kinds.chunks(3) {
            let mut r = round.to_vec();
            r.sort();
            assert_eq!(r, [FaultKind::Partition, FaultKind::Kill, FaultKind::Pause]);
        }
    }

    #[test]
    fn recorded_faults_read_back_as_they_were() {
        let nodes: Vec<String> = (1..=5).map(|i| format!("n{i}")).collect();
        let spec = ScheduleSpec {
            faults: vec![
                FaultKind::Partition,
                FaultKind::Loss,
                FaultKind::Kill,
                FaultKind::Pause,
                FaultKind::Clock,
                FaultKind::ClockStrobe,
                FaultKind::Delay,
                FaultKind::Power,
                FaultKind::Bitflip,
                FaultKind::Truncate,
                FaultKind::Snapshot,
            ],
            power_torn: true,
            ..Default::default()
        };
        let mut s = Schedule::new(spec, 9);
        for _ in 0..22 {
            let f = s.next(&nodes, &[]).unwrap();
            assert_eq!(
                Fault::from_value(f.kind().name(), &f.value()).as_ref(),
                Ok(&f)
            );
        }
        assert!(Fault::from_value("kill", &serde_json::json!({"x": 1})).is_err());
        assert!(Fault::from_value("meteor", &serde_json::json!([])).is_err());
    }

    #[test]
    fn targets_pick_the_right_counts() {
        let nodes: Vec<String> = (1..=5).map(|i| format!("n{i}")).collect();
        let mut rng = Rng::with_seed(1);
        assert_eq!(Target::One.pick(&nodes, &[], &mut rng).len(), 1);
        assert_eq!(Target::Minority.pick(&nodes, &[], &mut rng).len(), 2);
        assert_eq!(Target::Majority.pick(&nodes, &[], &mut rng).len(), 3);
        assert_eq!(Target::All.pick(&nodes, &[], &mut rng).len(), 5);
        assert_eq!(
            Target::Primaries.pick(&nodes, &["n4".into()], &mut rng),
            ["n4"]
        );
        assert_eq!(
            "n1,n3".parse::<Target>().unwrap(),
            Target::Named(vec!["n1".into(), "n3".into()])
        );
    }
}
