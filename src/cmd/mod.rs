//! Subcommand dispatch.

mod check;
mod cluster;
mod disk;
mod dry_run;
mod maelstrom;
mod nemesis;
mod remotes;
mod report;
mod serve;
mod test;

use crate::cli::{Cli, Command};
use crate::exit::Exit;

/// Runs the parsed command; returns the process exit code.
pub fn run(cli: Cli) -> Result<i32, Exit> {
    match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Test(args) => test::run(&args),
        Command::Cluster(c) => cluster::run(c),
        Command::Nemesis(c) => nemesis::run(c),
        Command::Report(args) => report::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Disk(c) => disk::run(c),
        Command::Maelstrom(c) => maelstrom::run(c),
    }
}
