//! [`Detail`]: what `scan` leaves out of the events it parses, and what it keeps.

use std::sync::Arc;

use super::*;
use crate::model::{Delivery, EventKind};

/// Real lines of each MTA that carry an envelope address, a DSN or a status text.
const LINES: &[&str] = &[
    "Nov 28 09:12:00 mail sm-mta[4310]: 6ASA12a4004310: from=<alice@ours.example>, size=1234, class=0, nrcpts=1, msgid=<x@ours.example>, proto=ESMTPS, daemon=MTA, relay=mail.peer.example [192.0.2.20]",
    "Nov 28 09:12:01 mail sm-mta[4311]: 6ASA12a4004310: to=<bob@peer.example>,<carol@peer.example>, delay=00:00:01, xdelay=00:00:01, mailer=esmtp, pri=30312, relay=mx1.peer.example. [203.0.113.10], dsn=2.0.0, stat=Sent (OK queued)",
    "Nov 28 09:12:02 mail sm-mta[4312]: 6ASA12a4004311: to=<bob@peer.example>, delay=00:00:01, xdelay=00:00:01, mailer=esmtp, pri=30312, relay=mx1.peer.example. [203.0.113.10], dsn=4.0.0, stat=Deferred: 403 4.7.0 TLS handshake failed.",
    "Nov 28 09:12:03 mx postfix/qmgr[900]: 3F1A21234: from=<alice@peer.example>, size=2048, nrcpt=1 (queue active)",
    "Nov 28 09:12:04 mx postfix/smtp[901]: 3F1A21234: to=<bob@peer.example>, relay=mx1.peer.example[192.0.2.30]:25, delay=1.2, delays=0.1/0/1.1/0, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 9A1B2C3D4)",
    "Nov 28 09:12:05 mx postfix/smtp[902]: 3F1A21235: to=<bob@peer.example>, relay=mx1.peer.example[192.0.2.30]:25, delay=1.2, delays=0.1/0/1.1/0, dsn=4.7.4, status=deferred (TLS is required, but was not offered by host mx1.peer.example[192.0.2.30])",
    "2026-11-28 09:12:06 1vB2xY-000AbC-7Z <= alice@peer.example H=mail.peer.example [192.0.2.20] P=esmtps X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no S=2048",
    "2026-11-28 09:12:07 1vB2xY-000AbC-7Z => bob@peer.example R=dnslookup T=remote_smtp H=mx1.peer.example [192.0.2.30] X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes C=\"250 2.0.0 OK id=1vB2xZ\"",
    "2026-11-28 09:12:08 1vB2xY-000AbD-7Z == bob@peer.example R=dnslookup T=remote_smtp defer (-37) H=mx1.peer.example [192.0.2.30]: TLS session: (SSL_connect): error:0A000086:SSL routines::certificate verify failed",
];

fn event(line: &str, detail: Detail) -> Event {
    let file: Arc<str> = "mail.log".into();
    let mut hosts = HostNames::default();
    match parse_line_detailed(line.as_bytes(), &file, 1, &mut hosts, detail, |_| {}) {
        LineOutcome::Event(e) => e,
        other => panic!("{line}: {other:?}"),
    }
}

/// A scan-mode parse leaves the envelope addresses, the DSN and the status texts nobody
/// folds empty; an events-mode parse (the default) fills them.
#[test]
fn records_detail_leaves_addresses_and_texts_empty() {
    let mut seen = (0, 0);
    for line in LINES {
        let full = event(line, Detail::Full);
        let scan = event(line, Detail::Records);
        match (&full.kind, &scan.kind) {
            (EventKind::Received(f), EventKind::Received(s)) => {
                seen.0 += 1;
                assert!(!f.from.is_empty(), "{line}");
                assert!(s.from.is_empty(), "{line}");
            }
            (EventKind::Delivery(f), EventKind::Delivery(s)) => {
                seen.1 += 1;
                assert!(!f.to.is_empty() && !f.text.is_empty(), "{line}");
                assert!(s.to.is_empty() && s.dsn.is_none(), "{line}");
                // The text of a failure that names its TLS problem is the error record's.
                assert_eq!(s.text.is_empty(), s.tls_error.is_none(), "{line}");
            }
            other => panic!("{line}: {other:?}"),
        }
    }
    assert_eq!(seen, (3, 6));
    assert_eq!(Detail::default(), Detail::Full);
}

