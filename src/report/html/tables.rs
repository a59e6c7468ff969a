//! The page's tables: the test's configuration (a `faultline test` run's
//! record, or the checked file's source), each checker's verdict and
//! findings, op counts and latency quantiles per `f`, and each fault.

use super::super::escape::html;
use super::super::facts::Facts;
use super::super::terminal::anomalies;
use super::super::{verdict_of, RunReport};
use serde_json::Value;
use std::fmt::Write;

/// Rows of the configuration table: a `faultline test` run's record, or
/// the `source` of a checked history file.
fn config_rows(run: &RunReport) -> Vec<(&'static str, String)> {
    let s = |v: &Value| v.as_str().map_or_else(|| v.to_string(), String::from);
    let mut rows = vec![("test", run.title.clone())];
    if let Some(r) = run.run() {
        let nodes: Vec<String> = r["nodes"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|n| format!("{} ({})", s(&n["name"]), s(&n["addr"])))
                    .collect()
            })
            .unwrap_or_default();
        let version = match r.pointer("/faultline/commit").and_then(Value::as_str) {
            Some(c) => format!("{} ({c})", s(&r["faultline"]["version"])),
            None => s(&r["faultline"]["version"]),
        };
        rows.extend([
            ("spec", s(&r["spec"]["file"])),
            ("spec sha256", s(&r["spec"]["sha256"])),
            ("nodes", nodes.join(", ")),
            ("seed", s(&r["seed"])),
            ("faultline", version),
            ("started", s(&r["started"])),
            ("finished", s(&r["finished"])),
            ("replay", s(&r["replay"])),
        ]);
        if let Some(o) = r.get("overrides").and_then(Value::as_object) {
            let given: Vec<String> = o
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| format!("{k}={}", super::super::escape::truncate(&s(v), 80)))
                .collect();
            if !given.is_empty() {
                rows.push(("overrides", given.join(", ")));
            }
        }
    } else if let Some(src) = run.results.get("source").and_then(Value::as_object) {
        for (k, v) in src {
            let key: &'static str = match k.as_str() {
                "file" => "history file",
                "checker" => "checker",
                "model" => "model",
                "format" => "format",
                _ => continue,
            };
            rows.push((key, s(v)));
        }
    }
    rows.push(("ops in the history", run.history.len().to_string()));
    rows
}

pub(super) fn config(out: &mut String, run: &RunReport) {
    out.push_str("<h2 id=\"config\">Configuration</h2><table class=\"config\">");
    for (k, v) in config_rows(run) {
        let _ = write!(out, "<tr><th>{k}</th><td>{}</td></tr>", html(&v));
    }
    out.push_str("</table>");
}

pub(super) fn summary_tables(out: &mut String, run: &RunReport, facts: &Facts) {
    out.push_str("<h2 id=\"checkers\">Checkers</h2><table><tr><th>checker</th><th>verdict</th><th>found</th></tr>");
    for (name, c) in run.checkers() {
        let v = verdict_of(&c["valid"]);
        let _ = write!(
            out,
            "<tr><td>{}</td><td class=\"verdict-{v}\">{v}</td><td>{}</td></tr>",
            html(name),
            html(&anomalies(name, c))
        );
    }
    out.push_str("</table><h2 id=\"ops\">Operations</h2><table><tr><th>f</th><th>ok</th><th>fail</th><th>info</th></tr>");
    for (f, c) in &facts.counts {
        let _ = write!(
            out,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            html(f),
            c[0],
            c[1],
            c[2]
        );
    }
    out.push_str("</table>");
    if !facts.latency.is_empty() {
        out.push_str("<table><tr><th>f</th><th>count</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>max ms</th></tr>");
        for (f, q) in &facts.latency {
            let _ = write!(
                out,
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{:.2}</td><td class=\"n\">{:.2}</td><td class=\"n\">{:.2}</td><td class=\"n\">{:.2}</td></tr>",
                html(f), q.count, q.p50, q.p95, q.p99, q.max
            );
        }
        out.push_str("</table>");
    }
    if !facts.faults.is_empty() {
        out.push_str("<h2 id=\"faults\">Faults</h2><table><tr><th>fault</th><th>targets</th><th>start s</th><th>duration s</th><th>error</th></tr>");
        for f in &facts.faults {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td class=\"n\">{:.3}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                html(&f.kind),
                html(&f.targets()),
                f.start as f64 / 1e9,
                f.stop.map_or("until the end".into(), |s| format!("{:.3}", (s - f.start) as f64 / 1e9)),
                html(f.error.as_deref().unwrap_or(""))
            );
        }
        out.push_str("</table>");
    }
    if let Some(e) = &facts.pairing_error {
        let _ = write!(
            out,
            "<p>Latencies and timelines are missing: {}</p>",
            html(e)
        );
    }
}
