//! Turns `--nodes`/`--nodes-file` and the SSH options into remotes.

use crate::cli::NodeArgs;
use crate::control::docker::DockerRemote;
use crate::control::nodes::{parse_nodes_arg, read_nodes_file, NodeList};
use crate::control::ssh::{SshOptions, SshRemote};
use crate::control::{Node, Remote};
use crate::exit::{bad_input, Exit};
use std::sync::Arc;

/// The nodes `--nodes` or `--nodes-file` name (parsed and checked, no
/// network); `None` if they name none.
pub fn node_list(args: &NodeArgs) -> Result<Option<NodeList>, Exit> {
    Ok(Some(match (&args.nodes, &args.nodes_file) {
        (Some(s), _) => NodeList {
            nodes: parse_nodes_arg(s).map_err(|m| bad_input(format!("--nodes: {m}")))?,
            ..Default::default()
        },
        (None, Some(path)) => read_nodes_file(path).map_err(bad_input)?,
        (None, None) => return Ok(None),
    }))
}

/// Remotes for the nodes the arguments name; `None` if they name none.
pub fn from_args(args: &NodeArgs) -> Result<Option<Vec<Arc<dyn Remote>>>, Exit> {
    Ok(node_list(args)?.map(|list| remotes(list, args)))
}

/// Remotes for `nodes` (from a spec), with the SSH options of `args`.
pub fn from_nodes(nodes: Vec<Node>, args: &NodeArgs) -> Vec<Arc<dyn Remote>> {
    remotes(
        NodeList {
            nodes,
            ..Default::default()
        },
        args,
    )
}

fn remotes(list: NodeList, args: &NodeArgs) -> Vec<Arc<dyn Remote>> {
    if args.docker {
        return list
            .nodes
            .into_iter()
            .map(|n| Arc::new(DockerRemote::new(n)) as Arc<dyn Remote>)
            .collect();
    }
    let defaults = SshOptions::default();
    let opts = Arc::new(SshOptions {
        user: args
            .username
            .clone()
            .or(list.username)
            .unwrap_or(defaults.user.clone()),
        port: args.port,
        private_key: args.ssh_private_key.clone().or(list.private_key),
        known_hosts: args.known_hosts.clone().or(list.known_hosts),
        host_key_check: args.strict_host_key_checking,
        ..defaults
    });
    list.nodes
        .into_iter()
        .map(|n| Arc::new(SshRemote::new(n, opts.clone())) as Arc<dyn Remote>)
        .collect()
}
