//! Making the CA, server and client keys and certificates (`mailtls config certs`).
//!
//! This replaces the seed's CA.pl session: `-newca`, `-newreq` (patched for `-nodes`),
//! `-sign`, the copies into `/etc/mail/certs` and the `<hash>.0` link. Keys are always
//! written unencrypted — Sendmail cannot ask for a pass phrase, and an encrypted key is
//! exactly what produces `SSL_CTX_use_PrivateKey_file(…) failed`. The CA private key is
//! written to a separate directory: it signs certificates and has no business on a mail
//! server.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};
use ring::rand::SecureRandom;
use time::{Duration, OffsetDateTime};

use super::SetupError;
use super::files;
use super::hash;

/// The key algorithms offered. RSA is the default: some peers still cannot do ECDSA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KeyType {
    Rsa2048,
    Rsa3072,
    Rsa4096,
    EcdsaP256,
    EcdsaP384,
}

impl KeyType {
    /// Generates a key pair. RSA keys come from the pure-Rust `rsa` crate (ring cannot
    /// generate RSA keys), ECDSA keys from ring through rcgen.
    pub fn generate(self) -> Result<KeyPair, SetupError> {
        let rsa_bits = match self {
            KeyType::Rsa2048 => 2048,
            KeyType::Rsa3072 => 3072,
            KeyType::Rsa4096 => 4096,
            KeyType::EcdsaP256 => {
                return KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
                    .map_err(SetupError::from);
            }
            KeyType::EcdsaP384 => {
                return KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384)
                    .map_err(SetupError::from);
            }
        };
        use rsa::pkcs8::EncodePrivateKey;
        let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, rsa_bits)
            .map_err(|e| SetupError::Crypto(format!("RSA key generation: {e}")))?;
        let der = key
            .to_pkcs8_der()
            .map_err(|e| SetupError::Crypto(format!("RSA key encoding: {e}")))?;
        let pkcs8 = rustls_pki_types::PrivatePkcs8KeyDer::from(der.as_bytes());
        KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8, &rcgen::PKCS_RSA_SHA256)
            .map_err(SetupError::from)
    }
}

/// What `config certs` is asked to make.
#[derive(Debug, Clone)]
pub struct CertPlan {
    /// The server's certificate directory (`/etc/mail/certs`): CA certificate, server and
    /// client pairs, the hash link.
    pub dir: PathBuf,
    /// Where the CA private key goes (never `dir`).
    pub ca_dir: PathBuf,
    /// File name stem of the server pair: `NAME-key.pem`, `NAME-cert.pem`.
    pub name: String,
    /// Subject alternative names (DNS names or IP addresses); the first is also the CN.
    pub sans: Vec<String>,
    /// Organisation written into the subjects.
    pub org: String,
    /// Client pairs to make (`NAME-key.pem`, `NAME-cert.pem`), for ClientCertFile/ClientKeyFile.
    pub clients: Vec<String>,
    pub days: u32,
    pub ca_days: u32,
    pub key_type: KeyType,
    /// Group of the private keys when the MSP must read them (`smmsp`): mode 0640 instead
    /// of 0600.
    pub key_group: Option<u32>,
    /// Replace existing server and client files.
    pub force: bool,
    /// Make a new CA even when `cacert.pem` and `cakey.pem` exist. Without it an existing CA
    /// is reused, so adding a client or renewing one server does not invalidate the
    /// certificates of every other server signed by the old CA.
    pub new_ca: bool,
}

/// One file written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenFile {
    pub path: PathBuf,
    pub mode: u32,
    /// What it is, for the summary (`CA certificate`, `server key`, …).
    pub role: String,
}

/// The result of `config certs`.
#[derive(Debug, Clone)]
pub struct CertSet {
    pub files: Vec<WrittenFile>,
    /// `<hash>.0` in `dir`, pointing at `cacert.pem`.
    pub hash_link: PathBuf,
    pub ca_cert: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    /// Whether an existing CA (cacert.pem + cakey.pem) was reused to sign.
    pub reused_ca: bool,
    pub warnings: Vec<String>,
}

/// File names inside the certificate directory.
pub const CA_CERT: &str = "cacert.pem";
/// File name of the CA key inside the CA directory.
pub const CA_KEY: &str = "cakey.pem";

