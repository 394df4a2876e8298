//! Rendering only: a report never parses and never decides; it shows a [`Snapshot`].

pub mod events;
pub mod json;
pub mod messages;
pub mod table;

pub use json::{POSTURE_SCHEMA, Snapshot};

/// True when stdout is a terminal and `NO_COLOR` is unset: the only case where we colour.
pub fn use_colour() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}
