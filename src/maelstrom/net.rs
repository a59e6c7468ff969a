//! The simulated network: every message between nodes, clients and
//! services goes through one router task, which delays it (a seeded
//! latency draw), may drop or duplicate it (loss and duplication faults,
//! between server nodes only), and at delivery time drops it if a partition
//! says the receiver does not hear the sender — as Maelstrom's `net.clj`
//! does. It counts what it carries for Maelstrom's `net` figures and keeps
//! the first messages for the report's message diagram.

use super::protocol::{is_client, Message};
use fastrand::Rng;
use faultline_nemesis::grudge::{hears, Grudge};
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How message delays are drawn (`--latency-dist`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LatencyDist {
    /// Always the mean.
    Constant,
    /// Uniform on [0, 2 × mean].
    Uniform,
    /// Exponential with the given mean.
    Exponential,
}

impl std::str::FromStr for LatencyDist {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "constant" => Ok(LatencyDist::Constant),
            "uniform" => Ok(LatencyDist::Uniform),
            "exponential" => Ok(LatencyDist::Exponential),
            _ => Err(format!(
                "unknown latency distribution {s:?}; expected constant, uniform or exponential"
            )),
        }
    }
}

/// Message counts of one class, as Maelstrom's net checker gives them.
#[derive(Debug, Default)]
pub struct Counts {
    sends: AtomicU64,
    recvs: AtomicU64,
    dropped: AtomicU64,
}

/// Counts as Maelstrom's `net` result fields.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct CountsSnapshot {
    /// Messages sent.
    pub send_count: u64,
    /// Messages delivered (a duplicated message counts twice).
    pub recv_count: u64,
    /// Distinct messages (Maelstrom's `msg-count`).
    pub msg_count: u64,
    /// Messages dropped: partitioned, lost, or to a node that was down.
    pub dropped_count: u64,
    /// msg_count per client operation invoked (set by the caller).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msgs_per_op: Option<f64>,
}

impl Counts {
    fn snapshot(&self) -> CountsSnapshot {
        let sends = self.sends.load(Ordering::Relaxed);
        CountsSnapshot {
            send_count: sends,
            recv_count: self.recvs.load(Ordering::Relaxed),
            msg_count: sends,
            dropped_count: self.dropped.load(Ordering::Relaxed),
            msgs_per_op: None,
        }
    }
}

/// Counts for all messages, those with a client at one end, and those
/// between servers (nodes and services), as Maelstrom splits them.
#[derive(Debug, Default)]
pub struct Stats {
    all: Counts,
    clients: Counts,
    servers: Counts,
}

/// A [`Stats`] at one moment.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct StatsSnapshot {
    /// Every message.
    pub all: CountsSnapshot,
    /// Messages from or to a client.
    pub clients: CountsSnapshot,
    /// Messages between servers.
    pub servers: CountsSnapshot,
}

impl Stats {
    fn classes(&self, m: &Message) -> [&Counts; 2] {
        if is_client(&m.src) || is_client(&m.dest) {
            [&self.all, &self.clients]
        } else {
            [&self.all, &self.servers]
        }
    }

    /// The counts now, with msgs-per-op over `ops` client invocations.
    pub fn snapshot(&self, ops: u64) -> StatsSnapshot {
        let per = |c: &Counts| {
            let mut s = c.snapshot();
            if ops > 0 {
                s.msgs_per_op = Some(s.msg_count as f64 / ops as f64);
            }
            s
        };
        StatsSnapshot {
            all: per(&self.all),
            clients: self.clients.snapshot(),
            servers: per(&self.servers),
        }
    }
}

/// One message in the journal the message diagram is drawn from.
#[derive(Clone, Debug, Serialize)]
pub struct Journaled {
    /// The router's id of the message.
    pub id: u64,
    /// Sender.
    pub src: String,
    /// Receiver.
    pub dest: String,
    /// Body type.
    #[serde(rename = "type")]
    pub kind: String,
    /// The body, shortened.
    pub body: String,
    /// Sent, ns since the test started.
    pub sent: i64,
    /// Delivered, ns since the test started; `None` if dropped.
    pub recv: Option<i64>,
}

