//! mailtls: how safely does my mail travel, peer by peer, and what broke?
//!
//! The data flows one way: [`input`] (bytes from files, `.gz`, directories, stdin) →
//! [`parse`] (lines → [`event::Event`]s) → [`correlate`] (TLS sessions tied to the
//! messages that rode on them) → [`posture`] (per-peer, mergeable records) → [`report`].
//! [`pipeline`] wires those stages for the commands in [`commands`]; [`filter`] holds the
//! record selection every command shares.

pub mod cli;
pub mod commands;
pub mod correlate;
pub mod event;
pub mod filter;
pub mod hops;
pub mod input;
pub mod parse;
pub mod pipeline;
pub mod posture;
pub mod probe;
pub mod report;
pub mod setup;
