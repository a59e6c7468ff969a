//! JSON Lines histories: one op object per line (DESIGN.md "History format").
//!
//! Reading parses lines in parallel (a million-op history is common);
//! writing flushes after every line so a crashed controller leaves an
//! analyzable file.

use super::Interner;
use crate::error::ReadError;
use crate::history::History;
use crate::op::{Op, OpType, OpValue, Process};
use rayon::prelude::*;
use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

/// Lines parsed and handed on at a time by [`for_each_batch`].
const BATCH: usize = 256 * 1024;

#[derive(Deserialize)]
struct RawOp<'a, V> {
    #[serde(default)]
    time: Option<i64>,
    process: Process,
    #[serde(rename = "type")]
    kind: OpType,
    #[serde(borrow)]
    f: Cow<'a, str>,
    #[serde(default)]
    value: V,
    #[serde(default)]
    key: Option<V>,
    #[serde(default, borrow)]
    node: Option<Cow<'a, str>>,
    #[serde(default)]
    error: Option<Value>,
}

/// Reads a JSONL history. Blank lines are skipped; each other line must be
/// one op object.
pub fn read(path: &Path, text: &str) -> Result<History, ReadError> {
    read_as(path, text)
}

/// Reads a JSONL history with values of type `V` (such as the compact
/// [`crate::Datum`]), as [`read`] does.
pub fn read_as<V: OpValue + Send>(path: &Path, text: &str) -> Result<History<V>, ReadError> {
    let lines = numbered_lines(text);
    let mut ops = Vec::with_capacity(lines.len());
    parse_lines(path, &lines, 0, &mut ops)?;
    Ok(History::with_lines(
        ops,
        lines.iter().map(|&(n, _)| n).collect(),
    ))
}

/// Parses numbered lines (numbered from after `before` lines) in parallel
/// and appends their ops to `ops`. Each line is parsed straight into its
/// place in the vector: a million ops copied from batch to batch, into
/// freshly faulted pages each time, cost more than the parsing. The first
/// error in file order wins (and `ops` is then to be dropped); lines after
/// a known error are not parsed.
fn parse_lines<V: OpValue + Send>(
    path: &Path,
    lines: &[(u32, &str)],
    before: u32,
    ops: &mut Vec<Op<V>>,
) -> Result<(), ReadError> {
    let error_line = AtomicU32::new(u32::MAX);
    let first_error: Mutex<Option<ReadError>> = Mutex::new(None);
    let parsed =
        lines
            .par_iter()
            .with_min_len(1024)
            .map_init(Interner::default, |names, &(n, line)| {
                if n < error_line.load(Ordering::Relaxed) {
                    match parse_line(path, (n + before) as usize, line, names) {
                        Ok(op) => return op,
                        Err(e) => {
                            let mut first = first_error.lock().unwrap_or_else(|p| p.into_inner());
                            if first.as_ref().is_none_or(|f| e.line < f.line) {
                                error_line.fetch_min(n, Ordering::Relaxed);
                                *first = Some(e);
                            }
                        }
                    }
                }
                Op::new(0, Process::Nemesis, OpType::Info, "", V::default())
            });
    ops.par_extend(parsed);
    match first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Bytes of the file read and parsed at a time by [`read_file_as`].
const WINDOW: usize = 32 << 20;

/// Reads the JSONL history file at `path` with values of type `V`, as
/// [`read_as`] does, a window of lines at a time: the file's text is never
/// held whole, so reading takes the memory of the ops plus one window.
pub fn read_file_as<V: OpValue + Send>(path: &Path) -> Result<History<V>, ReadError> {
    read_file_windowed(path, WINDOW)
}

/// [`read_file_as`] with windows of `window` bytes (tests use tiny ones).
fn read_file_windowed<V: OpValue + Send>(
    path: &Path,
    window: usize,
) -> Result<History<V>, ReadError> {
    let window = window.max(2);
    let cannot = |e: io::Error| ReadError::at(path, 0, 0, format!("cannot read: {e}"));
    let mut file = std::fs::File::open(path).map_err(cannot)?;
    let size = file.metadata().map_or(0, |m| m.len());
    let mut ops: Vec<Op<V>> = Vec::new();
    let mut numbers: Vec<u32> = Vec::new();
    let mut buf: Vec<u8> = Vec::with_capacity(window);
    let mut lines_before = 0u32;
    loop {
        // Fill the window (after the partial line carried over), growing
        // it for a line longer than a window.
        let want = buf.len().max(window / 2) + window / 2;
        let got = (&mut file)
            .take((want - buf.len()) as u64)
            .read_to_end(&mut buf)
            .map_err(cannot)?;
        let eof = got == 0;
        let cut = match memchr::memrchr(b'\n', &buf) {
            _ if eof => buf.len(),
            Some(nl) => nl + 1,
            None => continue,
        };
        let text = std::str::from_utf8(&buf[..cut]).map_err(|e| {
            let mut err = super::utf8_error(path, &buf[..cut], e.valid_up_to());
            err.line += lines_before as usize;
            err
        })?;
        let lines = numbered_lines(text);
        if ops.capacity() == 0 && !eof {
            // Sized once from the first window's lines per byte; untouched
            // capacity costs no memory.
            let estimate = lines.len() as f64 * size as f64 / cut.max(1) as f64;
            ops.reserve((estimate * 1.05) as usize + 1024);
            numbers.reserve((estimate * 1.05) as usize + 1024);
        }
        parse_lines(path, &lines, lines_before, &mut ops)?;
        numbers.extend(lines.iter().map(|&(n, _)| n + lines_before));
        lines_before += memchr::memchr_iter(b'\n', text.as_bytes()).count() as u32;
        buf.drain(..cut);
        if eof {
            return Ok(History::with_lines(ops, numbers));
        }
    }
}

/// The lines of `text` that are not blank, with their 1-based numbers.
fn numbered_lines(text: &str) -> Vec<(u32, &str)> {
    let mut lines: Vec<(u32, &str)> = Vec::with_capacity(line_count(text));
    lines.extend(
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| (i as u32 + 1, l)),
    );
    lines
}

