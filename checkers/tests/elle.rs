//! The transactional checker: injected anomalies are reported under their
//! Elle names (and nothing unrelated), simulated databases get the verdicts
//! their isolation levels deserve, and EDN and JSONL forms agree.

use faultline_checkers::elle::synth::{self, Isolation, Spec};
use faultline_checkers::elle::{check, models, Analysis, Options, Workload};
use faultline_checkers::format::{self, Format};
use faultline_checkers::{History, Op, OpType, Process, Validity};
use serde_json::{json, Value};
use std::path::Path;

/// Txns one after another: (process, type, completion value). The
/// invocation carries the same micro-ops with reads unknown.
fn seq(txns: &[(u64, OpType, Value)]) -> History {
    let mut ops = Vec::new();
    for (p, kind, value) in txns {
        let invoke = Value::Array(
            value
                .as_array()
                .unwrap()
                .iter()
                .map(|m| {
                    if m[0] == "r" {
                        json!(["r", m[1], null])
                    } else {
                        m.clone()
                    }
                })
                .collect(),
        );
        ops.push(Op::new(
            0,
            Process::Client(*p),
            OpType::Invoke,
            "txn",
            invoke,
        ));
        ops.push(Op::new(0, Process::Client(*p), *kind, "txn", value.clone()));
    }
    History::new(ops)
}

fn ok(p: u64, v: Value) -> (u64, OpType, Value) {
    (p, OpType::Ok, v)
}

fn run(h: &History, w: Workload) -> Analysis {
    check(h, w, &Options::default()).unwrap()
}

fn assert_only(a: &Analysis, names: &[&str]) {
    assert_eq!(a.anomaly_types, names, "{:#?}", a.anomalies);
    assert_eq!(a.valid, Validity::Invalid);
    for n in names {
        let ex = &a.anomalies[*n].examples[0];
        assert!(!ex.explanation.is_empty());
    }
}

#[test]
fn g0_write_cycle() {
    let h = seq(&[
        ok(0, json!([["append", "x", 1], ["append", "y", 1]])),
        ok(1, json!([["append", "x", 2], ["append", "y", 2]])),
        ok(2, json!([["r", "x", [1, 2]], ["r", "y", [2, 1]]])),
    ]);
    let a = run(&h, Workload::ListAppend);
    assert_only(&a, &["G0"]);
    let text = &a.anomalies["G0"].examples[0].explanation;
    assert!(
        text.contains("appended 2 to key \"x\" right after"),
        "{text}"
    );
}

#[test]
fn g1a_aborted_read() {
    let h = seq(&[
        (0, OpType::Fail, json!([["append", "x", 1]])),
        ok(1, json!([["r", "x", [1]]])),
    ]);
    assert_only(
        &run(&h, Workload::ListAppend),
        &["G1a", "empty-transaction-graph"],
    );
}

#[test]
fn g1b_intermediate_read() {
    let h = seq(&[
        ok(0, json!([["append", "x", 1], ["append", "x", 2]])),
        ok(1, json!([["r", "x", [1]]])),
        ok(2, json!([["r", "x", [1, 2]]])),
    ]);
    // Reading T0's intermediate state is also an rw edge back to T0.
    assert_only(&run(&h, Workload::ListAppend), &["G-single-item", "G1b"]);
}

#[test]
fn g1c_circular_information_flow() {
    let h = seq(&[
        ok(0, json!([["append", "x", 1], ["r", "y", [1]]])),
        ok(1, json!([["append", "y", 1], ["r", "x", [1]]])),
    ]);
    let a = run(&h, Workload::ListAppend);
    assert_only(&a, &["G1c"]);
    let text = &a.anomalies["G1c"].examples[0].explanation;
    assert!(
        text.contains("read key \"x\" = [1], which includes T0's append of 1"),
        "{text}"
    );
}

