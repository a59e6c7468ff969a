//! The local test cluster: N test hosts on this machine made from Linux
//! namespaces, no Docker, no VMs (DESIGN.md, "The local cluster").
//!
//! Each node gets a network namespace with a veth `eth0` on a bridge, its
//! own hostname (UTS), a private mount namespace with its own `/run`,
//! `/tmp` and data directory, and a PID namespace whose PID 1 is
//! `faultline cluster node-init`, which starts the node's own sshd and reaps
//! orphans. Everything is reached over SSH like a real machine.
//!
//! # Layout
//!
//! - [`Layout`]: names and addresses derived from the cluster's name, so
//!   several clusters can coexist (`198.18.0.0/15`, one /24 each).
//! - [`State`]: what `up` made, saved as JSON so `down` and `status` work
//!   after a crashed controller.
//! - [`up`], [`down`], [`status`], [`list`]: the subcommands; [`init`]:
//!   PID 1 of a node.
//! - [`Owner`]: the `faultline test` that made a cluster, so that a cluster
//!   whose controller died is found ([`list`]) and removed
//!   ([`remove_orphans`]).

mod host;
pub mod init;
mod layout;
mod owner;
mod state;
mod updown;

pub use host::HostError;
pub use layout::{Layout, MAX_NODES, ROOT_ENV};
pub use owner::Owner;
pub use state::{NodeState, State};
pub use updown::{down, list, remove_orphans, status, up, ClusterSummary, NodeStatus};

use crate::control::ssh::{HostKeyCheck, SshOptions, SshRemote};
use crate::control::Remote;
use std::sync::Arc;
use std::time::Duration;

/// The path where each node's private data directory is mounted, identical
/// on every node (as a DB's data dir would be on real machines).
pub const NODE_DATA_DIR: &str = "/var/lib/faultline/node";

impl State {
    /// SSH options that reach this cluster's nodes (its key, its
    /// known_hosts, strict host key checking).
    pub fn ssh_options(&self) -> SshOptions {
        SshOptions {
            user: "root".into(),
            port: None,
            private_key: Some(self.layout().client_key()),
            known_hosts: Some(self.layout().known_hosts()),
            host_key_check: HostKeyCheck::Yes,
            connect_timeout: Duration::from_secs(5),
            // Our sshd allows MaxSessions 100.
            max_sessions: 64,
        }
    }

    /// One SSH remote per node.
    pub fn remotes(&self) -> Vec<Arc<dyn Remote>> {
        let opts = Arc::new(self.ssh_options());
        self.nodes
            .iter()
            .map(|n| Arc::new(SshRemote::new(n.node(), opts.clone())) as Arc<dyn Remote>)
            .collect()
    }
}
