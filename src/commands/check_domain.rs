//! `mailtls check --domain DOMAIN…`: a mail domain as a sender meets it (see
//! [`crate::domain`]): the MX walk, every address checked, DANE, MTA-STS and TLS-RPT,
//! and one verdict per domain.
//!
//! ```text
//! mailtls check --domain example.org [--resolver IP[:PORT]] [--trust-anchor FILE]
//!               [--smtp-port PORT] [--mta-sts-port PORT] [--ca-file FILE] [--json|--ndjson]
//! ```
//!
//! Each address is checked as `mailtls check` checks a host, with the MX name as the
//! name to verify and as SNI, opportunistically (a verify=FAIL is a warning there: the
//! policies decide). Then per address: DANE's word when the MX host has usable, secure
//! TLSA records (`TRUSTED`, `DANE_FAIL`, `DANE_NOTLS`, or `DANE_TEMP` for a bogus or
//! failed TLSA lookup), and MTA-STS `pass`/`fail` when a policy in enforce or testing
//! mode was read.
//!
//! Exit status: 1 when a domain fails (a DANE failure, a failed enforced MTA-STS policy,
//! a DNSSEC-bogus MX RRset, a domain that does not exist) or cannot be checked (a SERVFAIL
//! for its names, an unreachable MX); warnings (testing-mode failures, an unreadable
//! policy, no TLS-RPT record beside a policy) leave it 0; 2 usage errors and **our own
//! resolver failing** (no answer within `--timeout`, REFUSED, no DNSSEC through it): that
//! is an error of this machine, like an unreadable file, and the report says nothing
//! about the domain (`resolver_error`, finding `resolver_failed`).
//!
//! JSON (`mailtls.check/1`, additive): `--json` gives
//! `{"schema", "results": [RECORD…], "domains": [DOMAIN…]}` where the RECORDs are the
//! per-address checks of every domain; `--ndjson` prints each RECORD line, then one
//! `{"schema", "domain": DOMAIN}` line per domain. DOMAIN =
//! `{"domain", "status", "policy", "resolver", "trust_anchor", "mx_dnssec", "mx_note"?,
//!   "mx": [{"host", "preference", "addresses_dnssec", "ips", "error"?,
//!           "tlsa": {"name", "dnssec", "records", "dane", "note"?}, "sts_pattern"?,
//!           "addresses": [{"ip", "verify", "dane": {"verify", "matched"?,
//!                          "matched_cert"?, "detail"}?, "mta_sts": "pass"|"fail"?}]}],
//!   "mta_sts": {"txt", "id"?, "url"?, "policy": {"mode", "mx", "max_age"}?,
//!               "error": {"stage", "detail"}?, "would_deliver"?},
//!   "tls_rpt": {"present", "valid", "rua", "error"?},
//!   "findings": [{"severity", "code", "text"}], "resolver_error"?, "elapsed_ms"}`.

use super::Error;
use crate::model::text::terminal;
use std::io::{self, Write};
use std::net::{IpAddr, SocketAddr};

use serde::Serialize;

use super::check::{self, Args, CheckFormat};
use super::exit;
use crate::domain::dns::{Dns, DnsOptions};
use crate::domain::{self, DomainOptions, DomainReport};
use crate::probe::{CheckResult, Mode, SCHEMA};

#[derive(Serialize)]
struct Document<'a> {
    schema: &'static str,
    results: Vec<&'a CheckResult>,
    domains: Vec<&'a DomainReport>,
}

#[derive(Serialize)]
struct DomainLine<'a> {
    schema: &'static str,
    domain: &'a DomainReport,
}

#[derive(Serialize)]
struct RecordLine<'a> {
    schema: &'static str,
    #[serde(flatten)]
    record: &'a CheckResult,
}

/// Parses `--resolver`: `IP`, `IP:PORT` or `[IPv6]:PORT`.
fn resolver_addr(s: &str) -> Result<SocketAddr, String> {
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Ok(a);
    }
    s.trim_matches(|c| c == '[' || c == ']')
        .parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| format!("--resolver {s}: want IP, IP:PORT or [IPv6]:PORT"))
}

