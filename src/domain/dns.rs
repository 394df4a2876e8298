//! DNS for `check --domain`: MX, A/AAAA, TLSA and TXT lookups through hickory-resolver
//! with DNSSEC validation, each answer labelled secure, insecure or bogus.
//!
//! hickory is async (tokio); the rest of mailtls is blocking. A current-thread runtime
//! lives inside [`Dns`] and each lookup is `block_on`, so the async world stays inside
//! this file and nothing else has to change. The resolver validates itself (it does
//! not trust an AD bit): by default from the IANA root keys compiled into hickory, or
//! from the DNSKEY records of `--trust-anchor FILE` (a lab option for test zones).

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::dnssec::{Proof, TrustAnchors};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{RData, Record, RecordType};
use serde::Serialize;

use super::dane::Tlsa;

/// What DNSSEC said about an answer (RFC 4035 §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dnssec {
    /// Signed, and the signatures chain to a trust anchor.
    Secure,
    /// Provably unsigned (a parent proves there is no DS): DANE does not apply.
    Insecure,
    /// Signed but the signatures do not verify, or the chain is broken: an attack or a
    /// botched key roll; a DANE sender defers mail (`DANE_TEMP`).
    Bogus,
    /// Neither proven secure nor insecure (no trust anchor above the name).
    Indeterminate,
}

impl Dnssec {
    pub fn label(self) -> &'static str {
        match self {
            Dnssec::Secure => "secure",
            Dnssec::Insecure => "insecure",
            Dnssec::Bogus => "bogus",
            Dnssec::Indeterminate => "indeterminate",
        }
    }

    fn of(proofs: impl Iterator<Item = Proof>) -> Dnssec {
        let mut worst = None;
        for p in proofs {
            let d = match p {
                Proof::Secure => Dnssec::Secure,
                Proof::Insecure => Dnssec::Insecure,
                Proof::Bogus => Dnssec::Bogus,
                Proof::Indeterminate => Dnssec::Indeterminate,
            };
            worst = Some(match (worst, d) {
                (None, d) => d,
                (Some(Dnssec::Bogus), _) | (_, Dnssec::Bogus) => Dnssec::Bogus,
                (Some(Dnssec::Indeterminate), _) | (_, Dnssec::Indeterminate) => {
                    Dnssec::Indeterminate
                }
                (Some(Dnssec::Insecure), _) | (_, Dnssec::Insecure) => Dnssec::Insecure,
                _ => Dnssec::Secure,
            });
        }
        worst.unwrap_or(Dnssec::Indeterminate)
    }
}

/// One lookup's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer<T> {
    /// Records, and how well DNSSEC vouches for them.
    Records(Vec<T>, Dnssec),
    /// The name exists but has no records of the type (NODATA), as validated.
    None,
    /// The name does not exist at all (NXDOMAIN), as validated.
    NxDomain,
    /// Validation failed: the answer must not be used.
    Bogus(String),
    /// An answer that says nothing about the name (SERVFAIL, FORMERR, …): try later.
    Failed(String),
    /// **Our** resolver failed: it did not answer within the timeout, refused us, could
    /// not be reached, or cannot deliver data that validate at the trust anchor itself.
    /// Nothing about the domain follows from it, so it must never read as the domain's
    /// fault ("no record", "DNSSEC-bogus").
    Unanswered(String),
}

/// Where to send queries and what to trust.
#[derive(Debug, Clone, Default)]
pub struct DnsOptions {
    /// `--resolver IP[:PORT]`; the system's resolv.conf servers when absent.
    pub server: Option<SocketAddr>,
    /// `--trust-anchor FILE`: DNSKEY records in zone-file form; the IANA root keys when
    /// absent.
    pub trust_anchor: Option<std::path::PathBuf>,
    /// Time allowed for one lookup, validation included (`--timeout`); [`DEFAULT_TIMEOUT`]
    /// when absent. After one lookup went unanswered no other is sent, so a dead
    /// resolver costs one timeout per run, not one per record.
    pub timeout: Option<Duration>,
}

