//! Bytes of one line → an [`Event`]. Pure functions: no I/O, no global state, no printing.
//!
//! A line is first split into its syslog envelope ([`envelope`]), whose program name picks
//! the MTA parser; the MTA parser then reads the message text. Lines that are not about
//! mail or TLS are [`Parsed::Irrelevant`] and cost little; lines that look like one of our
//! forms but cannot be read are [`Parsed::Malformed`], counted and reported with their
//! file and line, never fatal.

// Everything here reads bytes from strangers (log writers, peers, servers): no panics on
// input. Unwrap, expect and panic are denied crate-wide (Cargo.toml's [lints]); indexing
// and slicing, which the rest of the crate uses on its own data, are denied here. Tests
// may index freely.
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

pub mod envelope;
pub mod exim;
pub mod headers;
pub mod journald;
pub mod postfix;
pub mod prefilter;
pub mod received;
pub mod sendmail;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::sync::Arc;

use crate::model::{Event, EventKind, Mta, Source, Stamp};

pub use envelope::Envelope;

/// A substring searcher for a fixed needle, built once (`str::find` with a `&str` pattern
/// builds a two-way searcher on every call, which cost more than the search itself on a
/// log line: a tenth of the parse before this). `needle!("…")` gives a
/// `&'static memchr::memmem::Finder`.
macro_rules! needle {
    ($s:literal) => {{
        static FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
            std::sync::LazyLock::new(|| memchr::memmem::Finder::new($s));
        &*FINDER
    }};
}
pub(crate) use needle;

/// Byte offset of the first `f` in `hay` (always a char boundary: the needles start with
/// an ASCII byte).
pub(crate) fn find(hay: &str, f: &memchr::memmem::Finder<'_>) -> Option<usize> {
    f.find(hay.as_bytes())
}

/// `hay.split_once(needle)` with a prebuilt [`needle!`].
pub(crate) fn split_once<'a>(
    hay: &'a str,
    f: &memchr::memmem::Finder<'_>,
) -> Option<(&'a str, &'a str)> {
    let i = f.find(hay.as_bytes())?;
    Some((hay.get(..i)?, hay.get(i + f.needle().len()..)?))
}

/// `s` read as an IP address, exactly as `s.parse::<IpAddr>()` reads it, with the dotted
/// quads of a log's relay and client fields read by a short loop first: four decimal
/// octets of one to three digits, no leading zero, at most 255 (what std accepts as IPv4).
/// Anything else goes to std, so the fast path can only agree with it (a test).
pub(crate) fn ip_addr(s: &str) -> Option<std::net::IpAddr> {
    match dotted_quad(s.as_bytes()) {
        Some(v4) => Some(std::net::IpAddr::V4(v4)),
        None => s.parse().ok(),
    }
}

/// The fast path of [`ip_addr`] and of the `Received:` parser's addresses: `None` for
/// anything it does not read (std decides).
#[inline]
pub(crate) fn dotted_quad(b: &[u8]) -> Option<std::net::Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut i = 0;
    for (n, octet) in octets.iter_mut().enumerate() {
        if n > 0 {
            if b.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let start = i;
        let mut v = 0u32;
        while let Some(&c) = b.get(i) {
            if !c.is_ascii_digit() || i - start == 3 {
                break;
            }
            v = v * 10 + u32::from(c - b'0');
            i += 1;
        }
        let len = i - start;
        if len == 0 || (len > 1 && b.get(start) == Some(&b'0')) {
            return None;
        }
        *octet = u8::try_from(v).ok()?;
    }
    (i == b.len()).then_some(std::net::Ipv4Addr::from(octets))
}

/// Byte offset of the last `pair` (two ASCII bytes, e.g. `b" ["`) in `hay`, by `memrchr`
/// on its second byte (what `str::rfind` with a two-byte `&str` does with a searcher).
pub(crate) fn rfind_pair(hay: &str, pair: [u8; 2]) -> Option<usize> {
    let b = hay.as_bytes();
    let mut end = b.len();
    while let Some(i) = memchr::memrchr(pair[1], b.get(..end)?) {
        if i > 0 && b.get(i - 1) == Some(&pair[0]) {
            return Some(i - 1);
        }
        end = i;
    }
    None
}

