//! `faultline test --dry-run SPEC`: validate the spec (templates rendered,
//! nodes parsed), probe what can be probed without a node (for a local
//! cluster, whose nodes share this machine's files: iptables, libfaketime,
//! whether the DB binary is a Go program), and print the plan — nodes,
//! phases, the fault schedule the seed draws, checkers. Nothing is made,
//! started or touched.

use crate::control::Node;
use crate::exit::{bad_input, Exit};
use crate::spec::{KeyMode, NodesPlan, Plan, Values};
use faultline_nemesis::{clock, Fault, FaultKind, Schedule};
use std::fmt::Write;
use std::time::Duration;

/// Most scheduled faults printed.
const SHOWN: usize = 20;

/// Prints the plan (with `replay`, the recorded faults instead of a drawn
/// schedule); exit 0, or 254 when a fault cannot work here.
pub fn run(
    plan: &Plan,
    given: Option<&[Node]>,
    local: bool,
    replay: Option<&[Fault]>,
) -> Result<i32, Exit> {
    let nodes: Vec<Node> = match (given, &plan.nodes) {
        (Some(g), _) => g.to_vec(),
        (None, NodesPlan::Hosts(h)) => h.clone(),
        (None, NodesPlan::Local(n)) => (1..=*n)
            .map(|i| Node::new(format!("n{i}"), "(address when the cluster is up)"))
            .collect(),
    };
    let mut drawn = plan.clone();
    drawn.seed = plan.seed_for_run(0);
    let plan = &drawn;
    let mut out = String::new();
    if plan.fresh_seed {
        let _ = writeln!(
            out,
            "spec {}: valid (no seed given: each run draws a fresh one; shown with seed {})",
            plan.name, plan.seed
        );
    } else {
        let _ = writeln!(out, "spec {}: valid (seed {})", plan.name, plan.seed);
    }
    let where_ = match (given, &plan.nodes) {
        (Some(_), _) if local => "an existing local cluster",
        (Some(_), _) => "the nodes given on the command line",
        (None, NodesPlan::Local(_)) => "a fresh local cluster made for the test (needs root)",
        (None, NodesPlan::Hosts(_)) => "the spec's hosts, over SSH",
    };
    let _ = writeln!(out, "nodes: {} on {where_}", nodes.len());
    for n in &nodes {
        let port = n.port.map_or(String::new(), |p| format!(":{p}"));
        let _ = writeln!(out, "  {}  {}{port}", n.name, n.addr);
    }
    phases(plan, nodes.len(), &mut out);
    let local_plan = local || (given.is_none() && matches!(plan.nodes, NodesPlan::Local(_)));
    let problems = schedule(plan, &nodes, local_plan, replay, &mut out);
    let _ = writeln!(out, "checkers: {}", plan.checkers.join(", "));
    print!("{out}");
    if problems.is_empty() {
        Ok(0)
    } else {
        Err(bad_input(format!(
            "faults not supported here (remove them from nemesis.faults):\n  {}",
            problems.join("\n  ")
        )))
    }
}

fn secs(d: Duration) -> String {
    format!("{}s", d.as_secs_f64())
}

fn phases(plan: &Plan, n: usize, out: &mut String) {
    let db = &plan.db;
    let mut setup = vec!["teardown of leftovers".to_string()];
    if db.install.is_some() {
        setup.push(if db.present.is_some() {
            "install unless present".into()
        } else {
            "install".into()
        });
    }
    if !db.configure.is_empty() {
        setup.push(format!("configure {} file(s)", db.configure.len()));
    }
    setup.push("start".into());
    if let Some((_, t)) = &plan.ready {
        setup.push(format!("ready probe (up to {})", secs(*t)));
    }
    let _ = writeln!(out, "phases:");
    let _ = writeln!(out, "  1. DB setup on every node: {}", setup.join(", "));
    let client = plan.client.describe();
    let keys = match plan.keys {
        KeyMode::Single => "one key".to_string(),
        KeyMode::Independent => format!("independent keys, {} ops per key", plan.ops_per_key),
    };
    let values = match plan.values {
        Values::Unique => "unique values".to_string(),
        Values::Range(lo, hi) => format!("values {lo}..{hi}"),
    };
    let rate = plan
        .rate
        .map_or("as fast as possible".into(), |r| format!("{r} ops/s"));
    let mix: Vec<String> = plan.mix.iter().map(|(f, w)| format!("{f}:{w}")).collect();
    let _ = writeln!(
        out,
        "  2. main phase, {}: {} workers, {rate}, {} ({}; {keys}; {values}) through {client}, op timeout {}",
        secs(plan.time_limit),
        plan.concurrency.workers(n),
        plan.workload.name(),
        mix.join(" "),
        secs(plan.op_timeout)
    );
    let _ = writeln!(
        out,
        "  3. heal every fault, recovery {}{}",
        secs(plan.recovery),
        if plan.final_reads {
            ", final reads"
        } else {
            ""
        }
    );
    let _ = writeln!(
        out,
        "  4. teardown, pull logs, check; store {}/<timestamp>/",
        plan.name
    );
}

