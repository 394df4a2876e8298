//! One row per Postfix line form: the line (as the program wrote it) and every field the
//! parser must yield. Versions noted per row; formats from FORMATS.md §2 and the Postfix
//! source (tls_misc.c, tls_server.c, tls_client.c, tls_verify.c, smtpd.c, log_adhoc.c).

use super::*;
use crate::model::{
    Bits, Cipher, Delivery, DeliveryStatus, Direction, EventKind, Peer, Reception, TlsDetail,
    TlsError, TlsErrorKind, TlsParams, TlsSession, TlsVersion, Verify,
};
use proptest::prelude::*;

use Direction::{Inbound as In, Outbound as Out};

fn peer(name: Option<&str>, ip: &str) -> Peer {
    Peer::new(name, ip.parse().ok())
}

#[allow(clippy::too_many_arguments)]
fn tls(
    direction: Direction,
    peer: Peer,
    version: &str,
    cipher: &str,
    use_bits: u16,
    alg_bits: u16,
    verify: Verify,
    detail: Option<TlsDetail>,
) -> Parsed {
    let mut params = TlsParams::new(
        TlsVersion::parse(version),
        Some(Cipher::new(cipher)),
        Bits::postfix(Some(use_bits), Some(alg_bits)),
        verify,
    );
    params.detail = detail.map(Box::new);
    Parsed::Event(EventKind::Tls(TlsSession {
        direction,
        peer,
        params,
    }))
}

fn trust(word: &str) -> TlsDetail {
    TlsDetail {
        raw_verify: Some(word.to_owned()),
        ..TlsDetail::default()
    }
}

fn err(direction: Option<Direction>, peer: Option<Peer>, kind: TlsErrorKind, text: &str) -> Parsed {
    Parsed::Event(EventKind::TlsError(TlsError {
        direction,
        peer,
        kind,
        text: text.to_owned(),
    }))
}

#[allow(clippy::too_many_arguments)]
fn dlv(
    qid: &str,
    to: &str,
    peer: Option<Peer>,
    mailer: Option<&str>,
    status: DeliveryStatus,
    dsn: Option<&str>,
    text: &str,
    tls_status: Option<&str>,
) -> Parsed {
    Parsed::Event(EventKind::Delivery(Delivery {
        queue_id: qid.into(),
        to: to.to_owned(),
        peer,
        mailer: mailer.map(crate::model::mailer_name),
        status,
        dsn: dsn.map(str::to_owned),
        text: text.to_owned(),
        tls: None,
        tls_status: tls_status.map(str::to_owned),
        // What the parser reads from a failure's text (checked on its own below).
        tls_error: status
            .is_failure()
            .then(|| status_tls_error(text))
            .flatten(),
    }))
}

fn end(peer: Peer, reason: &str, starttls: Option<(u32, u32)>) -> Parsed {
    Parsed::Event(EventKind::SessionEnd {
        peer: Some(peer),
        reason: EndReason::parse(reason),
        starttls,
    })
}

const SMTPD: Option<&str> = Some("postfix/smtpd");
const SMTP: Option<&str> = Some("postfix/smtp");

