//! Small SVG helpers the plots share: a linear or log scale, axes with
//! ticks, and the nemesis bands (each fault interval shaded and labelled).

use super::super::escape::html;
use super::super::facts::Fault;
use std::fmt::Write;

/// Plot geometry: the whole SVG and the inner plot area.
#[derive(Clone, Copy, Debug)]
pub struct Frame {
    /// SVG width.
    pub width: f64,
    /// SVG height.
    pub height: f64,
    /// Left margin (y axis labels).
    pub left: f64,
    /// Top margin (fault labels).
    pub top: f64,
    /// Right margin.
    pub right: f64,
    /// Bottom margin (x axis labels).
    pub bottom: f64,
}

impl Frame {
    /// The usual plot: 1100 × `height`.
    pub fn plot(height: f64) -> Frame {
        Frame {
            width: 1100.0,
            height,
            left: 64.0,
            top: 34.0,
            right: 16.0,
            bottom: 36.0,
        }
    }
    /// Inner width.
    pub fn w(&self) -> f64 {
        self.width - self.left - self.right
    }
    /// Inner height.
    pub fn h(&self) -> f64 {
        self.height - self.top - self.bottom
    }
    /// `<svg ...>` opening tag with a viewBox.
    pub fn open(&self, class: &str, label: &str) -> String {
        format!(
            "<svg class=\"{class}\" viewBox=\"0 0 {} {}\" width=\"{}\" role=\"img\" aria-label=\"{}\">",
            self.width,
            self.height,
            self.width,
            html(label)
        )
    }
}

/// Maps a value range onto pixels, linearly or logarithmically.
#[derive(Clone, Copy, Debug)]
pub struct Scale {
    lo: f64,
    hi: f64,
    px0: f64,
    px1: f64,
    log: bool,
}

impl Scale {
    /// `lo..hi` onto `px0..px1` (pixels may run backwards, for y).
    pub fn linear(lo: f64, hi: f64, px0: f64, px1: f64) -> Scale {
        let hi = if hi > lo { hi } else { lo + 1.0 };
        Scale {
            lo,
            hi,
            px0,
            px1,
            log: false,
        }
    }
    /// `lo..hi` (both > 0) onto pixels, log10.
    pub fn log(lo: f64, hi: f64, px0: f64, px1: f64) -> Scale {
        let lo = lo.max(1e-6).log10().floor();
        let hi = hi.max(1e-6).log10().ceil().max(lo + 1.0);
        Scale {
            lo,
            hi,
            px0,
            px1,
            log: true,
        }
    }
    /// The pixel for `v`.
    pub fn at(&self, v: f64) -> f64 {
        let v = if self.log { v.max(1e-6).log10() } else { v };
        let t = ((v - self.lo) / (self.hi - self.lo)).clamp(-0.01, 1.01);
        self.px0 + t * (self.px1 - self.px0)
    }
    /// Tick values: powers of ten for a log scale, round steps otherwise.
    pub fn ticks(&self) -> Vec<f64> {
        if self.log {
            return (self.lo as i32..=self.hi as i32)
                .map(|e| 10f64.powi(e))
                .collect();
        }
        let span = self.hi - self.lo;
        let raw = span / 8.0;
        let mag = 10f64.powf(raw.log10().floor());
        let step = [1.0, 2.0, 5.0, 10.0]
            .iter()
            .map(|m| m * mag)
            .find(|s| *s >= raw)
            .unwrap_or(mag * 10.0);
        let mut v = (self.lo / step).ceil() * step;
        let mut out = Vec::new();
        while v <= self.hi + step * 1e-9 && out.len() < 50 {
            out.push(v);
            v += step;
        }
        out
    }
}

