//! `faultline cluster up|down|status|exec`: the local namespace cluster.

use super::remotes;
use crate::cli::{ClusterCmd, ExecArgs};
use crate::cluster::{self, init, State};
use crate::control::{on_all, Cmd, Remote, RemoteError};
use crate::exit::{bad_input, Exit};
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Runs a `cluster` subcommand.
pub fn run(cmd: ClusterCmd) -> Result<i32, Exit> {
    match cmd {
        ClusterCmd::Up { nodes, name } => up(&name, nodes),
        ClusterCmd::Down { name, all } => {
            let names: Vec<String> = if all {
                cluster::list().into_iter().map(|c| c.name).collect()
            } else {
                vec![name]
            };
            if names.is_empty() {
                println!("no local clusters");
            }
            for name in names {
                let removed = cluster::down(&name).map_err(host_error)?;
                if removed.is_empty() {
                    println!("cluster {name}: nothing to remove");
                }
                for r in removed {
                    println!("removed {r}");
                }
            }
            Ok(0)
        }
        ClusterCmd::List { json } => list(json),
        ClusterCmd::Status { name, json } => status(&name, json),
        ClusterCmd::Exec(args) => exec(&args),
        ClusterCmd::NodeInit {
            dir,
            hostname,
            data_mount,
        } => match init::run(&dir, &hostname, &data_mount) {
            Ok(()) => Ok(0),
            Err(e) => Err(Exit::Internal(anyhow::anyhow!("node-init {hostname}: {e}"))),
        },
    }
}

fn host_error(e: cluster::HostError) -> Exit {
    match e {
        cluster::HostError::Command { .. } | cluster::HostError::Io { .. } => {
            Exit::Internal(e.into())
        }
        _ => Exit::BadInput(e.into()),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, Exit> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Exit::Internal(e.into()))
}

fn up(name: &str, n: usize) -> Result<i32, Exit> {
    let start = Instant::now();
    let state = cluster::up(name, n, None).map_err(host_error)?;
    // Prove every node is reachable over SSH, as a test would reach it.
    let results =
        runtime()?.block_on(async { on_all(&state.remotes(), &Cmd::argv(["hostname"])).await });
    let mut failed = Vec::new();
    for (node, res) in results {
        match res {
            Ok(out) if out.stdout_text() == node.name => {}
            Ok(out) => failed.push(format!(
                "node {}: hostname is {:?}",
                node.name,
                out.stdout_text()
            )),
            Err(e) => failed.push(e.to_string()),
        }
    }
    if !failed.is_empty() {
        return Err(Exit::Internal(anyhow::anyhow!(
            "cluster {name} is up but not every node answers:\n  {}",
            failed.join("\n  ")
        )));
    }
    let l = state.layout();
    println!(
        "cluster {name}: {} nodes up in {:.2} s",
        state.nodes.len(),
        start.elapsed().as_secs_f64()
    );
    for node in &state.nodes {
        println!("  {}  {}", node.name, node.addr);
    }
    println!("nodes file: {}", l.nodes_file().display());
    println!(
        "reach a node: ssh -F {} n1    or    faultline cluster exec --name {name} -- hostname",
        l.ssh_config().display()
    );
    Ok(0)
}

fn list(json: bool) -> Result<i32, Exit> {
    let clusters = cluster::list();
    if json {
        println!(
            "{}",
            serde_json::to_string(&clusters).map_err(|e| Exit::Internal(e.into()))?
        );
        return Ok(0);
    }
    if clusters.is_empty() {
        println!("no local clusters");
        return Ok(0);
    }
    println!("{:<10} {:>5}  {:<8} OWNER", "NAME", "NODES", "STATE");
    for c in &clusters {
        let state = match c.nodes_up {
            n if n == c.nodes => "up".to_string(),
            0 => "down".to_string(),
            n => format!("{n}/{} up", c.nodes),
        };
        let owner = match (c.owner_pid, c.owner_alive) {
            (Some(pid), Some(true)) => format!("faultline test (pid {pid}, running)"),
            (Some(pid), _) => format!(
                "faultline test (pid {pid}, gone: debris; the next `faultline test` or `cluster down --all` removes it)"
            ),
            _ => "cluster up (kept until `cluster down`)".to_string(),
        };
        println!("{:<10} {:>5}  {state:<8} {owner}", c.name, c.nodes);
    }
    Ok(0)
}

