//! JSON Lines histories: one op object per line (DESIGN.md "History format").
//!
//! Reading parses lines in parallel (a million-op history is common);
//! writing flushes after every line so a crashed controller leaves an
//! analyzable file.

use super::Interner;
use crate::error::ReadError;
use crate::history::History;
use crate::op::{Op, OpType, Process};
use rayon::prelude::*;
use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;
use std::io::{self, Write};
use std::path::Path;

/// Lines parsed per parallel task.
const CHUNK: usize = 16 * 1024;

#[derive(Deserialize)]
struct RawOp<'a> {
    #[serde(default)]
    time: Option<i64>,
    process: Process,
    #[serde(rename = "type")]
    kind: OpType,
    #[serde(borrow)]
    f: Cow<'a, str>,
    #[serde(default)]
    value: Value,
    #[serde(default)]
    key: Option<Value>,
    #[serde(default, borrow)]
    node: Option<Cow<'a, str>>,
    #[serde(default)]
    error: Option<Value>,
}

/// Reads a JSONL history. Blank lines are skipped; each other line must be
/// one op object.
pub fn read(path: &Path, text: &str) -> Result<History, ReadError> {
    let mut ops = Vec::new();
    let mut lines = Vec::new();
    for_each_batch(path, text, |batch, batch_lines| {
        ops.extend(batch);
        lines.extend_from_slice(batch_lines);
        Ok(())
    })?;
    Ok(History::with_lines(ops, lines))
}

/// Parses `text` in parallel, a batch at a time, and hands each batch of
/// ops (with their 1-based source lines) to `f` in order. A caller that
/// keeps only what it needs from each op never holds the whole history.
pub fn for_each_batch(
    path: &Path,
    text: &str,
    mut f: impl FnMut(Vec<Op>, &[u32]) -> Result<(), ReadError>,
) -> Result<(), ReadError> {
    let lines: Vec<(u32, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| (i as u32 + 1, l))
        .collect();
    for batch in lines.chunks(CHUNK * 16) {
        let chunks: Vec<Result<Vec<Op>, ReadError>> = batch
            .par_chunks(CHUNK)
            .map(|chunk| {
                let mut names = Interner::default();
                chunk
                    .iter()
                    .map(|&(n, l)| parse_line(path, n as usize, l, &mut names))
                    .collect()
            })
            .collect();
        let mut ops = Vec::with_capacity(batch.len());
        for chunk in chunks {
            ops.extend(chunk?);
        }
        let numbers: Vec<u32> = batch.iter().map(|&(n, _)| n).collect();
        f(ops, &numbers)?;
    }
    Ok(())
}

fn parse_line(path: &Path, n: usize, line: &str, names: &mut Interner) -> Result<Op, ReadError> {
    let raw: RawOp = serde_json::from_str(line).map_err(|e| {
        let msg = e.to_string();
        // serde_json appends " at line L column C"; we give our own position.
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
        let column = e.column().max(1);
        ReadError::at(path, n, column, format!("expected an op object: {msg}"))
    })?;
    Ok(Op {
        index: 0,
        time: raw.time.unwrap_or(-1),
        process: raw.process,
        kind: raw.kind,
        f: names.get(&raw.f),
        value: raw.value,
        key: raw.key,
        node: raw.node.map(|s| s.into()),
        error: raw.error.map(|e| match e {
            Value::String(s) => s.into_boxed_str(),
            other => other.to_string().into_boxed_str(),
        }),
    })
}

/// Writes ops as JSON Lines, flushing after each line.
pub struct HistoryWriter<W: Write> {
    out: W,
    buf: Vec<u8>,
}

impl<W: Write> HistoryWriter<W> {
    /// A writer appending to `out`.
    pub fn new(out: W) -> Self {
        HistoryWriter {
            out,
            buf: Vec::with_capacity(256),
        }
    }

    /// Writes one op as one line and flushes it.
    pub fn write(&mut self, op: &Op) -> io::Result<()> {
        self.buf.clear();
        serde_json::to_writer(&mut self.buf, op)?;
        self.buf.push(b'\n');
        self.out.write_all(&self.buf)?;
        self.out.flush()
    }

    /// The underlying writer.
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// Writes a whole history as JSON Lines.
pub fn write<W: Write>(out: W, history: &History) -> io::Result<()> {
    let mut out = io::BufWriter::new(out);
    for op in history.ops() {
        serde_json::to_writer(&mut out, op)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips() {
        let mut a = Op::new(0, Process::Client(3), OpType::Invoke, "cas", json!([1, 2]));
        a.time = 17;
        a.key = Some(json!(4));
        a.node = Some("n1".into());
        let mut b = Op::new(
            1,
            Process::Nemesis,
            OpType::Info,
            "start-partition",
            json!({"n1": ["n2"]}),
        );
        b.error = Some("boom".into());
        let h = History::new(vec![a, b]);
        let mut out = Vec::new();
        write(&mut out, &h).unwrap();
        let text = String::from_utf8(out).unwrap();
        let back = read(Path::new("t.jsonl"), &text).unwrap();
        assert_eq!(back.ops(), h.ops());
    }

    #[test]
    fn errors_name_line_and_column() {
        let text = "{\"index\":0,\"process\":0,\"type\":\"invoke\",\"f\":\"read\",\"value\":null}\n\n{\"process\":0,\"type\":\"okay\",\"f\":\"read\"}\n";
        let e = read(Path::new("h.jsonl"), text).unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.column > 20, "{e}");
        assert!(e.to_string().starts_with("h.jsonl:3:"), "{e}");
        assert!(e.message.contains("okay"), "{e}");
    }

    #[test]
    fn writer_flushes_each_line() {
        let mut w = HistoryWriter::new(Vec::new());
        w.write(&Op::new(
            0,
            Process::Client(0),
            OpType::Invoke,
            "read",
            Value::Null,
        ))
        .unwrap();
        assert!(w.into_inner().ends_with(b"}\n"));
    }
}
