//! Command-line arguments (first stage: parsed and validated, no I/O).
#![allow(missing_docs)]

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Jepsen-style cluster testing: faults, workloads, histories and checkers.
#[derive(Parser, Debug)]
#[command(
    name = "faultline",
    version,
    about,
    max_term_width = 100,
    after_help = "Documentation: README.md and docs/ (docs/README.md lists the pages) in faultline's source tree."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// faultline's subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a test from a YAML spec: DB setup, workload, faults, checking.
    Test(TestArgs),
    /// Check recorded histories (JSONL, Jepsen history.edn or Jepsen logs).
    Check(CheckArgs),
    /// The local test cluster: nodes made of Linux namespaces on this machine.
    #[command(subcommand, after_help = "Reference: docs/cluster.md")]
    Cluster(ClusterCmd),
    /// Inject or heal a fault by hand on a running cluster.
    #[command(subcommand, after_help = "Reference: docs/nemesis.md")]
    Nemesis(NemesisCmd),
    /// Show a stored run again: tables, its results.json, or its HTML report.
    Report(ReportArgs),
    /// Browse a store's runs and reports in a browser (read-only).
    Serve(ServeArgs),
    /// Maelstrom mode: run Maelstrom nodes (Gossip Glomers solutions)
    /// unchanged on a simulated network.
    #[command(subcommand, after_help = "Reference: docs/maelstrom.md")]
    Maelstrom(MaelstromCmd),
    /// The fault filesystem on a node (run there by `faultline test`; not
    /// for direct use).
    #[command(subcommand, hide = true)]
    Disk(DiskCmd),
}

/// `faultline maelstrom ...`.
#[derive(Subcommand, Debug)]
pub enum MaelstromCmd {
    /// Run one Maelstrom test, as `./maelstrom test` does.
    Test(MaelstromArgs),
}

/// Arguments of `faultline maelstrom test`: Maelstrom's flags and
/// defaults, and faultline's own (marked).
#[derive(Args, Debug)]
#[command(
    after_help = "Exit status: 0 valid, 1 invalid, 2 unknown, 254 bad arguments or a node that does not start or answer init, 255 internal error.\n\nExamples:\n  faultline maelstrom test -w echo --bin ./echo.py --node-count 1 --time-limit 10\n  faultline maelstrom test -w broadcast --bin ./broadcast --node-count 5 --time-limit 20 --rate 10 --nemesis partition\n  faultline maelstrom test -w g-counter --bin ./counter --node-count 3 --rate 100 --time-limit 20 --nemesis partition,kill\n\nReference: docs/maelstrom.md"
)]
pub struct MaelstromArgs {
    /// What workload to run.
    #[arg(short = 'w', long, default_value = "lin-kv")]
    pub workload: String,
    /// Path to the binary that runs a node.
    #[arg(long, value_name = "FILE", required_unless_present = "replay")]
    pub bin: Option<PathBuf>,
    /// faultline: run a stored Maelstrom run again — its options, seed
    /// and faults at their recorded times (`--store` and
    /// `--check-time-limit` may differ).
    #[arg(long, value_name = "RUN_DIR", conflicts_with = "bin")]
    pub replay: Option<PathBuf>,
    /// Arguments for the binary.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
    /// How many nodes to run (n0, n1, ...); overrides --nodes.
    #[arg(long, value_name = "NUM")]
    pub node_count: Option<usize>,
    /// Comma-separated node ids (default n1..n5, as Maelstrom's).
    #[arg(long, value_name = "IDS")]
    pub nodes: Option<String>,
    /// Seconds of workload.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0, value_parser = parse_seconds)]
    pub time_limit: f64,
    /// Approximate requests per second, all clients together.
    #[arg(long, default_value_t = 5.0)]
    pub rate: f64,
    /// Clients: `10` or `2n` (2 per node).
    #[arg(long, value_name = "N|Kn", default_value = "1n")]
    pub concurrency: String,
    /// Mean network latency in ms.
    #[arg(long, value_name = "MILLIS", default_value_t = 0)]
    pub latency: u64,
    /// Latency distribution: constant, uniform or exponential.
    #[arg(long, value_name = "TYPE", default_value = "constant")]
    pub latency_dist: String,
    /// Comma-separated faults: partition (Maelstrom's), and faultline's
    /// one-way, kill, pause, loss, duplicate.
    #[arg(long, value_name = "FAULTS", default_value = "")]
    pub nemesis: String,
    /// Seconds between faults, on average.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0, value_parser = parse_seconds)]
    pub nemesis_interval: f64,
    /// `total` (every op must succeed) or the fraction of ops that must.
    #[arg(long, value_name = "total|FRACTION")]
    pub availability: Option<String>,
    /// Broadcast topology: grid, line, tree, tree2, tree3, tree4, total.
    #[arg(long, value_name = "SPEC", default_value = "grid")]
    pub topology: String,
    /// Comma-separated consistency models to check (txn workloads).
    #[arg(long, value_name = "MODELS", default_value = "strict-serializable")]
    pub consistency_models: String,
    /// Keys in use at once (txn and kafka workloads).
    #[arg(long, value_name = "INT")]
    pub key_count: Option<usize>,
    /// Micro-ops per transaction, at most.
    #[arg(long, value_name = "INT", default_value_t = 4)]
    pub max_txn_length: usize,
    /// Writes per key before the txn workloads move to a fresh key.
    #[arg(long, value_name = "INT", default_value_t = 16)]
    pub max_writes_per_key: usize,
    /// Show the nodes' stderr as they write it (it is always kept in
    /// `nodes/<id>/stderr.log`).
    #[arg(long)]
    pub log_stderr: bool,
    /// Log messages as they are sent (faultline.log).
    #[arg(long)]
    pub log_net_send: bool,
    /// Log messages as they are delivered (faultline.log).
    #[arg(long)]
    pub log_net_recv: bool,
    /// faultline: seed of the generator, latencies, drops and faults
    /// (default: a fresh one, printed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// faultline: the store directory.
    #[arg(long, default_value = "store")]
    pub store: PathBuf,
    /// faultline: seconds to wait after healing before the final reads
    /// (Maelstrom: 10).
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    pub recovery_time: f64,
    /// faultline: probability of each loss/duplicate fault's drop or copy.
    #[arg(long, value_name = "P", default_value_t = 0.3)]
    pub loss_probability: f64,
    /// faultline: give up checking after this many seconds (unknown).
    #[arg(long, value_name = "SECONDS", default_value_t = 300.0, value_parser = parse_seconds)]
    pub check_time_limit: f64,
    /// faultline: messages kept for the report's message diagram.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub journal_limit: usize,
}