/// Everything the correlator reads is the same in both modes: the scan-mode event is the
/// full one with only the left-out fields emptied.
#[test]
fn records_detail_keeps_what_correlation_reads() {
    for line in LINES {
        let mut full = event(line, Detail::Full);
        let scan = event(line, Detail::Records);
        match &mut full.kind {
            EventKind::Received(r) => r.from.clear(),
            EventKind::Delivery(Delivery {
                to,
                dsn,
                text,
                tls_error,
                ..
            }) => {
                to.clear();
                *dsn = None;
                if tls_error.is_none() {
                    text.clear();
                }
            }
            _ => {}
        }
        assert_eq!(full, scan, "{line}");
    }
}

/// The queue id of an event, if it carries one.
fn queue_id(kind: &EventKind) -> Option<&crate::model::QueueId> {
    match kind {
        EventKind::Received(r) => Some(&r.queue_id),
        EventKind::Delivery(d) => Some(&d.queue_id),
        EventKind::QueueClient { queue_id, .. } => Some(queue_id),
        _ => None,
    }
}

/// Every queue id of the real MTA output (tests/fixtures/real) and of the sample logs
/// (Sendmail's 14- and 15-character ids, Postfix's short and long ids, Exim's 16- and 23-character
/// message ids) is held inline: copying it into events, records and the correlator's keys
/// allocates nothing (issue 21). A parser that built ids some other way, or an id type
/// too small for one MTA's ids, fails here.
#[test]
fn queue_ids_of_real_logs_are_inline() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["sendmail", "postfix", "exim"] {
        for entry in std::fs::read_dir(root.join("tests/fixtures/real").join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "log") {
                files.push(path);
            }
        }
    }
    for f in [
        "maillog",
        "postfix/mail.log",
        "postfix/mail.log.1",
        "exim/mainlog",
        "chain/mx.mail.log",
        "chain/relay.maillog",
        "relay2/mail.log",
    ] {
        files.push(root.join("sample-logs").join(f));
    }
    let file: Arc<str> = "mail.log".into();
    let mut longest: std::collections::BTreeMap<crate::model::Mta, usize> = Default::default();
    let mut lengths = std::collections::BTreeSet::new();
    for path in &files {
        let text = std::fs::read(path).unwrap();
        for (n, line) in text.split(|b| *b == b'\n').enumerate() {
            let LineOutcome::Event(ev) = parse_line(line, &file, n as u64 + 1) else {
                continue;
            };
            let Some(id) = queue_id(&ev.kind) else {
                continue;
            };
            assert!(
                !id.is_heap_allocated(),
                "{}:{}: {id}",
                path.display(),
                n + 1
            );
            let max = longest.entry(ev.mta).or_default();
            *max = (*max).max(id.len());
            lengths.insert(id.len());
        }
    }
    // Each MTA's ids were seen, the longest of them too (Sendmail's grow with the pid).
    assert!(
        longest.get(&crate::model::Mta::Sendmail) >= Some(&14),
        "{longest:?}"
    );
    assert_eq!(
        longest.get(&crate::model::Mta::Exim),
        Some(&23),
        "{longest:?}"
    );
    assert!(lengths.contains(&16), "{lengths:?}");
    assert!(
        longest.contains_key(&crate::model::Mta::Postfix),
        "{longest:?}"
    );
}

