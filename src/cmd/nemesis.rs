//! `faultline nemesis start|stop|heal`: faults by hand on a running cluster.

use super::remotes;
use crate::cli::{FaultArgs, NemesisCmd, NemesisCommon};
use crate::cluster::{self, State};
use crate::control::shell::RemoteShell;
use crate::control::Remote;
use crate::exit::{bad_input, Exit};
use fastrand::Rng;
use faultline_nemesis::clock::ClockMode;
use faultline_nemesis::process::ProcessSpec;
use faultline_nemesis::{DiskSpec, Fault, FaultKind, GrudgeSpec, Nemesis, Setup, Shell, Target};
use std::sync::Arc;
use std::time::Duration;

/// Runs a `nemesis` subcommand.
pub fn run(cmd: NemesisCmd) -> Result<i32, Exit> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Exit::Internal(e.into()))?;
    rt.block_on(async move {
        match cmd {
            NemesisCmd::Start(args) => start_stop(&args, true).await,
            NemesisCmd::Stop(args) => start_stop(&args, false).await,
            NemesisCmd::Heal(common) => {
                let nemesis = build(&common)?;
                let mut repaired = nemesis.teardown().await.map_err(bad_input)?;
                if let Some(dd) = &common.data_dir {
                    let script =
                        format!("true{}", crate::runner::disk::unmount_leftovers_script(dd));
                    let names: Vec<String> = nemesis.shell().node_names();
                    let scripts = names.iter().map(|n| (n.clone(), script.clone())).collect();
                    for (n, r) in names.iter().zip(nemesis.shell().run_each(scripts).await) {
                        match r {
                            Ok(out) => repaired.extend(out.lines().map(|l| format!("{n}: {l}"))),
                            Err(e) => return Err(bad_input(e)),
                        }
                    }
                }
                if repaired.is_empty() {
                    println!("healed: nothing needed repair");
                }
                for r in repaired {
                    println!("healed {r}");
                }
                Ok(0)
            }
        }
    })
}

/// The remotes and nemesis setup for the cluster the arguments name.
fn build(common: &NemesisCommon) -> Result<Nemesis<RemoteShell>, Exit> {
    let remotes: Vec<Arc<dyn Remote>> = match remotes::from_args(&common.remote)? {
        Some(r) => r,
        None => {
            let layout = cluster::Layout::new(&common.name).map_err(bad_input)?;
            let state = State::load(&layout).map_err(bad_input)?.ok_or_else(|| {
                bad_input(format!(
                    "cluster {} is not up; run `faultline cluster up`",
                    common.name
                ))
            })?;
            state.remotes()
        }
    };
    let nodes: Vec<(String, String)> = remotes
        .iter()
        .map(|r| (r.node().name.clone(), r.node().addr.clone()))
        .collect();
    let process = match (&common.pidfile, &common.start) {
        (Some(pidfile), start) => nodes
            .iter()
            .map(|(n, _)| {
                (
                    n.clone(),
                    ProcessSpec {
                        pidfile: pidfile.clone(),
                        start: start.clone().unwrap_or_else(|| "false".into()),
                    },
                )
            })
            .collect(),
        (None, _) => Default::default(),
    };
    let clock = common
        .offset_file
        .clone()
        .map(|offset_file| ClockMode::Faketime { offset_file });
    let disk = if common.disk_socket.is_empty() {
        Default::default()
    } else {
        let helper = match &common.disk_helper {
            Some(h) => h.clone(),
            None => std::env::current_exe()
                .map_err(|e| Exit::Internal(e.into()))?
                .to_string_lossy()
                .into_owned(),
        };
        if !common.disk_dir.is_empty() && common.disk_dir.len() != common.disk_socket.len() {
            return Err(bad_input(
                "--disk-dir: give one per --disk-socket, in the same order",
            ));
        }
        let count = nodes.len();
        nodes
            .iter()
            .enumerate()
            .map(|(i, (n, _))| {
                let spec = DiskSpec {
                    helper: crate::control::quote(&helper),
                    sockets: common.disk_socket.clone(),
                    dirs: common.disk_dir.clone(),
                    files: common.disk_file.clone(),
                    index: i,
                    nodes: count,
                };
                (n.clone(), spec)
            })
            .collect()
    };
    let setup = Setup {
        nodes,
        process,
        clock,
        dev: "eth0".into(),
        disk,
    };
    Ok(Nemesis::new(
        RemoteShell::new(remotes, Duration::from_secs(30)),
        setup,
    ))
}

