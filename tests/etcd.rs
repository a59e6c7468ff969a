//! Real etcd (Debian etcd-server 3.4) on the local cluster, through the
//! native client: with linearizable reads it passes three consecutive 60 s
//! runs under partitions, kills and pauses (no false positives); with
//! serializable reads and the leader cut off, a stale read is found. Needs
//! root and etcd (CI installs both).

mod common;

use common::{require, require_root, text};
use std::path::{Path, PathBuf};
use std::process::Command;

fn store(tag: &str) -> PathBuf {
    std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("faultline-etcd-{tag}-{}", std::process::id()))
}

fn run(spec: &str, store: &Path, seed: u64) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args([
            "test",
            spec,
            "--time-limit",
            "60",
            "--seed",
            &seed.to_string(),
        ])
        .args(["--store", store.to_str().unwrap()])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("faultline runs");
    (
        out.status.code(),
        format!("{}\n{}", text(&out.stdout), text(&out.stderr)),
    )
}

fn latest_history(store: &Path, name: &str) -> Vec<serde_json::Value> {
    std::fs::read_to_string(store.join(name).join("latest/history.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
#[ignore = "needs root, openssh-server and etcd-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn etcd_register_is_linearizable_and_serializable_reads_are_caught_stale() {
    require_root();
    require("/usr/bin/etcd", "etcd-server etcd-client");
    let s = store("register");
    for seed in 1..=3 {
        let (code, out) = run("workloads/etcd-register.yaml", &s, seed);
        assert_eq!(code, Some(0), "run {seed} must be valid:\n{out}");
        let h = latest_history(&s, "etcd-register");
        let ok = h
            .iter()
            .filter(|o| o["type"] == "ok" && o["process"] != "nemesis")
            .count();
        assert!(ok >= 1000, "run {seed}: only {ok} ok ops");
        let faults = h
            .iter()
            .filter(|o| {
                o["process"] == "nemesis" && o["f"].as_str().unwrap_or("").starts_with("start-")
            })
            .count();
        assert!(faults >= 3, "run {seed}: only {faults} faults applied");
    }
    let s = store("stale");
    let mut found = false;
    for seed in 1..=3 {
        let (code, out) = run("workloads/etcd-stale-read.yaml", &s, seed);
        if code == Some(1) {
            assert!(
                out.contains("cannot linearize") && out.contains(":read → ok"),
                "{out}"
            );
            found = true;
            break;
        }
        assert_eq!(code, Some(0), "{out}");
    }
    assert!(found, "no stale read in 3 runs of 60 s");
}
