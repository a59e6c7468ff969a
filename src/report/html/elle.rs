//! Each transactional anomaly example (Elle) as a small graph: its
//! transactions as nodes, its dependency edges (ww, wr, rw, process,
//! realtime) as labelled arrows, and the one-sentence reason for each edge
//! beneath it.
//!
//! The graph comes from the example's `txns` and `steps` (Elle's cycle
//! steps, which the checkers crate records with every cycle). Results
//! written before those fields existed are read back from the
//! explanation, whose lines have a fixed shape (`elle::cycles`):
//! `T12 (process 3, op 17: [append 1 3] ...)` for a transaction and
//! `T12 < T14 (rw) because ...` for an edge. An example without either
//! (G1a, internal, ...) is shown as its text.

use super::super::escape::html;
use serde_json::Value;
use std::fmt::Write;

/// Examples drawn per anomaly type.
const EXAMPLES: usize = 3;

/// One parsed edge.
#[derive(Debug, PartialEq)]
pub struct Edge {
    /// From transaction id.
    pub from: u64,
    /// To transaction id.
    pub to: u64,
    /// `ww`, `wr`, `rw`, `process`, `realtime`.
    pub kind: String,
    /// Why the edge exists.
    pub why: String,
}

/// A cycle's transactions (id, description) and edges.
pub type Cycle = (Vec<(u64, String)>, Vec<Edge>);

/// Transactions (id, description) and edges read from an explanation.
pub fn parse(explanation: &str) -> Cycle {
    let mut txns = Vec::new();
    let mut edges = Vec::new();
    for line in explanation.lines().map(str::trim) {
        if let Some(e) = parse_edge(line) {
            edges.push(e);
        } else if let Some(id) = txn_id(line).filter(|(_, rest)| rest.starts_with(" (")) {
            if !txns.iter().any(|(t, _)| *t == id.0) {
                txns.push((id.0, line.to_string()));
            }
        }
    }
    (txns, edges)
}

/// `T12...` → (12, the rest).
fn txn_id(s: &str) -> Option<(u64, &str)> {
    let rest = s.strip_prefix('T')?;
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    Some((rest[..end].parse().ok()?, &rest[end..]))
}

/// `T1 < T2 (ww) because WHY`.
fn parse_edge(line: &str) -> Option<Edge> {
    let (from, rest) = txn_id(line)?;
    let (to, rest) = txn_id(rest.strip_prefix(" < ")?)?;
    let rest = rest.strip_prefix(" (")?;
    let (kind, why) = rest.split_once(") because ")?;
    Some(Edge {
        from,
        to,
        kind: kind.to_string(),
        why: why.to_string(),
    })
}

/// The anomalies section for an Elle checker's result `c`, or `None`
/// without anomalies.
pub fn section(name: &str, c: &Value) -> Option<String> {
    let anomalies = c.get("anomalies")?.as_object().filter(|m| !m.is_empty())?;
    let mut out = String::new();
    let _ = write!(
        out,
        "<section id=\"anomalies\" class=\"anomalies\"><h2>{}: anomalies</h2>",
        html(name)
    );
    for (kind, o) in anomalies {
        let _ = write!(
            out,
            "<h3 class=\"anomaly\">{} <small>({} found)</small></h3>",
            html(kind),
            o["count"]
        );
        let examples = o["examples"].as_array().cloned().unwrap_or_default();
        for ex in examples.iter().take(EXAMPLES) {
            out.push_str(&example(ex));
        }
    }
    out.push_str("</section>");
    Some(out)
}

/// A cycle's transactions and edges as the example records them
/// (`txns`, `steps`), if it does.
fn structured(ex: &Value) -> Option<Cycle> {
    let txns: Vec<(u64, String)> = ex
        .get("txns")?
        .as_array()?
        .iter()
        .map(|t| Some((t["id"].as_u64()?, t["text"].as_str()?.to_string())))
        .collect::<Option<_>>()?;
    let edges: Vec<Edge> = ex
        .get("steps")?
        .as_array()?
        .iter()
        .map(|s| {
            Some(Edge {
                from: s["from"].as_u64()?,
                to: s["to"].as_u64()?,
                kind: s["type"].as_str()?.to_string(),
                why: s["why"].as_str()?.to_string(),
            })
        })
        .collect::<Option<_>>()?;
    Some((txns, edges))
}