/// Real lines of the daemons that share mail logs and are no MTA, TLS and SSL words
/// included (dovecot's handshake failures, opendkim's `SSL error:`, an amavis forward
/// refused with `TLS not available`), written as they log them.
const OTHER_DAEMONS: &[&str] = &[
    "Dec  1 10:00:01 mail dovecot: imap-login: Disconnected (no auth attempts in 0 secs): user=<>, rip=198.51.100.7, lip=192.0.2.10, TLS handshaking: SSL_accept() failed: error:14209102:SSL routines:tls_early_post_process_client_hello:unsupported protocol, session=<AbCdEf12>",
    "Dec  1 10:00:02 mail dovecot[812]: imap-login: Error: Failed to initialize SSL server context: Can't load SSL certificate (ssl_cert setting): There is no valid PEM certificate.: user=<>, rip=198.51.100.7, lip=192.0.2.10, session=<Zx9yW8v7>",
    "Dec  1 10:00:03 mail dovecot[812]: pop3-login: Disconnected: Connection closed: SSL_accept() failed: error:0A000412:SSL routines::sslv3 alert bad certificate: SSL alert number 42 (no auth attempts in 0 secs): user=<>, rip=198.51.100.8, lip=192.0.2.10, TLS handshaking: SSL_accept() failed: error:0A000412:SSL routines::sslv3 alert bad certificate: SSL alert number 42, session=<Qw8eR7t6>",
    "Dec  1 10:00:04 mail dovecot[812]: imap-login: Login: user=<alice>, method=PLAIN, rip=198.51.100.9, lip=192.0.2.10, mpid=4243, TLS, session=<kXb1NgBx>",
    "Dec  1 10:00:05 mail dovecot[812]: submission(alice)<4244><kXb1NgC>: Error: Failed to connect to relay server mail.example.org: SSL handshaking with 192.0.2.20:25 failed: SSL_connect() failed: error:0A000086:SSL routines::certificate verify failed",
    "2026-12-01T10:00:06.123456+01:00 mail dovecot[812]: lmtp(alice)<4245><kXb1NgD>: msgid=<20261201.abc@example.org>: saved mail to INBOX",
    "Dec  1 10:00:13 mail opendkim[733]: 4F2A1C0019: s=mail d=example.com SSL error:04091068:rsa routines:INT_RSA_VERIFY:bad signature",
    "Dec  1 10:00:14 mail opendkim[733]: 6AR1CheR011422: key retrieval failed (s=mail, d=example.com): 'mail._domainkey.example.com' query timed out",
    "Dec  1 10:00:16 mail opendmarc[734]: 4F2A1C0019: example.com pass",
    "Dec  1 10:00:20 mail amavis[2411]: (02411-03) (!)FWD from <alice@example.com> -> <bob@example.org>,BODY=8BITMIME 451 4.5.0 From MTA([127.0.0.1]:10025) during fwd-connect (Negative greeting: 421 4.3.2 TLS not available due to local problem): id=02411-03",
    "Dec  1 10:00:21 mail amavisd[2411]: (02411-04) Passed CLEAN {RelayedInbound}, [203.0.113.9]:48522 [203.0.113.9] <alice@example.com> -> <bob@example.org>, Queue-ID: 4F2A1C0019, size: 1234, queued_as: 5B6C7D0020, 1520 ms",
    "Dec  1 10:00:22 mail postgrey[811]: action=greylist, reason=new, client_name=mail.example.net, client_address=203.0.113.9/32, sender=alice@example.net, recipient=bob@example.org",
    "Dec  1 10:00:24 mail spamd[2012]: spamd: connection from localhost [::1]:41234 to port 783, fd 5",
    "Dec  1 10:00:28 mail freshclam[640]: Tue Dec  1 10:00:28 2026 -> ^Download failed (35) Error: SSL connect error",
    "Dec  1 10:00:30 mail policyd-spf[3021]: prepend Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=203.0.113.9; helo=mail.example.net; envelope-from=alice@example.net; receiver=<UNKNOWN>",
    "Dec  1 10:00:31 mail CRON[9001]: (root) CMD (test -x /usr/sbin/sendmail && /usr/sbin/sendmail -q)",
    "Dec  1 10:00:33 mail kernel: [UFW BLOCK] IN=eth0 OUT= MAC=00:11:22:33:44:55 SRC=203.0.113.9 DST=192.0.2.10 LEN=60 TOS=0x00 PROTO=TCP SPT=51234 DPT=465 WINDOW=64240",
    "Dec  1 10:00:34 mail systemd[1]: Starting postfix@-.service - Postfix Mail Transport Agent (instance -)...",
    "Dec  1 10:00:36 mail systemd-resolved[300]: Using degraded feature set TCP instead of UDP for DNS server 192.0.2.53.",
    "Dec  1 10:00:37 mail sshd[4000]: fatal: Timeout before authentication for 203.0.113.9 port 51234",
    "Dec  1 10:00:39 mail sudo[5000]:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/sbin/postfix reload",
];

/// The lines of other daemons say nothing about the MTA: not read (their program is in
/// [`NOT_MAIL`], from the envelope and from the bytes alike), and the Sendmail parser they
/// were offered before the table made no event and no malformed line of any of them
/// either (so the table changed no output, only the work).
#[test]
fn lines_of_other_daemons_are_not_mail() {
    let file: Arc<str> = "mail.log".into();
    for line in OTHER_DAEMONS {
        let env = envelope::parse(line);
        let program = env.program.expect(line);
        assert!(is_not_mail(program.as_bytes()), "{line}");
        assert_eq!(
            envelope::program_of(line.as_bytes()),
            Some(program.as_bytes()),
            "{line}"
        );
        assert!(prefilter::not_mail(line.as_bytes()), "{line}");
        assert_eq!(
            parse_line(line.as_bytes(), &file, 1),
            LineOutcome::Irrelevant
        );
        assert_eq!(mail_program(line.as_bytes()), None, "{line}");
        assert_eq!(sendmail::parse(env.message), Parsed::Irrelevant, "{line}");
    }
    // The same words under an MTA's tag are read.
    let sm = "Dec  1 10:00:40 mail sm-mta[1]: STARTTLS=server, error: accept failed=-1, reason=sslv3 alert bad certificate, SSL_error=1, errno=0, retry=-1, relay=[198.51.100.7]";
    assert!(!prefilter::not_mail(sm.as_bytes()));
    assert!(matches!(
        parse_line(sm.as_bytes(), &file, 1),
        LineOutcome::Event(_)
    ));
}

