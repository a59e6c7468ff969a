//! Maelstrom mode against the node corpus in tests/maelstrom/nodes/: real
//! node processes (Python 3, and the Rust examples) through
//! `faultline maelstrom test`, each correct node valid and each buggy twin
//! invalid for the reason its docstring gives, asserted on the checkers'
//! fields in results.json. The runs are short (a few seconds) and run
//! concurrently: they only sleep and exchange lines.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn python(node: &str) -> String {
    root()
        .join("tests/maelstrom/nodes/python")
        .join(node)
        .display()
        .to_string()
}

/// A Rust node from examples/, built by `cargo test` beside the binary.
fn example(name: &str) -> String {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_faultline"));
    let p = bin.parent().unwrap().join("examples").join(name);
    assert!(
        p.is_file(),
        "{} is not built (cargo test builds the examples; `cargo build --examples` does too)",
        p.display()
    );
    p.display().to_string()
}

struct Run {
    code: i32,
    results: Value,
    out: String,
}

/// Runs `faultline maelstrom test ARGS` into a fresh store and reads the
/// run's results.json.
fn maelstrom(name: &str, args: &[&str]) -> Run {
    let store = std::env::temp_dir().join(format!("fl-maelstrom-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&store);
    let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["maelstrom", "test"])
        .args(args)
        .args(["--store", store.to_str().unwrap(), "--recovery-time", "2"])
        .output()
        .expect("faultline runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let results = std::fs::read_to_string(store.join("latest/results.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    let _ = std::fs::remove_dir_all(&store);
    Run {
        code: out.status.code().unwrap_or(-1),
        results,
        out: text,
    }
}

/// One corpus case: the command line, the exit code, and what
/// results.json must say.
struct Case {
    name: &'static str,
    args: Vec<String>,
    code: i32,
    check: fn(&Value) -> Result<(), String>,
}

fn case(
    name: &'static str,
    bin: String,
    args: &str,
    code: i32,
    check: fn(&Value) -> Result<(), String>,
) -> Case {
    let mut a: Vec<String> = vec!["--bin".into(), bin];
    a.extend(args.split_whitespace().map(String::from));
    Case {
        name,
        args: a,
        code,
        check,
    }
}

fn field<'a>(r: &'a Value, path: &str) -> &'a Value {
    r.pointer(path).unwrap_or(&Value::Null)
}

fn want(cond: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if cond {
        Ok(())
    } else {
        Err(what())
    }
}

fn no_protocol_errors(r: &Value) -> Result<(), String> {
    want(field(r, "/checkers/protocol/error_count") == 0, || {
        format!("protocol errors: {}", field(r, "/checkers/protocol/errors"))
    })
}

fn set_lost(r: &Value) -> Result<(), String> {
    let lost = field(r, "/checkers/set-full/lost_count")
        .as_u64()
        .unwrap_or(0);
    want(lost > 0, || {
        format!("no lost elements: {}", field(r, "/checkers/set-full"))
    })
}

fn set_valid(r: &Value) -> Result<(), String> {
    no_protocol_errors(r)?;
    let c = field(r, "/checkers/set-full");
    want(
        c["valid"] == true && c["lost_count"] == 0 && c["stable_count"].as_u64() > Some(10),
        || format!("set-full: {c}"),
    )
}

fn valid_with(checker: &'static str) -> fn(&Value) -> Result<(), String> {
    // One function per checker name, since fn pointers cannot capture.
    match checker {
        "echo" => |r| valid_checker(r, "echo"),
        "unique-ids" => |r| valid_checker(r, "unique-ids"),
        "pn-counter" => |r| valid_checker(r, "pn-counter"),
        "linearizable" => |r| valid_checker(r, "linearizable"),
        "elle" => |r| valid_checker(r, "elle"),
        "kafka" => |r| valid_checker(r, "kafka"),
        _ => unreachable!(),
    }
}

fn valid_checker(r: &Value, name: &str) -> Result<(), String> {
    no_protocol_errors(r)?;
    let c = field(r, &format!("/checkers/{name}"));
    want(c["valid"] == true, || format!("{name}: {c}"))?;
    let oks = field(r, "/checkers/availability/ok_count")
        .as_u64()
        .unwrap_or(0);
    want(oks >= 20, || format!("only {oks} ops ok"))
}