/// What an OpenSSL (or GnuTLS) reason text says, whoever logged it: the words that name
/// our private key or the peer's verdict on our certificate, checked the same way for a
/// Sendmail `STARTTLS=server: error:…` dump, a Postfix `TLS library problem:` line and an
/// Exim `TLS error`. `None` when the text names neither (a plain handshake reason).
///
/// * `No such file or directory`: a configured file is **missing**.
/// * Pass phrase trouble (`problems getting password`, `bad password read`, `unable to get
///   passphrase`, `bad decrypt`, GnuTLS `Decryption has failed`), `key values mismatch`,
///   GnuTLS `… do not match`, or a file error on a path that names a key
///   (`fopen('/etc/postfix/key.pem','r')`, `calling stat(/etc/…/key.pem)`): our **private
///   key**.
/// * A received alert about a certificate (`sslv3 alert bad certificate`, `tlsv1 alert
///   unknown ca`, `… alert certificate expired|revoked|unknown|unsupported`, GnuTLS `A TLS
///   fatal alert has been received: Certificate is bad`): the peer **rejected our
///   certificate**.
pub fn reason_kind(text: &str) -> Option<crate::model::TlsErrorKind> {
    use crate::model::TlsErrorKind as K;
    let lower = text.to_ascii_lowercase();
    let has = |w: &str| lower.contains(w);
    // `system library::No such file or directory:…:calling fopen(/…/key.pem, r)`: the
    // configured file is not there.
    if has("no such file or directory") {
        return Some(K::MissingFile);
    }
    if has("getting password")
        || has("bad password read")
        || has("get passphrase")
        || has("bad decrypt")
        || has("key values mismatch")
        || has("decryption has failed")
        || has("do not match")
    {
        return Some(K::PrivateKey);
    }
    // OpenSSL 1.x `fopen('/etc/postfix/key.pem','r')`, 3.x `calling stat(/etc/…/key.pem)`.
    let names_key = |call: &str| {
        lower.find(call).is_some_and(|at| {
            let f = lower.get(at..).unwrap_or_default();
            f.split(')').next().unwrap_or(f).contains("key")
        })
    };
    if names_key("fopen(") || names_key("stat(") {
        return Some(K::PrivateKey);
    }
    let alert = has("alert bad certificate")
        || has("alert unknown ca")
        || has("alert certificate")
        || has("alert unsupported certificate")
        || (has("fatal alert has been received") && (has("certificate") || has("ca is unknown")));
    alert.then_some(K::CertificateRejected)
}

/// How much of a line the parsers build beyond what correlation reads.
///
/// The envelope sender (`from=`), the recipients (`to=`), the DSN code and the status text
/// of a delivery that went well are only shown by the commands that print events or
/// trace messages (`events`, `message`, `peer`); the correlator turns none of them into a
/// record (a failed delivery's text is kept when it names a TLS problem: that text is the
/// error record's). `scan` asks for [`Detail::Records`] and those fields stay empty, which
/// saves building two to four strings per message line. The default is everything, so a
/// caller that does not say what it wants sees every field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Detail {
    /// Every field of every event.
    #[default]
    Full,
    /// Only what the correlator reads: `from`/`to` empty, `dsn` `None`, a delivery's
    /// `text` empty unless it is the text of a TLS failure.
    Records,
}

impl Detail {
    /// An envelope address, kept only for [`Detail::Full`] (else empty, no allocation).
    pub fn address(self, s: &str) -> String {
        match self {
            Detail::Full => s.to_owned(),
            Detail::Records => String::new(),
        }
    }

    /// A text only events and traces show (a DSN, the status text of a delivery), kept
    /// only for [`Detail::Full`].
    pub fn text(self, s: &str) -> Option<String> {
        match self {
            Detail::Full => Some(s.to_owned()),
            Detail::Records => None,
        }
    }
}

