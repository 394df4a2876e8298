//! mailtls: how safely does my mail travel, peer by peer, and what broke?
//!
//! The data flows one way: [`input`] (bytes from files, `.gz`, directories, stdin) →
//! [`parse`] (lines → [`event::Event`]s) → [`correlate`] (TLS sessions tied to the
//! messages that rode on them) → [`posture`] (per-peer, mergeable records) → [`report`].
//! [`pipeline`] wires those stages for the commands in [`commands`]; [`filter`] holds the
//! record selection every command shares; [`live`] runs the stages line by line for
//! `follow`, and [`metrics`] counts what it sees for Prometheus.

pub mod cli;
pub mod commands;
pub mod compare;
pub mod correlate;
pub mod domain;
pub mod downgrade;
pub mod event;
pub mod filter;
pub mod hops;
pub mod input;
pub mod live;
pub mod metrics;
pub mod parse;
pub mod pipeline;
pub mod policy;
pub mod posture;
pub mod probe;
pub mod report;
pub mod setup;
pub mod timeline;
pub mod tlsrpt;
