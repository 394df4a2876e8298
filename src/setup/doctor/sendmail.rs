//! Sendmail: sendmail.cf (the MTA, root) and submit.cf (the MSP, group smmsp).
//!
//! Rules from `sendmail/tls.c` (8.13 – 8.18): the server needs ServerCertFile,
//! ServerKeyFile, CACertPath and CACertFile (`TLS_I_SRV_CERT`), each file must pass
//! `safefile()` (keys: not group/world readable unless `DontBlameSendmail=
//! GroupReadableKeyFile`, then not world readable), the key is loaded before the
//! certificate, and `SSL_CTX_check_private_key` catches a mismatch. The client side needs
//! none of its files: a broken client pair only means no client certificate.

use std::path::Path;

use super::checks::{self, CertState, KeyState, Reader};
use super::{Check, DoctorInput, Report, Severity, finding};
use crate::model::TlsErrorKind;
use crate::setup::cf::{self, CfSetting, GROUP_READABLE};
use crate::setup::files;

const NO_STARTTLS: &str = "sendmail keeps running but offers no STARTTLS (no 250-STARTTLS after EHLO) and accepts mail in plaintext";
const NO_CLIENT_CERT: &str =
    "sendmail delivers without a client certificate (peers that ask for one log verify=NO)";

/// One cf file's view.
struct CfView<'a> {
    kind: cf::CfKind,
    settings: &'a [CfSetting],
    reader: Reader,
    group_readable_ok: bool,
    trust_sticky: bool,
}

impl CfView<'_> {
    /// The value as sendmail uses it: set, and an absolute path (`tls_ok_f()` treats
    /// anything else as not set).
    fn get(&self, name: &str) -> Option<&str> {
        self.raw(name).filter(|v| v.starts_with('/'))
    }

    fn raw(&self, name: &str) -> Option<&str> {
        cf::lookup(self.settings, name)
            .map(|s| s.value.as_str())
            .filter(|v| !v.is_empty())
    }
}

fn dbs_has(settings: &[CfSetting], word: &str) -> bool {
    cf::lookup(settings, "DontBlameSendmail").is_some_and(|s| {
        s.value
            .split([',', ' ', '\t'])
            .any(|w| w.trim().eq_ignore_ascii_case(word))
    })
}

pub(super) fn check(input: &DoctorInput, report: &mut Report) {
    let msp_gid = files::group_id(&input.msp_group);
    let mta = input.cf.as_deref().and_then(|p| read(input, p, report));
    let msp = input
        .submit_cf
        .as_deref()
        .and_then(|p| read(input, p, report));
    if let Some(s) = &mta {
        let view = CfView {
            kind: cf::CfKind::Sendmail,
            settings: s,
            reader: Reader::Root,
            group_readable_ok: dbs_has(s, GROUP_READABLE),
            trust_sticky: dbs_has(s, "TrustStickyBit"),
        };
        check_cf(input, &view, report);
    }
    if let Some(s) = &msp {
        match msp_gid {
            Some(gid) => {
                let view = CfView {
                    kind: cf::CfKind::Submit,
                    settings: s,
                    reader: Reader::Group(gid),
                    group_readable_ok: dbs_has(s, GROUP_READABLE),
                    trust_sticky: dbs_has(s, "TrustStickyBit"),
                };
                check_cf(input, &view, report);
            }
            None => report.push(finding(
                Severity::Warning,
                Check::MspCannotRead,
                input.submit_cf.as_deref(),
                format!("group {} does not exist on this host", input.msp_group),
                "the MSP's file access cannot be checked".into(),
                None,
                None,
                Some("give the MSP's group with --msp-group".into()),
            )),
        }
    }
    if let (Some(m), Some(s)) = (&mta, &msp) {
        consistency(input, m, s, report);
    }
}

fn read(input: &DoctorInput, path: &Path, report: &mut Report) -> Option<Vec<CfSetting>> {
    report.examined.push(path.display().to_string());
    let real = input.resolve(&path.to_string_lossy());
    match cf::read_cf(&real) {
        Ok(s) => Some(s),
        Err(e) => {
            report.push(finding(
                Severity::Error,
                Check::ConfigUnreadable,
                Some(path),
                format!(
                    "cannot read the configuration: {}",
                    crate::model::text::plain_error(&e)
                ),
                "nothing can be checked".into(),
                None,
                None,
                None,
            ));
            None
        }
    }
}

