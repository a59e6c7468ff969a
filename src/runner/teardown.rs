//! The teardown guard: heals every fault and tears the DB down on every exit
//! path — success, error, Ctrl-C, and a panic anywhere in the runner (as
//! mini-redis's `DbDropGuard` shuts its state down on drop). The normal
//! path calls [`Teardown::heal`] and [`Teardown::finish`]; if the guard is
//! dropped before `finish` (a panic unwinding through the runner), its
//! `Drop` runs the whole teardown on a helper thread, on the runner's
//! runtime, before the unwinding goes on.

use super::db::Db;
use crate::control::shell::RemoteShell;
use faultline_nemesis::Nemesis;
use std::sync::Arc;

/// What has to be put right.
struct Parts {
    nemesis: Option<Arc<Nemesis<RemoteShell>>>,
    db: Arc<Db>,
    leave_db_running: bool,
}

/// Heals and tears down on drop unless [`Teardown::finish`] ran.
pub struct Teardown {
    parts: Option<Parts>,
    handle: tokio::runtime::Handle,
}

impl Teardown {
    /// A guard for `db` and its nemesis; must be made inside the runtime.
    pub fn new(
        nemesis: Option<Arc<Nemesis<RemoteShell>>>,
        db: Arc<Db>,
        leave_db_running: bool,
    ) -> Teardown {
        Teardown {
            parts: Some(Parts {
                nemesis,
                db,
                leave_db_running,
            }),
            handle: tokio::runtime::Handle::current(),
        }
    }

    /// Heals the network, resumes and restarts the DB, resets clocks and
    /// removes our iptables chains; returns lines for the log.
    pub async fn heal(&self) -> Vec<String> {
        match &self.parts {
            Some(p) => heal(p).await,
            None => Vec::new(),
        }
    }

    /// Stops and wipes the DB (unless it is to be left running); disarms
    /// the guard. Returns lines for the log.
    pub async fn finish(mut self) -> Vec<String> {
        match self.parts.take() {
            Some(p) => teardown_db(&p).await,
            None => Vec::new(),
        }
    }
}

async fn heal(p: &Parts) -> Vec<String> {
    let Some(n) = &p.nemesis else {
        return Vec::new();
    };
    match n.teardown().await {
        Ok(repaired) if !repaired.is_empty() => vec![format!("healed: {}", repaired.join("; "))],
        Ok(_) => Vec::new(),
        Err(e) => vec![format!("warning: heal failed: {e}")],
    }
}

async fn teardown_db(p: &Parts) -> Vec<String> {
    if p.leave_db_running {
        return Vec::new();
    }
    match p.db.teardown().await {
        Ok(()) => Vec::new(),
        Err(errs) => vec![format!("warning: DB teardown: {}", errs.join("; "))],
    }
}

impl Drop for Teardown {
    fn drop(&mut self) {
        let Some(p) = self.parts.take() else {
            return;
        };
        crate::say!("faultline is failing: healing and tearing down before it exits");
        // This thread may be a runtime thread (it cannot block on a future
        // itself): a helper thread drives the teardown on the runtime.
        let handle = self.handle.clone();
        let done = std::thread::spawn(move || {
            handle.block_on(async {
                let mut lines = heal(&p).await;
                lines.extend(teardown_db(&p).await);
                lines
            })
        })
        .join();
        match done {
            Ok(lines) => {
                for l in lines {
                    crate::say!("{l}");
                }
                crate::say!("healed and torn down");
            }
            Err(_) => {
                crate::say!("warning: the teardown itself failed; run `faultline nemesis heal`")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::{BoxFuture, Cmd, Node, Output, Remote, RemoteError};
    use faultline_nemesis::Setup;
    use std::sync::Mutex;
    use std::time::Duration;

    /// A node that records every script and succeeds.
    struct Fake {
        node: Node,
        log: Mutex<Vec<String>>,
    }

    impl Remote for Fake {
        fn node(&self) -> &Node {
            &self.node
        }
        fn exec<'a>(&'a self, cmd: &'a Cmd) -> BoxFuture<'a, Result<Output, RemoteError>> {
            self.log
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(cmd.script());
            Box::pin(async {
                Ok(Output {
                    status: Some(0),
                    ..Default::default()
                })
            })
        }
    }

    fn parts() -> (Arc<Fake>, Option<Arc<Nemesis<RemoteShell>>>, Arc<Db>) {
        let fake = Arc::new(Fake {
            node: Node::new("n1", "10.0.0.1"),
            log: Mutex::new(Vec::new()),
        });
        let remotes: Vec<Arc<dyn Remote>> = vec![fake.clone()];
        let text = "name: t\ndb:\n  start:\n    command: sleep 1000\nclient:\n  kind: exec\n  command: x\nworkload:\n  kind: register\n";
        let plan = crate::spec::from_text(std::path::Path::new("t.yaml"), text.into(), ".".into())
            .unwrap()
            .validate()
            .unwrap();
        let db = Arc::new(Db::new(Arc::new(plan), remotes.clone(), None, false).unwrap());
        let setup = Setup {
            nodes: vec![("n1".into(), "10.0.0.1".into())],
            ..Default::default()
        };
        let shell = RemoteShell::new(remotes, Duration::from_secs(5));
        (fake, Some(Arc::new(Nemesis::new(shell, setup))), db)
    }

    fn healed_and_torn_down(fake: &Fake) {
        let log = fake.log.lock().unwrap().join("\n");
        assert!(
            log.contains("iptables -w -X FAULTLINE"),
            "chains removed:\n{log}"
        );
        assert!(log.contains("kill -TERM"), "DB stopped:\n{log}");
    }

    #[test]
    fn a_panic_in_a_runner_task_still_heals_and_tears_down() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (fake, nemesis, db) = parts();
        let _quiet = crate::exit::quiet_panics();
        let r = rt.block_on(async move {
            tokio::spawn(async move {
                let _guard = Teardown::new(nemesis, db, false);
                panic!("a runner bug");
            })
            .await
        });
        assert!(r.unwrap_err().is_panic());
        healed_and_torn_down(&fake);
    }

    #[test]
    fn a_panic_on_the_controller_thread_still_heals_and_tears_down() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (fake, nemesis, db) = parts();
        let _quiet = crate::exit::quiet_panics();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(async move {
                let _guard = Teardown::new(nemesis, db, false);
                panic!("a runner bug");
            })
        }));
        assert!(r.is_err());
        healed_and_torn_down(&fake);
    }

    #[test]
    fn the_normal_path_disarms_the_guard() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (fake, nemesis, db) = parts();
        rt.block_on(async move {
            let guard = Teardown::new(nemesis, db, true);
            guard.heal().await;
            guard.finish().await;
        });
        let log = fake.log.lock().unwrap().join("\n");
        assert!(log.contains("iptables -w -X FAULTLINE"), "{log}");
        assert!(!log.contains("kill -TERM"), "--leave-db-running: {log}");
    }
}
