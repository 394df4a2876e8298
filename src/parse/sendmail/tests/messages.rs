use super::*;

/// §1.4 policy lines.
#[test]
fn policy_lines() {
    check(vec![
        (
            "ruleset=tls_server, arg1=SOFTWARE, relay=mx.peer.example, reject=403 4.7.0 TLS handshake failed.",
            pol(
                "tls_server",
                Verify::Software,
                None,
                Some(n("mx.peer.example")),
                "reject=403 4.7.0 TLS handshake failed.",
            ),
        ),
        (
            "ruleset=tls_server, arg1=NONE, relay=mx.plain.example., reject=454 4.7.0 other side does not support STARTTLS",
            pol(
                "tls_server",
                Verify::None,
                None,
                Some(n("mx.plain.example")),
                "reject=454 4.7.0 other side does not support STARTTLS",
            ),
        ),
        (
            "ruleset=tls_server, arg1=FAIL, relay=mx.peer.example, reject=403 4.7.0 authentication failed",
            pol(
                "tls_server",
                Verify::Fail,
                None,
                Some(n("mx.peer.example")),
                "reject=403 4.7.0 authentication failed",
            ),
        ),
        (
            "ruleset=tls_client, arg1=NO, arg2=MAIL, relay=client.peer.example [192.0.2.9], reject=403 4.7.0 not authenticated",
            pol(
                "tls_client",
                Verify::No,
                Some("MAIL"),
                Some(ni("client.peer.example", "192.0.2.9")),
                "reject=403 4.7.0 not authenticated",
            ),
        ),
        (
            "ruleset=tls_client, arg1=NOT, arg2=STARTTLS, relay=[192.0.2.9], status=454 4.7.0 no authentication requested",
            pol(
                "tls_client",
                Verify::Not,
                Some("STARTTLS"),
                Some(i("192.0.2.9")),
                "status=454 4.7.0 no authentication requested",
            ),
        ),
        (
            "qASHQ0pt012345: ruleset=tls_rcpt, arg1=<bob@peer.example>, relay=mx.peer.example., reject=454 4.7.0 encryption too weak 0 less than 128",
            pol(
                "tls_rcpt",
                Verify::Other("<bob@peer.example>".into()),
                None,
                Some(n("mx.peer.example")),
                "reject=454 4.7.0 encryption too weak 0 less than 128",
            ),
        ),
        (
            "ruleset=TLS_connection, arg1=SOFTWARE, relay=mx.peer.example, reject=503 5.7.0 TLS handshake failed.",
            pol(
                "TLS_connection",
                Verify::Software,
                None,
                Some(n("mx.peer.example")),
                "reject=503 5.7.0 TLS handshake failed.",
            ),
        ),
        (
            "ruleset=tls_client, arg1=NOT, arg2=MAIL, relay=spam.peer.example [192.0.2.13], discard",
            pol(
                "tls_client",
                Verify::Not,
                Some("MAIL"),
                Some(ni("spam.peer.example", "192.0.2.13")),
                "discard",
            ),
        ),
        (
            "ruleset=tls_client, arg1=NOT, arg2=MAIL, relay=odd.peer.example [192.0.2.14], quarantine=held for review, TLS",
            pol(
                "tls_client",
                Verify::Not,
                Some("MAIL"),
                Some(ni("odd.peer.example", "192.0.2.14")),
                "quarantine=held for review, TLS",
            ),
        ),
        (
            "ruleset=check_rcpt, arg1=<x@elsewhere.example>, relay=client.peer.example [192.0.2.9], reject=550 5.7.1 <x@elsewhere.example>... Relaying denied",
            Parsed::Irrelevant,
        ),
        // TLS_Clt refusing a client without STARTTLS is logged under check_mail (the real
        // `client_cert_required` capture); any other check_mail refusal is not TLS.
        (
            "6B7Mrcrv001796: ruleset=check_mail, arg1=<sender@client.example.test>, relay=vm.example.test [127.0.0.1], reject=454 4.7.0 authentication required",
            pol(
                "check_mail",
                Verify::None,
                Some("MAIL"),
                Some(ni("vm.example.test", "127.0.0.1")),
                "reject=454 4.7.0 authentication required",
            ),
        ),
        (
            "ruleset=check_mail, arg1=<a@b.example>, relay=[192.0.2.9], reject=403 4.7.0 encryption too weak 0 less than 128",
            pol(
                "check_mail",
                Verify::None,
                Some("MAIL"),
                Some(i("192.0.2.9")),
                "reject=403 4.7.0 encryption too weak 0 less than 128",
            ),
        ),
        (
            "ruleset=check_mail, arg1=<a@nowhere.example>, relay=client.peer.example [192.0.2.9], reject=553 5.1.8 <a@nowhere.example>... Domain of sender address a@nowhere.example does not exist",
            Parsed::Irrelevant,
        ),
        (
            "ruleset=check_relay, arg1=bad.example, arg2=192.0.2.99, relay=bad.example [192.0.2.99], reject=554 5.7.1 Rejected",
            Parsed::Irrelevant,
        ),
    ]);
}

