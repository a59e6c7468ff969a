//! `cluster up`, `down` and `status`.
//!
//! `up` is idempotent: it creates what is missing and repairs what died
//! (a node whose sshd or PID 1 is gone), saving the state file before it
//! touches the network so that `down` can always clean up. `down` removes
//! exactly what `up` made, found by name even without a state file.

use super::host::{self, io, run, succeeds, HostError};
use super::MAX_NODES;
use super::{Layout, NodeState, Owner, State, NODE_DATA_DIR};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Builds (or repairs) cluster `name` with `n` nodes, owned by `owner` (a
/// `faultline test` run) or by nobody (`cluster up`).
pub fn up(name: &str, n: usize, owner: Option<Owner>) -> Result<State, HostError> {
    let layout = Layout::new(name)?;
    host::preflight()?;
    let root = Layout::root();
    if ["/tmp", "/run", "/root"]
        .iter()
        .any(|d| root.starts_with(d))
    {
        return Err(HostError::Usage(format!(
            "the cluster state directory {} is under /tmp, /run or /root, which every node mounts a private one over; set {} elsewhere",
            root.display(),
            super::ROOT_ENV
        )));
    }
    if n == 0 || n > MAX_NODES {
        return Err(HostError::Usage(format!(
            "--nodes must be between 1 and {MAX_NODES}, not {n}"
        )));
    }
    let mut state = match State::load(&layout)? {
        Some(s) if s.nodes.len() == n => s,
        Some(s) => {
            return Err(HostError::Usage(format!(
                "cluster {name} exists with {} nodes; run `faultline cluster down --name {name}` first, or ask for --nodes {}",
                s.nodes.len(),
                s.nodes.len()
            )))
        }
        None => claim_subnet(&layout, n)?,
    };
    state.owner = owner;
    write_files(&layout, &state)?;
    state.save()?;
    make_bridge(&state)?;
    for i in 0..state.nodes.len() {
        make_node(&layout, &mut state.nodes[i], i + 1)?;
        state.save()?;
    }
    wait_for_sshd(&state)?;
    Ok(state)
}

/// Plans a new cluster on a /24 that no other cluster and no interface of
/// this machine uses, and saves its state before letting go of the lock, so
/// that clusters made at the same moment (parallel tests, two users) never
/// share addresses. Tries the name's preferred /24 first, then the next ones.
fn claim_subnet(layout: &Layout, n: usize) -> Result<State, HostError> {
    // Namespaces are named machine-wide: ones of this name with no state
    // file here belong to a cluster under another state directory, or are
    // debris; either way not ours to take over.
    let prefix = format!("{}-n", layout.name);
    if let Some(ns) = run(&["ip", "netns", "list"])?
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .find(|ns| {
            ns.strip_prefix(&prefix)
                .is_some_and(|i| i.bytes().all(|b| b.is_ascii_digit()))
        })
    {
        return Err(HostError::Usage(format!(
            "network namespace {ns} exists but {} has no state for cluster {}: another cluster state directory ({}) uses this name, or it is debris (`faultline cluster down --name {}` removes it)",
            Layout::root().display(),
            layout.name,
            super::ROOT_ENV,
            layout.name
        )));
    }
    let dir = layout.dir();
    std::fs::create_dir_all(&dir).map_err(io(format!("creating {}", dir.display())))?;
    let lock_path = Layout::subnet_lock();
    let lock = std::fs::File::create(&lock_path)
        .map_err(io(format!("creating {}", lock_path.display())))?;
    lock.lock()
        .map_err(io(format!("locking {}", lock_path.display())))?;
    let taken: Vec<String> = State::all()
        .into_iter()
        .filter(|s| s.name != layout.name)
        .map(|s| s.subnet().to_string())
        .collect();
    let addrs = run(&["ip", "-o", "-4", "addr", "show"])?;
    let in_use = |prefix: &str| {
        taken.iter().any(|t| t == prefix)
            || addrs
                .lines()
                .any(|l| l.contains(&format!(" {prefix}.")) && !l.contains(&layout.bridge()))
    };
    let first = layout.preferred_subnet();
    let prefix = (0..Layout::SUBNETS)
        .map(|k| Layout::subnet_prefix(first + k))
        .find(|p| !in_use(p))
        .ok_or_else(|| {
            HostError::Usage(format!(
                "all {} /24s of 198.18.0.0/15 are in use by clusters or interfaces on this machine; take some down with `faultline cluster down`",
                Layout::SUBNETS
            ))
        })?;
    let state = State::plan(layout, n, &prefix);
    state.save()?;
    drop(lock);
    Ok(state)
}

/// Keys, sshd configs, known_hosts, ssh_config and the nodes file.
fn write_files(layout: &Layout, state: &State) -> Result<(), HostError> {
    let dir = layout.dir();
    std::fs::create_dir_all(&dir).map_err(io(format!("creating {}", dir.display())))?;
    std::fs::create_dir_all(NODE_DATA_DIR).map_err(io(format!("creating {NODE_DATA_DIR}")))?;
    let key = layout.client_key();
    keygen(&key, &format!("faultline-{}", layout.name))?;
    let pubkey = read(&key.with_extension("pub"))?;
    std::fs::write(dir.join("authorized_keys"), &pubkey).map_err(io("writing authorized_keys"))?;
    let mut known_hosts = String::new();
    let mut ssh_config = String::new();
    let mut nodes_file = format!(
        "# faultline local cluster {name}: `faultline cluster up --name {name}` wrote this.\n\
         @username root\n@ssh-private-key {}\n@known-hosts {}\n",
        key.display(),
        layout.known_hosts().display(),
        name = layout.name
    );
    for (i, node) in state.nodes.iter().enumerate() {
        let nd = layout.node_dir(i + 1);
        for sub in ["data", "run", "tmp", "root"] {
            std::fs::create_dir_all(nd.join(sub))
                .map_err(io(format!("creating {}", nd.join(sub).display())))?;
        }
        let hostkey = nd.join("hostkey");
        keygen(&hostkey, &node.name)?;
        let host_pub = read(&hostkey.with_extension("pub"))?;
        let mut words = host_pub.split_whitespace();
        let (kind, body) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
        known_hosts.push_str(&format!("{},{} {kind} {body}\n", node.name, node.addr));
        ssh_config.push_str(&format!("Host {}\n  HostName {}\n", node.name, node.addr));
        nodes_file.push_str(&format!("{} {}\n", node.name, node.addr));
        let sshd_config = format!(
            "ListenAddress {addr}\nPort 22\nHostKey {hk}\nPidFile /run/sshd.pid\nAuthorizedKeysFile {ak}\n\
             UsePAM no\nStrictModes no\nPermitRootLogin prohibit-password\nPasswordAuthentication no\n\
             KbdInteractiveAuthentication no\nMaxSessions 100\nMaxStartups 200:30:400\nUseDNS no\n\
             Subsystem sftp internal-sftp\nLogLevel ERROR\n",
            addr = node.addr,
            hk = hostkey.display(),
            ak = dir.join("authorized_keys").display()
        );
        std::fs::write(nd.join("sshd_config"), sshd_config).map_err(io("writing sshd_config"))?;
    }
    ssh_config.push_str(&format!(
        "Host *\n  User root\n  IdentityFile {}\n  IdentitiesOnly yes\n  UserKnownHostsFile {}\n  StrictHostKeyChecking yes\n  LogLevel ERROR\n",
        key.display(),
        layout.known_hosts().display()
    ));
    for (path, text) in [
        (layout.known_hosts(), known_hosts),
        (layout.ssh_config(), ssh_config),
        (layout.nodes_file(), nodes_file),
    ] {
        std::fs::write(&path, text).map_err(io(format!("writing {}", path.display())))?;
    }
    Ok(())
}

fn read(path: &Path) -> Result<String, HostError> {
    std::fs::read_to_string(path).map_err(io(format!("reading {}", path.display())))
}

/// Generates an ed25519 key pair at `path` unless one is there.
fn keygen(path: &Path, comment: &str) -> Result<(), HostError> {
    if path.exists() && path.with_extension("pub").exists() {
        return Ok(());
    }
    let _ = std::fs::remove_file(path);
    let p = path.to_string_lossy();
    run(&[
        "ssh-keygen",
        "-q",
        "-t",
        "ed25519",
        "-N",
        "",
        "-C",
        comment,
        "-f",
        &p,
    ])
    .map(|_| ())
}

fn make_bridge(state: &State) -> Result<(), HostError> {
    let br = state.bridge.as_str();
    if !succeeds(&["ip", "link", "show", br]) {
        run(&["ip", "link", "add", br, "type", "bridge"])?;
    }
    run(&[
        "ip",
        "addr",
        "replace",
        &format!("{}/24", state.gateway),
        "dev",
        br,
    ])?;
    run(&["ip", "link", "set", br, "up"])?;
    // Bridged test traffic must not pass through the host's own iptables
    // (where e.g. Docker's FORWARD DROP would eat it). Older kernels lack
    // the per-bridge switch; then nothing changes.
    let _ = run(&[
        "ip",
        "link",
        "set",
        br,
        "type",
        "bridge",
        "nf_call_iptables",
        "0",
    ]);
    Ok(())
}

fn make_node(layout: &Layout, node: &mut NodeState, i: usize) -> Result<(), HostError> {
    let ns = node.netns.as_str();
    let listed = run(&["ip", "netns", "list"])?;
    if !listed
        .lines()
        .any(|l| l.split_whitespace().next() == Some(ns))
    {
        run(&["ip", "netns", "add", ns])?;
    }
    if !succeeds(&["ip", "link", "show", &node.veth]) {
        if succeeds(&["ip", "-n", ns, "link", "show", "eth0"]) {
            run(&["ip", "-n", ns, "link", "del", "eth0"])?;
        }
        run(&[
            "ip", "link", "add", &node.veth, "type", "veth", "peer", "name", "eth0", "netns", ns,
        ])?;
    }
    run(&[
        "ip",
        "link",
        "set",
        &node.veth,
        "master",
        &layout.bridge(),
        "up",
    ])?;
    run(&[
        "ip",
        "-n",
        ns,
        "addr",
        "replace",
        &format!("{}/24", node.addr),
        "dev",
        "eth0",
    ])?;
    run(&["ip", "-n", ns, "link", "set", "eth0", "up"])?;
    run(&["ip", "-n", ns, "link", "set", "lo", "up"])?;
    let dir = layout.node_dir(i);
    match node.init_pid.filter(|&p| is_our_init(p)) {
        Some(pid) if !sshd_listening(&node.addr, Duration::from_millis(300)) => {
            restart_sshd(pid, &dir, &node.name)?
        }
        Some(_) => {}
        None => {
            // Whatever is left in the namespace belongs to a dead node.
            for pid in netns_pids(ns) {
                host::kill_and_wait(pid);
            }
            node.init_pid = Some(start_init(ns, &dir, &node.name)?);
        }
    }
    Ok(())
}

/// Whether `pid` is a live `faultline cluster node-init`.
fn is_our_init(pid: i32) -> bool {
    host::alive(pid)
        && std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|c| String::from_utf8_lossy(&c).contains("node-init"))
            .unwrap_or(false)
}