/// Parses `text` in parallel, a batch at a time, and hands each batch of
/// ops (with their 1-based source lines) to `f` in order. A caller that
/// keeps only what it needs from each op never holds the whole history.
/// While `f` takes one batch, the next is parsed beside it (a caller's
/// serial work on each op then costs little more than its share of the
/// threads); an error of `f` comes before a parse error of a later batch.
pub fn for_each_batch<V: OpValue + Send>(
    path: &Path,
    text: &str,
    mut f: impl FnMut(Vec<Op<V>>, &[u32]) -> Result<(), ReadError> + Send,
) -> Result<(), ReadError> {
    let lines = numbered_lines(text);
    let parse = |batch: &[(u32, &str)]| -> Result<(Vec<Op<V>>, Vec<u32>), ReadError> {
        let mut ops = Vec::with_capacity(batch.len());
        parse_lines(path, batch, 0, &mut ops)?;
        Ok((ops, batch.iter().map(|&(n, _)| n).collect()))
    };
    let mut batches = lines.chunks(BATCH);
    let mut current = batches.next().map(parse).transpose()?;
    while let Some((ops, numbers)) = current.take() {
        let next = batches.next();
        let (handed, parsed) = rayon::join(|| f(ops, &numbers), || next.map(parse).transpose());
        handed?;
        current = parsed?;
    }
    Ok(())
}

/// An upper bound on the number of lines of `text`.
fn line_count(text: &str) -> usize {
    memchr::memchr_iter(b'\n', text.as_bytes()).count() + 1
}

/// The ops of `text` one at a time, in order, on this thread: for a caller
/// that needs only the first few (to see what kind of history it is).
pub fn ops<'a>(path: &'a Path, text: &'a str) -> impl Iterator<Item = Result<Op, ReadError>> + 'a {
    let mut names = Interner::default();
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(move |(i, l)| parse_line(path, i + 1, l, &mut names))
}

fn parse_line<V: OpValue>(
    path: &Path,
    n: usize,
    line: &str,
    names: &mut Interner,
) -> Result<Op<V>, ReadError> {
    let parsed = serde_json::from_str::<RawOp<V>>(line);
    // serde_json reads an integer wider than 64 bits, and `-0`, as a float:
    // only a line with a float (or an error) needs a closer look.
    match parsed {
        Ok(raw) if !raw.value.has_float() && !raw.key.as_ref().is_some_and(V::has_float) => {
            Ok(op_of(raw, names))
        }
        parsed => parse_exact(path, n, line, parsed, names),
    }
}

