//! `faultline check` on hostile input: things that are not histories,
//! integers no 64-bit type holds, transactional histories written in other
//! spellings, panics, and several files with mixed results. Each test
//! names the case of issue 11 or 12 it covers.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::{Command, Output};

fn faultline<S: AsRef<OsStr>>(args: &[S]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        // A panic must be one line even when a user asks for backtraces.
        .env("RUST_BACKTRACE", "1")
        .env_remove("FAULTLINE_INJECT_PANIC")
        .output()
        .expect("faultline runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn scratch(name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("faultline-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, contents).unwrap();
    p
}

/// Exit code, stdout, stderr; never a panic.
fn run<S: AsRef<OsStr>>(args: &[S]) -> (Option<i32>, String, String) {
    let out = faultline(args);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(
        !stderr.contains("panicked") && !stderr.contains("stack backtrace"),
        "{stderr}"
    );
    (out.status.code(), stdout, stderr)
}

/// Asserts a 254 whose message contains `needle`.
fn refused<S: AsRef<OsStr>>(args: &[S], needle: &str) {
    let (code, _, err) = run(args);
    assert_eq!(code, Some(254), "{err}");
    assert!(err.contains(needle), "expected {needle:?} in: {err}");
}

const REGISTER: &str = concat!(
    r#"{"process":0,"type":"invoke","f":"write","value":1}"#,
    "\n",
    r#"{"process":0,"type":"ok","f":"write","value":1}"#,
    "\n",
    r#"{"process":1,"type":"invoke","f":"read","value":null}"#,
    "\n",
    r#"{"process":1,"type":"ok","f":"read","value":1}"#,
    "\n",
);

/// A write of `w` then a read of `r`, as JSONL.
fn write_then_read(w: &str, r: &str) -> String {
    format!(
        "{{\"process\":0,\"type\":\"invoke\",\"f\":\"write\",\"value\":{w}}}\n\
         {{\"process\":0,\"type\":\"ok\",\"f\":\"write\",\"value\":{w}}}\n\
         {{\"process\":1,\"type\":\"invoke\",\"f\":\"read\",\"value\":null}}\n\
         {{\"process\":1,\"type\":\"ok\",\"f\":\"read\",\"value\":{r}}}\n"
    )
}

/// Issue 11: something that is not a history is bad input, never valid.
#[test]
fn non_histories_are_bad_input_not_valid() {
    let no_ops = "no Jepsen log op lines";
    refused(&["check", "README.md"], "is this a history?");
    let prose = scratch("prose.txt", "It was a dark and stormy night.\nThe end.\n");
    refused(&["check".as_ref(), prose.as_os_str()], no_ops);
    let xs = scratch("xs", vec![b'x'; 8 << 20]);
    refused(&["check".as_ref(), xs.as_os_str()], no_ops);
    let empty = scratch("empty.jsonl", "");
    refused(
        &["check".as_ref(), empty.as_os_str()],
        "no completed client :read, :write or :cas among its 0 ops",
    );
    refused(&["check", "/dev/null"], no_ops);
    let edn = scratch("empty.edn", "[]\n");
    refused(
        &["check".as_ref(), edn.as_os_str()],
        "not a cas-register history",
    );
    let nemesis = scratch(
        "nemesis.jsonl",
        r#"{"process":"nemesis","type":"info","f":"start-partition","value":"majority"}"#,
    );
    refused(
        &["check".as_ref(), nemesis.as_os_str()],
        "not a cas-register history",
    );
    let invokes = scratch(
        "invokes.jsonl",
        r#"{"process":0,"type":"invoke","f":"write","value":1}"#,
    );
    refused(
        &["check".as_ref(), invokes.as_os_str()],
        "client operations seen: :write",
    );

    let reg = scratch("register.jsonl", REGISTER);
    let reg = reg.to_str().unwrap();
    refused(&["check", "--format", "jepsen-log", reg], no_ops);
    refused(
        &["check", "--checker", "list-append", reg],
        "not a list-append history: no completed client :txn",
    );
    refused(
        &["check", "--checker", "rw-register", reg],
        "not a rw-register history",
    );
    // Jepsen's checkers too, `stats` (which counts any op) included.
    for checker in [
        "set",
        "set-full",
        "bank",
        "long-fork",
        "total-queue",
        "stats",
    ] {
        refused(
            &["check", "--checker", checker, "README.md"],
            &format!("not a {checker} history"),
        );
        refused(
            &[
                "check".as_ref(),
                "--checker".as_ref(),
                checker.as_ref(),
                empty.as_os_str(),
            ],
            "among its 0 ops",
        );
    }
    refused(
        &[
            "check".as_ref(),
            "--checker".as_ref(),
            "stats".as_ref(),
            nemesis.as_os_str(),
        ],
        "not a stats history: no completed client operation among its 1 ops",
    );
    // A register history has reads and writes, but not of micro-ops.
    refused(
        &["check", "--checker", "long-fork", reg],
        "expected :write to return a list of [f, key, value] micro-ops, found 1",
    );
    // A register history has reads, but not of sets.
    refused(
        &["check", "--checker", "set", reg],
        "expected a set read to return a list, found 1",
    );

    // And the same history, checked as what it is, is valid.
    let (code, out, err) = run(&["check", reg]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("\tvalid\t"), "{out}");
}

