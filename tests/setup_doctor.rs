//! `mailtls doctor` on a good set-up (clean, exit 0) and on each broken one, with the
//! exact finding (check, severity, file, and the line Sendmail or Postfix would log).

// A test: failing loudly is its job (Cargo.toml's [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod setup_common;

use std::fs;
use std::os::unix::fs::PermissionsExt;

use serde_json::Value;
use setup_common::*;

const KEY: &str = "/etc/mail/certs/mx1-key.pem";
const CERT: &str = "/etc/mail/certs/mx1-cert.pem";
const CA: &str = "/etc/mail/certs/cacert.pem";

/// A clean ECDSA set-up without the MSP (fast to make); RSA where a test needs it.
fn good(key_type: &str) -> Tree {
    let t = Tree::new();
    t.certs(&["--key-type", key_type]);
    t.cf(false);
    t
}

fn chmod(t: &Tree, p: &str, mode: u32) {
    fs::set_permissions(t.p(p), fs::Permissions::from_mode(mode)).expect("chmod");
}

fn only<'a>(findings: &'a [Value], check: &str) -> &'a Value {
    let f = with_check(findings, check);
    assert_eq!(f.len(), 1, "want one {check} finding in {findings:#?}");
    f[0]
}

#[test]
fn generated_set_is_clean() {
    let t = good("rsa2048");
    let (code, findings) = t.doctor(&["--cf", "/etc/mail/sendmail.cf"]);
    assert!(findings.is_empty(), "{findings:#?}");
    assert_eq!(code, 0);
    mailtls()
        .args(["doctor", "--root"])
        .arg(t.root())
        .assert()
        .code(0)
        .stdout(predicates::str::contains(
            "clean: no TLS problems found in /etc/mail/sendmail.cf",
        ));
}

#[test]
fn msp_set_up_is_clean_with_group_readable_keys() {
    let t = Tree::new();
    let gid = t.my_gid().to_string();
    t.certs(&["--key-type", "ecdsa-p256", "--msp", "--msp-group", &gid]);
    t.cf(true);
    let (code, findings) = t.doctor(&[
        "--cf",
        "/etc/mail/sendmail.cf",
        "--submit-cf",
        "/etc/mail/submit.cf",
        "--msp-group",
        &gid,
    ]);
    assert!(findings.is_empty(), "{findings:#?}");
    assert_eq!(code, 0);
}

#[test]
fn encrypted_pkcs8_key() {
    let t = good("ecdsa-p256");
    let k = t.p(KEY).display().to_string();
    openssl_ok(&[
        "pkey",
        "-aes256",
        "-passout",
        "pass:x",
        "-in",
        &k,
        "-out",
        &format!("{k}.enc"),
    ]);
    fs::rename(format!("{k}.enc"), &k).expect("mv");
    chmod(&t, KEY, 0o600);
    let (code, findings) = t.doctor(&["--cf", "/etc/mail/sendmail.cf"]);
    assert_eq!(code, 1);
    let server: Vec<_> = with_check(&findings, "key-encrypted")
        .into_iter()
        .filter(|f| f["severity"] == "error")
        .collect();
    assert_eq!(server.len(), 1, "{findings:#?}");
    let f = server[0];
    assert_eq!(f["file"], KEY);
    assert_eq!(f["kind"], "private_key");
    assert_eq!(
        f["log_line"],
        "STARTTLS=server, error: SSL_CTX_use_PrivateKey_file(/etc/mail/certs/mx1-key.pem) failed"
    );
    assert!(
        f["problem"]
            .as_str()
            .unwrap_or("")
            .contains("ENCRYPTED PRIVATE KEY")
    );
    assert!(
        f["fix"]
            .as_str()
            .unwrap_or("")
            .starts_with("openssl pkey -in /etc/mail/certs/mx1-key.pem")
    );
    // The same key is also the client key: a warning with the client-side line.
    let client: Vec<_> = with_check(&findings, "key-encrypted")
        .into_iter()
        .filter(|f| f["severity"] == "warning")
        .collect();
    assert_eq!(
        client[0]["log_line"],
        "STARTTLS=client, error: SSL_CTX_use_PrivateKey_file(/etc/mail/certs/mx1-key.pem) failed"
    );
}

