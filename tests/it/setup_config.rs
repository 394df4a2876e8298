//! `mailtls config sendmail|submit|mc|postfix`: the printed lines, and `--apply` on a
//! sendmail.cf / main.cf (backup like `cp -p`, replaced not duplicated, idempotent).

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

use crate::common::mailtls;
use crate::common::setup::*;

#[test]
fn sendmail_options_are_the_seeds() {
    let out = stdout(&[
        "config",
        "sendmail",
        "--dir",
        "/etc/mail/certs",
        "--name",
        "servername",
        "--rand-file",
        "egd:/dev/random",
    ]);
    assert_eq!(
        out,
        "# CA directory\nO CACertPath=/etc/mail/certs\n\
# CA file\nO CACertFile=/etc/mail/certs/cacert.pem\n\
# Server Cert\nO ServerCertFile=/etc/mail/certs/servername-cert.pem\n\
# Server private key\nO ServerKeyFile=/etc/mail/certs/servername-key.pem\n\
# Client Cert\nO ClientCertFile=/etc/mail/certs/servername-cert.pem\n\
# Client private key\nO ClientKeyFile=/etc/mail/certs/servername-key.pem\n\
# Random data source (required for systems without /dev/urandom under OpenSSL)\nO RandFile=egd:/dev/random\n"
    );
    // The key-mode instructions go to stderr.
    mailtls()
        .args(["config", "sendmail", "--name", "servername"])
        .assert()
        .success()
        .stderr(predicates::str::contains(
            "chmod 600 /etc/mail/certs/servername-key.pem",
        ));
}

#[test]
fn submit_with_msp_has_dont_blame_and_the_client_pair() {
    let out = stdout(&[
        "config", "submit", "--name", "mx1", "--client", "relay", "--msp",
    ]);
    assert_eq!(
        out.lines()
            .filter(|l| l.starts_with("O "))
            .collect::<Vec<_>>(),
        [
            "O DontBlameSendmail=GroupReadableKeyFile",
            "O CACertPath=/etc/mail/certs",
            "O CACertFile=/etc/mail/certs/cacert.pem",
            "O ClientCertFile=/etc/mail/certs/relay-cert.pem",
            "O ClientKeyFile=/etc/mail/certs/relay-key.pem",
        ]
    );
    mailtls()
        .args(["config", "submit", "--name", "mx1", "--msp"])
        .assert()
        .stderr(predicates::str::contains(
            "chgrp smmsp /etc/mail/certs/mx1-key.pem\nchmod 640 /etc/mail/certs/mx1-key.pem\n",
        ));
}

#[test]
fn mc_lines_for_sendmail_and_submit() {
    let out = stdout(&["config", "mc", "--name", "mx1", "--msp"]);
    assert_eq!(
        out,
        "define(`confDONT_BLAME_SENDMAIL', `GroupReadableKeyFile')dnl\n\
define(`confCACERT_PATH', `/etc/mail/certs')dnl\n\
define(`confCACERT', `/etc/mail/certs/cacert.pem')dnl\n\
define(`confSERVER_CERT', `/etc/mail/certs/mx1-cert.pem')dnl\n\
define(`confSERVER_KEY', `/etc/mail/certs/mx1-key.pem')dnl\n\
define(`confCLIENT_CERT', `/etc/mail/certs/mx1-cert.pem')dnl\n\
define(`confCLIENT_KEY', `/etc/mail/certs/mx1-key.pem')dnl\n"
    );
    let out = stdout(&["config", "mc", "--for", "submit", "--name", "mx1"]);
    assert!(!out.contains("confSERVER_KEY"), "{out}");
    assert!(out.contains("define(`confCLIENT_KEY', `/etc/mail/certs/mx1-key.pem')dnl\n"));
}

#[test]
fn postfix_profiles() {
    let rows = [
        ("modern", ">=TLSv1.3", "high"),
        ("intermediate", ">=TLSv1.2", "high"),
        ("old", ">=TLSv1", "medium"),
    ];
    for (profile, proto, ciphers) in rows {
        let out = stdout(&[
            "config",
            "postfix",
            "--dir",
            "/etc/postfix/certs",
            "--name",
            "mx1",
            "--profile",
            profile,
        ]);
        for want in [
            format!("# TLS ({profile} profile)\n"),
            "smtpd_tls_cert_file = /etc/postfix/certs/mx1-cert.pem\n".into(),
            "smtpd_tls_key_file = /etc/postfix/certs/mx1-key.pem\n".into(),
            "smtpd_tls_CAfile = /etc/postfix/certs/cacert.pem\n".into(),
            "smtpd_tls_CApath = /etc/postfix/certs\n".into(),
            "smtpd_tls_security_level = may\n".into(),
            format!("smtpd_tls_protocols = {proto}\n"),
            format!("smtpd_tls_ciphers = {ciphers}\n"),
            "smtpd_tls_loglevel = 1\n".into(),
            "smtpd_tls_received_header = yes\n".into(),
            "smtp_tls_security_level = may\n".into(),
            format!("smtp_tls_protocols = {proto}\n"),
            "smtp_tls_loglevel = 1\n".into(),
        ] {
            assert!(out.contains(&want), "{profile}: missing {want:?} in\n{out}");
        }
    }
}

