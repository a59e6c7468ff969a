//! The terminal summary of a run, as tables (`tabled`): the verdict first
//! (coloured only on a terminal), each checker's verdict and anomaly
//! counts, ops by `f` and outcome, latency quantiles per `f`, each fault
//! with its targets and duration, and where the HTML report is; then the
//! text explanation of whatever is invalid or undecided.

use super::facts::Facts;
use super::{secs, verdict_of, RunReport};
use serde_json::Value;
use std::fmt::Write;
use std::path::Path;
use tabled::builder::Builder;
use tabled::settings::object::{Columns, Rows};
use tabled::settings::{Alignment, Style};

/// Renders the summary. `color` adds ANSI colours to the verdict (callers
/// pass whether stdout is a terminal); `html` is the report's path, if one
/// was written.
pub fn render(run: &RunReport, facts: &Facts, color: bool, html: Option<&Path>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", verdict_line(run, color));
    if let Some(line) = config_line(run) {
        let _ = writeln!(out, "{line}");
    }
    section(&mut out, "checkers", checkers_table(run));
    section(&mut out, "operations", ops_table(facts));
    if let Some(t) = latency_table(facts) {
        section(&mut out, "latency (ms)", t);
    }
    if let Some(t) = faults_table(facts) {
        section(&mut out, "faults", t);
    }
    let why = explanation(run);
    if !why.is_empty() {
        let _ = write!(out, "\n{why}");
    }
    if let Some(p) = html {
        let _ = writeln!(out, "\nreport: {}", p.display());
    }
    out
}

fn section(out: &mut String, title: &str, table: String) {
    let _ = write!(out, "\n{title}\n{table}\n");
}

/// `verdict: INVALID (test register-stale, 1 of 3 checkers invalid)`.
fn verdict_line(run: &RunReport, color: bool) -> String {
    let v = run.verdict();
    let word = v.to_uppercase();
    let painted = match (color, v) {
        (false, _) => word,
        (true, "valid") => format!("\x1b[1;32m{word}\x1b[0m"),
        (true, "invalid") => format!("\x1b[1;31m{word}\x1b[0m"),
        (true, _) => format!("\x1b[1;33m{word}\x1b[0m"),
    };
    let checkers = run.checkers();
    let bad = checkers
        .iter()
        .filter(|(_, c)| verdict_of(&c["valid"]) != "valid")
        .count();
    format!(
        "verdict: {painted}  ({}, {bad} of {} checkers not valid, {} ops)",
        run.title,
        checkers.len(),
        run.history.len()
    )
}

/// Seed, nodes and start time of a `faultline test` run.
fn config_line(run: &RunReport) -> Option<String> {
    let r = run.run()?;
    let nodes: Vec<&str> = r["nodes"]
        .as_array()
        .map(|a| a.iter().filter_map(|n| n["name"].as_str()).collect())
        .unwrap_or_default();
    Some(format!(
        "seed {}, nodes {}, started {}, faultline {}",
        r["seed"],
        if nodes.is_empty() {
            "?".into()
        } else {
            nodes.join(",")
        },
        r["started"].as_str().unwrap_or("?"),
        r.pointer("/faultline/version")
            .and_then(Value::as_str)
            .unwrap_or("?")
    ))
}

fn table(builder: Builder, numeric_from: usize) -> String {
    let mut t = builder.build();
    t.with(Style::rounded());
    t.modify(Columns::new(numeric_from..), Alignment::right());
    t.modify(Rows::first(), Alignment::left());
    t.to_string()
}

fn checkers_table(run: &RunReport) -> String {
    let mut b = Builder::default();
    b.push_record(["checker", "verdict", "found"]);
    for (name, c) in run.checkers() {
        b.push_record([
            name.to_string(),
            verdict_of(&c["valid"]).to_string(),
            anomalies(name, c),
        ]);
    }
    table(b, 3)
}

/// A checker's anomaly counts in a few words (`G2-item ×3`, `lost ×2`).
pub fn anomalies(name: &str, c: &Value) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(m) = c.get("anomalies").and_then(Value::as_object) {
        for (k, o) in m {
            parts.push(format!("{k} ×{}", o["count"]));
        }
    }
    if let Some(f) = c.get("failure").filter(|f| f.is_object()) {
        let key = f
            .get("key")
            .map_or(String::new(), |k| format!(" (key {k})"));
        parts.push(format!("1 op cannot be linearized{key}"));
    }
    if let Some(m) = c.as_object() {
        for (k, v) in m {
            let Some(kind) = k.strip_suffix("_count") else {
                continue;
            };
            let counted = !matches!(
                kind,
                "ok" | "attempt" | "acknowledged" | "read" | "stable" | "recovered"
            );
            if counted && v.as_u64().is_some_and(|n| n > 0) {
                parts.push(format!("{kind} ×{v}"));
            }
        }
    }
    for key in ["error", "unknown"] {
        if let Some(e) = c.get(key).and_then(Value::as_str) {
            parts.push(super::escape::truncate(e, 60));
        }
    }
    if let Some(r) = c.pointer("/unknown/reason").and_then(Value::as_str) {
        parts.push(super::escape::truncate(r, 60));
    }
    if parts.is_empty() && name == "perf" {
        return "latencies below".into();
    }
    parts.join(", ")
}

