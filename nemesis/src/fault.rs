//! Faults as data: what kind, on which nodes, with which grudge. A
//! [`Fault`] is what the schedule picks, what the executor applies, and
//! what goes into the history as the nemesis op's value.

use crate::grudge::{self, Grudge};
use fastrand::Rng;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::str::FromStr;

/// The kinds of fault the nemesis knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FaultKind {
    /// Network partition (iptables DROP).
    Partition,
    /// Random packet loss (iptables statistic).
    Loss,
    /// SIGKILL the DB, restart it on stop.
    Kill,
    /// SIGSTOP the DB, SIGCONT on stop.
    Pause,
    /// Shift the DB's clock.
    Clock,
    /// Alternate the DB's clock quickly between two offsets.
    ClockStrobe,
    /// Network delay (needs `tc netem`).
    Delay,
    /// Power failure: SIGKILL the DB, drop its unsynced writes (the fault
    /// filesystem), restart it on stop.
    Power,
    /// Flip random bits in chosen chunks of the DB's files (DB killed
    /// first, restarted on stop).
    Bitflip,
    /// Drop bytes from the end of the DB's files (DB killed first,
    /// restarted on stop).
    Truncate,
    /// Save chosen chunks of the DB's files on start; on stop kill the DB,
    /// write them back (a lost write), restart it.
    Snapshot,
}

impl FaultKind {
    /// Every kind, for messages.
    pub const ALL: [&'static str; 11] = [
        "partition",
        "loss",
        "kill",
        "pause",
        "clock",
        "clock-strobe",
        "delay",
        "power",
        "bitflip",
        "truncate",
        "snapshot",
    ];

    /// Whether this kind needs the fault filesystem (`db.disk.dirs`).
    pub fn needs_disk(self) -> bool {
        matches!(self, FaultKind::Power) || self.corrupts()
    }

    /// Whether this kind corrupts files (and needs `db.disk.files`).
    pub fn corrupts(self) -> bool {
        matches!(
            self,
            FaultKind::Bitflip | FaultKind::Truncate | FaultKind::Snapshot
        )
    }

    /// Whether this kind takes the DB down on its nodes and starts it again
    /// when it stops (kill, power, the corruptions).
    pub fn restarts(self) -> bool {
        matches!(self, FaultKind::Kill | FaultKind::Power) || self.corrupts()
    }

    /// The name used in specs and histories.
    pub fn name(self) -> &'static str {
        Self::ALL[self as usize]
    }
}

impl FromStr for FaultKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        use FaultKind::*;
        Ok(match s {
            "partition" => Partition,
            "loss" => Loss,
            "kill" => Kill,
            "pause" => Pause,
            "clock" => Clock,
            "clock-strobe" => ClockStrobe,
            "delay" => Delay,
            "power" => Power,
            "bitflip" => Bitflip,
            "truncate" => Truncate,
            "snapshot" => Snapshot,
            _ => {
                return Err(format!(
                    "unknown fault {s:?}; expected one of {}",
                    Self::ALL.join(", ")
                ))
            }
        })
    }
}

/// Which nodes a process, loss or clock fault hits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// One random node.
    One,
    /// A random minority.
    Minority,
    /// A random majority.
    Majority,
    /// Every node.
    All,
    /// The DB's primaries (leaders), as its probe reports them.
    Primaries,
    /// These nodes.
    Named(Vec<String>),
}

impl FromStr for Target {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "one" => Target::One,
            "minority" => Target::Minority,
            "majority" => Target::Majority,
            "all" => Target::All,
            "primaries" | "primary" => Target::Primaries,
            names if !names.is_empty() => {
                Target::Named(names.split(',').map(|n| n.trim().to_string()).collect())
            }
            _ => {
                return Err("expected one, minority, majority, all, primaries or node names".into())
            }
        })
    }
}

impl Target {
    /// The nodes this target picks.
    pub fn pick(&self, nodes: &[String], primaries: &[String], rng: &mut Rng) -> Vec<String> {
        let mut v = nodes.to_vec();
        rng.shuffle(&mut v);
        let n = nodes.len();
        let mut picked: Vec<String> = match self {
            Target::One => v.into_iter().take(1).collect(),
            Target::Minority => v.into_iter().take(((n - 1) / 2).max(1)).collect(),
            Target::Majority => v.into_iter().take(n / 2 + 1).collect(),
            Target::All => v,
            Target::Primaries => primaries.to_vec(),
            Target::Named(names) => names.clone(),
        };
        picked.sort();
        picked
    }
}

