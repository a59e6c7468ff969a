//! Spec validation: every class of mistake is reported with file:line:column,
//! the offending key, and a "did you mean" where one fits — before anything
//! touches a node (these run without root).

use std::process::Command;

fn check_spec(name: &str, yaml: &str) -> (i32, String) {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("faultline-spec-{}", std::process::id()));
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
    // db.recover needs db.ready (how else to tell the DB came back), and
    // its templates are rendered like the rest.
    assert_error(
        "o.yaml",
        &with(
            "    command: sleep 1000\n",
            "    command: sleep 1000\n  recover:\n    position: echo 1\n    start: sleep 1000\n",
        ),
        &["o.yaml:", "db.recover", "needs db.ready"],
    );
    assert_error(
        "p.yaml",
        &with(
            "    command: sleep 1000\n",
            "    command: sleep 1000\n  ready: \"true\"\n  recover:\n    position: echo 1\n    start: sleep 1000\n    within: 0s\n",
        ),
        &["db.recover.within"],
    );
    assert_error(
        "q.yaml",
        &with(
            "    command: sleep 1000\n",
            "    command: sleep 1000\n  ready: \"true\"\n  recover:\n    position: echo {{ nod.name }}\n    start: sleep 1000\n",
        ),
        &["db.recover.position", "nod"],
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

/// `faultline test ARGS... --dry-run` from directory `cwd`.
fn dry_run(cwd: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .arg("test")
        .args(args)
        .arg("--dry-run")
        .current_dir(cwd)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!err.contains("panicked"), "{err}");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        err,
    )
}

#[test]
fn huge_and_negative_durations_are_bounded_with_the_key_named() {
    let cases = [
        ("generator", "time_limit"),
        ("generator", "recovery"),
        ("client", "timeout"),
        ("nemesis", "interval"),
        ("nemesis", "quiet"),
        ("nemesis", "clock_offset"),
    ];
    for (i, (section, key)) in cases.iter().enumerate() {
        for (j, bad) in ["1e300", "99999999999999999h", "1e19", "-5s", ".nan"]
            .iter()
            .enumerate()
        {
            let yaml = match *section {
                "client" => with(
                    "  command: /bin/true\n",
                    &format!("  command: /bin/true\n  {key}: {bad}\n"),
                ),
                "nemesis" => format!("{GOOD}nemesis:\n  faults: [kill]\n  {key}: {bad}\n"),
                _ => format!("{GOOD}{section}:\n  {key}: {bad}\n"),
            };
            assert_error(
                &format!("dur{i}-{j}.yaml"),
                &yaml,
                &[&format!("{section}.{key}")],
            );
        }
    }
    assert_error(
        "dur-zero.yaml",
        &format!("{GOOD}generator:\n  time_limit: 0s\n"),
        &["generator.time_limit", "above 0"],
    );
}

#[test]
fn command_line_overrides_are_validated_like_the_spec() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("faultline-spec-ovr-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("good.yaml"), GOOD).unwrap();
    for (args, expect) in [
        (&["--rate=-5"][..], "--rate: expected ops per second"),
        (&["--rate", "NaN"], "--rate: expected ops per second"),
        (&["--rate", "inf"], "--rate"),
        (&["--local", "0"], "--local: expected 1 to 200"),
        (&["--local", "100000"], "--local: expected 1 to 200"),
        (&["--concurrency", "0"], "--concurrency"),
        (
            &["--concurrency", "99999999999999999999999"],
            "--concurrency",
        ),
        (&["--concurrency", "100000n"], "--concurrency: at most"),
        (&["--time-limit", "1e300"], "--time-limit"),
        (&["--time-limit", "0"], "--time-limit"),
        (&["--check-time-limit", "1e300"], "--check-time-limit"),
        (&["--test-count", "0"], "--test-count"),
        (&["--nodes", "a,,b"], "--nodes"),
        (&["--nodes", "a;reboot"], "--nodes"),
    ] {
        // Not --dry-run: the real command must refuse before anything is made.
        let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
            .args(["test", "good.yaml", "--store", "st"])
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(254), "{args:?}: {err}");
        assert!(
            err.contains(expect),
            "{args:?}: expected {expect:?} in {err}"
        );
        assert!(!err.contains("bringing up"), "{args:?}: {err}");
    }
}

