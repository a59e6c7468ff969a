//! Witnesses: every linearizable verdict comes with an order that an
//! independent verifier (tests/verifier, its own pairing and model code)
//! accepts, for every model, every bundled valid history and generated
//! histories; corrupted witnesses are rejected, so the verifier is not
//! vacuous; positions count every event the reader accepted, in file
//! order, whatever the format and whatever `index` the file claims.

mod common;
mod verifier;

use faultline_checkers::format::{self, Format};
use faultline_checkers::linear::{self, Options};
use faultline_checkers::model::{CasRegister, FifoQueue, Kv, Model, Register, Scalar, Set};
use faultline_checkers::synth::{self, RegisterSpec};
use faultline_checkers::{History, OpType, Validity};
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

/// Checks with a witness; returns the verdict and the witness as the JSON
/// `--witness` writes, parsed back.
fn witness<M: Model>(model: &M, h: &History) -> (Validity, Option<Value>) {
    let a = linear::check(model, h, &Options::default().with_witness(true)).unwrap();
    let w = a.witness.map(|w| {
        let mut out = Vec::new();
        w.write_json("f", &mut out).unwrap();
        serde_json::from_slice(&out).unwrap()
    });
    assert_eq!(a.valid == Validity::Valid, w.is_some(), "{:?}", a.valid);
    (a.valid, w)
}

/// The witness of a history that must be valid, verified.
fn verified<M: Model>(model: &M, h: &History) -> Value {
    let (v, w) = witness(model, h);
    assert_eq!(v, Validity::Valid);
    let w = w.unwrap();
    if let Err(e) = verifier::verify(h, &w) {
        panic!("witness rejected: {e}\nwitness {w}\nhistory {:#?}", h.ops());
    }
    w
}

fn read(format: Format, text: &str) -> History {
    format::read_str(format, Path::new("t"), text).unwrap_or_else(|e| panic!("{e}"))
}

/// `w` with partition `part`'s order replaced by `order`.
fn with_order(w: &Value, part: usize, order: Vec<usize>) -> Value {
    let mut w = w.clone();
    w["partitions"][part]["order"] = json!(order);
    w
}

fn order(w: &Value, part: usize) -> Vec<usize> {
    serde_json::from_value(w["partitions"][part]["order"].clone()).unwrap()
}

/// The verifier rejects `w`, saying which rule broke.
fn rejected(h: &History, w: &Value, rule: &str) {
    match verifier::verify(h, w) {
        Ok(()) => panic!("corrupted witness accepted: {w}"),
        Err(e) => assert!(e.contains(rule), "expected {rule}, got {e}"),
    }
}

/// Corrupts a valid witness of `h` three ways (swap two ops ordered by real
/// time, drop an ok op, add a failed op) and checks each is rejected.
/// Returns which of the swap and the added failed op `h` allowed.
fn corruptions_rejected(h: &History, w: &Value) -> (bool, bool) {
    let pairs = h.pairs().unwrap();
    let done = |p: usize| {
        pairs
            .iter()
            .find(|x| x.invoke == p)
            .filter(|x| x.outcome(h) == OpType::Ok)
            .and_then(|x| x.completion)
    };
    // A history whose ops all failed has no partition: corrupt an empty one.
    let mut w = w.clone();
    if w["partitions"] == json!([]) {
        w["partitions"] = json!([{"key": null, "order": []}]);
        verifier::verify(h, &w).unwrap();
    }
    let w = &w;
    let parts = w["partitions"].as_array().unwrap().len();
    let part = (0..parts).max_by_key(|&i| order(w, i).len()).unwrap();
    let o = order(w, part);
    // Swap: an op and a later one invoked after it completed.
    let swap = (0..o.len()).find_map(|a| {
        let d = done(o[a])?;
        (a + 1..o.len()).find(|&b| o[b] > d).map(|b| (a, b))
    });
    if let Some((a, b)) = swap {
        let mut s = o.clone();
        s.swap(a, b);
        rejected(h, &with_order(w, part, s), "rule 1");
    }
    // Drop an ok op (one history has none: every op failed).
    if let Some(ok) = o.iter().position(|&p| done(p).is_some()) {
        let mut d = o.clone();
        d.remove(ok);
        rejected(h, &with_order(w, part, d), "rule 3");
    }
    // Add a failed op.
    let failed = pairs.iter().find(|x| x.outcome(h) == OpType::Fail);
    if let Some(f) = failed {
        let mut a = o.clone();
        a.insert(a.len() / 2, f.invoke);
        rejected(h, &with_order(w, part, a), "rule 3");
    }
    (swap.is_some(), failed.is_some())
}