#[test]
fn encrypted_traditional_rsa_key_as_ca_pl_made_it() {
    let t = good("rsa2048");
    let k = t.p(KEY).display().to_string();
    openssl_ok(&[
        "rsa",
        "-des3",
        "-traditional",
        "-passout",
        "pass:x",
        "-in",
        &k,
        "-out",
        &format!("{k}.enc"),
    ]);
    let text = fs::read_to_string(format!("{k}.enc")).expect("read");
    assert!(text.contains("Proc-Type: 4,ENCRYPTED"), "{text}");
    fs::rename(format!("{k}.enc"), &k).expect("mv");
    chmod(&t, KEY, 0o600);
    let (code, findings) = t.doctor(&["--cf", "/etc/mail/sendmail.cf"]);
    assert_eq!(code, 1);
    let f = with_check(&findings, "key-encrypted");
    assert!(
        f[0]["problem"]
            .as_str()
            .unwrap_or("")
            .contains("Proc-Type: 4,ENCRYPTED, DES-EDE3-CBC"),
        "{f:#?}"
    );
}

#[test]
fn world_and_group_readable_keys() {
    // Rows: mode, DontBlameSendmail value, the refusal sendmail logs (None = accepted).
    let rows: [(u32, &str, Option<&str>); 5] = [
        (0o644, "safe", Some("Group readable file")),
        (0o640, "safe", Some("Group readable file")),
        (0o604, "safe", Some("World readable file")),
        (0o640, "GroupReadableKeyFile", None),
        (0o644, "GroupReadableKeyFile", Some("World readable file")),
    ];
    let t = good("ecdsa-p256");
    let cf = t.p("/etc/mail/sendmail.cf");
    let base = fs::read_to_string(&cf).expect("read");
    for (mode, dbs, want) in rows {
        fs::write(
            &cf,
            base.replace(
                "O DontBlameSendmail=safe",
                &format!("O DontBlameSendmail={dbs}"),
            ),
        )
        .expect("write");
        chmod(&t, KEY, mode);
        let (code, findings) = t.doctor(&["--cf", "/etc/mail/sendmail.cf"]);
        let unsafe_: Vec<_> = with_check(&findings, "unsafe-file")
            .into_iter()
            .filter(|f| f["severity"] == "error")
            .collect();
        match want {
            None => {
                assert!(findings.is_empty(), "{mode:o} {dbs}: {findings:#?}");
                assert_eq!(code, 0);
            }
            Some(reason) => {
                assert_eq!(code, 1, "{mode:o} {dbs}");
                assert_eq!(unsafe_.len(), 1, "{mode:o} {dbs}: {findings:#?}");
                assert_eq!(unsafe_[0]["file"], KEY);
                assert_eq!(unsafe_[0]["kind"], "unsafe_file");
                assert_eq!(
                    unsafe_[0]["log_line"],
                    format!("STARTTLS=server: file /etc/mail/certs/mx1-key.pem unsafe: {reason}")
                );
                let fix = if dbs == "safe" || reason == "Group readable file" {
                    "chmod 600"
                } else {
                    "chmod 640"
                };
                assert!(
                    unsafe_[0]["fix"].as_str().unwrap_or("").starts_with(fix),
                    "{mode:o} {dbs}: {:#?}",
                    unsafe_[0]
                );
            }
        }
    }
}

