//! After a run: the checkers the spec asked for, run over the recorded
//! history, merged into one verdict, `results.json` and a terminal summary
//! (verdict per checker, op counts by f and type, latencies). When the
//! linearizable checker finds the history valid, its proof goes to
//! `witness.json` beside `history.jsonl` ([`Results::write_witness`]).

use crate::spec::{Plan, WorkloadKind, WorkloadOptions};
use faultline_checkers::elle;
use faultline_checkers::linear::{self, Options};
use faultline_checkers::model::{CasRegister, Register, Scalar, Set};
use faultline_checkers::{Datum, History, OpType, Process, Validity};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

/// The outcome of checking one run.
pub struct Results {
    /// Merged verdict.
    pub valid: Validity,
    /// `results.json`.
    pub json: Value,
    /// Terminal summary.
    pub text: String,
    /// The linearizable checker's witness, when it found the history valid.
    pub witness: Option<linear::Witness>,
}

impl Results {
    /// Adds the result of a checker computed outside [`check`] (one that
    /// looks at the nodes rather than the history: db-alive, log-pattern):
    /// merges its verdict, keeps its result in `checkers`, and adds its
    /// lines to the summary.
    pub fn add(&mut self, name: &str, valid: Validity, result: Value, lines: &[String]) {
        self.valid = self.valid.merge(valid);
        self.json["valid"] = json!(self.valid);
        if !self.json["checkers"].is_object() {
            self.json["checkers"] = json!({});
        }
        self.json["checkers"][name] = result;
        let _ = writeln!(self.text, "{name}: {valid}");
        for l in lines {
            let _ = writeln!(self.text, "  {l}");
        }
    }

    /// Writes the witness, if any, to `dir/witness.json` (naming the
    /// history as `history.jsonl`, the file beside it); returns whether
    /// there was one.
    pub fn write_witness(&self, dir: &std::path::Path) -> std::io::Result<bool> {
        let Some(w) = &self.witness else {
            return Ok(false);
        };
        let out = std::fs::File::create(dir.join("witness.json"))?;
        w.write_json("history.jsonl", out)?;
        Ok(true)
    }
}

/// What the checkers need to know of a run: which to run, over what
/// workload, with which options. A `faultline test` run takes it from its
/// plan ([`Checks::of`]); Maelstrom mode builds its own.
#[derive(Clone, Debug)]
pub struct Checks {
    /// Checker names, in order.
    pub checkers: Vec<String>,
    /// The workload the history comes from.
    pub workload: WorkloadKind,
    /// Workload options (bank accounts, set-full's linearizable reads, ...).
    pub workload_options: WorkloadOptions,
    /// Consistency models for the elle checker.
    pub consistency_models: Vec<String>,
}

impl Checks {
    /// The checks a test plan asks for.
    pub fn of(plan: &Plan) -> Checks {
        Checks {
            checkers: plan.checkers.clone(),
            workload: plan.workload,
            workload_options: plan.workload_options.clone(),
            consistency_models: plan.consistency_models.clone(),
        }
    }
}

/// One of Jepsen's checkers (`set`, `set-full`, `counter`, `bank`,
/// `total-queue`, `unique-ids`, `long-fork`), with the spec's options.
fn jepsen_checker(
    plan: &Checks,
    name: &str,
    history: &History<Datum>,
    text: &mut String,
) -> (Validity, Value) {
    let opts = plan.workload_options.jepsen(plan.workload);
    match faultline_checkers::jepsen::check(name, history, &opts) {
        Ok(r) => {
            let _ = writeln!(text, "{name}: {}", r.valid);
            for line in &r.lines {
                let _ = writeln!(text, "  {line}");
            }
            // The same lines for reports made later from results.json.
            let mut json = r.json;
            if let Value::Object(m) = &mut json {
                m.insert("explanation".into(), json!(r.lines));
            }
            (r.valid, json)
        }
        Err(e) => {
            let _ = writeln!(
                text,
                "{name}: unknown (the history could not be checked: {e})"
            );
            (
                Validity::Unknown,
                json!({"valid": "unknown", "error": e.to_string()}),
            )
        }
    }
}

/// Runs the plan's checkers over `history`.
pub fn check(plan: &Checks, history: &History, time_limit: Duration) -> Results {
    check_with(plan, history, time_limit, None)
}