/// Message lines: from= and to=.
#[test]
fn message_lines() {
    use DeliveryStatus as S;
    check(vec![
        (
            "l65DnTLe028546: from=<alice@peer.example>, size=2345, class=0, nrcpts=1, msgid=<20261128.abc@peer.example>, bodytype=8BITMIME, proto=ESMTPS, daemon=MTA, relay=mail.peer.example [192.0.2.10]",
            rcv(
                "l65DnTLe028546",
                "alice@peer.example",
                Some(ni("mail.peer.example", "192.0.2.10")),
                Some("ESMTPS"),
            ),
        ),
        (
            "qASHQ0pt012345: from=<>, size=4120, class=0, nrcpts=1, msgid=<202611281000.qASHQ0pu012345@dsl-77.isp.example>, proto=ESMTP, daemon=MTA, relay=dsl-77.isp.example [198.51.100.77] (may be forged)",
            rcv(
                "qASHQ0pt012345",
                "",
                Some(p(Some("dsl-77.isp.example"), Some("198.51.100.77"), true)),
                Some("ESMTP"),
            ),
        ),
        (
            "qASHQ0pt012345: from=root, size=523, class=0, nrcpts=1, msgid=<202611281000.qASHQ0pt012345@host.example>, relay=root@localhost",
            rcv("qASHQ0pt012345", "root", None, None),
        ),
        (
            "2A1820LG031423: from=<news@list.peer.example>, size=88, class=-60, nrcpts=3, msgid=<a$b!c(d)%e, f@g>, proto=ESMTPSA, daemon=MTA-v6, relay=[IPv6:2001:db8::25]",
            rcv(
                "2A1820LG031423",
                "news@list.peer.example",
                Some(i("2001:db8::25")),
                Some("ESMTPSA"),
            ),
        ),
        // fields out of order, str2prt escapes kept as logged, commas inside <…>
        (
            "qASHQ0pu012351: from=<we\\\\ird\\tuser@peer.example>, relay=mail.peer.example [192.0.2.10], msgid=<odd, size=1@peer.example>, proto=ESMTPS, size=10, class=0, nrcpts=1",
            rcv(
                "qASHQ0pu012351",
                "we\\\\ird\\tuser@peer.example",
                Some(ni("mail.peer.example", "192.0.2.10")),
                Some("ESMTPS"),
            ),
        ),
        // from= cut at 200 characters: no closing bracket
        (
            "qASHQ0pu012352: from=<very-long-bounce-address-0123456789@lists.peer.example, size=10, class=0, nrcpts=1, msgid=<m@peer.example>, proto=ESMTP, daemon=MTA, relay=lists.peer.example [192.0.2.12]",
            rcv(
                "qASHQ0pu012352",
                "<very-long-bounce-address-0123456789@lists.peer.example",
                Some(ni("lists.peer.example", "192.0.2.12")),
                Some("ESMTP"),
            ),
        ),
        (
            "JAA12345: from=<bob@old.example>, size=100, class=0, nrcpts=1, msgid=<old@old.example>, proto=SMTP, relay=ident@old.example [192.0.2.77]",
            rcv(
                "JAA12345",
                "bob@old.example",
                Some(ni("old.example", "192.0.2.77")),
                Some("SMTP"),
            ),
        ),
        (
            "l65DnTLe028546: to=<bob@peer.example>, delay=00:00:02, xdelay=00:00:02, mailer=esmtp, pri=120345, relay=mx1.peer.example. [192.0.2.20], dsn=2.0.0, stat=Sent (ok 1234, queued as 4F2B1C0D)",
            dlv(
                "l65DnTLe028546",
                "bob@peer.example",
                Some(ni("mx1.peer.example", "192.0.2.20")),
                "esmtp",
                S::Sent,
                Some("2.0.0"),
                "Sent (ok 1234, queued as 4F2B1C0D)",
            ),
        ),
        (
            "l65DnTLe028546: to=<a@peer.example>,<b@peer.example>, ctladdr=<alice@host.example> (1000/1000), delay=00:00:01, xdelay=00:00:01, mailer=esmtp, pri=150345, relay=mx6.peer.example. [IPv6:2001:db8::25], dsn=2.0.0, stat=Sent (<20261128.abc@host.example> [InternalId=1234, Hostname=MX6] Queued mail for delivery)",
            dlv(
                "l65DnTLe028546",
                "a@peer.example,b@peer.example",
                Some(ni("mx6.peer.example", "2001:db8::25")),
                "esmtp",
                S::Sent,
                Some("2.0.0"),
                "Sent (<20261128.abc@host.example> [InternalId=1234, Hostname=MX6] Queued mail for delivery)",
            ),
        ),
        (
            "qASHQ0pt012345: to=<carol@plain.example>, delay=00:05:00, xdelay=00:00:00, mailer=esmtp, pri=210345, relay=mx.plain.example. [192.0.2.30], dsn=4.0.0, stat=Deferred: Connection refused by mx.plain.example.",
            dlv(
                "qASHQ0pt012345",
                "carol@plain.example",
                Some(ni("mx.plain.example", "192.0.2.30")),
                "esmtp",
                S::Deferred,
                Some("4.0.0"),
                "Deferred: Connection refused by mx.plain.example.",
            ),
        ),
        (
            "qASHQ0pt012345: to=<dave@peer.example>, delay=00:00:03, xdelay=00:00:03, mailer=esmtp, pri=120345, relay=mx.peer.example, dsn=4.0.0, stat=Deferred: 403 4.7.0 TLS handshake failed.",
            dlv(
                "qASHQ0pt012345",
                "dave@peer.example",
                Some(n("mx.peer.example")),
                "esmtp",
                S::Deferred,
                Some("4.0.0"),
                "Deferred: 403 4.7.0 TLS handshake failed.",
            ),
        ),
        (
            "qASHQ0pt012345: to=<nobody@peer.example>, delay=00:00:01, xdelay=00:00:01, mailer=esmtp, pri=30345, relay=mx1.peer.example. [192.0.2.20], dsn=5.1.1, reply=550 5.1.1 <nobody@peer.example>... User unknown, stat=User unknown",
            dlv(
                "qASHQ0pt012345",
                "nobody@peer.example",
                Some(ni("mx1.peer.example", "192.0.2.20")),
                "esmtp",
                S::Bounced,
                Some("5.1.1"),
                "User unknown",
            ),
        ),
        (
            "qASHQ0pt012345: to=bob, ctladdr=<bob@host.example> (1001/1001), delay=00:00:00, xdelay=00:00:00, mailer=local, pri=30734, dsn=2.0.0, stat=Sent",
            dlv(
                "qASHQ0pt012345",
                "bob",
                None,
                "local",
                S::Sent,
                Some("2.0.0"),
                "Sent",
            ),
        ),
        (
            "qASHQ0pu012346: to=root, ctladdr=root (0/0), delay=00:00:00, xdelay=00:00:00, mailer=relay, pri=30044, relay=[127.0.0.1] [127.0.0.1], dsn=2.0.0, stat=Sent (qASHQ0pt012345 Message accepted for delivery)",
            dlv(
                "qASHQ0pu012346",
                "root",
                Some(i("127.0.0.1")),
                "relay",
                S::Sent,
                Some("2.0.0"),
                "Sent (qASHQ0pt012345 Message accepted for delivery)",
            ),
        ),
        (
            "JAA12345: to=<a@peer.example>,<b@peer.example>, [more], delay=00:00:04, xdelay=00:00:04, mailer=smtp, pri=90000, relay=smarthost.example [192.0.2.40], dsn=2.0.0, stat=Sent (Ok)",
            dlv(
                "JAA12345",
                "a@peer.example,b@peer.example",
                Some(ni("smarthost.example", "192.0.2.40")),
                "smtp",
                S::Sent,
                Some("2.0.0"),
                "Sent (Ok)",
            ),
        ),
        (
            "qASHQ0pu012347: from=<>, size=2890, class=0, nrcpts=0, proto=ESMTP, daemon=MTA, relay=[RESPONSE]",
            rcv("qASHQ0pu012347", "", None, Some("ESMTP")),
        ),
        // A rejected transaction (every RCPT refused): no message, over TLS or not.
        (
            "6AR4e5IH018336: from=<newsletter@bulk-offers.example>, size=0, class=0, nrcpts=0, proto=ESMTPS, daemon=MTA, relay=[203.0.113.66]",
            Parsed::Irrelevant,
        ),
        (
            "6AR4e5IH018337: from=<a@peer.example>, size=0, class=0, nrcpts=0, proto=ESMTP, daemon=MTA, relay=mail.peer.example [192.0.2.10]",
            Parsed::Irrelevant,
        ),
        (
            "qASHQ0pu012348: from=<mailer@peer.example>, size=700, class=0, nrcpts=1, msgid=<x@peer.example>, proto=ESMTP, daemon=MTA, relay=localhost [127.0.0.1]",
            rcv(
                "qASHQ0pu012348",
                "mailer@peer.example",
                Some(ni("localhost", "127.0.0.1")),
                Some("ESMTP"),
            ),
        ),
        (
            "qASHQ0pu012349: to=<eve@peer.example>, delay=5+00:00:00, xdelay=00:00:01, mailer=esmtp, pri=9120345, relay=mx.peer.example. [192.0.2.20], dsn=4.4.7, stat=Deferred: 451 4.7.1 Greylisted, try again later",
            dlv(
                "qASHQ0pu012349",
                "eve@peer.example",
                Some(ni("mx.peer.example", "192.0.2.20")),
                "esmtp",
                DeliveryStatus::Deferred,
                Some("4.4.7"),
                "Deferred: 451 4.7.1 Greylisted, try again later",
            ),
        ),
        (
            "qASHQ0pu012350: to=<gone@nowhere.example>, delay=00:00:00, xdelay=00:00:00, mailer=esmtp, pri=30000, relay=nowhere.example, dsn=5.1.2, stat=Host unknown (Name server: nowhere.example: host not found)",
            dlv(
                "qASHQ0pu012350",
                "gone@nowhere.example",
                Some(n("nowhere.example")),
                "esmtp",
                DeliveryStatus::Bounced,
                Some("5.1.2"),
                "Host unknown (Name server: nowhere.example: host not found)",
            ),
        ),
        (
            "l65DnTLe028546: to=<x@peer.example>, delay=00:00:00, mailer=esmtp, pri=30000, stat=quarantined",
            dlv(
                "l65DnTLe028546",
                "x@peer.example",
                None,
                "esmtp",
                S::Other,
                None,
                "quarantined",
            ),
        ),
    ]);
}

