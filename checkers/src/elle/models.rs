//! Consistency models and anomalies as Elle relates them
//! (`elle.consistency-model`): a graph of models (a → b when a history
//! satisfying a also satisfies b), the anomalies each model directly
//! proscribes, and which anomalies imply which. From these:
//!
//! - [`prohibited_by`]: every anomaly that rules a set of models out (the
//!   directly proscribed anomalies of every implied model, and every
//!   anomaly implying one of those);
//! - [`boundary`]: given the anomalies found, the weakest models ruled out
//!   (`not`) and the stronger ones also ruled out (`also_not`);
//! - [`may_satisfy`]: the strongest of the usual transactional models that
//!   nothing found rules out (faultline's addition).
//!
//! The tables are transcribed from Elle (EPL-1.0); names are Elle's.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::OnceLock;

type Dag = &'static [(&'static str, &'static [&'static str])];

/// Friendly → canonical model names (`canonical-model-names`).
const CANONICAL: &[(&str, &str)] = &[
    ("consistent-view", "PL-2+"),
    ("conflict-serializable", "PL-3"),
    ("cursor-stability", "PL-CS"),
    ("forward-consistent-view", "PL-FCV"),
    ("monotonic-snapshot-read", "PL-MSR"),
    ("monotonic-view", "PL-2L"),
    ("read-committed", "PL-2"),
    ("read-uncommitted", "PL-1"),
    ("repeatable-read", "PL-2.99"),
    ("serializable", "PL-3"),
    ("snapshot-isolation", "PL-SI"),
    ("strict-serializable", "PL-SS"),
    ("strong-serializable", "PL-SS"),
    ("update-serializable", "PL-3U"),
    ("strong-session-read-uncommitted", "strong-session-PL-1"),
    ("strong-session-read-committed", "strong-session-PL-2"),
    ("strong-read-uncommitted", "strong-PL-1"),
    ("strong-read-committed", "strong-PL-2"),
];

/// The model hierarchy (`models`), in friendly names as Elle writes it;
/// canonicalized on use.
const MODELS: Dag = &[
    ("causal-cerone", &["read-atomic"]),
    ("consistent-view", &["cursor-stability", "monotonic-view"]),
    ("conflict-serializable", &["view-serializable"]),
    ("cursor-stability", &["read-committed", "PL-2"]),
    ("forward-consistent-view", &["consistent-view"]),
    ("PL-2", &["PL-1"]),
    ("PL-3", &["repeatable-read", "update-serializable"]),
    ("update-serializable", &["forward-consistent-view"]),
    ("monotonic-atomic-view", &["read-committed"]),
    ("monotonic-view", &["PL-2"]),
    ("monotonic-snapshot-read", &["PL-2"]),
    (
        "parallel-snapshot-isolation",
        &["causal-cerone", "update-atomic"],
    ),
    ("prefix", &["causal-cerone"]),
    ("read-atomic", &["monotonic-atomic-view"]),
    ("read-committed", &["read-uncommitted"]),
    (
        "repeatable-read",
        &["cursor-stability", "monotonic-atomic-view"],
    ),
    ("update-atomic", &["read-atomic"]),
    (
        "serializable",
        &["repeatable-read", "snapshot-isolation", "view-serializable"],
    ),
    ("session-serializable", &["1SR"]),
    (
        "snapshot-isolation",
        &[
            "forward-consistent-view",
            "monotonic-atomic-view",
            "monotonic-snapshot-read",
            "parallel-snapshot-isolation",
            "prefix",
        ],
    ),
    (
        "strict-serializable",
        &[
            "PL-3",
            "serializable",
            "linearizable",
            "snapshot-isolation",
            "strong-snapshot-isolation",
            "strong-session-serializable",
        ],
    ),
    ("strong-session-PL-1", &["PL-1"]),
    ("strong-session-PL-2", &["PL-2", "strong-session-PL-1"]),
    ("strong-PL-1", &["strong-session-PL-1"]),
    ("strong-PL-2", &["strong-session-PL-2", "strong-PL-1"]),
    (
        "strong-session-serializable",
        &["serializable", "strong-session-snapshot-isolation"],
    ),
    (
        "strong-session-snapshot-isolation",
        &["snapshot-isolation", "strong-session-PL-2"],
    ),
    ("strong-serializable", &["session-serializable"]),
    (
        "strong-snapshot-isolation",
        &["strong-session-snapshot-isolation", "strong-PL-2"],
    ),
    ("linearizable", &["sequential"]),
    ("sequential", &["causal"]),
    ("causal", &["writes-follow-reads", "PRAM"]),
    (
        "PRAM",
        &["monotonic-reads", "monotonic-writes", "read-your-writes"],
    ),
];

