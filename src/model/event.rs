//! The one vocabulary every stage shares.
//!
//! A Sendmail `STARTTLS=` line, a Postfix `TLS connection established` line, an Exim
//! `X=`/`CV=` pair, a `Received:` header clause and a live `mailtls check` all describe the
//! same few facts: who the peer was, which direction the mail went, which protocol and
//! cipher were negotiated, how many bits, and whether the certificate verified. They are
//! typed here once, as enums that keep the raw word when it is not one we know, so that a
//! log line and a live check of the same peer can be compared field by field and no stage
//! invents its own spelling.

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, NaiveDateTime};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A message's queue id as its MTA logged it (Sendmail `6AR1CheR011422`, Postfix
/// `4F9D12345A` or the long `4dT1Xb0Bq7z9vY2`, Exim `1tPqZb-000Abc-7Q` or the 4.97+
/// `1tPqZb-000Abc0-7QAB`). Held inline up to 24 bytes, which every MTA's ids fit: the id
/// is copied from the line into the event, its record and the correlator's keys on every
/// message line, and none of those copies allocates. Written in JSON as a plain string.
pub type QueueId = compact_str::CompactString;

/// Which MTA wrote a line. Parsers are chosen by it and reports group by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mta {
    Sendmail,
    Postfix,
    Exim,
}

impl Mta {
    /// The word the JSON outputs and the timelines use (the serialised name): one table,
    /// so the writers that skip serde say the same.
    pub fn as_str(self) -> &'static str {
        match self {
            Mta::Sendmail => "sendmail",
            Mta::Postfix => "postfix",
            Mta::Exim => "exim",
        }
    }
}

/// Which way the mail (and the TLS session) went, seen from our MTA.
///
/// `Inbound` is Sendmail's `STARTTLS=server`: the peer connected to us and we accepted
/// STARTTLS. `Outbound` is `STARTTLS=client`: we connected to the peer to deliver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Inbound,
    Outbound,
}

impl Direction {
    /// The short word used in tables and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "in",
            Direction::Outbound => "out",
        }
    }
}

/// The other end of an SMTP conversation, as the log named it.
///
/// Logs are inconsistent about peers: Sendmail's client-side STARTTLS line names only the
/// MX host (`mx1.peer.example.`), its server side gives `name [ip]`, `[ip]` alone or adds
/// `(may be forged)`. Both parts are optional and the posture key is derived from
/// whichever is present (see [`Peer::key`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Peer {
    /// Host name as logged, without a trailing dot; `None` when there was no name
    /// (no reverse DNS, Postfix `unknown`). Held inline up to 24 bytes (most names a log
    /// repeats): parsed on nearly every line and copied into records, it then allocates
    /// nothing (issue 21).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<compact_str::CompactString>,
    /// The peer address when the line carried one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub ip: Option<IpAddr>,
    /// Sendmail's `(may be forged)`: forward and reverse DNS disagree, so the name is
    /// only a claim.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub forged: bool,
}

impl Peer {
    /// A peer from an optional name and address, normalising the name: a trailing DNS dot
    /// is dropped and the placeholder `unknown` means "no name".
    pub fn new(name: Option<&str>, ip: Option<IpAddr>) -> Peer {
        let name = name
            // Names are nearly always already trimmed: `trim_solid` looks at two bytes
            // where `trim` decodes characters (every peer of every line comes here).
            .map(|n| {
                let n = crate::model::text::trim_solid(n);
                let dots = n.bytes().rev().take_while(|&b| b == b'.').count();
                &n[..n.len() - dots]
            })
            .filter(|n| !n.is_empty() && !n.eq_ignore_ascii_case("unknown"))
            .map(compact_str::CompactString::new);
        Peer {
            name,
            ip,
            forged: false,
        }
    }

    /// The posture key: the host name lower-cased without its trailing dot, else the IP.
    /// `None` when the line named nobody.
    pub fn key(&self) -> Option<String> {
        match (&self.name, &self.ip) {
            (Some(n), _) => Some(n.as_str().to_ascii_lowercase()),
            (None, Some(ip)) => Some(ip.to_string()),
            (None, None) => None,
        }
    }

    /// `self.key() == other.key()` with both keys present, without building them (the
    /// correlator compares peers on every message line).
    pub fn same_key(&self, other: &Peer) -> bool {
        match (&self.name, &other.name) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            (None, None) => self.ip.is_some() && self.ip == other.ip,
            (Some(n), None) | (None, Some(n)) => {
                let ip = if self.name.is_none() {
                    self.ip
                } else {
                    other.ip
                };
                ip.is_some_and(|ip| n.eq_ignore_ascii_case(&ip.to_string()))
            }
        }
    }

    /// True when the key of `self` is `key` (an already lower-cased posture key).
    pub fn has_key(&self, key: &str) -> bool {
        match (&self.name, &self.ip) {
            (Some(n), _) => {
                n.eq_ignore_ascii_case(key) && !key.bytes().any(|b| b.is_ascii_uppercase())
            }
            (None, Some(ip)) => ip.to_string() == key,
            (None, None) => false,
        }
    }

    /// True for the local machine (127.0.0.0/8, ::1, `localhost`): the MSP handing mail
    /// to the MTA, content filters, test tools. Reports leave such peers out by default
    /// because they say nothing about how mail travels between sites.
    pub fn is_loopback(&self) -> bool {
        // The name counts only for a peer without an address: it is not looked at when
        // there is one (nearly every record; this runs for each of them, issue 21).
        match self.ip {
            Some(IpAddr::V4(v4)) => v4.is_loopback(),
            Some(IpAddr::V6(v6)) => {
                v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
            }
            None => self.name.as_deref().is_some_and(|n| {
                n.get(..9)
                    .is_some_and(|h| h.eq_ignore_ascii_case("localhost"))
                    && matches!(n.as_bytes().get(9), None | Some(b'.'))
            }),
        }
    }

    /// True when the line named neither a host nor an address.
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.ip.is_none()
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.name, &self.ip) {
            (Some(n), Some(ip)) => write!(f, "{n} [{ip}]")?,
            (Some(n), None) => write!(f, "{n}")?,
            (None, Some(ip)) => write!(f, "[{ip}]")?,
            (None, None) => write!(f, "?")?,
        }
        if self.forged {
            write!(f, " (may be forged)")?;
        }
        Ok(())
    }
}