fn rows() -> Vec<(Option<&'static str>, &'static str, Parsed)> {
    let pe = || peer(Some("mail.peer.example"), "192.0.2.20");
    let mx = || peer(Some("mx1.peer.example"), "192.0.2.30");
    vec![
        // ---- TLS summaries: 2.2 – 2.4 (no trust word, client without address)
        (
            SMTPD,
            "TLS connection established from unknown[192.0.2.10]: TLSv1 with cipher DHE-RSA-AES256-SHA (256/256 bits)",
            tls(In, peer(None, "192.0.2.10"), "TLSv1", "DHE-RSA-AES256-SHA", 256, 256, Verify::Unknown, None),
        ),
        (
            SMTP,
            "TLS connection established to smarthost.example: TLSv1 with cipher AES256-SHA (256/256 bits)",
            tls(Out, peer(Some("smarthost.example"), ""), "TLSv1", "AES256-SHA", 256, 256, Verify::Unknown, None),
        ),
        // ---- 2.5 – 3.3 server side
        (
            SMTPD,
            "Anonymous TLS connection established from mail.peer.example[192.0.2.20]: TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)",
            tls(In, pe(), "TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384", 256, 256, Verify::No, Some(trust("Anonymous"))),
        ),
        (
            SMTPD,
            "Untrusted TLS connection established from relay.peer.example[192.0.2.21]: TLSv1.2 with cipher ECDHE-RSA-AES128-GCM-SHA256 (128/128 bits)",
            tls(In, peer(Some("relay.peer.example"), "192.0.2.21"), "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", 128, 128, Verify::Fail, Some(trust("Untrusted"))),
        ),
        (
            SMTPD,
            "Trusted TLS connection established from partner.peer.example[192.0.2.22]: TLSv1.2 with cipher ECDHE-ECDSA-AES256-GCM-SHA384 (256/256 bits)",
            tls(In, peer(Some("partner.peer.example"), "192.0.2.22"), "TLSv1.2", "ECDHE-ECDSA-AES256-GCM-SHA384", 256, 256, Verify::Ok, Some(trust("Trusted"))),
        ),
        (
            Some("postfix/submission/smtpd"),
            "Anonymous TLS connection established from laptop.example.net[198.51.100.44]: TLSv1.2 with cipher ECDHE-RSA-CHACHA20-POLY1305 (256/256 bits)",
            tls(In, peer(Some("laptop.example.net"), "198.51.100.44"), "TLSv1.2", "ECDHE-RSA-CHACHA20-POLY1305", 256, 256, Verify::No, Some(trust("Anonymous"))),
        ),
        (
            SMTPD,
            "Untrusted TLS connection established from legacy.peer.example[192.0.2.40]: SSLv3 with cipher RC4-MD5 (128/128 bits)",
            tls(In, peer(Some("legacy.peer.example"), "192.0.2.40"), "SSLv3", "RC4-MD5", 128, 128, Verify::Fail, Some(trust("Untrusted"))),
        ),
        (
            SMTPD,
            "Anonymous TLS connection established from unknown[unknown]: TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)",
            tls(In, peer(None, ""), "TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384", 256, 256, Verify::No, Some(trust("Anonymous"))),
        ),
        (
            SMTPD,
            "Anonymous TLS connection established from unknown[2001:db8::1]: TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)",
            tls(In, peer(None, "2001:db8::1"), "TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384", 256, 256, Verify::No, Some(trust("Anonymous"))),
        ),
        (
            SMTPD,
            "Anonymous TLS connection established from mail.peer.example[192.0.2.20]:53122: TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)",
            tls(In, pe(), "TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384", 256, 256, Verify::No, Some(trust("Anonymous"))),
        ),
        (
            Some("postfix/tlsproxy"),
            "Anonymous TLS connection established from Mail.Peer.Example[192.0.2.20]: TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)",
            tls(In, peer(Some("Mail.Peer.Example"), "192.0.2.20"), "TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384", 256, 256, Verify::No, Some(trust("Anonymous"))),
        ),
        // ---- client side, every trust word
        (
            SMTP,
            "Verified TLS connection established to mx1.peer.example[192.0.2.30]:25: TLSv1.2 with cipher ECDHE-RSA-AES128-GCM-SHA256 (128/128 bits)",
            tls(Out, mx(), "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", 128, 128, Verify::Ok, Some(trust("Verified"))),
        ),
        (
            SMTP,
            "Trusted TLS connection established to mx1.peer.example[192.0.2.30]:25: TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)",
            tls(Out, mx(), "TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384", 256, 256, Verify::Ok, Some(trust("Trusted"))),
        ),
        (
            SMTP,
            "Untrusted TLS connection established to mx1.peer.example[192.0.2.30]:25: TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)",
            tls(Out, mx(), "TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384", 256, 256, Verify::Fail, Some(trust("Untrusted"))),
        ),
        (
            SMTP,
            "Anonymous TLS connection established to mx.anon.example[192.0.2.31]:25: TLSv1 with cipher ADH-AES256-SHA (256/256 bits)",
            tls(Out, peer(Some("mx.anon.example"), "192.0.2.31"), "TLSv1", "ADH-AES256-SHA", 256, 256, Verify::No, Some(trust("Anonymous"))),
        ),
        (
            SMTP,
            "Untrusted TLS connection established to old.peer.example[192.0.2.33]:25: TLSv1 with cipher DES-CBC3-SHA (112/168 bits)",
            tls(Out, peer(Some("old.peer.example"), "192.0.2.33"), "TLSv1", "DES-CBC3-SHA", 112, 168, Verify::Fail, Some(trust("Untrusted"))),
        ),
        (
            Some("postfix-out/smtp"),
            "Untrusted TLS connection established to mx2.peer.example[2001:db8:fe21:2a::6]:25: TLSv1.1 with cipher ECDHE-RSA-AES256-SHA (256/256 bits)",
            tls(Out, peer(Some("mx2.peer.example"), "2001:db8:fe21:2a::6"), "TLSv1.1", "ECDHE-RSA-AES256-SHA", 256, 256, Verify::Fail, Some(trust("Untrusted"))),
        ),
        // ---- 3.4+ TLS 1.3 clauses, SNI, reuse, 3.9 raw public keys
        (
            SMTPD,
            "Anonymous TLS connection established from mail.peer.example[192.0.2.20]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256",
            tls(In, pe(), "TLSv1.3", "TLS_AES_256_GCM_SHA384", 256, 256, Verify::No, Some(TlsDetail {
                raw_verify: Some("Anonymous".into()),
                key_exchange: Some("X25519".into()),
                server_signature: Some("RSA-PSS (2048 bits)".into()),
                server_digest: Some("SHA256".into()),
                ..TlsDetail::default()
            })),
        ),
        (
            SMTPD,
            "Anonymous TLS connection established from mout.peer.example[198.51.100.7] to mail.example.com: TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 (128/128 bits) key-exchange x25519 server-signature ECDSA (prime256v1) server-digest SHA256",
            tls(In, peer(Some("mout.peer.example"), "198.51.100.7"), "TLSv1.3", "TLS_AES_128_GCM_SHA256", 128, 128, Verify::No, Some(TlsDetail {
                raw_verify: Some("Anonymous".into()),
                sni: Some("mail.example.com".into()),
                key_exchange: Some("x25519".into()),
                server_signature: Some("ECDSA (prime256v1)".into()),
                server_digest: Some("SHA256".into()),
                ..TlsDetail::default()
            })),
        ),
        (
            SMTP,
            "Verified TLS connection established to mx3.peer.example[2001:db8::25]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519MLKEM768 server-signature ED25519 client-signature RSA-PSS (2048 bits) client-digest SHA256",
            tls(Out, peer(Some("mx3.peer.example"), "2001:db8::25"), "TLSv1.3", "TLS_AES_256_GCM_SHA384", 256, 256, Verify::Ok, Some(TlsDetail {
                raw_verify: Some("Verified".into()),
                key_exchange: Some("X25519MLKEM768".into()),
                server_signature: Some("ED25519".into()),
                client_signature: Some("RSA-PSS (2048 bits)".into()),
                client_digest: Some("SHA256".into()),
                ..TlsDetail::default()
            })),
        ),
        (
            SMTP,
            "Trusted TLS connection reused to mx1.peer.example[192.0.2.30]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)",
            tls(Out, mx(), "TLSv1.3", "TLS_AES_256_GCM_SHA384", 256, 256, Verify::Ok, Some(TlsDetail {
                raw_verify: Some("Trusted".into()),
                reused: true,
                ..TlsDetail::default()
            })),
        ),
        (
            SMTP,
            "Untrusted TLS connection established to mx4.peer.example[192.0.2.34]:25: TLSv1.3 with cipher TLS_CHACHA20_POLY1305_SHA256 (256/256 bits) key-exchange ECDHE (P-256) server-signature ECDSA (P-256) server-digest SHA256",
            tls(Out, peer(Some("mx4.peer.example"), "192.0.2.34"), "TLSv1.3", "TLS_CHACHA20_POLY1305_SHA256", 256, 256, Verify::Fail, Some(TlsDetail {
                raw_verify: Some("Untrusted".into()),
                key_exchange: Some("ECDHE (P-256)".into()),
                server_signature: Some("ECDSA (P-256)".into()),
                server_digest: Some("SHA256".into()),
                ..TlsDetail::default()
            })),
        ),
        (
            SMTPD,
            "Trusted TLS connection established from rpk.peer.example[192.0.2.23]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (4096 bits) server-digest SHA256 client-signature ECDSA (P-256 raw public key) client-digest SHA256",
            tls(In, peer(Some("rpk.peer.example"), "192.0.2.23"), "TLSv1.3", "TLS_AES_256_GCM_SHA384", 256, 256, Verify::Ok, Some(TlsDetail {
                raw_verify: Some("Trusted".into()),
                key_exchange: Some("X25519".into()),
                server_signature: Some("RSA-PSS (4096 bits)".into()),
                server_digest: Some("SHA256".into()),
                client_signature: Some("ECDSA (P-256 raw public key)".into()),
                client_digest: Some("SHA256".into()),
                ..TlsDetail::default()
            })),
        ),
        (
            SMTPD,
            "Anonymous TLS connection established from mail.peer.example[192.0.2.20]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange DHE (2048 bits) server-signature RSA-PSS (2048 bit raw public key)",
            tls(In, pe(), "TLSv1.3", "TLS_AES_256_GCM_SHA384", 256, 256, Verify::No, Some(TlsDetail {
                raw_verify: Some("Anonymous".into()),
                key_exchange: Some("DHE (2048 bits)".into()),
                server_signature: Some("RSA-PSS (2048 bit raw public key)".into()),
                ..TlsDetail::default()
            })),
        ),
        (
            SMTPD,
            "Anonymous TLS connection established from mail.peer.example[192.0.2.20]: TLSv1.2 with cipher",
            Parsed::Malformed("Postfix TLS summary: Anonymous TLS connection established from mail.peer.example[192.0.2.20]: TLSv1.2 with cipher".into()),
        ),
        // ---- handshake errors
        (
            SMTPD,
            "SSL_accept error from unknown[192.0.2.50]: -1",
            err(Some(In), Some(peer(None, "192.0.2.50")), TlsErrorKind::Handshake, "SSL_accept error from unknown[192.0.2.50]: -1"),
        ),
        (
            SMTPD,
            "SSL_accept error from mail.peer.example[192.0.2.20]: Connection reset by peer",
            err(Some(In), Some(pe()), TlsErrorKind::Handshake, "SSL_accept error from mail.peer.example[192.0.2.20]: Connection reset by peer"),
        ),
        (
            SMTPD,
            "SSL_accept error from mail.peer.example[192.0.2.20]: lost connection",
            err(Some(In), Some(pe()), TlsErrorKind::Handshake, "SSL_accept error from mail.peer.example[192.0.2.20]: lost connection"),
        ),
        (
            SMTP,
            "SSL_connect error to mx1.peer.example[192.0.2.30]:25: -1",
            err(Some(Out), Some(mx()), TlsErrorKind::Handshake, "SSL_connect error to mx1.peer.example[192.0.2.30]:25: -1"),
        ),
        (
            SMTP,
            "SSL_connect error to mx1.peer.example[192.0.2.30]:25: Connection timed out",
            err(Some(Out), Some(mx()), TlsErrorKind::Handshake, "SSL_connect error to mx1.peer.example[192.0.2.30]:25: Connection timed out"),
        ),
        (
            SMTP,
            "SSL_connect error to mx1.peer.example[192.0.2.30]:25: lost connection",
            err(Some(Out), Some(mx()), TlsErrorKind::Handshake, "SSL_connect error to mx1.peer.example[192.0.2.30]:25: lost connection"),
        ),
        // ---- TLS library problems (no peer)
        (
            SMTP,
            "warning: TLS library problem: error:0A000086:SSL routines::certificate verify failed:ssl/statem/statem_clnt.c:1889:",
            err(Some(Out), None, TlsErrorKind::Library, "error:0A000086:SSL routines::certificate verify failed:ssl/statem/statem_clnt.c:1889:"),
        ),
        (
            SMTPD,
            "warning: TLS library problem: 10697:error:14094418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca:s3_pkt.c:1257:SSL alert number 48:",
            err(Some(In), None, TlsErrorKind::CertificateRejected, "10697:error:14094418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca:s3_pkt.c:1257:SSL alert number 48:"),
        ),
        (
            SMTPD,
            "warning: TLS library problem: error:02001002:system library:fopen:No such file or directory:bss_file.c:175:fopen('/etc/postfix/cert.pem','r'):",
            err(Some(In), None, TlsErrorKind::MissingFile, "error:02001002:system library:fopen:No such file or directory:bss_file.c:175:fopen('/etc/postfix/cert.pem','r'):"),
        ),
        (
            SMTPD,
            "warning: TLS library problem: error:0B080074:x509 certificate routines:X509_check_private_key:key values mismatch:x509_cmp.c:331:",
            err(Some(In), None, TlsErrorKind::PrivateKey, "error:0B080074:x509 certificate routines:X509_check_private_key:key values mismatch:x509_cmp.c:331:"),
        ),
        // ---- key problems (Postfix 3.7.11 with an encrypted or missing key, OpenSSL 3)
        (
            SMTPD,
            "warning: cannot get RSA private key from file \"/etc/postfix/mx-key.pem\": disabling TLS support",
            err(Some(In), None, TlsErrorKind::PrivateKey, "cannot get RSA private key from file \"/etc/postfix/mx-key.pem\": disabling TLS support"),
        ),
        (
            SMTPD,
            "warning: TLS library problem: error:1C80009F:Provider routines::unable to get passphrase:../providers/implementations/encode_decode/decode_epki2pki.c:96:",
            err(Some(In), None, TlsErrorKind::PrivateKey, "error:1C80009F:Provider routines::unable to get passphrase:../providers/implementations/encode_decode/decode_epki2pki.c:96:"),
        ),
        (
            SMTP,
            "warning: TLS library problem: error:80000002:system library::No such file or directory:../providers/implementations/storemgmt/file_store.c:267:calling stat(/etc/postfix/client-key.pem)",
            err(Some(Out), None, TlsErrorKind::MissingFile, "error:80000002:system library::No such file or directory:../providers/implementations/storemgmt/file_store.c:267:calling stat(/etc/postfix/client-key.pem)"),
        ),
        (
            SMTPD,
            "warning: TLS library problem: error:02001002:system library:fopen:No such file or directory:bss_file.c:175:fopen('/etc/postfix/key.pem','r'):",
            err(Some(In), None, TlsErrorKind::MissingFile, "error:02001002:system library:fopen:No such file or directory:bss_file.c:175:fopen('/etc/postfix/key.pem','r'):"),
        ),
        // ---- certificate verification (tls_verify.c)
        (
            SMTP,
            "server certificate verification failed for mx1.peer.example[192.0.2.30]:25: num=10:certificate has expired",
            err(Some(Out), Some(mx()), TlsErrorKind::CertVerify, "server certificate verification failed for mx1.peer.example[192.0.2.30]:25: num=10:certificate has expired"),
        ),
        (
            SMTP,
            "certificate verification failed for mx1.peer.example[192.0.2.30]:25: untrusted issuer /C=US/O=Example CA/CN=Example Root",
            err(Some(Out), Some(mx()), TlsErrorKind::CertVerify, "certificate verification failed for mx1.peer.example[192.0.2.30]:25: untrusted issuer /C=US/O=Example CA/CN=Example Root"),
        ),
        (
            SMTPD,
            "client certificate verification failed for mail.peer.example[192.0.2.20]: self-signed certificate",
            err(Some(In), Some(pe()), TlsErrorKind::CertVerify, "client certificate verification failed for mail.peer.example[192.0.2.20]: self-signed certificate"),
        ),
        (
            SMTP,
            "CA certificate verification failed for mx1.peer.example[192.0.2.30]:25: num=20:unable to get local issuer certificate",
            err(Some(Out), Some(mx()), TlsErrorKind::CertVerify, "CA certificate verification failed for mx1.peer.example[192.0.2.30]:25: num=20:unable to get local issuer certificate"),
        ),
        (
            SMTP,
            "server certificate verification failed for mx1.peer.example[192.0.2.30]:25: certificate not yet valid",
            err(Some(Out), Some(mx()), TlsErrorKind::CertVerify, "server certificate verification failed for mx1.peer.example[192.0.2.30]:25: certificate not yet valid"),
        ),
        // ---- session aborts around STARTTLS (≤ 3.9 and the 3.10 NOQUEUE form)
        (
            SMTPD,
            "lost connection after STARTTLS from unknown[192.0.2.50]",
            err(Some(In), Some(peer(None, "192.0.2.50")), TlsErrorKind::Handshake, "lost connection after STARTTLS from unknown[192.0.2.50]"),
        ),
        (
            SMTPD,
            "NOQUEUE: lost connection after STARTTLS from unknown[192.0.2.50]",
            err(Some(In), Some(peer(None, "192.0.2.50")), TlsErrorKind::Handshake, "NOQUEUE: lost connection after STARTTLS from unknown[192.0.2.50]"),
        ),
        (
            SMTPD,
            "timeout after STARTTLS from mail.peer.example[192.0.2.20]",
            err(Some(In), Some(pe()), TlsErrorKind::Handshake, "timeout after STARTTLS from mail.peer.example[192.0.2.20]"),
        ),
        (
            SMTPD,
            "lost connection after DATA (0 bytes) from mail.peer.example[192.0.2.20]",
            end(pe(), "lost connection after DATA", None),
        ),
        (
            SMTPD,
            "3F1A21234: lost connection after RCPT from mail.peer.example[192.0.2.20]",
            end(pe(), "lost connection after RCPT", None),
        ),
        (
            SMTPD,
            "NOQUEUE: abort: TLS from mail.peer.example[192.0.2.20]: No client certificate presented",
            err(Some(In), Some(pe()), TlsErrorKind::Policy, "NOQUEUE: abort: TLS from mail.peer.example[192.0.2.20]: No client certificate presented"),
        ),
        (
            SMTPD,
            "NOQUEUE: abort: TLS from mail.peer.example[192.0.2.20]: Client certificate not trusted",
            err(Some(In), Some(pe()), TlsErrorKind::CertVerify, "NOQUEUE: abort: TLS from mail.peer.example[192.0.2.20]: Client certificate not trusted"),
        ),
        // ---- the warning family
        (
            SMTPD,
            "warning: tlsproxy handshake failed",
            err(Some(In), None, TlsErrorKind::Handshake, "tlsproxy handshake failed"),
        ),
        (
            SMTPD,
            "warning: New TLS session rate limit exceeded: 31 from mail.peer.example[192.0.2.20] for service smtp",
            err(Some(In), Some(pe()), TlsErrorKind::Other, "New TLS session rate limit exceeded: 31 from mail.peer.example[192.0.2.20] for service smtp"),
        ),
        (
            SMTPD,
            "warning: Refusing STARTTLS request from mail.peer.example[192.0.2.20] for service smtp",
            err(Some(In), Some(pe()), TlsErrorKind::Policy, "Refusing STARTTLS request from mail.peer.example[192.0.2.20] for service smtp"),
        ),
        (
            SMTPD,
            "warning: cannot get RSA private key from file \"/etc/postfix/key.pem\": disabling TLS support",
            err(Some(In), None, TlsErrorKind::PrivateKey, "cannot get RSA private key from file \"/etc/postfix/key.pem\": disabling TLS support"),
        ),
        (
            SMTPD,
            "warning: cannot get RSA certificate from file \"/etc/postfix/cert.pem\": disabling TLS support",
            err(Some(In), None, TlsErrorKind::Certificate, "cannot get RSA certificate from file \"/etc/postfix/cert.pem\": disabling TLS support"),
        ),
        (
            SMTPD,
            "cannot load Certification Authority data, CAfile=\"/etc/postfix/cacert.pem\": disabling TLS support",
            err(Some(In), None, TlsErrorKind::CaLocations, "cannot load Certification Authority data, CAfile=\"/etc/postfix/cacert.pem\": disabling TLS support"),
        ),
        (
            SMTPD,
            "warning: cannot load DH parameters from file /etc/postfix/dh2048.pem",
            err(Some(In), None, TlsErrorKind::CipherConfig, "cannot load DH parameters from file /etc/postfix/dh2048.pem"),
        ),
        (
            SMTP,
            "warning: DANE TLSA lookup problem: Host or domain name not found. Name service error for name=_25._tcp.mx1.peer.example type=TLSA: Host not found, try again",
            err(Some(Out), None, TlsErrorKind::Dane, "DANE TLSA lookup problem: Host or domain name not found. Name service error for name=_25._tcp.mx1.peer.example type=TLSA: Host not found, try again"),
        ),
        (
            SMTPD,
            "warning: no entropy for TLS key generation: disabling TLS support",
            err(Some(In), None, TlsErrorKind::Init, "no entropy for TLS key generation: disabling TLS support"),
        ),
        // ---- connect / disconnect with 3.0+ counters
        (
            SMTPD,
            "connect from mail.peer.example[192.0.2.20]",
            Parsed::Event(EventKind::Connect { peer: pe() }),
        ),
        (
            SMTPD,
            "connect from unknown[2001:db8::1]",
            Parsed::Event(EventKind::Connect { peer: peer(None, "2001:db8::1") }),
        ),
        (
            SMTPD,
            "disconnect from mail.peer.example[192.0.2.20] ehlo=1 starttls=1 mail=1 rcpt=1 data=1 quit=1 commands=6",
            end(pe(), "disconnect", Some((1, 1))),
        ),
        (
            SMTPD,
            "disconnect from unknown[192.0.2.50] ehlo=1 starttls=0/1 commands=1/2",
            end(peer(None, "192.0.2.50"), "disconnect", Some((0, 1))),
        ),
        (
            SMTPD,
            "disconnect from mail.peer.example[192.0.2.20] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5",
            end(pe(), "disconnect", Some((0, 0))),
        ),
        (
            SMTPD,
            "disconnect from mail.peer.example[192.0.2.20]",
            end(pe(), "disconnect", None),
        ),
        // ---- queue-id lines
        (
            SMTPD,
            "3F1A21234: client=mail.peer.example[192.0.2.20]",
            Parsed::Event(EventKind::QueueClient { queue_id: "3F1A21234".into(), peer: pe() }),
        ),
        (
            Some("postfix/submission/smtpd"),
            "4XbC5n2GqZz9vQ: client=unknown[198.51.100.44], sasl_method=PLAIN, sasl_username=alice",
            Parsed::Event(EventKind::QueueClient { queue_id: "4XbC5n2GqZz9vQ".into(), peer: peer(None, "198.51.100.44") }),
        ),
        (
            Some("postfix/qmgr"),
            "3F1A21234: from=<alice@peer.example>, size=2345, nrcpt=1 (queue active)",
            Parsed::Event(EventKind::Received(Reception {
                queue_id: "3F1A21234".into(),
                from: "alice@peer.example".into(),
                peer: None,
                proto: None,
                tls: None,
            })),
        ),
        (
            Some("postfix/qmgr"),
            "8C2D5340B1: from=<>, size=3456, nrcpt=1 (queue active)",
            Parsed::Event(EventKind::Received(Reception {
                queue_id: "8C2D5340B1".into(),
                from: String::new(),
                peer: None,
                proto: None,
                tls: None,
            })),
        ),
        // ---- deliveries
        (
            SMTP,
            "3F1A21234: to=<bob@peer.example>, relay=mx1.peer.example[192.0.2.30]:25, delay=1.2, delays=0.1/0.01/0.5/0.6, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4XbC5n2GqZz)",
            dlv("3F1A21234", "bob@peer.example", Some(mx()), Some("smtp"), DeliveryStatus::Sent, Some("2.0.0"), "sent (250 2.0.0 Ok: queued as 4XbC5n2GqZz)", None),
        ),
        (
            SMTP,
            "3F1A21234: to=<carol@peer.example>, orig_to=<carol@alias.example>, relay=mx1.peer.example[192.0.2.30]:25, conn_use=2, delay=0.4, delays=0.1/0/0/0.3, dsn=2.0.0, status=sent (250 2.0.0 Ok)",
            dlv("3F1A21234", "carol@peer.example", Some(mx()), Some("smtp"), DeliveryStatus::Sent, Some("2.0.0"), "sent (250 2.0.0 Ok)", None),
        ),
        (
            SMTP,
            "5A7B9C1D2E: to=<dave@peer.example>, relay=mx1.peer.example[192.0.2.30]:25, delay=301, delays=300/0.01/0.5/0, dsn=4.7.4, status=deferred (TLS is required, but was not offered by host mx1.peer.example[192.0.2.30])",
            dlv("5A7B9C1D2E", "dave@peer.example", Some(mx()), Some("smtp"), DeliveryStatus::Deferred, Some("4.7.4"), "deferred (TLS is required, but was not offered by host mx1.peer.example[192.0.2.30])", None),
        ),
        (
            SMTP,
            "5A7B9C1D2E: to=<dave@peer.example>, relay=mx1.peer.example[192.0.2.30]:25, delay=2.1, delays=0.1/0/2/0, dsn=4.7.5, status=deferred (Cannot start TLS: handshake failure)",
            dlv("5A7B9C1D2E", "dave@peer.example", Some(mx()), Some("smtp"), DeliveryStatus::Deferred, Some("4.7.5"), "deferred (Cannot start TLS: handshake failure)", None),
        ),
        (
            SMTP,
            "5A7B9C1D2E: to=<dave@peer.example>, relay=mx1.peer.example[192.0.2.30]:25, delay=1.5, delays=0.1/0/1.4/0, dsn=4.7.5, status=deferred (Server certificate not verified)",
            dlv("5A7B9C1D2E", "dave@peer.example", Some(mx()), Some("smtp"), DeliveryStatus::Deferred, Some("4.7.5"), "deferred (Server certificate not verified)", None),
        ),
        (
            SMTP,
            "6B8C0D2E3F: to=<nobody@peer.example>, relay=mx1.peer.example[192.0.2.30]:25, delay=0.9, delays=0.1/0/0.4/0.4, dsn=5.1.1, status=bounced (host mx1.peer.example[192.0.2.30] said: 550 5.1.1 <nobody@peer.example>: Recipient address rejected: User unknown (in reply to RCPT TO command))",
            dlv("6B8C0D2E3F", "nobody@peer.example", Some(mx()), Some("smtp"), DeliveryStatus::Bounced, Some("5.1.1"), "bounced (host mx1.peer.example[192.0.2.30] said: 550 5.1.1 <nobody@peer.example>: Recipient address rejected: User unknown (in reply to RCPT TO command))", None),
        ),
        (
            SMTP,
            "7C9D1E3F4A: to=<erin@down.example>, relay=none, delay=30, delays=0/0/30/0, dsn=4.4.1, status=deferred (connect to mx.down.example[192.0.2.60]:25: Connection timed out)",
            dlv("7C9D1E3F4A", "erin@down.example", None, Some("smtp"), DeliveryStatus::Deferred, Some("4.4.1"), "deferred (connect to mx.down.example[192.0.2.60]:25: Connection timed out)", None),
        ),
        (
            Some("postfix/local"),
            "3F1A21234: to=<root@example.com>, orig_to=<postmaster>, relay=local, delay=0.02, delays=0.01/0/0/0.01, dsn=2.0.0, status=sent (delivered to mailbox)",
            dlv("3F1A21234", "root@example.com", None, Some("local"), DeliveryStatus::Sent, Some("2.0.0"), "sent (delivered to mailbox)", None),
        ),
        (
            Some("postfix/lmtp"),
            "3F1A21234: to=<frank@example.com>, relay=mail.example.com[private/dovecot-lmtp], delay=0.05, delays=0.01/0/0.01/0.03, dsn=2.0.0, status=sent (250 2.0.0 <frank@example.com> Saved)",
            dlv("3F1A21234", "frank@example.com", None, Some("lmtp"), DeliveryStatus::Sent, Some("2.0.0"), "sent (250 2.0.0 <frank@example.com> Saved)", None),
        ),
        (
            SMTP,
            "9E1F3A5B6C: to=<gina@plain.example>, relay=mx.plain.example[192.0.2.70]:25, delay=0.8, delays=0.1/0/0.3/0.4, tls=may:none, dsn=2.0.0, status=sent (250 2.0.0 Ok)",
            dlv("9E1F3A5B6C", "gina@plain.example", Some(peer(Some("mx.plain.example"), "192.0.2.70")), Some("smtp"), DeliveryStatus::Sent, Some("2.0.0"), "sent (250 2.0.0 Ok)", Some("may:none")),
        ),
        (
            SMTP,
            "9E1F3A5B6C: to=<hank@dane.example>, relay=mx.dane.example[192.0.2.71]:25, delay=0.8, delays=0.1/0/0.3/0.4, tls=dane:halfdane, dsn=2.0.0, status=sent (250 2.0.0 Ok)",
            dlv("9E1F3A5B6C", "hank@dane.example", Some(peer(Some("mx.dane.example"), "192.0.2.71")), Some("smtp"), DeliveryStatus::Sent, Some("2.0.0"), "sent (250 2.0.0 Ok)", Some("dane:halfdane")),
        ),
        (
            SMTP,
            "A1B2C3D4E5: to=<bob@peer.example>, relay=mx1.peer.example[192.0.2.30], delay=2, status=sent (250 Ok)",
            dlv("A1B2C3D4E5", "bob@peer.example", Some(mx()), Some("smtp"), DeliveryStatus::Sent, None, "sent (250 Ok)", None),
        ),
        (
            Some("postfix-out/smtp"),
            "A1B2C3D4E5: to=<ivy@peer.example>, relay=mx2.peer.example[2001:db8:fe21:2a::6]:25, delay=0.7, delays=0.1/0/0.2/0.4, dsn=2.0.0, status=sent (250 2.0.0 Ok)",
            dlv("A1B2C3D4E5", "ivy@peer.example", Some(peer(Some("mx2.peer.example"), "2001:db8:fe21:2a::6")), Some("smtp"), DeliveryStatus::Sent, Some("2.0.0"), "sent (250 2.0.0 Ok)", None),
        ),
        (
            None,
            "A1B2C3D4E5: to=<ivy@peer.example>, relay=mx2.peer.example[192.0.2.35]:25, delay=0.7, delays=0.1/0/0.2/0.4, dsn=2.0.0, status=sent (250 2.0.0 Ok)",
            dlv("A1B2C3D4E5", "ivy@peer.example", Some(peer(Some("mx2.peer.example"), "192.0.2.35")), None, DeliveryStatus::Sent, Some("2.0.0"), "sent (250 2.0.0 Ok)", None),
        ),
        (
            SMTP,
            "A1B2C3D4E5: to=<bob@peer.example>, relay=mx1.peer.example[192.0.2.30]:25, delay=1",
            Parsed::Malformed("Postfix delivery without status: A1B2C3D4E5: to=<bob@peer.example>, relay=mx1.peer.example[192.0.2.30]:25, delay=1".into()),
        ),
        // ---- lines that are not ours
        (Some("postfix/cleanup"), "3F1A21234: message-id=<20261128.abc@peer.example>", Parsed::Irrelevant),
        (Some("postfix/qmgr"), "3F1A21234: removed", Parsed::Irrelevant),
        (Some("postfix/pickup"), "3F1A21234: uid=1000 from=<alice>", Parsed::Irrelevant),
        (SMTPD, "NOQUEUE: reject: RCPT from unknown[192.0.2.50]: 554 5.7.1 <x@example.com>: Relay access denied; from=<spam@bad.example> to=<x@example.com> proto=ESMTP helo=<bad>", Parsed::Irrelevant),
        // ---- daemon start: a restart re-reads keys and certificates
        (
            Some("postfix/master"),
            "daemon started -- version 3.7.11, configuration /etc/postfix",
            Parsed::Event(EventKind::DaemonStart { version: Some("3.7.11".into()) }),
        ),
        (SMTPD, "setting up TLS connection from mail.peer.example[192.0.2.20]", Parsed::Irrelevant),
        (SMTP, "mx1.peer.example[192.0.2.30]:25: subject_CN=mx1.peer.example, issuer_CN=R3, fingerprint=AA:BB, pkey_fingerprint=CC:DD", Parsed::Irrelevant),
        (SMTP, "Verified: subject_CN=mx1.peer.example, issuer=Example CA", Parsed::Irrelevant),
        (Some("postfix/postscreen"), "CONNECT from [192.0.2.20]:43210 to [198.51.100.1]:25", Parsed::Irrelevant),
        (SMTPD, "warning: hostname mail.peer.example does not resolve to address 192.0.2.20", Parsed::Irrelevant),
    ]
}

