//! Postfix's TLS settings: the main.cf parameters for a certificate set and a protocol /
//! cipher profile, a main.cf reader (with continuation lines), and the `--apply` editor.
//!
//! `>=TLSv1.2` protocol syntax needs Postfix ≥ 3.6 (Debian 12 ships 3.7).

use std::path::Path;

use super::cf::TlsFiles;

/// How far back in time the TLS settings reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Profile {
    /// TLS 1.3 only, high ciphers. Peers that cannot do 1.3 get plaintext (opportunistic
    /// TLS), so this is for submission or closed networks rather than a public MX.
    Modern,
    /// TLS 1.2 and 1.3 (the usual choice for an MX).
    Intermediate,
    /// TLS 1.0 and up with medium ciphers, for old peers that would otherwise fall back to
    /// plaintext.
    Old,
}

impl Profile {
    fn protocols(self) -> &'static str {
        match self {
            Profile::Modern => ">=TLSv1.3",
            Profile::Intermediate => ">=TLSv1.2",
            Profile::Old => ">=TLSv1",
        }
    }

    fn ciphers(self) -> &'static str {
        match self {
            Profile::Modern | Profile::Intermediate => "high",
            Profile::Old => "medium",
        }
    }
}

/// One main.cf parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub name: String,
    pub value: String,
}

fn p(name: &str, value: &str) -> Param {
    Param {
        name: name.to_owned(),
        value: value.to_owned(),
    }
}

/// The main.cf settings for a certificate set and profile: smtpd (inbound) and smtp
/// (outbound) sides, logging that mailtls can read, and the Received-header clause.
pub fn settings(files: &TlsFiles, profile: Profile) -> Vec<Param> {
    let proto = profile.protocols();
    let ciphers = profile.ciphers();
    vec![
        p("smtpd_tls_cert_file", &files.server_cert),
        p("smtpd_tls_key_file", &files.server_key),
        p("smtpd_tls_CAfile", &files.ca_file),
        p("smtpd_tls_CApath", &files.ca_path),
        p("smtpd_tls_security_level", "may"),
        p("smtpd_tls_protocols", proto),
        p("smtpd_tls_mandatory_protocols", proto),
        p("smtpd_tls_ciphers", ciphers),
        p("smtpd_tls_mandatory_ciphers", "high"),
        p("smtpd_tls_loglevel", "1"),
        p("smtpd_tls_received_header", "yes"),
        p("smtp_tls_cert_file", &files.client_cert),
        p("smtp_tls_key_file", &files.client_key),
        p("smtp_tls_CAfile", &files.ca_file),
        p("smtp_tls_CApath", &files.ca_path),
        p("smtp_tls_security_level", "may"),
        p("smtp_tls_protocols", proto),
        p("smtp_tls_mandatory_protocols", proto),
        p("smtp_tls_ciphers", ciphers),
        p("smtp_tls_mandatory_ciphers", "high"),
        p("smtp_tls_loglevel", "1"),
    ]
}

/// The block to paste into main.cf.
pub fn render(files: &TlsFiles, profile: Profile) -> String {
    let mut s = format!("# TLS ({profile:?} profile)\n").to_lowercase();
    s = s.replacen("# tls", "# TLS", 1);
    for prm in settings(files, profile) {
        s.push_str(&format!("{} = {}\n", prm.name, prm.value));
    }
    s
}

/// Key-mode instructions for Postfix: smtpd loads the key as root before dropping
/// privileges, so root-only is enough.
pub fn key_mode_instructions(files: &TlsFiles) -> String {
    format!(
        "# Postfix reads the key as root at start-up: mode 600, owner root.\n\
         chown root:root {k}\nchmod 600 {k}\n",
        k = files.server_key
    )
}

/// A parameter definition read from main.cf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub name: String,
    pub value: String,
    /// 1-based line of the `name = value` line.
    pub line: usize,
}