/// [`check`], giving up (unknown) once `interrupt` is set.
pub fn check_with(
    plan: &Checks,
    history: &History,
    time_limit: Duration,
    interrupt: Option<Arc<AtomicBool>>,
) -> Results {
    let mut valid = Validity::Valid;
    let mut checkers = serde_json::Map::new();
    let mut text = String::new();
    let mut witness = None;
    // Jepsen's checkers read compact values: made once, for the first.
    let mut compact: Option<History<Datum>> = None;
    for name in &plan.checkers {
        let (v, j) = match name.as_str() {
            "linearizable" => linearizable(
                plan,
                history,
                time_limit,
                &interrupt,
                &mut text,
                &mut witness,
            ),
            "elle" => elle(plan, history, time_limit, &interrupt, &mut text),
            "stats" => stats(history, &mut text),
            "perf" => perf(history, &mut text),
            "set" | "set-full" | "counter" | "bank" | "total-queue" | "unique-ids"
            | "long-fork" | "kafka" | "pn-counter" | "echo" => {
                let compact = compact.get_or_insert_with(|| history.map_values(Datum::of));
                jepsen_checker(plan, name, compact, &mut text)
            }
            // These look at the nodes, not the history: the runner adds
            // their results (Results::add).
            "db-alive" | "log-pattern" => continue,
            other => (
                Validity::Unknown,
                json!({"valid": "unknown", "error": format!("unknown checker {other}")}),
            ),
        };
        valid = valid.merge(v);
        checkers.insert(name.clone(), j);
    }
    let nemesis: Vec<Value> = history
        .ops()
        .iter()
        .filter(|o| o.process == Process::Nemesis && o.kind == OpType::Info && o.error.is_none())
        .map(|o| json!({"f": &*o.f, "value": o.value, "time": o.time}))
        .collect();
    let json =
        json!({"valid": valid, "checkers": checkers, "nemesis": nemesis, "ops": history.len()});
    Results {
        valid,
        json,
        text,
        witness,
    }
}

fn linearizable(
    plan: &Checks,
    history: &History,
    limit: Duration,
    interrupt: &Option<Arc<AtomicBool>>,
    text: &mut String,
    witness: &mut Option<linear::Witness>,
) -> (Validity, Value) {
    let opts = Options::default()
        .with_time_limit(Some(limit))
        .with_interrupt(interrupt.clone())
        .with_witness(true);
    let result = match plan.workload {
        WorkloadKind::Register => linear::check(&Register::new(Scalar::Null), history, &opts),
        WorkloadKind::CasRegister => linear::check(&CasRegister::new(Scalar::Null), history, &opts),
        WorkloadKind::Set => linear::check(&Set, history, &opts),
        WorkloadKind::ListAppend | WorkloadKind::RwRegister => {
            return (
                Validity::Unknown,
                json!({"valid": "unknown", "error": "use the elle checker for transactions"}),
            )
        }
        WorkloadKind::Counter
        | WorkloadKind::Bank
        | WorkloadKind::Queue
        | WorkloadKind::UniqueIds
        | WorkloadKind::LongFork => {
            return (
                Validity::Unknown,
                json!({"valid": "unknown", "error": format!("the linearizable checker does not fit {} workloads", plan.workload.name())}),
            )
        }
    };
    match result {
        Ok(mut a) => {
            let _ = writeln!(
                text,
                "linearizable: {} ({} model, {} ops in {} independent histories)",
                a.valid, a.model, a.ops, a.partitions
            );
            if a.witness.is_some() {
                let _ = writeln!(text, "  the order found is in witness.json");
            }
            *witness = a.witness.take();
            if let Some(f) = &a.failure {
                let _ = write!(text, "{}", indent(&f.explanation));
            }
            if let Some(u) = &a.unknown {
                let _ = writeln!(text, "  could not decide: {}", u.reason);
            }
            (a.valid, details(a.valid, &a))
        }
        Err(e) => {
            let _ = writeln!(
                text,
                "linearizable: unknown (the history could not be checked: {e})"
            );
            (
                Validity::Unknown,
                json!({"valid": "unknown", "error": e.to_string()}),
            )
        }
    }
}

fn elle(
    plan: &Checks,
    history: &History,
    limit: Duration,
    interrupt: &Option<Arc<AtomicBool>>,
    text: &mut String,
) -> (Validity, Value) {
    let workload = if plan.workload == WorkloadKind::RwRegister {
        elle::Workload::RwRegister
    } else {
        elle::Workload::ListAppend
    };
    let opts = elle::Options::default()
        .with_models(plan.consistency_models.clone())
        .with_time_limit(Some(limit))
        .with_interrupt(interrupt.clone());
    match elle::check(history, workload, &opts) {
        Ok(a) => {
            let _ = writeln!(
                text,
                "elle ({}): {} ({} txns)",
                a.consistency_models.join(", "),
                a.valid,
                a.txns
            );
            for line in a.details() {
                let _ = writeln!(text, "  {line}");
            }
            (a.valid, details(a.valid, &a))
        }
        Err(e) => {
            let _ = writeln!(
                text,
                "elle: unknown (the history could not be checked: {e})"
            );
            (
                Validity::Unknown,
                json!({"valid": "unknown", "error": e.to_string()}),
            )
        }
    }
}

