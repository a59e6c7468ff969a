//! Jepsen's own checker test cases (transcribed from jepsen-io/jepsen's
//! `checker_test.clj` and `long_fork_test.clj`, plus cases derived from
//! Jepsen's source where it has no test: `tests/data/jepsen-checkers/`):
//! faultline's checkers must give Jepsen's verdict and every field the
//! case asserts, except where faultline differs on purpose (listed below).

mod common;

use common::{case_history, cases, validity};
use faultline_checkers::jepsen::{self, Options};
use faultline_checkers::Datum;
use serde_json::{json, Value};

/// Where faultline deliberately differs from Jepsen: the case, and the
/// verdict faultline gives instead, and why.
const DIFFERENCES: &[(&str, &str, &str)] = &[
    (
        "stats/basic",
        "unknown",
        "an operation that never succeeded is unknown (Jepsen's docstring), not false (its code)",
    ),
    (
        "stats/derived-no-ok-is-false-nemesis-ignored",
        "unknown",
        "as above",
    ),
];

/// A fork pair as an order-free key.
fn fork_key(pair: &Value) -> Vec<String> {
    let mut k: Vec<String> = pair
        .as_array()
        .map(|p| p.iter().map(|op| op["index"].to_string()).collect())
        .unwrap_or_default();
    k.sort();
    k
}

fn same(field: &str, want: &Value, got: &Value) -> bool {
    if field == "forks" {
        let keys = |v: &Value| {
            let mut ks: Vec<Vec<String>> = v
                .as_array()
                .map(|a| a.iter().map(fork_key).collect())
                .unwrap_or_default();
            ks.sort();
            ks
        };
        return keys(want) == keys(got);
    }
    want == got
}

#[test]
fn jepsens_own_cases_get_jepsens_results() {
    let cases = cases("jepsen-checkers/cases.json");
    assert!(cases.len() >= 40, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let name = case["name"].as_str().unwrap_or("?");
        let history = case_history(case);
        let o = &case["options"];
        let mut opts = Options::default();
        opts.linearizable = o["linearizable"].as_bool().unwrap_or(false);
        opts.negative_balances = o["negative_balances"].as_bool().unwrap_or(false);
        opts.total = o["total"].as_i64();
        opts.group_size = o["group_size"].as_u64().map(|n| n as usize);
        opts.accounts = o["accounts"].as_array().map(|a| {
            a.iter()
                .map(|x| x.as_str().map_or_else(|| x.to_string(), String::from))
                .collect()
        });
        let checker = case["checker"].as_str().unwrap_or("?");
        let report = jepsen::check(checker, &history.map_values(Datum::of), &opts)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut expected = case
            .get("expected_faultline")
            .filter(|v| !v.is_null())
            .unwrap_or(&case["expected"])
            .clone();
        if checker == "stats" {
            // Per operation too: no ok at all is unknown, not false.
            for (_, c) in expected["by_f"].as_object_mut().into_iter().flatten() {
                if c["ok_count"] == json!(0) {
                    c["valid"] = json!("unknown");
                }
            }
        }
        let want_valid = match DIFFERENCES.iter().find(|(n, _, _)| *n == name) {
            Some((_, v, _)) => validity(&json!(v)),
            None => validity(&expected["valid"]),
        };
        if report.valid != want_valid {
            failures.push(format!(
                "{name}: expected {want_valid}, got {}: {}",
                report.valid, report.json
            ));
            continue;
        }
        for (field, want) in expected.as_object().into_iter().flatten() {
            if field == "valid" {
                continue;
            }
            let got = report.json.get(field).unwrap_or(&Value::Null);
            if !same(field, want, got) {
                failures.push(format!("{name}: {field} expected {want}, got {got}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} differences from Jepsen:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
