//! `faultline check`: read history files, run a checker on each, print one
//! verdict line (or JSON object) per file, and exit with the merged verdict.

use crate::cli::{CheckArgs, CheckerName, ModelName};
use crate::exit::{self, Exit};
use faultline_checkers::elle;
use faultline_checkers::format::{self, Format};
use faultline_checkers::linear::{self, Analysis, Options};
use faultline_checkers::model::{CasRegister, FifoQueue, Kv, Register, Scalar, Set};
use faultline_checkers::{CheckError, History, OpType, Process, ReadError, Validity};
use rayon::prelude::*;
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

/// What came of one file.
enum FileResult {
    Checked {
        analysis: Box<Analysis>,
        parse: Duration,
        check: Duration,
    },
    Txn {
        analysis: Box<elle::Analysis>,
        parse: Duration,
        check: Duration,
    },
    BadInput(String),
}

/// Runs `faultline check`.
pub fn run(args: &CheckArgs) -> Result<i32, Exit> {
    let threads = rayon::current_num_threads().min(args.files.len()).max(1);
    let options = Options::default()
        .with_time_limit(args.time_limit.map(Duration::from_secs_f64))
        .with_memory_limit((args.memory_limit << 20) / threads);
    let results: Vec<FileResult> = args
        .files
        .par_iter()
        .map(|f| check_file(args, f, &options))
        .collect();

    let mut verdict = Validity::Valid;
    let mut bad = false;
    for (file, result) in args.files.iter().zip(&results) {
        match result {
            FileResult::Checked {
                analysis,
                parse,
                check,
            } => {
                verdict = verdict.merge(analysis.valid);
                print_verdict(args.json, file, analysis, *parse, *check);
            }
            FileResult::Txn {
                analysis,
                parse,
                check,
            } => {
                verdict = verdict.merge(analysis.valid);
                print_txn_verdict(args.json, file, analysis, *parse, *check);
            }
            FileResult::BadInput(msg) => {
                bad = true;
                if args.json {
                    println!(
                        "{}",
                        json!({"file": file, "valid": "unknown", "error": msg})
                    );
                }
                eprintln!("error: {msg}");
            }
        }
    }
    if bad {
        return Err(exit::bad_input(format!(
            "{} of {} files could not be checked",
            results
                .iter()
                .filter(|r| matches!(r, FileResult::BadInput(_)))
                .count(),
            results.len()
        )));
    }
    Ok(verdict.exit_code())
}

fn check_file(args: &CheckArgs, path: &Path, options: &Options) -> FileResult {
    let t0 = Instant::now();
    let text = match format::read_text(path) {
        Ok(t) => t,
        Err(e) => return FileResult::BadInput(e.to_string()),
    };
    let fmt = args.format.unwrap_or_else(|| Format::detect(path, &text));
    let head = text.get(..text.len().min(1 << 16)).unwrap_or(&text);
    let looks_txn = head.contains("\"f\":\"txn\"") || head.contains(":f :txn");
    let list_append = head.contains("\"append\"") || head.contains(":append");
    let workload = match args.checker {
        CheckerName::ListAppend => Some(elle::Workload::ListAppend),
        CheckerName::RwRegister => Some(elle::Workload::RwRegister),
        CheckerName::Auto if looks_txn && list_append => Some(elle::Workload::ListAppend),
        CheckerName::Auto if looks_txn => Some(elle::Workload::RwRegister),
        _ => None,
    };
    if let Some(w) = workload {
        return check_txn_file(args, path, options, text, fmt, w, t0);
    }
    let history = match format::read_str(fmt, path, &text) {
        Ok(h) => h,
        Err(e) => return FileResult::BadInput(e.to_string()),
    };
    drop(text);
    let parse = t0.elapsed();
    let model = match args.model {
        ModelName::Auto => match detect_model(&history) {
            Ok(m) => m,
            Err(msg) => return FileResult::BadInput(format!("{}: {msg}", path.display())),
        },
        m => m,
    };
    let t1 = Instant::now();
    let initial = Scalar::from_json(&args.initial_value);
    let result = match model {
        ModelName::Register => linear::check(&Register::new(initial), &history, options),
        ModelName::CasRegister | ModelName::Auto => {
            linear::check(&CasRegister::new(initial), &history, options)
        }
        ModelName::Kv => linear::check(&Kv::new(initial), &history, options),
        ModelName::Set => linear::check(&Set, &history, options),
        ModelName::FifoQueue => linear::check(&FifoQueue, &history, options),
    };
    match result {
        Ok(analysis) => FileResult::Checked {
            analysis: Box::new(analysis),
            parse,
            check: t1.elapsed(),
        },
        Err(e) => FileResult::BadInput(locate(path, &history, &e)),
    }
}