/// No name of the table is an MTA's: a Sendmail named after one of them would not be
/// read, and the lines skipped would have counted as unparsed mail-program lines.
#[test]
fn no_name_of_the_table_is_a_mail_program() {
    for name in NOT_MAIL.iter().copied().chain(["systemd-logind"]) {
        assert!(is_not_mail(name.as_bytes()), "{name}");
        assert!(!is_mail_program(name), "{name}");
    }
    for mta in [
        "sm-mta",
        "sendmail",
        "postfix/smtpd",
        "exim",
        "exim4",
        "sm-msp-queue",
        "mta",
    ] {
        assert!(!is_not_mail(mta.as_bytes()), "{mta}");
    }
    // Exact names: a program that merely starts like one is still offered to Sendmail.
    assert!(!is_not_mail(b"dovecot2"));
    assert!(!is_not_mail(b"system"));
}

mod ip {
    use super::super::{dotted_quad, ip_addr};
    use proptest::prelude::*;
    use std::net::IpAddr;

    proptest! {
        /// The dotted-quad loop and its fallback read every string as std reads it:
        /// quads, near-quads (leading zeros, 256, five parts, signs) and IPv6.
        #[test]
        fn ip_addr_is_std_parse(s in "[0-9.]{0,17}|([0-9]{1,4}\\.){3}[0-9]{1,4}|[0-9a-f:.+]{0,20}") {
            prop_assert_eq!(ip_addr(&s), s.parse::<IpAddr>().ok());
            if let Some(v4) = dotted_quad(s.as_bytes()) {
                prop_assert_eq!(Some(IpAddr::V4(v4)), s.parse::<IpAddr>().ok());
            }
        }
    }

    #[test]
    fn quads_take_the_fast_path_and_near_misses_do_not() {
        for s in ["192.0.2.1", "0.0.0.0", "255.255.255.255", "10.20.30.40"] {
            assert_eq!(
                dotted_quad(s.as_bytes()).map(IpAddr::V4),
                s.parse().ok(),
                "{s}"
            );
            assert!(dotted_quad(s.as_bytes()).is_some(), "{s}");
        }
        for s in [
            "01.2.3.4",
            "1.2.3.256",
            "1.2.3",
            "1.2.3.4.5",
            "1.2.3.4 ",
            "1..2.3",
            "::1",
            "",
        ] {
            assert_eq!(dotted_quad(s.as_bytes()), None, "{s}");
            assert_eq!(ip_addr(s), s.parse().ok(), "{s}");
        }
    }
}

proptest::proptest! {
    /// The MTA of a program name and whether it is a mail program, read from the whole
    /// name, are what the first component (`postfix/smtpd` → `postfix`) says.
    #[test]
    fn mta_of_the_name_is_mta_of_its_first_component(
        p in "(sm-|sendmail|postfix|exim|s|sm|post|/|ex)?[a-z/-]{0,6}(/smtp|/smtpd|/)?[a-z]{0,3}",
    ) {
        let base = first_component(&p);
        let want = if base.starts_with("sm-") || base.starts_with("sendmail") {
            Mta::Sendmail
        } else if base.starts_with("postfix") || has_smtp_component(&p) {
            Mta::Postfix
        } else if base.starts_with("exim") {
            Mta::Exim
        } else {
            Mta::Sendmail
        };
        proptest::prop_assert_eq!(mta_for_program(Some(&p)), Some(want), "{}", p);
        let mail = base.starts_with("sm-")
            || base.starts_with("sendmail")
            || base.starts_with("postfix")
            || base.starts_with("exim")
            || has_smtp_component(&p);
        proptest::prop_assert_eq!(is_mail_program(&p), mail, "{}", p);
    }
}

proptest::proptest! {
    /// `is_not_mail` says what the table says: a name of [`NOT_MAIL`] or `systemd-…`,
    /// exactly (names around the table's, cut or lengthened by a byte, are not).
    #[test]
    fn is_not_mail_is_the_table(
        i in 0..NOT_MAIL.len(),
        cut in 0usize..3,
        tail in "|[a-z2-]{1,2}",
        other in "[a-zA-Z-]{0,12}",
    ) {
        let name = NOT_MAIL[i];
        let near = format!("{}{tail}", &name[..name.len() - cut.min(name.len() - 1)]);
        for p in [name, near.as_str(), other.as_str(), "systemd-", "systemd-x"] {
            let want = p.starts_with("systemd-") || NOT_MAIL.contains(&p);
            proptest::prop_assert_eq!(is_not_mail(p.as_bytes()), want, "{}", p);
        }
    }
}