/// A negotiated (or claimed) protocol version.
///
/// `Legacy` is Sendmail ≤ 8.14's `TLSv1/SSLv3`: the label of the cipher's *family*, written
/// for every session whatever protocol was really negotiated. It must never be counted as
/// SSLv3 or TLS 1.0; it only says "some TLS".
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TlsVersion {
    Ssl2,
    Ssl3,
    Tls1_0,
    Tls1_1,
    Tls1_2,
    Tls1_3,
    /// `TLSv1/SSLv3`: a cipher-family label, protocol unknown.
    Legacy,
    /// Anything else, kept as written (`UNKNOWN`, `TLS`, a future name).
    Other(String),
}

impl TlsVersion {
    /// Reads every spelling the MTAs and header stamps use: OpenSSL's `TLSv1.2`, Exim's and
    /// GnuTLS's `TLS1.2`, Microsoft's and Gmail's `TLS1_2`, `TLSv1.0`, `SSLv3`, and the legacy
    /// `TLSv1/SSLv3`.
    pub fn parse(raw: &str) -> TlsVersion {
        let r = super::text::trim_solid(raw);
        // The spellings the MTAs actually write, matched before normalising (which
        // allocates): one per TLS line.
        match r {
            "TLSv1.3" => return TlsVersion::Tls1_3,
            "TLSv1.2" => return TlsVersion::Tls1_2,
            "TLS1.3" => return TlsVersion::Tls1_3,
            "TLS1.2" => return TlsVersion::Tls1_2,
            // Microsoft's and Gmail's `Received:` stamps.
            "TLS1_3" => return TlsVersion::Tls1_3,
            "TLS1_2" => return TlsVersion::Tls1_2,
            _ => {}
        }
        let lower = r.to_ascii_lowercase();
        let norm: String = lower
            .chars()
            .map(|c| if c == '_' { '.' } else { c })
            .filter(|c| *c != 'v')
            .collect();
        match norm.as_str() {
            "ssl2" | "ssl2.0" => TlsVersion::Ssl2,
            "ssl3" | "ssl3.0" => TlsVersion::Ssl3,
            "tls1" | "tls1.0" => TlsVersion::Tls1_0,
            "tls1.1" => TlsVersion::Tls1_1,
            "tls1.2" => TlsVersion::Tls1_2,
            "tls1.3" => TlsVersion::Tls1_3,
            "tls1/ssl3" => TlsVersion::Legacy,
            _ => TlsVersion::Other(r.to_owned()),
        }
    }

    /// The canonical spelling used in reports and JSON (OpenSSL's).
    pub fn label(&self) -> &str {
        match self {
            TlsVersion::Ssl2 => "SSLv2",
            TlsVersion::Ssl3 => "SSLv3",
            TlsVersion::Tls1_0 => "TLSv1",
            TlsVersion::Tls1_1 => "TLSv1.1",
            TlsVersion::Tls1_2 => "TLSv1.2",
            TlsVersion::Tls1_3 => "TLSv1.3",
            TlsVersion::Legacy => "TLSv1/SSLv3",
            TlsVersion::Other(s) => s,
        }
    }

    /// True for protocols that no site should still accept (SSLv2, SSLv3, TLS 1.0, 1.1).
    /// The legacy label is *not* old: its real protocol is unknown.
    pub fn is_deprecated(&self) -> bool {
        matches!(
            self,
            TlsVersion::Ssl2 | TlsVersion::Ssl3 | TlsVersion::Tls1_0 | TlsVersion::Tls1_1
        )
    }
}

impl fmt::Display for TlsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl Serialize for TlsVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.label())
    }
}

impl<'de> Deserialize<'de> for TlsVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(TlsVersion::parse(&s))
    }
}

/// A cipher suite name exactly as the MTA wrote it (OpenSSL, IANA or GnuTLS spelling).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cipher(pub String);

