//! Real MariaDB Galera Cluster (MariaDB 10.11, galera-4 26.4) on three
//! local nodes, multi-primary, as in Jepsen's 2026 analysis: in a healthy
//! cluster at REPEATABLE READ it loses updates (P4: lost-update and
//! G-single-item cycles), and with `wsrep_sync_wait=0` it serves stale
//! reads, which a strict-serializable check shows as real-time cycles;
//! with every node killed at once it loses acknowledged commits under
//! `innodb_flush_log_at_trx_commit=0` and none under `=1`, also when the
//! cluster cannot re-form by itself and faultline's fallback (`db.recover`)
//! bootstraps it from the most advanced node; with every node's power cut
//! at once under `=2` it loses them again. Asserted on anomaly names and
//! lost elements; docs/galera.md has the measurements. Needs root,
//! mariadb-server, galera-4, rsync and fuse3 (CI installs them). The tests
//! take turns (each run makes a 3-node cluster): about 6–7 minutes in all
//! (more when the stale-read or power run needs its second try).

mod common;

use common::{
    elle_anomalies as anomalies, history, lost, require, require_root, run_variant, run_workload,
};
use std::sync::Mutex;

/// One Galera cluster at a time: two would share this machine's cores
/// with each other as well as with the rest of the suite.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn require_galera() {
    require_root();
    require("/usr/sbin/mariadbd", "mariadb-server");
    require("/usr/lib/galera/libgalera_smm.so", "galera-4");
    require("/usr/bin/rsync", "rsync");
}

#[test]
#[ignore = "needs root, openssh-server, mariadb-server and galera-4: run with `-- --include-ignored` as root (.ci/run does)"]
fn galera_loses_updates_in_a_healthy_cluster() {
    require_galera();
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let r = run_workload("galera", "galera-append", 20);
    let found = anomalies(&r.results);
    assert_eq!(r.code, Some(1), "{found:?}\n{}", r.log);
    assert!(
        found
            .iter()
            .any(|a| a == "lost-update" || a == "G-single-item"),
        "P4 (lost-update or G-single-item) expected: {found:?}\n{}",
        r.log
    );
    // Every node took part: workers are spread over the three nodes, and
    // certification conflicts between them come back as 1213, `fail`.
    let ok = r.results["checkers"]["stats"]["by_f"]["txn"]["ok"]
        .as_u64()
        .unwrap_or(0);
    assert!(ok > 1000, "only {ok} committed txns\n{}", r.log);
    let history = std::fs::read_to_string(r.dir.join("history.jsonl")).unwrap();
    for node in ["n1", "n2", "n3"] {
        assert!(
            history.contains(&format!("\"node\":\"{node}\"")),
            "no op on {node}\n{}",
            r.log
        );
    }
}

/// Real-time cycles a strong snapshot isolation forbids: a transaction
/// that began after another one completed and still missed its writes.
/// (G2-item-realtime is not among them: write skew across a real-time edge
/// is allowed there, and shows up with `wsrep_sync_wait=1` too.)
const STALE_READS: [&str; 3] = ["G-single-item-realtime", "G0-realtime", "G1c-realtime"];

#[test]
#[ignore = "needs root, openssh-server, mariadb-server and galera-4: run with `-- --include-ignored` as root (.ci/run does)"]
fn galera_serves_stale_reads_with_sync_wait_0() {
    require_galera();
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    // On one host the other nodes apply a commit within about a millisecond,
    // so stale reads are rare and come in bursts: none in 1 of 7 runs of
    // 45 s measured (docs/galera.md). A run without one gets a second,
    // longer run, with a fresh seed, before the test fails.
    let mut tries = Vec::new();
    for seconds in [45, 60] {
        let r = run_workload("galera", "galera-stale-read", seconds);
        let found = anomalies(&r.results);
        assert_eq!(r.code, Some(1), "{found:?}\n{}", r.log);
        if found.iter().any(|a| STALE_READS.contains(&a.as_str())) {
            return;
        }
        tries.push(format!("{}: {found:?}", r.dir.display()));
    }
    panic!("a stale read ({STALE_READS:?}) expected in one of two runs (45 s, 60 s):\n{tries:#?}");
}