/// Issue 11: integers beyond 64 bits are refused where they stand; 64-bit
/// ones (u64 too) compare exactly; JSON -0 is 0.
#[test]
fn wide_integers_are_refused_and_others_compare_exactly() {
    let big = scratch(
        "big.jsonl",
        write_then_read("18446744073709551616", "18446744073709551617"),
    );
    refused(
        &["check".as_ref(), big.as_os_str()],
        &format!(
            "{}:1:50: integer 18446744073709551616 does not fit in 64 bits",
            big.display()
        ),
    );
    let big = scratch(
        "big.edn",
        "{:process 0 :type :invoke :f :write :value 18446744073709551616N}\n\
         {:process 0 :type :ok :f :write :value 18446744073709551616N}\n\
         {:process 1 :type :invoke :f :read :value nil}\n\
         {:process 1 :type :ok :f :read :value 18446744073709551617N}\n",
    );
    refused(
        &["check".as_ref(), big.as_os_str()],
        &format!("{}:1:44: integer 18446744073709551616N", big.display()),
    );
    refused(
        &[
            "check",
            "--initial-value",
            "18446744073709551616",
            "README.md",
        ],
        "--initial-value",
    );

    let max = u64::MAX.to_string();
    let below = (u64::MAX - 1).to_string();
    let same = scratch("u64.jsonl", write_then_read(&max, &max));
    let (code, _, err) = run(&["check".as_ref(), same.as_os_str()]);
    assert_eq!(code, Some(0), "{err}");
    let differ = scratch("u64-differ.jsonl", write_then_read(&max, &below));
    let (code, _, err) = run(&["check".as_ref(), differ.as_os_str()]);
    assert_eq!(code, Some(1), "{err}");

    let zero = scratch("zero.jsonl", write_then_read("-0", "0"));
    let (code, _, err) = run(&["check".as_ref(), zero.as_os_str()]);
    assert_eq!(code, Some(0), "JSON -0 is 0, as in Jepsen: {err}");
}

