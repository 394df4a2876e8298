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

/// The selection flags `scan` and `events` share, as parsed by clap.
pub(crate) struct FilterFlags<'a> {
    pub peer: &'a Option<String>,
    pub direction: Option<scan::DirArg>,
    pub loopback: bool,
    pub since: &'a Option<String>,
    pub until: &'a Option<String>,
}

/// Builds the shared [`crate::filter::RecordFilter`] from those flags, so both commands
/// select the same records; a bad time is reported naming the command and flag, and gives
/// the usage exit code.
pub(crate) fn record_filter(
    cmd: &str,
    flags: FilterFlags<'_>,
    zone: Option<chrono::FixedOffset>,
) -> Result<crate::filter::RecordFilter, u8> {
    use crate::event::Direction;
    let mut filter = crate::filter::RecordFilter {
        peer: flags.peer.clone(),
        direction: flags.direction.map(|d| match d {
            scan::DirArg::In => Direction::Inbound,
            scan::DirArg::Out => Direction::Outbound,
        }),
        loopback: flags.loopback,
        ..crate::filter::RecordFilter::default()
    };
    for (flag, value, slot) in [
        ("--since", flags.since, &mut filter.since),
        ("--until", flags.until, &mut filter.until),
    ] {
        if let Some(v) = value {
            match crate::filter::parse_time(v, zone) {
                Ok(t) => *slot = Some(t),
                Err(e) => {
                    eprintln!("mailtls {cmd}: {flag}: {e}");
                    return Err(exit::ERROR);
                }
            }
        }
    }
    Ok(filter)
}