/// Anomalies each model proscribes beyond the models it implies
/// (`direct-proscribed-anomalies`).
const DIRECT: Dag = &[
    ("causal-cerone", &["internal", "G1a"]),
    ("cursor-stability", &["G1", "G-cursor", "lost-update"]),
    ("monotonic-view", &["G1", "G-monotonic"]),
    ("monotonic-snapshot-read", &["G1", "G-MSR"]),
    ("consistent-view", &["G1", "G-single"]),
    ("forward-consistent-view", &["G1", "G-SIb"]),
    ("parallel-snapshot-isolation", &["internal", "G1a"]),
    (
        "PL-3",
        &["G1", "G2", "predicate-read-miss", "PL-3-cycle-exists"],
    ),
    ("PL-2", &["G1", "PL-2-cycle-exists"]),
    (
        "PL-1",
        &[
            "G0",
            "duplicate-elements",
            "cyclic-versions",
            "PL-1-cycle-exists",
        ],
    ),
    ("prefix", &["internal", "G1a"]),
    ("serializable", &["internal"]),
    (
        "snapshot-isolation",
        &[
            "internal",
            "G1",
            "G-SI",
            "G-nonadjacent",
            "PL-SI-cycle-exists",
        ],
    ),
    ("read-atomic", &["internal", "G1a", "future-read"]),
    (
        "repeatable-read",
        &["G1", "G2-item", "PL-2.99-cycle-exists", "lost-update"],
    ),
    ("update-atomic", &["lost-update"]),
    (
        "strict-serializable",
        &["G1", "G1c-realtime", "G2-realtime", "PL-SS-cycle-exists"],
    ),
    (
        "strong-session-PL-1",
        &["strong-session-PL-1-cycle-exists", "G0-process"],
    ),
    (
        "strong-session-PL-2",
        &["strong-session-PL-2-cycle-exists", "G1c-process"],
    ),
    ("strong-PL-1", &["strong-PL-1-cycle-exists", "G0-realtime"]),
    ("strong-PL-2", &["strong-PL-2-cycle-exists", "G1c-realtime"]),
    (
        "strong-session-snapshot-isolation",
        &[
            "internal",
            "G1-process",
            "G-nonadjacent-process",
            "strong-session-snapshot-isolation-cycle-exists",
        ],
    ),
    (
        "strong-snapshot-isolation",
        &[
            "internal",
            "G1-realtime",
            "G-nonadjacent-realtime",
            "strong-snapshot-isolation-cycle-exists",
        ],
    ),
    (
        "strong-session-serializable",
        &[
            "G1-process",
            "G2-process",
            "strong-session-serializable-cycle-exists",
        ],
    ),
    ("update-serializable", &["G1", "G-update"]),
];