/// A list-append history with write skew (G2-item), each line written by
/// `line(process, type, value)` from the value in JSON.
fn skew(line: impl Fn(u64, &str, &str) -> String) -> String {
    let mut s = String::new();
    for (p, k, other) in [(0, "x", "y"), (1, "y", "x")] {
        s += &line(
            p,
            "invoke",
            &format!("[[\"append\", \"{k}\", 1], [\"r\", \"{other}\", null]]"),
        );
        s += &line(
            p,
            "ok",
            &format!("[[\"append\", \"{k}\", 1], [\"r\", \"{other}\", []]]"),
        );
    }
    s += &line(2, "invoke", r#"[["r", "x", null], ["r", "y", null]]"#);
    s += &line(2, "ok", r#"[["r", "x", [1]], ["r", "y", [1]]]"#);
    s
}

fn json_spaced(p: u64, t: &str, v: &str) -> String {
    // Python's json.dumps default: a space after ':' and ','.
    format!("{{\"process\": {p}, \"type\": \"{t}\", \"f\": \"txn\", \"value\": {v}}}\n")
}

fn checker_of(file: &std::path::Path) -> (Option<i32>, serde_json::Value) {
    let (code, out, err) = run(&["check".as_ref(), "--json".as_ref(), file.as_os_str()]);
    let v = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    (code, v)
}

/// Issue 11: transactional histories are recognised by what they say, not
/// by the bytes `"f":"txn"` in the first 64 KiB.
#[test]
fn transactions_are_recognised_by_content() {
    let py = scratch("python.jsonl", skew(json_spaced));
    let (code, v) = checker_of(&py);
    assert_eq!(
        (code, &v["checker"], &v["valid"]),
        (Some(1), &"list-append".into(), &false.into()),
        "{v}"
    );

    let edn = scratch(
        "spaced.edn",
        skew(|p, t, v| {
            let v = v
                .replace(['"', ','], " ")
                .replace("append", ":append")
                .replace(" r ", " :r ")
                .replace("null", "nil");
            format!("{{:process {p}, :type :{t}, :f  :txn, :value {v}}}\n")
        }),
    );
    let (code, v) = checker_of(&edn);
    assert_eq!(
        (code, &v["checker"]),
        (Some(1), &"list-append".into()),
        "{v}"
    );

    let log = scratch(
        "txn.log",
        skew(|p, t, v| {
            let v = v
                .replace(['"', ','], " ")
                .replace("append", ":append")
                .replace(" r ", " :r ")
                .replace("null", "nil");
            format!("INFO  jepsen.util - {p}\t:{t}\t:txn\t{v}\n")
        }),
    );
    let (code, v) = checker_of(&log);
    assert_eq!(
        (code, &v["checker"]),
        (Some(1), &"list-append".into()),
        "{v}"
    );

    let nemesis = r#"{"process":"nemesis","type":"info","f":"start-partition","value":"a long grudge description that takes room"}"#;
    let mut crowded = format!("{nemesis}\n").repeat((64 << 10) / nemesis.len() + 10);
    crowded += &skew(json_spaced);
    let crowded = scratch("crowded.jsonl", crowded);
    let (code, v) = checker_of(&crowded);
    assert_eq!(
        (code, &v["checker"]),
        (Some(1), &"list-append".into()),
        "{v}"
    );

    let rw = scratch(
        "rw.jsonl",
        json_spaced(0, "invoke", r#"[["r", "x", null], ["w", "x", 1]]"#)
            + &json_spaced(0, "ok", r#"[["r", "x", null], ["w", "x", 1]]"#)
            // A second txn reading the write: one txn alone has no
            // dependency, which Elle calls unknown (empty-transaction-graph).
            + &json_spaced(1, "invoke", r#"[["r", "x", null]]"#)
            + &json_spaced(1, "ok", r#"[["r", "x", 1]]"#),
    );
    let (code, v) = checker_of(&rw);
    assert_eq!(
        (code, &v["checker"]),
        (Some(0), &"rw-register".into()),
        "{v}"
    );

    // Asked for the linearizable checker, the hint names --checker.
    refused(
        &[
            "check".as_ref(),
            "--checker".as_ref(),
            "linearizable".as_ref(),
            py.as_os_str(),
        ],
        "--checker list-append or --checker rw-register",
    );
}

/// Issue 11: no panic escapes as exit 101; known ones are fixed at the
/// source, a checker's panic is an unknown verdict, anything else is 255.
#[test]
fn panics_become_unknown_or_exit_255() {
    for limit in ["9.3e18", "1e19", "1e300", "inf", "NaN"] {
        refused(
            &["check", "--time-limit", limit, "README.md"],
            "'--time-limit <SECONDS>'",
        );
    }
    refused(
        &[
            "check",
            "--memory-limit",
            "99999999999999999999999",
            "README.md",
        ],
        "--memory-limit",
    );

    let odd = scratch("placeholder", "").with_file_name(OsStr::from_bytes(b"not-utf8-\xff.jsonl"));
    std::fs::write(&odd, REGISTER).unwrap();
    let (code, out, err) = run(&["check".as_ref(), "--json".as_ref(), odd.as_os_str()]);
    assert_eq!(code, Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert!(
        v["file"]
            .as_str()
            .unwrap()
            .contains("not-utf8-\u{fffd}.jsonl"),
        "{v}"
    );

    // A reader that went away (`check ... | head`) ends check as SIGPIPE
    // ends other filters, not with a panic on println.
    let mut child = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["check", "checkers/tests/data/jepsen-etcd/etcd_002.log"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_ne!(out.status.code(), Some(101), "{}", text(&out.stderr));
    assert!(
        !text(&out.stderr).contains("panicked"),
        "{}",
        text(&out.stderr)
    );

    if !cfg!(debug_assertions) {
        return; // FAULTLINE_INJECT_PANIC exists in debug builds only.
    }
    let good = scratch("good.jsonl", REGISTER);
    let boom = scratch("boom.jsonl", REGISTER);
    let inject = |place: &str, json: bool| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_faultline"));
        c.arg("check");
        if json {
            c.arg("--json");
        }
        c.args([&good, &boom])
            .env("RUST_BACKTRACE", "1")
            .env("FAULTLINE_INJECT_PANIC", place)
            .output()
            .unwrap()
    };
    let out = inject("file:boom.jsonl", false);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(
        stdout.lines().next().unwrap().contains("\tvalid\t"),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .nth(1)
            .unwrap()
            .contains("\tunknown\tthe checker panicked"),
        "{stdout}"
    );
    assert!(
        stderr.contains("injected panic (file:boom.jsonl) at src/cmd/check.rs:"),
        "{stderr}"
    );
    assert!(!stderr.contains("stack backtrace"), "{stderr}");
    let out = inject("file:boom.jsonl", true);
    let v: serde_json::Value =
        serde_json::from_str(text(&out.stdout).lines().nth(1).unwrap()).unwrap();
    assert_eq!(v["valid"], "unknown");
    assert!(
        v["unknown"]["reason"]
            .as_str()
            .unwrap()
            .contains("injected panic"),
        "{v}"
    );

    let out = inject("run", false);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(255), "{stderr}");
    assert_eq!(
        stderr.lines().count(),
        2,
        "one line for the panic, one for the exit: {stderr}"
    );
    assert!(
        stderr.starts_with("faultline: panicked: injected panic (run) at "),
        "{stderr}"
    );
}

/// Issue 12: several files with mixed results: every file gets its line,
/// the exit status is the worst verdict, 254 only when none was checked.
#[test]
fn several_files_report_each_and_exit_with_the_worst() {
    let valid = "checkers/tests/data/jepsen-etcd/etcd_002.log";
    let invalid = "checkers/tests/data/jepsen-etcd/etcd_000.log";
    let missing = "no/such/history.jsonl";

    let (code, out, err) = run(&["check", valid, invalid, missing]);
    assert_eq!(code, Some(1), "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[0].starts_with(&format!("{valid}\tvalid\t")), "{out}");
    assert!(
        lines[1].starts_with(&format!("{invalid}\tinvalid\t")),
        "{out}"
    );
    assert!(
        lines[2].starts_with(&format!("{missing}\terror\t")),
        "{out}"
    );
    assert!(
        err.contains(&format!("error: {missing}: cannot read")),
        "{err}"
    );
    assert!(err.contains("cannot linearize"), "{err}");
    assert!(err.contains("1 of 3 files could not be checked"), "{err}");

    // A file that could not be checked counts as unknown: never exit 0.
    let (code, _, _) = run(&["check", valid, missing]);
    assert_eq!(code, Some(2));
    let (code, _, _) = run(&["check", missing, valid]);
    assert_eq!(code, Some(2));
    let (code, _, err) = run(&["check", missing, "README.md"]);
    assert_eq!(code, Some(254));
    assert!(
        err.contains("none of the 2 files could be checked"),
        "{err}"
    );

    let (code, out, _) = run(&["check", "--json", valid, missing, invalid]);
    assert_eq!(code, Some(1));
    let objs: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objs.len(), 3);
    assert_eq!(
        objs.iter().map(|o| o["valid"].clone()).collect::<Vec<_>>(),
        [
            serde_json::json!(true),
            serde_json::json!("unknown"),
            serde_json::json!(false)
        ]
    );
    assert_eq!(objs[1]["file"], missing);
    assert!(objs[1]["error"].as_str().unwrap().contains("cannot read"));
}