/// Time allowed for one lookup when [`DnsOptions::timeout`] is absent.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// A resolver for `opts`' servers; validating with `anchors` when given.
fn build(
    opts: &DnsOptions,
    anchors: Option<TrustAnchors>,
) -> Result<(TokioResolver, String), String> {
    let provider = TokioRuntimeProvider::default();
    let (mut builder, server) = match opts.server {
        Some(addr) => {
            let mut ns = NameServerConfig::udp_and_tcp(addr.ip());
            for c in &mut ns.connections {
                c.port = addr.port();
            }
            let config = ResolverConfig::from_name_servers(vec![ns]);
            (
                TokioResolver::builder_with_config(config, provider),
                format!("{addr} (--resolver)"),
            )
        }
        None => (
            TokioResolver::builder(provider)
                .map_err(|e| format!("cannot read the system resolver configuration: {e}"))?,
            "system (resolv.conf)".to_owned(),
        ),
    };
    {
        let o = builder.options_mut();
        o.validate = anchors.is_some();
        // /etc/hosts has no signatures; a domain check asks the DNS only.
        o.use_hosts_file = ResolveHosts::Never;
        // Names are absolute: no search list.
        o.ndots = 0;
        // Half the lookup budget per query, so one lost datagram is retried inside
        // the bound `Dns::ask` puts on the whole lookup.
        let t = opts.timeout.unwrap_or(DEFAULT_TIMEOUT);
        o.timeout = (t / 2).max(Duration::from_millis(200));
        o.attempts = 2;
    }
    if let Some(a) = anchors {
        builder = builder.with_trust_anchor(Arc::new(a));
    }
    let resolver = builder
        .build()
        .map_err(|e| format!("cannot build the resolver: {e}"))?;
    Ok((resolver, server))
}

/// The resolver with its runtime.
pub struct Dns {
    rt: tokio::runtime::Runtime,
    resolver: TokioResolver,
    /// The same servers without validation: tells a bogus answer (the data are there,
    /// the signatures fail) from a validation that could not finish (no answers at all).
    plain: TokioResolver,
    /// `127.0.0.1:5353 (--resolver)`, `system (resolv.conf)`, for the report.
    pub server: String,
    /// `IANA root`, `--trust-anchor FILE`, for the report.
    pub anchor: String,
    /// The zone the trust anchor signs (`.` for the IANA root keys): its SOA must
    /// validate through our resolver, or a bogus answer is our resolver's, not the domain's.
    anchor_zone: String,
    timeout: Duration,
    /// Why our resolver is taken as failed (the first unanswered lookup).
    down: Mutex<Option<String>>,
    /// Whether the anchor zone validates, once asked.
    anchor_ok: OnceLock<Result<(), String>>,
}

