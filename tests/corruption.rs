//! Corruption faults against a real server: with Redis's AOF fsynced on
//! every write, a power failure loses nothing (tests/power.rs), but a
//! truncate fault — the AOF's tail cut off while the server is down, a
//! disk that lost the end of a file — loses the acknowledged adds in that
//! tail, because Redis's default `aof-load-truncated yes` loads what is
//! left and carries on. Asserted on the lost elements and on what the
//! fault changed. Needs root, /dev/fuse and redis-server.

mod common;

use common::{require, require_root, run_workload};

#[test]
#[ignore = "needs root, /dev/fuse and redis-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn a_truncated_aof_loses_acknowledged_adds() {
    require_root();
    require("/usr/bin/redis-server", "redis-server");
    require("/dev/fuse", "fuse3");
    let r = run_workload("corrupt", "redis-truncate-aof", 15);
    let set = &r.results["checkers"]["set-full"];
    assert_eq!(r.code, Some(1), "{set}\n{}", r.log);
    assert!(set["lost_count"].as_u64().unwrap_or(0) > 0, "{set}");
    assert!(r.log.contains("lost after being seen"), "{}", r.log);
    // What each truncate did: files under appendonlydir/, 2048 bytes each.
    let schedule = r.results["run"]["schedule"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let cut: Vec<&serde_json::Value> = schedule
        .iter()
        .filter(|a| a["kind"] == "truncate")
        .filter_map(|a| a["outcome"].as_object())
        .flat_map(|m| m.values())
        .flat_map(|n| n["files"].as_array().into_iter().flatten())
        .collect();
    assert!(!cut.is_empty(), "{}", r.results["run"]);
    for f in cut {
        assert!(
            f["file"].as_str().unwrap().contains("/appendonlydir/"),
            "{f}"
        );
        assert_eq!(f["bytes"], 2048, "{f}");
    }
}
