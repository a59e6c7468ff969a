//! Jepsen's perf plots as SVG: latency of every op over time (log scale;
//! ok, fail and info distinct by colour and shape) and throughput per `f`
//! over time, both with the nemesis's fault intervals shaded and labelled.
//!
//! A big history is sampled: at most [`MAX_POINTS`] points, keeping every
//! fail and info op up to a share of them and a regular stride of ok ops,
//! and the plot says how many it shows.

use super::super::escape::html;
use super::super::facts::{Done, Facts};
use super::svg::{axes, nemesis_bands, Frame, Scale};
use faultline_checkers::{History, OpType};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Points drawn in the latency plot at most.
pub const MAX_POINTS: usize = 20_000;

/// Colours for `f`s (throughput lines), in order of first appearance.
const PALETTE: [&str; 8] = [
    "#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f",
];

/// Fail or info ops kept in full when there are at most this many of
/// them (rare outcomes matter); more are sampled like ok ops.
const RARE: usize = 2_000;

/// The ops to plot: all of them if few; else a regular stride of each
/// outcome (so the picture keeps its proportions), except that fail and
/// info ops are all kept while they are rare.
fn sample(done: &[Done]) -> (Vec<&Done>, usize) {
    let measured: Vec<&Done> = done
        .iter()
        .filter(|d| d.completion.is_some() && d.start >= 0 && d.end >= d.start)
        .collect();
    let total = measured.len();
    if total <= MAX_POINTS {
        return (measured, total);
    }
    let stride = total.div_ceil(MAX_POINTS - 2 * RARE).max(1);
    let mut out: Vec<&Done> = Vec::with_capacity(MAX_POINTS);
    for kind in [OpType::Ok, OpType::Fail, OpType::Info] {
        let of: Vec<&Done> = measured
            .iter()
            .copied()
            .filter(|d| d.outcome == kind)
            .collect();
        let step = if kind != OpType::Ok && of.len() <= RARE {
            1
        } else {
            stride
        };
        out.extend(of.into_iter().step_by(step));
    }
    (out, total)
}

/// The latency scatter plot, in a `<figure>`.
pub fn latency(facts: &Facts) -> String {
    let (points, total) = sample(&facts.ops);
    let frame = Frame::plot(360.0);
    let end_s = facts.end as f64 / 1e9;
    let x = Scale::linear(0.0, end_s.max(1e-3), frame.left, frame.left + frame.w());
    let lat = |d: &Done| ((d.end - d.start) as f64 / 1e6).max(1e-3);
    let lo = points.iter().map(|d| lat(d)).fold(f64::INFINITY, f64::min);
    let hi = points.iter().map(|d| lat(d)).fold(0.0, f64::max);
    let (lo, hi) = if points.is_empty() {
        (0.1, 10.0)
    } else {
        (lo, hi)
    };
    let y = Scale::log(lo, hi, frame.top + frame.h(), frame.top);
    let mut out = String::with_capacity(points.len() * 40 + 4096);
    out.push_str("<figure id=\"latency\"><figcaption>Latency of each op over time (log scale)");
    if points.len() < total {
        let _ = write!(
            out,
            ": {} of {} ops shown (a regular sample; fail and info ops all shown when fewer than {})",
            points.len(),
            total,
            RARE
        );
    }
    out.push_str("</figcaption>");
    out.push_str(&frame.open("plot", "latency over time"));
    nemesis_bands(&mut out, &frame, &x, &facts.faults, facts.end);
    axes(&mut out, &frame, &x, &y, "time (s)", "latency (ms)");
    for (kind, class) in [
        (OpType::Ok, "ok"),
        (OpType::Info, "info"),
        (OpType::Fail, "fail"),
    ] {
        let _ = write!(out, "<g class=\"pt-{class}\">");
        for d in points.iter().filter(|d| d.outcome == kind) {
            let (px, py) = (x.at(d.start as f64 / 1e9), y.at(lat(d)));
            match kind {
                OpType::Ok => {
                    let _ = write!(out, "<circle cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"1.8\"/>");
                }
                OpType::Fail => {
                    let _ = write!(
                        out,
                        "<path d=\"M{:.1} {:.1}l5 5m0-5l-5 5\"/>",
                        px - 2.5,
                        py - 2.5
                    );
                }
                _ => {
                    let _ = write!(out, "<path d=\"M{px:.1} {:.1}l3 5h-6z\"/>", py - 3.0);
                }
            }
        }
        out.push_str("</g>");
    }
    legend_outcomes(&mut out, &frame);
    out.push_str("</svg></figure>");
    out
}

