//! Linearizability benchmarks (`cargo bench -p faultline-checkers`).
//!
//! Prints figures, it asserts nothing about time (see BENCHMARKS.md):
//!
//! 1. Every bundled Jepsen etcd log: warm check time (median of 11 runs,
//!    parsing excluded), total and worst. If `PORCUPINE_BENCH` names a
//!    Porcupine harness binary (see BENCHMARKS.md), it is run on the same
//!    files in the same process tree and the ratios are printed.
//! 2. A generated 1,000,000-op `kv` history (1,000 keys, 10 processes, 1%
//!    info): JSONL parse time and check time, and peak RSS; then what a
//!    witness costs: check time with and without recording it (median of 5
//!    alternating runs) and the time to write it as JSON.
//! 3. A pathological single-register history (30 processes, 30% info
//!    writes, values 0..5) under a 10 s time limit: must return unknown.

use faultline_checkers::format::{self, jsonl};
use faultline_checkers::linear::{self, Options};
use faultline_checkers::model::{CasRegister, Kv, Scalar};
use faultline_checkers::synth::{register_history, RegisterSpec};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const RUNS: usize = 11;

fn main() {
    // `cargo bench` passes `--bench`; a filter argument selects parts.
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let want = |name: &str| filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str()));
    if want("etcd") {
        etcd_logs();
    }
    if want("kv") {
        kv_million();
    }
    if want("pathological") {
        pathological();
    }
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn etcd_logs() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/jepsen-etcd");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/data/jepsen-etcd exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    files.sort();
    let peer = std::env::var("PORCUPINE_BENCH")
        .ok()
        .map(|bin| porcupine(&bin, &files));
    let model = CasRegister::new(Scalar::Null);
    println!(
        "== Jepsen etcd logs ({} files), check time, median of {RUNS} warm runs ==",
        files.len()
    );
    println!(
        "{:<14} {:>8} {:>12} {:>14} {:>8}",
        "file", "verdict", "faultline ms", "porcupine ms", "ratio"
    );
    let (mut total, mut worst, mut peer_total) = (0.0, (0.0, String::new()), 0.0);
    for f in &files {
        let h = format::read_path(f, None).expect("bundled log parses");
        let mut times = Vec::with_capacity(RUNS);
        let mut verdict = None;
        for _ in 0..=RUNS {
            let t = Instant::now();
            let a = linear::check(&model, &h, &Options::default()).expect("bundled log checks");
            times.push(t.elapsed());
            verdict = Some(a.valid);
        }
        times.remove(0);
        let t = ms(median(times));
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        total += t;
        if t > worst.0 {
            worst = (t, name.clone());
        }
        let p = peer.as_ref().and_then(|m| m.get(&name)).copied();
        peer_total += p.unwrap_or(0.0);
        let (pt, ratio) = match p {
            Some(p) => (format!("{p:.3}"), format!("{:.1}x", p / t.max(1e-6))),
            None => ("-".into(), "-".into()),
        };
        println!(
            "{name:<14} {:>8} {t:>12.3} {pt:>14} {ratio:>8}",
            verdict.map(|v| v.to_string()).unwrap_or_default()
        );
    }
    println!("total: {total:.2} ms; worst: {} {:.2} ms", worst.1, worst.0);
    if peer.is_some() {
        println!(
            "porcupine total: {peer_total:.2} ms; faultline is {:.1}x faster in total",
            peer_total / total.max(1e-6)
        );
    }
}

/// Runs the Porcupine harness; returns file name → median ms.
fn porcupine(bin: &str, files: &[PathBuf]) -> HashMap<String, f64> {
    let out = match std::process::Command::new(bin)
        .arg("-runs")
        .arg(RUNS.to_string())
        .args(files)
        .output()
    {
        Ok(o) => String::from_utf8_lossy(&o.stdout).into_owned(),
        Err(e) => {
            eprintln!("PORCUPINE_BENCH={bin}: {e}");
            return HashMap::new();
        }
    };
    out.lines()
        .filter_map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            match cols.as_slice() {
                [file, _, _, median, ..] if file.ends_with(".log") => {
                    Some((file.to_string(), median.parse().ok()?))
                }
                _ => None,
            }
        })
        .collect()
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn kv_million() {
    let spec = RegisterSpec {
        ops: 1_000_000,
        processes: 10,
        keys: 1000,
        info: 0.01,
        values: 0,
        cas: true,
    };
    let h = register_history(&spec, 42);
    let mut buf = Vec::new();
    jsonl::write(&mut buf, &h).expect("write to memory");
    drop(h);
    let text = String::from_utf8(buf).expect("JSONL is UTF-8");
    let t = Instant::now();
    let h = jsonl::read(Path::new("kv.jsonl"), &text).expect("generated history parses");
    let parse = t.elapsed();
    drop(text);
    let t = Instant::now();
    let a = linear::check(&Kv::new(Scalar::Null), &h, &Options::default())
        .expect("generated history checks");
    let check = t.elapsed();
    println!(
        "== generated kv history: {} events, {} ops, {} keys ==",
        h.len(),
        a.ops,
        a.partitions
    );
    println!(
        "verdict {}; parse {:.0} ms; check {:.0} ms; total {:.0} ms; {} threads; peak RSS of this bench process {:.0} MiB",
        a.valid,
        ms(parse),
        ms(check),
        ms(parse + check),
        rayon::current_num_threads(),
        peak_rss_mib()
    );
    witness_cost(&h);
}

/// Check time without and with a witness, and the time to write it.
fn witness_cost(h: &faultline_checkers::History) {
    let m = Kv::new(Scalar::Null);
    let (mut plain, mut with) = (Vec::new(), Vec::new());
    let mut witness = None;
    for _ in 0..5 {
        let t = Instant::now();
        linear::check(&m, h, &Options::default()).expect("checks");
        plain.push(t.elapsed());
        let t = Instant::now();
        let a = linear::check(&m, h, &Options::default().with_witness(true)).expect("checks");
        with.push(t.elapsed());
        witness = a.witness;
    }
    let witness = witness.expect("a valid history has a witness");
    let mut out = Vec::new();
    let t = Instant::now();
    witness
        .write_json("kv.jsonl", &mut out)
        .expect("write to memory");
    let write = t.elapsed();
    println!(
        "witness: check {:.0} ms without, {:.0} ms with (median of 5); writing it {:.1} ms, {:.1} MB",
        ms(median(plain)),
        ms(median(with)),
        ms(write),
        out.len() as f64 / 1e6
    );
}

fn pathological() {
    let spec = RegisterSpec {
        ops: 3000,
        processes: 30,
        keys: 0,
        info: 0.3,
        values: 5,
        cas: false,
    };
    let h = register_history(&spec, 42);
    let t = Instant::now();
    let opts = Options::default().with_time_limit(Some(Duration::from_secs(10)));
    let a = linear::check(&CasRegister::new(Scalar::Null), &h, &opts)
        .expect("generated history checks");
    println!(
        "== pathological single register: {} events, 30 processes, 30% info ==",
        h.len()
    );
    println!(
        "verdict {} after {:.2} s ({}); {} configurations explored",
        a.valid,
        t.elapsed().as_secs_f64(),
        a.unknown
            .as_ref()
            .map_or("decided".to_string(), |u| u.reason.clone()),
        a.configurations
    );
}
