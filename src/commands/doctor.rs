//! `mailtls doctor`: diagnose an installed TLS configuration before the MTA fails on it.
//!
//! Usage:
//!   mailtls doctor [--cf /etc/mail/sendmail.cf] [--submit-cf /etc/mail/submit.cf]
//!                  [--postfix-dir /etc/postfix] [--exim-config /etc/exim4|exim.conf]
//!                  [--log /var/log/mail.log]
//!                  [--root DIR] [--msp-group smmsp] [--warn-days 30] [--format text|json]
//!
//! Reads the TLS options and checks every file they name the way Sendmail (or Postfix, or
//! Exim: as the Exim user, at each STARTTLS) will: missing or unsafe files, encrypted keys, key/certificate mismatch, expiry, the
//! chain against CACertFile, the `<hash>.0` link in CACertPath, key modes with and without
//! the MSP, the CA key on the server, sendmail.cf against submit.cf, and with --log the
//! STARTTLS errors already logged. Each finding names the file, the line the MTA logs, what
//! it will do, and the fix. Without --cf/--submit-cf/--postfix-dir/--exim-config the usual places under
//! --root are examined. Exit 0 clean (warnings allowed), 1 when any finding is an error,
//! 2 when nothing could be examined.

use super::Error;
use std::path::PathBuf;

use super::exit;
use crate::setup::doctor::{self, DoctorInput};

/// Output format of the findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// Flags of `mailtls doctor`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  mailtls doctor                # what is installed (/etc/mail, postfix, exim4)
  mailtls doctor --cf /etc/mail/sendmail.cf --submit-cf /etc/mail/submit.cf
  mailtls doctor --log /var/log/mail.log   # the MTA's TLS complaints, explained
  mailtls doctor --log sample-logs/maillog
  mailtls doctor --postfix-dir /etc/postfix --format json
  mailtls doctor --exim-config /etc/exim4  # Debian: macros resolved
  mailtls doctor --exim-config /etc/exim/exim.conf
  mailtls doctor --root /mnt/image --exim-config /etc/exim4   # a mounted tree

Exim loads its certificate and key at each STARTTLS as the Exim user (Debian-exim): the
doctor checks them as that user and quotes the line Exim logs, e.g.
  TLS error on connection from … (cert/key setup: cert=… key=…): Decryption has failed.
Exit 0 clean (warnings allowed), 1 when any finding is an error.")]
pub struct Args {
    /// sendmail.cf of the MTA.
    #[arg(long)]
    pub cf: Option<PathBuf>,
    /// submit.cf of the mail submission program.
    #[arg(long)]
    pub submit_cf: Option<PathBuf>,
    /// Directory of Postfix's main.cf.
    #[arg(long)]
    pub postfix_dir: Option<PathBuf>,
    /// Exim's configuration: exim.conf, or Debian's /etc/exim4 (macros resolved through
    /// update-exim4.conf.conf, conf.d/main or exim4.conf.localmacros).
    #[arg(long)]
    pub exim_config: Option<PathBuf>,
    /// Mail log whose STARTTLS errors are explained.
    #[arg(long)]
    pub log: Option<PathBuf>,
    /// Examine the tree under DIR: configured absolute paths are looked up below it.
    #[arg(long)]
    pub root: Option<PathBuf>,
    /// The MSP's group (name or number).
    #[arg(long, default_value = "smmsp")]
    pub msp_group: String,
    /// Warn about certificates expiring within this many days.
    #[arg(long, default_value_t = 30)]
    pub warn_days: i64,
    /// text (default) or json (one document for programs).
    #[arg(long, value_enum, default_value = "text", value_name = "FORMAT")]
    pub format: Format,

    /// The same as --format json.
    #[arg(long)]
    pub json: bool,
}

/// Runs the doctor.
pub fn run(args: &Args) -> Result<u8, Error> {
    let mut input = DoctorInput {
        cf: args.cf.clone(),
        submit_cf: args.submit_cf.clone(),
        postfix_dir: args.postfix_dir.clone(),
        exim: args.exim_config.clone(),
        log: args.log.clone(),
        root: args.root.clone(),
        msp_group: args.msp_group.clone(),
        warn_days: args.warn_days,
        now: chrono::Utc::now(),
    };
    if input.cf.is_none()
        && input.submit_cf.is_none()
        && input.postfix_dir.is_none()
        && input.exim.is_none()
    {
        let exists = |i: &DoctorInput, p: &str| i.resolve(p).exists();
        if exists(&input, "/etc/mail/sendmail.cf") {
            input.cf = Some("/etc/mail/sendmail.cf".into());
        }
        if exists(&input, "/etc/mail/submit.cf") {
            input.submit_cf = Some("/etc/mail/submit.cf".into());
        }
        if exists(&input, "/etc/postfix/main.cf") {
            input.postfix_dir = Some("/etc/postfix".into());
        }
        if exists(&input, "/etc/exim4/update-exim4.conf.conf")
            || exists(&input, "/etc/exim4/exim4.conf")
        {
            input.exim = Some("/etc/exim4".into());
        } else if exists(&input, "/etc/exim/exim.conf") {
            input.exim = Some("/etc/exim/exim.conf".into());
        }
    }
    if input.cf.is_none()
        && input.submit_cf.is_none()
        && input.postfix_dir.is_none()
        && input.exim.is_none()
        && input.log.is_none()
    {
        return Err(Error::Usage("no sendmail.cf, submit.cf, postfix main.cf or Exim configuration found (give --cf, --submit-cf, --postfix-dir or --exim-config)".to_owned()));
    }
    let report = doctor::diagnose(&input);
    let format = if args.json { Format::Json } else { args.format };
    match format {
        Format::Text => print!("{}", doctor::render_text(&report)),
        Format::Json => {
            super::print_json(&report)?;
        }
    }
    Ok(if report.has_errors() {
        exit::FINDINGS
    } else {
        exit::OK
    })
}