#[test]
fn missing_hash_link_is_a_warning_and_a_wrong_one_an_error() {
    let t = good("ecdsa-p256");
    let dir = t.p("/etc/mail/certs");
    let link = fs::read_dir(&dir)
        .expect("ls")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "0"))
        .expect("hash link");
    let name = link
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    fs::remove_file(&link).expect("rm");
    let (code, findings) = t.doctor(&["--cf", "/etc/mail/sendmail.cf"]);
    let f = only(&findings, "hash-link-missing");
    assert_eq!(f["severity"], "warning");
    assert_eq!(f["file"], format!("/etc/mail/certs/{name}"));
    assert_eq!(
        f["fix"],
        format!("cd /etc/mail/certs && ln -sf cacert.pem {name}")
    );
    assert_eq!(code, 0, "a missing link alone is a warning");

    // The link pointing at the server certificate instead of the CA.
    std::os::unix::fs::symlink("mx1-cert.pem", &link).expect("ln");
    let (code, findings) = t.doctor(&["--cf", "/etc/mail/sendmail.cf"]);
    let wrong: Vec<_> = with_check(&findings, "hash-link-wrong");
    assert!(
        wrong
            .iter()
            .any(|f| f["severity"] == "error" && f["file"] == format!("/etc/mail/certs/{name}")),
        "{findings:#?}"
    );
    // …and, named for the CA's hash, it is never opened for the server certificate either.
    assert!(
        wrong.iter().any(|f| f["severity"] == "warning"),
        "{findings:#?}"
    );
    assert_eq!(code, 1);

    // A dangling link.
    fs::remove_file(&link).expect("rm");
    std::os::unix::fs::symlink("gone.pem", &link).expect("ln");
    let (_, findings) = t.doctor(&["--cf", "/etc/mail/sendmail.cf"]);
    assert_eq!(only(&findings, "hash-link-wrong")["severity"], "error");
}

#[test]
fn expired_and_expiring_certificates() {
    // Judge the same files at other times through the library.
    use mailtls::setup::doctor::{Check, DoctorInput, Severity, diagnose};
    let t = good("ecdsa-p256");
    let input = |days: i64| DoctorInput {
        cf: Some("/etc/mail/sendmail.cf".into()),
        submit_cf: None,
        postfix_dir: None,
        exim: None,
        log: None,
        root: Some(t.root().to_path_buf()),
        msp_group: "smmsp".into(),
        warn_days: 30,
        now: chrono::Utc::now() + chrono::Duration::days(days),
    };
    let r = diagnose(&input(900));
    let expired = r.of(Check::CertExpired);
    assert!(
        expired
            .iter()
            .any(|f| f.file.as_deref() == Some(std::path::Path::new(CERT))
                && f.severity == Severity::Error),
        "{expired:#?}"
    );
    assert!(r.has_errors());
    let r = diagnose(&input(810));
    let soon = r.of(Check::CertExpiresSoon);
    assert_eq!(soon.len(), 1, "{:#?}", r.findings);
    assert_eq!(soon[0].severity, Severity::Warning);
    assert!(
        soon[0].problem.starts_with("certificate expires on"),
        "{}",
        soon[0].problem
    );
    assert!(!r.has_errors());
    let r = diagnose(&input(-2));
    assert_eq!(
        r.of(Check::CertNotYetValid).len(),
        2,
        "server and CA: {:#?}",
        r.findings
    );
}

#[test]
fn key_that_belongs_to_another_certificate() {
    let t = Tree::new();
    t.certs(&["--key-type", "ecdsa-p256", "--client", "relay"]);
    t.cf(false);
    fs::copy(t.p("/etc/mail/certs/relay-key.pem"), t.p(KEY)).expect("cp");
    let (code, findings) = t.doctor(&["--cf", "/etc/mail/sendmail.cf"]);
    assert_eq!(code, 1);
    let f: Vec<_> = with_check(&findings, "key-mismatch")
        .into_iter()
        .filter(|f| f["severity"] == "error")
        .collect();
    assert_eq!(f.len(), 1, "{findings:#?}");
    assert_eq!(
        f[0]["log_line"],
        "STARTTLS=server, error: SSL_CTX_check_private_key failed(/etc/mail/certs/mx1-key.pem): 0"
    );
    assert_eq!(f[0]["kind"], "private_key");
}

