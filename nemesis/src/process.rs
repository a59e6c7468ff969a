//! Process faults on the DB, found through its pidfile (never by name):
//! kill (SIGKILL, wait until really gone, restart later), pause (SIGSTOP)
//! and resume (SIGCONT).

use crate::shell::quote;

/// How to find and restart the DB on one node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessSpec {
    /// The DB's pidfile on the node.
    pub pidfile: String,
    /// Script that starts the DB (daemonized, writing the pidfile).
    pub start: String,
}

/// Shell function: is pid $1 alive and not a zombie?
const ALIVE: &str = "alive() { [ -r /proc/$1/stat ] && [ \"$(sed 's/.*) //' /proc/$1/stat | cut -d' ' -f1)\" != Z ]; }";

/// Kills the DB with SIGKILL and waits (up to 10 s) until it is gone.
/// Prints the pid killed, or nothing if it was not running.
pub fn kill_script(p: &ProcessSpec) -> String {
    format!(
        "{ALIVE}; pid=$(cat {f} 2>/dev/null) || exit 0; alive \"$pid\" || exit 0; kill -9 \"$pid\"; \
         i=0; while alive \"$pid\"; do i=$((i+1)); [ $i -gt 2000 ] && {{ echo \"pid $pid survived SIGKILL\" >&2; exit 1; }}; sleep 0.005; done; echo \"$pid\"",
        f = quote(&p.pidfile)
    )
}

/// Starts the DB unless it is running. Prints `started` if it started it.
pub fn restart_script(p: &ProcessSpec) -> String {
    format!(
        "{ALIVE}; pid=$(cat {f} 2>/dev/null); if [ -n \"$pid\" ] && alive \"$pid\"; then exit 0; fi; ( {start}\n) && echo started",
        f = quote(&p.pidfile),
        start = p.start
    )
}

/// Sends SIGSTOP (`pause`) or SIGCONT (`resume`) to the DB. Prints the pid.
pub fn signal_script(p: &ProcessSpec, pause: bool) -> String {
    let sig = if pause { "STOP" } else { "CONT" };
    format!("pid=$(cat {f} 2>/dev/null) || exit 0; kill -{sig} \"$pid\" 2>/dev/null && echo \"$pid\"; true", f = quote(&p.pidfile))
}

/// Resumes the DB only if it is stopped; prints the pid if it was.
pub fn resume_if_paused_script(p: &ProcessSpec) -> String {
    format!(
        "pid=$(cat {f} 2>/dev/null) || exit 0; [ -r /proc/$pid/stat ] || exit 0; \
         st=$(sed 's/.*) //' /proc/$pid/stat | cut -d' ' -f1); \
         if [ \"$st\" = T ] || [ \"$st\" = t ]; then kill -CONT \"$pid\" && echo \"$pid\"; fi; true",
        f = quote(&p.pidfile)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_use_the_pidfile_only() {
        let p = ProcessSpec {
            pidfile: "/d/db.pid".into(),
            start: "db --daemon".into(),
        };
        for s in [
            kill_script(&p),
            restart_script(&p),
            signal_script(&p, true),
            resume_if_paused_script(&p),
        ] {
            assert!(s.contains("cat /d/db.pid"), "{s}");
            assert!(!s.contains("pkill") && !s.contains("killall"), "{s}");
        }
        assert!(kill_script(&p).contains("kill -9"));
        assert!(restart_script(&p).contains("( db --daemon\n) && echo started"));
        assert!(signal_script(&p, false).contains("kill -CONT"));
        let odd = ProcessSpec {
            pidfile: "/d/my db.pid".into(),
            start: "x".into(),
        };
        for s in [
            kill_script(&odd),
            restart_script(&odd),
            signal_script(&odd, true),
            resume_if_paused_script(&odd),
        ] {
            assert!(s.contains("cat '/d/my db.pid'"), "{s}");
        }
    }
}
