//! `faultline check`: read history files, run a checker on each, print one
//! verdict line (or JSON object) per file, and exit with the merged verdict.
//!
//! What a file is decides the checker: its format from `--format` or its
//! name and first bytes, its workload from the first client op parsed
//! ([`sniff`]). A file that holds no history of that kind is bad input, not
//! a valid history. Each file's check runs under `catch_unwind`: a panic is
//! that file's `unknown` verdict, as Jepsen's `check-safe` makes it.

use crate::cli::{CheckArgs, CheckerName, ModelName};
use crate::exit::{self, Exit};
use faultline_checkers::elle::{self, parsed::TxnValue};
use faultline_checkers::format::{self, Format};
use faultline_checkers::linear::{self, Analysis, Options};
use faultline_checkers::model::{CasRegister, FifoQueue, Kv, Register, Scalar, Set};
use faultline_checkers::{CheckError, Datum, History, Op, OpType, Process, ReadError, Validity};
use rayon::prelude::*;
use serde_json::{json, Value};
use std::borrow::Cow;
use std::path::Path;
use std::time::{Duration, Instant};

mod html;
mod jepsen;
mod witness;

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
    /// One of Jepsen's checkers.
    Jepsen {
        name: &'static str,
        report: Box<faultline_checkers::jepsen::Report>,
        parse: Duration,
        check: Duration,
    },
    /// The file could not be checked: the message says why and where.
    BadInput(String),
    /// The checker panicked: verdict unknown, with the panic's message
    /// (Jepsen's `check-safe`).
    Panicked(String),
}

/// Client ops the transactional checkers look at before they decide which
/// of list-append and rw-register a history is, when none says.
const SNIFF_OPS: usize = 10_000;

/// The longest time limit taken literally: a longer one would overflow the
/// checkers' deadline (`Instant + Duration`). The parser already refuses
/// anything above [`crate::cli::MAX_SECONDS`]; this guards other callers.
const NO_LIMIT: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// Runs `faultline check`.
///
/// Exit status: the worst verdict of the files that could be checked
/// (invalid 1 > unknown 2 > valid 0), where a file that could not be read
/// counts as unknown; 254 only when no file could be checked at all.
pub fn run(args: &CheckArgs) -> Result<i32, Exit> {
    let time_limit = match args.time_limit {
        None => None,
        Some(s) => Some(
            Duration::try_from_secs_f64(s)
                .map_err(|_| exit::bad_input(format!("--time-limit: {s} seconds is out of range")))?
                .min(NO_LIMIT),
        ),
    };
    let witness_to = witness::prepare(args)?;
    let html_to = html::prepare(args)?;
    restore_sigpipe();
    let threads = rayon::current_num_threads().min(args.files.len()).max(1);
    let options = Options::default()
        .with_time_limit(time_limit)
        .with_memory_limit(args.memory_limit.saturating_mul(1 << 20) / threads)
        .with_witness(witness_to.is_some());
    let results: Vec<FileResult> = {
        let _quiet = exit::quiet_panics();
        args.files
            .par_iter()
            .map(|f| guarded(|| check_file(args, f, &options)))
            .collect()
    };
    inject_panic("run");
    let code = report(args, &results);
    witness::finish(witness_to, &args.files, &results)?;
    html::finish(html_to, args, &results)?;
    Ok(code)
}

/// Prints every file's line (or JSON object) in the order given, and
/// returns the exit code (see [`run`]).
fn report(args: &CheckArgs, results: &[FileResult]) -> i32 {
    let mut verdict = Validity::Valid;
    let mut bad = 0;
    for (file, result) in args.files.iter().zip(results) {
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
            FileResult::Jepsen {
                name,
                report,
                parse,
                check,
            } => {
                verdict = verdict.merge(report.valid);
                jepsen::print(args.json, file, name, report, *parse, *check);
            }
            FileResult::Panicked(msg) => {
                verdict = verdict.merge(Validity::Unknown);
                print_panicked(args.json, file, msg);
            }
            FileResult::BadInput(msg) => {
                bad += 1;
                print_bad_input(args.json, file, msg);
            }
        }
    }
    if bad == results.len() {
        if bad > 1 {
            eprintln!("error: none of the {bad} files could be checked");
        }
        return exit::BAD_INPUT;
    }
    if bad > 0 {
        verdict = verdict.merge(Validity::Unknown);
        eprintln!(
            "error: {bad} of {} files could not be checked; they count as unknown",
            results.len()
        );
    }
    verdict.exit_code()
}

