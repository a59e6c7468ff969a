//! Disk faults, through the fault filesystem (faultline's `disk` crate,
//! mounted on the node over the DB's data directories).
//!
//! Power: SIGKILL every process of the DB's session (it was started with
//! `setsid`, so its children too — a power failure spares none), wait
//! until they are gone, then tell each directory's layer to drop every
//! write not yet fsynced (or, torn, to keep a seeded random subset of the
//! pending pages). Restarting the DB afterwards is the kill fault's.
//!
//! Corruption (`bitflip`, `truncate`; Jepsen's file nemesis): with the DB
//! killed (a process crash: what it wrote stays), corrupt the files that
//! `db.disk.files` matches, through the mount, and write the result out
//! (`checkpoint`): the corruption is on the disk when the DB restarts.
//! `snapshot` saves chosen chunks of those files when it starts, and when
//! it stops kills the DB and writes them back (the chunks roll back: a
//! lost write), then restarts it. Chunks are chosen per node with `mod`
//! = the node count and `index` = the node's position, so replicas never
//! lose the same chunk (Jepsen's `helix-gen`).

use crate::process::ProcessSpec;
use crate::shell::quote;

/// How to reach the fault filesystem on one node.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DiskSpec {
    /// The faultline binary on the node, quoted for the shell
    /// (`'/var/lib/faultline/node/.faultline/bin/faultline-0.1.0-…'`); its
    /// `disk ctl` and `disk corrupt` subcommands do the work.
    pub helper: String,
    /// Control sockets, one per directory under the layer.
    pub sockets: Vec<String>,
    /// The directories under the layer, in the sockets' order.
    pub dirs: Vec<String>,
    /// Globs (relative to each directory) of the files corruption faults
    /// may touch.
    pub files: Vec<String>,
    /// This node's position among the test's nodes, and their count: the
    /// stable chunk choice of corruption faults.
    pub index: usize,
    /// The number of nodes.
    pub nodes: usize,
}

impl DiskSpec {
    fn ctl(&self) -> String {
        format!("{} disk ctl", self.helper)
    }
}

/// What a corruption fault does, as [`corrupt_script`] applies it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Corruption {
    /// Flip bits in the chosen chunks.
    Bitflip,
    /// Drop bytes at the end of each file.
    Truncate,
    /// Save the chosen chunks (the DB keeps running).
    Snapshot,
    /// Write the saved chunks back.
    Restore,
}

/// Shell function: is pid $1 alive and not a zombie?
const ALIVE: &str = "alive() { [ -r /proc/$1/stat ] && [ \"$(sed 's/.*) //' /proc/$1/stat | cut -d' ' -f1)\" != Z ]; }";

/// Shell function: the pids of process $1 and all its descendants (found
/// through parent pids, not sessions: PostgreSQL's children each call
/// `setsid`).
const TREE: &str = "tree() { ps -e -o pid=,ppid= | awk -v root=\"$1\" '{p[$1]=$2} END {t[root]=1; do {c=0; for (x in p) if (!(x in t) && (p[x] in t)) {t[x]=1; c=1}} while (c); for (x in t) print x}'; }";

/// Kills every process of the DB — the pidfile's process, its process
/// group and session, and all its descendants, frozen first (SIGSTOP) so
/// none can fork away, then SIGKILLed at once — and waits (up to 10 s)
/// until none is left alive. Prints `killed PID` if the DB was running.
pub fn kill_session_script(p: &ProcessSpec) -> String {
    format!(
        "{ALIVE}; {TREE}; pid=$(cat {f} 2>/dev/null); if [ -n \"$pid\" ] && alive \"$pid\"; then \
         all=$(tree \"$pid\"); kill -STOP $all 2>/dev/null; all=$(tree \"$pid\"); \
         kill -9 -- -\"$pid\" 2>/dev/null; kill -9 $all 2>/dev/null; i=0; \
         while for q in $all; do alive \"$q\" && break; done; do i=$((i+1)); \
         [ $i -gt 2000 ] && {{ echo \"processes of pid $pid survived SIGKILL\" >&2; exit 1; }}; sleep 0.005; done; \
         echo \"killed $pid\"; fi",
        f = quote(&p.pidfile)
    )
}

/// Kills the DB's session ([`kill_session_script`]), then drops (or, with
/// `torn = Some(seed)`, tears) the unsynced writes of every directory.
/// Prints `killed PID` if the DB was running, then one JSON reply line
/// per directory.
pub fn power_script(p: &ProcessSpec, d: &DiskSpec, torn: Option<u64>) -> String {
    let command = match torn {
        Some(seed) => format!("torn {seed}"),
        None => "lose-unfsynced".into(),
    };
    let mut s = kill_session_script(p);
    for sock in &d.sockets {
        s.push_str(&format!(
            "; {} {} {command} || exit 1",
            d.ctl(),
            quote(sock)
        ));
    }
    s
}

