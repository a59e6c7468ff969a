//! Runner throughput and overhead (`cargo bench --bench runner`, as root).
//!
//! The client is a trivial in-memory exec plugin written in Rust (this
//! bench binary itself, run with `--as-plugin`), so the figures measure
//! faultline, not a database:
//!
//! - the plugin called directly: p50 round trip over its stdin/stdout;
//! - `faultline test` with 1 worker: ops/s and p50 per op, the difference
//!   being what the runner adds (generator, history append + flush, timing);
//! - `faultline test` with 10 workers: ops/s while recording the history.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Instant;

/// The plugin: answers every request from an in-memory register map.
fn plugin() {
    let mut regs: HashMap<String, serde_json::Value> = HashMap::new();
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let Ok(req) = serde_json::from_str::<serde_json::Value>(&line) else {
            break;
        };
        let key = req["key"].to_string();
        let value = match req["f"].as_str() {
            Some("write") => {
                regs.insert(key, req["value"].clone());
                req["value"].clone()
            }
            _ => regs.get(&key).cloned().unwrap_or(serde_json::Value::Null),
        };
        let _ = writeln!(
            out,
            "{}",
            serde_json::json!({"id": req["id"], "type": "ok", "value": value})
        );
        let _ = out.flush();
    }
}

fn direct_p50(exe: &str) -> f64 {
    let mut child = Command::new(exe)
        .arg("--as-plugin")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("plugin starts");
    let mut stdin = child.stdin.take().expect("piped");
    let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
    let mut times = Vec::with_capacity(20_000);
    let mut line = String::new();
    for id in 0..20_000u64 {
        let t = Instant::now();
        writeln!(
            stdin,
            "{{\"id\": {id}, \"f\": \"write\", \"key\": 1, \"value\": {id}}}"
        )
        .expect("write");
        stdin.flush().expect("flush");
        line.clear();
        stdout.read_line(&mut line).expect("read");
        times.push(t.elapsed());
    }
    drop(stdin);
    let _ = child.wait();
    times.sort();
    times[times.len() / 2].as_secs_f64() * 1e6
}

fn run_test(exe: &str, concurrency: usize, secs: u64) -> (f64, f64) {
    let dir = std::env::temp_dir().join(format!("faultline-bench-runner-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let spec = dir.join("bench.yaml");
    std::fs::write(
        &spec,
        format!(
            "name: bench-mem\nnodes: local:1\ndb:\n  start:\n    command: sleep 100000\n\
             client:\n  kind: exec\n  command: {exe} --as-plugin\n\
             workload:\n  kind: register\n  keys: independent\n  mix: {{ read: 1, write: 1 }}\n\
             generator:\n  concurrency: {concurrency}\n  time_limit: {secs}s\n  final_reads: false\n\
             checkers: [stats, perf]\n"
        ),
    )
    .expect("spec");
    let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args([
            "test",
            spec.to_str().unwrap_or_default(),
            "--store",
            dir.join("store").to_str().unwrap_or_default(),
        ])
        .output()
        .expect("faultline runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let history =
        std::fs::read_to_string(dir.join("store/bench-mem/latest/history.jsonl")).expect("history");
    let ops: Vec<serde_json::Value> = history
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let done = ops.iter().filter(|o| o["type"] == "ok").count();
    let (first, last) = (
        ops.first().map_or(0, |o| o["time"].as_i64().unwrap_or(0)),
        ops.last().map_or(1, |o| o["time"].as_i64().unwrap_or(1)),
    );
    let rate = done as f64 / ((last - first) as f64 / 1e9);
    let _ = std::fs::remove_dir_all(&dir);
    (rate, concurrency as f64 / rate * 1e6)
}

fn main() {
    if std::env::args().any(|a| a == "--as-plugin") {
        plugin();
        return;
    }
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("runner bench skipped: needs root (it makes a local cluster)");
        return;
    }
    let exe = std::env::current_exe()
        .expect("own path")
        .to_string_lossy()
        .into_owned();
    let direct = direct_p50(&exe);
    let (rate1, per_op1) = run_test(&exe, 1, 5);
    let (rate10, _) = run_test(&exe, 10, 10);
    println!("plugin called directly: p50 round trip {direct:.1} µs");
    println!(
        "faultline test, 1 worker: {rate1:.0} ops/s = {per_op1:.1} µs per op end to end (vs {direct:.1} µs direct: runner overhead {:.1} µs)",
        (per_op1 - direct).max(0.0)
    );
    println!("faultline test, 10 workers: {rate10:.0} ops/s, history recorded and flushed per op");
}
