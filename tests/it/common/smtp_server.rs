//! An in-process ESMTP server on 127.0.0.1 (ephemeral port), built on rustls, that
//! misbehaves on request; and a throw-away PKI made with rcgen at test time.
//!
//! Each scenario of `mailtls check` is one [`Spec`]: what the banner looks like, whether
//! STARTTLS is offered and how it is answered, which certificate and protocol versions
//! the TLS side has, whether it demands a client certificate, and so on.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig, ServerConnection, StreamOwned};
use tempfile::TempDir;
use time::OffsetDateTime;

/// A test CA and files on disk.
pub struct Pki {
    pub dir: TempDir,
    pub ca_der: CertificateDer<'static>,
    pub ca_file: PathBuf,
    issuer: Issuer<'static, KeyPair>,
}

/// A certificate chain with its key, for the server side.
pub struct Identity {
    pub chain: Vec<CertificateDer<'static>>,
    pub key_der: Vec<u8>,
    pub cert_pem: String,
    pub key_pem: String,
}

impl Identity {
    pub fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()))
    }

    /// Writes `NAME.crt` and `NAME.key` into `dir`.
    pub fn write(&self, dir: &Path, name: &str) -> (PathBuf, PathBuf) {
        let c = dir.join(format!("{name}.crt"));
        let k = dir.join(format!("{name}.key"));
        std::fs::write(&c, &self.cert_pem).expect("write cert");
        std::fs::write(&k, &self.key_pem).expect("write key");
        (c, k)
    }
}

/// Validity of a leaf.
#[derive(Clone, Copy)]
pub enum Validity {
    /// A year around now.
    Current,
    /// Ended a year ago.
    Expired,
    /// Ends in this many days.
    EndsIn(i64),
}

fn leaf_params(names: &[&str], validity: Validity, server: bool) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
    p.subject_alt_names = names
        .iter()
        .map(|n| match n.parse() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) => SanType::DnsName((*n).try_into().expect("dns name")),
        })
        .collect();
    p.distinguished_name.push(
        DnType::CommonName,
        names.first().copied().unwrap_or("client"),
    );
    p.distinguished_name
        .push(DnType::OrganizationName, "mailtls test site");
    p.use_authority_key_identifier_extension = true;
    p.key_usages.push(KeyUsagePurpose::DigitalSignature);
    p.extended_key_usages.push(if server {
        ExtendedKeyUsagePurpose::ServerAuth
    } else {
        ExtendedKeyUsagePurpose::ClientAuth
    });
    let now = OffsetDateTime::now_utc();
    let day = time::Duration::days(1);
    let (nb, na) = match validity {
        Validity::Current => (now - day, now + day * 365),
        Validity::Expired => (now - day * 730, now - day * 365),
        Validity::EndsIn(d) => (now - day * 30, now + time::Duration::days(d)),
    };
    p.not_before = nb;
    p.not_after = na;
    p
}

