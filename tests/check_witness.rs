//! `faultline check --witness OUT.json` end to end: a witness for every
//! model that the independent verifier (checkers/tests/verifier) accepts,
//! none for invalid, unknown or transactional verdicts (said on stderr, a
//! stale OUT removed), and hostile arguments refused with exit 254, never
//! a panic.

#[path = "../checkers/tests/verifier/mod.rs"]
mod verifier;

mod common;

use common::{faultline, text};
use faultline_checkers::format::{self, jsonl};
use faultline_checkers::synth::{register_history, RegisterSpec};
use serde_json::{json, Value};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

const VALID: &str = "checkers/tests/data/jepsen-etcd/etcd_002.log";
const INVALID: &str = "checkers/tests/data/jepsen-etcd/etcd_000.log";

/// A fresh scratch directory for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("faultline-witness-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `check --witness OUT FILE EXTRA...`, expects exit 0 and a witness
/// the verifier accepts; returns it.
fn witnessed(file: &Path, out: &Path, extra: &[&str]) -> Value {
    let mut args: Vec<&OsStr> = vec!["check".as_ref(), "--witness".as_ref(), out.as_ref()];
    args.extend(extra.iter().map(OsStr::new));
    args.push(file.as_ref());
    let run = faultline(&args);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    assert!(
        text(&run.stderr).contains("witness written to"),
        "{}",
        text(&run.stderr)
    );
    let w: Value = serde_json::from_slice(&std::fs::read(out).unwrap()).unwrap();
    assert_eq!(w["file"], json!(file.to_string_lossy()));
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let h = format::read_path(&full, None).unwrap();
    if let Err(e) = verifier::verify(&h, &w) {
        panic!("{}: witness rejected: {e}", file.display());
    }
    w
}

fn write_jsonl(path: &Path, rows: &[Value]) {
    let text: String = rows.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(path, text).unwrap();
}

/// (process, type, f, value) rows, with a nemesis event before each invoke.
fn rows(ops: &[(u64, &str, &str, Value)]) -> Vec<Value> {
    let mut out = Vec::new();
    for (p, t, f, v) in ops {
        if *t == "invoke" {
            out.push(json!({"process": "nemesis", "type": "info", "f": "kill", "value": null}));
        }
        out.push(json!({"index": 0, "process": p, "type": t, "f": f, "value": v}));
    }
    out
}

#[test]
fn every_model_gets_a_witness_the_verifier_accepts() {
    let dir = scratch("models");
    let out = dir.join("w.json");
    // cas-register, from a Jepsen log.
    let w = witnessed(Path::new(VALID), &out, &[]);
    assert_eq!(w["model"], "cas-register");
    // register, with an initial value.
    let reg = dir.join("reg.jsonl");
    write_jsonl(
        &reg,
        &rows(&[
            (0, "invoke", "read", json!(null)),
            (0, "ok", "read", json!(4)),
            (1, "invoke", "write", json!(5)),
            (1, "ok", "write", json!(5)),
        ]),
    );
    let w = witnessed(&reg, &out, &["--model", "register", "--initial-value", "4"]);
    assert_eq!(
        (&w["model"], &w["initial_value"]),
        (&json!("register"), &json!(4))
    );
    assert_eq!(w["partitions"], json!([{"key": null, "order": [1, 4]}]));
    // kv, generated with keys (the model is detected).
    let kv = dir.join("kv.jsonl");
    let h = register_history(
        &RegisterSpec {
            ops: 2000,
            processes: 5,
            keys: 20,
            info: 0.05,
            values: 0,
            cas: true,
        },
        3,
    );
    let mut buf = Vec::new();
    jsonl::write(&mut buf, &h).unwrap();
    std::fs::write(&kv, buf).unwrap();
    let w = witnessed(&kv, &out, &[]);
    assert_eq!(w["model"], "kv");
    assert_eq!(w["partitions"].as_array().unwrap().len(), 20);
    // set and fifo-queue.
    let set = dir.join("set.jsonl");
    write_jsonl(
        &set,
        &rows(&[
            (0, "invoke", "add", json!(1)),
            (1, "invoke", "read", json!(null)),
            (0, "ok", "add", json!(1)),
            (1, "ok", "read", json!([1])),
        ]),
    );
    let w = witnessed(&set, &out, &[]);
    assert_eq!(
        (&w["model"], &w["initial_value"]),
        (&json!("set"), &json!([]))
    );
    let queue = dir.join("queue.jsonl");
    write_jsonl(
        &queue,
        &rows(&[
            (0, "invoke", "enqueue", json!(1)),
            (1, "invoke", "dequeue", json!(null)),
            (1, "ok", "dequeue", json!(1)),
            (2, "invoke", "dequeue", json!(null)),
            (2, "fail", "dequeue", json!(null)),
        ]),
    );
    let w = witnessed(&queue, &out, &[]);
    assert_eq!(w["model"], "fifo-queue");
    assert_eq!(w["partitions"], json!([{"key": null, "order": [1, 3]}]));
}