fn corpus() -> Vec<Case> {
    let p = python;
    vec![
        case("echo", p("echo.py"), "-w echo --node-count 1 --time-limit 3 --rate 50", 0, valid_with("echo")),
        case(
            "unique-ids",
            p("unique_ids.py"),
            "-w unique-ids --node-count 3 --time-limit 4 --rate 200 --nemesis partition --nemesis-interval 1 --availability total",
            0,
            valid_with("unique-ids"),
        ),
        case("unique-ids-bare", p("unique_ids_bare.py"), "-w unique-ids --node-count 3 --time-limit 3 --rate 100", 1, |r| {
            let d = field(r, "/checkers/unique-ids/duplicated_count").as_u64().unwrap_or(0);
            want(d > 0, || format!("no duplicates: {}", field(r, "/checkers/unique-ids")))
        }),
        case(
            "broadcast-retry-partition",
            p("broadcast_retry.py"),
            "-w broadcast --node-count 5 --time-limit 6 --rate 30 --nemesis partition --nemesis-interval 1",
            0,
            set_valid,
        ),
        case(
            "broadcast-flood-partition",
            p("broadcast_flood.py"),
            "-w broadcast --node-count 5 --time-limit 6 --rate 30 --nemesis partition --nemesis-interval 1 --seed 3",
            1,
            set_lost,
        ),
        case("g-set", p("g_set.py"), "-w g-set --node-count 3 --time-limit 4 --rate 30 --nemesis partition --nemesis-interval 1", 0, set_valid),
        case("g-set-local", p("g_set_local.py"), "-w g-set --node-count 3 --time-limit 3 --rate 30", 1, set_lost),
        case("g-counter-seq-kv", p("g_counter_seqkv.py"), "-w g-counter --node-count 3 --time-limit 4 --rate 50", 0, valid_with("pn-counter")),
        case("g-counter-local", p("g_counter_local.py"), "-w g-counter --node-count 3 --time-limit 3 --rate 50", 1, |r| {
            let c = field(r, "/checkers/pn-counter");
            want(c["valid"] == false && !c["errors"].as_array().is_none_or(Vec::is_empty), || format!("pn-counter: {c}"))
        }),
        case(
            "pn-counter",
            p("pn_counter.py"),
            "-w pn-counter --node-count 3 --time-limit 4 --rate 50 --nemesis partition --nemesis-interval 1",
            0,
            valid_with("pn-counter"),
        ),
        case("lin-kv-proxy", p("lin_kv_proxy.py"), "-w lin-kv --node-count 3 --time-limit 4 --rate 100 --concurrency 2n", 0, valid_with("linearizable")),
        case("lww-kv-proxy", p("lww_kv_proxy.py"), "-w lin-kv --node-count 3 --time-limit 4 --rate 100 --concurrency 2n", 1, |r| {
            let c = field(r, "/checkers/linearizable");
            want(c["valid"] == false, || format!("linearizable: {c}"))
        }),
        case("kafka-leader", p("kafka_leader.py"), "-w kafka --node-count 3 --time-limit 4 --rate 100 --concurrency 2n", 0, valid_with("kafka")),
        case("kafka-local", p("kafka_local.py"), "-w kafka --node-count 3 --time-limit 4 --rate 100 --concurrency 2n", 1, |r| {
            let c = field(r, "/checkers/kafka");
            want(c["valid"] == false, || format!("kafka: {c}"))
        }),
        case(
            "txn-list-append-lin-kv",
            p("txn_lin_kv.py"),
            "-w txn-list-append --node-count 3 --time-limit 4 --rate 50 --concurrency 2n",
            0,
            valid_with("elle"),
        ),
        case("txn-list-append-local", p("txn_local.py"), "-w txn-list-append --node-count 3 --time-limit 4 --rate 50 --concurrency 2n", 1, |r| {
            let c = field(r, "/checkers/elle");
            want(c["valid"] == false, || format!("elle: {c}"))
        }),
        case(
            "txn-rw-register-lin-kv",
            p("txn_rw_lin_kv.py"),
            "-w txn-rw-register --node-count 3 --time-limit 4 --rate 50 --concurrency 2n",
            0,
            valid_with("elle"),
        ),
    ]
}

