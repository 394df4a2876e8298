//! Postfix's TLS error lines (FORMATS.md §2.3): handshake failures, TLS library dumps,
//! certificate verification, the `warning:` family, and the TLS failures written only into
//! a delivery's status text.

use super::namaddr;
use crate::model::{Direction, EventKind, Peer, TlsError, TlsErrorKind};
use crate::parse::Parsed;

/// `SSL_accept error from PEER: -1|errno text|lost connection` and the `SSL_connect` twin.
pub(super) fn handshake_error(direction: Direction, rest: &str, body: &str) -> Parsed {
    let Some((peer, why)) = rest.split_once(": ") else {
        return Parsed::Malformed(format!("Postfix handshake error without reason: {body}"));
    };
    match namaddr(peer) {
        Some(na) => Parsed::Event(EventKind::TlsError(TlsError {
            direction: Some(direction),
            peer: Some(na.peer()),
            kind: TlsErrorKind::Handshake,
            text: body.to_owned(),
        })),
        None => Parsed::Malformed(format!("Postfix handshake error, bad peer {peer:?}: {why}")),
    }
}

/// `warning: TLS library problem: error:…:file:line:data:`, or before 2.11 with a thread id
/// first. No peer: correlation attributes it by pid. Some problems are plainly local (a
/// file that cannot be opened, a key that does not match).
pub(super) fn library_problem(rest: &str) -> Parsed {
    let text = rest.trim();
    let lower = text.to_ascii_lowercase();
    let kind = if let Some(kind) = crate::parse::reason_kind(text) {
        kind
    } else if lower.contains("private key") {
        TlsErrorKind::PrivateKey
    } else if lower.contains("fopen(")
        || lower.contains("system library")
        || lower.contains("no start line")
        || lower.contains("pem routines")
        || lower.contains("bio routines")
    {
        TlsErrorKind::Certificate
    } else {
        TlsErrorKind::Library
    };
    Parsed::Event(EventKind::TlsError(TlsError {
        direction: None,
        peer: None,
        kind,
        text: text.to_owned(),
    }))
}

/// `[PURPOSE ]certificate verification failed for PEER: reason` (tls_verify.c, DANE).
/// PURPOSE `server` means we were the client (outbound), `client` the opposite.
pub(super) fn verification_failure(body: &str) -> Option<Parsed> {
    let (purpose, rest) = super::super::split_once(
        body,
        super::super::needle!("certificate verification failed for "),
    )?;
    let purpose = purpose.trim();
    if !matches!(purpose, "" | "server" | "client" | "CA") {
        return None;
    }
    let direction = match purpose {
        "server" => Some(Direction::Outbound),
        "client" => Some(Direction::Inbound),
        _ => None,
    };
    let (peer, _) = rest.split_once(": ").unwrap_or((rest, ""));
    // DANE writes `for host[addr]:port:depth`-like forms; keep what namaddr can read.
    let peer = namaddr(peer)
        .or_else(|| peer.rsplit_once(':').and_then(|(p, _)| namaddr(p)))
        .map(|na| na.peer());
    Some(Parsed::Event(EventKind::TlsError(TlsError {
        direction,
        peer,
        kind: TlsErrorKind::CertVerify,
        text: body.to_owned(),
    })))
}

/// What a Postfix delivery status text says about TLS, for correlation: the smtp client
/// writes its TLS failures only into the DSN text of the deferred or bounced recipient
/// (`Cannot start TLS: handshake failure`, `Server certificate not verified`, `TLS is
/// required, but was not offered by host …`).
pub fn status_tls_error(text: &str) -> Option<TlsErrorKind> {
    if text.contains("TLS is required, but was not offered")
        || text.contains("refused to start TLS")
        || text.contains("tls=") && text.contains(":nostarttls")
    {
        Some(TlsErrorKind::NotOffered)
    } else if text.contains("Server certificate not verified")
        || text.contains("Server certificate not trusted")
        || text.contains("certificate verification failed")
    {
        Some(TlsErrorKind::CertVerify)
    } else if text.contains("Cannot start TLS") || text.contains("TLS handshake") {
        Some(TlsErrorKind::Handshake)
    } else if text.contains("our TLS engine is unavailable") {
        Some(TlsErrorKind::Init)
    } else if text.contains("DANE") || text.contains("TLSA") {
        Some(TlsErrorKind::Dane)
    } else {
        None
    }
}

