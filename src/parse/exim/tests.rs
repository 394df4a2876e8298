//! One row per Exim line form (FORMATS.md §3): the text after the mainlog timestamp (or
//! the syslog `exim[pid]: `) and every field the parser must yield.

use super::*;
use crate::model::{
    Bits, Cipher, Delivery, DeliveryStatus, Direction, EventKind, Peer, Reception, TlsDetail,
    TlsError, TlsErrorKind, TlsParams, TlsSession, TlsVersion, Verify,
};
use proptest::prelude::*;

use Direction::{Inbound as In, Outbound as Out};

const NEW_ID: &str = "1sDcIh-000000004YY-3wAT";
const OLD_ID: &str = "1aZ1HS-0006iF-Rk";

fn peer(name: Option<&str>, ip: &str) -> Peer {
    Peer::new(name, ip.parse().ok())
}

/// TLS parameters of an Exim line: version, cipher, single bits value, verify, and the
/// detail (raw `CV=`, resumed, SNI, DN, group).
fn params(
    version: &str,
    cipher: &str,
    bits: u16,
    verify: Verify,
    detail: Option<TlsDetail>,
) -> Option<TlsParams> {
    let mut p = TlsParams::new(
        TlsVersion::parse(version),
        Some(Cipher::new(cipher)),
        Bits::single(Some(bits)),
        verify,
    );
    p.detail = detail.map(Box::new);
    Some(p)
}

fn cv(word: &str) -> Option<TlsDetail> {
    Some(TlsDetail {
        raw_verify: Some(word.to_owned()),
        ..TlsDetail::default()
    })
}

fn rcv(id: &str, from: &str, peer: Option<Peer>, proto: &str, tls: Option<TlsParams>) -> Parsed {
    Parsed::Event(EventKind::Received(Reception {
        queue_id: id.into(),
        from: from.to_owned(),
        peer,
        proto: Some(proto.to_owned()),
        tls: tls.map(std::sync::Arc::new),
    }))
}

#[allow(clippy::too_many_arguments)]
fn dlv(
    id: &str,
    to: &str,
    peer: Option<Peer>,
    mailer: Option<&str>,
    status: DeliveryStatus,
    dsn: Option<&str>,
    text: &str,
    tls: Option<TlsParams>,
) -> Parsed {
    Parsed::Event(EventKind::Delivery(Delivery {
        queue_id: id.into(),
        to: to.to_owned(),
        peer,
        mailer: mailer.map(crate::model::mailer_name),
        status,
        dsn: dsn.map(str::to_owned),
        text: text.to_owned(),
        tls: tls.map(std::sync::Arc::new),
        tls_status: None,
        tls_error: status
            .is_failure()
            .then(|| status_tls_error(text))
            .flatten(),
    }))
}

fn err(direction: Option<Direction>, peer: Option<Peer>, kind: TlsErrorKind, text: &str) -> Parsed {
    Parsed::Event(EventKind::TlsError(TlsError {
        direction,
        peer,
        kind,
        text: text.to_owned(),
    }))
}