/// `_FFR_LOG_MORE` builds write the session's TLS facts on the message line.
#[test]
fn ffr_tls_fields_on_message_lines() {
    let line = "l65DnTLe028546: from=<a@peer.example>, size=10, class=0, nrcpts=1, msgid=<m@peer.example>, proto=ESMTPS, daemon=MTA, tls_verify=NOT, tls_version=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, auth=NONE, relay=mail.peer.example [192.0.2.10]";
    let want = Parsed::Event(EventKind::Received(Reception {
        queue_id: "l65DnTLe028546".into(),
        from: "a@peer.example".into(),
        peer: Some(ni("mail.peer.example", "192.0.2.10")),
        proto: Some("ESMTPS".into()),
        tls: Some(std::sync::Arc::new(TlsParams {
            version: TlsVersion::Tls1_3,
            cipher: Some(Cipher("TLS_AES_256_GCM_SHA384".into())),
            bits: Bits::default(),
            verify: Verify::Not,
            detail: None,
        })),
    }));
    assert_eq!(parse(line), want);
    let plain = "l65DnTLe028546: to=<b@plain.example>, delay=00:00:01, xdelay=00:00:01, mailer=esmtp, tls_verify=NONE, tls_version=NONE, cipher=NONE, pri=120000, relay=mx.plain.example. [192.0.2.30], dsn=2.0.0, stat=Sent (ok)";
    let Parsed::Event(EventKind::Delivery(d)) = parse(plain) else {
        panic!("not a delivery: {plain}");
    };
    assert_eq!(d.tls, None);
    assert_eq!(d.peer, Some(ni("mx.plain.example", "192.0.2.30")));
    assert_eq!(d.text, "Sent (ok)");
}

