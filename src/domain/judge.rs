//! From the parts to findings: DANE's words per address, MTA-STS pass/fail per MX in
//! enforce or testing mode, TLS-RPT presence, unreachable addresses; and the name of
//! the policy a careful sender applies.

use super::{DomainReport, mtasts, short};
use crate::model::Verify;
use crate::probe::{CheckResult, Finding, Severity, Status};

/// Findings from the parts: DANE, MTA-STS, TLS-RPT, and the addresses themselves.
pub(super) fn judge(rep: &mut DomainReport, results: &[CheckResult]) {
    let mut findings = Vec::new();
    let mut add = |severity, code, text: String| {
        findings.push(Finding {
            severity,
            code,
            text,
        })
    };
    for r in results {
        if r.status == Status::Fail
            && let Some(f) = r.findings.iter().find(|f| f.severity == Severity::Fail)
        {
            add(
                Severity::Warn,
                "mx_check_failed",
                format!(
                    "{} [{}]: {}",
                    r.host,
                    r.ip.map(|i| i.to_string()).unwrap_or_default(),
                    f.text
                ),
            );
        }
        if r.status == Status::Error {
            let why = r.findings.iter().find(|f| f.severity == Severity::Error);
            add(
                Severity::Error,
                "mx_unreachable",
                format!(
                    "{} [{}]: {}",
                    r.host,
                    r.ip.map(|i| i.to_string()).unwrap_or_default(),
                    why.map(|f| f.text.as_str()).unwrap_or("check failed")
                ),
            );
        }
    }
    let with_dane = rep.mx.iter().filter(|m| m.tlsa.dane).count();
    for m in &rep.mx {
        for a in &m.addresses {
            let Some(d) = &a.dane else { continue };
            let code = match d.verify.as_str() {
                "UNUSABLE" => {
                    add(
                        Severity::Warn,
                        "dane_unusable",
                        format!(
                            "{} [{}]: TLSA records present but none usable for SMTP (usage 2 or 3, selector 0/1, matching 0/1/2): senders require TLS but cannot authenticate",
                            m.host, a.ip
                        ),
                    );
                    continue;
                }
                "TRUSTED" => {
                    add(
                        Severity::Info,
                        "dane_trusted",
                        format!(
                            "{} [{}]: verify=TRUSTED by {}",
                            m.host,
                            a.ip,
                            d.matched.as_deref().map(short).unwrap_or_default()
                        ),
                    );
                    continue;
                }
                "DANE_TEMP" => "dane_temp",
                "DANE_NOTLS" => "dane_notls",
                _ => "dane_fail",
            };
            add(
                Severity::Fail,
                code,
                format!(
                    "{} [{}]: verify={} ({}); a DANE sender will not deliver here",
                    m.host,
                    a.ip,
                    d.verify,
                    d.detail.join("; ")
                ),
            );
        }
    }
    if with_dane > 0 && with_dane < rep.mx.len() {
        add(
            Severity::Warn,
            "dane_partial",
            format!(
                "{with_dane} of {} MX hosts publish usable TLSA records; a downgrade to the others is possible",
                rep.mx.len()
            ),
        );
    }
    let sts_mode = rep.mta_sts.policy.as_ref().map(|p| p.mode);
    if let Some(mode) = sts_mode.filter(|m| *m != mtasts::Mode::None) {
        let mut passing = 0;
        let mut total = 0;
        for m in &rep.mx {
            for a in &m.addresses {
                total += 1;
                if a.mta_sts.as_deref() == Some("pass") {
                    passing += 1;
                    continue;
                }
                let why = match (&m.sts_pattern, &a.verify) {
                    (None, _) => "the MX name matches no mx pattern of the policy".to_owned(),
                    (Some(_), Some(Verify::Ok)) => "unexpected".to_owned(),
                    (Some(_), v) => format!(
                        "its certificate does not verify for the MX name (verify={})",
                        v.as_ref().map(Verify::as_str).unwrap_or("no TLS")
                    ),
                };
                let (sev, code) = match mode {
                    mtasts::Mode::Enforce => (Severity::Fail, "sts_enforce_failed"),
                    _ => (Severity::Warn, "sts_testing_failed"),
                };
                add(
                    sev,
                    code,
                    format!(
                        "{} [{}] fails the MTA-STS policy ({}): {why}",
                        m.host,
                        a.ip,
                        mode.label()
                    ),
                );
            }
        }
        if mode == mtasts::Mode::Enforce {
            rep.mta_sts.would_deliver = Some(passing > 0);
            if passing == 0 && total > 0 {
                add(
                    Severity::Fail,
                    "sts_undeliverable",
                    "no MX passes the enforced MTA-STS policy: an MTA-STS sender cannot deliver to this domain".into(),
                );
            }
        }
    }
    let has_policy = with_dane > 0 || sts_mode.is_some_and(|m| m != mtasts::Mode::None);
    if !rep.tls_rpt.present
        && let Some(e) = rep.tls_rpt.error.clone()
    {
        // The lookup failed: whether a record exists is unknown, not "no record".
        add(
            Severity::Warn,
            "tlsrpt_lookup_failed",
            format!(
                "the TLS-RPT record of {} could not be looked up: {e}",
                rep.domain
            ),
        );
    } else if !rep.tls_rpt.present {
        let sev = if has_policy {
            Severity::Warn
        } else {
            Severity::Info
        };
        add(
            sev,
            "tlsrpt_missing",
            format!(
                "no TLS-RPT record at _smtp._tls.{}: failures of senders' {} go unreported",
                rep.domain,
                if has_policy {
                    "DANE/MTA-STS checks"
                } else {
                    "TLS sessions"
                }
            ),
        );
    } else if !rep.tls_rpt.valid {
        add(
            Severity::Warn,
            "tlsrpt_invalid",
            format!(
                "the TLS-RPT record of {} is not valid: {}",
                rep.domain,
                rep.tls_rpt.error.as_deref().unwrap_or("?")
            ),
        );
    }
    rep.policy = match (
        with_dane == rep.mx.len() && with_dane > 0,
        with_dane > 0,
        sts_mode,
    ) {
        (true, _, Some(mtasts::Mode::Enforce | mtasts::Mode::Testing)) => "dane+mta-sts",
        (true, _, _) => "dane",
        (false, true, _) => "partial-dane",
        (false, false, Some(mtasts::Mode::Enforce)) => "mta-sts",
        (false, false, Some(mtasts::Mode::Testing)) => "mta-sts-testing",
        _ => "opportunistic",
    }
    .into();
    rep.findings.extend(findings);
}
