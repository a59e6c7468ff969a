//! The executor: applies and heals [`Fault`]s on real nodes through a
//! [`Shell`], and heals everything, idempotently, on every exit path.

use crate::clock::{self, ClockMode};
use crate::disk::{self, Corruption, DiskSpec};
use crate::fault::{Fault, FaultKind};
use crate::net;
use crate::process::{self, ProcessSpec};
use crate::shell::{quote, Shell, ShellError};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt;

/// What the nemesis needs to know about the cluster.
#[derive(Clone, Debug, Default)]
pub struct Setup {
    /// (name, address) of every node.
    pub nodes: Vec<(String, String)>,
    /// How to find and restart the DB, per node; empty if the DB has no
    /// pidfile (then kill and pause are unsupported).
    pub process: BTreeMap<String, ProcessSpec>,
    /// How to shift clocks, if at all.
    pub clock: Option<ClockMode>,
    /// Network device for `tc netem` (`eth0`).
    pub dev: String,
    /// The fault filesystem per node, where the DB's directories are under
    /// it (`db.disk.dirs`); empty otherwise (then power is unsupported).
    pub disk: BTreeMap<String, DiskSpec>,
}

/// A fault could not be applied or healed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NemesisError {
    /// The fault needs something this cluster or DB lacks.
    Unsupported {
        /// Fault kind.
        kind: String,
        /// Why.
        reason: String,
    },
    /// Scripts failed on some nodes (all failures, together).
    Failed(Vec<ShellError>),
}

