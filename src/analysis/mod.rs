//! What the records mean, folded: per-peer [`posture`] (a mergeable monoid, folded per
//! record through the interned [`posture_fold`]), the
//! [`timeline`] of a run, [`downgrade`] windows (one state machine for `scan`, `peer` and
//! `follow`), our hosts that did no TLS at all in a role ([`host_tls`]), the compliance [`policy`] with its grades and advice, the [`compare`]ison
//! with an earlier snapshot, the record [`filter`] every command shares, and the nightly
//! [`history`] of a folder of snapshots.
//!
//! Imports only [`crate::model`] and [`crate::correlate`]'s records.

pub mod compare;
pub mod downgrade;
pub mod filter;
pub mod history;
pub mod host_tls;
pub mod policy;
pub mod posture;
pub mod posture_fold;
pub mod timeline;