fn check_cf(input: &DoctorInput, v: &CfView<'_>, report: &mut Report) {
    let mta = v.kind == cf::CfKind::Sendmail;
    let cf_path = if mta {
        input.cf.as_deref()
    } else {
        input.submit_cf.as_deref()
    };
    let tls_names = [
        "CACertPath",
        "CACertFile",
        "ServerCertFile",
        "ServerKeyFile",
        "ClientCertFile",
        "ClientKeyFile",
    ];
    // HP-UX's gen_cf writes `UseTLS=True` (the seed); stock Sendmail has no such option
    // and complains at every start, while STARTTLS is on whenever the files are set.
    if let Some(s) = cf::lookup(v.settings, "UseTLS") {
        let file = cf_path.map(|p| p.display().to_string()).unwrap_or_default();
        report.push(finding(
            Severity::Warning,
            Check::UnknownOption,
            cf_path,
            format!("line {}: O UseTLS is an HP-UX option that stock Sendmail does not know", s.line),
            "sendmail logs a SYSERR at every start and ignores the line; STARTTLS depends only on the certificate options".into(),
            None,
            Some(format!(
                "SYSERR(root): {file}: line {}: readcf: unknown option name UseTLS",
                s.line
            )),
            Some(format!("delete line {} (O UseTLS=…)", s.line)),
        ));
    }
    if tls_names.iter().all(|n| v.raw(n).is_none()) {
        if mta {
            report.push(finding(
                Severity::Error,
                Check::OptionMissing,
                cf_path,
                "no TLS options are set (CACertPath, CACertFile, ServerCertFile, ServerKeyFile)"
                    .into(),
                NO_STARTTLS.into(),
                Some(TlsErrorKind::Certificate),
                Some("STARTTLS: ServerCertFile missing".into()),
                Some("mailtls config sendmail --apply /etc/mail/sendmail.cf …".into()),
            ));
        }
        return;
    }
    if mta {
        for name in [
            "ServerCertFile",
            "ServerKeyFile",
            "CACertPath",
            "CACertFile",
        ] {
            let problem = match v.raw(name) {
                None => format!("{name} is not set; the server side requires it"),
                Some(val) if !val.starts_with('/') => {
                    format!("{name}={val} is not an absolute path; sendmail treats it as not set")
                }
                Some(_) => continue,
            };
            report.push(finding(
                Severity::Error,
                Check::OptionMissing,
                cf_path,
                problem,
                format!("{NO_STARTTLS} (the log line appears only with LogLevel > 12)"),
                Some(TlsErrorKind::Certificate),
                Some(format!("STARTTLS: {name} missing")),
                Some(format!(
                    "set O {name}=/absolute/path (mailtls config sendmail --apply …)"
                )),
            ));
        }
    }

    // CA file and path (both sides).
    let who_ca = if mta { "server" } else { "client" };
    let mut cas: Vec<Vec<u8>> = Vec::new();
    if let Some(ca_file) = v.get("CACertFile") {
        file_safety(input, v, ca_file, who_ca, false, report);
        let real = input.resolve(ca_file);
        match checks::cert_state(&real) {
            CertState::Usable(ders) => {
                for d in &ders {
                    report.findings.extend(checks::validity(
                        input,
                        Path::new(ca_file),
                        d,
                        "CA certificate",
                        "certificates it signed no longer verify (verify=FAIL at every peer that trusts it)",
                    ));
                }
                cas = ders;
            }
            CertState::NoCert(why) => {
                let path = v.get("CACertPath").unwrap_or("");
                report.push(finding(
                    if mta {
                        Severity::Error
                    } else {
                        Severity::Warning
                    },
                    Check::CaFileUnusable,
                    Some(Path::new(ca_file)),
                    format!("CACertFile holds no usable certificate ({why})"),
                    if mta {
                        NO_STARTTLS.into()
                    } else {
                        "the MSP cannot verify the MTA's certificate".into()
                    },
                    Some(TlsErrorKind::CaLocations),
                    Some(format!(
                        "STARTTLS={who_ca}, error: load verify locs {path}, {ca_file} failed: 0"
                    )),
                    Some(
                        "copy the CA certificate (PEM) there: cp …/cacert.pem ".to_string()
                            + ca_file,
                    ),
                ));
            }
            CertState::Unreadable(e) => report.push(cannot_inspect(ca_file, &e)),
            CertState::Missing => {} // reported by file_safety
        }
        if let Some(dir) = v.get("CACertPath") {
            for f in checks::hash_links(input, dir, ca_file, &cas) {
                report.push(f);
            }
            let mut dirs = vec![dir.to_owned()];
            if let Some(parent) = Path::new(ca_file).parent() {
                dirs.push(parent.to_string_lossy().into_owned());
            }
            for f in checks::ca_key_on_server(input, &dirs, &cas) {
                report.push(f);
            }
        }
    }

    // Certificate/key pairs: server (MTA only) and client.
    if mta {
        pair(
            input,
            v,
            "ServerCertFile",
            "ServerKeyFile",
            "server",
            &cas,
            report,
        );
    }
    pair(
        input,
        v,
        "ClientCertFile",
        "ClientKeyFile",
        "client",
        &cas,
        report,
    );
}

