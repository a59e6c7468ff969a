//! The fallback when the DB does not come back after it was down on every
//! node at once (`db.recover`), what an operator does by hand: stop what is
//! left of it, ask every node for its position, start the most advanced
//! node in the spec's special way (for Galera: bootstrap a new primary
//! component from it, when `pc.recovery` cannot re-form the cluster) — the
//! next most advanced if that one exits or is not ready in time — then
//! start the others as usual, resetting (`reset`: for Galera, a full state
//! transfer) those that do not come back. Nothing DB-specific lives here;
//! the spec says what a position is and how a node bootstraps and resets.

use super::{Db, ALIVE};
use crate::control::quote;
use crate::spec::RecoverSpec;
use faultline_nemesis::disk::kill_session_script;
use faultline_nemesis::process::ProcessSpec;
use std::time::{Duration, Instant};

/// What the fallback did, for the history's `recover` event; and why the
/// DB is still not ready, if it is not.
pub struct Recovery {
    /// `{"positions": {node: position or null}, "chosen": node,
    /// "refused": {node: why it could not be the first}, "reset": [node]}`.
    pub value: serde_json::Value,
    /// Why the DB is still not ready, if it is not.
    pub error: Option<String>,
}

/// The nodes that have a position, most advanced first (the first of
/// equals first).
pub fn by_position(positions: &[Option<i64>]) -> Vec<usize> {
    let mut order: Vec<(usize, i64)> = positions
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.map(|p| (i, p)))
        .collect();
    order.sort_by_key(|&(i, p)| (std::cmp::Reverse(p), i));
    order.into_iter().map(|(i, _)| i).collect()
}

/// A position command's output: its last non-empty line, if that is an
/// integer.
pub fn parse_position(out: &str) -> Option<i64> {
    out.lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .and_then(|l| l.parse().ok())
}

/// `Ok` if every node's step succeeded, else every failure, joined.
fn all_ok(results: Vec<Result<String, String>>) -> Result<(), String> {
    let failed: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(failed.join("; "))
    }
}

/// Printed on stderr by a probe that found the DB's process gone.
const EXITED: &str = "faultline: the DB exited";

/// What the fallback has done so far.
#[derive(Default)]
struct Steps {
    positions: Vec<Option<i64>>,
    chosen: Option<usize>,
    refused: Vec<(usize, String)>,
    reset: Vec<usize>,
}

impl Db {
    /// Called after the DB was restarted on every node following a fault
    /// that had it down on all of them: waits up to `db.recover.within` for
    /// `db.ready` on every node and, if it does not pass, runs the fallback.
    /// `None` when the DB came back by itself (or the spec has no
    /// `db.recover`).
    pub async fn recover_if_stuck(&self) -> Option<Recovery> {
        let spec = self.plan.db.recover.as_ref()?;
        if self.wait_ready_for(self.plan.recover_within).await.is_ok() {
            return None;
        }
        let mut steps = Steps {
            positions: vec![None; self.remotes.len()],
            ..Steps::default()
        };
        let error = self.fallback(spec, &mut steps).await.err();
        let name = |i: usize| self.remotes[i].node().name.clone();
        let positions: serde_json::Map<String, serde_json::Value> = steps
            .positions
            .iter()
            .enumerate()
            .map(|(i, p)| (name(i), serde_json::json!(p)))
            .collect();
        let refused: serde_json::Map<String, serde_json::Value> = steps
            .refused
            .iter()
            .map(|(i, why)| (name(*i), serde_json::json!(why)))
            .collect();
        let reset: Vec<String> = steps.reset.iter().map(|&i| name(i)).collect();
        Some(Recovery {
            value: serde_json::json!({
                "positions": positions,
                "chosen": steps.chosen.map(name),
                "refused": refused,
                "reset": reset,
            }),
            error,
        })
    }

    async fn fallback(&self, spec: &RecoverSpec, steps: &mut Steps) -> Result<(), String> {
        let all: Vec<usize> = (0..self.remotes.len()).collect();
        self.stop_nodes(&all).await?;
        let jobs = self.render_on(&all, &spec.position)?;
        let mut unknown = Vec::new();
        for (i, out) in self
            .each_node("db.recover.position", jobs, Duration::from_secs(300))
            .await
            .into_iter()
            .enumerate()
        {
            match out {
                Ok(o) => {
                    steps.positions[i] = parse_position(&o);
                    if steps.positions[i].is_none() {
                        unknown.push(format!("{}: {:?}", self.remotes[i].node().name, o.trim()));
                    }
                }
                Err(e) => unknown.push(e),
            }
        }
        for c in by_position(&steps.positions) {
            let started = async {
                self.start_nodes(&[c], Some(&spec.start)).await?;
                let probe = spec.ready.as_deref().unwrap_or(":");
                match self.wait_nodes(&[c], probe).await.pop() {
                    Some((_, why)) => Err(why),
                    None => Ok(()),
                }
            };
            match started.await {
                Ok(()) => {
                    steps.chosen = Some(c);
                    break;
                }
                Err(why) => {
                    steps.refused.push((c, why));
                    self.stop_nodes(&[c]).await?;
                }
            }
        }
        let Some(chosen) = steps.chosen else {
            let refused: Vec<String> = steps
                .refused
                .iter()
                .map(|(i, why)| format!("{}: {why}", self.remotes[*i].node().name))
                .collect();
            return Err(format!(
                "no node could start first (no position: {}; refused: {})",
                if unknown.is_empty() {
                    "none".into()
                } else {
                    unknown.join("; ")
                },
                if refused.is_empty() {
                    "none".into()
                } else {
                    refused.join("; ")
                },
            ));
        };
        let others: Vec<usize> = all.into_iter().filter(|&i| i != chosen).collect();
        self.start_nodes(&others, None).await?;
        if let Some(reset) = &spec.reset {
            let probe = self.plan.ready.as_ref().map_or(":", |(p, _)| p.as_str());
            let stuck: Vec<usize> = self
                .wait_nodes(&others, probe)
                .await
                .into_iter()
                .map(|(i, _)| i)
                .collect();
            if !stuck.is_empty() {
                self.stop_nodes(&stuck).await?;
                let jobs = self.render_on(&stuck, reset)?;
                all_ok(
                    self.each_node("db.recover.reset", jobs, Duration::from_secs(120))
                        .await,
                )?;
                steps.reset = stuck.clone();
                self.start_nodes(&stuck, None).await?;
            }
        }
        self.wait_ready().await.map_err(|e| e.join("; "))
    }

