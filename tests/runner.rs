//! `faultline test` end to end on the local cluster, with the Python
//! example service and exec plugin: a correct service is valid, a service
//! with 5% stale reads is invalid with the stale read named, a misbehaving
//! plugin yields info ops and a finished test, and a killed controller
//! leaves a history that `faultline check` reads. Needs root.

mod common;

use common::{require_root, text};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn store() -> PathBuf {
    std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("faultline-runner-{}", std::process::id()))
}

fn test_run(spec: &str, extra: &[&str]) -> Output {
    let store = store();
    Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["test", spec, "--store", store.to_str().unwrap()])
        .args(extra)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("faultline runs")
}

fn history(name: &str) -> Vec<serde_json::Value> {
    let path = store().join(name).join("latest/history.jsonl");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
#[ignore = "needs root and openssh-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn a_correct_service_is_valid() {
    require_root();
    let out = test_run(
        "workloads/register-demo.yaml",
        &["--time-limit", "12", "--local", "3"],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("linearizable: valid"), "{stdout}");
    let h = history("register-demo");
    let ok = h.iter().filter(|o| o["type"] == "ok").count();
    assert!(ok > 500, "only {ok} ok ops");
    assert!(
        h.iter()
            .any(|o| o["process"] == "nemesis" && o["f"].as_str().unwrap().starts_with("start-")),
        "faults applied"
    );
    let dir = store().join("register-demo/latest");
    assert!(dir.join("results.json").is_file() && dir.join("test.yaml").is_file());
    assert!(dir.join("nodes/n2/kvserver.log").is_file(), "logs pulled");
}

#[test]
#[ignore = "needs root and openssh-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn stale_reads_are_found_and_named() {
    require_root();
    let out = test_run(
        "workloads/register-stale.yaml",
        &["--time-limit", "12", "--local", "3", "--seed", "1"],
    );
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(stdout.contains("linearizable: invalid"), "{stdout}");
    assert!(
        stdout.contains("cannot linearize process") && stdout.contains(":read → ok"),
        "{stdout}"
    );
}

#[test]
#[ignore = "needs root and openssh-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn a_misbehaving_plugin_gives_info_ops_and_a_finished_test() {
    require_root();
    let spec = store().join("bad-plugin.yaml");
    std::fs::create_dir_all(store()).unwrap();
    std::fs::write(
        &spec,
        format!("name: bad-plugin\nnodes: local:2\ndb:\n  start:\n    command: sleep 100000\n\
         client:\n  kind: exec\n  command: /usr/bin/python3 {}/tests/data/bad_plugin.py\n  timeout: 500ms\n\
         workload:\n  kind: register\n  mix: {{ read: 1, write: 1 }}\ngenerator:\n  concurrency: 4\n  time_limit: 5s\n  final_reads: false\n\
         checkers: [stats]\n",
         env!("CARGO_MANIFEST_DIR")),
    )
    .unwrap();
    let start = Instant::now();
    let out = test_run(spec.to_str().unwrap(), &[]);
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "the test finished"
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let h = history("bad-plugin");
    let errors: Vec<String> = h
        .iter()
        .filter(|o| o["type"] == "info")
        .filter_map(|o| o["error"].as_str().map(String::from))
        .collect();
    for what in [
        "malformed plugin answer \\\"this is not JSON\\\"",
        "no answer within 0.5 s",
        "plugin exited",
    ] {
        let what = what.replace("\\\"", "\"");
        assert!(
            errors.iter().any(|e| e.contains(&what)),
            "no info op with {what:?}: {errors:?}"
        );
    }
    // A read that ended indeterminate is `fail`: it cannot have changed
    // anything.
    assert!(
        !h.iter().any(|o| o["type"] == "info" && o["f"] == "read"),
        "info reads"
    );
    let failed_reads: Vec<&str> = h
        .iter()
        .filter(|o| o["type"] == "fail" && o["f"] == "read")
        .filter_map(|o| o["error"].as_str())
        .collect();
    assert!(
        failed_reads
            .iter()
            .any(|e| e.contains("no answer within 0.5 s")),
        "{failed_reads:?}"
    );
    // After an info op the worker continues as a new process.
    let processes: std::collections::BTreeSet<u64> =
        h.iter().filter_map(|o| o["process"].as_u64()).collect();
    assert!(processes.len() > 4, "{processes:?}");
    // Hung and killed plugins are gone, children included.
    let ps = text(
        &Command::new("ps")
            .args(["-eo", "stat,args"])
            .output()
            .unwrap()
            .stdout,
    );
    let left: Vec<&str> = ps
        .lines()
        .filter(|l| l.contains("bad_plugin.py") && !l.starts_with('Z'))
        .collect();
    assert!(left.is_empty(), "plugin processes left: {left:?}");
}

