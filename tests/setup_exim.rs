//! `mailtls config exim` and `mailtls doctor --exim-config` through the binary: the
//! generated text in both cipher syntaxes and all layouts, `--apply` (backup, idempotent)
//! on a plain exim.conf and on Debian's macro files, and the doctor's findings on crafted
//! files under `--root`, with Debian's real conf.d/main pieces (tests/fixtures/exim-debian).

// A test: failing loudly is its job (Cargo.toml's [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod setup_common;

use std::fs;
use std::os::unix::fs::PermissionsExt;

use serde_json::Value;
use setup_common::{Tree, mailtls, openssl_ok, with_check};

const CERTS: &str = "/etc/exim4/certs";
const DEBIAN_01: &str = include_str!("fixtures/exim-debian/01_exim4-config_listmacrosdefs");
const DEBIAN_03: &str = include_str!("fixtures/exim-debian/03_exim4-config_tlsoptions");

fn stdout(args: &[&str]) -> String {
    let out = mailtls().args(args).output().expect("run");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn generated_text_both_syntaxes_and_layouts() {
    let base = ["config", "exim", "--dir", CERTS, "--name", "mx1"];
    let with = |extra: &[&str]| {
        let mut a = base.to_vec();
        a.extend_from_slice(extra);
        stdout(&a)
    };
    let plain_gnutls = with(&["--layout", "plain", "--tls-library", "gnutls"]);
    for want in [
        "tls_advertise_hosts = *\n",
        "tls_certificate = /etc/exim4/certs/mx1-cert.pem\n",
        "tls_privatekey = /etc/exim4/certs/mx1-key.pem\n",
        "tls_verify_certificates = /etc/exim4/certs/cacert.pem\n",
        "tls_try_verify_hosts = *\n",
        "tls_require_ciphers = NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2\n",
    ] {
        assert!(
            plain_gnutls.contains(want),
            "missing {want:?}:\n{plain_gnutls}"
        );
    }
    assert!(!plain_gnutls.contains("MAIN_TLS"), "{plain_gnutls}");
    let plain_openssl = with(&[
        "--layout",
        "plain",
        "--tls-library",
        "openssl",
        "--profile",
        "modern",
    ]);
    assert!(
        plain_openssl.contains("tls_require_ciphers = ECDHE+AESGCM:ECDHE+CHACHA20:"),
        "{plain_openssl}"
    );
    assert!(
        plain_openssl.contains("openssl_options = +no_sslv3 +no_tlsv1 +no_tlsv1_1 +no_tlsv1_2\n"),
        "{plain_openssl}"
    );
    assert!(
        !plain_openssl.contains("VERS-"),
        "no GnuTLS priority in an OpenSSL list: {plain_openssl}"
    );
    let split = with(&[
        "--layout",
        "debian-split",
        "--tls-library",
        "gnutls",
        "--profile",
        "old",
    ]);
    for want in [
        "/etc/exim4/conf.d/main/000_localmacros",
        "MAIN_TLS_ENABLE = yes\n",
        "MAIN_TLS_CERTIFICATE = /etc/exim4/certs/mx1-cert.pem\n",
        "MAIN_TLS_PRIVATEKEY = /etc/exim4/certs/mx1-key.pem\n",
        "MAIN_TLS_VERIFY_CERTIFICATES = /etc/exim4/certs/cacert.pem\n",
        "MAIN_TLS_TRY_VERIFY_HOSTS = *\n",
        "tls_require_ciphers = NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:+VERS-TLS1.1:+VERS-TLS1.0\n",
        "update-exim4.conf",
    ] {
        assert!(split.contains(want), "missing {want:?}:\n{split}");
    }
    let unsplit = with(&["--layout", "debian-unsplit", "--tls-library", "gnutls"]);
    assert!(
        unsplit.contains("/etc/exim4/exim4.conf.localmacros"),
        "{unsplit}"
    );
    let help = stdout(&["config", "exim", "--help"]);
    assert!(
        help.contains("Examples:") && help.contains("--tls-library"),
        "{help}"
    );
    let help = stdout(&["doctor", "--help"]);
    assert!(
        help.contains("--exim-config") && help.contains("Decryption has failed."),
        "{help}"
    );
}

#[test]
fn apply_gives_an_existing_key_to_the_exim_group() {
    let t = Tree::new();
    let dir = t.p("/certs");
    mailtls()
        .args(["config", "certs", "--dir"])
        .arg(&dir)
        .arg("--ca-dir")
        .arg(t.p("/root/mail-ca"))
        .args(["--name", "mx1"])
        .assert()
        .success();
    let key = dir.join("mx1-key.pem");
    assert_eq!(
        fs::metadata(&key).expect("stat").permissions().mode() & 0o777,
        0o600
    );
    let conf = t.p("/exim.conf");
    fs::write(&conf, "primary_hostname = mx1\nbegin acl\n").expect("w");
    let gid = t.my_gid().to_string();
    let out = mailtls()
        .args([
            "config",
            "exim",
            "--tls-library",
            "gnutls",
            "--exim-group",
            &gid,
            "--name",
            "mx1",
            "--dir",
        ])
        .arg(&dir)
        .arg("--apply")
        .arg(&conf)
        .output()
        .expect("run");
    let so = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(so.contains("mode 0640"), "{so}");
    assert_eq!(
        fs::metadata(&key).expect("stat").permissions().mode() & 0o777,
        0o640
    );
    assert!(
        fs::read_to_string(&conf)
            .expect("read")
            .contains(&format!("tls_privatekey = {}\n", key.display()))
    );
}

const EXIM_CONF: &str = r"# Exim configuration (upstream's default, shortened)
primary_hostname = mx1.example.org
domainlist local_domains = @
acl_smtp_rcpt = acl_check_rcpt
# tls_advertise_hosts = *
tls_certificate = /etc/ssl/exim.crt
tls_privatekey = /etc/ssl/exim.pem

begin acl
acl_check_rcpt:
  accept hosts = :

begin transports
remote_smtp:
  driver = smtp
  tls_certificate = /etc/ssl/client.crt
";

#[test]
fn apply_plain_exim_conf_backs_up_and_is_idempotent() {
    let t = Tree::new();
    fs::create_dir_all(t.p("/etc/exim")).expect("mkdir");
    let conf = t.p("/etc/exim/exim.conf");
    fs::write(&conf, EXIM_CONF).expect("write");
    let args = |c: &std::path::Path| {
        vec![
            "config".to_owned(),
            "exim".into(),
            "--tls-library".into(),
            "gnutls".into(),
            "--dir".into(),
            CERTS.into(),
            "--name".into(),
            "mx1".into(),
            "--apply".into(),
            c.display().to_string(),
        ]
    };
    let out = stdout(&args(&conf).iter().map(String::as_str).collect::<Vec<_>>());
    assert!(out.contains("updated (backup"), "{out}");
    let text = fs::read_to_string(&conf).expect("read");
    let main = text.split("begin acl").next().expect("main");
    assert!(
        main.contains("tls_certificate = /etc/exim4/certs/mx1-cert.pem\n"),
        "{text}"
    );
    assert!(
        main.contains("tls_privatekey = /etc/exim4/certs/mx1-key.pem\n"),
        "{text}"
    );
    assert!(main.contains("tls_require_ciphers = NORMAL:"), "{text}");
    assert!(
        main.contains("# tls_advertise_hosts = *\n"),
        "comments kept: {text}"
    );
    assert!(!text.contains("/etc/ssl/exim.crt"), "{text}");
    assert!(
        text.ends_with("  tls_certificate = /etc/ssl/client.crt\n"),
        "transport untouched: {text}"
    );
    assert!(
        !main.contains("MAIN_TLS"),
        "plain layout for exim.conf: {text}"
    );
    assert_eq!(
        fs::read_to_string(t.p("/etc/exim/exim.conf.BACKUP")).expect("backup"),
        EXIM_CONF
    );
    let again = stdout(&args(&conf).iter().map(String::as_str).collect::<Vec<_>>());
    assert!(again.contains("unchanged"), "{again}");
    assert_eq!(fs::read_to_string(&conf).expect("read"), text);
}

#[test]
fn apply_debian_macro_files() {
    let t = Tree::new();
    fs::create_dir_all(t.p("/etc/exim4/conf.d/main")).expect("mkdir");
    // Split: a new 000_localmacros, and a warning about another file's definition.
    fs::write(
        t.p("/etc/exim4/conf.d/main/000_site"),
        "MAIN_TLS_CERTIFICATE = /old.pem\n",
    )
    .expect("write");
    let split = t.p("/etc/exim4/conf.d/main/000_localmacros");
    let out = mailtls()
        .args([
            "config",
            "exim",
            "--tls-library",
            "gnutls",
            "--dir",
            CERTS,
            "--name",
            "mx1",
            "--apply",
        ])
        .arg(&split)
        .output()
        .expect("run");
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("MAIN_TLS_CERTIFICATE is defined at") && err.contains("000_site line 1"),
        "{err}"
    );
    let text = fs::read_to_string(&split).expect("created");
    assert!(text.contains("MAIN_TLS_ENABLE = yes\nMAIN_TLS_ADVERTISE_HOSTS = *\nMAIN_TLS_CERTIFICATE = /etc/exim4/certs/mx1-cert.pem\n"), "{text}");
    assert_eq!(
        fs::metadata(&split).expect("stat").permissions().mode() & 0o777,
        0o644
    );
    // Unsplit: an existing localmacros file with an old definition.
    let local = t.p("/etc/exim4/exim4.conf.localmacros");
    let before = "# site macros\nMAIN_TLS_ENABLE = true\nMAIN_TLS_PRIVATEKEY = \\\n  /old-key.pem\nDISABLE_IPV6 = true\n";
    fs::write(&local, before).expect("write");
    for round in 0..2 {
        let out = mailtls()
            .args([
                "config",
                "exim",
                "--tls-library",
                "gnutls",
                "--dir",
                CERTS,
                "--name",
                "mx1",
                "--apply",
            ])
            .arg(&local)
            .output()
            .expect("run");
        let o = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success());
        assert!(
            o.contains(if round == 0 { "updated" } else { "unchanged" }),
            "{o}"
        );
    }
    let text = fs::read_to_string(&local).expect("read");
    assert!(text.starts_with("# site macros\nMAIN_TLS_ENABLE = yes\nMAIN_TLS_PRIVATEKEY = /etc/exim4/certs/mx1-key.pem\nDISABLE_IPV6 = true\n"), "{text}");
    assert!(!text.contains("/old-key.pem"), "{text}");
    assert_eq!(
        fs::read_to_string(t.p("/etc/exim4/exim4.conf.localmacros.BACKUP")).expect("backup"),
        before
    );
}

