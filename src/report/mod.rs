//! Reports of a run: terminal tables, a self-contained HTML page, JUnit XML,
//! and a small web server that browses a store.
//!
//! Every report is rendered from the same input, a [`RunReport`]: a run's
//! `results.json` (or the JSON of a `faultline check`) and its history. A
//! stored run is re-read from disk ([`RunReport::load`]), so a report never
//! needs the nodes. [`facts::Facts`] derives what several renderers show
//! (op counts, latency quantiles, fault intervals) once.
//!
//! # Layout
//!
//! - [`facts`]: counts, latencies and nemesis intervals from a history.
//! - [`terminal`]: the end-of-run summary as tables (`tabled`).
//! - [`html`]: `report.html`, one file with inline CSS, SVG and a little JS.
//! - [`junit`]: `junit.xml`, one testcase per checker.
//! - [`serve`]: `faultline serve`, browsing the store over HTTP.
//! - [`escape`]: HTML/XML escaping every renderer uses.

pub mod escape;
pub mod facts;
pub mod html;
pub mod junit;
pub mod serve;
pub mod terminal;

use faultline_checkers::format::{self, Format};
use faultline_checkers::History;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// What every report is rendered from.
pub struct RunReport {
    /// `results.json`: `valid`, `checkers` (name → result), and for a
    /// `faultline test` run, `run` (spec, nodes, seed, schedule, ...).
    pub results: Value,
    /// The history the checkers looked at.
    pub history: History,
    /// The run directory, when the report is of a stored run (links to
    /// node logs and raw files are relative to it).
    pub dir: Option<PathBuf>,
    /// A name for the page title and the JUnit suite: the test's name, or
    /// the history file's.
    pub title: String,
}

/// A run directory that cannot be reported on; the message names the file.
#[derive(Debug)]
pub struct LoadError(pub String);

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LoadError {}

impl RunReport {
    /// Reads `dir/results.json` and `dir/history.jsonl`.
    pub fn load(dir: &Path) -> Result<RunReport, LoadError> {
        if !dir.is_dir() {
            return Err(LoadError(format!(
                "{}: not a run directory (expected store/TEST/TIMESTAMP)",
                dir.display()
            )));
        }
        let path = dir.join("results.json");
        let text = std::fs::read_to_string(&path).map_err(|e| {
            let hint = if dir.join("history.jsonl").is_file() {
                format!(
                    " (the run did not finish; `faultline check --html OUT.html {}` reports on its history)",
                    dir.join("history.jsonl").display()
                )
            } else {
                String::new()
            };
            LoadError(format!("{}: cannot read: {e}{hint}", path.display()))
        })?;
        let results: Value = serde_json::from_str(&text).map_err(|e| {
            LoadError(format!(
                "{}:{}:{}: not JSON: {e}",
                path.display(),
                e.line(),
                e.column()
            ))
        })?;
        if !results.is_object() || results.get("valid").is_none() {
            return Err(LoadError(format!(
                "{}: not a faultline results.json (no `valid` field)",
                path.display()
            )));
        }
        let hpath = dir.join("history.jsonl");
        let history = read_history(&hpath, Format::Jsonl)?;
        // store/TEST/TIMESTAMP (through `latest` links too) names the test.
        let real = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        let title = real
            .parent()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .or_else(|| test_name(&results))
            .unwrap_or_else(|| "run".into());
        Ok(RunReport {
            results,
            history,
            dir: Some(dir.to_path_buf()),
            title,
        })
    }

    /// The merged verdict: `valid`, `invalid` or `unknown`.
    pub fn verdict(&self) -> &'static str {
        verdict_of(&self.results["valid"])
    }

    /// Each checker's name and result, in results.json's order.
    pub fn checkers(&self) -> Vec<(&str, &Value)> {
        match self.results.get("checkers").and_then(Value::as_object) {
            Some(m) => m.iter().map(|(k, v)| (k.as_str(), v)).collect(),
            None => Vec::new(),
        }
    }

    /// `results.json`'s `run` record, if the run was a `faultline test`.
    pub fn run(&self) -> Option<&Value> {
        self.results.get("run").filter(|r| r.is_object())
    }
}

/// Reads a history file, naming it (with line and column) on error.
pub fn read_history(path: &Path, format: Format) -> Result<History, LoadError> {
    let text = format::read_text(path).map_err(|e| LoadError(e.to_string()))?;
    format::read_str(format, path, &text).map_err(|e| LoadError(e.to_string()))
}

/// The test's name from the spec recorded in `run`, if any.
fn test_name(results: &Value) -> Option<String> {
    let file = results.pointer("/run/spec/file")?.as_str()?;
    Path::new(file)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
}

/// A `valid` field (`true`, `false` or `"unknown"`) as a word.
pub fn verdict_of(v: &Value) -> &'static str {
    match v {
        Value::Bool(true) => "valid",
        Value::Bool(false) => "invalid",
        _ => "unknown",
    }
}

/// Nanoseconds as seconds with millisecond precision, for labels.
pub(crate) fn secs(ns: i64) -> String {
    format!("{:.3}", ns as f64 / 1e9)
}

/// Writes `report.html` and `junit.xml` into the run's directory; returns
/// the report's path. Errors name the file.
pub fn write_files(run: &RunReport, facts: &facts::Facts) -> Result<PathBuf, LoadError> {
    let dir = run
        .dir
        .as_deref()
        .ok_or_else(|| LoadError("no run directory to write the report into".into()))?;
    let page = dir.join("report.html");
    html::write(run, facts, &page)
        .map_err(|e| LoadError(format!("{}: cannot write: {e}", page.display())))?;
    let junit = dir.join("junit.xml");
    std::fs::write(&junit, junit::document(&[junit::testsuite(run)]))
        .map_err(|e| LoadError(format!("{}: cannot write: {e}", junit.display())))?;
    Ok(page)
}

/// Whether stdout should get colours: a terminal, and `NO_COLOR` unset.
pub fn color_stdout() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}
