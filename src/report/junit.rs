//! `junit.xml`: a run as JUnit XML, so CI systems show faultline runs
//! natively. One `<testsuite>` per run, one `<testcase>` per checker: an
//! invalid checker carries a `<failure>` with its explanation, an
//! undecided one an `<error>` (the check could not be completed), a
//! valid one nothing. Written by hand: a few lines of escaped XML need no
//! crate.

use super::escape::html as xml;
use super::terminal::anomalies;
use super::{verdict_of, RunReport};
use serde_json::Value;
use std::fmt::Write;

/// One run's `<testsuite>` element.
pub fn testsuite(run: &RunReport) -> String {
    let checkers = run.checkers();
    let count = |v: &str| {
        checkers
            .iter()
            .filter(|(_, c)| verdict_of(&c["valid"]) == v)
            .count()
    };
    let time = duration_s(run).unwrap_or(0.0);
    let stamp = run
        .run()
        .and_then(|r| r["started"].as_str())
        .map(|s| format!(" timestamp=\"{}\"", xml(s.trim_end_matches('Z'))))
        .unwrap_or_default();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"0\" time=\"{time:.3}\"{stamp}>",
        xml(&run.title),
        checkers.len(),
        count("invalid"),
        count("unknown"),
    );
    if let Some(dir) = &run.dir {
        let _ = writeln!(
            out,
            "    <properties><property name=\"run_dir\" value=\"{}\"/></properties>",
            xml(&dir.to_string_lossy())
        );
    }
    for (name, c) in &checkers {
        let _ = write!(
            out,
            "    <testcase classname=\"faultline.{}\" name=\"{}\">",
            xml(&run.title),
            xml(name)
        );
        match verdict_of(&c["valid"]) {
            "valid" => {}
            v => {
                let (tag, msg) = if v == "invalid" {
                    ("failure", format!("{name}: invalid"))
                } else {
                    ("error", format!("{name}: unknown (could not be decided)"))
                };
                let found = anomalies(name, c);
                let message = if found.is_empty() {
                    msg
                } else {
                    format!("{msg}: {found}")
                };
                let _ = write!(
                    out,
                    "\n      <{tag} message=\"{}\" type=\"{v}\">{}</{tag}>\n    ",
                    xml(&message),
                    xml(&checker_text(name, c))
                );
            }
        }
        out.push_str("</testcase>\n");
    }
    out.push_str("  </testsuite>\n");
    out
}

/// A whole `junit.xml` of the given suites.
pub fn document(suites: &[String]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
    for s in suites {
        out.push_str(s);
    }
    out.push_str("</testsuites>\n");
    out
}

/// One checker's explanation (what the terminal shows for it).
fn checker_text(name: &str, c: &Value) -> String {
    let mut text = String::new();
    if let Some(e) = c.get("error").and_then(Value::as_str) {
        let _ = writeln!(text, "{e}");
    }
    if let Some(t) = c.pointer("/failure/explanation").and_then(Value::as_str) {
        text.push_str(t);
    }
    if let Some(r) = c.pointer("/unknown/reason").and_then(Value::as_str) {
        let _ = writeln!(text, "could not decide: {r}");
    }
    if let Some(u) = c.get("unknown").and_then(Value::as_str) {
        let _ = writeln!(text, "unknown: {u}");
    }
    if let Some(m) = c.get("anomalies").and_then(Value::as_object) {
        for (k, o) in m {
            let _ = writeln!(text, "{k} ({} found):", o["count"]);
            if let Some(e) = o.pointer("/examples/0/explanation").and_then(Value::as_str) {
                text.push_str(e);
            }
        }
    }
    if let Some(lines) = c.get("explanation").and_then(Value::as_array) {
        for l in lines.iter().filter_map(Value::as_str) {
            let _ = writeln!(text, "{l}");
        }
    }
    if text.is_empty() {
        text = format!("{name}: {}", c);
    }
    text
}

/// The run's length in seconds: the history's last time.
fn duration_s(run: &RunReport) -> Option<f64> {
    let end = run.history.ops().iter().map(|o| o.time).max()?;
    Some(end.max(0) as f64 / 1e9)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::terminal::tests::sample;

    #[test]
    fn one_testcase_per_checker_with_escaped_failures() {
        let mut run = sample();
        run.results["checkers"]["elle"]["anomalies"]["G2-item"]["examples"][0]["explanation"] =
            "T1 read <script>alert(1)</script> & more".into();
        let doc = document(&[testsuite(&run)]);
        assert!(doc.starts_with("<?xml"));
        assert_eq!(doc.matches("<testcase ").count(), 2, "{doc}");
        assert!(
            doc.contains("tests=\"2\" failures=\"1\" errors=\"0\""),
            "{doc}"
        );
        assert!(
            doc.contains("<failure message=\"elle: invalid: G2-item ×3\" type=\"invalid\">"),
            "{doc}"
        );
        assert!(
            doc.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"),
            "{doc}"
        );
        assert!(!doc.contains("<script>"), "{doc}");
    }
}
