//! The syslog envelope: timestamp, host, program and pid in front of the MTA's message.
//!
//! (stub: the full parser for every form of FORMATS.md §0 lands next)

use crate::event::Stamp;

/// The parts of a syslog line around the message. Every field but `message` is optional:
/// lines pasted without their prefix still reach the MTA parsers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope<'a> {
    pub stamp: Stamp,
    /// Logging host; `None` when absent or the literal `(none)`.
    pub host: Option<&'a str>,
    /// Program name from `prog[pid]:` (`sm-mta`, `postfix/smtpd`, …).
    pub program: Option<&'a str>,
    pub pid: Option<u32>,
    /// The MTA's own text, after `prog[pid]: ` and any Solaris `[ID n fac.level]` tag.
    pub message: &'a str,
}

/// Splits a line into envelope and message. Never fails: a line with no recognisable
/// prefix is all message.
pub fn parse(line: &str) -> Envelope<'_> {
    Envelope {
        stamp: Stamp::None,
        host: None,
        program: None,
        pid: None,
        message: line,
    }
}

/// Where the year of a stamp without one comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YearBase {
    /// The file's modification date: the log ends there.
    Mtime(chrono::NaiveDate),
    /// `--year`: the year of the file's first entry.
    FirstYear(i32),
}

/// The zone in which stamps without an offset are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    Local,
    Fixed(chrono::FixedOffset),
}

/// Gives year-less stamps their year, one file at a time, in order.
#[derive(Debug, Clone)]
pub struct YearResolver {
    base: YearBase,
    zone: Zone,
}

impl YearResolver {
    pub fn new(base: YearBase, zone: Zone) -> Self {
        YearResolver { base, zone }
    }

    /// (stub: the full rules land with the envelope parser)
    pub fn resolve(&mut self, stamp: Stamp) -> Stamp {
        let _ = (self.base, self.zone);
        stamp
    }
}
