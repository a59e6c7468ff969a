//! Which checkers fit which workload, the defaults, and the options of
//! Jepsen's checkers and of the crash and log checkers, as specs give them.
//!
//! The functions here return their problems as `(key, message)` pairs; the
//! validator turns them into spec errors at that key.

use super::{Spec, WorkloadKind};

/// Every checker a spec may list.
pub const CHECKERS: [&str; 13] = [
    "linearizable",
    "elle",
    "stats",
    "perf",
    "set",
    "set-full",
    "counter",
    "bank",
    "total-queue",
    "unique-ids",
    "long-fork",
    "db-alive",
    "log-pattern",
];

/// Checkers that run on every run whether listed or not: a DB that crashed
/// must never leave a run valid.
pub const ALWAYS: &str = "db-alive";

/// long-fork: keys per read group when the spec gives none.
pub const DEFAULT_GROUP_SIZE: usize = 3;

/// Workload options beyond the op mix, read by the generator and by
/// Jepsen's checkers (Jepsen keeps them in its test map).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkloadOptions {
    /// bank: accounts `0..accounts`.
    pub accounts: usize,
    /// bank: the total of all balances (given to the checker).
    pub total: Option<i64>,
    /// bank: the largest amount one transfer moves.
    pub max_transfer: i64,
    /// bank: negative balances are allowed.
    pub negative_balances: bool,
    /// set-full: stale reads make the history invalid.
    pub linearizable_reads: bool,
    /// long-fork: keys per read group.
    pub group_size: Option<usize>,
}

impl Default for WorkloadOptions {
    fn default() -> Self {
        WorkloadOptions {
            accounts: 5,
            total: None,
            max_transfer: 5,
            negative_balances: false,
            linearizable_reads: false,
            group_size: None,
        }
    }
}

impl WorkloadOptions {
    /// The account names, as the service and the checker spell them.
    pub fn account_names(&self) -> Vec<String> {
        (0..self.accounts).map(|a| a.to_string()).collect()
    }

    /// Options for Jepsen's checkers.
    pub fn jepsen(&self, kind: WorkloadKind) -> faultline_checkers::jepsen::Options {
        let mut o = faultline_checkers::jepsen::Options::default();
        o.linearizable = self.linearizable_reads;
        o.negative_balances = self.negative_balances;
        o.group_size = self.group_size;
        if kind == WorkloadKind::Bank {
            o.accounts = Some(self.account_names());
            o.total = self.total;
        }
        o
    }
}

/// The checkers a workload gets when the spec lists none.
pub fn defaults(kind: WorkloadKind) -> Vec<String> {
    let first = match kind {
        WorkloadKind::ListAppend | WorkloadKind::RwRegister => "elle",
        WorkloadKind::Register | WorkloadKind::CasRegister | WorkloadKind::Set => "linearizable",
        WorkloadKind::Counter => "counter",
        WorkloadKind::Bank => "bank",
        WorkloadKind::Queue => "total-queue",
        WorkloadKind::UniqueIds => "unique-ids",
        WorkloadKind::LongFork => "long-fork",
    };
    vec![first.into(), "stats".into(), "perf".into()]
}

/// Why `checker` cannot check a `kind` workload, if it cannot.
pub fn misfit(checker: &str, kind: WorkloadKind) -> Option<String> {
    use WorkloadKind as W;
    let needs: &[W] = match checker {
        "linearizable" => &[W::Register, W::CasRegister, W::Set],
        "elle" => &[W::ListAppend, W::RwRegister],
        "set" | "set-full" => &[W::Set],
        "counter" => &[W::Counter],
        "bank" => &[W::Bank],
        "total-queue" => &[W::Queue],
        "unique-ids" => &[W::UniqueIds],
        "long-fork" => &[W::LongFork],
        _ => return None,
    };
    if needs.contains(&kind) {
        return None;
    }
    Some(match (checker, needs) {
        ("linearizable" | "elle", _) => format!(
            "the {checker} checker does not fit a {} workload; use {}",
            kind.name(),
            defaults(kind)[0]
        ),
        (_, [one]) => format!(
            "the {checker} checker needs a {} workload, not {}",
            one.name(),
            kind.name()
        ),
        _ => format!(
            "the {checker} checker does not fit a {} workload",
            kind.name()
        ),
    })
}

