//! The db-alive checker, beyond Jepsen: is the DB process still running on
//! every node? The runner probes each node's pidfile before every fault
//! the nemesis starts (a kill's restart would hide an earlier crash), when
//! the main phase ends, before the heal (which restarts a DB found dead),
//! and again after the final reads. A DB found dead crashed by itself —
//! the run is invalid, with the tail of that node's log — unless a kill
//! fault on that node explains it: one still in force at the probe, or one
//! whose kill or restart reported an error (then it may be a crash or a
//! failed restart: unknown, never valid). A DB our kill fault stopped and
//! successfully restarted that is dead later crashed. A node that could not
//! be asked makes the verdict unknown too.

use faultline_checkers::Validity;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Lines of a dead DB's log kept.
pub const TAIL_LINES: usize = 20;

/// What one probe found on one node.
#[derive(Clone, Debug, Serialize)]
pub struct Probe {
    /// `fault` (before a fault starts), `heal` (end of the main phase,
    /// before healing) or `end` (after the final reads).
    pub at: &'static str,
    /// Nanoseconds since the test started.
    pub time: i64,
    /// The node.
    pub node: String,
    /// `alive`, `dead` or `unknown`.
    pub state: &'static str,
    /// A dead DB: the pid its pidfile held (empty: none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<String>,
    /// A dead DB: the last lines of its log.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub log_tail: Vec<String>,
    /// Why the node could not be asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Probe {
    /// A probe's outcome as [`super::db::Db::liveness`] gives it.
    pub fn new(
        at: &'static str,
        time: i64,
        node: &str,
        found: Result<Option<(String, String)>, String>,
    ) -> Probe {
        let mut p = Probe {
            at,
            time,
            node: node.to_string(),
            state: "alive",
            pid: None,
            log_tail: Vec::new(),
            error: None,
        };
        match found {
            Ok(None) => {}
            Ok(Some((pid, tail))) => {
                p.state = "dead";
                p.pid = Some(pid);
                p.log_tail = tail.lines().map(String::from).collect();
            }
            Err(e) => {
                p.state = "unknown";
                p.error = Some(e);
            }
        }
        p
    }
}

/// A kill fault on one node: when it started and stopped (ns since the
/// test started; no stop: healed at the end), and whether killing or
/// restarting reported an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kill {
    /// Started.
    pub start: i64,
    /// Stopped (the DB restarted).
    pub stop: Option<i64>,
    /// The kill or the restart failed.
    pub failed: bool,
}

impl Kill {
    /// Whether this kill can explain a DB found dead at `time`: it was in
    /// force then, or it went wrong.
    fn explains(&self, time: i64) -> bool {
        self.start <= time && (self.failed || self.stop.is_none_or(|s| s > time))
    }
}

/// Fault kinds that kill the DB on purpose: `kill`, `power`, and the
/// corruption faults (which kill it to corrupt its files at rest).
pub const KILLING: [&str; 5] = ["kill", "power", "bitflip", "truncate", "snapshot"];

/// The faults that killed the DB, per node, from the faults applied as
/// (`kind`, value, start, stop, error): a kind in [`KILLING`], value the
/// list of nodes (`kill`) or an object with `nodes`.
pub fn killed<'a>(
    applied: impl Iterator<Item = (&'a str, &'a Value, i64, Option<i64>, bool)>,
) -> BTreeMap<String, Vec<Kill>> {
    let mut kills: BTreeMap<String, Vec<Kill>> = BTreeMap::new();
    for (_, v, start, stop, failed) in applied.filter(|a| KILLING.contains(&a.0)) {
        let nodes = v
            .as_array()
            .or_else(|| v.get("nodes").and_then(Value::as_array));
        for n in nodes.into_iter().flatten().filter_map(Value::as_str) {
            kills.entry(n.to_string()).or_default().push(Kill {
                start,
                stop,
                failed,
            });
        }
    }
    kills
}