/// How a partition is drawn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GrudgeSpec {
    /// Random majority/minority halves.
    Halves,
    /// One node (named, or random) alone.
    Isolate(Option<String>),
    /// The primaries alone.
    Primaries,
    /// Two halves joined by one bridge node.
    Bridge,
    /// Every node sees a different majority.
    MajoritiesRing,
    /// Random 2–3 groups.
    RandomSubsets,
    /// A random minority stops hearing the others; they still hear it.
    OneWay,
    /// Given explicitly: node → nodes it drops.
    Explicit(BTreeMap<String, Vec<String>>),
}

impl FromStr for GrudgeSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "halves" | "majority" => GrudgeSpec::Halves,
            "one" | "isolate" => GrudgeSpec::Isolate(None),
            "primaries" | "primary" => GrudgeSpec::Primaries,
            "bridge" => GrudgeSpec::Bridge,
            "majorities-ring" => GrudgeSpec::MajoritiesRing,
            "random" | "random-subsets" => GrudgeSpec::RandomSubsets,
            "one-way" => GrudgeSpec::OneWay,
            other => match other.strip_prefix("isolate:") {
                Some(node) => GrudgeSpec::Isolate(Some(node.to_string())),
                None => {
                    return Err(format!(
                        "unknown grudge {other:?}; expected halves, one, isolate:NODE, primaries, bridge, majorities-ring, random or one-way"
                    ))
                }
            },
        })
    }
}

impl GrudgeSpec {
    /// Draws the grudge over `nodes`.
    pub fn draw(
        &self,
        nodes: &[String],
        primaries: &[String],
        rng: &mut Rng,
    ) -> Result<Grudge, String> {
        Ok(match self {
            GrudgeSpec::Halves => grudge::halves(nodes, rng),
            GrudgeSpec::Isolate(n) => grudge::isolate(nodes, n.as_deref(), rng),
            GrudgeSpec::Primaries if primaries.is_empty() => {
                return Err("no primaries known to isolate".into())
            }
            GrudgeSpec::Primaries => grudge::isolate_primaries(nodes, primaries),
            GrudgeSpec::Bridge => grudge::bridge(nodes, rng),
            GrudgeSpec::MajoritiesRing => grudge::majorities_ring(nodes, rng),
            GrudgeSpec::RandomSubsets => grudge::random_subsets(nodes, rng),
            GrudgeSpec::OneWay => grudge::one_way(nodes, rng),
            GrudgeSpec::Explicit(m) => grudge::explicit(nodes, m)?,
        })
    }
}

/// One concrete fault.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Cut the network as the grudge says.
    Partition(Grudge),
    /// Drop packets between nodes with this probability, on these nodes.
    Loss {
        /// Receiving nodes.
        nodes: Vec<String>,
        /// Drop probability.
        probability: f64,
    },
    /// Kill the DB on these nodes.
    Kill(Vec<String>),
    /// Pause the DB on these nodes.
    Pause(Vec<String>),
    /// Shift these nodes' clocks by `delta_ms`.
    Clock {
        /// Nodes.
        nodes: Vec<String>,
        /// Offset in milliseconds.
        delta_ms: i64,
    },
    /// Delay packets leaving these nodes (`tc netem`).
    Delay {
        /// Nodes.
        nodes: Vec<String>,
        /// Added delay in milliseconds.
        delay_ms: u64,
    },
    /// Cut the power of these nodes: SIGKILL the DB, drop what it did not
    /// fsync (with `torn`, keep a random subset of the pending pages, drawn
    /// from this seed).
    Power {
        /// Nodes.
        nodes: Vec<String>,
        /// Torn writes: the seed of the pages kept.
        torn: Option<u64>,
    },
    /// Corrupt the DB's files on these nodes (`kind` is bitflip, truncate
    /// or snapshot).
    Corrupt {
        /// Which corruption.
        kind: FaultKind,
        /// Nodes.
        nodes: Vec<String>,
        /// The fault's options for `faultline disk corrupt`
        /// (`chunk=1048576 probability=0.000001`, `drop=4096`).
        args: String,
        /// Seed of the bits flipped.
        seed: u64,
    },
    /// Strobe these nodes' clocks.
    ClockStrobe {
        /// Nodes.
        nodes: Vec<String>,
        /// Offset in milliseconds.
        delta_ms: i64,
        /// Flip period.
        period_ms: u64,
        /// How long to strobe.
        duration_ms: u64,
    },
}

impl Fault {
    /// The kind of this fault.
    pub fn kind(&self) -> FaultKind {
        match self {
            Fault::Partition(_) => FaultKind::Partition,
            Fault::Loss { .. } => FaultKind::Loss,
            Fault::Kill(_) => FaultKind::Kill,
            Fault::Pause(_) => FaultKind::Pause,
            Fault::Clock { .. } => FaultKind::Clock,
            Fault::ClockStrobe { .. } => FaultKind::ClockStrobe,
            Fault::Delay { .. } => FaultKind::Delay,
            Fault::Power { .. } => FaultKind::Power,
            Fault::Corrupt { kind, .. } => *kind,
        }
    }

