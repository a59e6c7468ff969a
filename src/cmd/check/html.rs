//! `faultline check --html OUT.html FILE`: an HTML report for any history.
//!
//! Like `--witness`, [`prepare`] refuses what cannot work before any
//! checking (several files, OUT being the history itself, OUT not
//! writable) with exit 254; [`finish`] reads the history again and writes
//! the page of the one file's verdict.

use super::FileResult;
use crate::cli::CheckArgs;
use crate::exit::{self, Exit};
use crate::report::{facts::Facts, html, read_history, RunReport};
use faultline_checkers::format::{self, Format};
use serde_json::{json, Value};
use std::path::PathBuf;

/// Checks `--html` against the other arguments; `None` without the flag.
pub(super) fn prepare(args: &CheckArgs) -> Result<Option<PathBuf>, Exit> {
    let Some(path) = &args.html else {
        return Ok(None);
    };
    let shown = path.display();
    if args.files.len() != 1 {
        return Err(exit::bad_input(format!(
            "--html {shown}: a report is written for one history file, but {} were given",
            args.files.len()
        )));
    }
    if std::fs::canonicalize(path).ok() == std::fs::canonicalize(&args.files[0]).ok()
        && path.exists()
    {
        return Err(exit::bad_input(format!(
            "--html {shown}: that is the history being checked; name another file"
        )));
    }
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map_err(|e| exit::bad_input(format!("--html {shown}: cannot write: {e}")))?;
    Ok(Some(path.clone()))
}

/// Writes the report of the one file's result to `out`.
pub(super) fn finish(
    out: Option<PathBuf>,
    args: &CheckArgs,
    results: &[FileResult],
) -> Result<(), Exit> {
    let (Some(out), [file], [result]) = (out, args.files.as_slice(), results) else {
        return Ok(());
    };
    let (name, checker): (&str, Value) = match result {
        FileResult::Checked { analysis, .. } => ("linearizable", to_json(&**analysis)),
        FileResult::Txn { analysis, .. } => ("elle", to_json(&**analysis)),
        FileResult::Jepsen { name, report, .. } => {
            let mut j = report.json.clone();
            if let Value::Object(m) = &mut j {
                m.insert("explanation".into(), json!(report.lines));
            }
            (name, j)
        }
        FileResult::BadInput(_) | FileResult::Panicked(_) => {
            let _ = std::fs::remove_file(&out);
            eprintln!(
                "{}: no report written to {}: the history could not be checked",
                file.display(),
                out.display()
            );
            return Ok(());
        }
    };
    let fmt = match args.format {
        Some(f) => f,
        None => {
            let text = format::read_text(file).map_err(exit::bad_input)?;
            Format::detect(file, &text)
        }
    };
    let history = read_history(file, fmt).map_err(exit::bad_input)?;
    let results = json!({
        "valid": checker["valid"].clone(),
        "checkers": {name: checker},
        "source": {"file": file.to_string_lossy(), "checker": name},
    });
    let run = RunReport {
        results,
        history,
        dir: None,
        title: file
            .file_name()
            .map_or("history".into(), |n| n.to_string_lossy().into_owned()),
    };
    let facts = Facts::new(&run.history);
    html::write(&run, &facts, &out)
        .map_err(|e| exit::bad_input(format!("--html {}: cannot write: {e}", out.display())))?;
    eprintln!("{}: report written to {}", file.display(), out.display());
    Ok(())
}

fn to_json(v: &impl serde::Serialize) -> Value {
    serde_json::to_value(v).unwrap_or_else(|e| json!({"valid": "unknown", "error": e.to_string()}))
}