/// Reads main.cf: `name = value` lines, continued by lines that start with white space;
/// `#` lines are comments (only at the start of a line, as in Postfix).
pub fn read_main_cf(text: &str) -> Vec<Setting> {
    let mut out: Vec<Setting> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                if !last.value.is_empty() {
                    last.value.push(' ');
                }
                last.value.push_str(trimmed.trim_end());
            }
            continue;
        }
        if let Some((n, v)) = line.split_once('=') {
            out.push(Setting {
                name: n.trim().to_owned(),
                value: v.trim().to_owned(),
                line: i + 1,
            });
        }
    }
    out
}

/// The effective value (last definition wins).
pub fn lookup<'a>(settings: &'a [Setting], name: &str) -> Option<&'a Setting> {
    settings.iter().rev().find(|s| s.name == name)
}

/// Expands `$name`, `${name}` and `$(name)` from main.cf, with `config_directory` set to
/// the directory main.cf was read from (Debian's `smtpd_tls_cert_file =
/// $config_directory/cert.pem` style). `None` when a name is not defined here (a built-in
/// default we do not model), the expansion nests too deep, grows past
/// [`MAX_EXPANSION`] bytes or takes more than [`MAX_REFERENCES`] lookups.
pub fn expand(value: &str, settings: &[Setting], config_directory: &str) -> Option<String> {
    let mut budget = MAX_REFERENCES;
    expand_depth(value, settings, config_directory, 0, &mut budget)
}

/// Longest expansion we build, and most `$name` references we follow for one value.
/// Depth alone bounds neither: `a = $b$b$b…`, `b = $c$c$c…` multiplies by the number of
/// references at each of the eight levels (the "billion laughs" of configuration files),
/// in output size or, when the names at the bottom are empty, in time. A real parameter
/// is a few hundred bytes from a handful of references.
pub const MAX_EXPANSION: usize = 64 * 1024;
pub const MAX_REFERENCES: u32 = 10_000;

fn expand_depth(
    value: &str,
    settings: &[Setting],
    cd: &str,
    depth: u8,
    budget: &mut u32,
) -> Option<String> {
    if depth > 8 || value.len() > MAX_EXPANSION {
        return None;
    }
    let mut out = String::new();
    let mut rest = value;
    while let Some(i) = rest.find('$') {
        out.push_str(rest.get(..i)?);
        let after = rest.get(i + 1..)?;
        let (name, tail) = match after.chars().next()? {
            '{' => {
                let end = after.find('}')?;
                (after.get(1..end)?, after.get(end + 1..)?)
            }
            '(' => {
                let end = after.find(')')?;
                (after.get(1..end)?, after.get(end + 1..)?)
            }
            _ => {
                let end = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                (after.get(..end)?, after.get(end..)?)
            }
        };
        *budget = budget.checked_sub(1)?;
        if name == "config_directory" && lookup(settings, name).is_none() {
            out.push_str(cd);
        } else {
            let v = lookup(settings, name)?;
            out.push_str(&expand_depth(&v.value, settings, cd, depth + 1, budget)?);
        }
        if out.len() > MAX_EXPANSION {
            return None;
        }
        rest = tail;
    }
    out.push_str(rest);
    Some(out)
}

/// Reads main.cf from a file.
pub fn read_file(path: &Path) -> std::io::Result<Vec<Setting>> {
    Ok(read_main_cf(&String::from_utf8_lossy(&std::fs::read(
        path,
    )?)))
}