    /// History `f` for starting it (`start-partition`, `start-kill`, ...).
    pub fn start_f(&self) -> String {
        format!("start-{}", self.kind().name())
    }

    /// History `f` for stopping it.
    pub fn stop_f(&self) -> String {
        format!("stop-{}", self.kind().name())
    }

    /// The fault a history or `results.json` recorded as `kind` (`partition`,
    /// `kill`, ...) and `value` (what [`Fault::value`] gave): the inverse of
    /// [`Fault::value`], for replaying a run's schedule.
    pub fn from_value(kind: &str, value: &Value) -> Result<Fault, String> {
        let bad = || format!("not a recorded {kind} fault: {value}");
        let names = |v: &Value| -> Result<Vec<String>, String> {
            v.as_array()
                .ok_or_else(bad)?
                .iter()
                .map(|n| n.as_str().map(String::from).ok_or_else(bad))
                .collect()
        };
        let int = |k: &str| value.get(k).and_then(Value::as_i64).ok_or_else(bad);
        let uint = |k: &str| value.get(k).and_then(Value::as_u64).ok_or_else(bad);
        let nodes = || names(value.get("nodes").ok_or_else(bad)?);
        Ok(match kind.parse::<FaultKind>()? {
            FaultKind::Partition => {
                let mut g = Grudge::new();
                for (n, dropped) in value.as_object().ok_or_else(bad)? {
                    g.insert(n.clone(), names(dropped)?.into_iter().collect());
                }
                Fault::Partition(g)
            }
            FaultKind::Loss => Fault::Loss {
                nodes: nodes()?,
                probability: value
                    .get("probability")
                    .and_then(Value::as_f64)
                    .filter(|p| (0.0..=1.0).contains(p))
                    .ok_or_else(bad)?,
            },
            FaultKind::Kill => Fault::Kill(names(value)?),
            FaultKind::Pause => Fault::Pause(names(value)?),
            FaultKind::Clock => Fault::Clock {
                nodes: nodes()?,
                delta_ms: int("delta_ms")?,
            },
            FaultKind::ClockStrobe => Fault::ClockStrobe {
                nodes: nodes()?,
                delta_ms: int("delta_ms")?,
                period_ms: uint("period_ms")?,
                duration_ms: uint("duration_ms")?,
            },
            FaultKind::Delay => Fault::Delay {
                nodes: nodes()?,
                delay_ms: uint("delay_ms")?,
            },
            k @ (FaultKind::Bitflip | FaultKind::Truncate | FaultKind::Snapshot) => {
                Fault::Corrupt {
                    kind: k,
                    nodes: nodes()?,
                    args: value
                        .get("args")
                        .and_then(Value::as_str)
                        .ok_or_else(bad)?
                        .to_string(),
                    seed: uint("seed")?,
                }
            }
            FaultKind::Power => Fault::Power {
                nodes: nodes()?,
                torn: match value.get("torn") {
                    None | Some(Value::Null) => None,
                    Some(t) => Some(t.as_u64().ok_or_else(bad)?),
                },
            },
        })
    }

    /// Every node this fault names.
    pub fn nodes(&self) -> Vec<String> {
        match self {
            Fault::Partition(g) => g
                .iter()
                .flat_map(|(n, d)| std::iter::once(n.clone()).chain(d.iter().cloned()))
                .collect(),
            Fault::Loss { nodes, .. }
            | Fault::Kill(nodes)
            | Fault::Pause(nodes)
            | Fault::Clock { nodes, .. }
            | Fault::ClockStrobe { nodes, .. }
            | Fault::Delay { nodes, .. }
            | Fault::Power { nodes, .. }
            | Fault::Corrupt { nodes, .. } => nodes.clone(),
        }
    }

    /// The history value: the grudge, or the nodes and parameters.
    pub fn value(&self) -> Value {
        match self {
            Fault::Partition(g) => json!(g),
            Fault::Loss { nodes, probability } => {
                json!({"nodes": nodes, "probability": probability})
            }
            Fault::Kill(n) | Fault::Pause(n) => json!(n),
            Fault::Clock { nodes, delta_ms } => json!({"nodes": nodes, "delta_ms": delta_ms}),
            Fault::Delay { nodes, delay_ms } => json!({"nodes": nodes, "delay_ms": delay_ms}),
            Fault::Power { nodes, torn } => json!({"nodes": nodes, "torn": torn}),
            Fault::Corrupt {
                nodes, args, seed, ..
            } => json!({"nodes": nodes, "args": args, "seed": seed}),
            Fault::ClockStrobe {
                nodes,
                delta_ms,
                period_ms,
                duration_ms,
            } => {
                json!({"nodes": nodes, "delta_ms": delta_ms, "period_ms": period_ms, "duration_ms": duration_ms})
            }
        }
    }
}
