//! The DB lifecycle on every node, in parallel, from the spec's templates:
//! teardown (leftovers of an earlier run), install (unless present),
//! configure, start (daemonized by us, with a pidfile and a log), ready
//! probe; and at the end stop, teardown and log collection. Per-node
//! failures are collected and reported together.

mod recover;

use super::disk::{Helper, NodeDisk};
use super::template::{node_context, Templates};
use crate::control::{on_all_each, quote, Cmd, Remote, RemoteExt};
use crate::spec::Plan;
use faultline_nemesis::clock;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Shell function: is pid $1 alive (a paused process is) and not a zombie?
const ALIVE: &str = "alive() { [ -r /proc/$1/stat ] && [ \"$(sed 's/.*) //' /proc/$1/stat | cut -d' ' -f1)\" != Z ]; }";

/// The DB on the test's nodes.
pub struct Db {
    plan: Arc<Plan>,
    remotes: Vec<Arc<dyn Remote>>,
    ctx: Vec<minijinja::Value>,
    templates: Templates,
    /// libfaketime offset file, when clock faults run under faketime.
    pub faketime: Option<String>,
    /// The fault filesystem, when the spec has `db.disk.dirs`: the helper
    /// and each node's layers.
    disk: Option<(Helper, Vec<NodeDisk>)>,
}

/// Per-node failures, one line each.
pub type NodeErrors = Vec<String>;

impl Db {
    /// The DB of `plan` on these nodes (`local`: the local namespace
    /// cluster's).
    pub fn new(
        plan: Arc<Plan>,
        remotes: Vec<Arc<dyn Remote>>,
        faketime: Option<String>,
        local: bool,
    ) -> Result<Db, String> {
        let nodes: Vec<_> = remotes.iter().map(|r| r.node().clone()).collect();
        let ctx = (0..nodes.len())
            .map(|i| node_context(&nodes, i, &plan.data_dir))
            .collect();
        let mut db = Db {
            plan,
            remotes,
            ctx,
            templates: Templates::default(),
            faketime,
            disk: None,
        };
        if let Some(d) = db.plan.db.disk.clone() {
            let helper = Helper::new(local, &db.plan.data_dir)?;
            let mut layers = Vec::new();
            for i in 0..db.remotes.len() {
                let dirs = d
                    .dirs
                    .iter()
                    .map(|t| db.render(i, t))
                    .collect::<Result<Vec<_>, _>>()?;
                layers.push(NodeDisk::new(dirs, &db.plan.data_dir));
            }
            db.disk = Some((helper, layers));
        }
        Ok(db)
    }

    /// The fault filesystem per node, for power faults (empty without
    /// `db.disk.dirs`).
    pub fn disk_specs(&self) -> std::collections::BTreeMap<String, faultline_nemesis::DiskSpec> {
        let Some((helper, layers)) = &self.disk else {
            return Default::default();
        };
        let files = self
            .plan
            .db
            .disk
            .as_ref()
            .map(|d| d.files.clone())
            .unwrap_or_default();
        let n = self.remotes.len();
        self.remotes
            .iter()
            .zip(layers)
            .enumerate()
            .map(|(i, (r, l))| (r.node().name.clone(), l.nemesis(helper, &files, i, n)))
            .collect()
    }

    /// Brings the helper to the nodes and mounts the fault filesystem.
    async fn mount_disks(&self) -> Result<(), NodeErrors> {
        let Some((helper, layers)) = &self.disk else {
            return Ok(());
        };
        helper.provision(&self.remotes).await?;
        let scripts = layers.iter().map(|l| l.mount_script(helper)).collect();
        self.each(
            "mounting the fault filesystem",
            scripts,
            Duration::from_secs(60),
        )
        .await
        .map(|_| ())
    }

    /// Renders a template for node `i`.
    pub fn render(&self, i: usize, template: &str) -> Result<String, String> {
        self.templates.render(template, &self.ctx[i])
    }

