//! Who a local cluster belongs to. A cluster `faultline test` makes for one
//! run records its controller (pid and the kernel's start time of that pid,
//! so a reused pid is not mistaken for it); when that controller is gone
//! (SIGKILL, a crash, a power cut of the terminal), the cluster is debris
//! that `cluster list` shows and the next `faultline test` removes. A
//! cluster made by `faultline cluster up` has no owner and stays until
//! `cluster down`.

use serde::{Deserialize, Serialize};

/// The controller process that owns a cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    /// Its pid.
    pub pid: i32,
    /// Its start time (clock ticks after boot, `/proc/PID/stat` field 22).
    pub start_time: u64,
}

impl Owner {
    /// This process.
    pub fn current() -> Option<Owner> {
        Owner::of(std::process::id() as i32)
    }

    /// Process `pid`, if it runs.
    pub fn of(pid: i32) -> Option<Owner> {
        start_time(pid).map(|start_time| Owner { pid, start_time })
    }

    /// The name of the cluster this controller makes for its run: `ft` and
    /// six hex digits of its pid and start time. Not the pid alone: pids
    /// are reused (32768 of them wrap within minutes of builds), and a name
    /// is also what network namespaces are found by, machine-wide.
    pub fn cluster_name(&self) -> String {
        // FNV-1a over pid and start time.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in self
            .pid
            .to_le_bytes()
            .into_iter()
            .chain(self.start_time.to_le_bytes())
        {
            h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
        format!("ft{:06x}", (h ^ (h >> 24) ^ (h >> 48)) & 0xff_ffff)
    }

    /// Whether the owner still runs (the same process, not a reused pid).
    pub fn alive(&self) -> bool {
        start_time(self.pid) == Some(self.start_time) && super::host::alive(self.pid)
    }
}

/// Field 22 of `/proc/PID/stat` (after the parenthesised command name,
/// which may itself contain spaces and parentheses).
fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    // `rest` starts at field 3 (state); field 22 is 19 further on.
    rest.split_whitespace().nth(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn run_cluster_names_differ_for_a_reused_pid_and_fit_the_name_rules() {
        let a = super::Owner {
            pid: 4242,
            start_time: 100,
        };
        let b = super::Owner {
            pid: 4242,
            start_time: 101,
        };
        assert_ne!(a.cluster_name(), b.cluster_name());
        assert_eq!(a.cluster_name(), a.cluster_name());
        assert!(crate::cluster::Layout::new(&a.cluster_name()).is_ok());
        assert_eq!(a.cluster_name().len(), 8);
    }

    use super::*;

    #[test]
    fn this_process_is_alive_and_a_changed_start_time_is_not() {
        let me = Owner::current().expect("/proc is mounted");
        assert!(me.alive());
        let reused = Owner {
            start_time: me.start_time + 1,
            ..me
        };
        assert!(!reused.alive());
        let gone = Owner {
            pid: i32::MAX,
            start_time: 0,
        };
        assert!(!gone.alive());
    }
}
