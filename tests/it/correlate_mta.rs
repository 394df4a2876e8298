//! Postfix and Exim correlation, driven by real-looking log lines through the real line
//! parser (envelope + MTA parser), so the rules are tested as a log would exercise them.

use std::sync::Arc;

use mailtls::correlate::Correlator;

use mailtls::model::{DeliveryStatus, Direction, TlsErrorKind};
use mailtls::model::{Encryption, Record};
use mailtls::parse::{LineOutcome, parse_line};

/// What a record says, in a form a table row can spell out.
#[derive(Debug, PartialEq, Eq)]
enum R {
    /// direction, peer key, version label
    Session(Direction, String, String),
    /// direction, peer key, queue id, encryption ("tls:<version>", "tls?", "plain"), status
    Message(Direction, String, String, String, Option<DeliveryStatus>),
    /// direction, peer key ("-" when none), kind
    Error(Option<Direction>, String, TlsErrorKind),
    Verdict,
    /// TLS initialised for a role (`init=1`)
    Ready(Option<Direction>),
    /// A daemon (re)started
    Start,
}

fn run(log: &str) -> Vec<R> {
    let file: Arc<str> = Arc::from("test.log");
    let mut corr = Correlator::new();
    let mut out = Vec::new();
    for (i, line) in log.lines().enumerate() {
        let line = line.trim_start();
        if line.is_empty() {
            continue;
        }
        match parse_line(line.as_bytes(), &file, i as u64 + 1) {
            LineOutcome::Event(ev) => corr.push(ev, &mut out),
            LineOutcome::Irrelevant => {}
            LineOutcome::Malformed(why) => panic!("malformed test line {line}: {why}"),
        }
    }
    corr.finish(&mut out);
    out.into_iter().map(simplify).collect()
}

fn key(p: Option<&mailtls::model::Peer>) -> String {
    p.and_then(|p| p.key()).unwrap_or_else(|| "-".into())
}

fn simplify(r: Record) -> R {
    match r {
        Record::Session {
            direction,
            peer,
            params,
            ..
        } => R::Session(
            direction,
            key(Some(&peer)),
            params.version.label().to_owned(),
        ),
        Record::Message {
            direction,
            peer,
            queue_id,
            encryption,
            status,
            ..
        } => {
            let enc = match encryption {
                Encryption::Tls(p) => format!("tls:{}", p.version.label()),
                Encryption::TlsUnknown => "tls?".to_owned(),
                Encryption::Plaintext => "plain".to_owned(),
            };
            R::Message(direction, key(Some(&peer)), queue_id.into(), enc, status)
        }
        Record::Error {
            direction,
            peer,
            kind,
            ..
        } => R::Error(direction, key(peer.as_ref()), kind),
        Record::Verdict { .. } => R::Verdict,
        Record::Ready { direction, .. } => R::Ready(direction),
        Record::Start { .. } => R::Start,
    }
}

use Direction::{Inbound as In, Outbound as Out};

fn msg_in(peer: &str, qid: &str, enc: &str) -> R {
    R::Message(In, peer.into(), qid.into(), enc.into(), None)
}

fn msg_out(peer: &str, qid: &str, enc: &str, st: DeliveryStatus) -> R {
    R::Message(Out, peer.into(), qid.into(), enc.into(), Some(st))
}