#[test]
fn session_ends() {
    check(vec![
        (
            "l65DnTLe028546: lost input channel from client.peer.example [192.0.2.5] to MTA after rcpt",
            end(
                Some(ni("client.peer.example", "192.0.2.5")),
                "lost input channel after rcpt",
            ),
        ),
        (
            "lost input channel from dyn.isp.example [198.51.100.3] (may be forged) to MTA-v4 after data",
            end(
                Some(p(Some("dyn.isp.example"), Some("198.51.100.3"), true)),
                "lost input channel after data",
            ),
        ),
        (
            "client.peer.example [192.0.2.5] did not issue MAIL/EXPN/VRFY/ETRN during connection to MTA",
            end(
                Some(ni("client.peer.example", "192.0.2.5")),
                "did not issue MAIL/EXPN/VRFY/ETRN",
            ),
        ),
        (
            "qASHQ0pt012345: [IPv6:2001:db8::77] did not issue MAIL/EXPN/VRFY/ETRN during connection to MTA-v6",
            end(Some(i("2001:db8::77")), "did not issue MAIL/EXPN/VRFY/ETRN"),
        ),
        (
            "timeout waiting for input from client.peer.example during server cmd read",
            end(
                Some(n("client.peer.example")),
                "timeout during server cmd read",
            ),
        ),
        (
            "timeout waiting for input from mx.peer.example. during client greeting",
            Parsed::Irrelevant,
        ),
    ]);
}
