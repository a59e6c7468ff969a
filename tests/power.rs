//! Power faults against real servers, through the fault filesystem: a
//! system that acknowledges writes before fsyncing them loses some when
//! the power goes (invalid, the lost elements named), one that fsyncs
//! first loses nothing (valid) — asserted on the lost elements and on
//! what each power fault dropped, not only on exit codes. Redis (set-full),
//! PostgreSQL and MariaDB (Elle's list-append, and the appends a read after
//! the restart no longer shows), etcd (three nodes, every one losing power
//! at once). Needs root, /dev/fuse and the servers (CI installs them).

mod common;

use common::{
    elle_anomalies, history, lost, require, require_root, run_valid_txns, run_workload, Run,
};

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

/// When each power fault started (its invoke) and when the DB was
/// restarted after it (the stop's completion), in history time.
fn power_windows(h: &[serde_json::Value]) -> Vec<(u64, u64)> {
    let nemesis = |f: &str, invoke: bool| -> Vec<u64> {
        h.iter()
            .filter(|o| {
                o["process"] == "nemesis" && o["f"] == f && (o["type"] == "invoke") == invoke
            })
            .filter_map(|o| o["time"].as_u64())
            .collect()
    };
    nemesis("start-power", true)
        .into_iter()
        .zip(nemesis("stop-power", false))
        .collect()
}

/// Client operations that completed `ok` after the first power fault's
/// restart: the DB came back and served (a valid verdict on a history with
/// nothing after the first cut would check nothing).
fn ok_after_first_restart(run: &Run) -> usize {
    let h = history(run);
    let Some(&(_, restarted)) = power_windows(&h).first() else {
        return 0;
    };
    h.iter()
        .filter(|o| o["process"] != "nemesis" && o["type"] == "ok")
        .filter(|o| o["time"].as_u64().is_some_and(|t| t > restarted))
        .count()
}

/// List-append: for each power fault and each key, the elements the last
/// `ok` read before the fault showed that the first `ok` read after the
/// restart no longer shows — committed appends the power took.
fn lost_appends(run: &Run) -> usize {
    let h = history(run);
    let reads = |o: &serde_json::Value| -> Vec<(i64, Vec<i64>)> {
        if o["type"] != "ok" || o["f"] != "txn" {
            return Vec::new();
        }
        o["value"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| m[0] == "r" && m[2].is_array())
            .filter_map(|m| {
                let list = m[2].as_array()?.iter().filter_map(|x| x.as_i64()).collect();
                Some((m[1].as_i64()?, list))
            })
            .collect()
    };
    let mut lost = 0;
    for (cut, restarted) in power_windows(&h) {
        let mut before = std::collections::HashMap::new();
        let mut after = std::collections::HashMap::new();
        for o in &h {
            let t = o["time"].as_u64().unwrap_or(0);
            for (k, list) in reads(o) {
                if t < cut {
                    before.insert(k, list);
                } else if t > restarted {
                    after.entry(k).or_insert(list);
                }
            }
        }
        for (k, seen) in &before {
            if let Some(later) = after.get(k) {
                lost += seen.iter().filter(|x| !later.contains(x)).count();
            }
        }
    }
    lost
}

