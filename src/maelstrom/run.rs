//! One Maelstrom test: spawn the nodes and send each `init` (10 s, as
//! Maelstrom), the `topology` for broadcast, then the clients and the
//! nemesis until the time limit; for workloads with a final phase, heal,
//! wait (`--recovery-time`, Maelstrom's 10 s), mark the history
//! (`final-reads`) and read once per client (kafka: assign every key from
//! offset 0 and poll until nothing new, at most 10 s); stop the nodes;
//! check; write results.json. Ctrl-C stops the clients and goes straight
//! to stopping and checking.

use super::client::Client;
use super::nemesis::{Applied, Nemesis};
use super::net::{Net, NetOptions};
use super::node::Nodes;
use super::protocol::body;
use super::workload::{self, Generator, Invocation, Kind, ProcState};
use super::{service, Availability, Options};
use crate::runner::recorder::Recorder;
use crate::runner::results::{self, Checks};
use crate::runner::store;
use crate::spec::{WorkloadKind, WorkloadOptions};
use faultline_checkers::{History, Op, OpType, Process, Validity};
use faultline_nemesis::Fault;
use serde_json::{json, Value};
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// How a test ended.
pub struct Outcome {
    /// The verdict.
    pub valid: Validity,
    /// The run directory.
    pub dir: PathBuf,
    /// The checkers' summary.
    pub summary: String,
}

/// Why a test could not run; `bad_input` decides the exit code (a node
/// that does not start or answer `init` is the user's, 254).
#[derive(Debug)]
pub struct RunError {
    /// What happened, naming the node.
    pub message: String,
    /// The user's fault.
    pub bad_input: bool,
}

fn internal(message: String) -> RunError {
    RunError {
        message,
        bad_input: false,
    }
}

/// Timeout of `init` (and `topology`).
const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// Kafka's final polls stop after this long.
const FINAL_POLL_LIMIT: Duration = Duration::from_secs(10);

