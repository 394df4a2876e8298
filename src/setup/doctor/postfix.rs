//! Postfix: the `smtpd_tls_*` / `smtp_tls_*` files of main.cf, with the warnings Postfix
//! 3.x logs (`src/tls/tls_certkey.c`). Postfix checks no file modes; smtpd loads the key
//! as root before it drops privileges. With a broken key it still advertises STARTTLS and
//! answers 454 to it (REAL-MTA-NOTES).

use std::path::Path;

use super::checks::{self, CertState, KeyState};
use super::{Check, DoctorInput, Report, Severity, finding};
use crate::model::TlsErrorKind;
use crate::setup::postfix as pf;

const SMTPD_BROKEN: &str = "Postfix still advertises STARTTLS but answers it with 454 4.7.0 TLS not available due to local problem; peers deliver in plaintext";

pub(super) fn check(input: &DoctorInput, dir: &Path, report: &mut Report) {
    let main_cf = dir.join("main.cf");
    report.examined.push(main_cf.display().to_string());
    let settings = match pf::read_file(&input.resolve(&main_cf.to_string_lossy())) {
        Ok(s) => s,
        Err(e) => {
            report.push(finding(
                Severity::Error,
                Check::ConfigUnreadable,
                Some(&main_cf),
                format!(
                    "cannot read main.cf: {}",
                    crate::model::text::plain_error(&e)
                ),
                "nothing can be checked".into(),
                None,
                None,
                None,
            ));
            return;
        }
    };
    let conf_dir = dir.display().to_string();
    let get = |n: &str| {
        pf::lookup(&settings, n)
            .and_then(|s| pf::expand(&s.value, &settings, &conf_dir))
            .filter(|v| !v.is_empty())
    };
    for (side, prog, hard) in [("smtpd", "smtpd", true), ("smtp", "smtp", false)] {
        let cas = ca(input, side, prog, &get, report);
        let (Some(cert), Some(key)) = (
            get(&format!("{side}_tls_cert_file")),
            get(&format!("{side}_tls_key_file")),
        ) else {
            continue;
        };
        let severity = if hard {
            Severity::Error
        } else {
            Severity::Warning
        };
        let effect = if hard {
            SMTPD_BROKEN
        } else {
            "Postfix delivers without a client certificate"
        };
        let cert_line = format!(
            "warning: cannot get RSA certificate from file \"{cert}\": disabling TLS support"
        );
        let key_line = format!(
            "warning: cannot get RSA private key from file \"{key}\": disabling TLS support"
        );
        // Postfix loads the certificate first, then the key.
        let leaf = match checks::cert_state(&input.resolve(&cert)) {
            CertState::Usable(d) => d.into_iter().next(),
            CertState::Missing => {
                report.push(finding(
                    severity,
                    Check::FileMissing,
                    Some(Path::new(&cert)),
                    "the certificate file does not exist".into(),
                    effect.into(),
                    Some(TlsErrorKind::Certificate),
                    Some(cert_line.clone()),
                    Some("create it or correct main.cf".into()),
                ));
                None
            }
            CertState::Unreadable(e) => {
                report.push(finding(
                    severity,
                    Check::FileUnreadable,
                    Some(Path::new(&cert)),
                    format!(
                        "cannot read the certificate: {}",
                        crate::model::text::plain_error(&e)
                    ),
                    effect.into(),
                    Some(TlsErrorKind::Certificate),
                    Some(cert_line.clone()),
                    None,
                ));
                None
            }
            CertState::NoCert(why) => {
                report.push(finding(
                    severity,
                    Check::CertUnreadable,
                    Some(Path::new(&cert)),
                    format!("no usable PEM certificate ({why})"),
                    effect.into(),
                    Some(TlsErrorKind::Certificate),
                    Some(cert_line.clone()),
                    None,
                ));
                None
            }
        };
        let key_info = match checks::key_state(&input.resolve(&key)) {
            KeyState::Usable(i) => Some(i),
            KeyState::Missing => {
                report.push(finding(
                    severity,
                    Check::FileMissing,
                    Some(Path::new(&key)),
                    "the key file does not exist".into(),
                    effect.into(),
                    Some(TlsErrorKind::PrivateKey),
                    Some(key_line.clone()),
                    Some("create it or correct main.cf".into()),
                ));
                None
            }
            KeyState::Unreadable(e) => {
                report.push(finding(
                    severity,
                    Check::FileUnreadable,
                    Some(Path::new(&key)),
                    format!(
                        "cannot read the key: {}",
                        crate::model::text::plain_error(&e)
                    ),
                    effect.into(),
                    Some(TlsErrorKind::PrivateKey),
                    Some(key_line.clone()),
                    None,
                ));
                None
            }
            KeyState::Encrypted(_) => {
                report.push(finding(
                    severity,
                    Check::KeyEncrypted,
                    Some(Path::new(&key)),
                    "the private key is encrypted (made without -nodes)".into(),
                    format!("nobody can type a pass phrase at start-up, so {effect}"),
                    Some(TlsErrorKind::PrivateKey),
                    Some(key_line.clone()),
                    Some(checks::decrypt_fix(&key)),
                ));
                None
            }
            KeyState::NoKey => {
                report.push(finding(
                    severity,
                    Check::KeyUnreadable,
                    Some(Path::new(&key)),
                    "no PEM private key in the file".into(),
                    effect.into(),
                    Some(TlsErrorKind::PrivateKey),
                    Some(key_line.clone()),
                    None,
                ));
                None
            }
        };
        if let Ok(m) = std::fs::metadata(input.resolve(&key)) {
            use std::os::unix::fs::PermissionsExt;
            if m.permissions().mode() & 0o004 != 0 {
                report.push(finding(
                    Severity::Warning,
                    Check::UnsafeFile,
                    Some(Path::new(&key)),
                    "the private key is world-readable".into(),
                    "Postfix uses it, but every local user can read the server's key".into(),
                    Some(TlsErrorKind::UnsafeFile),
                    None,
                    Some(format!("chmod 600 {key}")),
                ));
            }
        }
        if let (Some(info), Some(der)) = (&key_info, &leaf)
            && checks::key_matches(info, der) == Some(false)
        {
            report.push(finding(
                severity,
                Check::KeyMismatch,
                Some(Path::new(&key)),
                format!("the private key does not belong to the certificate {cert}"),
                effect.into(),
                Some(TlsErrorKind::PrivateKey),
                Some(key_line.clone()),
                Some("reissue the pair, or point main.cf at the matching key".into()),
            ));
        }
        if let Some(der) = &leaf {
            for f in checks::validity(
                input,
                Path::new(&cert),
                der,
                &format!("{side} certificate"),
                "peers that verify certificates refuse it or log it as untrusted",
            ) {
                report.push(f);
            }
            if !cas.is_empty()
                && let Err(why) = checks::verify_chain(der, &cas, input.now.timestamp())
            {
                report.push(finding(
                    Severity::Warning,
                    Check::ChainUnverified,
                    Some(Path::new(&cert)),
                    format!("the certificate does not verify against {side}_tls_CAfile: {why}"),
                    "peers that trust this CA see an untrusted certificate".into(),
                    Some(TlsErrorKind::CertVerify),
                    None,
                    None,
                ));
            }
        }
    }
}

