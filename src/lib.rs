//! faultline, the controller: command line, control layer (reaching nodes),
//! the local namespace cluster, and (growing) the test runner. The checkers
//! live in the `faultline-checkers` crate and the fault model in
//! `faultline-nemesis`; this crate wires them to real nodes.
//!
//! # Layout
//!
//! - [`cli`]: arguments, parsed and validated without I/O.
//! - [`cmd`]: one module per subcommand.
//! - [`control`]: run commands and move files on nodes (SSH, docker).
//! - [`cluster`]: the local test cluster made of Linux namespaces.
//! - [`spec`]: the YAML test spec, validated into a plan.
//! - [`client`]: how workers talk to the system under test, one file per
//!   kind of client.
//! - [`runner`]: `faultline test`: DB lifecycle, generator, nemesis,
//!   history, checking.
//! - [`report`]: terminal tables, report.html, junit.xml, `serve`.
//! - [`exit`]: exit codes.

pub mod cli;
pub mod client;
pub mod cluster;
pub mod cmd;
pub mod control;
pub mod exit;
pub mod maelstrom;
pub mod report;
pub mod runner;
pub mod spec;