#[test]
fn every_valid_bundled_history_has_a_verified_witness() {
    let (mut valid, mut swapped, mut with_fail) = (0, 0, 0);
    for dir in ["jepsen-etcd", "knossos-cas-register"] {
        let tsv = std::fs::read_to_string(common::data(&format!("{dir}/VERDICTS.tsv"))).unwrap();
        for line in tsv.lines().filter(|l| !l.is_empty()) {
            let (file, verdict) = line.split_once('\t').unwrap();
            let h = format::read_path(&common::data(&format!("{dir}/{file}")), None).unwrap();
            let m = CasRegister::new(Scalar::Null);
            if verdict == "linearizable" {
                let w = verified(&m, &h);
                assert_eq!(w["model"], "cas-register");
                valid += 1;
                let (swap, fail) = corruptions_rejected(&h, &w);
                swapped += swap as usize;
                with_fail += fail as usize;
            } else {
                assert_eq!(witness(&m, &h), (Validity::Invalid, None), "{file}");
            }
        }
    }
    assert_eq!(valid, 32, "valid histories in VERDICTS.tsv");
    assert!(
        swapped >= 30,
        "only {swapped} witnesses had two ops to swap"
    );
    assert!(with_fail > 0, "no valid history had a failed op to add");
}

/// One history in three formats: nemesis events, a failed write, an info
/// cas that must have taken effect, and (in JSONL and both EDN shapes)
/// `index` fields that lie about file order (the EDN records' `time` runs
/// backwards too); the log has noise lines between events.
const EVENTS: [(&str, &str, &str, &str); 10] = [
    ("nemesis", "info", "start-partition", "null"),
    ("0", "invoke", "write", "1"),
    ("1", "invoke", "write", "2"),
    ("1", "fail", "write", "2"),
    ("0", "ok", "write", "1"),
    ("nemesis", "info", "stop-partition", "null"),
    ("2", "invoke", "cas", "[1, 3]"),
    ("2", "info", "cas", "[1, 3]"),
    ("3", "invoke", "read", "null"),
    ("3", "ok", "read", "3"),
];

#[test]
fn positions_count_every_accepted_event_in_file_order() {
    let mut jsonl = String::new();
    let mut edn = String::from("[");
    let mut records = String::new();
    let mut log = String::from("INFO  jepsen.core - Running test\n");
    for (i, (p, t, f, v)) in EVENTS.iter().enumerate() {
        let jp = if *p == "nemesis" {
            "\"nemesis\"".to_string()
        } else {
            p.to_string()
        };
        jsonl += &format!(
            "{{\"index\": {}, \"process\": {jp}, \"type\": \"{t}\", \"f\": \"{f}\", \"value\": {v}}}\n\n",
            100 - i
        );
        let ep = if *p == "nemesis" {
            ":nemesis".to_string()
        } else {
            p.to_string()
        };
        let ev = v.replace("null", "nil").replace(',', "");
        edn += &format!("{{:index 7, :process {ep}, :type :{t}, :f :{f}, :value {ev}}}\n");
        records += &format!(
            "#jepsen.history.Op{{:index {i}, :time {}, :type :{t}, :process {ep}, :f :{f}, :value {ev}}}\n",
            1000 - i
        );
        log += &format!("INFO  jepsen.util - {ep}\t:{t}\t:{f}\t{ev}\nWARN  noise\n");
    }
    edn += "]";
    for (format, text) in [
        (Format::Jsonl, jsonl),
        (Format::Edn, edn),
        (Format::Edn, records),
        (Format::JepsenLog, log),
    ] {
        let h = read(format, &text);
        assert_eq!(h.len(), EVENTS.len());
        let w = verified(&CasRegister::new(Scalar::Null), &h);
        assert_eq!(order(&w, 0), vec![1, 6, 8], "{format:?}");
        assert_eq!(w["partitions"][0]["key"], Value::Null);
        assert_eq!(w["initial_value"], Value::Null);
    }
}

/// A JSONL history from (process, type, f, value) rows.
fn jsonl(rows: &[(u64, &str, &str, Value)]) -> History {
    let text: String = rows
        .iter()
        .map(|(p, t, f, v)| format!("{}\n", json!({"process": p, "type": t, "f": f, "value": v})))
        .collect();
    read(Format::Jsonl, &text)
}

