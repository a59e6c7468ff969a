//! The test runner: `faultline test SPEC.yaml` end to end.
//!
//! Phases: connect (or bring up a local cluster), set the DB up on every
//! node, run the workers and the nemesis side by side until the time limit,
//! heal everything and wait for recovery, final reads, then teardown (which
//! runs on every exit path, Ctrl-C included), log collection, checking and
//! the summary. The history is appended and flushed op by op to
//! `history.jsonl` while the test runs.

pub mod alive;
pub mod db;
pub mod disk;
pub mod generator;
pub mod log_pattern;
mod progress;
pub mod recorder;
pub mod reproduce;
pub mod results;
pub mod store;
pub mod teardown;
pub mod template;

use crate::client::{Client, LogSink, OpenCtx, Request};
use crate::control::Remote;
use crate::spec::Plan;
use db::Db;
use faultline_checkers::{History, Op, OpType, Process, Validity};
use faultline_nemesis::clock::{self, ClockMode};
use faultline_nemesis::process::ProcessSpec;
use faultline_nemesis::{Fault, FaultKind, Nemesis, Schedule, Setup, Shell};
use generator::Generator;
use recorder::Recorder;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// How to run (beyond the plan).
pub struct RunOptions {
    /// Store directory.
    pub store: PathBuf,
    /// The spec file's text, saved as test.yaml.
    pub spec_text: String,
    /// Leave the DB (and a local cluster) running afterwards.
    pub leave_db_running: bool,
    /// Whether the nodes are local namespace nodes (clock faults use faketime).
    pub local: bool,
    /// Set by the first Ctrl-C: stop issuing ops, heal, tear down, check.
    pub stop: Arc<AtomicBool>,
    /// Time limit for the checkers.
    pub check_limit: Duration,
    /// Spec, overrides and cluster, recorded in results.json.
    pub inputs: reproduce::Inputs,
    /// Faults to apply in this order instead of drawing them (a replay).
    pub replay: Option<Vec<Fault>>,
}

/// What a run produced.
pub struct Outcome {
    /// Merged verdict.
    pub valid: Validity,
    /// The run directory.
    pub dir: PathBuf,
    /// Terminal summary.
    pub summary: String,
}

/// Everything workers share.
struct Shared {
    plan: Arc<Plan>,
    recorder: Recorder,
    generator: Mutex<Generator>,
    stop: Arc<AtomicBool>,
    deadline: Instant,
    ids: AtomicU64,
    slots: AtomicU64,
    log: LogSink,
    nodes: Vec<crate::control::Node>,
    workers: usize,
    fault: Mutex<Option<String>>,
    /// Faults applied so far, for results.json.
    applied: Mutex<Vec<reproduce::Applied>>,
    /// What the db-alive probes found.
    probes: Mutex<Vec<alive::Probe>>,
}

/// A failed run: the message and the exit code it maps to.
#[derive(Debug)]
pub struct RunError {
    /// Bad input (254) or internal (255).
    pub bad_input: bool,
    /// What went wrong.
    pub message: String,
}

impl RunError {
    fn bad(m: impl Into<String>) -> RunError {
        RunError {
            bad_input: true,
            message: m.into(),
        }
    }
    fn internal(m: impl Into<String>) -> RunError {
        RunError {
            bad_input: false,
            message: m.into(),
        }
    }
}

