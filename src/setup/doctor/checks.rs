//! File-level checks shared by the Sendmail and Postfix doctors: keys, certificates, the
//! chain, the hashed CA directory, the CA key, and Sendmail's `safefile()` rules.

use std::fs;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::{Check, DoctorInput, Finding, Severity, finding};
use crate::model::TlsErrorKind;
use crate::setup::hash;
use crate::setup::keys::{self, KeyFormat, KeyInfo, PublicId};

/// What a key file turned out to be.
pub(super) enum KeyState {
    Usable(KeyInfo),
    Missing,
    Unreadable(io::Error),
    Encrypted(KeyFormat),
    NoKey,
}

pub(super) fn key_state(path: &Path) -> KeyState {
    match fs::read(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => KeyState::Missing,
        Err(e) => KeyState::Unreadable(e),
        Ok(bytes) => {
            let info = keys::inspect_key(&bytes);
            match info.format {
                KeyFormat::NoKey => KeyState::NoKey,
                ref f if f.is_encrypted() => KeyState::Encrypted(f.clone()),
                _ => KeyState::Usable(info),
            }
        }
    }
}

/// What a certificate file turned out to be.
pub(super) enum CertState {
    /// DER of each certificate, in file order (leaf first for a chain file).
    Usable(Vec<Vec<u8>>),
    Missing,
    Unreadable(io::Error),
    /// No parsable certificate; the reason is for the message.
    NoCert(String),
}

pub(super) fn cert_state(path: &Path) -> CertState {
    match fs::read(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => CertState::Missing,
        Err(e) => CertState::Unreadable(e),
        Ok(bytes) => {
            let ders = keys::pem_certificates(&bytes);
            if ders.is_empty() {
                return CertState::NoCert("no PEM CERTIFICATE block".into());
            }
            if let Some(Err(e)) = ders
                .iter()
                .map(|d| keys::parse_cert(d).map(|_| ()))
                .find(Result::is_err)
            {
                return CertState::NoCert(e);
            }
            CertState::Usable(ders)
        }
    }
}

/// The command that removes a pass phrase (OpenSSL asks for it once).
pub(super) fn decrypt_fix(key: &str) -> String {
    format!(
        "openssl pkey -in {key} -out {key}.new && chmod --reference={key} {key}.new && mv {key}.new {key}   (or regenerate without a pass phrase: mailtls config certs --force …)"
    )
}

/// Key/certificate agreement: `Some(false)` mismatch, `None` when it cannot be told.
pub(super) fn key_matches(key: &KeyInfo, cert_der: &[u8]) -> Option<bool> {
    let cert = keys::parse_cert(cert_der).ok()?;
    let cert_pub = keys::cert_public(&cert)?;
    let key_pub = key.public.as_ref()?;
    Some(*key_pub == cert_pub)
}

/// RSA keys under 2048 bits: OpenSSL ≥ 1.1.1 at security level 2 (Debian's default since
/// buster) refuses them when the certificate is loaded ("ee key too small").
pub(super) fn rsa_too_small(cert_der: &[u8]) -> Option<usize> {
    let cert = keys::parse_cert(cert_der).ok()?;
    match keys::cert_public(&cert)? {
        p @ PublicId::Rsa { .. } if p.bits() < 2048 => Some(p.bits()),
        _ => None,
    }
}

/// Validity findings for one certificate.
pub(super) fn validity(
    input: &DoctorInput,
    file: &Path,
    cert_der: &[u8],
    what: &str,
    effect_expired: &str,
) -> Vec<Finding> {
    let Ok(cert) = keys::parse_cert(cert_der) else {
        return Vec::new();
    };
    let now = input.now.timestamp();
    let v = cert.validity();
    let after = v.not_after.timestamp();
    let before = v.not_before.timestamp();
    let renew =
        "mailtls config certs --force … (or renew it with your CA) and restart the MTA".to_string();
    let mut out = Vec::new();
    if after < now {
        out.push(finding(
            Severity::Error,
            Check::CertExpired,
            Some(file),
            format!("{what} expired on {}", v.not_after),
            effect_expired.to_owned(),
            Some(TlsErrorKind::CertVerify),
            None,
            Some(renew),
        ));
    } else if before > now {
        out.push(finding(
            Severity::Error,
            Check::CertNotYetValid,
            Some(file),
            format!("{what} is not valid before {}", v.not_before),
            effect_expired.to_owned(),
            Some(TlsErrorKind::CertVerify),
            None,
            Some("check the system clock, or reissue the certificate".into()),
        ));
    } else if after - now < input.warn_days * 86_400 {
        out.push(finding(
            Severity::Warning,
            Check::CertExpiresSoon,
            Some(file),
            format!(
                "{what} expires on {} (in {})",
                v.not_after,
                crate::model::text::count(((after - now) / 86_400) as u64, "day", "days")
            ),
            format!("after that: {effect_expired}"),
            Some(TlsErrorKind::CertVerify),
            None,
            Some(renew),
        ));
    }
    out
}