impl Dns {
    /// Builds the runtime and the validating resolver.
    pub fn new(opts: &DnsOptions) -> Result<Dns, String> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the DNS runtime: {e}"))?;
        let _guard = rt.enter();
        let anchors = match &opts.trust_anchor {
            Some(path) => TrustAnchors::from_file(path)
                .map_err(|e| format!("{}: not a DNSKEY trust anchor file: {e}", path.display()))?,
            None => TrustAnchors::default(),
        };
        let anchor = match &opts.trust_anchor {
            Some(p) => format!("--trust-anchor {}", p.display()),
            None => "IANA root keys".to_owned(),
        };
        let anchor_zone = match &opts.trust_anchor {
            Some(path) => anchor_owner(path).unwrap_or_else(|| ".".to_owned()),
            None => ".".to_owned(),
        };
        let (resolver, server) = build(opts, Some(anchors))?;
        let (plain, _) = build(opts, None)?;
        Ok(Dns {
            rt,
            resolver,
            plain,
            server,
            anchor,
            anchor_zone,
            timeout: opts.timeout.unwrap_or(DEFAULT_TIMEOUT),
            down: Mutex::new(None),
            anchor_ok: OnceLock::new(),
        })
    }

    /// Why our resolver failed, if it did during this run.
    pub fn failure(&self) -> Option<String> {
        self.down.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn mark_down(&self, why: &str) {
        let mut d = self.down.lock().unwrap_or_else(|p| p.into_inner());
        if d.is_none() {
            *d = Some(why.to_owned());
        }
    }

    /// One query through `r`, bounded by the lookup timeout.
    fn ask(
        &self,
        r: &TokioResolver,
        fqdn: &str,
        rtype: RecordType,
    ) -> Option<Result<hickory_resolver::lookup::Lookup, NetError>> {
        self.rt
            .block_on(async { tokio::time::timeout(self.timeout, r.lookup(fqdn, rtype)).await })
            .ok()
    }

    /// Whether DNSSEC works through our resolver at all: the SOA of the trust anchor's
    /// own zone must come back secure. When it does not (a resolver that strips
    /// signatures, a wrong `--trust-anchor`), every "bogus" is ours.
    fn anchor_validates(&self) -> Result<(), String> {
        self.anchor_ok
            .get_or_init(|| {
                let zone = self.anchor_zone.as_str();
                let why = match self.ask(&self.resolver, zone, RecordType::SOA) {
                    None => "timed out".to_owned(),
                    Some(Ok(l)) => {
                        let proof = Dnssec::of(
                            l.answers()
                                .iter()
                                .filter(|r| r.record_type() == RecordType::SOA)
                                .map(|r| r.proof),
                        );
                        if proof == Dnssec::Secure {
                            return Ok(());
                        }
                        format!("its SOA is {}", proof.label())
                    }
                    Some(Err(e)) => e.to_string(),
                };
                Err(format!(
                    "our resolver {} cannot give a validated answer even for the trust anchor's zone `{zone}` ({why}), so no answer through it can be judged",
                    self.server
                ))
            })
            .clone()
    }

    fn lookup(&self, name: &str, rtype: RecordType) -> Answer<Record> {
        let fqdn = if name.ends_with('.') {
            name.to_owned()
        } else {
            format!("{name}.")
        };
        if let Some(why) = self.failure() {
            return Answer::Unanswered(format!("{name} {rtype}: not asked, {why}"));
        }
        let Some(result) = self.ask(&self.resolver, &fqdn, rtype) else {
            let why = format!(
                "our resolver {} did not answer within {} s (timed out)",
                self.server,
                self.timeout.as_secs_f64()
            );
            self.mark_down(&why);
            return Answer::Unanswered(format!("{name} {rtype}: {why}"));
        };
        let answer = match result {
            Ok(lookup) => {
                let records: Vec<Record> = lookup
                    .answers()
                    .iter()
                    .filter(|r| r.record_type() == rtype)
                    .cloned()
                    .collect();
                if records.is_empty() {
                    return Answer::None;
                }
                let dnssec = Dnssec::of(records.iter().map(|r| r.proof));
                if dnssec == Dnssec::Bogus {
                    Answer::Bogus(format!("{name} {rtype}: DNSSEC validation failed"))
                } else {
                    Answer::Records(records, dnssec)
                }
            }
            Err(e) => classify(name, rtype, &e),
        };
        if let Answer::Unanswered(why) = &answer {
            self.mark_down(why);
            return answer;
        }
        // SERVFAIL and the like: the domain's servers, or ours? Ours when even the trust
        // anchor's zone does not come back validated.
        if let Answer::Failed(why) = &answer
            && let Err(ours) = self.anchor_validates()
        {
            self.mark_down(&ours);
            return Answer::Unanswered(format!("{why}; {ours}"));
        }
        // hickory calls a chain it could not fetch (no route, REFUSED, timeouts) bogus
        // too; only data that are there and fail their signatures are.
        match answer {
            Answer::Bogus(why) => match self.ask(&self.plain, &fqdn, rtype) {
                None => {
                    let why = format!(
                        "our resolver {} did not answer within {} s (timed out)",
                        self.server,
                        self.timeout.as_secs_f64()
                    );
                    self.mark_down(&why);
                    Answer::Unanswered(format!("{name} {rtype}: {why}"))
                }
                Some(Err(e)) if !(e.is_no_records_found() || e.is_nx_domain()) => {
                    match classify::<Record>(name, rtype, &e) {
                        Answer::Unanswered(w) => Answer::Unanswered(w),
                        _ => Answer::Failed(format!("{name} {rtype}: {e}")),
                    }
                }
                _ => match self.anchor_validates() {
                    Ok(()) => Answer::Bogus(why),
                    Err(ours) => {
                        self.mark_down(&ours);
                        Answer::Unanswered(format!("{name} {rtype}: {ours}"))
                    }
                },
            },
            other => other,
        }
    }

    /// MX hosts in preference order (ties in the order served), as `(preference, host)`.
    /// A null MX (`0 .`, RFC 7505) gives an empty list.
    pub fn mx(&self, domain: &str) -> Answer<(u16, String)> {
        map(self.lookup(domain, RecordType::MX), |r| match &r.data {
            RData::MX(mx) => Some((mx.preference, mx.exchange.to_ascii())),
            _ => None,
        })
        .sorted_by_key(|(pref, _)| *pref)
    }

    /// Addresses of a host: A then AAAA; the worse DNSSEC status of the two.
    pub fn ips(&self, host: &str) -> Answer<IpAddr> {
        let a = map(self.lookup(host, RecordType::A), |r| match &r.data {
            RData::A(a) => Some(IpAddr::V4(a.0)),
            _ => None,
        });
        let aaaa = map(self.lookup(host, RecordType::AAAA), |r| match &r.data {
            RData::AAAA(a) => Some(IpAddr::V6(a.0)),
            _ => None,
        });
        match (a, aaaa) {
            (Answer::Records(mut v4, d4), Answer::Records(v6, d6)) => {
                v4.extend(v6);
                Answer::Records(v4, Dnssec::of([proof_of(d4), proof_of(d6)].into_iter()))
            }
            (Answer::Records(v, d), _) | (_, Answer::Records(v, d)) => Answer::Records(v, d),
            (Answer::Bogus(e), _) | (_, Answer::Bogus(e)) => Answer::Bogus(e),
            (Answer::Unanswered(e), _) | (_, Answer::Unanswered(e)) => Answer::Unanswered(e),
            (Answer::Failed(e), _) | (_, Answer::Failed(e)) => Answer::Failed(e),
            (Answer::NxDomain, Answer::NxDomain) => Answer::NxDomain,
            (Answer::None | Answer::NxDomain, Answer::None | Answer::NxDomain) => Answer::None,
        }
    }

    /// TLSA records at `_PORT._tcp.HOST` (RFC 7672 §2.2).
    pub fn tlsa(&self, host: &str, port: u16) -> Answer<Tlsa> {
        let name = format!("_{port}._tcp.{}", host.trim_end_matches('.'));
        map(self.lookup(&name, RecordType::TLSA), |r| match &r.data {
            RData::TLSA(t) => Some(Tlsa {
                usage: u8::from(t.cert_usage),
                selector: u8::from(t.selector),
                matching: u8::from(t.matching),
                data: t.cert_data.clone(),
            }),
            _ => None,
        })
    }

    /// TXT records, each record's strings joined (RFC 7208 §3.3 style, as RFC 8461 and
    /// RFC 8460 ask).
    pub fn txt(&self, name: &str) -> Answer<String> {
        map(self.lookup(name, RecordType::TXT), |r| match &r.data {
            RData::TXT(t) => Some(
                t.txt_data
                    .iter()
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .collect::<String>(),
            ),
            _ => None,
        })
    }
}

