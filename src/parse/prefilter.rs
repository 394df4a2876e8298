//! The cheap first test of a line: does it contain anything a parser could turn into an
//! event (or report as malformed)? Most lines of a mail log do not, and those never reach
//! the envelope parser, never get decoded as UTF-8 and never allocate.
//!
//! The test is one multi-needle search ([`aho_corasick`], SIMD "Teddy" for this small set),
//! run over a whole block at once by [`next_candidate`], so irrelevant lines are not even
//! split one by one (and a line whose syslog tag names an MTA, [`mta_tag`], is handed to the
//! parser without a search at all). The needles are derived from what the parsers accept —
//! every path of [`super::sendmail::parse`], the Postfix and Exim parsers and the journald
//! reader that returns an event or `Malformed` needs one of them in the line:
//!
//! | needle | parser paths it covers |
//! |---|---|
//! | `TLS` | every `STARTTLS…` line, `TLSA=`, Postfix `TLS connection …`, `TLS library problem`, `abort: TLS`, `Refusing STARTTLS`, `TLS SNI`, Exim `TLS error …`, `TLS session:`, `smtps: TLS not available`, `SMTP STARTTLS command` |
//! | `SSL` | `SSL_CTX_dane_enable=`, `SSL_accept error`, `SSL_connect error`, Exim `SSL verify error`, `SSL channel closed` |
//! | `from=`, `to=`, `client=` | Sendmail and Postfix message lines (`QID: from=…`, `to=…`, `client=…`) |
//! | `connect from` | Postfix `connect from` / `disconnect from` |
//! | `ruleset=`, `rscheck(`, `features=` | Sendmail `ruleset=tls_*` (name compared case-insensitively after this exact prefix), `ruleset=check_mail` refusals by `TLS_Clt`, `rscheck(tls_…`, `tls_srv_features=` / `tls_clt_features=` |
//! | `did not issue`, `lost input channel`, `timeout`, `init=failed` | Sendmail session ends, `timeout waiting for input`, `engine=…, init=failed` |
//! | `lost connection`, `too many errors`, `improper command pipelining` | Postfix `… after CMD from PEER` (and `timeout` above) |
//! | `certificate verification`, `Certification Authority`, `certification authority` | Postfix `certificate verification failed for …`, `cannot load Certification Authority data` |
//! | `warning: `, `fatal: `, `error: `, `panic: ` | Postfix's TLS warnings (matched case-insensitively by the parser, but always behind one of these exact severity prefixes) |
//! | ` <=`, ` =>`, ` ->`, ` *>`, ` **`, ` ==` | Exim message lines (the mark follows the message id and a space) |
//! | `no MAIL in` | Exim `no MAIL in SMTP connection from …` |
//! | `could not stat '` | Exim `could not stat '…' (tls_verify_certificates): …` |
//! | `starting daemon (`, `daemon started` | daemon start lines: Sendmail `starting daemon (8.17.1.9): …`, Postfix master `daemon started -- version …`, Exim `exim 4.96 daemon started: pid=…` |
//! | `{` at the start of a line (`\n{`, searched apart) | `journalctl -o json` entries, whose `MESSAGE` may be a byte array that shows no needle |
//!
//! The needles are exact-case: the parsers compare case-insensitively only *after* an
//! exact-case anchor that the MTA always writes. That the prefilter never drops a line a
//! parser recognises is a test, not a hope: every table row of every parser, every line of
//! `sample-logs/`, the generated logs and random lines built from the parsers' own prefixes
//! are checked against it (`tests` below and the parsers' `check` helpers).

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, Input, MatchKind};

/// Every needle, exact case (see the module table).
pub const NEEDLES: &[&str] = &[
    "TLS",
    "SSL",
    "from=",
    "to=",
    "client=",
    "connect from",
    "ruleset=",
    "rscheck(",
    "features=",
    "did not issue",
    "lost input channel",
    "timeout",
    "init=failed",
    "lost connection",
    "too many errors",
    "improper command pipelining",
    "certificate verification",
    "Certification Authority",
    "certification authority",
    "warning: ",
    "fatal: ",
    "error: ",
    "panic: ",
    " <=",
    " =>",
    " ->",
    " *>",
    " **",
    " ==",
    "no MAIL in",
    "could not stat '",
    "starting daemon (",
    "daemon started",
];

/// A journald JSON entry on any line but the first of a block. Searched apart from
/// [`NEEDLES`]: a two-byte needle there would make the SIMD search verify far more false
/// candidates (it picks its fingerprint length from the shortest needle).
static JSON_LINE: LazyLock<memchr::memmem::Finder<'static>> =
    LazyLock::new(|| memchr::memmem::Finder::new(b"\n{"));