/// Runs one file's check, turning a panic into a [`FileResult::Panicked`].
fn guarded(check: impl FnOnce() -> FileResult) -> FileResult {
    // The closure's state is dropped with it; nothing it touched is reused.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(check))
        .unwrap_or_else(|payload| FileResult::Panicked(exit::caught_panic(&*payload).0))
}

/// Debug builds only: `FAULTLINE_INJECT_PANIC=WHERE` panics at that point
/// (`run`, or `file:NAME` for the file named NAME), so that tests can show
/// what a bug in a checker turns into.
fn inject_panic(place: &str) {
    if cfg!(debug_assertions) && std::env::var("FAULTLINE_INJECT_PANIC").is_ok_and(|p| p == place) {
        panic!("injected panic ({place})");
    }
}

/// `faultline check ... | head` should stop quietly when `head` exits, as
/// other Unix filters do, not panic on a failed write to stdout. `check`
/// opens no sockets, so the default SIGPIPE action is safe here.
fn restore_sigpipe() {
    // SAFETY: setting a signal's disposition to its default has no
    // preconditions; no handler code runs.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn check_file(args: &CheckArgs, path: &Path, options: &Options) -> FileResult {
    match check_file_inner(args, path, options) {
        Ok(r) => r,
        Err(msg) => FileResult::BadInput(msg),
    }
}

fn check_file_inner(
    args: &CheckArgs,
    path: &Path,
    options: &Options,
) -> Result<FileResult, String> {
    let t0 = Instant::now();
    if let Some(name) = path.file_name() {
        inject_panic(&format!("file:{}", name.to_string_lossy()));
    }
    if let Some(name) = jepsen::name(args.checker) {
        return check_jepsen_file(args, path, name, t0);
    }
    let text = format::read_text(path).map_err(|e| e.to_string())?;
    let src = Source {
        path,
        format: args.format.unwrap_or_else(|| Format::detect(path, &text)),
        guessed: args.format.is_none(),
    };
    // JSONL is read lazily (a transactional history is streamed into its
    // decoder); other formats are read whole first.
    let history = match src.format {
        Format::Jsonl => None,
        f => Some(format::read_str(f, path, &text).map_err(|e| src.read_error(e))?),
    };
    let workload = match args.checker {
        CheckerName::ListAppend => Some(elle::Workload::ListAppend),
        CheckerName::RwRegister => Some(elle::Workload::RwRegister),
        CheckerName::Linearizable => None,
        CheckerName::Auto => match &history {
            Some(h) => sniff(h.ops().iter().map(|o| Ok(Cow::Borrowed(o)))),
            None => sniff(format::jsonl::ops(path, &text).map(|r| r.map(Cow::Owned))),
        }
        .map_err(|e| src.read_error(e))?,
        // Jepsen's checkers returned above.
        _ => None,
    };
    if let Some(w) = workload {
        return check_txn_file(args, &src, options, text, history, w, t0);
    }
    let history = match history {
        Some(h) => h,
        None => reread_jsonl(path, text).map_err(|e| src.read_error(e))?,
    };
    let parse = t0.elapsed();
    let model = match args.model {
        ModelName::Auto => {
            detect_model(&history).map_err(|msg| format!("{}: {msg}", path.display()))?
        }
        m => m,
    };
    src.expect_client_ops(&history, model)?;
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
    let check = t1.elapsed();
    let result = result.map_err(|e| locate(path, &history, &e));
    dispose(history);
    result.map(|analysis| FileResult::Checked {
        analysis: Box::new(analysis),
        parse,
        check,
    })
}

