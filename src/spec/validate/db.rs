//! `db:`: the ready probe, the files to configure, the pidfile and log, and
//! every template rendered for every node before anything is touched.

use super::nodes::sample_nodes;
use super::Problems;
use crate::spec::plan::{NodesPlan, Overrides};
use crate::spec::{Loaded, ReadyField};
use std::time::Duration;

/// What `db:` gives the plan.
pub(super) struct DbPlan {
    /// Ready probe and its timeout.
    pub ready: Option<(String, Duration)>,
    /// Pidfile template.
    pub pidfile: String,
    /// Log file template.
    pub log: String,
    /// `db.recover.within`.
    pub recover_within: Duration,
}

impl Loaded {
    /// `db.ready`, `db.configure`, `db.start.pidfile` and `db.start.log`.
    pub(super) fn db(&self, p: &mut Problems) -> DbPlan {
        let s = &self.spec;
        let ready = match &s.db.ready {
            None => None,
            Some(ReadyField::Command(c)) => Some((c.clone(), Duration::from_secs(30))),
            Some(ReadyField::Full { command, timeout }) => {
                let t = p.duration("db.ready.timeout", timeout, Duration::from_secs(30), true);
                Some((command.clone(), t))
            }
        };
        let recover_within = match &s.db.recover {
            Some(r) => {
                if ready.is_none() {
                    p.key(
                        "db.recover",
                        "needs db.ready: it is what tells whether the DB came back",
                    );
                }
                p.duration(
                    "db.recover.within",
                    &r.within,
                    Duration::from_secs(60),
                    true,
                )
            }
            None => Duration::from_secs(60),
        };
        for (i, f) in s.db.configure.iter().enumerate() {
            match (&f.template, &f.source) {
                (Some(_), None) => {}
                (None, Some(src)) if self.base_dir().join(src).is_file() => {}
                (None, Some(src)) => p.key(
                    "db.configure",
                    format!(
                        "entry {}: source {src:?} is not a readable file (relative to {})",
                        i + 1,
                        self.base_dir().display()
                    ),
                ),
                _ => p.key(
                    "db.configure",
                    format!(
                        "entry {} ({}): give exactly one of template or source",
                        i + 1,
                        f.path
                    ),
                ),
            }
        }
        let pidfile =
            s.db.start
                .pidfile
                .clone()
                .unwrap_or_else(|| "{{ data_dir }}/db.pid".into());
        let log =
            s.db.start
                .log
                .clone()
                .unwrap_or_else(|| "{{ data_dir }}/db.log".into());
        DbPlan {
            ready,
            pidfile,
            log,
            recover_within,
        }
    }

    /// Renders every template for every node the test will use, with
    /// undefined variables as errors.
    pub(super) fn check_templates(
        &self,
        db: &DbPlan,
        o: &Overrides,
        nodes: &NodesPlan,
        data_dir: &str,
        p: &mut Problems,
    ) {
        let sample = sample_nodes(nodes, o);
        let problems =
            crate::spec::render::check(&self.spec.db, &db.pidfile, &db.log, &sample, data_dir);
        let rendered = problems.is_empty();
        for (key, m) in problems {
            p.key(&key, m);
        }
        if let (true, Some(disk)) = (rendered, &self.spec.db.disk) {
            check_disk_dirs(&disk.dirs, &sample, data_dir, p);
        }
    }
}

/// `db.disk.dirs` rendered for every node: absolute paths strictly inside
/// the data directory (the layer refuses anything else), without `..`,
/// none inside another.
fn check_disk_dirs(
    dirs: &[String],
    nodes: &[crate::control::Node],
    data_dir: &str,
    p: &mut Problems,
) {
    if dirs.is_empty() {
        p.key("db.disk.dirs", "expected at least one directory");
        return;
    }
    let engine = crate::runner::template::Templates::default();
    for i in 0..nodes.len() {
        let ctx = crate::runner::template::node_context(nodes, i, data_dir);
        let mut seen: Vec<String> = Vec::new();
        for t in dirs {
            let Ok(d) = engine.render(t, &ctx) else {
                continue;
            };
            let d = d.trim().trim_end_matches('/').to_string();
            let inside = d
                .strip_prefix(data_dir.trim_end_matches('/'))
                .is_some_and(|rest| rest.starts_with('/') && rest.len() > 1);
            if !inside || d.split('/').any(|c| c == ".." || c == ".") {
                p.key(
                    "db.disk.dirs",
                    format!(
                        "{d:?} (node {}) is not inside the data directory {data_dir}: the fault filesystem mounts only there",
                        nodes[i].name
                    ),
                );
                return;
            }
            if let Some(o) = seen.iter().find(|o| {
                d == **o || d.starts_with(&format!("{o}/")) || o.starts_with(&format!("{d}/"))
            }) {
                p.key(
                    "db.disk.dirs",
                    format!(
                        "{d:?} and {o:?} overlap: give directories that do not contain each other"
                    ),
                );
                return;
            }
            seen.push(d);
        }
    }
}
