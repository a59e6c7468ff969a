//! Real Redis 7, Jepsen's set-full workload. One node with the server
//! killed and restarted: with the AOF fsynced on every write nothing
//! acknowledged is lost (valid); with RDB snapshots only, acknowledged
//! elements are lost and set-full names them (invalid). Three nodes with
//! Sentinel, the primary cut off: the failover loses what the old primary
//! acknowledged (invalid). Needs root, redis-server and redis-sentinel (CI
//! installs them).

mod common;

use common::{require, require_root, run_workload};

fn run(name: &str, seconds: u32) -> common::Run {
    run_workload("redis", name, seconds)
}

#[test]
#[ignore = "needs root, openssh-server and redis-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn redis_keeps_acknowledged_adds_with_the_aof_and_loses_them_without() {
    require_root();
    require("/usr/bin/redis-server", "redis-server");

    let common::Run {
        code, results, log, ..
    } = run("redis-durable", 12);
    let set = &results["checkers"]["set-full"];
    assert_eq!(code, Some(0), "{set}\n{log}");
    assert_eq!(set["lost_count"], 0, "{set}");
    let stable = set["stable_count"].as_u64().unwrap_or(0);
    assert!(stable > 500, "only {stable} elements became stable\n{log}");
    assert!(
        results["nemesis"].as_array().is_some_and(|n| !n.is_empty()),
        "kills applied: {results}"
    );

    let common::Run {
        code, results, log, ..
    } = run("redis-no-aof", 12);
    let set = &results["checkers"]["set-full"];
    assert_eq!(code, Some(1), "{set}\n{log}");
    let lost = set["lost_count"].as_u64().unwrap_or(0);
    assert!(lost > 0, "{set}");
    assert!(
        log.contains("lost after being seen"),
        "the lost elements are named: {log}"
    );
}

#[test]
#[ignore = "needs root, openssh-server, redis-server and redis-sentinel: run with `-- --include-ignored` as root (.ci/run does)"]
fn a_sentinel_failover_loses_writes_the_old_primary_acknowledged() {
    require_root();
    require("/usr/bin/redis-sentinel", "redis-sentinel");
    let common::Run {
        code,
        results,
        log,
        dir,
    } = run("redis-failover", 30);
    let set = &results["checkers"]["set-full"];
    assert_eq!(code, Some(1), "{set}\n{log}");
    let lost: Vec<i64> = set["lost"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_i64()).collect())
        .unwrap_or_default();
    assert!(!lost.is_empty(), "{set}");
    // Among the lost: adds the old primary acknowledged (`ok`), not only
    // indeterminate ones.
    let history = std::fs::read_to_string(dir.join("history.jsonl")).unwrap();
    let acked_lost = history
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|o| o["type"] == "ok" && o["f"] == "add")
        .filter(|o| o["value"].as_i64().is_some_and(|v| lost.contains(&v)))
        .count();
    assert!(acked_lost > 0, "no acknowledged add among the lost: {set}");
    let partitions = results["nemesis"].as_array().map_or(0, |n| {
        n.iter()
            .filter(|f| f.to_string().contains("partition"))
            .count()
    });
    assert!(partitions > 0, "the primary was cut off: {results}");
}
