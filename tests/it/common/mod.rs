//! Helpers shared by the test modules.

pub mod dns_server;
pub mod follow;
#[path = "../../../benches/gen/mod.rs"]
pub mod generator;
pub mod peak_rss;
pub mod setup;
pub mod smtp_server;
