//! Real PostgreSQL 15 on a local node, Elle's list-append workload at three
//! isolation levels, with kill faults: serializable is valid; repeatable
//! read (snapshot isolation) shows write skew (G2-item); read committed
//! shows anomalies serializability forbids. Asserted on anomaly names, not
//! only exit codes. Needs root and postgresql (CI installs both).

mod common;

use common::{require, require_root, text};
use std::process::Command;

fn run(level: &str) -> (Option<i32>, serde_json::Value, String) {
    let store = std::env::temp_dir().join(format!("faultline-pg-{}", std::process::id()));
    let spec = format!("workloads/postgres-append-{level}.yaml");
    let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args([
            "test",
            &spec,
            "--time-limit",
            "25",
            "--store",
            store.to_str().unwrap(),
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("faultline runs");
    let log = format!("{}\n{}", text(&out.stdout), text(&out.stderr));
    let results = store.join(format!("postgres-append-{level}/latest/results.json"));
    let json = std::fs::read_to_string(&results)
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}\n{log}", results.display()));
    (out.status.code(), json, log)
}

fn anomalies(results: &serde_json::Value) -> Vec<String> {
    results["checkers"]["elle"]["anomaly_types"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
#[ignore = "needs root, openssh-server and postgresql 15: run with `-- --include-ignored` as root (.ci/run does)"]
fn postgres_isolation_levels_get_the_anomalies_they_allow() {
    require_root();
    require("/usr/lib/postgresql/15/bin/postgres", "postgresql");
    let (code, results, log) = run("serializable");
    assert_eq!(
        code,
        Some(0),
        "serializable must be valid: {:?}\n{log}",
        anomalies(&results)
    );
    let ok = results["checkers"]["stats"]["by_f"]["txn"]["ok"]
        .as_u64()
        .unwrap_or(0);
    assert!(ok > 500, "only {ok} committed txns\n{log}");
    assert!(
        results["nemesis"].as_array().is_some_and(|n| !n.is_empty()),
        "kills applied"
    );

    let (code, results, log) = run("repeatable-read");
    let found = anomalies(&results);
    assert_eq!(code, Some(1), "{found:?}\n{log}");
    assert!(
        found.iter().any(|a| a == "G2-item"),
        "write skew expected under snapshot isolation: {found:?}"
    );
    let forbidden_by_si = [
        "G0",
        "G1a",
        "G1b",
        "G1c",
        "G-single-item",
        "G-nonadjacent-item",
        "lost-update",
        "PL-SI-cycle-exists",
        "unexplained-element",
    ];
    assert!(
        !found.iter().any(|a| forbidden_by_si.contains(&a.as_str())),
        "repeatable read is snapshot isolation: {found:?}"
    );

    let (code, results, log) = run("read-committed");
    let found = anomalies(&results);
    assert_eq!(code, Some(1), "{found:?}\n{log}");
    let serializable_forbids = [
        "G-single-item",
        "G2-item",
        "lost-update",
        "G-nonadjacent-item",
    ];
    assert!(
        found
            .iter()
            .any(|a| serializable_forbids.contains(&a.as_str())),
        "{found:?}"
    );
    assert!(
        !found
            .iter()
            .any(|a| ["G0", "G1a", "G1b", "unexplained-element"].contains(&a.as_str())),
        "read committed forbids these: {found:?}"
    );
}
