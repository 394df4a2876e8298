//! Exim: the files named by the main section's `tls_certificate`, `tls_privatekey` and
//! `tls_verify_certificates`, found through Debian's macros when the configuration is
//! Debian's (`/etc/exim4`: `update-exim4.conf.conf`, `conf.d/main/*` or
//! `exim4.conf.localmacros` + `exim4.conf.template`).
//!
//! Exim loads them at each STARTTLS, as the Exim user (Debian: `Debian-exim`), not at
//! start-up: a broken key is invisible until a client tries STARTTLS, which Exim still
//! offers and answers with `454 TLS currently unavailable`, logging one line per attempt.
//! The lines quoted are Exim 4.96 with GnuTLS 3.7.9 (Debian 12), captured by the e2e suite
//! (tests/fixtures/real/exim/): `Decryption has failed.` (encrypted key), `Error while
//! reading file.` (a missing or unreadable certificate or key: the line cannot tell which),
//! `The certificate and the given key do not match.`

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use super::checks::{self, CertState, KeyState};
use super::{Check, DoctorInput, Report, Severity, finding};
use crate::model::TlsErrorKind;
use crate::setup::exim::{self, Layout, MainSection, TlsLibrary};

const EFFECT: &str = "Exim starts and keeps offering STARTTLS, but answers it with \"454 TLS currently unavailable\" and logs the line below at each attempt; clients then deliver in plaintext (or defer, if they require TLS)";

/// What an Exim server-side error about our own files means: unlike Sendmail, Exim keeps
/// offering STARTTLS and answers 454 (`None`: the generic explanation fits).
pub(super) fn explain_log(
    kind: TlsErrorKind,
    direction: Option<crate::model::Direction>,
) -> Option<(&'static str, &'static str)> {
    if direction == Some(crate::model::Direction::Outbound) {
        return None;
    }
    match kind {
        TlsErrorKind::PrivateKey | TlsErrorKind::Certificate | TlsErrorKind::UnsafeFile => Some((
            "Exim could not load its certificate or key (as the Exim user, at this STARTTLS): it still offers STARTTLS, answers 454 TLS currently unavailable, and the client delivers in plaintext or defers",
            "run mailtls doctor --exim-config /etc/exim4 (or your exim.conf): tls_certificate / tls_privatekey must exist, be unencrypted PEM, match, and be readable by Debian-exim (root:Debian-exim 0640)",
        )),
        TlsErrorKind::CaLocations => Some((
            "Exim could not load tls_verify_certificates: it answers STARTTLS with 454",
            "run mailtls doctor --exim-config …; point tls_verify_certificates at a readable CA file (or \"system\")",
        )),
        _ => None,
    }
}

/// Exim's line for a certificate/key that GnuTLS cannot load (the client part varies).
fn setup_line(lib: TlsLibrary, cert: &str, key: &str, reason: &str) -> Option<String> {
    (lib == TlsLibrary::Gnutls).then(|| {
        format!("TLS error on connection from … (cert/key setup: cert={cert} key={key}): {reason}")
    })
}

/// The configuration to examine: Debian's directory, or one file.
fn assemble(input: &DoctorInput, conf: &Path) -> exim::Assembly {
    let c = conf.to_string_lossy().into_owned();
    let real = input.resolve(&c);
    let resolve = |p: &str| input.resolve(p);
    if real.is_dir() {
        exim::debian_assembly(&c, &resolve)
    } else if conf
        .file_name()
        .is_some_and(|n| n == "update-exim4.conf.conf")
    {
        let dir = conf
            .parent()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        exim::debian_assembly(&dir, &resolve)
    } else {
        exim::Assembly {
            layout: Layout::Plain,
            files: vec![(conf.to_path_buf(), real)],
        }
    }
}