fn rows() -> Vec<(&'static str, Parsed)> {
    let pe = || Some(peer(Some("mail.peer.example"), "192.0.2.20"));
    let mx = || Some(peer(Some("mx1.peer.example"), "192.0.2.30"));
    let aes256 = |verify, detail| params("TLS1.3", "TLS_AES_256_GCM_SHA384", 256, verify, detail);
    vec![
        // A daemon (re)start (mainlog form, pid selector).
        (
            "2026-12-06 12:00:00 [1234] exim 4.96 daemon started: pid=1234, no queue runs, listening for SMTP on [127.0.0.1]:25",
            Parsed::Event(EventKind::DaemonStart {
                version: Some("4.96".into()),
            }),
        ),
        // ---- arrivals
        (
            "1sDcIh-000000004YY-3wAT <= alice@peer.example H=mail.peer.example [192.0.2.20] P=esmtps X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no S=2345 id=20261128.abc@peer.example",
            rcv(
                NEW_ID,
                "alice@peer.example",
                pe(),
                "esmtps",
                aes256(Verify::No, cv("no")),
            ),
        ),
        (
            "1aZ1HS-0006iF-Rk <= alice@peer.example H=mail.peer.example [192.0.2.20] P=esmtps X=TLSv1.2:ECDHE-RSA-AES256-GCM-SHA384:256 CV=no S=1234",
            rcv(
                OLD_ID,
                "alice@peer.example",
                pe(),
                "esmtps",
                params(
                    "TLSv1.2",
                    "ECDHE-RSA-AES256-GCM-SHA384",
                    256,
                    Verify::No,
                    cv("no"),
                ),
            ),
        ),
        (
            "1aZ1HS-0006iF-Rk <= carol@oldpeer.example H=smtp.oldpeer.example [192.0.2.24] P=esmtps X=TLSv1:ECDHE-RSA-AES128-SHA:128 CV=no S=800",
            rcv(
                OLD_ID,
                "carol@oldpeer.example",
                Some(peer(Some("smtp.oldpeer.example"), "192.0.2.24")),
                "esmtps",
                params("TLSv1", "ECDHE-RSA-AES128-SHA", 128, Verify::No, cv("no")),
            ),
        ),
        (
            "1sDcIh-000000004YY-3wAT <= bob@plain.example H=mx.plain.example [192.0.2.70] P=esmtp S=999 id=abc@plain.example",
            rcv(
                NEW_ID,
                "bob@plain.example",
                Some(peer(Some("mx.plain.example"), "192.0.2.70")),
                "esmtp",
                None,
            ),
        ),
        (
            "1sDcIh-000000004YY-3wAT <= dan@peer.example H=mx.peer.example (helo.peer.example) [192.0.2.21] P=esmtps X=TLS1.2:ECDHE-RSA-AES128-GCM-SHA256:128 CV=no S=4321",
            rcv(
                NEW_ID,
                "dan@peer.example",
                Some(peer(Some("mx.peer.example"), "192.0.2.21")),
                "esmtps",
                params(
                    "TLS1.2",
                    "ECDHE-RSA-AES128-GCM-SHA256",
                    128,
                    Verify::No,
                    cv("no"),
                ),
            ),
        ),
        (
            "1sDcIh-000000004YY-3wAT <= spam@bad.example H=(ylmf-pc) [192.0.2.50] P=esmtp S=300",
            rcv(
                NEW_ID,
                "spam@bad.example",
                Some(peer(None, "192.0.2.50")),
                "esmtp",
                None,
            ),
        ),
        (
            "1sDcIh-000000004YY-3wAT <= x@literal.example H=([192.0.2.51]) [192.0.2.51] P=esmtp S=300",
            rcv(
                NEW_ID,
                "x@literal.example",
                Some(peer(None, "192.0.2.51")),
                "esmtp",
                None,
            ),
        ),
        (
            "1sDcIh-000000004YY-3wAT <= y@empty.example H=([]) [192.0.2.52] P=smtp S=300",
            rcv(
                NEW_ID,
                "y@empty.example",
                Some(peer(None, "192.0.2.52")),
                "smtp",
                None,
            ),
        ),
        (
            "1sDcIh-000000004YY-3wAT <= eve@peer.example H=mout.peer.example [2001:db8::7]:41234 I=[2001:db8::1]:25 P=esmtps X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no S=5000",
            rcv(
                NEW_ID,
                "eve@peer.example",
                Some(peer(Some("mout.peer.example"), "2001:db8::7")),
                "esmtps",
                aes256(Verify::No, cv("no")),
            ),
        ),
        (
            "1sDcIh-000000004YY-3wAT <= alice@example.com H=laptop.example.net (workstation) [198.51.100.44] P=esmtpsa X=TLS1.3:TLS_AES_128_GCM_SHA256:128 CV=no A=dovecot_plain:alice S=1500",
            rcv(
                NEW_ID,
                "alice@example.com",
                Some(peer(Some("laptop.example.net"), "198.51.100.44")),
                "esmtpsa",
                params(
                    "TLS1.3",
                    "TLS_AES_128_GCM_SHA256",
                    128,
                    Verify::No,
                    cv("no"),
                ),
            ),
        ),
        (
            "1sDcIh-000000004YY-3wAT <= ops@partner.example H=relay.partner.example [192.0.2.22] P=esmtps X=TLS1.2:ECDHE-RSA-AES256-GCM-SHA384:256 CV=yes DN=\"/C=DE/O=Partner GmbH/CN=relay.partner.example\" S=2000",
            rcv(
                NEW_ID,
                "ops@partner.example",
                Some(peer(Some("relay.partner.example"), "192.0.2.22")),
                "esmtps",
                params(
                    "TLS1.2",
                    "ECDHE-RSA-AES256-GCM-SHA384",
                    256,
                    Verify::Ok,
                    Some(TlsDetail {
                        raw_verify: Some("yes".into()),
                        peer_dn: Some("/C=DE/O=Partner GmbH/CN=relay.partner.example".into()),
                        ..TlsDetail::default()
                    }),
                ),
            ),
        ),
        (
            "1sDcIh-000000004YY-3wAT <= ops@selfsigned.example H=mx.selfsigned.example [192.0.2.25] P=esmtps X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no DN=\"CN=mx.selfsigned.example\" S=2100",
            rcv(
                NEW_ID,
                "ops@selfsigned.example",
                Some(peer(Some("mx.selfsigned.example"), "192.0.2.25")),
                "esmtps",
                aes256(
                    Verify::Fail,
                    Some(TlsDetail {
                        raw_verify: Some("no".into()),
                        peer_dn: Some("CN=mx.selfsigned.example".into()),
                        ..TlsDetail::default()
                    }),
                ),
            ),
        ),
        (
            "1sDcIh-000000004YY-3wAT <= alice@peer.example H=mail.peer.example [192.0.2.20] P=esmtps X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no SNI=mail.example.com S=2345",
            rcv(
                NEW_ID,
                "alice@peer.example",
                pe(),
                "esmtps",
                aes256(
                    Verify::No,
                    Some(TlsDetail {
                        raw_verify: Some("no".into()),
                        sni: Some("mail.example.com".into()),
                        ..TlsDetail::default()
                    }),
                ),
            ),
        ),
        (
            "1sDcIh-000000004YY-3wAT <= alice@peer.example H=mail.peer.example [192.0.2.20] P=esmtps X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no SNI=\"mail.example.com\" S=2345",
            rcv(
                NEW_ID,
                "alice@peer.example",
                pe(),
                "esmtps",
                aes256(
                    Verify::No,
                    Some(TlsDetail {
                        raw_verify: Some("no".into()),
                        sni: Some("mail.example.com".into()),
                        ..TlsDetail::default()
                    }),
                ),
            ),
        ),
        (
            "1aZ1HS-0006iF-Rk <= alice@peer.example H=mail.peer.example [192.0.2.20] P=esmtps X=TLS1.2:ECDHE_RSA_AES_256_GCM_SHA384:256 CV=no S=1234",
            rcv(
                OLD_ID,
                "alice@peer.example",
                pe(),
                "esmtps",
                params(
                    "TLS1.2",
                    "ECDHE_RSA_AES_256_GCM_SHA384",
                    256,
                    Verify::No,
                    cv("no"),
                ),
            ),
        ),
        (
            "1aZ1HS-0006iF-Rk <= alice@peer.example H=mail.peer.example [192.0.2.20] P=esmtps X=TLS1.3:ECDHE_RSA_AES_256_GCM_SHA384:256 CV=no S=1234",
            rcv(
                OLD_ID,
                "alice@peer.example",
                pe(),
                "esmtps",
                params(
                    "TLS1.3",
                    "ECDHE_RSA_AES_256_GCM_SHA384",
                    256,
                    Verify::No,
                    cv("no"),
                ),
            ),
        ),
        (
            "1sDcIh-000000004YY-3wAT <= alice@peer.example H=mail.peer.example [192.0.2.20] P=esmtps X=TLS1.3:ECDHE_SECP256R1__RSA_PSS_RSAE_SHA256__AES_256_GCM:256 CV=no S=1234",
            rcv(
                NEW_ID,
                "alice@peer.example",
                pe(),
                "esmtps",
                params(
                    "TLS1.3",
                    "ECDHE_SECP256R1__RSA_PSS_RSAE_SHA256__AES_256_GCM",
                    256,
                    Verify::No,
                    cv("no"),
                ),
            ),
        ),
        (
            "1sDcIh-000000004YY-3wAT <= alice@peer.example H=mail.peer.example [192.0.2.20] P=esmtps X=TLS1.2:RSA__AES_256_GCM:256 CV=no S=1234",
            rcv(
                NEW_ID,
                "alice@peer.example",
                pe(),
                "esmtps",
                params("TLS1.2", "RSA__AES_256_GCM", 256, Verify::No, cv("no")),
            ),
        ),
        (
            "1sDcIh-000000004YY-3wAT <= alice@peer.example H=mail.peer.example [192.0.2.20] P=esmtps X=TLS1.3:TLS_AES_256_GCM_SHA384:256:X25519 S=1234",
            rcv(
                NEW_ID,
                "alice@peer.example",
                pe(),
                "esmtps",
                aes256(
                    Verify::No,
                    Some(TlsDetail {
                        key_exchange: Some("X25519".into()),
                        ..TlsDetail::default()
                    }),
                ),
            ),
        ),
        (
            "1sDcIh-000000004YY-3wAT <= alice@peer.example H=mail.peer.example [192.0.2.20] P=esmtps X=TLS1.3:TLS_AES_256_GCM_SHA384:256* CV=no S=1234",
            rcv(
                NEW_ID,
                "alice@peer.example",
                pe(),
                "esmtps",
                aes256(
                    Verify::No,
                    Some(TlsDetail {
                        raw_verify: Some("no".into()),
                        reused: true,
                        ..TlsDetail::default()
                    }),
                ),
            ),
        ),
        (
            "1sDcIh-000000004YY-3wAT <= alice@peer.example H=mail.peer.example [192.0.2.20] P=esmtps X=TLS1.3:TLS_AES_256_GCM_SHA384:256 S=2345 T=\"Quarterly report: draft \\\"final\\\"\" for bob@example.com carol@example.com",
            rcv(
                NEW_ID,
                "alice@peer.example",
                pe(),
                "esmtps",
                aes256(Verify::No, None),
            ),
        ),
        (
            "1sDcIh-000000004YY-3wAT <= root@example.com U=root P=local S=512",
            rcv(NEW_ID, "root@example.com", None, "local", None),
        ),
        (
            "1sDcIh-000000004YY-3wAT <= <> R=1sDcIg-000000004YX-2aBc U=Debian-exim P=local S=2048",
            rcv(NEW_ID, "", None, "local", None),
        ),
        (
            "2026-11-28 10:15:02.123 +0100 [12345] 1sDcIh-000000004YY-3wAT <= alice@peer.example H=mail.peer.example [192.0.2.20] P=esmtps X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no S=2345",
            rcv(
                NEW_ID,
                "alice@peer.example",
                pe(),
                "esmtps",
                aes256(Verify::No, cv("no")),
            ),
        ),
        (
            "[1/2] 1sDcIh-000000004YY-3wAT <= alice@peer.example H=mail.peer.example [192.0.2.20] P=esmtps X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no S=2345",
            rcv(
                NEW_ID,
                "alice@peer.example",
                pe(),
                "esmtps",
                aes256(Verify::No, cv("no")),
            ),
        ),
        (
            "[2/2]  id=20261128.abc@peer.example T=\"a very long subject\"",
            Parsed::Irrelevant,
        ),
        // ---- deliveries
        (
            "1sDcIh-000000004YY-3wAT => bob@peer.example R=dnslookup T=remote_smtp H=mx1.peer.example [192.0.2.30] X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes C=\"250 2.0.0 OK id=1sDcIi-000000004Yz-0aBc\"",
            dlv(
                NEW_ID,
                "bob@peer.example",
                mx(),
                Some("remote_smtp"),
                DeliveryStatus::Sent,
                Some("2.0.0"),
                "250 2.0.0 OK id=1sDcIi-000000004Yz-0aBc",
                aes256(Verify::Ok, cv("yes")),
            ),
        ),
        (
            "1sDcIh-000000004YY-3wAT -> carol@peer.example R=dnslookup T=remote_smtp H=mx1.peer.example [192.0.2.30] X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes C=\"250 2.0.0 OK\"",
            dlv(
                NEW_ID,
                "carol@peer.example",
                mx(),
                Some("remote_smtp"),
                DeliveryStatus::Sent,
                Some("2.0.0"),
                "250 2.0.0 OK",
                aes256(Verify::Ok, cv("yes")),
            ),
        ),
        (
            "1aZ1HS-0006iF-Rk => dave@selfsigned.example R=dnslookup T=remote_smtp H=mx.selfsigned.example [192.0.2.25] X=TLSv1.2:ECDHE-RSA-AES256-GCM-SHA384:256 CV=no C=\"250 OK\"",
            dlv(
                OLD_ID,
                "dave@selfsigned.example",
                Some(peer(Some("mx.selfsigned.example"), "192.0.2.25")),
                Some("remote_smtp"),
                DeliveryStatus::Sent,
                None,
                "250 OK",
                params(
                    "TLSv1.2",
                    "ECDHE-RSA-AES256-GCM-SHA384",
                    256,
                    Verify::Fail,
                    cv("no"),
                ),
            ),
        ),
        (
            "1sDcIh-000000004YY-3wAT => hank@dane.example R=dnslookup T=remote_smtp H=mx.dane.example [192.0.2.71] X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=dane C=\"250 2.0.0 Ok\"",
            dlv(
                NEW_ID,
                "hank@dane.example",
                Some(peer(Some("mx.dane.example"), "192.0.2.71")),
                Some("remote_smtp"),
                DeliveryStatus::Sent,
                Some("2.0.0"),
                "250 2.0.0 Ok",
                aes256(Verify::Trusted, cv("dane")),
            ),
        ),
        (
            "1sDcIh-000000004YY-3wAT => bob@peer.example R=dnslookup T=remote_smtp H=mx1.peer.example [192.0.2.30] X=TLS1.3:TLS_AES_256_GCM_SHA384:256 C=\"250 2.0.0 OK\"",
            dlv(
                NEW_ID,
                "bob@peer.example",
                mx(),
                Some("remote_smtp"),
                DeliveryStatus::Sent,
                Some("2.0.0"),
                "250 2.0.0 OK",
                aes256(Verify::Unknown, None),
            ),
        ),
        (
            "1sDcIh-000000004YY-3wAT => gina@plain.example R=dnslookup T=remote_smtp H=mx.plain.example [192.0.2.70] C=\"250 OK\"",
            dlv(
                NEW_ID,
                "gina@plain.example",
                Some(peer(Some("mx.plain.example"), "192.0.2.70")),
                Some("remote_smtp"),
                DeliveryStatus::Sent,
                None,
                "250 OK",
                None,
            ),
        ),
        (
            "1sDcIh-000000004YY-3wAT => ivy@peer.example R=dnslookup T=remote_smtp H=mx2.peer.example [2001:db8:fe21:2a::6]:25 I=[2001:db8::1] TFO* X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes K C=\"250 2.0.0 Ok: queued as 4XbC5n2GqZz\"",
            dlv(
                NEW_ID,
                "ivy@peer.example",
                Some(peer(Some("mx2.peer.example"), "2001:db8:fe21:2a::6")),
                Some("remote_smtp"),
                DeliveryStatus::Sent,
                Some("2.0.0"),
                "250 2.0.0 Ok: queued as 4XbC5n2GqZz",
                aes256(Verify::Ok, cv("yes")),
            ),
        ),
        (
            "1sDcIh-000000004YY-3wAT => bob <bob@example.com> R=local_user T=mail_spool",
            dlv(
                NEW_ID,
                "bob",
                None,
                Some("mail_spool"),
                DeliveryStatus::Sent,
                None,
                "",
                None,
            ),
        ),
        (
            "1sDcIh-000000004YY-3wAT *> bob@peer.example R=dnslookup T=remote_smtp H=mx1.peer.example [192.0.2.30] X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes C=\"250 OK\"",
            dlv(
                NEW_ID,
                "bob@peer.example",
                mx(),
                Some("remote_smtp"),
                DeliveryStatus::Other,
                None,
                "250 OK",
                aes256(Verify::Ok, cv("yes")),
            ),
        ),
        (
            "1sDcIh-000000004YY-3wAT ** nobody@peer.example R=dnslookup T=remote_smtp H=mx1.peer.example [192.0.2.30] X=TLS1.2:ECDHE-RSA-AES256-GCM-SHA384:256 CV=yes: SMTP error from remote mail server after RCPT TO:<nobody@peer.example>: 550 5.1.1 <nobody@peer.example>: Recipient address rejected: User unknown",
            dlv(
                NEW_ID,
                "nobody@peer.example",
                mx(),
                Some("remote_smtp"),
                DeliveryStatus::Bounced,
                Some("5.1.1"),
                "SMTP error from remote mail server after RCPT TO:<nobody@peer.example>: 550 5.1.1 <nobody@peer.example>: Recipient address rejected: User unknown",
                params(
                    "TLS1.2",
                    "ECDHE-RSA-AES256-GCM-SHA384",
                    256,
                    Verify::Ok,
                    cv("yes"),
                ),
            ),
        ),
        (
            "1sDcIh-000000004YY-3wAT ** bad@nowhere.example: Unrouteable address",
            dlv(
                NEW_ID,
                "bad@nowhere.example",
                None,
                None,
                DeliveryStatus::Bounced,
                None,
                "Unrouteable address",
                None,
            ),
        ),
        (
            "1sDcIh-000000004YY-3wAT == dave@peer.example R=dnslookup T=remote_smtp defer (-37) H=mx1.peer.example [192.0.2.30]: TLS session: (SSL_connect): error:0A000086:SSL routines::certificate verify failed",
            dlv(
                NEW_ID,
                "dave@peer.example",
                mx(),
                Some("remote_smtp"),
                DeliveryStatus::Deferred,
                None,
                "TLS session: (SSL_connect): error:0A000086:SSL routines::certificate verify failed",
                None,
            ),
        ),
        (
            "1sDcIh-000000004YY-3wAT == dave@peer.example R=dnslookup T=remote_smtp defer (-38) H=mx1.peer.example [192.0.2.30]: a TLS session is required, but the server did not offer TLS support",
            dlv(
                NEW_ID,
                "dave@peer.example",
                mx(),
                Some("remote_smtp"),
                DeliveryStatus::Deferred,
                None,
                "a TLS session is required, but the server did not offer TLS support",
                None,
            ),
        ),
        (
            "1sDcIh-000000004YY-3wAT == erin@down.example R=dnslookup T=remote_smtp defer (111): Connection refused",
            dlv(
                NEW_ID,
                "erin@down.example",
                None,
                Some("remote_smtp"),
                DeliveryStatus::Deferred,
                None,
                "Connection refused",
                None,
            ),
        ),
        (
            "1sDcIh-000000004YY-3wAT == frank@peer.example R=dnslookup T=remote_smtp defer (-44) H=mx1.peer.example [192.0.2.30] X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes: SMTP error from remote mail server after RCPT TO:<frank@peer.example>: 451 4.7.1 Greylisted, try again later",
            dlv(
                NEW_ID,
                "frank@peer.example",
                mx(),
                Some("remote_smtp"),
                DeliveryStatus::Deferred,
                Some("4.7.1"),
                "SMTP error from remote mail server after RCPT TO:<frank@peer.example>: 451 4.7.1 Greylisted, try again later",
                aes256(Verify::Ok, cv("yes")),
            ),
        ),
        (
            "1sDcIh-000000004YY-3wAT == x@retry.example routing defer (-51): retry time not reached",
            dlv(
                NEW_ID,
                "x@retry.example",
                None,
                None,
                DeliveryStatus::Deferred,
                None,
                "retry time not reached",
                None,
            ),
        ),
        // ---- TLS errors
        (
            "TLS error on connection from mout.peer.example [192.0.2.15] (gnutls_handshake): A TLS fatal alert has been received.",
            err(
                Some(In),
                Some(peer(Some("mout.peer.example"), "192.0.2.15")),
                TlsErrorKind::Handshake,
                "TLS error on connection from mout.peer.example [192.0.2.15] (gnutls_handshake): A TLS fatal alert has been received.",
            ),
        ),
        (
            "TLS error on connection from (helo.peer.example) [192.0.2.16]:41000 I=[198.51.100.1]:25 (SSL_accept): timed out",
            err(
                Some(In),
                Some(peer(None, "192.0.2.16")),
                TlsErrorKind::Handshake,
                "TLS error on connection from (helo.peer.example) [192.0.2.16]:41000 I=[198.51.100.1]:25 (SSL_accept): timed out",
            ),
        ),
        (
            "TLS error on connection from mail.peer.example [192.0.2.20] (recv): The TLS connection was non-properly terminated.",
            err(
                Some(In),
                pe(),
                TlsErrorKind::Io,
                "TLS error on connection from mail.peer.example [192.0.2.20] (recv): The TLS connection was non-properly terminated.",
            ),
        ),
        (
            "TLS error on connection from localhost (vm.example.test) [127.0.0.1]:41234 I=[127.0.0.1]:25 (cert/key setup: cert=/etc/exim4/mx.crt key=/etc/exim4/mx-key.pem): Decryption has failed.",
            err(
                Some(In),
                Some(Peer::new(Some("localhost"), "127.0.0.1".parse().ok())),
                TlsErrorKind::PrivateKey,
                "TLS error on connection from localhost (vm.example.test) [127.0.0.1]:41234 I=[127.0.0.1]:25 (cert/key setup: cert=/etc/exim4/mx.crt key=/etc/exim4/mx-key.pem): Decryption has failed.",
            ),
        ),
        (
            "TLS error on connection from localhost (vm.example.test) [127.0.0.1]:41236 I=[127.0.0.1]:25 (cert/key setup: cert=/etc/exim4/mx.crt key=/etc/exim4/other-key.pem): The certificate and the given key do not match.",
            err(
                Some(In),
                Some(Peer::new(Some("localhost"), "127.0.0.1".parse().ok())),
                TlsErrorKind::PrivateKey,
                "TLS error on connection from localhost (vm.example.test) [127.0.0.1]:41236 I=[127.0.0.1]:25 (cert/key setup: cert=/etc/exim4/mx.crt key=/etc/exim4/other-key.pem): The certificate and the given key do not match.",
            ),
        ),
        (
            "TLS error on connection from localhost (vm.example.test) [127.0.0.1]:41238 I=[127.0.0.1]:25 (recv): A TLS fatal alert has been received: Certificate is bad",
            err(
                Some(In),
                Some(Peer::new(Some("localhost"), "127.0.0.1".parse().ok())),
                TlsErrorKind::CertificateRejected,
                "TLS error on connection from localhost (vm.example.test) [127.0.0.1]:41238 I=[127.0.0.1]:25 (recv): A TLS fatal alert has been received: Certificate is bad",
            ),
        ),
        // The real `ca_missing` capture (Exim 4.96, GnuTLS): the file, then the connection
        // it broke.
        (
            "could not stat '/var/lib/mailtls-e2e/certs/cacert.pem' (tls_verify_certificates): No such file or directory",
            err(
                None,
                None,
                TlsErrorKind::MissingFile,
                "could not stat '/var/lib/mailtls-e2e/certs/cacert.pem' (tls_verify_certificates): No such file or directory",
            ),
        ),
        (
            "could not stat '/etc/exim4/ca.pem' (tls_verify_certificates): Permission denied",
            err(
                None,
                None,
                TlsErrorKind::CaLocations,
                "could not stat '/etc/exim4/ca.pem' (tls_verify_certificates): Permission denied",
            ),
        ),
        (
            "TLS error on connection from (client.example.test) [127.0.0.1] NULL",
            err(
                Some(In),
                Some(Peer::new(None, "127.0.0.1".parse().ok())),
                TlsErrorKind::Init,
                "TLS error on connection from (client.example.test) [127.0.0.1] NULL",
            ),
        ),
        (
            "TLS error on connection from mail.peer.example [192.0.2.20] (cert/key setup: cert=/etc/exim4/exim.crt key=/etc/exim4/exim.key): Error while reading file.",
            err(
                Some(In),
                pe(),
                TlsErrorKind::PrivateKey,
                "TLS error on connection from mail.peer.example [192.0.2.20] (cert/key setup: cert=/etc/exim4/exim.crt key=/etc/exim4/exim.key): Error while reading file.",
            ),
        ),
        (
            "TLS error on connection from mail.peer.example [192.0.2.20] (SSL_CTX_use_PrivateKey_file file=/etc/exim4/exim.key): error:1E08010C:DECODER routines::unsupported",
            err(
                Some(In),
                pe(),
                TlsErrorKind::PrivateKey,
                "TLS error on connection from mail.peer.example [192.0.2.20] (SSL_CTX_use_PrivateKey_file file=/etc/exim4/exim.key): error:1E08010C:DECODER routines::unsupported",
            ),
        ),
        (
            "TLS error on connection to mx1.peer.example [192.0.2.30] (SSL_connect): error:0A000410:SSL routines::sslv3 alert handshake failure",
            err(
                Some(Out),
                mx(),
                TlsErrorKind::Handshake,
                "TLS error on connection to mx1.peer.example [192.0.2.30] (SSL_connect): error:0A000410:SSL routines::sslv3 alert handshake failure",
            ),
        ),
        (
            "TLS error (SSL_read): on connection from mail.peer.example [192.0.2.20] error:0A000126:SSL routines::unexpected eof while reading",
            err(
                Some(In),
                pe(),
                TlsErrorKind::Io,
                "TLS error (SSL_read): on connection from mail.peer.example [192.0.2.20] error:0A000126:SSL routines::unexpected eof while reading",
            ),
        ),
        (
            "TLS error (SSL_write): error:0A00007F:SSL routines::bad write retry",
            err(
                None,
                None,
                TlsErrorKind::Io,
                "TLS error (SSL_write): error:0A00007F:SSL routines::bad write retry",
            ),
        ),
        (
            "[192.0.2.30] SSL verify error: depth=0 error=certificate has expired cert=/CN=mx1.peer.example",
            err(
                None,
                Some(peer(None, "192.0.2.30")),
                TlsErrorKind::CertVerify,
                "[192.0.2.30] SSL verify error: depth=0 error=certificate has expired cert=/CN=mx1.peer.example",
            ),
        ),
        (
            "[192.0.2.30] SSL verify error: certificate name mismatch: DN=\"/CN=other.example\" H=\"mx1.peer.example\"",
            err(
                None,
                Some(peer(None, "192.0.2.30")),
                TlsErrorKind::CertVerify,
                "[192.0.2.30] SSL verify error: certificate name mismatch: DN=\"/CN=other.example\" H=\"mx1.peer.example\"",
            ),
        ),
        (
            "1sDcIh-000000004YY-3wAT TLS session: (certificate verification failed): certificate invalid: delivering unencrypted to H=mx1.peer.example [192.0.2.30] (not in hosts_require_tls)",
            err(
                Some(Out),
                mx(),
                TlsErrorKind::CertVerify,
                "TLS session: (certificate verification failed): certificate invalid: delivering unencrypted to H=mx1.peer.example [192.0.2.30] (not in hosts_require_tls)",
            ),
        ),
        // The real `client_key_missing` capture: our transport's key, not the peer's TLS.
        (
            "1xafJk-0000xW-14 TLS session: (cert/key setup: cert=/var/lib/mailtls-e2e/certs/client-cert.pem key=/var/lib/mailtls-e2e/certs/client-key.pem): Error while reading file.: delivering unencrypted to H=127.0.0.1 [127.0.0.1] (not in hosts_require_tls)",
            err(
                Some(Out),
                Some(Peer::new(Some("127.0.0.1"), "127.0.0.1".parse().ok())),
                TlsErrorKind::PrivateKey,
                "TLS session: (cert/key setup: cert=/var/lib/mailtls-e2e/certs/client-cert.pem key=/var/lib/mailtls-e2e/certs/client-key.pem): Error while reading file.: delivering unencrypted to H=127.0.0.1 [127.0.0.1] (not in hosts_require_tls)",
            ),
        ),
        (
            "no MAIL in SMTP connection from mail.peer.example [192.0.2.20] D=5s C=EHLO,STARTTLS,EHLO,QUIT",
            Parsed::Event(EventKind::SessionEnd {
                peer: pe(),
                reason: EndReason::NoMail,
                starttls: None,
            }),
        ),
        // ---- not ours / malformed
        ("1sDcIh-000000004YY-3wAT Completed", Parsed::Irrelevant),
        // Not a date: multi-byte text where the date's digits would be.
        (
            "2026-\u{e9}1-28 10:15:02 1sDcIh-000000004YY-3wAT Completed",
            Parsed::Irrelevant,
        ),
        ("2026-11-28 10:15:0\u{e9} x", Parsed::Irrelevant),
        ("Start queue run: pid=4242", Parsed::Irrelevant),
        (
            "SMTP connection from mail.peer.example [192.0.2.20] closed by QUIT",
            Parsed::Irrelevant,
        ),
        // ---- rejected commands on a TLS connection: an inbound session, no message
        (
            "H=bad.example [192.0.2.99] X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no F=<a@bad.example> rejected RCPT <c@example.com>: relay not permitted",
            Parsed::Event(EventKind::Tls(TlsSession {
                direction: In,
                peer: peer(Some("bad.example"), "192.0.2.99"),
                params: params(
                    "TLS1.3",
                    "TLS_AES_256_GCM_SHA384",
                    256,
                    Verify::No, // CV=no without a DN: no client certificate (event.rs rule)
                    cv("no"),
                )
                .unwrap(),
            })),
        ),
        // Exim 4.96 GnuTLS, no rDNS, `rejected MAIL`.
        (
            "H=(client.example) [127.0.0.1] X=TLS1.3:ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM:256 CV=no rejected MAIL <spam@bad.example>: sender verify failed",
            Parsed::Event(EventKind::Tls(TlsSession {
                direction: In,
                peer: peer(None, "127.0.0.1"),
                params: params(
                    "TLS1.3",
                    "ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM",
                    256,
                    Verify::No,
                    cv("no"),
                )
                .unwrap(),
            })),
        ),
        // `temporarily rejected`, after a message id (`rejected after DATA`).
        (
            "1sDcIh-000000004YY-3wAT H=mx.bad.example [192.0.2.98] X=TLS1.2:ECDHE-RSA-AES256-GCM-SHA384:256 CV=no F=<a@bad.example> temporarily rejected after DATA: spool full",
            Parsed::Event(EventKind::Tls(TlsSession {
                direction: In,
                peer: peer(Some("mx.bad.example"), "192.0.2.98"),
                params: params(
                    "TLS1.2",
                    "ECDHE-RSA-AES256-GCM-SHA384",
                    256,
                    Verify::No,
                    cv("no"),
                )
                .unwrap(),
            })),
        ),
        // A reject in clear says nothing about TLS.
        (
            "H=bad.example [192.0.2.99] F=<a@bad.example> rejected RCPT <c@example.com>: relay not permitted",
            Parsed::Irrelevant,
        ),
        (
            "1sDcIh-000000004YY-3wAT <=",
            Parsed::Malformed("Exim arrival without sender: 1sDcIh-000000004YY-3wAT <=".into()),
        ),
        (
            "TLS error on connection from garbage",
            Parsed::Malformed(
                "Exim TLS error, bad host: TLS error on connection from garbage".into(),
            ),
        ),
    ]
}