/// Starts the node's PID 1 detached from us; returns its host pid.
fn start_init(ns: &str, dir: &Path, name: &str) -> Result<i32, HostError> {
    let exe = std::env::current_exe().map_err(io("finding the faultline binary"))?;
    let log = std::fs::File::create(dir.join("init.log")).map_err(io("creating init.log"))?;
    let err = log.try_clone().map_err(io("creating init.log"))?;
    let mut cmd = Command::new("ip");
    cmd.args([
        "netns",
        "exec",
        ns,
        "unshare",
        "--uts",
        "--mount",
        "--propagation",
        "private",
        "--pid",
        "--fork",
        "--mount-proc",
    ])
    .arg(&exe)
    .args(["cluster", "node-init", "--dir"])
    .arg(dir)
    .args(["--hostname", name, "--data-mount", NODE_DATA_DIR])
    .stdin(Stdio::null())
    .stdout(log)
    .stderr(err);
    // SAFETY: setsid is async-signal-safe; it detaches the node from our
    // session so that it outlives this command and ignores our Ctrl-C.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let child = cmd.spawn().map_err(io("starting the node's init"))?;
    let parent = child.id() as i32;
    // `unshare --fork` waits for its child, which is the node's PID 1.
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let children = std::fs::read_to_string(format!("/proc/{parent}/task/{parent}/children"))
            .unwrap_or_default();
        if let Some(pid) = children
            .split_whitespace()
            .next()
            .and_then(|p| p.parse().ok())
        {
            if is_our_init(pid) {
                return Ok(pid);
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let log = std::fs::read_to_string(dir.join("init.log")).unwrap_or_default();
    Err(HostError::Node {
        node: name.into(),
        detail: format!("its init did not start: {}", log.trim()),
    })
}

/// Starts a new sshd inside a node whose init is alive but whose sshd died.
fn restart_sshd(init: i32, dir: &Path, name: &str) -> Result<(), HostError> {
    let config = dir.join("sshd_config");
    run(&[
        "nsenter",
        "-t",
        &init.to_string(),
        "-a",
        "/usr/sbin/sshd",
        "-f",
        &config.to_string_lossy(),
    ])
    .map(|_| ())
    .map_err(|e| HostError::Node {
        node: name.into(),
        detail: format!("restarting sshd: {e}"),
    })
}

/// Host pids of every process in network namespace `ns`.
pub(crate) fn netns_pids(ns: &str) -> Vec<i32> {
    run(&["ip", "netns", "pids", ns])
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

fn sshd_listening(addr: &str, timeout: Duration) -> bool {
    addr.parse::<std::net::IpAddr>()
        .map(|ip| TcpStream::connect_timeout(&SocketAddr::new(ip, 22), timeout).is_ok())
        .unwrap_or(false)
}

/// Waits (up to 10 s) until every node's sshd accepts connections.
fn wait_for_sshd(state: &State) -> Result<(), HostError> {
    let deadline = Instant::now() + Duration::from_secs(10);
    for node in &state.nodes {
        while !sshd_listening(&node.addr, Duration::from_millis(100)) {
            if Instant::now() > deadline {
                let log = std::fs::read_to_string(
                    state
                        .layout()
                        .dir()
                        .join("nodes")
                        .join(&node.name)
                        .join("sshd.log"),
                )
                .unwrap_or_default();
                return Err(HostError::Node {
                    node: node.name.clone(),
                    detail: format!(
                        "sshd at {}:22 did not come up within 10 s: {}",
                        node.addr,
                        log.trim()
                    ),
                });
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    Ok(())
}

/// Removes cluster `name`: every process in its nodes, the namespaces,
/// veths, bridge and state directory. Returns what it removed.
pub fn down(name: &str) -> Result<Vec<String>, HostError> {
    let layout = Layout::new(name)?;
    host::require_root()?;
    let mut removed = Vec::new();
    let prefix = format!("{name}-n");
    let namespaces: Vec<String> = run(&["ip", "netns", "list"])?
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|ns| {
            ns.strip_prefix(&prefix)
                .is_some_and(|i| !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()))
        })
        .map(String::from)
        .collect();
    for ns in &namespaces {
        let pids = netns_pids(ns);
        for &pid in &pids {
            host::kill_and_wait(pid);
        }
        run(&["ip", "netns", "del", ns])?;
        removed.push(format!("namespace {ns} ({} processes)", pids.len()));
    }
    let masters = kill_ssh_masters(&layout.client_key().to_string_lossy());
    if masters > 0 {
        removed.push(format!("{masters} ssh master connections"));
    }
    let veth_prefix = format!("{name}-v");
    for line in run(&["ip", "-o", "link", "show"])?.lines() {
        let Some(ifname) = line
            .split(": ")
            .nth(1)
            .map(|s| s.split('@').next().unwrap_or(s))
        else {
            continue;
        };
        if ifname
            .strip_prefix(&veth_prefix)
            .is_some_and(|i| !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()))
        {
            // Deleting a namespace removes its veth pair asynchronously.
            match run(&["ip", "link", "del", ifname]) {
                Ok(_) => removed.push(format!("veth {ifname}")),
                Err(_) if !succeeds(&["ip", "link", "show", ifname]) => {}
                Err(e) => return Err(e),
            }
        }
    }
    if succeeds(&["ip", "link", "show", &layout.bridge()]) {
        run(&["ip", "link", "del", &layout.bridge()])?;
        removed.push(format!("bridge {}", layout.bridge()));
    }
    let dir = layout.dir();
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(io(format!("removing {}", dir.display())))?;
        removed.push(format!("state {}", dir.display()));
    }
    if State::all().is_empty() {
        // Only an empty directory that `up` made; remove_dir refuses
        // others. Not NODE_DATA_DIR, though it is empty on the host: it is
        // the mount point of every running node's data directory, in their
        // mount namespaces, and removing it unmounts them all — those of
        // clusters under other state directories too, which this root's
        // `State::all()` does not see (found when two tests' clusters, in
        // two roots, ran at once: the other's DB lost its pidfile).
        let _ = std::fs::remove_dir(Layout::root());
    }
    Ok(removed)
}

/// Ends the controller-side OpenSSH master connections that log in with
/// this cluster's own client key (so they are certainly ours); returns how
/// many there were.
fn kill_ssh_masters(key: &str) -> usize {
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let mut n = 0;
    for entry in procs.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
        let is_ssh = args.first().is_some_and(|a| a.ends_with(b"ssh"));
        let ours = args.contains(&&b"-M"[..]) && args.contains(&key.as_bytes());
        if is_ssh && ours {
            host::kill_and_wait(pid);
            n += 1;
        }
    }
    n
}

/// One local cluster as `cluster list` shows it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ClusterSummary {
    /// Its name.
    pub name: String,
    /// How many nodes it has.
    pub nodes: usize,
    /// How many of them have their namespace and PID 1.
    pub nodes_up: usize,
    /// `cluster up` (kept until `cluster down`) or `faultline test`.
    pub made_by: &'static str,
    /// The owning controller's pid, for a cluster `faultline test` made.
    pub owner_pid: Option<i32>,
    /// Whether that controller still runs (`None`: no owner).
    pub owner_alive: Option<bool>,
}