#[test]
fn g_single_read_skew() {
    let h = seq(&[
        ok(0, json!([["r", "x", []], ["r", "y", [1]]])),
        ok(1, json!([["append", "x", 1], ["append", "y", 1]])),
        ok(2, json!([["r", "x", [1]]])),
    ]);
    let a = run(&h, Workload::ListAppend);
    assert_only(&a, &["G-single-item"]);
    let text = &a.anomalies["G-single-item"].examples[0].explanation;
    assert!(
        text.contains(
            "T0 read key \"x\" = [], the initial empty list, which T1 changed by appending 1"
        ),
        "{text}"
    );
    assert!(
        a.also_not.contains(&"snapshot-isolation"),
        "{:?}",
        a.also_not
    );
}

#[test]
fn g2_item_write_skew() {
    let h = seq(&[
        ok(
            0,
            json!([["r", "x", []], ["r", "y", []], ["append", "x", 1]]),
        ),
        ok(
            1,
            json!([["r", "x", []], ["r", "y", []], ["append", "y", 1]]),
        ),
        ok(2, json!([["r", "x", [1]], ["r", "y", [1]]])),
    ]);
    let a = run(&h, Workload::ListAppend);
    assert_only(&a, &["G2-item"]);
    assert!(a.not.contains(&"repeatable-read"), "{:?}", a.not);
    assert!(a.also_not.contains(&"serializable"), "{:?}", a.also_not);
    let si = check(
        &h,
        Workload::ListAppend,
        &Options::default().with_models(vec!["snapshot-isolation".into()]),
    )
    .unwrap();
    assert_eq!(
        si.valid,
        Validity::Valid,
        "write skew is allowed under snapshot isolation"
    );
}

#[test]
fn lost_update_comes_with_its_cycle() {
    let h = seq(&[
        ok(0, json!([["r", "x", []], ["append", "x", 1]])),
        ok(1, json!([["r", "x", []], ["append", "x", 2]])),
        ok(2, json!([["r", "x", [1, 2]]])),
    ]);
    assert_only(
        &run(&h, Workload::ListAppend),
        &["G-single-item", "lost-update"],
    );
}

#[test]
fn data_anomalies() {
    let internal = seq(&[ok(0, json!([["append", "x", 1], ["r", "x", []]]))]);
    assert_only(
        &run(&internal, Workload::ListAppend),
        &["empty-transaction-graph", "internal"],
    );
    let dup = seq(&[
        ok(0, json!([["append", "x", 1]])),
        ok(1, json!([["r", "x", [1, 1]]])),
    ]);
    assert_only(&run(&dup, Workload::ListAppend), &["duplicate-elements"]);
    let order = seq(&[
        ok(0, json!([["append", "x", 1]])),
        ok(1, json!([["append", "x", 2]])),
        ok(2, json!([["r", "x", [1, 2]]])),
        ok(3, json!([["r", "x", [2, 1]]])),
    ]);
    assert_only(&run(&order, Workload::ListAppend), &["incompatible-order"]);
    let future = seq(&[ok(0, json!([["r", "x", [1]], ["append", "x", 1]]))]);
    assert_only(
        &run(&future, Workload::ListAppend),
        &["empty-transaction-graph", "future-read"],
    );
    let dirty = seq(&[
        (0, OpType::Fail, json!([["append", "x", 1]])),
        ok(1, json!([["append", "x", 2]])),
        ok(2, json!([["r", "x", [1, 2]]])),
    ]);
    assert_only(&run(&dirty, Workload::ListAppend), &["G1a", "dirty-update"]);
}

#[test]
fn rw_register_anomalies() {
    let cyclic = seq(&[
        ok(0, json!([["r", "x", 1], ["w", "x", 2]])),
        ok(1, json!([["r", "x", 2], ["w", "x", 1]])),
    ]);
    let a = run(&cyclic, Workload::RwRegister);
    assert!(
        a.anomaly_types.contains(&"cyclic-versions".to_string()),
        "{:?}",
        a.anomaly_types
    );
    let skew = seq(&[
        ok(
            0,
            json!([["r", "x", null], ["r", "y", null], ["w", "x", 1]]),
        ),
        ok(
            1,
            json!([["r", "x", null], ["r", "y", null], ["w", "y", 1]]),
        ),
    ]);
    assert_only(&run(&skew, Workload::RwRegister), &["G2-item"]);
    let aborted = seq(&[
        (0, OpType::Fail, json!([["w", "x", 1]])),
        ok(1, json!([["r", "x", 1]])),
    ]);
    assert_only(
        &run(&aborted, Workload::RwRegister),
        &["G1a", "empty-transaction-graph"],
    );
    let internal = seq(&[
        ok(0, json!([["w", "x", 1], ["r", "x", 2]])),
        ok(1, json!([["w", "x", 2]])),
    ]);
    assert!(run(&internal, Workload::RwRegister)
        .anomaly_types
        .contains(&"internal".to_string()));
}

