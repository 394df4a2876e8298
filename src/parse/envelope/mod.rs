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
use self::rfc3164::{
    TagAt, UsualTag, after_stamp, host_name, no_stamp, stamp_3164, stamp_3164_ascii, strip_solaris,
    tag_after_stamp, usual_stamp, usual_tag, usual_values,
};
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
/// envelope (no UTF-8 check of the line): what lets the pipeline pass over the lines of a
/// daemon that is no MTA ([`crate::parse::is_not_mail`]) before any search. The program
/// of [`head`].
pub fn program_of(line: &[u8]) -> Option<&[u8]> {
    head(line).map(|h| h.program(line))
}

/// The syslog head of a line in one of the common shapes, read once from its bytes (see
/// [`head`]): where its parts are, so that the pipeline reads a line's tag once to decide
/// what to do with the line and then hands what it read to the parser
/// ([`Head::envelope`]) instead of the parser reading the envelope again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    stamp: HeadStamp,
    /// Where the host, program and pid are; the pid's value is read from its bytes only
    /// when the line is parsed ([`Head::envelope`]), not for a line passed over.
    tag: TagAt,
}

/// The stamp of a [`Head`], as read (made a [`Stamp`] only for a line that is parsed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HeadStamp {
    /// The usual `Mmm dd HH:MM:SS` at the start of the line, English month: the day and
    /// the clock are read from the line when it is parsed ([`usual_values`]), not for a
    /// line that is passed over.
    Usual { month: u8 },
    /// RFC 3164 with an English month.
    NoYear {
        month: u8,
        day: u8,
        secs: u32,
        nanos: u32,
    },
    /// RFC 3339, with its offset when it has one.
    Iso(chrono::NaiveDateTime, Option<chrono::FixedOffset>),
}

/// The head of `line` (one line without its newline) when it has one of the common
/// shapes: an RFC 3164 stamp with a three-letter English month (`Nov 28 17:54:54 host
/// prog[pid]: …`) or an RFC 3339 one (`2026-11-28T17:54:54.123+00:00 host prog[pid]: …`),
/// then a syslog tag, with ASCII bytes up to the end of the tag. Any other line gives
/// `None` (the caller parses it with [`parse`]). Whenever this says `Some(h)`, [`parse`]
/// of the line (decoded as the parser decodes it) gives the envelope `h.envelope(line)`
/// gives, when that is `Some` (a test).
pub fn head(line: &[u8]) -> Option<Head> {
    let (stamp, end) = match line.first()? {
        b'0'..=b'9' => {
            let iso = iso_stamp(line)?;
            if iso.sep == b' ' {
                return None;
            }
            (HeadStamp::Iso(iso.naive, iso.offset), iso.end)
        }
        c if c.is_ascii_alphabetic() => match usual_stamp(line) {
            Some(month) => (HeadStamp::Usual { month }, 15),
            None => {
                let (month, day, secs, nanos, end) = stamp_3164_ascii(line)?;
                (
                    HeadStamp::NoYear {
                        month,
                        day,
                        secs,
                        nanos,
                    },
                    end,
                )
            }
        },
        _ => return None,
    };
    // The usual `host prog[pid]: ` in one pass (its bytes checked for ASCII as they are
    // read); any other shape by the general reading and a check of its bytes after it.
    // The stamp's bytes are ASCII whenever a stamp was read.
    match usual_tag(line, end) {
        UsualTag::Read(tag) => Some(Head { stamp, tag }),
        UsualTag::No => None,
        UsualTag::Other => {
            let tag = tag_after_stamp(line, end)?;
            if !line.get(..tag.after)?.is_ascii() {
                return None;
            }
            Some(Head { stamp, tag })
        }
    }
}

/// [`head`] as it was before its one-pass reading of the usual tag: the specification
/// the one pass is held to (a test). (The pid's value is read by [`Head::envelope`] for
/// both.)
#[cfg(test)]
fn head_two_pass(line: &[u8]) -> Option<Head> {
    let (stamp, end) = match line.first()? {
        b'0'..=b'9' => {
            let iso = iso_stamp(line)?;
            if iso.sep == b' ' {
                return None;
            }
            (HeadStamp::Iso(iso.naive, iso.offset), iso.end)
        }
        c if c.is_ascii_alphabetic() => {
            let (month, day, secs, nanos, end) = stamp_3164_ascii(line)?;
            (
                HeadStamp::NoYear {
                    month,
                    day,
                    secs,
                    nanos,
                },
                end,
            )
        }
        _ => return None,
    };
    let tag = tag_after_stamp(line, end)?;
    if !line.get(..tag.after)?.is_ascii() {
        return None;
    }
    Some(Head { stamp, tag })
}

impl Head {
    /// The program name (ASCII bytes).
    pub fn program<'a>(&self, line: &'a [u8]) -> &'a [u8] {
        line.get(self.tag.program.0..self.tag.program.1)
            .unwrap_or_default()
    }

    /// The envelope of `line` (the line this head was read from), as [`parse`] reads it;
    /// `None` when the line is not valid UTF-8 (the caller decodes it and parses it).
    /// Only the bytes from the host on are checked: the stamp before them is ASCII.
    pub fn envelope<'a>(&self, line: &'a [u8]) -> Option<Envelope<'a>> {
        let t = &self.tag;
        let from = t.host.map_or(t.program.0, |h| h.0);
        let s = simdutf8::basic::from_utf8(line.get(from..)?).ok()?;
        let part = |(a, b): (usize, usize)| s.get(a - from..b - from);
        let stamp = match self.stamp {
            HeadStamp::Usual { month } => {
                let (day, secs) = usual_values(line)?;
                Stamp::NoYear {
                    month,
                    day,
                    secs,
                    nanos: 0,
                }
            }
            HeadStamp::NoYear {
                month,
                day,
                secs,
                nanos,
            } => Stamp::NoYear {
                month,
                day,
                secs,
                nanos,
            },
            HeadStamp::Iso(naive, Some(off)) => full(naive, off),
            HeadStamp::Iso(naive, None) => Stamp::Local(naive),
        };
        Some(Envelope {
            stamp,
            host: t.host.and_then(part).and_then(host_name),
            program: Some(part(t.program)?),
            pid: t
                .pid
                .and_then(|(a, b)| line.get(a..b))
                .and_then(bytes::pid_digits),
            message: strip_solaris(s.get((t.after + 1 - from).min(s.len())..).unwrap_or("")),
        })
    }
}