/// Which anomalies imply which (`implied-anomalies`).
const IMPLIED: Dag = &[
    ("G0", &["G1c", "G0-process"]),
    ("G0-process", &["G1c-process", "G0-realtime"]),
    ("G0-realtime", &["G1c-realtime"]),
    ("G1a", &["G1"]),
    ("G1b", &["G1"]),
    ("G1c", &["G1", "G1c-process"]),
    ("G1c-process", &["G1c-realtime", "G1-process"]),
    ("G1c-realtime", &["G1-realtime"]),
    ("G1", &["G1-process"]),
    ("G1-process", &["G1-realtime"]),
    (
        "G-single-item",
        &["G-single", "G-single-item-process", "G-nonadjacent-item"],
    ),
    (
        "G-single-item-process",
        &[
            "G-single-process",
            "G-single-item-realtime",
            "G-nonadjacent-item-process",
        ],
    ),
    (
        "G-single-item-realtime",
        &["G-single-realtime", "G-nonadjacent-item-realtime"],
    ),
    ("G-single", &["G-nonadjacent", "GSIb", "G-single-process"]),
    (
        "G-single-process",
        &["G-nonadjacent-process", "G-single-realtime"],
    ),
    ("G-single-realtime", &["G-nonadjacent-realtime"]),
    (
        "G-nonadjacent-item",
        &["G-nonadjacent", "G2-item", "G-nonadjacent-item-process"],
    ),
    (
        "G-nonadjacent-item-process",
        &[
            "G-nonadjacent-process",
            "G2-item-process",
            "G-nonadjacent-item-realtime",
        ],
    ),
    (
        "G-nonadjacent-item-realtime",
        &["G2-item-realtime", "G-nonadjacent-realtime"],
    ),
    ("G-nonadjacent", &["G2", "G-nonadjacent-process"]),
    (
        "G-nonadjacent-process",
        &["G2-process", "G-nonadjacent-realtime"],
    ),
    ("G-nonadjacent-realtime", &["G2-realtime"]),
    ("G2", &["G2-process"]),
    ("G2-item", &["G2", "G2-item-process"]),
    ("G2-item-process", &["G2-process", "G2-item-realtime"]),
    ("G2-item-realtime", &["G2-realtime"]),
    ("G2-process", &["G2-realtime"]),
    ("GSIa", &["GSI"]),
    ("GSIb", &["GSI"]),
    ("incompatible-order", &["G1a"]),
    ("future-read", &["G1c"]),
    ("dirty-update", &["G1a"]),
    ("lost-update", &["write-skew", "G2-item"]),
    ("write-skew", &["G2"]),
];

/// Extra edges ordering anomalies by severity (`anomaly-severity-graph`);
/// with [`IMPLIED`] they order the cycle search.
const SEVERITY: Dag = &[
    ("G0", &["G1c"]),
    ("G0-process", &["G1c-process"]),
    ("G0-realtime", &["G1c-realtime"]),
    ("G1c", &["G-single", "G2-item"]),
    ("G1c-process", &["G-single-process", "G2-item-process"]),
    ("G1c-realtime", &["G-single-realtime", "G2-item-realtime"]),
    ("G2", &["G0-process"]),
    ("G2-process", &["G0-realtime"]),
];

/// The models faultline offers by name (and reports in `may_satisfy`),
/// weakest first.
const USUAL: &[&str] = &[
    "read-uncommitted",
    "read-committed",
    "monotonic-atomic-view",
    "cursor-stability",
    "repeatable-read",
    "snapshot-isolation",
    "serializable",
    "strong-session-read-uncommitted",
    "strong-session-read-committed",
    "strong-read-uncommitted",
    "strong-read-committed",
    "strong-session-snapshot-isolation",
    "strong-snapshot-isolation",
    "strong-session-serializable",
    "strict-serializable",
];

/// The canonical name of a model (`PL-3` for `serializable`); a name
/// from the tables keeps its `'static` lifetime.
fn canon(name: &str) -> &str {
    CANONICAL
        .iter()
        .find(|(f, _)| *f == name)
        .map_or(name, |(_, c)| c)
}

/// The friendly name of a canonical model name.
fn friendly(name: &str) -> &str {
    if name == "PL-3" {
        return "serializable";
    }
    CANONICAL
        .iter()
        .find(|(_, c)| *c == name)
        .map_or(name, |(f, _)| f)
}

