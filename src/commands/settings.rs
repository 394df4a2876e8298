//! What an administrator sets once instead of on every command line: the policy file, our
//! own MX host names, whether loopback peers count, where reports go, UTC times. Read from
//! `$MAILTLS_CONFIG`, else `/etc/mailtls/mailtls.toml` when it exists, else nothing;
//! `--config FILE` names another file and `--no-config` reads none. A flag given on the
//! command line always wins over the file.
//!
//! ```toml
//! policy = "/etc/mailtls/policy.toml"      # scan --policy (enforced: exit 1 on violations)
//! our_hosts = ["mx1.example.org", "mx2.example.org"]   # scan/events --our-hosts
//! loopback = false                          # --loopback for scan, events, peer, message, follow
//! report_dir = "/var/www/mailtls"           # scan -o when -o and --format are not given
//! utc = true                                # --utc everywhere
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::Error;
use super::cli::Command;

/// The file read when neither `--config` nor `$MAILTLS_CONFIG` names one (if it exists).
pub const DEFAULT_PATH: &str = "/etc/mailtls/mailtls.toml";

/// The settings file's keys; every one is optional and an unknown key is an error (a typo
/// must not silently leave a policy unenforced).
#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `scan --policy`: the compliance policy, enforced (exit 1 on violations).
    pub policy: Option<PathBuf>,
    /// `--our-hosts` of `scan` and `events`: our own MX names, for `Received:` hops.
    #[serde(default)]
    pub our_hosts: Vec<String>,
    /// `--loopback`: count loopback peers (the MSP, content filters) too.
    #[serde(default)]
    pub loopback: bool,
    /// `scan -o DIR` when neither `-o` nor `--format` is given.
    pub report_dir: Option<PathBuf>,
    /// `--utc`: read and print times in UTC.
    #[serde(default)]
    pub utc: bool,
}

/// Which file to read: `--no-config` none, `--config FILE` that one (it must exist),
/// `$MAILTLS_CONFIG` that one (it must exist; empty means none), else the default path
/// when it exists.
pub fn locate(given: Option<&Path>, none: bool) -> Option<(PathBuf, bool)> {
    if none {
        return None;
    }
    if let Some(p) = given {
        return Some((p.to_path_buf(), true));
    }
    match std::env::var_os("MAILTLS_CONFIG") {
        Some(v) if v.is_empty() => None,
        Some(v) => Some((PathBuf::from(v), true)),
        None => {
            let p = PathBuf::from(DEFAULT_PATH);
            p.exists().then_some((p, false))
        }
    }
}

/// Reads the settings file `locate` chose; no file is the empty settings.
pub fn load(given: Option<&Path>, none: bool) -> Result<Settings, Error> {
    let Some((path, required)) = locate(given, none) else {
        return Ok(Settings::default());
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Settings::default());
        }
        Err(e) => {
            return Err(Error::Usage(format!(
                "settings file {}: {}",
                path.display(),
                crate::model::text::plain_error(&e)
            )));
        }
    };
    parse(&text).map_err(|e| Error::Usage(format!("settings file {}: {e}", path.display())))
}

/// The settings in `text` (TOML); the error names the key or line at fault.
pub fn parse(text: &str) -> Result<Settings, String> {
    toml::from_str(text).map_err(|e| e.message().to_owned() + &location(text, e.span()))
}

fn location(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    match span {
        Some(r) => {
            let line = text
                .get(..r.start)
                .map_or(1, |t| t.matches('\n').count() + 1);
            format!(" (line {line})")
        }
        None => String::new(),
    }
}

impl Settings {
    /// Fills in what the command line left unset. Flags always win: a list or a path given
    /// there replaces the file's, a switch given there stays on.
    pub fn apply(&self, command: &mut Command) {
        match command {
            Command::Scan(a) => {
                if a.judge.policy.is_none() {
                    a.judge.policy.clone_from(&self.policy);
                }
                if a.stores.our_hosts.is_empty() {
                    a.stores.our_hosts.clone_from(&self.our_hosts);
                }
                if a.output.is_none() && a.format.is_none() && !a.json {
                    a.output.clone_from(&self.report_dir);
                }
                a.select.loopback |= self.loopback;
                a.select.utc |= self.utc;
            }
            Command::Report(a) => {
                if a.judge.policy.is_none() {
                    a.judge.policy.clone_from(&self.policy);
                }
                a.utc |= self.utc;
            }
            Command::Events(a) => {
                if a.stores.our_hosts.is_empty() {
                    a.stores.our_hosts.clone_from(&self.our_hosts);
                }
                a.select.loopback |= self.loopback;
                a.select.utc |= self.utc;
            }
            Command::Peer(a) => {
                a.window.loopback |= self.loopback;
                a.window.utc |= self.utc;
            }
            Command::Message(a) => {
                a.window.loopback |= self.loopback;
                a.window.utc |= self.utc;
            }
            Command::Follow(a) => {
                a.loopback |= self.loopback;
                a.utc |= self.utc;
            }
            Command::Check(_)
            | Command::Config(_)
            | Command::Doctor(_)
            | Command::Merge(_)
            | Command::Completions(_)
            | Command::Man(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_reads_and_a_typo_is_named() {
        let s = parse(
            "policy = \"/etc/mailtls/policy.toml\"\nour_hosts = [\"mx1.example.org\"]\nloopback = true\nreport_dir = \"/srv/r\"\nutc = true\n",
        )
        .unwrap_or_default();
        assert_eq!(
            s.policy.as_deref(),
            Some(Path::new("/etc/mailtls/policy.toml"))
        );
        assert_eq!(s.our_hosts, ["mx1.example.org"]);
        assert!(s.loopback && s.utc);
        assert_eq!(s.report_dir.as_deref(), Some(Path::new("/srv/r")));
        let e = parse("utc = true\npolcy = \"/x\"\n")
            .err()
            .unwrap_or_default();
        assert!(e.contains("polcy") && e.contains("line 2"), "{e}");
        let e = parse("loopback = \"yes\"\n").err().unwrap_or_default();
        assert!(e.contains("line 1"), "{e}");
    }
}
