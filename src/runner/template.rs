//! Templates in specs (minijinja): every DB command and config file is
//! rendered per node with the node's name, address and index, all nodes,
//! the data directory, and ready-made cluster lists.
//!
//! Variables: `node.name`, `node.addr`, `node.index` (1-based), `node.peer`
//! (`n1=http://ADDR:2380`), `nodes` (list of nodes), `data_dir`,
//! `initial_cluster` (every `node.peer`, comma-separated), `primary` (the
//! first node).

use crate::control::Node;
use minijinja::{context, Environment, Value};

/// Renders spec templates.
pub struct Templates {
    env: Environment<'static>,
}

impl Default for Templates {
    fn default() -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        Templates { env }
    }
}

/// The template context for node `i` of `nodes`.
pub fn node_context(nodes: &[Node], i: usize, data_dir: &str) -> Value {
    let node_value = |j: usize, n: &Node| {
        context! { name => n.name.clone(), addr => n.addr.clone(), index => j + 1, peer => format!("{}=http://{}:2380", n.name, n.addr) }
    };
    let all: Vec<Value> = nodes
        .iter()
        .enumerate()
        .map(|(j, n)| node_value(j, n))
        .collect();
    let initial_cluster = nodes
        .iter()
        .map(|n| format!("{}=http://{}:2380", n.name, n.addr))
        .collect::<Vec<_>>()
        .join(",");
    context! {
        node => node_value(i, &nodes[i]),
        nodes => all,
        data_dir => data_dir,
        initial_cluster => initial_cluster,
        primary => node_value(0, &nodes[0]),
    }
}

impl Templates {
    /// Renders `template` with `ctx`; the error says what is undefined or
    /// malformed.
    pub fn render(&self, template: &str, ctx: &Value) -> Result<String, String> {
        self.env.render_str(template, ctx).map_err(|e| {
            let mut msg = e.to_string();
            if let Some(d) = e.detail() {
                if !msg.contains(d) {
                    msg = format!("{msg}: {d}");
                }
            }
            format!("template {template:?}: {msg}")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_node_variables() {
        let nodes = vec![Node::new("n1", "10.0.0.1"), Node::new("n2", "10.0.0.2")];
        let t = Templates::default();
        let ctx = node_context(&nodes, 1, "/d");
        assert_eq!(
            t.render(
                "{{ node.name }}@{{ node.addr }}:{{ node.index }} {{ data_dir }}",
                &ctx
            )
            .unwrap(),
            "n2@10.0.0.2:2 /d"
        );
        assert_eq!(
            t.render("{{ nodes | map(attribute='peer') | join(',') }}", &ctx)
                .unwrap(),
            "n1=http://10.0.0.1:2380,n2=http://10.0.0.2:2380"
        );
        assert_eq!(t.render("{{ primary.addr }}", &ctx).unwrap(), "10.0.0.1");
        assert!(t
            .render("{{ nope }}", &ctx)
            .unwrap_err()
            .contains("undefined"));
    }
}