/// Slow path of [`parse_line`]: refuses integers wider than 64 bits and
/// reads `-0` as the integer 0 (as Jepsen does).
#[cold]
fn parse_exact<V: OpValue>(
    path: &Path,
    n: usize,
    line: &str,
    parsed: serde_json::Result<RawOp<'_, V>>,
    names: &mut Interner,
) -> Result<Op<V>, ReadError> {
    let fixed = exact_integers(line)
        .map_err(|(at, msg)| ReadError::at(path, n, super::column_of(line, at), msg))?;
    let raw = match &fixed {
        Some(text) => serde_json::from_str::<RawOp<V>>(text),
        None => parsed,
    };
    let raw = raw.map_err(|e| {
        let msg = e.to_string();
        // serde_json appends " at line L column C"; we give our own position.
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
        let column = e.column().max(1);
        ReadError::at(path, n, column, format!("expected an op object: {msg}"))
    })?;
    Ok(op_of(raw, names))
}

fn op_of<V>(raw: RawOp<'_, V>, names: &mut Interner) -> Op<V> {
    Op {
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
    }
}

/// Parses one JSON value (such as `--initial-value`) with the same exact
/// integers as history lines. Errors carry a 1-based column.
pub fn parse_value(text: &str) -> Result<Value, (usize, String)> {
    let fixed = exact_integers(text).map_err(|(at, m)| (super::column_of(text, at), m))?;
    serde_json::from_str(fixed.as_deref().unwrap_or(text)).map_err(|e| {
        let msg = e.to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
        (e.column().max(1), msg)
    })
}

