use super::*;

/// `init=1` and a daemon start are evidence that TLS is up (or about to be re-read): events,
/// not errors, so a downgrade window can close on them.
#[test]
fn tls_ready_and_daemon_start() {
    check(vec![
        (
            "STARTTLS=server, init=1",
            Parsed::Event(EventKind::TlsReady {
                direction: Some(IN),
            }),
        ),
        (
            "STARTTLS=client, init=1",
            Parsed::Event(EventKind::TlsReady {
                direction: Some(OUT),
            }),
        ),
        (
            "starting daemon (8.17.1.9): SMTP+queueing@00:10:00",
            Parsed::Event(EventKind::DaemonStart {
                version: Some("8.17.1.9".into()),
            }),
        ),
        (
            "starting daemon (8.18.1): SMTP+queueing@00:30:00",
            Parsed::Event(EventKind::DaemonStart {
                version: Some("8.18.1".into()),
            }),
        ),
    ]);
}

#[test]
fn irrelevant_lines() {
    for line in [
        "",
        "AUTH=server, relay=client.peer.example [192.0.2.5], authid=alice, mech=PLAIN, bits=0",
        "AUTH=client, relay=smarthost.example, mech=PLAIN, bits=0",
        "alias database /etc/mail/aliases rebuilt by root",
        "/etc/mail/aliases: 42 aliases, longest 30 bytes, 900 bytes total",
        "l65DnTLe028546: Milter: connect to filters",
        "l65DnTLe028546: milter=clamav, action=data, continue",
        "l65DnTLe028546: Milter add: header: X-Virus-Scanned: clamav-milter 1.0.3",
        "NOQUEUE: connect from client.peer.example [192.0.2.5]",
        "STARTTLS=server, init=2",
        // Information at LogLevel > 12/13, not errors (issue 18): an option not set, and
        // the per-certificate verification detail (its outcome is the summary's verify=).
        "STARTTLS: CRLFile missing",
        "STARTTLS=client, SSL_shutdown failed: -1",
        "STARTTLS=server, SSL_shutdown not done",
        "STARTTLS: ServerCertFile missing",
        "STARTTLS: CACertPath missing",
        "STARTTLS: TLS cert verify: depth=0 /CN=mx.peer.example, state=0, reason=self signed certificate",
        "STARTTLS: X509 cert verify: depth=1 /C=US/O=Example CA, state=0, reason=unable to get local issuer certificate",
        "STARTTLS: TLS cert verify: depth=0 /CN=client.example.test, state=1, reason=ok",
        "STARTTLS=server, cert-subject=/CN=vm.example.test, cert-issuer=/CN=mailtls+20test+20CA, verifymsg=ok",
        "STARTTLS=server, Diffie-Hellman init, key=2048 bit (P)",
        "STARTTLS=server, cert-subject=/CN=client.peer.example, cert-issuer=/C=US/O=Let's+20Encrypt/CN=R3, verifymsg=ok",
        "[1]: STARTTLS=client, cert-subject=/C=DE/O=Example+20GmbH/CN=mx.peer.example, cert-issuer=/C=US/O=DigiCert+20Inc/CN=DigiCert+20TLS+20RSA+20SHA256+202020+20CA1, ...",
        "STARTTLS=client, relay=mx.peer.example., AltName=mx.peer.example",
        "STARTTLS=client, relay=mx.peer.example., tlsstate=1, status=trying_again",
        "STARTTLS=server, get_verify: 0 get_peer: 0x0",
        "STARTTLS=client, start=ok",
        "STARTTLS=init, FIPSMode=ok",
        "STARTTLS=server, SSL_MODE_AUTO_RETRY=set, mode=0x4",
        "STARTTLS=client, SSL_dane_enable=1, domain=mx.dane.example",
        "STARTTLS=client, SSL_dane_tlsa_add=1, type=3-1-1, fp=6A1F0C93",
        "STARTTLS: SSL_accept:SSLv3 read client hello A",
        "STARTTLS: info_callback where=0x2001, ret=1",
        "tls_srv_features=empty, stat=0, relay=client.peer.example [192.0.2.5]",
        "tls_clt_features=\"cipherlist=HIGH\", relay=mx.peer.example [192.0.2.20]",
        "DANE_depth=0, DANE_res=1, SSL_get0_dane_tlsa=0, fp=6A1F, status=matched_EE_certificate",
        "SSL_CTX_dane_enable=1",
        "STARTTLSX=server, relay=x",
    ] {
        assert_eq!(parse(line), Parsed::Irrelevant, "line: {line}");
    }
}

#[test]
fn malformed_lines() {
    for line in [
        "STARTTLS=server, relay=x.peer.example [192.0.2.1], version=",
        "STARTTLS=client, relay=mx.peer.example., version=TLSv1.2, verify=OK, cipher=AES256-SHA",
        "STARTTLS=client, relay=mx.peer.example., version=TLSv1.2, verify=OK, cipher=AES256-SHA, bits=abc",
        "STARTTLS=server, relay=[192.0.2.1]",
        "STARTTLS=init, relay=local, version=TLSv1.2, verify=OK, cipher=AES256-SHA, bits=256/256",
        "from=<alice@peer.example>, size=2345, class=0, nrcpts=1, proto=ESMTPS, relay=mail.peer.example [192.0.2.10]",
        "to=<bob@peer.example>, mailer=esmtp, stat=Sent",
        "l65DnTLe028546: to=<bob@peer.example>, delay=00:00:01, xdelay=00:00:01, mailer=esmtp",
        "ruleset=tls_server, arg1=SOFTWARE, relay=mx.peer.example",
        "ruleset=tls_server",
        "ruleset=tls_client, arg2=MAIL, reject=403 4.7.0 x",
    ] {
        assert!(
            matches!(parse(line), Parsed::Malformed(_)),
            "line: {line} gave {:?}",
            parse(line)
        );
        assert!(
            crate::parse::prefilter::may_matter(line.as_bytes()),
            "the prefilter would drop: {line}"
        );
    }
}
