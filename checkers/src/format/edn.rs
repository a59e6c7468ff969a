//! A small EDN reader for Jepsen histories.
//!
//! Converts EDN into JSON values the way the history format expects:
//! keywords and symbols become strings without the colon, `nil` becomes
//! `null`, vectors, lists and sets become arrays, map keys that are not
//! strings are written as their JSON text, and tagged elements
//! (`#jepsen.history.Op{...}`, `#inst "..."`) become their inner value.
//! Errors carry 1-based line and column.

use super::Interner;
use crate::error::ReadError;
use crate::history::History;
use crate::op::{Op, OpType, Process};
use serde_json::{Map, Number, Value};
use std::path::Path;

/// Deepest nesting accepted; deeper input is an error, not a stack overflow.
const MAX_DEPTH: usize = 128;

/// A parse error at a 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdnError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column (characters).
    pub column: usize,
    /// What was expected.
    pub message: String,
}

/// A cursor over EDN text that tracks line and column.
pub struct Parser<'a> {
    src: &'a str,
    pos: usize,
    line: usize,
    col: usize,
}

impl<'a> Parser<'a> {
    /// A parser at the start of `src`.
    pub fn new(src: &'a str) -> Self {
        Parser {
            src,
            pos: 0,
            line: 1,
            col: 1,
        }
    }

    /// Current 1-based (line, column).
    pub fn position(&self) -> (usize, usize) {
        (self.line, self.col)
    }

