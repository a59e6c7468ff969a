//! faultline's fault model: what to break, how, and how to heal it.
//!
//! Pure where it can be: grudges ([`grudge`]), faults ([`fault`]) and
//! schedules ([`schedule`]) are data computed from the node list and a
//! seed; the scripts that apply them ([`net`], [`process`], [`clock`],
//! [`disk`]) are
//! rendered strings. Only [`Nemesis`] acts, through the one-method
//! [`Shell`] seam that the controller implements over SSH and tests replace
//! with [`shell::RecordingShell`].
//!
//! Safety rules this crate keeps: iptables only in faultline's own chains,
//! jumped to from INPUT, never flushing anything else; processes only
//! through the DB's pidfile; clocks of local nodes only through
//! libfaketime offset files; every fault has a heal, and
//! [`Nemesis::heal_all`] repairs whatever state a crashed run left.
//!
//! ```
//! use fastrand::Rng;
//! use faultline_nemesis::grudge;
//! let nodes: Vec<String> = (1..=5).map(|i| format!("n{i}")).collect();
//! let g = grudge::majorities_ring(&nodes, &mut Rng::with_seed(42));
//! assert!(g.values().all(|dropped| dropped.len() == 2));
//! ```

#![deny(missing_docs)]

pub mod clock;
pub mod disk;
pub mod fault;
pub mod grudge;
mod nemesis;
pub mod net;
pub mod process;
pub mod schedule;
pub mod shell;

pub use disk::DiskSpec;
pub use fault::{Fault, FaultKind, GrudgeSpec, Target};
pub use nemesis::{Nemesis, NemesisError, Setup};
pub use schedule::{Schedule, ScheduleSpec};
pub use shell::{BoxFuture, Shell, ShellError};