fn ops_table(facts: &Facts) -> String {
    let mut b = Builder::default();
    b.push_record(["f", "ok", "fail", "info", "total"]);
    let mut total = [0u64; 3];
    for (f, c) in &facts.counts {
        for i in 0..3 {
            total[i] += c[i];
        }
        b.push_record([
            f.clone(),
            c[0].to_string(),
            c[1].to_string(),
            c[2].to_string(),
            (c[0] + c[1] + c[2]).to_string(),
        ]);
    }
    if facts.counts.len() > 1 {
        b.push_record([
            "all".to_string(),
            total[0].to_string(),
            total[1].to_string(),
            total[2].to_string(),
            (total[0] + total[1] + total[2]).to_string(),
        ]);
    }
    table(b, 1)
}

fn latency_table(facts: &Facts) -> Option<String> {
    if facts.latency.is_empty() {
        return None;
    }
    let mut b = Builder::default();
    b.push_record(["f", "count", "p50", "p95", "p99", "max"]);
    for (f, q) in &facts.latency {
        b.push_record([
            f.clone(),
            q.count.to_string(),
            format!("{:.2}", q.p50),
            format!("{:.2}", q.p95),
            format!("{:.2}", q.p99),
            format!("{:.2}", q.max),
        ]);
    }
    Some(table(b, 1))
}

fn faults_table(facts: &Facts) -> Option<String> {
    if facts.faults.is_empty() {
        return None;
    }
    let mut b = Builder::default();
    b.push_record(["fault", "targets", "start (s)", "duration (s)", "error"]);
    for f in &facts.faults {
        b.push_record([
            f.kind.clone(),
            f.targets(),
            secs(f.start),
            f.stop
                .map_or("until the end".into(), |s| secs(s.saturating_sub(f.start))),
            f.error
                .as_deref()
                .map_or(String::new(), |e| super::escape::truncate(e, 60)),
        ]);
    }
    Some(table(b, 2))
}

/// Each checker's verdict line and what it rests on, as text (the runner's
/// summary since before the tables): a linearizability failure's
/// explanation, Elle's anomalies with their first example and the models
/// ruled out, Jepsen checkers' explanations, and every checker's error.
/// `stats` and `perf` are the tables above, and say nothing more here
/// unless undecided.
pub fn explanation(run: &RunReport) -> String {
    let mut all = String::new();
    for (name, c) in run.checkers() {
        let mut out = String::new();
        one_explanation(&mut out, run, name, c);
        for line in screenful(out.lines()) {
            let _ = writeln!(all, "{line}");
        }
    }
    all
}

/// Most lines one checker's explanation takes in the terminal: about a
/// screenful. results.json and `--json` keep everything.
pub const SCREEN_LINES: usize = 40;

/// `lines` cut to [`SCREEN_LINES`], the last saying how many were left out.
pub fn screenful<S: AsRef<str>>(lines: impl IntoIterator<Item = S>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut left = 0usize;
    for l in lines {
        if out.len() < SCREEN_LINES {
            out.push(l.as_ref().to_string());
        } else {
            left += 1;
        }
    }
    if left > 0 {
        out.push(format!(
            "  … and {left} more lines (results.json / --json has all)"
        ));
    }
    out
}

/// One checker's explanation, uncut.
fn one_explanation(out: &mut String, run: &RunReport, name: &str, c: &Value) {
    let v = verdict_of(&c["valid"]);
    if let Some(e) = c.get("error").and_then(Value::as_str) {
        let _ = writeln!(out, "{name}: {v} ({e})");
        return;
    }
    match name {
        "linearizable" => linearizable_text(out, run, c, v),
        "elle" => elle_text(out, c, v),
        "stats" | "perf" if v == "valid" => {}
        _ => {
            let _ = writeln!(out, "{name}: {v}");
            let lines = c.get("explanation").and_then(Value::as_array);
            for l in lines.into_iter().flatten().filter_map(Value::as_str) {
                let _ = writeln!(out, "  {l}");
            }
        }
    }
}

fn linearizable_text(out: &mut String, run: &RunReport, c: &Value, v: &str) {
    let _ = writeln!(
        out,
        "linearizable: {v} ({} model, {} ops in {} independent histories)",
        c["model"].as_str().unwrap_or("?"),
        c["ops"],
        c["partitions"]
    );
    if run
        .dir
        .as_ref()
        .is_some_and(|d| d.join("witness.json").is_file())
    {
        let _ = writeln!(out, "  the order found is in witness.json");
    }
    if let Some(text) = c.pointer("/failure/explanation").and_then(Value::as_str) {
        for l in text.lines() {
            let _ = writeln!(out, "  {l}");
        }
    }
    if let Some(r) = c.pointer("/unknown/reason").and_then(Value::as_str) {
        let _ = writeln!(out, "  could not decide: {r}");
    }
}

