//! Table-driven tests of the `Received:` parser: one row per stamp form of FORMATS.md §1.5,
//! §2.4, §3.4, §4, written as the header appears in a message (folded), run through the
//! header unfolder and then the parser, asserting every field of the hop.

use super::*;
use crate::parse::headers;

/// What a row expects of the TLS state.
#[derive(Debug)]
enum W {
    Tls {
        v: Option<&'static str>,
        c: Option<&'static str>,
        secret: Option<u16>,
        alg: Option<u16>,
        verify: Option<&'static str>,
        kx: Option<&'static str>,
        cn: Option<&'static str>,
        issuer: Option<&'static str>,
    },
    NoDetails,
    Plain,
    Unknown,
}

/// Shorthand for the common TLS row without key exchange or client certificate.
const fn tls(
    v: Option<&'static str>,
    c: Option<&'static str>,
    secret: Option<u16>,
    alg: Option<u16>,
    verify: Option<&'static str>,
) -> W {
    W::Tls {
        v,
        c,
        secret,
        alg,
        verify,
        kx: None,
        cn: None,
        issuer: None,
    }
}

struct Row {
    form: &'static str,
    header: &'static str,
    helo: Option<&'static str>,
    rdns: Option<&'static str>,
    ip: Option<&'static str>,
    forged: bool,
    by: Option<&'static str>,
    with: Option<&'static str>,
    id: Option<&'static str>,
    for_: Option<&'static str>,
    /// RFC 3339.
    date: Option<&'static str>,
    tls: W,
}

const S: Option<&str> = None;

