//! The syslog envelope: timestamp, host, program and pid in front of the MTA's message.
//!
//! Sendmail and Postfix never stamp their own lines; whatever wrote the file did (classic
//! syslogd, rsyslog, journald, Solaris syslogd, a container runtime, a human pasting into a
//! ticket). [`parse`] recognises every prefix of FORMATS.md §0 plus Exim's own mainlog
//! stamp, by hand-written byte scanning: it runs on every line of multi-gigabyte logs, so
//! it allocates nothing and never backtracks further than one token.
//!
//! Recognised shapes (`…` is the message):
//!
//! * RFC 3164: `Dec  4 10:24:32 host prog[pid]: …`, zero-padded day (`Apr 09`), optional
//!   fraction (`journalctl -o short-precise`), month names in the English and the common
//!   glibc locales (`авг`, `Mär`, `févr.`, …), an optional `<mail.info>` before the host,
//!   a missing host (`Dec  4 10:24:32 prog[pid]: …`, the `/dev/log` form);
//! * RFC 3339 / ISO 8601 (rsyslog high precision, `journalctl -o short-iso`):
//!   `2026-11-28T17:30:07.123456+00:00 host prog[pid]: …`, `Z`, `+0300`;
//! * RFC 5424: `<34>1 2026-11-28T17:30:07.123Z host app procid msgid [sd…] …`, with `-`
//!   nil values, structured data skipped and a leading BOM dropped;
//! * a leading `<PRI>` before any of the above;
//! * no stamp: `prog[pid]: …` or `host prog[pid]: …` (strict: the pid is required, so
//!   a bare Sendmail `QID: to=…` message is not taken for a program name);
//! * Exim's mainlog: `2026-11-28 17:30:07[.mmm][ +0100] [[pid]] …` → program `exim`;
//! * anything else: all message, [`Stamp::None`].
//!
//! After `prog[pid]: ` a Solaris `[ID 702911 mail.notice] ` tag is removed from the
//! message. Host names are not validated (IPs, `(none)`, dashes all occur); `(none)`
//! becomes `None`.
//!
//! Stamps without a year (or without a zone) are completed afterwards, per file and in log
//! order, by [`YearResolver`].

mod bytes;
mod iso;
mod months;
mod rfc3164;
mod rfc5424;
#[cfg(test)]
mod tests;
mod year;

pub use year::{YearBase, YearResolver, YearState, Zone};

use self::bytes::full;
use self::iso::{exim_or_syslog, iso_stamp};
use self::rfc3164::{after_stamp, no_stamp, program_after_stamp, stamp_3164, stamp_3164_ascii_end};
use self::rfc5424::{pri, rfc5424};
use crate::model::Stamp;

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

impl<'a> Envelope<'a> {
    fn all_message(stamp: Stamp, message: &'a str) -> Self {
        Envelope {
            stamp,
            host: None,
            program: None,
            pid: None,
            message,
        }
    }
}

/// Splits a line into envelope and message. Never fails: a line with no recognisable
/// prefix is all message.
pub fn parse(line: &str) -> Envelope<'_> {
    let b = line.as_bytes();
    let mut pos = 0;
    if let Some(after) = pri(b) {
        if let Some(env) = rfc5424(line, after) {
            return env;
        }
        pos = after;
    }
    let rest = &line[pos..];
    if let Some((stamp, end)) = stamp_3164(rest) {
        return after_stamp(rest, end, stamp);
    }
    if let Some(iso) = iso_stamp(rest.as_bytes()) {
        if iso.sep == b' ' {
            return exim_or_syslog(rest, iso);
        }
        let stamp = match iso.offset {
            Some(off) => full(iso.naive, off),
            None => Stamp::Local(iso.naive),
        };
        return after_stamp(rest, iso.end, stamp);
    }
    no_stamp(rest).unwrap_or_else(|| Envelope::all_message(Stamp::None, rest))
}

/// The program name of a line's syslog tag, read from its bytes without building the
/// envelope (no stamp value, no UTF-8 check of the line): what lets the pipeline pass over
/// the lines of a daemon that is no MTA ([`crate::parse::is_not_mail`]) before any search.
///
/// Only the common shapes are read: an RFC 3164 stamp with a three-letter month (`Nov 28
/// 17:54:54 host prog[pid]: …`) and an RFC 3339 one (`2026-11-28T17:54:54.123+00:00 host
/// prog[pid]: …`), with ASCII bytes up to the end of the tag. Any other line gives `None`
/// (the caller parses it as usual), so whenever this says `Some(p)`, [`parse`] of the
/// line (decoded as the parser decodes it) names the same program (a test). `line` is one
/// line without its newline.
pub fn program_of(line: &[u8]) -> Option<&[u8]> {
    let end = match line.first()? {
        b'0'..=b'9' => {
            let iso = iso_stamp(line)?;
            if iso.sep == b' ' {
                return None;
            }
            iso.end
        }
        c if c.is_ascii_alphabetic() => stamp_3164_ascii_end(line)?,
        _ => return None,
    };
    let (start, pend, after) = program_after_stamp(line, end)?;
    if !line.get(..after)?.is_ascii() {
        return None;
    }
    line.get(start..pend)
}