/// What an MTA parser made of one message text.
///
/// Returned by value and consumed at once; boxing the large variant would cost an
/// allocation per recognised line for no gain (the same holds for [`LineOutcome`]).
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// A recognised line.
    Event(EventKind),
    /// Not a line we care about (most lines of a mail log).
    Irrelevant,
    /// It looked like one of our forms but could not be read; the reason is for the user.
    Malformed(String),
}

/// Programs that share mail logs and are never an MTA: their lines are not read at all
/// (not searched for needles, not offered to the Sendmail parser) and not counted as
/// unparsed. Exact names; `systemd-*` (`systemd-logind`, `systemd-resolved`, …) by its
/// prefix in [`is_not_mail`]. None of them is a name [`is_mail_program`] accepts (a test).
///
/// Sendmail's tag is whatever its `-L` set, so no list of MTA names can be complete; this
/// list goes the other way: daemons nobody names their MTA after, whose lines are a third
/// or more of a real mail log (Debian's `mail.log` gets dovecot, amavis, opendkim,
/// postgrey, spamd; `syslog`/`messages` get CRON, kernel, systemd). Their TLS words
/// (`dovecot: imap-login: … TLS handshaking: SSL_accept() failed`, opendkim's `SSL error:`)
/// are their own faults, never the MTA's; no parser made an event of them before this
/// table either (`parse::tests::lines_of_other_daemons_are_not_mail`).
pub const NOT_MAIL: &[&str] = &[
    // IMAP/POP3/LMTP (`dovecot[812]: imap-login: …`, and `dovecot: imap-login: …`)
    "dovecot",
    // content filters, milters and policy services beside the MTA
    "amavis",
    "amavisd",
    "opendkim",
    "opendmarc",
    "postgrey",
    "policyd-spf",
    "spamd",
    "clamd",
    "freshclam",
    "saslauthd",
    // the system
    "CRON",
    "cron",
    "crond",
    "anacron",
    "kernel",
    "systemd",
    "sshd",
    "sudo",
    "rsyslogd",
    "dbus-daemon",
];

/// True for a program of [`NOT_MAIL`], or `systemd-…`.
pub fn is_not_mail(program: &[u8]) -> bool {
    // The names of [`NOT_MAIL`] as one `match` (compiled to a switch on the length and a
    // few word compares, no `memcmp` call per name: it runs on every line); the test
    // `is_not_mail_is_the_table` keeps the two in step.
    matches!(
        program,
        b"dovecot"
            | b"amavis"
            | b"amavisd"
            | b"opendkim"
            | b"opendmarc"
            | b"postgrey"
            | b"policyd-spf"
            | b"spamd"
            | b"clamd"
            | b"freshclam"
            | b"saslauthd"
            | b"CRON"
            | b"cron"
            | b"crond"
            | b"anacron"
            | b"kernel"
            | b"systemd"
            | b"sshd"
            | b"sudo"
            | b"rsyslogd"
            | b"dbus-daemon"
    ) || program.starts_with(b"systemd-")
}

/// Which MTA a syslog program name belongs to. Sendmail's name is whatever `-L` set
/// (`sm-mta`, `sm-mta-in`, `sendmail`, `sm-msp-queue`, …), so anything that is not Postfix
/// or Exim is offered to the Sendmail parser, which only accepts its own line shapes
/// (except the daemons of [`NOT_MAIL`], whose lines `outcome` never reads).
pub fn mta_for_program(program: Option<&str>) -> Option<Mta> {
    let p = program?;
    // `first_component(p).starts_with(x)` is `p.starts_with(x)` for an `x` without a
    // `/`: the component is not looked for (this runs on every parsed line).
    if p.starts_with("sm-") || p.starts_with("sendmail") {
        Some(Mta::Sendmail)
    } else if p.starts_with("postfix") || has_smtp_component(p) {
        Some(Mta::Postfix)
    } else if p.starts_with("exim") {
        Some(Mta::Exim)
    } else {
        Some(Mta::Sendmail)
    }
}

/// `p.split('/').next()`: the program's first component, which the MTA is told by (the
/// specification of [`mta_for_program`] and [`is_mail_program`], kept for their test).
#[cfg(test)]
fn first_component(p: &str) -> &str {
    memchr::memchr(b'/', p.as_bytes())
        .and_then(|i| p.get(..i))
        .unwrap_or(p)
}