/// The verdict over every probe: invalid if a DB no kill targeted was
/// found dead; unknown if only killed nodes' DBs were, a node could not be
/// asked, or nothing was probed; valid otherwise. Returns the verdict, the
/// result for results.json and lines for the terminal.
pub fn check(
    probes: &[Probe],
    killed: &BTreeMap<String, Vec<Kill>>,
) -> (Validity, Value, Vec<String>) {
    let excused = |p: &Probe| {
        killed
            .get(&p.node)
            .is_some_and(|ks| ks.iter().any(|k| k.explains(p.time)))
    };
    let dead: Vec<&Probe> = probes.iter().filter(|p| p.state == "dead").collect();
    let crashed: Vec<&Probe> = dead.iter().copied().filter(|p| !excused(p)).collect();
    let unprobed: Vec<&Probe> = probes.iter().filter(|p| p.state == "unknown").collect();
    let valid = if !crashed.is_empty() {
        Validity::Invalid
    } else if !dead.is_empty() || !unprobed.is_empty() || probes.is_empty() {
        Validity::Unknown
    } else {
        Validity::Valid
    };
    let mut lines = Vec::new();
    for p in &dead {
        let why = if excused(p) {
            "a kill fault on this node was in force or went wrong: a crash or a failed restart"
        } else {
            "no kill fault explains it: it crashed"
        };
        lines.push(format!(
            "the DB on {} was dead at {} (t = {:.1} s, pid {}): {why}",
            p.node,
            p.at,
            p.time as f64 / 1e9,
            p.pid.as_deref().filter(|p| !p.is_empty()).unwrap_or("none")
        ));
        let tail = &p.log_tail[p.log_tail.len().saturating_sub(5)..];
        lines.extend(tail.iter().map(|l| format!("  {} log: {l}", p.node)));
    }
    for p in &unprobed {
        lines.push(format!(
            "{} could not be probed at {}: {}",
            p.node,
            p.at,
            p.error.as_deref().unwrap_or("")
        ));
    }
    if probes.is_empty() {
        lines.push("the DB was never probed (the run ended before its main phase)".into());
    }
    let json = json!({
        "valid": valid,
        "crashed": crashed.iter().map(|p| &p.node).collect::<BTreeSet<_>>(),
        "dead": dead,
        "unprobed": unprobed,
        "killed_by_nemesis": killed.keys().collect::<Vec<_>>(),
        "probes": probes.len(),
    });
    (valid, json, lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(node: &str, found: Result<Option<(String, String)>, String>) -> Probe {
        Probe::new("heal", 5_000_000_000, node, found)
    }

    #[test]
    fn a_dead_db_nobody_killed_is_invalid_with_its_log() {
        let probes = vec![
            probe("n1", Ok(None)),
            probe(
                "n2",
                Ok(Some((
                    "42".into(),
                    "serving\nFATAL: crash-after 10\n".into(),
                ))),
            ),
        ];
        let (v, j, lines) = check(&probes, &BTreeMap::new());
        assert_eq!(v, Validity::Invalid);
        assert_eq!(j["crashed"], json!(["n2"]));
        assert_eq!(j["dead"][0]["log_tail"][1], "FATAL: crash-after 10");
        assert!(
            lines[0].contains("the DB on n2 was dead at heal"),
            "{lines:?}"
        );
        assert!(
            lines.iter().any(|l| l.contains("n2 log: FATAL")),
            "{lines:?}"
        );
        let kill = |start, stop, failed| {
            let k = Kill {
                start,
                stop,
                failed,
            };
            BTreeMap::from([("n2".to_string(), vec![k])])
        };
        // In force at the probe, or a restart that failed: unknown.
        assert_eq!(
            check(&probes, &kill(1_000, None, false)).0,
            Validity::Unknown
        );
        let failed = kill(1_000, Some(2_000), true);
        assert_eq!(check(&probes, &failed).0, Validity::Unknown);
        // Killed and restarted fine before, or killed only after: a crash.
        let (v, _, lines) = check(&probes, &kill(1_000, Some(2_000), false));
        assert_eq!(v, Validity::Invalid);
        assert!(lines[0].contains("no kill fault explains it"), "{lines:?}");
        let later = kill(6_000_000_000, Some(7_000_000_000), false);
        assert_eq!(check(&probes, &later).0, Validity::Invalid);
    }

    #[test]
    fn all_alive_is_valid_and_unprobed_or_nothing_is_unknown() {
        let alive = vec![probe("n1", Ok(None)), probe("n2", Ok(None))];
        assert_eq!(check(&alive, &BTreeMap::new()).0, Validity::Valid);
        assert_eq!(check(&[], &BTreeMap::new()).0, Validity::Unknown);
        let lost = vec![probe("n1", Err("ssh: timeout".into()))];
        let (v, _, lines) = check(&lost, &BTreeMap::new());
        assert_eq!(v, Validity::Unknown);
        assert!(lines[0].contains("ssh: timeout"));
    }

    #[test]
    fn killed_nodes_come_from_faults_that_kill_only() {
        let kill = json!(["n1", "n3"]);
        let pause = json!(["n2"]);
        let again = json!(["n1"]);
        let power = json!({"nodes": ["n4"], "torn": null});
        let cut = json!({"nodes": ["n5"], "args": "drop=10", "seed": 1});
        let k = killed(
            [
                ("kill", &kill, 5, Some(6), false),
                ("pause", &pause, 6, Some(7), false),
                ("kill", &again, 7, None, true),
                ("power", &power, 8, Some(9), false),
                ("truncate", &cut, 8, None, false),
            ]
            .into_iter(),
        );
        assert_eq!(k.keys().collect::<Vec<_>>(), ["n1", "n3", "n4", "n5"]);
        assert_eq!(k["n1"].len(), 2);
        assert!(k["n1"][1].failed && !k["n3"][0].failed);
        // A kill still being applied when the run ends (no stop) explains
        // every later death.
        assert!(k["n5"][0].explains(i64::MAX));
    }
}