/// An analysis as JSON; if it cannot be serialized, the verdict with the
/// reason instead of nothing.
fn details(valid: Validity, analysis: &impl serde::Serialize) -> Value {
    serde_json::to_value(analysis).unwrap_or_else(|e| {
        json!({"valid": valid, "error": format!("the analysis could not be written as JSON: {e}")})
    })
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("  {l}\n")).collect()
}

fn stats(history: &History, text: &mut String) -> (Validity, Value) {
    let mut by_f: BTreeMap<String, [u64; 3]> = BTreeMap::new();
    for op in history
        .ops()
        .iter()
        .filter(|o| o.process != Process::Nemesis)
    {
        let slot = match op.kind {
            OpType::Ok => 0,
            OpType::Fail => 1,
            OpType::Info => 2,
            OpType::Invoke => continue,
        };
        by_f.entry(op.f.to_string()).or_default()[slot] += 1;
    }
    let total_ok: u64 = by_f.values().map(|c| c[0]).sum();
    let valid = if total_ok > 0 {
        Validity::Valid
    } else {
        Validity::Unknown
    };
    let _ = writeln!(
        text,
        "stats: {}{}",
        valid,
        if total_ok == 0 {
            " (no operation succeeded: is the client working?)"
        } else {
            ""
        }
    );
    let _ = writeln!(
        text,
        "  {:<10} {:>8} {:>8} {:>8}",
        "f", "ok", "fail", "info"
    );
    for (f, c) in &by_f {
        let _ = writeln!(text, "  {f:<10} {:>8} {:>8} {:>8}", c[0], c[1], c[2]);
    }
    let j: serde_json::Map<String, Value> = by_f
        .iter()
        .map(|(f, c)| (f.clone(), json!({"ok": c[0], "fail": c[1], "info": c[2]})))
        .collect();
    (valid, json!({"valid": valid, "by_f": j}))
}

