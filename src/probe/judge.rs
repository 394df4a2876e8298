//! From what was seen to findings: verify failures, expiring certificates, protocols
//! below `--min-protocol`, deprecated protocols and weak suites accepted.

use super::{CheckResult, Options, Severity};
use crate::model::{TlsVersion, Verify};

/// Turns what was seen into findings that are not already recorded.
pub(super) fn judge(opts: &Options, r: &mut CheckResult) {
    if let Some(Verify::Fail) = r.verify {
        let why = r
            .verify_failure
            .as_ref()
            .map(|f| format!("{}: {}", f.reason.label(), f.detail))
            .unwrap_or_default();
        let sev = if opts.require_verify {
            Severity::Fail
        } else {
            Severity::Warn
        };
        r.finding(
            sev,
            "verify_failed",
            format!(
                "certificate did not verify against {} (verify=FAIL): {why}",
                r.trust
            ),
        );
    }
    if let Some(leaf) = r.chain.first()
        && leaf.days_left >= 0
        && leaf.days_left < opts.expiry_warn_days
    {
        let text = format!(
            "the server certificate expires in {} day(s) ({})",
            leaf.days_left, leaf.not_after
        );
        r.finding(Severity::Warn, "expiring", text);
    }
    if let (Some(min), Some(tls)) = (&opts.min_protocol, &r.tls)
        && rank(&tls.version) < rank(min)
    {
        r.finding(
            Severity::Fail,
            "min_protocol",
            format!("negotiated {} is below --min-protocol {min}", tls.version),
        );
    }
    let accepted: Vec<TlsVersion> = r
        .protocols
        .iter()
        .flatten()
        .filter(|p| p.accepted == Some(true))
        .map(|p| p.version.clone())
        .collect();
    // --min-protocol cannot pass while a version below it is unknown.
    if let Some(min) = &opts.min_protocol {
        let untested: Vec<String> = r
            .protocols
            .iter()
            .flatten()
            .filter(|p| p.accepted.is_none() && rank(&p.version) < rank(min))
            .map(|p| p.version.to_string())
            .collect();
        if !untested.is_empty() {
            r.finding(
                Severity::Error,
                "min_protocol",
                format!(
                    "{} (below --min-protocol {min}) not tested: whether the server accepts it is unknown",
                    untested.join(", ")
                ),
            );
        }
    }
    for v in accepted {
        let below = opts
            .min_protocol
            .as_ref()
            .is_some_and(|m| rank(&v) < rank(m));
        if below {
            r.finding(
                Severity::Fail,
                "min_protocol",
                format!("accepts {v}, below --min-protocol"),
            );
        } else if v.is_deprecated() {
            r.finding(
                Severity::Warn,
                "deprecated_protocol",
                format!("accepts {v} (deprecated, RFC 8996)"),
            );
        }
    }
    let weak: Vec<String> = r
        .ciphers
        .iter()
        .flatten()
        .filter(|c| c.weakness.is_some_and(|w| !w.is_informational()))
        .map(|c| format!("{} {}", c.version, c.cipher))
        .collect();
    if !weak.is_empty() {
        r.finding(
            Severity::Warn,
            "weak_cipher",
            format!("accepts weak suites: {}", weak.join(", ")),
        );
    }
}

/// Orders protocol versions (the derived `Ord` of [`TlsVersion`] does too, but the
/// legacy and unknown labels must not count as new).
pub fn rank(v: &TlsVersion) -> u8 {
    match v {
        TlsVersion::Ssl2 => 1,
        TlsVersion::Ssl3 => 2,
        TlsVersion::Tls1_0 => 3,
        TlsVersion::Tls1_1 => 4,
        TlsVersion::Tls1_2 => 5,
        TlsVersion::Tls1_3 => 6,
        TlsVersion::Legacy | TlsVersion::Other(_) => 0,
    }
}