/// Runs cases concurrently; fails with every case that went wrong.
fn run_all(cases: Vec<Case>) {
    let handles: Vec<_> = cases
        .into_iter()
        .map(|c| {
            std::thread::spawn(move || {
                let args: Vec<&str> = c.args.iter().map(String::as_str).collect();
                let r = maelstrom(c.name, &args);
                let verdict = if r.code != c.code {
                    Err(format!("exit {} (expected {})", r.code, c.code))
                } else {
                    (c.check)(&r.results)
                };
                verdict.map_err(|e| {
                    format!(
                        "{}: {e}\n  faultline maelstrom test {}\n{}",
                        c.name,
                        c.args.join(" "),
                        r.out
                    )
                })
            })
        })
        .collect();
    let failures: Vec<String> = handles
        .into_iter()
        .filter_map(|h| h.join().expect("case thread").err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} cases failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn the_python_corpus_gets_its_verdicts() {
    run_all(corpus());
}

#[test]
fn the_rust_nodes_get_their_verdicts() {
    let e = example;
    run_all(vec![
        case("rust-echo", e("maelstrom_echo"), "-w echo --node-count 2 --time-limit 3 --rate 200", 0, valid_with("echo")),
        case(
            "rust-unique-ids",
            e("maelstrom_unique_ids"),
            "-w unique-ids --node-count 3 --time-limit 3 --rate 300 --nemesis partition --nemesis-interval 1 --availability total",
            0,
            valid_with("unique-ids"),
        ),
        case(
            "rust-broadcast",
            e("maelstrom_broadcast"),
            "-w broadcast --node-count 5 --time-limit 5 --rate 30 --nemesis partition,one-way --nemesis-interval 1 --topology tree3",
            0,
            set_valid,
        ),
        case(
            "rust-g-counter",
            e("maelstrom_g_counter"),
            "-w g-counter --node-count 3 --time-limit 4 --rate 50 --nemesis partition,pause,duplicate --nemesis-interval 1",
            0,
            valid_with("pn-counter"),
        ),
        case(
            "rust-pn-counter-killed",
            e("maelstrom_g_counter"),
            "-w pn-counter --node-count 3 --time-limit 5 --rate 50 --nemesis kill --nemesis-interval 1 --seed 7",
            1,
            |r| {
                // A killed node comes back with a fresh init: what it alone
                // knew is gone, and the final reads show it.
                let c = field(r, "/checkers/pn-counter");
                want(c["valid"] == false && field(r, "/checkers/protocol/error_count") == 0, || {
                    format!("pn-counter: {c}; protocol: {}", field(r, "/checkers/protocol"))
                })
            },
        ),
    ]);
}

/// Writes an executable Python node with `body` after a minimal init
/// handler, and returns its path.
fn script(name: &str, after_init: &str) -> String {
    let dir = std::env::temp_dir().join(format!("fl-maelstrom-nodes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let text = format!(
        r#"#!/usr/bin/env python3
import json, sys, time
for line in sys.stdin:
    m = json.loads(line)
    b = m["body"]
    if b["type"] == "init":
        print(json.dumps({{"src": b["node_id"], "dest": m["src"], "body": {{"type": "init_ok", "in_reply_to": b["msg_id"]}}}}), flush=True)
{after_init}
"#
    );
    std::fs::write(&path, text).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.display().to_string()
}

#[test]
fn nodes_that_break_the_protocol_are_named_with_what_they_did() {
    let garbage = script(
        "garbage.py",
        "        print('hello from stdout', flush=True)",
    );
    let exits = script(
        "exits.py",
        "        print('boom: out of cheese', file=sys.stderr, flush=True)\n        sys.exit(3)",
    );
    let mute = std::env::temp_dir().join(format!("fl-maelstrom-mute-{}.sh", std::process::id()));
    std::fs::write(
        &mute,
        "#!/bin/sh\necho 'starting up, never answering' >&2\nexec sleep 60\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&mute, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mute = mute.display().to_string();
    let threads = vec![
        std::thread::spawn(move || {
            let r = maelstrom(
                "garbage",
                &[
                    "-w",
                    "echo",
                    "--bin",
                    &garbage,
                    "--node-count",
                    "1",
                    "--time-limit",
                    "2",
                    "--rate",
                    "5",
                ],
            );
            assert_eq!(r.code, 1, "{}", r.out);
            let e = field(&r.results, "/checkers/protocol/errors/0");
            assert_eq!(e["node"], "n0", "{e}");
            let msg = e["error"].as_str().unwrap_or("");
            assert!(
                msg.contains("stdout line 2 is not a Maelstrom message")
                    && msg.contains("hello from stdout"),
                "{msg}"
            );
        }),
        std::thread::spawn(move || {
            let r = maelstrom(
                "exits",
                &[
                    "-w",
                    "echo",
                    "--bin",
                    &exits,
                    "--node-count",
                    "2",
                    "--time-limit",
                    "2",
                    "--rate",
                    "5",
                ],
            );
            assert_eq!(r.code, 1, "{}", r.out);
            let errs = field(&r.results, "/checkers/protocol/errors")
                .as_array()
                .cloned()
                .unwrap_or_default();
            assert_eq!(errs.len(), 2, "both nodes exited: {errs:?}");
            let msg = errs[0]["error"].as_str().unwrap_or("");
            assert!(
                msg.contains("exited on its own")
                    && msg.contains("exit status: 3")
                    && msg.contains("boom: out of cheese"),
                "{msg}"
            );
        }),
        std::thread::spawn(move || {
            let r = maelstrom(
                "mute",
                &[
                    "-w",
                    "echo",
                    "--bin",
                    &mute,
                    "--node-count",
                    "2",
                    "--time-limit",
                    "2",
                ],
            );
            assert_eq!(r.code, 254, "{}", r.out);
            assert!(
                r.out
                    .contains("did not answer init with init_ok within 10 s")
                    && r.out.contains("never answering"),
                "{}",
                r.out
            );
        }),
        std::thread::spawn(|| {
            for (args, want) in [
                (
                    vec!["-w", "nope", "--bin", "/bin/true"],
                    "unknown workload \"nope\"",
                ),
                (
                    vec![
                        "-w",
                        "echo",
                        "--bin",
                        "/bin/true",
                        "--nemesis",
                        "partition,flood",
                    ],
                    "unknown fault \"flood\"",
                ),
                (
                    vec!["-w", "echo", "--bin", "/no/such/node"],
                    "--bin /no/such/node: no such file",
                ),
                (
                    vec![
                        "-w",
                        "broadcast",
                        "--bin",
                        "/bin/true",
                        "--topology",
                        "ring",
                    ],
                    "unknown topology",
                ),
                (
                    vec![
                        "-w",
                        "txn-list-append",
                        "--bin",
                        "/bin/true",
                        "--consistency-models",
                        "serialisable",
                    ],
                    "unknown model",
                ),
                (
                    vec!["-w", "echo", "--bin", "/bin/true", "--availability", "most"],
                    "--availability",
                ),
            ] {
                let r = maelstrom("bad-args", &args);
                assert_eq!(r.code, 254, "{args:?}: {}", r.out);
                assert!(r.out.contains(want), "{args:?}: {}", r.out);
            }
        }),
    ];
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn a_replay_applies_the_recorded_faults_at_their_times() {
    let store = std::env::temp_dir().join(format!("fl-maelstrom-replay-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&store);
    let s = store.to_str().unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
            .args(["maelstrom", "test"])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let bin = python("g_set.py");
    run(&[
        "-w",
        "g-set",
        "--bin",
        &bin,
        "--node-count",
        "3",
        "--time-limit",
        "4",
        "--rate",
        "20",
        "--nemesis",
        "partition,pause,one-way",
        "--nemesis-interval",
        "0.7",
        "--seed",
        "11",
        "--recovery-time",
        "1",
        "--store",
        s,
    ]);
    let first = std::fs::canonicalize(store.join("g-set/latest")).unwrap();
    let second_store = store.join("again");
    run(&[
        "--replay",
        first.to_str().unwrap(),
        "--store",
        second_store.to_str().unwrap(),
    ]);
    let read = |d: &Path| -> Value {
        serde_json::from_str(&std::fs::read_to_string(d.join("results.json")).unwrap()).unwrap()
    };
    let (a, b) = (read(&first), read(&second_store.join("g-set/latest")));
    let faults = |r: &Value| {
        r.pointer("/maelstrom/faults")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let (fa, fb) = (faults(&a), faults(&b));
    assert!(!fa.is_empty(), "the first run had no faults");
    assert_eq!(fa.len(), fb.len());
    let since = |r: &Value, f: &Value, k: &str| {
        (f[k].as_i64().unwrap() - r.pointer("/maelstrom/began_ns").unwrap().as_i64().unwrap())
            as f64
            / 1e9
    };
    for (x, y) in fa.iter().zip(&fb) {
        assert_eq!((&x["kind"], &x["value"]), (&y["kind"], &y["value"]));
        for k in ["start_ns", "stop_ns"] {
            let (tx, ty) = (since(&a, x, k), since(&b, y, k));
            assert!((tx - ty).abs() < 0.3, "{k}: {tx} s then {ty} s");
        }
    }
    assert_eq!(
        a.pointer("/maelstrom/options/seed"),
        b.pointer("/maelstrom/options/seed")
    );
    let _ = std::fs::remove_dir_all(&store);
}
