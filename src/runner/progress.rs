//! The live progress view: elapsed/limit, ops, ok/fail/info, current fault.
//! A spinner line on a terminal (indicatif); plain lines every 5 s when
//! stderr is not a terminal.

use super::Shared;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A running progress view; [`Progress::finish`] stops it.
pub struct Progress {
    task: tokio::task::JoinHandle<()>,
    bar: Option<ProgressBar>,
}

impl Progress {
    /// Stops the view.
    pub fn finish(self) {
        self.task.abort();
        if let Some(b) = self.bar {
            b.finish_and_clear();
        }
    }
}

fn line(s: &Shared) -> String {
    let (ok, fail, info) = s.recorder.totals();
    let elapsed = s.recorder.started().elapsed().as_secs_f64();
    let fault = s.fault.lock().map(|f| f.clone()).unwrap_or_default();
    format!(
        "{elapsed:.0}/{:.0} s  ops {}  ok {ok}  fail {fail}  info {info}  fault: {}",
        s.plan.time_limit.as_secs_f64(),
        ok + fail + info,
        fault.as_deref().unwrap_or("none")
    )
}

/// Starts the view for a run.
pub fn start(shared: Arc<Shared>) -> Progress {
    let tty = std::io::stderr().is_terminal();
    let bar = tty.then(|| {
        let b = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        b.set_style(
            ProgressStyle::with_template("{spinner} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        b
    });
    let b2 = bar.clone();
    let task = tokio::spawn(async move {
        let mut last_plain = Instant::now();
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            match &b2 {
                Some(b) => {
                    b.set_message(line(&shared));
                    b.tick();
                }
                None if last_plain.elapsed() >= Duration::from_secs(5) => {
                    crate::say!("{}", line(&shared));
                    last_plain = Instant::now();
                }
                None => {}
            }
        }
    });
    Progress { task, bar }
}
