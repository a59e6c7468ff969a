//! Real MariaDB 10.11 on a local node, Elle's list-append workload with
//! kill faults: SERIALIZABLE is valid; REPEATABLE READ is invalid as
//! snapshot isolation, with anomalies snapshot isolation forbids (InnoDB's
//! REPEATABLE READ writes and re-reads the latest version, not its
//! snapshot), and valid as snapshot isolation once
//! `innodb_snapshot_isolation=ON`; READ COMMITTED is invalid as
//! serializable with anomalies read committed allows, none it forbids.
//! Asserted on anomaly names. Needs root and mariadb-server (CI installs
//! both).

mod common;

use common::{elle_anomalies as anomalies, require, require_root, run_valid_txns, run_workload};

fn run(level: &str) -> (Option<i32>, serde_json::Value, String) {
    let r = run_workload("maria", &format!("mariadb-append-{level}"), 20);
    (r.code, r.results, r.log)
}

#[test]
#[ignore = "needs root, openssh-server and mariadb-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn mariadb_serializable_is_valid_and_repeatable_read_is_weaker_than_snapshot_isolation() {
    require_root();
    require("/usr/sbin/mariadbd", "mariadb-server");
    run_valid_txns("maria", "mariadb-append-serializable", 20);

    let (code, results, log) = run("repeatable-read");
    let found = anomalies(&results);
    assert_eq!(code, Some(1), "{found:?}\n{log}");
    let forbidden_by_si = ["G-single-item", "lost-update", "internal", "G1c", "G0"];
    assert!(
        found.iter().any(|a| forbidden_by_si.contains(&a.as_str())),
        "anomalies snapshot isolation forbids expected: {found:?}\n{log}"
    );
}

#[test]
#[ignore = "needs root, openssh-server and mariadb-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn mariadb_snapshot_isolation_on_is_snapshot_isolation_and_read_committed_is_weaker() {
    require_root();
    require("/usr/sbin/mariadbd", "mariadb-server");
    let r = run_valid_txns("maria", "mariadb-append-snapshot-isolation", 20);
    let failed = r.results["checkers"]["stats"]["by_f"]["txn"]["fail"]
        .as_u64()
        .unwrap_or(0);
    assert!(
        failed > 0,
        "conflicting writes must fail (ER_CHECKREAD) under innodb_snapshot_isolation\n{}",
        r.log
    );

    let (code, results, log) = run("read-committed");
    let found = anomalies(&results);
    assert_eq!(code, Some(1), "{found:?}\n{log}");
    let serializable_forbids = ["G-single-item", "G2-item", "lost-update"];
    assert!(
        found
            .iter()
            .any(|a| serializable_forbids.contains(&a.as_str())),
        "{found:?}\n{log}"
    );
    assert!(
        !found
            .iter()
            .any(|a| ["G0", "G1a", "G1b", "G1c", "unexplained-element"].contains(&a.as_str())),
        "read committed forbids these: {found:?}"
    );
}
