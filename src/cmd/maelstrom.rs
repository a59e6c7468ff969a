//! `faultline maelstrom test`: Maelstrom's command line parsed into
//! [`crate::maelstrom::Options`] (bad flags exit 254 naming the flag), one
//! test run, the usual end-of-run tables and report, the verdict's exit
//! code.

use crate::cli::{MaelstromArgs, MaelstromCmd};
use crate::exit::{bad_input, Exit};
use crate::maelstrom::{self, run, workload, Availability, Options};
use crate::spec::Concurrency;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Runs a `faultline maelstrom` subcommand.
pub fn run(cmd: MaelstromCmd) -> Result<i32, Exit> {
    match cmd {
        MaelstromCmd::Test(args) => test(&args),
    }
}

/// The options a command line gives, or why it is wrong.
pub fn options(a: &MaelstromArgs) -> Result<Options, String> {
    let kind: workload::Kind = a.workload.parse()?;
    let nodes: Vec<String> = match (a.node_count, &a.nodes) {
        (Some(0), _) => return Err("--node-count must be positive".into()),
        (Some(n), _) => (0..n).map(|i| format!("n{i}")).collect(),
        (None, Some(list)) => list
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        (None, None) => (1..=5).map(|i| format!("n{i}")).collect(),
    };
    if nodes.is_empty() {
        return Err("--nodes names no node".into());
    }
    for n in &nodes {
        if crate::maelstrom::protocol::is_client(n) || crate::maelstrom::service::is_service(n) {
            return Err(format!(
                "node id {n:?} is a client's or a service's; pick another"
            ));
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    if let Some(d) = nodes.iter().find(|n| !seen.insert(n.as_str())) {
        return Err(format!("--nodes names {d} twice"));
    }
    let concurrency = Concurrency::parse(&a.concurrency)
        .map_err(|e| format!("--concurrency: {e}"))?
        .workers(nodes.len());
    if !(a.rate >= 0.0 && a.rate.is_finite()) {
        return Err(format!("--rate {}: must be a non-negative number", a.rate));
    }
    if !(0.0..=1.0).contains(&a.loss_probability) {
        return Err(format!(
            "--loss-probability {}: must be between 0 and 1",
            a.loss_probability
        ));
    }
    if !(a.recovery_time >= 0.0 && a.recovery_time.is_finite()) {
        return Err(format!(
            "--recovery-time {}: must be non-negative",
            a.recovery_time
        ));
    }
    let given = a.bin.clone().unwrap_or_default();
    let bin = if given.components().count() == 1 && !given.exists() {
        // A bare name: found on PATH by the spawn.
        given
    } else {
        if !given.is_file() {
            return Err(format!("--bin {}: no such file", given.display()));
        }
        std::fs::canonicalize(&given).map_err(|e| format!("--bin {}: {e}", given.display()))?
    };
    let availability = a
        .availability
        .as_deref()
        .map(str::parse::<Availability>)
        .transpose()?;
    let nemesis: Vec<String> = a
        .nemesis
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    // Checked now, so a bad name is a bad argument.
    maelstrom::nemesis::Nemesis::new(&nemesis, Duration::from_secs(1), 0, 0.1)?;
    if kind == workload::Kind::Broadcast {
        workload::topology(&a.topology, &nodes)?;
    }
    let consistency_models: Vec<String> = a
        .consistency_models
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    for m in &consistency_models {
        if faultline_checkers::elle::models::canonical(m).is_none() {
            return Err(format!(
                "--consistency-models: unknown model {m:?}; expected one of {}",
                faultline_checkers::elle::models::names().join(", ")
            ));
        }
    }
    let default_keys = if kind == workload::Kind::Kafka { 4 } else { 3 };
    let seed = a.seed.unwrap_or_else(|| fastrand::u64(..));
    Ok(Options {
        workload: kind,
        bin,
        args: a.args.clone(),
        time_limit: Duration::from_secs_f64(a.time_limit),
        rate: a.rate,
        concurrency,
        latency: Duration::from_millis(a.latency),
        latency_dist: a.latency_dist.parse()?,
        nemesis,
        nemesis_interval: Duration::from_secs_f64(a.nemesis_interval),
        availability,
        topology: a.topology.clone(),
        consistency_models,
        workload_options: workload::Options {
            key_count: a.key_count.unwrap_or(default_keys).max(1),
            max_txn_length: a.max_txn_length.max(1),
            max_writes_per_key: a.max_writes_per_key.max(1),
            node_count: nodes.len(),
            ops_per_key: 60,
        },
        nodes,
        log_stderr: a.log_stderr,
        log_net_send: a.log_net_send,
        log_net_recv: a.log_net_recv,
        seed,
        store: a.store.clone(),
        recovery: Duration::from_secs_f64(a.recovery_time),
        loss_probability: a.loss_probability,
        check_limit: Duration::from_secs_f64(a.check_time_limit),
        journal_limit: a.journal_limit,
    })
}

/// Raises the soft open-file limit to the hard one: every node holds
/// three pipes, and a thousand nodes pass the usual soft limit of 1024.
fn raise_fd_limit() {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid pointer to a local struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) == 0 && r.rlim_cur < r.rlim_max {
            r.rlim_cur = r.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &r);
        }
    }
}