fn random_serial() -> Result<SerialNumber, SetupError> {
    let mut b = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| SetupError::Crypto("no random numbers".into()))?;
    b[0] &= 0x7f; // positive
    b[0] |= 0x01; // and of full length
    Ok(SerialNumber::from_slice(&b))
}

fn san(s: &str) -> Result<SanType, SetupError> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(SanType::IpAddress(ip));
    }
    let name = s
        .to_owned()
        .try_into()
        .map_err(|_| SetupError::Usage(format!("not a DNS name or IP address: {s}")))?;
    Ok(SanType::DnsName(name))
}

fn leaf_params(
    cn: &str,
    sans: &[String],
    org: &str,
    days: u32,
    server: bool,
) -> Result<CertificateParams, SetupError> {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, org);
    dn.push(DnType::CommonName, cn);
    p.distinguished_name = dn;
    p.subject_alt_names = sans.iter().map(|s| san(s)).collect::<Result<_, _>>()?;
    let now = OffsetDateTime::now_utc();
    p.not_before = now - Duration::hours(1);
    p.not_after = now + Duration::days(i64::from(days));
    p.serial_number = Some(random_serial()?);
    p.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    // Sendmail uses one pair for both roles unless ClientCertFile says otherwise.
    p.extended_key_usages = if server {
        vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ]
    } else {
        vec![ExtendedKeyUsagePurpose::ClientAuth]
    };
    p.use_authority_key_identifier_extension = true;
    Ok(p)
}

fn ca_params(org: &str, days: u32) -> Result<CertificateParams, SetupError> {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, org);
    dn.push(DnType::CommonName, format!("{org} Mail CA"));
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let now = OffsetDateTime::now_utc();
    p.not_before = now - Duration::hours(1);
    p.not_after = now + Duration::days(i64::from(days));
    p.serial_number = Some(random_serial()?);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    Ok(p)
}

/// Mode of private keys: 0600 (root only) or 0640 with the MSP's group.
pub fn key_mode(key_group: Option<u32>) -> u32 {
    if key_group.is_some() { 0o640 } else { 0o600 }
}

