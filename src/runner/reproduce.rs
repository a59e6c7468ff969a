//! What a run records so that it can be reproduced — the `run` object of
//! `results.json` — and reading it back for `faultline test --replay
//! RUN_DIR`: which faultline built from which commit, the spec (its path,
//! directory and SHA-256; the text is the run's `test.yaml`), the
//! command-line overrides, the effective seed, the nodes, start and end
//! times, and every fault the nemesis applied, in order, with its targets.
//!
//! A replay runs the same spec text with the same overrides and seed (so
//! the generator draws the same ops), and applies the recorded faults in
//! the recorded order instead of drawing new ones (primaries, which the
//! schedule asks the DB for, may differ between runs; the recorded faults
//! name the nodes they hit).

use crate::control::Node;
use crate::spec::Overrides;
use faultline_nemesis::Fault;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The code that ran.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Build {
    /// faultline's version.
    pub version: String,
    /// The git commit it was built from, when built from a checkout.
    #[serde(default)]
    pub commit: Option<String>,
}

impl Build {
    /// This binary.
    pub fn current() -> Build {
        Build {
            version: env!("CARGO_PKG_VERSION").to_string(),
            commit: option_env!("FAULTLINE_GIT_COMMIT").map(String::from),
        }
    }
}

/// The spec a run used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecRecord {
    /// The spec file as given.
    pub file: PathBuf,
    /// Its directory, absolute: relative paths in the spec resolve here.
    pub dir: PathBuf,
    /// SHA-256 of its text (the run's `test.yaml`), hex.
    pub sha256: String,
}

/// One fault as the nemesis applied it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Applied {
    /// Fault kind (`partition`, `kill`, ...).
    pub kind: String,
    /// Its targets and parameters, as in the history.
    pub value: Value,
    /// When it was started, ns since the test started.
    pub start_ns: i64,
    /// When it was stopped (`None`: healed at the end).
    #[serde(default)]
    pub stop_ns: Option<i64>,
    /// Why starting or stopping it failed, if it did.
    #[serde(default)]
    pub error: Option<String>,
    /// What it did, where that is more than its value says (a power
    /// fault: per node, the pid killed and what each directory dropped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Value>,
}

/// The inputs of a run, known before it starts.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Inputs {
    /// The spec.
    pub spec: SpecRecord,
    /// Command-line values that replaced the spec's.
    pub overrides: Overrides,
    /// `--cluster NAME`, if the run used an existing local cluster.
    #[serde(default)]
    pub cluster: Option<String>,
}

/// `results.json`'s `run`: everything needed to reproduce the run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunRecord {
    /// The code that ran.
    pub faultline: Build,
    /// The effective seed (spec, `--seed`, plus the run's number with
    /// `--test-count`).
    pub seed: u64,
    /// Spec, overrides, cluster.
    #[serde(flatten)]
    pub inputs: Inputs,
    /// The nodes the run used.
    pub nodes: Vec<Node>,
    /// Start, RFC 3339 UTC.
    pub started: String,
    /// End, RFC 3339 UTC.
    pub finished: String,
    /// The faults applied, in order.
    pub schedule: Vec<Applied>,
    /// The command that replays the run.
    pub replay: String,
}

/// SHA-256 of `text`, hex.
pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A run read back for `--replay`: its record and its spec text.
pub struct Recorded {
    /// `results.json`'s `run`.
    pub record: RunRecord,
    /// The run's `test.yaml`.
    pub spec_text: String,
    /// `RUN_DIR/test.yaml`.
    pub spec_path: PathBuf,
}

impl Recorded {
    /// Reads `run_dir/results.json` and `run_dir/test.yaml`, and checks that
    /// the spec is the one the run recorded.
    pub fn load(run_dir: &Path) -> Result<Recorded, String> {
        let results = run_dir.join("results.json");
        let text = std::fs::read_to_string(&results)
            .map_err(|e| format!("{}: cannot read: {e}", results.display()))?;
        let json: Value = serde_json::from_str(&text).map_err(|e| {
            format!(
                "{}:{}:{}: not JSON: {e}",
                results.display(),
                e.line(),
                e.column()
            )
        })?;
        let run = json.get("run").ok_or_else(|| {
            format!(
                "{}: no `run` record (written by an older faultline, or by a run that did not finish)",
                results.display()
            )
        })?;
        let record: RunRecord = serde_json::from_value(run.clone())
            .map_err(|e| format!("{}: malformed `run` record: {e}", results.display()))?;
        let spec_path = run_dir.join("test.yaml");
        let spec_text = std::fs::read_to_string(&spec_path)
            .map_err(|e| format!("{}: cannot read: {e}", spec_path.display()))?;
        let hash = sha256_hex(&spec_text);
        if hash != record.inputs.spec.sha256 {
            return Err(format!(
                "{}: SHA-256 {hash} differs from the {} the run recorded: the spec was changed after the run",
                spec_path.display(),
                record.inputs.spec.sha256
            ));
        }
        Ok(Recorded {
            record,
            spec_text,
            spec_path,
        })
    }

    /// The recorded faults, in order, checked against `nodes`.
    pub fn faults(&self, nodes: &[String]) -> Result<Vec<Fault>, String> {
        self.record
            .schedule
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let f = Fault::from_value(&a.kind, &a.value)
                    .map_err(|e| format!("schedule entry {}: {e}", i + 1))?;
                match f.nodes().into_iter().find(|n| !nodes.contains(n)) {
                    Some(n) => Err(format!(
                        "schedule entry {} ({}) names node {n:?}, which this run does not have (nodes: {})",
                        i + 1,
                        a.kind,
                        nodes.join(", ")
                    )),
                    None => Ok(f),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_and_build_info() {
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(Build::current().version, env!("CARGO_PKG_VERSION"));
    }

    #[test]
    fn replayed_faults_must_name_nodes_the_run_has() {
        let record = RunRecord {
            faultline: Build::current(),
            seed: 1,
            inputs: Inputs {
                spec: SpecRecord {
                    file: "s.yaml".into(),
                    dir: "/".into(),
                    sha256: sha256_hex(""),
                },
                overrides: Overrides::default(),
                cluster: None,
            },
            nodes: Vec::new(),
            started: String::new(),
            finished: String::new(),
            schedule: vec![Applied {
                kind: "kill".into(),
                value: serde_json::json!(["n5"]),
                start_ns: 0,
                stop_ns: None,
                error: None,
                outcome: None,
            }],
            replay: String::new(),
        };
        let r = Recorded {
            record,
            spec_text: String::new(),
            spec_path: "test.yaml".into(),
        };
        let five: Vec<String> = (1..=5).map(|i| format!("n{i}")).collect();
        assert_eq!(r.faults(&five).unwrap().len(), 1);
        let e = r.faults(&five[..3]).unwrap_err();
        assert!(e.contains("\"n5\"") && e.contains("n1, n2, n3"), "{e}");
    }
}