#[test]
fn every_exim_form() {
    let rows = rows();
    assert!(rows.len() >= 35, "only {} rows", rows.len());
    for (line, want) in rows {
        assert_eq!(parse(line), want, "{line}");
        assert!(
            want == Parsed::Irrelevant || crate::parse::prefilter::may_matter(line.as_bytes()),
            "the prefilter would drop: {line}"
        );
    }
}

#[test]
fn cipher_string_shapes() {
    // (X= value, version, cipher, bits, group, resumed)
    type Row<'a> = (
        &'a str,
        &'a str,
        Option<&'a str>,
        Option<u16>,
        Option<&'a str>,
        bool,
    );
    let rows: [Row; 8] = [
        (
            "TLSv1.2:ECDHE-RSA-AES256-GCM-SHA384:256",
            "TLSv1.2",
            Some("ECDHE-RSA-AES256-GCM-SHA384"),
            Some(256),
            None,
            false,
        ),
        (
            "TLS1.3:TLS_AES_256_GCM_SHA384:256",
            "TLSv1.3",
            Some("TLS_AES_256_GCM_SHA384"),
            Some(256),
            None,
            false,
        ),
        (
            "TLS1.3:ECDHE_SECP256R1__RSA_PSS_RSAE_SHA256__AES_256_GCM:256",
            "TLSv1.3",
            Some("ECDHE_SECP256R1__RSA_PSS_RSAE_SHA256__AES_256_GCM"),
            Some(256),
            None,
            false,
        ),
        (
            "TLS1.3:TLS_AES_256_GCM_SHA384:256:X25519",
            "TLSv1.3",
            Some("TLS_AES_256_GCM_SHA384"),
            Some(256),
            Some("X25519"),
            false,
        ),
        (
            "TLS1.3:TLS_AES_128_GCM_SHA256:128*",
            "TLSv1.3",
            Some("TLS_AES_128_GCM_SHA256"),
            Some(128),
            None,
            true,
        ),
        (
            "TLS1.2:DHE_RSA_AES_128_CBC_SHA1:128",
            "TLSv1.2",
            Some("DHE_RSA_AES_128_CBC_SHA1"),
            Some(128),
            None,
            false,
        ),
        ("TLS1.2", "TLSv1.2", None, None, None, false),
        (
            "TLS1.2:SOMECIPHER",
            "TLSv1.2",
            Some("SOMECIPHER"),
            None,
            None,
            false,
        ),
    ];
    for (x, version, cipher, bits, group, resumed) in rows {
        let got = cipher_string(x);
        assert_eq!(got.version.label(), version, "{x}");
        assert_eq!(got.cipher.as_ref().map(Cipher::as_str), cipher, "{x}");
        assert_eq!(got.bits, bits, "{x}");
        assert_eq!(got.group.as_deref(), group, "{x}");
        assert_eq!(got.resumed, resumed, "{x}");
    }
}