struct Ctx {
    opts: Options,
    kind: Kind,
    net: Arc<Net>,
    procs: Nodes,
    recorder: Recorder,
    generator: Mutex<Generator>,
    next_client: AtomicU64,
    pace: Mutex<Instant>,
    pace_rng: Mutex<fastrand::Rng>,
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<std::fs::File>>,
    timeout: Duration,
    topology: Option<Value>,
    applied: Mutex<Vec<Value>>,
    malformed: AtomicU64,
    commit_failures: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Ctx {
    fn log(&self, line: &str) {
        let t = self.recorder.now() as f64 / 1e9;
        let _ = writeln!(lock(&self.log), "{t:9.3} {line}");
    }

    fn client(&self) -> Client {
        let id = self.next_client.fetch_add(1, Ordering::Relaxed);
        Client::open(&self.net, format!("c{id}"))
    }

    fn record(
        &self,
        process: Process,
        kind: OpType,
        inv: &Invocation,
        value: Value,
        error: Option<String>,
        node: Option<&str>,
    ) {
        let mut op = Op::new(0, process, kind, "", value);
        op.f = inv.f.clone();
        op.key = inv.key.clone();
        op.error = error.map(String::into_boxed_str);
        op.node = node.map(Box::from);
        self.recorder.record(op);
    }

    fn nemesis_event(&self, kind: OpType, f: &str, value: Value, error: Option<String>) {
        let inv = Invocation {
            f: Arc::from(f),
            key: None,
            value: Value::Null,
        };
        self.record(Process::Nemesis, kind, &inv, value, error, None);
    }

    /// Waits for this op's slot: ops are spread over time at `--rate` in
    /// all, each a uniform 0..2/rate after the one before (Jepsen's
    /// `stagger`). False if the deadline passes first.
    async fn pace(&self, deadline: Instant) -> bool {
        let at = {
            let gap = Duration::from_secs_f64(2.0 * lock(&self.pace_rng).f64() / self.opts.rate);
            let mut next = lock(&self.pace);
            let at = (*next).max(Instant::now());
            *next = at + gap;
            at
        };
        if at >= deadline {
            tokio::time::sleep_until(deadline.into()).await;
            return false;
        }
        tokio::time::sleep_until(at.into()).await;
        true
    }

    /// Sends `init` to node `id` (and the topology, for broadcast) and
    /// waits for the replies.
    async fn init(&self, id: &str) -> Result<(), String> {
        let mut c = self.client();
        let nodes = &self.opts.nodes;
        let reply = c
            .call(
                id,
                body("init", json!({"node_id": id, "node_ids": nodes})),
                INIT_TIMEOUT,
            )
            .await;
        let tail = || {
            let t = self.procs.tail(id);
            if t.is_empty() {
                String::new()
            } else {
                format!("; its last stderr lines:\n    {}", t.join("\n    "))
            }
        };
        if let Err(e) = reply {
            return Err(format!(
                "node {id} did not answer init with init_ok within {} s: {}{}",
                INIT_TIMEOUT.as_secs(),
                e.history_text(),
                tail()
            ));
        }
        if let Some(t) = &self.topology {
            if let Err(e) = c
                .call(id, body("topology", json!({"topology": t})), INIT_TIMEOUT)
                .await
            {
                return Err(format!(
                    "node {id} did not answer topology with topology_ok within {} s: {}{}",
                    INIT_TIMEOUT.as_secs(),
                    e.history_text(),
                    tail()
                ));
            }
        }
        Ok(())
    }

    /// Spawns node `id` and initializes it.
    async fn start_node(&self, id: &str) -> Result<(), String> {
        self.procs.spawn(id)?;
        self.init(id).await
    }
}

/// A fault of a replayed run: what, and when it started and stopped,
/// measured from the start of the workload.
#[derive(Clone, Debug)]
pub struct Timed {
    /// The fault.
    pub fault: Applied,
    /// When it started.
    pub start: Duration,
    /// When it stopped.
    pub stop: Duration,
}

/// The recorded faults of a run's results.json (`maelstrom.faults`), for
/// `--replay`.
pub fn recorded_faults(results: &Value) -> Result<Vec<Timed>, String> {
    let began = results
        .pointer("/maelstrom/began_ns")
        .and_then(Value::as_i64)
        .ok_or("results.json has no maelstrom.began_ns: not a Maelstrom-mode run")?;
    let faults = results
        .pointer("/maelstrom/faults")
        .and_then(Value::as_array)
        .ok_or("results.json has no maelstrom.faults")?;
    faults
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let kind = f["kind"].as_str().unwrap_or("");
            let fault = Applied::from_record(kind, &f["value"])
                .map_err(|e| format!("maelstrom.faults[{i}]: {e}"))?;
            let at = |k: &str| {
                f[k].as_i64()
                    .map(|t| Duration::from_nanos((t - began).max(0) as u64))
                    .ok_or_else(|| format!("maelstrom.faults[{i}] has no {k}"))
            };
            Ok(Timed {
                fault,
                start: at("start_ns")?,
                stop: at("stop_ns")?,
            })
        })
        .collect()
}