/// Runs one test on `remotes`.
pub async fn run(
    plan: Arc<Plan>,
    remotes: Vec<Arc<dyn Remote>>,
    opts: &RunOptions,
) -> Result<Outcome, RunError> {
    let started = SystemTime::now();
    let dir = store::new_run(&opts.store, &plan.name)
        .map_err(|e| RunError::internal(format!("{}: {e}", opts.store.display())))?;
    std::fs::write(dir.join("test.yaml"), &opts.spec_text)
        .map_err(|e| RunError::internal(e.to_string()))?;
    let log_file = std::fs::File::create(dir.join("faultline.log"))
        .map_err(|e| RunError::internal(e.to_string()))?;
    let log: LogSink = Arc::new(Mutex::new(Box::new(log_file)));
    let recorder = Recorder::create(&dir.join("history.jsonl"))
        .map_err(|e| RunError::internal(e.to_string()))?;
    let note = |m: &str| {
        crate::say!("{m}");
        if let Ok(mut w) = log.lock() {
            let _ = writeln!(w, "{m}");
        }
    };
    note(&format!(
        "run {} on {} nodes; store {}",
        plan.name,
        remotes.len(),
        dir.display()
    ));

    let clock_faults = plan.nemesis.as_ref().is_some_and(|n| {
        n.faults
            .iter()
            .any(|k| matches!(k, FaultKind::Clock | FaultKind::ClockStrobe))
    });
    let faketime =
        (opts.local && clock_faults).then(|| format!("{}/faultline-faketime", plan.data_dir));
    let db = Arc::new(
        Db::new(plan.clone(), remotes.clone(), faketime.clone(), opts.local)
            .map_err(RunError::bad)?,
    );
    let nemesis = build_nemesis(&plan, &db, &remotes, faketime, opts.local)?.map(Arc::new);
    if let (Some(n), Some(spec)) = (&nemesis, &plan.nemesis) {
        let mut unsupported = n.probe(&spec.faults).await;
        if let (true, Some(bin)) = (clock_faults, &plan.db.binary) {
            let kind = n
                .shell()
                .run(&remotes[0].node().name, &clock::detect_script(bin))
                .await;
            if let Some(why) = faketime_refusal(bin, kind.map_err(|e| e.to_string())) {
                for k in [FaultKind::Clock, FaultKind::ClockStrobe] {
                    if plan.nemesis.as_ref().is_some_and(|s| s.faults.contains(&k)) {
                        unsupported.push((k, why.clone()));
                    }
                }
            }
        }
        if !unsupported.is_empty() {
            let lines: Vec<String> = unsupported
                .iter()
                .map(|(k, why)| format!("  {}: {why}", k.name()))
                .collect();
            return Err(RunError::bad(format!(
                "faults not supported here (remove them from nemesis.faults):\n{}",
                lines.join("\n")
            )));
        }
    }

    // From here on, faults and the DB are put right on every path.
    let guard = teardown::Teardown::new(nemesis.clone(), db.clone(), opts.leave_db_running);
    note("setting up the DB on every node");
    // In a task of its own, so that a panic in it is an error here and the
    // teardown below still runs in order (the guard covers the rest).
    let work = tokio::spawn({
        let (plan, db, nemesis) = (plan.clone(), db.clone(), nemesis.clone());
        let (stop, log, replay) = (opts.stop.clone(), log.clone(), opts.replay.clone());
        async move {
            db.setup().await.map_err(|errs| {
                RunError::bad(format!("DB setup failed:\n  {}", errs.join("\n  ")))
            })?;
            let workers = plan.concurrency.workers(remotes.len());
            let shared = Arc::new(Shared {
                workers,
                generator: Mutex::new(Generator::new(&plan, workers, remotes.len())),
                recorder,
                stop,
                deadline: later(plan.time_limit),
                ids: AtomicU64::new(0),
                slots: AtomicU64::new(0),
                log,
                nodes: remotes.iter().map(|r| r.node().clone()).collect(),
                plan: plan.clone(),
                fault: Mutex::new(None),
                applied: Mutex::new(Vec::new()),
                probes: Mutex::new(Vec::new()),
            });
            client_setup(&shared).await.map_err(RunError::bad)?;
            Ok(main_phase(shared, &db, nemesis.as_deref(), replay).await)
        }
    });
    let result = work.await.unwrap_or_else(|e| {
        let why = if e.is_panic() {
            crate::exit::payload_message(&*e.into_panic())
        } else {
            e.to_string()
        };
        Err(RunError::internal(format!(
            "the run failed ({why}); history.jsonl has what was recorded (faultline check reads it)"
        )))
    });
    for l in guard.heal().await {
        note(&l);
    }
    for e in db.pull_logs(&dir).await {
        note(&format!("warning: could not copy a log: {e}"));
    }
    for l in guard.finish().await {
        note(&l);
    }
    let (shared, main_err) = match result {
        Err(e) => return Err(e),
        Ok((shared, err)) => (shared, err),
    };
    if let Some(e) = main_err {
        note(&format!("warning: {e}"));
    }
    let (ops, write_err) = shared.recorder.finish();
    if let Some(e) = write_err {
        note(&format!("warning: writing history.jsonl failed: {e}"));
    }
    // Line numbers of history.jsonl, so explanations point into the file.
    let lines = (1..=ops.len() as u32).collect();
    let history = History::with_lines(ops, lines);
    let mut results = {
        let (checks, limit) = (results::Checks::of(&plan), opts.check_limit);
        check_off_runtime(
            move |cancel| results::check_with(&checks, &history, limit, Some(cancel)),
            &opts.stop,
        )
        .await
    };
    node_checks(&plan, &shared, &dir, &mut results);
    let record = reproduce::RunRecord {
        faultline: reproduce::Build::current(),
        seed: plan.seed,
        inputs: opts.inputs.clone(),
        nodes: shared.nodes.clone(),
        started: store::rfc3339(started),
        finished: store::rfc3339(SystemTime::now()),
        schedule: std::mem::take(&mut *lock(&shared.applied)),
        replay: format!(
            "faultline test --replay {}",
            std::fs::canonicalize(&dir)
                .unwrap_or_else(|_| dir.clone())
                .display()
        ),
    };
    let mut json = std::mem::take(&mut results.json);
    match serde_json::to_value(&record) {
        Ok(r) => json["run"] = r,
        Err(e) => note(&format!(
            "warning: the run record could not be written: {e}"
        )),
    }
    let json = serde_json::to_string_pretty(&json).map_err(|e| {
        RunError::internal(format!("results.json could not be written as JSON: {e}"))
    })?;
    std::fs::write(dir.join("results.json"), json)
        .map_err(|e| RunError::internal(format!("{}: {e}", dir.join("results.json").display())))?;
    if let Err(e) = results.write_witness(&dir) {
        note(&format!("warning: writing witness.json failed: {e}"));
    }
    Ok(Outcome {
        valid: results.valid,
        dir,
        summary: results.text,
    })
}

