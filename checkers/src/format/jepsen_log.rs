//! Jepsen's text log: op lines such as
//! `INFO  jepsen.util - 3 :invoke :cas [1 2]` or
//! `INFO  jepsen.util - 3 :info :write :timed-out`, fields separated by
//! tabs or runs of spaces. Lines without `jepsen.util - ` followed by a
//! process are other log output and are skipped; a text with no op line at
//! all is an error, not an empty history.

use super::edn::Parser;
use super::{column_of, Interner};
use crate::error::ReadError;
use crate::history::History;
use crate::op::{Op, OpType, Process};
use std::path::Path;

const MARKER: &str = "jepsen.util - ";

/// Reads the op lines of a Jepsen log.
pub fn read(path: &Path, text: &str) -> Result<History, ReadError> {
    let mut names = Interner::default();
    let mut ops = Vec::new();
    let mut lines = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some(at) = line.find(MARKER) else {
            continue;
        };
        let start = at + MARKER.len();
        let res = parse_op(&line[start..], &mut names)
            .map_err(|(off, msg)| ReadError::at(path, i + 1, column_of(line, start + off), msg))?;
        if let Some(op) = res {
            ops.push(op);
            lines.push(i as u32 + 1);
        }
    }
    if ops.is_empty() {
        // Any text reads as a log with every line skipped: say so rather
        // than hand back an empty history that every checker calls valid.
        return Err(ReadError::at(
            path,
            0,
            0,
            "no Jepsen log op lines (like `INFO  jepsen.util - 3 :invoke :read nil`) found; \
             is this a history?",
        ));
    }
    Ok(History::with_lines(ops, lines))
}

/// Splits off the next whitespace-separated field: (offset, field).
fn field(s: &str, from: usize) -> (usize, &str) {
    let rest = &s[from..];
    let skip = rest.len() - rest.trim_start().len();
    let start = from + skip;
    let end = s[start..]
        .find(char::is_whitespace)
        .map_or(s.len(), |e| start + e);
    (start, &s[start..end])
}

/// Parses the text after the marker. `Ok(None)` when it is not an op line
/// (it does not start with a process id or `:nemesis`). Errors carry the
/// byte offset into `s`.
fn parse_op(s: &str, names: &mut Interner) -> Result<Option<Op>, (usize, String)> {
    let (p_at, p) = field(s, 0);
    let process = if p == ":nemesis" {
        Process::Nemesis
    } else if let Ok(n) = p.parse::<u64>() {
        Process::Client(n)
    } else {
        return Ok(None);
    };
    let (t_at, t) = field(s, p_at + p.len());
    let kind = t.strip_prefix(':').and_then(OpType::parse).ok_or_else(|| {
        (
            t_at,
            format!("expected :invoke, :ok, :fail or :info after the process, found {t:?}"),
        )
    })?;
    let (f_at, f) = field(s, t_at + t.len());
    let f = match f.strip_prefix(':') {
        Some(name) if !name.is_empty() => names.get(name),
        _ => {
            return Err((
                f_at,
                format!("expected an operation keyword like :read, found {f:?}"),
            ))
        }
    };
    let value_at = f_at + f.len() + 1;
    let mut p = Parser::new(&s[value_at..]);
    let value = p.value().map_err(|e| {
        // The value is on this one line: column is relative to value_at.
        (
            value_at + p.offset().min(s.len() - value_at),
            format!("expected an EDN value: {}", e.message),
        )
    })?;
    let error = p.rest().trim();
    let mut op = Op::new(0, process, kind, "", value);
    op.f = f;
    if !error.is_empty() {
        op.error = Some(error.into());
    }
    Ok(Some(op))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_op_lines_and_skips_noise() {
        let text = "INFO  jepsen.core - Running test\n\
                    INFO  jepsen.util - 3\t:invoke\t:cas\t[1 2]\n\
                    INFO  jepsen.util - 3  :info  :cas  :timed-out\n\
                    INFO  jepsen.util - :nemesis :info :start \"cut\" extra words\n\
                    INFO  jepsen.util - Timing out\n";
        let h = read(Path::new("x.log"), text).unwrap();
        assert_eq!(h.len(), 3);
        assert_eq!(h[0].value, json!([1, 2]));
        assert_eq!(h[1].kind, OpType::Info);
        assert_eq!(h[1].value, json!("timed-out"));
        assert_eq!(h[2].process, Process::Nemesis);
        assert_eq!(h[2].error.as_deref(), Some("extra words"));
        assert_eq!(h.line_of(0), Some(2));
    }

    #[test]
    fn text_without_op_lines_is_not_a_history() {
        for text in [
            "",
            "# faultline\n\nA Jepsen-style tool.\n",
            "{\"process\":0,\"type\":\"ok\",\"f\":\"read\"}\n",
        ] {
            let e = read(Path::new("README.md"), text).unwrap_err();
            assert_eq!(e.line, 0);
            assert!(
                e.to_string()
                    .starts_with("README.md: no Jepsen log op lines"),
                "{e}"
            );
        }
    }

    #[test]
    fn malformed_lines_name_the_column() {
        let e = read(
            Path::new("x.log"),
            "\nINFO  jepsen.util - 3 :done :read nil\n",
        )
        .unwrap_err();
        assert_eq!((e.line, e.column), (2, 23));
        let e = read(Path::new("x.log"), "INFO  jepsen.util - 3 :ok :read [1 2\n").unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.message.contains("']'"), "{e}");
    }
}
