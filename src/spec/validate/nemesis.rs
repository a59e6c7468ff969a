//! `nemesis:`: faults, timing, targets and grudges; node names they use must
//! be nodes of the test.

use super::nodes::sample_nodes;
use super::Problems;
use crate::spec::plan::{NodesPlan, Overrides};
use crate::spec::Loaded;
use faultline_nemesis::{FaultKind, GrudgeSpec, ScheduleSpec, Target};
use std::time::Duration;

impl Loaded {
    /// `nemesis:` checked, with its node names checked against the test's.
    pub(super) fn nemesis_plan(
        &self,
        o: &Overrides,
        nodes: &NodesPlan,
        p: &mut Problems,
    ) -> Option<ScheduleSpec> {
        let nemesis = self.nemesis(p);
        if let Some(spec) = &nemesis {
            let names: Vec<String> = sample_nodes(nodes, o).into_iter().map(|n| n.name).collect();
            check_fault_nodes(spec, &names, p);
        }
        nemesis
    }

    fn nemesis(&self, p: &mut Problems) -> Option<ScheduleSpec> {
        let n = self.spec.nemesis.as_ref()?;
        let interval = p.duration(
            "nemesis.interval",
            &n.interval,
            Duration::from_secs(10),
            true,
        );
        let quiet = p.duration("nemesis.quiet", &n.quiet, Duration::from_secs(2), false);
        let clock = p.duration(
            "nemesis.clock_offset",
            &n.clock_offset,
            Duration::from_secs(5),
            false,
        );
        let mut spec = ScheduleSpec {
            interval,
            quiet,
            // At most MAX_SECONDS, so this fits an i64 of milliseconds.
            clock_delta_ms: i64::try_from(clock.as_millis()).unwrap_or(i64::MAX),
            ..Default::default()
        };
        spec.faults = n
            .faults
            .iter()
            .filter_map(|f| {
                f.parse::<FaultKind>()
                    .map_err(|m| p.key("nemesis.faults", m))
                    .ok()
            })
            .collect();
        if n.faults.is_empty() {
            p.key("nemesis.faults", "expected at least one fault");
        }
        if !n.targets.is_empty() {
            spec.targets = n
                .targets
                .iter()
                .filter_map(|t| {
                    t.parse::<Target>()
                        .map_err(|m| p.key("nemesis.targets", m))
                        .ok()
                })
                .collect();
        }
        if !n.grudges.is_empty() {
            spec.grudges = n
                .grudges
                .iter()
                .filter_map(|g| {
                    g.parse::<GrudgeSpec>()
                        .map_err(|m| p.key("nemesis.grudges", m))
                        .ok()
                })
                .collect();
        }
        if let Some(power) = &n.power {
            spec.power_torn = power.torn;
        }
        if let Some(c) = &n.corruption {
            if let Some(size) = c.chunk_size {
                if size == 0 || size > 1 << 30 {
                    p.key(
                        "nemesis.corruption.chunk_size",
                        format!("expected 1 to 1073741824 bytes, found {size}"),
                    );
                }
                spec.chunk_size = size;
            }
            if let Some(prob) = c.probability {
                if !(0.0..=1.0).contains(&prob) {
                    p.key(
                        "nemesis.corruption.probability",
                        format!("expected a probability between 0 and 1, found {prob}"),
                    );
                }
                spec.bitflip_probability = prob;
            }
            if let Some(b) = c.truncate_bytes {
                spec.truncate_bytes = b;
            }
            if !c.targets.is_empty() {
                spec.corrupt_targets = c
                    .targets
                    .iter()
                    .filter_map(|t| {
                        t.parse::<Target>()
                            .map_err(|m| p.key("nemesis.corruption.targets", m))
                            .ok()
                    })
                    .collect();
            }
            if !spec.faults.iter().any(|k| k.corrupts()) {
                p.key(
                    "nemesis.corruption",
                    "corruption options given, but no bitflip, truncate or snapshot in nemesis.faults",
                );
            }
        }
        let files = self.spec.db.disk.as_ref().map_or(0, |d| d.files.len());
        for k in spec.faults.iter().filter(|k| k.corrupts()) {
            if files == 0 {
                p.key(
                    "nemesis.faults",
                    format!(
                        "{} corrupts the DB's files: name them with globs under db.disk.files (relative to each of db.disk.dirs)",
                        k.name()
                    ),
                );
            }
        }
        let dirs = self.spec.db.disk.as_ref().map_or(0, |d| d.dirs.len());
        for k in spec.faults.iter().filter(|k| k.needs_disk()) {
            if dirs == 0 {
                p.key(
                    "nemesis.faults",
                    format!(
                        "{} needs the fault filesystem: list the directories the DB keeps its data in under db.disk.dirs",
                        k.name()
                    ),
                );
            }
        }
        if n.power.is_some() && !spec.faults.contains(&FaultKind::Power) {
            p.key(
                "nemesis.power",
                "power options given, but power is not in nemesis.faults",
            );
        }
        if let Some(prob) = n.loss_probability {
            if !(0.0..=1.0).contains(&prob) {
                p.key(
                    "nemesis.loss_probability",
                    format!("expected a probability between 0 and 1, found {prob}"),
                );
            }
            spec.loss_probability = prob;
        }
        Some(spec)
    }
}

/// Node names in `nemesis.targets` and `isolate:NODE` grudges must be nodes
/// of the test (local nodes are `n1`..`nN`).
fn check_fault_nodes(spec: &ScheduleSpec, names: &[String], p: &mut Problems) {
    let unknown = |n: &String| {
        (!names.contains(n))
            .then(|| format!("no node {n:?} in this test; nodes are {}", names.join(", ")))
    };
    for t in &spec.targets {
        if let Target::Named(list) = t {
            if let Some(m) = list.iter().find_map(unknown) {
                p.key("nemesis.targets", m);
            }
        }
    }
    for g in &spec.grudges {
        if let GrudgeSpec::Isolate(Some(n)) = g {
            if let Some(m) = unknown(n) {
                p.key("nemesis.grudges", m);
            }
        }
    }
}