/// The Exim user's uid and groups, from passwd/group under --root (else the host's).
fn exim_user(input: &DoctorInput, name: &str) -> Option<(u32, Vec<u32>)> {
    let read = |f: &str| {
        std::fs::read_to_string(input.resolve(f))
            .or_else(|_| std::fs::read_to_string(f))
            .unwrap_or_default()
    };
    let passwd = read("/etc/passwd");
    let (uid, gid) = passwd.lines().find_map(|l| {
        let v: Vec<&str> = l.split(':').collect();
        (v.first() == Some(&name)).then(|| {
            Some((
                v.get(2)?.parse::<u32>().ok()?,
                v.get(3)?.parse::<u32>().ok()?,
            ))
        })?
    })?;
    let mut gids = vec![gid];
    for l in read("/etc/group").lines() {
        let v: Vec<&str> = l.split(':').collect();
        if v.get(3).is_some_and(|m| m.split(',').any(|u| u == name))
            && let Some(g) = v.get(2).and_then(|g| g.parse().ok())
        {
            gids.push(g);
        }
    }
    Some((uid, gids))
}

/// Why `uid`/`gids` cannot read `configured` (a directory it cannot enter, or the file's
/// mode); `None` when it can (or the file does not exist: reported elsewhere).
fn cannot_read(
    input: &DoctorInput,
    configured: &str,
    uid: u32,
    gids: &[u32],
) -> Option<(String, Option<String>)> {
    if uid == 0 {
        return None;
    }
    let may = |m: &std::fs::Metadata, bits: u32| {
        let mode = m.permissions().mode();
        if m.uid() == uid {
            mode & (bits << 6) != 0
        } else if gids.contains(&m.gid()) {
            mode & (bits << 3) != 0
        } else {
            mode & bits != 0
        }
    };
    let mut dirs: Vec<&Path> = Path::new(configured).ancestors().skip(1).collect();
    dirs.reverse();
    for d in dirs {
        let Ok(m) = std::fs::metadata(input.resolve(&d.to_string_lossy())) else {
            continue;
        };
        if !may(&m, 0o1) {
            return Some((
                format!("cannot enter the directory {}", d.display()),
                Some(d.display().to_string()),
            ));
        }
    }
    let m = std::fs::metadata(input.resolve(configured)).ok()?;
    (!may(&m, 0o4)).then(|| {
        (
            format!(
                "mode {:04o}, owner {}:{}",
                m.permissions().mode() & 0o7777,
                m.uid(),
                m.gid()
            ),
            None,
        )
    })
}

/// `${if exists{A}{B}{C}}` (Debian's default for MAIN_TLS_VERIFY_CERTIFICATES) decided
/// against the examined tree; other expansions are left alone (`None`).
fn expand_exists(input: &DoctorInput, v: &str) -> Option<String> {
    if !v.contains('$') {
        return Some(v.to_owned());
    }
    let rest = v.trim().strip_prefix("${if exists{")?.strip_suffix('}')?;
    let (a, rest) = rest.split_once("}{")?;
    let (b, c) = rest.split_once("}{")?;
    let c = c.strip_suffix('}')?;
    Some(if input.resolve(a).exists() { b } else { c }.to_owned())
}

pub(super) fn check(input: &DoctorInput, conf: &Path, report: &mut Report) {
    let asm = assemble(input, conf);
    let mut sources = Vec::new();
    for (configured, real) in &asm.files {
        match std::fs::read(real) {
            Ok(b) => sources.push((configured.clone(), String::from_utf8_lossy(&b).into_owned())),
            Err(e) => report.push(finding(
                Severity::Error,
                Check::ConfigUnreadable,
                Some(configured),
                format!(
                    "cannot read the Exim configuration: {}",
                    crate::model::text::plain_error(&e)
                ),
                "nothing can be checked".into(),
                None,
                None,
                None,
            )),
        }
    }
    report.examined.push(match asm.layout {
        Layout::Plain => conf.display().to_string(),
        Layout::DebianSplit => format!("{} (Debian, split: conf.d/main)", conf.display()),
        Layout::DebianUnsplit => format!("{} (Debian, unsplit)", conf.display()),
    });
    if sources.is_empty() {
        if asm.files.is_empty() {
            report.push(finding(
                Severity::Error,
                Check::ConfigUnreadable,
                Some(conf),
                "no Exim configuration files found there".into(),
                "nothing can be checked".into(),
                None,
                None,
                None,
            ));
        }
        return;
    }
    for (name, first, second) in exim::duplicate_macros(&sources, &exim::DEBIAN_MACROS) {
        report.push(finding(
            Severity::Error,
            Check::ConfigInvalid,
            Some(conf),
            format!("{name} is defined at {first} and again at {second}"),
            "Exim refuses the configuration and does not start (or keeps running the old one)"
                .into(),
            None,
            Some(format!("macro \"{name}\" is already defined")),
            Some(format!(
                "keep one definition of {name}, then update-exim4.conf"
            )),
        ));
    }
    let main = exim::read_main(&sources);
    let lib = if input.root.is_none() {
        exim::probe_library()
    } else {
        None
    }
    .unwrap_or(if asm.layout.is_debian() {
        TlsLibrary::Gnutls
    } else {
        TlsLibrary::Openssl
    });
    let user = main
        .get("exim_user")
        .map(|s| s.value.clone())
        .unwrap_or_else(|| {
            if asm.layout.is_debian() || input.resolve("/etc/exim4").is_dir() {
                "Debian-exim".into()
            } else {
                "exim".into()
            }
        });
    check_files(input, &main, asm.layout, lib, &user, report);
}

