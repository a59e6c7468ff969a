//! Escaping for HTML and XML text and attribute values.
//!
//! Every string that reaches a page or an XML file from the history, the
//! spec, the system under test or the file system goes through [`html`]
//! (for XML the same five characters suffice). Control characters other
//! than tab and newline are replaced by U+FFFD: XML 1.0 cannot carry them.

use std::fmt::Write;

/// `s` with `& < > " '` replaced by entities and control characters by
/// U+FFFD; safe in element text and in quoted attribute values.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    push(&mut out, s);
    out
}

/// Appends the escaped `s` to `out` (see [`html`]).
pub fn push(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

/// A JSON value as compact text, at most `max` characters (an ellipsis
/// marks a cut), not yet escaped.
pub fn short_json(v: &serde_json::Value, max: usize) -> String {
    let s = match v {
        serde_json::Value::String(s) => s.clone(),
        v => v.to_string(),
    };
    truncate(&s, max)
}

/// `s` cut to at most `max` characters, with `…` when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Percent-encodes a relative path for an `href` (keeps `/`, letters,
/// digits and `-._~`).
pub fn href(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            html("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(html("a&b \"c\" 'd'"), "a&amp;b &quot;c&quot; &#39;d&#39;");
        assert_eq!(html("x\u{1}y\tz"), "x\u{FFFD}y\tz");
    }

    #[test]
    fn hrefs_are_percent_encoded() {
        assert_eq!(href("nodes/n1/db log.txt"), "nodes/n1/db%20log.txt");
        assert_eq!(href("a\"><script>"), "a%22%3E%3Cscript%3E");
    }

    #[test]
    fn truncates_long_values() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
        assert_eq!(short_json(&serde_json::json!([1, 2]), 10), "[1,2]");
    }
}