#[test]
fn all_five_models_have_verified_witnesses() {
    let reg = jsonl(&[
        (0, "invoke", "read", json!(null)),
        (1, "invoke", "write", json!(5)),
        (0, "ok", "read", json!(0)),
        (1, "ok", "write", json!(5)),
        (2, "invoke", "read", json!(null)),
        (2, "ok", "read", json!(5)),
    ]);
    let w = verified(&Register::new(Scalar::Int(0)), &reg);
    assert_eq!(
        (w["model"].as_str(), &w["initial_value"]),
        (Some("register"), &json!(0))
    );
    assert_eq!(order(&w, 0), vec![0, 1, 4]);
    // The same with the wrong initial value is rejected.
    let mut bad = w.clone();
    bad["initial_value"] = json!(null);
    rejected(&reg, &bad, "rule 2");
    // A cas in a register witness is not a register op.
    let cas = jsonl(&[
        (0, "invoke", "cas", json!([null, 1])),
        (0, "ok", "cas", json!([null, 1])),
    ]);
    let w = verified(&CasRegister::new(Scalar::Null), &cas);
    let mut bad = w.clone();
    bad["model"] = json!("register");
    rejected(&cas, &bad, "rule 2");

    let set = jsonl(&[
        (0, "invoke", "add", json!(1)),
        (1, "invoke", "read", json!(null)),
        (2, "invoke", "add", json!(2)),
        (2, "info", "add", json!(2)),
        (1, "ok", "read", json!([2, 1])),
        (0, "ok", "add", json!(1)),
    ]);
    let w = verified(&Set, &set);
    assert_eq!(
        (w["model"].as_str(), &w["initial_value"]),
        (Some("set"), &json!([]))
    );
    let queue = jsonl(&[
        (0, "invoke", "enqueue", json!(1)),
        (0, "ok", "enqueue", json!(1)),
        (1, "invoke", "enqueue", json!(2)),
        (2, "invoke", "dequeue", json!(null)),
        (2, "ok", "dequeue", json!(1)),
        (3, "invoke", "dequeue", json!(null)),
        (3, "ok", "dequeue", json!(2)),
        (4, "invoke", "dequeue", json!(null)),
        (4, "ok", "dequeue", json!(null)),
    ]);
    let w = verified(&FifoQueue, &queue);
    assert_eq!(w["model"], "fifo-queue");
    // The search tries completed ops before indeterminate ones: the first
    // dequeue takes effect before the never-completed enqueue of 2.
    assert_eq!(order(&w, 0), vec![0, 3, 2, 5, 7]);
    // Without the never-completed enqueue, nothing holds the 2 dequeued.
    rejected(&queue, &with_order(&w, 0, vec![0, 3, 5, 7]), "rule 2");

    // kv, with a `key` field and with Jepsen's [key, value] tuples.
    let keyed = "{\"process\":0,\"type\":\"invoke\",\"f\":\"write\",\"key\":\"a\",\"value\":1}\n\
                 {\"process\":1,\"type\":\"invoke\",\"f\":\"write\",\"key\":\"b\",\"value\":2}\n\
                 {\"process\":0,\"type\":\"ok\",\"f\":\"write\",\"key\":\"a\",\"value\":1}\n\
                 {\"process\":1,\"type\":\"ok\",\"f\":\"write\",\"key\":\"b\",\"value\":2}\n\
                 {\"process\":0,\"type\":\"invoke\",\"f\":\"read\",\"key\":\"b\",\"value\":null}\n\
                 {\"process\":0,\"type\":\"ok\",\"f\":\"read\",\"key\":\"b\",\"value\":2}\n";
    let tuples = "{:process 0, :type :invoke, :f :write, :value [\"a\" 1]}\n\
                  {:process 1, :type :invoke, :f :write, :value [\"b\" 2]}\n\
                  {:process 0, :type :ok, :f :write, :value [\"a\" 1]}\n\
                  {:process 1, :type :ok, :f :write, :value [\"b\" 2]}\n\
                  {:process 0, :type :invoke, :f :read, :value [\"b\" nil]}\n\
                  {:process 0, :type :ok, :f :read, :value [\"b\" 2]}\n";
    for h in [read(Format::Jsonl, keyed), read(Format::Edn, tuples)] {
        let w = verified(&Kv::new(Scalar::Null), &h);
        assert_eq!(
            w["partitions"],
            json!([{"key": "a", "order": [0]}, {"key": "b", "order": [1, 4]}])
        );
        // An op filed under the wrong key.
        let mut bad = w.clone();
        bad["partitions"] = json!([{"key": "a", "order": [0, 4]}, {"key": "b", "order": [1]}]);
        rejected(&h, &bad, "rule 3");
        // Two partitions with one key would replay from two states.
        bad["partitions"] = json!([{"key": "a", "order": [0]}, {"key": "a", "order": [1, 4]}]);
        rejected(&h, &bad, "rule 3");
    }
}

