//! Command-line arguments (first stage: parsed and validated, no I/O).

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Jepsen-style cluster testing: faults, workloads, histories and checkers.
#[derive(Parser, Debug)]
#[command(name = "faultline", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// faultline's subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check recorded histories (JSONL, Jepsen history.edn or Jepsen logs).
    Check(CheckArgs),
}

/// Arguments of `faultline check`.
#[derive(Args, Debug)]
#[command(
    after_help = "Exit status: 0 all valid, 1 any invalid, 2 any unknown (none invalid), 254 bad input.\n\n\
Example:\n  faultline check checkers/tests/data/jepsen-etcd/etcd_000.log\n  faultline check --json --model kv history.jsonl"
)]
pub struct CheckArgs {
    /// History files to check.
    #[arg(required = true, value_name = "HISTORY")]
    pub files: Vec<PathBuf>,
    /// Which checker to run.
    #[arg(long, value_enum, default_value_t = CheckerName::Linearizable)]
    pub checker: CheckerName,
    /// Model for the linearizable checker; `auto` picks one from the ops.
    #[arg(long, value_enum, default_value_t = ModelName::Auto)]
    pub model: ModelName,
    /// History format; detected from the extension and content if omitted.
    #[arg(long, value_parser = parse_format)]
    pub format: Option<faultline_checkers::format::Format>,
    /// Initial register value, as JSON.
    #[arg(long, value_name = "JSON", default_value = "null", value_parser = parse_json)]
    pub initial_value: serde_json::Value,
    /// Give up (verdict unknown, exit 2) after this many seconds per file.
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    pub time_limit: Option<f64>,
    /// Give up (verdict unknown) when the search needs more than this many MiB.
    #[arg(long, value_name = "MIB", default_value_t = 4096)]
    pub memory_limit: usize,
    /// Print one JSON object per file instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Checkers available to `faultline check`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckerName {
    /// Linearizability against a sequential model (Knossos, Porcupine).
    Linearizable,
}

/// Models for the linearizable checker.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelName {
    /// Choose from the operations in the history.
    Auto,
    /// Read/write register.
    Register,
    /// Read/write/compare-and-set register.
    CasRegister,
    /// Independent cas-registers by key (`key` field or `[key, value]` tuples).
    Kv,
    /// Set with `add` and `read`.
    Set,
    /// FIFO queue with `enqueue` and `dequeue`.
    FifoQueue,
}

fn parse_format(s: &str) -> Result<faultline_checkers::format::Format, String> {
    s.parse()
}

fn parse_json(s: &str) -> Result<serde_json::Value, String> {
    serde_json::from_str(s).map_err(|e| format!("not JSON: {e}"))
}

fn parse_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v.is_finite() => Ok(v),
        _ => Err(format!(
            "expected a positive number of seconds, found {s:?}"
        )),
    }
}