/// Out-edges of a DAG, with both ends canonicalized when `models`.
fn out(dag: Dag, v: &str, models: bool) -> Vec<&'static str> {
    dag.iter()
        .filter(|(a, _)| if models { canon(a) == v } else { *a == v })
        .flat_map(|(_, bs)| bs.iter().copied())
        .map(|b| if models { canon(b) } else { b })
        .collect()
}

/// In-edges of a DAG.
fn inn(dag: Dag, v: &str, models: bool) -> Vec<&'static str> {
    dag.iter()
        .filter(|(_, bs)| {
            bs.iter()
                .any(|b| if models { canon(b) == v } else { *b == v })
        })
        .map(|(a, _)| if models { canon(a) } else { *a })
        .collect()
}

/// Breadth-first closure of `start` under `step` (including `start`).
fn closure<'a>(
    start: impl IntoIterator<Item = &'a str>,
    step: impl Fn(&str) -> Vec<&'a str>,
) -> BTreeSet<&'a str> {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut queue: VecDeque<&str> = start.into_iter().collect();
    while let Some(x) = queue.pop_front() {
        if seen.insert(x) {
            queue.extend(step(x));
        }
    }
    seen
}

/// Every model name Elle knows (friendly and canonical).
fn all_models() -> BTreeSet<&'static str> {
    let mut all = BTreeSet::new();
    for (a, bs) in MODELS {
        all.insert(*a);
        all.extend(bs.iter().copied());
    }
    for (f, c) in CANONICAL {
        all.insert(*f);
        all.insert(*c);
    }
    all
}

/// Every model name accepted, for error messages: the usual ones first.
pub fn names() -> Vec<&'static str> {
    let mut v: Vec<&str> = USUAL.to_vec();
    v.extend(all_models().into_iter().filter(|m| !USUAL.contains(m)));
    v
}

/// The friendly name of a known model (also accepts Elle's canonical
/// names and the short `si`, `rc`, `ru`, `rr`); `None` if unknown.
pub fn canonical(name: &str) -> Option<&'static str> {
    let name = match name {
        "si" => "snapshot-isolation",
        "rc" => "read-committed",
        "ru" => "read-uncommitted",
        "rr" => "repeatable-read",
        "strong-session-si" => "strong-session-snapshot-isolation",
        "strong-si" => "strong-snapshot-isolation",
        n => n,
    };
    let all = all_models();
    let known = all.iter().copied().find(|m| *m == name)?;
    let f = friendly(canon(known));
    Some(all.iter().copied().find(|m| *m == f).unwrap_or(known))
}

/// Every anomaly implied by any of `anomalies` (including them).
pub fn all_implied(anomalies: &[&str]) -> BTreeSet<&'static str> {
    let start: Vec<&'static str> = anomalies.iter().map(|a| intern(a)).collect();
    closure(start, |a| out(IMPLIED, a, false))
}

/// Every anomaly that implies one of `anomalies` (including them): what
/// Elle's `:anomalies` option makes a history invalid for.
pub fn all_implying<'a>(anomalies: impl IntoIterator<Item = &'a str>) -> BTreeSet<&'a str> {
    closure(anomalies, |a| inn(IMPLIED, a, false))
}

/// The `'static` copy of a name from the tables (models and anomalies),
/// or `"unknown"` (which has no edges).
fn intern(name: &str) -> &'static str {
    static NAMES: OnceLock<BTreeSet<&'static str>> = OnceLock::new();
    let names = NAMES.get_or_init(|| {
        let mut all = all_models();
        for (a, bs) in IMPLIED.iter().chain(DIRECT).chain(SEVERITY) {
            all.insert(a);
            all.extend(bs.iter().copied());
        }
        all.extend(UNKNOWN_TYPES.iter().chain(CYCLE_TYPES).copied());
        all
    });
    names.get(name).copied().unwrap_or("unknown")
}

