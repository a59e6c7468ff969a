//! `generator:` (and `--time-limit`, `--concurrency`, `--rate`, `--seed`):
//! how many workers, how fast, for how long.

use super::Problems;
use crate::spec::plan::{Concurrency, NodesPlan, Overrides, MAX_WORKERS};
use crate::spec::{ConcurrencyField, Loaded};
use std::time::Duration;

/// What `generator:` gives the plan.
pub(super) struct GeneratorPlan {
    /// Workers.
    pub concurrency: Concurrency,
    /// Ops per second overall.
    pub rate: Option<f64>,
    /// Main phase length.
    pub time_limit: Duration,
    /// Wait after healing.
    pub recovery: Duration,
    /// Ops per key (independent keys).
    pub ops_per_key: u64,
    /// Workers per key.
    pub threads_per_key: Option<usize>,
    /// Final reads after recovery.
    pub final_reads: bool,
    /// Seed: `--seed` or `generator.seed`; `None` when neither is given,
    /// and each run then draws a fresh one.
    pub seed: Option<u64>,
}

/// Ops per second checked: a number from 0 (unlimited) up.
fn rate(r: f64) -> Result<Option<f64>, String> {
    if r.is_finite() && (0.0..=1e9).contains(&r) {
        Ok((r > 0.0).then_some(r))
    } else {
        Err(format!(
            "expected ops per second from 0 (as fast as possible) to 1e9, found {r}"
        ))
    }
}

impl Loaded {
    /// `generator:` with the command line's overrides.
    pub(super) fn generator(
        &self,
        o: &Overrides,
        nodes: &NodesPlan,
        p: &mut Problems,
    ) -> GeneratorPlan {
        let g = &self.spec.generator;
        let time_limit = match o.time_limit {
            Some(t) => crate::spec::duration::seconds(t)
                .and_then(|d| {
                    if d.is_zero() {
                        Err("expected a duration above 0".into())
                    } else {
                        Ok(d)
                    }
                })
                .unwrap_or_else(|m| {
                    p.flag("--time-limit", m);
                    Duration::from_secs(30)
                }),
            None => p.duration(
                "generator.time_limit",
                &g.time_limit,
                Duration::from_secs(30),
                true,
            ),
        };
        let recovery = p.duration(
            "generator.recovery",
            &g.recovery,
            Duration::from_secs(2),
            false,
        );
        let concurrency = self.concurrency(o, nodes, p);
        let rate = match (o.rate, g.rate) {
            (Some(r), _) => rate(r).unwrap_or_else(|m| {
                p.flag("--rate", m);
                None
            }),
            (None, Some(r)) => rate(r).unwrap_or_else(|m| {
                p.key("generator.rate", m);
                None
            }),
            (None, None) => None,
        };
        let ops_per_key = match g.ops_per_key {
            None => 200,
            Some(0) => {
                p.key("generator.ops_per_key", "expected at least 1 op per key");
                200
            }
            Some(n) => n,
        };
        let threads_per_key = g
            .threads_per_key
            .map(|t| p.count("generator.threads_per_key", Some(t), 1, MAX_WORKERS));
        GeneratorPlan {
            concurrency,
            rate,
            time_limit,
            recovery,
            ops_per_key,
            threads_per_key,
            final_reads: g.final_reads.unwrap_or(true),
            seed: o.seed.or(g.seed),
        }
    }

    /// `generator.concurrency` or `--concurrency`, at most [`MAX_WORKERS`]
    /// workers on the planned nodes.
    fn concurrency(&self, o: &Overrides, nodes: &NodesPlan, p: &mut Problems) -> Concurrency {
        let (parsed, from_flag) = match (&o.concurrency, &self.spec.generator.concurrency) {
            (Some(c), _) => (Concurrency::parse(c), true),
            (None, None) => return Concurrency::PerNode(2),
            (None, Some(ConcurrencyField::Count(c))) => (Concurrency::parse(&c.to_string()), false),
            (None, Some(ConcurrencyField::Text(t))) => (Concurrency::parse(t), false),
        };
        let n = match (&o.nodes, nodes) {
            (Some(list), _) => list.len(),
            (None, NodesPlan::Hosts(h)) => h.len(),
            (None, NodesPlan::Local(n)) => *n,
        };
        let checked = parsed.and_then(|c| {
            let workers = match c {
                Concurrency::Count(c) => Some(c),
                Concurrency::PerNode(k) => k.checked_mul(n),
            };
            match workers {
                Some(w) if w <= MAX_WORKERS => Ok(c),
                _ => Err(format!(
                    "at most {MAX_WORKERS} workers (on {n} nodes), found {}",
                    match c {
                        Concurrency::Count(c) => c.to_string(),
                        Concurrency::PerNode(k) => format!("{k}n"),
                    }
                )),
            }
        });
        checked.unwrap_or_else(|m| {
            p.value(from_flag, "generator.concurrency", "--concurrency", m);
            Concurrency::PerNode(2)
        })
    }
}