/// A transactional history: JSONL is streamed into the decoder batch by
/// batch, so the whole parsed history never sits in memory; other formats
/// are parsed, then decoded.
fn check_txn_file(
    args: &CheckArgs,
    path: &Path,
    options: &Options,
    text: String,
    fmt: Format,
    w: elle::Workload,
    t0: Instant,
) -> FileResult {
    let register = w == elle::Workload::RwRegister;
    let txns = if fmt == Format::Jsonl {
        let mut d = elle::txn::Decoder::new(register);
        let mut next = 0usize;
        let streamed = format::jsonl::for_each_batch(path, &text, |ops, lines| {
            for (k, op) in ops.iter().enumerate() {
                d.push(next + k, op).map_err(|e| {
                    ReadError::at(
                        path,
                        lines[k] as usize,
                        1,
                        format!("{} (op: {op})", e.message()),
                    )
                })?;
            }
            next += ops.len();
            Ok(())
        });
        match streamed {
            Ok(()) => d.finish(),
            Err(e) => return FileResult::BadInput(e.to_string()),
        }
    } else {
        let history = match format::read_str(fmt, path, &text) {
            Ok(h) => h,
            Err(e) => return FileResult::BadInput(e.to_string()),
        };
        match elle::txn::decode(&history, register) {
            Ok(t) => t,
            Err(e) => return FileResult::BadInput(locate(path, &history, &e)),
        }
    };
    drop(text);
    let parse = t0.elapsed();
    let t1 = Instant::now();
    let opts = elle::Options::default()
        .with_models(args.consistency_models.clone())
        .with_time_limit(options.time_limit);
    match elle::check_txns(&txns, w, &opts) {
        Ok(a) => FileResult::Txn {
            analysis: Box::new(a),
            parse,
            check: t1.elapsed(),
        },
        Err(e) => FileResult::BadInput(format!("{}: {}", path.display(), e.message())),
    }
}

/// `file:line:1: message` for an error about one op.
fn locate(path: &Path, history: &History, e: &CheckError) -> String {
    let index = e.index();
    let op = &history[index];
    match history.line_of(index) {
        Some(line) => format!("{}:{line}:1: {} (op: {op})", path.display(), e.message()),
        None => format!("{}: op {index}: {} (op: {op})", path.display(), e.message()),
    }
}

/// Picks a model from the operation names clients used.
fn detect_model(history: &History) -> Result<ModelName, String> {
    let mut fs: Vec<&str> = history
        .ops()
        .iter()
        .filter(|o| o.process != Process::Nemesis && o.kind == OpType::Invoke)
        .map(|o| &*o.f)
        .collect();
    fs.sort_unstable();
    fs.dedup();
    let keyed = history.ops().iter().any(|o| o.key.is_some());
    let all_in = |allowed: &[&str]| fs.iter().all(|f| allowed.contains(f));
    if all_in(&["read", "write", "cas"]) {
        Ok(if keyed {
            ModelName::Kv
        } else {
            ModelName::CasRegister
        })
    } else if all_in(&["add", "read"]) {
        Ok(ModelName::Set)
    } else if all_in(&["enqueue", "dequeue"]) {
        Ok(ModelName::FifoQueue)
    } else {
        Err(format!(
            "cannot tell which model fits operations {}; pass --model (register, cas-register, kv, set, fifo-queue)",
            fs.iter().map(|f| format!(":{f}")).collect::<Vec<_>>().join(", ")
        ))
    }
}

fn print_verdict(as_json: bool, file: &Path, a: &Analysis, parse: Duration, check: Duration) {
    let ms = |d: Duration| (d.as_secs_f64() * 1e6).round() / 1e3;
    if as_json {
        let mut v = serde_json::to_value(a)
            .unwrap_or_else(|e| json!({"valid": "unknown", "error": e.to_string()}));
        if let Value::Object(m) = &mut v {
            m.insert("file".into(), json!(file));
            m.insert("checker".into(), json!("linearizable"));
            m.insert("parse_ms".into(), json!(ms(parse)));
            m.insert("check_ms".into(), json!(ms(check)));
        }
        println!("{v}");
        return;
    }
    println!(
        "{}\t{}\t{}, {} ops, {} partition{}, {:.1} ms",
        file.display(),
        a.valid,
        a.model,
        a.ops,
        a.partitions,
        if a.partitions == 1 { "" } else { "s" },
        ms(check)
    );
    if let Some(f) = &a.failure {
        eprint!("{}: not linearizable\n{}", file.display(), f.explanation);
    }
    if let Some(u) = &a.unknown {
        eprintln!(
            "{}: unknown: {}; {} of {} partitions decided; the slowest got {:.0}% through its ops",
            file.display(),
            u.reason,
            u.partitions_done,
            u.partitions,
            u.progress * 100.0
        );
    }
}

fn print_txn_verdict(
    as_json: bool,
    file: &Path,
    a: &elle::Analysis,
    parse: Duration,
    check: Duration,
) {
    let ms = |d: Duration| (d.as_secs_f64() * 1e6).round() / 1e3;
    if as_json {
        let mut v = serde_json::to_value(a)
            .unwrap_or_else(|e| json!({"valid": "unknown", "error": e.to_string()}));
        if let Value::Object(m) = &mut v {
            m.insert("file".into(), json!(file));
            m.insert("parse_ms".into(), json!(ms(parse)));
            m.insert("check_ms".into(), json!(ms(check)));
        }
        println!("{v}");
        return;
    }
    let found: Vec<String> = a
        .anomalies
        .iter()
        .map(|(n, o)| format!("{n} x{}", o.count))
        .collect();
    println!(
        "{}\t{}\t{} ({}), {} txns, {}{:.1} ms",
        file.display(),
        a.valid,
        a.checker,
        a.consistency_models.join(", "),
        a.txns,
        if found.is_empty() {
            String::new()
        } else {
            format!("{}, ", found.join(" "))
        },
        ms(check)
    );
    if a.anomalies.is_empty() {
        return;
    }
    eprintln!("{}: anomalies:", file.display());
    for (name, o) in &a.anomalies {
        eprintln!("  {name} ({} found):", o.count);
        if let Some(ex) = o.examples.first() {
            for line in ex.explanation.lines() {
                eprintln!("    {line}");
            }
        }
    }
    eprintln!(
        "  not {}; may still satisfy {}",
        a.not.join(", "),
        a.may_satisfy.join(", ")
    );
    if let Some(u) = &a.unknown {
        eprintln!("  unknown: {u}");
    }
}