#[test]
fn delivery_texts_name_their_tls_problem() {
    let rows = [
        (
            "TLS session: (SSL_connect): error:0A000086:SSL routines::certificate verify failed",
            Some(TlsErrorKind::CertVerify),
        ),
        (
            "TLS session: (SSL_connect): timed out",
            Some(TlsErrorKind::Handshake),
        ),
        (
            "TLS session: (recv): A TLS fatal alert has been received: Certificate is bad",
            Some(TlsErrorKind::CertificateRejected),
        ),
        (
            "a TLS session is required, but the server did not offer TLS support",
            Some(TlsErrorKind::NotOffered),
        ),
        (
            "a TLS session is required, but an attempt to start TLS failed",
            Some(TlsErrorKind::Handshake),
        ),
        ("Connection refused", None),
        (
            "SMTP error from remote mail server after RCPT TO:<x@y>: 550 5.1.1 unknown",
            None,
        ),
    ];
    for (text, want) in rows {
        assert_eq!(status_tls_error(text), want, "{text}");
    }
}

#[test]
fn message_ids() {
    for ok in [NEW_ID, OLD_ID, "1sDcIi-000000004Yz-0aBc"] {
        assert!(is_message_id(ok), "{ok}");
    }
    for bad in [
        "1aZ1HS-0006iF",
        "1aZ1HS-0006iF-Rk-x",
        "Completed",
        "1aZ1HS_0006iF_Rk",
        "",
    ] {
        assert!(!is_message_id(bad), "{bad}");
    }
}