/// One example: its graph and edge list, or its text.
fn example(ex: &Value) -> String {
    let text = ex["explanation"].as_str().unwrap_or("");
    let (txns, edges) = structured(ex).unwrap_or_else(|| parse(text));
    let mut out = String::from("<div class=\"example\">");
    let header = text.lines().next().unwrap_or("");
    let _ = write!(out, "<p>{}</p>", html(header));
    if edges.is_empty() || txns.is_empty() {
        let _ = write!(out, "<pre>{}</pre></div>", html(text));
        return out;
    }
    out.push_str(&graph(&txns, &edges));
    out.push_str("<ul class=\"edges\">");
    for e in &edges {
        let _ = write!(
            out,
            "<li><b>T{} → T{}</b> <span class=\"edge-kind k-{}\">{}</span> because {}</li>",
            e.from,
            e.to,
            html(&e.kind),
            html(&e.kind),
            html(&e.why)
        );
    }
    out.push_str("</ul><ul class=\"txns\">");
    for (_, d) in &txns {
        let _ = write!(out, "<li><code>{}</code></li>", html(d));
    }
    out.push_str("</ul></div>");
    out
}

/// Nodes on a circle, edges as curved labelled arrows.
fn graph(txns: &[(u64, String)], edges: &[Edge]) -> String {
    let n = txns.len();
    let (w, h): (f64, f64) = (520.0, if n <= 2 { 200.0 } else { 320.0 });
    let (cx, cy) = (w / 2.0, h / 2.0);
    let r = if n <= 2 {
        150.0
    } else {
        (h / 2.0 - 40.0).min(60.0 + 14.0 * n as f64)
    };
    let pos = |i: usize| -> (f64, f64) {
        if n <= 2 {
            (cx - r + 2.0 * r * i as f64, cy)
        } else {
            let a = std::f64::consts::TAU * i as f64 / n as f64 - std::f64::consts::FRAC_PI_2;
            (cx + r * a.cos(), cy + r * a.sin())
        }
    };
    let index = |t: u64| txns.iter().position(|(id, _)| *id == t);
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg class=\"cycle\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" role=\"img\" aria-label=\"dependency cycle\">\
         <defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0 0L10 5L0 10z\"/></marker></defs>"
    );
    for e in edges {
        let (Some(a), Some(b)) = (index(e.from), index(e.to)) else {
            continue;
        };
        let ((x1, y1), (x2, y2)) = (pos(a), pos(b));
        let (dx, dy) = (x2 - x1, y2 - y1);
        let len = (dx * dx + dy * dy).sqrt().max(1.0);
        let (ux, uy) = (dx / len, dy / len);
        // Start and end on the node circles (radius 20); bend to the left
        // of the direction so that a→b and b→a do not overlap.
        let (sx, sy, ex, ey) = (
            x1 + ux * 20.0,
            y1 + uy * 20.0,
            x2 - ux * 22.0,
            y2 - uy * 22.0,
        );
        let bend = 30.0;
        let (mx, my) = ((sx + ex) / 2.0 - uy * bend, (sy + ey) / 2.0 + ux * bend);
        let _ = write!(
            out,
            "<g class=\"edge k-{k}\"><path d=\"M{sx:.1} {sy:.1}Q{mx:.1} {my:.1} {ex:.1} {ey:.1}\" marker-end=\"url(#arrow)\"><title>T{} → T{} ({k}) because {}</title></path>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{k}</text></g>",
            e.from,
            e.to,
            html(&e.why),
            (sx + ex) / 4.0 + mx / 2.0,
            (sy + ey) / 4.0 + my / 2.0 + 4.0,
            k = html(&e.kind),
        );
    }
    for (i, (id, d)) in txns.iter().enumerate() {
        let (x, y) = pos(i);
        let _ = write!(
            out,
            "<g class=\"txn\" data-op=\"{}\"><circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"20\"/><text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">T{id}</text><title>{}</title></g>",
            html(d),
            y + 4.0,
            html(d)
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_transactions_and_edges_from_an_explanation() {
        let text = "G2-item: a cycle of 2 transactions\n  T1 (process 0, op 0: [r x [1]] [append y 2])\n  T2 (process 1, op 2: [r y []] [append x 1])\n  T1 < T2 (rw) because T1 read y = [] and T2 appended 2\n  T2 < T1 (wr) because T1 read <script>\n";
        let (txns, edges) = parse(text);
        assert_eq!(txns.len(), 2);
        assert_eq!(edges.len(), 2);
        assert_eq!(
            edges[0],
            Edge {
                from: 1,
                to: 2,
                kind: "rw".into(),
                why: "T1 read y = [] and T2 appended 2".into()
            }
        );
        let html = example(&serde_json::json!({ "explanation": text }));
        assert!(html.contains("<svg class=\"cycle\""), "{html}");
        assert!(
            html.contains("&lt;script&gt;") && !html.contains("<script>"),
            "{html}"
        );
    }

    #[test]
    fn a_cycle_is_drawn_from_its_steps_when_it_has_them() {
        // What the checker writes: the steps agree with the text, and win
        // where the text would not parse.
        let ex = serde_json::json!({
            "explanation": "G0-item: a cycle of 2 transactions\nno edge lines here\n",
            "txns": [{"id": 3, "text": "T3 (process 0, op 4: [append x 1])"},
                     {"id": 9, "text": "T9 (process 1, op 6: [append x 2])"}],
            "steps": [{"from": 3, "to": 9, "type": "ww", "why": "T3 appended 1 before <b>"},
                      {"from": 9, "to": 3, "type": "ww", "why": "and back"}],
        });
        let html = example(&ex);
        assert!(html.contains("<svg class=\"cycle\""), "{html}");
        assert!(html.contains("<b>T3 → T9</b>"), "{html}");
        assert!(html.contains("appended 1 before &lt;b&gt;"), "{html}");
        // A malformed step falls back to the text (here: no graph).
        let mut bad = ex.clone();
        bad["steps"][1]["to"] = serde_json::json!("x");
        assert!(!example(&bad).contains("<svg"));
    }

    #[test]
    fn the_checker_records_the_steps_it_explains() {
        use faultline_checkers::elle;
        use faultline_checkers::format::{self, Format};
        // Write skew: each txn reads the other's key empty and appends to
        // its own.
        let text = r#"{"process":0,"type":"invoke","f":"txn","value":[["r","y",null],["append","x",1]]}
{"process":1,"type":"invoke","f":"txn","value":[["r","x",null],["append","y",1]]}
{"process":0,"type":"ok","f":"txn","value":[["r","y",[]],["append","x",1]]}
{"process":1,"type":"ok","f":"txn","value":[["r","x",[]],["append","y",1]]}
{"process":2,"type":"invoke","f":"txn","value":[["r","x",null],["r","y",null]]}
{"process":2,"type":"ok","f":"txn","value":[["r","x",[1]],["r","y",[1]]]}
"#;
        let h = format::read_str(Format::Jsonl, std::path::Path::new("w.jsonl"), text).unwrap();
        let r = elle::check(&h, elle::Workload::ListAppend, &Default::default()).unwrap();
        let v = serde_json::to_value(&r).unwrap();
        let ex = &v["anomalies"]["G2-item"]["examples"][0];
        let (txns, edges) = structured(ex).expect("steps recorded");
        let (parsed_txns, parsed_edges) = parse(ex["explanation"].as_str().unwrap());
        assert_eq!((txns, edges), (parsed_txns, parsed_edges));
    }
}
