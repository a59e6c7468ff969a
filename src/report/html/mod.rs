//! `report.html`: one self-contained page per run — inline CSS, inline SVG
//! and one small inline script (hover details), no external fonts,
//! scripts, images or requests; it works from a `file://` URL.
//!
//! The page: a verdict banner linking to the failure, the test's
//! configuration, per-checker verdicts, op counts and latencies, the
//! latency and throughput plots with nemesis bands ([`perf`]), a
//! linearizability failure drawn as Porcupine draws it ([`linear`]), each
//! Elle anomaly as a graph ([`elle`]), a paged timeline of all ops
//! ([`timeline`]), the text explanation, and links to the raw files.
//!
//! Every string from the history, the spec, the results or the file system
//! is escaped ([`super::escape`]). As a second line of defence the page
//! carries a Content-Security-Policy that allows only its own script (by
//! hash) and no network at all, so even a missed escape could neither run
//! a script nor load anything.

pub mod elle;
mod files;
pub mod lanes;
pub mod linear;
pub mod messages;
pub mod perf;
pub mod svg;
mod tables;
pub mod timeline;

use super::escape::html;
use super::facts::{Done, Facts};
use super::terminal::{anomalies, explanation};
use super::{verdict_of, RunReport};
use base64::Engine as _;
use faultline_checkers::{History, OpType};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fmt::Write;
use std::path::Path;

/// The page's only script: shows the details of the op under the pointer
/// (its `data-op` attribute, set as text, never as markup).
const SCRIPT: &str = "(function(){var b=document.getElementById('hover');\
function at(e){return e.target&&e.target.closest?e.target.closest('[data-op]'):null;}\
document.addEventListener('mouseover',function(e){var t=at(e);if(!t){return;}b.textContent=t.getAttribute('data-op');b.hidden=false;});\
document.addEventListener('mouseout',function(e){if(at(e)){b.hidden=true;}});})();";

