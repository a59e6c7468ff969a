//! Helpers shared by the root-only integration tests: run the CLI, bring
//! a local cluster up for one test and always take it down again.
#![allow(dead_code)]

use faultline::cluster::{Layout, State};
use std::process::Command;

/// Runs the faultline binary in the repository's directory (where the
/// shipped workloads and test data are).
pub fn faultline<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("faultline runs")
}

/// The machine's network namespaces, as `ip netns list` prints them.
pub fn netns_list() -> String {
    text(
        &Command::new("ip")
            .args(["netns", "list"])
            .output()
            .unwrap()
            .stdout,
    )
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Fails (loudly, never a silent pass) unless this machine can run a
/// root-only test. Those tests are `#[ignore]`d with the reason, so a plain
/// `cargo test` lists them as ignored; `-- --include-ignored` runs them,
/// and then a missing prerequisite is a failure that says what to install.
pub fn require_root() {
    // SAFETY: geteuid cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    assert!(
        root,
        "this test needs root (it makes network namespaces): run it as root, or leave it ignored"
    );
    require("/usr/sbin/sshd", "openssh-server");
}

/// Fails unless `path` exists, saying which Debian package provides it.
pub fn require(path: &str, package: &str) {
    assert!(
        std::path::Path::new(path).exists(),
        "this test needs {path}: apt-get install -y {package}"
    );
}

/// A cluster that is taken down when the test ends, however it ends.
pub struct Cluster {
    pub name: String,
    pub state: State,
}

impl Cluster {
    pub fn up(name: &str, n: usize) -> Cluster {
        let out = faultline(&["cluster", "up", "--name", name, "--nodes", &n.to_string()]);
        assert!(
            out.status.success(),
            "cluster up: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        let state = State::load(&Layout::new(name).unwrap())
            .unwrap()
            .expect("state file written");
        Cluster {
            name: name.into(),
            state,
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let out = faultline(&["cluster", "down", "--name", &self.name]);
        assert!(
            out.status.success() || std::thread::panicking(),
            "cluster down: {}",
            text(&out.stderr)
        );
    }
}

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

pub fn iptables_rules() -> String {
    Command::new("iptables-save")
        .output()
        .map(|o| {
            text(&o.stdout)
                .lines()
                .filter(|l| !l.starts_with('#'))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

/// Nothing of cluster `name` is left: namespaces, links, processes, state.
pub fn assert_gone(name: &str) {
    let ns = netns_list();
    assert!(
        !ns.lines().any(|l| l.starts_with(&format!("{name}-"))),
        "namespaces left: {ns}"
    );
    let links = text(
        &Command::new("ip")
            .args(["-o", "link", "show"])
            .output()
            .unwrap()
            .stdout,
    );
    assert!(
        !links.contains(&format!(": {name}-")),
        "links left: {links}"
    );
    let dir = Layout::new(name).unwrap().dir();
    let ps = text(
        &Command::new("ps")
            .args(["-eo", "args"])
            .output()
            .unwrap()
            .stdout,
    );
    let left: Vec<&str> = ps
        .lines()
        .filter(|l| l.contains(&*dir.to_string_lossy()))
        .collect();
    assert!(left.is_empty(), "processes left: {left:?}");
    assert!(!dir.exists(), "state dir left: {}", dir.display());
}

/// One `faultline test workloads/NAME.yaml` run, finished.
pub struct Run {
    /// Its exit code.
    pub code: Option<i32>,
    /// Its results.json.
    pub results: serde_json::Value,
    /// Its stdout and stderr.
    pub log: String,
    /// Its run directory in the store.
    pub dir: std::path::PathBuf,
}

/// Runs the shipped workload `name` for `seconds` into a store private to
/// this test process (`tag` tells test binaries apart), and reads its
/// results.json (panicking with the output when there is none).
pub fn run_workload(tag: &str, name: &str, seconds: u32) -> Run {
    run_spec(tag, name, &format!("workloads/{name}.yaml"), seconds)
}

/// Runs the shipped workload `name` with its text changed by `edit` (the
/// variant is written beside the test's store; asserts the edit changed
/// something), as [`run_workload`] does.
pub fn run_variant(tag: &str, name: &str, seconds: u32, edit: impl Fn(&str) -> String) -> Run {
    let text = std::fs::read_to_string(format!(
        "{}/workloads/{name}.yaml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let changed = edit(&text);
    assert_ne!(changed, text, "the variant of {name} changes nothing");
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("faultline-{tag}-{}-variants", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(&path, changed).unwrap();
    run_spec(tag, name, path.to_str().unwrap(), seconds)
}

/// Runs the spec at `path` (relative to the repository) whose test name is
/// `name`, as [`run_workload`] does.
fn run_spec(tag: &str, name: &str, path: &str, seconds: u32) -> Run {
    let store = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("faultline-{tag}-{}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["test", path])
        .args(["--time-limit", &seconds.to_string()])
        .args(["--store", store.to_str().unwrap()])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("faultline runs");
    let log = format!("{}\n{}", text(&out.stdout), text(&out.stderr));
    let dir = store.join(name).join("latest");
    let results = std::fs::read_to_string(dir.join("results.json"))
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}\n{log}", dir.display()));
    Run {
        code: out.status.code(),
        results,
        log,
        dir,
    }
}

/// Runs a transactional workload that must be valid (`tag` as for
/// [`run_workload`]), and asserts it is, with more than 500 committed
/// transactions.
pub fn run_valid_txns(tag: &str, name: &str, seconds: u32) -> Run {
    let r = run_workload(tag, name, seconds);
    assert_eq!(
        r.code,
        Some(0),
        "{name} must be valid: {:?}\n{}",
        elle_anomalies(&r.results),
        r.log
    );
    let ok = r.results["checkers"]["stats"]["by_f"]["txn"]["ok"]
        .as_u64()
        .unwrap_or(0);
    assert!(ok > 500, "only {ok} committed txns\n{}", r.log);
    r
}

/// The anomaly types the elle checker of a run found.
pub fn elle_anomalies(results: &serde_json::Value) -> Vec<String> {
    results["checkers"]["elle"]["anomaly_types"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// The name of the local cluster the `faultline test` process `pid` makes
/// (read while it runs).
pub fn run_cluster(pid: u32) -> String {
    faultline::cluster::Owner::of(pid as i32)
        .expect("the controller runs")
        .cluster_name()
}

/// The run's history, one operation per line.
pub fn history(run: &Run) -> Vec<serde_json::Value> {
    let path = run.dir.join("history.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .map(|l| serde_json::from_str(l).expect("a history line is JSON"))
        .collect()
}

/// The acknowledged elements set-full found lost (0 without set-full).
pub fn lost(run: &Run) -> u64 {
    run.results["checkers"]["set-full"]["lost_count"]
        .as_u64()
        .unwrap_or(0)
}