#[test]
fn every_postfix_form() {
    let rows = rows();
    assert!(rows.len() >= 50, "only {} rows", rows.len());
    for (program, line, want) in rows {
        assert_eq!(parse_program(program, line), want, "{line}");
        assert!(
            want == Parsed::Irrelevant || crate::parse::prefilter::may_matter(line.as_bytes()),
            "the prefilter would drop: {line}"
        );
    }
}

#[test]
fn trust_mapping_is_per_direction() {
    let rows = [
        // One session, one word: the log cannot say whether Postfix asked (issue 18).
        (In, "Anonymous", Verify::No),
        (In, "Untrusted", Verify::Fail),
        (In, "Trusted", Verify::Ok),
        (In, "Verified", Verify::Ok),
        (Out, "Anonymous", Verify::No),
        (Out, "Untrusted", Verify::Fail),
        (Out, "Trusted", Verify::Ok),
        (Out, "Verified", Verify::Ok),
    ];
    for (dir, word, want) in rows {
        assert_eq!(trust_to_verify(dir, Some(word)), want, "{dir:?} {word}");
    }
}

#[test]
fn status_texts_name_their_tls_problem() {
    let rows = [
        (
            "deferred (TLS is required, but was not offered by host mx1.peer.example[192.0.2.30])",
            Some(TlsErrorKind::NotOffered),
        ),
        (
            "deferred (TLS is required, but host mx1.peer.example[192.0.2.30] refused to start TLS: 454 4.7.0 TLS not available)",
            Some(TlsErrorKind::NotOffered),
        ),
        (
            "deferred (Server certificate not verified)",
            Some(TlsErrorKind::CertVerify),
        ),
        (
            "deferred (Cannot start TLS: handshake failure)",
            Some(TlsErrorKind::Handshake),
        ),
        (
            "deferred (TLS is required, but our TLS engine is unavailable)",
            Some(TlsErrorKind::Init),
        ),
        ("sent (250 2.0.0 Ok)", None),
        (
            "deferred (connect to mx.down.example[192.0.2.60]:25: Connection timed out)",
            None,
        ),
    ];
    for (text, want) in rows {
        assert_eq!(status_tls_error(text), want, "{text}");
    }
}

