//! Jepsen's checkers on simulated correct systems: every history is valid;
//! and one acknowledged element, increment, deposit, enqueue or id taken
//! away (or doubled) is caught.

use faultline_checkers::jepsen::sim::{self, Spec, Workload};
use faultline_checkers::jepsen::{self, Options};
use faultline_checkers::{Datum, History, Op, OpType, Validity};
use serde_json::{json, Value};

fn spec(workload: Workload, keys: usize) -> Spec {
    Spec {
        ops: 300,
        processes: 5,
        keys,
        per_key: 20,
        // An indeterminate dequeue may take an element nobody sees: the
        // queue's verdict is then unknown, so its runs have none.
        info: if workload == Workload::Queue {
            0.0
        } else {
            0.03
        },
        workload,
    }
}

#[test]
fn an_indeterminate_dequeue_makes_a_missing_element_unknown() {
    let h = sim::history(
        &Spec {
            info: 0.05,
            ..spec(Workload::Queue, 0)
        },
        0,
    );
    let (v, json) = verdict("total-queue", &h);
    assert_ne!(v, Validity::Invalid, "{json}");
}

fn verdict(name: &str, h: &History) -> (Validity, Value) {
    let r = jepsen::check(name, &h.map_values(Datum::of), &Options::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    (r.valid, r.json)
}

/// The history with op `i` replaced by `f(op)`.
fn with(h: &History, i: usize, f: impl FnOnce(&mut Op)) -> History {
    let mut ops = h.ops().to_vec();
    f(&mut ops[i]);
    History::new(ops)
}

/// The last ok op of `f` whose value satisfies `p`.
fn last_ok(h: &History, f: &str, p: impl Fn(&Value) -> bool) -> Option<usize> {
    h.ops()
        .iter()
        .rposition(|o| o.kind == OpType::Ok && &*o.f == f && p(&o.value))
}

#[test]
fn correct_systems_are_valid() {
    let cases = [
        ("set", Workload::Set, 0),
        ("set-full", Workload::Set, 0),
        ("set-full", Workload::Set, 3),
        ("counter", Workload::Counter, 0),
        ("bank", Workload::Bank, 0),
        ("total-queue", Workload::Queue, 0),
        ("unique-ids", Workload::UniqueIds, 0),
        ("long-fork", Workload::LongFork, 0),
        ("stats", Workload::Counter, 0),
    ];
    for (name, w, keys) in cases {
        for seed in 0..100 {
            let h = sim::history(&spec(w, keys), seed);
            let (v, json) = verdict(name, &h);
            assert_eq!(v, Validity::Valid, "{name} seed {seed}: {json}");
        }
    }
}

#[test]
fn one_thing_taken_away_is_caught() {
    for seed in 0..100 {
        // Set: the final read misses an acknowledged element.
        let h = sim::history(&spec(Workload::Set, 0), seed);
        let i = last_ok(&h, "read", |v| v.as_array().is_some_and(|a| !a.is_empty())).unwrap();
        let gone = with(&h, i, |o| {
            o.value.as_array_mut().unwrap().remove(0);
        });
        let (v, json) = verdict("set", &gone);
        if json["lost_count"] == json!(1) {
            assert_eq!(v, Validity::Invalid, "set seed {seed}: {json}");
        }
        assert_eq!(
            verdict("set-full", &gone).0,
            Validity::Invalid,
            "set-full seed {seed}"
        );

        // Counter: a read one above what any add explains.
        let h = sim::history(&spec(Workload::Counter, 0), seed);
        let i = last_ok(&h, "read", |_| true).unwrap();
        let total: i64 = h
            .ops()
            .iter()
            .filter(|o| o.kind == OpType::Invoke && &*o.f == "add")
            .filter_map(|o| o.value.as_i64())
            .sum();
        let high = with(&h, i, |o| o.value = json!(total + 1));
        assert_eq!(
            verdict("counter", &high).0,
            Validity::Invalid,
            "counter seed {seed}"
        );

        // Bank: a read that lost one deposit.
        let h = sim::history(&spec(Workload::Bank, 0), seed);
        let i = last_ok(&h, "read", |_| true).unwrap();
        let short = with(&h, i, |o| {
            let b = o.value["3"].as_i64().unwrap();
            o.value["3"] = json!(b - 1);
        });
        let (v, json) = verdict("bank", &short);
        assert_eq!(v, Validity::Invalid, "bank seed {seed}: {json}");
        assert!(json["errors"].get("wrong-total").is_some(), "{json}");

        // Queue: the drain misses an acknowledged element.
        let h = sim::history(&spec(Workload::Queue, 0), seed);
        let i = last_ok(&h, "drain", |v| v.as_array().is_some_and(|a| !a.is_empty()));
        if let Some(i) = i {
            let v0 = h.ops()[i].value[0].clone();
            let acked = h
                .ops()
                .iter()
                .any(|o| o.kind == OpType::Ok && &*o.f == "enqueue" && o.value == v0);
            let gone = with(&h, i, |o| {
                o.value.as_array_mut().unwrap().remove(0);
            });
            if acked {
                assert_eq!(
                    verdict("total-queue", &gone).0,
                    Validity::Invalid,
                    "queue seed {seed}"
                );
            }
        }

        // Unique ids: one id returned twice.
        let h = sim::history(&spec(Workload::UniqueIds, 0), seed);
        let first = h.ops().iter().position(|o| o.kind == OpType::Ok).unwrap();
        let last = last_ok(&h, "generate", |_| true).unwrap();
        let id = h.ops()[first].value.clone();
        let twice = with(&h, last, |o| o.value = id);
        assert_eq!(
            verdict("unique-ids", &twice).0,
            Validity::Invalid,
            "ids seed {seed}"
        );
    }
}

#[test]
fn one_big_set_is_valid_and_its_faults_are_named() {
    for seed in 0..20 {
        let spec = |faulty| sim::OneSetSpec {
            ops: 2000,
            processes: 5,
            reads: 8,
            info: 0.05,
            faulty,
        };
        let h = sim::one_set(&spec(false), seed);
        let (v, json) = verdict("set-full", &h);
        assert_eq!(v, Validity::Valid, "seed {seed}: {json}");
        assert_eq!(json["stale_count"], json!(0), "seed {seed}: {json}");
        let (v, json) = verdict("set-full", &sim::one_set(&spec(true), seed));
        assert_eq!(v, Validity::Invalid, "seed {seed}: {json}");
        assert_eq!(json["lost_count"], json!(1), "seed {seed}: {json}");
        assert_eq!(json["stale_count"], json!(1), "seed {seed}: {json}");
        assert_eq!(json["worst_stale"].as_array().map(Vec::len), Some(1));
    }
}