/// Elle's verdict line and `Analysis::details`, from its JSON.
fn elle_text(out: &mut String, c: &Value, v: &str) {
    let words = |k: &str| -> Vec<String> {
        c[k].as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    };
    let models = words("consistency_models").join(", ");
    let _ = writeln!(out, "elle ({models}): {v} ({} txns)", c["txns"]);
    if let Some(u) = c.get("unknown").and_then(Value::as_str) {
        let _ = writeln!(out, "  unknown: {u}");
    }
    for (k, o) in c["anomalies"].as_object().into_iter().flatten() {
        let _ = writeln!(out, "  {k} ({} found):", o["count"]);
        let first = o.pointer("/examples/0/explanation").and_then(Value::as_str);
        for l in first.unwrap_or("").lines() {
            let _ = writeln!(out, "      {l}");
        }
    }
    if let Some(m) = c["allowed"].as_object().filter(|m| !m.is_empty()) {
        let allowed: Vec<String> = m.iter().map(|(n, c)| format!("{n} x{c}")).collect();
        let _ = writeln!(
            out,
            "  also found, allowed by {models}: {}",
            allowed.join(", ")
        );
    }
    let not = words("not");
    if !not.is_empty() {
        let also = words("also_not");
        let _ = writeln!(
            out,
            "  not {} (nor {}); may still satisfy {}",
            not.join(", "),
            if also.is_empty() {
                "anything stronger".to_string()
            } else {
                also.join(", ")
            },
            words("may_satisfy").join(", ")
        );
    }
    for i in words("incomplete") {
        let _ = writeln!(out, "  search stopped short: {i}");
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use faultline_checkers::{History, Op, OpType, Process};
    use serde_json::json;

    pub(crate) fn sample() -> RunReport {
        let mut ops = Vec::new();
        let mut push = |t: i64, p, k, f: &str, v: Value| {
            let mut o = Op::new(0, p, k, f, v);
            o.time = t;
            ops.push(o);
        };
        push(0, Process::Client(0), OpType::Invoke, "write", json!(1));
        push(1_000_000, Process::Client(0), OpType::Ok, "write", json!(1));
        push(
            2_000_000,
            Process::Nemesis,
            OpType::Info,
            "start-partition",
            json!({"n1": ["n2"]}),
        );
        push(
            3_000_000,
            Process::Client(1),
            OpType::Invoke,
            "read",
            json!("<script>alert(1)</script>"),
        );
        push(
            5_000_000,
            Process::Client(1),
            OpType::Fail,
            "read",
            Value::Null,
        );
        push(
            9_000_000,
            Process::Nemesis,
            OpType::Info,
            "stop-partition",
            json!({"n1": ["n2"]}),
        );
        RunReport {
            results: json!({
                "valid": false,
                "checkers": {
                    "elle": {"valid": false, "anomalies": {"G2-item": {"count": 3, "examples": [
                        {"explanation": "G2-item: a cycle of 2 transactions\n  T1 (process 0, op 0: [r x [1]])\n", "ops": [0]}]}}},
                    "stats": {"valid": true},
                }
            }),
            history: History::new(ops),
            dir: None,
            title: "demo".into(),
        }
    }

    #[test]
    fn tables_hold_verdicts_counts_latencies_and_faults() {
        let run = sample();
        let facts = Facts::new(&run.history);
        let out = render(&run, &facts, false, Some(Path::new("/tmp/r/report.html")));
        assert!(out.starts_with("verdict: INVALID"), "{out}");
        assert!(!out.contains('\x1b'), "no colour off a terminal: {out}");
        assert!(out.contains("G2-item ×3"), "{out}");
        // ops by f × type: write 1 ok, read 1 fail.
        let write = out.lines().find(|l| l.contains(" write ")).unwrap();
        assert!(write.split_whitespace().any(|c| c == "1"), "{write}");
        assert!(out.contains("partition"), "{out}");
        assert!(out.contains("n1✕n2"), "{out}");
        assert!(out.contains("0.007"), "duration 7 ms: {out}");
        // The explanation comes after the tables.
        let tables_end = out.find("faults").unwrap();
        assert!(out.find("G2-item (3 found)").unwrap() > tables_end, "{out}");
        assert!(out.contains("elle (): invalid"), "{out}");
        assert!(out.ends_with("report: /tmp/r/report.html\n"), "{out}");
        let painted = render(&run, &facts, true, None);
        assert!(painted.contains("\x1b[1;31mINVALID\x1b[0m"), "{painted}");
    }
}
