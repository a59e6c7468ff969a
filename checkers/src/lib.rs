//! faultline's history model and consistency checkers.
//!
//! This crate reads histories (what a test's clients and nemesis did) and
//! decides whether they are consistent. It is pure and synchronous: no
//! network, no async runtime, no I/O beyond reading the files handed to it.
//!
//! # Layout
//!
//! - [`Op`] and [`History`]: one event, and a test's events with
//!   invocations paired to completions ([`History::pairs`]). Values are
//!   JSON ([`serde_json::Value`]) or, for Jepsen's checkers on large
//!   histories, the compact [`Datum`].
//! - [`format`](mod@format): readers for JSON Lines, Jepsen `history.edn` and Jepsen text
//!   logs, and a JSONL writer that flushes every line.
//! - [`model`]: sequential specifications ([`model::Model`]): registers,
//!   key-value, set, FIFO queue.
//! - [`linear`]: the linearizability checker, returning an
//!   [`linear::Analysis`] with a three-valued [`Validity`] and, when asked,
//!   the order that proves a valid verdict ([`linear::Witness`]).
//! - [`elle`]: Elle's transactional checkers (list-append, rw-register).
//! - [`jepsen`]: Jepsen's set, set-full, counter, bank, long-fork,
//!   unique-ids, total-queue, stats and kafka checkers.
//! - [`maelstrom`]: Maelstrom's pn-counter (and g-counter) and echo checkers.
//! - `brute` and `synth` (with the `testing` feature): a brute-force reference checker and a seeded
//!   generator of random histories, for tests and benchmarks.
//!
//! ```
//! use faultline_checkers::{format, linear, model::{CasRegister, Scalar}, Validity};
//! use std::path::Path;
//! let text = "INFO  jepsen.util - 0\t:invoke\t:write\t1\n\
//!             INFO  jepsen.util - 0\t:ok\t:write\t1\n\
//!             INFO  jepsen.util - 1\t:invoke\t:read\tnil\n\
//!             INFO  jepsen.util - 1\t:ok\t:read\t1\n";
//! let h = format::read_str(format::Format::JepsenLog, Path::new("x.log"), text).unwrap();
//! let a = linear::check(&CasRegister::new(Scalar::Null), &h, &Default::default()).unwrap();
//! assert_eq!(a.valid, Validity::Valid);
//! ```

#![deny(missing_docs)]

#[cfg(feature = "testing")]
pub mod brute;
pub mod datum;
pub mod elle;
pub mod error;
pub mod format;
pub mod history;
pub mod jepsen;
pub mod linear;
pub mod maelstrom;
pub mod model;
pub mod op;
#[cfg(feature = "testing")]
pub mod synth;
pub mod verdict;

pub use datum::Datum;
pub use error::{CheckError, HistoryError, ModelError, ReadError};
pub use history::{History, Pair, Paired, Pairing};
pub use op::{Op, OpType, OpValue, Process};
pub use verdict::Validity;