/// Looks at every number outside strings in the JSON text `s`. An integer
/// literal wider than 64 bits is an error at its byte offset (serde_json
/// would round it to a float equal to its neighbours). Returns the text
/// with each integer `-0` rewritten as `0` when there is one, so that it
/// reads as the integer Jepsen sees rather than the float -0.0.
fn exact_integers(s: &str) -> Result<Option<String>, (usize, String)> {
    let b = s.as_bytes();
    let mut neg_zeros = Vec::new();
    let (mut i, mut in_str) = (0, false);
    while i < b.len() {
        let c = b[i];
        if in_str {
            match c {
                b'\\' => i += 1,
                b'"' => in_str = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        if c == b'"' {
            in_str = true;
            i += 1;
            continue;
        }
        if c != b'-' && !c.is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'.' | b'+' | b'-')) {
            i += 1;
        }
        let t = &s[start..i];
        let integer = t.bytes().skip(1).all(|d| d.is_ascii_digit());
        if !integer || t == "-" {
            continue;
        }
        if t == "-0" {
            neg_zeros.push(start);
        } else if t.parse::<i64>().is_err() && t.parse::<u64>().is_err() {
            return Err((start, super::edn::too_wide(t)));
        }
    }
    if neg_zeros.is_empty() {
        return Ok(None);
    }
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for at in neg_zeros {
        out.push_str(&s[last..at]);
        out.push(' ');
        last = at + 1;
    }
    out.push_str(&s[last..]);
    Ok(Some(out))
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
    fn wide_integers_are_refused_where_they_stand() {
        let text = "{\"process\":0,\"type\":\"invoke\",\"f\":\"write\",\"value\":1}\n\
                    {\"process\":0,\"type\":\"ok\",\"f\":\"write\",\"value\":[\"é\",18446744073709551616]}\n";
        let e = read(Path::new("w.jsonl"), text).unwrap_err();
        assert_eq!((e.line, e.column), (2, 51), "{e}");
        assert!(
            e.message
                .contains("integer 18446744073709551616 does not fit in 64 bits"),
            "{e}"
        );
        // Also where serde_json would have said "invalid type: floating point".
        let e = read(
            Path::new("p.jsonl"),
            "{\"process\":99999999999999999999,\"type\":\"ok\",\"f\":\"r\"}",
        )
        .unwrap_err();
        assert_eq!(e.column, 12, "{e}");
        assert!(e.message.contains("does not fit"), "{e}");
        // 64-bit integers, floats and digits inside strings are fine.
        let ok = "{\"process\":0,\"type\":\"ok\",\"f\":\"r\",\"value\":[18446744073709551615,-9223372036854775808,3.5,1e300,\"1844674407370955161600\\\"\"]}";
        let h = read(Path::new("ok.jsonl"), ok).unwrap();
        assert_eq!(
            h[0].value,
            json!([u64::MAX, i64::MIN, 3.5, 1e300, "1844674407370955161600\""])
        );
    }

    #[test]
    fn minus_zero_is_the_integer_zero() {
        let text = "{\"process\":0,\"type\":\"ok\",\"f\":\"r\",\"key\":-0,\"value\":[-0,-0.0,\"-0\",{\"a\":-0}]}";
        let h = read(Path::new("z.jsonl"), text).unwrap();
        assert_eq!(h[0].key, Some(json!(0)));
        assert!(h[0].value[0].is_i64());
        assert_eq!(h[0].value[0], json!(0));
        assert!(h[0].value[1].is_f64(), "a float -0.0 stays a float");
        assert_eq!(h[0].value[2], json!("-0"));
        assert_eq!(h[0].value[3], json!({"a": 0}));
        assert_eq!(parse_value(" -0 ").unwrap(), json!(0));
        assert_eq!(parse_value("[1, 18446744073709551616]").unwrap_err().0, 5);
        assert!(parse_value("[1,").is_err());
    }

    #[test]
    fn a_file_read_a_window_at_a_time_reads_as_its_text_does() {
        use crate::datum::Datum;
        let dir = std::env::temp_dir().join(format!("faultline-jsonl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let text = "{\"process\":0,\"type\":\"invoke\",\"f\":\"add\",\"value\":\"é\",\"key\":1}\n\
                    \n   \r\n\
                    {\"process\":0,\"type\":\"ok\",\"f\":\"add\",\"value\":\"é\",\"key\":1}\r\n\
                    {\"process\":1,\"type\":\"invoke\",\"f\":\"read\",\"value\":null}\n\
                    {\"process\":1,\"type\":\"ok\",\"f\":\"read\",\"value\":[1,-0,{\"b\":[2],\"a\":\"x\"}]}";
        let whole = read(Path::new("t.jsonl"), text)
            .unwrap()
            .map_values(Datum::of);
        assert_eq!(whole.len(), 4);
        let file = dir.join("t.jsonl");
        std::fs::write(&file, text).unwrap();
        for window in [1, 2, 3, 7, 40, 100, 1 << 20] {
            let h: History<Datum> = read_file_windowed(&file, window).unwrap();
            assert_eq!(h.ops(), whole.ops(), "window {window}");
            let lines: Vec<_> = (0..h.len()).map(|i| h.line_of(i)).collect();
            assert_eq!(lines, [1, 4, 5, 6].map(Some), "window {window}");
        }
        // Errors name the line in the whole file, whichever window it is in.
        let bad = format!("{text}\n{{\"process\":2,\"type\":\"okay\",\"f\":\"read\"}}\n");
        std::fs::write(&file, &bad).unwrap();
        let whole = read(Path::new("t.jsonl"), &bad).unwrap_err();
        for window in [3, 50, 1 << 20] {
            let e = read_file_windowed::<Datum>(&file, window).unwrap_err();
            assert_eq!(
                (e.line, e.column),
                (whole.line, whole.column),
                "window {window}"
            );
        }
        let mut bytes = text.as_bytes().to_vec();
        bytes.extend_from_slice(b"\n\n{\"f\":\"\xff\"}\n");
        std::fs::write(&file, &bytes).unwrap();
        for window in [3, 50, 1 << 20] {
            let e = read_file_windowed::<Datum>(&file, window).unwrap_err();
            assert_eq!((e.line, e.column), (8, 7), "window {window}: {e}");
        }
        std::fs::write(&file, "").unwrap();
        assert!(read_file_as::<Datum>(&file).unwrap().is_empty());
        let e = read_file_as::<Datum>(&dir.join("missing.jsonl")).unwrap_err();
        assert!(e.message.contains("cannot read"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
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
