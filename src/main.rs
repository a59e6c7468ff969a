//! The `faultline` binary: parses the command line, runs a subcommand, and
//! maps the outcome to Jepsen's exit codes (0 valid, 1 invalid, 2 unknown,
//! 254 bad input, 255 internal error).

use clap::Parser;
use faultline::exit::{self, Exit};
use faultline::{cli, cmd};

fn main() {
    let args = match cli::Cli::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let code = if e.use_stderr() { exit::BAD_INPUT } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let code = match cmd::run(args) {
        Ok(code) => code,
        Err(Exit::BadInput(e)) => {
            eprintln!("error: {e:#}");
            exit::BAD_INPUT
        }
        Err(Exit::Internal(e)) => {
            eprintln!("internal error: {e:#}");
            exit::INTERNAL
        }
    };
    std::process::exit(code);
}
