//! The `faultline` binary: parses the command line, runs a subcommand, and
//! maps the outcome to Jepsen's exit codes (0 valid, 1 invalid, 2 unknown,
//! 254 bad input, 255 internal error). A panic is a bug: it is printed as
//! one line and exits 255, never 101 with a backtrace.

use clap::Parser;
use faultline::exit::{self, Exit};
use faultline::{cli, cmd};
use std::panic::{catch_unwind, AssertUnwindSafe};

fn main() {
    exit::install_panic_hook();
    let args = match cli::Cli::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let code = if e.use_stderr() { exit::BAD_INPUT } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    // Nothing is used after a panic but the exit code: unwind safety holds.
    let code = match catch_unwind(AssertUnwindSafe(|| cmd::run(args))) {
        Ok(Ok(code)) => code,
        Ok(Err(Exit::BadInput(e))) => {
            faultline::say!("error: {e:#}");
            exit::BAD_INPUT
        }
        Ok(Err(Exit::Internal(e))) => {
            faultline::say!("internal error: {e:#}");
            exit::INTERNAL
        }
        Err(payload) => {
            let (msg, printed) = exit::caught_panic(&*payload);
            if !printed {
                faultline::say!("faultline: panicked: {msg}");
            }
            faultline::say!("internal error: faultline panicked (a bug; please report it)");
            exit::INTERNAL
        }
    };
    std::process::exit(code);
}
