//! Every template of a spec, rendered at validation time for every node the
//! test will use (or stand-ins for local nodes), with strict undefined
//! variables: a syntax error or an unknown variable is a spec error before
//! any node is touched.

use super::{DbSpec, ReadyField};
use crate::control::Node;
use crate::runner::template::{node_context, Templates};

/// (key, template) for every template of the DB lifecycle; `pidfile` and
/// `log` are the plan's (defaults filled in).
fn templates<'a>(db: &'a DbSpec, pidfile: &'a str, log: &'a str) -> Vec<(String, &'a str)> {
    let mut t: Vec<(String, &str)> = Vec::new();
    let opt = [
        ("db.install", &db.install),
        ("db.present", &db.present),
        ("db.stop", &db.stop),
        ("db.primaries", &db.primaries),
        ("db.teardown", &db.teardown),
    ];
    for (key, v) in opt {
        if let Some(v) = v {
            t.push((key.into(), v));
        }
    }
    t.push(("db.start.command".into(), &db.start.command));
    t.push(("db.start.pidfile".into(), pidfile));
    t.push(("db.start.log".into(), log));
    for v in db.start.env.values() {
        t.push(("db.start.env".into(), v));
    }
    match &db.ready {
        Some(ReadyField::Command(c)) => t.push(("db.ready".into(), c)),
        Some(ReadyField::Full { command, .. }) => t.push(("db.ready.command".into(), command)),
        None => {}
    }
    for f in &db.configure {
        t.push(("db.configure".into(), &f.path));
        if let Some(body) = &f.template {
            t.push(("db.configure".into(), body));
        }
    }
    for l in &db.logs {
        t.push(("db.logs".into(), l));
    }
    for d in db.disk.iter().flat_map(|d| &d.dirs) {
        t.push(("db.disk.dirs".into(), d));
    }
    if let Some(r) = &db.recover {
        t.push(("db.recover.position".into(), &r.position));
        t.push(("db.recover.start".into(), &r.start));
        if let Some(ready) = &r.ready {
            t.push(("db.recover.ready".into(), ready));
        }
        if let Some(reset) = &r.reset {
            t.push(("db.recover.reset".into(), reset));
        }
    }
    t
}

/// Keys whose templates name a file: they must not render empty.
const PATHS: [&str; 5] = [
    "db.start.pidfile",
    "db.start.log",
    "db.logs",
    "db.configure",
    "db.disk.dirs",
];

/// Renders every template for every node; returns (key, problem) for each
/// template that fails (once per template, for the first node it fails on).
pub(super) fn check(
    db: &DbSpec,
    pidfile: &str,
    log: &str,
    nodes: &[Node],
    data_dir: &str,
) -> Vec<(String, String)> {
    let engine = Templates::default();
    let contexts: Vec<_> = (0..nodes.len())
        .map(|i| node_context(nodes, i, data_dir))
        .collect();
    let mut problems = Vec::new();
    for (key, template) in templates(db, pidfile, log) {
        for (i, (node, ctx)) in nodes.iter().zip(&contexts).enumerate() {
            let problem = match engine.render(template, ctx) {
                Err(e) => Some(e),
                Ok(out) if out.trim().is_empty() && PATHS.contains(&key.as_str()) => {
                    Some(format!("template {template:?} renders to an empty path"))
                }
                Ok(_) => None,
            };
            if let Some(m) = problem {
                // A template that fails on the first node fails for all.
                let on = if i > 0 {
                    format!(" (for node {})", node.name)
                } else {
                    String::new()
                };
                problems.push((key.clone(), format!("{m}{on}")));
                break;
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_and_undefined_variables_are_found() {
        let mut db = DbSpec::default();
        db.start.command = "run {{ node.name ".into();
        db.install = Some("{% if node.index == 2 %}{{ nodes[5].name }}{% endif %}".into());
        db.teardown = Some("rm -rf {{ data_dir }}/x {{ node.nmae }}".into());
        db.primaries = Some("echo {{ primary.name }}".into());
        let nodes = vec![Node::new("n1", "10.0.0.1"), Node::new("n2", "10.0.0.2")];
        let p = check(&db, "{{ data_dir }}/p", "{{ nope }}", &nodes, "/d");
        let keys: Vec<&str> = p.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "db.install",
                "db.teardown",
                "db.start.command",
                "db.start.log"
            ],
            "{p:?}"
        );
        assert!(p[2].1.contains("syntax error"), "{p:?}");
        assert!(p[1].1.contains("undefined"), "{p:?}");
        assert!(p[0].1.contains("for node n2"), "{p:?}");
        assert!(!p[2].1.contains("for node"), "{p:?}");
    }
}