    /// Renders `template` for each of `nodes`, as jobs for
    /// [`Db::each_node`].
    fn render_on(&self, nodes: &[usize], template: &str) -> Result<Vec<(usize, String)>, String> {
        nodes
            .iter()
            .map(|&i| Ok((i, self.render(i, template)?)))
            .collect::<Result<_, String>>()
            .map_err(|e| format!("rendering {template:?}: {e}"))
    }

    /// Stops every process of the DB on `nodes` (SIGKILL of its whole
    /// session, as a power fault does, without dropping anything) and
    /// removes the pidfile, so a later probe tells "not started yet" from
    /// "exited".
    async fn stop_nodes(&self, nodes: &[usize]) -> Result<(), String> {
        let jobs = nodes
            .iter()
            .map(|&i| {
                let pidfile = self.pidfile(i)?;
                let kill = kill_session_script(&ProcessSpec {
                    pidfile: pidfile.clone(),
                    start: String::new(),
                });
                Ok((i, format!("{kill}; rm -f {}", quote(&pidfile))))
            })
            .collect::<Result<Vec<_>, String>>()?;
        all_ok(
            self.each_node(
                "stopping the DB to recover it",
                jobs,
                Duration::from_secs(30),
            )
            .await,
        )
    }

    /// Starts the DB on `nodes`, daemonized as always, with `command` (a
    /// template) instead of `start.command` if given.
    async fn start_nodes(&self, nodes: &[usize], command: Option<&str>) -> Result<(), String> {
        let command = command.unwrap_or(&self.plan.db.start.command);
        let jobs = nodes
            .iter()
            .map(|&i| Ok((i, self.start_script_with(i, command)?)))
            .collect::<Result<Vec<_>, String>>()?;
        all_ok(self.each_node("start", jobs, Duration::from_secs(60)).await)
    }

    /// Polls `probe` (a template) on `nodes` until it passes on each, at
    /// most `db.recover.within`. Returns the nodes it did not pass on, with
    /// why: the DB exited (found at once), or the probe's last failure.
    async fn wait_nodes(&self, nodes: &[usize], probe: &str) -> Vec<(usize, String)> {
        let mut pending: Vec<(usize, String)> = Vec::new();
        for &i in nodes {
            let script = self.render(i, probe).and_then(|p| {
                let pidfile = quote(&self.pidfile(i)?);
                Ok(format!(
                    "{ALIVE}; if [ -f {pidfile} ]; then pid=$(cat {pidfile}); \
                     alive \"$pid\" || {{ echo '{EXITED}' >&2; exit 99; }}; \
                     else exit 1; fi; ( {p}\n)"
                ))
            });
            match script {
                Ok(s) => pending.push((i, s)),
                Err(e) => return vec![(i, e)],
            }
        }
        let deadline = crate::runner::later(self.plan.recover_within);
        let mut failed: Vec<(usize, String)> = Vec::new();
        let mut last: Vec<String> = vec![String::new(); self.remotes.len()];
        while !pending.is_empty() && Instant::now() < deadline {
            let outs = self
                .each_node("probe", pending.clone(), Duration::from_secs(10))
                .await;
            let mut still = Vec::new();
            for ((i, script), out) in pending.into_iter().zip(outs) {
                match out {
                    Ok(_) => {}
                    Err(e) if e.contains(EXITED) => failed.push((i, "the DB exited".into())),
                    Err(e) => {
                        last[i] = e;
                        still.push((i, script));
                    }
                }
            }
            pending = still;
            if !pending.is_empty() {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        failed.extend(pending.into_iter().map(|(i, _)| {
            let why = format!(
                "not ready within {:.0} s: {}",
                self.plan.recover_within.as_secs_f64(),
                last[i]
            );
            (i, why)
        }));
        failed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_advanced_comes_first_and_the_first_of_equals() {
        assert_eq!(by_position(&[Some(9062), Some(9235), None]), vec![1, 0]);
        assert_eq!(by_position(&[Some(7), Some(7), Some(3)]), vec![0, 1, 2]);
        assert_eq!(by_position(&[None, Some(-1), None]), vec![1]);
        assert!(by_position(&[None, None]).is_empty());
        assert!(by_position(&[]).is_empty());
    }

    #[test]
    fn a_position_is_the_last_line_if_it_is_an_integer() {
        assert_eq!(parse_position("recovering\n9235\n\n"), Some(9235));
        assert_eq!(parse_position("-1"), Some(-1));
        assert_eq!(parse_position(""), None);
        assert_eq!(parse_position("9235\nnone"), None);
        assert_eq!(parse_position("uuid:9235"), None);
    }
}
