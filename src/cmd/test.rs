//! `faultline test SPEC.yaml`: load and validate the spec (no I/O on nodes
//! until it is valid), apply command-line overrides, get nodes (a fresh
//! local cluster by default), run K times, exit with the verdict.

use super::remotes;
use crate::cli::TestArgs;
use crate::cluster::{self, State};
use crate::control::{Node, Remote};
use crate::exit::{bad_input, Exit};
use crate::runner::reproduce::{sha256_hex, Inputs, Recorded, RunRecord, SpecRecord};
use crate::runner::{self, RunOptions};
use crate::spec::{self, NodesPlan, Overrides};
use faultline_checkers::Validity;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Nodes the command line names (`--nodes`, `--nodes-file`, `--cluster`),
/// or a replayed run recorded.
struct Given {
    nodes: Vec<Node>,
    remotes: Vec<Arc<dyn Remote>>,
    /// An existing local cluster (clock faults go through libfaketime).
    local: bool,
    /// `--cluster NAME`.
    cluster: Option<String>,
    /// Whether the nodes came from `--nodes`/`--nodes-file` (recorded for a
    /// replay; a cluster's nodes are found again by its name).
    listed: bool,
}

/// The nodes the command line names — or, for a replay that names none,
/// the ones the run recorded — parsed and checked without touching them;
/// `None` if there are none.
fn given_nodes(args: &TestArgs, recorded: Option<&RunRecord>) -> Result<Option<Given>, Exit> {
    if let Some(list) = remotes::node_list(&args.remote)? {
        return Ok(Some(Given {
            nodes: list.nodes.clone(),
            remotes: remotes::from_args(&args.remote)?.unwrap_or_default(),
            local: false,
            cluster: None,
            listed: true,
        }));
    }
    let name = match (&args.cluster, recorded) {
        (Some(name), _) => name.clone(),
        (None, Some(r)) if args.local.is_none() => {
            match (&r.inputs.cluster, &r.inputs.overrides.nodes) {
                (Some(name), _) => name.clone(),
                (None, Some(nodes)) => {
                    return Ok(Some(Given {
                        remotes: remotes::from_nodes(nodes.clone(), &args.remote),
                        nodes: nodes.clone(),
                        local: false,
                        cluster: None,
                        listed: true,
                    }))
                }
                (None, None) => return Ok(None),
            }
        }
        _ => return Ok(None),
    };
    let layout = cluster::Layout::new(&name).map_err(bad_input)?;
    let state = State::load(&layout)
        .map_err(bad_input)?
        .ok_or_else(|| bad_input(format!("cluster {name} is not up")))?;
    Ok(Some(Given {
        nodes: state.nodes.iter().map(|n| n.node()).collect(),
        remotes: state.remotes(),
        local: true,
        cluster: Some(name),
        listed: false,
    }))
}

