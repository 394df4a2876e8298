//! Table tests for the Sendmail parser, one file per kind of line; the helpers here
//! build the expected events.

mod errors;
mod fields;
mod messages;
mod rejects;
mod relay;
mod summary;

use super::*;
use crate::model::EndReason;
use crate::model::{
    Bits, Cipher, Delivery, DeliveryStatus, EventKind, Peer, PolicyCheck, Reception, TlsError,
    TlsParams, TlsSession, TlsVersion, Verify,
};
use proptest::prelude::*;

const IN: Direction = Direction::Inbound;
const OUT: Direction = Direction::Outbound;

fn p(name: Option<&str>, ip: Option<&str>, forged: bool) -> Peer {
    Peer {
        name: name.map(Into::into),
        ip: ip.map(|i| i.parse().expect("test ip")),
        forged,
    }
}
fn n(name: &str) -> Peer {
    p(Some(name), None, false)
}
fn ni(name: &str, ip: &str) -> Peer {
    p(Some(name), Some(ip), false)
}
fn i(ip: &str) -> Peer {
    p(None, Some(ip), false)
}

#[allow(clippy::too_many_arguments)]
fn tls(
    direction: Direction,
    peer: Peer,
    version: TlsVersion,
    cipher: &str,
    alg: u16,
    secret: u16,
    verify: Verify,
) -> Parsed {
    Parsed::Event(EventKind::Tls(TlsSession {
        direction,
        peer,
        params: TlsParams {
            version,
            cipher: Some(Cipher(cipher.to_owned())),
            bits: Bits {
                secret: Some(secret),
                alg: Some(alg),
            },
            verify,
            detail: None,
        },
    }))
}

fn err(dir: Option<Direction>, peer: Option<Peer>, kind: TlsErrorKind, text: &str) -> Parsed {
    Parsed::Event(EventKind::TlsError(TlsError {
        direction: dir,
        peer,
        kind,
        text: text.to_owned(),
    }))
}

fn rcv(qid: &str, from: &str, peer: Option<Peer>, proto: Option<&str>) -> Parsed {
    Parsed::Event(EventKind::Received(Reception {
        queue_id: qid.into(),
        from: from.to_owned(),
        peer,
        proto: proto.map(str::to_owned),
        tls: None,
    }))
}

#[allow(clippy::too_many_arguments)]
fn dlv(
    qid: &str,
    to: &str,
    peer: Option<Peer>,
    mailer: &str,
    status: DeliveryStatus,
    dsn: Option<&str>,
    text: &str,
) -> Parsed {
    Parsed::Event(EventKind::Delivery(Delivery {
        queue_id: qid.into(),
        to: to.to_owned(),
        peer,
        mailer: Some(crate::model::mailer_name(mailer)),
        status,
        dsn: dsn.map(str::to_owned),
        text: text.to_owned(),
        tls: None,
        tls_status: None,
        tls_error: None,
    }))
}

fn pol(
    ruleset: &str,
    verify: Verify,
    arg2: Option<&str>,
    peer: Option<Peer>,
    outcome: &str,
) -> Parsed {
    Parsed::Event(EventKind::Policy(PolicyCheck {
        ruleset: ruleset.to_owned(),
        verify,
        arg2: arg2.map(str::to_owned),
        peer,
        outcome: outcome.to_owned(),
    }))
}

fn end(peer: Option<Peer>, reason: &str) -> Parsed {
    Parsed::Event(EventKind::SessionEnd {
        peer,
        reason: EndReason::parse(reason),
        starttls: None,
    })
}

fn check(rows: Vec<(&str, Parsed)>) {
    for (line, want) in rows {
        assert_eq!(parse(line), want, "line: {line}");
        assert!(
            want == Parsed::Irrelevant || crate::parse::prefilter::may_matter(line.as_bytes()),
            "the prefilter would drop: {line}"
        );
    }
}

proptest! {
    #[test]
    fn never_panics(s in "\\PC{0,300}") {
        let _ = parse(&s);
        let _ = parse_relay(&s);
    }

    #[test]
    fn never_panics_on_our_prefixes(
        prefix in prop::sample::select(vec![
            "STARTTLS=server, relay=", "STARTTLS=client, error: ", "STARTTLS: ",
            "l65DnTLe028546: from=", "l65DnTLe028546: to=", "ruleset=tls_server, ",
            "[1]: ", "tls_srv_features=", "lost input channel from ",
            "timeout waiting for input from ", "STARTTLS=server: ",
        ]),
        tail in "[ -~\\[\\]<>=,()]{0,200}",
    ) {
        let line = format!("{prefix}{tail}");
        let _ = parse(&line);
    }
}
