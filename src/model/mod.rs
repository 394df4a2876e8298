//! The vocabulary every stage speaks: what a log line said ([`event`]), what the
//! correlator concluded ([`record`]), counts by typed key ([`hist`]), what a run read ([`summary`]) and how any of it is
//! worded for a person ([`text`]: plurals, plain errors, the one terminal escaper), and times
//! as JSON writes them ([`time_json`]).
//!
//! Imports nothing else of the crate: it is the bottom of the layout.

pub mod event;
pub mod hist;
pub mod record;
pub mod summary;
pub mod text;
pub mod time_json;

pub use event::*;
pub use hist::{Hist, Word};
pub use record::{Encryption, Meta, Record};
pub use summary::{Summary, max_time, min_time};