/// The delivery event carries the TLS failure its status names, read here once, so the
/// correlator never reads status texts itself; a sent message carries none.
#[test]
fn deferral_carries_its_tls_failure() {
    let deferred = "3F1A21234: to=<bob@peer.example>, relay=mx1.peer.example[192.0.2.30]:25, delay=1.2, delays=0.1/0/1.1/0, dsn=4.7.4, status=deferred (TLS is required, but was not offered by host mx1.peer.example[192.0.2.30])";
    let sent = "3F1A21234: to=<bob@peer.example>, relay=mx1.peer.example[192.0.2.30]:25, delay=1.2, delays=0.1/0/1.1/0, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 9A1B2C3D4)";
    let kind = |msg| match parse_program(Some("postfix/smtp"), msg) {
        Parsed::Event(EventKind::Delivery(d)) => d.tls_error,
        other => panic!("not a delivery: {other:?}"),
    };
    assert_eq!(kind(deferred), Some(TlsErrorKind::NotOffered));
    assert_eq!(kind(sent), None);
}

#[test]
fn queue_ids() {
    for ok in ["3F1A21234", "4XbC5n2GqZz9vQ", "8C2D5340B1"] {
        assert!(is_queue_id(ok), "{ok}");
    }
    for bad in ["NOQUEUE", "warning", "abc", "3F1A-1234", ""] {
        assert!(!is_queue_id(bad), "{bad}");
    }
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(s in "\\PC*") {
        let _ = parse(&s);
        let _ = parse_program(Some("postfix/smtp"), &s);
    }

    #[test]
    fn near_miss_lines_never_panic(
        head in prop::sample::select(vec![
            "Anonymous TLS connection established from ",
            "Trusted TLS connection reused to ",
            "SSL_accept error from ",
            "disconnect from ",
            "3F1A21234: to=<",
            "3F1A21234: client=",
            "NOQUEUE: lost connection after ",
            "server certificate verification failed for ",
        ]),
        tail in "[\\[\\]:/ a-z0-9.()=<>,é€-]{0,60}",
    ) {
        let line = format!("{head}{tail}");
        let _ = parse_program(Some("postfix/smtpd"), &line);
    }
}

