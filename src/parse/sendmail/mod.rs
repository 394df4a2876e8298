//! Sendmail's TLS-relevant log lines (FORMATS.md §1), read from the message text that
//! follows `sm-mta[pid]: `.
//!
//! Sendmail writes every STARTTLS line with no queue id (`NOQID`), per-message lines as
//! `QID: from=…` / `QID: to=…`, and splits over-long lines into pieces prefixed `[N]: ` or
//! `QID[N]: `. The parser first peels those prefixes, then dispatches on the first bytes
//! of what is left, so the great majority of a mail log (milter chatter, `AUTH=`,
//! `alias database rebuilt`, …) is rejected after a few byte compares
//! and without allocating.
//!
//! Values are kept exactly as logged. Sendmail's `str2prt()` turns `\` into `\\`, control
//! characters into `\t`/`\n`/`\r` and other non-printables into `\ooo`; nothing here
//! unescapes, so a value containing such sequences is passed through unchanged (and never
//! mistaken for a field separator, which is always `, key=`).
//!
//! Which lines are events and which are [`Parsed::Irrelevant`] is decided from sendmail's
//! source (`tls.c`, `deliver.c`, `srvrsmtp.c`, `sfsasl.c`, `readcf.c`, 8.12 → 8.18):
//! anything logged on *failure* is a [`TlsError`](crate::model::TlsError); lines that
//! sendmail only writes at high `LogLevel` as traces of normal operation are irrelevant
//! (see `trace_or_error`).

mod fields;
mod message;
mod relay;
#[cfg(test)]
mod tests;
mod tls;

pub use relay::parse_relay;

use memchr::memmem;
use std::sync::LazyLock;

use self::fields::{field, split_qid, strip_piece, strip_solaris_tag};
use self::message::{delivery, did_not_issue, lost_input, policy, reception, timeout_end};
use self::tls::{features, starttls, tempfail_peer, tls_error};
use super::{Detail, Parsed};
use crate::model::{Direction, EventKind, TlsErrorKind};

/// Reads one Sendmail message text (the part after `sm-mta[pid]: `).
pub fn parse(msg: &str) -> Parsed {
    parse_with(msg, Detail::Full)
}

/// [`parse`] building only the `detail` asked for (see [`Detail`]).
pub fn parse_with(msg: &str, detail: Detail) -> Parsed {
    // Real Sendmail logs carry trailing blanks after the last field (`bits=256/256 `);
    // no field value ends in a meaningful blank.
    let msg = msg.trim_end();
    let msg = strip_solaris_tag(msg);
    let (piece, body) = strip_piece(msg);
    let (qid, body) = split_qid(body);
    // A split line's pieces end with " ..." (conf.c); the marker is not part of the text.
    let body = if piece || qid.is_some_and(|q| q.ends_with(']')) {
        body.strip_suffix(" ...").unwrap_or(body)
    } else {
        body
    };
    // The id without its piece number (`JAA12345[2]` → `JAA12345`); a byte loop over the
    // few bytes of an id, not a `char` searcher.
    let qid = qid.map(|q| {
        q.as_bytes()
            .iter()
            .position(|&c| c == b'[')
            .and_then(|i| q.get(..i))
            .unwrap_or(q)
    });
    let Some(&first) = body.as_bytes().first() else {
        return Parsed::Irrelevant;
    };
    match first {
        b'S' => {
            if let Some(rest) = body.strip_prefix("STARTTLS") {
                return starttls(body, rest);
            }
            if body.starts_with("SMTP STARTTLS command (") {
                return tls_error(
                    Some(Direction::Inbound),
                    tempfail_peer(body),
                    TlsErrorKind::Other,
                    body,
                );
            }
            if let Some(v) = body.strip_prefix("SSL_CTX_dane_enable=") {
                return if v.trim().parse::<i64>().is_ok_and(|r| r <= 0) {
                    tls_error(Some(Direction::Outbound), None, TlsErrorKind::Dane, body)
                } else {
                    Parsed::Irrelevant
                };
            }
        }
        b'f' if body.starts_with("from=") => return reception(qid, body, detail),
        b't' => {
            if body.starts_with("to=") {
                return delivery(qid, body, detail);
            }
            if let Some(rest) = body.strip_prefix("tls_srv_features=") {
                return features(Direction::Inbound, body, rest);
            }
            if let Some(rest) = body.strip_prefix("tls_clt_features=") {
                return features(Direction::Outbound, body, rest);
            }
            if let Some(rest) = body.strip_prefix("timeout waiting for input from ") {
                return timeout_end(rest);
            }
        }
        b'r' => {
            if let Some(rest) = body.strip_prefix("ruleset=") {
                return policy(rest);
            }
            if let Some(rest) = body.strip_prefix("rscheck(tls_") {
                let dir = if rest.starts_with("srv") {
                    Some(Direction::Inbound)
                } else if rest.starts_with("clt") {
                    Some(Direction::Outbound)
                } else {
                    None
                };
                let peer = field(body, "relay").map(parse_relay);
                return tls_error(dir, peer, TlsErrorKind::CipherConfig, body);
            }
        }
        b'T' if body.starts_with("TLSA=") => {
            return tls_error(Some(Direction::Outbound), None, TlsErrorKind::Dane, body);
        }
        b'l' => {
            if let Some(rest) = body.strip_prefix("lost input channel from ") {
                return lost_input(rest);
            }
        }
        b's' if body.starts_with("smtps: TLS not available") => {
            return tls_error(Some(Direction::Inbound), None, TlsErrorKind::Init, body);
        }
        b's' if qid.is_none() => {
            if let Some(rest) = body.strip_prefix("starting daemon (") {
                // `starting daemon (8.17.1.9): SMTP+queueing@00:10:00` (daemon.c).
                let version = rest.split_once(')').map(|(v, _)| v.to_owned());
                return Parsed::Event(EventKind::DaemonStart { version });
            }
        }
        b'e' if body.starts_with("engine=") && body.ends_with(", init=failed") => {
            return tls_error(None, None, TlsErrorKind::Init, body);
        }
        _ => {}
    }
    static DID_NOT_ISSUE: LazyLock<memmem::Finder<'static>> =
        LazyLock::new(|| memmem::Finder::new(" did not issue MAIL/EXPN/VRFY/ETRN"));
    if let Some(at) = DID_NOT_ISSUE.find(body.as_bytes()) {
        return did_not_issue(body, at);
    }
    Parsed::Irrelevant
}
