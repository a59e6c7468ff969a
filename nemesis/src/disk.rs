//! Power faults, through the fault filesystem (faultline's `disk` crate,
//! mounted on the node over the DB's data directories): SIGKILL every
//! process of the DB's session (it was started with `setsid`, so its
//! children too — a power failure spares none), wait until they are gone,
//! then tell each directory's layer to drop every write not yet fsynced
//! (or, torn, to keep a seeded random subset of the pending pages).
//! Restarting the DB afterwards is the kill fault's restart.

use crate::process::ProcessSpec;
use crate::shell::quote;

/// How to reach the fault filesystem on one node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiskSpec {
    /// The command that sends the layer a control command on the node
    /// (`'/var/lib/faultline/node/.faultline/faultline' disk ctl`), to which
    /// the socket and the command are appended.
    pub ctl: String,
    /// Control sockets, one per directory under the layer.
    pub sockets: Vec<String>,
}

/// Shell function: is pid $1 alive and not a zombie?
const ALIVE: &str = "alive() { [ -r /proc/$1/stat ] && [ \"$(sed 's/.*) //' /proc/$1/stat | cut -d' ' -f1)\" != Z ]; }";

/// Kills the DB's whole session with SIGKILL, waits (up to 10 s) until no
/// live process of it is left, then drops (or, with `torn = Some(seed)`,
/// tears) the unsynced writes of every directory. Prints `killed PID` if
/// the DB was running, then one JSON reply line per directory.
pub fn power_script(p: &ProcessSpec, d: &DiskSpec, torn: Option<u64>) -> String {
    let command = match torn {
        Some(seed) => format!("torn {seed}"),
        None => "lose-unfsynced".into(),
    };
    let mut s = format!(
        "{ALIVE}; pid=$(cat {f} 2>/dev/null); if [ -n \"$pid\" ] && alive \"$pid\"; then \
         kill -9 -- -\"$pid\" 2>/dev/null; kill -9 \"$pid\" 2>/dev/null; i=0; \
         while ps -o stat= -s \"$pid\" 2>/dev/null | grep -qv '^Z'; do i=$((i+1)); \
         [ $i -gt 2000 ] && {{ echo \"session $pid survived SIGKILL\" >&2; exit 1; }}; sleep 0.005; done; \
         echo \"killed $pid\"; fi",
        f = quote(&p.pidfile)
    );
    for sock in &d.sockets {
        s.push_str(&format!("; {} {} {command} || exit 1", d.ctl, quote(sock)));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_kills_the_session_then_drops_each_directory() {
        let p = ProcessSpec {
            pidfile: "/d/db.pid".into(),
            start: "db".into(),
        };
        let d = DiskSpec {
            ctl: "/d/fl disk ctl".into(),
            sockets: vec!["/d/a.sock".into(), "/d/b c.sock".into()],
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
    }
}