/// The CAfile (and CApath links) of one side; returns the CA certificates.
fn ca(
    input: &DoctorInput,
    side: &str,
    prog: &str,
    get: &dyn Fn(&str) -> Option<String>,
    report: &mut Report,
) -> Vec<Vec<u8>> {
    let Some(file) = get(&format!("{side}_tls_CAfile")) else {
        return Vec::new();
    };
    let path = get(&format!("{side}_tls_CApath"));
    let line = match &path {
        Some(p) => format!(
            "cannot load Certification Authority data, CAfile=\"{file}\", CApath=\"{p}\": disabling TLS support"
        ),
        None => format!(
            "cannot load Certification Authority data, CAfile=\"{file}\": disabling TLS support"
        ),
    };
    let effect = format!("postfix/{prog} disables TLS: {SMTPD_BROKEN}");
    match checks::cert_state(&input.resolve(&file)) {
        CertState::Usable(ders) => {
            if let Some(dir) = &path {
                for f in checks::hash_links(input, dir, &file, &ders) {
                    report.push(f);
                }
            }
            ders
        }
        CertState::Missing => {
            report.push(finding(
                Severity::Error,
                Check::FileMissing,
                Some(Path::new(&file)),
                format!("{side}_tls_CAfile does not exist"),
                effect,
                Some(TlsErrorKind::CaLocations),
                Some(line),
                None,
            ));
            Vec::new()
        }
        CertState::Unreadable(e) => {
            report.push(finding(
                Severity::Error,
                Check::FileUnreadable,
                Some(Path::new(&file)),
                format!(
                    "cannot read {side}_tls_CAfile: {}",
                    crate::model::text::plain_error(&e)
                ),
                effect,
                Some(TlsErrorKind::CaLocations),
                Some(line),
                None,
            ));
            Vec::new()
        }
        CertState::NoCert(why) => {
            report.push(finding(
                Severity::Error,
                Check::CaFileUnusable,
                Some(Path::new(&file)),
                format!("{side}_tls_CAfile holds no usable certificate ({why})"),
                effect,
                Some(TlsErrorKind::CaLocations),
                Some(line),
                None,
            ));
            Vec::new()
        }
    }
}