/// `faultline disk ...`: the fault filesystem's helper, run on a node.
#[derive(Subcommand, Debug)]
pub enum DiskCmd {
    /// Mount the layer over MOUNT (data in BACKING) and serve it until
    /// unmounted or sent SIGTERM.
    Mount {
        /// The directory the DB uses.
        #[arg(long)]
        mount: PathBuf,
        /// Where the data really lives.
        #[arg(long)]
        backing: PathBuf,
        /// The control socket.
        #[arg(long)]
        socket: PathBuf,
        /// The node's data directory: MOUNT must be inside it.
        #[arg(long)]
        within: PathBuf,
    },
    /// Corrupt the files under ROOT that the globs match and print one
    /// JSON line per file changed. FAULT is one of `bitflip [chunk=B]
    /// [start=B] [end=B] [mod=N] [index=I] [probability=P]`, `truncate
    /// drop=B`, `copy [chunk options]`, `snapshot [chunk options]`,
    /// `restore`.
    Corrupt {
        /// The directory whose files are corrupted.
        #[arg(long)]
        root: PathBuf,
        /// Glob of the files, relative to ROOT (repeatable).
        #[arg(long = "file", required = true)]
        files: Vec<String>,
        /// Seed of the bits flipped and chunks copied.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// The fault and its options.
        #[arg(required = true, trailing_var_arg = true)]
        fault: Vec<String>,
    },
    /// Send one command to a mounted layer and print its JSON reply
    /// (`ping`, `report`, `checkpoint`, `lose-unfsynced`, `torn SEED [KEEP]`).
    Ctl {
        /// The layer's control socket.
        socket: PathBuf,
        /// The command and its arguments.
        #[arg(required = true, trailing_var_arg = true)]
        command: Vec<String>,
    },
}

/// Arguments of `faultline report`.
#[derive(Args, Debug)]
#[command(
    after_help = "Exit status: the run's verdict (0 valid, 1 invalid, 2 unknown), 254 if RUN_DIR is not a readable run.\n\nExamples:\n  faultline report store/latest\n  faultline report --html store/register-stale/latest\n  faultline report --json store/latest\n\nReference: docs/reports.md"
)]
pub struct ReportArgs {
    /// The run directory (store/TEST/TIMESTAMP, or a `latest` link).
    pub run_dir: PathBuf,
    /// Print the run's results.json instead of tables.
    #[arg(long, conflicts_with = "html")]
    pub json: bool,
    /// (Re)write RUN_DIR/report.html and RUN_DIR/junit.xml, and print the
    /// report's path.
    #[arg(long)]
    pub html: bool,
}