#[test]
fn missing_certificate_file() {
    let t = good("ecdsa-p256");
    fs::remove_file(t.p(CERT)).expect("rm");
    let (code, findings) = t.doctor(&["--cf", "/etc/mail/sendmail.cf"]);
    assert_eq!(code, 1);
    let f: Vec<_> = with_check(&findings, "file-missing")
        .into_iter()
        .filter(|f| f["severity"] == "error")
        .collect();
    assert_eq!(f.len(), 1, "{findings:#?}");
    assert_eq!(f[0]["file"], CERT);
    assert_eq!(
        f[0]["log_line"],
        "STARTTLS=server: file /etc/mail/certs/mx1-cert.pem unsafe: No such file or directory"
    );
}

#[test]
fn missing_server_option_and_no_tls_at_all() {
    let t = good("ecdsa-p256");
    let cf = t.p("/etc/mail/sendmail.cf");
    let text = fs::read_to_string(&cf).expect("read");
    fs::write(
        &cf,
        text.replace("O ServerKeyFile=/etc/mail/certs/mx1-key.pem\n", ""),
    )
    .expect("write");
    let (code, findings) = t.doctor(&["--cf", "/etc/mail/sendmail.cf"]);
    assert_eq!(code, 1);
    let f = only(&findings, "option-missing");
    assert_eq!(f["log_line"], "STARTTLS: ServerKeyFile missing");
    fs::write(&cf, format!("{DEBIAN_CF_HEAD}{DEBIAN_CF_TAIL}")).expect("write");
    let (code, findings) = t.doctor(&["--cf", "/etc/mail/sendmail.cf"]);
    assert_eq!(code, 1);
    assert!(
        only(&findings, "option-missing")["problem"]
            .as_str()
            .unwrap_or("")
            .starts_with("no TLS options are set")
    );
}

#[test]
fn world_writable_directory() {
    let t = good("ecdsa-p256");
    chmod(&t, "/etc/mail/certs", 0o777);
    let (code, findings) = t.doctor(&["--cf", "/etc/mail/sendmail.cf"]);
    assert_eq!(code, 1);
    let f: Vec<_> = with_check(&findings, "unsafe-file");
    assert!(f.iter().any(|f| f["log_line"] == "STARTTLS=server: file /etc/mail/certs/mx1-key.pem unsafe: World writable directory"), "{findings:#?}");
    assert!(f.iter().all(|f| {
        f["fix"]
            .as_str()
            .unwrap_or("")
            .starts_with("chmod go-w /etc/mail/certs")
    }));
}

#[test]
fn chain_that_does_not_verify_against_cacertfile() {
    // A second, unrelated CA replaces cacert.pem.
    let t = good("ecdsa-p256");
    let other = Tree::new();
    other.certs(&["--key-type", "ecdsa-p256"]);
    fs::copy(other.p(CA), t.p(CA)).expect("cp");
    let (_, findings) = t.doctor(&["--cf", "/etc/mail/sendmail.cf"]);
    let f: Vec<_> = with_check(&findings, "chain-unverified");
    assert!(f.iter().any(|f| f["file"] == CERT), "{findings:#?}");
    assert!(
        f[0]["problem"]
            .as_str()
            .unwrap_or("")
            .contains("signature does not verify"),
        "{f:#?}"
    );
}

#[test]
fn ca_private_key_on_the_server() {
    let t = good("ecdsa-p256");
    fs::copy(
        t.p("/root/mail-ca/cakey.pem"),
        t.p("/etc/mail/certs/cakey.pem"),
    )
    .expect("cp");
    let (code, findings) = t.doctor(&["--cf", "/etc/mail/sendmail.cf"]);
    let f = only(&findings, "ca-key-on-server");
    assert_eq!(f["severity"], "warning");
    assert_eq!(f["file"], "/etc/mail/certs/cakey.pem");
    assert_eq!(code, 0);
}