impl Cipher {
    pub fn new(name: &str) -> Cipher {
        Cipher(super::text::trim_solid(name).to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Key strength of a cipher, with both of OpenSSL's numbers kept apart.
///
/// `SSL_CIPHER_get_bits(c, &alg)` returns the *secret* (effective) bits and stores the
/// *algorithm* bits in `alg`. They differ only for export and 3DES ciphers (3DES: 112
/// secret, 168 alg). Sendmail's log writes `bits=alg/secret`, Postfix writes
/// `(secret/alg bits)`, Sendmail's `Received:` header and Exim write a single number. Use
/// the constructors named after the source so the order is never guessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Bits {
    /// Effective secret bits (OpenSSL's return value); the number a policy compares.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub secret: Option<u16>,
    /// Algorithm bits.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub alg: Option<u16>,
}

impl Bits {
    /// Sendmail's log form `bits=A/B`: A is the algorithm bits, B the secret bits.
    pub fn sendmail_log(alg: Option<u16>, secret: Option<u16>) -> Bits {
        Bits { secret, alg }
    }

    /// Postfix's `(A/B bits)`: A is the secret ("use") bits, B the algorithm bits.
    pub fn postfix(secret: Option<u16>, alg: Option<u16>) -> Bits {
        Bits { secret, alg }
    }

    /// A single number (Sendmail `Received:` header, Exim): the secret bits.
    pub fn single(secret: Option<u16>) -> Bits {
        Bits { secret, alg: None }
    }

    /// The number a policy compares: the secret bits, else the algorithm bits.
    pub fn effective(&self) -> Option<u16> {
        self.secret.or(self.alg)
    }
}

/// The outcome of certificate verification, in Sendmail's words (the `${verify}` macro).
///
/// Postfix's trust words and Exim's `CV=` are mapped onto these by their parsers so one
/// histogram covers every MTA. Words we do not know are kept in `Other`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Verify {
    /// The peer certificate verified.
    Ok,
    /// No certificate was presented. Sendmail writes it when it asked and got none; for
    /// Postfix (`Anonymous` on the server side, its `Received:` header's "Client did not
    /// present a certificate" and "No client certificate requested") and Exim (`CV=no`
    /// without a DN) it is the word for "the client presented no certificate", because
    /// their logs cannot say whether one was asked for: one session, one word, whichever
    /// line or header it is read from.
    No,
    /// No certificate was requested: only where the MTA says so (Sendmail's own
    /// `verify=NOT`, usual on its server side).
    Not,
    /// A certificate was presented but did not verify (e.g. unknown CA).
    Fail,
    /// STARTTLS was not performed: the server did not offer it.
    None,
    /// Temporary error while starting TLS (e.g. a 454 from the peer).
    Temp,
    /// SMTP protocol error around STARTTLS.
    Protocol,
    /// The TLS handshake failed; the connection was dropped.
    Software,
    /// STARTTLS disabled locally for a clear-text retry (Sendmail 8.16+).
    Clear,
    /// DANE verification succeeded.
    Trusted,
    /// DANE verification failed.
    DaneFail,
    /// DANE temporary failure.
    DaneTemp,
    /// DANE required but the server offered no STARTTLS.
    DaneNoTls,
    /// `tls_*_features` syntax error.
    Config,
    /// Any other STARTTLS failure.
    Failure,
    /// The log says nothing about the certificate: Postfix 2.2 – 2.4 wrote no trust word,
    /// Exim's deliveries without the `tls_certificate_verified` selector have no `CV=`.
    /// Written `UNKNOWN`, the word snapshots and event streams carried when it was kept
    /// as an unknown word, so old and new ones read alike.
    Unknown,
    /// A word we do not know, kept as written.
    Other(String),
}

impl Verify {
    pub fn parse(raw: &str) -> Verify {
        match raw.trim() {
            "OK" => Verify::Ok,
            "NO" => Verify::No,
            "NOT" => Verify::Not,
            "FAIL" => Verify::Fail,
            "NONE" => Verify::None,
            "TEMP" => Verify::Temp,
            "PROTOCOL" => Verify::Protocol,
            "SOFTWARE" => Verify::Software,
            "CLEAR" => Verify::Clear,
            "TRUSTED" => Verify::Trusted,
            "DANE_FAIL" => Verify::DaneFail,
            "DANE_TEMP" => Verify::DaneTemp,
            "DANE_NOTLS" => Verify::DaneNoTls,
            "CONFIG" => Verify::Config,
            "FAILURE" => Verify::Failure,
            "UNKNOWN" => Verify::Unknown,
            other => Verify::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Verify::Ok => "OK",
            Verify::No => "NO",
            Verify::Not => "NOT",
            Verify::Fail => "FAIL",
            Verify::None => "NONE",
            Verify::Temp => "TEMP",
            Verify::Protocol => "PROTOCOL",
            Verify::Software => "SOFTWARE",
            Verify::Clear => "CLEAR",
            Verify::Trusted => "TRUSTED",
            Verify::DaneFail => "DANE_FAIL",
            Verify::DaneTemp => "DANE_TEMP",
            Verify::DaneNoTls => "DANE_NOTLS",
            Verify::Config => "CONFIG",
            Verify::Failure => "FAILURE",
            Verify::Unknown => "UNKNOWN",
            Verify::Other(s) => s,
        }
    }

    /// The certificate was checked and found wanting (a policy finding).
    pub fn is_failed_verification(&self) -> bool {
        matches!(self, Verify::Fail | Verify::DaneFail)
    }

    /// TLS was attempted and did not come up (the session went on in clear or was dropped).
    pub fn is_tls_failure(&self) -> bool {
        matches!(
            self,
            Verify::Temp
                | Verify::Protocol
                | Verify::Software
                | Verify::Config
                | Verify::Failure
                | Verify::DaneTemp
                | Verify::DaneNoTls
        )
    }
}

impl fmt::Display for Verify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Verify {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Verify {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(Verify::parse(&s))
    }
}

/// What kind of TLS problem a line reports. Reports count errors by kind and keep the
/// last text of each, so the kinds are coarse on purpose: one per thing an administrator
/// would fix differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TlsErrorKind {
    /// The private key could not be loaded (`SSL_CTX_use_PrivateKey_file … failed`): usually
    /// an encrypted key (made without `-nodes`), a wrong path, or a key/cert mismatch.
    PrivateKey,
    /// The certificate (chain) file could not be loaded.
    Certificate,
    /// The CA file or directory could not be loaded (`load verify locs`).
    CaLocations,
    /// A key, certificate or random file is unsafe (group/world readable, wrong owner, in
    /// an unsafe directory), so the MTA refuses to use it.
    UnsafeFile,
    /// A configured key, certificate or CA file does not exist (Sendmail `file … unsafe:
    /// No such file or directory`): a wrong path, not a permissions problem.
    MissingFile,
    /// Cipher list, cipher suites, DH parameters or similar settings were rejected.
    CipherConfig,
    /// Our DH parameter file could not be loaded and the MTA went on with its built-in
    /// parameters (Postfix `error opening DH parameter file … -- using compiled-in
    /// defaults`, the real `dh_missing` capture; Sendmail `cannot read DH parameters`): a
    /// setting of ours to fix, but TLS works, so it opens no downgrade window.
    DhParams,
    /// Our cipher list or TLS 1.3 cipher suites were refused by OpenSSL and the MTA went on
    /// with OpenSSL's defaults (Sendmail `SSL_CTX_set_cipher_list(…) failed, list ignored`,
    /// `SSL_CTX_set_ciphersuites(…) failed, suites ignored`, the real `cipher_bad`
    /// capture: the next session is TLS 1.3 as usual): a setting of ours to fix, since the
    /// ciphers chosen are not in force, but TLS works, so it opens no downgrade window.
    CipherIgnored,
    /// TLS library initialisation failed.
    Init,
    /// The TLS handshake failed (`accept failed`, `connect failed`, `SSL_accept error`).
    Handshake,
    /// Read or write error or timeout on an established TLS session.
    Io,
    /// The peer certificate failed verification (a logged verify error, not `verify=FAIL`).
    CertVerify,
    /// The peer rejected *our* certificate: it sent a fatal alert about it (Exim/GnuTLS
    /// `(recv): A TLS fatal alert has been received: Certificate is bad`, OpenSSL `alert
    /// bad certificate`, `alert unknown ca`, `alert certificate expired`). Our certificate is
    /// the problem (see [`TlsErrorKind::side`]) but only for that peer, so it is counted on
    /// the peer and opens no downgrade window.
    CertificateRejected,
    /// A `tls_server`/`tls_client`/`tls_rcpt` policy ruleset rejected the session.
    Policy,
    /// A raw TLS library error dump (`error:0A000076:SSL routines::…`).
    Library,
    /// TLS was required but the peer did not offer it or refused it.
    NotOffered,
    /// DANE/TLSA trouble.
    Dane,
    /// TLS shutdown did not complete.
    Shutdown,
    /// Any other TLS-related problem.
    Other,
}

