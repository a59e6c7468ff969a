//! The one seam between the fault model and the machines: run a shell
//! script on a node. The controller implements it over SSH; tests use
//! [`RecordingShell`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A script failed on a node (or the node could not be reached).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShellError {
    /// Node name.
    pub node: String,
    /// The script.
    pub script: String,
    /// What went wrong: exit status and stderr, or the connection error.
    pub detail: String,
}

impl ShellError {
    /// An error for `script` on `node`.
    pub fn from_parts(node: &str, script: &str, detail: &str) -> ShellError {
        ShellError {
            node: node.into(),
            script: script.into(),
            detail: detail.into(),
        }
    }
}

impl fmt::Display for ShellError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "node {}: `{}` failed: {}",
            self.node, self.script, self.detail
        )
    }
}

impl std::error::Error for ShellError {}

/// Runs shell scripts on nodes.
pub trait Shell: Send + Sync {
    /// Runs `script` with `sh -c` on `node` as root; returns its stdout.
    /// A non-zero exit is an error carrying stderr.
    fn run<'a>(
        &'a self,
        node: &'a str,
        script: &'a str,
    ) -> BoxFuture<'a, Result<String, ShellError>>;

    /// Runs one script per node, all at once; results in input order.
    /// The default runs them one after another.
    fn run_each<'a>(
        &'a self,
        scripts: Vec<(String, String)>,
    ) -> BoxFuture<'a, Vec<Result<String, ShellError>>> {
        Box::pin(async move {
            let mut out = Vec::with_capacity(scripts.len());
            for (node, script) in &scripts {
                out.push(self.run(node, script).await);
            }
            out
        })
    }
}

/// Quotes `s` for a POSIX shell (single quotes; bare when obviously safe).
/// Every value pasted into a script (addresses, paths) goes through it.
pub fn quote(s: &str) -> String {
    let safe = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@,+%".contains(&b));
    if safe {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// A canned reply: (node or `*`, text the script contains, reply).
type Answer = (String, String, Result<String, String>);

/// A fake shell for tests: records every script and answers with canned
/// output (empty by default).
#[derive(Default)]
pub struct RecordingShell {
    log: Mutex<Vec<(String, String)>>,
    answers: Mutex<Vec<Answer>>,
}

impl RecordingShell {
    /// A shell that records and answers "" to everything.
    pub fn new() -> Self {
        Self::default()
    }

    /// Answers `reply` to scripts on `node` (`*`: any) containing `needle`.
    pub fn answer(&self, node: &str, needle: &str, reply: Result<&str, &str>) {
        let reply = reply.map(String::from).map_err(String::from);
        self.answers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((node.into(), needle.into(), reply));
    }

    /// Every (node, script) run so far.
    pub fn log(&self) -> Vec<(String, String)> {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Scripts run on `node`, joined by newlines.
    pub fn scripts_on(&self, node: &str) -> String {
        self.log()
            .into_iter()
            .filter(|(n, _)| n == node)
            .map(|(_, s)| s)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Shell for RecordingShell {
    fn run<'a>(
        &'a self,
        node: &'a str,
        script: &'a str,
    ) -> BoxFuture<'a, Result<String, ShellError>> {
        self.log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((node.into(), script.into()));
        let answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        let reply = answers
            .iter()
            .rev()
            .find(|(n, needle, _)| (n == "*" || n == node) && script.contains(needle.as_str()))
            .map(|(_, _, r)| r.clone())
            .unwrap_or(Ok(String::new()));
        let res = reply.map_err(|detail| ShellError {
            node: node.into(),
            script: script.into(),
            detail,
        });
        Box::pin(async move { res })
    }
}

/// Polls a future that never waits (such as [`RecordingShell`]'s) to
/// completion, for synchronous tests.
pub fn block_on_ready<F: Future>(f: F) -> F::Output {
    use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};
    fn raw() -> RawWaker {
        fn clone(_: *const ()) -> RawWaker {
            raw()
        }
        fn noop(_: *const ()) {}
        static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, noop, noop, noop);
        RawWaker::new(std::ptr::null(), &VTABLE)
    }
    // SAFETY: the vtable's functions do nothing and never touch the data pointer.
    let waker = unsafe { Waker::from_raw(raw()) };
    let mut cx = Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::yield_now();
    }
}