/// Runs one test; with `replay`, applies those faults at those times
/// instead of drawing them.
pub async fn run(
    opts: Options,
    stop: Arc<AtomicBool>,
    replay: Option<Vec<Timed>>,
) -> Result<Outcome, RunError> {
    let kind = opts.workload;
    let topology = if kind == Kind::Broadcast {
        let t = workload::topology(&opts.topology, &opts.nodes).map_err(|e| RunError {
            message: e,
            bad_input: true,
        })?;
        Some(json!(t))
    } else {
        None
    };
    let mut nemesis = Nemesis::new(
        &opts.nemesis,
        opts.nemesis_interval,
        opts.seed,
        opts.loss_probability,
    )
    .map_err(|e| RunError {
        message: e,
        bad_input: true,
    })?;
    let dir = store::new_run(&opts.store, kind.name())
        .map_err(|e| internal(format!("{}: {e}", opts.store.display())))?;
    let recorder = Recorder::create(&dir.join("history.jsonl"))
        .map_err(|e| internal(format!("{}: {e}", dir.join("history.jsonl").display())))?;
    let log = std::fs::File::create(dir.join("faultline.log"))
        .map_err(|e| internal(format!("{}: {e}", dir.join("faultline.log").display())))?;
    if let Ok(yaml) = serde_saphyr::to_string(&opts) {
        let _ = std::fs::write(dir.join("test.yaml"), yaml);
    }
    let start = recorder.started();
    let log = Arc::new(Mutex::new(log));
    let net_log = |on: bool, log: &Arc<Mutex<std::fs::File>>| -> Option<super::net::LogFn> {
        on.then(|| {
            let log = log.clone();
            Arc::new(move |line: &str| {
                let t = start.elapsed().as_secs_f64();
                let _ = writeln!(lock(&log), "{t:9.3} {line}");
            }) as super::net::LogFn
        })
    };
    let net = Net::start(
        NetOptions {
            latency: opts.latency,
            dist: opts.latency_dist,
            seed: opts.seed,
            journal_limit: opts.journal_limit,
            log_send: net_log(opts.log_net_send, &log),
            log_recv: net_log(opts.log_net_recv, &log),
        },
        start,
    );
    service::start(&net, opts.seed);
    let procs = Nodes::new(
        opts.bin.clone(),
        opts.args.clone(),
        opts.nodes.clone(),
        &dir,
        net.clone(),
        opts.log_stderr,
        start,
    );
    let workers = opts.concurrency.max(1);
    let generator = Generator::new(kind, opts.workload_options.clone(), workers, opts.seed);
    let ctx = Arc::new(Ctx {
        kind,
        timeout: kind.timeout(opts.latency),
        net: net.clone(),
        procs,
        recorder,
        generator: Mutex::new(generator),
        next_client: AtomicU64::new(0),
        pace: Mutex::new(Instant::now()),
        pace_rng: Mutex::new(fastrand::Rng::with_seed(opts.seed ^ 0x7061_6365)),
        stop: stop.clone(),
        log,
        topology,
        applied: Mutex::new(Vec::new()),
        malformed: AtomicU64::new(0),
        commit_failures: AtomicU64::new(0),
        opts,
    });
    ctx.log(&format!(
        "maelstrom test -w {} --bin {} on {} nodes, seed {}",
        kind.name(),
        ctx.opts.bin.display(),
        ctx.opts.nodes.len(),
        ctx.opts.seed
    ));
    // Every node started, then all initialized at once (so a large
    // cluster's init timeouts do not run while the last nodes are still
    // being spawned).
    let mut first_error = None;
    for id in &ctx.opts.nodes {
        if let Err(e) = ctx.procs.spawn(id) {
            first_error = Some(e);
            break;
        }
    }
    let mut set = tokio::task::JoinSet::new();
    for id in ctx.opts.nodes.clone() {
        let ctx = ctx.clone();
        if first_error.is_some() {
            break;
        }
        set.spawn(async move { ctx.init(&id).await });
    }
    while let Some(r) = set.join_next().await {
        if let Ok(Err(e)) = r {
            first_error.get_or_insert(e);
        }
    }
    if let Some(e) = first_error {
        ctx.procs.stop_all().await;
        ctx.log(&e);
        return Err(RunError {
            message: format!("{e}\n(node logs: {})", dir.join("nodes").display()),
            bad_input: true,
        });
    }
    ctx.log("every node answered init");
    let began = Instant::now();
    let began_ns = ctx.recorder.now();
    let deadline = began + ctx.opts.time_limit;
    // Clients and nemesis.
    let mut clients = tokio::task::JoinSet::new();
    for w in 0..workers {
        let ctx = ctx.clone();
        clients.spawn(async move { worker(ctx, w, deadline).await });
    }
    let nem = match replay {
        Some(list) => {
            let ctx = ctx.clone();
            Some(tokio::spawn(async move {
                replay_loop(&ctx, list, began, deadline).await;
            }))
        }
        None if nemesis.is_empty() => None,
        None => {
            let ctx = ctx.clone();
            Some(tokio::spawn(async move {
                nemesis_loop(&ctx, &mut nemesis, deadline).await;
            }))
        }
    };
    let mut ends = Vec::new();
    while let Some(r) = clients.join_next().await {
        if let Ok(end) = r {
            ends.push(end);
        }
    }
    if let Some(n) = nem {
        let _ = n.await;
    }
    // Final phase.
    if kind.has_final() && !stop.load(Ordering::Relaxed) {
        ctx.log(&format!(
            "healed; waiting {} s for recovery",
            ctx.opts.recovery.as_secs_f64()
        ));
        wait_or_stop(&ctx, ctx.opts.recovery).await;
        if !stop.load(Ordering::Relaxed) {
            ctx.nemesis_event(OpType::Info, "final-reads", Value::Null, None);
            let mut finals = tokio::task::JoinSet::new();
            for end in ends {
                let ctx = ctx.clone();
                finals.spawn(async move { final_ops(ctx, end).await });
            }
            while finals.join_next().await.is_some() {}
        }
    }
    ctx.procs.stop_all().await;
    let elapsed = began.elapsed();
    ctx.log(&format!(
        "nodes stopped after {:.1} s of workload",
        elapsed.as_secs_f64()
    ));
    check_and_store(&ctx, dir, began_ns).await
}