/// The split-and-count reading [`is_message_id`] replaced, kept as its specification.
fn message_id_by_parts(s: &str) -> bool {
    let mut lens = [0usize; 4];
    let mut n = 0;
    for (slot, part) in lens.iter_mut().zip(s.split('-')) {
        *slot = part.len();
        n += 1;
    }
    let alnum = s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    alnum && n == 3 && (lens[..3] == [6, 6, 2] || lens[..3] == [6, 11, 4])
}

proptest! {
    /// Ids, ids with a dash moved, added or dropped, and non-ASCII bytes: the same verdict
    /// as splitting on dashes.
    #[test]
    fn message_id_agrees_with_splitting_on_dashes(
        s in "[a-zA-Z0-9]{6}-[a-zA-Z0-9]{6}-[a-zA-Z0-9]{2}|[a-zA-Z0-9]{6}-[a-zA-Z0-9]{11}-[a-zA-Z0-9]{4}|[a-zA-Z0-9é_-]{14,24}",
    ) {
        prop_assert_eq!(is_message_id(&s), message_id_by_parts(&s), "{}", s);
    }
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(s in "\\PC*") {
        let _ = parse(&s);
    }

    #[test]
    fn date_like_prefixes_never_panic(s in "[0-9é:. +\\-\\[\\]/]{0,40}") {
        let _ = parse(&s);
    }

    #[test]
    fn near_miss_lines_never_panic(
        head in prop::sample::select(vec![
            "1sDcIh-000000004YY-3wAT <= ",
            "1sDcIh-000000004YY-3wAT => ",
            "1sDcIh-000000004YY-3wAT == x R=a T=b defer (-37) H=",
            "TLS error on connection from ",
            "TLS error (",
            "[",
            "2026-11-28 10:15:02",
        ]),
        tail in "[\\[\\]:/ a-zA-Z0-9.()=<>\"*,_é€-]{0,60}",
    ) {
        let line = format!("{head}{tail}");
        let _ = parse(&line);
    }
}

