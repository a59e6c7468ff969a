//! Spec validation: every class of mistake is reported with file:line:column,
//! the offending key, and a "did you mean" where one fits — before anything
//! touches a node (these run without root).

use std::process::Command;

fn check_spec(name: &str, yaml: &str) -> (i32, String) {
    let dir = std::env::temp_dir().join(format!("faultline-spec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, yaml).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args([
            "test",
            path.to_str().unwrap(),
            "--store",
            dir.join("store").to_str().unwrap(),
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!err.contains("panicked"), "{err}");
    (
        out.status.code().unwrap_or(-1),
        err.replace(&format!("{}/", dir.display()), ""),
    )
}

const GOOD: &str = "name: t
db:
  start:
    command: sleep 1000
client:
  kind: exec
  command: /bin/true
workload:
  kind: cas-register
";

/// GOOD with `from` replaced by `to`.
fn with(from: &str, to: &str) -> String {
    assert!(GOOD.contains(from), "{from}");
    GOOD.replacen(from, to, 1)
}

fn assert_error(name: &str, yaml: &str, expect: &[&str]) {
    let (code, err) = check_spec(name, yaml);
    assert_eq!(code, 254, "{err}");
    for e in expect {
        assert!(err.contains(e), "expected {e:?} in:\n{err}");
    }
}

#[test]
fn misspelled_keys_get_did_you_mean() {
    assert_error(
        "a.yaml",
        &with("  start:\n", "  strat:\n"),
        &[
            "a.yaml:3:3:",
            "unknown field `strat`",
            "did you mean `start`?",
        ],
    );
    assert_error(
        "b.yaml",
        &with("name: t\n", "name: t\nnemsis:\n  faults: [kill]\n"),
        &["b.yaml:2:1:", "did you mean `nemesis`?"],
    );
    assert_error(
        "c.yaml",
        &with(
            "    command: sleep 1000\n",
            "    command: sleep 1000\n    pidfle: x\n",
        ),
        &["c.yaml:5:5:", "did you mean `pidfile`?"],
    );
}

#[test]
fn wrong_types_and_missing_keys_are_placed() {
    assert_error(
        "d.yaml",
        &with("workload:\n", "generator:\n  rate: [1, 2]\nworkload:\n"),
        &["d.yaml:"],
    );
    assert_error(
        "e.yaml",
        "name: t\nclient:\n  kind: exec\n",
        &["e.yaml:", "missing field `db`"],
    );
    assert_error("f.yaml", "name: [\n", &["f.yaml:1:"]);
}

#[test]
fn bad_values_name_their_key_and_line() {
    assert_error(
        "g.yaml",
        &with("  kind: cas-register\n", "  kind: cas-regster\n"),
        &[
            "g.yaml:9:3:",
            "workload.kind",
            "did you mean `cas-register`?",
        ],
    );
    assert_error(
        "h.yaml",
        &with(
            "  kind: cas-register\n",
            "  kind: cas-register\n  mix: { read: 1, wirte: 1 }\n",
        ),
        &["h.yaml:10:3:", "did you mean `write`?"],
    );
    assert_error(
        "i.yaml",
        &format!("{GOOD}generator:\n  time_limit: 10 parsecs\n"),
        &[
            "i.yaml:11:3:",
            "generator.time_limit",
            "unknown duration unit",
        ],
    );
    assert_error(
        "j.yaml",
        &format!("{GOOD}nemesis:\n  faults: [partition, meteor]\n"),
        &["j.yaml:11:3:", "unknown fault \"meteor\""],
    );
    assert_error(
        "k.yaml",
        &format!("{GOOD}checkers: [linearisable]\n"),
        &["k.yaml:10:1:", "did you mean `linearizable`?"],
    );
    assert_error(
        "l.yaml",
        &with("  command: /bin/true\n", ""),
        &["l.yaml:", "needs `command:`"],
    );
    assert_error(
        "m.yaml",
        &format!("{GOOD}generator:\n  concurrency: lots\n"),
        &["m.yaml:11:3:", "generator.concurrency"],
    );
    assert_error(
        "n.yaml",
        &with("name: t\n", "name: t\nnodes: local:zero\n"),
        &["n.yaml:2:1:", "expected local:N"],
    );
}

#[test]
fn all_problems_are_reported_together() {
    let yaml = format!("{GOOD}generator:\n  time_limit: soon\ncheckers: [nope]\n");
    let (code, err) = check_spec("o.yaml", &yaml);
    assert_eq!(code, 254);
    assert!(
        err.contains("generator.time_limit") && err.contains("unknown checker"),
        "{err}"
    );
}

#[test]
fn the_shipped_workloads_are_valid() {
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/workloads")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let loaded = faultline::spec::load(&path).unwrap_or_else(|e| panic!("{e}"));
            if let Err(errs) = loaded.validate() {
                panic!("{}: {errs:?}", path.display());
            }
        }
    }
}