/// The files each power fault dropped unsynced writes of, per node.
fn dropped_paths(results: &serde_json::Value) -> Vec<String> {
    let schedule = results["run"]["schedule"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    schedule
        .iter()
        .filter(|a| a["kind"] == "power")
        .filter_map(|a| a["outcome"].as_object().cloned())
        .flat_map(|m| m.into_iter().map(|(_, n)| n))
        .flat_map(|n| n["dirs"].as_array().cloned().unwrap_or_default())
        .flat_map(|d| {
            d["dropped"]["files"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|f| f["path"].as_str().map(String::from))
        .collect()
}

#[test]
#[ignore = "needs root, /dev/fuse and postgresql: run with `-- --include-ignored` as root (.ci/run does)"]
fn postgres_loses_commits_to_power_failures_only_with_fsync_off() {
    require_root();
    require("/usr/lib/postgresql/15/bin/postgres", "postgresql");
    require("/dev/fuse", "fuse3");

    let r = run_workload("power", "postgres-fsync-off-power", 20);
    let found = elle_anomalies(&r.results);
    assert_eq!(r.code, Some(1), "{found:?}\n{}", r.log);
    assert!(
        found.iter().any(|a| a == "incompatible-order"),
        "reads after a cut that do not extend the reads before it: {found:?}\n{}",
        r.log
    );
    let lost = lost_appends(&r);
    assert!(lost > 0, "committed appends lost\n{}", r.log);
    let (faults, bytes) = power_dropped(&r.results);
    assert!(faults > 0, "power faults applied: {}", r.results["run"]);
    assert!(bytes > 0, "unsynced WAL dropped: {}", r.results["run"]);
    assert!(
        dropped_paths(&r.results)
            .iter()
            .any(|p| p.starts_with("pg_wal/")),
        "the WAL was among what the power took: {:?}",
        dropped_paths(&r.results)
    );
    assert_eq!(
        r.results["checkers"]["db-alive"]["valid"], true,
        "the server restarts after each cut (the spec removes the empty lock file)\n{}",
        r.log
    );
    assert!(
        ok_after_first_restart(&r) > 0,
        "served after the cut\n{}",
        r.log
    );

    let r = run_valid_txns("power", "postgres-power", 20);
    assert_eq!(lost_appends(&r), 0, "{}", r.log);
    let served = ok_after_first_restart(&r);
    assert!(
        served > 20,
        "only {served} txns after the first cut\n{}",
        r.log
    );
    assert!(power_dropped(&r.results).0 > 0, "power faults applied");
}

#[test]
#[ignore = "needs root, /dev/fuse and etcd-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn etcd_loses_its_log_to_a_coordinated_power_failure_only_with_unsafe_no_fsync() {
    require_root();
    require("/usr/bin/etcd", "etcd-server");
    require("/usr/bin/etcdctl", "etcd-client");
    require("/dev/fuse", "fuse3");

    // With no fsync at all, every member comes back with none of its Raft
    // log — not even the membership — and the cluster never serves again:
    // the checkers see no read that could miss a write, and log-pattern
    // names the members that restarted at commit index 0.
    let r = run_workload("power", "etcd-no-fsync-power", 20);
    let lp = &r.results["checkers"]["log-pattern"];
    assert_eq!(r.code, Some(1), "{lp}\n{}", r.log);
    assert_eq!(lp["valid"], false, "{lp}");
    let matches = lp["matches"].as_array().cloned().unwrap_or_default();
    for node in ["n1", "n2", "n3"] {
        assert!(
            matches.iter().any(|m| {
                m["file"]
                    .as_str()
                    .is_some_and(|f| f.contains(&format!("{node}/")))
                    && m["text"]
                        .as_str()
                        .is_some_and(|t| t.ends_with("at commit index 0"))
            }),
            "{node} restarted with an empty log: {lp}"
        );
    }
    let first = r.results["run"]["schedule"]
        .as_array()
        .and_then(|s| s.iter().find(|a| a["kind"] == "power"))
        .cloned()
        .unwrap_or_default();
    for node in ["n1", "n2", "n3"] {
        let b = first["outcome"][node]["dropped_bytes"]
            .as_u64()
            .unwrap_or(0);
        assert!(
            b > 0,
            "{node} lost its unsynced WAL in the first cut: {first}"
        );
    }

    let r = run_workload("power", "etcd-power", 20);
    let lin = &r.results["checkers"]["linearizable"];
    assert_eq!(r.code, Some(0), "{lin}\n{}", r.log);
    assert_eq!(lin["valid"], true, "{lin}");
    assert_eq!(r.results["checkers"]["log-pattern"]["valid"], true);
    let served = ok_after_first_restart(&r);
    assert!(
        served > 100,
        "only {served} ops after the first cut\n{}",
        r.log
    );
    assert!(power_dropped(&r.results).0 > 0, "power faults applied");
}

#[test]
#[ignore = "needs root, /dev/fuse and mariadb-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn mariadb_loses_commits_to_power_failures_only_with_flush_log_at_trx_commit_2() {
    require_root();
    require("/usr/sbin/mariadbd", "mariadb-server");
    require("/dev/fuse", "fuse3");

    let r = run_workload("power", "mariadb-flush2-power", 20);
    let found = elle_anomalies(&r.results);
    assert_eq!(r.code, Some(1), "{found:?}\n{}", r.log);
    assert!(
        found.iter().any(|a| a == "incompatible-order"),
        "reads after a cut that do not extend the reads before it: {found:?}\n{}",
        r.log
    );
    let lost = lost_appends(&r);
    assert!(lost > 0, "committed appends lost\n{}", r.log);
    let (faults, bytes) = power_dropped(&r.results);
    assert!(faults > 0, "power faults applied: {}", r.results["run"]);
    assert!(bytes > 0, "unsynced writes dropped: {}", r.results["run"]);
    // MariaDB 10.11 writes its redo log through the page cache here
    // ("Buffered log writes"), so what the power took includes its tail.
    assert!(
        dropped_paths(&r.results).iter().any(|p| p == "ib_logfile0"),
        "{:?}",
        dropped_paths(&r.results)
    );

    let r = run_valid_txns("power", "mariadb-flush1-power", 20);
    assert_eq!(lost_appends(&r), 0, "{}", r.log);
    let served = ok_after_first_restart(&r);
    assert!(
        served > 100,
        "only {served} txns after the first cut\n{}",
        r.log
    );
    assert!(power_dropped(&r.results).0 > 0, "power faults applied");
}