#[test]
fn msp_problems_and_inconsistent_submit_cf() {
    let t = Tree::new();
    let gid = t.my_gid().to_string();
    t.certs(&["--key-type", "ecdsa-p256", "--msp", "--msp-group", &gid]);
    t.cf(true);
    let args = [
        "--cf",
        "/etc/mail/sendmail.cf",
        "--submit-cf",
        "/etc/mail/submit.cf",
        "--msp-group",
        gid.as_str(),
    ];

    // Keys 0600: the MTA is happy, the MSP cannot read its client key.
    chmod(&t, KEY, 0o600);
    let (_, findings) = t.doctor(&args);
    let f = only(&findings, "msp-cannot-read");
    assert_eq!(
        f["log_line"],
        "STARTTLS=client: file /etc/mail/certs/mx1-key.pem unsafe: Permission denied"
    );
    chmod(&t, KEY, 0o640);

    // submit.cf without GroupReadableKeyFile refuses the 0640 key.
    let submit = t.p("/etc/mail/submit.cf");
    let text = fs::read_to_string(&submit).expect("read");
    fs::write(
        &submit,
        text.replace("O DontBlameSendmail=GroupReadableKeyFile\n", ""),
    )
    .expect("write");
    let (_, findings) = t.doctor(&args);
    assert!(
        with_check(&findings, "unsafe-file")
            .iter()
            .any(|f| f["log_line"]
                == "STARTTLS=client: file /etc/mail/certs/mx1-key.pem unsafe: Group readable file"),
        "{findings:#?}"
    );
    assert!(with_check(&findings, "submit-inconsistent").iter().any(|f| f["problem"] == "DontBlameSendmail=GroupReadableKeyFile is set in sendmail.cf but not in submit.cf"), "{findings:#?}");

    // submit.cf naming another CA file.
    fs::write(
        &submit,
        text.replace(
            "O CACertFile=/etc/mail/certs/cacert.pem",
            "O CACertFile=/etc/mail/certs/other-ca.pem",
        ),
    )
    .expect("write");
    fs::copy(t.p(CA), t.p("/etc/mail/certs/other-ca.pem")).expect("cp");
    let (_, findings) = t.doctor(&args);
    let f = only(&findings, "submit-inconsistent");
    assert_eq!(f["severity"], "warning");
    assert_eq!(f["file"], "/etc/mail/submit.cf");
    assert!(
        f["problem"]
            .as_str()
            .unwrap_or("")
            .starts_with("CACertFile is /etc/mail/certs/other-ca.pem in submit.cf (line "),
        "{f:#?}"
    );
}