/// Whether `name` is an anomaly faultline or Elle knows.
pub fn is_anomaly(name: &str) -> bool {
    let n = intern(name);
    n != "unknown" && !all_models().contains(n)
}

/// Anomalies that make a result unknown rather than invalid.
pub const UNKNOWN_TYPES: &[&str] = &[
    "empty-transaction-graph",
    "cycle-search-timeout",
    "duplicate-appends",
    "duplicate-writes",
    "unexplained-element",
];

/// Cycle anomaly names faultline searches for (data-only and their
/// process and realtime variants).
pub const CYCLE_TYPES: &[&str] = &[
    "G0",
    "G1c",
    "G-single-item",
    "G-nonadjacent-item",
    "G2-item",
    "G0-process",
    "G1c-process",
    "G-single-item-process",
    "G-nonadjacent-item-process",
    "G2-item-process",
    "G0-realtime",
    "G1c-realtime",
    "G-single-item-realtime",
    "G-nonadjacent-item-realtime",
    "G2-item-realtime",
];

/// Every anomaly that rules out one of `models` (all of them must hold).
pub fn prohibited_by(models: &[&str]) -> BTreeSet<&'static str> {
    let implied = closure(models.iter().map(|m| canon(intern(m))), |m| {
        out(MODELS, m, true)
    });
    let direct: Vec<&'static str> = implied
        .iter()
        .flat_map(|m| {
            DIRECT
                .iter()
                .filter(move |(a, _)| canon(a) == *m)
                .flat_map(|(_, bs)| bs.iter().copied())
        })
        .collect();
    all_implying(direct)
}

/// Canonical names of every model ruled out by `anomalies`.
fn impossible_models(anomalies: &[&str]) -> BTreeSet<&'static str> {
    let implied = all_implied(anomalies);
    let direct: Vec<&'static str> = DIRECT
        .iter()
        .filter(|(_, bs)| bs.iter().any(|b| implied.contains(b)))
        .map(|(m, _)| canon(m))
        .collect();
    closure(direct, |m| inn(MODELS, m, true))
}

/// Friendly names of every model ruled out by `anomalies`.
pub fn impossible_friendly(anomalies: &[&str]) -> BTreeSet<&'static str> {
    impossible_models(anomalies)
        .into_iter()
        .map(friendly)
        .collect()
}

/// Friendly names of `model` and every model implying it (all ruled out
/// when `model` is).
pub fn stronger(model: &str) -> BTreeSet<&'static str> {
    closure([canon(intern(model))], |m| inn(MODELS, m, true))
        .into_iter()
        .map(friendly)
        .collect()
}

/// Of a set of canonical models, those not implied by another in the set
/// (`weakest == true`: those implying no other) — Elle's `most-models`.
fn most(ms: &BTreeSet<&'static str>, weakest: bool) -> BTreeSet<&'static str> {
    let mut keep = ms.clone();
    for m in ms {
        let reach = if weakest {
            closure([*m], |x| out(MODELS, x, true))
        } else {
            closure([*m], |x| inn(MODELS, x, true))
        };
        let mut others = keep.clone();
        others.remove(m);
        if reach.iter().any(|r| *r != *m && others.contains(r)) {
            keep.remove(m);
        }
    }
    keep
}

/// Given every anomaly found: the weakest models ruled out (`not`) and
/// every stronger model also ruled out (`also_not`), in friendly names.
pub fn boundary(anomalies: &[&str]) -> (Vec<&'static str>, Vec<&'static str>) {
    let impossible = impossible_models(anomalies);
    let not = most(&impossible, true);
    let friendly_all = |s: &BTreeSet<&'static str>| -> Vec<&'static str> {
        let v: BTreeSet<&'static str> = s.iter().map(|m| friendly(m)).collect();
        v.into_iter().collect()
    };
    let also: BTreeSet<&'static str> = impossible.difference(&not).copied().collect();
    (friendly_all(&not), friendly_all(&also))
}

/// The strongest of the usual models (see [`names`]) that the anomalies
/// found do not rule out.
pub fn may_satisfy(anomalies: &[&str]) -> Vec<&'static str> {
    let impossible = impossible_models(anomalies);
    let possible: BTreeSet<&'static str> = USUAL
        .iter()
        .map(|m| canon(m))
        .filter(|m| !impossible.contains(m))
        .collect();
    let strongest = most(&possible, false);
    USUAL
        .iter()
        .copied()
        .filter(|m| strongest.contains(canon(m)))
        .filter(|m| friendly(canon(m)) == *m)
        .collect()
}