/// The checkers that look at the nodes rather than the history: db-alive
/// (what the liveness probes found) and log-pattern (over the logs pulled
/// into `dir`), added to `results`.
fn node_checks(
    plan: &Plan,
    shared: &Shared,
    dir: &std::path::Path,
    results: &mut results::Results,
) {
    if plan.checkers.iter().any(|c| c == "db-alive") {
        let killed = alive::killed(lock(&shared.applied).iter().map(|a| {
            (
                a.kind.as_str(),
                &a.value,
                a.start_ns,
                a.stop_ns,
                a.error.is_some(),
            )
        }));
        let (v, j, lines) = alive::check(&lock(&shared.probes), &killed);
        results.add("db-alive", v, j, &lines);
    }
    if let Some(p) = &plan.log_pattern {
        let (v, j, lines) = log_pattern::check(dir, p);
        results.add("log-pattern", v, j, &lines);
    }
}

/// Probes whether the DB is alive on every node (for db-alive), at `at`.
async fn probe_alive(s: &Shared, db: &Db, at: &'static str) {
    if !s.plan.checkers.iter().any(|c| c == "db-alive") {
        return;
    }
    let found = db.liveness(alive::TAIL_LINES).await;
    let time = s.recorder.now();
    let probes: Vec<alive::Probe> = s
        .nodes
        .iter()
        .zip(found)
        .map(|(n, f)| alive::Probe::new(at, time, &n.name, f))
        .collect();
    for p in probes.iter().filter(|p| p.state != "alive") {
        log_line(
            s,
            &format!("db-alive: the DB on {} is {} at {at}", p.node, p.state),
        );
    }
    lock(&s.probes).extend(probes);
}