/// Arguments of `faultline serve`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  faultline serve\n  faultline serve /var/tmp/store --bind 127.0.0.1:9000\n\nReference: docs/reports.md#faultline-serve"
)]
pub struct ServeArgs {
    /// The store directory.
    #[arg(default_value = "store")]
    pub store: PathBuf,
    /// Address to listen on (loopback by default: the store is not public).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    pub bind: String,
}

/// Arguments of `faultline test`.
#[derive(Args, Debug)]
#[command(
    after_help = "Exit status: 0 valid, 1 invalid, 2 unknown, 254 bad spec or unreachable nodes, 255 internal error.\n\nExamples:\n  faultline test workloads/register-demo.yaml --local 3 --time-limit 20\n  faultline test workloads/register-demo.yaml --dry-run\n  faultline test --replay store/register-demo/latest\n\nReference: docs/running.md (the run, store, seeds, replay), docs/spec.md (the YAML spec)"
)]
pub struct TestArgs {
    /// The test spec (YAML).
    #[arg(required_unless_present = "replay", conflicts_with = "replay")]
    pub spec: Option<PathBuf>,
    /// Run on a fresh local namespace cluster of N nodes (needs root).
    #[arg(long, value_name = "N", conflicts_with_all = ["nodes", "nodes_file"])]
    pub local: Option<usize>,
    /// Use this existing local cluster (`faultline cluster up --name NAME`).
    #[arg(long, value_name = "NAME", conflicts_with_all = ["nodes", "nodes_file", "local"])]
    pub cluster: Option<String>,
    #[command(flatten)]
    pub remote: NodeArgs,
    /// Main phase length in seconds (overrides generator.time_limit).
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    pub time_limit: Option<f64>,
    /// Workers: `10` or `2n` (overrides generator.concurrency).
    #[arg(long, value_name = "N|Kn")]
    pub concurrency: Option<String>,
    /// Total ops per second (overrides generator.rate; 0 = unlimited).
    #[arg(long)]
    pub rate: Option<f64>,
    /// Run the test K times; stop at the first invalid run.
    #[arg(long, value_name = "K", default_value_t = 1, conflicts_with = "replay")]
    pub test_count: usize,
    /// Seed for the generator and the nemesis (overrides generator.seed;
    /// without either, each run draws a fresh seed and prints it).
    #[arg(long, conflicts_with = "replay")]
    pub seed: Option<u64>,
    /// Leave the DB (and a local cluster made for the test) running.
    #[arg(long)]
    pub leave_db_running: bool,
    /// Store directory.
    #[arg(long, value_name = "DIR", default_value = "store")]
    pub store: PathBuf,
    /// Time limit for the checkers, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 120.0, value_parser = parse_seconds)]
    pub check_time_limit: f64,
    /// Validate the spec and print the plan (nodes, phases, fault schedule,
    /// checkers) without touching anything; exit 0 or 254.
    #[arg(long)]
    pub dry_run: bool,
    /// Re-run a recorded run (store/NAME/TIMESTAMP): the same spec text,
    /// overrides and seed, and its recorded faults in order. Flags given
    /// with it replace the recorded ones.
    #[arg(long, value_name = "RUN_DIR")]
    pub replay: Option<PathBuf>,
    /// Also write the JUnit XML of the run(s) here (each run always gets
    /// RUN_DIR/junit.xml).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

/// `faultline nemesis ...`
#[derive(Subcommand, Debug)]
pub enum NemesisCmd {
    /// Start a fault (and with --duration, stop it again after that long).
    Start(FaultArgs),
    /// Stop a fault started earlier.
    Stop(FaultArgs),
    /// Heal everything on every node: network, paused/killed DB, clocks
    /// (with --data-dir, leftover fault filesystems too).
    Heal(NemesisCommon),
}

/// Which fault, and its parameters.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  faultline nemesis start partition --grudge majorities-ring\n  faultline nemesis start loss --probability 0.5 --target n2\n  faultline nemesis start kill --target one --pidfile /var/lib/faultline/node/db.pid --start 'db --daemon'\n  faultline nemesis heal\n\nReference: docs/nemesis.md"
)]
pub struct FaultArgs {
    /// partition, loss, kill, pause, clock, clock-strobe, delay, power,
    /// bitflip, truncate or snapshot.
    pub fault: String,
    /// Power: keep a random subset of the unsynced pages (torn writes)
    /// instead of dropping them all.
    #[arg(long)]
    pub torn: bool,
    /// Partition shape: halves, one, isolate:NODE, bridge, majorities-ring, random.
    #[arg(long, default_value = "halves")]
    pub grudge: String,
    /// Nodes for loss/kill/pause/clock/delay: one, minority, majority, all, or names (n1,n2).
    #[arg(long, default_value = "one")]
    pub target: String,
    /// Drop probability for loss.
    #[arg(long, default_value_t = 0.3)]
    pub probability: f64,
    /// Clock offset in milliseconds (negative: behind).
    #[arg(long, default_value_t = 5000, allow_hyphen_values = true)]
    pub delta_ms: i64,
    /// Delay in milliseconds (needs tc netem).
    #[arg(long, default_value_t = 50)]
    pub delay_ms: u64,
    /// Start, wait this many seconds, then stop (Ctrl-C stops early).
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    pub duration: Option<f64>,
    /// Seed for random grudges and targets (default: a fresh one each time).
    #[arg(long)]
    pub seed: Option<u64>,
    #[command(flatten)]
    pub common: NemesisCommon,
}

