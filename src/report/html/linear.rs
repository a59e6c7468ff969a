//! A linearizability failure drawn as Porcupine draws it: the ops of the
//! failing key on per-process lanes around the failure, the end of the
//! longest linearizable prefix marked (its last ops numbered in
//! linearization order), the op that cannot be linearized highlighted, and
//! the model states reachable just before it. Hovering an op shows its
//! details and history lines.

use super::super::escape::html;
use super::super::facts::{Done, Facts};
use super::lanes::{draw, Bar};
use faultline_checkers::History;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt::Write;

/// Ops of the failing key drawn at most (the ones nearest the failure).
const MAX_OPS: usize = 300;
/// Ops at the end of the linearizable prefix numbered at most.
const NUMBERED: usize = 10;

/// The failure section for a linearizable checker's result `c`, or `None`
/// when it has no failure.
pub fn section(name: &str, c: &Value, history: &History, facts: &Facts) -> Option<String> {
    let failure = c.get("failure").filter(|f| f.is_object())?;
    let failing = failure.pointer("/op/invoke_index")?.as_u64()? as usize;
    let key = failure.get("key").filter(|k| !k.is_null());
    let ops = key_ops(history, facts, key, failing);
    let linearized = failure["linearized"].as_u64().unwrap_or(0) as usize;
    let mut tail: Vec<usize> = indexes(failure.get("prefix_tail"));
    // Number the prefix's last few ops only: more would clutter the lanes.
    let first = linearized.saturating_sub(tail.len().min(NUMBERED));
    tail.drain(..tail.len().saturating_sub(NUMBERED));
    let mut marked = tail.clone();
    marked.push(failing);
    marked.extend(indexes(failure.get("concurrent")));
    let (shown, t0, t1) = window(&ops, failing, &marked)?;
    let order: HashMap<usize, usize> = tail
        .iter()
        .enumerate()
        .map(|(i, ix)| (*ix, first + i + 1))
        .collect();
    let bars: Vec<Bar> = shown.iter().map(|d| bar(d, failing, &order)).collect();
    let mut out = String::new();
    let _ = write!(
        out,
        "<section id=\"failure\" class=\"failure\"><h2>{}: not linearizable{}</h2>",
        html(name),
        key.map_or(String::new(), |k| format!(
            " (key {})",
            html(&k.to_string())
        ))
    );
    // The register shortcuts say why in words; the search's prefix is
    // there only when a search confirmed it.
    let why = match failure.get("reason").and_then(Value::as_str) {
        Some(r) => {
            let r = r.trim_end_matches('.');
            let mut c = r.chars();
            let r: String = c
                .next()
                .map_or(String::new(), |f| f.to_uppercase().chain(c).collect());
            format!(" {}.", html(&r))
        }
        None => String::new(),
    };
    let prefix = if tail.is_empty() && why.is_empty() {
        format!(" The longest linearizable prefix has {linearized} ops.")
    } else if tail.is_empty() {
        String::new()
    } else {
        format!(
            " The longest linearizable prefix has {linearized} ops; its last {} are outlined in green and \
             numbered in linearization order.",
            tail.len()
        )
    };
    let _ = write!(
        out,
        "<p>The op in <span class=\"swatch failing\"></span> red, <code>{}</code>, cannot be linearized.\
         {why}{prefix} Hover an op for its details.</p>",
        html(&op_text(failure)),
    );
    out.push_str(&draw(
        history,
        &bars,
        t0,
        t1,
        "ops of the failing key around the failure",
    ));
    states(&mut out, failure);
    out.push_str("</section>");
    Some(out)
}

/// The client ops of the failing key (all client ops if the key recorded
/// in the failure matches none that holds the failing op).
fn key_ops<'a>(
    history: &History,
    facts: &'a Facts,
    key: Option<&Value>,
    failing: usize,
) -> Vec<&'a Done> {
    let ops: Vec<&Done> = facts
        .ops
        .iter()
        .filter(|d| history[d.invoke].key.as_ref() == key)
        .collect();
    if ops.iter().any(|d| d.invoke == failing) {
        ops
    } else {
        facts.ops.iter().collect()
    }
}

/// The time window around the `marked` ops (the failing op, the prefix's
/// tail, the concurrent ops), padded by a tenth, and the ops in it (at
/// most [`MAX_OPS`], the nearest to the failing op).
fn window<'a>(
    ops: &[&'a Done],
    failing: usize,
    marked: &[usize],
) -> Option<(Vec<&'a Done>, i64, i64)> {
    let me = ops.iter().find(|d| d.invoke == failing)?;
    let around = ops.iter().filter(|d| marked.contains(&d.invoke));
    let t0 = around.clone().map(|d| d.start).min().unwrap_or(me.start);
    let t1 = around.map(|d| d.end).max().unwrap_or(me.end);
    let pad = ((t1 - t0) / 10).max(1_000_000);
    let (t0, t1) = (t0 - pad, t1 + pad);
    let mut shown: Vec<&Done> = ops
        .iter()
        .copied()
        .filter(|d| d.end >= t0 && d.start <= t1)
        .collect();
    if shown.len() > MAX_OPS {
        shown.sort_by_key(|d| (d.start - me.start).abs());
        shown.truncate(MAX_OPS);
    }
    Some((shown, t0, t1))
}

/// One op's bar: the failing op highlighted, the prefix's numbered.
fn bar<'a>(d: &'a Done, failing: usize, order: &HashMap<usize, usize>) -> Bar<'a> {
    let (class, id) = if d.invoke == failing {
        ("failing-op", Some("failing-op"))
    } else if order.contains_key(&d.invoke) {
        ("linearized", None)
    } else {
        ("", None)
    };
    Bar {
        done: d,
        class,
        badge: order.get(&d.invoke).map(|n| format!("#{n}")),
        id,
    }
}

/// `process 7 :read null`, the failing op as the failure names it.
fn op_text(failure: &Value) -> String {
    failure.pointer("/op").map_or(String::new(), |o| {
        format!(
            "process {} :{} {}",
            o["process"],
            o["f"].as_str().unwrap_or("?"),
            o["value"]
        )
    })
}

/// The model states reachable just before the failing op, as a list.
fn states(out: &mut String, failure: &Value) {
    out.push_str("<h3>Model states reachable just before it</h3><ul class=\"states\">");
    for s in failure["states"].as_array().into_iter().flatten() {
        let text = s.as_str().map_or_else(|| s.to_string(), String::from);
        let _ = write!(out, "<li><code>{}</code></li>", html(&text));
    }
    out.push_str("</ul>");
}

/// The `invoke_index` of each op summary in a list.
fn indexes(list: Option<&Value>) -> Vec<usize> {
    list.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|o| o["invoke_index"].as_u64())
                .map(|i| i as usize)
                .collect()
        })
        .unwrap_or_default()
}