/// Runs the checkers (`check`) on a blocking thread, off the async
/// runtime. A checker that panics makes the verdict unknown with the
/// reason; a Ctrl-C that arrives while they run (`stop` set during checking)
/// stops waiting for them: the verdict is unknown, "interrupted". (The
/// checkers take a time limit but no cancel flag, so an abandoned search
/// ends with its time limit or with the process.)
async fn check_off_runtime(
    check: impl FnOnce(Arc<AtomicBool>) -> results::Results + Send + 'static,
    stop: &Arc<AtomicBool>,
) -> results::Results {
    let stopped_before = stop.load(Ordering::Relaxed);
    // Set on a Ctrl-C during checking, so the checkers' searches stop too.
    let cancel = Arc::new(AtomicBool::new(false));
    let task = {
        let cancel = cancel.clone();
        tokio::task::spawn_blocking(move || {
            let _quiet = crate::exit::quiet_panics();
            check(cancel)
        })
    };
    let stop = stop.clone();
    let interrupted = async move {
        while stopped_before || !stop.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let unknown = |why: String| results::Results {
        valid: Validity::Unknown,
        json: serde_json::json!({"valid": "unknown", "error": why}),
        text: format!("checkers: unknown ({why})\n"),
        witness: None,
    };
    tokio::select! {
        done = task => match done {
            Ok(r) => r,
            Err(e) if e.is_panic() => unknown(format!(
                "a checker panicked: {} (a bug; please report it)",
                crate::exit::payload_message(&*e.into_panic())
            )),
            Err(e) => unknown(format!("the checkers did not finish: {e}")),
        },
        () = interrupted => {
            cancel.store(true, Ordering::Relaxed);
            unknown("interrupted by Ctrl-C while checking".into())
        }
    }
}

/// Why libfaketime cannot shift `bin`, given what the detection probe
/// printed (or why it failed): a Go or static binary, or a probe that could
/// not tell — never silently allowed.
fn faketime_refusal(bin: &str, probe: Result<String, String>) -> Option<String> {
    match probe.as_deref().map(str::trim) {
        Ok("dynamic") => None,
        Ok(kind @ ("go" | "static")) => Some(format!(
            "{bin} is a {kind} binary, which libfaketime cannot shift"
        )),
        Ok(other) => Some(format!(
            "could not tell whether {bin} is a Go or static binary (the probe printed {other:?})"
        )),
        Err(e) => Some(format!(
            "could not tell whether {bin} is a Go or static binary: {e}"
        )),
    }
}

/// Runs the client's `setup` once before the workers start, retrying for
/// up to 10 s while the DB finishes starting.
async fn client_setup(s: &Shared) -> Result<(), String> {
    let mut client = open_client(s, 0, 0);
    let mut last = String::new();
    for _ in 0..50 {
        match client.setup().await {
            Ok(()) => {
                client.close().await;
                return Ok(());
            }
            Err(e) => last = e,
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    client.close().await;
    Err(format!("client setup failed: {last}"))
}

fn build_nemesis(
    plan: &Plan,
    db: &Db,
    remotes: &[Arc<dyn Remote>],
    faketime: Option<String>,
    local: bool,
) -> Result<Option<Nemesis<crate::control::shell::RemoteShell>>, RunError> {
    if plan.nemesis.is_none() {
        return Ok(None);
    }
    let mut process = std::collections::BTreeMap::new();
    for (i, r) in remotes.iter().enumerate() {
        let pidfile = db.pidfile(i).map_err(RunError::bad)?;
        let start = db.start_script(i).map_err(RunError::bad)?;
        process.insert(r.node().name.clone(), ProcessSpec { pidfile, start });
    }
    let clock = match faketime {
        Some(offset_file) => Some(ClockMode::Faketime { offset_file }),
        None if !local => Some(ClockMode::SystemDate),
        None => None,
    };
    let setup = Setup {
        nodes: remotes
            .iter()
            .map(|r| (r.node().name.clone(), r.node().addr.clone()))
            .collect(),
        process,
        clock,
        dev: "eth0".into(),
        disk: db.disk_specs(),
    };
    let shell = crate::control::shell::RemoteShell::new(remotes.to_vec(), Duration::from_secs(60));
    Ok(Some(Nemesis::new(shell, setup)))
}

/// A fault's completion value in the history, and its outcome for
/// results.json: the fault's value, and for a power fault also what it
/// dropped (totals, and per node under `outcome`), for a corruption
/// fault the files it changed (per node under `outcome`).
fn completion(
    fault: &Fault,
    out: serde_json::Value,
) -> (serde_json::Value, Option<serde_json::Value>) {
    let mut value = fault.value();
    if fault.kind().corrupts() {
        if let Some(m) = value.as_object_mut() {
            m.insert("outcome".into(), out.clone());
        }
        return (value, Some(out));
    }
    if fault.kind() != FaultKind::Power {
        return (value, None);
    }
    let sum = |k: &str| -> u64 {
        out.as_object()
            .map_or(0, |m| m.values().filter_map(|v| v[k].as_u64()).sum())
    };
    if let Some(m) = value.as_object_mut() {
        m.insert("dropped_bytes".into(), sum("dropped_bytes").into());
        m.insert("dropped_files".into(), sum("dropped_files").into());
        m.insert("outcome".into(), out.clone());
    }
    (value, Some(out))
}

/// Workers and nemesis until the deadline; then heal, recover, final reads.
async fn main_phase(
    shared: Arc<Shared>,
    db: &Arc<Db>,
    nemesis: Option<&Nemesis<crate::control::shell::RemoteShell>>,
    replay: Option<Vec<Fault>>,
) -> (Arc<Shared>, Option<String>) {
    let progress = progress::start(shared.clone());
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..shared.workers {
        let s = shared.clone();
        workers.spawn(async move { worker(w, s).await });
    }
    let nemesis_err = match (nemesis, shared.plan.nemesis.clone()) {
        (Some(n), Some(spec)) => {
            let faults = match replay {
                Some(f) => Faults::Replayed(f.into()),
                None => Faults::Drawn(Schedule::new(spec.clone(), shared.plan.seed)),
            };
            nemesis_loop(n, faults, spec.interval, spec.quiet, db, &shared).await
        }
        _ => None,
    };
    let mut clients: Vec<(usize, u64, Box<dyn Client>)> = Vec::new();
    while let Some(r) = workers.join_next().await {
        if let Ok(c) = r {
            clients.push(c);
        }
    }
    // Before the heal, which restarts a DB found dead.
    probe_alive(&shared, db, "heal").await;
    if let Some(n) = nemesis {
        match n.heal_all().await {
            Ok(repaired) => record_nemesis(&shared, "heal", serde_json::json!(repaired), None),
            Err(e) => record_nemesis(
                &shared,
                "heal",
                serde_json::Value::Null,
                Some(e.to_string()),
            ),
        }
        *shared.fault.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
    if shared.plan.final_reads && !shared.stop.load(Ordering::Relaxed) {
        tokio::time::sleep(shared.plan.recovery).await;
        let mut reads = tokio::task::JoinSet::new();
        for (w, process, client) in clients.drain(..) {
            let s = shared.clone();
            reads.spawn(async move { final_read(w, process, client, s).await });
        }
        while reads.join_next().await.is_some() {}
    }
    probe_alive(&shared, db, "end").await;
    for (_, _, mut c) in clients {
        c.close().await;
    }
    progress.finish();
    (shared, nemesis_err)
}

fn open_client(s: &Shared, w: usize, process: u64) -> Box<dyn Client> {
    s.plan.client.open(&OpenCtx {
        node: &s.nodes[w % s.nodes.len()],
        nodes: &s.nodes,
        process,
        base_dir: &s.plan.base_dir,
        log: s.log.clone(),
    })
}

/// Invokes one op and records its invocation and completion. Returns
/// whether it ended `info`.
async fn perform(
    s: &Shared,
    w: usize,
    process: u64,
    client: &mut dyn Client,
    op: generator::OpSpec,
) -> bool {
    let (f, key, value) = op;
    let node = &s.nodes[w % s.nodes.len()].name;
    let req = Request {
        id: s.ids.fetch_add(1, Ordering::Relaxed),
        f: f.clone(),
        key: key.clone(),
        value: value.clone(),
    };
    s.recorder.record(event(
        Process::Client(process),
        OpType::Invoke,
        &f,
        key.clone(),
        value.clone(),
        None,
        Some(node),
    ));
    let reply = crate::client::invoke(client, &req, s.plan.op_timeout).await;
    let result = if reply.kind == OpType::Ok
        && matches!(&*f, "read" | "dequeue" | "drain" | "generate" | "txn")
    {
        reply.value
    } else {
        value
    };
    s.recorder.record(event(
        Process::Client(process),
        reply.kind,
        &f,
        key,
        result,
        reply.error,
        Some(node),
    ));
    reply.kind == OpType::Info
}

/// One worker: ops until the deadline or Ctrl-C. Returns its client for
/// the final reads.
async fn worker(w: usize, s: Arc<Shared>) -> (usize, u64, Box<dyn Client>) {
    let mut process = w as u64;
    let mut client = open_client(&s, w, process);
    let start = s.recorder.started();
    loop {
        if s.stop.load(Ordering::Relaxed) || Instant::now() >= s.deadline {
            break;
        }
        if let Some(rate) = s.plan.rate {
            let slot = s.slots.fetch_add(1, Ordering::Relaxed);
            // An instant past what a clock can hold is past the deadline.
            let at = Duration::try_from_secs_f64(slot as f64 / rate)
                .ok()
                .and_then(|d| start.checked_add(d));
            let Some(at) = at.filter(|at| *at < s.deadline) else {
                break;
            };
            tokio::time::sleep_until(at.into()).await;
        }
        let op = s
            .generator
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .next(w);
        if perform(&s, w, process, client.as_mut(), op).await {
            // Jepsen semantics: after an indeterminate op the process is
            // gone; the worker continues as a new one, with a new plugin.
            client.close().await;
            process += s.workers as u64;
            client = open_client(&s, w, process);
        }
    }
    (w, process, client)
}

async fn final_read(
    w: usize,
    process: u64,
    mut client: Box<dyn Client>,
    s: Arc<Shared>,
) -> (usize, u64, Box<dyn Client>) {
    let op = s
        .generator
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .final_read(w);
    perform(&s, w, process, client.as_mut(), op).await;
    (w, process, client)
}

/// A history event (index and time are set when it is recorded).
fn event(
    process: Process,
    kind: OpType,
    f: &Arc<str>,
    key: Option<serde_json::Value>,
    value: serde_json::Value,
    error: Option<String>,
    node: Option<&str>,
) -> Op {
    let mut op = Op::new(0, process, kind, "", value);
    op.f = f.clone();
    op.key = key;
    op.error = error.map(String::into_boxed_str);
    op.node = node.map(Box::from);
    op
}

/// Locks a mutex, also after a panic elsewhere poisoned it.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A line in the run's `faultline.log`.
fn log_line(s: &Shared, line: &str) {
    if let Ok(mut w) = s.log.lock() {
        let _ = writeln!(w, "{line}");
    }
}

fn record_nemesis(s: &Shared, f: &str, value: serde_json::Value, error: Option<String>) {
    let f: Arc<str> = Arc::from(f);
    s.recorder.record(event(
        Process::Nemesis,
        OpType::Info,
        &f,
        None,
        value,
        error,
        None,
    ));
}

/// The instant `d` from now, or the latest instant the clock can hold if
/// that is beyond it: deadlines never overflow.
pub(crate) fn later(d: Duration) -> Instant {
    let now = Instant::now();
    let mut d = d;
    loop {
        match now.checked_add(d) {
            Some(t) => return t,
            None => d /= 2,
        }
    }
}

/// Sleeps until `d` passes, the deadline comes, or Ctrl-C.
async fn pause(s: &Shared, d: Duration) {
    let until = later(d).min(s.deadline);
    while Instant::now() < until && !s.stop.load(Ordering::Relaxed) {
        tokio::time::sleep((until - Instant::now()).min(Duration::from_millis(100))).await;
    }
}

/// Where faults come from: drawn from the schedule, or a run's recorded
/// faults replayed in order.
enum Faults {
    Drawn(Schedule),
    Replayed(std::collections::VecDeque<Fault>),
}

/// Starts and stops faults on the schedule until the deadline.
async fn nemesis_loop(
    n: &Nemesis<crate::control::shell::RemoteShell>,
    mut faults: Faults,
    interval: Duration,
    quiet: Duration,
    db: &Db,
    s: &Shared,
) -> Option<String> {
    let names: Vec<String> = s.nodes.iter().map(|n| n.name.clone()).collect();
    pause(s, quiet).await;
    let mut first_error = None;
    while !s.stop.load(Ordering::Relaxed) && later(interval) < s.deadline {
        let fault = match &mut faults {
            Faults::Drawn(schedule) => {
                let primaries = match db.primaries().await {
                    Ok(p) => p,
                    Err(e) => {
                        log_line(
                            s,
                            &format!("warning: primaries unknown for this fault: {e}"),
                        );
                        Vec::new()
                    }
                };
                match schedule.next(&names, &primaries) {
                    Ok(f) => f,
                    Err(e) => return Some(e),
                }
            }
            Faults::Replayed(list) => match list.pop_front() {
                Some(f) => f,
                None => {
                    log_line(s, "the replayed schedule has no more faults");
                    break;
                }
            },
        };
        // Before a kill's restart could hide a crash.
        probe_alive(s, db, "fault").await;
        let start_f: Arc<str> = Arc::from(fault.start_f());
        s.recorder.record(event(
            Process::Nemesis,
            OpType::Invoke,
            &start_f,
            None,
            fault.value(),
            None,
            None,
        ));
        *s.fault.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(format!("{} {}", fault.kind().name(), fault.value()));
        let start_ns = s.recorder.now();
        // Recorded before it is applied: a run that ends while the fault is
        // being applied (a kill in flight at the deadline) still knows the
        // DB was killed on purpose.
        lock(&s.applied).push(reproduce::Applied {
            kind: fault.kind().name().to_string(),
            value: fault.value(),
            start_ns,
            stop_ns: None,
            error: None,
            outcome: None,
        });
        let (start_error, outcome) = match n.start(&fault).await {
            Ok(out) => {
                let (value, o) = completion(&fault, out);
                record_nemesis(s, &start_f, value, None);
                (None, o)
            }
            Err(e) => {
                record_nemesis(s, &start_f, fault.value(), Some(e.to_string()));
                first_error.get_or_insert(e.to_string());
                (Some(e.to_string()), None)
            }
        };
        if let Some(a) = lock(&s.applied).last_mut() {
            a.error = start_error;
            a.outcome = outcome;
        }
        pause(s, interval).await;
        let stop_f: Arc<str> = Arc::from(fault.stop_f());
        s.recorder.record(event(
            Process::Nemesis,
            OpType::Invoke,
            &stop_f,
            None,
            fault.value(),
            None,
            None,
        ));
        let stop_error = match n.stop(&fault).await {
            Ok(_) => {
                record_nemesis(s, &stop_f, fault.value(), None);
                None
            }
            Err(e) => {
                record_nemesis(s, &stop_f, fault.value(), Some(e.to_string()));
                first_error.get_or_insert(e.to_string());
                Some(e.to_string())
            }
        };
        if let Some(a) = lock(&s.applied).last_mut() {
            a.stop_ns = Some(s.recorder.now());
            if let Some(e) = stop_error {
                a.error.get_or_insert(e);
            }
        }
        *s.fault.lock().unwrap_or_else(|e| e.into_inner()) = None;
        let hit = fault.nodes();
        if fault.kind().restarts() && names.iter().all(|n| hit.contains(n)) {
            recover(s, db).await;
        }
        pause(s, interval).await;
    }
    first_error
}

/// After a fault had the DB down on every node: `db.recover`'s fallback if
/// it does not come back by itself, recorded as the nemesis's `recover`
/// event (the positions and the node chosen).
async fn recover(s: &Shared, db: &Db) {
    if s.plan.db.recover.is_none() || s.stop.load(Ordering::Relaxed) {
        return;
    }
    // Before the fallback stops what is left: a node that exited is seen.
    probe_alive(s, db, "fault").await;
    let started = Instant::now();
    // Ctrl-C does not wait for it: the teardown stops the DB through its
    // pidfiles, whatever the fallback had got to.
    let work = db.recover_if_stuck();
    tokio::pin!(work);
    let recovered = loop {
        tokio::select! {
            r = &mut work => break r,
            _ = tokio::time::sleep(Duration::from_millis(100)) => {
                if s.stop.load(Ordering::Relaxed) {
                    log_line(s, "recover: interrupted");
                    return;
                }
            }
        }
    };
    let Some(r) = recovered else {
        log_line(
            s,
            &format!(
                "recover: the DB was ready again {:.1} s after every node restarted",
                started.elapsed().as_secs_f64()
            ),
        );
        return;
    };
    log_line(
        s,
        &format!(
            "recover: the DB was not ready {:.0} s after every node restarted; {}{}",
            s.plan.recover_within.as_secs_f64(),
            r.value,
            r.error
                .as_deref()
                .map_or(String::new(), |e| format!("; failed: {e}"))
        ),
    );
    record_nemesis(s, "recover", r.value, r.error);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_faults_are_refused_when_the_binary_cannot_be_told() {
        assert_eq!(faketime_refusal("db", Ok("dynamic\n".into())), None);
        assert!(faketime_refusal("etcd", Ok("go".into()))
            .unwrap()
            .contains("etcd is a go binary"));
        assert!(faketime_refusal("db", Ok(String::new()))
            .unwrap()
            .contains("could not tell"));
        assert!(faketime_refusal("db", Err("node n1: ssh: refused".into()))
            .unwrap()
            .contains("ssh: refused"));
    }

    fn valid() -> results::Results {
        results::Results {
            valid: Validity::Valid,
            json: serde_json::json!({"valid": true}),
            text: String::new(),
            witness: None,
        }
    }

    #[test]
    fn checkers_run_off_the_runtime_and_panics_or_ctrl_c_make_unknown() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        rt.block_on(async {
            assert_eq!(
                check_off_runtime(|_| valid(), &stop).await.valid,
                Validity::Valid
            );
            let r = check_off_runtime(|_| panic!("checker bug"), &stop).await;
            assert_eq!(r.valid, Validity::Unknown);
            assert!(
                r.text.contains("a checker panicked: checker bug"),
                "{}",
                r.text
            );
            // The runtime's one worker stays free while a checker computes,
            // and a Ctrl-C during checking ends the wait.
            let flip = {
                let stop = stop.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    stop.store(true, Ordering::Relaxed);
                })
            };
            let cancelled = Arc::new(AtomicBool::new(false));
            let seen = cancelled.clone();
            let slow = move |cancel: Arc<AtomicBool>| {
                // A checker that stops when cancelled, as the searches do.
                let t = Instant::now();
                while !cancel.load(Ordering::Relaxed) && t.elapsed() < Duration::from_secs(3) {
                    std::thread::sleep(Duration::from_millis(10));
                }
                seen.store(cancel.load(Ordering::Relaxed), Ordering::Relaxed);
                valid()
            };
            let t = Instant::now();
            let r = check_off_runtime(slow, &stop).await;
            assert_eq!(r.valid, Validity::Unknown);
            assert!(r.json["error"].as_str().unwrap().contains("interrupted"));
            assert!(t.elapsed() < Duration::from_secs(2));
            flip.await.unwrap();
            // The checker itself was told to stop.
            let t = Instant::now();
            while !cancelled.load(Ordering::Relaxed) && t.elapsed() < Duration::from_secs(2) {
                std::thread::sleep(Duration::from_millis(10));
            }
            assert!(
                cancelled.load(Ordering::Relaxed),
                "the checker was not cancelled"
            );
            // A Ctrl-C before checking (stop ops, check what was recorded)
            // does not cancel the check.
            assert_eq!(
                check_off_runtime(|_| valid(), &stop).await.valid,
                Validity::Valid
            );
        });
    }

    #[test]
    fn deadlines_never_overflow() {
        let far = later(Duration::MAX);
        assert!(far > Instant::now());
        assert!(later(Duration::from_secs(1)) <= far);
    }
}