impl fmt::Display for NemesisError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NemesisError::Unsupported { kind, reason } => {
                write!(f, "fault {kind} is not supported here: {reason}")
            }
            NemesisError::Failed(errs) => {
                write!(f, "{} node(s) failed:", errs.len())?;
                for e in errs {
                    write!(f, "\n  {e}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for NemesisError {}

/// Applies faults to the nodes of one cluster.
pub struct Nemesis<S: Shell> {
    shell: S,
    setup: Setup,
}

impl<S: Shell> Nemesis<S> {
    /// A nemesis acting through `shell` on the cluster described by `setup`.
    pub fn new(shell: S, mut setup: Setup) -> Self {
        if setup.dev.is_empty() {
            setup.dev = "eth0".into();
        }
        Nemesis { shell, setup }
    }

    /// The shell (for callers that share it).
    pub fn shell(&self) -> &S {
        &self.shell
    }

    fn names(&self) -> Vec<String> {
        self.setup.nodes.iter().map(|(n, _)| n.clone()).collect()
    }

    fn addr_of(&self, name: &str) -> Option<String> {
        self.setup
            .nodes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, a)| a.clone())
    }

    /// Runs one script per node; all failures are collected.
    async fn each(
        &self,
        scripts: Vec<(String, String)>,
    ) -> Result<Vec<(String, String)>, NemesisError> {
        let nodes: Vec<String> = scripts.iter().map(|(n, _)| n.clone()).collect();
        let results = self.shell.run_each(scripts).await;
        let mut ok = Vec::new();
        let mut errs = Vec::new();
        for (node, r) in nodes.into_iter().zip(results) {
            match r {
                Ok(out) => ok.push((node, out.trim().to_string())),
                Err(e) => errs.push(e),
            }
        }
        if errs.is_empty() {
            Ok(ok)
        } else {
            Err(NemesisError::Failed(errs))
        }
    }

    fn process_of(&self, node: &str, kind: FaultKind) -> Result<&ProcessSpec, NemesisError> {
        self.setup
            .process
            .get(node)
            .ok_or_else(|| NemesisError::Unsupported {
                kind: kind.name().into(),
                reason: format!("the DB declares no pidfile for node {node}"),
            })
    }

    fn clock_mode(&self, kind: FaultKind) -> Result<&ClockMode, NemesisError> {
        self.setup
            .clock
            .as_ref()
            .ok_or_else(|| NemesisError::Unsupported {
                kind: kind.name().into(),
                reason: "no clock control is set up for this DB".into(),
            })
    }

    /// Checks, before a test starts, that each kind can work here; returns
    /// the unsupported ones with the reason.
    pub async fn probe(&self, kinds: &[FaultKind]) -> Vec<(FaultKind, String)> {
        let mut out = Vec::new();
        let first = self.names().into_iter().next().unwrap_or_default();
        for &kind in kinds {
            let problem = match kind {
                FaultKind::Partition | FaultKind::Loss => self
                    .shell
                    .run(&first, "command -v iptables")
                    .await
                    .err()
                    .map(|_| "iptables is not installed on the nodes (apt-get install -y iptables)".to_string()),
                FaultKind::Delay => self
                    .shell
                    .run(&first, &net::netem_probe_script(&self.setup.dev))
                    .await
                    .err()
                    .map(|e| format!("tc netem does not work on this kernel: {}", e.detail.trim())),
                FaultKind::Kill | FaultKind::Pause => {
                    (self.setup.process.is_empty()).then(|| "the DB declares no pidfile to kill or pause by".to_string())
                }
                FaultKind::Power if self.setup.process.is_empty() => {
                    Some("the DB declares no pidfile to kill by".to_string())
                }
                FaultKind::Power | FaultKind::Bitflip | FaultKind::Truncate | FaultKind::Snapshot
                    if self.setup.disk.is_empty() =>
                {
                    Some("no directory is under the fault filesystem (db.disk.dirs)".to_string())
                }
                k if k.corrupts() && self.setup.disk.values().all(|d| d.files.is_empty()) => {
                    Some("no files are named for corruption faults (db.disk.files)".to_string())
                }
                FaultKind::Power | FaultKind::Bitflip | FaultKind::Truncate | FaultKind::Snapshot => None,
                FaultKind::Clock | FaultKind::ClockStrobe => match &self.setup.clock {
                    None => Some("no clock control is set up for this DB".into()),
                    Some(ClockMode::Faketime { .. }) => self
                        .shell
                        .run(&first, &format!("test -e {}", clock::LIBFAKETIME))
                        .await
                        .err()
                        .map(|_| "libfaketime is not installed on the nodes (apt-get install -y faketime)".into()),
                    Some(ClockMode::SystemDate) => None,
                },
            };
            if let Some(p) = problem {
                out.push((kind, p));
            }
        }
        out
    }

    /// Starts `fault`; returns what it did, per node.
    pub async fn start(&self, fault: &Fault) -> Result<Value, NemesisError> {
        match fault {
            Fault::Power { nodes, torn } => {
                let scripts = self.per_disk(nodes, FaultKind::Power, |p, d| {
                    disk::power_script(p, d, *torn)
                })?;
                return Ok(power_report(self.each(scripts).await?));
            }
            Fault::Corrupt {
                kind,
                nodes,
                args,
                seed,
            } => {
                let what = match kind {
                    FaultKind::Bitflip => Corruption::Bitflip,
                    FaultKind::Truncate => Corruption::Truncate,
                    _ => Corruption::Snapshot,
                };
                let scripts = self.per_disk(nodes, *kind, |p, d| {
                    disk::corrupt_script(p, d, what, args, *seed)
                })?;
                return Ok(corrupt_report(self.each(scripts).await?));
            }
            _ => {}
        }
        let scripts: Vec<(String, String)> = match fault {
            Fault::Partition(g) => {
                let addr = |n: &str| self.addr_of(n);
                self.names()
                    .into_iter()
                    .map(|n| {
                        let s = net::partition_script(&n, g, &addr);
                        (n, s)
                    })
                    .collect()
            }
            Fault::Loss { nodes, probability } => nodes
                .iter()
                .map(|n| {
                    let others: Vec<String> = self
                        .setup
                        .nodes
                        .iter()
                        .filter(|(m, _)| m != n)
                        .map(|(_, a)| a.clone())
                        .collect();
                    (n.clone(), net::loss_script(&others, *probability))
                })
                .collect(),
            Fault::Kill(nodes) => self.per_node(nodes, FaultKind::Kill, process::kill_script)?,
            Fault::Power { .. } | Fault::Corrupt { .. } => {
                unreachable!("disk faults start above")
            }
            Fault::Pause(nodes) => {
                self.per_node(nodes, FaultKind::Pause, |p| process::signal_script(p, true))?
            }
            Fault::Clock { nodes, delta_ms } => {
                let mode = self.clock_mode(FaultKind::Clock)?;
                nodes
                    .iter()
                    .map(|n| (n.clone(), clock::bump_script(mode, *delta_ms)))
                    .collect()
            }
            Fault::ClockStrobe {
                nodes,
                delta_ms,
                period_ms,
                duration_ms,
            } => {
                let mode = self.clock_mode(FaultKind::ClockStrobe)?;
                nodes
                    .iter()
                    .map(|n| {
                        (
                            n.clone(),
                            clock::strobe_script(mode, *delta_ms, *period_ms, *duration_ms),
                        )
                    })
                    .collect()
            }
            Fault::Delay { nodes, delay_ms } => nodes
                .iter()
                .map(|n| {
                    (
                        n.clone(),
                        format!(
                            "tc qdisc replace dev {} root netem delay {delay_ms}ms",
                            quote(&self.setup.dev)
                        ),
                    )
                })
                .collect(),
        };
        Ok(report(self.each(scripts).await?))
    }

    /// One script per node from its process and fault filesystem.
    fn per_disk(
        &self,
        nodes: &[String],
        kind: FaultKind,
        script: impl Fn(&ProcessSpec, &DiskSpec) -> String,
    ) -> Result<Vec<(String, String)>, NemesisError> {
        nodes
            .iter()
            .map(|n| {
                let p = self.process_of(n, kind)?;
                let d = self
                    .setup
                    .disk
                    .get(n)
                    .ok_or_else(|| NemesisError::Unsupported {
                        kind: kind.name().into(),
                        reason: format!("node {n} has no directory under the fault filesystem"),
                    })?;
                Ok((n.clone(), script(p, d)))
            })
            .collect()
    }

    fn per_node(
        &self,
        nodes: &[String],
        kind: FaultKind,
        script: impl Fn(&ProcessSpec) -> String,
    ) -> Result<Vec<(String, String)>, NemesisError> {
        nodes
            .iter()
            .map(|n| Ok((n.clone(), script(self.process_of(n, kind)?))))
            .collect()
    }

    /// Stops `fault`: heals the network, restarts or resumes the DB, resets
    /// clocks — on the nodes the fault touched.
    pub async fn stop(&self, fault: &Fault) -> Result<Value, NemesisError> {
        let scripts: Vec<(String, String)> = match fault {
            Fault::Partition(_) => self
                .names()
                .into_iter()
                .map(|n| (n, net::flush_script(net::PARTITION_CHAIN)))
                .collect(),
            Fault::Loss { nodes, .. } => nodes
                .iter()
                .map(|n| (n.clone(), net::flush_script(net::LOSS_CHAIN)))
                .collect(),
            Fault::Kill(nodes) => self.per_node(nodes, FaultKind::Kill, process::restart_script)?,
            Fault::Power { nodes, .. } => {
                self.per_node(nodes, FaultKind::Power, process::restart_script)?
            }
            Fault::Corrupt {
                kind: FaultKind::Snapshot,
                nodes,
                seed,
                ..
            } => {
                // The saved chunks go back with the DB down, then it restarts.
                let scripts = self.per_disk(nodes, FaultKind::Snapshot, |p, d| {
                    format!(
                        "{}; {}",
                        disk::corrupt_script(p, d, Corruption::Restore, "", *seed),
                        process::restart_script(p)
                    )
                })?;
                return Ok(corrupt_report(self.each(scripts).await?));
            }
            Fault::Corrupt { kind, nodes, .. } => {
                self.per_node(nodes, *kind, process::restart_script)?
            }
            Fault::Pause(nodes) => self.per_node(nodes, FaultKind::Pause, |p| {
                process::signal_script(p, false)
            })?,
            Fault::Clock { nodes, .. } | Fault::ClockStrobe { nodes, .. } => {
                let mode = self.clock_mode(fault.kind())?;
                nodes
                    .iter()
                    .map(|n| (n.clone(), clock::reset_script(mode)))
                    .collect()
            }
            Fault::Delay { nodes, .. } => nodes
                .iter()
                .map(|n| {
                    (
                        n.clone(),
                        format!(
                            "tc qdisc del dev {} root 2>/dev/null; true",
                            quote(&self.setup.dev)
                        ),
                    )
                })
                .collect(),
        };
        Ok(report(self.each(scripts).await?))
    }

    /// Heals everything on every node, whatever state it is in (also after
    /// a controller that crashed mid-fault): flushes our chains, resumes a
    /// paused DB, restarts a killed one, resets clocks. Idempotent. Returns
    /// one line per repair it actually made.
    pub async fn heal_all(&self) -> Result<Vec<String>, NemesisError> {
        let scripts: Vec<(String, String)> = self
            .names()
            .into_iter()
            .map(|n| {
                let mut s = format!(
                    "p=$({}); l=$({}); [ \"$p\" != 0 ] && echo \"removed $p partition rules\"; \
                     [ \"$l\" != 0 ] && echo \"removed $l packet-loss rules\"; ",
                    net::flush_script(net::PARTITION_CHAIN),
                    net::flush_script(net::LOSS_CHAIN)
                );
                s.push_str(&format!(
                    "tc qdisc show dev {dev} 2>/dev/null | grep -q netem && tc qdisc del dev {dev} root && echo 'removed netem delay'; ",
                    dev = quote(&self.setup.dev)
                ));
                if let Some(p) = self.setup.process.get(&n) {
                    s.push_str(&format!(
                        "r=$({}); [ -n \"$r\" ] && echo \"resumed paused pid $r\"; ",
                        process::resume_if_paused_script(p)
                    ));
                    s.push_str(&format!("r=$({}); [ -n \"$r\" ] && echo 'restarted the DB'; ", process::restart_script(p)));
                }
                if let Some(m) = &self.setup.clock {
                    s.push_str(&format!("r=$({}); [ -n \"$r\" ] && echo \"reset clock offset $r\"; ", clock::reset_script(m)));
                }
                s.push_str("true");
                (n, s)
            })
            .collect();
        let done = self.each(scripts).await?;
        Ok(done
            .into_iter()
            .flat_map(|(n, out)| out.lines().map(|l| format!("{n}: {l}")).collect::<Vec<_>>())
            .collect())
    }

    /// [`Nemesis::heal_all`], then removes our iptables chains entirely.
    pub async fn teardown(&self) -> Result<Vec<String>, NemesisError> {
        let repaired = self.heal_all().await?;
        let scripts = self
            .names()
            .into_iter()
            .map(|n| (n, net::remove_chains_script()))
            .collect();
        self.each(scripts).await?;
        Ok(repaired)
    }
}

/// A disk fault's helper output on one node: the pid `killed PID` names
/// (null if the DB was not running) and its JSON lines.
fn killed_and_lines(out: &str) -> (Value, Vec<Value>) {
    let mut killed = Value::Null;
    let mut lines = Vec::new();
    for line in out.lines() {
        if let Some(pid) = line.strip_prefix("killed ") {
            killed = pid.trim().parse::<u64>().map_or(json!(pid), |p| json!(p));
        } else if let Ok(v) = serde_json::from_str::<Value>(line) {
            lines.push(v);
        }
    }
    (killed, lines)
}

/// A power fault's completion value: per node, the pid killed and what
/// each directory's layer dropped (and kept, when torn), with totals.
fn power_report(outputs: Vec<(String, String)>) -> Value {
    let m: serde_json::Map<String, Value> = outputs
        .into_iter()
        .map(|(n, out)| {
            let (killed, dirs) = killed_and_lines(&out);
            let sum = |k: &str| -> u64 {
                dirs.iter()
                    .filter_map(|v| v.pointer(k).and_then(Value::as_u64))
                    .sum()
            };
            let (files, bytes) = (sum("/dropped/file_count"), sum("/dropped/bytes"));
            let v = json!({"killed": killed, "dropped_files": files, "dropped_bytes": bytes, "dirs": dirs});
            (n, v)
        })
        .collect();
    Value::Object(m)
}

/// A corruption fault's completion value: per node, the pid killed (if
/// any) and each file changed (one JSON line each from the helper).
fn corrupt_report(outputs: Vec<(String, String)>) -> Value {
    let m: serde_json::Map<String, Value> = outputs
        .into_iter()
        .map(|(n, out)| {
            let (killed, files) = killed_and_lines(&out);
            (n, json!({"killed": killed, "files": files}))
        })
        .collect();
    Value::Object(m)
}

/// `{node: output}` for the history's completion value.
fn report(outputs: Vec<(String, String)>) -> Value {
    let m: serde_json::Map<String, Value> =
        outputs.into_iter().map(|(n, o)| (n, json!(o))).collect();
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grudge;
    use crate::shell::{block_on_ready, RecordingShell};
    use fastrand::Rng;

    fn setup() -> Setup {
        let nodes = (1..=3)
            .map(|i| (format!("n{i}"), format!("10.0.0.{i}")))
            .collect();
        let process = (1..=3)
            .map(|i| {
                (
                    format!("n{i}"),
                    ProcessSpec {
                        pidfile: "/d/db.pid".into(),
                        start: "start-db".into(),
                    },
                )
            })
            .collect();
        Setup {
            nodes,
            process,
            clock: Some(ClockMode::Faketime {
                offset_file: "/d/ft".into(),
            }),
            dev: String::new(),
            disk: (1..=3)
                .map(|i| {
                    (
                        format!("n{i}"),
                        DiskSpec {
                            helper: "fl".into(),
                            sockets: vec!["/d/0.sock".into()],
                            dirs: vec!["/d/db".into()],
                            files: vec!["*.log".into()],
                            index: i - 1,
                            nodes: 3,
                        },
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn power_kills_drops_and_reports_what_was_lost() {
        let n = Nemesis::new(RecordingShell::new(), setup());
        n.shell().answer(
            "n1",
            "lose-unfsynced",
            Ok("killed 42\n{\"ok\":true,\"dropped\":{\"files\":[{\"path\":\"aof\",\"bytes\":300}],\"file_count\":1,\"pages\":1,\"bytes\":300}}"),
        );
        let v = block_on_ready(n.start(&Fault::Power {
            nodes: vec!["n1".into()],
            torn: None,
        }))
        .unwrap();
        assert_eq!(v["n1"]["killed"], 42);
        assert_eq!(v["n1"]["dropped_bytes"], 300);
        assert_eq!(v["n1"]["dropped_files"], 1);
        block_on_ready(n.stop(&Fault::Power {
            nodes: vec!["n1".into()],
            torn: None,
        }))
        .unwrap();
        assert!(n
            .shell()
            .scripts_on("n1")
            .contains("( start-db\n) && echo started"));
        let none = Nemesis::new(
            RecordingShell::new(),
            Setup {
                disk: BTreeMap::new(),
                ..setup()
            },
        );
        let unsupported = block_on_ready(none.probe(&[FaultKind::Power]));
        assert!(unsupported[0].1.contains("db.disk.dirs"), "{unsupported:?}");
    }

    #[test]
    fn partition_and_heal_render_per_node_scripts() {
        let n = Nemesis::new(RecordingShell::new(), setup());
        let names: Vec<String> = (1..=3).map(|i| format!("n{i}")).collect();
        let g = grudge::isolate(&names, Some("n1"), &mut Rng::with_seed(1));
        block_on_ready(n.start(&Fault::Partition(g))).unwrap();
        let on1 = n.shell().scripts_on("n1");
        assert!(
            on1.contains("-s 10.0.0.2 -j DROP") && on1.contains("-s 10.0.0.3 -j DROP"),
            "{on1}"
        );
        let on2 = n.shell().scripts_on("n2");
        assert!(
            on2.contains("-s 10.0.0.1 -j DROP") && !on2.contains("10.0.0.3"),
            "{on2}"
        );
        block_on_ready(n.stop(&Fault::Partition(Default::default()))).unwrap();
        assert_eq!(n.shell().log().len(), 6);
        assert!(n.shell().log()[3..]
            .iter()
            .all(|(_, s)| s.contains("iptables -w -F FAULTLINE")));
    }

    #[test]
    fn process_and_clock_faults_and_heal_all() {
        let n = Nemesis::new(RecordingShell::new(), setup());
        block_on_ready(n.start(&Fault::Kill(vec!["n2".into()]))).unwrap();
        assert!(n.shell().scripts_on("n2").contains("kill -9"));
        block_on_ready(n.stop(&Fault::Kill(vec!["n2".into()]))).unwrap();
        assert!(n
            .shell()
            .scripts_on("n2")
            .contains("( start-db\n) && echo started"));
        block_on_ready(n.start(&Fault::Pause(vec!["n3".into()]))).unwrap();
        assert!(n.shell().scripts_on("n3").contains("kill -STOP"));
        block_on_ready(n.start(&Fault::Clock {
            nodes: vec!["n1".into()],
            delta_ms: -1500,
        }))
        .unwrap();
        assert!(n
            .shell()
            .scripts_on("n1")
            .contains("echo '-1.500s' > /d/ft"));

        n.shell().answer(
            "n3",
            "FAULTLINE",
            Ok("removed 2 partition rules\nresumed paused pid 42"),
        );
        let repaired = block_on_ready(n.heal_all()).unwrap();
        assert_eq!(
            repaired,
            ["n3: removed 2 partition rules", "n3: resumed paused pid 42"]
        );
        let heal = n.shell().scripts_on("n1");
        assert!(
            heal.contains("kill -CONT")
                && heal.contains("echo '+0' > /d/ft")
                && heal.contains("-F FAULTLINE-LOSS")
        );
    }

    #[test]
    fn failures_are_collected_and_unsupported_faults_named() {
        let n = Nemesis::new(
            RecordingShell::new(),
            Setup {
                process: BTreeMap::new(),
                clock: None,
                ..setup()
            },
        );
        n.shell().answer(
            "n2",
            "FAULTLINE",
            Err("exit 4: iptables: Permission denied"),
        );
        n.shell().answer(
            "n3",
            "FAULTLINE",
            Err("exit 4: iptables: Permission denied"),
        );
        let g = grudge::halves(
            &["n1".into(), "n2".into(), "n3".into()],
            &mut Rng::with_seed(2),
        );
        match block_on_ready(n.start(&Fault::Partition(g))) {
            Err(NemesisError::Failed(errs)) => assert_eq!(errs.len(), 2),
            other => panic!("{other:?}"),
        }
        let e = block_on_ready(n.start(&Fault::Kill(vec!["n1".into()]))).unwrap_err();
        assert!(e.to_string().contains("no pidfile"), "{e}");
        n.shell()
            .answer("*", "netem", Err("Error: Specified qdisc kind is unknown."));
        let unsupported = block_on_ready(n.probe(&[
            FaultKind::Delay,
            FaultKind::Kill,
            FaultKind::Clock,
            FaultKind::Partition,
        ]));
        let kinds: Vec<FaultKind> = unsupported.iter().map(|(k, _)| *k).collect();
        assert_eq!(kinds, [FaultKind::Delay, FaultKind::Kill, FaultKind::Clock]);
        assert!(unsupported[0].1.contains("qdisc kind is unknown"));
    }
}