/// The `file … unsafe: …` check for one file, with the right severity for its role.
/// Returns whether the file exists, so that its contents are checked too.
fn file_safety(
    input: &DoctorInput,
    v: &CfView<'_>,
    configured: &str,
    who: &str,
    key: bool,
    report: &mut Report,
) -> bool {
    let Err(refusal) = checks::safefile(
        input,
        configured,
        v.reader,
        key,
        v.group_readable_ok,
        v.trust_sticky,
    ) else {
        return true;
    };
    let reason = refusal.reason;
    let mta = v.kind == cf::CfKind::Sendmail;
    let server = mta && who == "server";
    let (severity, effect) = if server {
        (Severity::Error, NO_STARTTLS.to_string())
    } else if mta {
        (Severity::Warning, NO_CLIENT_CERT.to_string())
    } else {
        (
            Severity::Warning,
            "the MSP (submit.cf) does without this file when it relays to the MTA over STARTTLS"
                .to_string(),
        )
    };
    let missing = reason == "No such file or directory";
    let check = if missing {
        Check::FileMissing
    } else if !mta && (reason == "Permission denied") {
        Check::MspCannotRead
    } else {
        Check::UnsafeFile
    };
    let fix = match reason.as_str() {
        "No such file or directory" => format!(
            "create it (mailtls config certs --dir {} …) or correct the option",
            parent(configured)
        ),
        "Group readable file" => format!(
            "chmod 600 {configured}   (or, if the MSP must read it: add DontBlameSendmail={GROUP_READABLE} to sendmail.cf and submit.cf)"
        ),
        "World readable file" | "Group writable file" | "World writable file" => {
            if key && v.group_readable_ok {
                // The MSP set-up: keep the group's read bit.
                format!("chmod 640 {configured}")
            } else if key {
                format!("chmod 600 {configured}")
            } else {
                format!("chmod 644 {configured}")
            }
        }
        "World writable directory" | "Group writable directory" => format!(
            "chmod go-w {}   (or DontBlameSendmail=TrustStickyBit for a sticky directory)",
            refusal.dir.as_deref().unwrap_or("<the directory>")
        ),
        "Permission denied" if !mta => format!(
            "chgrp {} {configured} && chmod 640 {configured}   (and DontBlameSendmail={GROUP_READABLE} in both cf files)",
            input.msp_group
        ),
        "Permission denied" => format!("chown root {configured}"),
        _ => format!("check {configured}"),
    };
    let present = !missing;
    report.push(finding(
        severity,
        check,
        Some(Path::new(configured)),
        format!(
            "sendmail refuses the file: {reason}{}{}",
            refusal
                .dir
                .as_deref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default(),
            if mta {
                String::new()
            } else {
                format!(" (as the MSP, group {})", input.msp_group)
            }
        ),
        effect,
        Some(TlsErrorKind::UnsafeFile),
        Some(format!(
            "STARTTLS={who}: file {configured} unsafe: {reason}"
        )),
        Some(fix),
    ));
    // Go on reading the contents of a file that exists, so every problem shows at once.
    present
}

fn parent(p: &str) -> String {
    Path::new(p)
        .parent()
        .map(|x| x.display().to_string())
        .unwrap_or_else(|| "/etc/mail/certs".into())
}

