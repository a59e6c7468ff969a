//! Spec validation: [`Loaded::validate_with`] checks every section, one
//! file each, collecting every problem (not just the first) with the key or
//! flag it concerns, then assembles the [`Plan`].

mod checkers;
mod client;
mod db;
mod generator;
mod nemesis;
mod nodes;
mod workload;

use super::plan::{Overrides, Plan};
use super::{DurationField, Loaded, SpecError};
use std::time::Duration;

/// Collects every problem found while validating.
pub(super) struct Problems<'a> {
    loaded: &'a Loaded,
    errs: Vec<SpecError>,
}

impl Problems<'_> {
    /// A problem with spec key `key` (a dotted path).
    pub(super) fn key(&mut self, key: &str, msg: impl Into<String>) {
        self.errs.push(self.loaded.error_at(key, msg));
    }

    /// A problem with a command-line flag that overrides a spec key.
    pub(super) fn flag(&mut self, flag: &str, msg: impl Into<String>) {
        self.errs.push(SpecError::at(flag, 0, 0, msg.into()));
    }

    /// A problem with the value of `key`, or of `flag` when the value came
    /// from the command line.
    pub(super) fn value(&mut self, from_flag: bool, key: &str, flag: &str, msg: String) {
        if from_flag {
            self.flag(flag, msg)
        } else {
            self.key(key, msg)
        }
    }

    /// A duration: the spec's (or `default`), bounded; `positive` refuses 0.
    pub(super) fn duration(
        &mut self,
        key: &str,
        field: &Option<DurationField>,
        default: Duration,
        positive: bool,
    ) -> Duration {
        let Some(f) = field else {
            return default;
        };
        match f.get() {
            Ok(d) if positive && d.is_zero() => {
                self.key(key, "expected a duration above 0");
                default
            }
            Ok(d) => d,
            Err(m) => {
                self.key(key, m);
                default
            }
        }
    }

    /// A count that must be from 1 to `max` (absent: `default`).
    pub(super) fn count(
        &mut self,
        key: &str,
        v: Option<usize>,
        default: usize,
        max: usize,
    ) -> usize {
        match v {
            None => default,
            Some(n) if (1..=max).contains(&n) => n,
            Some(n) => {
                self.key(key, format!("expected a number from 1 to {max}, found {n}"));
                default
            }
        }
    }
}

impl Loaded {
    /// Checks every value; returns all problems found, not just the first.
    pub fn validate(&self) -> Result<Plan, Vec<SpecError>> {
        self.validate_with(&Overrides::default())
    }

    /// Checks every value with the command line's overrides applied (each
    /// checked as the field it replaces); returns all problems found.
    pub fn validate_with(&self, o: &Overrides) -> Result<Plan, Vec<SpecError>> {
        let s = &self.spec;
        let mut p = Problems {
            loaded: self,
            errs: Vec::new(),
        };
        self.check_name(&mut p);
        let nodes = self.nodes_plan(o, &mut p);
        let data_dir = self.data_dir(&mut p);
        let db = self.db(&mut p);
        let workload = self.workload_kind(&mut p);
        let (client, op_timeout) = self.client(workload, &mut p);
        let w = self.workload(workload, &mut p);
        let g = self.generator(o, &nodes, &mut p);
        let nemesis = self.nemesis_plan(o, &nodes, &mut p);
        let (checkers, consistency_models, workload_options, log_pattern) =
            self.checkers(workload, w.keys, &mut p);
        if p.errs.is_empty() {
            // Rendering needs every other value to be good.
            self.check_templates(&db, o, &nodes, &data_dir, &mut p);
        }
        if !p.errs.is_empty() {
            return Err(p.errs);
        }
        Ok(Plan {
            name: s.name.clone(),
            nodes,
            pidfile: db.pidfile,
            log: db.log,
            data_dir,
            db: s.db.clone(),
            ready: db.ready,
            recover_within: db.recover_within,
            client,
            op_timeout,
            workload,
            keys: w.keys,
            mix: w.mix,
            values: w.values,
            concurrency: g.concurrency,
            rate: g.rate,
            time_limit: g.time_limit,
            ops_per_key: g.ops_per_key,
            threads_per_key: g.threads_per_key,
            recovery: g.recovery,
            final_reads: g.final_reads,
            seed: g.seed.unwrap_or(0),
            fresh_seed: g.seed.is_none(),
            nemesis,
            checkers,
            consistency_models,
            workload_options,
            log_pattern,
            key_count: w.key_count,
            txn_length: w.txn_length,
            max_writes_per_key: w.max_writes_per_key,
            base_dir: std::fs::canonicalize(self.base_dir()).unwrap_or_else(|_| self.base_dir()),
        })
    }

    /// `name:` becomes a directory in the store.
    fn check_name(&self, p: &mut Problems) {
        let name = &self.spec.name;
        if name.is_empty()
            || name == "."
            || name == ".."
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            p.key(
                "name",
                format!(
                    "expected letters, digits, '-', '_' or '.' (a directory name in the store), found {name:?}"
                ),
            );
        }
    }
}
