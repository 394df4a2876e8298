//! mailtls: how safely does my mail travel, peer by peer, and what broke?
//!
//! The data flows one way, and each stage is a folder that imports only the ones before it
//! (a test, `tests/it/layout.rs`, reads the `use crate::` lines and keeps it so):
//!
//! ```text
//! model                      the vocabulary: events, records, a run's summary, wording
//!   ├─ parse                 one line → one event (imports only model)
//!   ├─ input                 bytes: files, .gz, directories, stdin, journald, following
//!   ├─ correlate             events → records (TLS sessions tied to their messages)
//!   ├─ analysis              records → posture, timeline, downgrade windows, policy
//!   ├─ stores                mbox / Maildir / .eml → Received: hops → posture
//!   ├─ tlsrpt                RFC 8460 reports, joined with what the logs say
//!   ├─ pipeline              input → parse → correlate for whole runs, on all cores
//!   ├─ report                posture → table, JSON, CSV, Markdown, HTML, charts
//!   ├─ live                  `follow`: the same stages line by line, alerts, metrics
//!   ├─ triage                one peer's or one message's story
//!   ├─ probe, domain         `check`: a server's and a domain's STARTTLS
//!   ├─ setup                 keys, certificates, MTA configuration, `doctor`
//!   └─ commands              the command line: each subcommand wires the stages above
//! ```
//!
//! A stage may import any stage listed above it and none below: `parse` imports only
//! [`model`], [`report`] never reaches back into [`input`], [`parse`], [`pipeline`],
//! [`live`], [`triage`] or [`commands`].

// No `unsafe` in the library, and no `allow` can bring it back; Cargo.toml's [lints] table
// denies it for the other targets and holds the crate's other lints.
pub mod model;

pub mod parse;

pub mod input;

pub mod correlate;

pub mod analysis;

pub mod stores;

pub mod tlsrpt;

pub mod pipeline;

pub mod report;

pub mod live;

pub mod triage;

pub mod probe;

pub mod domain;

pub mod setup;

pub mod commands;