#[test]
fn realtime_edges_catch_stale_reads_under_strict_serializability() {
    // T1 appends and completes; T2 starts afterwards and does not see it.
    let h = seq(&[
        ok(0, json!([["append", "x", 1]])),
        ok(1, json!([["r", "x", []]])),
        ok(2, json!([["r", "x", [1]]])),
    ]);
    assert_eq!(
        run(&h, Workload::ListAppend).valid,
        Validity::Valid,
        "serializable: T2 may go first"
    );
    let strict = check(
        &h,
        Workload::ListAppend,
        &Options::default().with_models(vec!["strict-serializable".into()]),
    )
    .unwrap();
    assert_eq!(
        strict.anomaly_types,
        ["G-single-item-realtime"],
        "{:#?}",
        strict.anomalies
    );
    assert!(strict.anomalies["G-single-item-realtime"].examples[0]
        .explanation
        .contains("completed"));
}

fn spec(isolation: Isolation, workload: Workload, txns: usize) -> Spec {
    Spec {
        txns,
        processes: 5,
        keys: 4,
        max_writes_per_key: 0,
        max_ops: 4,
        info: 0.05,
        workload,
        isolation,
    }
}

#[test]
fn serial_histories_are_valid_under_every_model() {
    for workload in [Workload::ListAppend, Workload::RwRegister] {
        for seed in 0..20 {
            let h = synth::history(&spec(Isolation::Serial, workload, 300), seed);
            let opts = Options::default()
                .with_models(models::names().iter().map(|m| m.to_string()).collect());
            let a = check(&h, workload, &opts).unwrap();
            assert_eq!(
                a.valid,
                Validity::Valid,
                "{:?} seed {seed}: {:#?}",
                workload,
                a.anomalies
            );
        }
    }
}

#[test]
fn snapshot_isolation_shows_write_skew_but_nothing_si_forbids() {
    let mut skew = 0;
    for seed in 0..20 {
        let h = synth::history(
            &spec(Isolation::SnapshotIsolation, Workload::ListAppend, 400),
            seed,
        );
        let a = check(
            &h,
            Workload::ListAppend,
            &Options::default().with_models(vec!["snapshot-isolation".into()]),
        )
        .unwrap();
        assert_eq!(a.valid, Validity::Valid, "seed {seed}: {:#?}", a.anomalies);
        // Allowed under SI: found, but not reported as a violation.
        if a.allowed.contains_key("G2-item") {
            skew += 1;
        }
    }
    assert!(skew > 0, "write skew never showed up");
}

#[test]
fn read_committed_breaks_serializability() {
    let mut broken = 0;
    for seed in 0..10 {
        let h = synth::history(
            &spec(Isolation::ReadCommitted, Workload::ListAppend, 400),
            seed,
        );
        let a = check(
            &h,
            Workload::ListAppend,
            &Options::default().with_models(vec!["read-committed".into()]),
        )
        .unwrap();
        assert_eq!(a.valid, Validity::Valid, "seed {seed}: {:#?}", a.anomalies);
        let ser = check(&h, Workload::ListAppend, &Options::default()).unwrap();
        if ser.valid == Validity::Invalid {
            broken += 1;
        }
    }
    assert!(
        broken >= 5,
        "only {broken} of 10 read-committed runs broke serializability"
    );
}