/// The options and faults of a stored run, for `--replay`; `--store` and
/// `--check-time-limit` come from this command line.
fn replayed(dir: &Path, a: &MaelstromArgs) -> Result<(Options, Vec<run::Timed>), String> {
    let path = dir.join("results.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let results: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("{}:{}:{}: {e}", path.display(), e.line(), e.column()))?;
    let recorded = results
        .pointer("/maelstrom/options")
        .cloned()
        .ok_or_else(|| {
            format!(
                "{}: not a Maelstrom-mode run (no maelstrom.options)",
                path.display()
            )
        })?;
    let mut opts: Options = serde_json::from_value(recorded)
        .map_err(|e| format!("{}: maelstrom.options: {e}", path.display()))?;
    opts.store = a.store.clone();
    opts.check_limit = Duration::from_secs_f64(a.check_time_limit);
    let faults = run::recorded_faults(&results).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((opts, faults))
}

fn test(a: &MaelstromArgs) -> Result<i32, Exit> {
    let (opts, replay) = match &a.replay {
        Some(dir) => {
            let (o, f) = replayed(dir, a).map_err(bad_input)?;
            crate::say!(
                "replaying {}: seed {}, {} faults at their recorded times",
                dir.display(),
                o.seed,
                f.len()
            );
            (o, Some(f))
        }
        None => (options(a).map_err(bad_input)?, None),
    };
    raise_fd_limit();
    crate::say!(
        "maelstrom {} on {} nodes ({} clients), seed {}{}",
        opts.workload.name(),
        opts.nodes.len(),
        opts.concurrency,
        opts.seed,
        if a.seed.is_none() && replay.is_none() {
            " (fresh; --seed reproduces it)"
        } else {
            ""
        }
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Exit::Internal(e.into()))?;
    let stop = Arc::new(AtomicBool::new(false));
    rt.spawn({
        let stop = stop.clone();
        async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                crate::say!("\ninterrupted: stopping clients and nodes, checking what was recorded (Ctrl-C again aborts)");
                stop.store(true, Ordering::Relaxed);
                if tokio::signal::ctrl_c().await.is_ok() {
                    std::process::exit(crate::exit::INTERNAL);
                }
            }
        }
    });
    let outcome = rt.block_on(run::run(opts, stop, replay)).map_err(|e| {
        if e.bad_input {
            bad_input(e.message)
        } else {
            Exit::Internal(anyhow::anyhow!(e.message))
        }
    })?;
    super::report::print_after_run(&outcome.dir, &outcome.summary, outcome.valid);
    // Dropping the runtime kills what is left (kill_on_drop children).
    rt.shutdown_timeout(Duration::from_secs(2));
    Ok(outcome.valid.exit_code())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn parse(line: &str) -> Result<Options, String> {
        let argv = std::iter::once("faultline").chain(line.split_whitespace());
        let cli = crate::cli::Cli::try_parse_from(argv).map_err(|e| e.to_string())?;
        match cli.command {
            crate::cli::Command::Maelstrom(MaelstromCmd::Test(a)) => options(&a),
            _ => Err("not maelstrom test".into()),
        }
    }

    #[test]
    fn the_gossip_glomers_command_lines_parse_as_written() {
        let bin = "/bin/true";
        for line in [
            "-w echo --bin BIN --node-count 1 --time-limit 10",
            "-w unique-ids --bin BIN --time-limit 30 --rate 1000 --node-count 3 --availability total --nemesis partition",
            "-w broadcast --bin BIN --node-count 1 --time-limit 20 --rate 10",
            "-w broadcast --bin BIN --node-count 5 --time-limit 20 --rate 10 --nemesis partition",
            "-w broadcast --bin BIN --node-count 25 --time-limit 20 --rate 100 --latency 100",
            "-w g-counter --bin BIN --node-count 3 --rate 100 --time-limit 20 --nemesis partition",
            "-w kafka --bin BIN --node-count 1 --concurrency 2n --time-limit 20 --rate 1000",
            "-w kafka --bin BIN --node-count 2 --concurrency 2n --time-limit 20 --rate 1000",
            "-w txn-rw-register --bin BIN --node-count 1 --time-limit 20 --rate 1000 --concurrency 2n --consistency-models read-uncommitted --availability total",
            "-w txn-rw-register --bin BIN --node-count 2 --concurrency 2n --time-limit 20 --rate 1000 --consistency-models read-committed --availability total --nemesis partition",
        ] {
            let line = line.replace("BIN", bin);
            let o = parse(&format!("maelstrom test {line}")).unwrap_or_else(|e| panic!("{line}: {e}"));
            assert!(o.nodes.iter().all(|n| n.starts_with('n')), "{line}");
        }
        let o = parse("maelstrom test -w kafka --bin /bin/true --node-count 2 --concurrency 2n")
            .unwrap();
        assert_eq!(
            (o.nodes.clone(), o.concurrency),
            (vec!["n0".to_string(), "n1".into()], 4)
        );
        assert_eq!(o.time_limit, Duration::from_secs(60), "Jepsen's default");
        assert_eq!(o.rate, 5.0, "Maelstrom's default");
        let o = parse("maelstrom test --bin /bin/true").unwrap();
        assert_eq!(o.workload, workload::Kind::LinKv);
        assert_eq!(o.nodes, ["n1", "n2", "n3", "n4", "n5"]);
        let o =
            parse("maelstrom test -w echo --bin /bin/echo --node-count 1 hello --flag").unwrap();
        assert_eq!(
            o.args,
            ["hello", "--flag"],
            "arguments after the binary go to it"
        );
    }
}