/// `program.contains("/smtp")` (which covers `/smtpd`), by bytes: it runs on every line.
fn has_smtp_component(program: &str) -> bool {
    program.as_bytes().windows(5).any(|w| w == b"/smtp")
}

/// The result of reading one raw line.
///
/// Like [`Parsed`], returned by value and consumed at once (the event is moved into its
/// block's list): boxing the large variant would cost an allocation and a free per
/// recognised line for no gain.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineOutcome {
    Event(Event),
    Irrelevant,
    Malformed(String),
}

/// What [`parse_line_into`] made of one line; an event went into the caller's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineRead {
    /// One event was pushed onto the list.
    Event,
    Irrelevant,
    Malformed(String),
}

/// Reads one line (without its newline) from `file` at `line_no`.
///
/// Invalid UTF-8 is replaced rather than rejected: mail logs carry Latin-1 host names and
/// 8-bit junk from peers, and the fields we need are ASCII.
pub fn parse_line(raw: &[u8], file: &Arc<str>, line_no: u64) -> LineOutcome {
    parse_line_with(raw, file, line_no, &mut HostNames::default())
}

/// Log host names already handed out, so that the events of one block share one
/// allocation per host instead of one per event (a log has a handful of hosts).
///
/// Each name is kept with its `host_key`, so that a lookup compares one word per
/// name instead of calling `memcmp` for every name of the same length (`mx-pf`, `mx-sm`
/// and `mx-ex` are all five bytes: the plain search cost some 85 instructions per event).
#[derive(Debug, Default)]
pub struct HostNames(Vec<(u64, Arc<str>)>);

/// The first eight bytes of a host name (zero-padded) with its length in the top byte
/// when it is shorter than eight: two names of the same length below eight are equal
/// exactly when their keys are; longer names with equal keys are compared whole.
#[inline]
fn host_key(host: &str) -> u64 {
    let b = host.as_bytes();
    match b.first_chunk::<8>() {
        Some(w) => u64::from_le_bytes(*w),
        None => {
            b.iter().rev().fold(0u64, |v, &c| (v << 8) | u64::from(c)) | ((b.len() as u64) << 56)
        }
    }
}

impl HostNames {
    /// Most logs name one host, merged ones a few; past this many, names are not kept.
    const MAX: usize = 16;

    fn get(&mut self, host: &str) -> Arc<str> {
        let key = host_key(host);
        if let Some((_, h)) = self
            .0
            .iter()
            .find(|(k, h)| *k == key && h.len() == host.len() && (host.len() < 8 || &**h == host))
        {
            return Arc::clone(h);
        }
        let h: Arc<str> = Arc::from(host);
        if self.0.len() < Self::MAX {
            self.0.push((key, Arc::clone(&h)));
        }
        h
    }
}

/// [`parse_line`] sharing host names through `hosts` (see [`HostNames`]).
pub fn parse_line_with(
    raw: &[u8],
    file: &Arc<str>,
    line_no: u64,
    hosts: &mut HostNames,
) -> LineOutcome {
    parse_line_detailed(raw, file, line_no, hosts, Detail::Full, |_| {})
}

/// [`parse_line_with`] building only the `detail` asked for (see [`Detail`]), that also
/// hands the line's program (as the envelope read it) to `irrelevant` when no parser wanted
/// the line, so a caller counting unparsed lines per mail program does not read the
/// envelope a second time.
pub fn parse_line_detailed(
    raw: &[u8],
    file: &Arc<str>,
    line_no: u64,
    hosts: &mut HostNames,
    detail: Detail,
    irrelevant: impl FnOnce(Option<&str>),
) -> LineOutcome {
    let mut event = None;
    match read_line(raw, None, file, line_no, hosts, detail, irrelevant, |e| {
        event = Some(e);
    }) {
        LineRead::Event => event.map_or(LineOutcome::Irrelevant, LineOutcome::Event),
        LineRead::Irrelevant => LineOutcome::Irrelevant,
        LineRead::Malformed(why) => LineOutcome::Malformed(why),
    }
}

