//! Verifies a witness file against its history with the test suite's
//! independent verifier (`tests/verifier/`), for witnesses `faultline
//! check --witness` wrote on big histories (BENCHMARKS.md):
//!
//! `cargo run --release -p faultline-checkers --example verify_witness -- WITNESS.json HISTORY`

#[path = "../tests/verifier/mod.rs"]
mod verifier;

use faultline_checkers::format;
use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [w, h] = args.as_slice() else {
        eprintln!("usage: verify_witness WITNESS.json HISTORY");
        std::process::exit(254);
    };
    let t = std::time::Instant::now();
    let history = format::read_path(Path::new(h), None).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(254)
    });
    let read = t.elapsed();
    let text = std::fs::read(w).unwrap_or_else(|e| {
        eprintln!("{w}: {e}");
        std::process::exit(254)
    });
    let witness: serde_json::Value = serde_json::from_slice(&text).unwrap_or_else(|e| {
        eprintln!("{w}: {e}");
        std::process::exit(254)
    });
    let t = std::time::Instant::now();
    match verifier::verify(&history, &witness) {
        Ok(()) => println!(
            "{h}: witness verified in {:.0} ms (history read in {:.0} ms)",
            t.elapsed().as_secs_f64() * 1e3,
            read.as_secs_f64() * 1e3
        ),
        Err(e) => {
            println!("{h}: witness rejected: {e}");
            std::process::exit(1);
        }
    }
}
