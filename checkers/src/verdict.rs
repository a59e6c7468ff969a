//! Three-valued verdicts: a checker says a history is valid, invalid, or
//! that it could not tell (and why).

use serde::{Serialize, Serializer};
use std::fmt;

/// A checker's verdict. Merging keeps the worst: `Invalid > Unknown > Valid`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Validity {
    /// The history satisfies the property (merging nothing gives this).
    #[default]
    Valid,
    /// The history violates the property.
    Invalid,
    /// The checker could not decide (time or memory limit, error).
    Unknown,
}

impl Validity {
    /// Combines two verdicts: any invalid makes the whole invalid, else any
    /// unknown makes it unknown.
    pub fn merge(self, other: Validity) -> Validity {
        use Validity::*;
        match (self, other) {
            (Invalid, _) | (_, Invalid) => Invalid,
            (Unknown, _) | (_, Unknown) => Unknown,
            _ => Valid,
        }
    }

    /// Jepsen's exit code: 0 valid, 1 invalid, 2 unknown.
    pub fn exit_code(self) -> i32 {
        match self {
            Validity::Valid => 0,
            Validity::Invalid => 1,
            Validity::Unknown => 2,
        }
    }
}

impl fmt::Display for Validity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Validity::Valid => "valid",
            Validity::Invalid => "invalid",
            Validity::Unknown => "unknown",
        })
    }
}

impl Serialize for Validity {
    /// `true`, `false` or `"unknown"`, as Jepsen's `:valid?`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Validity::Valid => s.serialize_bool(true),
            Validity::Invalid => s.serialize_bool(false),
            Validity::Unknown => s.serialize_str("unknown"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Validity::*;

    #[test]
    fn merge_keeps_the_worst() {
        assert_eq!(Valid.merge(Unknown), Unknown);
        assert_eq!(Unknown.merge(Invalid), Invalid);
        assert_eq!(Valid.merge(Valid), Valid);
        assert_eq!(
            serde_json::to_string(&[Valid, Invalid, Unknown]).unwrap(),
            r#"[true,false,"unknown"]"#
        );
    }
}
