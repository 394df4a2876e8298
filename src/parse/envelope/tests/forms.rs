use super::*;

type Row = (
    &'static str,
    Stamp,
    Option<&'static str>,
    Option<&'static str>,
    Option<u32>,
    &'static str,
);

#[test]
fn envelope_forms() {
    let rows: Vec<Row> = vec![
        // RFC 3164, space-padded day.
        (
            "Dec  4 10:24:32 mx1 sm-mta[32283]: STARTTLS=server, relay=a.example [192.0.2.7], version=TLSv1.3",
            ny(12, 4, 10, 24, 32, 0),
            Some("mx1"),
            Some("sm-mta"),
            Some(32283),
            "STARTTLS=server, relay=a.example [192.0.2.7], version=TLSv1.3",
        ),
        // Zero-padded day (journalctl, postlogd).
        (
            "Apr 09 09:29:47 box sm-msp-queue[15093]: 539E9lT1015093: to=root, stat=Sent",
            ny(4, 9, 9, 29, 47, 0),
            Some("box"),
            Some("sm-msp-queue"),
            Some(15093),
            "539E9lT1015093: to=root, stat=Sent",
        ),
        // Single space, single-digit day.
        (
            "Jul 5 19:19:30 gw sendmail[811]: x",
            ny(7, 5, 19, 19, 30, 0),
            Some("gw"),
            Some("sendmail"),
            Some(811),
            "x",
        ),
        // journalctl -o short-precise.
        (
            "Nov 28 17:30:07.123456 mx postfix/smtpd[4047870]: connect from a[192.0.2.1]",
            ny(11, 28, 17, 30, 7, 123_456_000),
            Some("mx"),
            Some("postfix/smtpd"),
            Some(4_047_870),
            "connect from a[192.0.2.1]",
        ),
        // rsyslog high precision.
        (
            "2026-11-27T14:34:37.081352+03:00 mail postfix/smtpd[137233]: disconnect from x",
            fixed("2026-11-27T14:34:37.081352+03:00"),
            Some("mail"),
            Some("postfix/smtpd"),
            Some(137_233),
            "disconnect from x",
        ),
        // RFC 3339 with Z.
        (
            "2026-11-28T17:30:07.123456Z mail postfix/smtp[9]: TLS connection established",
            fixed("2026-11-28T17:30:07.123456Z"),
            Some("mail"),
            Some("postfix/smtp"),
            Some(9),
            "TLS connection established",
        ),
        // journalctl -o short-iso: offset without colon.
        (
            "2026-11-28T17:30:07+0100 relay sm-mta[12]: ruleset=tls_server",
            fixed("2026-11-28T17:30:07+01:00"),
            Some("relay"),
            Some("sm-mta"),
            Some(12),
            "ruleset=tls_server",
        ),
        // RFC 5424 with every header field and no SD.
        (
            "<34>1 2026-11-28T17:30:07.123Z mx.example.org sm-mta 2794 - - STARTTLS=client, relay=b.example.",
            fixed("2026-11-28T17:30:07.123Z"),
            Some("mx.example.org"),
            Some("sm-mta"),
            Some(2794),
            "STARTTLS=client, relay=b.example.",
        ),
        // RFC 5424 with structured data (escaped `]` and `"`), BOM and msgid.
        (
            "<22>1 2026-11-28T17:30:07+01:00 mx postfix/smtpd 77 ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"a\\]b \\\"q\\\"\"][x@1 k=\"v\"] \u{feff}lost connection",
            fixed("2026-11-28T17:30:07+01:00"),
            Some("mx"),
            Some("postfix/smtpd"),
            Some(77),
            "lost connection",
        ),
        // RFC 5424 with all nil values.
        (
            "<165>1 - - - - - - msg only",
            Stamp::None,
            None,
            None,
            None,
            "msg only",
        ),
        // RFC 5424 with non-numeric procid and no MSG.
        (
            "<13>1 2026-01-02T03:04:05Z h app worker-1 - -",
            fixed("2026-01-02T03:04:05Z"),
            Some("h"),
            Some("app"),
            None,
            "",
        ),
        // Leading PRI before an RFC 3164 stamp, no host (/dev/log form).
        (
            "<22>Dec 21 00:04:00 sm-mta[10697]: did not issue MAIL/EXPN/VRFY/ETRN during connection to MTA",
            ny(12, 21, 0, 4, 0, 0),
            None,
            Some("sm-mta"),
            Some(10697),
            "did not issue MAIL/EXPN/VRFY/ETRN during connection to MTA",
        ),
        // Localized: ru (journalctl under ru_RU.UTF-8).
        (
            "авг 09 04:49:15 mx postfix/smtp[246741]: Trusted TLS connection established",
            ny(8, 9, 4, 49, 15, 0),
            Some("mx"),
            Some("postfix/smtp"),
            Some(246_741),
            "Trusted TLS connection established",
        ),
        // ru, genitive May and upper case.
        (
            "МАЯ 01 00:00:00 mx sm-mta[1]: m",
            ny(5, 1, 0, 0, 0, 0),
            Some("mx"),
            Some("sm-mta"),
            Some(1),
            "m",
        ),
        // de with umlaut.
        (
            "Mär 03 12:00:01 mail sm-mta[4]: m",
            ny(3, 3, 12, 0, 1, 0),
            Some("mail"),
            Some("sm-mta"),
            Some(4),
            "m",
        ),
        // fr with trailing dot.
        (
            "févr. 14 08:15:00 mx postfix/smtpd[5]: m",
            ny(2, 14, 8, 15, 0, 0),
            Some("mx"),
            Some("postfix/smtpd"),
            Some(5),
            "m",
        ),
        (
            "déc. 31 23:59:59 mx sm-mta[6]: m",
            ny(12, 31, 23, 59, 59, 0),
            Some("mx"),
            Some("sm-mta"),
            Some(6),
            "m",
        ),
        // es, it, pt, nl, pl.
        (
            "ene 02 01:02:03 h sm-mta[7]: m",
            ny(1, 2, 1, 2, 3, 0),
            Some("h"),
            Some("sm-mta"),
            Some(7),
            "m",
        ),
        (
            "ott 10 10:10:10 h sm-mta[8]: m",
            ny(10, 10, 10, 10, 10, 0),
            Some("h"),
            Some("sm-mta"),
            Some(8),
            "m",
        ),
        (
            "out 11 11:11:11 h sm-mta[9]: m",
            ny(10, 11, 11, 11, 11, 0),
            Some("h"),
            Some("sm-mta"),
            Some(9),
            "m",
        ),
        (
            "mrt 12 12:12:12 h sm-mta[10]: m",
            ny(3, 12, 12, 12, 12, 0),
            Some("h"),
            Some("sm-mta"),
            Some(10),
            "m",
        ),
        (
            "paź 13 13:13:13 h sm-mta[11]: m",
            ny(10, 13, 13, 13, 13, 0),
            Some("h"),
            Some("sm-mta"),
            Some(11),
            "m",
        ),
        // Leap second.
        (
            "Dec 31 23:59:60 h sm-mta[1]: m",
            ny(12, 31, 23, 59, 59, 1_000_000_000),
            Some("h"),
            Some("sm-mta"),
            Some(1),
            "m",
        ),
        // Solaris tag.
        (
            "Jun 17 14:37:39 sol sm-mta[2953]: [ID 702911 mail.notice] ruleset=tls_server, arg1=SOFTWARE",
            ny(6, 17, 14, 37, 39, 0),
            Some("sol"),
            Some("sm-mta"),
            Some(2953),
            "ruleset=tls_server, arg1=SOFTWARE",
        ),
        // Facility in angle brackets before the host.
        (
            "Jun 17 14:37:39 <mail.info> host sm-mta[2794]: STARTTLS=server, relay=[192.0.2.9]",
            ny(6, 17, 14, 37, 39, 0),
            Some("host"),
            Some("sm-mta"),
            Some(2794),
            "STARTTLS=server, relay=[192.0.2.9]",
        ),
        // (none) host.
        (
            "Dec 21 00:04:00 (none) postfix/smtpd[10697]: connect from unknown[192.0.2.3]",
            ny(12, 21, 0, 4, 0, 0),
            None,
            Some("postfix/smtpd"),
            Some(10697),
            "connect from unknown[192.0.2.3]",
        ),
        // No pid.
        (
            "Mar  1 00:00:00 mx postfix/postfix-script: starting the Postfix mail system",
            ny(3, 1, 0, 0, 0, 0),
            Some("mx"),
            Some("postfix/postfix-script"),
            None,
            "starting the Postfix mail system",
        ),
        // Program names with slashes, dashes, site names; IP as host.
        (
            "Mar  1 00:00:00 192.0.2.10 postfix/smtps/smtpd[3]: m",
            ny(3, 1, 0, 0, 0, 0),
            Some("192.0.2.10"),
            Some("postfix/smtps/smtpd"),
            Some(3),
            "m",
        ),
        (
            "Mar  1 00:00:00 mx-2 postfix-out/smtp[3]: m",
            ny(3, 1, 0, 0, 0, 0),
            Some("mx-2"),
            Some("postfix-out/smtp"),
            Some(3),
            "m",
        ),
        (
            "Mar  1 00:00:00 mx sendmail/foo[3]: m",
            ny(3, 1, 0, 0, 0, 0),
            Some("mx"),
            Some("sendmail/foo"),
            Some(3),
            "m",
        ),
        (
            "Mar  1 00:00:00 mx sm-mta-in[3]: m",
            ny(3, 1, 0, 0, 0, 0),
            Some("mx"),
            Some("sm-mta-in"),
            Some(3),
            "m",
        ),
        (
            "Mar  1 00:00:00 mx enforced-tls-smtp/smtp[3]: m",
            ny(3, 1, 0, 0, 0, 0),
            Some("mx"),
            Some("enforced-tls-smtp/smtp"),
            Some(3),
            "m",
        ),
        // Stamp and host but no tag.
        (
            "Mar  1 00:00:00 mx last message repeated 3 times",
            ny(3, 1, 0, 0, 0, 0),
            Some("mx"),
            None,
            None,
            "last message repeated 3 times",
        ),
        // Prefix partial: tag only, and host + tag.
        (
            "sendmail[28450]: STARTTLS=client, relay=mx.peer.example., version=TLSv1.2",
            Stamp::None,
            None,
            Some("sendmail"),
            Some(28450),
            "STARTTLS=client, relay=mx.peer.example., version=TLSv1.2",
        ),
        (
            "mx1 sm-mta[99]: m",
            Stamp::None,
            Some("mx1"),
            Some("sm-mta"),
            Some(99),
            "m",
        ),
        // Bare messages stay whole.
        (
            "STARTTLS=client, relay=mx.peer.example., version=TLSv1.2",
            Stamp::None,
            None,
            None,
            None,
            "STARTTLS=client, relay=mx.peer.example., version=TLSv1.2",
        ),
        (
            "[1]: STARTTLS=server, cert-subject=/CN=a ...",
            Stamp::None,
            None,
            None,
            None,
            "[1]: STARTTLS=server, cert-subject=/CN=a ...",
        ),
        (
            "2A1820LG031423: to=<a@example.org>, stat=Sent",
            Stamp::None,
            None,
            None,
            None,
            "2A1820LG031423: to=<a@example.org>, stat=Sent",
        ),
        (
            "did not issue MAIL/EXPN/VRFY/ETRN",
            Stamp::None,
            None,
            None,
            None,
            "did not issue MAIL/EXPN/VRFY/ETRN",
        ),
        ("", Stamp::None, None, None, None, ""),
        // Stamp-shaped but invalid: all message.
        (
            "Foo 12 10:00:00 h sm-mta[1]: m",
            Stamp::None,
            None,
            None,
            None,
            "Foo 12 10:00:00 h sm-mta[1]: m",
        ),
        (
            "2026-02-30T10:00:00Z h sm-mta[1]: m",
            Stamp::None,
            None,
            None,
            None,
            "2026-02-30T10:00:00Z h sm-mta[1]: m",
        ),
        // Exim mainlog: plain, with ms + zone + pid, with pid only.
        (
            "2026-11-28 17:30:07 1aZ1HS-0006iF-Rk <= a@example.org H=mx.example [192.0.2.4] P=esmtps X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no S=1234",
            local("2026-11-28 17:30:07"),
            None,
            Some("exim"),
            None,
            "1aZ1HS-0006iF-Rk <= a@example.org H=mx.example [192.0.2.4] P=esmtps X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no S=1234",
        ),
        (
            "2026-11-28 17:30:07.123 +0100 [4711] 1sDcIh-000000004YY-3wAT => b@example.net R=dnslookup T=remote_smtp",
            fixed("2026-11-28T17:30:07.123+01:00"),
            None,
            Some("exim"),
            Some(4711),
            "1sDcIh-000000004YY-3wAT => b@example.net R=dnslookup T=remote_smtp",
        ),
        (
            "2026-11-28 17:30:07 [123] Start queue run: pid=123",
            local("2026-11-28 17:30:07"),
            None,
            Some("exim"),
            Some(123),
            "Start queue run: pid=123",
        ),
        // syslog-ng style date with space, then a syslog tag.
        (
            "2026-11-28 17:30:07 mx sm-mta[5]: m",
            local("2026-11-28 17:30:07"),
            Some("mx"),
            Some("sm-mta"),
            Some(5),
            "m",
        ),
        // rsyslog forwarding: PRI then an RFC 3339 stamp, no version.
        (
            "<22>2026-11-28T17:30:07.5-05:00 mx sm-mta[8]: m",
            fixed("2026-11-28T17:30:07.5-05:00"),
            Some("mx"),
            Some("sm-mta"),
            Some(8),
            "m",
        ),
        // RFC 3339 without an offset: a local time.
        (
            "2026-11-28T17:30:07 mx sm-mta[8]: m",
            local("2026-11-28 17:30:07"),
            Some("mx"),
            Some("sm-mta"),
            Some(8),
            "m",
        ),
        // RFC 5424 cut inside the structured data: the rest stays as message.
        (
            "<22>1 2026-11-28T17:30:07Z mx sm-mta 8 - [a k=\"v] m",
            fixed("2026-11-28T17:30:07Z"),
            Some("mx"),
            Some("sm-mta"),
            Some(8),
            "[a k=\"v] m",
        ),
        // RFC 5424 cut inside the header.
        (
            "<22>1 2026-11-28T17:30:07Z mx",
            fixed("2026-11-28T17:30:07Z"),
            Some("mx"),
            None,
            None,
            "",
        ),
        // A PRI and nothing we know after it.
        (
            "<13>hello world",
            Stamp::None,
            None,
            None,
            None,
            "hello world",
        ),
        // Partial prefix with a `(none)` host.
        (
            "(none) sm-mta[1]: m",
            Stamp::None,
            None,
            Some("sm-mta"),
            Some(1),
            "m",
        ),
        // A `+` pid is not a pid.
        (
            "sm-mta[+1]: m",
            Stamp::None,
            None,
            None,
            None,
            "sm-mta[+1]: m",
        ),
        // Exim with a zone and no milliseconds, message text without an id.
        (
            "2026-11-28 17:30:07 -0500 SMTP connection from [192.0.2.5]:40022 (TCP/IP connection count = 1)",
            fixed("2026-11-28T17:30:07-05:00"),
            None,
            Some("exim"),
            None,
            "SMTP connection from [192.0.2.5]:40022 (TCP/IP connection count = 1)",
        ),
    ];
    assert!(rows.len() >= 25);
    for (line, stamp, host, program, pid, message) in rows {
        let want = Envelope {
            stamp,
            host,
            program,
            pid,
            message,
        };
        assert_eq!(parse(line), want, "line: {line:?}");
    }
}