impl TlsErrorKind {
    /// Every kind, in declaration order: for what must hold of each (one colour, advice
    /// in each MTA's terms).
    pub const ALL: [TlsErrorKind; 19] = [
        TlsErrorKind::PrivateKey,
        TlsErrorKind::Certificate,
        TlsErrorKind::CaLocations,
        TlsErrorKind::UnsafeFile,
        TlsErrorKind::MissingFile,
        TlsErrorKind::CipherConfig,
        TlsErrorKind::DhParams,
        TlsErrorKind::CipherIgnored,
        TlsErrorKind::Init,
        TlsErrorKind::Handshake,
        TlsErrorKind::Io,
        TlsErrorKind::CertVerify,
        TlsErrorKind::CertificateRejected,
        TlsErrorKind::Policy,
        TlsErrorKind::Library,
        TlsErrorKind::NotOffered,
        TlsErrorKind::Dane,
        TlsErrorKind::Shutdown,
        TlsErrorKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TlsErrorKind::PrivateKey => "private_key",
            TlsErrorKind::Certificate => "certificate",
            TlsErrorKind::CaLocations => "ca_locations",
            TlsErrorKind::UnsafeFile => "unsafe_file",
            TlsErrorKind::MissingFile => "missing_file",
            TlsErrorKind::CipherConfig => "cipher_config",
            TlsErrorKind::DhParams => "dh_params",
            TlsErrorKind::CipherIgnored => "cipher_ignored",
            TlsErrorKind::Init => "init",
            TlsErrorKind::Handshake => "handshake",
            TlsErrorKind::Io => "io",
            TlsErrorKind::CertVerify => "cert_verify",
            TlsErrorKind::CertificateRejected => "certificate_rejected",
            TlsErrorKind::Policy => "policy",
            TlsErrorKind::Library => "library",
            TlsErrorKind::NotOffered => "not_offered",
            TlsErrorKind::Dane => "dane",
            TlsErrorKind::Shutdown => "shutdown",
            TlsErrorKind::Other => "other",
        }
    }

    /// True for the kinds that only carry a TLS library's words (an error-queue dump):
    /// such a line joins the incident of the MTA's own line beside it, as its reason
    /// ([`crate::correlate`]), and is no failure of its own.
    pub fn is_dump(self) -> bool {
        matches!(self, TlsErrorKind::Library | TlsErrorKind::Other)
    }

    /// True for problems of our own installation (keys, certificates, configuration)
    /// rather than of one conversation with a peer.
    pub fn is_local(self) -> bool {
        matches!(
            self,
            TlsErrorKind::PrivateKey
                | TlsErrorKind::Certificate
                | TlsErrorKind::CaLocations
                | TlsErrorKind::UnsafeFile
                | TlsErrorKind::MissingFile
                | TlsErrorKind::CipherConfig
                | TlsErrorKind::DhParams
                | TlsErrorKind::CipherIgnored
                | TlsErrorKind::Init
        )
    }

    /// True for the local kinds after which the MTA still does TLS: a setting it replaced
    /// by its built-in defaults (DH parameters, a cipher list OpenSSL refused). Such an
    /// incident is ours to fix but takes no role's TLS away: no downgrade window, and a
    /// Postfix smtpd after it is not "TLS off".
    pub fn keeps_tls(self) -> bool {
        matches!(self, TlsErrorKind::DhParams | TlsErrorKind::CipherIgnored)
    }

    /// Whose problem an incident of this kind is: [`Side::Ours`] for our installation
    /// (the local kinds) and for a peer rejecting our certificate; [`Side::Peer`] for the
    /// rest (a failed handshake, a peer certificate that did not verify, a peer that did
    /// not offer TLS, …), which are counted on that peer.
    pub fn side(self) -> Side {
        if self.is_local() || self == TlsErrorKind::CertificateRejected {
            Side::Ours
        } else {
            Side::Peer
        }
    }
}

/// Whose problem a TLS incident is (DESIGN.md "Incidents, sides and windows").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// Our own installation: key, certificate, files, configuration, library.
    Ours,
    /// The peer (or the conversation with it).
    Peer,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Ours => "ours",
            Side::Peer => "peer",
        }
    }
}

impl fmt::Display for TlsErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an event came from: the file (or `-` for stdin, or `path#N` for the N-th message
/// of a mailbox) and the 1-based line number, so every finding can be traced to its line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Source {
    pub file: Arc<str>,
    pub line: u64,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// A log timestamp before and after year inference.
///
/// RFC 3164 syslog stamps (`Jul  5 19:19:30`) carry no year and no zone; the parser keeps
/// them as `NoYear` and the pipeline resolves them per file in log order (year from the
/// file's modification time or `--year`, with Dec→Jan rollover), in the local time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stamp {
    /// A complete time with its offset.
    Full(DateTime<FixedOffset>),
    /// Month (1–12), day, seconds since midnight and nanoseconds, no year.
    NoYear {
        month: u8,
        day: u8,
        secs: u32,
        nanos: u32,
    },
    /// A full date and time without a zone (Exim's mainlog without `log_timezone`). Kept
    /// apart from `Full` because parsing is pure: the local zone is applied later, by the
    /// same resolver that gives `NoYear` stamps their year.
    Local(NaiveDateTime),
    /// The line had no timestamp (pasted without its syslog prefix).
    None,
}

