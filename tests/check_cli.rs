//! `faultline check` end to end: verdict lines, JSON output, exit codes,
//! and errors that name file:line:column.

mod common;

use common::{faultline, text};
use faultline_checkers::format::jsonl;
use faultline_checkers::synth::{register_history, RegisterSpec};
use std::path::{Path, PathBuf};

const VALID: &str = "checkers/tests/data/jepsen-etcd/etcd_002.log";
const INVALID: &str = "checkers/tests/data/jepsen-etcd/etcd_000.log";

fn scratch(name: &str, contents: &str) -> PathBuf {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("faultline-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, contents).unwrap();
    p
}

#[test]
fn valid_and_invalid_verdicts_and_exit_codes() {
    let out = faultline(&["check", VALID]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("\tvalid\t"));

    let out = faultline(&["check", VALID, INVALID]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert_eq!(
        stdout.lines().count(),
        2,
        "one verdict line per file: {stdout}"
    );
    assert!(stdout.lines().nth(1).unwrap().contains("\tinvalid\t"));
    assert!(
        text(&out.stderr).contains("cannot linearize process"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn json_output_has_file_valid_and_failure() {
    let out = faultline(&["check", "--json", VALID, INVALID]);
    assert_eq!(out.status.code(), Some(1));
    let objs: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(objs.len(), 2);
    assert_eq!(objs[0]["file"], VALID);
    assert_eq!(objs[0]["valid"], true);
    assert_eq!(objs[1]["valid"], false);
    let failure = &objs[1]["failure"];
    assert_eq!(failure["op"]["f"], "read");
    assert!(failure["states"].as_array().is_some_and(|s| !s.is_empty()));
    assert!(failure["concurrent"].is_array());
}

#[test]
fn malformed_input_names_file_line_and_column() {
    let bad = scratch(
        "bad.jsonl",
        "{\"index\":0,\"process\":0,\"type\":\"invoke\",\"f\":\"read\",\"value\":null}\n{\"process\":0,\"type\":\"ok\",\"f\":\"read\",\"value\":1,}\n",
    );
    let out = faultline(&["check", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(254));
    let err = text(&out.stderr);
    assert!(err.contains(&format!("{}:2:", bad.display())), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let bad = scratch("bad.edn", "[{:process 0 :type :invoke :f :read :value nil}\n {:process 0 :type :ok :f :read :value [1 }]");
    let out = faultline(&["check", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(254));
    assert!(
        text(&out.stderr).contains(&format!("{}:2:", bad.display())),
        "{}",
        text(&out.stderr)
    );

    let orphan = scratch("orphan.edn", "{:process 0 :type :invoke :f :read :value nil}\n{:process 1 :type :ok :f :read :value 1}\n");
    let out = faultline(&["check", orphan.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(254));
    assert!(
        text(&out.stderr).contains(":2:1: process 1 completes"),
        "{}",
        text(&out.stderr)
    );

    let wrong = scratch(
        "cas.edn",
        "{:process 0 :type :invoke :f :cas :value 3}\n{:process 0 :type :ok :f :cas :value 3}\n",
    );
    let out = faultline(&["check", "--model", "cas-register", wrong.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(254));
    assert!(
        text(&out.stderr).contains("[old, new]"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn bad_arguments_and_missing_files_exit_254() {
    for args in [
        vec!["check", "--time-limit", "-1", VALID],
        vec!["check", "--model", "nope", VALID],
        vec!["check", "--format", "xml", VALID],
        vec!["check", "no/such/file.jsonl"],
        vec!["check"],
    ] {
        let out = faultline(&args);
        assert_eq!(
            out.status.code(),
            Some(254),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(!text(&out.stderr).contains("panicked"));
    }
    let out = faultline(&["check", "no/such/file.jsonl"]);
    assert!(
        text(&out.stderr).contains("no/such/file.jsonl: cannot read"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn pathological_history_is_unknown_within_the_time_limit() {
    let spec = RegisterSpec {
        ops: 3000,
        processes: 30,
        keys: 0,
        info: 0.3,
        values: 5,
        cas: false,
    };
    let mut buf = Vec::new();
    jsonl::write(&mut buf, &register_history(&spec, 42)).unwrap();
    let p = scratch("pathological.jsonl", std::str::from_utf8(&buf).unwrap());
    let start = std::time::Instant::now();
    let out = faultline(&["check", "--json", "--time-limit", "1", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        start.elapsed().as_secs_f64() < 30.0,
        "the time limit is honoured"
    );
    let v: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(v["valid"], "unknown");
    assert!(v["unknown"]["reason"]
        .as_str()
        .unwrap()
        .contains("time limit"));
}

#[test]
fn format_is_detected_and_can_be_forced() {
    let log = Path::new(env!("CARGO_MANIFEST_DIR")).join(VALID);
    let copy = scratch("etcd_002.txt", &std::fs::read_to_string(log).unwrap());
    let out = faultline(&["check", copy.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = faultline(&["check", "--format", "jepsen-log", copy.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn transactional_histories_get_elle_anomalies() {
    let skew = scratch(
        "skew.jsonl",
        concat!(
            r#"{"index":0,"process":0,"type":"invoke","f":"txn","value":[["r","x",null],["r","y",null],["append","x",1]]}"#,
            "\n",
            r#"{"index":1,"process":0,"type":"ok","f":"txn","value":[["r","x",[]],["r","y",[]],["append","x",1]]}"#,
            "\n",
            r#"{"index":2,"process":1,"type":"invoke","f":"txn","value":[["r","x",null],["r","y",null],["append","y",1]]}"#,
            "\n",
            r#"{"index":3,"process":1,"type":"ok","f":"txn","value":[["r","x",[]],["r","y",[]],["append","y",1]]}"#,
            "\n",
            r#"{"index":4,"process":2,"type":"invoke","f":"txn","value":[["r","x",null],["r","y",null]]}"#,
            "\n",
            r#"{"index":5,"process":2,"type":"ok","f":"txn","value":[["r","x",[1]],["r","y",[1]]]}"#,
            "\n",
        ),
    );
    let file = skew.to_str().unwrap();
    let out = faultline(&[
        "check",
        "--json",
        "--checker",
        "list-append",
        "--consistency-models",
        "serializable",
        file,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(v["valid"], false);
    assert_eq!(v["anomaly_types"], serde_json::json!(["G2-item"]));
    assert!(v["anomalies"]["G2-item"]["examples"][0]["explanation"]
        .as_str()
        .unwrap()
        .contains("rw"));
    let out = faultline(&["check", "--consistency-models", "snapshot-isolation", file]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "write skew is allowed under SI: {}",
        text(&out.stderr)
    );
    let out = faultline(&["check", "--consistency-models", "serializible", file]);
    assert_eq!(out.status.code(), Some(254));
    assert!(
        text(&out.stderr).contains("unknown consistency model"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn bad_transactions_name_their_line() {
    let bad = scratch(
        "badtxn.jsonl",
        concat!(
            r#"{"index":0,"process":0,"type":"invoke","f":"txn","value":[["append","x",1]]}"#,
            "\n",
            r#"{"index":1,"process":0,"type":"ok","f":"txn","value":[["append","x",1]]}"#,
            "\n",
            r#"{"index":2,"process":1,"type":"invoke","f":"txn","value":[["append","x","one"]]}"#,
            "\n",
        ),
    );
    let out = faultline(&["check", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(254));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(
            "{}:3:1: expected an integer appended value",
            bad.display()
        )),
        "{err}"
    );
}

#[test]
fn long_lists_are_cut_to_a_screenful_in_the_terminal_and_kept_in_json() {
    // 20,000 acknowledged adds; the final read sees every other one: 10,000
    // lost elements, none adjacent, so no `a..b` run shortens the list.
    let mut h = String::new();
    let mut i = 0;
    let mut op = |h: &mut String, p: usize, t: &str, f: &str, v: String| {
        h.push_str(&format!(
            "{{\"index\":{i},\"process\":{p},\"type\":\"{t}\",\"f\":\"{f}\",\"value\":{v}}}\n"
        ));
        i += 1;
    };
    for e in 0..20_000 {
        op(&mut h, 0, "invoke", "add", e.to_string());
        op(&mut h, 0, "ok", "add", e.to_string());
    }
    let read: Vec<String> = (0..20_000).step_by(2).map(|e: i32| e.to_string()).collect();
    op(&mut h, 1, "invoke", "read", "null".into());
    op(&mut h, 1, "ok", "read", format!("[{}]", read.join(",")));
    let path = scratch("lost-set.jsonl", &h);
    let out = faultline(&["check", "--checker", "set", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("… and 9800 more (results.json / --json has all)"),
        "{err}"
    );
    assert!(
        err.len() < 3000,
        "{} bytes on the terminal:\n{err}",
        err.len()
    );
    let out = faultline(&[
        "check",
        "--json",
        "--checker",
        "set",
        path.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(v["lost_count"], 10_000);
    assert_eq!(v["lost"].as_str().unwrap().split(' ').count(), 10_000);
}

#[test]
fn a_read_of_a_value_nobody_wrote_is_explained_in_words_in_the_html_report() {
    // Refuted by the register shortcuts (docs/checkers.md): the report
    // says why instead of an empty linearizable prefix.
    let h = scratch(
        "unwritten.jsonl",
        concat!(
            r#"{"index":0,"time":1,"process":0,"type":"invoke","f":"write","value":1}"#,
            "\n",
            r#"{"index":1,"time":2,"process":0,"type":"ok","f":"write","value":1}"#,
            "\n",
            r#"{"index":2,"time":3,"process":1,"type":"invoke","f":"read","value":null}"#,
            "\n",
            r#"{"index":3,"time":4,"process":1,"type":"ok","f":"read","value":2}"#,
            "\n",
        ),
    );
    let html = h.with_extension("html");
    let out = faultline(&[
        "check",
        h.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("It read 2, which is not the initial value"),
        "{page}"
    );
}