/// Every local cluster with a state file, with its state and owner.
pub fn list() -> Vec<ClusterSummary> {
    let namespaces = run(&["ip", "netns", "list"]).unwrap_or_default();
    State::all()
        .into_iter()
        .map(|s| {
            let nodes_up = s
                .nodes
                .iter()
                .filter(|n| {
                    namespaces
                        .lines()
                        .any(|l| l.split_whitespace().next() == Some(n.netns.as_str()))
                        && n.init_pid.is_some_and(is_our_init)
                })
                .count();
            ClusterSummary {
                name: s.name.clone(),
                nodes: s.nodes.len(),
                nodes_up,
                made_by: if s.owner.is_some() {
                    "faultline test"
                } else {
                    "cluster up"
                },
                owner_pid: s.owner.map(|o| o.pid),
                owner_alive: s.owner.map(|o| o.alive()),
            }
        })
        .collect()
}

/// Removes every local cluster whose owning `faultline test` is gone;
/// returns (name, owner pid) of each one removed. Clusters made by
/// `cluster up`, and those of live controllers, are left alone.
pub fn remove_orphans() -> Result<Vec<(String, i32)>, HostError> {
    host::require_root()?;
    let mut removed = Vec::new();
    for s in State::all() {
        if let Some(o) = s.owner.filter(|o| !o.alive()) {
            down(&s.name)?;
            removed.push((s.name, o.pid));
        }
    }
    Ok(removed)
}

