//! `mailtls check --domain DOMAIN`: check a mail domain the way a sending MTA meets it,
//! not one host: the MX walk (preference order, then every A/AAAA), each address
//! checked as `mailtls check` does, and the three published policies that decide what a
//! careful sender does with the result —
//!
//! * DANE (RFC 7672): `_25._tcp.MX` TLSA records, DNSSEC-validated, matched against
//!   the chain each address presented ([`dane`]), in Sendmail's words
//!   (`TRUSTED`, `DANE_FAIL`, `DANE_TEMP`, `DANE_NOTLS`);
//! * MTA-STS (RFC 8461): the `_mta-sts` TXT record, the policy over HTTPS, each MX
//!   name against the `mx` patterns and its certificate against the Web PKI
//!   ([`mtasts`]);
//! * TLS-RPT (RFC 8460): the `_smtp._tls` TXT record ([`tlsrpt`]).
//!
//! The result is one [`DomainReport`] per domain with a verdict and findings, beside
//! the usual per-address records of `mailtls.check/1`. Lookups go through hickory
//! ([`dns`]); everything else is the blocking probe code.

/// Why a published MTA-STS or TLS-RPT record, or an MTA-STS policy file, is not valid
/// (RFC 8461 §3.1/§3.2, RFC 8460 §3): the finding's reason, in the RFC's terms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("empty record")]
    Empty,
    #[error("does not start with {want} ({got:?})")]
    Version { want: &'static str, got: String },
    #[error("no {0} field")]
    Missing(&'static str),
    #[error("id {0:?} is not 1-32 letters and digits")]
    Id(String),
    #[error("line {0:?} is not key: value")]
    NotKeyValue(String),
    #[error("unknown mode {0:?}")]
    Mode(String),
    #[error("max_age {0:?} is not a number")]
    MaxAgeNumber(String),
    #[error("max_age {0} is over 31557600 (one year)")]
    MaxAgeTooLong(u64),
    #[error("version {0:?} is not STSv1")]
    PolicyVersion(String),
    #[error("{0} v=STSv1 records (RFC 8461 §3.1 wants exactly one)")]
    SeveralSts(usize),
    #[error("{count} v=TLSRPTv1 records at {name}")]
    SeveralTlsRpt { count: usize, name: String },
    #[error("rua is empty")]
    RuaEmpty,
    #[error("rua {0:?} is neither mailto:ADDRESS nor https://…")]
    Rua(String),
}

pub mod dane;
pub mod dns;
mod judge;
pub mod mtasts;
mod policies;
pub mod tlsrpt;

use std::net::IpAddr;
use std::sync::Mutex;

use serde::Serialize;

use crate::model::Verify;
use crate::probe::{self, CheckResult, Finding, Options, Severity, Status, Target};
use dane::DaneOutcome;
use dns::{Answer, Dns, Dnssec};

/// What `check --domain` needs besides the probe options.
#[derive(Debug, Clone)]
pub struct DomainOptions {
    /// Port of the MX hosts' SMTP service (25; `--smtp-port` for a lab).
    pub smtp_port: u16,
    /// Port of the MTA-STS policy server (443; `--mta-sts-port` for a lab).
    pub mta_sts_port: u16,
    /// Addresses checked at once.
    pub jobs: usize,
}

/// The domain's MX hosts as a sender sees them.
#[derive(Debug, Clone, Serialize)]
pub struct MxHost {
    pub host: String,
    pub preference: u16,
    /// DNSSEC status of the host's A/AAAA records.
    pub addresses_dnssec: Option<Dnssec>,
    pub ips: Vec<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub tlsa: TlsaSet,
    /// The policy `mx` pattern the host matches (MTA-STS), if a policy was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sts_pattern: Option<String>,
    /// One line per address checked.
    pub addresses: Vec<AddressVerdict>,
}

/// The TLSA RRset of one MX host.
#[derive(Debug, Clone, Serialize)]
pub struct TlsaSet {
    /// `_25._tcp.HOST`.
    pub name: String,
    /// `secure`, `insecure`, `bogus`, `indeterminate`, or absent when not looked up
    /// or absent.
    pub dnssec: Option<Dnssec>,
    /// Records in full presentation form (`3 1 1 8cb0…`).
    pub records: Vec<String>,
    /// Whether DANE applies to this host: a secure, non-empty TLSA RRset on a host
    /// with secure addresses.
    pub dane: bool,
    /// Why DANE does not apply, or why the lookup failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(skip)]
    parsed: Vec<dane::Tlsa>,
    #[serde(skip)]
    temp: bool,
}

/// What a sender would make of one MX address.
#[derive(Debug, Clone, Serialize)]
pub struct AddressVerdict {
    pub ip: IpAddr,
    /// The plain check's verify word (Web PKI, name = MX host).
    pub verify: Option<Verify>,
    /// DANE's verify word and reasons, when DANE applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dane: Option<DaneOutcome>,
    /// MTA-STS: `pass` (pattern matched, certificate verified, TLS done), `fail`, or
    /// absent without a policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mta_sts: Option<String>,
}

/// The MTA-STS part.
#[derive(Debug, Clone, Serialize, Default)]
pub struct StsReport {
    /// TXT strings at `_mta-sts.DOMAIN` that start with `v=STSv1`.
    pub txt: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<mtasts::Policy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<mtasts::FetchError>,
    /// In enforce mode: would a sender deliver (at least one MX passes)?
    #[serde(skip_serializing_if = "Option::is_none")]
    pub would_deliver: Option<bool>,
}

/// The TLS-RPT part.
#[derive(Debug, Clone, Serialize, Default)]
pub struct RptReport {
    pub present: bool,
    pub valid: bool,
    pub rua: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One domain's verdict with its parts; the `domain` object of `mailtls.check/1`.
#[derive(Debug, Clone, Serialize)]
pub struct DomainReport {
    pub domain: String,
    pub status: Status,
    /// What a DANE- and MTA-STS-aware sender applies: `dane` (every MX has usable
    /// TLSA), `dane+mta-sts`, `mta-sts`, `partial-dane`, or `opportunistic`.
    pub policy: String,
    pub resolver: String,
    pub trust_anchor: String,
    /// DNSSEC status of the MX RRset.
    pub mx_dnssec: Option<Dnssec>,
    /// Implicit MX (no MX RRset: the domain itself, RFC 5321 §5.1) or null MX (RFC 7505).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mx_note: Option<String>,
    pub mx: Vec<MxHost>,
    pub mta_sts: StsReport,
    pub tls_rpt: RptReport,
    pub findings: Vec<Finding>,
    /// Set when **our** resolver failed (no answer within `--timeout`, REFUSED, no DNSSEC
    /// through it): nothing about the domain could be decided, and nothing is claimed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolver_error: Option<String>,
    pub elapsed_ms: f64,
}

impl DomainReport {
    fn finding(&mut self, severity: Severity, code: &'static str, text: impl Into<String>) {
        self.findings.push(Finding {
            severity,
            code,
            text: text.into(),
        });
    }

    /// True when the run should exit 1.
    pub fn failed(&self) -> bool {
        self.status >= Status::Fail
    }
}

/// Checks `domain`: returns its report and every address's check record.
pub fn check_domain(
    domain: &str,
    dns: &Dns,
    dopts: &DomainOptions,
    opts: &Options,
) -> (DomainReport, Vec<CheckResult>) {
    let started = std::time::Instant::now();
    let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let mut rep = DomainReport {
        domain: domain.clone(),
        status: Status::Pass,
        policy: "opportunistic".into(),
        resolver: dns.server.clone(),
        trust_anchor: dns.anchor.clone(),
        mx_dnssec: None,
        mx_note: None,
        mx: Vec::new(),
        mta_sts: StsReport::default(),
        tls_rpt: RptReport::default(),
        findings: Vec::new(),
        resolver_error: None,
        elapsed_ms: 0.0,
    };
    let hosts = mx_walk(&domain, dns, &mut rep);
    if resolver_failed(dns, &mut rep) {
        rep.elapsed_ms = (started.elapsed().as_secs_f64() * 100_000.0).round() / 100.0;
        return (rep, Vec::new());
    }
    for (preference, host) in hosts {
        rep.mx
            .push(resolve_host(&host, preference, dns, dopts.smtp_port));
    }
    for m in &rep.mx {
        if let Some(e) = &m.error {
            let (sev, code) = if m.addresses_dnssec == Some(Dnssec::Bogus) {
                (Severity::Fail, "dnssec_bogus")
            } else {
                (Severity::Error, "dns_failed")
            };
            rep.findings.push(Finding {
                severity: sev,
                code,
                text: format!("MX {}: {e}", m.host),
            });
        }
    }
    policies::sts_lookup(&domain, dns, dopts, opts, &mut rep);
    policies::rpt_lookup(&domain, dns, &mut rep);
    if resolver_failed(dns, &mut rep) {
        rep.elapsed_ms = (started.elapsed().as_secs_f64() * 100_000.0).round() / 100.0;
        return (rep, Vec::new());
    }

    // Every address of every MX, checked under the per-address cap, -j at once.
    let work: Vec<(usize, IpAddr)> = rep
        .mx
        .iter()
        .enumerate()
        .flat_map(|(i, m)| m.ips.iter().map(move |ip| (i, *ip)))
        .collect();
    let results = run_checks(&rep.mx, &work, dopts, opts);
    for ((i, ip), r) in work.iter().zip(&results) {
        let Some(m) = rep.mx.get_mut(*i) else {
            continue;
        };
        let dane = m.tlsa.dane.then(|| dane_for(&m.tlsa, r, &m.host));
        let dane = dane.or_else(|| {
            m.tlsa.temp.then(|| DaneOutcome {
                verify: "DANE_TEMP".into(),
                matched: None,
                matched_cert: None,
                detail: vec![m.tlsa.note.clone().unwrap_or_default()],
            })
        });
        let sts = rep
            .mta_sts
            .policy
            .as_ref()
            .filter(|p| p.mode != mtasts::Mode::None)
            .map(|_| {
                let ok = m.sts_pattern.is_some() && r.verify == Some(Verify::Ok);
                if ok { "pass" } else { "fail" }.to_owned()
            });
        m.addresses.push(AddressVerdict {
            ip: *ip,
            verify: r.verify.clone(),
            dane,
            mta_sts: sts,
        });
    }
    judge::judge(&mut rep, &results);
    rep.elapsed_ms = (started.elapsed().as_secs_f64() * 100_000.0).round() / 100.0;
    rep.status = match rep.findings.iter().map(|f| f.severity).max() {
        Some(Severity::Error) => Status::Error,
        Some(Severity::Fail) => Status::Fail,
        Some(Severity::Warn) => Status::Warn,
        _ => Status::Pass,
    };
    (rep, results)
}

/// When our resolver failed during the run: the report says so and only so. The
/// findings drawn from lookups it did not answer ("no MX", "no MTA-STS record", …) are
/// dropped, since they would blame the domain for our DNS; status is `ERROR`.
fn resolver_failed(dns: &Dns, rep: &mut DomainReport) -> bool {
    let Some(why) = dns.failure().or_else(|| rep.resolver_error.clone()) else {
        return false;
    };
    rep.findings.clear();
    rep.mx.clear();
    rep.mx_note = None;
    rep.mx_dnssec = None;
    rep.mta_sts = StsReport::default();
    rep.tls_rpt = RptReport::default();
    rep.finding(
        Severity::Error,
        "resolver_failed",
        format!(
            "our DNS failed, not {}'s: {why}; nothing about the domain was checked",
            rep.domain
        ),
    );
    rep.resolver_error = Some(why);
    rep.status = Status::Error;
    true
}

/// MX hosts in preference order; the domain itself when it has no MX (implicit MX);
/// nothing for a null MX or a domain that does not exist.
fn mx_walk(domain: &str, dns: &Dns, rep: &mut DomainReport) -> Vec<(u16, String)> {
    match dns.mx(domain) {
        Answer::Records(mx, d) => {
            rep.mx_dnssec = Some(d);
            if mx.len() == 1 && mx.first().is_some_and(|(_, h)| h == ".") {
                rep.mx_note = Some("null MX (RFC 7505): the domain accepts no mail".into());
                rep.finding(
                    Severity::Info,
                    "null_mx",
                    format!("{domain} has a null MX: it accepts no mail"),
                );
                return Vec::new();
            }
            if d != Dnssec::Secure {
                rep.finding(
                    Severity::Info,
                    "mx_insecure",
                    format!(
                        "the MX RRset of {domain} is {} (not DNSSEC-signed): a DANE sender cannot trust the MX names",
                        d.label()
                    ),
                );
            }
            mx.into_iter()
                .map(|(p, h)| (p, h.trim_end_matches('.').to_ascii_lowercase()))
                .collect()
        }
        Answer::None => {
            rep.mx_note =
                Some("no MX records: the domain itself is the implicit MX (RFC 5321 §5.1)".into());
            rep.finding(
                Severity::Warn,
                "no_mx",
                format!("{domain} has no MX records; senders fall back to its address records"),
            );
            vec![(0, domain.to_owned())]
        }
        Answer::NxDomain => {
            rep.mx_note = Some("the domain does not exist (NXDOMAIN)".into());
            rep.finding(
                Severity::Fail,
                "nxdomain",
                format!("{domain} does not exist (NXDOMAIN): mail to it bounces"),
            );
            Vec::new()
        }
        Answer::Unanswered(e) => {
            rep.resolver_error = Some(e);
            Vec::new()
        }
        Answer::Bogus(e) => {
            rep.mx_dnssec = Some(Dnssec::Bogus);
            rep.finding(
                Severity::Fail,
                "dnssec_bogus",
                format!("MX lookup of {domain} is DNSSEC-bogus ({e}): DANE senders defer all mail"),
            );
            Vec::new()
        }
        Answer::Failed(e) => {
            rep.finding(
                Severity::Error,
                "dns_failed",
                format!("MX lookup of {domain} failed: {e}"),
            );
            Vec::new()
        }
    }
}

fn resolve_host(host: &str, preference: u16, dns: &Dns, port: u16) -> MxHost {
    let mut m = MxHost {
        host: host.to_owned(),
        preference,
        addresses_dnssec: None,
        ips: Vec::new(),
        error: None,
        tlsa: TlsaSet {
            name: format!("_{port}._tcp.{host}"),
            dnssec: None,
            records: Vec::new(),
            dane: false,
            note: None,
            parsed: Vec::new(),
            temp: false,
        },
        sts_pattern: None,
        addresses: Vec::new(),
    };
    match dns.ips(host) {
        Answer::Records(ips, d) => {
            m.ips = ips;
            m.addresses_dnssec = Some(d);
        }
        Answer::None => {
            m.error = Some(format!("{host} has no A or AAAA record"));
            return m;
        }
        Answer::NxDomain => {
            m.error = Some(format!("{host} does not exist (NXDOMAIN)"));
            return m;
        }
        Answer::Unanswered(e) => {
            m.error = Some(format!("address lookup not answered: {e}"));
            return m;
        }
        Answer::Bogus(e) => {
            m.addresses_dnssec = Some(Dnssec::Bogus);
            m.error = Some(format!("address lookup is DNSSEC-bogus: {e}"));
            return m;
        }
        Answer::Failed(e) => {
            m.error = Some(format!("address lookup failed: {e}"));
            return m;
        }
    }
    // RFC 7672 §2.2.2: TLSA records are only looked up for hosts whose addresses are
    // secure; otherwise DANE does not apply.
    if m.addresses_dnssec != Some(Dnssec::Secure) {
        m.tlsa.note = Some(format!(
            "addresses are {}: DANE does not apply (RFC 7672 §2.2.2)",
            m.addresses_dnssec.map(Dnssec::label).unwrap_or("unknown")
        ));
        return m;
    }
    match dns.tlsa(host, port) {
        Answer::Records(rs, d) => {
            m.tlsa.dnssec = Some(d);
            m.tlsa.records = rs.iter().map(dane::Tlsa::full).collect();
            if d == Dnssec::Secure {
                m.tlsa.dane = true;
                m.tlsa.parsed = rs;
            } else {
                m.tlsa.note = Some(format!("TLSA records are {}: not usable", d.label()));
            }
        }
        Answer::None | Answer::NxDomain => m.tlsa.note = Some("no TLSA records".into()),
        Answer::Bogus(e) => {
            m.tlsa.dnssec = Some(Dnssec::Bogus);
            m.tlsa.temp = true;
            m.tlsa.note = Some(format!("TLSA lookup is DNSSEC-bogus: {e}"));
        }
        Answer::Failed(e) | Answer::Unanswered(e) => {
            m.tlsa.temp = true;
            m.tlsa.note = Some(format!("TLSA lookup failed: {e}"));
        }
    }
    m
}

/// DANE's word for one address (RFC 7672 §2.2: TLSA present means TLS is required).
fn dane_for(t: &TlsaSet, r: &CheckResult, host: &str) -> DaneOutcome {
    let no_tls = |verify: &str, why: String| DaneOutcome {
        verify: verify.into(),
        matched: None,
        matched_cert: None,
        detail: vec![why],
    };
    match &r.verify {
        Some(Verify::None) => no_tls(
            "DANE_NOTLS",
            "the server does not offer STARTTLS, yet TLSA records demand TLS".into(),
        ),
        Some(Verify::Temp | Verify::Protocol | Verify::Software) | None => no_tls(
            "DANE_FAIL",
            format!(
                "no TLS session to match against ({})",
                r.verify
                    .as_ref()
                    .map(Verify::as_str)
                    .unwrap_or("no connection")
            ),
        ),
        _ => dane::match_chain(&t.parsed, &r.chain_der, host),
    }
}
fn run_checks(
    mx: &[MxHost],
    work: &[(usize, IpAddr)],
    dopts: &DomainOptions,
    opts: &Options,
) -> Vec<CheckResult> {
    let jobs = dopts.jobs.clamp(1, 64).min(work.len().max(1));
    let next = Mutex::new(0usize);
    let out: Mutex<Vec<Option<CheckResult>>> = Mutex::new(vec![None; work.len()]);
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| {
                loop {
                    let i = {
                        let mut n = next.lock().unwrap_or_else(|p| p.into_inner());
                        let i = *n;
                        *n += 1;
                        i
                    };
                    let Some((m, ip)) = work.get(i) else { break };
                    let Some(host) = mx.get(*m) else { continue };
                    let target = Target {
                        host: host.host.clone(),
                        port: dopts.smtp_port,
                    };
                    let r = probe::check_address(&target, *ip, opts);
                    let mut slots = out.lock().unwrap_or_else(|p| p.into_inner());
                    if let Some(slot) = slots.get_mut(i) {
                        *slot = Some(r);
                    }
                }
            });
        }
    });
    out.into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .flatten()
        .collect()
}

/// A TLSA record's presentation form cut to 32 hex digits for text: `3 1 1 8cb0…`.
pub fn short(full: &str) -> String {
    match full.rsplit_once(' ') {
        Some((head, hex)) if hex.len() > 32 => {
            format!("{head} {}…", hex.get(..32).unwrap_or(hex))
        }
        _ => full.to_owned(),
    }
}