/// Which cluster, and what the nemesis needs to know about its DB.
#[derive(Args, Debug)]
pub struct NemesisCommon {
    /// Local cluster name (ignored with --nodes/--nodes-file).
    #[arg(long, default_value = DEFAULT_CLUSTER)]
    pub name: String,
    #[command(flatten)]
    pub remote: NodeArgs,
    /// The DB's pidfile on each node (for kill and pause).
    #[arg(long, value_name = "PATH")]
    pub pidfile: Option<String>,
    /// Command that starts the DB (for restarting after kill).
    #[arg(long, value_name = "CMD")]
    pub start: Option<String>,
    /// libfaketime offset file on each node (for clock faults).
    #[arg(long, value_name = "PATH")]
    pub offset_file: Option<String>,
    /// Control socket of a fault filesystem on each node (for power and
    /// corruption; repeatable: one per directory under the layer).
    #[arg(long, value_name = "PATH")]
    pub disk_socket: Vec<String>,
    /// The directory under the layer that each --disk-socket serves (for
    /// corruption faults; repeatable, in the same order).
    #[arg(long, value_name = "DIR")]
    pub disk_dir: Vec<String>,
    /// Glob of the files corruption faults touch, relative to each
    /// --disk-dir (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub disk_file: Vec<String>,
    /// The faultline binary on the nodes, which talks to the fault
    /// filesystem (default: this binary's path).
    #[arg(long, value_name = "PATH")]
    pub disk_helper: Option<String>,
    /// With heal: also unmount every fault filesystem left mounted under
    /// this data directory (after a controller that died mid-test; stop
    /// the DB first).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<String>,
}