/// Does `cert_der` chain to one of `cas` (issuer name, signature, CA validity)?
pub(super) fn verify_chain(cert_der: &[u8], cas: &[Vec<u8>], now: i64) -> Result<(), String> {
    let cert = keys::parse_cert(cert_der)?;
    if cas.iter().any(|c| c.as_slice() == cert_der) {
        return Ok(()); // the certificate is itself a trusted one
    }
    let mut reasons = Vec::new();
    for ca_der in cas {
        let Ok(ca) = keys::parse_cert(ca_der) else {
            continue;
        };
        if ca.subject().as_raw() != cert.issuer().as_raw() {
            continue;
        }
        if let Err(e) = cert.verify_signature(Some(ca.public_key())) {
            reasons.push(format!(
                "signature does not verify with {}: {e}",
                ca.subject()
            ));
            continue;
        }
        let v = ca.validity();
        if v.not_after.timestamp() < now || v.not_before.timestamp() > now {
            reasons.push(format!("issuer {} is not valid now", ca.subject()));
            continue;
        }
        return Ok(());
    }
    if reasons.is_empty() {
        Err(format!(
            "no certificate for its issuer {} in the CA file",
            cert.issuer()
        ))
    } else {
        Err(reasons.join("; "))
    }
}

/// CACertPath: the `<hash>.0` link for each CA of CACertFile, and links that can never be
/// found because their name is not the hash of what they point to.
pub(super) fn hash_links(
    input: &DoctorInput,
    configured_dir: &str,
    ca_file_configured: &str,
    cas: &[Vec<u8>],
) -> Vec<Finding> {
    let dir = input.resolve(configured_dir);
    let mut out = Vec::new();
    if !dir.is_dir() {
        out.push(finding(
            Severity::Warning,
            Check::CaPathMissing,
            Some(Path::new(configured_dir)),
            "CACertPath is not a directory".into(),
            "OpenSSL finds no issuer certificates there; only CACertFile is used to verify peers"
                .into(),
            Some(TlsErrorKind::CaLocations),
            None,
            Some(format!(
                "mkdir -p {configured_dir} && chmod 755 {configured_dir}"
            )),
        ));
        return out;
    }
    let ca_name = Path::new(ca_file_configured)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "cacert.pem".into());
    let ca_in_dir = Path::new(ca_file_configured).parent()
        == Some(Path::new(configured_dir.trim_end_matches('/')));
    let target = if ca_in_dir {
        ca_name.clone()
    } else {
        ca_file_configured.to_owned()
    };
    for ca in cas {
        let Ok(h) = hash::subject_hash(ca) else {
            continue;
        };
        let link = hash::link_name(h);
        let link_conf = format!("{}/{link}", configured_dir.trim_end_matches('/'));
        let link_path = dir.join(&link);
        let fix = format!("cd {configured_dir} && ln -sf {target} {link}");
        match fs::symlink_metadata(&link_path) {
            Err(_) => out.push(finding(
                Severity::Warning,
                Check::HashLinkMissing,
                Some(Path::new(&link_conf)),
                format!("CACertPath has no {link} for the CA in {ca_file_configured}"),
                "OpenSSL looks issuers up in CACertPath by subject hash; without the link this CA is found only through CACertFile, and other programs using the directory (openssl s_client -CApath, Postfix smtp_tls_CApath) do not trust it".into(),
                Some(TlsErrorKind::CertVerify),
                None,
                Some(fix),
            )),
            Ok(_) => {
                let same = match cert_state(&link_path) {
                    CertState::Usable(ders) => ders.iter().any(|d| d == ca),
                    _ => false,
                };
                if !same {
                    out.push(finding(
                        Severity::Error,
                        Check::HashLinkWrong,
                        Some(Path::new(&link_conf)),
                        format!("{link} does not lead to the CA certificate of {ca_file_configured} (dangling, or another certificate)"),
                        "peers whose certificates this CA signed fail verification through CACertPath (verify=FAIL)".into(),
                        Some(TlsErrorKind::CertVerify),
                        None,
                        Some(fix),
                    ));
                }
            }
        }
    }
    // Links named like a hash that is not their target's: never opened by OpenSSL.
    if let Ok(entries) = fs::read_dir(&dir) {
        let mut names: Vec<_> = entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for name in names {
            let Some((h, n)) = name.split_once('.') else {
                continue;
            };
            if h.len() != 8
                || !h.bytes().all(|b| b.is_ascii_hexdigit())
                || n.parse::<u32>().is_err()
            {
                continue;
            }
            let p = dir.join(&name);
            let CertState::Usable(ders) = cert_state(&p) else {
                continue;
            };
            let Some(first) = ders.first() else { continue };
            let Ok(real) = hash::subject_hash(first) else {
                continue;
            };
            if !h.eq_ignore_ascii_case(&format!("{real:08x}")) {
                let conf = format!("{}/{name}", configured_dir.trim_end_matches('/'));
                out.push(finding(
                    Severity::Warning,
                    Check::HashLinkWrong,
                    Some(Path::new(&conf)),
                    format!("{name} is named for hash {h} but its certificate's subject hash is {real:08x} (an old OpenSSL 0.9 hash, or a typo)"),
                    "OpenSSL never opens it: the certificate behind it is not trusted through CACertPath".into(),
                    Some(TlsErrorKind::CertVerify),
                    None,
                    Some(format!("openssl rehash {configured_dir}")),
                ));
            }
        }
    }
    out
}