#[test]
fn edn_and_jsonl_give_the_same_result() {
    let edn = "[{:process 0, :type :invoke, :f :txn, :value [[:append :x 1] [:r :y nil]]}\n\
               {:process 0, :type :ok, :f :txn, :value [[:append :x 1] [:r :y [1]]]}\n\
               {:process 1, :type :invoke, :f :txn, :value [[:append :y 1] [:r :x nil]]}\n\
               {:process 1, :type :ok, :f :txn, :value [[:append :y 1] [:r :x [1]]]}]";
    let from_edn = format::read_str(Format::Edn, Path::new("h.edn"), edn).unwrap();
    let mut buf = Vec::new();
    format::jsonl::write(&mut buf, &from_edn).unwrap();
    let from_jsonl = format::read_str(
        Format::Jsonl,
        Path::new("h.jsonl"),
        std::str::from_utf8(&buf).unwrap(),
    )
    .unwrap();
    let (a, b) = (
        run(&from_edn, Workload::ListAppend),
        run(&from_jsonl, Workload::ListAppend),
    );
    assert_eq!(a.anomaly_types, ["G1c"]);
    assert_eq!(
        serde_json::to_value(&a).unwrap(),
        serde_json::to_value(&b).unwrap()
    );
}

#[test]
fn g_nonadjacent_is_found_even_when_a_shorter_cycle_exists() {
    // T0 -rw-> T1 -wr-> T2 -rw-> T3 -wr-> T0: two rw edges, never adjacent.
    let h = seq(&[
        ok(0, json!([["r", "x", []], ["r", "w", [1]]])),
        ok(1, json!([["append", "x", 1], ["append", "y", 1]])),
        ok(2, json!([["r", "y", [1]], ["r", "z", []]])),
        ok(3, json!([["append", "z", 1], ["append", "w", 1]])),
        ok(4, json!([["r", "x", [1]], ["r", "z", [1]]])),
    ]);
    let a = run(&h, Workload::ListAppend);
    assert_only(&a, &["G-nonadjacent-item"]);
    assert!(a.not.contains(&"snapshot-isolation"), "{:?}", a.not);
}

/// Write skew with appends no read observed: each txn reads the other's
/// key empty (Elle's `previously-appended-element`).
fn unobserved_write_skew() -> History {
    seq(&[
        ok(0, json!([["append", "x", 1], ["r", "y", []]])),
        ok(1, json!([["append", "y", 1], ["r", "x", []]])),
    ])
}

#[test]
fn write_skew_between_unobserved_appends_is_found() {
    let a = run(&unobserved_write_skew(), Workload::ListAppend);
    assert_only(&a, &["G2-item"]);
}

#[test]
fn a_search_cut_short_still_decides_the_verdict() {
    let mut opts = Options::default();
    opts.budget = 1;
    let a = check(&unobserved_write_skew(), Workload::ListAppend, &opts).unwrap();
    assert_eq!(a.valid, Validity::Invalid, "{a:#?}");
    assert_eq!(a.anomaly_types, ["PL-3-cycle-exists"]);
    assert!(!a.incomplete.is_empty());
    let si = check(
        &unobserved_write_skew(),
        Workload::ListAppend,
        &opts.clone().with_models(vec!["snapshot-isolation".into()]),
    )
    .unwrap();
    assert_eq!(si.valid, Validity::Valid, "write skew is allowed under SI");
}

#[test]
fn limits_reached_before_the_graph_make_it_unknown() {
    let h = unobserved_write_skew();
    let mem = check(
        &h,
        Workload::ListAppend,
        &Options::default().with_memory_limit(Some(1)),
    )
    .unwrap();
    assert_eq!(mem.valid, Validity::Unknown);
    assert!(mem
        .unknown
        .as_deref()
        .unwrap_or("")
        .contains("memory limit"));
    let time = check(
        &h,
        Workload::ListAppend,
        &Options::default().with_time_limit(Some(std::time::Duration::ZERO)),
    )
    .unwrap();
    assert_eq!(time.valid, Validity::Unknown);
    assert!(time.unknown.as_deref().unwrap_or("").contains("time limit"));
    // A limit too large to represent is no limit, not a panic.
    let huge = check(
        &h,
        Workload::ListAppend,
        &Options::default().with_time_limit(Some(std::time::Duration::MAX)),
    )
    .unwrap();
    assert_eq!(huge.valid, Validity::Invalid);
}