/// A sendmail.cf as m4 writes it from a Debian sendmail.mc without TLS: the TLS options are
/// proto.m4's placeholders.
fn cf_with_placeholders() -> String {
    format!(
        "{DEBIAN_CF_HEAD}# CA directory\n#O CACertPath\n# CA file\n#O CACertFile\n# Server Cert\n#O ServerCertFile\n\
# Server private key\n#O ServerKeyFile\n# Client Cert\n#O ClientCertFile\n# Client private key\n#O ClientKeyFile\n\
# File containing certificate revocation lists\n#O CRLFile\n{DEBIAN_CF_TAIL}"
    )
}

#[test]
fn apply_to_sendmail_cf_backs_up_replaces_and_is_idempotent() {
    let t = Tree::new();
    let cf = t.p("/etc/mail/sendmail.cf");
    let original = cf_with_placeholders();
    fs::write(&cf, &original).expect("write");
    fs::set_permissions(&cf, fs::Permissions::from_mode(0o640)).expect("chmod");
    let old_time =
        std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
    fs::File::options()
        .write(true)
        .open(&cf)
        .and_then(|f| f.set_modified(old_time))
        .expect("mtime");

    let cf_arg = cf.display().to_string();
    mailtls()
        .args([
            "config", "sendmail", "--name", "mx1", "--msp", "--apply", &cf_arg,
        ])
        .assert()
        .success()
        .stdout(predicates::str::contains("updated (backup "));

    // The backup is the original, with its mode and times (cp -p).
    let backup = t.p("/etc/mail/sendmail.cf.BACKUP");
    assert_eq!(fs::read_to_string(&backup).expect("backup"), original);
    let bm = fs::metadata(&backup).expect("stat");
    assert_eq!(bm.permissions().mode() & 0o7777, 0o640);
    assert_eq!(bm.modified().expect("mtime"), old_time);
    assert_eq!(
        fs::metadata(&cf).expect("stat").permissions().mode() & 0o7777,
        0o640
    );
    assert_eq!(fs::metadata(&cf).expect("stat").uid(), bm.uid());

    // Placeholders became settings in place; DontBlameSendmail=safe was replaced; the rest is
    // byte for byte the same.
    let new = fs::read_to_string(&cf).expect("read");
    let want = original
        .replace(
            "O DontBlameSendmail=safe\n",
            "O DontBlameSendmail=GroupReadableKeyFile\n",
        )
        .replace("#O CACertPath\n", "O CACertPath=/etc/mail/certs\n")
        .replace(
            "#O CACertFile\n",
            "O CACertFile=/etc/mail/certs/cacert.pem\n",
        )
        .replace(
            "#O ServerCertFile\n",
            "O ServerCertFile=/etc/mail/certs/mx1-cert.pem\n",
        )
        .replace(
            "#O ServerKeyFile\n",
            "O ServerKeyFile=/etc/mail/certs/mx1-key.pem\n",
        )
        .replace(
            "#O ClientCertFile\n",
            "O ClientCertFile=/etc/mail/certs/mx1-cert.pem\n",
        )
        .replace(
            "#O ClientKeyFile\n",
            "O ClientKeyFile=/etc/mail/certs/mx1-key.pem\n",
        );
    assert_eq!(new, want);

    // Second apply: nothing changes, no second backup.
    mailtls()
        .args([
            "config", "sendmail", "--name", "mx1", "--msp", "--apply", &cf_arg,
        ])
        .assert()
        .success()
        .stdout(predicates::str::contains("unchanged"));
    assert_eq!(fs::read_to_string(&cf).expect("read"), want);
    assert!(!t.p("/etc/mail/sendmail.cf.BACKUP.1").exists());

    // A different layout replaces the values instead of adding lines; the first backup stays.
    mailtls()
        .args([
            "config", "sendmail", "--name", "mx2", "--msp", "--apply", &cf_arg,
        ])
        .assert()
        .success();
    let third = fs::read_to_string(&cf).expect("read");
    assert_eq!(third.matches("O ServerKeyFile=").count(), 1);
    assert!(third.contains("O ServerKeyFile=/etc/mail/certs/mx2-key.pem\n"));
    assert_eq!(fs::read_to_string(&backup).expect("backup"), original);
    assert_eq!(
        fs::read_to_string(t.p("/etc/mail/sendmail.cf.BACKUP.1")).expect("backup 1"),
        want
    );
}

