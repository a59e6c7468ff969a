//! Benchmark (not a test): the reports of a big stored run. Makes a run
//! directory with a synthetic history of N client ops (default 1,000,000:
//! 2,000,000 lines, 1000 independent cas-registers, 10 processes, 1% info,
//! one corrupted read so the linearizability failure is drawn, a fault
//! every 10 s), checks it, then times what `faultline test` does at the
//! end of a run and `faultline report` does: read results.json and
//! history.jsonl, derive the facts, render report.html, the terminal
//! tables and junit.xml. Prints bytes and seconds.
//!
//! ```sh
//! cargo run --release --example report_1m [-- OPS [DIR]]
//! ```

use faultline::report::{facts::Facts, html, junit, terminal, RunReport};
use faultline_checkers::linear::{self, Options};
use faultline_checkers::model::{CasRegister, Scalar};
use faultline_checkers::synth::{corrupt_read, register_history, RegisterSpec};
use faultline_checkers::{History, Op, OpType, Process};
use serde_json::json;
use std::io::{BufWriter, Write};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(Ok(1_000_000), |a| a.parse())?;
    let dir = args.next().map_or_else(
        || std::env::temp_dir().join(format!("faultline-report-bench-{}", std::process::id())),
        std::path::PathBuf::from,
    );
    std::fs::create_dir_all(&dir)?;
    let t = Instant::now();
    let history = synthetic(n);
    eprintln!(
        "made {} events ({n} ops) in {:.2} s",
        history.len(),
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let mut out = BufWriter::new(std::fs::File::create(dir.join("history.jsonl"))?);
    for op in history.ops() {
        serde_json::to_writer(&mut out, op)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    drop(out);
    let opts = Options::default();
    let analysis = linear::check(&CasRegister::new(Scalar::Null), &history, &opts)?;
    let results = json!({
        "valid": analysis.valid,
        "checkers": {"linearizable": analysis},
        "ops": history.len(),
    });
    std::fs::write(
        dir.join("results.json"),
        serde_json::to_string_pretty(&results)?,
    )?;
    eprintln!(
        "wrote and checked the run in {:.2} s",
        t.elapsed().as_secs_f64()
    );
    drop(history);

    let t0 = Instant::now();
    let run = RunReport::load(&dir)?;
    let t_load = t0.elapsed();
    let facts = Facts::new(&run.history);
    let t_facts = t0.elapsed() - t_load;
    let page = html::render(&run, &facts);
    let t_html = t0.elapsed() - t_load - t_facts;
    std::fs::write(dir.join("report.html"), &page)?;
    let tables = terminal::render(&run, &facts, false, Some(&dir.join("report.html")));
    let xml = junit::document(&[junit::testsuite(&run)]);
    let total = t0.elapsed();
    let history_bytes = std::fs::metadata(dir.join("history.jsonl"))?.len();
    println!(
        "history.jsonl: {} events, {history_bytes} bytes",
        run.history.len()
    );
    println!(
        "report.html: {} bytes ({:.2} MB)",
        page.len(),
        page.len() as f64 / 1e6
    );
    println!(
        "terminal tables: {} bytes; junit.xml: {} bytes",
        tables.len(),
        xml.len()
    );
    println!(
        "read results.json + history.jsonl {:.3} s, facts {:.3} s, render report.html {:.3} s, all reports {:.3} s",
        t_load.as_secs_f64(),
        t_facts.as_secs_f64(),
        t_html.as_secs_f64(),
        total.as_secs_f64()
    );
    println!("run directory: {}", dir.display());
    Ok(())
}

/// The history: synthetic cas-register ops on 1000 keys (times scaled to
/// about 100 µs between events), one read corrupted, and a partition
/// started and stopped every 10 s.
fn synthetic(n: usize) -> History {
    let spec = RegisterSpec {
        ops: n,
        processes: 10,
        keys: 1000,
        info: 0.01,
        values: 5,
        cas: true,
    };
    let h = register_history(&spec, 1);
    let h = corrupt_read(&h, 3).unwrap_or(h);
    let mut ops: Vec<Op> = Vec::with_capacity(h.len() + 1000);
    let mut next_fault = 5_000_000_000i64;
    let mut on = false;
    for op in h.ops() {
        let mut op = op.clone();
        op.time *= 200;
        while op.time >= next_fault {
            let f = if on {
                "stop-partition"
            } else {
                "start-partition"
            };
            let mut n = Op::new(
                0,
                Process::Nemesis,
                OpType::Info,
                f,
                json!({"n1": ["n2", "n3"]}),
            );
            n.time = next_fault;
            ops.push(n);
            on = !on;
            next_fault += 10_000_000_000;
        }
        ops.push(op);
    }
    History::new(ops)
}
