//! Control-layer and local-cluster benchmarks (`cargo bench --bench control`,
//! as root). Prints figures; see BENCHMARKS.md.
//!
//! - `cluster up` of 5 nodes and `cluster down`, wall clock through the CLI;
//! - 1,000 sequential small commands to one node over the multiplexed
//!   connection: total, p50, p99;
//! - one command on 5 nodes in parallel: median of 50 rounds;
//! - nemesis: starting and healing a partition on 5 nodes, and a
//!   kill-and-restart cycle of a trivial "DB" (median of 20 each).

use fastrand::Rng;
use faultline::cluster::{Layout, State};
use faultline::control::shell::RemoteShell;
use faultline::control::{on_all, Cmd};
use faultline_nemesis::process::ProcessSpec;
use faultline_nemesis::{grudge, Fault, Nemesis, Setup};
use std::process::Command;
use std::time::{Duration, Instant};

const NAME: &str = "flbench";

fn cli(args: &[&str]) -> Duration {
    let t = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(args)
        .output()
        .expect("faultline runs");
    let d = t.elapsed();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    d
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p) as usize].as_secs_f64() * 1e3
}

fn main() {
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("control bench skipped: needs root");
        return;
    }
    let up = cli(&["cluster", "up", "--name", NAME, "--nodes", "5"]);
    let state = State::load(&Layout::new(NAME).expect("valid name"))
        .expect("state")
        .expect("cluster is up");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let remotes = state.remotes();
    let (seq, par) = rt.block_on(async {
        let cmd = Cmd::argv(["true"]);
        remotes[0].exec(&cmd).await.expect("warm-up");
        let mut seq = Vec::with_capacity(1000);
        for _ in 0..1000 {
            let t = Instant::now();
            remotes[0].exec(&cmd).await.expect("command runs");
            seq.push(t.elapsed());
        }
        on_all(&remotes, &cmd).await;
        let mut par = Vec::with_capacity(50);
        for _ in 0..50 {
            let t = Instant::now();
            let results = on_all(&remotes, &cmd).await;
            par.push(t.elapsed());
            assert!(results.iter().all(|(_, r)| r.is_ok()));
        }
        (seq, par)
    });
    let (part, heal, killcycle) = rt.block_on(nemesis_figures(&state));
    drop(remotes);
    let down = cli(&["cluster", "down", "--name", NAME]);
    let total: Duration = seq.iter().sum();
    let mut seq = seq;
    seq.sort();
    let mut par = par;
    par.sort();
    println!("cluster up, 5 nodes: {:.0} ms", up.as_secs_f64() * 1e3);
    println!("cluster down, 5 nodes: {:.0} ms", down.as_secs_f64() * 1e3);
    println!(
        "1,000 sequential commands to one node: total {:.0} ms, p50 {:.2} ms, p99 {:.2} ms",
        total.as_secs_f64() * 1e3,
        pct(&seq, 0.5),
        pct(&seq, 0.99)
    );
    println!("nemesis: start partition on 5 nodes median {part:.1} ms; heal median {heal:.1} ms (20 rounds)");
    println!("nemesis: kill + restart of a trivial DB median {killcycle:.1} ms (20 rounds)");
    println!(
        "one command on 5 nodes in parallel: median {:.2} ms, max {:.2} ms (50 rounds)",
        pct(&par, 0.5),
        pct(&par, 1.0)
    );
}

async fn nemesis_figures(state: &State) -> (f64, f64, f64) {
    let start = "setsid sh -c 'echo $$ > /var/lib/faultline/node/db.pid; exec sleep 100000' >/dev/null 2>&1 < /dev/null &";
    let nodes: Vec<(String, String)> = state
        .nodes
        .iter()
        .map(|n| (n.name.clone(), n.addr.clone()))
        .collect();
    let names: Vec<String> = nodes.iter().map(|(n, _)| n.clone()).collect();
    let process = names
        .iter()
        .map(|n| {
            (
                n.clone(),
                ProcessSpec {
                    pidfile: "/var/lib/faultline/node/db.pid".into(),
                    start: start.into(),
                },
            )
        })
        .collect();
    let shell = RemoteShell::new(state.remotes(), Duration::from_secs(30));
    let nemesis = Nemesis::new(
        shell,
        Setup {
            nodes,
            process,
            clock: None,
            dev: "eth0".into(),
            disk: Default::default(),
        },
    );
    let mut rng = Rng::with_seed(1);
    let (mut part, mut heal, mut kill) = (Vec::new(), Vec::new(), Vec::new());
    let db = Fault::Kill(vec!["n1".into()]);
    nemesis.stop(&db).await.expect("start the db");
    for _ in 0..20 {
        let f = Fault::Partition(grudge::halves(&names, &mut rng));
        let t = Instant::now();
        nemesis.start(&f).await.expect("partition");
        part.push(t.elapsed());
        let t = Instant::now();
        nemesis.stop(&f).await.expect("heal");
        heal.push(t.elapsed());
        let t = Instant::now();
        nemesis.start(&db).await.expect("kill");
        nemesis.stop(&db).await.expect("restart");
        kill.push(t.elapsed());
    }
    nemesis.teardown().await.expect("teardown");
    for v in [&mut part, &mut heal, &mut kill] {
        v.sort();
    }
    (pct(&part, 0.5), pct(&heal, 0.5), pct(&kill, 0.5))
}
