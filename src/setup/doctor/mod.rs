//! `mailtls doctor`: what Sendmail (or Postfix, or Exim) will do with the TLS files its
//! configuration names, found before the MTA fails on them.
//!
//! Sendmail's reaction to a broken key or certificate is one log line at start-up and at
//! each connection; it keeps running, stops offering STARTTLS and accepts mail in plaintext
//! (see REAL-MTA-NOTES). The doctor reads the same options, applies the same rules
//! (`safefile()` modes and owners, `SSL_CTX_use_PrivateKey_file`, `SSL_CTX_check_private_key`,
//! `load verify locs`, the hashed CA directory) and reports each problem with the exact log
//! line Sendmail would write, what the MTA will do, and the command that fixes it.

mod checks;
mod exim;
mod log;
mod postfix;
mod sendmail;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::model::TlsErrorKind;

pub use log::explain_log;

/// How bad a finding is. `Error`s make the doctor exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Info => "INFO",
            Severity::Warning => "WARNING",
            Severity::Error => "ERROR",
        }
    }
}

/// Which rule produced a finding; stable identifiers for scripts and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    /// A configuration file could not be read.
    ConfigUnreadable,
    /// A TLS option the MTA requires is not set.
    OptionMissing,
    /// A file named by an option does not exist.
    FileMissing,
    /// A file exists but cannot be read by whoever must read it.
    FileUnreadable,
    /// Mode, owner or directory that `safefile()` refuses.
    UnsafeFile,
    /// The MSP (submit.cf, group smmsp) cannot read a file it needs.
    MspCannotRead,
    /// The private key needs a pass phrase.
    KeyEncrypted,
    /// The key file holds no private key OpenSSL can load as PEM.
    KeyUnreadable,
    /// Key and certificate do not belong together.
    KeyMismatch,
    /// The key is too small for OpenSSL's default security level.
    KeyTooSmall,
    /// The certificate file holds no certificate.
    CertUnreadable,
    CertExpired,
    CertNotYetValid,
    CertExpiresSoon,
    /// The certificate is not signed by (a certificate in) CACertFile.
    ChainUnverified,
    /// CACertFile holds no usable certificate.
    CaFileUnusable,
    /// CACertPath is not a directory.
    CaPathMissing,
    /// No `<hash>.0` link for the CA in CACertPath.
    HashLinkMissing,
    /// `<hash>.0` exists but is dangling or points at another certificate.
    HashLinkWrong,
    /// The CA's private key is on the mail server.
    CaKeyOnServer,
    /// sendmail.cf and submit.cf disagree.
    SubmitInconsistent,
    /// An option stock Sendmail does not know (HP-UX's `UseTLS` from the seed).
    UnknownOption,
    /// A TLS error found in the mail log.
    LogError,
    /// The MTA would refuse the configuration itself (Exim: a macro defined twice).
    ConfigInvalid,
}

/// One problem, with everything an administrator needs to act on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub check: Check,
    /// The file concerned, as the configuration names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// What is wrong.
    pub problem: String,
    /// What the MTA will do because of it.
    pub effect: String,
    /// The kind of TLS error this causes, in the log vocabulary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<TlsErrorKind>,
    /// The line the MTA will log (message text after `prog[pid]: `).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_line: Option<String>,
    /// The command (or edit) that fixes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// What to examine.
#[derive(Debug, Clone)]
pub struct DoctorInput {
    /// sendmail.cf (the MTA).
    pub cf: Option<PathBuf>,
    /// submit.cf (the MSP).
    pub submit_cf: Option<PathBuf>,
    /// Directory holding Postfix's main.cf.
    pub postfix_dir: Option<PathBuf>,
    /// Exim's configuration: a file (exim.conf) or Debian's directory (/etc/exim4).
    pub exim: Option<PathBuf>,
    /// A mail log whose STARTTLS errors are explained.
    pub log: Option<PathBuf>,
    /// Prefix for every absolute path named in the configuration (a mounted image, a test
    /// tree); `None` means `/`.
    pub root: Option<PathBuf>,
    /// The MSP's group (Debian, HP-UX: `smmsp`), by name or number.
    pub msp_group: String,
    /// Warn when a certificate expires within this many days.
    pub warn_days: i64,
    /// The time certificates are judged at.
    pub now: DateTime<Utc>,
}

impl DoctorInput {
    /// Maps a configured absolute path into the examined tree.
    pub fn resolve(&self, configured: &str) -> PathBuf {
        match &self.root {
            Some(r) => r.join(configured.trim_start_matches('/')),
            None => PathBuf::from(configured),
        }
    }
}

/// Everything the doctor found, plus what it looked at.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Files and configurations examined, for the "clean" message.
    pub examined: Vec<String>,
    pub findings: Vec<Finding>,
}

impl Report {
    /// True when any finding is an error (the doctor then exits 1).
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    /// Findings of one check, for callers and tests.
    pub fn of(&self, check: Check) -> Vec<&Finding> {
        self.findings.iter().filter(|f| f.check == check).collect()
    }

    fn push(&mut self, f: Finding) {
        if !self.findings.contains(&f) {
            self.findings.push(f);
        }
    }
}

/// Runs every check the input asks for.
pub fn diagnose(input: &DoctorInput) -> Report {
    let mut report = Report::default();
    if input.cf.is_some() || input.submit_cf.is_some() {
        sendmail::check(input, &mut report);
    }
    if let Some(dir) = &input.postfix_dir {
        postfix::check(input, dir, &mut report);
    }
    if let Some(conf) = &input.exim {
        exim::check(input, conf, &mut report);
    }
    if let Some(log) = &input.log {
        log::check(log, &mut report);
    }
    report
        .findings
        .sort_by_key(|f| std::cmp::Reverse(f.severity));
    report
}

/// Shorthand used by the check modules.
#[allow(clippy::too_many_arguments)]
fn finding(
    severity: Severity,
    check: Check,
    file: Option<&Path>,
    problem: String,
    effect: String,
    kind: Option<TlsErrorKind>,
    log_line: Option<String>,
    fix: Option<String>,
) -> Finding {
    Finding {
        severity,
        check,
        file: file.map(Path::to_path_buf),
        problem,
        effect,
        kind,
        log_line,
        fix,
    }
}

/// Renders findings for a terminal.
pub fn render_text(report: &Report) -> String {
    // Findings quote log lines and file contents: no escapes of ours, so every line is
    // made terminal-safe as a whole.
    crate::model::text::terminal_lines(&render_raw(report))
}

fn render_raw(report: &Report) -> String {
    let mut s = String::new();
    for f in &report.findings {
        let file = f
            .file
            .as_ref()
            .map(|p| format!("{}: ", p.display()))
            .unwrap_or_default();
        s.push_str(&format!("{:<8}{}{}\n", f.severity.label(), file, f.problem));
        let kind = f.kind.map(|k| format!(" [{k}]")).unwrap_or_default();
        s.push_str(&format!("        effect: {}{}\n", f.effect, kind));
        if let Some(l) = &f.log_line {
            s.push_str(&format!("        log:    {l}\n"));
        }
        if let Some(x) = &f.fix {
            s.push_str(&format!("        fix:    {x}\n"));
        }
    }
    let errors = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Warning)
        .count();
    if report.findings.is_empty() {
        s.push_str(&format!(
            "clean: no TLS problems found in {}\n",
            report.examined.join(", ")
        ));
    } else {
        s.push_str(&format!("{errors} error(s), {warnings} warning(s)\n"));
    }
    s
}