/// Every table line with a multi-byte character or a cut at every position: the parser
/// may call it anything but must not panic.
#[test]
fn mutated_rows_never_panic() {
    for (line, _) in rows() {
        for (i, _) in line.char_indices() {
            let mut s = line.to_owned();
            s.insert(i, 'é');
            let _ = parse(&s);
            let _ = parse(&line[..i]);
        }
    }
}

/// The keys whose values the parsers read.
const KEYS: [&str; 7] = ["X", "CV", "DN", "SNI", "P", "T", "C"];

/// The word-by-word reading [`fields`] replaced (every `KEY=value` and bare word kept in
/// a `Vec`), kept as its specification.
#[derive(Debug, Default)]
struct WordFields<'a> {
    first: Option<&'a str>,
    host: Option<Peer>,
    values: Vec<(&'a str, Cow<'a, str>)>,
    text: Option<&'a str>,
    bare: Vec<&'a str>,
}

impl WordFields<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| &**v)
    }
}

fn fields_by_words(s: &str, colon_text: bool) -> WordFields<'_> {
    let mut f = WordFields::default();
    let mut rest = s.trim_start();
    while !rest.is_empty() {
        if let Some(h) = rest.strip_prefix("H=") {
            match host_spec(h) {
                Some((peer, after)) => {
                    f.host = Some(peer);
                    rest = after;
                    if let Some(t) = rest.strip_prefix(':')
                        && colon_text
                    {
                        f.text = Some(t.trim());
                        break;
                    }
                    rest = rest.trim_start();
                    continue;
                }
                None => {
                    let (word, after) = split_word(h);
                    let word = word.trim_end_matches(':');
                    f.host = Some(Peer::new(Some(word), None));
                    rest = after.trim_start();
                    continue;
                }
            }
        }
        let sp = memchr::memchr(b' ', rest.as_bytes()).unwrap_or(rest.len());
        let eq = memchr::memchr(b'=', rest.as_bytes().get(..sp).unwrap_or_default());
        let is_kv = matches!(eq, Some(e) if e < sp && e > 0
            && rest[..e].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
        if let (true, Some(e)) = (is_kv, eq) {
            let key = &rest[..e];
            let after_eq = &rest[e + 1..];
            let (value, after) = if let Some(q) = after_eq.strip_prefix('"') {
                quoted(q)
            } else {
                let (w, a) = split_word(after_eq);
                (Cow::Borrowed(w), a)
            };
            rest = after;
            if colon_text && value.ends_with(':') && !after_eq.starts_with('"') {
                let value = match value {
                    Cow::Borrowed(v) => Cow::Borrowed(v.trim_end_matches(':')),
                    Cow::Owned(v) => Cow::Owned(v.trim_end_matches(':').to_owned()),
                };
                f.values.push((key, value));
                f.text = Some(rest.trim());
                break;
            }
            if colon_text && let Some(t) = rest.strip_prefix(':') {
                f.values.push((key, value));
                f.text = Some(t.trim());
                break;
            }
            f.values.push((key, value));
        } else {
            let (word, after) = split_word(rest);
            rest = after;
            if colon_text && word.ends_with(':') {
                let w = word.trim_end_matches(':');
                if f.first.is_none() {
                    f.first = Some(w);
                } else if !w.is_empty() {
                    f.bare.push(w);
                }
                f.text = Some(rest.trim());
                break;
            }
            if f.first.is_none() {
                f.first = Some(word);
            } else {
                f.bare.push(word);
            }
        }
        rest = rest.trim_start();
    }
    f
}

