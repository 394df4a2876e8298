//! SMTP TLS Reporting (RFC 8460): the `_smtp._tls.DOMAIN` TXT record that tells senders
//! where to send their daily reports of failed TLS (and MTA-STS/DANE) sessions.

use super::RecordError;
use serde::Serialize;

/// A valid TLS-RPT record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TlsRpt {
    /// The report URIs (`mailto:` or `https:`), in the order given.
    pub rua: Vec<String>,
}

/// Reads one TXT string: `v=TLSRPTv1` first, then `rua=` with one or more
/// comma-separated `mailto:` or `https:` URIs (RFC 8460 §3).
pub fn parse(txt: &str) -> Result<TlsRpt, RecordError> {
    let mut fields = txt.split(';').map(str::trim).filter(|f| !f.is_empty());
    match fields.next() {
        Some("v=TLSRPTv1") => {}
        Some(other) => {
            return Err(RecordError::Version {
                want: "v=TLSRPTv1",
                got: other.to_owned(),
            });
        }
        None => return Err(RecordError::Empty),
    }
    let mut rua = None;
    for f in fields {
        if let Some((k, v)) = f.split_once('=')
            && k.trim() == "rua"
        {
            rua = Some(v.trim().to_owned());
        }
    }
    let rua = rua.ok_or(RecordError::Missing("rua"))?;
    let uris: Vec<String> = rua
        .split(',')
        .map(|u| u.trim().to_owned())
        .filter(|u| !u.is_empty())
        .collect();
    if uris.is_empty() {
        return Err(RecordError::RuaEmpty);
    }
    for u in &uris {
        let lower = u.to_ascii_lowercase();
        let ok = lower
            .strip_prefix("mailto:")
            .is_some_and(|a| a.contains('@'))
            || lower
                .strip_prefix("https://")
                .is_some_and(|h| !h.is_empty());
        if !ok {
            return Err(RecordError::Rua(u.clone()));
        }
    }
    Ok(TlsRpt { rua: uris })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records() {
        let rows: &[(&str, Result<&[&str], &str>)] = &[
            (
                "v=TLSRPTv1; rua=mailto:tlsrpt@example.org",
                Ok(&["mailto:tlsrpt@example.org"]),
            ),
            (
                "v=TLSRPTv1;rua=mailto:a@example.org,https://reports.example.org/tlsrpt",
                Ok(&["mailto:a@example.org", "https://reports.example.org/tlsrpt"]),
            ),
            (
                "v=TLSRPTv2; rua=mailto:a@example.org",
                Err("does not start"),
            ),
            ("v=TLSRPTv1;", Err("no rua")),
            ("v=TLSRPTv1; rua=", Err("rua is empty")),
            ("v=TLSRPTv1; rua=http://example.org/", Err("neither mailto")),
            ("v=TLSRPTv1; rua=mailto:nobody", Err("neither mailto")),
        ];
        for (txt, want) in rows {
            match (parse(txt), want) {
                (Ok(r), Ok(uris)) => assert_eq!(r.rua, *uris, "{txt}"),
                (Err(e), Err(part)) => assert!(e.to_string().contains(part), "{txt}: {e}"),
                (got, _) => panic!("{txt}: {got:?}"),
            }
        }
    }
}