#[test]
fn program_names_pick_the_right_parser() {
    use crate::model::Mta;
    use crate::parse::mta_for_program;
    let rows = [
        ("postfix/smtpd", Mta::Postfix),
        ("postfix/smtp", Mta::Postfix),
        ("postfix/submission/smtpd", Mta::Postfix),
        ("postfix/postscreen", Mta::Postfix),
        ("postfix/tlsproxy", Mta::Postfix),
        ("postfix-out/smtp", Mta::Postfix),
        ("enforced-tls-smtp/smtp", Mta::Postfix),
        ("exim", Mta::Exim),
        ("exim4", Mta::Exim),
        ("sm-mta", Mta::Sendmail),
    ];
    for (program, want) in rows {
        assert_eq!(mta_for_program(Some(program)), Some(want), "{program}");
    }
}

/// Every table line with a multi-byte character or a cut at every position: the parser
/// may call it anything but must not panic.
#[test]
fn mutated_rows_never_panic() {
    for (program, line, _) in rows() {
        for (i, _) in line.char_indices() {
            let mut s = line.to_owned();
            s.insert(i, 'é');
            let _ = parse_program(program, &s);
            let _ = parse_program(program, &line[..i]);
        }
    }
}

/// Every Postfix line of the rows above and of the real fixtures (tests/fixtures/real),
/// with the program that wrote it.
fn known_lines() -> Vec<(String, String)> {
    let mut lines: Vec<(String, String)> = rows()
        .into_iter()
        .filter_map(|(p, l, _)| p.map(|p| (p.to_owned(), l.to_owned())))
        .collect();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real/postfix");
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for line in text.lines() {
            let env = crate::parse::envelope::parse(line);
            if let Some(p) = env.program
                && crate::parse::mta_for_program(Some(p)) == Some(crate::model::Mta::Postfix)
            {
                lines.push((p.to_owned(), env.message.to_owned()));
            }
        }
    }
    lines
}