#[test]
fn templates_are_rendered_before_any_node_is_touched() {
    assert_error(
        "t1.yaml",
        &with(
            "    command: sleep 1000\n",
            "    command: \"sleep {{ node.name \"\n",
        ),
        &["t1.yaml:4:5:", "db.start.command", "syntax error"],
    );
    assert_error(
        "t2.yaml",
        &with(
            "    command: sleep 1000\n",
            "    command: sleep 1000\n  teardown: rm -rf {{ dat_dir }}/x\n",
        ),
        &["t2.yaml:5:3:", "db.teardown", "undefined"],
    );
    assert_error(
        "t3.yaml",
        &with(
            "    command: sleep 1000\n",
            "    command: sleep 1000\n    log: \"{{ node.nmae }}\"\n",
        ),
        &["db.start.log", "undefined"],
    );
}

#[test]
fn hostile_node_lists_are_refused() {
    for (i, nodes) in [
        r#"[""]"#,
        r#"[a, a]"#,
        r#"["n1,n2"]"#,
        r#"["$(reboot)"]"#,
        r#"["a;b"]"#,
        r#"["../x"]"#,
        r#"["/abs"]"#,
        r#"["x=../y"]"#,
        r#"["..=h"]"#,
        r#"["h:99999"]"#,
        r#"[]"#,
        "local:0",
        "local:100000",
        "5",
    ]
    .iter()
    .enumerate()
    {
        assert_error(
            &format!("nodes{i}.yaml"),
            &with("name: t\n", &format!("name: t\nnodes: {nodes}\n")),
            &[&format!("nodes{i}.yaml:2:"), "nodes"],
        );
    }
    assert_error(
        "targets.yaml",
        &format!("{GOOD}nemesis:\n  faults: [kill]\n  targets: [\"n1,n9\"]\n  grudges: [\"isolate:n7\"]\n"),
        &["nemesis.targets", "no node \"n9\"", "nemesis.grudges", "no node \"n7\""],
    );
    assert_error(
        "name-dots.yaml",
        &with("name: t\n", "name: ..\n"),
        &["name-dots.yaml:1:1:", "name"],
    );
    assert_error(
        "datadir.yaml",
        &with("name: t\n", "name: t\ndata_dir: /var/$(x)\n"),
        &["data_dir"],
    );
}

#[test]
fn type_errors_name_the_key_and_suggest() {
    assert_error(
        "r1.yaml",
        &with(
            "    command: sleep 1000\n",
            "    command: sleep 1000\n  ready:\n    command: true\n    timout: 5s\n",
        ),
        &["r1.yaml:7:5:", "did you mean `timeout`?"],
    );
    let (_, err) = check_spec(
        "r2.yaml",
        &with(
            "    command: sleep 1000\n",
            "    command: sleep 1000\n  ready: [1]\n",
        ),
    );
    assert!(!err.contains("untagged enum"), "{err}");
    assert!(err.contains("db.ready"), "{err}");
    assert_error(
        "p1.yaml",
        "name: t\ndb:\n  start:\n    command: x\nclient:\n  kind: etcd\n  port: 99999\nworkload:\n  kind: register\n",
        &["p1.yaml:7:", "client.port", "1 to 65535", "99999"],
    );
    for (i, (line, key)) in [
        ("  key_count: -3\n", "workload.key_count"),
        ("  txn_length: 0\n", "workload.txn_length"),
        ("  mix: { read: -1 }\n", "workload.mix"),
        (
            "  values: -9223372036854775808..9223372036854775807\n",
            "workload.values",
        ),
    ]
    .iter()
    .enumerate()
    {
        assert_error(
            &format!("ty{i}.yaml"),
            &with(
                "  kind: cas-register\n",
                &format!("  kind: cas-register\n{line}"),
            ),
            &[key],
        );
    }
    for (i, (line, key)) in [
        ("  rate: lots\n", "generator.rate"),
        ("  seed: -1\n", "generator.seed"),
        ("  final_reads: maybe\n", "generator.final_reads"),
        ("  concurrency: [1]\n", "generator.concurrency"),
        ("  concurrency: -2\n", "generator.concurrency"),
        ("  time_limit: [1]\n", "generator.time_limit"),
        ("  ops_per_key: 0\n", "generator.ops_per_key"),
    ]
    .iter()
    .enumerate()
    {
        let (code, err) = check_spec(
            &format!("gen{i}.yaml"),
            &format!("{GOOD}generator:\n{line}"),
        );
        assert_eq!(code, 254, "{err}");
        assert!(err.contains(key), "expected {key:?} in {err}");
        assert!(
            !err.contains("untagged enum") && !err.contains("invalid u"),
            "{err}"
        );
    }
}

