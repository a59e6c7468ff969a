//! Reading and writing histories: JSON Lines (faultline's own format),
//! Jepsen `history.edn`, and Jepsen's text log lines.
//!
//! [`read_path`] picks the reader from `--format` or, when none is given,
//! from the file name and its first bytes ([`Format::detect`]). Every reader
//! reports malformed input as a [`ReadError`] naming file:line:column.

pub mod edn;
pub mod jepsen_log;
pub mod jsonl;

use crate::error::ReadError;
use crate::history::History;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

/// A history file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line, as DESIGN.md fixes.
    Jsonl,
    /// Jepsen's `history.edn`: op maps or `#jepsen.history.Op{...}` records,
    /// optionally inside one vector or list.
    Edn,
    /// Jepsen's text log: `INFO  jepsen.util - 3 :invoke :cas [1 2]`.
    JepsenLog,
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        match s {
            "jsonl" | "json" => Ok(Format::Jsonl),
            "edn" => Ok(Format::Edn),
            "jepsen-log" | "log" => Ok(Format::JepsenLog),
            _ => Err(format!(
                "unknown format {s:?}; expected one of jsonl, edn, jepsen-log"
            )),
        }
    }
}

impl Format {
    /// The name `--format` takes: `jsonl`, `edn` or `jepsen-log`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Jsonl => "jsonl",
            Format::Edn => "edn",
            Format::JepsenLog => "jepsen-log",
        }
    }

    /// Guesses the format from the file extension, then from the content.
    pub fn detect(path: &Path, text: &str) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some("jsonl" | "json" | "ndjson") => return Format::Jsonl,
            Some("edn") => return Format::Edn,
            _ => {}
        }
        let head: &str = text.trim_start();
        if head.starts_with("{\"") || head.starts_with("{ \"") {
            Format::Jsonl
        } else if text
            .get(..text.len().min(1 << 16))
            .unwrap_or(text)
            .contains("jepsen.util")
        {
            Format::JepsenLog
        } else if head.starts_with(['[', '(', '{', '#', ';']) {
            Format::Edn
        } else {
            Format::JepsenLog
        }
    }
}

/// Guesses the format of the file at `path` ([`Format::detect`]) from its
/// name and its first 64 KiB, without reading the rest.
pub fn detect_file(path: &Path) -> Result<Format, ReadError> {
    use std::io::Read;
    let cannot = |e: std::io::Error| ReadError::at(path, 0, 0, format!("cannot read: {e}"));
    let mut head = Vec::with_capacity(1 << 16);
    std::fs::File::open(path)
        .and_then(|f| f.take(1 << 16).read_to_end(&mut head))
        .map_err(cannot)?;
    let text = match std::str::from_utf8(&head) {
        Ok(t) => t,
        // A character cut at the end of the head is not an error here.
        Err(e) => std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default(),
    };
    Ok(Format::detect(path, text))
}

/// Reads a history from `text`, which came from `path` (used in errors).
pub fn read_str(format: Format, path: &Path, text: &str) -> Result<History, ReadError> {
    match format {
        Format::Jsonl => jsonl::read(path, text),
        Format::Edn => edn::read_history(path, text),
        Format::JepsenLog => jepsen_log::read(path, text),
    }
}

/// Reads the history file at `path`, detecting the format when `format` is
/// `None`.
pub fn read_path(path: &Path, format: Option<Format>) -> Result<History, ReadError> {
    let text = read_text(path)?;
    let format = format.unwrap_or_else(|| Format::detect(path, &text));
    read_str(format, path, &text)
}

/// The file at `path` as text; errors name the file (and the line and
/// column of the first byte that is not UTF-8).
pub fn read_text(path: &Path) -> Result<String, ReadError> {
    let bytes =
        std::fs::read(path).map_err(|e| ReadError::at(path, 0, 0, format!("cannot read: {e}")))?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        utf8_error(path, e.as_bytes(), valid)
    })
}

/// The error for `bytes` of `path`, valid UTF-8 only up to `valid`.
pub(crate) fn utf8_error(path: &Path, bytes: &[u8], valid: usize) -> ReadError {
    let good = &bytes[..valid];
    let line = good.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = good.rsplit(|&b| b == b'\n').next().map_or(0, |l| l.len()) + 1;
    ReadError::at(
        path,
        line,
        column,
        "expected UTF-8 text, found invalid bytes",
    )
}

/// Shares one allocation per distinct operation name.
#[derive(Default)]
pub(crate) struct Interner(rustc_hash::FxHashMap<Box<str>, Arc<str>>);

impl Interner {
    pub(crate) fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.0.get(s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s);
        self.0.insert(Box::from(s), a.clone());
        a
    }
}

/// 1-based (line, column) of byte offset `at` in `line_text`, counting
/// columns in characters.
pub(crate) fn column_of(line_text: &str, at: usize) -> usize {
    let at = at.min(line_text.len());
    line_text
        .char_indices()
        .take_while(|(i, _)| *i < at)
        .count()
        + 1
}