/// Dispatching on the daemon keeps every recognition: each known line reads the same with
/// its daemon's recognisers as with all of them (how every line was read before), and the
/// same again under a multi-instance `syslog_name` (`postfix-out/smtp`).
#[test]
fn dispatch_on_the_daemon_keeps_every_recognition() {
    let lines = known_lines();
    assert!(lines.len() > 400, "only {} lines", lines.len());
    let mut events: std::collections::BTreeMap<&str, usize> = Default::default();
    for (program, msg) in &lines {
        let daemon = program.rsplit('/').next();
        let own = parse_daemon(daemon, msg, Detail::Full);
        let all = parse_with_recognisers(daemon, rec::ALL, msg, Detail::Full);
        assert_eq!(own, all, "{program}: {msg}");
        let renamed = format!("postfix-out/{}", daemon.unwrap());
        assert_eq!(
            parse_program(Some(&renamed), msg),
            parse_program(Some(program), msg),
            "{renamed}: {msg}"
        );
        if matches!(own, Parsed::Event(_)) {
            *events.entry(daemon.unwrap()).or_default() += 1;
        }
    }
    // The comparison covered real events of every daemon that writes some.
    for d in ["smtpd", "smtp", "qmgr", "local", "master", "lmtp"] {
        assert!(
            events.get(d).is_some_and(|n| *n > 0),
            "no {d} event: {events:?}"
        );
    }
    // Daemons that write none of our forms are not parsed at all.
    assert_eq!(recognisers(Some("cleanup")), 0);
    assert!(!events.contains_key("cleanup") && !events.contains_key("postfix-script"));
}