fn perf(history: &History, text: &mut String) -> (Validity, Value) {
    let pairs = match history.pairs() {
        Ok(p) => p,
        Err(e) => {
            let _ = writeln!(
                text,
                "perf: unknown (invocations and completions could not be paired: {e})"
            );
            return (
                Validity::Unknown,
                json!({"valid": "unknown", "error": format!("invocations and completions could not be paired: {e}")}),
            );
        }
    };
    let mut lat: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for p in pairs {
        if let Some(c) = p.completion {
            let (a, b) = (&history[p.invoke], &history[c]);
            if a.time >= 0 && b.time >= a.time {
                lat.entry(a.f.to_string())
                    .or_default()
                    .push((b.time - a.time) as f64 / 1e6);
            }
        }
    }
    let _ = writeln!(text, "perf (latency, ms):");
    let _ = writeln!(
        text,
        "  {:<10} {:>8} {:>8} {:>8} {:>8}",
        "f", "count", "p50", "p99", "max"
    );
    let mut j = serde_json::Map::new();
    for (f, v) in &mut lat {
        v.sort_by(f64::total_cmp);
        let q = |p: f64| v[((v.len() - 1) as f64 * p) as usize];
        let _ = writeln!(
            text,
            "  {f:<10} {:>8} {:>8.2} {:>8.2} {:>8.2}",
            v.len(),
            q(0.5),
            q(0.99),
            q(1.0)
        );
        j.insert(
            f.clone(),
            json!({"count": v.len(), "p50_ms": q(0.5), "p99_ms": q(0.99), "max_ms": q(1.0)}),
        );
    }
    (Validity::Valid, json!({"valid": true, "latency": j}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use faultline_checkers::synth::{corrupt_read, register_history, RegisterSpec};
    use faultline_checkers::Op;
    use std::path::Path;

    fn plan() -> Plan {
        let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads/register-demo.yaml");
        let mut plan = crate::spec::load(&spec).unwrap().validate().unwrap();
        plan.workload = WorkloadKind::CasRegister;
        plan.checkers = vec!["linearizable".into(), "stats".into()];
        plan
    }

    #[test]
    fn a_valid_run_writes_its_witness_beside_the_history() {
        let h = register_history(
            &RegisterSpec {
                ops: 300,
                processes: 4,
                keys: 0,
                info: 0.1,
                values: 3,
                cas: true,
            },
            5,
        );
        let dir = std::env::temp_dir().join(format!("faultline-results-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let r = check(&Checks::of(&plan()), &h, Duration::from_secs(30));
        assert_eq!(r.valid, Validity::Valid);
        assert!(r.text.contains("witness.json"), "{}", r.text);
        assert!(r.write_witness(&dir).unwrap());
        let w: Value =
            serde_json::from_slice(&std::fs::read(dir.join("witness.json")).unwrap()).unwrap();
        assert_eq!(w["file"], "history.jsonl");
        assert_eq!(w["model"], "cas-register");
        let ok = h.ops().iter().filter(|o| o.kind == OpType::Ok).count();
        let order = w["partitions"][0]["order"].as_array().unwrap();
        assert!(order.len() >= ok, "{} ops for {ok} ok ones", order.len());
        // The witness is not part of results.json.
        assert!(!r.json.to_string().contains("\"order\""));

        let bad = (0..100)
            .filter_map(|s| corrupt_read(&h, s))
            .find(|b| {
                check(&Checks::of(&plan()), b, Duration::from_secs(30)).valid == Validity::Invalid
            })
            .expect("some corrupted read is invalid");
        let r = check(&Checks::of(&plan()), &bad, Duration::from_secs(30));
        assert!(r.witness.is_none());
        std::fs::remove_file(dir.join("witness.json")).unwrap();
        assert!(!r.write_witness(&dir).unwrap());
        assert!(!dir.join("witness.json").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn bank_plan(checkers: &str) -> Plan {
        let text = format!(
            "name: t\ndb:\n  start:\n    command: x\nclient:\n  kind: exec\n  command: x\n\
             workload:\n  kind: bank\n  accounts: 2\n  total: 10\ncheckers: {checkers}\n"
        );
        crate::spec::from_text(Path::new("t.yaml"), text, ".".into())
            .unwrap()
            .validate()
            .unwrap()
    }

    fn op(i: u64, kind: OpType, f: &str, value: Value) -> Op {
        let mut o = Op::new(0, Process::Client(0), kind, f, value);
        o.index = i;
        o.time = i as i64;
        o
    }

    #[test]
    fn several_checkers_give_the_worst_verdict_and_keep_every_result() {
        let read = |i, v: Value| {
            [
                op(i, OpType::Invoke, "read", Value::Null),
                op(i + 1, OpType::Ok, "read", v),
            ]
        };
        let good: Vec<Op> = read(0, json!({"0": 4, "1": 6}))
            .into_iter()
            .chain(read(2, json!({"0": 5, "1": 5})))
            .collect();
        let plan = bank_plan("[bank, stats]");
        assert_eq!(plan.checkers, ["bank", "stats", "db-alive"]);
        let mut r = check(
            &Checks::of(&plan),
            &History::new(good.clone()),
            Duration::from_secs(5),
        );
        assert_eq!(r.valid, Validity::Valid, "{}", r.text);
        // The runner adds db-alive; a crash makes the run invalid.
        r.add("db-alive", Validity::Invalid, json!({"valid": false}), &[]);
        assert_eq!(r.valid, Validity::Invalid);
        assert_eq!(r.json["valid"], false);
        assert!(r.text.contains("db-alive: invalid"), "{}", r.text);

        let mut bad = good;
        bad.extend(read(4, json!({"0": 5, "1": 4})));
        let r = check(
            &Checks::of(&plan),
            &History::new(bad),
            Duration::from_secs(5),
        );
        assert_eq!(r.valid, Validity::Invalid, "{}", r.text);
        assert_eq!(r.json["checkers"]["stats"]["valid"], true);
        let bank = &r.json["checkers"]["bank"];
        assert_eq!(bank["errors"]["wrong-total"]["count"], 1, "{bank}");
        // The spec's accounts and total reach the checker.
        assert_eq!(bank["total"], 10);
        assert_eq!(bank["accounts"], json!(["0", "1"]));
    }

    #[test]
    fn perf_is_unknown_with_the_reason_when_ops_cannot_be_paired() {
        // A completion with no invocation.
        let ops = vec![Op::new(
            0,
            Process::Client(0),
            OpType::Ok,
            "read",
            Value::Null,
        )];
        let mut text = String::new();
        let (v, j) = perf(&History::new(ops), &mut text);
        assert_eq!(v, Validity::Unknown);
        assert!(j["error"].as_str().unwrap().contains("paired"), "{j}");
        assert!(text.contains("perf: unknown"), "{text}");
    }
}
