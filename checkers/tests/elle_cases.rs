//! Elle's own test cases (transcribed from jepsen-io/elle's
//! `list_append_test.clj` and `rw_register_test.clj` into
//! `tests/data/elle/cases.json`): faultline must give Elle's verdict and
//! exactly Elle's anomaly types on every one, with the options Elle's test
//! passed (Elle's defaults where it passed none: `wfr-keys?` off, and a
//! register read of a value nobody wrote taken for an initial state).

mod common;

use common::{case_history, cases, validity};
use faultline_checkers::elle::{check, Options, Sources, Workload};
use faultline_checkers::Validity;
use serde_json::Value;

/// Cases where faultline deliberately differs from Elle, and why.
const DIFFERENCES: &[(&str, &str, &str)] = &[(
    "rw-register/read-does-not-return-written",
    "unexplained-element",
    "Elle's own test calls its `valid` here a bug (a TODO): the read returns 2, which \
     nobody wrote. faultline refuses to call that valid: unknown, unexplained-element.",
)];

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn elles_own_cases_get_elles_verdicts() {
    let cases = cases("elle/cases.json");
    assert!(cases.len() >= 70, "only {} cases", cases.len());
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in &cases {
        let name = case["name"].as_str().unwrap_or("?");
        let differs = DIFFERENCES.iter().find(|(n, _, _)| *n == name);
        let workload = match case["workload"].as_str() {
            Some("rw-register") => Workload::RwRegister,
            _ => Workload::ListAppend,
        };
        let history = case_history(case);
        let opt = |k: &str| case["options"][k].as_bool().unwrap_or(false);
        let opts = Options::default()
            .with_models(strings(case.get("models")))
            .with_anomalies(strings(case.get("anomalies")))
            .with_sources(Sources {
                wfr_keys: opt("wfr_keys"),
                sequential_keys: opt("sequential_keys"),
                linearizable_keys: opt("linearizable_keys"),
                // Elle's tests read values nobody wrote as initial states.
                unwritten_reads_initial: differs.is_none(),
            });
        let a = check(&history, workload, &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
        if let Some((_, anomaly, why)) = differs {
            assert_eq!(a.valid, Validity::Unknown, "{name}: {why}");
            assert_eq!(a.anomaly_types, [*anomaly], "{name}: {why}");
            continue;
        }
        let expected = &case["expected"];
        let mut want = strings(expected.get("anomaly_types"));
        if let Some(e) = expected.get("error").and_then(Value::as_str) {
            want.push(e.to_string());
        }
        want.sort();
        checked += 1;
        if a.valid != validity(&expected["valid"]) || a.anomaly_types != want {
            failures.push(format!(
                "{name}: expected {} {:?}, got {} {:?} (allowed {:?}, not {:?})",
                expected["valid"], want, a.valid, a.anomaly_types, a.allowed, a.not
            ));
            continue;
        }
        // faultline always looks for process and real-time anomalies too
        // (Elle only when the models asked for need them), so where it found
        // some, `not` may name more models; every model Elle rules out must
        // still be ruled out.
        let extra = a.allowed.keys().chain(&a.anomaly_types).any(|n| {
            ["process", "realtime", "strong", "PL-SS"]
                .iter()
                .any(|w| n.contains(w))
        });
        let ruled_out: Vec<String> = a
            .not
            .iter()
            .chain(&a.also_not)
            .map(|s| s.to_string())
            .collect();
        for field in ["not", "also_not"] {
            let Some(w) = expected.get(field) else {
                continue;
            };
            let mut w = strings(Some(w));
            w.sort();
            let got: Vec<String> = match field {
                "not" => a.not.iter().map(|s| s.to_string()).collect(),
                _ => a.also_not.iter().map(|s| s.to_string()).collect(),
            };
            let ok = if extra {
                w.iter().all(|m| ruled_out.contains(m))
            } else {
                got == w
            };
            if !ok {
                failures.push(format!(
                    "{name}: {field} expected {w:?}, got {got:?} (found {:?}, allowed {:?})",
                    a.anomaly_types, a.allowed
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} cases differ from Elle:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