impl Pki {
    pub fn new() -> Pki {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name
            .push(DnType::CommonName, "mailtls test CA");
        p.distinguished_name
            .push(DnType::OrganizationName, "mailtls test site");
        p.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().expect("key");
        let cert = p.self_signed(&key).expect("ca");
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, cert.pem()).expect("write ca");
        Pki {
            ca_der: cert.der().clone(),
            ca_file,
            issuer: Issuer::new(p, key),
            dir,
        }
    }

    /// A server certificate for `names` signed by the CA.
    pub fn server(&self, names: &[&str], validity: Validity) -> Identity {
        self.signed(names, validity, true)
    }

    /// A client certificate signed by the CA.
    pub fn client(&self) -> Identity {
        self.signed(&["client.example.test"], Validity::Current, false)
    }

    fn signed(&self, names: &[&str], validity: Validity, server: bool) -> Identity {
        let key = KeyPair::generate().expect("key");
        let cert = leaf_params(names, validity, server)
            .signed_by(&key, &self.issuer)
            .expect("sign");
        Identity {
            chain: vec![cert.der().clone()],
            key_der: key.serialize_der(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }
}

/// A self-signed server certificate (no CA).
pub fn self_signed(names: &[&str]) -> Identity {
    let key = KeyPair::generate().expect("key");
    let mut p = leaf_params(names, Validity::Current, true);
    p.use_authority_key_identifier_extension = false;
    let cert = p.self_signed(&key).expect("self-sign");
    Identity {
        chain: vec![cert.der().clone()],
        key_der: key.serialize_der(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

/// A self-signed certificate that is also a CA (`basicConstraints CA:TRUE`), as
/// `openssl req -x509 -newkey … -nodes` makes it for many MTA set-ups.
pub fn self_signed_ca_style(names: &[&str]) -> Identity {
    let key = KeyPair::generate().expect("key");
    let mut p = leaf_params(names, Validity::Current, true);
    p.use_authority_key_identifier_extension = false;
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = p.self_signed(&key).expect("self-sign");
    Identity {
        chain: vec![cert.der().clone()],
        key_der: key.serialize_der(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

/// The TLS side of the test server.
pub fn tls_config(
    id: &Identity,
    versions: &[&'static rustls::SupportedProtocolVersion],
    client_ca: Option<&CertificateDer<'static>>,
) -> Arc<ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(versions)
        .expect("versions");
    let builder = match client_ca {
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            roots.add(ca.clone()).expect("root");
            let v = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .expect("client verifier");
            builder.with_client_cert_verifier(v)
        }
        None => builder.with_no_client_auth(),
    };
    Arc::new(
        builder
            .with_single_cert(id.chain.clone(), id.key())
            .expect("server cert"),
    )
}

/// How the banner goes.
#[derive(Clone)]
pub enum Banner {
    Normal,
    /// A normal banner after this many milliseconds (a slow but healthy server).
    Slow(u64),
    /// `421 4.3.2 …` and close: too many connections.
    Busy,
    /// The first line of a multi-line banner, then silence.
    Stall,
    /// Not SMTP at all.
    Garbage,
    /// Accept the connection and never say a word.
    Silent,
}

/// How STARTTLS goes.
#[derive(Clone)]
pub enum StartTls {
    /// Not in the EHLO list (`502` if asked anyway).
    NotOffered,
    /// Offered, answered `454 4.7.0 TLS not available due to local problem`.
    Temp,
    /// Offered and started.
    Go,
    /// Offered, `220`, then the connection is closed on the ClientHello.
    CloseOnHello,
    /// Offered, `220` followed at once by a plaintext line (command injection flaw).
    Inject,
}

#[derive(Clone)]
pub struct Spec {
    pub banner: Banner,
    pub starttls: StartTls,
    pub tls: Option<Arc<ServerConfig>>,
    /// SMTPS: TLS before the banner.
    pub implicit: bool,
    /// Write the multi-line EHLO reply in small TCP segments.
    pub split: bool,
    /// Answer EHLO with `502` (an SMTP-only server).
    pub no_ehlo: bool,
}

impl Spec {
    pub fn new(tls: Option<Arc<ServerConfig>>) -> Spec {
        Spec {
            banner: Banner::Normal,
            starttls: if tls.is_some() {
                StartTls::Go
            } else {
                StartTls::NotOffered
            },
            tls,
            implicit: false,
            split: false,
            no_ehlo: false,
        }
    }
}

/// Starts the server on 127.0.0.1:0 and returns its address. It serves every
/// connection in its own thread until the test process ends.
pub fn spawn(spec: Spec) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            let spec = spec.clone();
            thread::spawn(move || {
                let _ = serve(conn, &spec);
            });
        }
    });
    addr
}

const NAME: &str = "mx.example.test";

fn send(w: &mut dyn Write, text: &str, split: bool) -> std::io::Result<()> {
    if split {
        // Three bytes at a time, each flushed as its own segment.
        for chunk in text.as_bytes().chunks(3) {
            w.write_all(chunk)?;
            w.flush()?;
            thread::sleep(Duration::from_millis(1));
        }
        Ok(())
    } else {
        w.write_all(text.as_bytes())?;
        w.flush()
    }
}

fn serve(tcp: TcpStream, spec: &Spec) -> std::io::Result<()> {
    tcp.set_nodelay(true)?;
    tcp.set_read_timeout(Some(Duration::from_secs(20)))?;
    if spec.implicit {
        let cfg = spec.tls.clone().expect("tls config");
        let conn = ServerConnection::new(cfg).map_err(std::io::Error::other)?;
        let tls = StreamOwned::new(conn, tcp);
        return smtp(tls, spec, true).map(|_| ());
    }
    if let Some(tcp) = smtp(tcp, spec, false)? {
        let cfg = spec.tls.clone().expect("tls config");
        let conn = ServerConnection::new(cfg).map_err(std::io::Error::other)?;
        smtp(StreamOwned::new(conn, tcp), spec, true)?;
    }
    Ok(())
}

/// Speaks SMTP on `s`. Returns the TCP stream when STARTTLS was accepted.
fn smtp<S: Read + Write>(s: S, spec: &Spec, in_tls: bool) -> std::io::Result<Option<S>> {
    let mut r = BufReader::new(s);
    let greet = !in_tls || spec.implicit;
    if greet {
        if let Banner::Slow(ms) = spec.banner {
            thread::sleep(Duration::from_millis(ms));
        }
        match spec.banner {
            Banner::Normal | Banner::Slow(_) => send(
                r.get_mut(),
                &format!(
                    "220 {NAME} ESMTP Sendmail 8.17.1.9/8.17.1.9; Sat, 28 Nov 2026 18:00:00 GMT\r\n"
                ),
                false,
            )?,
            Banner::Busy => {
                send(
                    r.get_mut(),
                    "421 4.3.2 mx.example.test too many connections, try again later\r\n",
                    false,
                )?;
                return Ok(None);
            }
            Banner::Stall => {
                send(r.get_mut(), &format!("220-{NAME} ESMTP\r\n"), false)?;
                thread::sleep(Duration::from_secs(30));
                return Ok(None);
            }
            Banner::Garbage => {
                send(
                    r.get_mut(),
                    "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n",
                    false,
                )?;
                return Ok(None);
            }
            Banner::Silent => {
                thread::sleep(Duration::from_secs(30));
                return Ok(None);
            }
        }
    }
    let offer = !in_tls && !spec.implicit && !matches!(spec.starttls, StartTls::NotOffered);
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let cmd = line.trim_end().to_ascii_uppercase();
        if cmd.starts_with("EHLO") && spec.no_ehlo {
            send(r.get_mut(), "502 5.5.2 Command not recognized\r\n", false)?;
        } else if cmd.starts_with("HELO") {
            send(
                r.get_mut(),
                &format!("250 {NAME} Hello localhost\r\n"),
                false,
            )?;
        } else if cmd.starts_with("EHLO") {
            let mut reply = format!(
                "250-{NAME} Hello localhost [127.0.0.1], pleased to meet you\r\n250-ENHANCEDSTATUSCODES\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE 10240000\r\n250-DSN\r\n"
            );
            if in_tls {
                reply.push_str("250-AUTH PLAIN LOGIN\r\n");
            }
            if offer {
                reply.push_str("250-STARTTLS\r\n");
            }
            reply.push_str("250 HELP\r\n");
            send(r.get_mut(), &reply, spec.split)?;
        } else if cmd == "STARTTLS" && !in_tls {
            match spec.starttls {
                StartTls::NotOffered => {
                    send(r.get_mut(), "502 5.5.1 Unrecognized command\r\n", false)?
                }
                StartTls::Temp => send(
                    r.get_mut(),
                    "454 4.7.0 TLS not available due to local problem\r\n",
                    false,
                )?,
                StartTls::Go => {
                    send(r.get_mut(), "220 2.0.0 Ready to start TLS\r\n", false)?;
                    return Ok(Some(r.into_inner()));
                }
                StartTls::Inject => {
                    send(
                        r.get_mut(),
                        "220 2.0.0 Ready to start TLS\r\n250 2.0.0 injected\r\n",
                        false,
                    )?;
                    return Ok(Some(r.into_inner()));
                }
                StartTls::CloseOnHello => {
                    send(r.get_mut(), "220 2.0.0 Ready to start TLS\r\n", false)?;
                    let mut buf = [0u8; 512];
                    let _ = r.read(&mut buf)?;
                    return Ok(None);
                }
            }
        } else if cmd == "QUIT" {
            send(
                r.get_mut(),
                "221 2.0.0 mx.example.test closing connection\r\n",
                false,
            )?;
            return Ok(None);
        } else {
            send(r.get_mut(), "250 2.0.0 OK\r\n", false)?;
        }
    }
}
