//! `mailtls config certs|sendmail|submit|mc|postfix|exim`: make the keys and certificates and
//! write the TLS configuration, one command per step of the seed's procedure.
//!
//! Usage:
//!   mailtls config certs --dir /etc/mail/certs --ca-dir /root/mail-ca --name mx1 \
//!                        [--san mx1.example.org]… [--client NAME]… [--days N] \
//!                        [--key-type rsa2048|rsa3072|rsa4096|ecdsa-p256|ecdsa-p384] [--msp] \
//!                        [--force] [--new-ca]
//!   mailtls config sendmail [--dir D] [--name N] [--client C] [--msp] [--rand-file F] [--apply sendmail.cf]
//!   mailtls config submit   [same flags]                                   [--apply submit.cf]
//!   mailtls config mc       [--for sendmail|submit] [same flags]
//!   mailtls config postfix  [--dir D] [--name N] [--profile modern|intermediate|old] [--apply main.cf]
//!   mailtls config exim     [--dir D] [--name N] [--profile P] [--tls-library gnutls|openssl]
//!                           [--layout plain|debian-split|debian-unsplit] [--exim-group G] [--apply FILE]
//!
//! `certs` writes cacert.pem, NAME-key.pem (0600, or 0640 group smmsp with --msp),
//! NAME-cert.pem and the `<hash>.0` link into --dir, and the CA key into --ca-dir (keep it
//! off the mail servers). The other subcommands print the option lines and the key-mode
//! instructions; with --apply they edit the file in place (backup FILE.BACKUP first,
//! existing options replaced, a second apply changes nothing).

use super::Error;
use std::path::{Path, PathBuf};

use super::exit;
use crate::setup::certs::{self, CertPlan, KeyType};
use crate::setup::cf::{self, CfKind, TlsFiles};
use crate::setup::{exim, files, postfix};

/// Flags of `mailtls config`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
}

/// What to generate.
#[derive(Debug, clap::Subcommand)]
pub enum What {
    // The text is --help's (clap shows it verbatim): rustdoc must not read it as links/HTML.
    #[allow(rustdoc::invalid_html_tags)]
    /// Make a CA, the server key and certificate, client pairs and the <hash>.0 link.
    Certs(CertsArgs),
    /// sendmail.cf TLS options (O CACertPath=… …).
    Sendmail(CfArgs),
    /// submit.cf TLS options for the mail submission program.
    Submit(CfArgs),
    /// sendmail.mc / submit.mc m4 lines (define(`confSERVER_CERT', …)dnl).
    Mc(McArgs),
    /// Postfix main.cf smtpd_tls_* / smtp_tls_* settings.
    Postfix(PostfixArgs),
    /// Exim's main-section TLS options, or Debian's MAIN_TLS_* macros.
    #[command(after_help = EXIM_EXAMPLES)]
    Exim(EximArgs),
}

/// Examples shown by `mailtls config exim --help`.
const EXIM_EXAMPLES: &str = "Examples:
  # Debian (split configuration), keys made by mailtls config certs --dir /etc/exim4/certs:
  mailtls config exim --dir /etc/exim4/certs --name mx1 --apply /etc/exim4/conf.d/main/000_localmacros
  update-exim4.conf && systemctl restart exim4 && mailtls doctor --exim-config /etc/exim4

  # Debian, unsplit configuration:
  mailtls config exim --dir /etc/exim4/certs --name mx1 --apply /etc/exim4/exim4.conf.localmacros

  # A plain exim.conf (options go in the main section, before the first \"begin\"):
  mailtls config exim --layout plain --tls-library openssl --dir /etc/exim/certs --name mx1 --apply /etc/exim/exim.conf