/// [`fields`] and [`fields_by_words`] read `s` alike in everything the parsers use.
fn assert_fields_agree(s: &str) {
    for colon_text in [false, true] {
        let (new, old) = (fields(s, colon_text), fields_by_words(s, colon_text));
        assert_eq!(new.first, old.first, "{s:?} {colon_text}");
        assert_eq!(new.host, old.host, "{s:?} {colon_text}");
        assert_eq!(new.text, old.text, "{s:?} {colon_text}");
        assert_eq!(
            new.bare_rejected,
            old.bare.contains(&"rejected"),
            "{s:?} {colon_text}"
        );
        for key in KEYS {
            assert_eq!(new.get(key), old.get(key), "{s:?} {colon_text} {key}");
        }
    }
}

#[test]
fn fields_agree_with_the_word_reading_on_every_row() {
    for (line, _) in rows() {
        let mut cut = line;
        // Every message line after its id and mark, and every cut of it.
        if let Some((_, rest)) = line.split_once(' ')
            && let Some((_, after)) = rest.split_once(' ')
        {
            cut = after;
        }
        for (i, _) in cut.char_indices() {
            assert_fields_agree(&cut[..i]);
            assert_fields_agree(&cut[i..]);
        }
        assert_fields_agree(cut);
        assert_fields_agree(line);
    }
}