impl Stamp {
    /// The resolved time, if the stamp is complete.
    pub fn time(&self) -> Option<DateTime<FixedOffset>> {
        match self {
            Stamp::Full(t) => Some(*t),
            _ => None,
        }
    }
}

/// The TLS parameters of one negotiated session.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TlsParams {
    pub version: TlsVersion,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cipher: Option<Cipher>,
    #[serde(default)]
    pub bits: Bits,
    pub verify: Verify,
    /// What the MTA said beyond the shared fields (its own verification word, SNI, peer DN,
    /// session reuse, TLS 1.3 key exchange and signatures). Boxed and optional because most
    /// lines have none of it and the shared fields are what reports compare.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub detail: Option<Box<TlsDetail>>,
}

impl TlsParams {
    /// The shared fields without detail. Prefer it to a struct literal so that additive
    /// fields do not break callers.
    pub fn new(version: TlsVersion, cipher: Option<Cipher>, bits: Bits, verify: Verify) -> Self {
        TlsParams {
            version,
            cipher,
            bits,
            verify,
            detail: None,
        }
    }

    /// The MTA's own verification word when it was mapped onto [`Verify`] (Postfix
    /// `Anonymous`/`Untrusted`/`Trusted`/`Verified`, Exim `CV=yes|no|dane`).
    pub fn raw_verify(&self) -> Option<&str> {
        self.detail.as_ref().and_then(|d| d.raw_verify.as_deref())
    }
}

/// MTA-specific facts about one TLS session that have no shared field. All optional; kept
/// so that `events` output and reports can show them and nothing the log said is lost when
/// a trust word is mapped onto [`Verify`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct TlsDetail {
    /// The verification word as logged: Postfix `Anonymous`, `Untrusted`, `Trusted`,
    /// `Verified`; Exim `yes`, `no`, `dane` (from `CV=`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub raw_verify: Option<String>,
    /// The session was resumed or taken from a connection cache (Postfix `TLS connection
    /// reused`, Exim `X=…*`): no new handshake happened on this line's connection.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub reused: bool,
    /// Server name indication the client asked for (Postfix server side `… to NAME:`,
    /// Exim `SNI=`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sni: Option<String>,
    /// The peer certificate's subject DN (Exim `DN="…"`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub peer_dn: Option<String>,
    /// TLS 1.3 key exchange group (Postfix `key-exchange X25519`, Exim 4.100 trailing
    /// `:X25519`), with its size or curve when logged (`ECDHE (P-256)`, `DHE (2048 bits)`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub key_exchange: Option<String>,
    /// Postfix `server-signature …` (on the server side this is our own key).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub server_signature: Option<String>,
    /// Postfix `server-digest …`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub server_digest: Option<String>,
    /// Postfix `client-signature …` (a client certificate was used).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub client_signature: Option<String>,
    /// Postfix `client-digest …`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub client_digest: Option<String>,
}

/// A completed TLS negotiation with a peer (Sendmail `STARTTLS=server|client, relay=…,
/// version=…`, Postfix `TLS connection established`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsSession {
    pub direction: Direction,
    pub peer: Peer,
    #[serde(flatten)]
    pub params: TlsParams,
}

/// A TLS problem. `peer` is `None` when the line names nobody (local configuration errors,
/// Sendmail's client-side `connect failed`); correlation may fill it in by process id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsError {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub direction: Option<Direction>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub peer: Option<Peer>,
    pub kind: TlsErrorKind,
    /// The error text as logged (after the `error:` word where there is one).
    pub text: String,
}

/// A message accepted from a peer (Sendmail `QID: from=<…>, …, relay=…`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reception {
    pub queue_id: QueueId,
    /// Envelope sender without angle brackets (empty for the null sender `<>`).
    pub from: String,
    /// The sending peer; `None` for local submissions (`relay=root@localhost`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub peer: Option<Peer>,
    /// `proto=` as logged (`ESMTP`, `ESMTPS`, `ESMTPSA`, `SMTP`, Exim's `esmtps`, …).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub proto: Option<String>,
    /// TLS parameters written on the message line itself (Exim's `X=`/`CV=`). Behind a
    /// pointer: most message lines carry none, and events are moved by value through the
    /// pipeline; shared (`Arc`) so the session and message records made of it copy none.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tls: Option<Arc<TlsParams>>,
}

impl Reception {
    /// RFC 3848 protocol names ending in `S`/`SA` (`ESMTPS`, `ESMTPSA`, `UTF8SMTPS`) say the
    /// message came over TLS, whatever else the log shows. Sendmail ≤ 8.14 wrote `ESMTP`
    /// even over TLS, so a non-S name does not prove plaintext.
    pub fn proto_says_tls(&self) -> bool {
        // Compared without an upper-cased copy: this runs for every received message on
        // the correlating thread (an allocation each).
        let Some(p) = &self.proto else { return false };
        let ends = |w: &str| {
            p.len() >= w.len()
                && p.as_bytes()[p.len() - w.len()..].eq_ignore_ascii_case(w.as_bytes())
        };
        ends("SMTPS") || ends("SMTPSA") || p.eq_ignore_ascii_case("SSMTP")
    }
}

/// What became of one delivery attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    Sent,
    Deferred,
    Bounced,
    /// Anything else (`Queued`, `expired`, Exim's `**`…).
    Other,
}

impl DeliveryStatus {
    /// The word the JSON outputs and the timelines use (the serialised name).
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Deferred => "deferred",
            DeliveryStatus::Bounced => "bounced",
            DeliveryStatus::Other => "other",
        }
    }

    /// A deferral or a bounce: the attempts whose status text may name a TLS failure.
    pub fn is_failure(self) -> bool {
        matches!(self, DeliveryStatus::Deferred | DeliveryStatus::Bounced)
    }
}

