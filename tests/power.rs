//! Power faults against real servers, through the fault filesystem: a
//! system that acknowledges writes before fsyncing them loses some when
//! the power goes (invalid, the lost elements named), one that fsyncs
//! first loses nothing (valid) — asserted on the lost elements and on
//! what each power fault dropped, not only on exit codes. Needs root,
//! /dev/fuse and the servers (CI installs them).

mod common;

use common::{require, require_root, run_workload, Run};

/// What the run's power faults dropped: (faults applied, bytes dropped).
fn power_dropped(results: &serde_json::Value) -> (usize, u64) {
    let schedule = results["run"]["schedule"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let power: Vec<&serde_json::Value> = schedule.iter().filter(|a| a["kind"] == "power").collect();
    let bytes = power
        .iter()
        .filter_map(|a| a["outcome"].as_object())
        .flat_map(|m| m.values())
        .filter_map(|n| n["dropped_bytes"].as_u64())
        .sum();
    (power.len(), bytes)
}

fn lost(run: &Run) -> u64 {
    run.results["checkers"]["set-full"]["lost_count"]
        .as_u64()
        .unwrap_or(0)
}

#[test]
#[ignore = "needs root, /dev/fuse and redis-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn redis_loses_acknowledged_adds_to_power_failures_unless_it_fsyncs_every_write() {
    require_root();
    require("/usr/bin/redis-server", "redis-server");
    require("/dev/fuse", "fuse3");

    let r = run_workload("power", "redis-everysec-power", 15);
    let set = &r.results["checkers"]["set-full"];
    assert_eq!(r.code, Some(1), "{set}\n{}", r.log);
    assert!(lost(&r) > 0, "{set}");
    assert!(r.log.contains("lost after being seen"), "named: {}", r.log);
    let (faults, bytes) = power_dropped(&r.results);
    assert!(faults > 0, "power faults applied: {}", r.results["run"]);
    assert!(
        bytes > 0,
        "unsynced AOF bytes dropped: {}",
        r.results["run"]
    );

    let r = run_workload("power", "redis-always-power", 15);
    let set = &r.results["checkers"]["set-full"];
    assert_eq!(r.code, Some(0), "{set}\n{}", r.log);
    assert_eq!(lost(&r), 0, "{set}");
    let stable = set["stable_count"].as_u64().unwrap_or(0);
    assert!(
        stable > 500,
        "only {stable} elements became stable\n{}",
        r.log
    );
    assert!(power_dropped(&r.results).0 > 0, "power faults applied");
}