/// Prints the fault schedule the seed draws; returns the faults that
/// cannot work here (probed locally for a local cluster).
fn schedule(
    plan: &Plan,
    nodes: &[Node],
    local: bool,
    replay: Option<&[Fault]>,
    out: &mut String,
) -> Vec<String> {
    let Some(spec) = &plan.nemesis else {
        let _ = writeln!(out, "nemesis: none");
        return Vec::new();
    };
    let kinds: Vec<&str> = spec.faults.iter().map(|k| k.name()).collect();
    let _ = writeln!(
        out,
        "nemesis: {} — quiet {}, then each fault for {} with {} between",
        kinds.join(", "),
        secs(spec.quiet),
        secs(spec.interval),
        secs(spec.interval)
    );
    let (tl, quiet, iv) = (
        plan.time_limit.as_secs_f64(),
        spec.quiet.as_secs_f64(),
        spec.interval.as_secs_f64(),
    );
    // The runner starts a fault only if it can stop it before the end.
    let count = if quiet + iv >= tl {
        0
    } else {
        ((tl - quiet - iv) / (2.0 * iv)).ceil() as u64
    };
    let names: Vec<String> = nodes.iter().map(|n| n.name.clone()).collect();
    let mut s = Schedule::new(spec.clone(), plan.seed);
    let mut recorded = replay.map(|r| r.iter());
    let count = replay.map_or(count, |r| count.min(r.len() as u64));
    match replay {
        Some(r) => {
            let _ = writeln!(
                out,
                "fault schedule (replayed: {} recorded fault(s), in order): {count} fit",
                r.len()
            );
        }
        None => {
            let _ = writeln!(
                out,
                "fault schedule (seed {}; primaries are known only at run time, drawn here as other nodes): {count} fault(s)",
                plan.seed
            );
        }
    }
    for k in 0..count.min(SHOWN as u64) {
        let at = quiet + k as f64 * 2.0 * iv;
        let next = match &mut recorded {
            Some(it) => it
                .next()
                .cloned()
                .ok_or_else(|| "no more recorded faults".to_string()),
            None => s.next(&names, &[]),
        };
        match next {
            Ok(f) => {
                let _ = writeln!(out, "  {at:>8.1}s  {} {}", f.start_f(), f.value());
            }
            Err(e) => {
                let _ = writeln!(out, "  {e}");
                break;
            }
        }
    }
    if count > SHOWN as u64 {
        let _ = writeln!(out, "  ... and {} more", count - SHOWN as u64);
    }
    if local {
        probe_locally(plan, &spec.faults)
    } else {
        let _ = writeln!(
            out,
            "  (faults are probed on the nodes when the test starts)"
        );
        Vec::new()
    }
}

/// What a local cluster's nodes share with this machine: its programs and
/// files. Returns one line per fault that cannot work.
fn probe_locally(plan: &Plan, faults: &[FaultKind]) -> Vec<String> {
    let mut problems = Vec::new();
    let on_path = |tool: &str| {
        std::env::var_os("PATH")
            .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
    };
    for &k in faults {
        let problem = match k {
            FaultKind::Partition | FaultKind::Loss if !on_path("iptables") => {
                Some("iptables is not installed (apt-get install -y iptables)".to_string())
            }
            FaultKind::Clock | FaultKind::ClockStrobe => clock_problem(plan),
            k if k.needs_disk() && !std::path::Path::new("/dev/fuse").exists() => {
                Some("/dev/fuse is missing: the fault filesystem needs FUSE (modprobe fuse)".into())
            }
            _ => None,
        };
        if let Some(p) = problem {
            problems.push(format!("{}: {p}", k.name()));
        }
    }
    problems.dedup();
    problems
}

fn clock_problem(plan: &Plan) -> Option<String> {
    if !std::path::Path::new(clock::LIBFAKETIME).exists() {
        return Some("libfaketime is not installed (apt-get install -y faketime)".into());
    }
    let bin = plan.db.binary.as_deref()?;
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(clock::detect_script(bin))
        .output();
    match out {
        Ok(o) if o.status.success() => {
            let kind = String::from_utf8_lossy(&o.stdout).trim().to_string();
            (kind == "go" || kind == "static")
                .then(|| format!("{bin} is a {kind} binary, which libfaketime cannot shift"))
        }
        Ok(o) => Some(format!(
            "could not tell whether {bin} is a Go or static binary: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => Some(format!(
            "could not tell whether {bin} is a Go or static binary: {e}"
        )),
    }
}