/// One delivery attempt to a peer (Sendmail `QID: to=<…>, …, relay=…, stat=…`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub queue_id: QueueId,
    /// Recipient list as logged, without angle brackets.
    pub to: String,
    /// The receiving peer; `None` for local delivery.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub peer: Option<Peer>,
    /// Sendmail `mailer=` (`esmtp`, `relay`, `smtp`, `local`), Postfix transport, Exim `T=`.
    /// The usual names are borrowed from a table ([`mailer_name`]), so most delivery lines
    /// allocate nothing for it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub mailer: Option<Cow<'static, str>>,
    pub status: DeliveryStatus,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub dsn: Option<String>,
    /// The status text (`Sent (…)`, `Deferred: 403 4.7.0 TLS handshake failed.`).
    pub text: String,
    /// TLS parameters written on the delivery line itself (Exim). Shared like
    /// [`Reception::tls`]: rare, and the largest part of the event.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tls: Option<Arc<TlsParams>>,
    /// Postfix ≥ 3.11 per-feature TLS status as logged (`tls=may`, `tls=may:none`,
    /// `tls=dane:halfdane`, `tls=xxx/!requiretls:nostarttls`). `:none` says the server
    /// offered no STARTTLS, so the delivery was plaintext whatever else the log shows.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tls_status: Option<String>,
    /// For a deferral or bounce: the TLS failure its status text reports (Postfix `TLS is
    /// required, but was not offered`, Exim `TLS session: (SSL_connect): …`), read by the
    /// parser so the correlator only attributes it. Not part of the event's JSON: the
    /// status text is.
    #[serde(skip)]
    pub tls_error: Option<TlsErrorKind>,
}

/// A mailer or transport name as a [`Delivery::mailer`]: the names every log repeats on
/// each delivery line (Sendmail's stock mailers, Postfix's delivery daemons, Exim's
/// default transports) are borrowed, any other is copied.
pub fn mailer_name(name: &str) -> Cow<'static, str> {
    const KNOWN: &[&str] = &[
        "esmtp",
        "smtp",
        "relay",
        "local",
        "prog",
        "smtp8",
        "dsmtp",
        "lmtp",
        "virtual",
        "pipe",
        "error",
        "retry",
        "discard",
        "remote_smtp",
        "local_delivery",
        "address_pipe",
        "address_file",
        "address_reply",
    ];
    match KNOWN.iter().find(|k| **k == name) {
        Some(k) => Cow::Borrowed(k),
        None => Cow::Owned(name.to_owned()),
    }
}

impl Delivery {
    /// Local deliveries (mailer `local`, `prog`, `*file*`, Postfix `local`/`virtual`) never
    /// touch the network and are left out of peer posture.
    pub fn is_local(&self) -> bool {
        if self.peer.is_none() {
            return true;
        }
        matches!(
            self.mailer.as_deref(),
            Some("local" | "prog" | "*file*" | "*include*" | "virtual" | "lmtp-local")
        )
    }
}

/// A policy ruleset verdict that carries a TLS outcome (Sendmail `ruleset=tls_server,
/// arg1=SOFTWARE, relay=…, reject=403 4.7.0 TLS handshake failed.`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyCheck {
    /// `tls_server` (checked in the client, so the peer is a server: outbound),
    /// `tls_client` (checked in the server: inbound), `tls_rcpt`, …
    pub ruleset: String,
    /// `arg1=` read as a verify word.
    pub verify: Verify,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub arg2: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub peer: Option<Peer>,
    /// `reject=…`, `status=…`, `discard` or `quarantine=…` as logged.
    pub outcome: String,
}

impl PolicyCheck {
    /// The direction of the session the ruleset judged.
    pub fn direction(&self) -> Option<Direction> {
        match self.ruleset.as_str() {
            "tls_server" | "tls_rcpt" => Some(Direction::Outbound),
            // `check_mail`: the parser keeps only its `tls_client` refusals of a client
            // without STARTTLS.
            "tls_client" | "check_mail" => Some(Direction::Inbound),
            _ => None,
        }
    }

    /// True when the ruleset refused the session or message.
    pub fn is_reject(&self) -> bool {
        self.outcome.starts_with("reject")
    }
}

/// Why an inbound session ended, typed so that the correlator decides on the variant
/// ([`EndReason::Disconnect`] closes a Postfix session and reads its counters; the others
/// only say the session is over) while the log's words stay what is shown: the value is
/// written as the line said it (`disconnect`, `lost connection after DATA`, `timeout
/// during server cmd read`) and read back from those words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndReason {
    /// Postfix `disconnect from PEER [counters]`: the session is over.
    Disconnect,
    /// Postfix `lost connection|timeout|too many errors|improper command pipelining after
    /// CMD`: `what` is the words before `after`, `after` the command.
    Aborted { what: String, after: String },
    /// Sendmail `lost input channel from … after CMD`.
    LostInput { after: String },
    /// Sendmail `… did not issue MAIL/EXPN/VRFY/ETRN during connection to …`.
    NoCommand,
    /// Exim `no MAIL in SMTP connection from …`.
    NoMail,
    /// Sendmail `timeout waiting for input from … during PHASE` (server side).
    Timeout { during: String },
    /// Words no parser of this version writes (a newer event stream), kept as read.
    Other(String),
}

impl EndReason {
    /// Reads the words [`fmt::Display`] writes.
    pub fn parse(words: &str) -> EndReason {
        match words {
            "disconnect" => return EndReason::Disconnect,
            "did not issue MAIL/EXPN/VRFY/ETRN" => return EndReason::NoCommand,
            "no MAIL in SMTP connection" => return EndReason::NoMail,
            _ => {}
        }
        if let Some(after) = words.strip_prefix("lost input channel after ") {
            EndReason::LostInput {
                after: after.to_owned(),
            }
        } else if let Some(during) = words.strip_prefix("timeout during ") {
            EndReason::Timeout {
                during: during.to_owned(),
            }
        } else if let Some((what, after)) = words.split_once(" after ") {
            EndReason::Aborted {
                what: what.to_owned(),
                after: after.to_owned(),
            }
        } else {
            EndReason::Other(words.to_owned())
        }
    }
}