static SEARCHER: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasickBuilder::new()
        .match_kind(MatchKind::LeftmostFirst)
        .build(NEEDLES)
        .unwrap_or_else(|e| unreachable!("the needle set is valid: {e}"))
});

/// True when `line` (one line, without its newline) may hold something a parser reads.
/// False only when no parser could make an event or a `Malformed` of it.
pub fn may_matter(line: &[u8]) -> bool {
    line.first() == Some(&b'{') || SEARCHER.is_match(line)
}

/// The first byte at or after `from` that lies on a line which may matter, or `None` when
/// no line from there to the end of `hay` may. `from` must be the start of a line. The
/// returned position is inside the candidate line (never on the newline before it).
pub fn next_candidate(hay: &[u8], from: usize) -> Option<usize> {
    if *hay.get(from)? == b'{' {
        return Some(from);
    }
    let needle = SEARCHER
        .find(Input::new(hay).span(from..hay.len()))
        .map(|m| m.start());
    let limit = needle.unwrap_or(hay.len());
    // `\n{` matches on the newline ending the previous line: the `{` is the line's.
    let json = JSON_LINE
        .find(hay.get(from..limit).unwrap_or_default())
        .map(|i| from + i + 1);
    json.or(needle)
}

/// How far into a line its syslog tag is looked for: past a stamp (15 bytes traditional,
/// 32 ISO with microseconds and offset) and a host name of usual length.
const TAG_WITHIN: usize = 160;

/// True when the line starting `rest` carries the syslog tag `program[pid]` of one of the
/// three MTAs (`postfix/…`, `sendmail`, `sm-…`, `exim…`): in a mail log nearly all of those
/// lines hold a needle, so the caller parses such a line without searching for one. Only
/// a guess to save the search, never a filter: a line it picks that holds no needle parses
/// as irrelevant all the same. The test is a search for the first `[` (or the line's end)
/// in the line's head and a look back to the space before it, far cheaper than the needle
/// search a dense log pays on nearly every line.
pub fn mta_tag(rest: &[u8]) -> bool {
    let head = rest.get(..TAG_WITHIN).unwrap_or(rest);
    let Some(open) = memchr::memchr2(b'[', b'\n', head) else {
        return false;
    };
    let Some(before) = head.get(..open).filter(|_| head.get(open) == Some(&b'[')) else {
        return false;
    };
    let program = memchr::memrchr(b' ', before)
        .and_then(|i| before.get(i + 1..))
        .unwrap_or(before);
    mta_program(program)
}

/// True for a program name that [`mta_tag`] takes for an MTA's (`postfix/…`, `sendmail…`,
/// `sm-…`, `exim…`): the same guess, on a tag the caller read already.
pub fn mta_program(program: &[u8]) -> bool {
    [&b"postfix"[..], b"sendmail", b"sm-", b"exim"]
        .iter()
        .any(|p| program.starts_with(p))
}

/// True when `line` (one whole line, without its newline) is a syslog line of a daemon
/// that is never an MTA ([`super::NOT_MAIL`]), read from its tag alone
/// ([`super::envelope::program_of`]): the caller passes over it without a needle search
/// and without a parse. Exact, not a guess: such a line parses as irrelevant and is no
/// mail program's, so counts and events are those of parsing it.
pub fn not_mail(line: &[u8]) -> bool {
    super::envelope::program_of(line).is_some_and(super::is_not_mail)
}

/// Where a mail program can show in a line the prefilter skipped. Such a line still counts
/// as *unparsed* when a mail program wrote it, so it must be read for its program name:
/// every name [`super::is_mail_program`] accepts holds one of `sm-`, `sendmail`, `postfix`,
/// `exim`, `/smtp`; and Exim's own mainlog stamp (`2026-11-28 17:30:07 …`, optionally
/// behind a `<PRI>`) makes the program `exim` without the word, so a line starting with a
/// digit or `<` is read too.
pub const MAIL_PROGRAM_NEEDLES: &[&str] = &[
    "sm-", "sendmail", "postfix", "exim", "/smtp", "\n0", "\n1", "\n2", "\n3", "\n4", "\n5", "\n6",
    "\n7", "\n8", "\n9", "\n<",
];

static PROGRAMS: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasickBuilder::new()
        .match_kind(MatchKind::LeftmostFirst)
        .build(MAIL_PROGRAM_NEEDLES)
        .unwrap_or_else(|e| unreachable!("the needle set is valid: {e}"))
});

/// Like [`next_candidate`], for lines that may have been written by a mail program.
pub fn next_mail_program(hay: &[u8], from: usize) -> Option<usize> {
    let first = *hay.get(from)?;
    if first.is_ascii_digit() || first == b'<' {
        return Some(from);
    }
    let m = PROGRAMS.find(Input::new(hay).span(from..hay.len()))?;
    Some(m.end() - 1)
}

#[cfg(test)]
mod tests;