/// A daemon this version does not know (a new one, or a renamed service) is offered to
/// every recogniser, as before: its lines of our forms are read, the rest are irrelevant
/// and handed back with their program so the pipeline counts them as unparsed.
#[test]
fn unknown_daemon_is_read_as_before_and_counted_when_unparsed() {
    let delivery = "3F1A21234: to=<bob@peer.example>, relay=mx1.peer.example[192.0.2.30]:25, delay=1.2, delays=0.1/0/1.1/0, dsn=2.0.0, status=sent (250 2.0.0 Ok)";
    match parse_program(Some("postfix/frobnicate"), delivery) {
        Parsed::Event(EventKind::Delivery(d)) => {
            assert_eq!(d.mailer.as_deref(), Some("frobnicate"));
            assert_eq!(d.status, DeliveryStatus::Sent);
        }
        other => panic!("not a delivery: {other:?}"),
    }
    let file: std::sync::Arc<str> = "mail.log".into();
    let mut hosts = crate::parse::HostNames::default();
    for program in ["postfix/frobnicate", "postfix/cleanup", "postfix-out/smtp"] {
        let line = format!("Nov 28 10:00:00 mx {program}[42]: 3F1A21234: frobnicated the queue");
        let mut noted = None;
        let out = crate::parse::parse_line_detailed(
            line.as_bytes(),
            &file,
            1,
            &mut hosts,
            crate::parse::Detail::Full,
            |p| noted = p.map(str::to_owned),
        );
        assert_eq!(out, crate::parse::LineOutcome::Irrelevant, "{line}");
        assert_eq!(noted.as_deref(), Some(program), "{line}");
    }
}

/// Every recogniser tried in turn on the whole line, with no dispatch on the first words:
/// how every line was read before the dispatch (issue 21), kept as the reference.
fn every_recogniser_in_turn(daemon: Option<&str>, msg: &str) -> Parsed {
    let detail = Detail::Full;
    let msg = msg.trim_end();
    let (warning, body) = strip_severity(msg);
    if let Some(p) = tls_summary(body) {
        return p;
    }
    if !warning && let Some(rest) = body.strip_prefix("daemon started -- version ") {
        let version = rest.split(',').next().map(|v| v.trim().to_owned());
        return Parsed::Event(EventKind::DaemonStart { version });
    }
    if let Some(rest) = body.strip_prefix("SSL_accept error from ") {
        return handshake_error(Direction::Inbound, rest, body);
    }
    if let Some(rest) = body.strip_prefix("SSL_connect error to ") {
        return handshake_error(Direction::Outbound, rest, body);
    }
    if let Some(rest) = body.strip_prefix("TLS library problem: ") {
        return library_problem(rest);
    }
    if let Some(p) = verification_failure(body) {
        return p;
    }
    if let Some(rest) = body.strip_prefix("connect from ") {
        return match namaddr(rest) {
            Some(na) if !warning => Parsed::Event(EventKind::Connect { peer: na.peer() }),
            _ => Parsed::Malformed(format!("Postfix connect line without a peer: {body}")),
        };
    }
    if let Some(rest) = body.strip_prefix("disconnect from ") {
        return disconnect(rest);
    }
    let first = body.split_once(": ");
    let text = match first {
        Some((qid, rest)) if is_queue_id(qid) || qid == "NOQUEUE" => rest,
        _ => body,
    };
    if let Some(p) = session_abort(text, body) {
        return p;
    }
    if let Some((qid, rest)) = first
        && is_queue_id(qid)
        && let Some(p) = queue_line(daemon, qid, rest, body, detail)
    {
        return p;
    }
    tls_warning(warning, body).unwrap_or(Parsed::Irrelevant)
}

/// The dispatch on the first words reads every known line, every cut of it and every
/// line with a word changed, as trying every recogniser in turn does.
#[test]
fn dispatch_on_the_first_words_keeps_every_recognition() {
    let lines = known_lines();
    assert!(lines.len() > 400, "only {} lines", lines.len());
    let words = [
        "",
        " ",
        "NOQUEUE: ",
        "3F1A21234: ",
        "warning: ",
        "server ",
        "CA ",
        "client ",
        "lost connection after STARTTLS from x[192.0.2.1]",
        "certificate verification failed for x[192.0.2.1]: untrusted",
    ];
    let mut events = 0;
    for (program, msg) in &lines {
        let daemon = program.rsplit('/').next();
        let mut variants: Vec<String> = words.iter().map(|w| format!("{w}{msg}")).collect();
        variants.extend(msg.char_indices().map(|(i, _)| msg[..i].to_owned()));
        variants.extend(words.iter().map(|w| format!("3F1A21234: {w}")));
        for m in variants.iter().map(String::as_str).chain([msg.as_str()]) {
            let got = parse_with_recognisers(daemon, rec::ALL, m, Detail::Full);
            assert_eq!(got, every_recogniser_in_turn(daemon, m), "{program}: {m}");
            events += usize::from(matches!(got, Parsed::Event(_)));
        }
    }
    assert!(events > 400, "only {events} events compared");
}

proptest! {
    /// The same on near-misses of every form's first words.
    #[test]
    fn dispatch_agrees_on_near_misses(
        head in prop::sample::select(vec![
            "", "3F1A21234: ", "NOQUEUE: ", "warning: ", "warning: 3F1A21234: ",
            "Anonymous ", "TLS ", "server ", "CA", " client ",
        ]),
        word in prop::sample::select(vec![
            "TLS connection established from ", "certificate verification failed for ",
            "lost connection after ", "timeout after ", "abort: TLS from ", "client=",
            "to=<", "from=<", "connect from ", "disconnect from ", "removed",
        ]),
        tail in "[\\[\\]:/ a-z0-9.()=<>,é-]{0,40}",
    ) {
        let line = format!("{head}{word}{tail}");
        for daemon in [Some("smtpd"), Some("smtp"), Some("qmgr"), None] {
            prop_assert_eq!(
                parse_with_recognisers(daemon, rec::ALL, &line, Detail::Full),
                every_recogniser_in_turn(daemon, &line)
            );
        }
    }
}

/// How a delivery's head was read before [`delivery_head`] (issue 21), kept as its oracle:
/// a substring search for `, status=`, the items split on `, ` outside angle brackets by
/// an iterator, each item split at its first `=`, the last of each key kept.
fn delivery_head_by_items(rest: &str) -> Option<(Head<'_>, &str)> {
    let (head, status) = rest.split_once(", status=")?;
    let mut out = Head::default();
    for item in Items::new(head) {
        let Some((k, v)) = item.split_once('=') else {
            continue;
        };
        match k {
            "to" => out.to = Some(v),
            "relay" => out.relay = Some(v),
            "dsn" => out.dsn = Some(v),
            "tls" => out.tls = Some(v),
            _ => {}
        }
    }
    Some((out, status))
}

/// The old item iterator (see [`delivery_head_by_items`]).
struct Items<'a> {
    head: &'a str,
    start: usize,
    depth: i32,
    done: bool,
}

impl<'a> Items<'a> {
    fn new(head: &'a str) -> Self {
        Items {
            head,
            start: 0,
            depth: 0,
            done: false,
        }
    }
}

impl<'a> Iterator for Items<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.done {
            return None;
        }
        let bytes = self.head.as_bytes();
        let mut i = self.start;
        while let Some(at) = bytes
            .get(i..)
            .and_then(|rest| memchr::memchr3(b'<', b'>', b',', rest))
        {
            i += at;
            match bytes.get(i) {
                Some(b'<') => self.depth += 1,
                Some(b'>') => self.depth -= 1,
                _ if self.depth <= 0 && bytes.get(i + 1) == Some(&b' ') => {
                    let item = self.head.get(self.start..i);
                    self.start = i + 2;
                    return item;
                }
                _ => {}
            }
            i += 1;
        }
        self.done = true;
        self.head.get(self.start..)
    }
}