/// A number as a short tick label.
pub fn tick_label(v: f64) -> String {
    if v != 0.0 && (v.abs() < 0.01 || v.abs() >= 1e5) {
        format!("{v:e}")
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Axes, grid lines and tick labels for `x` (bottom) and `y` (left).
pub fn axes(out: &mut String, f: &Frame, x: &Scale, y: &Scale, xlabel: &str, ylabel: &str) {
    let (x0, x1, y0, y1) = (f.left, f.left + f.w(), f.top, f.top + f.h());
    out.push_str("<g class=\"axes\">");
    for t in x.ticks() {
        let px = x.at(t);
        let _ = write!(
            out,
            "<line class=\"grid\" x1=\"{px:.1}\" y1=\"{y0}\" x2=\"{px:.1}\" y2=\"{y1}\"/><text x=\"{px:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            y1 + 14.0,
            tick_label(t)
        );
    }
    let yticks = if ylabel.is_empty() {
        Vec::new()
    } else {
        y.ticks()
    };
    for t in yticks {
        let py = y.at(t);
        let _ = write!(
            out,
            "<line class=\"grid\" x1=\"{x0}\" y1=\"{py:.1}\" x2=\"{x1}\" y2=\"{py:.1}\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            x0 - 4.0,
            py + 4.0,
            tick_label(t)
        );
    }
    let _ = write!(
        out,
        "<rect class=\"frame\" x=\"{x0}\" y=\"{y0}\" width=\"{:.1}\" height=\"{:.1}\"/>\
         <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\
         <text transform=\"translate(14 {:.1}) rotate(-90)\" text-anchor=\"middle\">{}</text></g>",
        f.w(),
        f.h(),
        x0 + f.w() / 2.0,
        f.height - 4.0,
        html(xlabel),
        y0 + f.h() / 2.0,
        html(ylabel)
    );
}

/// Fill colour of a fault kind's band.
pub fn fault_color(kind: &str) -> &'static str {
    match kind {
        "partition" => "#e8a33d",
        "kill" => "#d9534f",
        "power" => "#6b1f1f",
        "pause" => "#8e6bbf",
        "clock" | "clock-strobe" => "#3d9be8",
        "loss" | "delay" => "#5cb85c",
        _ => "#999999",
    }
}

/// Each fault interval as a shaded band over the plot area, labelled with
/// its kind and targets above the plot (labels staggered on three rows).
pub fn nemesis_bands(out: &mut String, f: &Frame, x: &Scale, faults: &[Fault], end_ns: i64) {
    out.push_str("<g class=\"nemesis\">");
    for (i, fault) in faults.iter().enumerate() {
        let stop = fault.stop.unwrap_or(end_ns);
        let (a, b) = (x.at(fault.start as f64 / 1e9), x.at(stop as f64 / 1e9));
        let label = format!("{} {}", fault.kind, fault.targets());
        let _ = write!(
            out,
            "<rect class=\"nemesis-band\" data-fault=\"{}\" x=\"{a:.1}\" y=\"{}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{} from {:.3} s to {:.3} s{}</title></rect>\
             <text class=\"band-label\" x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            html(&fault.kind),
            f.top,
            (b - a).max(1.0),
            f.h(),
            fault_color(&fault.kind),
            html(&label),
            fault.start as f64 / 1e9,
            stop as f64 / 1e9,
            fault
                .error
                .as_deref()
                .map_or(String::new(), |e| format!(" (error: {})", html(e))),
            a + 2.0,
            f.top - 4.0 - 10.0 * (i % 3) as f64,
            html(&super::super::escape::truncate(&label, 40)),
        );
    }
    out.push_str("</g>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_map_ends_and_ticks() {
        let s = Scale::linear(0.0, 10.0, 0.0, 100.0);
        assert_eq!(s.at(5.0), 50.0);
        assert!(s.ticks().contains(&10.0));
        let l = Scale::log(0.5, 200.0, 100.0, 0.0);
        assert_eq!(l.ticks(), vec![0.1, 1.0, 10.0, 100.0, 1000.0]);
        assert!((l.at(1.0) - 75.0).abs() < 1e-9);
        assert_eq!(tick_label(2.5), "2.5");
        assert_eq!(tick_label(1000.0), "1000");
    }
}
