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
