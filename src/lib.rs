//! mailtls: how safely does my mail travel, peer by peer, and what broke?
//!
//! The data flows one way: [`input`] (bytes from files, `.gz`, directories, stdin) →
//! [`parse`] (lines → [`event::Event`]s) → [`correlate`] (TLS sessions tied to the
//! messages that rode on them) → [`posture`] (per-peer, mergeable records) → [`report`].
//! [`pipeline`] wires those stages for the commands in [`commands`].

pub mod cli;
pub mod commands;
pub mod event;
pub mod parse;
pub mod setup;
