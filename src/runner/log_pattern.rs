//! The log-pattern checker, beyond Jepsen: every line of the node logs
//! pulled into the run's `nodes/` directory that matches the spec's
//! `log_pattern` (a regular expression, e.g. `panic|FATAL|data corruption`)
//! makes the run invalid, reported with `file:line` and the line itself.
//!
//! Matching happens on the controller, over the pulled copies, so it works
//! for nodes that are down and points into files the store keeps. Patterns
//! use the `regex` crate's syntax (no look-around or backreferences; linear
//! time in the size of the logs).

use faultline_checkers::Validity;
use serde_json::{json, Value};
use std::path::Path;

/// Most matches listed in full (all are counted).
const MAX_LISTED: usize = 100;
/// Longest line quoted, in characters.
const MAX_LINE: usize = 400;

/// A compiled `log_pattern`.
pub struct Pattern(regex::Regex);

/// One matching line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Match {
    /// The file, relative to the run directory (`nodes/n1/db.log`).
    pub file: String,
    /// 1-based line number.
    pub line: usize,
    /// The line (cut at 400 characters).
    pub text: String,
}

impl Pattern {
    /// Compiles `p`; the error says what is wrong with it.
    pub fn new(p: &str) -> Result<Pattern, String> {
        regex::RegexBuilder::new(p)
            .size_limit(1 << 20)
            .build()
            .map(Pattern)
            .map_err(|e| {
                e.to_string()
                    .lines()
                    .last()
                    .unwrap_or("")
                    .trim()
                    .to_string()
            })
    }

    /// The matching lines of `text`, as matches in `file`.
    pub fn lines(&self, file: &str, text: &str) -> Vec<Match> {
        text.lines()
            .enumerate()
            .filter(|(_, l)| self.0.is_match(l))
            .map(|(i, l)| Match {
                file: file.to_string(),
                line: i + 1,
                text: l.chars().take(MAX_LINE).collect(),
            })
            .collect()
    }
}

/// Every file under `dir/nodes/`, sorted, as paths relative to `dir`.
fn node_logs(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(nodes) = std::fs::read_dir(dir.join("nodes")) else {
        return out;
    };
    for node in nodes.flatten() {
        let Ok(files) = std::fs::read_dir(node.path()) else {
            continue;
        };
        for f in files.flatten() {
            if f.file_type().is_ok_and(|t| t.is_file()) {
                out.push(format!(
                    "nodes/{}/{}",
                    node.file_name().to_string_lossy(),
                    f.file_name().to_string_lossy()
                ));
            }
        }
    }
    out.sort();
    out
}

/// Checks the node logs pulled into run directory `dir` against `pattern`:
/// invalid with every match, valid when none matches, unknown when no log
/// was pulled (nothing was checked). Returns the verdict, the result for
/// results.json and lines for the terminal.
pub fn check(dir: &Path, pattern: &str) -> (Validity, Value, Vec<String>) {
    let p = match Pattern::new(pattern) {
        Ok(p) => p,
        Err(e) => {
            let why = format!("log_pattern is not a regular expression: {e}");
            return (
                Validity::Unknown,
                json!({"valid": "unknown", "error": why}),
                vec![why],
            );
        }
    };
    let files = node_logs(dir);
    let mut matches = Vec::new();
    let mut unreadable = Vec::new();
    for f in &files {
        // Logs are text, mostly; bytes that are not UTF-8 are replaced.
        match std::fs::read(dir.join(f)) {
            Ok(bytes) => matches.extend(p.lines(f, &String::from_utf8_lossy(&bytes))),
            Err(e) => unreadable.push(format!("{f}: {e}")),
        }
    }
    let valid = if !matches.is_empty() {
        Validity::Invalid
    } else if files.is_empty() || !unreadable.is_empty() {
        Validity::Unknown
    } else {
        Validity::Valid
    };
    let mut lines: Vec<String> = if files.is_empty() {
        vec!["no node log was pulled: nothing was checked".into()]
    } else {
        vec![format!(
            "{} line(s) matching {pattern:?} in {} log file(s)",
            matches.len(),
            files.len()
        )]
    };
    lines.extend(unreadable.iter().map(|u| format!("not read: {u}")));
    lines.extend(
        matches
            .iter()
            .take(10)
            .map(|m| format!("{}:{}: {}", m.file, m.line, m.text)),
    );
    let json = json!({
        "valid": valid,
        "pattern": pattern,
        "files": files,
        "unreadable": unreadable,
        "match_count": matches.len(),
        "matches": &matches[..matches.len().min(MAX_LISTED)],
    });
    (valid, json, lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_lines_are_named_by_file_and_line() {
        let p = Pattern::new("panic|FATAL|data corruption").unwrap();
        let log = "starting\nFATAL: disk gone\nok\nthread 'main' panicked at src/x.rs\nfatal (lower case)\n";
        let m = p.lines("nodes/n1/db.log", log);
        assert_eq!(
            m.iter().map(|m| m.line).collect::<Vec<_>>(),
            vec![2, 4],
            "{m:?}"
        );
        assert_eq!(m[0].file, "nodes/n1/db.log");
        assert_eq!(m[0].text, "FATAL: disk gone");
        assert!(Pattern::new("(?i)fatal").unwrap().lines("f", log).len() == 2);
        assert!(Pattern::new("a(").is_err());
        let long = "panic ".repeat(200);
        assert_eq!(p.lines("f", &long)[0].text.chars().count(), MAX_LINE);
    }

    #[test]
    fn a_run_with_a_match_is_invalid_and_without_logs_unknown() {
        let dir = std::env::temp_dir().join(format!("faultline-logpat-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (v, _, lines) = check(&dir, "FATAL");
        assert_eq!(v, Validity::Unknown, "{lines:?}");
        std::fs::create_dir_all(dir.join("nodes/n1")).unwrap();
        std::fs::create_dir_all(dir.join("nodes/n2")).unwrap();
        std::fs::write(dir.join("nodes/n1/db.log"), "fine\nall good\n").unwrap();
        std::fs::write(dir.join("nodes/n2/db.log"), "fine\nFATAL: torn page\n").unwrap();
        let (v, j, lines) = check(&dir, "FATAL|panic");
        assert_eq!(v, Validity::Invalid);
        assert_eq!(j["match_count"], 1);
        assert_eq!(j["matches"][0]["file"], "nodes/n2/db.log");
        assert_eq!(j["matches"][0]["line"], 2);
        assert!(
            lines
                .iter()
                .any(|l| l == "nodes/n2/db.log:2: FATAL: torn page"),
            "{lines:?}"
        );
        let (v, _, _) = check(&dir, "data corruption");
        assert_eq!(v, Validity::Valid);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