/// Makes the CA (or reuses the one in `ca_dir`/`dir`), the server pair, client pairs and
/// the hash link.
pub fn generate(plan: &CertPlan) -> Result<CertSet, SetupError> {
    if plan.name.is_empty() || plan.name.contains('/') {
        return Err(SetupError::Usage(format!(
            "--name must be a plain file name stem, not {:?}",
            plan.name
        )));
    }
    if same_dir(&plan.dir, &plan.ca_dir) {
        return Err(SetupError::Usage(
            "--ca-dir must not be the certificate directory: the CA private key must not live on the mail server".into(),
        ));
    }
    files::ensure_dir(&plan.dir, 0o755)?;
    files::ensure_dir(&plan.ca_dir, 0o700)?;
    // One run at a time per certificate directory: two runs at once would each write a
    // key and a certificate, and the set on disk could mix them.
    let lock = files::lock(&plan.dir, || {
        eprintln!(
            "mailtls config certs: another run is writing {}; waiting for it to finish",
            plan.dir.display()
        );
    })?;
    let mut out = Vec::new();
    let mut staged: Vec<Staged> = Vec::new();
    let mut warnings = Vec::new();
    if lock.waited {
        warnings.push(format!(
            "waited for another `mailtls config certs` run on {}; this run's files replaced its",
            plan.dir.display()
        ));
    }
    if let Some(done) = recover(plan)? {
        warnings.push(done);
    }
    warnings.push(format!(
        "the CA private key {} signs certificates for every server: keep it off the mail servers (move it to an offline machine)",
        plan.ca_dir.join(CA_KEY).display()
    ));
    let ca_cert_path = plan.dir.join(CA_CERT);
    let ca_key_path = plan.ca_dir.join(CA_KEY);
    let kmode = key_mode(plan.key_group);

    // The CA: reuse an existing pair unless --new-ca, so clients can be added later.
    let reuse = !plan.new_ca && ca_cert_path.exists() && ca_key_path.exists();
    // Refuse before writing anything, so a half-made set never replaces a working one.
    if !plan.force {
        let mut targets = Vec::new();
        if !reuse {
            targets.push(ca_key_path.clone());
            targets.push(ca_cert_path.clone());
        }
        for stem in std::iter::once(&plan.name).chain(&plan.clients) {
            targets.push(plan.dir.join(format!("{stem}-key.pem")));
            targets.push(plan.dir.join(format!("{stem}-cert.pem")));
        }
        if let Some(p) = targets
            .into_iter()
            .find(|p| std::fs::symlink_metadata(p).is_ok())
        {
            return Err(SetupError::Exists(p));
        }
    }
    let (ca_pem, issuer) = if reuse {
        let key_pem = std::fs::read_to_string(&ca_key_path)?;
        let cert_pem = std::fs::read_to_string(&ca_cert_path)?;
        let key = KeyPair::from_pem(&key_pem)?;
        let issuer = Issuer::from_ca_cert_pem(&cert_pem, key)?;
        (cert_pem, issuer)
    } else {
        let key = plan.key_type.generate()?;
        let params = ca_params(&plan.org, plan.ca_days)?;
        let cert = params.self_signed(&key)?;
        staged.push(Staged {
            path: ca_key_path.clone(),
            bytes: key.serialize_pem().into_bytes(),
            mode: 0o600,
            gid: None,
        });
        out.push(WrittenFile {
            path: ca_key_path.clone(),
            mode: 0o600,
            role: "CA private key (keep offline)".into(),
        });
        let pem = cert.pem();
        staged.push(Staged {
            path: ca_cert_path.clone(),
            bytes: pem.clone().into_bytes(),
            mode: 0o644,
            gid: None,
        });
        out.push(WrittenFile {
            path: ca_cert_path.clone(),
            mode: 0o644,
            role: "CA certificate (CACertFile)".into(),
        });
        (pem, Issuer::new(params, key))
    };
    if reuse {
        warnings.push(format!(
            "reused the existing CA {} (give --new-ca to make a new one)",
            ca_cert_path.display()
        ));
    }

    // The server pair.
    let sans = if plan.sans.is_empty() {
        vec![plan.name.clone()]
    } else {
        plan.sans.clone()
    };
    let cn = sans.first().cloned().unwrap_or_else(|| plan.name.clone());
    let (server_cert, server_key) = write_pair(
        plan,
        &plan.name,
        &cn,
        &sans,
        true,
        &issuer,
        kmode,
        &mut out,
        &mut staged,
    )?;
    for client in &plan.clients {
        if client.is_empty() || client.contains('/') || *client == plan.name {
            return Err(SetupError::Usage(format!(
                "--client must be a plain name different from --name, not {client:?}"
            )));
        }
        let client_sans = vec![client.clone()];
        write_pair(
            plan,
            client,
            client,
            &client_sans,
            false,
            &issuer,
            kmode,
            &mut out,
            &mut staged,
        )?;
    }

    // The hash link, computed from the certificate actually on disk.
    let ca_der = super::keys::pem_certificates(ca_pem.as_bytes())
        .into_iter()
        .next()
        .ok_or_else(|| SetupError::Parse(format!("{}: no certificate", ca_cert_path.display())))?;
    let link = plan.dir.join(hash::link_name(hash::subject_hash(&ca_der)?));
    // Every key against its certificate and every certificate against the CA, before
    // anything is written and again as written.
    let pairs: Vec<(PathBuf, PathBuf)> = std::iter::once(&plan.name)
        .chain(&plan.clients)
        .map(|stem| {
            (
                plan.dir.join(format!("{stem}-key.pem")),
                plan.dir.join(format!("{stem}-cert.pem")),
            )
        })
        .collect();
    let in_memory = |p: &Path| -> Option<Vec<u8>> {
        staged
            .iter()
            .find(|s| s.path == p)
            .map(|s| s.bytes.clone())
            .or_else(|| std::fs::read(p).ok())
    };
    verify_set(&ca_key_path, &ca_cert_path, &pairs, in_memory)?;
    stage_and_swap(plan, &staged, &link)?;
    verify_set(&ca_key_path, &ca_cert_path, &pairs, |p| {
        std::fs::read(p).ok()
    })?;
    drop(lock);
    Ok(CertSet {
        files: out,
        hash_link: link,
        ca_cert: ca_cert_path,
        server_cert,
        server_key,
        reused_ca: reuse,
        warnings,
    })
}