fn fault_of(args: &FaultArgs, nodes: &[String], starting: bool) -> Result<Fault, Exit> {
    let kind: FaultKind = args.fault.parse().map_err(bad_input)?;
    let mut rng = Rng::with_seed(args.seed.unwrap_or_else(|| fastrand::u64(..)));
    let target: Target = args
        .target
        .parse()
        .map_err(|e| bad_input(format!("--target: {e}")))?;
    if let Target::Named(names) = &target {
        if let Some(bad) = names.iter().find(|n| !nodes.contains(n)) {
            return Err(bad_input(format!(
                "--target: no node {bad:?}; nodes are {}",
                nodes.join(", ")
            )));
        }
    }
    // Stopping acts on every node unless told otherwise: it is a heal.
    let picked = if starting || args.target != "one" {
        target.pick(nodes, &[], &mut rng)
    } else {
        nodes.to_vec()
    };
    Ok(match kind {
        FaultKind::Partition if starting => {
            let g: GrudgeSpec = args
                .grudge
                .parse()
                .map_err(|e| bad_input(format!("--grudge: {e}")))?;
            Fault::Partition(g.draw(nodes, &[], &mut rng).map_err(bad_input)?)
        }
        FaultKind::Partition => Fault::Partition(Default::default()),
        FaultKind::Loss => {
            if !(0.0..=1.0).contains(&args.probability) {
                return Err(bad_input("--probability must be between 0 and 1"));
            }
            Fault::Loss {
                nodes: picked,
                probability: args.probability,
            }
        }
        FaultKind::Kill => Fault::Kill(picked),
        FaultKind::Pause => Fault::Pause(picked),
        FaultKind::Clock => Fault::Clock {
            nodes: picked,
            delta_ms: args.delta_ms,
        },
        FaultKind::ClockStrobe => Fault::ClockStrobe {
            nodes: picked,
            delta_ms: args.delta_ms,
            period_ms: 100,
            duration_ms: args.duration.map_or(10_000, |d| (d * 1000.0) as u64),
        },
        k @ (FaultKind::Bitflip | FaultKind::Truncate | FaultKind::Snapshot) => {
            let d = faultline_nemesis::ScheduleSpec::default();
            Fault::Corrupt {
                kind: k,
                nodes: picked,
                args: match k {
                    FaultKind::Bitflip => format!(
                        "chunk={} probability={}",
                        d.chunk_size, d.bitflip_probability
                    ),
                    FaultKind::Truncate => format!("drop={}", d.truncate_bytes),
                    _ => format!("chunk={}", d.chunk_size),
                },
                seed: rng.u64(..),
            }
        }
        FaultKind::Power => Fault::Power {
            nodes: picked,
            torn: args.torn.then(|| rng.u64(..)),
        },
        FaultKind::Delay => Fault::Delay {
            nodes: picked,
            delay_ms: args.delay_ms,
        },
    })
}

async fn start_stop(args: &FaultArgs, starting: bool) -> Result<i32, Exit> {
    let nemesis = build(&args.common)?;
    let names: Vec<String> = nemesis.shell().node_names();
    let fault = fault_of(args, &names, starting)?;
    if starting {
        if let Some((_, why)) = nemesis.probe(&[fault.kind()]).await.into_iter().next() {
            return Err(bad_input(format!(
                "fault {} is not supported here: {why}",
                fault.kind().name()
            )));
        }
    }
    let f = if starting {
        fault.start_f()
    } else {
        fault.stop_f()
    };
    let result = if starting {
        nemesis.start(&fault).await
    } else {
        nemesis.stop(&fault).await
    };
    let result = result.map_err(bad_input)?;
    println!("{f} {} -> {result}", fault.value());
    if let (true, Some(secs)) = (starting, args.duration) {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs_f64(secs)) => {}
            _ = tokio::signal::ctrl_c() => eprintln!("interrupted: stopping the fault"),
        }
        let done = nemesis.stop(&fault).await.map_err(bad_input)?;
        println!("{} -> {done}", fault.stop_f());
    }
    Ok(0)
}