async fn wait_or_stop(ctx: &Ctx, d: Duration) {
    let until = Instant::now() + d;
    while Instant::now() < until && !ctx.stop.load(Ordering::Relaxed) {
        tokio::time::sleep((until - Instant::now()).min(Duration::from_millis(100))).await;
    }
}

/// A client's state when the main phase ends.
struct WorkerEnd {
    worker: usize,
    process: u64,
    client: Client,
    state: ProcState,
}

async fn worker(ctx: Arc<Ctx>, w: usize, deadline: Instant) -> WorkerEnd {
    let nodes = &ctx.opts.nodes;
    let node = nodes[w % nodes.len()].clone();
    let workers = ctx.opts.concurrency.max(1) as u64;
    let mut process = w as u64;
    let mut client = ctx.client();
    let mut state = ProcState::default();
    if ctx.opts.rate <= 0.0 {
        tokio::time::sleep_until(deadline.into()).await;
    }
    while ctx.opts.rate > 0.0 && !ctx.stop.load(Ordering::Relaxed) && Instant::now() < deadline {
        if !ctx.pace(deadline).await {
            break;
        }
        let inv = lock(&ctx.generator).next(w, state.assigned);
        let p = Process::Client(process);
        ctx.record(
            p,
            OpType::Invoke,
            &inv,
            inv.value.clone(),
            None,
            Some(&node),
        );
        if &*inv.f == "crash" {
            ctx.record(
                p,
                OpType::Info,
                &inv,
                Value::Null,
                Some("client crashed (kafka's crash op)".into()),
                Some(&node),
            );
            process += workers;
            client = ctx.client();
            state = ProcState::default();
            continue;
        }
        let c = workload::invoke(ctx.kind, &mut client, &node, &inv, &mut state, ctx.timeout).await;
        if let Some(m) = &c.malformed {
            ctx.malformed.fetch_add(1, Ordering::Relaxed);
            ctx.procs.error(&node, m.clone());
        }
        ctx.record(p, c.kind, &inv, c.value, c.error, Some(&node));
        if c.kind == OpType::Info {
            process += workers;
            client = ctx.client();
            state = ProcState::default();
        }
    }
    WorkerEnd {
        worker: w,
        process,
        client,
        state,
    }
}

