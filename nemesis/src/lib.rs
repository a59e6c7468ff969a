//! faultline's fault model: grudges, partitions, process and clock faults,
//! and schedules, written against a small shell trait that the controller
//! implements. (Grows with the nemesis issue; empty for now.)

#![deny(missing_docs)]