fn rows() -> Vec<Row> {
    vec![
        // ---- Sendmail (cf/m4/cfhead.m4, §1.5) ----
        Row {
            form: "sendmail 8.17 ESMTPS, TLS group, for",
            header: "Received: from mail.peer.example (mail.peer.example [192.0.2.15])\n\tby mx.our.example (8.17.1.9/8.17.1.9) with ESMTPS id 461AFE2x012345\n\t(version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256 verify=NOT)\n\tfor <alice@our.example>; Mon, 1 Jul 2024 10:15:02 +0200\n",
            helo: Some("mail.peer.example"),
            rdns: Some("mail.peer.example"),
            ip: Some("192.0.2.15"),
            forged: false,
            by: Some("mx.our.example"),
            with: Some("ESMTPS"),
            id: Some("461AFE2x012345"),
            for_: Some("alice@our.example"),
            date: Some("2024-07-01T10:15:02+02:00"),
            tls: tls(
                Some("TLSv1.3"),
                Some("TLS_AES_256_GCM_SHA384"),
                Some(256),
                None,
                Some("NOT"),
            ),
        },
        Row {
            form: "sendmail 8.17.1.9 Debian 12, real (tests/e2e): relay over loopback, verify=OK, GMT",
            header: "Received: from mx.example.test (vm.example.test [127.0.0.1])\n\tby rx.example.test (8.17.1.9/8.17.1.9/Debian-2+deb12u2) with ESMTPS id 6ASJ0S4s021833\n\t(version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256 verify=OK)\n\tfor <e2e@rx.example.test>; Sat, 28 Nov 2026 19:00:28 GMT\n",
            helo: Some("mx.example.test"),
            rdns: Some("vm.example.test"),
            ip: Some("127.0.0.1"),
            forged: false,
            by: Some("rx.example.test"),
            with: Some("ESMTPS"),
            id: Some("6ASJ0S4s021833"),
            for_: Some("e2e@rx.example.test"),
            date: Some("2026-11-28T19:00:28+00:00"),
            tls: tls(
                Some("TLSv1.3"),
                Some("TLS_AES_256_GCM_SHA384"),
                Some(256),
                None,
                Some("OK"),
            ),
        },
        Row {
            form: "sendmail 8.13 (seed) ESMTP + group, no single rcpt: verify=OK); date next line",
            header: "Received: from relay.peer.example (relay.peer.example [198.51.100.23])\n\tby hpux.our.example (8.13.3/8.13.3) with ESMTP id n23MM9aB004711\n\t(version=TLSv1/SSLv3 cipher=DHE-RSA-AES256-SHA bits=256 verify=OK);\n\tTue, 3 Mar 2009 14:22:10 -0800 (PST)\n",
            helo: Some("relay.peer.example"),
            rdns: Some("relay.peer.example"),
            ip: Some("198.51.100.23"),
            forged: false,
            by: Some("hpux.our.example"),
            with: Some("ESMTP"),
            id: Some("n23MM9aB004711"),
            for_: None,
            date: Some("2009-03-03T14:22:10-08:00"),
            tls: tls(
                Some("TLSv1/SSLv3"),
                Some("DHE-RSA-AES256-SHA"),
                Some(256),
                None,
                Some("OK"),
            ),
        },
        Row {
            form: "sendmail bits=256/256 verify=NO",
            header: "Received: from smtp.peer.example (smtp.peer.example [203.0.113.5])\n\tby mx.our.example (8.15.2/8.15.2) with ESMTPS id w5KAbc12003344\n\t(version=TLSv1.2 cipher=ECDHE-RSA-AES256-GCM-SHA384 bits=256/256 verify=NO)\n\tfor <bob@our.example>; Wed, 20 Jun 2018 11:02:33 +0200\n",
            helo: Some("smtp.peer.example"),
            rdns: Some("smtp.peer.example"),
            ip: Some("203.0.113.5"),
            forged: false,
            by: Some("mx.our.example"),
            with: Some("ESMTPS"),
            id: Some("w5KAbc12003344"),
            for_: Some("bob@our.example"),
            date: Some("2018-06-20T11:02:33+02:00"),
            tls: tls(
                Some("TLSv1.2"),
                Some("ECDHE-RSA-AES256-GCM-SHA384"),
                Some(256),
                Some(256),
                Some("NO"),
            ),
        },
        Row {
            form: "sendmail 3DES verify=FAIL, helo differs from rdns",
            header: "Received: from oldbox (legacy.peer.example [198.51.100.40])\n\tby mx.our.example (8.14.9/8.14.9) with ESMTP id t1Q9x0Yz001122\n\t(version=TLSv1/SSLv3 cipher=DES-CBC3-SHA bits=112 verify=FAIL)\n\tfor <carol@our.example>; Thu, 26 Feb 2015 09:00:01 +0000\n",
            helo: Some("oldbox"),
            rdns: Some("legacy.peer.example"),
            ip: Some("198.51.100.40"),
            forged: false,
            by: Some("mx.our.example"),
            with: Some("ESMTP"),
            id: Some("t1Q9x0Yz001122"),
            for_: Some("carol@our.example"),
            date: Some("2015-02-26T09:00:01+00:00"),
            tls: tls(
                Some("TLSv1/SSLv3"),
                Some("DES-CBC3-SHA"),
                Some(112),
                None,
                Some("FAIL"),
            ),
        },
        Row {
            form: "sendmail IPv6 peer",
            header: "Received: from mx.peer.example (mx.peer.example [IPv6:2001:db8:4601:e00::3])\n\tby mx.our.example (8.18.1/8.18.1) with ESMTPS id 4B2Kq1Z9000777\n\t(version=TLSv1.3 cipher=TLS_AES_128_GCM_SHA256 bits=128 verify=NOT)\n\tfor <dave@our.example>; Fri, 5 Jul 2024 19:19:30 +0200\n",
            helo: Some("mx.peer.example"),
            rdns: Some("mx.peer.example"),
            ip: Some("2001:db8:4601:e00::3"),
            forged: false,
            by: Some("mx.our.example"),
            with: Some("ESMTPS"),
            id: Some("4B2Kq1Z9000777"),
            for_: Some("dave@our.example"),
            date: Some("2024-07-05T19:19:30+02:00"),
            tls: tls(
                Some("TLSv1.3"),
                Some("TLS_AES_128_GCM_SHA256"),
                Some(128),
                None,
                Some("NOT"),
            ),
        },
        Row {
            form: "sendmail (may be forged), plaintext ESMTP",
            header: "Received: from helo.claimed.example (dyn-203-0-113-9.isp.example [203.0.113.9] (may be forged))\n\tby mx.our.example (8.17.1/8.17.1) with ESMTP id 461Bx7Qa009988\n\tfor <erin@our.example>; Mon, 1 Jul 2024 03:04:05 +0200\n",
            helo: Some("helo.claimed.example"),
            rdns: Some("dyn-203-0-113-9.isp.example"),
            ip: Some("203.0.113.9"),
            forged: true,
            by: Some("mx.our.example"),
            with: Some("ESMTP"),
            id: Some("461Bx7Qa009988"),
            for_: Some("erin@our.example"),
            date: Some("2024-07-01T03:04:05+02:00"),
            tls: W::Plain,
        },
        Row {
            form: "sendmail local submission (from user@localhost)",
            header: "Received: (from alice@localhost)\n\tby host.our.example (8.17.1/8.17.1/Submit) id 461AFDwx012300;\n\tMon, 1 Jul 2024 10:14:58 +0200\n",
            helo: None,
            rdns: None,
            ip: None,
            forged: false,
            by: Some("host.our.example"),
            with: None,
            id: Some("461AFDwx012300"),
            for_: None,
            date: Some("2024-07-01T10:14:58+02:00"),
            tls: W::Unknown,
        },
        Row {
            form: "sendmail ident user@rdns, ESMTPSA",
            header: "Received: from laptop (root@client.peer.example [198.51.100.7])\n\tby smtp.our.example (8.16.1/8.16.1) with ESMTPSA id 0A1B2C3D004455\n\t(version=TLSv1.2 cipher=ECDHE-RSA-AES128-GCM-SHA256 bits=128 verify=NO)\n\tfor <frank@peer.example>; Sat, 2 Jan 2021 12:00:00 -0500\n",
            helo: Some("laptop"),
            rdns: Some("client.peer.example"),
            ip: Some("198.51.100.7"),
            forged: false,
            by: Some("smtp.our.example"),
            with: Some("ESMTPSA"),
            id: Some("0A1B2C3D004455"),
            for_: Some("frank@peer.example"),
            date: Some("2021-01-02T12:00:00-05:00"),
            tls: tls(
                Some("TLSv1.2"),
                Some("ECDHE-RSA-AES128-GCM-SHA256"),
                Some(128),
                None,
                Some("NO"),
            ),
        },
        Row {
            form: "sendmail 3-part stamp (IBM NCO), authenticated bits comment",
            header: "Received: from gw.peer.example (gw.peer.example [192.0.2.77]) (authenticated bits=0)\n\tby relay.our.example (8.14.9/8.14.9/NCO v10.0) with ESMTP id u9ABCdEf012345\n\t(version=TLSv1/SSLv3 cipher=AES256-GCM-SHA384 bits=256 verify=OK)\n\tfor <gina@our.example>; Mon, 10 Oct 2016 08:09:10 -0400\n",
            helo: Some("gw.peer.example"),
            rdns: Some("gw.peer.example"),
            ip: Some("192.0.2.77"),
            forged: false,
            by: Some("relay.our.example"),
            with: Some("ESMTP"),
            id: Some("u9ABCdEf012345"),
            for_: Some("gina@our.example"),
            date: Some("2016-10-10T08:09:10-04:00"),
            tls: tls(
                Some("TLSv1/SSLv3"),
                Some("AES256-GCM-SHA384"),
                Some(256),
                None,
                Some("OK"),
            ),
        },
        Row {
            form: "sendmail old cf/README (using … (168 bits) verified OK);",
            header: "Received: from ws1.peer.example (ws1.peer.example [192.0.2.16])\n\tby gw.peer.example (8.11.2/8.11.2) with ESMTP id f1K7agA07256\n\t(using TLSv1/SSLv3 with cipher EDH-RSA-DES-CBC3-SHA (168 bits) verified OK);\n\tTue, 20 Feb 2001 08:36:47 +0100 (CET)\n",
            helo: Some("ws1.peer.example"),
            rdns: Some("ws1.peer.example"),
            ip: Some("192.0.2.16"),
            forged: false,
            by: Some("gw.peer.example"),
            with: Some("ESMTP"),
            id: Some("f1K7agA07256"),
            for_: None,
            date: Some("2001-02-20T08:36:47+01:00"),
            tls: tls(
                Some("TLSv1/SSLv3"),
                Some("EDH-RSA-DES-CBC3-SHA"),
                Some(168),
                None,
                Some("OK"),
            ),
        },
        Row {
            form: "sendmail old cf/README verified NO, for",
            header: "Received: from ws2.peer.example (ws2.peer.example [192.0.2.17])\n\tby gw.peer.example (8.12.11/8.12.11) with ESMTP id m8OAEUS8001894\n\t(using TLSv1 with cipher DHE-RSA-AES256-SHA (256 bits) verified NO)\n\tfor <list@our.example>; Wed, 24 Sep 2008 13:14:30 +0300\n",
            helo: Some("ws2.peer.example"),
            rdns: Some("ws2.peer.example"),
            ip: Some("192.0.2.17"),
            forged: false,
            by: Some("gw.peer.example"),
            with: Some("ESMTP"),
            id: Some("m8OAEUS8001894"),
            for_: Some("list@our.example"),
            date: Some("2008-09-24T13:14:30+03:00"),
            tls: tls(
                Some("TLSv1"),
                Some("DHE-RSA-AES256-SHA"),
                Some(256),
                None,
                Some("NO"),
            ),
        },
        // ---- Postfix (smtpd.c, §2.4) ----
        Row {
            form: "postfix <=3.3 No client certificate requested",
            header: "Received: from mail.peer.example (mail.peer.example [192.0.2.20])\n\t(using TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits))\n\t(No client certificate requested)\n\tby mx.our.example (Postfix) with ESMTPS id 4WcXyZ1AbCz9sT\n\tfor <bob@our.example>; Tue,  2 Jul 2024 08:01:12 +0000 (UTC)\n",
            helo: Some("mail.peer.example"),
            rdns: Some("mail.peer.example"),
            ip: Some("192.0.2.20"),
            forged: false,
            by: Some("mx.our.example"),
            with: Some("ESMTPS"),
            id: Some("4WcXyZ1AbCz9sT"),
            for_: Some("bob@our.example"),
            date: Some("2024-07-02T08:01:12+00:00"),
            tls: tls(
                Some("TLSv1.2"),
                Some("ECDHE-RSA-AES256-GCM-SHA384"),
                Some(256),
                Some(256),
                Some("NO"),
            ),
        },
        Row {
            form: "postfix 3.4+ TLS1.3 key-exchange on TAB+space line, client did not present",
            header: "Received: from out.peer.example (out.peer.example [192.0.2.21])\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\n\t key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256)\n\t(Client did not present a certificate)\n\tby mx.our.example (Postfix) with ESMTPS id 4WcY0q2BcDz9sV\n\tfor <carol@our.example>; Tue, 2 Jul 2024 08:05:00 +0000 (UTC)\n",
            helo: Some("out.peer.example"),
            rdns: Some("out.peer.example"),
            ip: Some("192.0.2.21"),
            forged: false,
            by: Some("mx.our.example"),
            with: Some("ESMTPS"),
            id: Some("4WcY0q2BcDz9sV"),
            for_: Some("carol@our.example"),
            date: Some("2024-07-02T08:05:00+00:00"),
            tls: W::Tls {
                v: Some("TLSv1.3"),
                c: Some("TLS_AES_256_GCM_SHA384"),
                secret: Some(256),
                alg: Some(256),
                verify: Some("NO"),
                kx: Some("X25519"),
                cn: None,
                issuer: None,
            },
        },
        Row {
            form: "postfix Client CN/Issuer verified OK",
            header: "Received: from mta.peer.example (mta.peer.example [192.0.2.22])\n\t(using TLSv1.2 with cipher ECDHE-RSA-AES128-GCM-SHA256 (128/128 bits))\n\t(Client CN \"mta.peer.example\", Issuer \"R11\" (verified OK))\n\tby mx.our.example (Postfix) with ESMTPS id 4WcY1r3CdEz9sW\n\tfor <dave@our.example>; Tue, 2 Jul 2024 09:00:00 +0200 (CEST)\n",
            helo: Some("mta.peer.example"),
            rdns: Some("mta.peer.example"),
            ip: Some("192.0.2.22"),
            forged: false,
            by: Some("mx.our.example"),
            with: Some("ESMTPS"),
            id: Some("4WcY1r3CdEz9sW"),
            for_: Some("dave@our.example"),
            date: Some("2024-07-02T09:00:00+02:00"),
            tls: W::Tls {
                v: Some("TLSv1.2"),
                c: Some("ECDHE-RSA-AES128-GCM-SHA256"),
                secret: Some(128),
                alg: Some(128),
                verify: Some("OK"),
                kx: None,
                cn: Some("mta.peer.example"),
                issuer: Some("R11"),
            },
        },
        Row {
            form: "postfix Client CN not verified, issuer with parentheses inside quotes",
            header: "Received: from smtp.peer.example (smtp.peer.example [192.0.2.23])\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\n\t key-exchange X25519 server-signature RSA-PSS (4096 bits) server-digest SHA256\n\t client-signature RSA-PSS (2048 bits) client-digest SHA256)\n\t(Client CN \"smtp.peer.example\", Issuer \"Peer Internal CA (Test)\" (not verified))\n\tby mx.our.example (Postfix) with ESMTPS id 4WcY2s4DeFz9sX\n\tfor <erin@our.example>; Tue, 2 Jul 2024 09:10:00 +0200\n",
            helo: Some("smtp.peer.example"),
            rdns: Some("smtp.peer.example"),
            ip: Some("192.0.2.23"),
            forged: false,
            by: Some("mx.our.example"),
            with: Some("ESMTPS"),
            id: Some("4WcY2s4DeFz9sX"),
            for_: Some("erin@our.example"),
            date: Some("2024-07-02T09:10:00+02:00"),
            tls: W::Tls {
                v: Some("TLSv1.3"),
                c: Some("TLS_AES_256_GCM_SHA384"),
                secret: Some(256),
                alg: Some(256),
                verify: Some("FAIL"),
                kx: Some("X25519"),
                cn: Some("smtp.peer.example"),
                issuer: Some("Peer Internal CA (Test)"),
            },
        },
        Row {
            form: "postfix unknown rdns, IPv6, ESMTPS without (using) (tls_received_header=no)",
            header: "Received: from mx2.peer.example (unknown [IPv6:2001:db8:4601:e00::3])\n\tby mx.our.example (Postfix) with ESMTPS id 4WcY3t5EfGz9sY\n\tfor <frank@our.example>; Tue, 2 Jul 2024 10:00:00 +0200 (CEST)\n",
            helo: Some("mx2.peer.example"),
            rdns: None,
            ip: Some("2001:db8:4601:e00::3"),
            forged: false,
            by: Some("mx.our.example"),
            with: Some("ESMTPS"),
            id: Some("4WcY3t5EfGz9sY"),
            for_: Some("frank@our.example"),
            date: Some("2024-07-02T10:00:00+02:00"),
            tls: W::NoDetails,
        },
        Row {
            form: "postfix plaintext ESMTP",
            header: "Received: from bulk.peer.example (bulk.peer.example [198.51.100.60])\n\tby mx.our.example (Postfix) with ESMTP id 4WcY4v6FgHz9sZ\n\tfor <gina@our.example>; Tue, 2 Jul 2024 10:30:00 +0200 (CEST)\n",
            helo: Some("bulk.peer.example"),
            rdns: Some("bulk.peer.example"),
            ip: Some("198.51.100.60"),
            forged: false,
            by: Some("mx.our.example"),
            with: Some("ESMTP"),
            id: Some("4WcY4v6FgHz9sZ"),
            for_: Some("gina@our.example"),
            date: Some("2024-07-02T10:30:00+02:00"),
            tls: W::Plain,
        },
        Row {
            form: "postfix UTF8SMTPS",
            header: "Received: from intl.peer.example (intl.peer.example [192.0.2.24])\n\tby mx.our.example (Postfix) with UTF8SMTPS id 4WcY5w7GhJz9t0\n\tfor <hanna@our.example>; Tue, 2 Jul 2024 11:00:00 +0200\n",
            helo: Some("intl.peer.example"),
            rdns: Some("intl.peer.example"),
            ip: Some("192.0.2.24"),
            forged: false,
            by: Some("mx.our.example"),
            with: Some("UTF8SMTPS"),
            id: Some("4WcY5w7GhJz9t0"),
            for_: Some("hanna@our.example"),
            date: Some("2024-07-02T11:00:00+02:00"),
            tls: W::NoDetails,
        },
        Row {
            form: "postfix ESMTPSA, Authenticated sender comment",
            header: "Received: from [192.168.1.20] (dsl-198-51-100-99.isp.example [198.51.100.99])\n\t(using TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 (128/128 bits)\n\t key-exchange X25519)\n\t(No client certificate requested)\n\t(Authenticated sender: ivan@our.example)\n\tby submit.our.example (Postfix) with ESMTPSA id 4WcY6x8HjKz9t1;\n\tTue, 2 Jul 2024 12:00:00 +0200 (CEST)\n",
            helo: Some("[192.168.1.20]"),
            rdns: Some("dsl-198-51-100-99.isp.example"),
            ip: Some("198.51.100.99"),
            forged: false,
            by: Some("submit.our.example"),
            with: Some("ESMTPSA"),
            id: Some("4WcY6x8HjKz9t1"),
            for_: None,
            date: Some("2024-07-02T12:00:00+02:00"),
            tls: W::Tls {
                v: Some("TLSv1.3"),
                c: Some("TLS_AES_128_GCM_SHA256"),
                secret: Some(128),
                alg: Some(128),
                verify: Some("NO"),
                kx: Some("X25519"),
                cn: None,
                issuer: None,
            },
        },
        Row {
            form: "postfix LMTP from loopback",
            header: "Received: from mx.our.example (localhost [127.0.0.1])\n\tby imap.our.example (Postfix) with LMTP id 4WcY7y9JkLz9t2\n\tfor <alice@our.example>; Tue, 2 Jul 2024 12:00:01 +0200 (CEST)\n",
            helo: Some("mx.our.example"),
            rdns: Some("localhost"),
            ip: Some("127.0.0.1"),
            forged: false,
            by: Some("imap.our.example"),
            with: Some("LMTP"),
            id: Some("4WcY7y9JkLz9t2"),
            for_: Some("alice@our.example"),
            date: Some("2024-07-02T12:00:01+02:00"),
            tls: W::Plain,
        },
        Row {
            form: "postfix LMTPS",
            header: "Received: from mx.our.example (mx.our.example [10.1.2.3])\n\tby store.our.example (Postfix) with LMTPS id 4WcY8zAKlMz9t3\n\tfor <bob@our.example>; Tue, 2 Jul 2024 12:00:02 +0200\n",
            helo: Some("mx.our.example"),
            rdns: Some("mx.our.example"),
            ip: Some("10.1.2.3"),
            forged: false,
            by: Some("store.our.example"),
            with: Some("LMTPS"),
            id: Some("4WcY8zAKlMz9t3"),
            for_: Some("bob@our.example"),
            date: Some("2024-07-02T12:00:02+02:00"),
            tls: W::NoDetails,
        },
        // ---- Exim (globals.c received_header_text, §3.4) ----
        Row {
            form: "exim <=4.92 OpenSSL (TLSv1.2:cipher:256), rdns + helo=",
            header: "Received: from mail.peer.example ([192.0.2.30] helo=mx.peer.example)\n\tby mx.our.example with esmtps (TLSv1.2:ECDHE-RSA-AES256-GCM-SHA384:256)\n\t(Exim 4.92)\n\t(envelope-from <news@peer.example>)\n\tid 1hXyZa-0001Ab-Cd\n\tfor judy@our.example; Wed, 03 Jul 2019 12:00:00 +0100\n",
            helo: Some("mx.peer.example"),
            rdns: Some("mail.peer.example"),
            ip: Some("192.0.2.30"),
            forged: false,
            by: Some("mx.our.example"),
            with: Some("esmtps"),
            id: Some("1hXyZa-0001Ab-Cd"),
            for_: Some("judy@our.example"),
            date: Some("2019-07-03T12:00:00+01:00"),
            tls: tls(
                Some("TLSv1.2"),
                Some("ECDHE-RSA-AES256-GCM-SHA384"),
                Some(256),
                None,
                None,
            ),
        },
        Row {
            form: "exim <=4.92 GnuTLS name, [ip]:port",
            header: "Received: from relay.peer.example ([198.51.100.31]:53422 helo=relay.peer.example)\n\tby mx.our.example with esmtps (TLS1.2:ECDHE_RSA_AES_256_GCM_SHA384:256)\n\t(Exim 4.92)\n\t(envelope-from <x@peer.example>)\n\tid 1hXz00-0002Bc-De; Wed, 03 Jul 2019 12:01:00 +0100\n",
            helo: Some("relay.peer.example"),
            rdns: Some("relay.peer.example"),
            ip: Some("198.51.100.31"),
            forged: false,
            by: Some("mx.our.example"),
            with: Some("esmtps"),
            id: Some("1hXz00-0002Bc-De"),
            for_: None,
            date: Some("2019-07-03T12:01:00+01:00"),
            tls: tls(
                Some("TLSv1.2"),
                Some("ECDHE_RSA_AES_256_GCM_SHA384"),
                Some(256),
                None,
                None,
            ),
        },
        Row {
            form: "exim GnuTLS TLS1.3 with 1.2-style name",
            header: "Received: from [203.0.113.32] (helo=gw.peer.example)\n\tby mx.our.example with esmtps (TLS1.3:ECDHE_RSA_AES_256_GCM_SHA384:256)\n\t(Exim 4.92)\n\t(envelope-from <y@peer.example>)\n\tid 1hXz01-0003Cd-Ef\n\tfor kim@our.example; Wed, 03 Jul 2019 12:02:00 +0100\n",
            helo: Some("gw.peer.example"),
            rdns: None,
            ip: Some("203.0.113.32"),
            forged: false,
            by: Some("mx.our.example"),
            with: Some("esmtps"),
            id: Some("1hXz01-0003Cd-Ef"),
            for_: Some("kim@our.example"),
            date: Some("2019-07-03T12:02:00+01:00"),
            tls: tls(
                Some("TLSv1.3"),
                Some("ECDHE_RSA_AES_256_GCM_SHA384"),
                Some(256),
                None,
                None,
            ),
        },
        Row {
            form: "exim GnuTLS desc cipher with __ (custom template keeping $tls_cipher)",
            header: "Received: from mx.peer.example ([192.0.2.33])\n\tby mx.our.example with esmtps (TLS1.3:ECDHE_SECP256R1__RSA_PSS_RSAE_SHA256__AES_256_GCM:256)\n\t(Exim 4.94.2)\n\tid 1kAbCd-0004De-Fg; Thu, 01 Oct 2020 07:00:00 +0000\n",
            helo: Some("mx.peer.example"),
            rdns: None,
            ip: Some("192.0.2.33"),
            forged: false,
            by: Some("mx.our.example"),
            with: Some("esmtps"),
            id: Some("1kAbCd-0004De-Fg"),
            for_: None,
            date: Some("2020-10-01T07:00:00+00:00"),
            tls: tls(
                Some("TLSv1.3"),
                Some("ECDHE_SECP256R1__RSA_PSS_RSAE_SHA256__AES_256_GCM"),
                Some(256),
                None,
                None,
            ),
        },
        Row {
            form: "exim 4.100 trailing key-exchange group",
            header: "Received: from mx.peer.example ([192.0.2.34] helo=mx.peer.example)\n\tby mx.our.example with esmtps (TLS1.3:TLS_AES_256_GCM_SHA384:256:X25519)\n\t(Exim 4.100)\n\tid 1tAbCd-00000000Xy1-2zAb; Mon, 05 Jan 2026 07:00:00 +0000\n",
            helo: Some("mx.peer.example"),
            rdns: Some("mx.peer.example"),
            ip: Some("192.0.2.34"),
            forged: false,
            by: Some("mx.our.example"),
            with: Some("esmtps"),
            id: Some("1tAbCd-00000000Xy1-2zAb"),
            for_: None,
            date: Some("2026-01-05T07:00:00+00:00"),
            tls: W::Tls {
                v: Some("TLSv1.3"),
                c: Some("TLS_AES_256_GCM_SHA384"),
                secret: Some(256),
                alg: None,
                verify: None,
                kx: Some("X25519"),
                cn: None,
                issuer: None,
            },
        },
        Row {
            form: "exim >=4.93 `with esmtps  (TLS1.3) tls CIPHER` two spaces",
            header: "Received: from mail.peer.example ([192.0.2.35]:41234 helo=mx.peer.example)\n\tby mx.our.example with esmtps  (TLS1.3) tls TLS_AES_256_GCM_SHA384\n\t(Exim 4.96)\n\t(envelope-from <z@peer.example>)\n\tid 1sDcIh-000000004YY-3wAT\n\tfor lee@our.example;\n\tThu, 04 Jul 2024 09:12:44 +0200\n",
            helo: Some("mx.peer.example"),
            rdns: Some("mail.peer.example"),
            ip: Some("192.0.2.35"),
            forged: false,
            by: Some("mx.our.example"),
            with: Some("esmtps"),
            id: Some("1sDcIh-000000004YY-3wAT"),
            for_: Some("lee@our.example"),
            date: Some("2024-07-04T09:12:44+02:00"),
            tls: tls(
                Some("TLSv1.3"),
                Some("TLS_AES_256_GCM_SHA384"),
                None,
                None,
                None,
            ),
        },
        Row {
            form: "exim 4.96 GnuTLS quirk IANA TLS1.2 name for TLS1.3, from [ip] (helo=), esmtpsa",
            header: "Received: from [198.51.100.36] (helo=laptop.home)\n\tby smtp.our.example with esmtpsa  (TLS1.3) tls TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\n\t(Exim 4.96)\n\t(envelope-from <mia@our.example>)\n\tid 1sDcJj-000000005ZZ-4xBU;\n\tThu, 04 Jul 2024 09:13:00 +0200\n",
            helo: Some("laptop.home"),
            rdns: None,
            ip: Some("198.51.100.36"),
            forged: false,
            by: Some("smtp.our.example"),
            with: Some("esmtpsa"),
            id: Some("1sDcJj-000000005ZZ-4xBU"),
            for_: None,
            date: Some("2024-07-04T09:13:00+02:00"),
            tls: tls(
                Some("TLSv1.3"),
                Some("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
                None,
                None,
                None,
            ),
        },
        Row {
            form: "exim plaintext esmtp, IPv6 bracket with port",
            header: "Received: from old.peer.example ([2001:db8::25]:33210 helo=old.peer.example)\n\tby mx.our.example with esmtp (Exim 4.97)\n\t(envelope-from <n@peer.example>)\n\tid 1sDcKk-000000006AA-5yCV\n\tfor nina@our.example; Thu, 04 Jul 2024 09:14:00 +0200\n",
            helo: Some("old.peer.example"),
            rdns: Some("old.peer.example"),
            ip: Some("2001:db8::25"),
            forged: false,
            by: Some("mx.our.example"),
            with: Some("esmtp"),
            id: Some("1sDcKk-000000006AA-5yCV"),
            for_: Some("nina@our.example"),
            date: Some("2024-07-04T09:14:00+02:00"),
            tls: W::Plain,
        },
        Row {
            form: "exim local submission",
            header: "Received: from oscar by host.our.example with local (Exim 4.96)\n\t(envelope-from <oscar@host.our.example>)\n\tid 1sDcLl-000000007BB-6zDW;\n\tThu, 04 Jul 2024 09:15:00 +0200\n",
            helo: Some("oscar"),
            rdns: None,
            ip: None,
            forged: false,
            by: Some("host.our.example"),
            with: Some("local"),
            id: Some("1sDcLl-000000007BB-6zDW"),
            for_: None,
            date: Some("2024-07-04T09:15:00+02:00"),
            tls: W::Unknown,
        },
        // ---- Gmail (observed, §4) ----
        Row {
            form: "gmail 2017+ for before group, TLS1_3 bits=256/256",
            header: "Received: from mail.peer.example (mail.peer.example. [192.0.2.41])\n        by mx.google.com with ESMTPS id a640c23a62f3a-a77c8f0e2b1si123456766b.512.2024.07.04.01.02.03\n        for <paul@gmail.example>\n        (version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384 bits=256/256);\n        Thu, 04 Jul 2024 01:02:03 -0700 (PDT)\n",
            helo: Some("mail.peer.example"),
            rdns: Some("mail.peer.example"),
            ip: Some("192.0.2.41"),
            forged: false,
            by: Some("mx.google.com"),
            with: Some("ESMTPS"),
            id: Some("a640c23a62f3a-a77c8f0e2b1si123456766b.512.2024.07.04.01.02.03"),
            for_: Some("paul@gmail.example"),
            date: Some("2024-07-04T01:02:03-07:00"),
            tls: tls(
                Some("TLSv1.3"),
                Some("TLS_AES_256_GCM_SHA384"),
                Some(256),
                Some(256),
                None,
            ),
        },
        Row {
            form: "gmail TLS1_2 with OpenSSL cipher name",
            header: "Received: from out.peer.example (out.peer.example. [198.51.100.42])\n        by mx.google.com with ESMTPS id m12si1234567qkb.321.2023.03.01.10.11.12\n        for <quinn@gmail.example>\n        (version=TLS1_2 cipher=ECDHE-RSA-AES128-GCM-SHA256 bits=128/128);\n        Wed, 01 Mar 2023 10:11:12 -0800 (PST)\n",
            helo: Some("out.peer.example"),
            rdns: Some("out.peer.example"),
            ip: Some("198.51.100.42"),
            forged: false,
            by: Some("mx.google.com"),
            with: Some("ESMTPS"),
            id: Some("m12si1234567qkb.321.2023.03.01.10.11.12"),
            for_: Some("quinn@gmail.example"),
            date: Some("2023-03-01T10:11:12-08:00"),
            tls: tls(
                Some("TLSv1.2"),
                Some("ECDHE-RSA-AES128-GCM-SHA256"),
                Some(128),
                Some(128),
                None,
            ),
        },
        Row {
            form: "gmail 2014-2016 version=TLSv1.2 group before date",
            header: "Received: from smtp.peer.example (smtp.peer.example. [203.0.113.43])\n        by mx.google.com with ESMTPS id k5si1234567wjf.12.2015.06.01.03.04.05\n        for <rita@gmail.example>\n        (version=TLSv1.2 cipher=ECDHE-RSA-AES128-GCM-SHA256 bits=128/128);\n        Mon, 01 Jun 2015 03:04:05 -0700 (PDT)\n",
            helo: Some("smtp.peer.example"),
            rdns: Some("smtp.peer.example"),
            ip: Some("203.0.113.43"),
            forged: false,
            by: Some("mx.google.com"),
            with: Some("ESMTPS"),
            id: Some("k5si1234567wjf.12.2015.06.01.03.04.05"),
            for_: Some("rita@gmail.example"),
            date: Some("2015-06-01T03:04:05-07:00"),
            tls: tls(
                Some("TLSv1.2"),
                Some("ECDHE-RSA-AES128-GCM-SHA256"),
                Some(128),
                Some(128),
                None,
            ),
        },
        Row {
            form: "gmail 2008-2016 cipher=OTHER",
            header: "Received: from relay.peer.example (relay.peer.example [192.0.2.44])\n        by mx.google.com with ESMTPS id 5si2345678yxd.46.2010.11.02.03.04.05\n        (version=TLSv1/SSLv3 cipher=OTHER);\n        Tue, 02 Nov 2010 03:04:05 -0700 (PDT)\n",
            helo: Some("relay.peer.example"),
            rdns: Some("relay.peer.example"),
            ip: Some("192.0.2.44"),
            forged: false,
            by: Some("mx.google.com"),
            with: Some("ESMTPS"),
            id: Some("5si2345678yxd.46.2010.11.02.03.04.05"),
            for_: None,
            date: Some("2010-11-02T03:04:05-07:00"),
            tls: tls(Some("TLSv1/SSLv3"), Some("OTHER"), None, None, None),
        },
        Row {
            form: "gmail submission from [helo literal] ([real ip]) ESMTPSA",
            header: "Received: from [192.168.1.2] ([203.0.113.7])\n        by smtp.gmail.com with ESMTPSA id d9443c01a7336-1fb0a1b2c3dsm1234567b3.12.2024.07.04.05.06.07\n        for <sam@peer.example>\n        (version=TLS1_3 cipher=TLS_AES_128_GCM_SHA256 bits=128/128);\n        Thu, 04 Jul 2024 05:06:07 -0700 (PDT)\n",
            helo: Some("[192.168.1.2]"),
            rdns: None,
            ip: Some("203.0.113.7"),
            forged: false,
            by: Some("smtp.gmail.com"),
            with: Some("ESMTPSA"),
            id: Some("d9443c01a7336-1fb0a1b2c3dsm1234567b3.12.2024.07.04.05.06.07"),
            for_: Some("sam@peer.example"),
            date: Some("2024-07-04T05:06:07-07:00"),
            tls: tls(
                Some("TLSv1.3"),
                Some("TLS_AES_128_GCM_SHA256"),
                Some(128),
                Some(128),
                None,
            ),
        },
        Row {
            form: "gmail internal `by <ipv6> with SMTP id`",
            header: "Received: by 2002:a05:6a10:9c4b:b0:4e1:4d2a:7f1c with SMTP id s11csp123456pxb;\n        Thu, 4 Jul 2024 01:02:04 -0700 (PDT)\n",
            helo: None,
            rdns: None,
            ip: None,
            forged: false,
            by: Some("2002:a05:6a10:9c4b:b0:4e1:4d2a:7f1c"),
            with: Some("SMTP"),
            id: Some("s11csp123456pxb"),
            for_: None,
            date: Some("2024-07-04T01:02:04-07:00"),
            tls: W::Plain,
        },
        // ---- Microsoft (observed, §4) ----
        Row {
            form: "M365 TLS1_2 folded between version= and cipher=, (ipv6) without brackets",
            header: "Received: from DM6PR11MB4567.namprd11.prod.outlook.com (2603:10b6:5:1c3::20)\r\n by BN6PR11MB1234.namprd11.prod.outlook.com (2603:10b6:404:8e::15) with\r\n Microsoft SMTP Server (version=TLS1_2,\r\n cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.7741.29; Thu, 4 Jul 2024\r\n 08:12:33 +0000\r\n",
            helo: Some("DM6PR11MB4567.namprd11.prod.outlook.com"),
            rdns: None,
            ip: Some("2603:10b6:5:1c3::20"),
            forged: false,
            by: Some("BN6PR11MB1234.namprd11.prod.outlook.com"),
            with: Some("Microsoft SMTP Server"),
            id: Some("15.20.7741.29"),
            for_: None,
            date: Some("2024-07-04T08:12:33+00:00"),
            tls: tls(
                Some("TLSv1.2"),
                Some("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
                None,
                None,
                None,
            ),
        },
        Row {
            form: "M365 TLS1_3 via Frontend Transport",
            header: "Received: from AM0PR02CA0001.eurprd02.prod.outlook.com (2603:10a6:208:3e::14)\r\n by AM9PR04MB8888.eurprd04.prod.outlook.com (2603:10a6:20b:40a::7) with\r\n Microsoft SMTP Server (version=TLS1_3, cipher=TLS_AES_256_GCM_SHA384) id\r\n 15.20.7741.20 via Frontend Transport; Thu, 4 Jul 2024 08:12:30 +0000\r\n",
            helo: Some("AM0PR02CA0001.eurprd02.prod.outlook.com"),
            rdns: None,
            ip: Some("2603:10a6:208:3e::14"),
            forged: false,
            by: Some("AM9PR04MB8888.eurprd04.prod.outlook.com"),
            with: Some("Microsoft SMTP Server"),
            id: Some("15.20.7741.20"),
            for_: None,
            date: Some("2024-07-04T08:12:30+00:00"),
            tls: tls(
                Some("TLSv1.3"),
                Some("TLS_AES_256_GCM_SHA384"),
                None,
                None,
                None,
            ),
        },
        Row {
            form: "EOP inbound (ipv4) in parentheses, [via Frontend Transport]",
            header: "Received: from mail.peer.example (192.0.2.45) by\r\n AM2PEPF0001C70F.mail.protection.outlook.com (10.167.16.236) with Microsoft\r\n SMTP Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id\r\n 15.20.7741.18 [via Frontend Transport]; Thu, 4 Jul 2024 08:12:20 +0000\r\n",
            helo: Some("mail.peer.example"),
            rdns: None,
            ip: Some("192.0.2.45"),
            forged: false,
            by: Some("AM2PEPF0001C70F.mail.protection.outlook.com"),
            with: Some("Microsoft SMTP Server"),
            id: Some("15.20.7741.18"),
            for_: None,
            date: Some("2024-07-04T08:12:20+00:00"),
            tls: tls(
                Some("TLSv1.2"),
                Some("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
                None,
                None,
                None,
            ),
        },
        Row {
            form: "Exchange without TLS group = plaintext",
            header: "Received: from EXCH01.corp.example (10.0.0.11) by EXCH02.corp.example\r\n (10.0.0.12) with Microsoft SMTP Server id 15.2.1258.12; Mon, 1 Jul 2024\r\n 10:00:00 +0200\r\n",
            helo: Some("EXCH01.corp.example"),
            rdns: None,
            ip: Some("10.0.0.11"),
            forged: false,
            by: Some("EXCH02.corp.example"),
            with: Some("Microsoft SMTP Server"),
            id: Some("15.2.1258.12"),
            for_: None,
            date: Some("2024-07-01T10:00:00+02:00"),
            tls: W::Plain,
        },
        Row {
            form: "Exchange 2013 (TLS)",
            header: "Received: from EXCH01.corp.example (10.0.0.11) by EXCH02.corp.example\r\n (10.0.0.12) with Microsoft SMTP Server (TLS) id 15.0.1497.42; Mon, 1 Jul 2024\r\n 10:00:01 +0200\r\n",
            helo: Some("EXCH01.corp.example"),
            rdns: None,
            ip: Some("10.0.0.11"),
            forged: false,
            by: Some("EXCH02.corp.example"),
            with: Some("Microsoft SMTP Server"),
            id: Some("15.0.1497.42"),
            for_: None,
            date: Some("2024-07-01T10:00:01+02:00"),
            tls: W::NoDetails,
        },
        Row {
            form: "Exchange link-local %zone",
            header: "Received: from EXCH01.corp.example ([fe80::1c2d:3e4f:5a6b:7c8d%3]) by\r\n EXCH02.corp.example ([fe80::9a:bc:de:f0%3]) with Microsoft SMTP Server\r\n (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384) id\r\n 15.1.2507.39; Mon, 1 Jul 2024 10:00:02 +0200\r\n",
            helo: Some("EXCH01.corp.example"),
            rdns: None,
            ip: Some("fe80::1c2d:3e4f:5a6b:7c8d"),
            forged: false,
            by: Some("EXCH02.corp.example"),
            with: Some("Microsoft SMTP Server"),
            id: Some("15.1.2507.39"),
            for_: None,
            date: Some("2024-07-01T10:00:02+02:00"),
            tls: tls(
                Some("TLSv1.2"),
                Some("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"),
                None,
                None,
                None,
            ),
        },
        Row {
            form: "Exchange mapi submission, (ipv6%zone) without brackets",
            header: "Received: from EXCH01.corp.example (fe80::1c2d:3e4f:5a6b:7c8d%5) by\r\n EXCH01.corp.example (fe80::1c2d:3e4f:5a6b:7c8d%5) with mapi id\r\n 15.01.2507.039; Mon, 1 Jul 2024 09:59:59 +0200\r\n",
            helo: Some("EXCH01.corp.example"),
            rdns: None,
            ip: Some("fe80::1c2d:3e4f:5a6b:7c8d"),
            forged: false,
            by: Some("EXCH01.corp.example"),
            with: Some("mapi"),
            id: Some("15.01.2507.039"),
            for_: None,
            date: Some("2024-07-01T09:59:59+02:00"),
            tls: W::Unknown,
        },
        // ---- Proofpoint, IronPort, Symantec, Strato, qmail, zmailer (observed, §4) ----
        Row {
            form: "Proofpoint PPS ESMTPS sendmail-style group",
            header: "Received: from mail.peer.example (mail.peer.example [192.0.2.50])\n\tby mx0a-00123456.pps.example (PPS) with ESMTPS id 46abcdefgh-1\n\t(version=TLSv1.2 cipher=ECDHE-RSA-AES256-GCM-SHA384 bits=256 verify=NOT)\n\tfor <tom@our.example>; Thu, 04 Jul 2024 04:00:00 -0400\n",
            helo: Some("mail.peer.example"),
            rdns: Some("mail.peer.example"),
            ip: Some("192.0.2.50"),
            forged: false,
            by: Some("mx0a-00123456.pps.example"),
            with: Some("ESMTPS"),
            id: Some("46abcdefgh-1"),
            for_: Some("tom@our.example"),
            date: Some("2024-07-04T04:00:00-04:00"),
            tls: tls(
                Some("TLSv1.2"),
                Some("ECDHE-RSA-AES256-GCM-SHA384"),
                Some(256),
                None,
                Some("NOT"),
            ),
        },
        Row {
            form: "Proofpoint older ESMTP + group verify=OK",
            header: "Received: from gw.peer.example (gw.peer.example [192.0.2.51])\n\tby mx0b-00123456.pps.example with ESMTP id 2abcdefg12-1\n\t(version=TLSv1.2 cipher=ECDHE-RSA-AES256-SHA384 bits=256 verify=OK);\n\tFri, 10 Mar 2017 06:07:08 -0500\n",
            helo: Some("gw.peer.example"),
            rdns: Some("gw.peer.example"),
            ip: Some("192.0.2.51"),
            forged: false,
            by: Some("mx0b-00123456.pps.example"),
            with: Some("ESMTP"),
            id: Some("2abcdefg12-1"),
            for_: None,
            date: Some("2017-03-10T06:07:08-05:00"),
            tls: tls(
                Some("TLSv1.2"),
                Some("ECDHE-RSA-AES256-SHA384"),
                Some(256),
                None,
                Some("OK"),
            ),
        },
        Row {
            form: "IronPort ESMTP/TLS/cipher, date without weekday",
            header: "Received: from mail.peer.example ([192.0.2.60])\n  by esa1.relay.example with ESMTP/TLS/ECDHE-RSA-AES256-GCM-SHA384; 04 Jul 2024 10:12:00 +0200\n",
            helo: Some("mail.peer.example"),
            rdns: None,
            ip: Some("192.0.2.60"),
            forged: false,
            by: Some("esa1.relay.example"),
            with: Some("ESMTP/TLS/ECDHE-RSA-AES256-GCM-SHA384"),
            id: None,
            for_: None,
            date: Some("2024-07-04T10:12:00+02:00"),
            tls: tls(None, Some("ECDHE-RSA-AES256-GCM-SHA384"), None, None, None),
        },
        Row {
            form: "IronPort from unknown (HELO x) ([ip]) plaintext",
            header: "Received: from unknown (HELO mail.peer.example) ([192.0.2.61])\n  by esa2.relay.example with ESMTP; 04 Jul 2024 10:13:00 +0200\n",
            helo: Some("mail.peer.example"),
            rdns: None,
            ip: Some("192.0.2.61"),
            forged: false,
            by: Some("esa2.relay.example"),
            with: Some("ESMTP"),
            id: None,
            for_: None,
            date: Some("2024-07-04T10:13:00+02:00"),
            tls: W::Plain,
        },
        Row {
            form: "Symantec Messaging Gateway: version `TLS`",
            header: "Received: from mail.peer.example (mail.peer.example [192.0.2.70])\n\t(using TLS with cipher ECDHE-RSA-AES256-SHA384 (256/256 bits))\n\t(Client did not present a certificate)\n\tby smg1.relay.example (Symantec Messaging Gateway) with SMTP id 5F.A1.12345.ABCDEF12; Thu, 4 Jul 2024 10:14:00 +0000\n",
            helo: Some("mail.peer.example"),
            rdns: Some("mail.peer.example"),
            ip: Some("192.0.2.70"),
            forged: false,
            by: Some("smg1.relay.example"),
            with: Some("SMTP"),
            id: Some("5F.A1.12345.ABCDEF12"),
            for_: None,
            date: Some("2024-07-04T10:14:00+00:00"),
            tls: tls(
                Some("TLS"),
                Some("ECDHE-RSA-AES256-SHA384"),
                Some(256),
                Some(256),
                Some("NO"),
            ),
        },
        Row {
            form: "Strato RZmta: one bits number, `from sender`",
            header: "Received: from sender\n\tby smtp.rzone.example (RZmta 50.5.0 AUTH)\n\twith ESMTPSA id a1b2c3d4e5f6g7\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256 bits))\n\t(Client did not present a certificate);\n\tThu, 4 Jul 2024 10:15:00 +0200 (CEST)\n",
            helo: Some("sender"),
            rdns: None,
            ip: None,
            forged: false,
            by: Some("smtp.rzone.example"),
            with: Some("ESMTPSA"),
            id: Some("a1b2c3d4e5f6g7"),
            for_: None,
            date: Some("2024-07-04T10:15:00+02:00"),
            tls: tls(
                Some("TLSv1.3"),
                Some("TLS_AES_256_GCM_SHA384"),
                Some(256),
                None,
                Some("NO"),
            ),
        },
        Row {
            form: "qmail comment-only stamp",
            header: "Received: (qmail 16493 invoked from network); 24 Sep 2008 10:20:32 -0000\n",
            helo: None,
            rdns: None,
            ip: None,
            forged: false,
            by: None,
            with: None,
            id: None,
            for_: None,
            date: Some("2008-09-24T10:20:32+00:00"),
            tls: W::Unknown,
        },
        Row {
            form: "qmail (HELO x) (ip without brackets)",
            header: "Received: from unknown (HELO deliver.peer.example) (192.168.20.70)\n  by mail.relay.example with SMTP; 24 Sep 2008 10:20:32 -0000\n",
            helo: Some("deliver.peer.example"),
            rdns: None,
            ip: Some("192.168.20.70"),
            forged: false,
            by: Some("mail.relay.example"),
            with: Some("SMTP"),
            id: None,
            for_: None,
            date: Some("2008-09-24T10:20:32+00:00"),
            tls: W::Plain,
        },
        Row {
            form: "zmailer \"EHLO x\" and (ORCPT <rfc822;…>) with ; inside a comment",
            header: "Received: from lists.peer.example ([192.0.2.80]:20948 \"EHLO\n\tlists.peer.example\") by list.relay.example with ESMTP id S1751126AbWE2QEQ\n\t(ORCPT <rfc822;list@relay.example>);\n\tMon, 29 May 2006 12:04:16 -0400\n",
            helo: Some("lists.peer.example"),
            rdns: Some("lists.peer.example"),
            ip: Some("192.0.2.80"),
            forged: false,
            by: Some("list.relay.example"),
            with: Some("ESMTP"),
            id: Some("S1751126AbWE2QEQ"),
            for_: None,
            date: Some("2006-05-29T12:04:16-04:00"),
            tls: W::Plain,
        },
        Row {
            form: "Courier (TLS: …,256bits,…), [::ffff:ipv4], id after the date",
            header: "Received: from mail-qk1-f77.peer.example (mail-qk1-f77.peer.example\n [::ffff:198.51.100.177]) (TLS: TLSv1/SSLv3,128bits,AES128-GCM-SHA256)\n by courier.relay.example with ESMTPS; Sun, 13 Oct 2019 18:59:51 -0500\n id 0000000000142524.000000005DA3BA77.00005B54\n",
            helo: Some("mail-qk1-f77.peer.example"),
            rdns: Some("mail-qk1-f77.peer.example"),
            ip: Some("198.51.100.177"),
            forged: false,
            by: Some("courier.relay.example"),
            with: Some("ESMTPS"),
            id: Some("0000000000142524.000000005DA3BA77.00005B54"),
            for_: None,
            date: Some("2019-10-13T18:59:51-05:00"),
            tls: tls(
                Some("TLSv1/SSLv3"),
                Some("AES128-GCM-SHA256"),
                Some(128),
                None,
                None,
            ),
        },
        Row {
            form: "smarthost `with smtp (TLS: …) id …;` name-only comment",
            header: "Received: from gw2-ext.peer.example (gw2-ext.peer.example) by smarthost.relay.example with smtp\n        (TLS: TLSv1.2,256bits,ECDHE-RSA-AES256-GCM-SHA384)\n         id 4e32_9550_2168e048_2739;\n        Tue, 27 Aug 2019 01:28:26 +0200\n",
            helo: Some("gw2-ext.peer.example"),
            rdns: Some("gw2-ext.peer.example"),
            ip: None,
            forged: false,
            by: Some("smarthost.relay.example"),
            with: Some("smtp"),
            id: Some("4e32_9550_2168e048_2739"),
            for_: None,
            date: Some("2019-08-27T01:28:26+02:00"),
            tls: tls(
                Some("TLSv1.2"),
                Some("ECDHE-RSA-AES256-GCM-SHA384"),
                Some(256),
                None,
                None,
            ),
        },
        Row {
            form: "qmail authenticated (user@ip), ESMTPA plaintext",
            header: "Received: from unknown (HELO laptop) (alice@198.51.100.33)\n  by mail.relay.example with ESMTPA; 27 Nov 2026 09:00:00 -0000\n",
            helo: Some("laptop"),
            rdns: None,
            ip: Some("198.51.100.33"),
            forged: false,
            by: Some("mail.relay.example"),
            with: Some("ESMTPA"),
            id: None,
            for_: None,
            date: Some("2026-11-27T09:00:00+00:00"),
            tls: W::Plain,
        },
        Row {
            form: "postfix 3.9 client RPK (raw public key: no verify word)",
            header: "Received: from rpk.peer.example (rpk.peer.example [192.0.2.95])\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\n\t key-exchange X25519 server-signature ED25519 server-digest SHA256\n\t client-signature ED25519 client-digest SHA256)\n\t(Client RPK sha256 digest 3F:8A:11:C1)\n\tby mx.our.example (Postfix) with ESMTPS id 4WcZ0a1BcDz9tA\n\tfor <rpk@our.example>; Thu, 4 Jul 2024 10:16:00 +0200\n",
            helo: Some("rpk.peer.example"),
            rdns: Some("rpk.peer.example"),
            ip: Some("192.0.2.95"),
            forged: false,
            by: Some("mx.our.example"),
            with: Some("ESMTPS"),
            id: Some("4WcZ0a1BcDz9tA"),
            for_: Some("rpk@our.example"),
            date: Some("2024-07-04T10:16:00+02:00"),
            tls: W::Tls {
                v: Some("TLSv1.3"),
                c: Some("TLS_AES_256_GCM_SHA384"),
                secret: Some(256),
                alg: Some(256),
                verify: None,
                kx: Some("X25519"),
                cn: None,
                issuer: None,
            },
        },
        Row {
            form: "qpsmtpd / qmail-tls `with (cipher encrypted) SMTP`",
            header: "Received: from ws7.peer.example (HELO ws7.peer.example) (10.0.0.7)\n by smtpd.relay.example (qpsmtpd/0.94) with (ECDHE-RSA-AES256-GCM-SHA384 encrypted) SMTP; Mon, 22 Apr 2019 17:02:48 -0400\n",
            helo: Some("ws7.peer.example"),
            rdns: Some("ws7.peer.example"),
            ip: Some("10.0.0.7"),
            forged: false,
            by: Some("smtpd.relay.example"),
            with: Some("SMTP"),
            id: None,
            for_: None,
            date: Some("2019-04-22T17:02:48-04:00"),
            tls: tls(None, Some("ECDHE-RSA-AES256-GCM-SHA384"), None, None, None),
        },
        Row {
            form: "IronPort ESMTP/TLS without a cipher",
            header: "Received: from mail.peer.example ([192.0.2.62])\n  by esa3.relay.example with ESMTP/TLS; 04 Jul 2024 10:14:00 +0200\n",
            helo: Some("mail.peer.example"),
            rdns: None,
            ip: Some("192.0.2.62"),
            forged: false,
            by: Some("esa3.relay.example"),
            with: Some("ESMTP/TLS"),
            id: None,
            for_: None,
            date: Some("2024-07-04T10:14:00+02:00"),
            tls: W::NoDetails,
        },
        Row {
            form: "gmail internal SMTPS (Google Transport Security)",
            header: "Received: from mail-sor-f69.google.example (mail-sor-f69.google.example. [209.85.220.69])\n        by mx.google.com with SMTPS id l6sor1234567pfe.12.2024.07.04.01.02.03\n        for <you@gmail.example>\n        (Google Transport Security);\n        Thu, 04 Jul 2024 01:02:03 -0700 (PDT)\n",
            helo: Some("mail-sor-f69.google.example"),
            rdns: Some("mail-sor-f69.google.example"),
            ip: Some("209.85.220.69"),
            forged: false,
            by: Some("mx.google.com"),
            with: Some("SMTPS"),
            id: Some("l6sor1234567pfe.12.2024.07.04.01.02.03"),
            for_: Some("you@gmail.example"),
            date: Some("2024-07-04T01:02:03-07:00"),
            tls: W::NoDetails,
        },
        Row {
            form: "no date at all",
            header: "Received: from a.peer.example (a.peer.example [192.0.2.90]) by mx.our.example with ESMTPS id Q1\n",
            helo: Some("a.peer.example"),
            rdns: Some("a.peer.example"),
            ip: Some("192.0.2.90"),
            forged: false,
            by: Some("mx.our.example"),
            with: Some("ESMTPS"),
            id: Some("Q1"),
            for_: None,
            date: S,
            tls: W::NoDetails,
        },
    ]
}

/// Real-world forms the first parser missed (issue 21: a corpus of real headers had
/// the TLS version and cipher right in 12 of 25), written here as whole headers.
fn real_world_rows() -> Vec<Row> {
    vec![
        Row {
            form: "exim 3 `with esmtp (Cipher TLSv1:DES-CBC3-SHA:168)` (was: plaintext)",
            header: "Received: from mail.oldpeer.example ([192.0.2.31] helo=mail.oldpeer.example)\n\tby mx.our.example with esmtp (Cipher TLSv1:DES-CBC3-SHA:168)\n\t(Exim 3.36 #1 (Debian))\n\tid 19aBcD-0001xY-00\n\tfor alice@our.example; Tue, 08 Jul 2003 14:02:11 +0200\n",
            helo: Some("mail.oldpeer.example"),
            rdns: Some("mail.oldpeer.example"),
            ip: Some("192.0.2.31"),
            forged: false,
            by: Some("mx.our.example"),
            with: Some("esmtp"),
            id: Some("19aBcD-0001xY-00"),
            for_: Some("alice@our.example"),
            date: Some("2003-07-08T14:02:11+02:00"),
            tls: tls(Some("TLSv1"), Some("DES-CBC3-SHA"), Some(168), None, None),
        },
        Row {
            form: "old GnuTLS exim `(TLS-1.0:DHE_RSA_3DES_EDE_CBC_SHA:24)`: key size in bytes",
            header: "Received: from smtp.gnupeer.example ([198.51.100.77])\n\tby mx.our.example with esmtps (TLS-1.0:DHE_RSA_3DES_EDE_CBC_SHA:24)\n\t(Exim 4.63)\n\t(envelope-from <news@gnupeer.example>)\n\tid 1HxQzR-0003Ab-Kk\n\tfor bob@our.example; Wed, 13 Jun 2007 09:41:27 +0100\n",
            helo: Some("smtp.gnupeer.example"),
            rdns: None,
            ip: Some("198.51.100.77"),
            forged: false,
            by: Some("mx.our.example"),
            with: Some("esmtps"),
            id: Some("1HxQzR-0003Ab-Kk"),
            for_: Some("bob@our.example"),
            date: Some("2007-06-13T09:41:27+01:00"),
            tls: tls(
                Some("TLSv1"),
                Some("DHE_RSA_3DES_EDE_CBC_SHA"),
                Some(192),
                None,
                None,
            ),
        },
        Row {
            form: "exim `with local-esmtps (tls_cipher TLS-1.0:RSA_AES_256_CBC_SHA:32)` (was: unknown)",
            header: "Received: from [192.0.2.140] (helo=laptop.our.example)\n\tby mx.our.example with local-esmtps (tls_cipher TLS-1.0:RSA_AES_256_CBC_SHA:32)\n\t(Exim 4.69)\n\t(envelope-from <carol@our.example>)\n\tid 1Kp3Zs-0000Qh-9T\n\tfor dave@our.example; Sat, 11 Oct 2008 18:22:03 +0200\n",
            helo: Some("laptop.our.example"),
            rdns: None,
            ip: Some("192.0.2.140"),
            forged: false,
            by: Some("mx.our.example"),
            with: Some("local-esmtps"),
            id: Some("1Kp3Zs-0000Qh-9T"),
            for_: Some("dave@our.example"),
            date: Some("2008-10-11T18:22:03+02:00"),
            tls: tls(
                Some("TLSv1"),
                Some("RSA_AES_256_CBC_SHA"),
                Some(256),
                None,
                None,
            ),
        },
        Row {
            form: "Courier `(AUTH: …, TLS: TLS1.3, 128bits, …)`, id after the date",
            header: "Received: from mail.courier.example (mail.courier.example [192.0.2.61])\n  (AUTH: PLAIN erin@courier.example, TLS: TLS1.3, 128bits, ECDHE_RSA_AES_128_GCM_SHA256)\n  by mx.our.example with ESMTPSA; Mon, 01 Jul 2024 10:11:12 +0000\n  id 00000000000B1234.000000006682819F.00003F2A\n",
            helo: Some("mail.courier.example"),
            rdns: Some("mail.courier.example"),
            ip: Some("192.0.2.61"),
            forged: false,
            by: Some("mx.our.example"),
            with: Some("ESMTPSA"),
            id: Some("00000000000B1234.000000006682819F.00003F2A"),
            for_: None,
            date: Some("2024-07-01T10:11:12+00:00"),
            tls: tls(
                Some("TLSv1.3"),
                Some("ECDHE_RSA_AES_128_GCM_SHA256"),
                Some(128),
                None,
                None,
            ),
        },
        Row {
            form: "Courier `(AUTH: LOGIN x, TLS: TLSv1.2,256bits,…)` without blanks",
            header: "Received: from relay.courier.example (relay.courier.example [198.51.100.12])\n  (AUTH: LOGIN frank, TLS: TLSv1.2,256bits,ECDHE-RSA-AES256-GCM-SHA384)\n  by mx.our.example with ESMTPSA; Tue, 02 Jul 2024 08:00:01 +0200\n  id 000000000002A1B2.0000000066839A11.00001C3D\n",
            helo: Some("relay.courier.example"),
            rdns: Some("relay.courier.example"),
            ip: Some("198.51.100.12"),
            forged: false,
            by: Some("mx.our.example"),
            with: Some("ESMTPSA"),
            id: Some("000000000002A1B2.0000000066839A11.00001C3D"),
            for_: None,
            date: Some("2024-07-02T08:00:01+02:00"),
            tls: tls(
                Some("TLSv1.2"),
                Some("ECDHE-RSA-AES256-GCM-SHA384"),
                Some(256),
                None,
                None,
            ),
        },
        Row {
            form: "MessageLabs `with AES256-GCM-SHA384 encrypted SMTP` (was: unknown)",
            header: "Received: from mail.symc.example (HELO mail.symc.example) (192.0.2.90)\n  by server-4.tower-412.messagelabs.example with AES256-GCM-SHA384 encrypted SMTP;\n  1 Jul 2024 10:20:30 -0000\n",
            helo: Some("mail.symc.example"),
            rdns: Some("mail.symc.example"),
            ip: Some("192.0.2.90"),
            forged: false,
            by: Some("server-4.tower-412.messagelabs.example"),
            with: Some("AES256-GCM-SHA384 encrypted SMTP"),
            id: None,
            for_: None,
            date: Some("2024-07-01T10:20:30+00:00"),
            tls: tls(None, Some("AES256-GCM-SHA384"), None, None, None),
        },
        Row {
            form: "postfix 3.4+ client-signature line, Client CN verified OK",
            header: "Received: from smtp.pf.example (smtp.pf.example [192.0.2.70])\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\n\t key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256\n\t client-signature ECDSA (P-256) client-digest SHA256)\n\t(Client CN \"smtp.pf.example\", Issuer \"R11\" (verified OK))\n\tby mx.our.example (Postfix) with ESMTPS id 4WCx1b2c3dz9vQ\n\tfor <grace@our.example>; Mon,  1 Jul 2024 11:00:00 +0000 (UTC)\n",
            helo: Some("smtp.pf.example"),
            rdns: Some("smtp.pf.example"),
            ip: Some("192.0.2.70"),
            forged: false,
            by: Some("mx.our.example"),
            with: Some("ESMTPS"),
            id: Some("4WCx1b2c3dz9vQ"),
            for_: Some("grace@our.example"),
            date: Some("2024-07-01T11:00:00+00:00"),
            tls: W::Tls {
                v: Some("TLSv1.3"),
                c: Some("TLS_AES_256_GCM_SHA384"),
                secret: Some(256),
                alg: Some(256),
                verify: Some("OK"),
                kx: Some("X25519"),
                cn: Some("smtp.pf.example"),
                issuer: Some("R11"),
            },
        },
    ]
}

#[test]
fn real_world_forms() {
    for row in &real_world_rows() {
        check(row);
    }
}

/// A stamp that names a cipher is never a plaintext hop, whatever its protocol word.
#[test]
fn a_named_cipher_is_never_plaintext() {
    let rows = [
        (
            "from a ([192.0.2.1]) by b with esmtp (Cipher TLSv1:DES-CBC3-SHA:168) id x",
            "DES-CBC3-SHA",
        ),
        (
            "from a ([192.0.2.1]) by b with smtp (SSL-3.0:RSA_ARCFOUR_SHA1:16) (Exim 4.50) id x",
            "RSA_ARCFOUR_SHA1",
        ),
        (
            "from a ([192.0.2.1]) by b with SMTP (tls_cipher TLS-1.2:ECDHE_RSA_AES_128_GCM_SHA256:16) id x",
            "ECDHE_RSA_AES_128_GCM_SHA256",
        ),
        (
            "from a (a [192.0.2.1]) (AUTH: LOGIN u, TLS: TLSv1,128bits,RC4-SHA) by b with ESMTPA",
            "RC4-SHA",
        ),
        (
            "from a (HELO a) (192.0.2.1) by b with RC4-SHA encrypted SMTP; 1 Jul 2024 10:20:30 -0000",
            "RC4-SHA",
        ),
        (
            "from a (a [192.0.2.1]) by b with ESMTP/TLS/DHE-RSA-AES256-SHA",
            "DHE-RSA-AES256-SHA",
        ),
    ];
    for (raw, cipher) in rows {
        let h = parse(raw).expect("hop");
        let HopTls::Tls(d) = &h.tls else {
            panic!("{raw}: {:?}", h.tls)
        };
        assert_eq!(d.cipher.as_ref().map(|c| c.as_str()), Some(cipher), "{raw}");
    }
    // The old GnuTLS bytes become bits; `SSL-3.0` is SSLv3, deprecated.
    let h = parse(rows[1].0).expect("hop");
    let HopTls::Tls(d) = h.tls else {
        panic!("not tls")
    };
    assert_eq!(d.bits.secret, Some(128));
    assert_eq!(d.version, Some(TlsVersion::Ssl3));
    // A label without a cipher string says nothing.
    let h = parse("from a ([192.0.2.1]) by b with esmtp (Cipher unknown) id x").expect("hop");
    assert_eq!(h.tls, HopTls::Plaintext);
}

fn check(row: &Row) {
    let fields = headers::received(row.header.as_bytes());
    assert_eq!(fields.len(), 1, "{}: header not found", row.form);
    let hop = match parse(&fields[0].value) {
        Ok(h) => h,
        Err(e) => panic!("{}: {e}", row.form),
    };
    let f = row.form;
    assert_eq!(hop.from_helo.as_deref(), row.helo, "{f}: helo");
    assert_eq!(hop.from_rdns.as_deref(), row.rdns, "{f}: rdns");
    assert_eq!(
        hop.from_ip,
        row.ip.map(|i| i.parse::<IpAddr>().expect("test ip")),
        "{f}: ip"
    );
    assert_eq!(hop.forged, row.forged, "{f}: forged");
    assert_eq!(hop.by.as_deref(), row.by, "{f}: by");
    assert_eq!(hop.with.as_deref(), row.with, "{f}: with");
    assert_eq!(hop.id.as_deref(), row.id, "{f}: id");
    assert_eq!(hop.for_.as_deref(), row.for_, "{f}: for");
    assert_eq!(
        hop.date.map(|d| d.to_rfc3339()),
        row.date.map(str::to_owned),
        "{f}: date"
    );
    match (&row.tls, &hop.tls) {
        (
            W::Tls {
                v,
                c,
                secret,
                alg,
                verify,
                kx,
                cn,
                issuer,
            },
            HopTls::Tls(d),
        ) => {
            assert_eq!(d.version.as_ref().map(|x| x.label()), *v, "{f}: version");
            assert_eq!(d.cipher.as_ref().map(|x| x.as_str()), *c, "{f}: cipher");
            assert_eq!(d.bits.secret, *secret, "{f}: secret bits");
            assert_eq!(d.bits.alg, *alg, "{f}: alg bits");
            assert_eq!(
                d.verify.as_ref().map(|x| x.as_str()),
                *verify,
                "{f}: verify"
            );
            assert_eq!(d.key_exchange.as_deref(), *kx, "{f}: key exchange");
            assert_eq!(d.client_cn.as_deref(), *cn, "{f}: client cn");
            assert_eq!(d.client_issuer.as_deref(), *issuer, "{f}: issuer");
        }
        (W::NoDetails, HopTls::TlsNoDetails)
        | (W::Plain, HopTls::Plaintext)
        | (W::Unknown, HopTls::Unknown) => {}
        (want, got) => panic!("{f}: tls: want {want:?}, got {got:?}"),
    }
}

#[test]
fn every_stamp_form() {
    let rows = rows();
    assert!(rows.len() >= 40, "only {} rows", rows.len());
    for row in &rows {
        check(row);
    }
}

#[test]
fn legacy_version_is_not_counted_as_old_protocol() {
    let h = parse("from a (a [192.0.2.1]) by b with ESMTP id x (version=TLSv1/SSLv3 cipher=DHE-RSA-AES256-SHA bits=256 verify=OK); Tue, 3 Mar 2009 14:22:10 -0800").expect("hop");
    let HopTls::Tls(d) = h.tls else {
        panic!("not tls")
    };
    assert_eq!(d.version, Some(TlsVersion::Legacy));
    assert_eq!(d.verify, Some(Verify::Ok));
}

#[test]
fn peer_prefers_rdns_then_ip_then_helo() {
    let rows = [
        (
            "from h (r.example [192.0.2.1]) by b",
            Some("r.example"),
            Some("192.0.2.1"),
        ),
        ("from h ([192.0.2.1]) by b", None, Some("192.0.2.1")),
        ("from h.example by b", Some("h.example"), None),
    ];
    for (raw, name, ip) in rows {
        let p = parse(raw).expect("hop").from_peer().expect("peer");
        assert_eq!(p.name.as_deref(), name, "{raw}");
        assert_eq!(p.ip.map(|i| i.to_string()).as_deref(), ip, "{raw}");
    }
    assert!(
        parse("by b with SMTP id 1; Thu, 4 Jul 2024 01:02:04 -0700")
            .expect("hop")
            .from_peer()
            .is_none()
    );
}

#[test]
fn locality() {
    // (hop, is_local, is_local_submission): a loopback SMTP sender is local, but not a
    // local submission, so `--loopback` keeps it.
    let rows = [
        (
            "from a (localhost [127.0.0.1]) by b with ESMTP",
            true,
            false,
        ),
        ("from a (localhost [IPv6:::1]) by b with ESMTP", true, false),
        (
            "(from u@localhost) by b id x; Mon, 1 Jul 2024 10:14:58 +0200",
            true,
            true,
        ),
        ("from u by b with local (Exim 4.96) id y", true, true),
        ("from a (a [192.0.2.1]) by b with ESMTP", false, false),
    ];
    for (raw, local, submission) in rows {
        let h = parse(raw).expect("hop");
        assert_eq!(h.is_local(), local, "{raw}");
        assert_eq!(h.is_local_submission(), submission, "{raw}");
    }
}

#[test]
fn dates_lenient() {
    let rows = [
        (
            "Tue, 20 Feb 2001 08:36:47 +0100 (CET)",
            Some("2001-02-20T08:36:47+01:00"),
        ),
        (
            "Tue,  2 Jul 2024 08:01:12 +0000 (UTC)",
            Some("2024-07-02T08:01:12+00:00"),
        ),
        (
            "24 Sep 2008 10:20:32 -0000",
            Some("2008-09-24T10:20:32+00:00"),
        ),
        (
            "Mon, 1 Jul 2024 10:00 +0200",
            Some("2024-07-01T10:00:00+02:00"),
        ),
        (
            "Mon, 1 Jul 2024 10:00:00 GMT",
            Some("2024-07-01T10:00:00+00:00"),
        ),
        (
            "Mon, 1 Jul 2024 10:00:00 EDT",
            Some("2024-07-01T10:00:00-04:00"),
        ),
        (
            "Mon, 1 Jul 24 10:00:00 +0200",
            Some("2024-07-01T10:00:00+02:00"),
        ),
        (
            "Thu, 4 Jul 2024\t 08:12:33 +0000",
            Some("2024-07-04T08:12:33+00:00"),
        ),
        (
            "2024-07-04 08:12:33 +0000",
            Some("2024-07-04T08:12:33+00:00"),
        ),
        ("Mon, 1 Jul 2024 10:00:00 CEST", None),
        ("not a date", None),
        ("", None),
    ];
    for (raw, want) in rows {
        assert_eq!(
            parse_date(raw).map(|d| d.to_rfc3339()).as_deref(),
            want,
            "{raw}"
        );
    }
}

#[test]
fn ip_spellings() {
    let rows = [
        ("[192.0.2.1]", Some("192.0.2.1")),
        ("192.0.2.1", Some("192.0.2.1")),
        ("[192.0.2.1]:25", Some("192.0.2.1")),
        ("192.0.2.1:25", Some("192.0.2.1")),
        ("[IPv6:2001:db8::1]", Some("2001:db8::1")),
        ("[2001:db8::1]:587", Some("2001:db8::1")),
        ("[fe80::1%3]", Some("fe80::1")),
        ("fe80::1%eth0", Some("fe80::1")),
        ("2603:10b6:404:8e::15", Some("2603:10b6:404:8e::15")),
        ("[::ffff:192.0.2.7]", Some("192.0.2.7")),
        ("mail.example", None),
        ("[]", None),
    ];
    for (raw, want) in rows {
        assert_eq!(
            parse_ip(raw).map(|i| i.to_string()).as_deref(),
            want,
            "{raw}"
        );
    }
}

#[test]
fn broken_values_are_malformed_or_partial_never_panic() {
    // Nothing readable at all.
    assert!(parse("").is_err());
    assert!(parse("   ").is_err());
    assert!(parse("garbage without structure").is_err());
    // Unterminated TLS comment: the date is still found and TLS details still read.
    let h = parse("from a (a [192.0.2.1]) by b with ESMTPS id q (using TLSv1.2 with cipher X (256/256 bits); Mon, 1 Jul 2024 10:00:00 +0200").expect("partial hop");
    assert_eq!(h.by.as_deref(), Some("b"));
    assert!(h.date.is_some());
    assert!(h.tls.is_tls());
    // Keywords without values.
    let h = parse("from by with id for").expect("odd hop");
    assert_eq!(h.from_helo.as_deref(), Some("by"));
    // Stray brackets and parentheses.
    for raw in [
        "from [ by ] with ( ; x",
        "from a (((( by b",
        "from a )))) by b; Mon, 1 Jul 2024 10:00:00 +0200",
        "from a ([ by b with ESMTP; Mon, 1 Jul 2024 10:00:00 +0200",
        "(version=",
        "(TLS1.2:::)",
        "(using)",
        "(Client CN \")",
        "with ESMTP/TLS/",
    ] {
        let _ = parse(raw);
    }
}

#[test]
fn twenty_hops_in_order() {
    let mut block = String::new();
    for i in (1..=20).rev() {
        // Top = newest: hop 20 was stamped last, by the host that received from hop 19.
        block.push_str(&format!(
            "Received: from relay{prev}.peer.example (relay{prev}.peer.example [192.0.2.{prev}])\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\n\t key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256)\n\t(No client certificate requested)\n\tby relay{i}.peer.example (Postfix) with ESMTPS id Q{i:02}\n\tfor <z@our.example>; Thu, 4 Jul 2024 10:{i:02}:00 +0000\n",
            prev = i - 1
        ));
    }
    block.push_str("Subject: twenty\n\nbody\n");
    let fields = headers::received(block.as_bytes());
    assert_eq!(fields.len(), 20);
    for (k, f) in fields.iter().enumerate() {
        let i = 20 - k;
        let h = parse(&f.value).expect("hop");
        assert_eq!(
            h.by.as_deref(),
            Some(format!("relay{i}.peer.example").as_str())
        );
        assert_eq!(h.id.as_deref(), Some(format!("Q{i:02}").as_str()));
        assert_eq!(
            h.from_ip.map(|x| x.to_string()),
            Some(format!("192.0.2.{}", i - 1))
        );
        assert_eq!(f.line, (k * 6) as u64);
        let HopTls::Tls(d) = &h.tls else {
            panic!("hop {i} not tls")
        };
        // Postfix's "(No client certificate requested)": NO, as its log's Anonymous.
        assert_eq!(d.verify, Some(Verify::No));
        assert_eq!(d.key_exchange.as_deref(), Some("X25519"));
    }
}

mod prop {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(s in ".{0,300}") {
            let _ = parse(&s);
            let _ = parse_date(&s);
            let _ = parse_ip(&s);
        }

        /// The ASCII word splitter cuts exactly where the std splitter does, Unicode
        /// blanks (no-break space, NEL, ideographic space) and the vertical tab included.
        #[test]
        fn words_split_like_split_whitespace(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("from"), Just("a.example"), Just(" "), Just("\t"), Just("\r\n"),
                    Just("\u{0B}"), Just("\u{0C}"), Just("\u{A0}"), Just("\u{85}"),
                    Just("\u{3000}"), Just("é"), Just("(x)"), Just(""), Just("\u{1C}"),
                ],
                0..12,
            )
        ) {
            let s = parts.concat();
            let ours: Vec<&str> = words(&s).collect();
            let std: Vec<&str> = s.split_whitespace().collect();
            prop_assert_eq!(ours, std, "{:?}", s);
            prop_assert_eq!(has_blank(&s), s.contains(char::is_whitespace), "{:?}", s);
        }

        /// The one-word probe of a `from` comment agrees with asking the splitter for a
        /// first and a second word, Unicode blanks and the vertical tab included.
        #[test]
        fn only_word_is_two_nexts(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("a.example"), Just("[192.0.2.1]"), Just(" "), Just("\t"),
                    Just("\r\n"), Just("\u{0B}"), Just("\u{0C}"), Just("\u{A0}"),
                    Just("\u{85}"), Just("\u{3000}"), Just("é"), Just(""), Just("\u{1C}"),
                ],
                0..8,
            )
        ) {
            let s = parts.concat();
            let mut probe = words(&s);
            let old = match (probe.next(), probe.next()) {
                (Some(only), None) => Some(only),
                _ => None,
            };
            let new = only_word(&s, words(&s));
            prop_assert_eq!(new, old, "{:?}", s);
            // The same span of `s`, not an equal word elsewhere.
            if let (Some(n), Some(o)) = (new, old) {
                prop_assert_eq!(n.as_ptr(), o.as_ptr());
            }
        }

        /// The `y`-led search for `may be forged` finds what the `memmem` searcher it
        /// replaced found (the first, leftmost phrase), with phrases that overlap, are
        /// cut short, or stand at either end, `y`s elsewhere and non-ASCII text around.
        #[test]
        fn find_forged_is_memmem(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("may be forged"), Just("may be forge"), Just("ay be forged"),
                    Just("may"), Just(" be forged"), Just("y"), Just("m"), Just("("),
                    Just(")"), Just(" "), Just("é"), Just("mail.y.example"), Just("mmay"),
                ],
                0..10,
            )
        ) {
            let s = parts.concat();
            let old = memchr::memmem::Finder::new(FORGED).find(s.as_bytes());
            prop_assert_eq!(find_forged(&s), old, "{:?}", s);
        }

        /// The byte-level trims and splits of the address reader cut exactly where std's
        /// char-pattern ones do, Unicode blanks, quotes and non-ASCII ends included.
        #[test]
        fn byte_trims_are_std(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("\""), Just(" "), Just("\t"), Just("\u{0B}"), Just("\u{A0}"),
                    Just("\u{85}"), Just("\u{3000}"), Just("\u{1C}"), Just("é"), Just("a"),
                    Just("@"), Just(":"), Just("%"), Just("]"), Just("1.2"), Just(""),
                ],
                0..8,
            )
        ) {
            let s = parts.concat();
            prop_assert_eq!(super::super::trim_quoted(&s), s.trim().trim_matches('"'), "{:?}", s);
            prop_assert_eq!(super::super::unquote(&s), s.trim_matches('"'), "{:?}", s);
            for c in [b'@', b':'] {
                prop_assert_eq!(super::super::rsplit_byte(&s, c), s.rsplit_once(char::from(c)));
            }
            for c in [b']', b'%'] {
                prop_assert_eq!(
                    super::super::before_byte(&s, c),
                    s.split(char::from(c)).next().unwrap_or(&s)
                );
            }
        }

        /// The blank trim by bytes gives what std's `trim` gives, and the end-byte trims
        /// what `trim_end_matches` gives: ASCII and Unicode blanks at either end, text
        /// that is all blanks, non-ASCII ends.
        #[test]
        fn trim_blanks_is_trim(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just(" "), Just("\t"), Just("\r\n"), Just("\u{0B}"), Just("\u{0C}"),
                    Just("\u{A0}"), Just("\u{85}"), Just("\u{3000}"), Just("\u{1C}"),
                    Just("é"), Just("a"), Just("."), Just(","), Just("from x"), Just(""),
                ],
                0..10,
            )
        ) {
            let s = parts.concat();
            prop_assert_eq!(super::super::trim_blanks(&s), s.trim(), "{:?}", s);
            prop_assert_eq!(
                super::super::trim_end_byte(&s, b'.'),
                s.trim_end_matches('.'),
                "{:?}",
                s
            );
            prop_assert_eq!(
                super::super::strip_angle(&s),
                {
                    let w = s.trim_end_matches([',', '.']);
                    w.strip_prefix('<').and_then(|x| x.strip_suffix('>')).unwrap_or(w)
                },
                "{:?}",
                s
            );
        }

        /// The byte splitters of the TLS readers cut where std's char-pattern splitters
        /// cut, with non-ASCII text, empty pieces and separators at the ends.
        #[test]
        fn byte_splits_are_std(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just(" "), Just("\t"), Just(","), Just("/"), Just("="), Just("é"),
                    Just("\u{A0}"), Just("version"), Just("TLS1_2"), Just(""), Just("ESMTP"),
                ],
                0..10,
            )
        ) {
            let s = parts.concat();
            let ours: Vec<&str> =
                super::super::split_ascii_by(&s, |b| matches!(b, b' ' | b'\t' | b',')).collect();
            let std: Vec<&str> = s.split([' ', '\t', ',']).collect();
            prop_assert_eq!(ours, std, "{:?}", s);
            let ours: Vec<&str> = super::super::split_ascii_by(&s, |b| b == b'/').collect();
            let std: Vec<&str> = s.split('/').collect();
            prop_assert_eq!(ours, std, "{:?}", s);
            prop_assert_eq!(super::super::split_once_byte(&s, b'='), s.split_once('='));
        }

        /// The quick refusal of names never refuses an address: `parse_ip` reads what
        /// the full reader reads, for names, addresses and near-addresses alike.
        #[test]
        fn parse_ip_is_the_full_reader(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("["), Just("]"), Just("\""), Just(" "), Just("\u{A0}"), Just("1"),
                    Just("192.0.2.1"), Just("10.0.0"), Just(".7"), Just(":"), Just(":25"),
                    Just("IPv6:"), Just("ipv6:"), Just("2001:db8::1"), Just("::ffff:"),
                    Just("%3"), Just("fe80::1"), Just("mail.example"), Just("a"), Just("@"),
                    Just("x@"), Just("unknown"), Just("ab"), Just("-"),
                    Just("0"), Just("01"), Just("255"), Just("256"), Just("."),
                    Just("1.2.3.4"), Just("0.0.0.0"),
                ],
                0..8,
            )
        ) {
            let s = parts.concat();
            prop_assert_eq!(parse_ip(&s), super::super::parse_ip_full(&s), "{:?}", s);
        }

        /// The remembered date is `parse_date`'s whatever the order of the texts: repeats,
        /// a text after a different one, empty and unreadable texts.
        #[test]
        fn date_again_is_parse_date(
            texts in proptest::collection::vec(
                prop_oneof![
                    Just(""), Just("20 Nov 2026 00:00:26 +0000"),
                    Just("Fri, 20 Nov 2026 00:00:26 +0000"), Just("20 Nov 2026 00:00:27 +0000"),
                    Just("20 Nov 2026 00:00:26 +0100 (CET)"), Just("not a date"),
                    Just("20 Nov 2026 00:00:26"), Just(" 20 Nov 2026 00:00:26 +0000"),
                    Just("\t20 Nov 2026 00:00:26 +0000"), Just("\r\n 20 Nov 2026 00:00:26 +0000"),
                    Just(" \u{a0}20 Nov 2026 00:00:26 +0000"), Just("\u{a0}20 Nov 2026 00:00:26 +0000"),
                    Just("20 Nov 2026 00:00:26 +0000 "), Just(" "), Just("\x0b20 Nov 2026 00:00:26 +0000"),
                ],
                0..12,
            )
        ) {
            for t in texts {
                prop_assert_eq!(super::super::parse_date_again(t), parse_date(t), "{:?}", t);
            }
        }

        /// Every address the plain IPv6 reader of `parse_ip` accepts is std's, with the
        /// same groups; `Display`'s and the fully written forms of any address (but an
        /// IPv4-mapped one, written dotted) are all accepted.
        #[test]
        fn plain_v6_is_std(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("0"), Just("1"), Just("ff"), Just("FFFF"), Just("12345"), Just("abc"),
                    Just(":"), Just("::"), Just(":::"), Just("."), Just("1.2.3.4"), Just("g"),
                    Just("%"), Just("2603:10a6:10:1::224"), Just("fe80::1"),
                ],
                0..10,
            ),
            bits in any::<u128>(),
            zeros in proptest::collection::vec(prop_oneof![Just(0u16), any::<u16>()], 8),
        ) {
            let s = parts.concat();
            if let Some(a) = super::super::plain_v6(&s) {
                prop_assert_eq!(Ok(a), s.parse::<std::net::Ipv6Addr>(), "{:?}", s);
            }
            let mut seg = [0u16; 8];
            seg.copy_from_slice(&zeros);
            for ip in [std::net::Ipv6Addr::from(bits), std::net::Ipv6Addr::from(seg)] {
                let full = ip.segments().map(|g| format!("{g:x}")).join(":");
                prop_assert_eq!(super::super::plain_v6(&full), Some(ip), "{}", full);
                if ip.to_ipv4_mapped().is_none() {
                    let shown = ip.to_string();
                    prop_assert_eq!(super::super::plain_v6(&shown), Some(ip), "{}", shown);
                }
            }
        }

        /// The dotted-quad reader `parse_ip` shares with the log parsers
        /// (`crate::parse::dotted_quad`) accepts exactly what std's IPv4 reader
        /// accepts (leading zeros, parts over 255 or over three digits, missing or extra
        /// parts, signs and blanks refused), with the same address.
        #[test]
        fn dotted_quad_is_std(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("0"), Just("00"), Just("1"), Just("9"), Just("25"), Just("255"),
                    Just("256"), Just("01"), Just("1000"), Just("199"), Just("."),
                    Just(".."), Just("a"), Just(" "), Just("+1"), Just("\u{661}"),
                ],
                0..10,
            ),
            quad in "[0-9]{1,4}(\\.[0-9]{1,4}){0,4}",
        ) {
            for s in [parts.concat(), quad] {
                let std = s.parse::<std::net::Ipv4Addr>().ok();
                prop_assert_eq!(crate::parse::dotted_quad(s.as_bytes()), std, "{:?}", s);
            }
        }

        /// The first-letter gate of `offer` turns away only comments no reader takes:
        /// with and without it the collector ends the same and says the same.
        #[test]
        fn offer_gate_changes_nothing(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("using"), Just("TLSv1.3"), Just("with cipher"), Just("ECDHE-RSA-AES128-GCM-SHA256"),
                    Just("(128/128 bits)"), Just("version=TLS1_2,"), Just("cipher=X"), Just("bits=256"),
                    Just("verify=NOT"), Just("Client CN \"a\", Issuer \"b\" (verified OK)"),
                    Just("No client certificate requested"), Just("client did not present"),
                    Just("client RPK"), Just("TLS:"), Just("AUTH: LOGIN a,"), Just("tls:"),
                    Just("TLS1.2:ECDHE_RSA_AES_256_GCM_SHA384:256"), Just("TLS-1.0:RSA:32"),
                    Just("SSLv3"), Just("TLS"), Just("tls"), Just("encrypted"), Just("Cipher"),
                    Just("tls_cipher"), Just("Exim 4.97"), Just("Postfix"), Just("envelope-from"),
                    Just("<a@b>"), Just("mail.example"), Just("[192.0.2.1]"), Just("may be forged"),
                    Just(" "), Just("\t"), Just(","), Just("\u{A0}"), Just("é"), Just("x"),
                ],
                0..8,
            )
        ) {
            let c = parts.join(" ");
            for c in [c.as_str(), parts.concat().as_str()] {
                let mut gated = super::super::TlsCollector::default();
                let mut full = super::super::TlsCollector::default();
                let a = gated.offer(c);
                let b = full.read(c.trim());
                prop_assert_eq!(a, b, "{:?}", c);
                prop_assert_eq!(format!("{gated:?}"), format!("{full:?}"), "{:?}", c);
            }
        }

        #[test]
        fn arbitrary_bytes_through_headers_never_panic(b in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = headers::block_end(&b);
            for f in headers::received(&b) {
                let _ = parse(&f.value);
            }
        }

        #[test]
        fn stamp_like_text_never_panics(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("from"), Just("by"), Just("with"), Just("id"), Just("for"), Just(";"),
                    Just("("), Just(")"), Just("["), Just("]"), Just("\""), Just("tls"),
                    Just("ESMTPS"), Just("version=TLS1_2,"), Just("bits=256/"), Just("TLS1.3:"),
                    Just("using"), Just("with cipher"), Just("(256/256 bits)"), Just("helo="),
                    Just("[IPv6:2001:db8::1"), Just("%3"), Just("Client CN \"x\""), Just("\t "),
                ],
                0..40,
            )
        ) {
            let s = parts.join(" ");
            let _ = parse(&s);
        }
    }
}
