//! `nodes:` (or `--local N`, `--nodes`) and `data_dir:`.

use super::Problems;
use crate::control::nodes::{check_unique, parse_node};
use crate::control::Node;
use crate::spec::plan::{NodesPlan, Overrides};
use crate::spec::{Loaded, NodesField};

/// `local:N` checked: 1 to [`crate::cluster::MAX_NODES`].
fn local_nodes(n: usize) -> Result<NodesPlan, String> {
    let max = crate::cluster::MAX_NODES;
    if (1..=max).contains(&n) {
        Ok(NodesPlan::Local(n))
    } else {
        Err(format!("expected 1 to {max} local nodes, found {n}"))
    }
}

/// The nodes templates are rendered for at validation time: the ones the
/// command line names, the spec's hosts, or stand-ins for local nodes
/// (whose addresses are only known once the cluster is up).
pub(super) fn sample_nodes(nodes: &NodesPlan, o: &Overrides) -> Vec<Node> {
    if let Some(n) = &o.nodes {
        return n.clone();
    }
    match nodes {
        NodesPlan::Hosts(h) => h.clone(),
        NodesPlan::Local(n) => (1..=*n)
            .map(|i| Node::new(format!("n{i}"), format!("198.18.0.{}", 10 + i)))
            .collect(),
    }
}

impl Loaded {
    /// `nodes:`, or `--local N`.
    pub(super) fn nodes_plan(&self, o: &Overrides, p: &mut Problems) -> NodesPlan {
        if let Some(n) = o.local {
            return local_nodes(n).unwrap_or_else(|m| {
                p.flag("--local", m);
                NodesPlan::Local(5)
            });
        }
        match &self.spec.nodes {
            None => NodesPlan::Local(5),
            Some(NodesField::List(hosts)) if hosts.is_empty() => {
                p.key("nodes", "expected at least one node");
                NodesPlan::Local(5)
            }
            Some(NodesField::List(hosts)) => {
                let mut nodes = Vec::new();
                for (i, h) in hosts.iter().enumerate() {
                    match parse_node(h) {
                        Ok(n) => nodes.push(n),
                        Err(m) => p.key("nodes", format!("entry {}: {m}", i + 1)),
                    }
                }
                if let Err(m) = check_unique(&nodes) {
                    p.key("nodes", m);
                }
                NodesPlan::Hosts(nodes)
            }
            Some(NodesField::Text(t)) => match t.strip_prefix("local:").map(str::parse::<usize>) {
                Some(Ok(n)) => local_nodes(n).unwrap_or_else(|m| {
                    p.key("nodes", m);
                    NodesPlan::Local(5)
                }),
                _ => {
                    p.key(
                        "nodes",
                        format!(
                            "expected local:N (1 to {}) or a list of hosts, found {t:?}",
                            crate::cluster::MAX_NODES
                        ),
                    );
                    NodesPlan::Local(5)
                }
            },
        }
    }

    /// `data_dir:` (default the local cluster's node data directory).
    pub(super) fn data_dir(&self, p: &mut Problems) -> String {
        let data_dir = self
            .spec
            .data_dir
            .clone()
            .unwrap_or_else(|| crate::cluster::NODE_DATA_DIR.to_string());
        if let Err(m) = check_data_dir(&data_dir) {
            p.key("data_dir", m);
        }
        data_dir
    }
}

/// `data_dir` checked: an absolute path other than `/`, without `..`, of
/// characters that need no quoting (templates paste it into commands).
fn check_data_dir(d: &str) -> Result<(), String> {
    let ok = d.starts_with('/')
        && !d.trim_end_matches('/').is_empty()
        && !d.split('/').any(|c| c == "..")
        && d.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "expected an absolute path other than / of letters, digits, '/', '.', '_' and '-', without '..', found {d:?}"
        ))
    }
}