#[test]
fn postfix_inbound_tls_session_ties_to_its_queue_id() {
    let got = run("
        2026-11-28T10:00:01+00:00 mx postfix/smtpd[101]: connect from mail.peer.example[192.0.2.20]
        2026-11-28T10:00:01+00:00 mx postfix/smtpd[101]: Anonymous TLS connection established from mail.peer.example[192.0.2.20]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256
        2026-11-28T10:00:02+00:00 mx postfix/smtpd[101]: 3F1A21234: client=mail.peer.example[192.0.2.20]
        2026-11-28T10:00:02+00:00 mx postfix/cleanup[102]: 3F1A21234: message-id=<a@peer.example>
        2026-11-28T10:00:02+00:00 mx postfix/qmgr[99]: 3F1A21234: from=<alice@peer.example>, size=2345, nrcpt=1 (queue active)
        2026-11-28T10:00:03+00:00 mx postfix/smtpd[101]: disconnect from mail.peer.example[192.0.2.20] ehlo=2 starttls=1 mail=1 rcpt=1 data=1 quit=1 commands=7
        2026-11-28T10:05:00+00:00 mx postfix/qmgr[99]: 3F1A21234: from=<alice@peer.example>, size=2345, nrcpt=1 (queue active)
    ");
    assert_eq!(
        got,
        vec![
            R::Session(In, "mail.peer.example".into(), "TLSv1.3".into()),
            msg_in("mail.peer.example", "3F1A21234", "tls:TLSv1.3"),
        ]
    );
}

#[test]
fn postfix_plaintext_and_loglevel_zero_sessions() {
    let got = run("
        2026-11-28T10:00:01+00:00 mx postfix/smtpd[101]: connect from plain.example[192.0.2.70]
        2026-11-28T10:00:02+00:00 mx postfix/smtpd[101]: 4B2C3D4E5F: client=plain.example[192.0.2.70]
        2026-11-28T10:00:02+00:00 mx postfix/qmgr[99]: 4B2C3D4E5F: from=<bob@plain.example>, size=999, nrcpt=1 (queue active)
        2026-11-28T10:00:03+00:00 mx postfix/smtpd[101]: disconnect from plain.example[192.0.2.70] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5
        2026-11-28T10:01:01+00:00 mx postfix/smtpd[101]: connect from quiet.example[192.0.2.80]
        2026-11-28T10:01:02+00:00 mx postfix/smtpd[101]: 5C3D4E5F6A: client=quiet.example[192.0.2.80]
        2026-11-28T10:01:03+00:00 mx postfix/smtpd[101]: disconnect from quiet.example[192.0.2.80] ehlo=2 starttls=1 mail=1 rcpt=1 data=1 quit=1 commands=7
        2026-11-28T10:01:03+00:00 mx postfix/qmgr[99]: 5C3D4E5F6A: from=<carol@quiet.example>, size=999, nrcpt=1 (queue active)
    ");
    assert_eq!(
        got,
        vec![
            msg_in("plain.example", "4B2C3D4E5F", "plain"),
            msg_in("quiet.example", "5C3D4E5F6A", "tls?"),
        ]
    );
}

#[test]
fn postfix_pid_reuse_and_aborted_transactions() {
    let got = run("
        2026-11-28T10:00:01+00:00 mx postfix/smtpd[101]: connect from mail.peer.example[192.0.2.20]
        2026-11-28T10:00:01+00:00 mx postfix/smtpd[101]: Anonymous TLS connection established from mail.peer.example[192.0.2.20]: TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)
        2026-11-28T10:00:02+00:00 mx postfix/smtpd[101]: 6D4E5F6A7B: client=mail.peer.example[192.0.2.20]
        2026-11-28T10:00:03+00:00 mx postfix/smtpd[101]: 6D4E5F6A7B: lost connection after DATA (0 bytes) from mail.peer.example[192.0.2.20]
        2026-11-28T10:00:03+00:00 mx postfix/smtpd[101]: disconnect from mail.peer.example[192.0.2.20] ehlo=2 starttls=1 mail=1 rcpt=1 data=0/1 commands=5/6
        2026-11-28T10:02:01+00:00 mx postfix/smtpd[101]: connect from other.example[192.0.2.90]
        2026-11-28T10:02:02+00:00 mx postfix/smtpd[101]: 7E5F6A7B8C: client=other.example[192.0.2.90]
        2026-11-28T10:02:02+00:00 mx postfix/qmgr[99]: 7E5F6A7B8C: from=<dan@other.example>, size=500, nrcpt=1 (queue active)
        2026-11-28T10:02:03+00:00 mx postfix/smtpd[101]: disconnect from other.example[192.0.2.90] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5
    ");
    assert_eq!(
        got,
        vec![
            R::Session(In, "mail.peer.example".into(), "TLSv1.2".into()),
            msg_in("other.example", "7E5F6A7B8C", "plain"),
        ]
    );
}

#[test]
fn postfix_smtpd_only_excerpt_counts_client_lines() {
    let got = run("
        2026-11-28T10:00:01+00:00 mx postfix/smtpd[101]: connect from mail.peer.example[192.0.2.20]
        2026-11-28T10:00:01+00:00 mx postfix/smtpd[101]: Trusted TLS connection established from mail.peer.example[192.0.2.20]: TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)
        2026-11-28T10:00:02+00:00 mx postfix/smtpd[101]: 3F1A21234: client=mail.peer.example[192.0.2.20]
    ");
    assert_eq!(
        got,
        vec![
            R::Session(In, "mail.peer.example".into(), "TLSv1.2".into()),
            msg_in("mail.peer.example", "3F1A21234", "tls:TLSv1.2"),
        ]
    );
}

#[test]
fn postfix_errors_go_to_the_session_peer() {
    let got = run("
        2026-11-28T10:00:01+00:00 mx postfix/smtpd[101]: connect from unknown[192.0.2.50]
        2026-11-28T10:00:01+00:00 mx postfix/smtpd[101]: warning: TLS library problem: error:0A000076:SSL routines::no suitable signature algorithm:ssl/statem/statem_srvr.c:2257:
        2026-11-28T10:00:01+00:00 mx postfix/smtpd[101]: SSL_accept error from unknown[192.0.2.50]: -1
        2026-11-28T10:00:01+00:00 mx postfix/smtpd[101]: lost connection after STARTTLS from unknown[192.0.2.50]
        2026-11-28T10:00:01+00:00 mx postfix/smtpd[101]: disconnect from unknown[192.0.2.50] ehlo=1 starttls=0/1 commands=1/2
        2026-11-28T10:00:05+00:00 mx postfix/smtpd[101]: warning: cannot get RSA private key from file \"/etc/postfix/key.pem\": disabling TLS support
    ");
    assert_eq!(
        got,
        vec![
            // One failed handshake, one incident: the library line (its reason), the
            // SSL_accept error and the `lost connection after STARTTLS` of the same
            // failure; it is the session client's, inbound.
            R::Error(Some(In), "192.0.2.50".into(), TlsErrorKind::Handshake),
            R::Error(Some(In), "-".into(), TlsErrorKind::PrivateKey),
        ]
    );
}

/// Postfix 3.7.11 (Debian 12) with an encrypted server key, as tests/e2e recorded it
/// (OpenSSL 3 error dump cut to its distinct lines): smtpd logs the key error and the
/// OpenSSL queue when it starts, before its first client connects; the client then gets
/// 454 to STARTTLS and leaves.
#[test]
fn postfix_startup_key_errors_are_not_the_first_clients() {
    let got = run("
        2026-11-28T19:28:02.935747+00:00 vm postfix/smtpd[14841]: warning: cannot get RSA private key from file \"/var/lib/mailtls-e2e/certs/mx-key.pem\": disabling TLS support
        2026-11-28T19:28:02.935796+00:00 vm postfix/smtpd[14841]: warning: TLS library problem: error:1400006B:UI routines::processing error:../crypto/ui/ui_lib.c:573:while reading strings:
        2026-11-28T19:28:02.935815+00:00 vm postfix/smtpd[14841]: warning: TLS library problem: error:07880109:common libcrypto routines::interrupted or cancelled:../crypto/passphrase.c:184:
        2026-11-28T19:28:02.935833+00:00 vm postfix/smtpd[14841]: warning: TLS library problem: error:1C80009F:Provider routines::unable to get passphrase:../providers/implementations/encode_decode/decode_epki2pki.c:96:
        2026-11-28T19:28:02.935868+00:00 vm postfix/smtpd[14841]: warning: TLS library problem: error:0A080009:SSL routines::PEM lib:../ssl/ssl_rsa.c:385:
        2026-11-28T19:28:02.937963+00:00 vm postfix/smtpd[14841]: connect from vm.example.test[127.0.0.1]
        2026-11-28T19:28:02.940315+00:00 vm postfix/smtpd[14841]: lost connection after STARTTLS from vm.example.test[127.0.0.1]
        2026-11-28T19:28:03.091889+00:00 vm postfix/smtpd[14841]: disconnect from vm.example.test[127.0.0.1] ehlo=1 starttls=0/1 commands=1/2
    ");
    assert_eq!(
        got,
        vec![
            // The key and its OpenSSL dump: one private_key incident of the server role
            // (was private_key + 4 library errors). The client's hang-up after our
            // `454 TLS not available due to local problem` is our incident's consequence,
            // not a failed handshake of the client (was handshake for vm.example.test).
            R::Error(Some(In), "-".into(), TlsErrorKind::PrivateKey),
        ]
    );
}

#[test]
fn postfix_outbound_tls_covers_one_delivery_request() {
    let got = run("
        2026-11-28T11:00:01+00:00 mx postfix/smtp[201]: Verified TLS connection established to mx1.peer.example[192.0.2.30]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)
        2026-11-28T11:00:02+00:00 mx postfix/smtp[201]: 8F6A7B8C9D: to=<bob@peer.example>, relay=mx1.peer.example[192.0.2.30]:25, delay=1.2, delays=0.1/0.01/0.5/0.6, dsn=2.0.0, status=sent (250 2.0.0 Ok)
        2026-11-28T11:00:02+00:00 mx postfix/smtp[201]: 8F6A7B8C9D: to=<carol@peer.example>, relay=mx1.peer.example[192.0.2.30]:25, delay=1.2, delays=0.1/0.01/0.5/0.6, dsn=2.0.0, status=sent (250 2.0.0 Ok)
        2026-11-28T11:03:00+00:00 mx postfix/smtp[201]: 9A7B8C9D0E: to=<dave@peer.example>, relay=mx1.peer.example[192.0.2.30]:25, conn_use=2, delay=0.3, delays=0.1/0/0/0.2, dsn=2.0.0, status=sent (250 2.0.0 Ok)
        2026-11-28T11:04:00+00:00 mx postfix/smtp[202]: 0B8C9D0E1F: to=<erin@peer.example>, relay=mx1.peer.example[192.0.2.30]:25, delay=2.1, delays=0.1/0/2/0, dsn=4.7.5, status=deferred (Cannot start TLS: handshake failure)
        2026-11-28T11:05:00+00:00 mx postfix/smtp[203]: 1C9D0E1F2A: to=<gina@plain.example>, relay=mx.plain.example[192.0.2.70]:25, delay=0.8, delays=0.1/0/0.3/0.4, tls=may:none, dsn=2.0.0, status=sent (250 2.0.0 Ok)
        2026-11-28T11:05:00+00:00 mx postfix/smtp[203]: 2D0E1F2A3B: to=<hank@quiet.example>, relay=mx.quiet.example[192.0.2.81]:25, delay=0.8, delays=0.1/0/0.3/0.4, tls=may, dsn=2.0.0, status=sent (250 2.0.0 Ok)
        2026-11-28T11:06:00+00:00 mx postfix/local[204]: 2D0E1F2A3B: to=<root@example.com>, relay=local, delay=0.02, delays=0.01/0/0/0.01, dsn=2.0.0, status=sent (delivered to mailbox)
    ");
    use DeliveryStatus::{Deferred, Sent};
    assert_eq!(
        got,
        vec![
            R::Session(Out, "mx1.peer.example".into(), "TLSv1.3".into()),
            msg_out("mx1.peer.example", "8F6A7B8C9D", "tls:TLSv1.3", Sent),
            msg_out("mx1.peer.example", "8F6A7B8C9D", "tls:TLSv1.3", Sent),
            msg_out("mx1.peer.example", "9A7B8C9D0E", "plain", Sent),
            R::Error(
                Some(Out),
                "mx1.peer.example".into(),
                TlsErrorKind::Handshake
            ),
            msg_out("mx1.peer.example", "0B8C9D0E1F", "plain", Deferred),
            msg_out("mx.plain.example", "1C9D0E1F2A", "plain", Sent),
            msg_out("mx.quiet.example", "2D0E1F2A3B", "tls?", Sent),
        ]
    );
}

#[test]
fn exim_tls_is_on_the_line() {
    let got = run("
        2026-11-28 10:15:02 1sDcIh-000000004YY-3wAT <= alice@peer.example H=mail.peer.example [192.0.2.20] P=esmtps X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no S=2345
        2026-11-28 10:15:03 1sDcIi-000000004YZ-0aBc <= bob@plain.example H=mx.plain.example [192.0.2.70] P=esmtp S=999
        2026-11-28 10:16:00 1sDcIh-000000004YY-3wAT => bob@peer.example R=dnslookup T=remote_smtp H=mx1.peer.example [192.0.2.30] X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes C=\"250 2.0.0 OK\"
        2026-11-28 10:16:00 1sDcIh-000000004YY-3wAT -> carol@peer.example R=dnslookup T=remote_smtp H=mx1.peer.example [192.0.2.30] X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes C=\"250 2.0.0 OK\"
        2026-11-28 10:16:01 1sDcIh-000000004YY-3wAT => root <root@example.com> R=local_user T=mail_spool
        2026-11-28 10:17:00 1sDcIi-000000004YZ-0aBc == dave@peer.example R=dnslookup T=remote_smtp defer (-37) H=mx1.peer.example [192.0.2.30]: TLS session: (SSL_connect): error:0A000086:SSL routines::certificate verify failed
        2026-11-28 10:18:00 1sDcIi-000000004YZ-0aBc => gina@plain.example R=dnslookup T=remote_smtp H=mx.plain.example [192.0.2.70] C=\"250 OK\"
        2026-11-28 10:19:00 TLS error on connection from mout.peer.example [192.0.2.15] (SSL_accept): timed out
    ");
    use DeliveryStatus::{Deferred, Sent};
    assert_eq!(
        got,
        vec![
            R::Session(In, "mail.peer.example".into(), "TLSv1.3".into()),
            msg_in(
                "mail.peer.example",
                "1sDcIh-000000004YY-3wAT",
                "tls:TLSv1.3"
            ),
            msg_in("mx.plain.example", "1sDcIi-000000004YZ-0aBc", "plain"),
            R::Session(Out, "mx1.peer.example".into(), "TLSv1.3".into()),
            msg_out(
                "mx1.peer.example",
                "1sDcIh-000000004YY-3wAT",
                "tls:TLSv1.3",
                Sent
            ),
            msg_out(
                "mx1.peer.example",
                "1sDcIh-000000004YY-3wAT",
                "tls:TLSv1.3",
                Sent
            ),
            R::Error(
                Some(Out),
                "mx1.peer.example".into(),
                TlsErrorKind::CertVerify
            ),
            msg_out(
                "mx1.peer.example",
                "1sDcIi-000000004YZ-0aBc",
                "plain",
                Deferred
            ),
            msg_out("mx.plain.example", "1sDcIi-000000004YZ-0aBc", "plain", Sent),
            R::Error(
                Some(In),
                "mout.peer.example".into(),
                TlsErrorKind::Handshake
            ),
        ]
    );
}

#[test]
fn tls_status_words() {
    use mailtls::correlate::tls_status_says_tls;
    for (s, want) in [
        ("may", true),
        ("dane", true),
        ("dane:halfdane", true),
        ("may:none", false),
        ("may?", false),
        ("encrypt/requiretls", true),
        ("dane/!requiretls:nostarttls", false),
        ("none", false),
    ] {
        assert_eq!(tls_status_says_tls(s), want, "{s}");
    }
}

/// Issue 18 point 6: parallel delivery processes share Exim's mainlog, so another
/// message's line may come between an `=>` and its `->`; each TLS delivery is still one
/// session. `rejected` lines on a TLS connection are inbound sessions without a message,
/// one per connection however many recipients were refused. (Stamps with a zone: a
/// mainlog stamp without one has no instant until the pipeline resolves the zone.)
#[test]
fn exim_interleaved_deliveries_and_rejected_tls_sessions() {
    let got = run("
        2026-12-06 10:16:00 +0000 1tAbCd-000000001Ab-0aAa => bob@peer.example R=dnslookup T=remote_smtp H=mx1.peer.example [192.0.2.30] X=TLS1.3:ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM:256 CV=yes C=\"250 2.0.0 OK id=1\"
        2026-12-06 10:16:00 +0000 1tAbCe-000000001Ac-0bBb => dan@other.example R=dnslookup T=remote_smtp H=mx.other.example [192.0.2.40] X=TLS1.2:ECDHE_RSA_AES_256_GCM_SHA384:256 CV=yes C=\"250 OK\"
        2026-12-06 10:16:00 +0000 1tAbCd-000000001Ab-0aAa -> carol@peer.example R=dnslookup T=remote_smtp H=mx1.peer.example [192.0.2.30] X=TLS1.3:ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM:256 CV=yes C=\"250 2.0.0 OK id=1\"
        2026-12-06 10:16:01 +0000 1tAbCe-000000001Ac-0bBb -> erin@other.example R=dnslookup T=remote_smtp H=mx.other.example [192.0.2.40] X=TLS1.2:ECDHE_RSA_AES_256_GCM_SHA384:256 CV=yes C=\"250 OK\"
        2026-12-06 10:20:00 +0000 H=(client.example) [192.0.2.99] X=TLS1.3:ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM:256 CV=no F=<a@bad.example> rejected RCPT <x@example.com>: relay not permitted
        2026-12-06 10:20:01 +0000 H=(client.example) [192.0.2.99] X=TLS1.3:ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM:256 CV=no F=<a@bad.example> rejected RCPT <y@example.com>: relay not permitted
        2026-12-06 10:21:00 +0000 H=mail.peer.example [192.0.2.20] X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no rejected MAIL <spam@peer.example>: sender verify failed
        2026-12-06 10:40:00 +0000 H=(client.example) [192.0.2.99] X=TLS1.3:ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM:256 CV=no F=<a@bad.example> rejected RCPT <z@example.com>: relay not permitted
    ");
    use DeliveryStatus::Sent;
    let (q1, q2) = ("1tAbCd-000000001Ab-0aAa", "1tAbCe-000000001Ac-0bBb");
    assert_eq!(
        got,
        vec![
            R::Session(Out, "mx1.peer.example".into(), "TLSv1.3".into()),
            msg_out("mx1.peer.example", q1, "tls:TLSv1.3", Sent),
            R::Session(Out, "mx.other.example".into(), "TLSv1.2".into()),
            msg_out("mx.other.example", q2, "tls:TLSv1.2", Sent),
            msg_out("mx1.peer.example", q1, "tls:TLSv1.3", Sent),
            msg_out("mx.other.example", q2, "tls:TLSv1.2", Sent),
            // Two refused recipients on one connection: one session, no message.
            R::Session(In, "192.0.2.99".into(), "TLSv1.3".into()),
            R::Session(In, "mail.peer.example".into(), "TLSv1.3".into()),
            // 20 minutes later: another connection.
            R::Session(In, "192.0.2.99".into(), "TLSv1.3".into()),
        ]
    );
}

/// Processes and queue ids are per log host: two hosts of one syslog, whose smtp and smtpd
/// processes have the same pids and whose messages the same queue id, do not lend each
/// other their TLS; a relay is the same whatever the case of its name (each line here
/// carries its own allocation of the host name, as lines of different blocks do).
#[test]
fn postfix_processes_and_queue_ids_are_per_host() {
    let got = run("
        2026-11-28T11:00:01+00:00 mx-a postfix/smtp[201]: Verified TLS connection established to MX1.Peer.Example[192.0.2.30]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)
        2026-11-28T11:00:02+00:00 mx-b postfix/smtp[201]: 1A1A1A1A1A: to=<bob@peer.example>, relay=mx1.peer.example[192.0.2.30]:25, delay=1.2, delays=0.1/0.01/0.5/0.6, dsn=2.0.0, status=sent (250 2.0.0 Ok)
        2026-11-28T11:00:02+00:00 mx-a postfix/smtp[201]: 2B2B2B2B2B: to=<carol@peer.example>, relay=mx1.peer.example[192.0.2.30]:25, delay=1.2, delays=0.1/0.01/0.5/0.6, dsn=2.0.0, status=sent (250 2.0.0 Ok)
        2026-11-28T11:01:00+00:00 mx-a postfix/smtpd[101]: connect from mail.one.example[192.0.2.20]
        2026-11-28T11:01:00+00:00 mx-b postfix/smtpd[101]: connect from mail.two.example[192.0.2.21]
        2026-11-28T11:01:01+00:00 mx-a postfix/smtpd[101]: Anonymous TLS connection established from mail.one.example[192.0.2.20]: TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)
        2026-11-28T11:01:02+00:00 mx-b postfix/smtpd[101]: 3C3C3C3C3C: client=mail.two.example[192.0.2.21]
        2026-11-28T11:01:02+00:00 mx-a postfix/smtpd[101]: 3C3C3C3C3C: client=mail.one.example[192.0.2.20]
        2026-11-28T11:01:03+00:00 mx-b postfix/qmgr[300]: 3C3C3C3C3C: from=<x@two.example>, size=100, nrcpt=1 (queue active)
        2026-11-28T11:01:04+00:00 mx-a postfix/smtpd[101]: disconnect from mail.one.example[192.0.2.20] ehlo=1 starttls=1 mail=1 rcpt=1 data=1 quit=1 commands=6
        2026-11-28T11:01:04+00:00 mx-b postfix/smtpd[101]: disconnect from mail.two.example[192.0.2.21] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5
        2026-11-28T11:01:05+00:00 mx-a postfix/qmgr[300]: 3C3C3C3C3C: from=<y@one.example>, size=100, nrcpt=1 (queue active)
    ");
    use DeliveryStatus::Sent;
    assert_eq!(
        got,
        vec![
            R::Session(Out, "mx1.peer.example".into(), "TLSv1.3".into()),
            // mx-b's smtp[201] negotiated nothing.
            msg_out("mx1.peer.example", "1A1A1A1A1A", "plain", Sent),
            // mx-a's did, with the relay's name in capitals.
            msg_out("mx1.peer.example", "2B2B2B2B2B", "tls:TLSv1.3", Sent),
            R::Session(In, "mail.one.example".into(), "TLSv1.2".into()),
            // Each session's message, confirmed by its own host's qmgr: mx-b's qmgr line
            // came first and confirms mx-b's message only (out when its session ends);
            // mx-a's waits for mx-a's.
            msg_in("mail.two.example", "3C3C3C3C3C", "plain"),
            msg_in("mail.one.example", "3C3C3C3C3C", "tls:TLSv1.2"),
        ]
    );
}