    /// Byte offset into the source.
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// The text not consumed yet.
    pub fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }

    fn err<T>(&self, message: impl Into<String>) -> Result<T, EdnError> {
        Err(EdnError {
            line: self.line,
            column: self.col,
            message: message.into(),
        })
    }

    /// Skips whitespace, commas and `;` comments. Returns the next char.
    pub fn skip_ws(&mut self) -> Option<char> {
        while let Some(c) = self.peek() {
            if c.is_whitespace() || c == ',' {
                self.bump();
            } else if c == ';' {
                while let Some(c) = self.bump() {
                    if c == '\n' {
                        break;
                    }
                }
            } else {
                return Some(c);
            }
        }
        None
    }

    /// Parses one form after optional whitespace.
    pub fn value(&mut self) -> Result<Value, EdnError> {
        self.value_at(0)
    }

    fn value_at(&mut self, depth: usize) -> Result<Value, EdnError> {
        if depth > MAX_DEPTH {
            return self.err(format!("expected at most {MAX_DEPTH} levels of nesting"));
        }
        let Some(c) = self.skip_ws() else {
            return self.err("expected a value, found end of input");
        };
        match c {
            '[' | '(' => {
                self.bump();
                Ok(Value::Array(
                    self.seq(if c == '[' { ']' } else { ')' }, depth)?,
                ))
            }
            '{' => {
                self.bump();
                self.map(depth)
            }
            '"' => Ok(Value::String(self.string()?)),
            ':' => {
                self.bump();
                let name = self.token();
                if name.is_empty() {
                    return self.err("expected a keyword name after ':'");
                }
                Ok(Value::String(name.to_string()))
            }
            '\\' => {
                self.bump();
                let t = self.token();
                let s = match t {
                    "newline" => "\n".to_string(),
                    "space" => " ".to_string(),
                    "tab" => "\t".to_string(),
                    "" => match self.bump() {
                        Some(c) => c.to_string(),
                        None => return self.err("expected a character after '\\'"),
                    },
                    t => t.to_string(),
                };
                Ok(Value::String(s))
            }
            '#' => self.dispatch(depth),
            ']' | ')' | '}' => self.err(format!("expected a value, found unmatched '{c}'")),
            _ => self.atom(),
        }
    }

    fn dispatch(&mut self, depth: usize) -> Result<Value, EdnError> {
        self.bump();
        match self.peek() {
            Some('{') => {
                self.bump();
                Ok(Value::Array(self.seq('}', depth)?))
            }
            Some('_') => {
                self.bump();
                self.value_at(depth + 1)?;
                self.value_at(depth)
            }
            Some('#') => {
                self.bump();
                Ok(Value::String(self.token().to_string()))
            }
            Some(c) if c.is_alphabetic() => {
                self.token();
                self.value_at(depth + 1)
            }
            _ => self.err("expected a tag, '{' or '_' after '#'"),
        }
    }

    fn seq(&mut self, close: char, depth: usize) -> Result<Vec<Value>, EdnError> {
        let mut out = Vec::new();
        loop {
            match self.skip_ws() {
                None => return self.err(format!("expected '{close}', found end of input")),
                Some(c) if c == close => {
                    self.bump();
                    return Ok(out);
                }
                Some(_) => out.push(self.value_at(depth + 1)?),
            }
        }
    }

    fn map(&mut self, depth: usize) -> Result<Value, EdnError> {
        let mut out = Map::new();
        loop {
            match self.skip_ws() {
                None => return self.err("expected '}', found end of input"),
                Some('}') => {
                    self.bump();
                    return Ok(Value::Object(out));
                }
                Some(_) => {
                    let k = match self.value_at(depth + 1)? {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    if self.skip_ws() == Some('}') {
                        return self.err(format!("expected a value for key {k:?}, found '}}'"));
                    }
                    let v = self.value_at(depth + 1)?;
                    out.insert(k, v);
                }
            }
        }
    }

    fn string(&mut self) -> Result<String, EdnError> {
        self.bump();
        let mut s = String::new();
        loop {
            match self.bump() {
                None => return self.err("expected '\"' to close the string, found end of input"),
                Some('"') => return Ok(s),
                Some('\\') => match self.bump() {
                    Some('n') => s.push('\n'),
                    Some('t') => s.push('\t'),
                    Some('r') => s.push('\r'),
                    Some('"') => s.push('"'),
                    Some('\\') => s.push('\\'),
                    Some('u') => {
                        let hex: String = (0..4).filter_map(|_| self.bump()).collect();
                        match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                            Some(c) => s.push(c),
                            None => {
                                return self
                                    .err(format!("expected 4 hex digits after \\u, found {hex:?}"))
                            }
                        }
                    }
                    Some(c) => s.push(c),
                    None => return self.err("expected an escaped character, found end of input"),
                },
                Some(c) => s.push(c),
            }
        }
    }

    /// Consumes a run of symbol characters.
    fn token(&mut self) -> &'a str {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_whitespace() || matches!(c, ',' | ';' | '[' | ']' | '(' | ')' | '{' | '}' | '"')
            {
                break;
            }
            self.bump();
        }
        &self.src[start..self.pos]
    }

    fn atom(&mut self) -> Result<Value, EdnError> {
        let (line, column) = self.position();
        let t = self.token();
        if t.is_empty() {
            // Something like '\u{0}' that is neither a delimiter nor a symbol char.
            let c = self.peek().unwrap_or(' ');
            return self.err(format!("expected a value, found {c:?}"));
        }
        match t {
            "nil" => return Ok(Value::Null),
            "true" => return Ok(Value::Bool(true)),
            "false" => return Ok(Value::Bool(false)),
            _ => {}
        }
        let first = t.as_bytes()[0];
        let numeric = first.is_ascii_digit()
            || ((first == b'-' || first == b'+')
                && t.as_bytes().get(1).is_some_and(u8::is_ascii_digit));
        if !numeric {
            return Ok(Value::String(t.to_string()));
        }
        number(t).map_err(|message| EdnError {
            line,
            column,
            message,
        })
    }
}

/// An EDN number as JSON. Integers (with or without Clojure's `N`/`M`
/// suffix) must fit in 64 bits: a wider one is an error rather than a float
/// that would equal its neighbours. Ratios of integers that divide exactly
/// are integers; other ratios and decimals are floats.
fn number(t: &str) -> Result<Value, String> {
    let body = t.strip_suffix(['N', 'M']).unwrap_or(t);
    let body = body.strip_prefix('+').unwrap_or(body);
    if let Some((n, d)) = body.split_once('/') {
        let (n, d) = (integer(n, t)?, integer(d, t)?);
        if d == 0 {
            return Err(format!(
                "expected a ratio with a non-zero denominator, found {t:?}"
            ));
        }
        let (n, d) = (i128::from(n), i128::from(d));
        if n % d != 0 {
            return float(n as f64 / d as f64, t);
        }
        // |n / d| <= 2^63, so the quotient fits in an i64 or a u64.
        let q = n / d;
        return match (i64::try_from(q), u64::try_from(q)) {
            (Ok(i), _) => Ok(Value::Number(i.into())),
            (_, Ok(u)) => Ok(Value::Number(u.into())),
            _ => Err(too_wide(t)),
        };
    }
    if is_integer(body) {
        return int_value(body, t);
    }
    float(
        body.parse::<f64>()
            .map_err(|_| format!("expected a number, found {t:?}"))?,
        t,
    )
}

