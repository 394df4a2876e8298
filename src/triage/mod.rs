//! Incident triage: one peer's or one message's story, readable by a person at 3 a.m.
//!
//! The third use of mailtls, after nightly reports and live tailing, is the incident:
//! "mail to example.org has been deferred since 10:00 — why?", "did this message travel
//! encrypted?". The commands `peer`, `message` and the terminal view of `events` answer
//! from the same records as `scan`:
//!
//! * [`scope`] narrows a read of big logs to the lines that can matter (a SIMD needle
//!   search, widened by process and queue ids so the answer does not change);
//! * [`collect`] runs the pipeline and keeps each record with the facts of its line
//!   (process id, sender, recipient, status text);
//! * [`peer`] folds one peer's story, [`trace`] follows one message across MTAs,
//!   [`sessions`] groups records into the terminal timeline;
//! * [`causes`] names the likely cause of a TLS-related deferral; [`term`] colours output
//!   and keeps escape sequences in log data away from the terminal.

pub mod causes;
pub mod collect;
pub mod peer;
pub mod scope;
pub mod sessions;
pub mod term;
pub mod trace;
