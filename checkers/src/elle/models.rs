//! Consistency models as Elle's lattice: each model names the anomalies it
//! proscribes; a history is consistent with a model only if none of those
//! anomalies occurred. Stronger models proscribe supersets.

/// Anomalies every model proscribes: the data itself is impossible.
const DATA: &[&str] = &[
    "internal",
    "duplicate-elements",
    "incompatible-order",
    "cyclic-versions",
    "future-read",
];

/// (model, anomalies it proscribes beyond [`DATA`]).
const MODELS: &[(&str, &[&str])] = &[
    ("read-uncommitted", &["G0", "dirty-update"]),
    (
        "read-committed",
        &["G0", "dirty-update", "G1a", "G1b", "G1c"],
    ),
    (
        "monotonic-atomic-view",
        &["G0", "dirty-update", "G1a", "G1b", "G1c", "lost-update"],
    ),
    (
        "snapshot-isolation",
        &[
            "G0",
            "dirty-update",
            "G1a",
            "G1b",
            "G1c",
            "lost-update",
            "G-single",
            "G-nonadjacent",
        ],
    ),
    (
        "repeatable-read",
        &[
            "G0",
            "dirty-update",
            "G1a",
            "G1b",
            "G1c",
            "lost-update",
            "G-single",
            "G-nonadjacent",
            "G2-item",
        ],
    ),
    (
        "serializable",
        &[
            "G0",
            "dirty-update",
            "G1a",
            "G1b",
            "G1c",
            "lost-update",
            "G-single",
            "G-nonadjacent",
            "G2-item",
        ],
    ),
    (
        "strong-session-snapshot-isolation",
        &[
            "G0",
            "dirty-update",
            "G1a",
            "G1b",
            "G1c",
            "lost-update",
            "G-single",
            "G-nonadjacent",
            "G0-process",
            "G1c-process",
            "G-single-process",
            "G-nonadjacent-process",
        ],
    ),
    (
        "strong-session-serializable",
        &[
            "G0",
            "dirty-update",
            "G1a",
            "G1b",
            "G1c",
            "lost-update",
            "G-single",
            "G-nonadjacent",
            "G2-item",
            "G0-process",
            "G1c-process",
            "G-single-process",
            "G-nonadjacent-process",
            "G2-item-process",
        ],
    ),
    (
        "strict-serializable",
        &[
            "G0",
            "dirty-update",
            "G1a",
            "G1b",
            "G1c",
            "lost-update",
            "G-single",
            "G-nonadjacent",
            "G2-item",
            "G0-process",
            "G1c-process",
            "G-single-process",
            "G-nonadjacent-process",
            "G2-item-process",
            "G0-realtime",
            "G1c-realtime",
            "G-single-realtime",
            "G-nonadjacent-realtime",
            "G2-item-realtime",
        ],
    ),
];

/// Every model name, weakest first.
pub fn names() -> Vec<&'static str> {
    MODELS.iter().map(|(m, _)| *m).collect()
}

/// Whether `model` proscribes `anomaly`.
pub fn proscribes(model: &str, anomaly: &str) -> bool {
    DATA.contains(&anomaly)
        || MODELS
            .iter()
            .any(|(m, a)| *m == model && a.contains(&anomaly))
}

fn forbidden(model: &str) -> Vec<&'static str> {
    MODELS
        .iter()
        .find(|(m, _)| *m == model)
        .map_or_else(Vec::new, |(_, a)| a.to_vec())
}

/// `a` is at least as strong as `b`.
fn implies(a: &str, b: &str) -> bool {
    let fa = forbidden(a);
    forbidden(b).iter().all(|x| fa.contains(x))
}

/// Whether `name` is a known model (also accepts Elle's short names).
pub fn canonical(name: &str) -> Option<&'static str> {
    let name = match name {
        "si" => "snapshot-isolation",
        "rc" => "read-committed",
        "ru" => "read-uncommitted",
        "rr" => "repeatable-read",
        "strong-session-si" => "strong-session-snapshot-isolation",
        n => n,
    };
    MODELS.iter().map(|(m, _)| *m).find(|m| *m == name)
}

/// Given the anomalies found: the weakest models the history is NOT
/// consistent with (`not`), and the strongest it may still satisfy.
pub fn judge(found: &[&str]) -> (Vec<&'static str>, Vec<&'static str>) {
    let violated: Vec<&str> = names()
        .into_iter()
        .filter(|m| found.iter().any(|a| proscribes(m, a)))
        .collect();
    let ok: Vec<&str> = names()
        .into_iter()
        .filter(|m| !violated.contains(m))
        .collect();
    let weakest_violated = violated
        .iter()
        .copied()
        .filter(|m| {
            !violated
                .iter()
                .any(|o| o != m && implies(m, o) && !implies(o, m))
        })
        .collect();
    let strongest_ok = ok
        .iter()
        .copied()
        .filter(|m| !ok.iter().any(|o| o != m && implies(o, m) && !implies(m, o)))
        .collect();
    (weakest_violated, strongest_ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lattice_judgements() {
        assert!(
            proscribes("snapshot-isolation", "G-single")
                && !proscribes("snapshot-isolation", "G2-item")
        );
        assert!(proscribes("read-uncommitted", "incompatible-order"));
        let (not, ok) = judge(&["G2-item"]);
        assert_eq!(not, ["repeatable-read", "serializable"]);
        assert_eq!(ok, ["strong-session-snapshot-isolation"]);
        let (not, ok) = judge(&[]);
        assert!(not.is_empty() && ok == ["strict-serializable"]);
        let (not, _) = judge(&["G1c"]);
        assert_eq!(not, ["read-committed"]);
        assert_eq!(canonical("si"), Some("snapshot-isolation"));
    }
}
