//! `faultline report` and `faultline check --html` from the command line:
//! a stored run shown again as tables, as its results.json, and as a fresh
//! report.html and junit.xml; bad input named, with exit 254.

mod common;

use common::{faultline, text};
use serde_json::json;
use std::path::{Path, PathBuf};

/// A stored run: store/demo/STAMP with a results.json and a history whose
/// stale read the linearizable checker rejected.
fn stored_run(base: &Path) -> PathBuf {
    let run = base.join("store/demo/20261130T101010.000");
    std::fs::create_dir_all(run.join("nodes/n1")).unwrap();
    std::fs::write(run.join("nodes/n1/db.log"), "log\n").unwrap();
    let h = dir_history(&run);
    let out = faultline(&["check", "--json", h.to_str().unwrap()]);
    let mut lin: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    lin.as_object_mut().unwrap().retain(|k, _| k != "file");
    let results = json!({
        "valid": false,
        "checkers": {"linearizable": lin, "stats": {"valid": true}},
        "run": {"seed": 7, "nodes": [{"name": "n1", "addr": "198.18.0.11"}],
                "started": "2026-11-30T10:10:10.000Z", "finished": "2026-11-30T10:10:20.000Z",
                "faultline": {"version": "0.1.0"}, "spec": {"file": "/x/demo.yaml"}},
    });
    std::fs::write(run.join("results.json"), results.to_string()).unwrap();
    run
}

fn dir_history(run: &Path) -> PathBuf {
    let line = |i: i64, p: serde_json::Value, ty: &str, f: &str, v: serde_json::Value| {
        json!({"index": i, "time": (i + 1) * 1_000_000, "process": p, "type": ty, "f": f, "value": v})
            .to_string()
    };
    let lines = [
        line(0, json!(0), "invoke", "write", json!(1)),
        line(1, json!(0), "ok", "write", json!(1)),
        line(2, json!("nemesis"), "info", "start-kill", json!(["n1"])),
        line(3, json!(1), "invoke", "write", json!(2)),
        line(4, json!(1), "ok", "write", json!(2)),
        line(5, json!(0), "invoke", "read", json!(null)),
        line(6, json!(0), "ok", "read", json!(1)),
        line(7, json!("nemesis"), "info", "stop-kill", json!(["n1"])),
    ];
    let h = run.join("history.jsonl");
    std::fs::write(&h, lines.join("\n") + "\n").unwrap();
    h
}

fn base(name: &str) -> PathBuf {
    let d = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "faultline-report-cli-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn a_stored_run_is_shown_again_as_tables_json_and_html() {
    let b = base("ok");
    let run = stored_run(&b);
    let r = run.to_str().unwrap();
    let out = faultline(&["report", r]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    assert!(stdout.starts_with("verdict: INVALID  (demo,"), "{stdout}");
    assert!(stdout.contains("1 op cannot be linearized"), "{stdout}");
    assert!(
        stdout.contains("│ kill ") && stdout.contains("│ n1 "),
        "{stdout}"
    );
    assert!(
        stdout.contains("linearizable: invalid") && stdout.contains("cannot linearize process 0"),
        "{stdout}"
    );
    assert!(!stdout.contains("report: "), "no report.html yet: {stdout}");

    let out = faultline(&["report", "--json", r]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], json!(false));

    let out = faultline(&["report", "--html", r]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).trim(),
        run.join("report.html").to_str().unwrap()
    );
    let page = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(page.contains("id=\"failing-op\"") && page.contains("class=\"nemesis-band\""));
    assert!(
        page.contains("href=\"nodes/n1/db.log\""),
        "links to node logs"
    );
    let junit = std::fs::read_to_string(run.join("junit.xml")).unwrap();
    assert!(
        junit.contains("<failure message=\"linearizable: invalid"),
        "{junit}"
    );
    let out = faultline(&["report", r]);
    assert!(text(&out.stdout).contains(&format!("report: {}", run.join("report.html").display())));
    let _ = std::fs::remove_dir_all(&b);
}

#[test]
fn bad_run_directories_are_named_with_exit_254() {
    let b = base("bad");
    let missing = b.join("nope");
    let out = faultline(&["report", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(254));
    assert!(
        text(&out.stderr).contains("nope: not a run directory"),
        "{}",
        text(&out.stderr)
    );

    let run = b.join("store/t/1");
    std::fs::create_dir_all(&run).unwrap();
    std::fs::write(run.join("history.jsonl"), "").unwrap();
    let out = faultline(&["report", run.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(254));
    let err = text(&out.stderr);
    assert!(
        err.contains("results.json: cannot read") && err.contains("the run did not finish"),
        "{err}"
    );

    std::fs::write(run.join("results.json"), "{\"valid\": tru").unwrap();
    let out = faultline(&["report", run.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(254));
    let err = text(&out.stderr);
    assert!(
        err.contains("results.json:1:") && err.contains("not JSON"),
        "{err}"
    );

    std::fs::write(run.join("results.json"), "{\"valid\": true}").unwrap();
    std::fs::write(run.join("history.jsonl"), "{\"index\": 0, \"type\": \n").unwrap();
    let out = faultline(&["report", run.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(254));
    assert!(
        text(&out.stderr).contains("history.jsonl:1:"),
        "{}",
        text(&out.stderr)
    );

    let h = "checkers/tests/data/knossos-cas-register/bad/immediate-failure.edn";
    let out = faultline(&["check", "--html", b.join("x.html").to_str().unwrap(), h, h]);
    assert_eq!(out.status.code(), Some(254));
    assert!(
        text(&out.stderr).contains("--html"),
        "{}",
        text(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&b);
}
