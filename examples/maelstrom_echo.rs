//! A minimal single-threaded Maelstrom echo node (workload `echo`; expected
//! verdict: valid), built for messages-per-second benchmarks: one reused
//! input line, one reused output buffer, borrowed strings where the JSON has
//! no escapes, and a flush per reply line.
//!
//! The protocol is Maelstrom's (jepsen-io/maelstrom); this code is original.
//! Unknown request types with a `msg_id` get error 10 (not-supported);
//! anything else unknown is ignored. Exits 0 when stdin closes.

use serde::Deserialize;
use std::borrow::Cow;
use std::io::{self, BufRead, BufWriter, Write};

#[derive(Deserialize)]
struct Msg<'a> {
    #[serde(borrow)]
    src: Cow<'a, str>,
    #[serde(borrow)]
    dest: Cow<'a, str>,
    #[serde(borrow)]
    body: Body<'a>,
}

#[derive(Deserialize)]
struct Body<'a> {
    #[serde(rename = "type", borrow)]
    ty: Cow<'a, str>,
    msg_id: Option<u64>,
    in_reply_to: Option<u64>,
    #[serde(default)]
    echo: Option<serde_json::Value>,
    #[serde(borrow, default)]
    node_id: Option<Cow<'a, str>>,
}

fn head(out: &mut Vec<u8>, src: &str, dest: &str, ty: &str, msg_id: u64, reply_to: u64) {
    out.clear();
    out.extend_from_slice(b"{\"src\":");
    serde_json::to_writer(&mut *out, src).expect("string to JSON");
    out.extend_from_slice(b",\"dest\":");
    serde_json::to_writer(&mut *out, dest).expect("string to JSON");
    out.extend_from_slice(b",\"body\":{\"type\":\"");
    out.extend_from_slice(ty.as_bytes());
    // Writing integers into a Vec cannot fail.
    let _ = write!(out, "\",\"msg_id\":{msg_id},\"in_reply_to\":{reply_to}");
}

fn main() -> io::Result<()> {
    let stdin = io::stdin();
    let mut input = stdin.lock();
    let mut output = BufWriter::new(io::stdout().lock());
    let mut line = String::new();
    let mut out: Vec<u8> = Vec::with_capacity(256);
    let mut node_id = String::new();
    let mut next_id: u64 = 0;
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            break;
        }
        let text = line.trim_end();
        if text.is_empty() {
            continue;
        }
        let msg: Msg = match serde_json::from_str(text) {
            Ok(m) => m,
            Err(e) => {
                eprintln!("bad input line: {e}");
                continue;
            }
        };
        let Some(req_id) = msg.body.msg_id else {
            continue;
        };
        if msg.body.in_reply_to.is_some() {
            continue;
        }
        next_id += 1;
        let me: &str = if node_id.is_empty() {
            &msg.dest
        } else {
            &node_id
        };
        match &*msg.body.ty {
            "echo" => {
                head(&mut out, me, &msg.src, "echo_ok", next_id, req_id);
                out.extend_from_slice(b",\"echo\":");
                let echo = msg.body.echo.as_ref().unwrap_or(&serde_json::Value::Null);
                serde_json::to_writer(&mut out, echo).expect("value to JSON");
            }
            "init" => {
                if let Some(id) = &msg.body.node_id {
                    node_id = id.to_string();
                }
                let me: &str = if node_id.is_empty() {
                    &msg.dest
                } else {
                    &node_id
                };
                head(&mut out, me, &msg.src, "init_ok", next_id, req_id);
            }
            other => {
                head(&mut out, me, &msg.src, "error", next_id, req_id);
                out.extend_from_slice(
                    b",\"code\":10,\"text\":\"unsupported message type\",\"unsupported\":",
                );
                serde_json::to_writer(&mut out, other).expect("string to JSON");
            }
        }
        out.extend_from_slice(b"}}\n");
        output.write_all(&out)?;
        output.flush()?;
    }
    output.flush()
}