#[allow(clippy::too_many_arguments)]
fn write_pair(
    plan: &CertPlan,
    stem: &str,
    cn: &str,
    sans: &[String],
    server: bool,
    issuer: &Issuer<'_, KeyPair>,
    kmode: u32,
    out: &mut Vec<WrittenFile>,
    staged: &mut Vec<Staged>,
) -> Result<(PathBuf, PathBuf), SetupError> {
    let key_path = plan.dir.join(format!("{stem}-key.pem"));
    let cert_path = plan.dir.join(format!("{stem}-cert.pem"));
    if !plan.force {
        for p in [&key_path, &cert_path] {
            if std::fs::symlink_metadata(p).is_ok() {
                return Err(SetupError::Exists(p.clone()));
            }
        }
    }
    let key = plan.key_type.generate()?;
    let params = leaf_params(cn, sans, &plan.org, plan.days, server)?;
    let cert = params.signed_by(&key, issuer)?;
    let role = if server { "server" } else { "client" };
    staged.push(Staged {
        path: key_path.clone(),
        bytes: key.serialize_pem().into_bytes(),
        mode: kmode,
        gid: plan.key_group,
    });
    out.push(WrittenFile {
        path: key_path.clone(),
        mode: kmode,
        role: format!("{role} private key (unencrypted)"),
    });
    staged.push(Staged {
        path: cert_path.clone(),
        bytes: cert.pem().into_bytes(),
        mode: 0o644,
        gid: None,
    });
    out.push(WrittenFile {
        path: cert_path.clone(),
        mode: 0o644,
        role: format!("{role} certificate"),
    });
    Ok((cert_path, key_path))
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// A file of the set, made in memory and written only once the whole set is made.
struct Staged {
    path: PathBuf,
    bytes: Vec<u8>,
    mode: u32,
    gid: Option<u32>,
}

/// The staging directory inside `dir` (same file system as the files it replaces, so the
/// swap is a rename).
const STAGING: &str = ".mailtls-staging";
/// The list of (staged, final) names; its presence is the commit point of a set.
const MANIFEST: &str = "MANIFEST";

/// Writes the whole set into staging directories beside its final places (each file
/// with its final mode and group, fsynced), then the manifest (the commit point), then
/// renames each file into place. A run killed before the manifest leaves the old set
/// untouched (the next run discards the staging); one killed after it leaves a set the
/// next run finishes ([`recover`]) before it does anything else.
fn stage_and_swap(plan: &CertPlan, set: &[Staged], link: &Path) -> Result<(), SetupError> {
    let stage = plan.dir.join(STAGING);
    let ca_stage = plan.ca_dir.join(STAGING);
    for d in [&stage, &ca_stage] {
        let _ = std::fs::remove_dir_all(d);
        files::ensure_dir(d, 0o700)?;
    }
    let mut moves: Vec<(PathBuf, PathBuf)> = Vec::new();
    for (i, f) in set.iter().enumerate() {
        let d = if f.path.parent() == Some(plan.ca_dir.as_path()) {
            &ca_stage
        } else {
            &stage
        };
        let tmp = d.join(i.to_string());
        files::write_file(&tmp, &f.bytes, f.mode, f.gid, false)?;
        moves.push((tmp, f.path.clone()));
    }
    let tmp_link = stage.join("link");
    std::os::unix::fs::symlink(CA_CERT, &tmp_link)?;
    moves.push((tmp_link, link.to_path_buf()));
    files::sync_parent(&ca_stage.join("x"));
    files::sync_parent(&stage.join("x"));
    let manifest = serde_json::to_vec(&moves).map_err(|e| SetupError::Crypto(e.to_string()))?;
    files::write_file(&stage.join(MANIFEST), &manifest, 0o600, None, false)?;
    files::sync_parent(&stage.join(MANIFEST));
    swap(&moves)?;
    for d in [&ca_stage, &stage] {
        std::fs::remove_dir_all(d)?;
    }
    remove_stale_hash_links(&plan.dir, link);
    Ok(())
}

/// Removes `<hash>.N` links to `cacert.pem` other than `keep`: after `--new-ca` the old
/// CA's link would name the new certificate under the old subject hash, which OpenSSL's
/// CACertPath lookup then finds for the wrong issuer.
fn remove_stale_hash_links(dir: &Path, keep: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        let hashy = name.split_once('.').is_some_and(|(h, n)| {
            h.len() == 8
                && h.bytes().all(|b| b.is_ascii_hexdigit())
                && !n.is_empty()
                && n.bytes().all(|b| b.is_ascii_digit())
        });
        if hashy && p != keep && std::fs::read_link(&p).is_ok_and(|t| t == Path::new(CA_CERT)) {
            let _ = std::fs::remove_file(&p);
        }
    }
}