    /// Renders `template` for every node; all failures together.
    pub fn render_all(&self, template: &str) -> Result<Vec<String>, NodeErrors> {
        self.per_node(|i| self.render(i, template))
    }

    /// The pidfile on node `i`.
    pub fn pidfile(&self, i: usize) -> Result<String, String> {
        self.render(i, &self.plan.pidfile)
    }

    /// The script that starts the DB on node `i`, daemonized, recording its
    /// pid in the pidfile and appending its output to the log.
    pub fn start_script(&self, i: usize) -> Result<String, String> {
        self.start_script_with(i, &self.plan.db.start.command)
    }

    /// [`Db::start_script`] with another foreground command (a template).
    fn start_script_with(&self, i: usize, command: &str) -> Result<String, String> {
        let cmd = self.render(i, command)?;
        let pidfile = self.pidfile(i)?;
        let log = self.render(i, &self.plan.log)?;
        let mut env: Vec<(String, String)> = Vec::new();
        for (k, v) in &self.plan.db.start.env {
            env.push((k.clone(), self.render(i, v)?));
        }
        if let Some(f) = &self.faketime {
            env.extend(clock::faketime_env(f));
        }
        let exports: String = env
            .iter()
            .map(|(k, v)| format!("export {k}={}; ", quote(v)))
            .collect();
        let init_offset = self.faketime.as_ref().map_or(String::new(), |f| {
            let f = quote(f);
            format!("[ -f {f} ] || echo +0 > {f}; ")
        });
        let dd = quote(&self.plan.data_dir);
        Ok(format!(
            "mkdir -p {dd} \"$(dirname {p})\" \"$(dirname {l})\"; cd {dd}; {init_offset}{exports}\
             setsid sh -c {inner} >> {l} 2>&1 < /dev/null &",
            p = quote(&pidfile),
            l = quote(&log),
            inner = quote(&format!("echo $$ > {}; exec {cmd}", quote(&pidfile)))
        ))
    }

    /// Runs one rendered script per node, in parallel; collects failures.
    async fn each(
        &self,
        what: &str,
        scripts: Vec<String>,
        timeout: Duration,
    ) -> Result<Vec<String>, NodeErrors> {
        let mut outs = Vec::new();
        let mut errs = Vec::new();
        let jobs = scripts.into_iter().enumerate().collect();
        for res in self.each_node(what, jobs, timeout).await {
            match res {
                Ok(o) => outs.push(o),
                Err(e) => errs.push(e),
            }
        }
        if errs.is_empty() {
            Ok(outs)
        } else {
            Err(errs)
        }
    }

    /// Runs rendered scripts on the nodes they name (by index), in
    /// parallel: each one's output, or why it failed, in the same order.
    async fn each_node(
        &self,
        what: &str,
        jobs: Vec<(usize, String)>,
        timeout: Duration,
    ) -> Vec<Result<String, String>> {
        let nodes: Vec<usize> = jobs.iter().map(|(i, _)| *i).collect();
        let jobs = jobs
            .into_iter()
            .map(|(i, s)| {
                (
                    self.remotes[i].clone(),
                    Cmd::shell(s).sudo(true).timeout(timeout),
                )
            })
            .collect();
        let results = on_all_each(jobs).await;
        nodes
            .iter()
            .zip(results)
            .map(|(i, res)| match res {
                Ok(o) if o.success() => Ok(o.stdout_text()),
                Ok(o) => Err(format!(
                    "node {}: {what} exited with status {}: {}",
                    self.remotes[*i].node().name,
                    o.status.map_or("signal".into(), |c| c.to_string()),
                    if o.stderr_text().is_empty() {
                        o.stdout_text()
                    } else {
                        o.stderr_text()
                    }
                )),
                Err(e) => Err(format!("{what}: {e}")),
            })
            .collect()
    }