#[test]
fn relative_paths_resolve_against_the_spec_file() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    // From another directory, the shipped workloads still find their files.
    let spec = root.join("workloads/register-demo.yaml");
    let (code, out, err) = dry_run(std::path::Path::new("/"), &[spec.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("spec register-demo: valid"), "{out}");
    // A source relative to the spec's directory, not the working directory.
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("faultline-spec-rel-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join("sub/file.txt"), "x").unwrap();
    let yaml = with(
        "    command: sleep 1000\n",
        "    command: sleep 1000\n  configure:\n    - path: /tmp/f\n      source: file.txt\n",
    );
    std::fs::write(dir.join("sub/s.yaml"), &yaml).unwrap();
    let (code, out, err) = dry_run(&dir, &["sub/s.yaml"]);
    assert_eq!(code, 0, "{out}{err}");
    std::fs::write(dir.join("s.yaml"), &yaml).unwrap();
    let (code, _, err) = dry_run(&dir.join("sub"), &["../s.yaml"]);
    assert_eq!(code, 254, "{err}");
    assert!(
        err.contains("file.txt") && err.contains("not a readable file"),
        "{err}"
    );
}

#[test]
fn without_a_seed_each_run_draws_a_fresh_one_that_reproduces_it() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let args = ["workloads/register-demo.yaml", "--time-limit", "300"];
    let seed_of = |out: &str| -> String {
        let line = out.lines().next().unwrap_or_default();
        let rest = line
            .split("shown with seed ")
            .nth(1)
            .unwrap_or_else(|| panic!("a fresh seed in {line:?}"));
        rest.trim_end_matches(')').to_string()
    };
    let schedule = |out: &str| -> String {
        out.lines()
            .skip_while(|l| !l.starts_with("fault schedule"))
            .skip(1)
            .collect::<Vec<_>>()
            .join("\n")
    };
    let (code, first, err) = dry_run(root, &args);
    assert_eq!(code, 0, "{first}{err}");
    let (_, second, _) = dry_run(root, &args);
    let (s1, s2) = (seed_of(&first), seed_of(&second));
    assert_ne!(s1, s2, "two runs without a seed drew the same one");
    assert!(!schedule(&first).is_empty(), "{first}");
    assert_ne!(
        schedule(&first),
        schedule(&second),
        "two fresh seeds drew the same 300 s fault schedule"
    );
    // The seed printed reproduces the schedule exactly.
    let mut with_seed = args.to_vec();
    with_seed.extend(["--seed", &s1]);
    let (code, again, _) = dry_run(root, &with_seed);
    assert_eq!(code, 0);
    assert!(
        again.starts_with(&format!("spec register-demo: valid (seed {s1})")),
        "{again}"
    );
    assert_eq!(schedule(&first), schedule(&again));
}

