//! Maelstrom's own checkers (`maelstrom.workload.*`), for faultline's
//! Maelstrom mode: [`pn_counter`] (the g-counter and pn-counter
//! workloads) and [`echo`]. Like [`crate::jepsen`]'s, each takes a
//! [`crate::History`] of [`crate::Datum`]s and gives a
//! [`crate::jepsen::Report`]; [`crate::jepsen::check`] runs them by name
//! (`pn-counter`, `echo`). Maelstrom's `kafka` workload uses Jepsen's
//! checker, [`crate::jepsen::kafka`].

pub mod echo;
pub mod pn_counter;