/// The final phase of one client.
async fn final_ops(ctx: Arc<Ctx>, mut end: WorkerEnd) {
    let nodes = &ctx.opts.nodes;
    let node = nodes[end.worker % nodes.len()].clone();
    let p = Process::Client(end.process);
    if ctx.kind != Kind::Kafka {
        let inv = lock(&ctx.generator).final_read();
        ctx.record(p, OpType::Invoke, &inv, Value::Null, None, Some(&node));
        let c = workload::invoke(
            ctx.kind,
            &mut end.client,
            &node,
            &inv,
            &mut end.state,
            ctx.timeout,
        )
        .await;
        ctx.record(p, c.kind, &inv, c.value, c.error, Some(&node));
        return;
    }
    // Kafka, as Jepsen's final generator: the client crashes (a fresh
    // process, so no poll before is compared with the ones after), then
    // assigns every key from offset 0 and polls until a poll brings
    // nothing.
    let crash = Invocation {
        f: Arc::from("crash"),
        key: None,
        value: Value::Null,
    };
    ctx.record(p, OpType::Invoke, &crash, Value::Null, None, Some(&node));
    ctx.record(
        p,
        OpType::Info,
        &crash,
        Value::Null,
        Some("final phase: the client starts over".into()),
        Some(&node),
    );
    end.process += ctx.opts.concurrency.max(1) as u64;
    end.client = ctx.client();
    end.state = ProcState::default();
    let p = Process::Client(end.process);
    let keys = lock(&ctx.generator).kafka_keys();
    let assign = Invocation {
        f: Arc::from("assign"),
        key: None,
        value: json!(keys),
    };
    ctx.record(
        p,
        OpType::Invoke,
        &assign,
        assign.value.clone(),
        None,
        Some(&node),
    );
    end.state.offsets = keys.iter().map(|k| (k.clone(), 0)).collect();
    end.state.assigned = true;
    ctx.record(
        p,
        OpType::Ok,
        &assign,
        assign.value.clone(),
        None,
        Some(&node),
    );
    let until = Instant::now() + FINAL_POLL_LIMIT;
    let mut process = end.process;
    while Instant::now() < until && !ctx.stop.load(Ordering::Relaxed) {
        let p = Process::Client(process);
        let inv = Invocation {
            f: Arc::from("poll"),
            key: None,
            value: json!([["poll"]]),
        };
        ctx.record(
            p,
            OpType::Invoke,
            &inv,
            inv.value.clone(),
            None,
            Some(&node),
        );
        let mut commit = None;
        let r = workload::poll(
            &mut end.client,
            &node,
            &mut end.state,
            ctx.timeout,
            &mut commit,
        )
        .await;
        if commit.is_some() {
            ctx.commit_failures.fetch_add(1, Ordering::Relaxed);
        }
        match r {
            Ok(msgs) => {
                let empty = msgs
                    .as_object()
                    .is_none_or(|m| m.values().all(|v| v.as_array().is_none_or(Vec::is_empty)));
                ctx.record(
                    p,
                    OpType::Ok,
                    &inv,
                    json!([["poll", msgs]]),
                    None,
                    Some(&node),
                );
                if empty {
                    break;
                }
            }
            Err(e) => {
                let c = workload::Completion::failed(&inv, &e);
                ctx.record(p, c.kind, &inv, c.value, c.error, Some(&node));
                if c.kind == OpType::Info {
                    process += ctx.opts.concurrency.max(1) as u64;
                }
            }
        }
    }
}

async fn nemesis_loop(ctx: &Ctx, nemesis: &mut Nemesis, deadline: Instant) {
    let nodes = ctx.opts.nodes.clone();
    loop {
        let wait = nemesis.wait();
        if Instant::now() + wait >= deadline {
            break;
        }
        wait_or_stop(ctx, wait).await;
        if ctx.stop.load(Ordering::Relaxed) {
            break;
        }
        let fault = match nemesis.next(&nodes) {
            Ok(f) => f,
            Err(e) => {
                ctx.log(&format!("nemesis: {e}"));
                break;
            }
        };
        let hold = nemesis
            .wait()
            .min(deadline.saturating_duration_since(Instant::now()));
        one_fault(ctx, &fault, hold).await;
    }
}

/// A replayed run's faults, each started and stopped at its recorded time
/// (from the start of the workload), all stopped by the deadline.
async fn replay_loop(ctx: &Ctx, list: Vec<Timed>, began: Instant, deadline: Instant) {
    for t in list {
        let at = (began + t.start).min(deadline);
        wait_or_stop(ctx, at.saturating_duration_since(Instant::now())).await;
        if ctx.stop.load(Ordering::Relaxed) || Instant::now() >= deadline {
            break;
        }
        let until = (began + t.stop).min(deadline);
        one_fault(
            ctx,
            &t.fault,
            until.saturating_duration_since(Instant::now()),
        )
        .await;
    }
}