/// Whether `model` (all of them must hold) proscribes `anomaly`.
pub fn proscribes(model: &str, anomaly: &str) -> bool {
    prohibited_by(&[model]).contains(anomaly)
}

/// Depth of each anomaly in the implication + severity order (Elle's
/// `anomaly-depths`): the cycle search tries shallower anomalies first.
pub fn depths() -> HashMap<&'static str, usize> {
    let edges: Vec<(&'static str, &'static str)> = IMPLIED
        .iter()
        .chain(SEVERITY)
        .flat_map(|(a, bs)| bs.iter().map(move |b| (*a, *b)))
        .collect();
    let mut nodes: HashSet<&'static str> = HashSet::new();
    for (a, b) in &edges {
        nodes.insert(a);
        nodes.insert(b);
    }
    let mut depth: HashMap<&'static str, usize> = HashMap::new();
    // Longest path from a root: relax until stable (the graph is a DAG).
    for n in &nodes {
        depth.insert(n, 0);
    }
    loop {
        let mut changed = false;
        for (a, b) in &edges {
            let d = depth[a] + 1;
            if depth[b] < d {
                depth.insert(b, d);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    depth
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elle_lattice_judgements() {
        // From elle's consistency_model_test.clj.
        assert!(proscribes("snapshot-isolation", "G-single-item"));
        assert!(!proscribes("snapshot-isolation", "G2-item"));
        assert!(proscribes("repeatable-read", "G2-item"));
        assert!(proscribes("snapshot-isolation", "lost-update"));
        assert!(proscribes("read-uncommitted", "duplicate-elements"));
        assert!(proscribes("read-committed", "incompatible-order"));
        assert!(!proscribes("read-uncommitted", "G1a"));
        assert!(proscribes("strict-serializable", "G-single-item-realtime"));
        assert!(!proscribes("serializable", "G-single-item-realtime"));
        assert!(proscribes(
            "strong-session-serializable",
            "G-single-item-process"
        ));
        let (not, also) = boundary(&["G2-item"]);
        assert_eq!(not, ["repeatable-read"]);
        assert!(also.contains(&"serializable") && also.contains(&"strict-serializable"));
        let (not, _) = boundary(&["G1c"]);
        assert_eq!(not, ["read-committed"]);
        let (not, also) = boundary(&[]);
        assert!(not.is_empty() && also.is_empty());
        assert_eq!(may_satisfy(&[]), ["strict-serializable"]);
        let (not, _) = boundary(&["G-single-item"]);
        assert!(
            not.contains(&"consistent-view") || not.contains(&"snapshot-isolation"),
            "{not:?}"
        );
        assert_eq!(canonical("si"), Some("snapshot-isolation"));
        assert_eq!(canonical("PL-3"), Some("serializable"));
        assert_eq!(canonical("nope"), None);
    }

    #[test]
    fn depth_order_matches_elle() {
        let d = depths();
        assert_eq!(d["G0"], 0);
        assert_eq!(d["G-single-item"], 0);
        assert_eq!(d["G1c"], 1);
        assert_eq!(d["G-nonadjacent-item"], 1);
        assert_eq!(d["G2-item"], 2);
        assert!(d["G2-item"] < d["G0-process"]);
        assert!(d["G2-process"] < d["G0-realtime"]);
    }
}
