//! Property tests for the history readers: no input makes them panic, and
//! what the JSONL writer writes reads back the same.

use faultline_checkers::format::{self, Format};
use faultline_checkers::{Datum, History, Op, OpType, Process};
use proptest::prelude::*;
use serde_json::json;
use std::path::Path;

/// Text built from the tokens each format uses, so inputs get past the
/// first character often.
fn tokenish() -> impl Strategy<Value = String> {
    let tokens = prop::sample::select(vec![
        "{",
        "}",
        "[",
        "]",
        "(",
        ")",
        "#{",
        "#_",
        "#jepsen.history.Op",
        ":process",
        ":type",
        ":invoke",
        ":ok",
        ":info",
        ":f",
        ":read",
        ":value",
        "nil",
        "1",
        "-7",
        "3.5",
        "9999999999999999999999",
        "18446744073709551616",
        "-0",
        "1/0",
        "6/3N",
        "\"s\\\"",
        "\"x\"",
        ",",
        " ",
        "\t",
        "\n",
        ";c",
        "\\",
        "INFO  jepsen.util - ",
        ":nemesis",
        "\"process\":",
        "\"type\":\"ok\"",
        "\"f\":\"cas\"",
        "\"value\":",
        "null",
        "é",
        "\u{0}",
        ":",
    ]);
    prop::collection::vec(tokens, 0..60).prop_map(|v| v.concat())
}

/// JSON texts of values of every kind: nested lists and objects (with
/// repeated keys), integers at the edges of 64 bits, `-0`, floats, strings
/// with escapes.
fn json_text() -> impl Strategy<Value = String> {
    let leaf = prop::sample::select(vec![
        "null",
        "true",
        "false",
        "0",
        "1",
        "-0",
        "-7",
        "3.5",
        "-0.0",
        "1e3",
        "9223372036854775807",
        "9223372036854775808",
        "18446744073709551615",
        "-9223372036854775808",
        "\"a\"",
        "\"\\u00e9\\\"\"",
        "\"r\"",
    ])
    .prop_map(String::from);
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(|xs| format!("[{}]", xs.join(","))),
            prop::collection::vec(
                (prop::sample::select(vec!["a", "b", "k", "é"]), inner),
                0..5
            )
            .prop_map(|kv| {
                let entries: Vec<String> = kv.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                format!("{{{}}}", entries.join(","))
            }),
        ]
    })
}

/// The compact reader agrees with the JSON one: the same ops (as compact
/// values) or an error at the same place.
fn compact_agrees(text: &str) {
    let path = Path::new("c.jsonl");
    let compact = format::jsonl::read_as::<Datum>(path, text);
    match (format::jsonl::read(path, text), compact) {
        (Ok(json), Ok(compact)) => {
            let json = json.map_values(Datum::of);
            assert_eq!(json.ops(), compact.ops(), "{text:?}");
            for (a, b) in json.ops().iter().zip(compact.ops()) {
                assert_eq!(a.value.to_string(), b.value.to_string());
                assert_eq!(a.value.to_value(), b.value.to_value());
            }
        }
        (Err(a), Err(b)) => assert_eq!((a.line, a.column), (b.line, b.column), "{a} / {b}"),
        (a, b) => panic!("{text:?}: json {:?}, compact {:?}", a.err(), b.err()),
    }
}

fn all_readers(text: &str) {
    compact_agrees(text);
    for f in [Format::Jsonl, Format::Edn, Format::JepsenLog] {
        match format::read_str(f, Path::new("p"), text) {
            Ok(h) => {
                let _ = h.pairs();
            }
            // Only "this is no history at all" has no position.
            Err(e) if e.line == 0 => assert!(
                f == Format::JepsenLog && e.message.starts_with("no Jepsen log op lines"),
                "{f:?}: {e}"
            ),
            Err(e) => assert!(e.column >= 1, "{f:?}: {e}"),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn readers_never_panic_on_arbitrary_text(s in any::<String>()) {
        all_readers(&s);
    }

    #[test]
    fn readers_never_panic_on_token_soup(s in tokenish()) {
        all_readers(&s);
    }

    #[test]
    fn compact_values_read_as_json_values_do(vals in prop::collection::vec((json_text(), json_text()), 1..8)) {
        let text: String = vals
            .iter()
            .map(|(v, k)| format!("{{\"process\":0,\"type\":\"ok\",\"f\":\"read\",\"value\":{v},\"key\":{k}}}\n"))
            .collect();
        compact_agrees(&text);
    }

    #[test]
    fn integers_read_exactly_or_not_at_all(n in any::<i128>(), shift in 0u32..70) {
        let n = n >> shift;
        let fits = i64::try_from(n).is_ok() || u64::try_from(n).is_ok();
        let json = format!("{{\"process\":0,\"type\":\"ok\",\"f\":\"read\",\"value\":[{n}]}}");
        let edn = format!("{{:process 0 :type :ok :f :read :value [{n}N]}}");
        for (f, text) in [(Format::Jsonl, json), (Format::Edn, edn)] {
            match format::read_str(f, Path::new("n"), &text) {
                Ok(h) => {
                    prop_assert!(fits, "{f:?} read {n}");
                    prop_assert_eq!(h[0].value[0].to_string(), n.to_string());
                }
                Err(e) => {
                    prop_assert!(!fits, "{f:?}: {e}");
                    prop_assert!(e.message.contains("does not fit in 64 bits"), "{}", e);
                }
            }
        }
    }

    #[test]
    fn jsonl_round_trips(ops in prop::collection::vec((0u64..50, 0u8..4, prop::sample::select(vec!["read", "write", "cas", "add"]), -5i64..5, any::<bool>()), 0..40)) {
        let ops: Vec<Op> = ops.into_iter().map(|(p, t, f, v, nem)| {
            let kind = [OpType::Invoke, OpType::Ok, OpType::Fail, OpType::Info][t as usize];
            let process = if nem { Process::Nemesis } else { Process::Client(p) };
            let mut op = Op::new(0, process, kind, f, json!([v, "x"]));
            op.time = v * 1000;
            op
        }).collect();
        let h = History::new(ops);
        let mut buf = Vec::new();
        format::jsonl::write(&mut buf, &h).unwrap();
        let back = format::jsonl::read(Path::new("r"), std::str::from_utf8(&buf).unwrap()).unwrap();
        prop_assert_eq!(back.ops(), h.ops());
    }
}