/// The log's words.
impl fmt::Display for EndReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EndReason::Disconnect => f.write_str("disconnect"),
            EndReason::Aborted { what, after } => write!(f, "{what} after {after}"),
            EndReason::LostInput { after } => write!(f, "lost input channel after {after}"),
            EndReason::NoCommand => f.write_str("did not issue MAIL/EXPN/VRFY/ETRN"),
            EndReason::NoMail => f.write_str("no MAIL in SMTP connection"),
            EndReason::Timeout { during } => write!(f, "timeout during {during}"),
            EndReason::Other(s) => f.write_str(s),
        }
    }
}

impl Serialize for EndReason {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for EndReason {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(EndReason::parse(&s))
    }
}

/// What one recognised line says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// A completed TLS negotiation.
    Tls(TlsSession),
    /// A TLS problem.
    TlsError(TlsError),
    /// A peer connected to us (Postfix `connect from`); starts an inbound session.
    Connect { peer: Peer },
    /// A message was received.
    Received(Reception),
    /// Postfix smtpd `QID: client=NAME[IP]`: the queue id of a message arriving over the
    /// current session of this process. It is the link from an smtpd session (and its TLS
    /// line) to the message, whose `from=` is logged later by another process (qmgr).
    QueueClient { queue_id: QueueId, peer: Peer },
    /// A delivery attempt.
    Delivery(Delivery),
    /// A policy ruleset verdict about TLS.
    Policy(PolicyCheck),
    /// Evidence that TLS is up for a role: the MTA initialised its TLS context (Sendmail
    /// `STARTTLS=server, init=1` / `STARTTLS=client, init=1`, logged at `LogLevel` > 12
    /// each time a daemon or a queue runner sets TLS up). It is not a session with a peer;
    /// it exists so that a downgrade window opened by a local key or certificate incident
    /// can be closed by proof that TLS works again for that role. `direction` is the role
    /// (`server` = inbound, `client` = outbound); `None` when the line did not say.
    TlsReady {
        #[serde(skip_serializing_if = "Option::is_none", default)]
        direction: Option<Direction>,
    },
    /// The MTA daemon (re)started (Sendmail `starting daemon (8.17.1.9): SMTP+queueing@…`,
    /// Postfix master `daemon started -- version 3.7.11, configuration /etc/postfix`, Exim
    /// `exim 4.96 daemon started: pid=…`). A restart re-reads keys and certificates, so a
    /// local incident either reappears right after it (still broken) or does not (fixed):
    /// downgrade windows use it as the point where a fix can take effect. `version` is the
    /// MTA version when the line names it.
    DaemonStart {
        #[serde(skip_serializing_if = "Option::is_none", default)]
        version: Option<String>,
    },
    /// An inbound session ended (`did not issue MAIL/EXPN/VRFY/ETRN`, `lost input channel`,
    /// Postfix `disconnect from`). `starttls` is Postfix's `starttls=ok/total` counter.
    SessionEnd {
        #[serde(skip_serializing_if = "Option::is_none", default)]
        peer: Option<Peer>,
        reason: EndReason,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        starttls: Option<(u32, u32)>,
    },
}

/// One recognised log line: the envelope facts plus what the line says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub stamp: Stamp,
    /// The logging host from the syslog envelope (`None` when absent or `(none)`).
    pub host: Option<Arc<str>>,
    pub mta: Mta,
    /// The process id from `prog[pid]:`; correlation keys sessions by it.
    pub pid: Option<u32>,
    pub source: Source,
    pub kind: EventKind,
}

impl Event {
    pub fn time(&self) -> Option<DateTime<FixedOffset>> {
        self.stamp.time()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        /// The cheap trims of [`super::Peer::new`] name the peer `str::trim` and
        /// `trim_end_matches('.')` named (the old code).
        #[test]
        fn peer_names_are_trimmed_as_before(n in "[ \t\x0b.a-zA-Z0-9\u{a0}\u{2003}-]{0,12}") {
            let old = Some(n.trim().trim_end_matches('.'))
                .filter(|n| !n.is_empty() && !n.eq_ignore_ascii_case("unknown"))
                .map(compact_str::CompactString::new);
            prop_assert_eq!(super::Peer::new(Some(&n), None).name, old);
        }
    }

    #[test]
    fn words_are_the_serialised_names() {
        use super::{DeliveryStatus, Mta};
        for m in [Mta::Sendmail, Mta::Postfix, Mta::Exim] {
            assert_eq!(serde_json::to_value(m).unwrap(), m.as_str());
        }
        for s in [
            DeliveryStatus::Sent,
            DeliveryStatus::Deferred,
            DeliveryStatus::Bounced,
            DeliveryStatus::Other,
        ] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }

    use super::*;

    #[test]
    fn version_spellings() {
        let rows = [
            ("TLSv1.3", TlsVersion::Tls1_3),
            ("TLS1.3", TlsVersion::Tls1_3),
            ("TLS1_3", TlsVersion::Tls1_3),
            ("TLSv1.2", TlsVersion::Tls1_2),
            ("TLS1_2", TlsVersion::Tls1_2),
            ("TLSv1.1", TlsVersion::Tls1_1),
            ("TLSv1", TlsVersion::Tls1_0),
            ("TLSv1.0", TlsVersion::Tls1_0),
            ("SSLv3", TlsVersion::Ssl3),
            ("SSLv2", TlsVersion::Ssl2),
            ("TLSv1/SSLv3", TlsVersion::Legacy),
            ("UNKNOWN", TlsVersion::Other("UNKNOWN".into())),
            ("TLS", TlsVersion::Other("TLS".into())),
        ];
        for (raw, want) in rows {
            assert_eq!(TlsVersion::parse(raw), want, "{raw}");
        }
        assert!(!TlsVersion::Legacy.is_deprecated());
        assert!(TlsVersion::Tls1_0.is_deprecated());
        assert_eq!(TlsVersion::Legacy.label(), "TLSv1/SSLv3");
    }