#[test]
fn dry_run_prints_the_plan_and_touches_nothing() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let (code, out, err) = dry_run(
        root,
        &[
            "workloads/register-demo.yaml",
            "--local",
            "4",
            "--seed",
            "7",
            "--time-limit",
            "100",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    for want in [
        "spec register-demo: valid (seed 7)",
        "nodes: 4 on a fresh local cluster",
        "  n4  ",
        "main phase, 100s: 8 workers, 200 ops/s, cas-register",
        "fault schedule (seed 7",
        "start-",
        "checkers: linearizable, stats, perf",
    ] {
        assert!(out.contains(want), "expected {want:?} in\n{out}");
    }
    // The same seed draws the same schedule.
    let (_, again, _) = dry_run(
        root,
        &[
            "workloads/register-demo.yaml",
            "--local",
            "4",
            "--seed",
            "7",
            "--time-limit",
            "100",
        ],
    );
    assert_eq!(out, again);
    let (code, out, _) = dry_run(
        root,
        &[
            "workloads/register-demo.yaml",
            "--nodes",
            "db1=10.0.0.1:2222,db2=10.0.0.2",
        ],
    );
    assert_eq!(code, 0);
    assert!(
        out.contains("db1  10.0.0.1:2222") && out.contains("probed on the nodes"),
        "{out}"
    );
}

#[test]
fn set_checkers_need_a_set_workload() {
    assert_error(
        "set-full.yaml",
        &format!("{GOOD}checkers: [set-full]\n"),
        &["checkers", "the set-full checker needs a set workload"],
    );
    assert_error(
        "setfull-typo.yaml",
        &format!("{GOOD}checkers: [set-ful]\n"),
        &["checkers", "did you mean `set-full`?"],
    );
}

#[test]
fn jepsen_workloads_and_checker_options_name_their_key() {
    let kind = |k: &str| with("  kind: cas-register\n", &format!("  kind: {k}\n"));
    assert_error(
        "counter-on-register.yaml",
        &format!("{GOOD}checkers: [counter]\n"),
        &[
            "checkers",
            "the counter checker needs a counter workload, not cas-register",
        ],
    );
    assert_error(
        "accounts-on-set.yaml",
        &format!("{}  accounts: 4\n", kind("set")),
        &["workload.accounts", "only bank workloads take accounts"],
    );
    assert_error(
        "one-account.yaml",
        &format!("{}  accounts: 1\n  max_transfer: 0\n", kind("bank")),
        &["workload.accounts", "2 to 1000", "workload.max_transfer"],
    );
    assert_error(
        "counter-keys.yaml",
        &format!("{}  keys: independent\n", kind("counter")),
        &["workload.keys", "counter workloads use one object"],
    );
    assert_error(
        "counter-negative.yaml",
        &format!("{}  values: -3..2\n", kind("counter")),
        &["workload.values", "must not be negative"],
    );
    assert_error(
        "queue-mix.yaml",
        &format!("{}  mix: {{ enqueue: 1, drain: 1 }}\n", kind("queue")),
        &["workload.mix", "\"drain\" is not an op of this workload"],
    );
    assert_error(
        "bad-regex.yaml",
        &format!("{GOOD}log_pattern: \"FATAL|(panic\"\n"),
        &["log_pattern", "not a regular expression"],
    );
    assert_error(
        "log-pattern-alone.yaml",
        &format!("{GOOD}checkers: [linearizable, log-pattern]\n"),
        &["checkers", "needs `log_pattern:`"],
    );
    assert_error(
        "long-fork.yaml",
        &format!("{GOOD}checkers: [long-fork]\n"),
        &[
            "checkers",
            "the long-fork checker needs a long-fork workload",
        ],
    );
    assert_error(
        "group-of-one.yaml",
        &format!("{}  group_size: 1\n", kind("long-fork")),
        &["workload.group_size", "2 to 100"],
    );
    // The good ones: defaults per workload, db-alive always, log-pattern
    // when a pattern is given.
    for (k, first) in [
        ("counter", "counter"),
        ("bank", "bank"),
        ("queue", "total-queue"),
        ("unique-ids", "unique-ids"),
        ("long-fork", "long-fork"),
    ] {
        let (code, out, err) = dry_run_text(&format!("{k}.yaml"), &kind(k));
        assert_eq!(code, 0, "{k}: {err}");
        assert!(
            out.contains(&format!("checkers: {first}, stats, perf, db-alive")),
            "{k}: {out}"
        );
    }
    let (code, out, err) = dry_run_text(
        "logs.yaml",
        &format!("{GOOD}log_pattern: \"panic|FATAL\"\n"),
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("checkers: linearizable, stats, perf, db-alive, log-pattern"),
        "{out}"
    );
}

/// `faultline test --dry-run` on spec text written to a temporary file.
fn dry_run_text(name: &str, yaml: &str) -> (i32, String, String) {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("faultline-spec-dry-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, yaml).unwrap();
    dry_run(&dir, &[path.to_str().unwrap()])
}