/// Acknowledged elements set-full found lost, and adds acknowledged after
/// the first restart (the cluster came back and served).
fn lost_and_served(r: &common::Run) -> (u64, usize) {
    (lost(r), served_after(r, &["stop-kill", "stop-power"]))
}

/// Adds acknowledged after the first nemesis event named one of `fs` (its
/// completion).
fn served_after(r: &common::Run, fs: &[&str]) -> usize {
    let ops = history(r);
    let after = ops
        .iter()
        .find(|o| {
            o["process"] == "nemesis" && fs.iter().any(|f| o["f"] == *f) && o["type"] != "invoke"
        })
        .and_then(|o| o["time"].as_u64())
        .unwrap_or_else(|| panic!("no {fs:?} event\n{}", r.log));
    ops.iter()
        .filter(|o| o["f"] == "add" && o["type"] == "ok")
        .filter(|o| o["time"].as_u64().is_some_and(|t| t > after))
        .count()
}

#[test]
#[ignore = "needs root, openssh-server, mariadb-server and galera-4: run with `-- --include-ignored` as root (.ci/run does)"]
fn galera_loses_commits_when_every_node_crashes_only_with_flush_log_at_trx_commit_0() {
    require_galera();
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    // Every node killed at once, twice in 45 s; each restart recovers its
    // position (--wsrep-recover) and the cluster re-forms by itself.
    let r = run_workload("galera", "galera-crash-flush0", 45);
    let (lost, served) = lost_and_served(&r);
    assert_eq!(r.code, Some(1), "{}", r.log);
    assert!(lost > 0, "acknowledged inserts lost\n{}", r.log);
    assert!(r.log.contains("lost after being seen"), "named: {}", r.log);
    assert!(
        served > 100,
        "only {served} adds after the restart\n{}",
        r.log
    );

    // =1, and the cluster cannot re-form by itself (pc.recovery off): the
    // fallback (db.recover) must bootstrap it from the most advanced node,
    // and that must lose nothing acknowledged. Faults start after 5 s.
    let r = run_variant("galera", "galera-crash-flush1", 60, |spec| {
        spec.replace("gcache.size=32M\"", "gcache.size=32M;pc.recovery=false\"")
            .replace("quiet: 15s", "quiet: 5s")
    });
    let lost = common::lost(&r);
    assert_eq!(r.code, Some(0), "lost {lost}\n{}", r.log);
    assert_eq!(lost, 0, "{}", r.log);
    let recover = history(&r)
        .into_iter()
        .find(|o| o["f"] == "recover")
        .unwrap_or_else(|| panic!("the fallback ran\n{}", r.log));
    assert!(recover.get("error").is_none(), "{recover}\n{}", r.log);
    let chosen = recover["value"]["chosen"].as_str().expect("a node chosen");
    let positions = recover["value"]["positions"].as_object().unwrap();
    let best = positions.values().filter_map(|p| p.as_i64()).max().unwrap();
    assert_eq!(positions[chosen].as_i64(), Some(best), "{recover}");
    let served = served_after(&r, &["recover"]);
    assert!(
        served > 100,
        "only {served} adds after the fallback\n{}",
        r.log
    );
}

#[test]
#[ignore = "needs root, openssh-server, mariadb-server, galera-4 and fuse3: run with `-- --include-ignored` as root (.ci/run does)"]
fn galera_loses_commits_when_every_node_loses_power_with_flush_log_at_trx_commit_2() {
    require_galera();
    require("/dev/fuse", "fuse3");
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    // Every node's power cut at once, twice in 75 s: each cut loses what
    // the nodes wrote but had not fsynced (about a second of commits under
    // =2). Measured: lost in 6 of 7 runs (docs/galera.md); a run that
    // loses nothing gets a second one before the test fails.
    let mut tries = Vec::new();
    for _ in 0..2 {
        let r = run_workload("galera", "galera-power-flush2", 75);
        let (lost, served) = lost_and_served(&r);
        assert!(
            served > 100,
            "only {served} adds after the first restart\n{}",
            r.log
        );
        if lost > 0 {
            assert_eq!(r.code, Some(1), "{}", r.log);
            assert!(r.log.contains("lost after being seen"), "named: {}", r.log);
            return;
        }
        tries.push(r.log);
    }
    panic!("acknowledged inserts lost expected in one of two runs:\n{tries:#?}");
}