/// Runs every `--domain` and prints the reports.
pub fn run(args: &Args) -> Result<u8, Error> {
    let prepared = (|| {
        let mut opts = check::options(args, Mode::Starttls)?;
        // MX-to-MX TLS is opportunistic: the published policies decide, not the Web PKI.
        opts.require_verify = false;
        let server = args.resolver.as_deref().map(resolver_addr).transpose()?;
        let dns = Dns::new(&DnsOptions {
            server,
            trust_anchor: args.trust_anchor.clone(),
            timeout: Some(opts.timeout),
        })?;
        Ok::<_, String>((opts, dns))
    })();
    let (opts, dns) = prepared.map_err(Error::Usage)?;
    let dopts = DomainOptions {
        smtp_port: args.smtp_port,
        mta_sts_port: args.mta_sts_port,
        jobs: args.jobs,
    };
    let stdout = io::stdout();
    let color = args.color.enabled();
    let format = args.output();
    let mut all: Vec<(DomainReport, Vec<CheckResult>)> = Vec::new();
    for d in &args.domains {
        let (rep, results) = domain::check_domain(d, &dns, &dopts, &opts);
        let mut out = stdout.lock();
        let written = if format == CheckFormat::Json {
            Ok(())
        } else if format == CheckFormat::Ndjson {
            ndjson(&mut out, &rep, &results)
        } else {
            write_domain(&mut out, &rep, &results, color)
        };
        if let Err(e) = written.and_then(|()| out.flush()) {
            if e.kind() == io::ErrorKind::BrokenPipe {
                // The reader went away: nothing left to say, and nobody to say it to.
                return Ok(exit::ERROR);
            }
            return Err(Error::Failed(format!(
                "writing output: {}",
                crate::model::text::plain_error(&e)
            )));
        }
        all.push((rep, results));
    }
    if format == CheckFormat::Json {
        let doc = Document {
            schema: SCHEMA,
            results: all.iter().flat_map(|(_, rs)| rs.iter()).collect(),
            domains: all.iter().map(|(d, _)| d).collect(),
        };
        super::print_json(&doc)?;
    }
    // A domain whose resolver failed was reported with its reason: no verdict, exit 2.
    Ok(if all.iter().any(|(d, _)| d.resolver_error.is_some()) {
        exit::ERROR
    } else if all.iter().any(|(d, _)| d.failed()) {
        exit::FINDINGS
    } else {
        exit::OK
    })
}

fn ndjson(out: &mut dyn Write, rep: &DomainReport, results: &[CheckResult]) -> io::Result<()> {
    for r in results {
        let line = serde_json::to_string(&RecordLine {
            schema: SCHEMA,
            record: r,
        })
        .map_err(io::Error::other)?;
        writeln!(out, "{line}")?;
    }
    let line = serde_json::to_string(&DomainLine {
        schema: SCHEMA,
        domain: rep,
    })
    .map_err(io::Error::other)?;
    writeln!(out, "{line}")
}