/// Spec errors, one per line, as one bad-input error.
fn spec_errors(errs: Vec<spec::SpecError>) -> Exit {
    bad_input(
        errs.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// The spec: the file given, or a replayed run's `test.yaml` (whose
/// relative paths resolve where the original spec was).
fn load_spec(args: &TestArgs, replay: Option<&Recorded>) -> Result<spec::Loaded, Exit> {
    match (replay, &args.spec) {
        (Some(r), _) => spec::from_text(
            &r.spec_path,
            r.spec_text.clone(),
            r.record.inputs.spec.dir.clone(),
        )
        .map_err(bad_input),
        (None, Some(path)) => spec::load(path).map_err(bad_input),
        (None, None) => Err(bad_input("give a spec file, or --replay RUN_DIR")),
    }
}

/// The command line's overrides; for a replay, the recorded ones (and the
/// recorded seed) with the flags given now on top.
fn overrides(args: &TestArgs, recorded: Option<&RunRecord>, given: Option<&Given>) -> Overrides {
    let mut o = recorded
        .map(|r| r.inputs.overrides.clone())
        .unwrap_or_default();
    o.time_limit = args.time_limit.or(o.time_limit);
    o.concurrency = args.concurrency.clone().or(o.concurrency);
    o.rate = args.rate.or(o.rate);
    o.local = args.local.or(o.local.filter(|_| given.is_none()));
    o.seed = recorded.map(|r| r.seed).or(args.seed);
    o.nodes = given.map(|g| g.nodes.clone());
    o
}

/// Runs `faultline test`.
pub fn run(args: &TestArgs) -> Result<i32, Exit> {
    let replay = args
        .replay
        .as_deref()
        .map(Recorded::load)
        .transpose()
        .map_err(|e| bad_input(format!("--replay: {e}")))?;
    let recorded = replay.as_ref().map(|r| &r.record);
    let loaded = load_spec(args, replay.as_ref())?;
    if args.test_count == 0 {
        return Err(bad_input("--test-count: expected at least 1"));
    }
    let given = given_nodes(args, recorded)?;
    let overrides = overrides(args, recorded, given.as_ref());
    let plan = loaded.validate_with(&overrides).map_err(spec_errors)?;
    let names: Vec<String> = match (&given, &plan.nodes) {
        (Some(g), _) => g.nodes.iter().map(|n| n.name.clone()).collect(),
        (None, NodesPlan::Hosts(h)) => h.iter().map(|n| n.name.clone()).collect(),
        (None, NodesPlan::Local(n)) => (1..=*n).map(|i| format!("n{i}")).collect(),
    };
    let faults = replay
        .as_ref()
        .map(|r| r.faults(&names))
        .transpose()
        .map_err(|e| bad_input(format!("--replay: {e}")))?;
    if args.dry_run {
        return super::dry_run::run(
            &plan,
            given.as_ref().map(|g| g.nodes.as_slice()),
            given.as_ref().is_some_and(|g| g.local),
            faults.as_deref(),
        );
    }
    let inputs = Inputs {
        spec: SpecRecord {
            file: recorded.map_or_else(
                || {
                    let p = args.spec.clone().unwrap_or_default();
                    std::fs::canonicalize(&p).unwrap_or(p)
                },
                |r| r.inputs.spec.file.clone(),
            ),
            dir: plan.base_dir.clone(),
            sha256: sha256_hex(&loaded.text),
        },
        overrides: Overrides {
            seed: None,
            nodes: given.as_ref().filter(|g| g.listed).map(|g| g.nodes.clone()),
            ..overrides
        },
        cluster: given.as_ref().and_then(|g| g.cluster.clone()),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Exit::Internal(e.into()))?;
    let stop = Arc::new(AtomicBool::new(false));
    rt.spawn(ctrl_c(stop.clone()));
    let mut verdict = Validity::Valid;
    let mut suites = Vec::new();
    for i in 0..args.test_count {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        if args.test_count > 1 {
            crate::say!("== run {} of {}", i + 1, args.test_count);
        }
        let mut plan = plan.clone();
        plan.seed = plan.seed_for_run(i);
        if plan.fresh_seed {
            crate::say!(
                "seed: {} (fresh; --seed {} reproduces the op sequence, --replay RUN_DIR the run)",
                plan.seed,
                plan.seed
            );
        } else {
            crate::say!("seed: {}", plan.seed);
        }
        plan.fresh_seed = false;
        let run = Run {
            given: given.as_ref(),
            text: &loaded.text,
            inputs: &inputs,
            replay: faults.clone(),
        };
        let (v, suite) = rt.block_on(one_run(args, run, plan, stop.clone()))?;
        verdict = verdict.merge(v);
        suites.extend(suite);
        if let Some(path) = &args.junit {
            let doc = crate::report::junit::document(&suites);
            if let Err(e) = std::fs::write(path, doc) {
                crate::say!("warning: --junit {}: cannot write: {e}", path.display());
            }
        }
        if v == Validity::Invalid {
            break;
        }
    }
    Ok(verdict.exit_code())
}

/// What one run gets besides the plan.
struct Run<'a> {
    given: Option<&'a Given>,
    text: &'a str,
    inputs: &'a Inputs,
    replay: Option<Vec<faultline_nemesis::Fault>>,
}

/// First Ctrl-C: stop issuing ops, heal, tear down, check. Second: abort.
async fn ctrl_c(stop: Arc<AtomicBool>) {
    if tokio::signal::ctrl_c().await.is_ok() {
        crate::say!("\ninterrupted: stopping ops, healing, tearing down and checking what was recorded (Ctrl-C again aborts)");
        stop.store(true, Ordering::Relaxed);
        if tokio::signal::ctrl_c().await.is_ok() {
            crate::say!("aborted");
            std::process::exit(crate::exit::INTERNAL);
        }
    }
}

/// A local cluster made for one run; taken down when dropped (unless kept).
struct LocalCluster {
    name: String,
    keep: bool,
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        if self.keep {
            // Kept on purpose: no longer this run's, so no later test takes
            // it for debris.
            let disowned = cluster::Layout::new(&self.name)
                .and_then(|l| State::load(&l))
                .and_then(|s| match s {
                    Some(mut s) => {
                        s.owner = None;
                        s.save()
                    }
                    None => Ok(()),
                });
            if let Err(e) = disowned {
                crate::say!("warning: cluster {}: {e}", self.name);
            }
            crate::say!(
                "leaving local cluster {} running (`faultline cluster down --name {}` removes it)",
                self.name,
                self.name
            );
        } else if let Err(e) = cluster::down(&self.name) {
            crate::say!("warning: could not remove local cluster {}: {e}", self.name);
        }
    }
}

