//! Subcommand dispatch.

mod check;
mod cluster;
mod nemesis;
mod remotes;

use crate::cli::{Cli, Command};
use crate::exit::Exit;

/// Runs the parsed command; returns the process exit code.
pub fn run(cli: Cli) -> Result<i32, Exit> {
    match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Cluster(c) => cluster::run(c),
        Command::Nemesis(c) => nemesis::run(c),
    }
}