fn proof_of(d: Dnssec) -> Proof {
    match d {
        Dnssec::Secure => Proof::Secure,
        Dnssec::Insecure => Proof::Insecure,
        Dnssec::Bogus => Proof::Bogus,
        Dnssec::Indeterminate => Proof::Indeterminate,
    }
}

fn map<T>(a: Answer<Record>, f: impl Fn(&Record) -> Option<T>) -> Answer<T> {
    match a {
        Answer::Records(rs, d) => {
            let v: Vec<T> = rs.iter().filter_map(f).collect();
            if v.is_empty() {
                Answer::None
            } else {
                Answer::Records(v, d)
            }
        }
        Answer::None => Answer::None,
        Answer::NxDomain => Answer::NxDomain,
        Answer::Bogus(e) => Answer::Bogus(e),
        Answer::Failed(e) => Answer::Failed(e),
        Answer::Unanswered(e) => Answer::Unanswered(e),
    }
}

/// The owner name of the first record of a `--trust-anchor` file (`test. 3600 IN DNSKEY …`).
fn anchor_owner(path: &std::path::Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with(';') && !l.starts_with('$'))
        .and_then(|l| l.split_whitespace().next())
        .map(str::to_owned)
}

impl<T> Answer<T> {
    fn sorted_by_key<K: Ord>(self, key: impl FnMut(&T) -> K) -> Answer<T> {
        match self {
            Answer::Records(mut v, d) => {
                v.sort_by_key(key);
                Answer::Records(v, d)
            }
            other => other,
        }
    }
}

/// What a failed lookup says. NXDOMAIN (validated or not) is the name's absence; a
/// timeout, REFUSED, or no reachable server is our resolver's failure
/// ([`Answer::Unanswered`]); any other error response says nothing either way.
fn classify<T>(name: &str, rtype: RecordType, e: &NetError) -> Answer<T> {
    match e {
        NetError::Dns(DnsError::Nsec {
            response, proof, ..
        }) if *proof != Proof::Bogus && response.response_code == ResponseCode::NXDomain => {
            Answer::NxDomain
        }
        _ if e.is_nx_domain() => Answer::NxDomain,
        NetError::Timeout => Answer::Unanswered(format!(
            "{name} {rtype}: our resolver did not answer (timed out)"
        )),
        NetError::NoConnections | NetError::Io(_) | NetError::Busy => Answer::Unanswered(format!(
            "{name} {rtype}: our resolver could not be reached ({e})"
        )),
        NetError::Dns(DnsError::ResponseCode(ResponseCode::Refused)) => Answer::Unanswered(
            format!("{name} {rtype}: our resolver refused the query (REFUSED)"),
        ),
        NetError::Dns(DnsError::DnssecBogus) => {
            Answer::Bogus(format!("{name} {rtype}: DNSSEC validation failed (bogus)"))
        }
        NetError::Dns(DnsError::Nsec { proof, .. }) if *proof == Proof::Bogus => Answer::Bogus(
            format!("{name} {rtype}: the denial of existence does not validate"),
        ),
        NetError::Dns(DnsError::Nsec { .. }) => Answer::None,
        _ if e.is_no_records_found() || e.is_nx_domain() => Answer::None,
        other => Answer::Failed(format!("{name} {rtype}: {other}")),
    }
}