/// Sets every parameter: the first definition (with its continuation lines) is replaced,
/// later definitions are removed (Postfix would warn about them and use the last), missing
/// ones are appended. Other lines are kept byte for byte; a second apply changes nothing.
pub fn apply(text: &str, params: &[Param]) -> String {
    super::assign::set_all(
        text,
        params,
        &super::assign::Syntax {
            section_end: <[String]>::len,
            defines: |l, name| {
                !l.starts_with([' ', '\t', '#'])
                    && l.split_once('=').is_some_and(|(n, _)| n.trim() == name)
            },
            // A continuation line starts with white space and is not blank or a comment.
            continues: |_, c| {
                c.starts_with([' ', '\t'])
                    && !c.trim().is_empty()
                    && !c.trim_start().starts_with('#')
            },
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intermediate_profile_lines() {
        let f = TlsFiles::layout("/etc/postfix/certs", "mx1", None, false);
        let r = render(&f, Profile::Intermediate);
        for want in [
            "smtpd_tls_cert_file = /etc/postfix/certs/mx1-cert.pem\n",
            "smtpd_tls_key_file = /etc/postfix/certs/mx1-key.pem\n",
            "smtpd_tls_CAfile = /etc/postfix/certs/cacert.pem\n",
            "smtpd_tls_security_level = may\n",
            "smtpd_tls_protocols = >=TLSv1.2\n",
            "smtpd_tls_received_header = yes\n",
            "smtp_tls_security_level = may\n",
            "smtp_tls_loglevel = 1\n",
        ] {
            assert!(r.contains(want), "missing {want:?} in\n{r}");
        }
        assert!(r.starts_with("# TLS (intermediate profile)\n"), "{r}");
        let old = render(&f, Profile::Old);
        assert!(
            old.contains("smtpd_tls_protocols = >=TLSv1\n")
                && old.contains("smtpd_tls_ciphers = medium\n")
        );
        assert!(render(&f, Profile::Modern).contains("smtp_tls_protocols = >=TLSv1.3\n"));
    }

    #[test]
    fn reader_handles_continuations_and_no_spaces() {
        let text = "# comment\nsmtpd_tls_cert_file=/etc/ssl/certs/ssl-cert-snakeoil.pem\nsmtpd_tls_protocols = !SSLv2,\n    !SSLv3\n\nmyhostname = mx\n";
        let s = read_main_cf(text);
        assert_eq!(
            lookup(&s, "smtpd_tls_cert_file").map(|x| (x.value.as_str(), x.line)),
            Some(("/etc/ssl/certs/ssl-cert-snakeoil.pem", 2))
        );
        assert_eq!(
            lookup(&s, "smtpd_tls_protocols").map(|x| x.value.as_str()),
            Some("!SSLv2, !SSLv3")
        );
    }

    #[test]
    fn expansion_rows() {
        let s = read_main_cf(
            "certs = ${config_directory}/certs\nkey = $certs/mx1-key.pem\nloop = $loop\n",
        );
        let rows = [
            ("$config_directory/cert.pem", Some("/etc/postfix/cert.pem")),
            (
                "$(config_directory)/cert.pem",
                Some("/etc/postfix/cert.pem"),
            ),
            ("$key", Some("/etc/postfix/certs/mx1-key.pem")),
            ("/plain/path.pem", Some("/plain/path.pem")),
            ("$data_directory/x", None),
            ("$loop", None),
        ];
        for (v, want) in rows {
            assert_eq!(expand(v, &s, "/etc/postfix").as_deref(), want, "{v}");
        }
    }

    #[test]
    fn apply_replaces_and_is_idempotent() {
        let text = "smtpd_banner = $myhostname ESMTP\nsmtpd_tls_cert_file=/etc/ssl/certs/ssl-cert-snakeoil.pem\nsmtpd_tls_protocols = !SSLv2,\n    !SSLv3\n# keep me\nsmtpd_tls_cert_file = /dup.pem\n";
        let params = vec![
            p("smtpd_tls_cert_file", "/c.pem"),
            p("smtpd_tls_protocols", ">=TLSv1.2"),
            p("smtp_tls_loglevel", "1"),
        ];
        let once = apply(text, &params);
        assert_eq!(
            once,
            "smtpd_banner = $myhostname ESMTP\nsmtpd_tls_cert_file = /c.pem\nsmtpd_tls_protocols = >=TLSv1.2\n# keep me\nsmtp_tls_loglevel = 1\n"
        );
        assert_eq!(apply(&once, &params), once);
    }
}