/// Applies a corruption to the files `d.files` matches in every directory:
/// `args` are the fault's options (`chunk=… probability=…`, `drop=…`), to
/// which the node's stable chunk choice (`mod`, `index`) is added for the
/// chunked faults. Bitflip, truncate and restore kill the DB's session
/// first and write the corrupted files out after; snapshot leaves the DB
/// running. Prints `killed PID` if it killed the DB, then one JSON line
/// per file changed.
pub fn corrupt_script(
    p: &ProcessSpec,
    d: &DiskSpec,
    what: Corruption,
    args: &str,
    seed: u64,
) -> String {
    let (name, chunked, kill) = match what {
        Corruption::Bitflip => ("bitflip", true, true),
        Corruption::Truncate => ("truncate", false, true),
        Corruption::Snapshot => ("snapshot", true, false),
        Corruption::Restore => ("restore", false, true),
    };
    let mut fault = format!("{name} {args}").trim().to_string();
    if chunked {
        fault.push_str(&format!(" mod={} index={}", d.nodes.max(1), d.index));
    }
    let mut s = if kill {
        kill_session_script(p)
    } else {
        "true".into()
    };
    let files: String = d
        .files
        .iter()
        .map(|g| format!(" --file {}", quote(g)))
        .collect();
    for (dir, sock) in d.dirs.iter().zip(&d.sockets) {
        s.push_str(&format!(
            "; {h} disk corrupt --root {r}{files} --seed {seed} {fault} || exit 1",
            h = d.helper,
            r = quote(dir),
        ));
        if kill {
            s.push_str(&format!(
                "; {} {} checkpoint >/dev/null || exit 1",
                d.ctl(),
                quote(sock)
            ));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kill_reaches_children_that_left_the_session() {
        // A DB whose children each call setsid (as PostgreSQL's do).
        let dir = std::env::temp_dir().join(format!("fl-kill-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pidfile = dir.join("db.pid");
        let script = format!(
            "echo $$ > {}; setsid sleep 300 & setsid sh -c 'sleep 300 & sleep 300' & sleep 300",
            pidfile.display()
        );
        let mut db = std::process::Command::new("setsid")
            .args(["sh", "-c", &script])
            .spawn()
            .unwrap();
        let read_pid = || {
            std::fs::read_to_string(&pidfile)
                .ok()
                .filter(|s| !s.trim().is_empty())
        };
        while read_pid().is_none() {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
        let root = read_pid().unwrap().trim().to_string();
        let p = ProcessSpec {
            pidfile: pidfile.to_string_lossy().into_owned(),
            start: "true".into(),
        };
        let tree = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("{TREE}; tree {root}"))
            .output()
            .unwrap();
        let pids: Vec<String> = String::from_utf8_lossy(&tree.stdout)
            .split_whitespace()
            .map(String::from)
            .collect();
        assert!(pids.len() >= 5, "the tree: {pids:?}");
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(kill_session_script(&p))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            format!("killed {root}")
        );
        let _ = db.wait();
        for pid in &pids {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let state = stat.rsplit(") ").next().unwrap_or("").chars().next();
            assert!(
                stat.is_empty() || state == Some('Z'),
                "pid {pid} survived: {stat}"
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn power_kills_the_session_then_drops_each_directory() {
        let p = ProcessSpec {
            pidfile: "/d/db.pid".into(),
            start: "db".into(),
        };
        let d = DiskSpec {
            helper: "/d/fl".into(),
            sockets: vec!["/d/a.sock".into(), "/d/b c.sock".into()],
            dirs: vec!["/d/a".into(), "/d/b c".into()],
            files: vec!["*.log".into()],
            index: 1,
            nodes: 3,
        };
        let s = power_script(&p, &d, None);
        assert!(s.contains("kill -9 -- -\"$pid\""), "{s}");
        let kill = s.find("kill -9").unwrap();
        let drop = s.find("/d/fl disk ctl /d/a.sock lose-unfsynced").unwrap();
        assert!(kill < drop, "{s}");
        assert!(
            s.contains("/d/fl disk ctl '/d/b c.sock' lose-unfsynced"),
            "{s}"
        );
        assert!(power_script(&p, &d, Some(7)).contains("/d/a.sock torn 7"));
        assert!(!s.contains("pkill") && !s.contains("killall"));

        let c = corrupt_script(
            &p,
            &d,
            Corruption::Bitflip,
            "chunk=4096 probability=0.01",
            9,
        );
        assert!(c.contains("kill -9"), "{c}");
        assert!(
            c.contains("/d/fl disk corrupt --root /d/a --file '*.log' --seed 9 bitflip chunk=4096 probability=0.01 mod=3 index=1"),
            "{c}"
        );
        assert!(c.contains("/d/fl disk ctl /d/a.sock checkpoint"), "{c}");
        let snap = corrupt_script(&p, &d, Corruption::Snapshot, "chunk=4096", 9);
        assert!(
            !snap.contains("kill -9") && !snap.contains("checkpoint"),
            "{snap}"
        );
        let t = corrupt_script(&p, &d, Corruption::Truncate, "drop=10", 9);
        assert!(
            t.contains("truncate drop=10 ||") && !t.contains("mod="),
            "{t}"
        );
    }
}