/// A Debian host under the tree: Debian's real conf.d/main pieces, Debian-exim in the
/// test's group, certificates by `config certs`, TLS by `config exim --apply`.
fn debian_tree(split: bool) -> Tree {
    let t = Tree::new();
    for d in ["/etc/exim4/conf.d/main", "/root"] {
        fs::create_dir_all(t.p(d)).expect("mkdir");
    }
    fs::write(
        t.p("/etc/exim4/update-exim4.conf.conf"),
        format!("dc_eximconfig_configtype='local'\ndc_use_split_config='{split}'\n"),
    )
    .expect("write");
    if split {
        fs::write(
            t.p("/etc/exim4/conf.d/main/01_exim4-config_listmacrosdefs"),
            DEBIAN_01,
        )
        .expect("w");
        fs::write(
            t.p("/etc/exim4/conf.d/main/03_exim4-config_tlsoptions"),
            DEBIAN_03,
        )
        .expect("w");
        // A backup left by an editor: update-exim4.conf ignores names with dots.
        fs::write(
            t.p("/etc/exim4/conf.d/main/03_exim4-config_tlsoptions.dpkg-old"),
            "tls_certificate = /nonexistent\n",
        )
        .expect("w");
    } else {
        fs::write(
            t.p("/etc/exim4/exim4.conf.template"),
            format!("{DEBIAN_01}\n{DEBIAN_03}\nbegin acl\n"),
        )
        .expect("w");
    }
    fs::write(
        t.p("/etc/passwd"),
        format!("root:x:0:0:root:/root:/bin/bash\nDebian-exim:x:4242:{}::/var/spool/exim4:/usr/sbin/nologin\n", t.my_gid()),
    )
    .expect("w");
    fs::write(
        t.p("/etc/group"),
        format!("root:x:0:\nDebian-exim:x:{}:\n", t.my_gid()),
    )
    .expect("w");
    let gid = t.my_gid().to_string();
    mailtls()
        .args(["config", "certs", "--dir"])
        .arg(t.p(CERTS))
        .arg("--ca-dir")
        .arg(t.p("/root/mail-ca"))
        .args([
            "--name",
            "mx1",
            "--san",
            "mx1.example.org",
            "--client",
            "client",
            "--msp",
            "--msp-group",
            &gid,
        ])
        .assert()
        .success();
    let target = if split {
        t.p("/etc/exim4/conf.d/main/000_localmacros")
    } else {
        t.p("/etc/exim4/exim4.conf.localmacros")
    };
    mailtls()
        .args([
            "config",
            "exim",
            "--tls-library",
            "gnutls",
            "--dir",
            CERTS,
            "--name",
            "mx1",
            "--apply",
        ])
        .arg(&target)
        .assert()
        .success();
    t
}