/// `faultline cluster ...`
#[derive(Subcommand, Debug)]
pub enum ClusterCmd {
    /// Create (or repair) a local cluster; needs root.
    Up {
        /// Number of nodes.
        #[arg(long, default_value_t = 5)]
        nodes: usize,
        /// Cluster name (1-8 lowercase letters/digits); several can coexist.
        #[arg(long, default_value = DEFAULT_CLUSTER)]
        name: String,
    },
    /// Remove a local cluster: its processes, namespaces, links and state.
    Down {
        /// Cluster name.
        #[arg(long, default_value = DEFAULT_CLUSTER)]
        name: String,
        /// Remove every local cluster (those `cluster list` shows).
        #[arg(long, conflicts_with = "name")]
        all: bool,
    },
    /// List every local cluster: nodes up, who made it, whether its owner
    /// (a `faultline test`) still runs.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show each node: address, namespace, sshd, and the processes in it.
    Status {
        /// Cluster name.
        #[arg(long, default_value = DEFAULT_CLUSTER)]
        name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run a command on nodes: the local cluster's, or any given with --nodes.
    Exec(ExecArgs),
    /// PID 1 of a local node (started by `cluster up`; not for direct use).
    #[command(hide = true)]
    NodeInit {
        /// The node's state directory.
        #[arg(long)]
        dir: PathBuf,
        /// Its hostname.
        #[arg(long)]
        hostname: String,
        /// Where its data directory is mounted.
        #[arg(long)]
        data_mount: String,
    },
}

/// The default local cluster's name.
pub const DEFAULT_CLUSTER: &str = "fl";

/// Arguments of `faultline cluster exec`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  faultline cluster exec -- hostname\n  faultline cluster exec --node n1 -- ps -e\n  faultline cluster exec --nodes db1,db2 --username admin -- uptime\n\nReference: docs/cluster.md"
)]
pub struct ExecArgs {
    /// Local cluster name (ignored with --nodes/--nodes-file).
    #[arg(long, default_value = DEFAULT_CLUSTER)]
    pub name: String,
    /// Only these nodes (by name; repeatable).
    #[arg(long = "node", value_name = "NODE")]
    pub only: Vec<String>,
    /// All nodes (the default).
    #[arg(long, conflicts_with = "only")]
    pub all: bool,
    /// Kill the command after this many seconds.
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    pub timeout: Option<f64>,
    #[command(flatten)]
    pub remote: NodeArgs,
    /// The command and its arguments (after `--`).
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// How to reach real nodes, as Jepsen's options.
#[derive(Args, Debug, Clone)]
pub struct NodeArgs {
    /// Nodes to reach: `host[:port]` or `name=host[:port]`, comma-separated.
    #[arg(long, value_name = "LIST", conflicts_with = "nodes_file")]
    pub nodes: Option<String>,
    /// File with one node per line (docs/cluster.md, "Real nodes and nodes files").
    #[arg(long, value_name = "FILE")]
    pub nodes_file: Option<PathBuf>,
    /// SSH login user.
    #[arg(long, value_name = "USER")]
    pub username: Option<String>,
    /// SSH private key file.
    #[arg(long, value_name = "FILE")]
    pub ssh_private_key: Option<PathBuf>,
    /// SSH port for nodes that do not name one.
    #[arg(long)]
    pub port: Option<u16>,
    /// known_hosts file to verify host keys against.
    #[arg(long, value_name = "FILE")]
    pub known_hosts: Option<PathBuf>,
    /// Host key checking: yes (must be known), accept-new, no.
    #[arg(long, value_enum, default_value_t = crate::control::ssh::HostKeyCheck::Yes)]
    pub strict_host_key_checking: crate::control::ssh::HostKeyCheck,
    /// Reach nodes with `docker exec` (node addresses are container names).
    #[arg(long)]
    pub docker: bool,
}

/// Arguments of `faultline check`.
#[derive(Args, Debug)]
#[command(
    after_help = "Exit status: 0 all valid, 1 any invalid, 2 any unknown (none invalid), 254 bad input.\n\n\
Example:\n  faultline check checkers/tests/data/jepsen-etcd/etcd_000.log\n  faultline check --json --model kv history.jsonl\n\nReference: docs/checkers.md"
)]
pub struct CheckArgs {
    /// History files to check.
    #[arg(required = true, value_name = "HISTORY")]
    pub files: Vec<PathBuf>,
    /// Which checker to run; `auto`: list-append or rw-register for `txn`
    /// histories, else linearizable.
    #[arg(long, value_enum, default_value_t = CheckerName::Auto)]
    pub checker: CheckerName,
    /// Consistency models for transactional checkers (comma-separated):
    /// serializable, strict-serializable, snapshot-isolation, repeatable-read,
    /// read-committed, read-uncommitted, strong-session-serializable, ...
    #[arg(long, value_delimiter = ',', default_value = "serializable")]
    pub consistency_models: Vec<String>,
    /// Further anomalies that make a transactional history invalid
    /// (comma-separated, as Elle's `:anomalies`: G0, G1, G2, lost-update, ...).
    #[arg(long, value_delimiter = ',', value_name = "ANOMALIES")]
    pub anomalies: Vec<String>,
    /// rw-register: do not assume writes follow reads within a transaction
    /// (faultline assumes it by default; Elle's `wfr-keys?` is off by default).
    #[arg(long)]
    pub no_wfr_keys: bool,
    /// rw-register: assume each key is sequentially consistent (process order
    /// orders versions), as Elle's `sequential-keys?`.
    #[arg(long)]
    pub sequential_keys: bool,
    /// rw-register: assume each key is linearizable (real-time order orders
    /// versions), as Elle's `linearizable-keys?`.
    #[arg(long)]
    pub linearizable_keys: bool,
    /// set-full: a stale read (one that missed an element known for 1 ms or
    /// more) makes the history invalid (Jepsen's `:linearizable?`).
    #[arg(long)]
    pub linearizable_reads: bool,
    /// bank: the accounts (default: those of the first ok read).
    #[arg(long, value_delimiter = ',', value_name = "ACCOUNTS")]
    pub accounts: Vec<String>,
    /// bank: the total of all balances (default: the first ok read's sum).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub total: Option<i64>,
    /// bank: negative balances are allowed.
    #[arg(long)]
    pub negative_balances: bool,
    /// long-fork: keys per read (default: what every read observed).
    #[arg(long, value_name = "N")]
    pub group_size: Option<usize>,
    /// Model for the linearizable checker; `auto` picks one from the ops.
    #[arg(long, value_enum, default_value_t = ModelName::Auto)]
    pub model: ModelName,
    /// History format; detected from the extension and content if omitted.
    #[arg(long, value_parser = parse_format)]
    pub format: Option<faultline_checkers::format::Format>,
    /// Initial register value, as JSON.
    #[arg(long, value_name = "JSON", default_value = "null", value_parser = parse_json)]
    pub initial_value: serde_json::Value,
    /// Give up (verdict unknown, exit 2) after this many seconds per file.
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    pub time_limit: Option<f64>,
    /// Give up (verdict unknown) when the search needs more than this many MiB.
    #[arg(long, value_name = "MIB", default_value_t = 4096)]
    pub memory_limit: usize,
    /// Print one JSON object per file instead of text.
    #[arg(long)]
    pub json: bool,
    /// When the linearizable checker finds the history valid, write the
    /// order it found to this file (one history only; see
    /// docs/checkers.md, "Witnesses").
    #[arg(long, value_name = "OUT.json")]
    pub witness: Option<PathBuf>,
    /// Write an HTML report of the (one) history checked to this file.
    #[arg(long, value_name = "OUT.html")]
    pub html: Option<PathBuf>,
}