/// True for an optionally signed run of ASCII digits.
fn is_integer(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// An integer literal as a JSON number: i64, else u64, else an error.
fn int_value(body: &str, t: &str) -> Result<Value, String> {
    if let Ok(i) = body.parse::<i64>() {
        return Ok(Value::Number(i.into()));
    }
    match body.parse::<u64>() {
        Ok(u) => Ok(Value::Number(u.into())),
        Err(_) => Err(too_wide(t)),
    }
}

/// One side of a ratio, as an i64.
fn integer(s: &str, t: &str) -> Result<i64, String> {
    let s = s.strip_prefix('+').unwrap_or(s);
    if !is_integer(s) {
        return Err(format!("expected a number, found {t:?}"));
    }
    s.parse::<i64>().map_err(|_| too_wide(t))
}

fn float(f: f64, t: &str) -> Result<Value, String> {
    Number::from_f64(f)
        .map(Value::Number)
        .ok_or_else(|| format!("expected a finite number, found {t:?}"))
}

/// The message for an integer literal wider than 64 bits.
pub(crate) fn too_wide(t: &str) -> String {
    format!(
        "integer {t} does not fit in 64 bits (faultline compares integers exactly \
         and will not round one to a float)"
    )
}

/// Parses a single EDN value from `text`; trailing non-whitespace is an error.
pub fn parse(text: &str) -> Result<Value, EdnError> {
    let mut p = Parser::new(text);
    let v = p.value()?;
    if p.skip_ws().is_some() {
        return p.err("expected end of input after the value");
    }
    Ok(v)
}

/// Reads a Jepsen `history.edn`: op maps (or `#jepsen.history.Op{...}`
/// records), either one after another or inside one vector or list.
pub fn read_history(path: &Path, text: &str) -> Result<History, ReadError> {
    let to_read = |e: EdnError| ReadError::at(path, e.line, e.column, e.message);
    let mut p = Parser::new(text);
    let mut names = Interner::default();
    let mut ops = Vec::new();
    let mut lines = Vec::new();
    let close = match p.skip_ws() {
        Some('[') => Some(']'),
        Some('(') => Some(')'),
        _ => None,
    };
    if close.is_some() {
        p.bump();
    }
    loop {
        let next = p.skip_ws();
        if next.is_none() && close.is_none() {
            break;
        }
        if next.is_some() && next == close {
            p.bump();
            if p.skip_ws().is_some() {
                return Err(to_read(
                    p.err::<()>("expected end of input after the history")
                        .unwrap_err(),
                ));
            }
            break;
        }
        let (line, column) = p.position();
        let v = p.value().map_err(to_read)?;
        let op = op_from_value(v, &mut names).map_err(|m| ReadError::at(path, line, column, m))?;
        if let Some(op) = op {
            ops.push(op);
            lines.push(line as u32);
        }
    }
    Ok(History::with_lines(ops, lines))
}

/// Converts one EDN op map into an [`Op`]. Returns `Ok(None)` for forms that
/// are not ops but may appear in a history file (none today).
pub(crate) fn op_from_value(v: Value, names: &mut Interner) -> Result<Option<Op>, String> {
    let Value::Object(mut m) = v else {
        return Err(format!(
            "expected an op map like {{:process 0, :type :invoke, :f :read, :value nil}}, found {}",
            short(&v)
        ));
    };
    let process = match m.remove("process") {
        Some(Value::Number(n)) if n.as_u64().is_some() => Process::Client(n.as_u64().unwrap_or(0)),
        Some(Value::String(s)) if s == "nemesis" => Process::Nemesis,
        Some(other) => {
            return Err(format!(
                "expected :process to be an integer or :nemesis, found {}",
                short(&other)
            ))
        }
        None => return Err("expected a :process key in the op map".into()),
    };
    let kind = match m.remove("type") {
        Some(Value::String(s)) => OpType::parse(&s).ok_or_else(|| {
            format!("expected :type to be :invoke, :ok, :fail or :info, found :{s}")
        })?,
        Some(other) => {
            return Err(format!(
                "expected :type to be a keyword, found {}",
                short(&other)
            ))
        }
        None => return Err("expected a :type key in the op map".into()),
    };
    let f = match m.remove("f") {
        Some(Value::String(s)) => names.get(&s),
        Some(other) => {
            return Err(format!(
                "expected :f to be a keyword, found {}",
                short(&other)
            ))
        }
        None => return Err("expected an :f key in the op map".into()),
    };
    let time = match m.remove("time") {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(-1),
        _ => -1,
    };
    let error = m.remove("error").and_then(|e| match e {
        Value::Null => None,
        Value::String(s) => Some(s.into_boxed_str()),
        other => Some(other.to_string().into_boxed_str()),
    });
    let node = match m.remove("node") {
        Some(Value::String(s)) => Some(s.into_boxed_str()),
        _ => None,
    };
    Ok(Some(Op {
        index: 0,
        time,
        process,
        kind,
        f,
        value: m.remove("value").unwrap_or(Value::Null),
        key: m.remove("key"),
        node,
        error,
    }))
}

/// A value's text, cut to a readable length for error messages.
pub(crate) fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        format!("{}...", s.chars().take(57).collect::<String>())
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_jepsen_forms() {
        assert_eq!(
            parse("{:a 1, :b [nil true \"x\"] :c #{:k}}").unwrap(),
            json!({"a": 1, "b": [null, true, "x"], "c": ["k"]})
        );
        assert_eq!(
            parse("(1 -2 3.5 4N) ; comment").unwrap(),
            json!([1, -2, 3.5, 4])
        );
        assert_eq!(
            parse("#jepsen.history.Op{:index 0, :f :read}").unwrap(),
            json!({"index": 0, "f": "read"})
        );
        assert_eq!(parse("[#_ 1 2]").unwrap(), json!([2]));
        assert_eq!(parse("{1 [2]}").unwrap(), json!({"1": [2]}));
    }

    #[test]
    fn errors_have_positions() {
        let e = parse("[1\n  2 ]]").unwrap_err();
        assert_eq!((e.line, e.column), (2, 6));
        let e = parse("{:a 1 :b}").unwrap_err();
        assert!(e.message.contains("value for key"), "{e:?}");
        let deep = "[".repeat(10_000);
        assert!(parse(&deep).unwrap_err().message.contains("nesting"));
    }

    #[test]
    fn integers_are_exact_or_refused() {
        assert_eq!(
            parse("[-0 -0N 9223372036854775808 18446744073709551615N 6/3 -9223372036854775808/-1]")
                .unwrap(),
            json!([
                0,
                0,
                9223372036854775808u64,
                u64::MAX,
                2,
                9223372036854775808u64
            ])
        );
        assert_eq!(parse("1/2").unwrap(), json!(0.5));
        for wide in [
            "18446744073709551616",
            "18446744073709551616N",
            "-9223372036854775809",
            "1/99999999999999999999",
        ] {
            let e = parse(&format!("[1\n {wide}]")).unwrap_err();
            assert_eq!((e.line, e.column), (2, 2), "{wide}");
            assert!(e.message.contains("does not fit in 64 bits"), "{e:?}");
        }
        assert!(parse("1/0").unwrap_err().message.contains("non-zero"));
        let text = "{:process 0, :type :ok, :f :read, :value 18446744073709551617N}";
        let e = read_history(Path::new("big.edn"), text).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("big.edn:1:42: {}", too_wide("18446744073709551617N"))
        );
    }

    #[test]
    fn reads_histories_in_both_shapes() {
        let vector = "[{:process 0, :type :invoke, :f :read, :value nil}\n {:process 0, :type :ok, :f :read, :value 3}]";
        let records = "#jepsen.history.Op{:index 0, :time 5, :type :invoke, :process 0, :f :read, :value nil}\n\
                       #jepsen.history.Op{:index 1, :time 9, :type :ok, :process 0, :f :read, :value 3}\n\
                       {:process :nemesis, :type :info, :f :start, :value nil}\n";
        let a = read_history(Path::new("a.edn"), vector).unwrap();
        let b = read_history(Path::new("b.edn"), records).unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!(b.len(), 3);
        assert_eq!(a[1].value, json!(3));
        assert_eq!(b[1].time, 9);
        assert_eq!(b[2].process, Process::Nemesis);
        assert_eq!(b.line_of(1), Some(2));
    }

    #[test]
    fn bad_op_names_its_position() {
        let text = "[{:process 0, :type :invoke, :f :read}\n {:process 0, :type :done, :f :read}]";
        let e = read_history(Path::new("h.edn"), text).unwrap_err();
        assert_eq!((e.line, e.column), (2, 2));
        assert!(e.message.contains(":done"), "{e}");
    }
}