/// The readable report: each address as `check` prints it, then the domain's verdict.
/// Names, records and policy text come from DNS and from the domain's web server: they
/// go through [`terminal`] (`t` here) like the server replies in `check`.
fn write_domain(
    out: &mut dyn Write,
    rep: &DomainReport,
    results: &[CheckResult],
    color: bool,
) -> io::Result<()> {
    let t = terminal;
    for r in results {
        check::write_text(out, r, None, color)?;
    }
    writeln!(
        out,
        "domain {}: {}  (policy: {})",
        t(&rep.domain),
        check::status_word(rep.status, color),
        rep.policy
    )?;
    writeln!(
        out,
        "  DNS: {}; DNSSEC anchor: {}; MX RRset {}",
        rep.resolver,
        rep.trust_anchor,
        rep.mx_dnssec.map(|d| d.label()).unwrap_or("-")
    )?;
    if let Some(n) = &rep.mx_note {
        writeln!(out, "  {}", t(n))?;
    }
    for m in &rep.mx {
        let ips: Vec<String> = m.ips.iter().map(ToString::to_string).collect();
        writeln!(
            out,
            "  MX {:>3} {}  [{}] addresses {}",
            m.preference,
            t(&m.host.to_string()),
            ips.join(" "),
            m.addresses_dnssec.map(|d| d.label()).unwrap_or("-")
        )?;
        if let Some(e) = &m.error {
            writeln!(out, "         {}", t(&e.to_string()))?;
        }
        let tlsa = match (&m.tlsa.dnssec, m.tlsa.records.is_empty()) {
            (Some(d), false) => {
                let shown: Vec<String> = m.tlsa.records.iter().map(|r| domain::short(r)).collect();
                format!("{} ({})", shown.join(", "), d.label())
            }
            _ => m.tlsa.note.clone().unwrap_or_else(|| "-".into()),
        };
        writeln!(
            out,
            "         TLSA {}: {}",
            t(&m.tlsa.name.to_string()),
            t(&tlsa)
        )?;
        if let Some(p) = &m.sts_pattern {
            writeln!(out, "         MTA-STS pattern {}", t(&p.to_string()))?;
        }
        for a in &m.addresses {
            let dane = a
                .dane
                .as_ref()
                .map(|d| {
                    let word = if d.verify == "TRUSTED" {
                        check::paint(&d.verify, "32", color)
                    } else {
                        check::paint(&d.verify, "31", color)
                    };
                    format!(
                        "  DANE {word}{}",
                        d.matched
                            .as_deref()
                            .map(|m| format!(" by {}", domain::short(m)))
                            .unwrap_or_default()
                    )
                })
                .unwrap_or_default();
            let sts = a
                .mta_sts
                .as_deref()
                .map(|s| format!("  MTA-STS {}", t(s)))
                .unwrap_or_default();
            writeln!(
                out,
                "         {} verify={}{dane}{sts}",
                a.ip,
                a.verify.as_ref().map(|v| v.as_str()).unwrap_or("-")
            )?;
            if let Some(d) = a.dane.as_ref().filter(|d| d.verify != "TRUSTED") {
                for line in &d.detail {
                    writeln!(out, "           {}", t(line))?;
                }
            }
        }
    }
    if rep.resolver_error.is_some() {
        writeln!(out, "  MTA-STS: not looked up (our resolver failed)")?;
        writeln!(out, "  TLS-RPT: not looked up (our resolver failed)")?;
    } else {
        write_policies(out, rep)?;
    }
    for f in &rep.findings {
        writeln!(out, "  {}: {}", f.severity.label(), t(&f.text))?;
    }
    writeln!(out, "  total {:.1} ms", rep.elapsed_ms)?;
    writeln!(out)
}

/// The MTA-STS and TLS-RPT lines of the readable report.
fn write_policies(out: &mut dyn Write, rep: &DomainReport) -> io::Result<()> {
    let t = terminal;
    let s = &rep.mta_sts;
    match (&s.policy, &s.error) {
        (Some(p), _) => writeln!(
            out,
            "  MTA-STS: id {} mode {} mx {} max_age {}{}",
            t(s.id.as_deref().unwrap_or("-")),
            p.mode.label(),
            t(&p.mx.join(", ")),
            p.max_age,
            s.would_deliver
                .map(|w| if w {
                    "; an enforcing sender delivers"
                } else {
                    "; an enforcing sender cannot deliver"
                })
                .unwrap_or("")
        )?,
        (None, Some(e)) if e.stage == "record lookup" => {
            writeln!(out, "  MTA-STS: record lookup failed ({})", t(&e.detail))?
        }
        (None, Some(e)) => writeln!(
            out,
            "  MTA-STS: record id {}, policy not read ({}: {})",
            t(s.id.as_deref().unwrap_or("-")),
            e.stage,
            t(&e.detail)
        )?,
        (None, None) if s.txt.is_empty() => writeln!(out, "  MTA-STS: no record")?,
        (None, None) => writeln!(out, "  MTA-STS: record not valid")?,
    }
    let r = &rep.tls_rpt;
    if r.valid {
        writeln!(out, "  TLS-RPT: {}", t(&r.rua.join(", ")))?;
    } else if r.present {
        writeln!(
            out,
            "  TLS-RPT: not valid ({})",
            t(r.error.as_deref().unwrap_or("?"))
        )?;
    } else if let Some(e) = &r.error {
        writeln!(out, "  TLS-RPT: lookup failed ({})", t(e))?;
    } else {
        writeln!(out, "  TLS-RPT: no record")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolver_addresses() {
        let rows = [
            ("127.0.0.1", "127.0.0.1:53"),
            ("127.0.0.1:5353", "127.0.0.1:5353"),
            ("[::1]:5300", "[::1]:5300"),
            ("::1", "[::1]:53"),
        ];
        for (input, want) in rows {
            assert_eq!(
                resolver_addr(input).map(|a| a.to_string()),
                Ok(want.into()),
                "{input}"
            );
        }
        assert!(resolver_addr("dns.example").is_err());
    }
}
