//! The page's links to the run's raw files and the nodes' logs.

use super::super::escape::{href, html};
use super::super::RunReport;
use std::fmt::Write;
use std::path::Path;

/// Links to the run's raw files and the nodes' logs (relative, so they
/// work from file:// and through `faultline serve`).
pub(super) fn files(out: &mut String, run: &RunReport) {
    let Some(dir) = &run.dir else {
        return;
    };
    let mut found: Vec<String> = [
        "history.jsonl",
        "results.json",
        "test.yaml",
        "faultline.log",
        "witness.json",
        "junit.xml",
    ]
    .iter()
    .filter(|f| dir.join(f).is_file())
    .map(|f| f.to_string())
    .collect();
    let mut logs = Vec::new();
    walk(dir, Path::new("nodes"), &mut logs, 0);
    logs.sort();
    found.extend(logs);
    out.push_str("<h2 id=\"files\">Files</h2><ul class=\"files\">");
    for f in &found {
        let _ = write!(
            out,
            "<li><a href=\"{}\">{}</a></li>",
            html(&href(f)),
            html(f)
        );
    }
    out.push_str("</ul>");
}

/// Regular files under `dir/rel`, as relative paths (at most 500, depth 4,
/// no symlinks followed).
fn walk(dir: &Path, rel: &Path, out: &mut Vec<String>, depth: usize) {
    let Ok(entries) = std::fs::read_dir(dir.join(rel)) else {
        return;
    };
    for e in entries.flatten() {
        if out.len() >= 500 {
            return;
        }
        let Ok(ft) = e.file_type() else { continue };
        let r = rel.join(e.file_name());
        if ft.is_file() {
            out.push(r.to_string_lossy().into_owned());
        } else if ft.is_dir() && depth < 4 {
            walk(dir, &r, out, depth + 1);
        }
    }
}
