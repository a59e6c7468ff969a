//! Helpers shared by the integration tests.
#![allow(dead_code)]

use faultline_checkers::{
    format, linear,
    model::{CasRegister, Scalar},
    Validity,
};
use std::path::{Path, PathBuf};

/// Path of a file under tests/data.
pub fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

/// Checks a bundled history as a cas-register starting at nil and asserts
/// the verdict; an invalid verdict must come with an explanation.
pub fn verdict(rel: &str, expected: Validity) {
    let history = format::read_path(&data(rel), None).unwrap_or_else(|e| panic!("{e}"));
    let a = linear::check(
        &CasRegister::new(Scalar::Null),
        &history,
        &Default::default(),
    )
    .unwrap();
    assert_eq!(a.valid, expected, "{rel}: {a:?}");
    if expected == Validity::Invalid {
        let f = a.failure.expect("invalid verdicts carry a failure");
        assert!(
            f.explanation.contains("cannot linearize"),
            "{}",
            f.explanation
        );
        assert!(!f.states.is_empty());
    }
}

/// The test cases in `tests/data/<rel>` (a JSON array).
pub fn cases(rel: &str) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(data(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// A case's `history` (faultline ops), read as the JSONL reader reads a file.
pub fn case_history(case: &serde_json::Value) -> faultline_checkers::History {
    let name = case["name"].as_str().unwrap_or("?");
    let jsonl: String = case["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|op| format!("{op}\n"))
        .collect();
    format::read_str(format::Format::Jsonl, Path::new(name), &jsonl)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A case's expected `valid`: true, false or anything else for unknown.
pub fn validity(v: &serde_json::Value) -> Validity {
    match v {
        serde_json::Value::Bool(true) => Validity::Valid,
        serde_json::Value::Bool(false) => Validity::Invalid,
        _ => Validity::Unknown,
    }
}
