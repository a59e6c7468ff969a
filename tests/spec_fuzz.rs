//! Spec validation never panics, whatever the spec and the flags: a corpus
//! of hostile specs (each with the key its error must name, in an
//! `# expect:` first line) through the real binary, and a property test that
//! feeds generated specs — valid shapes with hostile values, broken YAML,
//! hostile command-line overrides — to `validate_with`. The property test
//! runs for `FAULTLINE_FUZZ_SECONDS` (default 5; `.ci/run` gives it 60).

use faultline::spec::{self, Overrides, MAX_SECONDS, MAX_WORKERS};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Generated specs that validated (the bounds of their plans were checked).
static VALID: AtomicU64 = AtomicU64::new(0);

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/spec-corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 20, "corpus at {}", dir.display());
    files
}

#[test]
fn every_hostile_spec_in_the_corpus_is_refused_naming_its_key() {
    for path in corpus() {
        let text = std::fs::read_to_string(&path).unwrap();
        let expect = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{}: no `# expect:` line", path.display()))
            .to_string();
        let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
            .args(["test", path.to_str().unwrap(), "--dry-run"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(254), "{}: {err}", path.display());
        assert!(!err.contains("panicked"), "{}: {err}", path.display());
        assert!(
            err.contains(&expect),
            "{}: expected {expect:?} in {err}",
            path.display()
        );
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            err.contains(&name),
            "{}: no file named in {err}",
            path.display()
        );
    }
}

/// Hostile YAML values: huge, negative, not numbers, injection attempts,
/// broken templates, broken YAML.
const HOSTILE: &[&str] = &[
    "1e300",
    "-1e300",
    "1e19",
    "99999999999999999h",
    ".nan",
    ".inf",
    "-.inf",
    "-1",
    "-0",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775808",
    "4294967295",
    "99999",
    "65536",
    "0",
    "0s",
    "-5s",
    "\"\"",
    "\"{{\"",
    "\"{{ nope }}\"",
    "\"{% if %}\"",
    "\"$(reboot)\"",
    "\"a;b\"",
    "\"../x\"",
    "\"/abs\"",
    "\"n1,n2\"",
    "\"a=b=c\"",
    "\"..\"",
    "[\"\"]",
    "[a, a]",
    "[1, [2]]",
    "{a: {b: c}}",
    "~",
    "[",
    "]",
    "{",
    "\"\\u0000\"",
    "local:99999999999999999999",
    "local:-1",
    "1..1",
    "-9223372036854775808..9223372036854775807",
    "5 parsecs",
    "1e300ms",
    "\"ünïcödé\"",
    "&a x",
    "*a",
    "!!binary aGk=",
    "? x",
];