/// The JSONL history at `path`, whose whole text is `text`. A regular file
/// is read again a window at a time once `text` is freed, so the text and
/// the ops are never held together (for a 10,000,000-op register, 1.8 GB
/// of text beside 2.9 GB of ops); anything else (a pipe) is parsed from
/// `text`.
fn reread_jsonl(path: &Path, text: String) -> Result<History, ReadError> {
    if std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        drop(text);
        format::jsonl::read_file_as(path)
    } else {
        format::jsonl::read(path, &text)
    }
}

/// One file checked by one of Jepsen's checkers. They read compact values
/// ([`Datum`]), straight from JSONL a window at a time, so the file's text
/// is never held whole.
fn check_jepsen_file(
    args: &CheckArgs,
    path: &Path,
    name: &'static str,
    t0: Instant,
) -> Result<FileResult, String> {
    let format = match args.format {
        Some(f) => f,
        None => format::detect_file(path).map_err(|e| e.to_string())?,
    };
    let src = Source {
        path,
        format,
        guessed: args.format.is_none(),
    };
    let history = match format {
        Format::Jsonl => format::jsonl::read_file_as(path),
        f => format::read_path(path, Some(f)).map(|h| h.map_values(Datum::of)),
    }
    .map_err(|e| src.read_error(e))?;
    let result = jepsen::check(args, &src, &history, name, t0.elapsed());
    dispose(history);
    result
}

/// Frees a history on a thread of its own: a million ops are millions of
/// allocations, whose freeing the verdict need not wait for (and the
/// process may exit before it ends).
fn dispose<T: Send + 'static>(x: T) {
    if std::thread::Builder::new()
        .name("dispose".into())
        .spawn(move || drop(x))
        .is_err()
    {
        // No thread to be had: the closure, and the history, were freed
        // here instead.
    }
}

/// Where a history came from and how it was read, for error messages.
struct Source<'a> {
    path: &'a Path,
    format: Format,
    /// The format was guessed, not given with `--format`.
    guessed: bool,
}

impl Source<'_> {
    /// "read as jsonl" or "read as jepsen-log, guessed from ...".
    fn read_as(&self) -> String {
        if self.guessed {
            format!(
                "read as {}, the format guessed from its name and content",
                self.format.name()
            )
        } else {
            format!("read as {}", self.format.name())
        }
    }

    /// A reader's error; when the file holds no history at all, says how it
    /// was read and what to pass instead.
    fn read_error(&self, e: ReadError) -> String {
        match (e.line, self.guessed) {
            (0, true) => format!(
                "{e} ({}; pass --format jsonl|edn|jepsen-log)",
                self.read_as()
            ),
            (0, false) => format!("{e} ({} as --format says)", self.read_as()),
            _ => e.to_string(),
        }
    }

    /// Refuses a history with no completed client op that the
    /// linearizable checker's `model` understands: whatever it is, it is not
    /// that history (and a history of invocations alone constrains nothing).
    fn expect_client_ops(&self, history: &History, model: ModelName) -> Result<(), String> {
        let (name, fs) = vocabulary(model);
        let client = |o: &&Op| o.process != Process::Nemesis;
        let completed = |o: &&Op| o.kind != OpType::Invoke && fs.contains(&&*o.f);
        if history.ops().iter().filter(client).any(|o| completed(&o)) {
            return Ok(());
        }
        let mut seen: Vec<String> = history
            .ops()
            .iter()
            .filter(client)
            .map(|o| format!(":{}", o.f))
            .collect();
        seen.sort_unstable();
        seen.dedup();
        let seen = match seen.len() {
            0 => String::new(),
            _ => format!("; client operations seen: {}", seen.join(", ")),
        };
        let txn = if history.ops().iter().any(|o| &*o.f == "txn") {
            "; for transactions use --checker list-append or --checker rw-register"
        } else {
            ""
        };
        Err(format!(
            "{}: not a {name} history: no completed client {} among its {} ops ({}{seen}); \
             is this a history? use --format, --checker or --model{txn}",
            self.path.display(),
            one_of(fs),
            history.len(),
            self.read_as(),
        ))
    }

    /// Refuses a transactional history with no completed `txn` op.
    fn expect_txns(
        &self,
        txns: &elle::txn::Txns,
        ops: usize,
        w: elle::Workload,
    ) -> Result<(), String> {
        if txns.txns.iter().any(|t| t.complete.is_some()) {
            return Ok(());
        }
        let mops = match w {
            elle::Workload::ListAppend => "[\"append\", k, v], [\"r\", k, [..]]",
            elle::Workload::RwRegister => "[\"w\", k, v], [\"r\", k, v]",
        };
        Err(format!(
            "{}: not a {} history: no completed client :txn (micro-ops {mops}) among its \
             {ops} ops ({}); is this a history? use --format or --checker",
            self.path.display(),
            w.name(),
            self.read_as(),
        ))
    }
}

