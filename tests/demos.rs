//! The demo workloads for Jepsen's checkers, end to end on the local
//! cluster with the example service: each demo (`workloads/*-demo.yaml`) is
//! valid, and each buggy twin (`*-buggy.yaml`, the service run with one
//! `--bug`) is invalid with the broken guarantee named in results.json.
//! `crash-demo` crashes the server on n2 (which the nemesis also kills and
//! restarts): db-alive and log-pattern make the run invalid, naming the
//! node and the log line. Needs root.
//!
//! Each run is 8 s of ops (about 12 s in all); at most [`AT_ONCE`] run at a
//! time, so a 2-core CI machine does not time ops out.

mod common;

use common::{require_root, text};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Condvar, Mutex};

/// Runs of this file at once.
const AT_ONCE: usize = 3;
static RUNNING: Mutex<usize> = Mutex::new(0);
static FREED: Condvar = Condvar::new();

fn store() -> PathBuf {
    std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("faultline-demos-{}", std::process::id()))
}

/// Runs `workloads/NAME.yaml` for 8 s on 3 local nodes; returns the exit
/// code, stdout and results.json.
fn run(name: &str) -> (Option<i32>, String, Value) {
    {
        let mut n = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        while *n >= AT_ONCE {
            n = FREED.wait(n).unwrap_or_else(|e| e.into_inner());
        }
        *n += 1;
    }
    let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["test", &format!("workloads/{name}.yaml"), "--store"])
        .arg(store())
        .args(["--time-limit", "8", "--local", "3", "--seed", "1"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("faultline runs");
    *RUNNING.lock().unwrap_or_else(|e| e.into_inner()) -= 1;
    FREED.notify_one();
    let stdout = text(&out.stdout);
    let path = store().join(name).join("latest/results.json");
    let results = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_else(|| panic!("no {}:\n{stdout}\n{}", path.display(), text(&out.stderr)));
    (out.status.code(), stdout, results)
}

/// A demo: exit 0, and every checker listed valid.
fn valid(name: &str, checkers: &[&str]) {
    require_root();
    let (code, stdout, r) = run(name);
    assert_eq!(code, Some(0), "{name}:\n{stdout}");
    for c in checkers.iter().chain(&["db-alive", "stats"]) {
        assert_eq!(r["checkers"][c]["valid"], true, "{name}: {c}:\n{stdout}");
    }
}

/// A buggy twin: exit 1, `checker` invalid, and the broken guarantee
/// named: `field` (a JSON pointer into the checker's result) non-empty.
/// Returns the checker's result and the whole results.json.
fn invalid(name: &str, checker: &str, field: &str) -> (Value, Value) {
    require_root();
    let (code, stdout, r) = run(name);
    assert_eq!(code, Some(1), "{name}:\n{stdout}");
    assert_eq!(r["valid"], false, "{name}");
    let c = &r["checkers"][checker];
    assert_eq!(c["valid"], false, "{name}: {checker}:\n{stdout}");
    let named = c.pointer(field).unwrap_or(&Value::Null);
    let present = match named {
        Value::Number(n) => n.as_u64().is_some_and(|n| n > 0),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        Value::String(s) => !s.is_empty() && s != "#{}",
        _ => false,
    };
    assert!(present, "{name}: {checker}{field} = {named}:\n{stdout}");
    (c.clone(), r)
}

#[test]
#[ignore = "needs root and openssh-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn set_demo_is_valid() {
    valid("set-demo", &["set", "set-full"]);
}

#[test]
#[ignore = "needs root and openssh-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn set_buggy_loses_acknowledged_adds() {
    let (c, _) = invalid("set-buggy", "set", "/lost_count");
    assert!(c["lost"].as_str().unwrap().starts_with("#{"), "{c}");
}

#[test]
#[ignore = "needs root and openssh-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn counter_demo_is_valid() {
    valid("counter-demo", &["counter"]);
}

#[test]
#[ignore = "needs root and openssh-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn counter_buggy_reads_below_the_lower_bound() {
    let (c, _) = invalid("counter-buggy", "counter", "/errors");
    // [lower, value, upper]: the dropped increments put reads below.
    let e = &c["errors"][0];
    assert!(e[1].as_i64() < e[0].as_i64(), "{e}");
}

#[test]
#[ignore = "needs root and openssh-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn bank_demo_is_valid() {
    valid("bank-demo", &["bank"]);
}

#[test]
#[ignore = "needs root and openssh-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn bank_buggy_reads_a_wrong_total() {
    let (c, _) = invalid("bank-buggy", "bank", "/errors/wrong-total/count");
    assert_eq!(c["total"], 100, "{c}");
}

#[test]
#[ignore = "needs root and openssh-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn queue_demo_is_valid() {
    valid("queue-demo", &["total-queue"]);
}

#[test]
#[ignore = "needs root and openssh-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn queue_buggy_loses_acknowledged_enqueues() {
    invalid("queue-buggy", "total-queue", "/lost_count");
}

#[test]
#[ignore = "needs root and openssh-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn ids_demo_is_valid() {
    valid("ids-demo", &["unique-ids"]);
}

#[test]
#[ignore = "needs root and openssh-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn ids_buggy_hands_out_an_id_twice() {
    invalid("ids-buggy", "unique-ids", "/duplicated");
}

#[test]
#[ignore = "needs root and openssh-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn a_crashed_db_makes_the_run_invalid_with_its_log() {
    let (c, r) = invalid("crash-demo", "db-alive", "/crashed");
    assert_eq!(c["crashed"], serde_json::json!(["n2"]), "{c}");
    let tail = c["dead"][0]["log_tail"].to_string();
    assert!(tail.contains("FATAL: simulated crash"), "{c}");
    let l = &r["checkers"]["log-pattern"];
    assert_eq!(l["valid"], false, "{l}");
    assert_eq!(l["matches"][0]["file"], "nodes/n2/kvserver.log", "{l}");
    assert!(l["matches"][0]["line"].as_u64().unwrap() >= 1, "{l}");
    // The set itself is fine: only the crash checkers fail.
    assert_eq!(r["checkers"]["set"]["valid"], true, "{r}");
}

#[test]
#[ignore = "needs root and openssh-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn long_fork_demo_is_valid() {
    valid("long-fork-demo", &["long-fork"]);
}

#[test]
#[ignore = "needs root and openssh-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn long_fork_buggy_reads_fork() {
    let (c, _) = invalid("long-fork-buggy", "long-fork", "/forks");
    // Each fork is two reads of one group that disagree.
    assert_eq!(c["forks"][0].as_array().map(Vec::len), Some(2), "{c}");
}
