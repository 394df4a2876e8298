use super::*;

/// §1.3 error lines.
#[test]
fn error_lines() {
    use TlsErrorKind as K;
    check(vec![
        // keys and certificates
        (
            "STARTTLS=server, error: SSL_CTX_use_PrivateKey_file(/etc/mail/certs/servername-key.pem) failed",
            err(
                Some(IN),
                None,
                K::PrivateKey,
                "SSL_CTX_use_PrivateKey_file(/etc/mail/certs/servername-key.pem) failed",
            ),
        ),
        (
            "STARTTLS=client, error: SSL_CTX_use_PrivateKey_file(/etc/mail/certs/host.key) failed",
            err(
                Some(OUT),
                None,
                K::PrivateKey,
                "SSL_CTX_use_PrivateKey_file(/etc/mail/certs/host.key) failed",
            ),
        ),
        (
            "STARTTLS=server, error: SSL_use_PrivateKey_file(/etc/mail/certs/alt.key) failed",
            err(
                Some(IN),
                None,
                K::PrivateKey,
                "SSL_use_PrivateKey_file(/etc/mail/certs/alt.key) failed",
            ),
        ),
        (
            "STARTTLS=server, error: SSL_check_private_key failed(/etc/mail/certs/alt.key): 0",
            err(
                Some(IN),
                None,
                K::PrivateKey,
                "SSL_check_private_key failed(/etc/mail/certs/alt.key): 0",
            ),
        ),
        (
            "STARTTLS=server, error: SSL_CTX_check_private_key failed(/etc/mail/certs/host.key): 0",
            err(
                Some(IN),
                None,
                K::PrivateKey,
                "SSL_CTX_check_private_key failed(/etc/mail/certs/host.key): 0",
            ),
        ),
        (
            "STARTTLS=server, error: SSL_CTX_use_certificate_file(/etc/mail/certs/host.crt) failed",
            err(
                Some(IN),
                None,
                K::Certificate,
                "SSL_CTX_use_certificate_file(/etc/mail/certs/host.crt) failed",
            ),
        ),
        (
            "STARTTLS=server, error: SSL_CTX_use_certificate_chain_file(/etc/mail/certs/chain.pem) failed",
            err(
                Some(IN),
                None,
                K::Certificate,
                "SSL_CTX_use_certificate_chain_file(/etc/mail/certs/chain.pem) failed",
            ),
        ),
        // CA locations, CRLs
        (
            "STARTTLS=client, error: load verify locs /etc/mail/certs, /etc/mail/certs/CAcert.pem failed: 0",
            err(
                Some(OUT),
                None,
                K::CaLocations,
                "load verify locs /etc/mail/certs, /etc/mail/certs/CAcert.pem failed: 0",
            ),
        ),
        (
            "STARTTLS=server, error: X509_LOOKUP_add_dir(/etc/mail/crls)=failed",
            err(
                Some(IN),
                None,
                K::CaLocations,
                "X509_LOOKUP_add_dir(/etc/mail/crls)=failed",
            ),
        ),
        (
            "STARTTLS=server, error: BIO_read_filename(/etc/mail/certs/revoked.crl)=failed",
            err(
                Some(IN),
                None,
                K::CaLocations,
                "BIO_read_filename(/etc/mail/certs/revoked.crl)=failed",
            ),
        ),
        (
            "STARTTLS=server, error: X509_STORE_add_crl=failed",
            err(Some(IN), None, K::CaLocations, "X509_STORE_add_crl=failed"),
        ),
        // unsafe / missing files
        (
            "STARTTLS=server: file /etc/mail/tls/mx-key.pem unsafe: No such file or directory",
            err(
                Some(IN),
                None,
                K::MissingFile,
                "STARTTLS=server: file /etc/mail/tls/mx-key.pem unsafe: No such file or directory",
            ),
        ),
        // OpenSSL dumps that name the key's pass phrase, or the peer's alert about our
        // certificate
        (
            "STARTTLS=server: 40D7A1C2B27F0000:error:1608010C:STORE routines:ossl_store_handle_load_result:unsupported:../crypto/store/store_result.c:151:",
            err(
                Some(IN),
                None,
                K::Library,
                "STARTTLS=server: 40D7A1C2B27F0000:error:1608010C:STORE routines:ossl_store_handle_load_result:unsupported:../crypto/store/store_result.c:151:",
            ),
        ),
        (
            "STARTTLS=server: 40D7A1C2B27F0000:error:0480006D:PEM routines:PEM_do_header:bad password read:../crypto/pem/pem_lib.c:467:",
            err(
                Some(IN),
                None,
                K::PrivateKey,
                "STARTTLS=server: 40D7A1C2B27F0000:error:0480006D:PEM routines:PEM_do_header:bad password read:../crypto/pem/pem_lib.c:467:",
            ),
        ),
        (
            "STARTTLS=client: 140737:error:0A000412:SSL routines::sslv3 alert bad certificate:ssl/record/rec_layer_s3.c:1584:SSL alert number 42",
            err(
                Some(OUT),
                None,
                K::CertificateRejected,
                "STARTTLS=client: 140737:error:0A000412:SSL routines::sslv3 alert bad certificate:ssl/record/rec_layer_s3.c:1584:SSL alert number 42",
            ),
        ),
        (
            "STARTTLS=server: file /etc/mail/certs/host.key unsafe: Group readable file",
            err(
                Some(IN),
                None,
                K::UnsafeFile,
                "STARTTLS=server: file /etc/mail/certs/host.key unsafe: Group readable file",
            ),
        ),
        (
            "STARTTLS: RandFile /etc/mail/randseed too old: unsafe",
            err(
                None,
                None,
                K::UnsafeFile,
                "STARTTLS: RandFile /etc/mail/randseed too old: unsafe",
            ),
        ),
        (
            "STARTTLS: size(/etc/mail/randseed) < 1024: unusable",
            err(
                None,
                None,
                K::UnsafeFile,
                "STARTTLS: size(/etc/mail/randseed) < 1024: unusable",
            ),
        ),
        // cipher configuration: a list OpenSSL refuses is ignored and TLS goes on with its
        // defaults (tls.c; the real `cipher_bad` capture)
        (
            "STARTTLS=server, error: SSL_CTX_set_cipher_list(HIGH:!aNULL:BOGUS) failed, list ignored",
            err(
                Some(IN),
                None,
                K::CipherIgnored,
                "SSL_CTX_set_cipher_list(HIGH:!aNULL:BOGUS) failed, list ignored",
            ),
        ),
        (
            "STARTTLS=client, error: SSL_CTX_set_ciphersuites(TLS_NOPE) failed, suites ignored",
            err(
                Some(OUT),
                None,
                K::CipherIgnored,
                "SSL_CTX_set_ciphersuites(TLS_NOPE) failed, suites ignored",
            ),
        ),
        (
            "STARTTLS=server, error: illegal value 'x' for DHParam",
            err(
                Some(IN),
                None,
                K::CipherConfig,
                "illegal value 'x' for DHParam",
            ),
        ),
        (
            "STARTTLS=server, error: illegal value '5x' for DHParameters",
            err(
                Some(IN),
                None,
                K::CipherConfig,
                "illegal value '5x' for DHParameters",
            ),
        ),
        (
            "STARTTLS=server, EC_KEY_new_by_curve_name(NID_X9_62_prime256v1)=failed, error=error:10067066:elliptic curve routines",
            err(
                Some(IN),
                None,
                K::CipherConfig,
                "STARTTLS=server, EC_KEY_new_by_curve_name(NID_X9_62_prime256v1)=failed, error=error:10067066:elliptic curve routines",
            ),
        ),
        (
            "tls_srv_features=invalid_syntax, opt=cipherlist, relay=client.peer.example [192.0.2.9]",
            err(
                Some(IN),
                Some(ni("client.peer.example", "192.0.2.9")),
                K::CipherConfig,
                "tls_srv_features=invalid_syntax, opt=cipherlist, relay=client.peer.example [192.0.2.9]",
            ),
        ),
        (
            "rscheck(tls_clt_features)=failed, relay=mx.peer.example [192.0.2.20], errors=1",
            err(
                Some(OUT),
                Some(ni("mx.peer.example", "192.0.2.20")),
                K::CipherConfig,
                "rscheck(tls_clt_features)=failed, relay=mx.peer.example [192.0.2.20], errors=1",
            ),
        ),
        // initialisation
        (
            "STARTTLS=server, error: SSL_CTX_new(SSLv23_server_method()) failed",
            err(
                Some(IN),
                None,
                K::Init,
                "SSL_CTX_new(SSLv23_server_method()) failed",
            ),
        ),
        (
            "STARTTLS=server, engine=pkcs11, TLS_set_engine=failed",
            err(
                Some(IN),
                None,
                K::Init,
                "STARTTLS=server, engine=pkcs11, TLS_set_engine=failed",
            ),
        ),
        (
            "STARTTLS=init, engine=pkcs11, TLS_set_engine=failed",
            err(
                None,
                None,
                K::Init,
                "STARTTLS=init, engine=pkcs11, TLS_set_engine=failed",
            ),
        ),
        (
            "STARTTLS=client, SSL_set_engine=failed",
            err(
                Some(OUT),
                None,
                K::Init,
                "STARTTLS=client, SSL_set_engine=failed",
            ),
        ),
        (
            "STARTTLS: RAND_load_file(/etc/mail/randseed) failed: random number generator not seeded",
            err(
                None,
                None,
                K::Init,
                "STARTTLS: RAND_load_file(/etc/mail/randseed) failed: random number generator not seeded",
            ),
        ),
        (
            "STARTTLS=server, init=0",
            err(Some(IN), None, K::Init, "STARTTLS=server, init=0"),
        ),
        (
            "smtps: TLS not available, exiting",
            err(Some(IN), None, K::Init, "smtps: TLS not available, exiting"),
        ),
        // handshakes, 8.12 → 8.18
        (
            "STARTTLS=server, error: accept failed=0, SSL_error=5, timedout=0, errno=0",
            err(
                Some(IN),
                None,
                K::Handshake,
                "accept failed=0, SSL_error=5, timedout=0, errno=0",
            ),
        ),
        (
            "STARTTLS=client, error: connect failed=-1, SSL_error=1, timedout=0, errno=0",
            err(
                Some(OUT),
                None,
                K::Handshake,
                "connect failed=-1, SSL_error=1, timedout=0, errno=0",
            ),
        ),
        (
            "STARTTLS=server, error: accept failed=-1, SSL_error=1, errno=0, retry=-1",
            err(
                Some(IN),
                None,
                K::Handshake,
                "accept failed=-1, SSL_error=1, errno=0, retry=-1",
            ),
        ),
        (
            "STARTTLS=client, error: connect failed=-1, SSL_error=5, errno=104, retry=-1",
            err(
                Some(OUT),
                None,
                K::Handshake,
                "connect failed=-1, SSL_error=5, errno=104, retry=-1",
            ),
        ),
        (
            "STARTTLS=server, error: accept failed=-1, reason=no shared cipher, SSL_error=1, errno=0, retry=-1, relay=scanner.peer.example [192.0.2.66]",
            err(
                Some(IN),
                Some(ni("scanner.peer.example", "192.0.2.66")),
                K::Handshake,
                "accept failed=-1, reason=no shared cipher, SSL_error=1, errno=0, retry=-1, relay=scanner.peer.example [192.0.2.66]",
            ),
        ),
        // The client sent an alert about our certificate: the peer refused *our*
        // certificate (here an expired one), not a plain handshake failure.
        (
            "STARTTLS=server, error: accept failed=-1, reason=sslv3 alert certificate expired, SSL_error=1, errno=0, retry=-1, relay=mail-yw1-f170.google.com [209.85.128.170]",
            err(
                Some(IN),
                Some(ni("mail-yw1-f170.google.com", "209.85.128.170")),
                K::CertificateRejected,
                "accept failed=-1, reason=sslv3 alert certificate expired, SSL_error=1, errno=0, retry=-1, relay=mail-yw1-f170.google.com [209.85.128.170]",
            ),
        ),
        (
            "STARTTLS=server, error: accept failed=0, reason=unknown, SSL_error=5, errno=0, retry=-1, relay=dyn.isp.example [198.51.100.3] (may be forged)",
            err(
                Some(IN),
                Some(p(Some("dyn.isp.example"), Some("198.51.100.3"), true)),
                K::Handshake,
                "accept failed=0, reason=unknown, SSL_error=5, errno=0, retry=-1, relay=dyn.isp.example [198.51.100.3] (may be forged)",
            ),
        ),
        (
            "STARTTLS=server, error: accept failed=-1, reason=unsupported protocol, SSL_error=1, errno=0, retry=-1, relay=[IPv6:2001:db8::66]",
            err(
                Some(IN),
                Some(i("2001:db8::66")),
                K::Handshake,
                "accept failed=-1, reason=unsupported protocol, SSL_error=1, errno=0, retry=-1, relay=[IPv6:2001:db8::66]",
            ),
        ),
        (
            "STARTTLS=client, error: connect failed=-1, reason=wrong version number, SSL_error=1, errno=0, retry=-1",
            err(
                Some(OUT),
                None,
                K::Handshake,
                "connect failed=-1, reason=wrong version number, SSL_error=1, errno=0, retry=-1",
            ),
        ),
        (
            "STARTTLS: SSL_accept:failed in SSLv3 read client hello B",
            err(
                None,
                None,
                K::Handshake,
                "STARTTLS: SSL_accept:failed in SSLv3 read client hello B",
            ),
        ),
        (
            "STARTTLS: SSL_connect:error in error",
            err(
                None,
                None,
                K::Handshake,
                "STARTTLS: SSL_connect:error in error",
            ),
        ),
        (
            "STARTTLS: SSL3 alert write:fatal:handshake failure",
            err(
                None,
                None,
                K::Handshake,
                "STARTTLS: SSL3 alert write:fatal:handshake failure",
            ),
        ),
        // I/O after the handshake, every variant
        (
            "STARTTLS: read error=timeout",
            err(None, None, K::Io, "STARTTLS: read error=timeout"),
        ),
        (
            "STARTTLS: write error=timeout",
            err(None, None, K::Io, "STARTTLS: write error=timeout"),
        ),
        (
            "STARTTLS: read error=syscall error (-1)",
            err(None, None, K::Io, "STARTTLS: read error=syscall error (-1)"),
        ),
        (
            "STARTTLS: read error=syscall error (-1), errno=104, get_error=error:00000000:lib(0):func(0):reason(0), retry=99, ssl_err=5",
            err(
                None,
                None,
                K::Io,
                "STARTTLS: read error=syscall error (-1), errno=104, get_error=error:00000000:lib(0):func(0):reason(0), retry=99, ssl_err=5",
            ),
        ),
        (
            "STARTTLS: read error=generic SSL error (-1), retry=99, ssl_err=1",
            err(
                None,
                None,
                K::Io,
                "STARTTLS: read error=generic SSL error (-1), retry=99, ssl_err=1",
            ),
        ),
        (
            "STARTTLS: write error=generic SSL error (-1), errno=32, retry=99, ssl_err=1",
            err(
                None,
                None,
                K::Io,
                "STARTTLS: write error=generic SSL error (-1), errno=32, retry=99, ssl_err=1",
            ),
        ),
        // certificate verification
        (
            "STARTTLS=client, relay=mx.peer.example., field=cn_subject, status=failed to extract CN",
            err(
                Some(OUT),
                Some(n("mx.peer.example")),
                K::CertVerify,
                "STARTTLS=client, relay=mx.peer.example., field=cn_subject, status=failed to extract CN",
            ),
        ),
        // OpenSSL error-queue dumps (≥ 8.16, ≤ 8.15 with thread id, OpenSSL 3)
        (
            "STARTTLS=server: error:1408A0C1:SSL routines:ssl3_get_client_hello:no shared cipher:s3_srvr.c:1417:",
            err(
                Some(IN),
                None,
                K::Library,
                "STARTTLS=server: error:1408A0C1:SSL routines:ssl3_get_client_hello:no shared cipher:s3_srvr.c:1417:",
            ),
        ),
        (
            "STARTTLS=client: 139701234567:error:14090086:SSL routines:ssl3_get_server_certificate:certificate verify failed:s3_clnt.c:1269:",
            err(
                Some(OUT),
                None,
                K::Library,
                "STARTTLS=client: 139701234567:error:14090086:SSL routines:ssl3_get_server_certificate:certificate verify failed:s3_clnt.c:1269:",
            ),
        ),
        (
            "STARTTLS=read: error:0A000126:SSL routines::unexpected eof while reading:ssl/record/rec_layer_s3.c:308:",
            err(
                None,
                None,
                K::Library,
                "STARTTLS=read: error:0A000126:SSL routines::unexpected eof while reading:ssl/record/rec_layer_s3.c:308:",
            ),
        ),
        // shutdown
        // DANE
        (
            "STARTTLS=client, relay=mx.dane.example., warning=DANE configured in DNS but STARTTLS failed",
            err(
                Some(OUT),
                Some(n("mx.dane.example")),
                K::Dane,
                "STARTTLS=client, relay=mx.dane.example., warning=DANE configured in DNS but STARTTLS failed",
            ),
        ),
        (
            "STARTTLS=client, relay=mx.dane.example., warning=DANE configured in DNS but STARTTLS not offered",
            err(
                Some(OUT),
                Some(n("mx.dane.example")),
                K::Dane,
                "STARTTLS=client, relay=mx.dane.example., warning=DANE configured in DNS but STARTTLS not offered",
            ),
        ),
        (
            "TLSA=_25._tcp.mx.dane.example, len=2, status=bogus",
            err(
                Some(OUT),
                None,
                K::Dane,
                "TLSA=_25._tcp.mx.dane.example, len=2, status=bogus",
            ),
        ),
        (
            "TLSA=_25._tcp.mx.dane.example, type=1-0-1:ab, status=unsupported",
            err(
                Some(OUT),
                None,
                K::Dane,
                "TLSA=_25._tcp.mx.dane.example, type=1-0-1:ab, status=unsupported",
            ),
        ),
        (
            "STARTTLS=client, SSL_dane_enable=-1",
            err(
                Some(OUT),
                None,
                K::Dane,
                "STARTTLS=client, SSL_dane_enable=-1",
            ),
        ),
        // other
        (
            "SMTP STARTTLS command (STARTTLS) from client.peer.example [192.0.2.5] tempfailed (due to previous checks)",
            err(
                Some(IN),
                Some(ni("client.peer.example", "192.0.2.5")),
                K::Other,
                "SMTP STARTTLS command (STARTTLS) from client.peer.example [192.0.2.5] tempfailed (due to previous checks)",
            ),
        ),
        (
            "STARTTLS=server, error: fd 1025/1024 too large",
            err(Some(IN), None, K::Other, "fd 1025/1024 too large"),
        ),
        (
            "[ID 702911 mail.warning] STARTTLS=server, error: SSL_CTX_use_PrivateKey_file(/etc/mail/certs/host.key) failed",
            err(
                Some(IN),
                None,
                K::PrivateKey,
                "SSL_CTX_use_PrivateKey_file(/etc/mail/certs/host.key) failed",
            ),
        ),
        (
            "STARTTLS=client, host=mx.peer.example, ssl_dane_enable=-22",
            err(
                Some(OUT),
                Some(n("mx.peer.example")),
                K::Dane,
                "STARTTLS=client, host=mx.peer.example, ssl_dane_enable=-22",
            ),
        ),
        (
            "STARTTLS=client, SSL_dane_tlsa_add=-1, type=3-1-1, fp=6A1F0C93",
            err(
                Some(OUT),
                None,
                K::Dane,
                "STARTTLS=client, SSL_dane_tlsa_add=-1, type=3-1-1, fp=6A1F0C93",
            ),
        ),
        (
            "STARTTLS=init, CertFingerprintAlgorithm=sha3-999, status=invalid",
            err(
                None,
                None,
                K::CipherConfig,
                "STARTTLS=init, CertFingerprintAlgorithm=sha3-999, status=invalid",
            ),
        ),
        (
            "STARTTLS=client, relay=mx.peer.example., X509_digest=0, CertFingerprintAlgorithm=md5",
            err(
                Some(OUT),
                Some(n("mx.peer.example")),
                K::Other,
                "STARTTLS=client, relay=mx.peer.example., X509_digest=0, CertFingerprintAlgorithm=md5",
            ),
        ),
        (
            "STARTTLS=client, error: SSL_new failed",
            err(Some(OUT), None, K::Init, "SSL_new failed"),
        ),
        (
            "STARTTLS=server, relay=client.peer.example [192.0.2.5], field=AltName, status=value contains non IA5",
            err(
                Some(IN),
                Some(ni("client.peer.example", "192.0.2.5")),
                K::CertVerify,
                "STARTTLS=server, relay=client.peer.example [192.0.2.5], field=AltName, status=value contains non IA5",
            ),
        ),
        (
            "STARTTLS=init, FIPSMode=error:2D06C06E:FIPS routines:FIPS_module_mode_set:fingerprint does not match",
            err(
                None,
                None,
                K::Init,
                "STARTTLS=init, FIPSMode=error:2D06C06E:FIPS routines:FIPS_module_mode_set:fingerprint does not match",
            ),
        ),
        (
            "engine=pkcs11, init=failed",
            err(None, None, K::Init, "engine=pkcs11, init=failed"),
        ),
        (
            "SSL_CTX_dane_enable=-1",
            err(Some(OUT), None, K::Dane, "SSL_CTX_dane_enable=-1"),
        ),
        (
            "STARTTLS=client, host=mx.peer.example, SSL_set_tlsext_host_name=0",
            err(
                Some(OUT),
                Some(n("mx.peer.example")),
                K::Other,
                "STARTTLS=client, host=mx.peer.example, SSL_set_tlsext_host_name=0",
            ),
        ),
    ]);
}