    #[test]
    fn verify_round_trip() {
        for w in [
            "OK",
            "NO",
            "NOT",
            "FAIL",
            "NONE",
            "TEMP",
            "PROTOCOL",
            "SOFTWARE",
            "CLEAR",
            "TRUSTED",
            "DANE_FAIL",
            "DANE_TEMP",
            "DANE_NOTLS",
            "CONFIG",
            "FAILURE",
            "MAYBE",
        ] {
            assert_eq!(Verify::parse(w).as_str(), w);
        }
        assert_eq!(Verify::parse("MAYBE"), Verify::Other("MAYBE".into()));
        // The log's silence has its own variant, written as before.
        assert_eq!(Verify::parse("UNKNOWN"), Verify::Unknown);
        assert_eq!(Verify::Unknown.as_str(), "UNKNOWN");
        assert_eq!(
            serde_json::to_string(&Verify::Unknown).unwrap(),
            "\"UNKNOWN\""
        );
        assert_eq!(
            serde_json::from_str::<Verify>("\"UNKNOWN\"").unwrap(),
            Verify::Unknown
        );
    }

    /// Every reason the parsers write reads back as the same variant from its words, so
    /// an event stream round-trips and the words shown are the log's.
    #[test]
    fn end_reasons_are_typed_and_written_as_the_log_said() {
        let cases = [
            ("disconnect", EndReason::Disconnect),
            (
                "lost connection after DATA",
                EndReason::Aborted {
                    what: "lost connection".into(),
                    after: "DATA".into(),
                },
            ),
            (
                "too many errors after RCPT",
                EndReason::Aborted {
                    what: "too many errors".into(),
                    after: "RCPT".into(),
                },
            ),
            (
                "lost input channel after EHLO",
                EndReason::LostInput {
                    after: "EHLO".into(),
                },
            ),
            ("did not issue MAIL/EXPN/VRFY/ETRN", EndReason::NoCommand),
            ("no MAIL in SMTP connection", EndReason::NoMail),
            (
                "timeout during server cmd read",
                EndReason::Timeout {
                    during: "server cmd read".into(),
                },
            ),
            (
                "hung up politely",
                EndReason::Other("hung up politely".into()),
            ),
        ];
        for (words, want) in cases {
            assert_eq!(EndReason::parse(words), want, "{words}");
            assert_eq!(want.to_string(), words);
            let json = serde_json::to_string(&want).unwrap();
            assert_eq!(json, format!("\"{words}\""));
            assert_eq!(serde_json::from_str::<EndReason>(&json).unwrap(), want);
        }
    }

    #[test]
    fn peer_key_prefers_name_lowercased_without_dot() {
        let p = Peer::new(Some("MX1.Peer.Example."), "192.0.2.1".parse().ok());
        assert_eq!(p.key().as_deref(), Some("mx1.peer.example"));
        let p = Peer::new(Some("unknown"), "2001:db8::1".parse().ok());
        assert_eq!(p.key().as_deref(), Some("2001:db8::1"));
        assert!(Peer::new(None, None).key().is_none());
    }

    #[test]
    fn loopback_peers() {
        let yes = [
            Peer::new(Some("localhost"), "127.0.0.1".parse().ok()),
            Peer::new(None, "127.0.0.1".parse().ok()),
            Peer::new(None, "::1".parse().ok()),
            Peer::new(None, "::ffff:127.0.0.1".parse().ok()),
            Peer::new(Some("localhost.localdomain"), None),
            Peer::new(Some("LocalHost"), None),
            Peer::new(Some("mx.example"), "::1".parse().ok()),
        ];
        for p in yes {
            assert!(p.is_loopback(), "{p}");
        }
        let no = [
            Peer::new(Some("localhost"), "192.0.2.1".parse().ok()),
            Peer::new(Some("mx.example"), None),
            Peer::new(None, "192.0.2.1".parse().ok()),
            Peer::new(Some("localhost2.example"), None),
            Peer::new(
                Some("localhost.localdomain"),
                "::ffff:192.0.2.1".parse().ok(),
            ),
        ];
        for p in no {
            assert!(!p.is_loopback(), "{p}");
        }
    }

    /// Events are moved by value from the parser into the block's list (the correlator then
    /// takes what it keeps out of each where it lies), records out of the correlator into
    /// the folds (issue 21 measured memmove at 7% of the main thread): the rare large parts (TLS parameters written on a message line, TLS
    /// details) are boxed so the common event stays small, and records share their TLS
    /// parameters. The bounds are what that layout gives on 64-bit targets; unboxing one
    /// of them again fails this test.
    #[test]
    fn events_and_records_stay_small() {
        use std::mem::size_of;
        let sizes = [
            ("Event", size_of::<Event>()),
            ("EventKind", size_of::<EventKind>()),
            ("Delivery", size_of::<Delivery>()),
            ("Reception", size_of::<Reception>()),
            ("TlsSession", size_of::<TlsSession>()),
            ("TlsParams", size_of::<TlsParams>()),
            ("Record", size_of::<crate::model::Record>()),
        ];
        eprintln!("{sizes:?}");
        if size_of::<usize>() == 8 {
            assert!(size_of::<Delivery>() <= 208, "{sizes:?}");
            assert!(size_of::<Reception>() <= 128, "{sizes:?}");
            assert!(size_of::<Event>() <= 280, "{sizes:?}");
            // The session's parameters are shared (`Arc`), not carried by each record.
            assert!(size_of::<crate::model::Record>() <= 168, "{sizes:?}");
        }
    }

    #[test]
    fn bits_order_is_explicit() {
        // 3DES: Sendmail logs bits=168/112, Postfix (112/168 bits): same facts.
        assert_eq!(
            Bits::sendmail_log(Some(168), Some(112)),
            Bits::postfix(Some(112), Some(168))
        );
        assert_eq!(
            Bits::sendmail_log(Some(168), Some(112)).effective(),
            Some(112)
        );
    }
}
