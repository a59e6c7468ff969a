//! Writes a generated history as JSONL to stdout, for benchmarks.
//!
//! `cargo run --release -p faultline-checkers --example synth -- kv 1000000 > kv.jsonl`
//! `cargo run --release -p faultline-checkers --example synth -- pathological 2000 > p.jsonl`
//!
//! `cargo run --release -p faultline-checkers --example synth -- list-append 1000000 > la.jsonl`
//!
//! `list-append TXNS` (`list-append-rc`, `list-append-si`: the same store
//! at read committed, snapshot isolation): a serial store, 10 processes, 1–4 micro-ops per txn,
//! 1,000 keys in use at a time (each retired after 32 appends, as Jepsen's
//! `max-writes-per-key`), 1% info txns. `kv OPS`: 1,000 keys, 10 processes, 1% info ops, unique written values
//! per key. `pathological OPS`: one register, 30 processes, 30% info ops,
//! values 0..5 (any read is explained by some indeterminate write, so the
//! search space explodes). `set-full`, `counter`, `bank`, `queue`,
//! `unique-ids`, `long-fork OPS`: correct simulated systems for Jepsen's
//! checkers (`jepsen::sim`), 10 processes, 1% info ops (none for the queue);
//! the set has 10 keys in use at a time, 100 adds each. `info-writes N`:
//! one register, N concurrent writes of distinct values, all `info`, then N
//! sequential reads of random written values and a read of a value nobody
//! wrote (invalid); `info-writes-valid N`: the reads walk through the
//! written values without coming back to one (valid).
//! `register-seq OPS`: one register, one process, writes of fresh values
//! and reads of them alternating, sequential (valid).
//! `kafka MESSAGES`: a correct kafka history (`synth::kafka_jsonl`), 10
//! processes, 8 keys, 1% info.
//! `set-full-one OPS`:
//! one set (no keys), 10 processes adding fresh integers, 1% info adds
//! (half of them took effect and are read later), and 32 reads of the
//! whole set spread evenly through the history, the last at the end
//! (`jepsen::sim::one_set`); `set-full-one-lost OPS`: the same, but one
//! acknowledged element is missing from one read (stale) and another from
//! every read after the 16th (lost, so the history is invalid).

use faultline_checkers::format::jsonl;
use faultline_checkers::synth::{
    info_writes_history, register_history, sequential_register_history, InfoReads, RegisterSpec,
};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (kind, ops) = match args.as_slice() {
        [k, n] => (k.as_str(), n.parse().unwrap_or_else(|_| usage())),
        _ => usage(),
    };
    if kind == "kafka" {
        // OPS messages sent: 10 processes, 8 keys, 1% info (the shape of
        // docs/benchmarks.md's kafka figure).
        let spec = faultline_checkers::synth::KafkaSpec {
            messages: ops,
            processes: 10,
            keys: 8,
            info: 0.01,
        };
        let text = faultline_checkers::synth::kafka_jsonl(&spec, 42);
        use std::io::Write as _;
        if let Err(e) = std::io::stdout().lock().write_all(text.as_bytes()) {
            eprintln!("synth: {e}");
            std::process::exit(1);
        }
        return;
    }
    let isolation = match kind {
        "list-append" => Some(faultline_checkers::elle::synth::Isolation::Serial),
        "list-append-rc" => Some(faultline_checkers::elle::synth::Isolation::ReadCommitted),
        "list-append-si" => Some(faultline_checkers::elle::synth::Isolation::SnapshotIsolation),
        _ => None,
    };
    if let Some(isolation) = isolation {
        let spec = faultline_checkers::elle::synth::Spec {
            txns: ops,
            processes: 10,
            keys: 1000,
            max_writes_per_key: 32,
            max_ops: 4,
            info: 0.01,
            workload: faultline_checkers::elle::Workload::ListAppend,
            isolation,
        };
        let h = faultline_checkers::elle::synth::history(&spec, 42);
        if let Err(e) = jsonl::write(std::io::stdout().lock(), &h) {
            eprintln!("synth: {e}");
            std::process::exit(1);
        }
        return;
    }
    if let Some(faulty) = match kind {
        "set-full-one" => Some(false),
        "set-full-one-lost" => Some(true),
        _ => None,
    } {
        let spec = faultline_checkers::jepsen::sim::OneSetSpec {
            ops,
            processes: 10,
            reads: 32,
            info: 0.01,
            faulty,
        };
        let h = faultline_checkers::jepsen::sim::one_set(&spec, 42);
        if let Err(e) = jsonl::write(std::io::stdout().lock(), &h) {
            eprintln!("synth: {e}");
            std::process::exit(1);
        }
        return;
    }
    let jepsen = match kind {
        "set-full" => Some(faultline_checkers::jepsen::sim::Workload::Set),
        "counter" => Some(faultline_checkers::jepsen::sim::Workload::Counter),
        "bank" => Some(faultline_checkers::jepsen::sim::Workload::Bank),
        "queue" => Some(faultline_checkers::jepsen::sim::Workload::Queue),
        "unique-ids" => Some(faultline_checkers::jepsen::sim::Workload::UniqueIds),
        "long-fork" => Some(faultline_checkers::jepsen::sim::Workload::LongFork),
        _ => None,
    };
    if let Some(workload) = jepsen {
        let spec = faultline_checkers::jepsen::sim::Spec {
            ops,
            processes: 10,
            keys: if workload == faultline_checkers::jepsen::sim::Workload::Set {
                10
            } else {
                0
            },
            per_key: 100,
            info: if workload == faultline_checkers::jepsen::sim::Workload::Queue {
                0.0
            } else {
                0.01
            },
            workload,
        };
        let h = faultline_checkers::jepsen::sim::history(&spec, 42);
        if let Err(e) = jsonl::write(std::io::stdout().lock(), &h) {
            eprintln!("synth: {e}");
            std::process::exit(1);
        }
        return;
    }
    let reads = match kind {
        "info-writes" => Some(InfoReads::RandomThenUnwritten),
        "info-writes-valid" => Some(InfoReads::Consistent),
        _ => None,
    };
    if kind == "register-seq" {
        let h = sequential_register_history(ops);
        if let Err(e) = jsonl::write(std::io::stdout().lock(), &h) {
            eprintln!("synth: {e}");
            std::process::exit(1);
        }
        return;
    }
    if let Some(how) = reads {
        let h = info_writes_history(ops, ops, how, 42);
        if let Err(e) = jsonl::write(std::io::stdout().lock(), &h) {
            eprintln!("synth: {e}");
            std::process::exit(1);
        }
        return;
    }
    let spec = match kind {
        "kv" => RegisterSpec {
            ops,
            processes: 10,
            keys: 1000,
            info: 0.01,
            values: 0,
            cas: true,
        },
        "pathological" => RegisterSpec {
            ops,
            processes: 30,
            keys: 0,
            info: 0.3,
            values: 5,
            cas: false,
        },
        _ => usage(),
    };
    let h = register_history(&spec, 42);
    if let Err(e) = jsonl::write(std::io::stdout().lock(), &h) {
        eprintln!("synth: {e}");
        std::process::exit(1);
    }
}

fn usage() -> ! {
    eprintln!(
        "usage: synth kv|pathological|register-seq|info-writes|info-writes-valid|list-append|list-append-rc|list-append-si|\
         set-full|set-full-one|set-full-one-lost|counter|bank|queue|unique-ids|long-fork|kafka OPS"
    );
    std::process::exit(254)
}
