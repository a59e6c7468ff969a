//! The message diagram of a Maelstrom-mode run (as Maelstrom's
//! messages.svg): one lane per client, node and service, time downward,
//! an arrow per message from its sender at the send time to its receiver
//! at the delivery time; a message that was dropped (a partition, a loss
//! fault, a node that was down) ends in a red cross halfway. Hovering an
//! arrow shows the message. Drawn from `results.json`'s
//! `maelstrom.messages`, the first messages of the run.

use super::super::escape::html;
use serde_json::Value;
use std::fmt::Write;

/// Messages drawn at most.
const MAX: usize = 400;

/// The section, if the run has a message journal.
pub fn section(results: &Value) -> Option<String> {
    let msgs = results.pointer("/maelstrom/messages")?.as_array()?;
    if msgs.is_empty() {
        return None;
    }
    let shown = &msgs[..msgs.len().min(MAX)];
    // Lanes: clients, then nodes in the run's order, then services.
    let nodes: Vec<String> = results
        .pointer("/maelstrom/options/nodes")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let mut clients: Vec<String> = Vec::new();
    let mut services: Vec<String> = Vec::new();
    for m in shown {
        for k in ["src", "dest"] {
            let id = m[k].as_str().unwrap_or("").to_string();
            if nodes.contains(&id) || clients.contains(&id) || services.contains(&id) {
                continue;
            }
            if id.starts_with('c') && id[1..].bytes().all(|b| b.is_ascii_digit()) {
                clients.push(id);
            } else {
                services.push(id);
            }
        }
    }
    clients.sort_by_key(|c| c[1..].parse::<u64>().unwrap_or(0));
    let lanes: Vec<String> = clients.into_iter().chain(nodes).chain(services).collect();
    let lane = |id: &str| lanes.iter().position(|l| l == id);
    let t0 = shown
        .iter()
        .filter_map(|m| m["sent"].as_i64())
        .min()
        .unwrap_or(0);
    let t1 = shown
        .iter()
        .filter_map(|m| m["recv"].as_i64().or(m["sent"].as_i64()))
        .max()
        .unwrap_or(t0)
        .max(t0 + 1);
    let gap = (1060.0 / lanes.len().max(1) as f64).clamp(36.0, 140.0);
    let width = 60.0 + gap * lanes.len() as f64;
    let height = (shown.len() as f64 * 9.0).clamp(300.0, 3600.0);
    let top = 40.0;
    let x = |i: usize| 40.0 + gap * (i as f64 + 0.5);
    let y = |t: i64| top + (t - t0) as f64 / (t1 - t0) as f64 * height;
    let mut out = String::new();
    let _ = write!(
        out,
        "<h2 id=\"messages\">Messages</h2><p>The first {} of the run's messages ({} kept in results.json), time downward ({:.3} s to {:.3} s). Red crosses: dropped.</p>\
         <figure><svg class=\"messages\" viewBox=\"0 0 {width:.0} {:.0}\" width=\"{width:.0}\" role=\"img\" aria-label=\"message diagram\">",
        shown.len(),
        msgs.len(),
        t0 as f64 / 1e9,
        t1 as f64 / 1e9,
        height + top + 20.0
    );
    for (i, l) in lanes.iter().enumerate() {
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"24\" text-anchor=\"middle\" font-size=\"12\">{}</text>\
             <line x1=\"{:.1}\" y1=\"{top}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#ccc\"/>",
            x(i),
            html(l),
            x(i),
            x(i),
            top + height
        );
    }
    for m in shown {
        let (Some(a), Some(b)) = (
            lane(m["src"].as_str().unwrap_or("")),
            lane(m["dest"].as_str().unwrap_or("")),
        ) else {
            continue;
        };
        let sent = m["sent"].as_i64().unwrap_or(t0);
        let detail = format!(
            "{} → {} {} at {:.6} s: {}",
            m["src"].as_str().unwrap_or(""),
            m["dest"].as_str().unwrap_or(""),
            m["type"].as_str().unwrap_or(""),
            sent as f64 / 1e9,
            m["body"].as_str().unwrap_or("")
        );
        let client = a < lanes.len() && lanes[a].starts_with('c') || lanes[b].starts_with('c');
        let color = if client { "#1565c0" } else { "#555" };
        match m["recv"].as_i64() {
            Some(r) => {
                let _ = write!(
                    out,
                    "<g data-op=\"{}\"><line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{color}\" stroke-width=\"1.2\"/><circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.2\" fill=\"{color}\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"9\" fill=\"{color}\">{}</text></g>",
                    html(&detail),
                    x(a), y(sent), x(b), y(r), x(b), y(r),
                    (x(a) + x(b)) / 2.0, (y(sent) + y(r)) / 2.0 - 2.0,
                    html(m["type"].as_str().unwrap_or(""))
                );
            }
            None => {
                let (mx, my) = ((x(a) + x(b)) / 2.0, y(sent) + 6.0);
                let _ = write!(
                    out,
                    "<g data-op=\"dropped: {}\"><line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{mx:.1}\" y2=\"{my:.1}\" stroke=\"#c62828\" stroke-dasharray=\"3 2\"/><path d=\"M{:.1} {:.1}l6 6m0 -6l-6 6\" stroke=\"#c62828\" stroke-width=\"1.5\"/></g>",
                    html(&detail),
                    x(a), y(sent), mx - 3.0, my - 3.0
                );
            }
        }
    }
    out.push_str("</svg></figure>");
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn messages_become_arrows_and_drops_crosses_all_escaped() {
        let r = json!({"maelstrom": {"options": {"nodes": ["n0", "n1"]}, "messages": [
            {"id": 0, "src": "c0", "dest": "n0", "type": "init", "body": "{\"type\":\"init\"}", "sent": 1_000, "recv": 2_000},
            {"id": 1, "src": "n0", "dest": "n1", "type": "gossip<x>", "body": "<script>", "sent": 3_000, "recv": null},
            {"id": 2, "src": "n1", "dest": "lin-kv", "type": "read", "body": "{}", "sent": 3_500, "recv": 4_000}
        ]}});
        let s = section(&r).unwrap();
        assert_eq!(s.matches("<line x1").count(), 4 + 3, "4 lanes, 3 messages");
        assert!(s.contains("stroke=\"#c62828\""), "the drop is drawn");
        assert!(
            !s.contains("<script>")
                && s.contains("&lt;script&gt;")
                && s.contains("gossip&lt;x&gt;")
        );
        assert!(s.find(">c0<").unwrap() < s.find(">n0<").unwrap());
        assert!(s.find(">n1<").unwrap() < s.find(">lin-kv<").unwrap());
        assert!(section(&json!({"valid": true})).is_none());
    }
}