/// [`parse_line_detailed`] pushing the event, if any, onto `events`: the pipeline's way,
/// which builds each event once, where it stays (an event is some 280 bytes; handing it
/// back through [`LineOutcome`] and pushing it copied it two more times per line).
/// `head` is the line's [`envelope::head`] when the caller read it already (it is then
/// not read again), else `None`; a `head` given must be that of a line the caller found
/// is no daemon's of [`NOT_MAIL`] ([`is_not_mail`] of its program is false: the pipeline
/// passes those lines over), which is then not checked again.
// The pipeline's one call per line; a struct for the arguments would only rename them.
#[allow(clippy::too_many_arguments)]
pub fn parse_line_into(
    raw: &[u8],
    head: Option<envelope::Head>,
    file: &Arc<str>,
    line_no: u64,
    hosts: &mut HostNames,
    detail: Detail,
    events: &mut Vec<Event>,
    irrelevant: impl FnOnce(Option<&str>),
) -> LineRead {
    read_line(raw, head, file, line_no, hosts, detail, irrelevant, |e| {
        events.push(e);
    })
}

/// The one reading of a line behind [`parse_line_detailed`] and [`parse_line_into`]: the
/// event goes to `emit`. A `head` read by the caller stands for the envelope of a line
/// that is valid UTF-8 (then only its message is checked; the rest is ASCII).
#[inline]
#[allow(clippy::too_many_arguments)]
fn read_line(
    raw: &[u8],
    head: Option<envelope::Head>,
    file: &Arc<str>,
    line_no: u64,
    hosts: &mut HostNames,
    detail: Detail,
    irrelevant: impl FnOnce(Option<&str>),
    emit: impl FnOnce(Event),
) -> LineRead {
    if let Some(env) = head.and_then(|h| h.envelope(raw)) {
        let program = env.program;
        // The caller passed over the lines of the daemons of [`NOT_MAIL`] by this head's
        // program (the program of this envelope): not looked at a second time.
        debug_assert!(!program.is_some_and(|p| is_not_mail(p.as_bytes())));
        let out = outcome(env, false, file, line_no, hosts, detail, emit);
        if matches!(out, LineRead::Irrelevant) {
            irrelevant(program);
        }
        return out;
    }
    // Valid UTF-8 (nearly every line) is borrowed after one fast validation.
    let text: Cow<'_, str> = match simdutf8::basic::from_utf8(raw) {
        Ok(t) => Cow::Borrowed(t),
        Err(_) => String::from_utf8_lossy(raw),
    };
    // `journalctl -o json`: the envelope comes from the entry's fields.
    if text.starts_with('{')
        && let Some(j) = journald::parse(&text)
    {
        let env = Envelope {
            stamp: j.stamp,
            host: j.host.as_deref(),
            program: j.program.as_deref(),
            pid: j.pid,
            message: &j.message,
        };
        let program = env.program;
        let out = outcome(env, true, file, line_no, hosts, detail, emit);
        if matches!(out, LineRead::Irrelevant) {
            irrelevant(program);
        }
        return out;
    }
    let env = envelope::parse(&text);
    let program = env.program;
    let out = outcome(env, true, file, line_no, hosts, detail, emit);
    if matches!(out, LineRead::Irrelevant) {
        irrelevant(program);
    }
    out
}

/// True for the program names of the three MTAs themselves (stricter than
/// [`mta_for_program`], which offers every other program to the Sendmail parser):
/// `sm-*`/`sendmail*`, `postfix*` and anything with a `/smtp` or `/smtpd` daemon, `exim*`.
pub fn is_mail_program(program: &str) -> bool {
    // As in [`mta_for_program`]: the first component starts with a prefix without a `/`
    // exactly when the whole name does.
    program.starts_with("sm-")
        || program.starts_with("sendmail")
        || program.starts_with("postfix")
        || program.starts_with("exim")
        || has_smtp_component(program)
}