    fn per_node(
        &self,
        f: impl Fn(usize) -> Result<String, String>,
    ) -> Result<Vec<String>, NodeErrors> {
        let mut out = Vec::new();
        let mut errs = Vec::new();
        for (i, r) in self.remotes.iter().enumerate() {
            match f(i) {
                Ok(s) => out.push(s),
                Err(e) => errs.push(format!("node {}: {e}", r.node().name)),
            }
        }
        if errs.is_empty() {
            Ok(out)
        } else {
            Err(errs)
        }
    }

    /// Sets the DB up on every node and waits until it is ready.
    pub async fn setup(&self) -> Result<(), NodeErrors> {
        self.teardown().await?;
        if let Some(install) = &self.plan.db.install {
            let scripts = match &self.plan.db.present {
                Some(present) => {
                    let p = self.render_all(present)?;
                    let i = self.render_all(install)?;
                    p.into_iter()
                        .zip(i)
                        .map(|(p, i)| format!("( {p}\n) >/dev/null 2>&1 || ( {i}\n)"))
                        .collect()
                }
                None => self.render_all(install)?,
            };
            self.each("install", scripts, Duration::from_secs(600))
                .await?;
        }
        // Before configure: files it puts into a directory under the layer
        // must land in the layer, not under it.
        self.mount_disks().await?;
        for file in &self.plan.db.configure {
            let paths = self.render_all(&file.path)?;
            let bodies = match (&file.template, &file.source) {
                (Some(t), _) => self.render_all(t)?,
                (None, Some(src)) => {
                    let src = self.plan.base_dir.join(src);
                    let body = std::fs::read_to_string(&src)
                        .map_err(|e| vec![format!("configure: {}: {e}", src.display())])?;
                    vec![body; self.remotes.len()]
                }
                (None, None) => continue,
            };
            let mut errs = Vec::new();
            for ((r, path), body) in self.remotes.iter().zip(paths).zip(bodies) {
                if let Err(e) = r.upload(body.as_bytes(), &path).await {
                    errs.push(format!("configure {path}: {e}"));
                }
            }
            if !errs.is_empty() {
                return Err(errs);
            }
        }
        let starts = self.per_node(|i| self.start_script(i))?;
        self.each("start", starts, Duration::from_secs(60)).await?;
        self.wait_ready().await
    }

    /// Polls the ready probe on every node until it succeeds or times out.
    pub async fn wait_ready(&self) -> Result<(), NodeErrors> {
        match &self.plan.ready {
            Some((_, timeout)) => self.wait_ready_for(*timeout).await,
            None => Ok(()),
        }
    }