/// The CA's private key lying in one of `dirs` (the server's certificate directories).
pub(super) fn ca_key_on_server(
    input: &DoctorInput,
    dirs: &[String],
    cas: &[Vec<u8>],
) -> Vec<Finding> {
    let ca_pubs: Vec<PublicId> = cas
        .iter()
        .filter_map(|d| keys::parse_cert(d).ok().and_then(|c| keys::cert_public(&c)))
        .collect();
    let mut out = Vec::new();
    let mut seen: Vec<PathBuf> = Vec::new();
    for conf_dir in dirs {
        let dir = input.resolve(conf_dir);
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        files.sort();
        for p in files {
            if seen.contains(&p) || !p.is_file() {
                continue;
            }
            seen.push(p.clone());
            let Ok(meta) = fs::metadata(&p) else { continue };
            if meta.len() > 1 << 20 {
                continue;
            }
            let Ok(bytes) = fs::read(&p) else { continue };
            let info = keys::inspect_key(&bytes);
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let is_ca_key = info.public.as_ref().is_some_and(|k| ca_pubs.contains(k))
                || (name == "cakey.pem" && info.format != KeyFormat::NoKey);
            if is_ca_key {
                let conf = format!("{}/{name}", conf_dir.trim_end_matches('/'));
                out.push(finding(
                    Severity::Warning,
                    Check::CaKeyOnServer,
                    Some(Path::new(&conf)),
                    "the CA's private key is on the mail server".into(),
                    "whoever reads it can sign certificates that every host trusting this CA accepts; the MTA does not need it".into(),
                    None,
                    None,
                    Some(format!("move {conf} to an offline machine (the seed: do not store cakey.pem on the Sendmail servers)")),
                ));
            }
        }
    }
    out
}

/// Who reads a file, for Sendmail's `safefile()` rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reader {
    /// The MTA: root, opening as root (`SFF_OPENASROOT`).
    Root,
    /// The MSP: RunAsUser smmsp, so group `gid` must be able to read.
    Group(u32),
}

/// Why `safefile()` refuses a file: `sm_errstring()`'s words, and the offending directory
/// for the directory reasons (Sendmail does not name it; the fix must).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Unsafe {
    pub reason: String,
    pub dir: Option<String>,
}

fn unsafe_file(reason: &str) -> Unsafe {
    Unsafe {
        reason: reason.to_owned(),
        dir: None,
    }
}

/// Sendmail's `safefile()` for a TLS file.
pub(super) fn safefile(
    input: &DoctorInput,
    configured: &str,
    reader: Reader,
    key: bool,
    group_readable_ok: bool,
    trust_sticky: bool,
) -> Result<(), Unsafe> {
    let path = input.resolve(configured);
    // Directory path first (SFF_SAFEDIRPATH), from / down.
    let mut dirs: Vec<&Path> = Path::new(configured).ancestors().skip(1).collect();
    dirs.reverse();
    for d in dirs {
        let real = input.resolve(&d.to_string_lossy());
        let Ok(m) = fs::metadata(&real) else { continue };
        let mode = m.permissions().mode();
        let sticky_ok = trust_sticky && mode & 0o1000 != 0;
        let dir = Some(d.display().to_string());
        if mode & 0o002 != 0 && !sticky_ok {
            return Err(Unsafe {
                reason: "World writable directory".into(),
                dir,
            });
        }
        if mode & 0o020 != 0 && !sticky_ok {
            return Err(Unsafe {
                reason: "Group writable directory".into(),
                dir,
            });
        }
    }
    let meta = match fs::metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(unsafe_file("No such file or directory"));
        }
        Err(e) => return Err(unsafe_file(&e.to_string())),
    };
    if !meta.is_file() {
        return Err(unsafe_file("Regular files only"));
    }
    let mode = meta.permissions().mode();
    if mode & 0o020 != 0 {
        return Err(unsafe_file("Group writable file"));
    }
    if mode & 0o002 != 0 {
        return Err(unsafe_file("World writable file"));
    }
    if key {
        if !group_readable_ok && mode & 0o040 != 0 {
            return Err(unsafe_file("Group readable file"));
        }
        if mode & 0o004 != 0 {
            return Err(unsafe_file("World readable file"));
        }
    }
    match reader {
        Reader::Root => {
            // SFF_MUSTOWN: owned by root (RunAsUid) — TrustedUser is not read here.
            if meta.uid() != 0 && meta.uid() != current_uid() {
                return Err(unsafe_file("Permission denied"));
            }
        }
        Reader::Group(gid) => {
            let readable = (meta.gid() == gid && mode & 0o040 != 0) || mode & 0o004 != 0;
            if !readable {
                return Err(unsafe_file("Permission denied"));
            }
        }
    }
    Ok(())
}

/// The uid the doctor runs as (tests run unprivileged in CI containers as root anyway).
fn current_uid() -> u32 {
    fs::metadata("/proc/self").map(|m| m.uid()).unwrap_or(0)
}