const CSS: &str = r#"
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#222;background:#fafafa}
main{max-width:1140px;margin:0 auto;padding:0 16px 40px}
.banner{padding:14px 24px;color:#fff}
.banner h1{margin:0;font-size:24px}
.banner a{color:#fff}
.v-valid{background:#2e7d32}.v-invalid{background:#c62828}.v-unknown{background:#b26a00}
.chips span{display:inline-block;margin:6px 6px 0 0;padding:2px 8px;border-radius:10px;background:rgba(255,255,255,.22)}
h2{margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}
th{background:#f0f0f0}
.verdict-valid{color:#2e7d32;font-weight:bold}.verdict-invalid{color:#c62828;font-weight:bold}.verdict-unknown{color:#b26a00;font-weight:bold}
figure{margin:12px 0}figcaption{font-weight:600;margin-bottom:4px}
svg{max-width:100%;height:auto;background:#fff;border:1px solid #e4e4e4}
svg text{font-size:11px;fill:#333}
.grid{stroke:#eee}.frame{fill:none;stroke:#999}
.nemesis-band{opacity:.18}.band-label{font-size:10px;fill:#555}
.pt-ok circle{fill:#1f77b4;opacity:.7}.pt-fail path{stroke:#d62728;stroke-width:1.5;fill:none}.pt-info path{fill:#ff9f1c}
.legend-bg{fill:#fff;stroke:#ccc}
.rate{fill:none;stroke-width:1.5}
.op rect{stroke:#666;stroke-width:.5}.op.ok rect{fill:#cfe3f5}.op.fail rect{fill:#f6d0d0}.op.info rect{fill:#ffe3b3}
.op text{font-size:10px;pointer-events:none}
.op.linearized rect{stroke:#2e7d32;stroke-width:2}
.op.failing-op rect{fill:#e53935;stroke:#7f0000;stroke-width:2.5}.op.failing-op text{fill:#fff;font-weight:bold}
.badge{font-size:9px;fill:#2e7d32;font-weight:bold}
.op text.failing-label{fill:#b71c1c;font-weight:bold;font-size:11px}
.op:hover rect{stroke:#000;stroke-width:1.5}
.swatch{display:inline-block;width:12px;height:12px;vertical-align:middle}.swatch.failing{background:#e53935}
.cycle .txn circle{fill:#e3f2fd;stroke:#1565c0;stroke-width:1.5}
.cycle .edge path{fill:none;stroke:#555;stroke-width:1.5}
.edge.k-rw path{stroke:#c62828}.edge.k-wr path{stroke:#1565c0}.edge.k-ww path{stroke:#2e7d32}.edge.k-realtime path,.edge.k-process path{stroke:#777;stroke-dasharray:4 3}
.edge-kind{font-family:monospace;padding:0 4px;border-radius:3px;background:#eee}
.example{border-left:3px solid #ddd;padding-left:12px;margin:12px 0}
pre{background:#f4f4f4;padding:8px;overflow:auto;white-space:pre-wrap}
#hover{position:fixed;right:12px;bottom:12px;max-width:520px;background:#222;color:#fff;padding:8px 10px;border-radius:6px;font:12px/1.4 monospace;white-space:pre-wrap;z-index:9}
details.page{margin:6px 0}summary{cursor:pointer}
"#;

/// Renders the page.
pub fn render(run: &RunReport, facts: &Facts) -> String {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(SCRIPT.as_bytes()));
    let verdict = run.verdict();
    let mut out = String::with_capacity(1 << 20);
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-{hash}'\">\
         <meta name=\"viewport\" content=\"width=device-width\"><link rel=\"icon\" href=\"data:,\">\
         <title>{} — {} — faultline</title><style>{CSS}</style></head><body>",
        html(&run.title),
        verdict
    );
    banner(&mut out, run);
    out.push_str("<main>");
    tables::config(&mut out, run);
    tables::summary_tables(&mut out, run, facts);
    out.push_str("<h2 id=\"perf\">Latency and throughput</h2>");
    if facts.positional {
        out.push_str("<p>This history records no times: ops are placed by their position in the history (1 ms per position), and latencies are not measured.</p>");
    } else {
        out.push_str(&perf::latency(facts));
    }
    out.push_str(&perf::throughput(&run.history, facts));
    if let Some(m) = messages::section(&run.results) {
        out.push_str(&m);
    }
    let mut failing = None;
    for (name, c) in run.checkers() {
        if let Some(s) = linear::section(name, c, &run.history, facts) {
            out.push_str(&s);
            failing = failing.or(c
                .pointer("/failure/op/invoke_index")
                .and_then(Value::as_u64));
        }
        if let Some(s) = elle::section(name, c) {
            out.push_str(&s);
            failing = failing.or(first_anomaly_op(c));
        }
    }
    let why = explanation(run);
    if !why.is_empty() {
        let _ = write!(
            out,
            "<h2 id=\"explanation\">Explanation</h2><pre>{}</pre>",
            html(&why)
        );
    }
    out.push_str(&timeline::section(
        &run.history,
        facts,
        failing.map(|f| f as usize),
    ));
    files::files(&mut out, run);
    let _ = write!(
        out,
        "</main><div id=\"hover\" hidden></div><script>{SCRIPT}</script></body></html>"
    );
    out
}

/// Writes the page to `path`.
pub fn write(run: &RunReport, facts: &Facts, path: &Path) -> std::io::Result<()> {
    std::fs::write(path, render(run, facts))
}

fn first_anomaly_op(c: &Value) -> Option<u64> {
    c.get("anomalies")?
        .as_object()?
        .values()
        .find_map(|o| o.pointer("/examples/0/ops/0")?.as_u64())
}

fn banner(out: &mut String, run: &RunReport) {
    let v = run.verdict();
    let _ = write!(
        out,
        "<header class=\"banner v-{v}\" id=\"verdict\"><h1>{} — {}</h1><div class=\"chips\">",
        v.to_uppercase(),
        html(&run.title)
    );
    for (name, c) in run.checkers() {
        let found = anomalies(name, c);
        let _ = write!(
            out,
            "<span>{}: {}{}</span>",
            html(name),
            verdict_of(&c["valid"]),
            if found.is_empty() {
                String::new()
            } else {
                format!(" — {}", html(&found))
            }
        );
    }
    out.push_str("</div>");
    let links: Vec<&str> = run
        .checkers()
        .iter()
        .filter_map(|(_, c)| {
            if c.get("failure").is_some_and(Value::is_object) {
                Some("<a href=\"#failure\">the failure</a> · <a href=\"#timeline-failure\">on the timeline</a>")
            } else if c.get("anomalies").and_then(Value::as_object).is_some_and(|m| !m.is_empty()) {
                Some("<a href=\"#anomalies\">the anomalies</a> · <a href=\"#timeline-failure\">on the timeline</a>")
            } else {
                None
            }
        })
        .collect();
    if !links.is_empty() {
        let _ = write!(out, "<p>Go to {}</p>", links.join(" · "));
    }
    out.push_str("</header>");
}

/// An op's details for hover: process, f, value, outcome, result, history
/// lines, times, node and error.
pub fn op_detail(history: &History, d: &Done) -> String {
    let inv = &history[d.invoke];
    let line = |i: usize| {
        history
            .line_of(i)
            .map_or(format!("op {i}"), |l| format!("line {l}"))
    };
    let mut s = format!(
        "process {} :{} {}\n→ {}",
        inv.process,
        inv.f,
        super::escape::truncate(&inv.value.to_string(), 200),
        match d.outcome {
            OpType::Ok => "ok",
            OpType::Fail => "fail",
            _ => "info (indeterminate)",
        }
    );
    if let Some(c) = d.completion.map(|c| &history[c]) {
        if c.value != inv.value {
            let _ = write!(s, " {}", super::escape::truncate(&c.value.to_string(), 200));
        }
        if let Some(e) = &c.error {
            let _ = write!(s, "\nerror: {}", super::escape::truncate(e, 200));
        }
    }
    let _ = write!(
        s,
        "\n{} .. {}\n{:.6} s .. {:.6} s",
        line(d.invoke),
        d.completion.map_or("never completed".into(), line),
        d.start as f64 / 1e9,
        d.end as f64 / 1e9
    );
    if let Some(k) = &inv.key {
        let _ = write!(s, "\nkey {k}");
    }
    if let Some(n) = &inv.node {
        let _ = write!(s, "\nnode {n}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::terminal::tests::sample;
    use serde_json::json;

    const S: &str = "<script>alert(1)</script>";

    #[test]
    fn every_string_from_the_run_is_escaped() {
        let mut run = sample();
        run.title = S.into();
        run.results["run"] = json!({
            "spec": {"file": S, "sha256": S}, "seed": 1, "nodes": [{"name": S, "addr": S}],
            "faultline": {"version": S, "commit": S}, "started": S, "finished": S, "replay": S,
            "overrides": {"concurrency": S},
        });
        run.results["checkers"][S] = json!({"valid": "unknown", "error": S, "explanation": [S]});
        run.results["checkers"]["elle"]["anomalies"][S] = json!({"count": 1, "examples": [{
            "explanation": format!("{S}\n  T1 (process 0, op 0: {S})\n  T2 (process 1, op 2: [r x []])\n  T1 < T2 ({S}) because {S}\n  T2 < T1 (rw) because {S}\n"),
            "ops": [0]}]});
        let facts = Facts::new(&run.history);
        let page = render(&run, &facts);
        assert_eq!(
            page.matches("<script").count(),
            1,
            "only the page's own script"
        );
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        // The history's value (a read of the markup) and the banner.
        assert!(page.contains("<h1>INVALID — &lt;script&gt;"), "banner");
        assert!(
            page.contains("class=\"nemesis-band\" data-fault=\"partition\""),
            "bands"
        );
        assert!(page.contains("<svg class=\"cycle\""), "Elle graph");
        // A markup edge kind cannot break out of its class attribute.
        assert!(page.contains("k-&lt;script&gt;"), "edge class escaped");
    }

    #[test]
    fn the_content_security_policy_names_the_script_by_hash() {
        let run = sample();
        let page = render(&run, &Facts::new(&run.history));
        let hash =
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(SCRIPT.as_bytes()));
        assert!(page.contains(&format!("script-src 'sha256-{hash}'")));
        assert!(page.contains("default-src 'none'"));
        assert!(page.contains(&format!("<script>{SCRIPT}</script>")));
        assert!(
            !page.contains("http://") && !page.contains("https://"),
            "no external resource"
        );
    }
}
