use super::*;

/// §1.2: the summary line, 8.12 → 8.18, every relay form.
#[test]
fn starttls_summary_lines() {
    use TlsVersion as V;
    check(vec![
        // 8.12–8.14: the legacy cipher-family label.
        (
            "STARTTLS=server, relay=mail.peer.example [192.0.2.10], version=TLSv1/SSLv3, verify=NOT, cipher=DHE-RSA-AES256-SHA, bits=256/256",
            tls(
                IN,
                ni("mail.peer.example", "192.0.2.10"),
                V::Legacy,
                "DHE-RSA-AES256-SHA",
                256,
                256,
                Verify::Not,
            ),
        ),
        (
            "STARTTLS=client, relay=mx1.peer.example., version=TLSv1/SSLv3, verify=FAIL, cipher=DHE-RSA-AES256-GCM-SHA384, bits=256/256",
            tls(
                OUT,
                n("mx1.peer.example"),
                V::Legacy,
                "DHE-RSA-AES256-GCM-SHA384",
                256,
                256,
                Verify::Fail,
            ),
        ),
        // 3DES: sendmail writes alg/secret = 168/112.
        (
            "STARTTLS=client, relay=old-mx.peer.example., version=TLSv1, verify=FAIL, cipher=EDH-RSA-DES-CBC3-SHA, bits=168/112",
            tls(
                OUT,
                n("old-mx.peer.example"),
                V::Tls1_0,
                "EDH-RSA-DES-CBC3-SHA",
                168,
                112,
                Verify::Fail,
            ),
        ),
        // 8.14 built against OpenSSL 1.1: the cipher's minimum protocol.
        (
            "STARTTLS=server, relay=legacy.peer.example [192.0.2.11], version=SSLv3, verify=NO, cipher=AES128-SHA, bits=128/128",
            tls(
                IN,
                ni("legacy.peer.example", "192.0.2.11"),
                V::Ssl3,
                "AES128-SHA",
                128,
                128,
                Verify::No,
            ),
        ),
        // address only (no reverse DNS)
        (
            "STARTTLS=server, relay=[203.0.113.7], version=TLSv1.2, verify=NO, cipher=ECDHE-RSA-AES128-GCM-SHA256, bits=128/128",
            tls(
                IN,
                i("203.0.113.7"),
                V::Tls1_2,
                "ECDHE-RSA-AES128-GCM-SHA256",
                128,
                128,
                Verify::No,
            ),
        ),
        // may be forged
        (
            "STARTTLS=server, relay=dsl-77.isp.example [198.51.100.77] (may be forged), version=TLSv1, verify=NOT, cipher=AES128-SHA, bits=128/128",
            tls(
                IN,
                p(Some("dsl-77.isp.example"), Some("198.51.100.77"), true),
                V::Tls1_0,
                "AES128-SHA",
                128,
                128,
                Verify::Not,
            ),
        ),
        // IPv6 compressed and uncompressed
        (
            "STARTTLS=server, relay=mail6.peer.example [IPv6:2001:db8::25], version=TLSv1.3, verify=NOT, cipher=TLS_AES_256_GCM_SHA384, bits=256/256",
            tls(
                IN,
                ni("mail6.peer.example", "2001:db8::25"),
                V::Tls1_3,
                "TLS_AES_256_GCM_SHA384",
                256,
                256,
                Verify::Not,
            ),
        ),
        (
            "STARTTLS=server, relay=gw.peer.example [IPv6:2001:db8:400c:c08:0:0:0:1b], version=TLSv1.2, verify=NOT, cipher=ECDHE-ECDSA-AES256-GCM-SHA384, bits=256/256",
            tls(
                IN,
                ni("gw.peer.example", "2001:db8:400c:c08::1b"),
                V::Tls1_2,
                "ECDHE-ECDSA-AES256-GCM-SHA384",
                256,
                256,
                Verify::Not,
            ),
        ),
        (
            "STARTTLS=server, relay=[IPv6:2001:db8::77], version=TLSv1.3, verify=NOT, cipher=TLS_AES_128_GCM_SHA256, bits=128/128",
            tls(
                IN,
                i("2001:db8::77"),
                V::Tls1_3,
                "TLS_AES_128_GCM_SHA256",
                128,
                128,
                Verify::Not,
            ),
        ),
        // ident@name [addr]
        (
            "STARTTLS=server, relay=smmsp@relay.peer.example [192.0.2.44], version=TLSv1.2, verify=OK, cipher=ECDHE-RSA-AES256-GCM-SHA384, bits=256/256",
            tls(
                IN,
                ni("relay.peer.example", "192.0.2.44"),
                V::Tls1_2,
                "ECDHE-RSA-AES256-GCM-SHA384",
                256,
                256,
                Verify::Ok,
            ),
        ),
        // client: smart host without dot, address literal
        (
            "STARTTLS=client, relay=smarthost.example, version=TLSv1.2, verify=OK, cipher=ECDHE-RSA-AES256-GCM-SHA384, bits=256/256",
            tls(
                OUT,
                n("smarthost.example"),
                V::Tls1_2,
                "ECDHE-RSA-AES256-GCM-SHA384",
                256,
                256,
                Verify::Ok,
            ),
        ),
        (
            "STARTTLS=client, relay=[127.0.0.1], version=TLSv1.3, verify=FAIL, cipher=TLS_AES_256_GCM_SHA384, bits=256/256",
            tls(
                OUT,
                i("127.0.0.1"),
                V::Tls1_3,
                "TLS_AES_256_GCM_SHA384",
                256,
                256,
                Verify::Fail,
            ),
        ),
        // 8.15+: UNKNOWN when SSL_get_version() is NULL
        (
            "STARTTLS=client, relay=mx2.peer.example., version=UNKNOWN, verify=FAIL, cipher=AES256-SHA, bits=256/256",
            tls(
                OUT,
                n("mx2.peer.example"),
                V::Other("UNKNOWN".into()),
                "AES256-SHA",
                256,
                256,
                Verify::Fail,
            ),
        ),
        // 8.16/8.17.1 DANE: pubkey_fp suffix
        (
            "STARTTLS=client, relay=mx.dane.example., version=TLSv1.2, verify=DANE_FAIL, cipher=ECDHE-RSA-AES256-GCM-SHA384, bits=256/256, pubkey_fp=6A:1F:0C:93:5E:22:71:AB",
            tls(
                OUT,
                n("mx.dane.example"),
                V::Tls1_2,
                "ECDHE-RSA-AES256-GCM-SHA384",
                256,
                256,
                Verify::DaneFail,
            ),
        ),
        (
            "STARTTLS=client, relay=mx.dane.example., version=TLSv1.3, verify=TRUSTED, cipher=TLS_AES_256_GCM_SHA384, bits=256/256",
            tls(
                OUT,
                n("mx.dane.example"),
                V::Tls1_3,
                "TLS_AES_256_GCM_SHA384",
                256,
                256,
                Verify::Trusted,
            ),
        ),
        // 8.17.2: status glued to bits without a comma
        (
            "STARTTLS=client, relay=mx.unsup.example., version=TLSv1.3, verify=FAIL, cipher=TLS_AES_256_GCM_SHA384, bits=256/256status=all TLSA RRs are unsupported",
            tls(
                OUT,
                n("mx.unsup.example"),
                V::Tls1_3,
                "TLS_AES_256_GCM_SHA384",
                256,
                256,
                Verify::Fail,
            ),
        ),
        // 8.18: comma-separated suffixes
        (
            "STARTTLS=client, relay=mx.unsup.example., version=TLSv1.3, verify=FAIL, cipher=TLS_AES_256_GCM_SHA384, bits=256/256, status=all TLSA RRs are unsupported",
            tls(
                OUT,
                n("mx.unsup.example"),
                V::Tls1_3,
                "TLS_AES_256_GCM_SHA384",
                256,
                256,
                Verify::Fail,
            ),
        ),
        (
            "STARTTLS=client, relay=mx.many.example., version=TLSv1.2, verify=DANE_FAIL, cipher=ECDHE-RSA-AES128-GCM-SHA256, bits=128/128, pubkey_fp=0B:7E:44, note=too many TLSA RRs",
            tls(
                OUT,
                n("mx.many.example"),
                V::Tls1_2,
                "ECDHE-RSA-AES128-GCM-SHA256",
                128,
                128,
                Verify::DaneFail,
            ),
        ),
        // queue id before STARTTLS= (one FreeBSD host) and split-line piece prefixes
        (
            "2A1820LG031423: STARTTLS=server, relay=mail.peer.example [192.0.2.10], version=TLSv1.2, verify=NOT, cipher=ECDHE-RSA-AES256-GCM-SHA384, bits=256/256",
            tls(
                IN,
                ni("mail.peer.example", "192.0.2.10"),
                V::Tls1_2,
                "ECDHE-RSA-AES256-GCM-SHA384",
                256,
                256,
                Verify::Not,
            ),
        ),
        (
            "[1]: STARTTLS=server, relay=mail.peer.example [192.0.2.10], version=TLSv1.2, verify=NOT, cipher=ECDHE-RSA-AES256-GCM-SHA384, bits=256/256",
            tls(
                IN,
                ni("mail.peer.example", "192.0.2.10"),
                V::Tls1_2,
                "ECDHE-RSA-AES256-GCM-SHA384",
                256,
                256,
                Verify::Not,
            ),
        ),
        (
            "l65DnTLe028546[2]: STARTTLS=client, relay=mx1.peer.example., version=TLSv1.2, verify=OK, cipher=AES256-GCM-SHA384, bits=256/256 ...",
            tls(
                OUT,
                n("mx1.peer.example"),
                V::Tls1_2,
                "AES256-GCM-SHA384",
                256,
                256,
                Verify::Ok,
            ),
        ),
        // relay cut at 100 characters: the closing bracket is lost
        (
            "STARTTLS=server, relay=a-rather-long-host-name-for-testing.customer-pool.dynamic.isp.example [IPv6:2001:db8:40, version=TLSv1.2, verify=NOT, cipher=ECDHE-RSA-AES256-GCM-SHA384, bits=256/256",
            tls(
                IN,
                n("a-rather-long-host-name-for-testing.customer-pool.dynamic.isp.example"),
                V::Tls1_2,
                "ECDHE-RSA-AES256-GCM-SHA384",
                256,
                256,
                Verify::Not,
            ),
        ),
        // a peer named `unknown` (no name) and `local` (host NULL in tls_get_info)
        (
            "STARTTLS=server, relay=unknown [192.0.2.200], version=TLSv1.2, verify=NOT, cipher=AES128-GCM-SHA256, bits=128/128",
            tls(
                IN,
                i("192.0.2.200"),
                V::Tls1_2,
                "AES128-GCM-SHA256",
                128,
                128,
                Verify::Not,
            ),
        ),
    ]);
}