#[allow(clippy::too_many_arguments)]
fn pair(
    input: &DoctorInput,
    v: &CfView<'_>,
    cert_opt: &str,
    key_opt: &str,
    who: &str,
    cas: &[Vec<u8>],
    report: &mut Report,
) {
    let mta = v.kind == cf::CfKind::Sendmail;
    let hard = mta && who == "server";
    let severity = if hard {
        Severity::Error
    } else {
        Severity::Warning
    };
    let effect = if hard {
        NO_STARTTLS
    } else if mta {
        NO_CLIENT_CERT
    } else {
        "the MSP relays to the MTA without a client certificate"
    };
    let (Some(cert), Some(key)) = (v.get(cert_opt), v.get(key_opt)) else {
        return;
    };
    let key_present = file_safety(input, v, key, who, true, report);
    let cert_present = file_safety(input, v, cert, who, false, report);

    // The key is loaded first (SSL_CTX_use_PrivateKey_file), then the certificate.
    let key_line = format!("STARTTLS={who}, error: SSL_CTX_use_PrivateKey_file({key}) failed");
    let mut key_info = None;
    if key_present {
        match checks::key_state(&input.resolve(key)) {
            KeyState::Usable(info) => key_info = Some(info),
            KeyState::Encrypted(fmt) => report.push(finding(
                severity,
                Check::KeyEncrypted,
                Some(Path::new(key)),
                format!("the private key is encrypted ({}): it was made without -nodes", match fmt {
                    crate::setup::keys::KeyFormat::EncryptedLegacy(c) => format!("Proc-Type: 4,ENCRYPTED, {c}"),
                    _ => "ENCRYPTED PRIVATE KEY".into(),
                }),
                format!("nobody can type a pass phrase at start-up, so {effect}"),
                Some(TlsErrorKind::PrivateKey),
                Some(key_line.clone()),
                Some(checks::decrypt_fix(key)),
            )),
            KeyState::NoKey => report.push(finding(
                severity,
                Check::KeyUnreadable,
                Some(Path::new(key)),
                "no PEM private key in the file".into(),
                effect.into(),
                Some(TlsErrorKind::PrivateKey),
                Some(key_line.clone()),
                Some("point the option at the PEM key (BEGIN PRIVATE KEY), or convert: openssl pkey -inform DER -in KEY -out KEY.pem".into()),
            )),
            KeyState::Unreadable(e) => report.push(cannot_inspect(key, &e)),
            KeyState::Missing => {}
        }
    }
    let mut leaf = None;
    if cert_present {
        let cert_line =
            format!("STARTTLS={who}, error: SSL_CTX_use_certificate_file({cert}) failed");
        match checks::cert_state(&input.resolve(cert)) {
            CertState::Usable(ders) => leaf = ders.into_iter().next(),
            CertState::NoCert(why) => report.push(finding(
                severity,
                Check::CertUnreadable,
                Some(Path::new(cert)),
                format!("no usable PEM certificate in the file ({why})"),
                effect.into(),
                Some(TlsErrorKind::Certificate),
                Some(cert_line.clone()),
                Some("point the option at the PEM certificate (BEGIN CERTIFICATE)".into()),
            )),
            CertState::Unreadable(e) => report.push(cannot_inspect(cert, &e)),
            CertState::Missing => {}
        }
        if let Some(bits) = leaf.as_deref().and_then(checks::rsa_too_small) {
            report.push(finding(
                severity,
                Check::KeyTooSmall,
                Some(Path::new(cert)),
                format!("the certificate has a {bits}-bit RSA key; OpenSSL's default security level 2 needs 2048 (\"ee key too small\")"),
                effect.into(),
                Some(TlsErrorKind::Certificate),
                Some(cert_line),
                Some("mailtls config certs --force --key-type rsa2048 …".into()),
            ));
        }
    }
    if let (Some(info), Some(der)) = (&key_info, &leaf)
        && checks::key_matches(info, der) == Some(false)
    {
        report.push(finding(
            severity,
            Check::KeyMismatch,
            Some(Path::new(key)),
            format!("the private key does not belong to the certificate {cert}"),
            effect.into(),
            Some(TlsErrorKind::PrivateKey),
            Some(format!(
                "STARTTLS={who}, error: SSL_CTX_check_private_key failed({key}): 0"
            )),
            Some(format!(
                "find the key of {cert} (compare: openssl x509 -noout -pubkey -in {cert}; \
                 openssl pkey -pubout -in {key}) or reissue the pair"
            )),
        ));
    }
    if let Some(der) = &leaf {
        for f in checks::validity(
            input,
            Path::new(cert),
            der,
            "certificate",
            "peers that verify certificates (DANE, MTA-STS, tls_server rules) refuse it or log verify=FAIL; opportunistic peers still encrypt",
        ) {
            report.push(f);
        }
        if !cas.is_empty()
            && let Err(why) = checks::verify_chain(der, cas, input.now.timestamp())
        {
            report.push(finding(
                Severity::Warning,
                Check::ChainUnverified,
                Some(Path::new(cert)),
                format!("the certificate does not verify against CACertFile: {why}"),
                "peers that trust this CA log verify=FAIL for us; sendmail also advertises CACertFile's CA names when it asks for client certificates".into(),
                Some(TlsErrorKind::CertVerify),
                None,
                Some(format!("openssl verify -CAfile {} {cert}", v.get("CACertFile").unwrap_or("CACERTFILE"))),
            ));
        }
    }
}