/// (indentation, key, plausible values); a key whose next slot is indented
/// deeper is a section.
const SLOTS: &[(&str, &str, &[&str])] = &[
    ("", "name", &["t", "my-test", "a.b_c"]),
    (
        "",
        "nodes",
        &[
            "local:3",
            "local:1",
            "[n1, n2, n3]",
            "[\"db=10.0.0.1:2222\", h2]",
        ],
    ),
    ("", "data_dir", &["/var/lib/x", "/d"]),
    ("", "db", &[]),
    (
        "  ",
        "install",
        &["apt-get install -y x", "\"echo {{ node.name }}\""],
    ),
    ("  ", "present", &["command -v x"]),
    ("  ", "teardown", &["\"rm -rf {{ data_dir }}/x\""]),
    ("  ", "primaries", &["\"echo {{ primary.name }}\""]),
    (
        "  ",
        "ready",
        &[
            "true",
            "{ command: true, timeout: 5s }",
            "{ command: true }",
        ],
    ),
    ("  ", "logs", &["[\"{{ data_dir }}/a.log\"]", "[]"]),
    ("  ", "binary", &["x"]),
    ("  ", "start", &[]),
    (
        "    ",
        "command",
        &[
            "sleep 1000",
            "\"run {{ node.addr }} {{ initial_cluster }}\"",
        ],
    ),
    ("    ", "pidfile", &["\"{{ data_dir }}/p.pid\""]),
    ("    ", "log", &["\"{{ data_dir }}/p.log\""]),
    ("", "client", &[]),
    ("  ", "kind", &["exec", "exec", "etcd", "postgres"]),
    ("  ", "command", &["/bin/true"]),
    ("  ", "timeout", &["1s", "500ms", "2"]),
    ("  ", "port", &["2379", "5432"]),
    ("  ", "reads", &["linearizable", "serializable"]),
    ("", "workload", &[]),
    (
        "  ",
        "kind",
        &[
            "register",
            "cas-register",
            "set",
            "list-append",
            "rw-register",
        ],
    ),
    ("  ", "keys", &["independent", "single"]),
    (
        "  ",
        "mix",
        &[
            "{ read: 1, write: 1 }",
            "{ read: 2, write: 1, cas: 1 }",
            "{ txn: 1 }",
        ],
    ),
    ("  ", "values", &["unique", "0..5", "-3..3"]),
    ("  ", "key_count", &["10", "1"]),
    ("  ", "txn_length", &["4", "1"]),
    ("", "generator", &[]),
    ("  ", "concurrency", &["2n", "4", "n"]),
    ("  ", "rate", &["100", "0", "0.5"]),
    ("  ", "time_limit", &["10s", "1m", "3"]),
    ("  ", "recovery", &["0s", "2s"]),
    ("  ", "ops_per_key", &["100", "1"]),
    ("  ", "threads_per_key", &["2"]),
    ("", "nemesis", &[]),
    (
        "  ",
        "faults",
        &["[kill]", "[partition, pause]", "[clock, loss]"],
    ),
    ("  ", "interval", &["5s", "100ms"]),
    ("  ", "quiet", &["0s", "1s"]),
    ("  ", "clock_offset", &["5s", "0"]),
    ("  ", "loss_probability", &["0.5", "1"]),
    (
        "  ",
        "targets",
        &["[one, majority]", "[primaries]", "[\"n1,n2\"]"],
    ),
    (
        "",
        "checkers",
        &["[linearizable, stats, perf]", "[elle]", "[stats]"],
    ),
];

/// A value for a slot: mostly plausible, often hostile, sometimes random.
fn value(plausible: &'static [&'static str]) -> BoxedStrategy<String> {
    let hostile = prop::sample::select(HOSTILE).prop_map(String::from);
    if plausible.is_empty() {
        return hostile.boxed();
    }
    prop_oneof![
        60 => prop::sample::select(plausible).prop_map(String::from),
        2 => hostile,
        1 => "[ -~]{0,12}",
        1 => any::<f64>().prop_map(|f| f.to_string()),
        1 => any::<i64>().prop_map(|i| i.to_string()),
    ]
    .boxed()
}

/// A spec: each slot absent, a section header, or `key: value`.
fn spec_text() -> impl Strategy<Value = String> {
    let slots: Vec<BoxedStrategy<Option<String>>> = SLOTS
        .iter()
        .map(|(_, key, plausible)| {
            // The keys every spec needs are there nearly always.
            let absent = if [
                "name", "db", "start", "command", "client", "kind", "workload",
            ]
            .contains(key)
            {
                1
            } else if [
                "mix", "checkers", "port", "reads", "keys", "targets", "nodes",
            ]
            .contains(key)
            {
                // Keys that must agree with others: often left out, so
                // that valid specs come up too.
                60
            } else {
                12
            };
            prop_oneof![absent => Just(None), 30 => value(plausible).prop_map(Some)].boxed()
        })
        .collect();
    slots.prop_map(|vals| {
        let mut s = String::new();
        for (i, ((indent, key, plausible), v)) in SLOTS.iter().zip(vals).enumerate() {
            let section = SLOTS
                .get(i + 1)
                .is_some_and(|(next, _, _)| next.len() > indent.len());
            match v {
                None => {}
                Some(_) if section && plausible.is_empty() => {
                    s.push_str(&format!("{indent}{key}:\n"))
                }
                Some(v) => s.push_str(&format!("{indent}{key}: {v}\n")),
            }
        }
        s
    })
}