fn exim_doctor(t: &Tree) -> (i32, Vec<Value>) {
    t.doctor(&["--exim-config", "/etc/exim4"])
}

fn log_line(f: &Value) -> String {
    f["log_line"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn doctor_clean_then_each_break_with_exims_line() {
    for split in [true, false] {
        let t = debian_tree(split);
        let (code, findings) = exim_doctor(&t);
        assert_eq!(
            code, 0,
            "split={split}: clean after config certs + config exim: {findings:#?}"
        );
        assert!(findings.is_empty(), "{findings:#?}");
        // Found by default too (no --exim-config).
        let (code, findings) = t.doctor(&[]);
        assert_eq!((code, findings.len()), (0, 0), "{findings:#?}");

        let key = t.p(&format!("{CERTS}/mx1-key.pem"));
        let cert = t.p(&format!("{CERTS}/mx1-cert.pem"));
        let good_key = fs::read(&key).expect("key");
        let line_of = |reason: &str| {
            format!(
                "(cert/key setup: cert=/etc/exim4/certs/mx1-cert.pem key=/etc/exim4/certs/mx1-key.pem): {reason}"
            )
        };

        // Encrypted key.
        let enc_out = t.p("/root/enc.pem");
        openssl_ok(&[
            "pkey",
            "-in",
            &key.display().to_string(),
            "-aes256",
            "-passout",
            "pass:x",
            "-out",
            &enc_out.display().to_string(),
        ]);
        fs::copy(&enc_out, &key).expect("cp");
        let (code, f) = exim_doctor(&t);
        assert_eq!(code, 1);
        let enc = with_check(&f, "key-encrypted");
        assert_eq!(enc.len(), 1, "{f:#?}");
        assert!(
            log_line(enc[0]).starts_with("TLS error on connection from … "),
            "{:?}",
            enc[0]
        );
        assert!(
            log_line(enc[0]).ends_with(&line_of("Decryption has failed.")),
            "{:?}",
            enc[0]
        );
        assert!(
            enc[0]["effect"]
                .as_str()
                .unwrap_or_default()
                .contains("454 TLS currently unavailable")
        );
        assert_eq!(enc[0]["kind"], "private_key");
        fs::write(&key, &good_key).expect("restore");

        // Key unreadable by Debian-exim (0600, owned by the test user, not uid 4242).
        fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).expect("chmod");
        let (code, f) = exim_doctor(&t);
        assert_eq!(code, 1);
        let unr = with_check(&f, "file-unreadable");
        assert_eq!(unr.len(), 1, "{f:#?}");
        assert!(
            unr[0]["problem"]
                .as_str()
                .unwrap_or_default()
                .contains("Debian-exim cannot read the private key")
        );
        assert!(log_line(unr[0]).ends_with(&line_of("Error while reading file.")));
        assert!(
            unr[0]["fix"]
                .as_str()
                .unwrap_or_default()
                .contains("chmod 640")
        );
        fs::set_permissions(&key, fs::Permissions::from_mode(0o640)).expect("chmod");

        // Mismatch: the client's key as the server key.
        fs::copy(t.p(&format!("{CERTS}/client-key.pem")), &key).expect("cp");
        let (code, f) = exim_doctor(&t);
        assert_eq!(code, 1);
        let mm = with_check(&f, "key-mismatch");
        assert_eq!(mm.len(), 1, "{f:#?}");
        assert!(
            log_line(mm[0]).ends_with(&line_of("The certificate and the given key do not match."))
        );
        fs::write(&key, &good_key).expect("restore");

        // Missing certificate.
        let good_cert = fs::read(&cert).expect("cert");
        fs::remove_file(&cert).expect("rm");
        let (code, f) = exim_doctor(&t);
        assert_eq!(code, 1);
        let miss = with_check(&f, "file-missing");
        assert_eq!(miss.len(), 1, "{f:#?}");
        assert!(
            miss[0]["problem"]
                .as_str()
                .unwrap_or_default()
                .contains("MAIN_TLS_CERTIFICATE")
        );
        assert!(log_line(miss[0]).ends_with(&line_of("Error while reading file.")));
        fs::write(&cert, &good_cert).expect("restore");

        // Back to clean.
        assert_eq!(exim_doctor(&t).0, 0);
    }
}

#[test]
fn doctor_weak_self_signed_pair_and_expiry_plain_conf() {
    let t = Tree::new();
    fs::create_dir_all(t.p("/etc/exim/certs")).expect("mkdir");
    let dir = t.p("/etc/exim/certs");
    let k = dir.join("weak-key.pem").display().to_string();
    let c = dir.join("weak-cert.pem").display().to_string();
    openssl_ok(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:1024",
        "-nodes",
        "-keyout",
        &k,
        "-out",
        &c,
        "-days",
        "10",
        "-subj",
        "/CN=mx1.example.org",
    ]);
    // The CA file: another self-signed certificate, which did not sign ours.
    let ok = dir.join("ca-key.pem").display().to_string();
    let oc = dir.join("cacert.pem").display().to_string();
    openssl_ok(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        &ok,
        "-out",
        &oc,
        "-days",
        "100",
        "-subj",
        "/CN=Other CA",
    ]);
    fs::remove_file(&ok).expect("rm");
    fs::write(
        t.p("/etc/passwd"),
        format!("exim:x:0:{}::/:/bin/false\n", t.my_gid()),
    )
    .expect("w");
    fs::write(
        t.p("/etc/exim/exim.conf"),
        "tls_certificate = /etc/exim/certs/weak-cert.pem\ntls_privatekey = /etc/exim/certs/weak-key.pem\ntls_verify_certificates = /etc/exim/certs/cacert.pem\ntls_try_verify_hosts = *\nbegin acl\n",
    )
    .expect("w");
    let (code, f) = t.doctor(&["--exim-config", "/etc/exim/exim.conf", "--warn-days", "30"]);
    let checks: Vec<&str> = f.iter().filter_map(|x| x["check"].as_str()).collect();
    assert!(checks.contains(&"key-too-small"), "{f:#?}");
    assert!(checks.contains(&"chain-unverified"), "{f:#?}");
    assert!(checks.contains(&"cert-expires-soon"), "{f:#?}");
    assert_eq!(
        code, 1,
        "an OpenSSL build (plain layout, no exim -bV under --root) refuses a 1024-bit key: {f:#?}"
    );
    // The CA file missing while client certificates are asked for: Exim's stat error.
    fs::remove_file(&oc).expect("rm");
    let (_, f) = t.doctor(&["--exim-config", "/etc/exim/exim.conf"]);
    let miss = with_check(&f, "file-missing");
    assert_eq!(miss.len(), 1, "{f:#?}");
    assert_eq!(
        log_line(miss[0]),
        "could not stat /etc/exim/certs/cacert.pem (tls_verify_certificates): No such file or directory"
    );
}

#[test]
fn doctor_log_explains_exims_key_error_in_exims_terms() {
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/real/exim/key_encrypted_pkcs8.log"
    );
    let out = mailtls()
        .args(["doctor", "--format", "json", "--log", fixture])
        .output()
        .expect("run");
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let logged: Vec<&Value> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["check"] == "log-error")
        .collect();
    assert_eq!(logged.len(), 1, "{v:#}");
    let f = logged[0];
    assert!(
        f["log_line"]
            .as_str()
            .unwrap_or_default()
            .ends_with("Decryption has failed.")
    );
    let effect = f["effect"].as_str().unwrap_or_default();
    assert!(
        effect.contains("still offers STARTTLS") && effect.contains("454"),
        "{effect}"
    );
    let fix = f["fix"].as_str().unwrap_or_default();
    assert!(
        fix.contains("--exim-config") && fix.contains("Debian-exim"),
        "{fix}"
    );
    assert!(
        !fix.contains("sendmail") && !fix.contains("ServerCertFile"),
        "{fix}"
    );
}
