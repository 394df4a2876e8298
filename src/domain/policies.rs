//! The domain's published policies: the MTA-STS record and policy file (RFC 8461) and
//! the TLS-RPT record (RFC 8460), read into the report before the MX hosts are checked.

use super::dns::{Answer, Dns};
use super::{DomainOptions, DomainReport, mtasts, tlsrpt};
use crate::probe::{Options, Severity};

pub(super) fn sts_lookup(
    domain: &str,
    dns: &Dns,
    dopts: &DomainOptions,
    opts: &Options,
    rep: &mut DomainReport,
) {
    let name = format!("_mta-sts.{domain}");
    let txt = match dns.txt(&name) {
        Answer::Records(t, _) => t,
        Answer::None | Answer::NxDomain => Vec::new(),
        Answer::Bogus(e) | Answer::Failed(e) | Answer::Unanswered(e) => {
            rep.finding(
                Severity::Warn,
                "sts_record",
                format!("{name}: {e}; senders treat the domain as having no MTA-STS policy"),
            );
            // Unknown, not absent: the report must not say "no record".
            rep.mta_sts.error = Some(mtasts::FetchError {
                stage: "record lookup",
                detail: e,
            });
            return;
        }
    };
    let sts: Vec<String> = txt
        .into_iter()
        .filter(|t| t.starts_with("v=STSv1"))
        .collect();
    rep.mta_sts.txt = sts.clone();
    let record = match sts.as_slice() {
        [] => {
            rep.finding(
                Severity::Info,
                "sts_absent",
                format!("no MTA-STS record at {name}"),
            );
            return;
        }
        [one] => mtasts::parse_record(one),
        _ => Err(super::RecordError::SeveralSts(sts.len())),
    };
    let record = match record {
        Ok(r) => r,
        Err(e) => {
            rep.finding(
                Severity::Warn,
                "sts_record",
                format!("{name} is not a valid MTA-STS record: {e}"),
            );
            return;
        }
    };
    rep.mta_sts.id = Some(record.id);
    let host = format!("mta-sts.{domain}");
    let ips = match dns.ips(&host) {
        Answer::Records(ips, _) => ips,
        Answer::None | Answer::NxDomain => Vec::new(),
        Answer::Bogus(e) | Answer::Failed(e) | Answer::Unanswered(e) => {
            let err = mtasts::FetchError {
                stage: "resolve",
                detail: e,
            };
            sts_fetch_failed(rep, &err);
            rep.mta_sts.error = Some(err);
            return;
        }
    };
    match mtasts::fetch(domain, &ips, dopts.mta_sts_port, &opts.trust, opts.timeout) {
        Ok(f) => {
            rep.mta_sts.url = Some(f.url);
            match mtasts::parse_policy(&f.body) {
                Ok(p) => {
                    for m in &mut rep.mx {
                        m.sts_pattern = mtasts::matching_pattern(&p, &m.host).map(str::to_owned);
                    }
                    rep.mta_sts.policy = Some(p);
                }
                Err(e) => {
                    let err = mtasts::FetchError {
                        stage: "parse",
                        detail: e.to_string(),
                    };
                    sts_fetch_failed(rep, &err);
                    rep.mta_sts.error = Some(err);
                }
            }
        }
        Err(e) => {
            if e.stage != "resolve" && e.stage != "connect" {
                rep.mta_sts.url = Some(format!(
                    "https://mta-sts.{domain}{}/.well-known/mta-sts.txt",
                    if dopts.mta_sts_port == 443 {
                        String::new()
                    } else {
                        format!(":{}", dopts.mta_sts_port)
                    }
                ));
            }
            sts_fetch_failed(rep, &e);
            rep.mta_sts.error = Some(e);
        }
    }
}

fn sts_fetch_failed(rep: &mut DomainReport, e: &mtasts::FetchError) {
    rep.finding(
        Severity::Warn,
        "sts_fetch_failed",
        format!(
            "the MTA-STS record is published but the policy could not be read ({}: {}); senders without a cached policy deliver as if there were none",
            e.stage, e.detail
        ),
    );
}

pub(super) fn rpt_lookup(domain: &str, dns: &Dns, rep: &mut DomainReport) {
    let name = format!("_smtp._tls.{domain}");
    let txt = match dns.txt(&name) {
        Answer::Records(t, _) => t,
        Answer::None | Answer::NxDomain => Vec::new(),
        Answer::Bogus(e) | Answer::Failed(e) | Answer::Unanswered(e) => {
            rep.tls_rpt.error = Some(e);
            Vec::new()
        }
    };
    let rpt: Vec<&String> = txt.iter().filter(|t| t.starts_with("v=TLSRPTv1")).collect();
    rep.tls_rpt.present = !rpt.is_empty();
    match rpt.as_slice() {
        [] => {}
        [one] => match tlsrpt::parse(one) {
            Ok(r) => {
                rep.tls_rpt.valid = true;
                rep.tls_rpt.rua = r.rua;
            }
            Err(e) => rep.tls_rpt.error = Some(e.to_string()),
        },
        _ => {
            let e = super::RecordError::SeveralTlsRpt {
                count: rpt.len(),
                name: name.to_owned(),
            };
            rep.tls_rpt.error = Some(e.to_string());
        }
    }
}