#[test]
fn apply_to_main_cf() {
    let t = Tree::new();
    fs::create_dir_all(t.p("/etc/postfix")).expect("mkdir");
    let main_cf = t.p("/etc/postfix/main.cf");
    let original = "# See /usr/share/postfix/main.cf.dist for a commented, more complete version\n\
smtpd_banner = $myhostname ESMTP $mail_name (Debian/GNU)\n\
biff = no\n\
# TLS parameters\n\
smtpd_tls_cert_file=/etc/ssl/certs/ssl-cert-snakeoil.pem\n\
smtpd_tls_key_file=/etc/ssl/private/ssl-cert-snakeoil.key\n\
smtpd_tls_security_level=may\n\
\n\
smtp_tls_CApath=/etc/ssl/certs\n\
smtp_tls_security_level=may\n\
smtp_tls_session_cache_database = btree:${data_directory}/smtp_scache\n\
myhostname = mx1.example.org\n";
    fs::write(&main_cf, original).expect("write");
    let arg = main_cf.display().to_string();
    mailtls()
        .args(["config", "postfix", "--name", "mx1", "--apply", &arg])
        .assert()
        .success();
    let new = fs::read_to_string(&main_cf).expect("read");
    assert!(new.contains("smtpd_tls_cert_file = /etc/mail/certs/mx1-cert.pem\n"));
    assert!(!new.contains("snakeoil"));
    assert_eq!(new.matches("smtpd_tls_security_level").count(), 1);
    assert!(new.contains("smtp_tls_session_cache_database = btree:${data_directory}/smtp_scache\nmyhostname = mx1.example.org\n"));
    assert_eq!(
        fs::read_to_string(t.p("/etc/postfix/main.cf.BACKUP")).expect("backup"),
        original
    );
    mailtls()
        .args(["config", "postfix", "--name", "mx1", "--apply", &arg])
        .assert()
        .success()
        .stdout(predicates::str::contains("unchanged"));
    assert_eq!(fs::read_to_string(&main_cf).expect("read"), new);
}

#[test]
fn certs_then_apply_then_doctor_is_clean() {
    let t = Tree::new();
    t.certs(&["--key-type", "ecdsa-p256"]);
    let cf = t.p("/etc/mail/sendmail.cf");
    fs::write(&cf, cf_with_placeholders()).expect("write");
    mailtls()
        .args(["config", "sendmail", "--name", "mx1", "--apply"])
        .arg(&cf)
        .assert()
        .success();
    let (code, findings) = t.doctor(&["--cf", "/etc/mail/sendmail.cf"]);
    assert!(findings.is_empty(), "{findings:#?}");
    assert_eq!(code, 0);
}

/// `--msp` and `--rand-file` are Sendmail settings (DontBlameSendmail, RandFile): the
/// Postfix and Exim subcommands do not offer them in `--help`, and refuse them in plain
/// words (see also `ux_cli::impossible_arguments_are_usage_errors_in_plain_words`).
#[test]
fn sendmail_only_flags_belong_to_the_sendmail_subcommands() {
    for mta in ["postfix", "exim"] {
        let help = stdout(&["config", mta, "--help"]);
        assert!(help.contains("--dir"), "{mta} --help lost --dir:\n{help}");
        for flag in ["--msp", "--rand-file"] {
            assert!(!help.contains(flag), "{mta} --help offers {flag}:\n{help}");
            let out = mailtls()
                .args(["config", mta, "--name", "mx1", flag])
                .args((flag == "--rand-file").then_some("egd:/dev/random"))
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(2), "{mta} {flag}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                err.contains(flag) && err.contains("is a Sendmail setting"),
                "{mta} {flag}: {err}"
            );
        }
    }
    for sub in ["sendmail", "submit", "mc"] {
        let help = stdout(&["config", sub, "--help"]);
        assert!(
            help.contains("--msp") && help.contains("--rand-file"),
            "{sub}:\n{help}"
        );
    }
}