/// Starts `fault`, holds it for `hold` (less if the run is stopped), stops
/// it, and records both in the history, faultline.log and the run's fault
/// list.
async fn one_fault(ctx: &Ctx, fault: &Applied, hold: Duration) {
    let start_f = format!("start-{}", fault.name());
    let stop_f = format!("stop-{}", fault.name());
    let started = ctx.recorder.now();
    ctx.nemesis_event(OpType::Invoke, &start_f, fault.value(), None);
    let err = apply(ctx, fault, true).await.err();
    ctx.nemesis_event(OpType::Info, &start_f, fault.value(), err.clone());
    ctx.log(&format!("{start_f} {}", fault.value()));
    wait_or_stop(ctx, hold).await;
    ctx.nemesis_event(OpType::Invoke, &stop_f, fault.value(), None);
    let stop_err = apply(ctx, fault, false).await.err();
    ctx.nemesis_event(OpType::Info, &stop_f, fault.value(), stop_err.clone());
    ctx.log(&format!("{stop_f} {}", fault.value()));
    lock(&ctx.applied).push(json!({
        "kind": fault.name(),
        "value": fault.value(),
        "start_ns": started,
        "stop_ns": ctx.recorder.now(),
        "error": err.or(stop_err),
    }));
}

/// Starts (`on`) or stops a fault.
async fn apply(ctx: &Ctx, fault: &Applied, on: bool) -> Result<(), String> {
    let set = |nodes: &[String], p: f64| on.then(|| (nodes.iter().cloned().collect(), p));
    match fault {
        Applied::Net(Fault::Partition(g)) => ctx
            .net
            .set_faults(|f| f.grudge = if on { g.clone() } else { Default::default() }),
        Applied::Net(Fault::Loss { nodes, probability }) => {
            ctx.net.set_faults(|f| f.loss = set(nodes, *probability))
        }
        Applied::Duplicate { nodes, probability } => ctx
            .net
            .set_faults(|f| f.duplicate = set(nodes, *probability)),
        Applied::Net(Fault::Pause(nodes)) => {
            for n in nodes {
                ctx.procs.pause(n, on);
            }
        }
        Applied::Net(Fault::Kill(nodes)) if on => {
            for n in nodes {
                ctx.procs.kill(n).await;
            }
        }
        Applied::Net(Fault::Kill(nodes)) => {
            let mut errors = Vec::new();
            for n in nodes {
                if let Err(e) = ctx.start_node(n).await {
                    ctx.procs.error(n, format!("after a kill: {e}"));
                    errors.push(e);
                }
            }
            if !errors.is_empty() {
                return Err(errors.join("; "));
            }
        }
        Applied::Net(other) => {
            return Err(format!(
                "{} faults do not apply to Maelstrom nodes",
                other.kind().name()
            ))
        }
    }
    Ok(())
}

/// Which checkers a workload gets, over which kind of history.
fn checks(ctx: &Ctx) -> Checks {
    let (workload, first) = match ctx.kind {
        Kind::Echo => (WorkloadKind::Register, "echo"),
        Kind::UniqueIds => (WorkloadKind::UniqueIds, "unique-ids"),
        Kind::Broadcast | Kind::GSet => (WorkloadKind::Set, "set-full"),
        Kind::GCounter | Kind::PnCounter => (WorkloadKind::Counter, "pn-counter"),
        Kind::LinKv => (WorkloadKind::CasRegister, "linearizable"),
        Kind::TxnListAppend => (WorkloadKind::ListAppend, "elle"),
        Kind::TxnRwRegister => (WorkloadKind::RwRegister, "elle"),
        Kind::Kafka => (WorkloadKind::Queue, "kafka"),
    };
    Checks {
        checkers: vec![first.into(), "stats".into(), "perf".into()],
        workload,
        workload_options: WorkloadOptions::default(),
        consistency_models: ctx.opts.consistency_models.clone(),
    }
}