/// The one-walk head reads every delivery line of the rows and the real fixtures as the
/// item iterator did, and finds their fields.
#[test]
fn delivery_head_agrees_with_the_item_iterator_on_known_lines() {
    let mut deliveries = 0;
    for (_, msg) in known_lines() {
        let Some((_, rest)) = lead_word(msg.trim_end()) else {
            continue;
        };
        if !rest.starts_with("to=<") {
            continue;
        }
        let got = delivery_head(rest);
        assert_eq!(got, delivery_head_by_items(rest), "{msg}");
        // (A few rows are malformed on purpose: no `, status=`.)
        if let Some((head, _)) = got {
            assert!(head.to.is_some() && head.relay.is_some(), "{msg}");
            deliveries += 1;
        }
    }
    assert!(deliveries > 40, "only {deliveries} deliveries");
}

proptest! {
    /// The same on text made of the bytes that steer the walk (brackets, commas, blanks,
    /// `=`, the keys' letters) and on mutated real heads: quoted commas, unbalanced
    /// brackets, repeated or empty keys, `, status=` inside brackets, none at all.
    #[test]
    fn delivery_head_agrees_with_the_item_iterator(
        rest in "(to=|relay=|dsn=|tls=|, status=|, |[<>,= a-z.é\\[\\]])*",
    ) {
        prop_assert_eq!(delivery_head(&rest), delivery_head_by_items(&rest));
    }

    #[test]
    fn delivery_head_agrees_on_cut_real_heads(
        cut in 0usize..200,
        insert in "[<>,= \"]{0,3}",
        at in 0usize..200,
    ) {
        let base = "to=<\"a, b\"@peer.example>, orig_to=<x@y>, relay=mx1.peer.example[192.0.2.30]:25, conn_use=2, delay=1.2, delays=0.1/0/1.1/0, tls=may, dsn=2.0.0, status=sent (250 2.0.0 Ok)";
        let mut s: String = base.chars().take(cut).collect();
        let at = at.min(s.len());
        s.insert_str(at, &insert);
        prop_assert_eq!(delivery_head(&s), delivery_head_by_items(&s));
    }
}

/// How [`is_queue_id`] read a word before its byte table (issue 21), kept as its oracle.
fn is_queue_id_by_predicates(s: &str) -> bool {
    let (mut short, mut alnum, mut digit) = (true, true, false);
    for b in s.bytes() {
        let d = b.is_ascii_digit();
        digit |= d;
        short &= d || (b'A'..=b'F').contains(&b);
        alnum &= b.is_ascii_alphanumeric();
    }
    let short = short && (5..=16).contains(&s.len());
    let long = alnum && digit && (10..=24).contains(&s.len());
    short || long
}

#[test]
fn queue_id_table_agrees_on_every_byte() {
    for b in 0..=255u8 {
        let c = CLASS[usize::from(b)];
        assert_eq!(c & DIGIT != 0, b.is_ascii_digit(), "{b}");
        assert_eq!(
            c & SHORT != 0,
            b.is_ascii_digit() || (b'A'..=b'F').contains(&b),
            "{b}"
        );
        assert_eq!(c & ALNUM != 0, b.is_ascii_alphanumeric(), "{b}");
    }
    for (_, msg) in known_lines() {
        for w in msg.split([' ', ':', ',', '=']) {
            assert_eq!(is_queue_id(w), is_queue_id_by_predicates(w), "{w}");
        }
    }
}

proptest! {
    #[test]
    fn queue_id_agrees_with_the_predicates(s in "[0-9A-Fa-gzZ_é-]{0,26}") {
        prop_assert_eq!(is_queue_id(&s), is_queue_id_by_predicates(&s));
    }

    /// `split_near` is `str::split_once` (the needles are ASCII; texts hold any chars).
    #[test]
    fn split_near_is_split_once(
        hay in "[ :()a-z0-9>,é]{0,40}",
        needle in prop::sample::select(vec![": ", " with cipher ", " (", " bits)", ">,", "a", " to "]),
    ) {
        prop_assert_eq!(split_near(&hay, needle), hay.split_once(needle));
        prop_assert_eq!(split_short(&hay, needle), hay.split_once(needle));
    }

    /// `lead` is `lead_word` plus `is_queue_id` of its word.
    #[test]
    fn lead_agrees_with_lead_word_and_is_queue_id(
        s in "([0-9A-Fa-gzZ_é-]{0,26}|NOQUEUE|warning)(: |:| )?[a-z ]{0,4}",
    ) {
        prop_assert_eq!(
            lead(&s),
            lead_word(&s).map(|(w, r)| (w, r, is_queue_id(w)))
        );
    }
}

/// The ASCII `disconnect` read without a word split gives what the word split on Unicode
/// blanks gives (the old path, kept as the oracle; on ASCII it is the old ASCII split plus
/// the vertical tab), on every known `disconnect` line, every cut of it from the front and
/// the back.
#[test]
fn disconnect_ascii_agrees_with_the_word_split() {
    let mut compared = 0;
    for (_, msg) in known_lines() {
        let Some(rest) = msg.trim_end().strip_prefix("disconnect from ") else {
            continue;
        };
        for i in 0..=rest.len() {
            for s in [&rest[..i], &rest[i..]] {
                if s.is_ascii() {
                    assert_eq!(
                        disconnect_ascii(s),
                        disconnect_words(s, s.split_whitespace()),
                        "{s:?}"
                    );
                    compared += 1;
                }
            }
        }
    }
    assert!(compared > 500, "only {compared} compared");
}

proptest! {
    /// The same on near-misses: `starttls` counters good and bad, repeated, glued to other
    /// words or inside them, every ASCII blank, peers with and without an address.
    #[test]
    fn disconnect_ascii_agrees_on_near_misses(
        peer in prop::sample::select(vec![
            "mail.peer.example[192.0.2.20]", "unknown[192.0.2.50]", "a[::1]:25", "x",
            "a=b[10.0.0.1]", "starttls=1", "", "[", "h[1.2.3.4]:x",
        ]),
        words in prop::collection::vec(prop::sample::select(vec![
            "ehlo=1", "starttls=1", "starttls=0/1", "starttls=", "starttls=x", "starttls=1=2",
            "xstarttls=1", "a=starttls=1", "starttls", "commands=5/6", "=", "mail", " ",
            "\t", "\r", "\n", "\u{c}", "\u{b}", "starttls=4294967296", "starttls=/1",
            "starttls=1/",
        ]), 0..8),
        lead in prop::sample::select(vec!["", " ", "\t ", "  ", "\u{b}"]),
        sep in prop::sample::select(vec![" ", "  ", "\t", " \r", "\u{b}"]),
    ) {
        let s = format!("{lead}{peer}{sep}{}", words.join(sep));
        prop_assert_eq!(disconnect_ascii(&s), disconnect_words(&s, s.split_whitespace()));
    }
}

proptest! {
    /// The shortcut trim is `str::trim`, with Unicode blanks and non-ASCII ends around.
    #[test]
    fn shortcut_trim_is_str_trim(
        parts in prop::collection::vec(prop::sample::select(vec![
            " ", "\t", "\n", "\u{b}", "\u{a0}", "\u{2003}", "\u{3000}", "\u{85}", "a", "[", "é",
            "X25519", "[192.0.2.1]", "\u{feff}",
        ]), 0..8),
    ) {
        let s: String = parts.concat();
        prop_assert_eq!(trim(&s), s.trim());
    }
}