/// The `warning:` family around TLS that names no handshake: local key/certificate/CA/DH
/// problems, TLS disabled, DANE lookups, STARTTLS refused or rate-limited, and the
/// `TLS is required …` texts when they appear on a line of their own.
pub(super) fn tls_warning(warning: bool, body: &str) -> Option<Parsed> {
    // The keyword heuristics below are only for Postfix's own warnings (and the one
    // informational CA line), never for texts that quote peers or addresses. Checked
    // before lower-casing: most lines that reach here are neither, and pay nothing.
    const CA_LINE: &str = "cannot load certification authority";
    let ca_line = body
        .get(..CA_LINE.len())
        .is_some_and(|h| h.eq_ignore_ascii_case(CA_LINE));
    if !warning && !ca_line {
        return None;
    }
    let lower = body.to_ascii_lowercase();
    let local = |kind| {
        Some(Parsed::Event(EventKind::TlsError(TlsError {
            direction: None,
            peer: None,
            kind,
            text: body.to_owned(),
        })))
    };
    if let Some(rest) = body.strip_prefix("Refusing STARTTLS request from ") {
        let peer = rest.split(' ').next().and_then(namaddr).map(|n| n.peer());
        return peer_error(Direction::Inbound, peer, TlsErrorKind::Policy, body);
    }
    if let Some(rest) = body.strip_prefix("New TLS session rate limit exceeded: ") {
        let peer = rest
            .split(" from ")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .and_then(namaddr)
            .map(|n| n.peer());
        return peer_error(Direction::Inbound, peer, TlsErrorKind::Other, body);
    }
    if let Some(rest) = body.strip_prefix("TLS SNI from ") {
        let peer = rest.split(' ').next().and_then(namaddr).map(|n| n.peer());
        return peer_error(Direction::Inbound, peer, TlsErrorKind::Other, body);
    }
    if body == "tlsproxy handshake failed" {
        return peer_error(Direction::Inbound, None, TlsErrorKind::Handshake, body);
    }
    if let Some(kind) = status_tls_error(body)
        && (body.contains("TLS is required") || body.contains("certificate not"))
    {
        return peer_error(Direction::Outbound, None, kind, body);
    }
    if lower.contains("private key") || lower.contains("no private key") {
        return local(TlsErrorKind::PrivateKey);
    }
    if lower.contains("certification authority data") || lower.contains("trust anchor file") {
        return local(TlsErrorKind::CaLocations);
    }
    if lower.contains("certificate from file")
        || lower.contains("loading certificate")
        || lower.contains("certificate chain")
        || lower.contains("private keys and certificates")
        || lower.contains("chain file")
        || lower.contains("no pem data")
    {
        return local(TlsErrorKind::Certificate);
    }
    if lower.contains("dh parameter") && lower.contains("compiled-in defaults") {
        return local(TlsErrorKind::DhParams);
    }
    if lower.contains("dh parameter")
        || lower.contains("key exchange group")
        || lower.contains("cipher grade")
        || lower.contains("cipher exclusion")
        || lower.contains("tls protocol list")
    {
        return local(TlsErrorKind::CipherConfig);
    }
    if lower.contains("disabling tls support")
        || lower.contains("tls engine")
        || lower.contains("initializing the openssl library")
        || lower.contains("tls support is not compiled in")
    {
        return local(TlsErrorKind::Init);
    }
    if lower.contains("tlsa") || lower.contains("dane") || lower.contains("dnssec status") {
        return local(TlsErrorKind::Dane);
    }
    if lower.starts_with("tls policy lookup") {
        return local(TlsErrorKind::Other);
    }
    None
}

fn peer_error(
    direction: Direction,
    peer: Option<Peer>,
    kind: TlsErrorKind,
    body: &str,
) -> Option<Parsed> {
    Some(Parsed::Event(EventKind::TlsError(TlsError {
        direction: Some(direction),
        peer,
        kind,
        text: body.to_owned(),
    })))
}