async fn check_and_store(ctx: &Arc<Ctx>, dir: PathBuf, began_ns: i64) -> Result<Outcome, RunError> {
    let (ops, write_error) = ctx.recorder.finish();
    if let Some(e) = write_error {
        crate::say!("warning: writing history.jsonl failed: {e}");
    }
    let invoked = ops
        .iter()
        .filter(|o| o.process != Process::Nemesis && o.kind == OpType::Invoke)
        .count() as u64;
    let oks = ops
        .iter()
        .filter(|o| o.process != Process::Nemesis && o.kind == OpType::Ok)
        .count() as u64;
    let lines = (1..=ops.len() as u32).collect();
    let history = History::with_lines(ops, lines);
    let checks = checks(ctx);
    let limit = ctx.opts.check_limit;
    let mut results = tokio::task::spawn_blocking(move || results::check(&checks, &history, limit))
        .await
        .map_err(|e| internal(format!("the checkers panicked: {e}")))?;
    // Maelstrom's net figures.
    let stats = ctx.net.stats.snapshot(invoked);
    let net_lines = vec![
        format!(
            "all: {} messages, {} delivered{}",
            stats.all.msg_count,
            stats.all.recv_count,
            stats
                .all
                .msgs_per_op
                .map_or(String::new(), |m| format!(", {m:.2} per op"))
        ),
        format!(
            "clients: {} messages; servers: {} messages{}",
            stats.clients.msg_count,
            stats.servers.msg_count,
            stats
                .servers
                .msgs_per_op
                .map_or(String::new(), |m| format!(", {m:.2} per op"))
        ),
    ];
    results.add(
        "net",
        Validity::Valid,
        json!({"valid": true, "all": stats.all, "clients": stats.clients, "servers": stats.servers}),
        &net_lines,
    );
    // Availability.
    let fraction = if invoked == 0 {
        0.0
    } else {
        oks as f64 / invoked as f64
    };
    let (valid, need) = match ctx.opts.availability {
        None => (Validity::Valid, None),
        Some(Availability::Total) => (valid_if(oks == invoked), Some(1.0)),
        Some(Availability::Fraction(f)) => (valid_if(fraction >= f), Some(f)),
    };
    let mut line = format!(
        "{oks} of {invoked} client ops ok ({:.2}%)",
        fraction * 100.0
    );
    if let Some(n) = need {
        line.push_str(&format!("; --availability asks for {:.2}%", n * 100.0));
    }
    results.add(
        "availability",
        valid,
        json!({"valid": valid, "ok_fraction": fraction, "ok_count": oks, "invoke_count": invoked, "required": need}),
        &[line],
    );
    // Protocol: what the nodes did wrong.
    let (errors, count) = ctx.procs.errors();
    let valid = if count == 0 {
        Validity::Valid
    } else {
        Validity::Invalid
    };
    let mut plines: Vec<String> = errors
        .iter()
        .take(5)
        .map(|e| format!("{} at {:.3} s: {}", e.node, e.time as f64 / 1e9, e.error))
        .collect();
    if count > plines.len() {
        plines.push(format!("… {} protocol errors in all", count));
    }
    results.add(
        "protocol",
        valid,
        json!({"valid": valid, "error_count": count, "errors": errors,
               "malformed_replies": ctx.malformed.load(Ordering::Relaxed),
               "undeliverable": ctx.net.undeliverable(),
               "commit_offsets_failures": ctx.commit_failures.load(Ordering::Relaxed)}),
        &plines,
    );
    let journal = ctx.net.journal();
    let record = json!({
        "workload": ctx.kind.name(),
        "options": &ctx.opts,
        "began_ns": began_ns,
        "faults": *lock(&ctx.applied),
        "replay": format!(
            "faultline maelstrom test --replay {}",
            std::fs::canonicalize(&dir).unwrap_or_else(|_| dir.clone()).display()
        ),
        "finished": store::rfc3339(SystemTime::now()),
        "messages": journal,
    });
    let mut json = std::mem::take(&mut results.json);
    json["maelstrom"] = record;
    let text =
        serde_json::to_string_pretty(&json).map_err(|e| internal(format!("results.json: {e}")))?;
    std::fs::write(dir.join("results.json"), text)
        .map_err(|e| internal(format!("{}: {e}", dir.join("results.json").display())))?;
    if let Err(e) = results.write_witness(&dir) {
        crate::say!("warning: writing witness.json failed: {e}");
    }
    Ok(Outcome {
        valid: results.valid,
        dir,
        summary: results.text,
    })
}

fn valid_if(ok: bool) -> Validity {
    if ok {
        Validity::Valid
    } else {
        Validity::Invalid
    }
}