/// The program of a line when it is one of the MTAs (see [`is_mail_program`]). Used for
/// the lines no parser understood, so the summary can say per program what was not read
/// (`--explain-unparsed`).
pub fn mail_program(raw: &[u8]) -> Option<String> {
    let text: Cow<'_, str> = String::from_utf8_lossy(raw);
    let program = if text.starts_with('{') {
        journald::parse(&text).and_then(|j| j.program)
    } else {
        envelope::parse(&text).program.map(str::to_owned)
    }?;
    is_mail_program(&program).then_some(program)
}

/// Hands the message to the parser of the program's MTA and wraps the result.
///
/// `maybe_noise` false: the caller found already that the program is no daemon of
/// [`NOT_MAIL`] (the pipeline's head path), so it is not looked up a second time.
fn outcome(
    env: Envelope<'_>,
    maybe_noise: bool,
    file: &Arc<str>,
    line_no: u64,
    hosts: &mut HostNames,
    detail: Detail,
    emit: impl FnOnce(Event),
) -> LineRead {
    if maybe_noise && env.program.is_some_and(|p| is_not_mail(p.as_bytes())) {
        return LineRead::Irrelevant;
    }
    let mta = mta_for_program(env.program);
    let parsed = match mta {
        Some(Mta::Sendmail) | None => sendmail::parse_with(env.message, detail),
        Some(Mta::Postfix) => postfix::parse_program_with(env.program, env.message, detail),
        Some(Mta::Exim) => exim::parse_with(env.message, detail),
    };
    // Sendmail's MSP queue runner (`sm-msp-queue`, submit.cf) logs `starting daemon` too,
    // but it is not the MTA: its start re-reads none of the MTA's keys or certificates.
    // Looked at in place: a `match` handing the value on moved the whole event once more.
    if matches!(parsed, Parsed::Event(EventKind::DaemonStart { .. }))
        && env.program.is_some_and(|p| p.starts_with("sm-msp"))
    {
        return LineRead::Irrelevant;
    }
    match parsed {
        Parsed::Irrelevant => LineRead::Irrelevant,
        Parsed::Malformed(why) => LineRead::Malformed(why),
        Parsed::Event(kind) => {
            emit(Event {
                stamp: env.stamp,
                host: env.host.map(|h| hosts.get(h)),
                mta: mta.unwrap_or(Mta::Sendmail),
                pid: env.pid,
                source: Source {
                    file: Arc::clone(file),
                    line: line_no,
                },
                kind,
            });
            LineRead::Event
        }
    }
}

/// True when a stamp still needs resolving (its year, or its zone) by
/// [`envelope::YearResolver`].
pub fn needs_year(stamp: &Stamp) -> bool {
    matches!(stamp, Stamp::NoYear { .. } | Stamp::Local(_))
}

#[cfg(test)]
mod host_names_tests {
    use super::{HostNames, host_key};
    use proptest::prelude::*;

    proptest! {
        /// The keyed lookup hands out the name asked for, shared with the earlier equal
        /// name when there was one: what the plain search by string equality did.
        #[test]
        fn get_is_the_name_asked_for(
            names in prop::collection::vec("[a-c\\x00\\x03.-]{0,10}", 1..40),
        ) {
            let mut hosts = HostNames::default();
            let mut seen: Vec<std::sync::Arc<str>> = Vec::new();
            for n in &names {
                let h = hosts.get(n);
                prop_assert_eq!(&*h, n.as_str());
                if let Some(first) = seen.iter().find(|s| &***s == n.as_str()) {
                    if seen.iter().position(|s| &**s == n.as_str())
                        .is_some_and(|i| i < HostNames::MAX)
                    {
                        prop_assert!(std::sync::Arc::ptr_eq(first, &h));
                    }
                } else {
                    seen.push(h);
                }
            }
        }

        /// Two names shorter than eight bytes have equal keys exactly when they are equal.
        #[test]
        fn short_keys_are_exact(a in "[a-c\\x00\\x03]{0,7}", b in "[a-c\\x00\\x03]{0,7}") {
            prop_assert_eq!(host_key(&a) == host_key(&b), a == b);
        }
    }
}