#[test]
fn the_verifier_rejects_corrupted_witnesses() {
    let nemesis = "{\"process\":\"nemesis\",\"type\":\"info\",\"f\":\"kill\",\"value\":null}\n";
    let ops = [
        (0, "invoke", "write", json!(1)),
        (1, "invoke", "read", json!(null)),
        (1, "ok", "read", json!(1)),
        (0, "ok", "write", json!(1)),
        (2, "invoke", "write", json!(2)),
        (2, "fail", "write", json!(2)),
        (3, "invoke", "read", json!(null)),
        (3, "ok", "read", json!(1)),
    ];
    let text: String = ops
        .iter()
        .map(|(p, t, f, v)| format!("{}\n", json!({"process": p, "type": t, "f": f, "value": v})))
        .collect::<String>()
        + nemesis;
    let h = read(Format::Jsonl, &text);
    let w = verified(&CasRegister::new(Scalar::Null), &h);
    assert_eq!(order(&w, 0), vec![0, 1, 6]);
    // Swapping two concurrent ops changes a result.
    rejected(&h, &with_order(&w, 0, vec![1, 0, 6]), "rule 2");
    // Swapping ops ordered by real time.
    rejected(&h, &with_order(&w, 0, vec![0, 6, 1]), "rule 1");
    // Dropping an ok op, adding a failed one, repeating one.
    rejected(&h, &with_order(&w, 0, vec![0, 6]), "rule 3");
    rejected(&h, &with_order(&w, 0, vec![0, 1, 4, 6]), "rule 3");
    rejected(&h, &with_order(&w, 0, vec![0, 1, 1, 6]), "rule 3");
    // A completion, a nemesis event, a position past the end.
    rejected(&h, &with_order(&w, 0, vec![0, 1, 6, 3]), "rule 3");
    rejected(&h, &with_order(&w, 0, vec![0, 1, 6, 8]), "rule 3");
    rejected(&h, &with_order(&w, 0, vec![0, 1, 6, 99]), "rule 3");
    // A partition under a key the ops do not have.
    let mut bad = w.clone();
    bad["partitions"][0]["key"] = json!(7);
    rejected(&h, &bad, "rule 3");
    // No partitions at all: the ok ops are missing.
    bad["partitions"] = json!([]);
    rejected(&h, &bad, "rule 3");
}

#[test]
fn no_witness_unless_asked_for_and_valid() {
    let h = read(Format::Jsonl, &{
        let rows = [
            (0, "invoke", "write", json!(1)),
            (0, "ok", "write", json!(1)),
            (1, "invoke", "read", json!(null)),
            (1, "ok", "read", json!(2)),
        ];
        rows.iter()
            .map(|(p, t, f, v)| {
                format!("{}\n", json!({"process": p, "type": t, "f": f, "value": v}))
            })
            .collect::<String>()
    });
    let m = CasRegister::new(Scalar::Null);
    assert_eq!(witness(&m, &h), (Validity::Invalid, None));
    let ok = synth::register_history(
        &RegisterSpec {
            ops: 50,
            processes: 3,
            keys: 0,
            info: 0.1,
            values: 3,
            cas: true,
        },
        1,
    );
    let a = linear::check(&m, &ok, &Options::default()).unwrap();
    assert_eq!((a.valid, a.witness), (Validity::Valid, None));
    // Unknown (a search that runs out of time): no witness either.
    let hard = synth::register_history(
        &RegisterSpec {
            ops: 3000,
            processes: 30,
            keys: 0,
            info: 0.3,
            values: 5,
            cas: false,
        },
        7,
    );
    let opts = Options::default()
        .with_witness(true)
        .with_time_limit(Some(Duration::from_millis(50)));
    let a = linear::check(&m, &hard, &opts).unwrap();
    assert_eq!((a.valid, a.witness), (Validity::Unknown, None));
}

#[test]
fn generated_histories_of_every_register_model_verify() {
    for seed in 0..300 {
        let spec = |keys, cas| RegisterSpec {
            ops: 1 + (seed % 60) as usize,
            processes: 2 + (seed % 5) as usize,
            keys,
            info: 0.15,
            values: 3,
            cas,
        };
        let h = synth::register_history(&spec(0, false), seed);
        verified(&Register::new(Scalar::Null), &h);
        let h = synth::register_history(&spec(0, true), seed);
        verified(&CasRegister::new(Scalar::Null), &h);
        let h = synth::register_history(&spec(4, true), seed);
        let w = verified(&Kv::new(Scalar::Null), &h);
        assert!(w["partitions"].as_array().unwrap().len() <= 4);
        if let Some(bad) = synth::corrupt_read(&h, seed) {
            if let (Validity::Valid, Some(w)) = witness(&Kv::new(Scalar::Null), &bad) {
                verifier::verify(&bad, &w).unwrap();
            }
        }
    }
}