#[test]
fn a_history_with_no_dependencies_is_unknown_not_valid() {
    let h = seq(&[
        ok(0, json!([["append", "x", 1]])),
        ok(1, json!([["append", "y", 1]])),
    ]);
    let a = run(&h, Workload::ListAppend);
    assert_eq!(a.valid, Validity::Unknown);
    assert_eq!(a.anomaly_types, ["empty-transaction-graph"]);
}

#[test]
fn duplicate_appends_and_unexplained_reads_are_not_valid() {
    let dup = seq(&[
        ok(0, json!([["append", "x", 1]])),
        ok(1, json!([["append", "x", 1]])),
        ok(2, json!([["r", "x", [1]]])),
    ]);
    let a = run(&dup, Workload::ListAppend);
    assert_eq!(a.valid, Validity::Unknown);
    assert_eq!(a.anomaly_types, ["duplicate-appends"]);
    let ghost = seq(&[
        ok(0, json!([["append", "x", 1]])),
        ok(1, json!([["r", "x", [1, 7]]])),
    ]);
    let a = run(&ghost, Workload::ListAppend);
    assert_eq!(a.valid, Validity::Unknown, "{:?}", a.anomaly_types);
    assert!(a.anomaly_types.contains(&"unexplained-element".to_string()));
    let reg = seq(&[ok(0, json!([["w", "x", 1]])), ok(1, json!([["r", "x", 9]]))]);
    let a = run(&reg, Workload::RwRegister);
    assert_eq!(a.valid, Validity::Unknown, "{:?}", a.anomaly_types);
}

#[test]
fn an_intermediate_read_is_also_an_anti_dependency() {
    // T1 reads T0's intermediate state: T0 -wr-> T1 and T1 -rw-> T0.
    let h = seq(&[
        ok(0, json!([["append", "x", 1], ["append", "x", 2]])),
        ok(1, json!([["r", "x", [1]]])),
    ]);
    let a = run(&h, Workload::ListAppend);
    assert_only(&a, &["G-single-item", "G1b"]);
}

#[test]
fn data_cycles_are_found_whatever_models_are_asked_for() {
    // A pure-data G-nonadjacent-item cycle, all on one process: asking for
    // strict serializability must not hide it behind process edges.
    let h = seq(&[
        ok(0, json!([["r", "x", []], ["r", "w", [1]]])),
        ok(0, json!([["append", "x", 1], ["append", "y", 1]])),
        ok(0, json!([["r", "y", [1]], ["r", "z", []]])),
        ok(0, json!([["append", "z", 1], ["append", "w", 1]])),
        ok(1, json!([["r", "x", [1]], ["r", "z", [1]]])),
    ]);
    let ser = run(&h, Workload::ListAppend);
    let strict = check(
        &h,
        Workload::ListAppend,
        &Options::default().with_models(vec!["strict-serializable".into()]),
    )
    .unwrap();
    assert!(ser
        .anomaly_types
        .contains(&"G-nonadjacent-item".to_string()));
    assert!(strict
        .anomaly_types
        .contains(&"G-nonadjacent-item".to_string()));
    assert_eq!(ser.not, strict.not);
    assert_eq!(ser.may_satisfy, strict.may_satisfy);
    assert!(!strict.may_satisfy.contains(&"serializable"));
}

#[test]
fn an_interrupt_stops_the_check_before_the_graph() {
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;
    let flag = Arc::new(AtomicBool::new(true));
    let a = check(
        &unobserved_write_skew(),
        Workload::ListAppend,
        &Options::default().with_interrupt(Some(flag)),
    )
    .unwrap();
    assert_eq!(a.valid, Validity::Unknown);
    assert!(a.unknown.as_deref().unwrap_or("").contains("interrupted"));
}
