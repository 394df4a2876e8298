//! One file per subcommand: thin glue from parsed arguments to the library stages.
//!
//! Every `run` returns the process exit code: 0 fine, 1 findings (policy violations,
//! failed checks, doctor problems), 2 usage or I/O error.

pub mod check;
pub mod config;
pub mod doctor;
pub mod events;
pub mod follow;
pub mod merge;
pub mod progress;
pub mod scan;

/// Exit codes shared by all commands.
pub mod exit {
    /// Everything fine.
    pub const OK: u8 = 0;
    /// The command worked and found problems (violations, failed checks).
    pub const FINDINGS: u8 = 1;
    /// Usage or I/O error: nothing useful could be done.
    pub const ERROR: u8 = 2;
}