#[test]
fn postfix_encrypted_key_and_missing_ca() {
    let t = good("ecdsa-p256");
    fs::create_dir_all(t.p("/etc/postfix")).expect("mkdir");
    let out = mailtls()
        .args([
            "config",
            "postfix",
            "--dir",
            "/etc/mail/certs",
            "--name",
            "mx1",
        ])
        .output()
        .expect("run");
    let main_cf = format!(
        "myhostname = mx1.example.org\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    fs::write(t.p("/etc/postfix/main.cf"), &main_cf).expect("write");
    let (code, findings) = t.doctor(&["--postfix-dir", "/etc/postfix"]);
    assert!(findings.is_empty(), "{findings:#?}");
    assert_eq!(code, 0);

    let k = t.p(KEY).display().to_string();
    openssl_ok(&[
        "pkey",
        "-aes128",
        "-passout",
        "pass:x",
        "-in",
        &k,
        "-out",
        &format!("{k}.enc"),
    ]);
    fs::rename(format!("{k}.enc"), &k).expect("mv");
    let (code, findings) = t.doctor(&["--postfix-dir", "/etc/postfix"]);
    assert_eq!(code, 1);
    let f: Vec<_> = with_check(&findings, "key-encrypted")
        .into_iter()
        .filter(|f| f["severity"] == "error")
        .collect();
    assert_eq!(
        f[0]["log_line"],
        "warning: cannot get RSA private key from file \"/etc/mail/certs/mx1-key.pem\": disabling TLS support"
    );

    fs::remove_file(t.p(CA)).expect("rm");
    let (_, findings) = t.doctor(&["--postfix-dir", "/etc/postfix"]);
    let f: Vec<_> = with_check(&findings, "file-missing");
    assert!(f.iter().any(|f| f["log_line"] == "cannot load Certification Authority data, CAfile=\"/etc/mail/certs/cacert.pem\", CApath=\"/etc/mail/certs\": disabling TLS support"), "{findings:#?}");
}

#[test]
fn text_output_names_effect_log_and_fix() {
    let t = good("ecdsa-p256");
    chmod(&t, KEY, 0o644);
    mailtls()
        .args(["doctor", "--cf", "/etc/mail/sendmail.cf", "--root"])
        .arg(t.root())
        .assert()
        .code(1)
        .stdout(predicates::str::contains("ERROR   /etc/mail/certs/mx1-key.pem: sendmail refuses the file: Group readable file\n"))
        .stdout(predicates::str::contains("        log:    STARTTLS=server: file /etc/mail/certs/mx1-key.pem unsafe: Group readable file\n"))
        .stdout(predicates::str::contains("        fix:    chmod 600 /etc/mail/certs/mx1-key.pem"));
}

#[test]
fn nothing_to_examine_is_a_usage_error() {
    let t = Tree::new();
    mailtls()
        .args(["doctor", "--root"])
        .arg(t.root())
        .assert()
        .code(2);
}

#[test]
fn log_errors_are_counted_and_explained() {
    let t = Tree::new();
    let log = t.p("/var/log/mail.log");
    fs::create_dir_all(log.parent().expect("dir")).expect("mkdir");
    fs::write(
        &log,
        "Nov 28 17:54:54 mx1 sm-mta[23544]: STARTTLS=server, error: SSL_CTX_use_PrivateKey_file(/etc/mail/certs/mx1-key.pem) failed\n\
Nov 28 17:54:54 mx1 sm-mta[23544]: STARTTLS=client, error: SSL_CTX_use_PrivateKey_file(/etc/mail/certs/mx1-key.pem) failed\n\
Nov 28 17:55:10 mx1 sm-mta[23560]: STARTTLS=server, error: SSL_CTX_use_PrivateKey_file(/etc/mail/certs/mx1-key.pem) failed\n\
Nov 28 17:55:11 mx1 sm-mta[23561]: qASHtB1r023561: from=<a@example.org>, size=1200, class=0, nrcpts=1, msgid=<x@example.org>, proto=ESMTP, daemon=MTA, relay=mail.example.org [192.0.2.9]\n",
    )
    .expect("write");
    let (code, findings) = t.doctor(&["--log", &log.display().to_string()]);
    assert_eq!(code, 1);
    let f = with_check(&findings, "log-error");
    assert_eq!(f.len(), 2, "{findings:#?}");
    let server = f
        .iter()
        .find(|f| f["problem"].as_str().unwrap_or("").contains("server side"))
        .expect("server");
    assert_eq!(
        server["problem"],
        "logged 2× (server side, last at line 3): SSL_CTX_use_PrivateKey_file(/etc/mail/certs/mx1-key.pem) failed"
    );
    assert_eq!(server["kind"], "private_key");
    assert_eq!(server["severity"], "error");
    assert_eq!(
        server["log_line"],
        "Nov 28 17:55:10 mx1 sm-mta[23560]: STARTTLS=server, error: SSL_CTX_use_PrivateKey_file(/etc/mail/certs/mx1-key.pem) failed"
    );
    let client = f
        .iter()
        .find(|f| f["problem"].as_str().unwrap_or("").contains("client side"))
        .expect("client");
    assert!(
        client["effect"]
            .as_str()
            .unwrap_or("")
            .contains("without a client certificate")
    );
}

#[test]
fn rsa_1024_certificate_signed_by_our_ca() {
    // The seed's CA.pl made 1024-bit keys; OpenSSL 3 at security level 2 refuses them.
    let t = good("ecdsa-p256");
    let (k, c, csr) = (
        t.p(KEY).display().to_string(),
        t.p(CERT).display().to_string(),
        t.p("/etc/mail/certs/mx1.csr").display().to_string(),
    );
    openssl_ok(&[
        "req",
        "-new",
        "-newkey",
        "rsa:1024",
        "-nodes",
        "-keyout",
        &k,
        "-subj",
        "/CN=mx1.example.org",
        "-out",
        &csr,
    ]);
    openssl_ok(&[
        "x509",
        "-req",
        "-in",
        &csr,
        "-CA",
        &t.p(CA).display().to_string(),
        "-CAkey",
        &t.p("/root/mail-ca/cakey.pem").display().to_string(),
        "-CAcreateserial",
        "-CAserial",
        &t.p("/root/mail-ca/serial").display().to_string(),
        "-days",
        "30",
        "-out",
        &c,
    ]);
    fs::remove_file(&csr).expect("rm");
    chmod(&t, KEY, 0o600);
    let (code, findings) = t.doctor(&["--cf", "/etc/mail/sendmail.cf"]);
    assert_eq!(code, 1);
    let f: Vec<_> = with_check(&findings, "key-too-small")
        .into_iter()
        .filter(|f| f["severity"] == "error")
        .collect();
    assert_eq!(f.len(), 1, "{findings:#?}");
    assert_eq!(
        f[0]["log_line"],
        "STARTTLS=server, error: SSL_CTX_use_certificate_file(/etc/mail/certs/mx1-cert.pem) failed"
    );
    assert!(
        with_check(&findings, "chain-unverified").is_empty(),
        "signed by our CA: {findings:#?}"
    );
    assert!(
        with_check(&findings, "key-mismatch").is_empty(),
        "{findings:#?}"
    );
}

#[test]
fn files_that_are_not_pem() {
    let t = good("ecdsa-p256");
    let k = t.p(KEY).display().to_string();
    openssl_ok(&[
        "pkey",
        "-outform",
        "DER",
        "-in",
        &k,
        "-out",
        &format!("{k}.der"),
    ]);
    fs::rename(format!("{k}.der"), &k).expect("mv");
    chmod(&t, KEY, 0o600);
    fs::write(t.p(CERT), "not a certificate\n").expect("write");
    let (code, findings) = t.doctor(&["--cf", "/etc/mail/sendmail.cf"]);
    assert_eq!(code, 1);
    let key: Vec<_> = with_check(&findings, "key-unreadable")
        .into_iter()
        .filter(|f| f["severity"] == "error")
        .collect();
    assert_eq!(
        key[0]["log_line"],
        "STARTTLS=server, error: SSL_CTX_use_PrivateKey_file(/etc/mail/certs/mx1-key.pem) failed"
    );
    let cert: Vec<_> = with_check(&findings, "cert-unreadable")
        .into_iter()
        .filter(|f| f["severity"] == "error")
        .collect();
    assert_eq!(
        cert[0]["log_line"],
        "STARTTLS=server, error: SSL_CTX_use_certificate_file(/etc/mail/certs/mx1-cert.pem) failed"
    );
}

#[test]
fn ca_file_without_a_certificate() {
    let t = good("ecdsa-p256");
    fs::write(t.p(CA), "this is not PEM\n").expect("write");
    let (code, findings) = t.doctor(&["--cf", "/etc/mail/sendmail.cf"]);
    assert_eq!(code, 1);
    let f = only(&findings, "ca-file-unusable");
    assert_eq!(
        f["log_line"],
        "STARTTLS=server, error: load verify locs /etc/mail/certs, /etc/mail/certs/cacert.pem failed: 0"
    );
    assert_eq!(f["kind"], "ca_locations");
}

#[test]
fn relative_paths_count_as_not_set() {
    let t = good("ecdsa-p256");
    let cf = t.p("/etc/mail/sendmail.cf");
    let text = fs::read_to_string(&cf).expect("read");
    fs::write(
        &cf,
        text.replace(
            "O ServerCertFile=/etc/mail/certs/mx1-cert.pem",
            "O ServerCertFile=certs/mx1-cert.pem",
        ),
    )
    .expect("write");
    let (code, findings) = t.doctor(&["--cf", "/etc/mail/sendmail.cf"]);
    assert_eq!(code, 1);
    let f = only(&findings, "option-missing");
    assert_eq!(
        f["problem"],
        "ServerCertFile=certs/mx1-cert.pem is not an absolute path; sendmail treats it as not set"
    );
    assert_eq!(f["log_line"], "STARTTLS: ServerCertFile missing");
    mailtls()
        .args(["config", "sendmail", "--dir", "certs"])
        .assert()
        .code(2);
}

#[test]
fn submit_cf_without_tls_is_one_warning() {
    let t = good("ecdsa-p256");
    fs::write(
        t.p("/etc/mail/submit.cf"),
        "V10/Berkeley\n#O CACertPath\n#O CACertFile\nO RunAsUser=smmsp\n",
    )
    .expect("write");
    let gid = t.my_gid().to_string();
    let (code, findings) = t.doctor(&[
        "--cf",
        "/etc/mail/sendmail.cf",
        "--submit-cf",
        "/etc/mail/submit.cf",
        "--msp-group",
        &gid,
    ]);
    assert_eq!(code, 0);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(
        only(&findings, "submit-inconsistent")["problem"],
        "submit.cf sets no TLS options while sendmail.cf does"
    );
}

#[test]
fn key_path_that_is_a_directory() {
    let t = good("ecdsa-p256");
    fs::remove_file(t.p(KEY)).expect("rm");
    fs::create_dir(t.p(KEY)).expect("mkdir");
    chmod(&t, KEY, 0o700);
    let (code, findings) = t.doctor(&["--cf", "/etc/mail/sendmail.cf"]);
    assert_eq!(code, 1);
    assert!(
        with_check(&findings, "unsafe-file")
            .iter()
            .any(|f| f["log_line"]
                == "STARTTLS=server: file /etc/mail/certs/mx1-key.pem unsafe: Regular files only"),
        "{findings:#?}"
    );
    assert!(
        with_check(&findings, "file-unreadable")
            .iter()
            .all(|f| f["severity"] == "warning" && f["file"] == KEY),
        "{findings:#?}"
    );
    assert!(!with_check(&findings, "file-unreadable").is_empty());
}

#[test]
fn hp_ux_use_tls_option() {
    let t = good("ecdsa-p256");
    let cf = t.p("/etc/mail/sendmail.cf");
    let text = fs::read_to_string(&cf).expect("read");
    let text = text.replace(
        "# CA directory\n",
        "# If set, Sendmail enables the TLS feature\nO UseTLS=True\n# CA directory\n",
    );
    fs::write(&cf, &text).expect("write");
    let line = text
        .lines()
        .position(|l| l == "O UseTLS=True")
        .map(|i| i + 1)
        .expect("line");
    let (code, findings) = t.doctor(&["--cf", "/etc/mail/sendmail.cf"]);
    assert_eq!(code, 0);
    let f = only(&findings, "unknown-option");
    assert_eq!(
        f["log_line"],
        format!(
            "SYSERR(root): /etc/mail/sendmail.cf: line {line}: readcf: unknown option name UseTLS"
        )
    );
}
