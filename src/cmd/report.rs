//! `faultline report RUN_DIR`: a stored run again, from its results.json
//! and history.jsonl (no nodes needed): the terminal tables, `--json` its
//! results.json, `--html` a fresh report.html and junit.xml.

use crate::cli::ReportArgs;
use crate::exit::{bad_input, Exit};
use crate::report::{self, facts::Facts, RunReport};
use faultline_checkers::Validity;
use std::io::Write;

/// Runs `faultline report`; exits with the run's verdict.
pub fn run(args: &ReportArgs) -> Result<i32, Exit> {
    let dir = &args.run_dir;
    if args.json {
        let path = dir.join("results.json");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| bad_input(format!("{}: cannot read: {e}", path.display())))?;
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            bad_input(format!(
                "{}:{}:{}: not JSON: {e}",
                path.display(),
                e.line(),
                e.column()
            ))
        })?;
        let _ = writeln!(std::io::stdout().lock(), "{}", text.trim_end());
        return Ok(code(report::verdict_of(&v["valid"])));
    }
    let run = RunReport::load(dir).map_err(bad_input)?;
    let facts = Facts::new(&run.history);
    let mut out = std::io::stdout().lock();
    if args.html {
        let page = report::write_files(&run, &facts).map_err(|e| Exit::Internal(e.into()))?;
        let _ = writeln!(out, "{}", page.display());
    } else {
        let page = dir.join("report.html");
        let shown = page.is_file().then_some(page.as_path());
        let text = report::terminal::render(&run, &facts, report::color_stdout(), shown);
        let _ = write!(out, "{text}");
    }
    Ok(code(run.verdict()))
}

fn code(verdict: &str) -> i32 {
    match verdict {
        "valid" => Validity::Valid,
        "invalid" => Validity::Invalid,
        _ => Validity::Unknown,
    }
    .exit_code()
}

/// After a run: [`after_run`], then the summary and the verdict line on
/// stdout (a closed stdout loses them, not the run: results.json has
/// them); returns the run's JUnit `<testsuite>`.
pub(super) fn print_after_run(
    dir: &std::path::Path,
    fallback: &str,
    valid: faultline_checkers::Validity,
) -> Option<String> {
    let (summary, suite) = after_run(dir, fallback);
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", summary.trim_end());
    let _ = writeln!(out, "verdict: {valid}  (store: {})", dir.display());
    suite
}

/// After a `faultline test` run: writes `report.html` and `junit.xml` into
/// the run directory and returns the terminal summary and the run's JUnit
/// `<testsuite>`. If the stored run cannot be read back, says why and
/// falls back to the runner's own text summary (`fallback`).
pub(super) fn after_run(dir: &std::path::Path, fallback: &str) -> (String, Option<String>) {
    let run = match RunReport::load(dir) {
        Ok(r) => r,
        Err(e) => {
            crate::say!("warning: no report for this run: {e}");
            return (fallback.to_string(), None);
        }
    };
    let facts = Facts::new(&run.history);
    let page = match report::write_files(&run, &facts) {
        Ok(p) => Some(p),
        Err(e) => {
            crate::say!("warning: {e}");
            None
        }
    };
    let text = report::terminal::render(&run, &facts, report::color_stdout(), page.as_deref());
    (text, Some(report::junit::testsuite(&run)))
}
