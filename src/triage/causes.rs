//! TLS-related reasons in deferral and bounce texts, and what usually causes each.
//!
//! The texts are the receiving or sending MTA's own words (Sendmail's `stat=`, Postfix's
//! `status=… (…)`, Exim's `defer (…)`); the causes are the usual ones an administrator
//! checks first. One table, first match wins, so a text gets the most specific reason.

/// A recognised TLS reason: a short label and the likely cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reason {
    pub label: &'static str,
    pub cause: &'static str,
}

/// (lower-case needle, label, likely cause). Order matters: specific before general.
const TABLE: &[(&str, &str, &str)] = &[
    (
        "tls is required, but was not offered",
        "TLS required, not offered",
        "the peer did not advertise STARTTLS (disabled, or a middlebox stripped it) while our policy requires TLS for it",
    ),
    (
        "did not offer tls",
        "TLS required, not offered",
        "the peer did not advertise STARTTLS (disabled, or a middlebox stripped it) while our policy requires TLS for it",
    ),
    (
        "does not support starttls",
        "TLS required, not offered",
        "the peer did not advertise STARTTLS (disabled, or a middlebox stripped it) while our policy (access db TLS_Srv/TLS_Rcpt) requires TLS for it",
    ),
    (
        "starttls not offered",
        "TLS required, not offered",
        "the peer did not advertise STARTTLS while our policy requires TLS for it",
    ),
    (
        "server certificate not verified",
        "certificate not verified",
        "the peer's certificate does not verify against our CA store (self-signed, expired, missing intermediate, or name mismatch) while our policy requires verification",
    ),
    (
        "certificate has expired",
        "certificate expired",
        "the peer's certificate has expired: the peer must renew it",
    ),
    (
        "unable to get local issuer",
        "unknown issuer",
        "the peer sends an incomplete chain or our CA file/directory lacks its root (check the <hash>.0 links)",
    ),
    (
        "self signed",
        "self-signed certificate",
        "the peer uses a self-signed certificate: trust it explicitly or do not require verification",
    ),
    (
        "certificate verification failed",
        "certificate verification failed",
        "the peer's certificate chain does not verify against our CA store",
    ),
    (
        "hostname mismatch",
        "certificate name mismatch",
        "the peer's certificate does not name the MX host we connected to",
    ),
    (
        "tlsa",
        "DANE/TLSA mismatch",
        "the peer's TLSA records do not match its certificate (rolled key without updating DNS)",
    ),
    (
        "dane",
        "DANE failure",
        "DANE verification failed or DNSSEC data was unavailable",
    ),
    (
        "no shared cipher",
        "no shared cipher",
        "no cipher in common: one side's cipher list is too narrow or too old",
    ),
    (
        "wrong version number",
        "protocol mismatch",
        "the peer spoke plaintext or an unexpected protocol after STARTTLS, or a protocol version one side disabled",
    ),
    (
        "unsupported protocol",
        "protocol mismatch",
        "no protocol version in common (the peer offers only old TLS, or we do)",
    ),
    (
        "tls handshake failed",
        "TLS handshake failed",
        "the handshake broke: protocol/cipher mismatch, a bad certificate on one side, or our own key/certificate not loaded (see local errors)",
    ),
    (
        "ssl handshake",
        "TLS handshake failed",
        "the handshake broke: protocol/cipher mismatch or a certificate problem on one side",
    ),
    (
        "after starttls",
        "connection lost after STARTTLS",
        "the connection dropped during the handshake: a firewall or middlebox interfering, or the peer crashing in TLS",
    ),
    (
        "tls session",
        "TLS session error",
        "the TLS session failed; see the peer's TLS errors for the library's reason",
    ),
    (
        "starttls",
        "STARTTLS failed",
        "STARTTLS was refused or failed; see the peer's TLS errors",
    ),
    (
        "tls not available due to local problem",
        "peer's own TLS broken (454)",
        "the receiving server could not load its own key or certificate (Postfix answers 454 4.7.0 TLS not available due to local problem): the peer must fix its TLS files; meanwhile mail waits, or goes in clear text if our policy allows",
    ),
    (
        "tls currently unavailable",
        "peer's own TLS broken (454)",
        "the receiving server could not set up TLS (Exim answers 454 TLS currently unavailable when its certificate or key fails to load): the peer must fix its TLS files",
    ),
    (
        "4.7.0",
        "security-related refusal (4.7.0)",
        "a security policy refused the session, usually TLS (handshake or verification); see the TLS errors at that time",
    ),
];

/// The TLS reason in a status text, if any.
pub fn tls_reason(text: &str) -> Option<Reason> {
    let lower = text.to_ascii_lowercase();
    TABLE
        .iter()
        .find(|(needle, _, _)| lower.contains(needle))
        .map(|(_, label, cause)| Reason { label, cause })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_of_real_status_texts() {
        let rows = [
            (
                "Deferred: 403 4.7.0 TLS handshake failed.",
                Some("TLS handshake failed"),
            ),
            (
                "deferred (TLS is required, but was not offered by host mx1.example.org[192.0.2.25])",
                Some("TLS required, not offered"),
            ),
            (
                "deferred (Server certificate not verified)",
                Some("certificate not verified"),
            ),
            (
                "deferred (lost connection with mx1.example.org[192.0.2.25] while performing the EHLO handshake)",
                None,
            ),
            (
                "retry time not reached: TLS session: (SSL_connect): error:0A000086:SSL routines::certificate verify failed",
                Some("TLS session error"),
            ),
            ("Deferred: Connection timed out with mx.example.org.", None),
            (
                "Deferred: 403 4.7.0 other side does not support STARTTLS",
                Some("TLS required, not offered"),
            ),
            ("Sent (4ASA2c3Q001234 Message accepted for delivery)", None),
            (
                "Deferred: 454 4.7.0 TLS not available due to local problem",
                Some("peer's own TLS broken (454)"),
            ),
            (
                "Deferred: 403 4.7.0 no TLS for you",
                Some("security-related refusal (4.7.0)"),
            ),
        ];
        for (text, want) in rows {
            assert_eq!(tls_reason(text).map(|r| r.label), want, "{text}");
        }
    }
}
