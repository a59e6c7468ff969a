//! The timeline of all ops per process (Jepsen's timeline.html), paged:
//! the client ops in invocation order are cut into pages of [`PAGE`] ops,
//! and at most [`MAX_PAGES`] of them are drawn — the first, the one with
//! the failure, and others spread evenly — so that a history of a million
//! ops still gives a page of a few megabytes. The raw history has the rest.

use super::super::facts::{Done, Facts};
use super::lanes::{draw, Bar};
use faultline_checkers::History;
use std::fmt::Write;

/// Ops per page.
pub const PAGE: usize = 400;
/// Pages drawn at most.
pub const MAX_PAGES: usize = 8;

/// Which pages to draw for `pages` pages with the failure on page
/// `failure` (if any): sorted, without duplicates.
pub fn chosen(pages: usize, failure: Option<usize>) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::new();
    if pages <= MAX_PAGES {
        return (0..pages).collect();
    }
    out.extend(failure);
    out.push(0);
    let spread = MAX_PAGES - out.len();
    for i in 1..=spread {
        out.push(i * (pages - 1) / spread);
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The timeline section; `failing` is the history position of the op to
/// show first (a failure's), if any.
pub fn section(history: &History, facts: &Facts, failing: Option<usize>) -> String {
    let ops = &facts.ops;
    let pages = ops.len().div_ceil(PAGE);
    let failure_page = failing
        .and_then(|f| ops.iter().position(|d| d.invoke == f))
        .map(|i| i / PAGE);
    let mut out =
        String::from("<section id=\"timeline\"><h2>Timeline of all ops, per process</h2>");
    if pages > MAX_PAGES {
        let _ = write!(
            out,
            "<p>{} ops in {pages} pages of {PAGE}; {MAX_PAGES} pages are drawn here (the first, the failure's, and others spread through the run). Every op is in the raw history.</p>",
            ops.len()
        );
    }
    for p in chosen(pages, failure_page) {
        let page: &[Done] = &ops[p * PAGE..((p + 1) * PAGE).min(ops.len())];
        let t0 = page.iter().map(|d| d.start).min().unwrap_or(0);
        let t1 = page.iter().map(|d| d.end).max().unwrap_or(t0);
        let is_failure = Some(p) == failure_page;
        let open = is_failure || (failure_page.is_none() && p == 0);
        let bars: Vec<Bar> = page
            .iter()
            .map(|d| {
                let failing_here = Some(d.invoke) == failing;
                Bar {
                    done: d,
                    class: if failing_here { "failing-op" } else { "" },
                    badge: None,
                    id: None,
                }
            })
            .collect();
        let _ = write!(
            out,
            "<details class=\"page\"{}{}><summary>page {} of {pages}: ops {}–{} ({:.3}–{:.3} s){}</summary>",
            if open { " open" } else { "" },
            if is_failure { " id=\"timeline-failure\"" } else { "" },
            p + 1,
            p * PAGE + 1,
            p * PAGE + page.len(),
            t0 as f64 / 1e9,
            t1 as f64 / 1e9,
            if is_failure { " — the failure" } else { "" }
        );
        out.push_str(&draw(history, &bars, t0, t1, "timeline page"));
        out.push_str("</details>");
    }
    out.push_str("</section>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_include_the_first_and_the_failure() {
        assert_eq!(chosen(3, Some(1)), vec![0, 1, 2]);
        let c = chosen(2500, Some(1234));
        assert!(c.len() <= MAX_PAGES, "{c:?}");
        assert!(
            c.contains(&0) && c.contains(&1234) && c.contains(&2499),
            "{c:?}"
        );
    }
}