/// The split-and-join reading [`cipher_string`] replaced, kept as its specification.
fn cipher_string_by_parts(x: &str) -> CipherString {
    let (x, resumed) = match x.strip_suffix('*') {
        Some(r) => (r, true),
        None => (x, false),
    };
    let parts: Vec<&str> = x.split(':').collect();
    let version = TlsVersion::parse(parts.first().copied().unwrap_or(""));
    let tail = parts.get(1..).unwrap_or(&[]);
    let bits_at = tail
        .iter()
        .rposition(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let (cipher_parts, bits, group) = match bits_at {
        Some(i) => (
            tail.get(..i).unwrap_or_default(),
            tail.get(i).and_then(|b| b.parse::<u16>().ok()),
            tail.get(i + 1..)
                .filter(|g| !g.is_empty())
                .map(|g| g.join(":")),
        ),
        None => (tail, None, None),
    };
    let cipher = Some(cipher_parts.join(":")).filter(|c| !c.is_empty());
    CipherString {
        version,
        cipher: cipher.map(|c| Cipher::new(&c)),
        bits,
        group,
        resumed,
    }
}

proptest! {
    /// Real `X=` values, their cuts, and text of colons, digits, stars and names.
    #[test]
    fn cipher_string_agrees_with_splitting(
        x in "(TLS1\\.[0-3]|TLSv1\\.2|:|[0-9]{1,6}|\\*|[A-Z_-]{1,8}|é|)*",
    ) {
        prop_assert_eq!(cipher_string(&x), cipher_string_by_parts(&x), "{}", x);
    }

    /// Message-line tails of the bytes that steer the walk (blanks, `=`, `:`, quotes,
    /// backslashes, brackets of a host) and the keys the parsers read.
    #[test]
    fn fields_agree_with_the_word_reading(
        s in "( |\t|\u{a0}|=|:|\"|\\\\|X=|CV=|DN=|SNI=|P=|T=|C=|H=|a|_|-|rejected|\\[192\\.0\\.2\\.1\\]|\\(h\\)|é)*",
    ) {
        assert_fields_agree(&s);
    }
}

#[test]
fn cipher_string_agrees_on_known_values() {
    for x in [
        "TLS1.3:TLS_AES_256_GCM_SHA384:256",
        "TLS1.2:ECDHE-RSA-AES128-GCM-SHA256:128",
        "TLS1.3:TLS_AES_256_GCM_SHA384:256:X25519",
        "TLS1.2:ECDHE_RSA_AES_256_GCM_SHA384:256*",
        "TLS1.2:ECDHE_RSA:AES_256_GCM:SHA384:256",
        "TLS1.3:TLS_AES_128_GCM_SHA256:128:",
        "TLS1.2",
        "TLS1.2:",
        ":256",
        "",
        "*",
        "TLS1.2::",
        "TLS1.2:x:99999",
    ] {
        assert_eq!(cipher_string(x), cipher_string_by_parts(x), "{x}");
    }
}
