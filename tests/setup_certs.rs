//! `mailtls config certs`: the generated set against the real openssl binary, rustls
//! (webpki) and x509-parser, and the OpenSSL subject hash against `openssl x509 -hash`.

// A test: failing loudly is its job (Cargo.toml's [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod setup_common;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

use mailtls::setup::hash;
use mailtls::setup::keys;
use setup_common::*;

fn mode(p: &std::path::Path) -> u32 {
    fs::symlink_metadata(p).expect("stat").permissions().mode() & 0o7777
}

#[test]
fn rsa_set_passes_openssl_and_has_the_seed_layout() {
    let t = Tree::new();
    t.certs(&["--san", "192.0.2.25", "--client", "relay"]);
    let dir = t.p(CERTS);
    let ca_cert = dir.join("cacert.pem");
    let cert = dir.join("mx1-cert.pem");
    let key = dir.join("mx1-key.pem");

    // Modes from the first byte, and the CA key elsewhere.
    assert_eq!(mode(&key), 0o600);
    assert_eq!(mode(&dir.join("relay-key.pem")), 0o600);
    assert_eq!(mode(&cert), 0o644);
    assert_eq!(mode(&ca_cert), 0o644);
    assert!(
        !dir.join("cakey.pem").exists(),
        "CA key must not be in the certificate directory"
    );
    assert_eq!(mode(&t.p("/root/mail-ca/cakey.pem")), 0o600);

    // The hash link is exactly openssl's hash and points at cacert.pem.
    let h = openssl_ok(&[
        "x509",
        "-noout",
        "-hash",
        "-in",
        &ca_cert.display().to_string(),
    ]);
    let link = dir.join(format!("{}.0", h.trim()));
    assert_eq!(
        fs::read_link(&link).expect("hash link"),
        std::path::Path::new("cacert.pem")
    );

    // The chain verifies with -CAfile and with -CApath (which uses the link).
    for c in [&cert, &dir.join("relay-cert.pem")] {
        let out = openssl_ok(&[
            "verify",
            "-CAfile",
            &ca_cert.display().to_string(),
            &c.display().to_string(),
        ]);
        assert!(out.trim().ends_with(": OK"), "{out}");
    }
    let out = openssl_ok(&[
        "verify",
        "-CApath",
        &dir.display().to_string(),
        &cert.display().to_string(),
    ]);
    assert!(out.trim().ends_with(": OK"), "{out}");

    // The key is unencrypted, valid, and the certificate's.
    let out = openssl(&[
        "rsa",
        "-check",
        "-noout",
        "-passin",
        "pass:",
        "-in",
        &key.display().to_string(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("RSA key ok"));
    let cert_pub = openssl_ok(&[
        "x509",
        "-noout",
        "-pubkey",
        "-in",
        &cert.display().to_string(),
    ]);
    let key_pub = openssl_ok(&[
        "pkey",
        "-pubout",
        "-passin",
        "pass:",
        "-in",
        &key.display().to_string(),
    ]);
    assert_eq!(cert_pub, key_pub);

    // x509-parser: subject, SANs, usage, validity.
    let der = keys::pem_certificates(&fs::read(&cert).expect("read")).remove(0);
    let c = keys::parse_cert(&der).expect("parse");
    assert_eq!(c.subject().to_string(), "O=Mail TLS, CN=mx1.example.org");
    let san = c.subject_alternative_name().expect("ext").expect("san");
    let names: Vec<String> = san
        .value
        .general_names
        .iter()
        .map(|g| g.to_string())
        .collect();
    assert_eq!(
        names,
        ["DNSName(mx1.example.org)", "IPAddress(c0:00:02:19)"]
    );
    let eku = c.extended_key_usage().expect("ext").expect("eku");
    assert!(eku.value.server_auth && eku.value.client_auth);
    let days = (c.validity().not_after.timestamp() - c.validity().not_before.timestamp()) / 86_400;
    assert_eq!(
        days, 825,
        "default --days plus the hour of back-dating, rounded down"
    );
    let ca_der = keys::pem_certificates(&fs::read(&ca_cert).expect("read")).remove(0);
    let ca = keys::parse_cert(&ca_der).expect("parse");
    assert!(ca.is_ca());
    assert_eq!(keys::cert_public(&c).map(|p| p.bits()), Some(2048));
}

#[test]
fn ecdsa_set_verifies_with_rustls_webpki() {
    let t = Tree::new();
    t.certs(&["--key-type", "ecdsa-p256", "--days", "90"]);
    let dir = t.p(CERTS);
    let ca_der = keys::pem_certificates(&fs::read(dir.join("cacert.pem")).expect("read")).remove(0);
    let ee_der =
        keys::pem_certificates(&fs::read(dir.join("mx1-cert.pem")).expect("read")).remove(0);
    let ca = rustls_pki_types::CertificateDer::from(ca_der);
    let anchor = webpki::anchor_from_trusted_cert(&ca).expect("anchor");
    let ee_cert = rustls_pki_types::CertificateDer::from(ee_der);
    let ee = webpki::EndEntityCert::try_from(&ee_cert).expect("ee");
    let now = rustls_pki_types::UnixTime::now();
    ee.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &[anchor],
        &[],
        now,
        webpki::KeyUsage::server_auth(),
        None,
        None,
    )
    .expect("chain verifies with webpki");
    let name = rustls_pki_types::ServerName::try_from("mx1.example.org").expect("name");
    ee.verify_is_valid_for_subject_name(&name)
        .expect("name matches");
    let out = openssl_ok(&[
        "ec",
        "-check",
        "-noout",
        "-in",
        &dir.join("mx1-key.pem").display().to_string(),
    ]);
    let _ = out;
    let out = openssl_ok(&[
        "verify",
        "-CAfile",
        &dir.join("cacert.pem").display().to_string(),
        &dir.join("mx1-cert.pem").display().to_string(),
    ]);
    assert!(out.trim().ends_with(": OK"), "{out}");
}

#[test]
fn existing_files_are_kept_without_force_and_the_ca_is_reused() {
    let t = Tree::new();
    t.certs(&["--key-type", "ecdsa-p256"]);
    let key = t.p("/etc/mail/certs/mx1-key.pem");
    let before = fs::read(&key).expect("read");
    let out = mailtls()
        .args([
            "config",
            "certs",
            "--key-type",
            "ecdsa-p256",
            "--name",
            "mx1",
            "--dir",
        ])
        .arg(t.p(CERTS))
        .arg("--ca-dir")
        .arg(t.p("/root/mail-ca"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("mx1-key.pem exists (use --force"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(fs::read(&key).expect("read"), before);
    // Nothing at all is written when one target exists.
    mailtls()
        .args([
            "config",
            "certs",
            "--key-type",
            "ecdsa-p256",
            "--name",
            "mx1",
            "--client",
            "late",
            "--dir",
        ])
        .arg(t.p(CERTS))
        .arg("--ca-dir")
        .arg(t.p("/root/mail-ca"))
        .assert()
        .code(2);
    assert!(!t.p("/etc/mail/certs/late-key.pem").exists());

    // A client pair added later is signed by the same CA.
    let ca_before = fs::read(t.p("/etc/mail/certs/cacert.pem")).expect("read");
    mailtls()
        .args([
            "config",
            "certs",
            "--key-type",
            "ecdsa-p256",
            "--name",
            "mx2",
            "--client",
            "relay",
            "--dir",
        ])
        .arg(t.p(CERTS))
        .arg("--ca-dir")
        .arg(t.p("/root/mail-ca"))
        .assert()
        .success();
    assert_eq!(
        fs::read(t.p("/etc/mail/certs/cacert.pem")).expect("read"),
        ca_before
    );
    let out = openssl_ok(&[
        "verify",
        "-CAfile",
        &t.p("/etc/mail/certs/cacert.pem").display().to_string(),
        &t.p("/etc/mail/certs/relay-cert.pem").display().to_string(),
    ]);
    assert!(out.trim().ends_with(": OK"));

    // --force replaces the key but keeps the CA; --new-ca replaces the CA too.
    t.certs(&["--key-type", "ecdsa-p256", "--force"]);
    assert_ne!(fs::read(&key).expect("read"), before);
    assert_eq!(
        fs::read(t.p("/etc/mail/certs/cacert.pem")).expect("read"),
        ca_before
    );
    t.certs(&["--key-type", "ecdsa-p256", "--force", "--new-ca"]);
    assert_ne!(
        fs::read(t.p("/etc/mail/certs/cacert.pem")).expect("read"),
        ca_before
    );
    let out = openssl_ok(&[
        "verify",
        "-CAfile",
        &t.p("/etc/mail/certs/cacert.pem").display().to_string(),
        &t.p("/etc/mail/certs/mx1-cert.pem").display().to_string(),
    ]);
    assert!(out.trim().ends_with(": OK"));
}

#[test]
fn msp_keys_are_0640_with_the_msp_group() {
    let t = Tree::new();
    let gid = t.my_gid().to_string();
    t.certs(&["--key-type", "ecdsa-p256", "--msp", "--msp-group", &gid]);
    let key = t.p("/etc/mail/certs/mx1-key.pem");
    let m = fs::metadata(&key).expect("stat");
    assert_eq!(m.permissions().mode() & 0o7777, 0o640);
    assert_eq!(m.gid().to_string(), gid);
}

#[test]
fn ca_key_in_the_certificate_directory_is_refused() {
    let t = Tree::new();
    mailtls()
        .args(["config", "certs", "--name", "mx1", "--dir"])
        .arg(t.p(CERTS))
        .arg("--ca-dir")
        .arg(t.p(CERTS))
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "must not live on the mail server",
        ));
}

/// Subjects chosen to exercise every branch of OpenSSL's canonical name encoding: case and
/// white space folding, UTF-8, PrintableString/T61String/BMPString (string_mask), IA5
/// emailAddress and domainComponent, multi-valued RDNs (DER SET sorting), long values.
#[test]
fn subject_hash_matches_openssl_for_awkward_names() {
    let rows: [(&str, &str); 9] = [
        ("utf8only", "/CN=Example Mail CA"),
        (
            "utf8only",
            "/C=DE/ST=Bayern/L=München/O=Beispiel GmbH/CN=mx.beispiel.de",
        ),
        ("utf8only", "/O=  Spaces   Inside  /CN=UPPER.Case.ORG"),
        (
            "default",
            "/C=US/O=Printable Org/OU=Mail  Relays/CN=MX1.EXAMPLE.COM",
        ),
        ("nombstr", "/O=Zürich Post/CN=smtp.zuerich.example"),
        ("pkix", "/O=Société Générale Test/CN=relay.example.fr"),
        (
            "utf8only",
            "/DC=org/DC=Example/emailAddress=PostMaster@Example.ORG/CN=dc",
        ),
        ("utf8only", "/O=Multi/CN=b.example+OU=Zeta+OU=alpha"),
        (
            "default",
            "/O=A long organisation name of sixty characters, nearly the max/OU=And a unit name long enough to push the RDNs past 127/CN=long.example",
        ),
    ];
    let tmp = tempfile::tempdir().expect("tempdir");
    for (i, (mask, subj)) in rows.iter().enumerate() {
        let conf = tmp.path().join(format!("{i}.cnf"));
        fs::write(
            &conf,
            format!("[req]\ndistinguished_name = dn\nstring_mask = {mask}\n[dn]\n"),
        )
        .expect("write");
        let cert = tmp.path().join(format!("{i}.pem"));
        let key = tmp.path().join(format!("{i}.key"));
        openssl_ok(&[
            "req",
            "-x509",
            "-new",
            "-nodes",
            "-config",
            &conf.display().to_string(),
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-keyout",
            &key.display().to_string(),
            "-out",
            &cert.display().to_string(),
            "-days",
            "1",
            "-utf8",
            "-multivalue-rdn",
            "-subj",
            subj,
        ]);
        let want = openssl_ok(&[
            "x509",
            "-noout",
            "-hash",
            "-in",
            &cert.display().to_string(),
        ]);
        let der = keys::pem_certificates(&fs::read(&cert).expect("read")).remove(0);
        let got = hash::subject_hash(&der).expect("hash");
        assert_eq!(format!("{got:08x}"), want.trim(), "row {i}: {mask} {subj}");
        assert_eq!(hash::link_name(got), format!("{}.0", want.trim()));
    }
}

/// Every key format OpenSSL writes: what the doctor makes of it, and whether its public
/// half is found equal to that of a certificate made from the key by openssl itself.
#[test]
fn key_formats_written_by_openssl() {
    use mailtls::setup::keys::KeyFormat;
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = |n: &str| tmp.path().join(n).display().to_string();
    // Rows: file, commands making it, the format, whether a public key is read from it.
    let rows: Vec<(&str, Vec<Vec<String>>, KeyFormat, bool)> = vec![
        (
            "pkcs8-rsa.pem",
            vec![vec![
                "genpkey".into(),
                "-algorithm".into(),
                "RSA".into(),
                "-pkeyopt".into(),
                "rsa_keygen_bits:2048".into(),
                "-out".into(),
                d("pkcs8-rsa.pem"),
            ]],
            KeyFormat::Pkcs8,
            true,
        ),
        (
            "pkcs1.pem",
            vec![vec![
                "genrsa".into(),
                "-traditional".into(),
                "-out".into(),
                d("pkcs1.pem"),
                "2048".into(),
            ]],
            KeyFormat::Pkcs1,
            true,
        ),
        (
            "sec1.pem",
            vec![vec![
                "ecparam".into(),
                "-name".into(),
                "prime256v1".into(),
                "-genkey".into(),
                "-noout".into(),
                "-out".into(),
                d("sec1.pem"),
            ]],
            KeyFormat::Sec1,
            true,
        ),
        (
            "pkcs8-ec.pem",
            vec![vec![
                "genpkey".into(),
                "-algorithm".into(),
                "EC".into(),
                "-pkeyopt".into(),
                "ec_paramgen_curve:P-384".into(),
                "-out".into(),
                d("pkcs8-ec.pem"),
            ]],
            KeyFormat::Pkcs8,
            true,
        ),
        (
            "enc-pkcs8.pem",
            vec![vec![
                "pkcs8".into(),
                "-topk8".into(),
                "-v2".into(),
                "aes-256-cbc".into(),
                "-passout".into(),
                "pass:x".into(),
                "-in".into(),
                d("sec1.pem"),
                "-out".into(),
                d("enc-pkcs8.pem"),
            ]],
            KeyFormat::EncryptedPkcs8,
            false,
        ),
        (
            "enc-legacy.pem",
            vec![vec![
                "rsa".into(),
                "-aes128".into(),
                "-traditional".into(),
                "-passout".into(),
                "pass:x".into(),
                "-in".into(),
                d("pkcs1.pem"),
                "-out".into(),
                d("enc-legacy.pem"),
            ]],
            KeyFormat::EncryptedLegacy("AES-128-CBC".into()),
            false,
        ),
        (
            "der.key",
            vec![vec![
                "pkey".into(),
                "-outform".into(),
                "DER".into(),
                "-in".into(),
                d("sec1.pem"),
                "-out".into(),
                d("der.key"),
            ]],
            KeyFormat::NoKey,
            false,
        ),
    ];
    for (file, cmds, format, has_public) in rows {
        for c in &cmds {
            let args: Vec<&str> = c.iter().map(String::as_str).collect();
            openssl_ok(&args);
        }
        let info = keys::inspect_key(&fs::read(tmp.path().join(file)).expect("read"));
        assert_eq!(info.format, format, "{file}");
        assert_eq!(info.public.is_some(), has_public, "{file}");
        if has_public {
            let cert = d(&format!("{file}.crt"));
            openssl_ok(&[
                "req",
                "-x509",
                "-new",
                "-key",
                &d(file),
                "-subj",
                "/CN=k",
                "-days",
                "1",
                "-out",
                &cert,
            ]);
            let der = keys::pem_certificates(&fs::read(&cert).expect("read")).remove(0);
            let c = keys::parse_cert(&der).expect("parse");
            assert_eq!(
                keys::cert_public(&c),
                info.public,
                "{file}: key and its own certificate"
            );
        }
    }
}

/// The generated pair serves a real TLS handshake (rustls, in memory) that a client
/// trusting only cacert.pem accepts for the server's name: RSA and ECDSA.
#[test]
fn generated_pair_completes_a_rustls_handshake() {
    use std::sync::Arc;
    for key_type in ["rsa2048", "ecdsa-p384"] {
        let t = Tree::new();
        t.certs(&["--key-type", key_type]);
        let dir = t.p(CERTS);
        let certs: Vec<rustls_pki_types::CertificateDer<'static>> =
            keys::pem_certificates(&fs::read(dir.join("mx1-cert.pem")).expect("read"))
                .into_iter()
                .map(rustls_pki_types::CertificateDer::from)
                .collect();
        let key_pem = pem::parse(fs::read(dir.join("mx1-key.pem")).expect("read")).expect("pem");
        assert_eq!(key_pem.tag(), "PRIVATE KEY");
        let key = rustls_pki_types::PrivateKeyDer::Pkcs8(key_pem.into_contents().into());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let server_cfg = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .expect("server accepts the pair");
        let mut roots = rustls::RootCertStore::empty();
        for ca in keys::pem_certificates(&fs::read(dir.join("cacert.pem")).expect("read")) {
            roots
                .add(rustls_pki_types::CertificateDer::from(ca))
                .expect("root");
        }
        let client_cfg = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = rustls_pki_types::ServerName::try_from("mx1.example.org").expect("name");
        let mut client = rustls::ClientConnection::new(Arc::new(client_cfg), name).expect("client");
        let mut server = rustls::ServerConnection::new(Arc::new(server_cfg)).expect("server");
        for _ in 0..10 {
            let mut buf = Vec::new();
            client.write_tls(&mut buf).expect("client write");
            server.read_tls(&mut buf.as_slice()).expect("server read");
            server
                .process_new_packets()
                .expect("server accepts the handshake");
            let mut buf = Vec::new();
            server.write_tls(&mut buf).expect("server write");
            client.read_tls(&mut buf.as_slice()).expect("client read");
            client
                .process_new_packets()
                .unwrap_or_else(|e| panic!("{key_type}: client rejects: {e}"));
            if !client.is_handshaking() && !server.is_handshaking() {
                break;
            }
        }
        assert!(
            !client.is_handshaking() && !server.is_handshaking(),
            "{key_type}: handshake did not finish"
        );
    }
}