#[test]
#[ignore = "needs root and openssh-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn a_killed_controller_leaves_a_checkable_history_and_ctrl_c_finishes_cleanly() {
    require_root();
    // The controller's output goes to files, not pipes: a pipe nobody reads
    // fills up and stalls the run this test is waiting on.
    let spawn = |store: &Path| {
        std::fs::create_dir_all(store).unwrap();
        let out = std::fs::File::create(store.join("stdout.txt")).unwrap();
        let err = std::fs::File::create(store.join("stderr.txt")).unwrap();
        Command::new(env!("CARGO_BIN_EXE_faultline"))
            .args([
                "test",
                "workloads/register-demo.yaml",
                "--local",
                "3",
                "--time-limit",
                "120",
            ])
            .args(["--store", store.to_str().unwrap()])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap()
    };
    let output = |store: &Path| {
        let read = |f: &str| std::fs::read_to_string(store.join(f)).unwrap_or_default();
        format!(
            "stdout:\n{}\nstderr:\n{}",
            read("stdout.txt"),
            read("stderr.txt")
        )
    };
    // Cluster setup shares two cores with the other tests: allow it time,
    // and stop waiting at once if the controller has exited.
    let wait_for_ops = |child: &mut std::process::Child, store: &Path, min: usize| {
        let path = store.join("register-demo/latest/history.jsonl");
        let deadline = Instant::now() + Duration::from_secs(150);
        loop {
            let n = std::fs::read_to_string(&path)
                .map(|t| t.lines().count())
                .unwrap_or(0);
            if n >= min {
                return path;
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!(
                    "controller exited ({status}) before {min} ops: {}",
                    output(store)
                );
            }
            assert!(
                Instant::now() < deadline,
                "no history growing at {} ({n} lines): {}",
                path.display(),
                output(store)
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    };

    // SIGKILL: no teardown can run; the history must still be readable.
    let killed = store().join("kill");
    let mut child = spawn(&killed);
    let cluster = common::run_cluster(child.id());
    let path = wait_for_ops(&mut child, &killed, 200);
    child.kill().unwrap();
    child.wait().unwrap();
    // A correct service, cut short: what was recorded is valid (pending
    // invocations count as indeterminate).
    let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["check", "--json", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let verdict: serde_json::Value = serde_json::from_str(text(&out.stdout).trim())
        .unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)));
    assert_eq!(verdict["valid"], true, "{verdict}");
    let down = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["cluster", "down", "--name", &cluster])
        .output()
        .unwrap();
    assert!(down.status.success(), "{}", text(&down.stderr));

    // SIGINT: stop, heal, tear down, check, exit with the verdict.
    let interrupted = store().join("interrupt");
    let mut child = spawn(&interrupted);
    let cluster = common::run_cluster(child.id());
    wait_for_ops(&mut child, &interrupted, 200);
    let t = Instant::now();
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    let elapsed = t.elapsed();
    let out = output(&interrupted);
    assert!(
        elapsed < Duration::from_secs(60),
        "Ctrl-C took {elapsed:?}: {out}"
    );
    assert_eq!(status.code(), Some(0), "{out}");
    assert!(out.contains("verdict: valid"), "{out}");
    assert!(
        !Path::new(&format!("/var/lib/faultline/clusters/{cluster}")).exists(),
        "cluster removed"
    );
}