/// sendmail.cf and submit.cf must name the same CA and client files and agree on
/// DontBlameSendmail=GroupReadableKeyFile.
fn consistency(input: &DoctorInput, mta: &[CfSetting], msp: &[CfSetting], report: &mut Report) {
    let submit = input.submit_cf.as_deref();
    let shared = [
        "CACertPath",
        "CACertFile",
        "ClientCertFile",
        "ClientKeyFile",
    ];
    let set = |s: &[CfSetting], n: &str| cf::lookup(s, n).is_some_and(|x| !x.value.is_empty());
    if shared.iter().any(|n| set(mta, n)) && !shared.iter().any(|n| set(msp, n)) {
        report.push(finding(
            Severity::Warning,
            Check::SubmitInconsistent,
            submit,
            "submit.cf sets no TLS options while sendmail.cf does".into(),
            "the MSP hands mail to the local MTA without a client certificate or CA (the seed configures both files)".into(),
            None,
            None,
            Some("mailtls config submit --apply /etc/mail/submit.cf …".into()),
        ));
        return;
    }
    for name in [
        "CACertPath",
        "CACertFile",
        "ClientCertFile",
        "ClientKeyFile",
    ] {
        let a = cf::lookup(mta, name)
            .map(|s| s.value.as_str())
            .unwrap_or("");
        let b = cf::lookup(msp, name)
            .map(|s| s.value.as_str())
            .unwrap_or("");
        if a != b && !a.is_empty() {
            let line = cf::lookup(msp, name)
                .map(|s| format!(" (line {})", s.line))
                .unwrap_or_default();
            report.push(finding(
                Severity::Warning,
                Check::SubmitInconsistent,
                submit,
                format!(
                    "{name} is {} in submit.cf{line} but {a} in sendmail.cf",
                    if b.is_empty() { "not set".to_string() } else { b.to_string() }
                ),
                "the MSP and the MTA use different TLS files: the MSP's STARTTLS to the local MTA may fail verification or go without a client certificate".into(),
                Some(TlsErrorKind::CertVerify),
                None,
                Some(format!("set O {name}={a} in submit.cf (mailtls config submit --apply …)")),
            ));
        }
    }
    let a = dbs_has(mta, GROUP_READABLE);
    let b = dbs_has(msp, GROUP_READABLE);
    if a != b {
        let (has, lacks) = if a {
            ("sendmail.cf", "submit.cf")
        } else {
            ("submit.cf", "sendmail.cf")
        };
        report.push(finding(
            Severity::Warning,
            Check::SubmitInconsistent,
            submit,
            format!("DontBlameSendmail={GROUP_READABLE} is set in {has} but not in {lacks}"),
            format!("with keys 640 group {}, {lacks}'s sendmail refuses them as \"Group readable file\"", input.msp_group),
            Some(TlsErrorKind::UnsafeFile),
            None,
            Some(format!("add {GROUP_READABLE} to DontBlameSendmail in {lacks}")),
        ));
    }
}

/// The doctor itself could not read a file (usually: not run as root), so its contents
/// were not checked. Not an error of the installation.
fn cannot_inspect(configured: &str, e: &std::io::Error) -> super::Finding {
    finding(
        Severity::Warning,
        Check::FileUnreadable,
        Some(Path::new(configured)),
        format!("the doctor cannot read it ({e}); its contents were not checked"),
        "unknown: sendmail opens it as root".into(),
        None,
        None,
        Some("run mailtls doctor as root".into()),
    )
}