fn overrides() -> impl Strategy<Value = Overrides> {
    let f = prop_oneof![
        20 => Just(None),
        1 => any::<f64>().prop_map(Some),
        1 => prop::sample::select(vec![0.0, -1.0, 1e300, f64::NAN, 1e9, 1.5]).prop_map(Some),
    ];
    let concurrency = prop_oneof![
        10 => Just(None),
        1 => prop::sample::select(vec![
            "0", "1", "2n", "n", "-1", "99999999999999999999n", "10000", "10001", "x",
        ])
        .prop_map(Some),
    ];
    let local = prop_oneof![10 => Just(None), 1 => (0usize..300).prop_map(Some)];
    (
        f.clone(),
        concurrency,
        f,
        prop::option::of(any::<usize>()),
        local,
    )
        .prop_map(|(time_limit, concurrency, rate, seed, local)| Overrides {
            time_limit,
            concurrency: concurrency.map(String::from),
            rate,
            seed: seed.map(|s| s as u64),
            local,
            nodes: None,
        })
}

/// Validates `text` with `o`; a valid plan must respect every bound.
fn check_one(text: &str, o: &Overrides) -> Result<(), TestCaseError> {
    let path = Path::new("fuzz.yaml");
    let loaded = match spec::from_text(path, text.to_string(), ".".into()) {
        Ok(l) => l,
        Err(e) => {
            prop_assert!(e.to_string().starts_with("fuzz.yaml"), "{e}");
            return Ok(());
        }
    };
    match loaded.validate_with(o) {
        Err(errs) => {
            prop_assert!(!errs.is_empty());
            for e in errs {
                let shown = e.to_string();
                prop_assert!(
                    shown.starts_with("fuzz.yaml") || shown.starts_with("--"),
                    "{shown}"
                );
            }
        }
        Ok(plan) => {
            VALID.fetch_add(1, Ordering::Relaxed);
            for d in [plan.time_limit, plan.op_timeout, plan.recovery] {
                prop_assert!(d.as_secs_f64() <= MAX_SECONDS, "{d:?}");
            }
            prop_assert!(!plan.time_limit.is_zero());
            let n = match &plan.nodes {
                spec::NodesPlan::Local(n) => *n,
                spec::NodesPlan::Hosts(h) => h.len(),
            };
            prop_assert!(plan.concurrency.workers(n) <= MAX_WORKERS);
            prop_assert!(plan.rate.is_none_or(|r| r.is_finite() && r > 0.0));
            if let Some(s) = &plan.nemesis {
                prop_assert!(!s.interval.is_zero() && !s.faults.is_empty());
            }
        }
    }
    Ok(())
}

#[test]
fn no_spec_or_override_makes_validation_panic() {
    let secs: u64 = std::env::var("FAULTLINE_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut runs = 0u64;
    while Instant::now() < deadline {
        let mut runner = TestRunner::new(Config {
            cases: 64,
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(&(spec_text(), overrides()), |(text, o)| {
                check_one(&text, &o)
            })
            .unwrap();
        // Arbitrary bytes as a spec, too.
        runner
            .run(&"\\PC{0,200}", |text| {
                check_one(&text, &Overrides::default())
            })
            .unwrap();
        runs += 128;
    }
    let valid = VALID.load(Ordering::Relaxed);
    eprintln!("spec fuzz: {runs} cases in {secs} s, {valid} valid");
    assert!(
        valid > 0,
        "no generated spec was valid: the generator needs fixing"
    );
}