/// What `status` shows for one node.
#[derive(Clone, Debug, serde::Serialize)]
pub struct NodeStatus {
    /// `n1`.
    pub name: String,
    /// Its address.
    pub addr: String,
    /// Its network namespace exists.
    pub netns: bool,
    /// Its PID 1 is alive.
    pub init: bool,
    /// Its sshd accepts connections.
    pub sshd: bool,
    /// Processes running in it (host pid, command line), ours all.
    pub processes: Vec<(i32, String)>,
}

/// The state of each node of cluster `name`; `None` if it does not exist.
pub fn status(name: &str) -> Result<Option<Vec<NodeStatus>>, HostError> {
    let layout = Layout::new(name)?;
    let Some(state) = State::load(&layout)? else {
        return Ok(None);
    };
    let namespaces = run(&["ip", "netns", "list"]).unwrap_or_default();
    Ok(Some(
        state
            .nodes
            .iter()
            .map(|n| {
                let netns = namespaces
                    .lines()
                    .any(|l| l.split_whitespace().next() == Some(n.netns.as_str()));
                let processes = if netns {
                    netns_pids(&n.netns)
                        .into_iter()
                        .map(|p| {
                            let cmd =
                                std::fs::read(format!("/proc/{p}/cmdline")).unwrap_or_default();
                            let cmd = String::from_utf8_lossy(&cmd)
                                .replace('\0', " ")
                                .trim()
                                .to_string();
                            (p, cmd)
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                NodeStatus {
                    name: n.name.clone(),
                    addr: n.addr.clone(),
                    netns,
                    init: n.init_pid.is_some_and(is_our_init),
                    sshd: netns && sshd_listening(&n.addr, Duration::from_millis(200)),
                    processes,
                }
            })
            .collect(),
    ))
}
