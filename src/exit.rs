//! Exit codes, the error type that carries one, and what becomes of a panic.
//!
//! A panic is a bug in faultline, never the user's fault: [`install_panic_hook`]
//! prints it as one line (no backtrace), a command that can go on without the
//! panicking part catches it ([`caught_panic`] says what it was; `check` turns
//! it into an `unknown` verdict), and `main` maps anything that still escapes to
//! [`INTERNAL`].

use std::any::Any;
use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};

/// `eprintln!` that never panics: a closed or full stderr (a pipe whose
/// reader went away) must not turn a message into a panic mid-test, with
/// nodes still faulted.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// Bad arguments or bad input (Jepsen's convention).
pub const BAD_INPUT: i32 = 254;
/// A bug or an environment failure in faultline itself.
pub const INTERNAL: i32 = 255;

/// A failed command: whose fault it was decides the exit code.
#[derive(Debug)]
pub enum Exit {
    /// The user's input is wrong: exit 254.
    BadInput(anyhow::Error),
    /// Something broke inside faultline: exit 255.
    Internal(anyhow::Error),
}

/// Shorthand for a bad-input error with a message.
pub fn bad_input(msg: impl std::fmt::Display) -> Exit {
    Exit::BadInput(anyhow::anyhow!("{msg}"))
}

/// While set, the hook records panics without printing them: the code that
/// catches them reports them (see [`QuietPanics`]).
static QUIET: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// The last panic on this thread: its message with location, and
    /// whether the hook printed it.
    static LAST_PANIC: RefCell<Option<(String, bool)>> = const { RefCell::new(None) };
}

/// Replaces the default panic hook (message plus backtrace) with one that
/// prints a single line, `faultline: panicked: MESSAGE at FILE:LINE`, and
/// remembers it for [`caught_panic`].
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map_or(String::new(), |l| format!(" at {}:{}", l.file(), l.line()));
        let text = format!("{}{at}", payload_message(info.payload()));
        let print = !QUIET.load(Ordering::Relaxed);
        if print {
            crate::say!("faultline: panicked: {text}");
        }
        LAST_PANIC.with(|l| *l.borrow_mut() = Some((text, print)));
    }));
}

/// Keeps panics quiet while it lives (they are caught and reported by
/// whoever holds it); restores the previous setting when dropped.
pub struct QuietPanics(bool);

/// Starts a [`QuietPanics`] section.
pub fn quiet_panics() -> QuietPanics {
    QuietPanics(QUIET.swap(true, Ordering::Relaxed))
}

impl Drop for QuietPanics {
    fn drop(&mut self) {
        QUIET.store(self.0, Ordering::Relaxed);
    }
}

/// What a caught panic said, with its location when the hook saw it on
/// this thread, and whether the hook already printed it.
pub fn caught_panic(payload: &(dyn Any + Send)) -> (String, bool) {
    let msg = payload_message(payload);
    match LAST_PANIC.with(|l| l.borrow_mut().take()) {
        // The hook ran on this thread for this very panic.
        Some((text, printed)) if text.starts_with(&msg) => (text, printed),
        _ => (msg, false),
    }
}

/// The message of a panic payload (`panic!` gives a `&str` or a `String`).
pub fn payload_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}