/// What the faults do to the network right now.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Receiver → senders it does not hear.
    pub grudge: Grudge,
    /// Receiving nodes whose messages from other nodes are lost, and how
    /// often.
    pub loss: Option<(BTreeSet<String>, f64)>,
    /// Receiving nodes whose messages from other nodes are duplicated, and
    /// how often.
    pub duplicate: Option<(BTreeSet<String>, f64)>,
}

struct Pending {
    due: Instant,
    seq: u64,
    id: u64,
    msg: Message,
}

impl PartialEq for Pending {
    fn eq(&self, o: &Self) -> bool {
        (self.due, self.seq) == (o.due, o.seq)
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Pending {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.due, self.seq).cmp(&(o.due, o.seq))
    }
}

/// Where log lines for `--log-net-send`/`--log-net-recv` go.
pub type LogFn = Arc<dyn Fn(&str) + Send + Sync>;

/// The network. Cheap to share (`Arc<Net>`); [`Net::start`] spawns the
/// router.
pub struct Net {
    tx: mpsc::UnboundedSender<Message>,
    inboxes: Mutex<HashMap<String, mpsc::UnboundedSender<Message>>>,
    faults: Mutex<Faults>,
    /// Message counts.
    pub stats: Stats,
    journal: Mutex<Vec<Journaled>>,
    journal_limit: usize,
    start: Instant,
    log_send: Option<LogFn>,
    log_recv: Option<LogFn>,
    undeliverable: AtomicU64,
}

/// Network settings.
#[derive(Clone)]
pub struct NetOptions {
    /// Mean latency.
    pub latency: Duration,
    /// Its distribution.
    pub dist: LatencyDist,
    /// Seed of the latency, loss and duplication draws.
    pub seed: u64,
    /// Messages kept for the diagram.
    pub journal_limit: usize,
    /// Log each message as it is sent.
    pub log_send: Option<LogFn>,
    /// Log each message as it is delivered.
    pub log_recv: Option<LogFn>,
}

impl Net {
    /// A network whose times count from `start`; spawns its router on the
    /// current tokio runtime.
    pub fn start(opts: NetOptions, start: Instant) -> Arc<Net> {
        let (tx, rx) = mpsc::unbounded_channel();
        let net = Arc::new(Net {
            tx,
            inboxes: Mutex::new(HashMap::new()),
            faults: Mutex::new(Faults::default()),
            stats: Stats::default(),
            journal: Mutex::new(Vec::new()),
            journal_limit: opts.journal_limit,
            start,
            log_send: opts.log_send.clone(),
            log_recv: opts.log_recv.clone(),
            undeliverable: AtomicU64::new(0),
        });
        tokio::spawn(route(net.clone(), rx, opts));
        net
    }

    /// Adds a node (server, client or service) to the network; its messages
    /// arrive on the returned receiver. Registering an id again replaces
    /// the old inbox (a restarted node).
    pub fn register(&self, id: &str) -> mpsc::UnboundedReceiver<Message> {
        let (tx, rx) = mpsc::unbounded_channel();
        lock(&self.inboxes).insert(id.to_string(), tx);
        rx
    }

    /// Removes a node; messages to it are dropped.
    pub fn unregister(&self, id: &str) {
        lock(&self.inboxes).remove(id);
    }

    /// Sends a message into the network.
    pub fn send(&self, msg: Message) {
        let _ = self.tx.send(msg);
    }

    /// Replaces the faults in force.
    pub fn set_faults(&self, f: impl FnOnce(&mut Faults)) {
        f(&mut lock(&self.faults));
    }

    /// The journal so far (the first `journal_limit` messages).
    pub fn journal(&self) -> Vec<Journaled> {
        lock(&self.journal).clone()
    }

    /// Messages to an id that was not on the network.
    pub fn undeliverable(&self) -> u64 {
        self.undeliverable.load(Ordering::Relaxed)
    }

    fn now(&self) -> i64 {
        self.start.elapsed().as_nanos() as i64
    }

