//! `faultline check --checker set|set-full|counter|bank|long-fork|
//! unique-ids|total-queue|stats|kafka|pn-counter|echo`: Jepsen's (and
//! Maelstrom's) checkers over one history file, and how their verdicts are
//! printed.

use super::{FileResult, Source};
use crate::cli::{CheckArgs, CheckerName};
use faultline_checkers::jepsen::{self, Options, Report};
use faultline_checkers::{Datum, History, OpType, Process};
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

/// The checker's name, if `checker` is one of Jepsen's.
pub fn name(checker: CheckerName) -> Option<&'static str> {
    Some(match checker {
        CheckerName::Set => "set",
        CheckerName::SetFull => "set-full",
        CheckerName::Counter => "counter",
        CheckerName::Bank => "bank",
        CheckerName::LongFork => "long-fork",
        CheckerName::UniqueIds => "unique-ids",
        CheckerName::TotalQueue => "total-queue",
        CheckerName::Stats => "stats",
        CheckerName::Kafka => "kafka",
        CheckerName::PnCounter => "pn-counter",
        CheckerName::Echo => "echo",
        _ => return None,
    })
}

/// Runs checker `name` over a history already read.
pub fn check(
    args: &CheckArgs,
    src: &Source<'_>,
    history: &History<Datum>,
    name: &'static str,
    parse: Duration,
) -> Result<FileResult, String> {
    // Something that is no history of these ops (`stats` takes any op) is
    // bad input, not a valid history.
    let ops = jepsen::operations(name);
    let used = history.ops().iter().any(|o| {
        o.process != Process::Nemesis
            && o.kind != OpType::Invoke
            && (ops.is_empty() || ops.contains(&&*o.f))
    });
    if !used {
        let wanted = if ops.is_empty() {
            "no completed client operation".to_string()
        } else {
            format!("no completed client operation :{}", ops.join(", :"))
        };
        return Err(format!(
            "{}: not a {name} history: {wanted} among its {} ops ({}); \
             is this a history? use --format or --checker",
            src.path.display(),
            history.len(),
            src.read_as()
        ));
    }
    let mut opts = Options::default();
    opts.linearizable = args.linearizable_reads;
    opts.accounts = (!args.accounts.is_empty()).then(|| args.accounts.clone());
    opts.total = args.total;
    opts.negative_balances = args.negative_balances;
    opts.group_size = args.group_size;
    let t = Instant::now();
    let report =
        jepsen::check(name, history, &opts).map_err(|e| super::locate(src.path, history, &e))?;
    Ok(FileResult::Jepsen {
        name,
        report: Box::new(report),
        parse,
        check: t.elapsed(),
    })
}

/// Prints one file's verdict: a line on stdout (or its JSON), the
/// explanation on stderr.
pub fn print(as_json: bool, file: &Path, name: &str, r: &Report, parse: Duration, check: Duration) {
    let ms = |d: Duration| (d.as_secs_f64() * 1e6).round() / 1e3;
    if as_json {
        let mut v = r.json.clone();
        if let Value::Object(m) = &mut v {
            m.insert("file".into(), json!(file.to_string_lossy()));
            m.insert("checker".into(), json!(name));
            m.insert("parse_ms".into(), json!(ms(parse)));
            m.insert("check_ms".into(), json!(ms(check)));
        }
        println!("{v}");
        return;
    }
    println!(
        "{}\t{}\t{name}, {}, {:.1} ms",
        file.display(),
        r.valid,
        r.lines.first().map_or("", String::as_str),
        ms(check)
    );
    for line in crate::report::terminal::screenful(r.lines.iter().skip(1)) {
        eprintln!("{}: {line}", file.display());
    }
}