fn status(name: &str, json: bool) -> Result<i32, Exit> {
    let Some(nodes) = cluster::status(name).map_err(host_error)? else {
        if json {
            println!("null");
        } else {
            println!("cluster {name}: not up");
        }
        return Ok(0);
    };
    if json {
        println!(
            "{}",
            serde_json::to_string(&nodes).map_err(|e| Exit::Internal(e.into()))?
        );
        return Ok(0);
    }
    let mark = |b: bool| if b { "up" } else { "DOWN" };
    println!("cluster {name}");
    for n in &nodes {
        println!(
            "  {}  {:<15} netns {}  init {}  sshd {}",
            n.name,
            n.addr,
            mark(n.netns),
            mark(n.init),
            mark(n.sshd)
        );
        for (pid, cmd) in &n.processes {
            println!("      {pid:>7}  {cmd}");
        }
    }
    Ok(0)
}

fn exec(args: &ExecArgs) -> Result<i32, Exit> {
    let remotes: Vec<Arc<dyn Remote>> = match remotes::from_args(&args.remote)? {
        Some(r) => r,
        None => {
            let layout = cluster::Layout::new(&args.name).map_err(host_error)?;
            let state = State::load(&layout).map_err(host_error)?.ok_or_else(|| {
                bad_input(format!(
                    "cluster {} is not up; run `faultline cluster up --name {}` (as root)",
                    args.name, args.name
                ))
            })?;
            state.remotes()
        }
    };
    let remotes: Vec<Arc<dyn Remote>> = if args.only.is_empty() || args.all {
        remotes
    } else {
        for want in &args.only {
            if !remotes.iter().any(|r| &r.node().name == want) {
                let names: Vec<&str> = remotes.iter().map(|r| r.node().name.as_str()).collect();
                return Err(bad_input(format!(
                    "no node {want:?}; nodes are {}",
                    names.join(", ")
                )));
            }
        }
        remotes
            .into_iter()
            .filter(|r| args.only.contains(&r.node().name))
            .collect()
    };
    let mut cmd = Cmd::argv(args.command.iter().cloned());
    if let Some(t) = args.timeout {
        cmd = cmd.timeout(Duration::from_secs_f64(t));
    }
    let results = runtime()?.block_on(async { on_all(&remotes, &cmd).await });
    let single = results.len() == 1;
    let mut code = 0;
    let mut unreachable = Vec::new();
    let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr().lock());
    for (node, res) in results {
        match res {
            Ok(o) => {
                if single {
                    let _ = out.write_all(&o.stdout);
                    let _ = err.write_all(&o.stderr);
                } else {
                    for line in String::from_utf8_lossy(&o.stdout).lines() {
                        let _ = writeln!(out, "{}: {line}", node.name);
                    }
                    for line in String::from_utf8_lossy(&o.stderr).lines() {
                        let _ = writeln!(err, "{}: {line}", node.name);
                    }
                }
                if code == 0 && !o.success() {
                    code = o.status.unwrap_or(255);
                    if !single {
                        let _ = writeln!(
                            err,
                            "{}: exit status {}",
                            node.name,
                            o.status.map_or("signal".into(), |c| c.to_string())
                        );
                    }
                }
            }
            Err(e @ RemoteError::Timeout { .. }) => {
                let _ = writeln!(err, "{e}");
                code = 124;
            }
            Err(e) => unreachable.push(e.to_string()),
        }
    }
    if !unreachable.is_empty() {
        return Err(bad_input(unreachable.join("\n")));
    }
    Ok(code)
}