fn check_files(
    input: &DoctorInput,
    main: &MainSection,
    layout: Layout,
    lib: TlsLibrary,
    user: &str,
    report: &mut Report,
) {
    let (cert_opt, key_opt, ca_opt) = if layout.is_debian() {
        (
            "MAIN_TLS_CERTIFICATE",
            "MAIN_TLS_PRIVATEKEY",
            "MAIN_TLS_VERIFY_CERTIFICATES",
        )
    } else {
        (
            "tls_certificate",
            "tls_privatekey",
            "tls_verify_certificates",
        )
    };
    let advertise = main
        .get("tls_advertise_hosts")
        .map(|s| s.value.trim().to_owned());
    if advertise.as_deref() == Some("") {
        return; // STARTTLS is not offered: nothing is loaded.
    }
    let Some(cert_set) = main.get("tls_certificate") else {
        let fix = if layout.is_debian() {
            "mailtls config exim --dir DIR --name NAME --apply /etc/exim4/conf.d/main/000_localmacros (or exim4.conf.localmacros), then update-exim4.conf"
        } else {
            "mailtls config exim --layout plain --dir DIR --name NAME --apply FILE"
        };
        report.push(finding(
            Severity::Warning,
            Check::OptionMissing,
            None,
            if layout.is_debian() {
                "MAIN_TLS_ENABLE is not set: no tls_certificate".into()
            } else {
                "tls_certificate is not set".into()
            },
            "Exim (4.92 and later) still offers STARTTLS to every host, with a self-signed certificate it makes at start-up: peers that verify refuse it, the others encrypt with a certificate nobody can check".into(),
            None,
            None,
            Some(fix.into()),
        ));
        return;
    };
    let Some(cert) = expand_exists(input, &cert_set.value) else {
        report.push(expanded(cert_set));
        return;
    };
    // Without tls_privatekey the key is read from the certificate file.
    let key = match main.get("tls_privatekey") {
        Some(k) => match expand_exists(input, &k.value) {
            Some(v) if !v.is_empty() => v,
            Some(_) => cert.clone(),
            None => {
                report.push(expanded(k));
                return;
            }
        },
        None => cert.clone(),
    };
    let file_fix = |what: &str, opt: &str| {
        format!(
            "create {what}, or point {opt} at the right file{}",
            if layout.is_debian() {
                " (then update-exim4.conf && systemctl restart exim4)"
            } else {
                ""
            }
        )
    };
    let read_err = setup_line(lib, &cert, &key, "Error while reading file.");
    let leaf = match checks::cert_state(&input.resolve(&cert)) {
        CertState::Usable(d) => d.into_iter().next(),
        CertState::Missing => {
            report.push(finding(
                Severity::Error,
                Check::FileMissing,
                Some(Path::new(&cert)),
                format!("the certificate file named by {cert_opt} does not exist"),
                EFFECT.into(),
                Some(TlsErrorKind::Certificate),
                read_err.clone(),
                Some(file_fix("it (mailtls config certs)", cert_opt)),
            ));
            None
        }
        CertState::Unreadable(e) => {
            report.push(finding(
                Severity::Error,
                Check::FileUnreadable,
                Some(Path::new(&cert)),
                format!(
                    "cannot read the certificate: {}",
                    crate::model::text::plain_error(&e)
                ),
                EFFECT.into(),
                Some(TlsErrorKind::Certificate),
                read_err.clone(),
                None,
            ));
            None
        }
        CertState::NoCert(why) => {
            report.push(finding(
                Severity::Error,
                Check::CertUnreadable,
                Some(Path::new(&cert)),
                format!("no usable PEM certificate ({why})"),
                EFFECT.into(),
                Some(TlsErrorKind::Certificate),
                None,
                Some(file_fix("a PEM certificate", cert_opt)),
            ));
            None
        }
    };
    let key_info = match checks::key_state(&input.resolve(&key)) {
        KeyState::Usable(i) => Some(i),
        KeyState::Missing => {
            report.push(finding(
                Severity::Error,
                Check::FileMissing,
                Some(Path::new(&key)),
                format!("the key file named by {key_opt} does not exist"),
                EFFECT.into(),
                Some(TlsErrorKind::PrivateKey),
                read_err.clone(),
                Some(file_fix("it (mailtls config certs)", key_opt)),
            ));
            None
        }
        KeyState::Unreadable(e) => {
            report.push(finding(
                Severity::Error,
                Check::FileUnreadable,
                Some(Path::new(&key)),
                format!(
                    "cannot read the key: {}",
                    crate::model::text::plain_error(&e)
                ),
                EFFECT.into(),
                Some(TlsErrorKind::PrivateKey),
                read_err.clone(),
                None,
            ));
            None
        }
        KeyState::Encrypted(_) => {
            report.push(finding(
                Severity::Error,
                Check::KeyEncrypted,
                Some(Path::new(&key)),
                "the private key is encrypted (Exim cannot ask for a pass phrase)".into(),
                EFFECT.into(),
                Some(TlsErrorKind::PrivateKey),
                setup_line(lib, &cert, &key, "Decryption has failed."),
                Some(format!(
                    "{}; keep it root:{user} 0640",
                    checks::decrypt_fix(&key)
                )),
            ));
            None
        }
        KeyState::NoKey => {
            report.push(finding(
                Severity::Error,
                Check::KeyUnreadable,
                Some(Path::new(&key)),
                format!("no PEM private key in the file named by {key_opt}"),
                EFFECT.into(),
                Some(TlsErrorKind::PrivateKey),
                None,
                Some(file_fix("the key", key_opt)),
            ));
            None
        }
    };
    // Exim reads both files as its user, at each STARTTLS.
    match exim_user(input, user) {
        Some((uid, gids)) => {
            let mut files = vec![(&cert, "certificate", TlsErrorKind::Certificate)];
            if key != cert {
                files.push((&key, "private key", TlsErrorKind::PrivateKey));
            }
            for (f, what, kind) in files {
                if let Some((why, dir)) = cannot_read(input, f, uid, &gids) {
                    let fix = match dir {
                        Some(d) => format!(
                            "chmod o+x {d}   (or give {user}'s group search permission on it)"
                        ),
                        None => format!(
                            "chown root:{user} {f} && chmod {} {f}",
                            if kind == TlsErrorKind::PrivateKey {
                                "640"
                            } else {
                                "644"
                            }
                        ),
                    };
                    report.push(finding(
                        Severity::Error,
                        Check::FileUnreadable,
                        Some(Path::new(f)),
                        format!("the Exim user {user} cannot read the {what} ({why}); Exim reads it at each STARTTLS after dropping root"),
                        EFFECT.into(),
                        Some(kind),
                        read_err.clone(),
                        Some(fix),
                    ));
                }
            }
        }
        None => report.push(finding(
            Severity::Warning,
            Check::FileUnreadable,
            None,
            format!(
                "the Exim user {user} does not exist here: cannot tell whether it can read the key"
            ),
            "if it cannot, Exim answers STARTTLS with 454".into(),
            None,
            None,
            Some("set exim_user, or check the key's group and mode by hand".into()),
        )),
    }
    if let Ok(m) = std::fs::metadata(input.resolve(&key))
        && m.permissions().mode() & 0o004 != 0
    {
        report.push(finding(
            Severity::Warning,
            Check::UnsafeFile,
            Some(Path::new(&key)),
            "the private key is world-readable".into(),
            "Exim uses it without complaint, but every local user can read the server's key".into(),
            Some(TlsErrorKind::UnsafeFile),
            None,
            Some(format!("chown root:{user} {key} && chmod 640 {key}")),
        ));
    }
    if let (Some(info), Some(der)) = (&key_info, &leaf)
        && checks::key_matches(info, der) == Some(false)
    {
        report.push(finding(
            Severity::Error,
            Check::KeyMismatch,
            Some(Path::new(&key)),
            format!("the private key does not belong to the certificate {cert}"),
            EFFECT.into(),
            Some(TlsErrorKind::PrivateKey),
            setup_line(lib, &cert, &key, "The certificate and the given key do not match."),
            Some(format!(
                "point {key_opt} at the key of {cert}, or reissue the pair (mailtls config certs --force)"
            )),
        ));
    }
    let Some(der) = leaf else { return };
    for f in checks::validity(
        input,
        Path::new(&cert),
        &der,
        "the server certificate",
        "Exim still uses it; clients that verify certificates (DANE, MTA-STS, tls_verify_hosts on their side) refuse it, the others deliver anyway",
    ) {
        report.push(f);
    }
    if let Some(bits) = checks::rsa_too_small(&der) {
        let (sev, effect) = match lib {
            TlsLibrary::Gnutls => (
                Severity::Warning,
                "GnuTLS loads it, but clients with OpenSSL at security level 2 (Debian's default) refuse the handshake (\"ee key too small\")",
            ),
            TlsLibrary::Openssl => (Severity::Error, EFFECT),
        };
        report.push(finding(
            sev,
            Check::KeyTooSmall,
            Some(Path::new(&cert)),
            format!("the certificate's RSA key has {bits} bits (fewer than 2048)"),
            effect.into(),
            Some(TlsErrorKind::PrivateKey),
            None,
            Some("mailtls config certs --force --key-type rsa2048 (or larger) …".into()),
        ));
    }
    check_ca(input, main, ca_opt, &cert, &der, report);
}

