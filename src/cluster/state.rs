//! The state file: what `cluster up` made, so `down` and `status` find it
//! again — also after the controller that made it crashed.

use super::host::{io, HostError};
use super::{Layout, Owner};
use crate::control::Node;
use serde::{Deserialize, Serialize};

/// One local node as `up` made it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeState {
    /// `n1`.
    pub name: String,
    /// Its address on the bridge.
    pub addr: String,
    /// Its network namespace.
    pub netns: String,
    /// Host side of its veth pair.
    pub veth: String,
    /// Host pid of its PID 1 (`faultline cluster node-init`), if started.
    pub init_pid: Option<i32>,
}

impl NodeState {
    /// The node as the control layer sees it.
    pub fn node(&self) -> Node {
        Node::new(&self.name, &self.addr)
    }
}

/// A local cluster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// Cluster name.
    pub name: String,
    /// The bridge.
    pub bridge: String,
    /// The bridge's address.
    pub gateway: String,
    /// The nodes.
    pub nodes: Vec<NodeState>,
    /// The `faultline test` that made it for one run; `None` for a cluster
    /// made by `faultline cluster up` (kept until `cluster down`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Owner>,
}

impl State {
    /// A fresh state for `n` nodes of `layout` on the /24 whose first three
    /// octets are `subnet` (nothing made yet): the bridge is `.1`, node `i`
    /// is `.(10 + i)`.
    pub fn plan(layout: &Layout, n: usize, subnet: &str) -> State {
        State {
            owner: None,
            name: layout.name.clone(),
            bridge: layout.bridge(),
            gateway: format!("{subnet}.1"),
            nodes: (1..=n)
                .map(|i| NodeState {
                    name: Layout::node_name(i),
                    addr: format!("{subnet}.{}", 10 + i),
                    netns: layout.netns(i),
                    veth: layout.veth(i),
                    init_pid: None,
                })
                .collect(),
        }
    }

    /// The first three octets of this cluster's /24.
    pub fn subnet(&self) -> &str {
        self.gateway
            .rsplit_once('.')
            .map_or("", |(prefix, _)| prefix)
    }

    /// This cluster's layout.
    pub fn layout(&self) -> Layout {
        Layout {
            name: self.name.clone(),
        }
    }

    /// Loads cluster `layout`'s state, `None` if it has none.
    pub fn load(layout: &Layout) -> Result<Option<State>, HostError> {
        let path = layout.state_file();
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map(Some).map_err(|e| {
                HostError::Usage(format!(
                    "{}:{}:{}: corrupt cluster state: {e}",
                    path.display(),
                    e.line(),
                    e.column()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(HostError::Io {
                what: format!("reading {}", path.display()),
                err: e,
            }),
        }
    }

    /// Saves atomically (write, then rename).
    pub fn save(&self) -> Result<(), HostError> {
        let path = self.layout().state_file();
        let tmp = path.with_extension("json.tmp");
        let text =
            serde_json::to_string_pretty(self).map_err(|e| HostError::Usage(e.to_string()))?;
        std::fs::write(&tmp, text).map_err(io(format!("writing {}", tmp.display())))?;
        std::fs::rename(&tmp, &path).map_err(io(format!("writing {}", path.display())))
    }

    /// Every cluster with a state file.
    pub fn all() -> Vec<State> {
        let Ok(dir) = std::fs::read_dir(Layout::root()) else {
            return Vec::new();
        };
        let mut states: Vec<State> = dir
            .filter_map(|e| e.ok())
            .filter_map(|e| Layout::new(&e.file_name().to_string_lossy()).ok())
            .filter_map(|l| State::load(&l).ok().flatten())
            .collect();
        states.sort_by(|a, b| a.name.cmp(&b.name));
        states
    }
}
