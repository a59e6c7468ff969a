//! The search agrees with brute force on many small random histories.
//!
//! Histories come from three sources: a simulated linearizable register
//! (must be linearizable), the same with one read corrupted (usually not),
//! and arbitrary interleavings of random ops for the register, set and
//! queue models (either). Each has at most 8 ops, 2–4 processes and
//! indeterminate ops. Every valid verdict's witness must pass the
//! independent verifier (tests/verifier).

mod verifier;

use fastrand::Rng;
use faultline_checkers::model::{CasRegister, FifoQueue, Model, Scalar, Set};
use faultline_checkers::synth::{self, RegisterSpec};
use faultline_checkers::{brute, linear, History, Op, OpType, Process, Validity};
use serde_json::{json, Value};

const CASES: u64 = 10_000;

fn agree<M: Model>(model: &M, h: &History) -> Validity {
    let fast = linear::check(model, h, &Default::default()).unwrap().valid;
    let slow = brute::is_linearizable(model, h).unwrap();
    let slow = if slow {
        Validity::Valid
    } else {
        Validity::Invalid
    };
    assert_eq!(
        fast,
        slow,
        "search and brute force disagree on {:#?}",
        h.ops()
    );
    if fast == Validity::Valid {
        witnessed(model, h);
    }
    fast
}

/// Checks `h` again asking for a witness: same verdict, and the witness
/// (as the JSON `--witness` writes) passes the independent verifier.
fn witnessed<M: Model>(model: &M, h: &History) {
    let opts = linear::Options::default().with_witness(true);
    let a = linear::check(model, h, &opts).unwrap();
    assert_eq!(
        a.valid,
        Validity::Valid,
        "witness option changed the verdict"
    );
    let mut out = Vec::new();
    a.witness
        .expect("a valid verdict asked for a witness has one")
        .write_json("h", &mut out)
        .unwrap();
    let w: Value = serde_json::from_slice(&out).unwrap();
    if let Err(e) = verifier::verify(h, &w) {
        panic!("witness rejected: {e}\nwitness {w}\nhistory {:#?}", h.ops());
    }
}