fn expanded(s: &exim::EximSetting) -> super::Finding {
    finding(
        Severity::Info,
        Check::OptionMissing,
        Some(&s.file),
        format!(
            "{} = {} (line {}) is expanded at run time: its files are not checked",
            s.name, s.value, s.line
        ),
        "the doctor cannot tell which file Exim will load".into(),
        None,
        None,
        None,
    )
}

fn check_ca(
    input: &DoctorInput,
    main: &MainSection,
    ca_opt: &str,
    cert: &str,
    leaf: &[u8],
    report: &mut Report,
) {
    let Some(set) = main.get("tls_verify_certificates") else {
        return;
    };
    let Some(ca) = expand_exists(input, &set.value) else {
        return;
    };
    if ca.is_empty() || ca == "system" || ca == "/dev/null" || input.resolve(&ca).is_dir() {
        return;
    }
    let verifying = ["tls_verify_hosts", "tls_try_verify_hosts"]
        .iter()
        .any(|o| main.get(o).is_some_and(|s| !s.value.trim().is_empty()));
    let (sev, effect) = if verifying {
        (Severity::Error, EFFECT.to_owned())
    } else {
        (
            Severity::Warning,
            "no client certificate is asked for now (tls_try_verify_hosts unset); once it is, Exim answers STARTTLS with 454".to_owned(),
        )
    };
    let cas = match checks::cert_state(&input.resolve(&ca)) {
        CertState::Usable(c) => c,
        CertState::Missing => {
            report.push(finding(
                sev,
                Check::FileMissing,
                Some(Path::new(&ca)),
                format!("the CA file named by {ca_opt} does not exist"),
                effect,
                Some(TlsErrorKind::CaLocations),
                Some(format!(
                    "could not stat {ca} (tls_verify_certificates): No such file or directory"
                )),
                Some(format!(
                    "create it, or point {ca_opt} at your CA file (or \"system\")"
                )),
            ));
            return;
        }
        CertState::Unreadable(_) | CertState::NoCert(_) => {
            report.push(finding(
                sev,
                Check::CaFileUnusable,
                Some(Path::new(&ca)),
                format!("the CA file named by {ca_opt} holds no usable certificate"),
                effect,
                Some(TlsErrorKind::CaLocations),
                None,
                None,
            ));
            return;
        }
    };
    if let Err(why) = checks::verify_chain(leaf, &cas, input.now.timestamp()) {
        report.push(finding(
            Severity::Warning,
            Check::ChainUnverified,
            Some(Path::new(cert)),
            format!("the server certificate does not verify against {ca_opt} ({ca}): {why}"),
            "your own hosts that verify with this CA file (tls_verify_certificates in their smtp transport) see an unverified certificate (CV=no), and refuse it where verification is required".into(),
            Some(TlsErrorKind::CertVerify),
            None,
            Some(format!("issue the certificate from the CA in {ca}, or add its issuer to {ca}")),
        ));
    }
    let dirs: Vec<String> = [cert, ca.as_str()]
        .iter()
        .filter_map(|p| Path::new(p).parent().map(|d| d.display().to_string()))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    for f in checks::ca_key_on_server(input, &dirs, &cas) {
        report.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(root: &Path) -> DoctorInput {
        DoctorInput {
            cf: None,
            submit_cf: None,
            postfix_dir: None,
            exim: None,
            log: None,
            root: Some(root.to_path_buf()),
            msp_group: "smmsp".into(),
            warn_days: 30,
            now: chrono::Utc::now(),
        }
    }

    #[test]
    fn debians_exists_expansion_is_decided_on_the_tree() {
        let dir = tempfile::tempdir().expect("tempdir");
        let i = input(dir.path());
        let v = "${if exists{/etc/ssl/certs/ca-certificates.crt}{/etc/ssl/certs/ca-certificates.crt}{/dev/null}}";
        assert_eq!(expand_exists(&i, v).as_deref(), Some("/dev/null"));
        std::fs::create_dir_all(dir.path().join("etc/ssl/certs")).expect("mkdir");
        std::fs::write(dir.path().join("etc/ssl/certs/ca-certificates.crt"), "x").expect("w");
        assert_eq!(
            expand_exists(&i, v).as_deref(),
            Some("/etc/ssl/certs/ca-certificates.crt")
        );
        assert_eq!(
            expand_exists(&i, "/plain.pem").as_deref(),
            Some("/plain.pem")
        );
        assert_eq!(expand_exists(&i, "${lookup{$tls_in_sni}lsearch{/x}}"), None);
    }

    #[test]
    fn the_exim_user_reads_by_owner_group_or_other_and_must_enter_directories() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        let i = input(dir.path());
        std::fs::create_dir_all(dir.path().join("etc")).expect("mkdir");
        std::fs::write(
            dir.path().join("etc/passwd"),
            "Debian-exim:x:4242:4343::/var/spool/exim4:/usr/sbin/nologin\n",
        )
        .expect("w");
        std::fs::write(dir.path().join("etc/group"), "mail:x:8:Debian-exim\n").expect("w");
        assert_eq!(exim_user(&i, "Debian-exim"), Some((4242, vec![4343, 8])));
        assert_eq!(exim_user(&i, "nobody-here"), None);
        let key = dir.path().join("etc/k.pem");
        std::fs::write(&key, "k").expect("w");
        let my_gid = std::fs::metadata(&key).expect("stat").gid();
        let set = |m: u32| {
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(m)).expect("chmod")
        };
        set(0o600);
        assert!(cannot_read(&i, "/etc/k.pem", 4242, &[4343]).is_some());
        set(0o640);
        assert!(cannot_read(&i, "/etc/k.pem", 4242, &[my_gid]).is_none());
        assert!(cannot_read(&i, "/etc/k.pem", 4242, &[4343]).is_some());
        set(0o644);
        assert!(cannot_read(&i, "/etc/k.pem", 4242, &[4343]).is_none());
        std::fs::set_permissions(
            dir.path().join("etc"),
            std::fs::Permissions::from_mode(0o700),
        )
        .expect("chmod");
        let (why, d) = cannot_read(&i, "/etc/k.pem", 4242, &[4343]).expect("blocked");
        assert_eq!(d.as_deref(), Some("/etc"), "{why}");
        assert!(
            cannot_read(&i, "/etc/k.pem", 0, &[0]).is_none(),
            "root reads anything"
        );
    }
}