fn legend_outcomes(out: &mut String, f: &Frame) {
    let x = f.left + f.w() - 150.0;
    let y = f.top + 12.0;
    let _ = write!(
        out,
        "<g class=\"legend\"><rect x=\"{:.0}\" y=\"{:.0}\" width=\"146\" height=\"20\" class=\"legend-bg\"/>\
         <g class=\"pt-ok\"><circle cx=\"{:.0}\" cy=\"{:.0}\" r=\"3\"/></g><text x=\"{:.0}\" y=\"{:.0}\">ok</text>\
         <g class=\"pt-fail\"><path d=\"M{:.0} {:.0}l6 6m0-6l-6 6\"/></g><text x=\"{:.0}\" y=\"{:.0}\">fail</text>\
         <g class=\"pt-info\"><path d=\"M{:.0} {:.0}l4 6h-8z\"/></g><text x=\"{:.0}\" y=\"{:.0}\">info</text></g>",
        x - 4.0, y - 12.0,
        x + 4.0, y - 2.0, x + 10.0, y + 2.0,
        x + 40.0, y - 5.0, x + 50.0, y + 2.0,
        x + 94.0, y - 6.0, x + 102.0, y + 2.0,
    );
}

/// Throughput over time per `f` (completions per second, by outcome
/// merged), in a `<figure>`.
pub fn throughput(history: &History, facts: &Facts) -> String {
    let frame = Frame::plot(300.0);
    let end_s = (facts.end as f64 / 1e9).max(1e-3);
    let buckets = 100usize;
    let width_s = end_s / buckets as f64;
    let mut by_f: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for d in facts
        .ops
        .iter()
        .filter(|d| d.completion.is_some() && d.end >= 0)
    {
        let b = ((d.end as f64 / 1e9 / width_s) as usize).min(buckets - 1);
        by_f.entry(&history[d.invoke].f)
            .or_insert_with(|| vec![0; buckets])[b] += 1;
    }
    let peak = by_f
        .values()
        .flat_map(|v| v.iter())
        .copied()
        .max()
        .unwrap_or(1) as f64
        / width_s;
    let x = Scale::linear(0.0, end_s, frame.left, frame.left + frame.w());
    let y = Scale::linear(0.0, peak.max(1.0) * 1.1, frame.top + frame.h(), frame.top);
    let mut out = String::with_capacity(16 * 1024);
    let _ = write!(
        out,
        "<figure id=\"throughput\"><figcaption>Throughput per f (completions per second, {:.3} s buckets)</figcaption>",
        width_s
    );
    out.push_str(&frame.open("plot", "throughput over time"));
    nemesis_bands(&mut out, &frame, &x, &facts.faults, facts.end);
    axes(&mut out, &frame, &x, &y, "time (s)", "ops/s");
    for (i, (f, counts)) in by_f.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let pts: Vec<String> = counts
            .iter()
            .enumerate()
            .map(|(b, c)| {
                format!(
                    "{:.1},{:.1}",
                    x.at((b as f64 + 0.5) * width_s),
                    y.at(*c as f64 / width_s)
                )
            })
            .collect();
        let _ = write!(
            out,
            "<polyline class=\"rate\" stroke=\"{color}\" points=\"{}\"><title>{}</title></polyline>\
             <rect x=\"{:.0}\" y=\"{:.0}\" width=\"10\" height=\"10\" fill=\"{color}\"/><text x=\"{:.0}\" y=\"{:.0}\">{}</text>",
            pts.join(" "),
            html(f),
            frame.left + 8.0,
            frame.top + 6.0 + 14.0 * i as f64,
            frame.left + 22.0,
            frame.top + 15.0 + 14.0 * i as f64,
            html(f),
        );
    }
    out.push_str("</svg></figure>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_histories_are_sampled_keeping_failures() {
        let done: Vec<Done> = (0..100_000)
            .map(|i| Done {
                invoke: i,
                completion: Some(i + 1),
                outcome: if i % 1000 == 0 {
                    OpType::Fail
                } else {
                    OpType::Ok
                },
                start: i as i64 * 1000,
                end: i as i64 * 1000 + 500,
            })
            .collect();
        let (pts, total) = sample(&done);
        assert_eq!(total, 100_000);
        assert!(pts.len() <= MAX_POINTS + 1, "{}", pts.len());
        assert_eq!(
            pts.iter().filter(|d| d.outcome == OpType::Fail).count(),
            100
        );
    }
}