/// `:a, :b or :c`.
fn one_of(fs: &[&str]) -> String {
    match fs {
        [] => String::new(),
        [f] => format!(":{f}"),
        [init @ .., last] => format!(
            "{} or :{last}",
            init.iter()
                .map(|f| format!(":{f}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The model's name and the operations it understands.
fn vocabulary(model: ModelName) -> (&'static str, &'static [&'static str]) {
    match model {
        ModelName::Register => ("register", &["read", "write"]),
        ModelName::CasRegister | ModelName::Auto => ("cas-register", &["read", "write", "cas"]),
        ModelName::Kv => ("kv", &["read", "write", "cas"]),
        ModelName::Set => ("set", &["add", "read"]),
        ModelName::FifoQueue => ("fifo-queue", &["enqueue", "dequeue"]),
    }
}

/// Which transactional checker a history needs, from its parsed ops: none
/// when its first client op is not a `txn`; else list-append or
/// rw-register by the first micro-op that tells them apart (an append or a
/// list read; a write or an integer read), looking at no more than
/// [`SNIFF_OPS`] client ops. Nemesis ops, however many, are skipped.
fn sniff<'a>(
    ops: impl Iterator<Item = Result<Cow<'a, Op>, ReadError>>,
) -> Result<Option<elle::Workload>, ReadError> {
    let mut txns = 0;
    for op in ops {
        let op = op?;
        if op.process == Process::Nemesis {
            continue;
        }
        if &*op.f != "txn" {
            if txns == 0 {
                return Ok(None);
            }
            continue;
        }
        txns += 1;
        if let Some(w) = workload_of(&op.value) {
            return Ok(Some(w));
        }
        if txns >= SNIFF_OPS {
            break;
        }
    }
    Ok((txns > 0).then_some(elle::Workload::RwRegister))
}

/// The workload a txn value's micro-ops belong to, if they tell.
fn workload_of(value: &Value) -> Option<elle::Workload> {
    let mops = value.as_array()?;
    mops.iter().find_map(|m| match m.as_array()?.as_slice() {
        [f, _, v] => match (f.as_str()?, v) {
            ("append", _) | ("r", Value::Array(_)) => Some(elle::Workload::ListAppend),
            ("w", _) | ("r", Value::Number(_)) => Some(elle::Workload::RwRegister),
            _ => None,
        },
        _ => None,
    })
}

/// A transactional history: JSONL is streamed into the decoder batch by
/// batch, so the whole parsed history never sits in memory; other formats
/// were parsed already, and are decoded.
fn check_txn_file(
    args: &CheckArgs,
    src: &Source<'_>,
    options: &Options,
    text: String,
    history: Option<History>,
    w: elle::Workload,
    t0: Instant,
) -> Result<FileResult, String> {
    let path = src.path;
    let register = w == elle::Workload::RwRegister;
    let (txns, ops) = match history {
        None => {
            let mut d = elle::txn::Decoder::new(register);
            let mut next = 0usize;
            format::jsonl::for_each_batch(path, &text, |ops: Vec<Op<TxnValue>>, lines| {
                for (k, op) in ops.iter().enumerate() {
                    d.push_parsed(next + k, op).map_err(|e| {
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
            })
            .map_err(|e| src.read_error(e))?;
            (d.finish(), next)
        }
        Some(history) => (
            elle::txn::decode(&history, register).map_err(|e| locate(path, &history, &e))?,
            history.len(),
        ),
    };
    drop(text);
    src.expect_txns(&txns, ops, w)?;
    let parse = t0.elapsed();
    let t1 = Instant::now();
    let opts = elle::Options::default()
        .with_models(args.consistency_models.clone())
        .with_anomalies(args.anomalies.clone())
        .with_time_limit(options.time_limit)
        .with_memory_limit(Some(options.memory_limit))
        .with_sources(elle::Sources {
            wfr_keys: !args.no_wfr_keys,
            sequential_keys: args.sequential_keys,
            linearizable_keys: args.linearizable_keys,
            unwritten_reads_initial: false,
        });
    match elle::check_txns(&txns, w, &opts) {
        Ok(a) => Ok(FileResult::Txn {
            analysis: Box::new(a),
            parse,
            check: t1.elapsed(),
        }),
        Err(e) => Err(format!("{}: {}", path.display(), e.message())),
    }
}

/// `file:line:1: message` for an error about one op.
fn locate<V: std::fmt::Display>(path: &Path, history: &History<V>, e: &CheckError) -> String {
    let index = e.index();
    let Some(op) = history.ops().get(index) else {
        return format!("{}: {}", path.display(), e.message());
    };
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
        let txn = if fs.contains(&"txn") {
            "; :txn ops are transactions: pass --checker list-append or --checker rw-register"
        } else {
            ""
        };
        Err(format!(
            "cannot tell which model fits operations {}; pass --model (register, cas-register, kv, set, fifo-queue){txn}",
            fs.iter().map(|f| format!(":{f}")).collect::<Vec<_>>().join(", ")
        ))
    }
}

/// A file that could not be checked: a line on stdout (text or JSON) so
/// that every file has one, and the error on stderr.
fn print_bad_input(as_json: bool, file: &Path, msg: &str) {
    if as_json {
        println!(
            "{}",
            json!({"file": file.to_string_lossy(), "valid": "unknown", "error": msg})
        );
    } else {
        println!("{}\terror\t{}", file.display(), first_line(msg));
    }
    eprintln!("error: {msg}");
}

/// A checker that panicked: verdict unknown, with the panic's message.
fn print_panicked(as_json: bool, file: &Path, msg: &str) {
    let why = format!("the checker panicked (a bug in faultline; please report it): {msg}");
    if as_json {
        println!(
            "{}",
            json!({"file": file.to_string_lossy(), "valid": "unknown", "unknown": {"reason": why}})
        );
    } else {
        println!("{}\tunknown\t{}", file.display(), first_line(&why));
    }
    eprintln!("{}: unknown: {why}", file.display());
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

fn print_verdict(as_json: bool, file: &Path, a: &Analysis, parse: Duration, check: Duration) {
    let ms = |d: Duration| (d.as_secs_f64() * 1e6).round() / 1e3;
    if as_json {
        let mut v = serde_json::to_value(a)
            .unwrap_or_else(|e| json!({"valid": "unknown", "error": e.to_string()}));
        if let Value::Object(m) = &mut v {
            m.insert("file".into(), json!(file.to_string_lossy()));
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
        eprintln!("{}: not linearizable", file.display());
        for line in crate::report::terminal::screenful(f.explanation.lines()) {
            eprintln!("{line}");
        }
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
            m.insert("file".into(), json!(file.to_string_lossy()));
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
    for line in crate::report::terminal::screenful(a.details()) {
        eprintln!("{}: {line}", file.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;
    use proptest::prelude::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Values in JSON text (EDN reads the same text once `null` is `nil`):
    /// mostly what histories hold, sometimes what they should not.
    fn value() -> impl Strategy<Value = String> {
        let common = prop::sample::select(vec!["null", "0", "1", "2", "3", "\"x\""]);
        let odd = prop::sample::select(vec![
            "-0",
            "-7",
            "3.5",
            "-0.0",
            "1e300",
            "true",
            "[]",
            "9223372036854775807",
            "9223372036854775808",
            "18446744073709551615",
            "18446744073709551616",
        ]);
        let leaf = prop_oneof![8 => common, 1 => odd].prop_map(String::from);
        let mop = (
            prop::sample::select(vec!["\"append\"", "\"append\"", "\"r\"", "\"w\"", "1"]),
            prop::sample::select(vec!["\"x\"", "\"y\"", "1", "null"]),
            prop_oneof![
                3 => leaf.clone(),
                1 => prop::collection::vec(0u8..4, 0..3).prop_map(|v| format!("{v:?}")),
            ],
        )
            .prop_map(|(f, k, v)| format!("[{f}, {k}, {v}]"));
        prop_oneof![
            4 => leaf.clone(),
            1 => prop::collection::vec(leaf, 0..4).prop_map(|v| format!("[{}]", v.join(", "))),
            3 => prop::collection::vec(mop, 0..4).prop_map(|v| format!("[{}]", v.join(", "))),
        ]
    }

    /// One op line in `format` (0 JSONL, 1 EDN, 2 Jepsen log).
    fn line(format: u8, p: Option<usize>, t: &str, f: &str, v: &str) -> String {
        match format {
            0 => {
                let p = p.map_or("\"nemesis\"".to_string(), |p| p.to_string());
                format!("{{\"process\": {p}, \"type\": \"{t}\", \"f\": \"{f}\", \"value\": {v}}}\n")
            }
            1 => {
                let p = p.map_or(":nemesis".to_string(), |p| p.to_string());
                let v = v.replace("null", "nil");
                format!("{{:process {p}, :type :{t}, :f :{f}, :value {v}}}\n")
            }
            _ => {
                let p = p.map_or(":nemesis".to_string(), |p| p.to_string());
                let v = v.replace("null", "nil");
                format!("INFO  jepsen.util - {p}\t:{t}\t:{f}\t{v}\n")
            }
        }
    }

    /// A txn value of list-append (or, with `register`, rw-register)
    /// micro-ops; reads carry values only when `done`.
    fn txn_value(register: bool, done: bool) -> BoxedStrategy<String> {
        let list = prop::collection::vec(0u8..4, 0..3).prop_map(|v| format!("{v:?}"));
        let read = match (done, register) {
            (false, _) => Just("null".to_string()).boxed(),
            (true, false) => list.boxed(),
            (true, true) => {
                prop_oneof![(0u8..4).prop_map(|i| i.to_string()), Just("null".into())].boxed()
            }
        };
        let write = if register { "w" } else { "append" };
        let mop = prop_oneof![
            read.prop_map(|v| ("r", v)),
            (0u8..4).prop_map(move |i| (write, i.to_string())),
        ];
        (prop::collection::vec((mop, prop::sample::select(vec!["x", "y"])), 1..4))
            .prop_map(|m| {
                let m: Vec<String> = m
                    .iter()
                    .map(|((f, v), k)| format!("[\"{f}\", \"{k}\", {v}]"))
                    .collect();
                format!("[{}]", m.join(", "))
            })
            .boxed()
    }

    /// A value shaped for `f` (on the invocation, or on the completion
    /// when `done`), or now and then any value at all.
    fn value_for(f: &'static str, done: bool, register: bool) -> BoxedStrategy<String> {
        let int = (0u8..4).prop_map(|i| i.to_string());
        let shaped = match (f, done) {
            ("read", false) | ("dequeue", false) => Just("null".to_string()).boxed(),
            ("read", true) => prop_oneof![
                int.clone(),
                prop::collection::vec(0u8..4, 0..3).prop_map(|v| format!("{v:?}")),
                Just("null".to_string()),
            ]
            .boxed(),
            ("cas", _) => (0u8..4, 0u8..4)
                .prop_map(|(a, b)| format!("[{a}, {b}]"))
                .boxed(),
            ("txn", _) => txn_value(register, done),
            _ => int.boxed(),
        };
        prop_oneof![12 => shaped, 1 => value()].boxed()
    }

    /// The operations of workload `w`: cas-register, set, queue,
    /// list-append, rw-register.
    fn workload_fs(w: u8) -> &'static [&'static str] {
        match w {
            0 => &["read", "write", "cas"],
            1 => &["add", "read"],
            2 => &["enqueue", "dequeue"],
            _ => &["txn"],
        }
    }

    /// A client op of workload `w` (now and then another op): f, its
    /// value, completion type and value, and when it completes.
    fn client_op(w: u8) -> impl Strategy<Value = (&'static str, String, &'static str, String, u8)> {
        (any::<prop::sample::Index>(), 0u8..30).prop_flat_map(move |(i, odd)| {
            let fs = workload_fs(w);
            let f = if odd == 0 {
                "start"
            } else {
                fs[i.index(fs.len())]
            };
            (
                Just(f),
                value_for(f, false, w == 4),
                prop::sample::select(vec!["ok", "ok", "ok", "fail", "info"]),
                value_for(f, true, w == 4),
                0u8..4,
            )
        })
    }

    /// A history-like text in a random format: client ops of one workload
    /// (one process each, so they pair) completed in a random order or
    /// never, nemesis ops between them, and sometimes noise spliced in.
    fn history() -> impl Strategy<Value = (u8, String)> {
        (0u8..3, 0u8..5)
            .prop_flat_map(|(format, w)| {
                (
                    Just(format),
                    prop::collection::vec(client_op(w), 0..14),
                    prop::option::weighted(0.15, any::<prop::sample::Index>()),
                    prop::sample::select(vec![
                        "\n\n",
                        "{",
                        "]",
                        "\u{0}",
                        "#_",
                        "x y z\n",
                        "99999999999999999999",
                    ]),
                )
            })
            .prop_map(|(format, ops, cut, noise)| {
                let mut text = String::new();
                let mut pending = std::collections::VecDeque::new();
                for (i, (f, v, t, out, how)) in ops.iter().enumerate() {
                    text += &line(format, Some(i), "invoke", f, v);
                    pending.push_back((i, f, t, out));
                    let done = match how {
                        0 => pending.pop_front(),
                        1 => pending.pop_back(),
                        2 => {
                            text += &line(format, None, "info", "start", "null");
                            None
                        }
                        _ => None,
                    };
                    if let Some((p, f, t, out)) = done {
                        text += &line(format, Some(p), t, f, out);
                    }
                }
                // Some ops never complete.
                for (p, f, t, out) in pending.into_iter().skip(1) {
                    text += &line(format, Some(p), t, f, out);
                }
                if let Some(i) = cut {
                    let at = i.index(text.len() + 1);
                    if text.is_char_boundary(at) {
                        text.insert_str(at, noise);
                    }
                }
                (format, text)
            })
    }

    fn args(extra: &[&str]) -> CheckArgs {
        let mut argv = vec!["faultline", "check", "--time-limit", "5"];
        argv.extend_from_slice(extra);
        argv.push("placeholder");
        match Cli::try_parse_from(argv).map(|c| c.command) {
            Ok(Command::Check(a)) => a,
            other => panic!("bad test arguments: {other:?}"),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// No input makes `check` panic, whatever the flags; and whatever
        /// it makes of the file prints without panicking.
        #[test]
        fn no_input_makes_check_panic(
            (format, text) in history(),
            odd_ext in any::<bool>(),
            checker in prop::sample::select(vec![
                "auto", "auto", "auto", "auto", "linearizable", "list-append", "rw-register",
                "set", "set-full", "counter", "bank", "long-fork", "unique-ids", "total-queue", "stats",
                "kafka", "pn-counter", "echo",
            ]),
            model in prop::sample::select(vec!["auto", "auto", "auto", "auto", "register", "cas-register", "kv", "set", "fifo-queue"]),
            force in any::<bool>(),
        ) {
            static CASE: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!("faultline-check-prop-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let ext = if odd_ext { "txt" } else { ["jsonl", "edn", "log"][format as usize] };
            let path = dir.join(format!("h{}.{ext}", CASE.fetch_add(1, Ordering::Relaxed)));
            std::fs::write(&path, &text).unwrap();
            let fmt = ["jsonl", "edn", "jepsen-log"][format as usize];
            let mut flags = vec!["--checker", checker, "--model", model];
            if force {
                flags.extend(["--format", fmt]);
            }
            let a = args(&flags);
            let options = Options::default().with_time_limit(Some(Duration::from_secs(5)));
            let result = check_file(&a, &path, &options);
            let client_ops = text.lines().any(|l| !l.contains("nemesis") && !l.contains("invoke"));
            match &result {
                FileResult::Checked { analysis, .. } => {
                    prop_assert!(client_ops, "judged {:?} with no completion: {}", analysis.valid, text);
                    print_verdict(true, &path, analysis, Duration::ZERO, Duration::ZERO);
                }
                FileResult::Txn { analysis, .. } => {
                    prop_assert!(client_ops, "judged {:?} with no completion: {}", analysis.valid, text);
                    print_txn_verdict(true, &path, analysis, Duration::ZERO, Duration::ZERO);
                }
                FileResult::Jepsen { name, report, .. } => {
                    prop_assert!(client_ops, "judged {:?} with no completion: {}", report.valid, text);
                    jepsen::print(true, &path, name, report, Duration::ZERO, Duration::ZERO);
                }
                FileResult::BadInput(msg) => prop_assert!(!msg.is_empty()),
                FileResult::Panicked(msg) => prop_assert!(false, "panicked: {}", msg),
            }
            let _ = std::fs::remove_file(&path);
            // Empty once the case's file is gone: nothing is left behind.
            let _ = std::fs::remove_dir(&dir);
        }
    }

    #[test]
    fn a_panicking_check_is_an_unknown_verdict_with_its_message() {
        let _quiet = exit::quiet_panics();
        match guarded(|| panic!("boom {}", 7)) {
            FileResult::Panicked(msg) => assert_eq!(msg, "boom 7"),
            _ => panic!("expected Panicked"),
        }
    }

    #[test]
    fn sniff_looks_past_nemesis_ops_and_reads_only_what_it_needs() {
        let nemesis = Op::new(
            0,
            Process::Nemesis,
            OpType::Info,
            "txn",
            json!([["w", 1, 1]]),
        );
        let txn = |v: Value| Op::new(0, Process::Client(0), OpType::Invoke, "txn", v);
        let read = Op::new(0, Process::Client(0), OpType::Invoke, "read", Value::Null);
        let run = |ops: Vec<Op>| sniff(ops.into_iter().map(|o| Ok(Cow::Owned(o)))).unwrap();
        assert_eq!(run(vec![nemesis.clone(), read.clone()]), None);
        assert_eq!(
            run(vec![
                nemesis.clone(),
                txn(json!([["r", "x", null]])),
                txn(json!([["append", "x", 1]]))
            ]),
            Some(elle::Workload::ListAppend)
        );
        assert_eq!(
            run(vec![txn(json!([["r", "x", 3]]))]),
            Some(elle::Workload::RwRegister)
        );
        assert_eq!(
            run(vec![txn(json!([["r", "x", null]]))]),
            Some(elle::Workload::RwRegister)
        );
        assert_eq!(run(vec![nemesis]), None);
        // A parse error stops the sniff (and is the file's error).
        let bad = vec![Err(ReadError::at("f", 3, 1, "bad"))];
        assert_eq!(sniff(bad.into_iter()).unwrap_err().line, 3);
    }
}