#[test]
#[ignore = "needs root and openssh-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn a_transactional_workload_is_checked_by_elle() {
    require_root();
    let out = test_run(
        "workloads/append-demo.yaml",
        &["--time-limit", "8", "--local", "3"],
    );
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(
        stdout.contains("elle (strict-serializable): valid"),
        "{stdout}"
    );
    let h = history("append-demo");
    let reads_filled = h
        .iter()
        .filter(|o| o["type"] == "ok" && o["f"] == "txn")
        .flat_map(|o| o["value"].as_array().cloned().unwrap_or_default())
        .filter(|m| m[0] == "r" && m[2].is_array())
        .count();
    assert!(reads_filled > 100, "completions carry what was read");
}

#[test]
#[ignore = "needs root and openssh-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn a_run_records_how_to_reproduce_it_and_replays_its_faults() {
    require_root();
    let store = store().join("replay");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_faultline"))
            .arg("test")
            .args(args)
            .args(["--store", store.to_str().unwrap()])
            .current_dir("/")
            .output()
            .unwrap()
    };
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads/register-demo.yaml");
    let out = run(&[spec.to_str().unwrap(), "--local", "3", "--time-limit", "16"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // No seed given: a fresh one, printed at the start and recorded.
    let err = text(&out.stderr);
    let printed: u64 = err
        .lines()
        .find_map(|l| l.strip_prefix("seed: "))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a printed fresh seed in\n{err}"));
    assert!(err.contains("(fresh; --seed"), "{err}");
    let first = std::fs::canonicalize(store.join("register-demo/latest")).unwrap();
    let record = |dir: &Path| -> serde_json::Value {
        let r: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).unwrap())
                .unwrap();
        r["run"].clone()
    };
    let r1 = record(&first);
    assert_eq!(r1["faultline"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(
        r1["faultline"]["commit"]
            .as_str()
            .is_some_and(|c| c.len() == 40),
        "{r1}"
    );
    assert_eq!(r1["seed"], printed);
    assert_eq!(r1["overrides"]["local"], 3);
    assert_eq!(r1["overrides"]["time_limit"], 16.0);
    assert_eq!(r1["spec"]["file"], spec.to_str().unwrap());
    assert_eq!(r1["spec"]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(r1["nodes"].as_array().unwrap().len(), 3);
    assert!(r1["started"].as_str().unwrap() < r1["finished"].as_str().unwrap());
    let schedule = r1["schedule"].as_array().unwrap();
    assert!(!schedule.is_empty(), "{r1}");
    assert!(schedule
        .iter()
        .all(|a| a["stop_ns"].as_i64() > a["start_ns"].as_i64()));
    assert_eq!(
        r1["replay"],
        format!("faultline test --replay {}", first.display())
    );

    // The replay: same spec, overrides and seed, the recorded faults in order.
    let out = run(&["--replay", first.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let second = std::fs::canonicalize(store.join("register-demo/latest")).unwrap();
    assert_ne!(first, second);
    let r2 = record(&second);
    for k in ["seed", "overrides", "spec"] {
        assert_eq!(r1[k], r2[k], "{k}");
    }
    let faults = |r: &serde_json::Value| -> Vec<(serde_json::Value, serde_json::Value)> {
        r["schedule"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (a["kind"].clone(), a["value"].clone()))
            .collect()
    };
    assert_eq!(faults(&r1), faults(&r2));
    assert_eq!(
        std::fs::read_to_string(first.join("test.yaml")).unwrap(),
        std::fs::read_to_string(second.join("test.yaml")).unwrap()
    );

    // A changed test.yaml is refused, not replayed as something else.
    std::fs::write(first.join("test.yaml"), "name: other\n").unwrap();
    let out = run(&["--replay", first.to_str().unwrap(), "--dry-run"]);
    assert_eq!(out.status.code(), Some(254));
    assert!(
        text(&out.stderr).contains("SHA-256"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
#[ignore = "needs root and openssh-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn a_closed_stderr_does_not_kill_the_run_or_leave_its_cluster() {
    require_root();
    let store = store().join("closed-stderr");
    let mut child = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["test", "workloads/register-demo.yaml", "--local", "1"])
        .args(["--time-limit", "4", "--store", store.to_str().unwrap()])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let cluster = common::run_cluster(child.id());
    // Whoever read stderr went away (`faultline test ... 2>&1 | head -1`).
    drop(child.stderr.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("verdict: valid"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        !Path::new(&format!("/var/lib/faultline/clusters/{cluster}")).exists(),
        "cluster {cluster} left behind"
    );
}
