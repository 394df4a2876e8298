//! Setup: make keys and certificates, write the TLS configuration, and diagnose an
//! installed one before the MTA fails on it.
//!
//! The seed document spends most of its pages on these steps (CA.pl with `-nodes`, the
//! copies into `/etc/mail/certs`, the `<hash>.0` link, key modes with and without the MSP,
//! the sendmail.cf options) and on what goes wrong when one is missed: Sendmail logs one
//! line, keeps running and quietly stops offering STARTTLS. [`certs`] and [`cf`]/[`postfix`]
//! make each step one command; [`doctor`] checks every step against what Sendmail (and
//! Postfix) will actually do with the files.

mod assign;
pub mod certs;
pub mod cf;
pub mod doctor;
pub mod exim;
pub mod files;
pub mod hash;
pub mod keys;
pub mod postfix;

use std::path::PathBuf;

/// Why a setup command could not do its job (as opposed to a doctor *finding*).
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("{}", crate::model::text::plain_error(.0))]
    Io(#[from] std::io::Error),
    #[error("{} exists (use --force to replace it)", .0.display())]
    Exists(PathBuf),
    #[error("certificate generation: {0}")]
    Rcgen(#[from] rcgen::Error),
    #[error("{0}")]
    Crypto(String),
    #[error("cannot read {0}")]
    Parse(String),
    #[error("{0}")]
    Usage(String),
}