    /// [`Db::wait_ready`] with another timeout.
    async fn wait_ready_for(&self, timeout: Duration) -> Result<(), NodeErrors> {
        let Some((probe, _)) = &self.plan.ready else {
            return Ok(());
        };
        let scripts = self.render_all(probe)?;
        let deadline = super::later(timeout);
        let mut last = Vec::new();
        while Instant::now() < deadline {
            match self
                .each("ready probe", scripts.clone(), Duration::from_secs(10))
                .await
            {
                Ok(_) => return Ok(()),
                Err(e) => last = e,
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let logs = self.log_tails().await;
        Err(last
            .into_iter()
            .map(|e| format!("{e} (not ready after {:.0} s){logs}", timeout.as_secs_f64()))
            .collect())
    }

    async fn log_tails(&self) -> String {
        let scripts = match self.render_all(&self.plan.log) {
            Ok(l) => l
                .into_iter()
                .map(|l| format!("tail -n 5 {} 2>/dev/null || true", quote(&l)))
                .collect(),
            Err(e) => return format!("\n    (no log tail: {})", e.join("; ")),
        };
        match self.each("log", scripts, Duration::from_secs(5)).await {
            Ok(tails) => self
                .remotes
                .iter()
                .zip(tails)
                .filter(|(_, t)| !t.is_empty())
                .map(|(r, t)| {
                    format!(
                        "\n    {} log: {}",
                        r.node().name,
                        t.replace('\n', "\n      ")
                    )
                })
                .collect(),
            Err(e) => format!("\n    (no log tail: {})", e.join("; ")),
        }
    }

    /// Stops the DB (its `stop` command, else SIGTERM then SIGKILL through
    /// the pidfile) and runs its teardown command.
    pub async fn teardown(&self) -> Result<(), NodeErrors> {
        let scripts = self.per_node(|i| {
            let pidfile = quote(&self.pidfile(i)?);
            let stop = match &self.plan.db.stop {
                Some(s) => format!("( {}\n) || true; ", self.render(i, s)?),
                None => String::new(),
            };
            let teardown = match &self.plan.db.teardown {
                Some(t) => format!("; {}", self.render(i, t)?),
                None => String::new(),
            };
            // The fault filesystem comes off after the DB stops and before
            // its teardown removes its files.
            let (unmount, backing) = match &self.disk {
                Some((_, layers)) => (
                    format!("; {}", layers[i].unmount_script()),
                    layers[i].remove_backing_script(),
                ),
                None => (String::new(), String::new()),
            };
            Ok(format!(
                "{stop}if [ -f {pidfile} ]; then pid=$(cat {pidfile}); kill -CONT $pid 2>/dev/null; kill -TERM $pid 2>/dev/null; \
                 i=0; while [ -d /proc/$pid ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done; \
                 kill -9 $pid 2>/dev/null; rm -f {pidfile}; fi{unmount}{teardown}{backing}"
            ))
        })?;
        self.each("teardown", scripts, Duration::from_secs(60))
            .await
            .map(|_| ())
    }

    /// Whether the DB process (the pidfile's pid) is alive on each node,
    /// in node order: `Ok(None)` alive (a paused process counts), `Ok(Some(
    /// (pid, tail)))` dead, with the pid the pidfile held (empty if none)
    /// and the last `lines` lines of its log; `Err` when the node could not
    /// be asked. Changes nothing on the nodes.
    pub async fn liveness(&self, lines: usize) -> Vec<Result<Option<(String, String)>, String>> {
        let scripts: Vec<Result<String, String>> = (0..self.remotes.len())
            .map(|i| {
                let pidfile = quote(&self.pidfile(i)?);
                let log = quote(&self.render(i, &self.plan.log)?);
                Ok(format!(
                    "{ALIVE}; pid=$(cat {pidfile} 2>/dev/null); \
                     if [ -n \"$pid\" ] && alive \"$pid\"; then echo alive; \
                     else echo \"dead $pid\"; tail -n {lines} {log} 2>/dev/null; fi; true"
                ))
            })
            .collect();
        let jobs = self
            .remotes
            .iter()
            .cloned()
            .zip(scripts.iter().map(|s| {
                Cmd::shell(s.clone().unwrap_or_else(|_| "exit 3".into()))
                    .sudo(true)
                    .timeout(Duration::from_secs(10))
            }))
            .collect();
        let results = on_all_each(jobs).await;
        scripts
            .into_iter()
            .zip(results)
            .map(|(script, r)| {
                script?;
                let out = r.map_err(|e| e.to_string())?;
                if !out.success() {
                    return Err(format!("the liveness probe failed: {}", out.stderr_text()));
                }
                let text = out.stdout_text();
                let (first, tail) = text.split_once('\n').unwrap_or((&text, ""));
                match first.trim().strip_prefix("dead") {
                    Some(pid) => Ok(Some((pid.trim().to_string(), tail.to_string()))),
                    None if first.trim() == "alive" => Ok(None),
                    None => Err(format!("the liveness probe printed {first:?}")),
                }
            })
            .collect()
    }

    /// Names of the current primaries, from the `primaries` probe (empty if
    /// the spec has none); an error says why they could not be found.
    pub async fn primaries(&self) -> Result<Vec<String>, String> {
        let Some(p) = &self.plan.db.primaries else {
            return Ok(Vec::new());
        };
        let scripts = self.render_all(p).map_err(|e| e.join("; "))?;
        // A node that is down (killed, cut off) cannot answer: the others do.
        let jobs = self
            .remotes
            .iter()
            .cloned()
            .zip(
                scripts
                    .into_iter()
                    .map(|s| Cmd::shell(s).sudo(true).timeout(Duration::from_secs(5))),
            )
            .collect();
        let results = on_all_each(jobs).await;
        let mut names: Vec<String> = results
            .iter()
            .flatten()
            .filter(|o| o.success())
            .flat_map(|o| {
                o.stdout_text()
                    .split_whitespace()
                    .map(String::from)
                    .collect::<Vec<_>>()
            })
            .collect();
        if names.is_empty()
            && results
                .iter()
                .all(|r| !r.as_ref().is_ok_and(|o| o.success()))
        {
            return Err(format!(
                "the primaries probe failed on every node: {}",
                results
                    .iter()
                    .filter_map(|r| r.as_ref().err().map(ToString::to_string))
                    .next()
                    .unwrap_or_else(|| "non-zero exit".into())
            ));
        }
        names.sort();
        names.dedup();
        let unknown: Vec<&String> = names
            .iter()
            .filter(|n| !self.remotes.iter().any(|r| &r.node().name == *n))
            .collect();
        if !unknown.is_empty() {
            return Err(format!(
                "the primaries probe printed {unknown:?}, which are not node names"
            ));
        }
        Ok(names)
    }

    /// Copies every node's log files into `dir/nodes/NODE/`; returns what
    /// could not be copied (a template that did not render included). Every
    /// file lands inside `dir`: node and file names that could lead out of
    /// it (`..`, `/`) are refused.
    pub async fn pull_logs(&self, dir: &Path) -> Vec<String> {
        let mut errs = Vec::new();
        let mut templates = vec![self.plan.log.clone()];
        templates.extend(self.plan.db.logs.iter().cloned());
        for (i, r) in self.remotes.iter().enumerate() {
            let mut templates = templates.clone();
            if let Some((_, layers)) = &self.disk {
                templates.extend((0..layers[i].dirs.len()).map(|k| layers[i].log(k)));
            }
            let name = &r.node().name;
            let Some(node_dir) = child(&dir.join("nodes"), name) else {
                errs.push(format!("node name {name:?} cannot be a directory name"));
                continue;
            };
            if let Err(e) = std::fs::create_dir_all(&node_dir) {
                errs.push(format!("{}: {e}", node_dir.display()));
                continue;
            }
            let mut taken = std::collections::BTreeSet::new();
            for t in &templates {
                let path = match self.render(i, t) {
                    Ok(p) => p,
                    Err(e) => {
                        errs.push(format!("node {name}: log path: {e}"));
                        continue;
                    }
                };
                let base = Path::new(&path)
                    .file_name()
                    .map_or("log".into(), |n| n.to_string_lossy().into_owned());
                // Two logs with one file name (a.log from two directories)
                // are both kept.
                let mut file = base.clone();
                let mut k = 1;
                while !taken.insert(file.clone()) {
                    k += 1;
                    file = format!("{base}.{k}");
                }
                let Some(target) = child(&node_dir, &file) else {
                    errs.push(format!("node {name}: log {path}: no usable file name"));
                    continue;
                };
                match r.download(&path).await {
                    Ok(bytes) => {
                        if let Err(e) = std::fs::write(&target, bytes) {
                            errs.push(format!("{}: {e}", target.display()));
                        }
                    }
                    Err(e) => errs.push(format!("log {path}: {e}")),
                }
            }
        }
        errs
    }
}

/// `dir/name` if `name` is one plain path component (not empty, `.`, `..`,
/// and without `/`), so the result stays inside `dir`.
fn child(dir: &Path, name: &str) -> Option<std::path::PathBuf> {
    let ok = !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\0']);
    ok.then(|| dir.join(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pulled_files_stay_inside_the_run_directory() {
        let d = Path::new("/store/run/nodes");
        assert_eq!(child(d, "n1"), Some(d.join("n1")));
        for bad in ["", ".", "..", "../x", "/abs", "a/b"] {
            assert_eq!(child(d, bad), None, "{bad:?}");
        }
    }
}