async fn one_run(
    args: &TestArgs,
    run: Run<'_>,
    plan: crate::spec::Plan,
    stop: Arc<AtomicBool>,
) -> Result<(Validity, Option<String>), Exit> {
    let mut local = false;
    let mut _guard = None;
    let remotes: Vec<Arc<dyn Remote>> = if let Some(g) = run.given {
        local = g.local;
        g.remotes.clone()
    } else {
        match &plan.nodes {
            NodesPlan::Hosts(hosts) => remotes::from_nodes(hosts.clone(), &args.remote),
            NodesPlan::Local(n) => {
                local = true;
                let name = cluster::Owner::current().map_or_else(
                    || format!("ft{:06x}", std::process::id() & 0xff_ffff),
                    |o| o.cluster_name(),
                );
                crate::say!("bringing up local cluster {name} ({n} nodes)");
                let (orphans, state) = tokio::task::spawn_blocking({
                    let (name, n) = (name.clone(), *n);
                    // Clusters of controllers that died (SIGKILL, crash)
                    // go first: they hold addresses, processes and memory.
                    move || {
                        (
                            cluster::remove_orphans(),
                            cluster::up(&name, n, cluster::Owner::current()),
                        )
                    }
                })
                .await
                .map_err(|e| Exit::Internal(e.into()))?;
                match orphans {
                    Ok(removed) => {
                        for (name, pid) in removed {
                            crate::say!("removed local cluster {name}, left behind by faultline test pid {pid}, which is gone");
                        }
                    }
                    // Without root, `up` says so below.
                    Err(cluster::HostError::NotRoot) => {}
                    Err(e) => {
                        crate::say!(
                            "warning: could not remove the clusters of dead controllers: {e}"
                        )
                    }
                }
                // Checks that fail before anything is made leave nothing to remove.
                if let Err(
                    e @ (cluster::HostError::NotRoot
                    | cluster::HostError::MissingTool { .. }
                    | cluster::HostError::Usage(_)),
                ) = state
                {
                    return Err(bad_input(e));
                }
                let guard = LocalCluster {
                    name: name.clone(),
                    keep: args.leave_db_running,
                };
                let state = state.map_err(bad_input)?;
                _guard = Some(guard);
                state.remotes()
            }
        }
    };
    let opts = RunOptions {
        store: args.store.clone(),
        spec_text: run.text.to_string(),
        leave_db_running: args.leave_db_running,
        local,
        stop,
        check_limit: Duration::from_secs_f64(args.check_time_limit),
        inputs: run.inputs.clone(),
        replay: run.replay,
    };
    let outcome = runner::run(Arc::new(plan), remotes, &opts)
        .await
        .map_err(|e| {
            if e.bad_input {
                bad_input(e.message)
            } else {
                Exit::Internal(anyhow::anyhow!(e.message))
            }
        })?;
    // Tables, report.html and junit.xml, from what the run stored.
    let suite = super::report::print_after_run(&outcome.dir, &outcome.summary, outcome.valid);
    Ok((outcome.valid, suite))
}