The library (GnuTLS priority string or OpenSSL cipher list for tls_require_ciphers) is
found with `exim -bV` when Exim is installed; --tls-library says it otherwise. The layout
follows the --apply file (exim4.conf.localmacros, conf.d/main/*: Debian's macros), else
/etc/exim4/update-exim4.conf.conf. A new conf.d/main file is created (mode 0644).";

/// Flags of `config certs`.
#[derive(Debug, clap::Args)]
pub struct CertsArgs {
    /// The server's certificate directory (CACertPath).
    #[arg(long, default_value = "/etc/mail/certs")]
    pub dir: PathBuf,
    /// Where the CA private key (cakey.pem) goes; never the certificate directory.
    #[arg(long)]
    pub ca_dir: PathBuf,
    /// Stem of the server pair: NAME-key.pem, NAME-cert.pem.
    #[arg(long)]
    pub name: String,
    /// Subject alternative name (DNS name or IP); repeatable. The first is also the CN.
    #[arg(long = "san")]
    pub sans: Vec<String>,
    /// Also make a client pair NAME-key.pem/NAME-cert.pem (ClientCertFile/ClientKeyFile); repeatable.
    #[arg(long = "client")]
    pub clients: Vec<String>,
    /// Validity of the server and client certificates, in days.
    #[arg(long, default_value_t = 825)]
    pub days: u32,
    /// Validity of a new CA certificate, in days.
    #[arg(long, default_value_t = 3650)]
    pub ca_days: u32,
    /// Key algorithm (RSA by default, for old peers).
    #[arg(long, value_enum, default_value = "rsa2048")]
    pub key_type: KeyType,
    /// Organisation in the certificate subjects.
    #[arg(long, default_value = "Mail TLS")]
    pub org: String,
    /// The MSP reads the keys: mode 0640, group --msp-group.
    #[arg(long)]
    pub msp: bool,
    /// The MSP's group (name or number).
    #[arg(long, default_value = "smmsp")]
    pub msp_group: String,
    /// Replace existing server and client files.
    #[arg(long)]
    pub force: bool,
    /// Make a new CA even if cacert.pem and cakey.pem exist (invalidates every certificate
    /// the old CA signed).
    #[arg(long)]
    pub new_ca: bool,
}

/// File-layout flags shared by the configuration subcommands: where the certificate
/// directory is and what the pairs are called, which every MTA needs.
#[derive(Debug, clap::Args)]
pub struct LayoutArgs {
    /// The certificate directory (Sendmail's CACertPath; Postfix and Exim read the same
    /// files from it).
    #[arg(long, default_value = "/etc/mail/certs")]
    pub dir: String,
    /// Stem of the server pair (NAME-cert.pem, NAME-key.pem).
    #[arg(long, default_value = "servername")]
    pub name: String,
    /// Stem of a separate client pair (default: the server pair serves both roles).
    #[arg(long)]
    pub client: Option<String>,
}

impl LayoutArgs {
    fn files(&self) -> TlsFiles {
        TlsFiles::layout(&self.dir, &self.name, self.client.as_deref(), false)
    }
}

/// The layout flags of the Sendmail subcommands (`sendmail`, `submit`, `mc`): the shared
/// ones plus the two settings only Sendmail has, so that `config postfix --help` and
/// `config exim --help` do not offer flags those MTAs have no setting for.
#[derive(Debug, clap::Args)]
pub struct SendmailLayout {
    #[command(flatten)]
    pub paths: LayoutArgs,
    /// The MSP reads the keys: add DontBlameSendmail=GroupReadableKeyFile.
    #[arg(long)]
    pub msp: bool,
    /// RandFile (only for systems without /dev/urandom, e.g. egd:/dev/random).
    #[arg(long)]
    pub rand_file: Option<String>,
}

/// `--msp` and `--rand-file` on the Postfix and Exim subcommands: not offered by their
/// `--help`, but taken, so that an administrator who passes them out of Sendmail habit is
/// told in plain words why they do not apply instead of clap's bare "unexpected argument".
#[derive(Debug, clap::Args)]
pub struct NotHere {
    #[arg(long, hide = true)]
    pub msp: bool,
    #[arg(long, hide = true)]
    pub rand_file: Option<String>,
}

impl SendmailLayout {
    fn files(&self) -> TlsFiles {
        let p = &self.paths;
        let mut f = TlsFiles::layout(&p.dir, &p.name, p.client.as_deref(), self.msp);
        f.rand_file = self.rand_file.clone();
        f
    }
}

/// Flags of `config sendmail` / `config submit`.
#[derive(Debug, clap::Args)]
pub struct CfArgs {
    #[command(flatten)]
    pub layout: SendmailLayout,
    /// Edit this cf file in place (backup FILE.BACKUP first) instead of printing.
    #[arg(long)]
    pub apply: Option<PathBuf>,
}

/// Flags of `config mc`.
#[derive(Debug, clap::Args)]
pub struct McArgs {
    #[command(flatten)]
    pub layout: SendmailLayout,
    /// Lines for sendmail.mc or submit.mc.
    #[arg(long = "for", value_enum, default_value = "sendmail")]
    pub kind: CfKind,
}

/// Flags of `config postfix`.
#[derive(Debug, clap::Args)]
pub struct PostfixArgs {
    #[command(flatten)]
    pub layout: LayoutArgs,
    #[command(flatten)]
    pub sendmail_only: NotHere,
    /// Protocol and cipher profile.
    #[arg(long, value_enum, default_value = "intermediate")]
    pub profile: postfix::Profile,
    /// Edit this main.cf in place (backup FILE.BACKUP first) instead of printing.
    #[arg(long)]
    pub apply: Option<PathBuf>,
}

/// Flags of `config exim`.
#[derive(Debug, clap::Args)]
pub struct EximArgs {
    #[command(flatten)]
    pub layout: LayoutArgs,
    #[command(flatten)]
    pub sendmail_only: NotHere,
    /// Protocol and cipher profile.
    #[arg(long, value_enum, default_value = "intermediate")]
    pub profile: postfix::Profile,
    /// The TLS library Exim was built with (default: from `exim -bV`, else gnutls).
    #[arg(long, value_enum)]
    pub tls_library: Option<exim::TlsLibrary>,
    /// Plain options or Debian's macros (default: from --apply's file name, else Debian's
    /// when /etc/exim4/update-exim4.conf.conf exists, else plain).
    #[arg(long = "layout", value_enum)]
    pub conf_layout: Option<exim::Layout>,
    /// The group Exim runs as, which must read the key (Debian: Debian-exim).
    #[arg(long)]
    pub exim_group: Option<String>,
    /// Edit this file in place (backup FILE.BACKUP first; a missing Debian macro file is
    /// created) instead of printing.
    #[arg(long)]
    pub apply: Option<PathBuf>,
}

/// Runs `mailtls config …`.
pub fn run(args: &Args) -> Result<u8, Error> {
    let dir = match &args.what {
        What::Certs(_) => None,
        What::Sendmail(a) | What::Submit(a) => Some(&a.layout.paths.dir),
        What::Mc(a) => Some(&a.layout.paths.dir),
        What::Postfix(a) => Some(&a.layout.dir),
        What::Exim(a) => Some(&a.layout.dir),
    };
    if let Some(dir) = dir
        && !dir.starts_with('/')
    {
        return Err(Error::Usage(format!(
            "--dir must be an absolute path (sendmail ignores relative TLS paths), not {dir}"
        )));
    }
    // --msp and --rand-file are Sendmail's (DontBlameSendmail=GroupReadableKeyFile,
    // RandFile); Postfix and Exim have no such setting, so accepting them would silently
    // drop what the administrator asked for.
    let other_mta = match &args.what {
        What::Postfix(a) => Some(("Postfix", &a.sendmail_only)),
        What::Exim(a) => Some(("Exim", &a.sendmail_only)),
        _ => None,
    };
    if let Some((mta, n)) = other_mta {
        let refused = if n.msp {
            Some((
                "--msp",
                "DontBlameSendmail=GroupReadableKeyFile for the MSP",
            ))
        } else if n.rand_file.is_some() {
            Some(("--rand-file", "RandFile"))
        } else {
            None
        };
        if let Some((flag, what)) = refused {
            return Err(Error::Usage(format!(
                "{flag} is a Sendmail setting ({what}); {mta} has none: leave it out"
            )));
        }
    }
    match &args.what {
        What::Certs(a) => run_certs(a),
        What::Sendmail(a) => run_cf(a, CfKind::Sendmail),
        What::Submit(a) => run_cf(a, CfKind::Submit),
        What::Mc(a) => {
            let f = a.layout.files();
            print!("{}", cf::render_mc(&f, a.kind));
            eprint!("{}", cf::key_mode_instructions(&f));
            Ok(exit::OK)
        }
        What::Postfix(a) => {
            let f = a.layout.files();
            let params = postfix::settings(&f, a.profile);
            match &a.apply {
                None => {
                    print!("{}", postfix::render(&f, a.profile));
                    eprint!("{}", postfix::key_mode_instructions(&f));
                }
                Some(path) => apply_file(path, |t| postfix::apply(t, &params))?,
            }
            Ok(exit::OK)
        }
        What::Exim(a) => run_exim(a),
    }
}

fn run_exim(a: &EximArgs) -> Result<u8, Error> {
    let lib = a
        .tls_library
        .or_else(exim::probe_library)
        .unwrap_or(exim::TlsLibrary::Gnutls);
    let layout = a.conf_layout.unwrap_or_else(|| match &a.apply {
        Some(p) if exim::layout_of_file(p).is_debian() => exim::layout_of_file(p),
        Some(_) => exim::Layout::Plain,
        None => exim::debian_layout(Path::new("/")).unwrap_or(exim::Layout::Plain),
    });
    let group = a.exim_group.clone().unwrap_or_else(|| {
        if layout.is_debian() {
            "Debian-exim".into()
        } else {
            "exim".into()
        }
    });
    let f = a.layout.files();
    let params = exim::settings(&f, a.profile, lib, layout);
    let Some(path) = &a.apply else {
        print!("{}", exim::render(&f, a.profile, lib, layout));
        eprint!("{}", exim::key_mode_instructions(&f, &group));
        return Ok(exit::OK);
    };
    // Debian's macro file is usually new: created whole (never over an existing name: a
    // concurrent run that got there first is then edited like any existing file).
    let created = if layout.is_debian() && !path.exists() {
        let text = exim::apply(
            "# TLS for Exim, written by mailtls config exim (Debian's macros).\n",
            &params,
        );
        match files::write_file(path, text.as_bytes(), 0o644, None, false) {
            Ok(()) => {
                println!("{}: created", path.display());
                true
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
            Err(e) => {
                return Err(Error::Failed(format!(
                    "{}: {}",
                    path.display(),
                    crate::model::text::plain_error(&e)
                )));
            }
        }
    } else {
        false
    };
    if !created {
        apply_file(path, |t| exim::apply(t, &params))?;
    }
    if layout == exim::Layout::DebianSplit
        && let Some(main) = path.parent()
    {
        warn_duplicate_macros(main);
    }
    key_group(&f.server_key, &group);
    if layout.is_debian() {
        eprintln!("then: update-exim4.conf && systemctl restart exim4");
    }
    Ok(exit::OK)
}

/// Exim refuses to start when a macro is defined twice in conf.d/main: say where.
fn warn_duplicate_macros(main: &Path) {
    let files = exim::conf_d_main(&main.display().to_string(), &|c: &str| PathBuf::from(c));
    let sources: Vec<(PathBuf, String)> = files
        .iter()
        .filter_map(|(c, r)| std::fs::read_to_string(r).ok().map(|t| (c.clone(), t)))
        .collect();
    for (name, first, second) in exim::duplicate_macros(&sources, &exim::DEBIAN_MACROS) {
        eprintln!(
            "warning: {name} is defined at {first} and again at {second}: Exim refuses to start (macro \"{name}\" is already defined); remove one"
        );
    }
}

/// The key must be readable by the Exim user's group: set root:GROUP 0640 when the key
/// exists and we may, else say what to run.
fn key_group(key: &str, group: &str) {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let Ok(m) = std::fs::metadata(key) else {
        eprintln!(
            "note: {key} does not exist yet; make it with mailtls config certs --msp --msp-group {group} (root:{group} 0640)"
        );
        return;
    };
    let Some(gid) = files::group_id(group) else {
        eprintln!("warning: group {group} does not exist here; give --exim-group");
        return;
    };
    let mode = m.permissions().mode() & 0o7777;
    if m.gid() == gid && mode & 0o040 != 0 && mode & 0o007 == 0 {
        return;
    }
    let ok = std::os::unix::fs::chown(key, None, Some(gid)).is_ok()
        && std::fs::set_permissions(key, std::fs::Permissions::from_mode(0o640)).is_ok();
    if ok {
        println!(
            "{key}: group {group}, mode 0640 (Exim reads the key as its own user at each STARTTLS)"
        );
    } else {
        eprint!(
            "{}",
            exim::key_mode_instructions(
                &TlsFiles {
                    server_key: key.to_owned(),
                    ..TlsFiles::layout("/", "x", None, false)
                },
                group
            )
        );
    }
}

fn run_certs(a: &CertsArgs) -> Result<u8, Error> {
    let key_group = if a.msp {
        match files::group_id(&a.msp_group) {
            Some(g) => Some(g),
            None => {
                return Err(Error::Usage(format!(
                    "group {} does not exist (give --msp-group)",
                    a.msp_group
                )));
            }
        }
    } else {
        None
    };
    let plan = CertPlan {
        dir: a.dir.clone(),
        ca_dir: a.ca_dir.clone(),
        name: a.name.clone(),
        sans: a.sans.clone(),
        org: a.org.clone(),
        clients: a.clients.clone(),
        days: a.days,
        ca_days: a.ca_days,
        key_type: a.key_type,
        key_group,
        force: a.force,
        new_ca: a.new_ca,
    };
    let set = certs::generate(&plan)?;
    for f in &set.files {
        println!("{:04o}  {}  ({})", f.mode, f.path.display(), f.role);
    }
    println!("link  {} -> {}", set.hash_link.display(), certs::CA_CERT);
    for w in &set.warnings {
        eprintln!("warning: {w}");
    }
    Ok(exit::OK)
}

fn run_cf(a: &CfArgs, kind: CfKind) -> Result<u8, Error> {
    let f = a.layout.files();
    match &a.apply {
        None => print!("{}", cf::render_cf(&f, kind)),
        Some(path) => {
            let opts = cf::options(&f, kind);
            let applied = apply_file(path, |t| cf::apply(t, &opts));
            eprint!("{}", cf::key_mode_instructions(&f));
            applied?;
            return Ok(exit::OK);
        }
    }
    eprint!("{}", cf::key_mode_instructions(&f));
    Ok(exit::OK)
}

/// Lock, backup, edit, atomic replace; nothing is written when the edit changes nothing.
///
/// The file itself is locked (`flock`) for the whole read-edit-write, so concurrent runs
/// serialise and each edits what the previous one wrote (none of their edits is lost);
/// a run that waited says so. Temporary files a killed run left beside it are removed
/// first.
fn apply_file(path: &Path, edit: impl Fn(&str) -> String) -> Result<(), Error> {
    let _lock = match files::lock(path, || {
        eprintln!(
            "mailtls config: {} is being edited by another mailtls run; waiting for it to finish",
            path.display()
        );
    }) {
        Ok(l) => l,
        Err(e) => {
            return Err(Error::Failed(format!(
                "{}: {}",
                path.display(),
                crate::model::text::plain_error(&e)
            )));
        }
    };
    files::remove_stale_temps(path);
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            return Err(Error::Failed(format!(
                "{}: {}",
                path.display(),
                crate::model::text::plain_error(&e)
            )));
        }
    };
    let Ok(text) = String::from_utf8(bytes) else {
        return Err(Error::Failed(format!(
            "{}: not UTF-8 text; not editing",
            path.display()
        )));
    };
    let new = edit(&text);
    if new == text {
        println!("{}: unchanged (already configured)", path.display());
        return Ok(());
    }
    let backup = match files::backup(path) {
        Ok(b) => b,
        Err(e) => {
            return Err(Error::Failed(format!(
                "backup of {}: {}",
                path.display(),
                crate::model::text::plain_error(&e)
            )));
        }
    };
    if let Err(e) = files::replace_keeping_attrs(path, new.as_bytes()) {
        return Err(Error::Failed(format!(
            "{}: {}",
            path.display(),
            crate::model::text::plain_error(&e)
        )));
    }
    println!("{}: updated (backup {})", path.display(), backup.display());
    Ok(())
}
