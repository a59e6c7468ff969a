//! The history as it is recorded: every op is appended to
//! `history.jsonl` and flushed before the next one, so a killed controller
//! leaves an analyzable file; a copy stays in memory for the checkers, and
//! counters feed the progress view.

use faultline_checkers::format::jsonl::HistoryWriter;
use faultline_checkers::{Op, OpType, Process};
use std::fs::File;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

struct Inner {
    writer: HistoryWriter<File>,
    ops: Vec<Op>,
    error: Option<String>,
}

/// Records ops in completion order.
pub struct Recorder {
    inner: Mutex<Inner>,
    start: Instant,
    /// ok, fail, info completions of client ops.
    pub counts: [AtomicU64; 3],
}

impl Recorder {
    /// A recorder writing to `path`.
    pub fn create(path: &Path) -> std::io::Result<Recorder> {
        let file = File::create(path)?;
        Ok(Recorder {
            inner: Mutex::new(Inner {
                writer: HistoryWriter::new(file),
                ops: Vec::new(),
                error: None,
            }),
            start: Instant::now(),
            counts: Default::default(),
        })
    }

    /// Nanoseconds since the test started.
    pub fn now(&self) -> i64 {
        self.start.elapsed().as_nanos() as i64
    }

    /// When the test started.
    pub fn started(&self) -> Instant {
        self.start
    }

    /// Appends one op (index and time assigned here) and flushes it.
    pub fn record(&self, mut op: Op) {
        let (process, kind) = (op.process, op.kind);
        if process != Process::Nemesis {
            match kind {
                OpType::Ok => self.counts[0].fetch_add(1, Ordering::Relaxed),
                OpType::Fail => self.counts[1].fetch_add(1, Ordering::Relaxed),
                OpType::Info => self.counts[2].fetch_add(1, Ordering::Relaxed),
                OpType::Invoke => 0,
            };
        }
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        op.time = self.now();
        op.index = inner.ops.len() as u64;
        if let Err(e) = inner.writer.write(&op) {
            inner.error.get_or_insert_with(|| e.to_string());
        }
        inner.ops.push(op);
    }

    /// All ops so far, and the first write error if any.
    pub fn finish(&self) -> (Vec<Op>, Option<String>) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        (std::mem::take(&mut inner.ops), inner.error.take())
    }

    /// (ok, fail, info) so far.
    pub fn totals(&self) -> (u64, u64, u64) {
        let c = |i: usize| self.counts[i].load(Ordering::Relaxed);
        (c(0), c(1), c(2))
    }
}
