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
