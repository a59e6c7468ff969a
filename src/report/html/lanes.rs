//! Ops drawn on per-process lanes against time, as Porcupine and Jepsen's
//! timeline draw them: one row per process, one bar per op from its
//! invocation to its completion, coloured by outcome. Shared by the
//! linearizability failure view and the timeline of all ops.

use super::super::escape::{html, truncate};
use super::super::facts::Done;
use super::op_detail;
use super::svg::{Frame, Scale};
use faultline_checkers::{History, OpType, Process};
use std::collections::BTreeMap;
use std::fmt::Write;

/// One bar to draw.
pub struct Bar<'a> {
    /// The op.
    pub done: &'a Done,
    /// Extra CSS classes (`failing-op`, `linearized`).
    pub class: &'static str,
    /// A badge drawn at the bar's start (a linearization number).
    pub badge: Option<String>,
    /// An element id (the failing op's, for links).
    pub id: Option<&'static str>,
}

/// Height of one lane.
const LANE: f64 = 22.0;

/// Draws `bars` between `t0` and `t1` (ns): an SVG with one lane per
/// process, a time axis, and each bar carrying its details for hover.
pub fn draw(history: &History, bars: &[Bar], t0: i64, t1: i64, label: &str) -> String {
    let mut lanes: BTreeMap<u64, usize> = BTreeMap::new();
    for b in bars {
        if let Process::Client(p) = history[b.done.invoke].process {
            lanes.insert(p, 0);
        }
    }
    for (i, v) in lanes.values_mut().enumerate() {
        *v = i;
    }
    let mut frame = Frame::plot(0.0);
    frame.top = 10.0;
    frame.left = 90.0;
    frame.height = frame.top + frame.bottom + LANE * lanes.len().max(1) as f64;
    let x = Scale::linear(
        t0 as f64 / 1e9,
        (t1.max(t0 + 1)) as f64 / 1e9,
        frame.left,
        frame.left + frame.w(),
    );
    let mut out = String::with_capacity(bars.len() * 180 + 2048);
    out.push_str(&frame.open("lanes", label));
    let y = Scale::linear(0.0, 1.0, 0.0, 0.0);
    super::svg::axes(&mut out, &frame, &x, &y, "time (s)", "");
    for (p, i) in &lanes {
        let _ = write!(
            out,
            "<text class=\"lane\" x=\"{:.0}\" y=\"{:.1}\" text-anchor=\"end\">process {p}</text>",
            frame.left - 6.0,
            frame.top + LANE * *i as f64 + 15.0
        );
    }
    for b in bars {
        let Process::Client(p) = history[b.done.invoke].process else {
            continue;
        };
        let lane = lanes[&p] as f64;
        let xa = x.at(b.done.start as f64 / 1e9);
        let xb = x.at(b.done.end as f64 / 1e9).max(xa + 2.0);
        let yy = frame.top + LANE * lane + 3.0;
        let outcome = match b.done.outcome {
            OpType::Ok => "ok",
            OpType::Fail => "fail",
            _ => "info",
        };
        let detail = op_detail(history, b.done);
        let _ = write!(
            out,
            "<g class=\"op {outcome} {}\"{} data-op=\"{}\"><rect x=\"{xa:.1}\" y=\"{yy:.1}\" width=\"{:.1}\" height=\"{:.0}\" rx=\"2\"/>",
            b.class,
            b.id.map_or(String::new(), |id| format!(" id=\"{id}\"")),
            html(&detail),
            xb - xa,
            LANE - 6.0
        );
        let chars = ((xb - xa - 6.0) / 6.5).floor();
        if chars >= 3.0 {
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                xa + 3.0,
                yy + 12.0,
                html(&truncate(&short(history, b.done), chars as usize))
            );
        }
        if b.class == "failing-op" && (chars as usize) < short(history, b.done).chars().count() {
            // Too short for its label inside: say what it is beside it.
            let _ = write!(
                out,
                "<text class=\"failing-label\" x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                xb + 4.0,
                yy + 12.0,
                html(&truncate(&short(history, b.done), 40))
            );
        }
        if let Some(badge) = &b.badge {
            let _ = write!(
                out,
                "<text class=\"badge\" x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                xa,
                yy - 1.0,
                html(badge)
            );
        }
        out.push_str("</g>");
    }
    out.push_str("</svg>");
    out
}

/// `:cas [1,2] → ok` in a few characters, for inside a bar.
pub fn short(history: &History, d: &Done) -> String {
    let inv = &history[d.invoke];
    let done = d.completion.map(|c| &history[c]);
    let value = |v: &serde_json::Value| truncate(&v.to_string(), 24);
    match (d.outcome, done) {
        (OpType::Ok, Some(c)) if c.value != inv.value => {
            format!("{} {} → {}", inv.f, value(&inv.value), value(&c.value))
        }
        _ => format!("{} {}", inv.f, value(&inv.value)),
    }
}
