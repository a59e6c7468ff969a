//! The db-alive checker, beyond Jepsen: is the DB process still running on
//! every node? The runner probes each node's pidfile when the main phase
//! ends, before the heal (which restarts a DB found dead and would hide a
//! crash), and again after the final reads. A DB found dead on a node no
//! kill fault targeted crashed by itself: the run is invalid, with the
//! tail of that node's log. A DB found dead on a node a kill fault did
//! target may be a crash or a restart that failed: unknown, never valid.
//! A node that could not be asked makes the verdict unknown too.

use faultline_checkers::Validity;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// Lines of a dead DB's log kept.
pub const TAIL_LINES: usize = 20;

/// What one probe found on one node.
#[derive(Clone, Debug, Serialize)]
pub struct Probe {
    /// `heal` (end of the main phase, before healing) or `end` (after the
    /// final reads).
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

/// Nodes that kill faults targeted, from the faults applied
/// (`kind` "kill", value the list of nodes).
pub fn killed<'a>(applied: impl Iterator<Item = (&'a str, &'a Value)>) -> BTreeSet<String> {
    applied
        .filter(|(kind, _)| *kind == "kill")
        .flat_map(|(_, v)| v.as_array().cloned().unwrap_or_default())
        .filter_map(|n| n.as_str().map(String::from))
        .collect()
}

/// The verdict over every probe: invalid if a DB no kill targeted was
/// found dead; unknown if only killed nodes' DBs were, a node could not be
/// asked, or nothing was probed; valid otherwise. Returns the verdict, the
/// result for results.json and lines for the terminal.
pub fn check(probes: &[Probe], killed: &BTreeSet<String>) -> (Validity, Value, Vec<String>) {
    let dead: Vec<&Probe> = probes.iter().filter(|p| p.state == "dead").collect();
    let crashed: Vec<&Probe> = dead
        .iter()
        .copied()
        .filter(|p| !killed.contains(&p.node))
        .collect();
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
        let why = if killed.contains(&p.node) {
            "a kill fault targeted this node: a crash or a failed restart"
        } else {
            "no kill fault targeted this node: it crashed"
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
        "killed_by_nemesis": killed,
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
        let (v, j, lines) = check(&probes, &BTreeSet::new());
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
        // The same node, killed by the nemesis: never valid, but not a crash.
        let killed: BTreeSet<String> = ["n2".to_string()].into();
        assert_eq!(check(&probes, &killed).0, Validity::Unknown);
    }

    #[test]
    fn all_alive_is_valid_and_unprobed_or_nothing_is_unknown() {
        let alive = vec![probe("n1", Ok(None)), probe("n2", Ok(None))];
        assert_eq!(check(&alive, &BTreeSet::new()).0, Validity::Valid);
        assert_eq!(check(&[], &BTreeSet::new()).0, Validity::Unknown);
        let lost = vec![probe("n1", Err("ssh: timeout".into()))];
        let (v, _, lines) = check(&lost, &BTreeSet::new());
        assert_eq!(v, Validity::Unknown);
        assert!(lines[0].contains("ssh: timeout"));
    }

    #[test]
    fn killed_nodes_come_from_kill_faults_only() {
        let kill = json!(["n1", "n3"]);
        let pause = json!(["n2"]);
        let k = killed([("kill", &kill), ("pause", &pause)].into_iter());
        assert_eq!(k, ["n1".to_string(), "n3".to_string()].into());
    }
}