/// The workload keys only some kinds take, checked against the kind;
/// returns the options and every problem as `(key, message)`.
pub fn workload_options(
    spec: &Spec,
    kind: WorkloadKind,
) -> (WorkloadOptions, Vec<(String, String)>) {
    let w = &spec.workload;
    let mut o = WorkloadOptions::default();
    let mut errs: Vec<(String, String)> = Vec::new();
    let mut only = |key: &str, set: bool, kinds: &[WorkloadKind]| {
        if set && !kinds.contains(&kind) {
            let names: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
            errs.push((
                format!("workload.{key}"),
                format!(
                    "only {} workloads take {key}; this is a {} workload",
                    names.join(" and "),
                    kind.name()
                ),
            ));
        }
    };
    use WorkloadKind as W;
    only("accounts", w.accounts.is_some(), &[W::Bank]);
    only("total", w.total.is_some(), &[W::Bank]);
    only("max_transfer", w.max_transfer.is_some(), &[W::Bank]);
    only(
        "negative_balances",
        w.negative_balances.is_some(),
        &[W::Bank],
    );
    only(
        "linearizable_reads",
        w.linearizable_reads.is_some(),
        &[W::Set],
    );
    only("group_size", w.group_size.is_some(), &[W::LongFork]);
    match w.group_size {
        Some(n) if !(2..=100).contains(&n) => errs.push((
            "workload.group_size".into(),
            format!("expected 2 to 100 keys per group, found {n}"),
        )),
        Some(n) => o.group_size = Some(n),
        None if kind == W::LongFork => o.group_size = Some(DEFAULT_GROUP_SIZE),
        None => {}
    }
    if let Some(a) = w.accounts {
        if (2..=1000).contains(&a) {
            o.accounts = a;
        } else {
            errs.push((
                "workload.accounts".into(),
                format!("expected 2 to 1000 accounts, found {a}"),
            ));
        }
    }
    if let Some(t) = w.total {
        if (0..=1_000_000_000_000).contains(&t) {
            o.total = Some(t);
        } else {
            errs.push((
                "workload.total".into(),
                format!("expected a total from 0 to 1e12, found {t}"),
            ));
        }
    }
    if let Some(m) = w.max_transfer {
        if (1..=1_000_000_000).contains(&m) {
            o.max_transfer = m;
        } else {
            errs.push((
                "workload.max_transfer".into(),
                format!("expected an amount from 1 to 1e9, found {m}"),
            ));
        }
    }
    o.negative_balances = w.negative_balances.unwrap_or(false);
    o.linearizable_reads = w.linearizable_reads.unwrap_or(false);
    (o, errs)
}

/// The checkers a spec asks for (or the defaults), with `db-alive` always
/// and `log-pattern` when `log_pattern` is given; every problem as
/// `(key, message)`.
pub fn checker_list(spec: &Spec, kind: WorkloadKind) -> (Vec<String>, Vec<(String, String)>) {
    let mut errs = Vec::new();
    let mut list = spec.checkers.clone().unwrap_or_else(|| defaults(kind));
    for c in &list {
        if !CHECKERS.contains(&c.as_str()) {
            let hint = super::did_you_mean(c, &CHECKERS)
                .map_or(String::new(), |m| format!(" (did you mean `{m}`?)"));
            errs.push((
                "checkers".to_string(),
                format!(
                    "unknown checker {c:?}; expected {}{hint}",
                    CHECKERS.join(", ")
                ),
            ));
        } else if let Some(m) = misfit(c, kind) {
            errs.push(("checkers".to_string(), m));
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    list.retain(|c| seen.insert(c.clone()));
    if !list.iter().any(|c| c == ALWAYS) {
        list.push(ALWAYS.into());
    }
    let wants_log = list.iter().any(|c| c == "log-pattern");
    match (&spec.log_pattern, wants_log) {
        (Some(_), false) => list.push("log-pattern".into()),
        (None, true) => errs.push((
            "checkers".to_string(),
            "the log-pattern checker needs `log_pattern:` (a regular expression, e.g. \
             \"panic|FATAL|data corruption\")"
                .to_string(),
        )),
        _ => {}
    }
    (list, errs)
}

/// `log_pattern:` compiled, or the problem at that key.
pub fn log_pattern(spec: &Spec) -> (Option<String>, Vec<(String, String)>) {
    let Some(p) = &spec.log_pattern else {
        return (None, Vec::new());
    };
    if p.trim().is_empty() {
        return (
            None,
            vec![(
                "log_pattern".into(),
                "expected a regular expression, found an empty one (it would match every line)"
                    .into(),
            )],
        );
    }
    match crate::runner::log_pattern::Pattern::new(p) {
        Ok(_) => (Some(p.clone()), Vec::new()),
        Err(e) => (
            None,
            vec![(
                "log_pattern".into(),
                format!("not a regular expression: {e}"),
            )],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkers_fit_their_workloads() {
        assert_eq!(misfit("bank", WorkloadKind::Bank), None);
        assert_eq!(misfit("stats", WorkloadKind::Queue), None);
        assert_eq!(misfit("db-alive", WorkloadKind::ListAppend), None);
        assert!(misfit("set-full", WorkloadKind::Register)
            .unwrap()
            .contains("the set-full checker needs a set workload, not register"));
        assert!(misfit("linearizable", WorkloadKind::Counter)
            .unwrap()
            .contains("use counter"));
        assert_eq!(defaults(WorkloadKind::Queue)[0], "total-queue");
    }

    #[test]
    fn bank_options_reach_the_checker() {
        let o = WorkloadOptions {
            accounts: 3,
            total: Some(30),
            ..Default::default()
        };
        let j = o.jepsen(WorkloadKind::Bank);
        assert_eq!(j.accounts, Some(vec!["0".into(), "1".into(), "2".into()]));
        assert_eq!(j.total, Some(30));
        assert_eq!(o.jepsen(WorkloadKind::Set).accounts, None);
    }
}