#[test]
fn no_witness_for_invalid_unknown_or_transactional_verdicts() {
    let dir = scratch("none");
    let out = dir.join("w.json");
    let stale = |out: &Path| std::fs::write(out, "stale").unwrap();
    stale(&out);
    let run = faultline(&[
        "check".as_ref(),
        "--witness".as_ref(),
        out.as_os_str(),
        INVALID.as_ref(),
    ]);
    assert_eq!(run.status.code(), Some(1));
    assert!(
        text(&run.stderr).contains("no witness written"),
        "{}",
        text(&run.stderr)
    );
    assert!(text(&run.stderr).contains("not linearizable"));
    assert!(!out.exists(), "a stale witness survived an invalid verdict");

    let hard = dir.join("hard.jsonl");
    let h = register_history(
        &RegisterSpec {
            ops: 3000,
            processes: 30,
            keys: 0,
            info: 0.3,
            values: 5,
            cas: false,
        },
        7,
    );
    let mut buf = Vec::new();
    jsonl::write(&mut buf, &h).unwrap();
    std::fs::write(&hard, buf).unwrap();
    stale(&out);
    let run = faultline(&[
        "check".as_ref(),
        "--time-limit".as_ref(),
        "0.2".as_ref(),
        "--witness".as_ref(),
        out.as_os_str(),
        hard.as_os_str(),
    ]);
    assert_eq!(run.status.code(), Some(2), "{}", text(&run.stderr));
    assert!(text(&run.stderr).contains("no witness written"));
    assert!(text(&run.stderr).contains("unknown"));
    assert!(!out.exists());

    let txn = dir.join("txn.jsonl");
    write_jsonl(
        &txn,
        &[
            json!({"process": 0, "type": "invoke", "f": "txn", "value": [["append", "x", 1]]}),
            json!({"process": 0, "type": "ok", "f": "txn", "value": [["append", "x", 1]]}),
        ],
    );
    let run = faultline(&[
        "check".as_ref(),
        "--witness".as_ref(),
        out.as_os_str(),
        txn.as_os_str(),
    ]);
    assert!(
        matches!(run.status.code(), Some(0 | 2)),
        "{}",
        text(&run.stderr)
    );
    assert!(
        text(&run.stderr).contains("transactional"),
        "{}",
        text(&run.stderr)
    );
    assert!(!out.exists());
}

#[test]
fn hostile_witness_arguments_are_refused_with_254() {
    let dir = scratch("hostile");
    let refused = |args: &[&OsStr], says: &str| {
        let run = faultline(args);
        let err = text(&run.stderr);
        assert_eq!(run.status.code(), Some(254), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    };
    let o = |s: &'static str| OsStr::new(s);
    let missing = dir.join("no/such/dir/w.json");
    refused(
        &[o("check"), o("--witness"), missing.as_os_str(), o(VALID)],
        "cannot write",
    );
    refused(
        &[o("check"), o("--witness"), dir.as_os_str(), o(VALID)],
        "cannot write",
    );
    let out = dir.join("w.json");
    refused(
        &[
            o("check"),
            o("--witness"),
            out.as_os_str(),
            o(VALID),
            o(INVALID),
        ],
        "one history file",
    );
    refused(
        &[
            o("check"),
            o("--checker"),
            o("list-append"),
            o("--witness"),
            out.as_os_str(),
            o(VALID),
        ],
        "only the linearizable checker",
    );
    // The history itself as OUT: refused, and left as it was.
    let copy = dir.join("h.log");
    let original = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(VALID)).unwrap();
    std::fs::write(&copy, &original).unwrap();
    refused(
        &[
            o("check"),
            o("--witness"),
            copy.as_os_str(),
            copy.as_os_str(),
        ],
        "the history being checked",
    );
    let link = dir.join("link.json");
    std::os::unix::fs::symlink(&copy, &link).unwrap();
    refused(
        &[
            o("check"),
            o("--witness"),
            link.as_os_str(),
            copy.as_os_str(),
        ],
        "the history being checked",
    );
    assert_eq!(std::fs::read(&copy).unwrap(), original);
    assert!(!out.exists(), "a refused run left a file behind");
    // A write that fails after the check (no space left): 254, no panic.
    if Path::new("/dev/full").exists() {
        refused(
            &[o("check"), o("--witness"), o("/dev/full"), o(VALID)],
            "cannot write",
        );
    }
}

#[test]
fn a_non_utf8_witness_path_works() {
    use std::os::unix::ffi::OsStrExt;
    let dir = scratch("utf8");
    let out = dir.join(OsStr::from_bytes(b"w\xff\xfe.json"));
    witnessed(Path::new(VALID), &out, &[]);
    // A non-UTF-8 history path too: its name is written lossily.
    let h = dir.join(OsStr::from_bytes(b"h\xff.log"));
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join(VALID), &h).unwrap();
    let w = witnessed(&h, &out, &[]);
    assert!(w["file"].as_str().unwrap().ends_with("h\u{fffd}.log"));
}

#[test]
fn a_longer_stale_file_is_replaced_and_a_named_pipe_is_written_once() {
    let dir = scratch("pipe");
    let out = dir.join("w.json");
    std::fs::write(&out, "x".repeat(1 << 20)).unwrap();
    let w = witnessed(Path::new(VALID), &out, &[]);
    assert_eq!(w["model"], "cas-register");

    let fifo = dir.join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        return;
    }
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    let run = faultline(&[
        "check".as_ref(),
        "--witness".as_ref(),
        fifo.as_os_str(),
        VALID.as_ref(),
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let w: Value = serde_json::from_slice(&reader.join().unwrap()).unwrap();
    assert_eq!(w["file"], VALID);
    assert!(fifo.exists(), "the pipe is not removed");
}