    fn deliver(&self, id: u64, msg: Message) {
        let hears_it = hears(&lock(&self.faults).grudge, &msg.dest, &msg.src);
        let [all, class] = self.stats.classes(&msg);
        if !hears_it {
            all.dropped.fetch_add(1, Ordering::Relaxed);
            class.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let inbox = lock(&self.inboxes).get(&msg.dest).cloned();
        if let Some(log) = &self.log_recv {
            log(&format!(":recv {}", msg.to_line()));
        }
        let delivered = match inbox {
            Some(tx) => tx.send(msg).is_ok(),
            None => false,
        };
        if delivered {
            all.recvs.fetch_add(1, Ordering::Relaxed);
            class.recvs.fetch_add(1, Ordering::Relaxed);
            if (id as usize) < self.journal_limit {
                let t = self.now();
                if let Some(j) = lock(&self.journal).get_mut(id as usize) {
                    j.recv.get_or_insert(t);
                }
            }
        } else {
            self.undeliverable.fetch_add(1, Ordering::Relaxed);
            all.dropped.fetch_add(1, Ordering::Relaxed);
            class.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A delay drawn from the distribution.
fn draw(rng: &mut Rng, mean: Duration, dist: LatencyDist) -> Duration {
    if mean.is_zero() {
        return Duration::ZERO;
    }
    let m = mean.as_secs_f64();
    let s = match dist {
        LatencyDist::Constant => m,
        LatencyDist::Uniform => rng.f64() * 2.0 * m,
        LatencyDist::Exponential => -m * (1.0 - rng.f64()).ln(),
    };
    Duration::from_secs_f64(s.min(3600.0))
}

/// Whether both ends are server nodes (not clients, not services): loss
/// and duplication apply to those only.
fn between_nodes(m: &Message, nodes: &BTreeSet<String>) -> bool {
    nodes.contains(&m.dest) && !is_client(&m.src) && !super::service::is_service(&m.src)
}

async fn route(net: Arc<Net>, mut rx: mpsc::UnboundedReceiver<Message>, opts: NetOptions) {
    let mut rng = Rng::with_seed(opts.seed ^ 0x6e65_7477);
    let mut heap: BinaryHeap<Reverse<Pending>> = BinaryHeap::new();
    let mut next_id: u64 = 0;
    let mut seq: u64 = 0;
    let accept = |msg: Message,
                  heap: &mut BinaryHeap<Reverse<Pending>>,
                  rng: &mut Rng,
                  next_id: &mut u64,
                  seq: &mut u64|
     -> Option<(u64, Message)> {
        let id = *next_id;
        *next_id += 1;
        let [all, class] = net.stats.classes(&msg);
        all.sends.fetch_add(1, Ordering::Relaxed);
        class.sends.fetch_add(1, Ordering::Relaxed);
        if let Some(log) = &net.log_send {
            log(&format!(":send {}", msg.to_line()));
        }
        if (id as usize) < net.journal_limit {
            let mut body = serde_json::to_string(&msg.body).unwrap_or_default();
            if body.len() > 200 {
                let mut cut = 200;
                while !body.is_char_boundary(cut) {
                    cut -= 1;
                }
                body.truncate(cut);
                body.push('…');
            }
            lock(&net.journal).push(Journaled {
                id,
                src: msg.src.clone(),
                dest: msg.dest.clone(),
                kind: msg.kind().to_string(),
                body,
                sent: net.now(),
                recv: None,
            });
        }
        let (lost, dup) = {
            let f = lock(&net.faults);
            let lost = f
                .loss
                .as_ref()
                .is_some_and(|(n, p)| between_nodes(&msg, n) && rng.f64() < *p);
            let dup = f
                .duplicate
                .as_ref()
                .is_some_and(|(n, p)| between_nodes(&msg, n) && rng.f64() < *p);
            (lost, dup)
        };
        if lost {
            all.dropped.fetch_add(1, Ordering::Relaxed);
            class.dropped.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        if dup {
            let d = draw(rng, opts.latency, opts.dist);
            *seq += 1;
            heap.push(Reverse(Pending {
                due: Instant::now() + d,
                seq: *seq,
                id,
                msg: msg.clone(),
            }));
        }
        let d = draw(rng, opts.latency, opts.dist);
        if d.is_zero() && heap.is_empty() {
            return Some((id, msg));
        }
        *seq += 1;
        heap.push(Reverse(Pending {
            due: Instant::now() + d,
            seq: *seq,
            id,
            msg,
        }));
        None
    };
    loop {
        let due = heap.peek().map(|p| p.0.due);
        tokio::select! {
            m = rx.recv() => {
                let Some(m) = m else { break };
                if let Some((id, m)) = accept(m, &mut heap, &mut rng, &mut next_id, &mut seq) {
                    net.deliver(id, m);
                }
                // Take what else is queued before looking at the clock.
                for _ in 0..1024 {
                    match rx.try_recv() {
                        Ok(m) => {
                            if let Some((id, m)) = accept(m, &mut heap, &mut rng, &mut next_id, &mut seq) {
                                net.deliver(id, m);
                            }
                        }
                        Err(_) => break,
                    }
                }
            }
            _ = sleep_until(due), if due.is_some() => {}
        }
        let now = Instant::now();
        while heap.peek().is_some_and(|p| p.0.due <= now) {
            if let Some(Reverse(p)) = heap.pop() {
                net.deliver(p.id, p.msg);
            }
        }
    }
}

async fn sleep_until(due: Option<Instant>) {
    if let Some(d) = due {
        tokio::time::sleep_until(tokio::time::Instant::from_std(d)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::maelstrom::protocol::body;
    use serde_json::json;

    fn opts(latency_ms: u64) -> NetOptions {
        NetOptions {
            latency: Duration::from_millis(latency_ms),
            dist: LatencyDist::Constant,
            seed: 7,
            journal_limit: 100,
            log_send: None,
            log_recv: None,
        }
    }

    #[tokio::test]
    async fn messages_arrive_late_or_not_at_all_under_a_partition() {
        let net = Net::start(opts(30), Instant::now());
        let mut n1 = net.register("n1");
        let mut n2 = net.register("n2");
        let t = Instant::now();
        net.send(Message::new("n2", "n1", body("gossip", json!({"x": 1}))));
        let m = n1.recv().await.unwrap();
        assert_eq!(m.body["x"], 1);
        assert!(
            t.elapsed() >= Duration::from_millis(29),
            "{:?}",
            t.elapsed()
        );
        net.set_faults(|f| {
            f.grudge.insert("n1".into(), ["n2".to_string()].into());
        });
        net.send(Message::new("n2", "n1", body("gossip", json!({"x": 2}))));
        net.send(Message::new("n1", "n2", body("gossip", json!({"x": 3}))));
        assert_eq!(n2.recv().await.unwrap().body["x"], 3, "one way only");
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert!(n1.try_recv().is_err(), "partitioned message delivered");
        let s = net.stats.snapshot(2);
        assert_eq!(
            (
                s.servers.send_count,
                s.servers.recv_count,
                s.servers.dropped_count
            ),
            (3, 2, 1)
        );
        assert_eq!(s.servers.msgs_per_op, Some(1.5));
        let j = net.journal();
        assert_eq!(j.len(), 3);
        assert!(j[0].recv.is_some() && j[1].recv.is_none());
    }

    #[tokio::test]
    async fn loss_and_duplication_touch_node_to_node_messages_only() {
        let net = Net::start(opts(0), Instant::now());
        let mut n1 = net.register("n1");
        let nodes: BTreeSet<String> = ["n1".to_string()].into();
        net.set_faults(|f| f.loss = Some((nodes.clone(), 1.0)));
        net.send(Message::new("n2", "n1", body("a", json!({}))));
        net.send(Message::new("c1", "n1", body("b", json!({}))));
        assert_eq!(n1.recv().await.unwrap().kind(), "b");
        net.set_faults(|f| {
            f.loss = None;
            f.duplicate = Some((nodes, 1.0));
        });
        net.send(Message::new("n2", "n1", body("c", json!({}))));
        assert_eq!(n1.recv().await.unwrap().kind(), "c");
        assert_eq!(n1.recv().await.unwrap().kind(), "c");
    }

    #[test]
    fn latency_draws_have_the_mean_asked_for() {
        let mut rng = Rng::with_seed(1);
        let mean = Duration::from_millis(100);
        for dist in [
            LatencyDist::Constant,
            LatencyDist::Uniform,
            LatencyDist::Exponential,
        ] {
            let n = 20_000;
            let total: f64 = (0..n)
                .map(|_| draw(&mut rng, mean, dist).as_secs_f64())
                .sum();
            let avg = total / n as f64;
            assert!((avg - 0.1).abs() < 0.005, "{dist:?}: {avg}");
        }
    }
}