/// Checkers available to `faultline check`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckerName {
    /// Pick from the history's operations.
    Auto,
    /// Linearizability against a sequential model (Knossos, Porcupine).
    Linearizable,
    /// Elle's list-append transactional checker.
    ListAppend,
    /// Elle's read-write register transactional checker.
    RwRegister,
    /// Jepsen's set: adds, then a final read (lost, unexpected, recovered).
    Set,
    /// Jepsen's set-full: every read over time (lost, stale, never read).
    SetFull,
    /// Jepsen's counter: every read within the bounds of the adds.
    Counter,
    /// Jepsen's bank: transfers conserve the total; no negative balance.
    Bank,
    /// Jepsen's long-fork: reads of key groups agree on insert order.
    LongFork,
    /// Jepsen's unique-ids: every generated id differs.
    UniqueIds,
    /// Jepsen's total-queue: every acknowledged enqueue is dequeued once.
    TotalQueue,
    /// Jepsen's stats: every operation succeeded at least once.
    Stats,
    /// Jepsen's kafka (Maelstrom's kafka workload): lost, skipped,
    /// reordered and unseen messages of append-only logs.
    Kafka,
    /// Maelstrom's g-counter/pn-counter: final reads are possible sums.
    PnCounter,
    /// Maelstrom's echo: every ok echo returns what was sent.
    Echo,
}

/// Models for the linearizable checker.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelName {
    /// Choose from the operations in the history.
    Auto,
    /// Read/write register.
    Register,
    /// Read/write/compare-and-set register.
    CasRegister,
    /// Independent cas-registers by key (`key` field or `[key, value]` tuples).
    Kv,
    /// Set with `add` and `read`.
    Set,
    /// FIFO queue with `enqueue` and `dequeue`.
    FifoQueue,
}

fn parse_format(s: &str) -> Result<faultline_checkers::format::Format, String> {
    s.parse()
}

/// The longest duration a flag takes, in seconds (about 31 years): longer
/// ones would overflow a deadline (`Instant + Duration`) somewhere.
pub const MAX_SECONDS: f64 = 1e9;

pub(crate) fn parse_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= MAX_SECONDS => Ok(v),
        _ => Err(format!(
            "expected a positive number of seconds, at most {MAX_SECONDS:e} (about 31 years), found {s:?}"
        )),
    }
}

/// `--initial-value`: JSON whose integers are read exactly (an integer
/// wider than 64 bits is refused, `-0` is 0), as in histories.
fn parse_json(s: &str) -> Result<serde_json::Value, String> {
    faultline_checkers::format::jsonl::parse_value(s)
        .map_err(|(column, msg)| format!("not JSON (column {column}): {msg}"))
}