/// Random interleaving of `n` ops from `procs` processes; `pick` invents
/// (f, invoke value, ok value) for each.
fn random_history(
    rng: &mut Rng,
    n: usize,
    procs: u64,
    pick: &mut dyn FnMut(&mut Rng) -> (&'static str, Value, Value),
) -> History {
    random_history_ending(rng, n, procs, pick, &mut |r, _| {
        let kind = match r.u64(..10) {
            0 => OpType::Info,
            1 => OpType::Fail,
            _ => OpType::Ok,
        };
        // An info op never completes, at times: pending forever.
        (kind != OpType::Info || r.f64() >= 0.3).then_some(kind)
    })
}

/// [`random_history`] with `end` choosing how each op (by its f) completes:
/// `None` leaves it pending forever.
fn random_history_ending(
    rng: &mut Rng,
    n: usize,
    procs: u64,
    pick: &mut dyn FnMut(&mut Rng) -> (&'static str, Value, Value),
    end: &mut dyn FnMut(&mut Rng, &str) -> Option<OpType>,
) -> History {
    let mut pending: Vec<Option<(u64, &'static str, Value)>> = vec![None; procs as usize];
    let mut ids: Vec<u64> = (0..procs).collect();
    let mut ops = Vec::new();
    let mut started = 0;
    while started < n || pending.iter().any(Option::is_some) {
        let p = rng.u64(..procs) as usize;
        match pending[p].take() {
            None if started < n => {
                started += 1;
                let (f, arg, ret) = pick(rng);
                ops.push(Op::new(0, Process::Client(ids[p]), OpType::Invoke, f, arg));
                pending[p] = Some((ids[p], f, ret));
            }
            None => {}
            Some((id, f, ret)) => {
                let Some(kind) = end(rng, f) else {
                    ids[p] += procs;
                    continue;
                };
                ops.push(Op::new(0, Process::Client(id), kind, f, ret));
                if kind == OpType::Info {
                    ids[p] += procs;
                }
            }
        }
    }
    History::new(ops)
}

#[test]
fn simulated_registers_are_linearizable_and_corruptions_agree() {
    let mut corrupt_invalid = 0;
    for seed in 0..CASES {
        let mut rng = Rng::with_seed(seed);
        let spec = RegisterSpec {
            ops: 1 + rng.u64(..8) as usize,
            processes: 2 + rng.u64(..3) as usize,
            keys: 0,
            info: 0.2,
            values: 3,
            cas: true,
        };
        let h = synth::register_history(&spec, seed);
        let m = CasRegister::new(Scalar::Null);
        assert_eq!(
            agree(&m, &h),
            Validity::Valid,
            "simulated history must be linearizable"
        );
        if let Some(bad) = synth::corrupt_read(&h, seed) {
            if agree(&m, &bad) == Validity::Invalid {
                corrupt_invalid += 1;
            }
        }
    }
    assert!(
        corrupt_invalid > (CASES as usize) / 5,
        "only {corrupt_invalid} corruptions were invalid"
    );
}

#[test]
fn random_register_histories_agree() {
    let (mut valid, mut invalid) = (0, 0);
    for seed in 0..CASES {
        let mut rng = Rng::with_seed(seed ^ 0xabc);
        let n = 1 + rng.u64(..8) as usize;
        let procs = 2 + rng.u64(..3);
        let h = random_history(&mut rng, n, procs, &mut |r| match r.u64(..3) {
            0 => (
                "read",
                Value::Null,
                if r.f64() < 0.2 {
                    Value::Null
                } else {
                    json!(r.u64(..3))
                },
            ),
            1 => {
                let v = json!(r.u64(..3));
                ("write", v.clone(), v)
            }
            _ => {
                let v = json!([r.u64(..3), r.u64(..3)]);
                ("cas", v.clone(), v)
            }
        });
        match agree(&CasRegister::new(Scalar::Null), &h) {
            Validity::Valid => valid += 1,
            _ => invalid += 1,
        }
    }
    assert!(
        valid > 1000 && invalid > 1000,
        "valid {valid}, invalid {invalid}"
    );
}

#[test]
fn random_set_and_queue_histories_agree() {
    for seed in 0..CASES / 2 {
        let mut rng = Rng::with_seed(seed ^ 0x5e7);
        let n = 1 + rng.u64(..7) as usize;
        let h = random_history(&mut rng, n, 2 + seed % 3, &mut |r| {
            if r.f64() < 0.6 {
                let v = json!(r.u64(..3));
                ("add", v.clone(), v)
            } else {
                let seen: Vec<u64> = (0..3).filter(|_| r.f64() < 0.4).collect();
                ("read", Value::Null, json!(seen))
            }
        });
        agree(&Set, &h);
        let mut rng = Rng::with_seed(seed ^ 0x9e9e);
        let h = random_history(&mut rng, n, 2 + seed % 3, &mut |r| {
            let v = json!(r.u64(..3));
            if r.f64() < 0.5 {
                ("enqueue", v.clone(), v)
            } else {
                (
                    "dequeue",
                    Value::Null,
                    if r.f64() < 0.2 { Value::Null } else { v },
                )
            }
        });
        agree(&FifoQueue, &h);
    }
}

/// Reads return a value written so far (or about to be), the initial
/// `null`, or rarely one nobody writes; writes write fresh values, so the
/// register shortcuts' unique-values decision takes these histories.
fn unique_register_history(rng: &mut Rng, n: usize, procs: u64) -> History {
    let mut next = 0u64;
    random_history(rng, n, procs, &mut |r| {
        if r.f64() < 0.45 {
            next += 1;
            ("write", json!(next), json!(next))
        } else {
            let v = match r.u64(..10) {
                0 => Value::Null,
                1 => json!(next + 1 + r.u64(..2)),
                _ => json!(r.u64(..next + 1).max(1)),
            };
            ("read", Value::Null, v)
        }
    })
}

/// The unique-values decision (no search) agrees with brute force on small
/// histories, and its witnesses pass the verifier; most of them are
/// decided without the search (no configurations explored).
#[test]
fn unique_value_registers_agree_with_brute_force() {
    let (mut valid, mut invalid, mut decided) = (0, 0, 0);
    let m = CasRegister::new(Scalar::Null);
    for seed in 0..CASES {
        let mut rng = Rng::with_seed(seed ^ 0x0411);
        let n = 1 + rng.u64(..9) as usize;
        let procs = 2 + rng.u64(..3);
        let h = unique_register_history(&mut rng, n, procs);
        match agree(&m, &h) {
            Validity::Valid => valid += 1,
            _ => invalid += 1,
        }
        let a = linear::check(&m, &h, &Default::default()).unwrap();
        if a.configurations == 0 {
            decided += 1;
        }
    }
    assert!(
        valid > 1500 && invalid > 1500 && decided > CASES * 9 / 10,
        "valid {valid}, invalid {invalid}, decided without the search {decided}"
    );
}

/// On larger unique-value histories (too large for brute force) the
/// shortcuts agree with the search run without them, whether the history
/// is simulated (linearizable), corrupted, or random; witnesses verified.
#[test]
fn unique_value_registers_agree_with_the_search() {
    let m = CasRegister::new(Scalar::Null);
    let exact = linear::Options::default()
        .with_shortcuts(false)
        .with_time_limit(Some(std::time::Duration::from_secs(20)));
    let (mut valid, mut invalid, mut searched) = (0, 0, 0);
    for seed in 0..CASES / 5 {
        let mut rng = Rng::with_seed(seed ^ 0x0412);
        let spec = RegisterSpec {
            ops: 10 + rng.u64(..50) as usize,
            processes: 2 + rng.u64(..5) as usize,
            keys: 0,
            info: 0.25,
            values: 0,
            cas: false,
        };
        let simulated = synth::register_history(&spec, seed);
        let mut cases = vec![simulated.clone()];
        cases.extend(synth::corrupt_read(&simulated, seed));
        cases.extend(stale_read(&simulated, &mut rng));
        let n = 10 + rng.u64(..30) as usize;
        let procs = 2 + rng.u64(..4);
        cases.push(unique_register_history(&mut rng, n, procs));
        for h in &cases {
            let fast = linear::check(&m, h, &Default::default()).unwrap();
            let slow = linear::check(&m, h, &exact).unwrap();
            assert_ne!(slow.valid, Validity::Unknown, "the search gave up");
            if fast.configurations > 0 {
                searched += 1;
            }
            assert_eq!(
                fast.valid,
                slow.valid,
                "shortcuts and search disagree on {:#?}",
                h.ops()
            );
            match fast.valid {
                Validity::Valid => {
                    valid += 1;
                    witnessed(&m, h);
                }
                _ => invalid += 1,
            }
        }
    }
    assert!(
        valid > 500 && invalid > 500 && searched < (valid + invalid) / 20,
        "valid {valid}, invalid {invalid}, left to the search {searched}"
    );
}

/// `h` with one `ok` read changed to return another value some write in
/// `h` wrote (or the initial `null`): a stale or early read, not an
/// impossible one. `None` without ok reads and writes.
fn stale_read(h: &History, rng: &mut Rng) -> Option<History> {
    let mut ops = h.ops().to_vec();
    let written: Vec<Value> = ops
        .iter()
        .filter(|o| o.kind == OpType::Invoke && &*o.f == "write")
        .map(|o| o.value.clone())
        .collect();
    let reads: Vec<usize> = (0..ops.len())
        .filter(|&i| ops[i].kind == OpType::Ok && &*ops[i].f == "read")
        .collect();
    if written.is_empty() || reads.is_empty() {
        return None;
    }
    let r = reads[rng.usize(..reads.len())];
    let v = if rng.u64(..8) == 0 {
        Value::Null
    } else {
        written[rng.usize(..written.len())].clone()
    };
    ops[r].value = v;
    Some(History::new(ops))
}

/// Writes and cas that time out and never complete, of a few values, among
/// completed reads and writes: the shape of etcd histories under
/// partitions, where the search only ever linearizes the earliest invoked
/// of interchangeable indeterminate ops. Brute force tries every subset
/// and order; the search without the register shortcuts must agree.
#[test]
fn many_equal_indeterminate_writes_agree_with_brute_force() {
    let (mut valid, mut invalid) = (0, 0);
    let no_shortcuts = linear::Options::default().with_shortcuts(false);
    for seed in 0..CASES / 2 {
        let mut rng = Rng::with_seed(seed ^ 0x7e1f);
        let n = 4 + rng.usize(..6);
        let procs = 3 + rng.u64(..3);
        let h = random_history_ending(
            &mut rng,
            n,
            procs,
            &mut |r| match r.u64(..5) {
                0 | 1 => ("read", Value::Null, json!(r.u64(..3))),
                2 | 3 => {
                    let v = json!(r.u64(..2));
                    ("write", v.clone(), v)
                }
                _ => {
                    let v = json!([r.u64(..2), r.u64(..3)]);
                    ("cas", v.clone(), v)
                }
            },
            // Writes and cas time out and never complete, often.
            &mut |r, f| (f == "read" || r.f64() >= 0.6).then_some(OpType::Ok),
        );
        let m = CasRegister::new(Scalar::Null);
        let fast = linear::check(&m, &h, &no_shortcuts).unwrap().valid;
        let slow = brute::is_linearizable(&m, &h).unwrap();
        assert_eq!(
            fast == Validity::Valid,
            slow,
            "search and brute force disagree on {:#?}",
            h.ops()
        );
        if slow {
            valid += 1;
            witnessed(&m, &h);
        } else {
            invalid += 1;
        }
    }
    assert!(
        valid > 500 && invalid > 500,
        "valid {valid}, invalid {invalid}"
    );
}