/// Renames every staged file still present into its final place.
fn swap(moves: &[(PathBuf, PathBuf)]) -> Result<(), SetupError> {
    for (from, to) in moves {
        match std::fs::rename(from, to) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {} // moved before a kill
            Err(e) => return Err(e.into()),
        }
    }
    for (_, to) in moves {
        files::sync_parent(to);
    }
    Ok(())
}

/// Finishes a set a killed run had committed (its manifest written), or discards one it
/// had not. Returns what it did, for the warnings.
fn recover(plan: &CertPlan) -> Result<Option<String>, SetupError> {
    let stage = plan.dir.join(STAGING);
    let ca_stage = plan.ca_dir.join(STAGING);
    let said = match std::fs::read(stage.join(MANIFEST)) {
        Ok(bytes) => {
            let moves: Vec<(PathBuf, PathBuf)> = serde_json::from_slice(&bytes)
                .map_err(|e| SetupError::Parse(format!("{}: {e}", stage.display())))?;
            swap(&moves)?;
            Some(format!(
                "an interrupted run had made a complete set in {}: it was put in place first",
                stage.display()
            ))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e.into()),
    };
    for d in [&ca_stage, &stage] {
        match std::fs::remove_dir_all(d) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(said)
}

/// Checks that the CA key belongs to the CA certificate, and every key to its
/// certificate, and that every certificate is signed by the CA: the mismatch that makes
/// Sendmail drop STARTTLS without a word. `read` gives a file's bytes (the staged ones,
/// or what is on disk).
fn verify_set(
    ca_key: &Path,
    ca_cert: &Path,
    pairs: &[(PathBuf, PathBuf)],
    read: impl Fn(&Path) -> Option<Vec<u8>>,
) -> Result<(), SetupError> {
    use super::keys::{cert_public, inspect_key, parse_cert, pem_certificates};
    let bad = |m: String| SetupError::Crypto(format!("the written set is inconsistent: {m}"));
    let cert_der = |p: &Path| -> Result<Vec<u8>, SetupError> {
        let bytes = read(p).ok_or_else(|| bad(format!("{} is missing", p.display())))?;
        pem_certificates(&bytes)
            .into_iter()
            .next()
            .ok_or_else(|| bad(format!("{} holds no certificate", p.display())))
    };
    let key_matches = |key: &Path, cert: &x509_parser::certificate::X509Certificate<'_>| {
        let bytes = read(key).ok_or_else(|| bad(format!("{} is missing", key.display())))?;
        if inspect_key(&bytes).public.is_some() && inspect_key(&bytes).public == cert_public(cert) {
            Ok(())
        } else {
            Err(bad(format!(
                "{} does not belong to its certificate",
                key.display()
            )))
        }
    };
    let ca_der = cert_der(ca_cert)?;
    let ca = parse_cert(&ca_der).map_err(bad)?;
    if read(ca_key).is_some() {
        key_matches(ca_key, &ca)?;
    }
    for (key, cert) in pairs {
        let der = cert_der(cert)?;
        let c = parse_cert(&der).map_err(bad)?;
        key_matches(key, &c)?;
        c.verify_signature(Some(ca.public_key())).map_err(|e| {
            bad(format!(
                "{} is not signed by {}: {e}",
                cert.display(),
                ca_cert.display()
            ))
        })?;
    }
    Ok(())
}
