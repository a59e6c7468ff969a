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

/// Cycle anomalies that have `-process` and `-realtime` variants.
const CYCLES: &[&str] = &["G0", "G1c", "G-single", "G-nonadjacent", "G2-item"];

/// Every model, weakest first.
const MODELS: &[&str] = &[
    "read-uncommitted",
    "read-committed",
    "monotonic-atomic-view",
    "snapshot-isolation",
    "repeatable-read",
    "serializable",
    "strong-session-snapshot-isolation",
    "strong-session-serializable",
    "strict-serializable",
];

/// The anomalies `model` proscribes beyond [`DATA`]: each model is a
/// weaker one plus what it adds.
fn forbidden(model: &str) -> Vec<String> {
    let own: &[&str] = match model {
        "read-uncommitted" => &["G0", "dirty-update"],
        "read-committed" => &["G1a", "G1b", "G1c"],
        "monotonic-atomic-view" => &["lost-update"],
        "snapshot-isolation" => &["G-single", "G-nonadjacent"],
        "repeatable-read" | "serializable" => &["G2-item"],
        _ => &[],
    };
    let (base, variants): (Option<&str>, Vec<String>) = match model {
        "read-uncommitted" => (None, Vec::new()),
        "read-committed" => (Some("read-uncommitted"), Vec::new()),
        "monotonic-atomic-view" => (Some("read-committed"), Vec::new()),
        "snapshot-isolation" => (Some("monotonic-atomic-view"), Vec::new()),
        "repeatable-read" | "serializable" => (Some("snapshot-isolation"), Vec::new()),
        "strong-session-snapshot-isolation" => (
            Some("snapshot-isolation"),
            suffixed(&CYCLES[..4], "-process"),
        ),
        "strong-session-serializable" => (Some("serializable"), suffixed(CYCLES, "-process")),
        "strict-serializable" => (
            Some("strong-session-serializable"),
            suffixed(CYCLES, "-realtime"),
        ),
        _ => return Vec::new(),
    };
    let mut all = base.map_or_else(Vec::new, forbidden);
    all.extend(own.iter().map(|a| a.to_string()));
    all.extend(variants);
    all
}

fn suffixed(names: &[&str], suffix: &str) -> Vec<String> {
    names.iter().map(|n| format!("{n}{suffix}")).collect()
}

/// Every model name, weakest first.
pub fn names() -> Vec<&'static str> {
    MODELS.to_vec()
}

/// Whether `model` proscribes `anomaly`.
pub fn proscribes(model: &str, anomaly: &str) -> bool {
    DATA.contains(&anomaly) || forbidden(model).iter().any(|a| a == anomaly)
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
    MODELS.iter().copied().find(|m| *m == name)
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
