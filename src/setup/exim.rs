//! Exim's TLS settings: the main-section options (or Debian's `MAIN_TLS_*` macros) for a
//! certificate set, profile and TLS library, the `--apply` editor, and a reader that
//! follows Exim's preprocessor (`.ifdef`, macros, continuation lines) and Debian's
//! `update-exim4.conf` assembly far enough to find the files the daemon will load.
//!
//! Exim (unlike Sendmail and Postfix) loads the certificate and key for each STARTTLS, as
//! the Exim user (Debian: `Debian-exim`), after dropping root: a broken or unreadable key
//! is not noticed at start-up; STARTTLS is still offered and answered with `454 TLS
//! currently unavailable`, and each attempt logs `TLS error on connection from … (cert/key
//! setup: cert=… key=…): REASON` (tests/fixtures/real/exim/). Hence the key must be
//! readable by the Exim user's group: `root:Debian-exim 0640` on Debian.
//!
//! `tls_require_ciphers` is a GnuTLS priority string or an OpenSSL cipher list depending on
//! the library Exim was built with; Debian builds with GnuTLS.

use std::path::{Path, PathBuf};

use super::cf::TlsFiles;
use super::postfix::{Param, Profile};

/// The TLS library Exim was built with: it decides `tls_require_ciphers`'s syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsLibrary {
    /// GnuTLS (Debian's and Ubuntu's exim4 packages): a priority string.
    Gnutls,
    /// OpenSSL (most other builds): a cipher list, protocols by `openssl_options`.
    Openssl,
}

/// The library named by `exim -bV`: its `Library version: GnuTLS…` / `OpenSSL…` lines
/// (printed by newer builds) or the `Support for:` line (`… GnuTLS …`, `… OpenSSL …`).
pub fn detect_library(bv: &str) -> Option<TlsLibrary> {
    let pick = |l: &str| {
        if l.contains("GnuTLS") {
            Some(TlsLibrary::Gnutls)
        } else if l.contains("OpenSSL") {
            Some(TlsLibrary::Openssl)
        } else {
            None
        }
    };
    bv.lines()
        .filter(|l| l.trim_start().starts_with("Library version:"))
        .find_map(pick)
        .or_else(|| {
            bv.lines()
                .filter(|l| l.starts_with("Support for:"))
                .find_map(pick)
        })
}

/// Runs `exim4 -bV` (Debian's name) or `exim -bV` and detects the library; `None` when
/// Exim is not installed or says neither.
pub fn probe_library() -> Option<TlsLibrary> {
    ["exim4", "exim"].iter().find_map(|bin| {
        let out = std::process::Command::new(bin)
            .arg("-bV")
            .stdin(std::process::Stdio::null())
            .output()
            .ok()?;
        detect_library(&String::from_utf8_lossy(&out.stdout))
    })
}

/// How the configuration is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Layout {
    /// One exim.conf (or `configure`): the options in its main section.
    Plain,
    /// Debian's split configuration: macros in /etc/exim4/conf.d/main/000_localmacros.
    DebianSplit,
    /// Debian's unsplit configuration: macros in /etc/exim4/exim4.conf.localmacros.
    DebianUnsplit,
}

impl Layout {
    /// Where the settings go, as Debian's README.Debian documents it.
    pub fn default_file(self) -> &'static str {
        match self {
            Layout::Plain => "/etc/exim/exim.conf",
            Layout::DebianSplit => "/etc/exim4/conf.d/main/000_localmacros",
            Layout::DebianUnsplit => "/etc/exim4/exim4.conf.localmacros",
        }
    }

    pub fn is_debian(self) -> bool {
        self != Layout::Plain
    }
}

/// The layout a file implies: Debian's macro files by their place, anything else plain.
pub fn layout_of_file(path: &Path) -> Layout {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    if name.as_deref() == Some("exim4.conf.localmacros") {
        Layout::DebianUnsplit
    } else if path.parent().is_some_and(|p| p.ends_with("conf.d/main")) {
        Layout::DebianSplit
    } else {
        Layout::Plain
    }
}

/// Debian's layout on this host (under `root`): `/etc/exim4/update-exim4.conf.conf` and its
/// `dc_use_split_config`; `None` when it is not a Debian Exim installation.
pub fn debian_layout(root: &Path) -> Option<Layout> {
    let text = std::fs::read_to_string(root.join("etc/exim4/update-exim4.conf.conf")).ok()?;
    Some(if debian_split(&text) {
        Layout::DebianSplit
    } else {
        Layout::DebianUnsplit
    })
}

fn debian_split(update_conf: &str) -> bool {
    update_conf.lines().any(|l| {
        l.trim()
            .strip_prefix("dc_use_split_config=")
            .is_some_and(|v| v.trim_matches(['\'', '"']) == "true")
    })
}

/// `tls_require_ciphers` for a profile in the library's syntax. GnuTLS: a priority string
/// (protocol versions are part of it); OpenSSL: a cipher list (Mozilla's lists).
pub fn ciphers(profile: Profile, lib: TlsLibrary) -> &'static str {
    match (lib, profile) {
        (TlsLibrary::Gnutls, Profile::Modern) => "NORMAL:-VERS-ALL:+VERS-TLS1.3",
        (TlsLibrary::Gnutls, Profile::Intermediate) => "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2",
        (TlsLibrary::Gnutls, Profile::Old) => {
            "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:+VERS-TLS1.1:+VERS-TLS1.0"
        }
        (TlsLibrary::Openssl, Profile::Modern | Profile::Intermediate) => {
            "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20:!aNULL:!MD5:!DSS"
        }
        (TlsLibrary::Openssl, Profile::Old) => "HIGH:MEDIUM:!aNULL:!MD5:!RC4:!3DES",
    }
}

/// OpenSSL builds set the protocol floor with `openssl_options` (GnuTLS builds do not
/// know the option: its priority string carries the versions).
fn openssl_options(profile: Profile) -> &'static str {
    match profile {
        Profile::Modern => "+no_sslv3 +no_tlsv1 +no_tlsv1_1 +no_tlsv1_2",
        Profile::Intermediate => "+no_sslv3 +no_tlsv1 +no_tlsv1_1",
        Profile::Old => "+no_sslv3",
    }
}

fn p(name: &str, value: &str) -> Param {
    Param {
        name: name.to_owned(),
        value: value.to_owned(),
    }
}

/// The main-section options: STARTTLS offered to everyone, the server pair, client
/// certificates requested (not required) and checked against the CA file, the ciphers.
pub fn options(files: &TlsFiles, profile: Profile, lib: TlsLibrary) -> Vec<Param> {
    let mut v = vec![
        p("tls_advertise_hosts", "*"),
        p("tls_certificate", &files.server_cert),
        p("tls_privatekey", &files.server_key),
        p("tls_verify_certificates", &files.ca_file),
        p("tls_try_verify_hosts", "*"),
        p("tls_require_ciphers", ciphers(profile, lib)),
    ];
    if lib == TlsLibrary::Openssl {
        v.push(p("openssl_options", openssl_options(profile)));
    }
    v
}

/// Debian's macros (read by conf.d/main/03_exim4-config_tlsoptions or the template), and
/// `tls_require_ciphers` as a plain main option: Debian's configuration has no macro for
/// it and never sets it, and both macro files are read in the main section.
pub fn debian_settings(files: &TlsFiles, profile: Profile, lib: TlsLibrary) -> Vec<Param> {
    let mut v = vec![
        p("MAIN_TLS_ENABLE", "yes"),
        p("MAIN_TLS_ADVERTISE_HOSTS", "*"),
        p("MAIN_TLS_CERTIFICATE", &files.server_cert),
        p("MAIN_TLS_PRIVATEKEY", &files.server_key),
        p("MAIN_TLS_VERIFY_CERTIFICATES", &files.ca_file),
        p("MAIN_TLS_TRY_VERIFY_HOSTS", "*"),
        p("tls_require_ciphers", ciphers(profile, lib)),
    ];
    if lib == TlsLibrary::Openssl {
        v.push(p("openssl_options", openssl_options(profile)));
    }
    v
}

/// The settings for a layout.
pub fn settings(files: &TlsFiles, profile: Profile, lib: TlsLibrary, layout: Layout) -> Vec<Param> {
    if layout.is_debian() {
        debian_settings(files, profile, lib)
    } else {
        options(files, profile, lib)
    }
}

/// The block to paste (plain: into the main section, before the first `begin`).
pub fn render(files: &TlsFiles, profile: Profile, lib: TlsLibrary, layout: Layout) -> String {
    let lib_name = match lib {
        TlsLibrary::Gnutls => "GnuTLS",
        TlsLibrary::Openssl => "OpenSSL",
    };
    let mut s = match layout {
        Layout::Plain => format!(
            "# TLS ({} profile, Exim built with {lib_name}): main section, before the first \"begin\"\n",
            format!("{profile:?}").to_lowercase()
        ),
        _ => format!(
            "# TLS ({} profile, Exim built with {lib_name}): Debian's macros, in {}\n# then: update-exim4.conf && systemctl restart exim4\n",
            format!("{profile:?}").to_lowercase(),
            layout.default_file()
        ),
    };
    for prm in settings(files, profile, lib, layout) {
        s.push_str(&format!("{} = {}\n", prm.name, prm.value));
    }
    s
}

/// Key-mode instructions: Exim reads the key at each STARTTLS as the Exim user.
pub fn key_mode_instructions(files: &TlsFiles, group: &str) -> String {
    format!(
        "# Exim reads the key at each STARTTLS as its own user (not root): group {group}, mode 640.\n\
         chown root:{group} {k}\nchmod 640 {k}\n",
        k = files.server_key
    )
}

/// Is `line` a definition of `name` (`name = …`, `hide name = …`; macros `NAME = …`,
/// `NAME == …`)?
fn defines(line: &str, name: &str) -> bool {
    let t = line.trim_start();
    let t = t.strip_prefix("hide ").map(str::trim_start).unwrap_or(t);
    t.strip_prefix(name)
        .is_some_and(|rest| rest.trim_start().starts_with('='))
}

/// Sets every parameter in the main section (everything before the first `begin` line):
/// the first definition (with its backslash-continued lines) is replaced, later ones are
/// removed (Exim refuses an option or a macro defined twice), missing ones are inserted
/// before `begin` (or appended). Other lines are kept byte for byte; a second apply
/// changes nothing.
pub fn apply(text: &str, params: &[Param]) -> String {
    super::assign::set_all(
        text,
        params,
        &super::assign::Syntax {
            section_end: |lines| {
                lines
                    .iter()
                    .position(|l| l.trim_start().starts_with("begin ") || l.trim() == "begin")
                    .unwrap_or(lines.len())
            },
            defines,
            continues: |prev, _| prev.trim_end().ends_with('\\'),
        },
    )
}

/// One setting of the main section as Exim will see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EximSetting {
    pub name: String,
    /// The value after macro substitution.
    pub value: String,
    /// Where it is set.
    pub file: PathBuf,
    pub line: usize,
}

/// The main section after Exim's preprocessing.
#[derive(Debug, Clone, Default)]
pub struct MainSection {
    pub options: Vec<EximSetting>,
    pub macros: Vec<EximSetting>,
}

impl MainSection {
    /// The effective option (Exim refuses a second definition; the first is what counts).
    pub fn get(&self, name: &str) -> Option<&EximSetting> {
        self.options.iter().find(|s| s.name == name)
    }

    pub fn macro_def(&self, name: &str) -> Option<&EximSetting> {
        self.macros.iter().rev().find(|s| s.name == name)
    }
}

fn is_macro_name(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Replaces macro names (words starting with an upper-case letter) by their values, a few
/// rounds deep (values may name other macros).
fn substitute(line: &str, macros: &[(String, String)]) -> String {
    let mut cur = line.to_owned();
    for _ in 0..8 {
        let mut out = String::with_capacity(cur.len());
        let mut changed = false;
        let b = cur.as_bytes();
        let mut i = 0;
        while i < cur.len() {
            let prev_word = i > 0
                && b.get(i - 1)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_');
            if !prev_word && b.get(i).is_some_and(u8::is_ascii_uppercase) {
                let end = cur[i..]
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .map_or(cur.len(), |e| i + e);
                let word = &cur[i..end];
                if let Some((_, v)) = macros.iter().rev().find(|(n, _)| n == word) {
                    out.push_str(v);
                    changed = true;
                } else {
                    out.push_str(word);
                }
                i = end;
            } else {
                let ch = cur[i..].chars().next().unwrap_or(' ');
                out.push(ch);
                i += ch.len_utf8();
            }
        }
        cur = out;
        if !changed || cur.len() > 64 * 1024 {
            break;
        }
    }
    cur
}

/// Reads the main section of one or more files read in order (Debian's pieces), as Exim's
/// preprocessor does: comments, backslash continuation, `.ifdef`/`.ifndef`/`.else`/
/// `.endif`, macro definitions and substitution; stops at the first `begin`.
pub fn read_main(sources: &[(PathBuf, String)]) -> MainSection {
    let mut out = MainSection::default();
    let mut macros: Vec<(String, String)> = Vec::new();
    // Each open conditional: (this branch active, any enclosing inactive).
    let mut stack: Vec<(bool, bool)> = Vec::new();
    for (file, text) in sources {
        let raw: Vec<&str> = text.lines().collect();
        let mut i = 0;
        while i < raw.len() {
            let start = i;
            let mut logical = raw.get(i).copied().unwrap_or_default().to_owned();
            while logical.trim_end().ends_with('\\') && i + 1 < raw.len() {
                let t = logical.trim_end();
                logical = t[..t.len() - 1].to_owned();
                i += 1;
                logical.push_str(raw.get(i).copied().unwrap_or_default().trim_start());
            }
            i += 1;
            let t = logical.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let active = stack.iter().all(|(a, outer)| *a && !*outer);
            if let Some(d) = t.strip_prefix('.') {
                let mut w = d.split_whitespace();
                let dir = w.next().unwrap_or_default();
                let arg = w.next().unwrap_or_default();
                let defined = macros.iter().any(|(n, _)| n == arg);
                match dir {
                    "ifdef" => stack.push((defined, !active)),
                    "ifndef" => stack.push((!defined, !active)),
                    "else" => {
                        if let Some(top) = stack.last_mut() {
                            top.0 = !top.0;
                        }
                    }
                    "endif" => {
                        stack.pop();
                    }
                    _ => {}
                }
                continue;
            }
            if !active {
                continue;
            }
            if t == "begin" || t.starts_with("begin ") {
                return out;
            }
            let Some((lhs, rhs)) = t.split_once('=') else {
                continue;
            };
            let name = lhs.trim();
            let name = name.strip_prefix("hide ").map(str::trim).unwrap_or(name);
            let value = rhs.trim_start_matches('=').trim();
            if is_macro_name(name) {
                let v = substitute(value, &macros);
                macros.push((name.to_owned(), v.clone()));
                out.macros.push(EximSetting {
                    name: name.to_owned(),
                    value: v,
                    file: file.clone(),
                    line: start + 1,
                });
            } else if name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                && !name.is_empty()
            {
                out.options.push(EximSetting {
                    name: name.to_owned(),
                    value: substitute(value, &macros),
                    file: file.clone(),
                    line: start + 1,
                });
            }
        }
    }
    out
}

/// The files Exim's configuration is assembled from, in order, with the path each is
/// known by (`configured`, for messages) and where to read it (`real`, under `root`).
#[derive(Debug, Clone)]
pub struct Assembly {
    pub layout: Layout,
    pub files: Vec<(PathBuf, PathBuf)>,
}

/// Debian's pieces under `/etc/exim4` (or `dir`): `exim4.conf` when it exists (Exim reads
/// it before the generated file); else split: `conf.d/main/*` in `update-exim4.conf`'s
/// run-parts order (names of letters, digits, `_`, `-`; `NAME.rul` replaces `NAME`);
/// unsplit: `exim4.conf.localmacros` then `exim4.conf.template`.
pub fn debian_assembly(dir: &str, resolve: &dyn Fn(&str) -> PathBuf) -> Assembly {
    let dir = dir.trim_end_matches('/');
    let own = format!("{dir}/exim4.conf");
    if resolve(&own).is_file() {
        return Assembly {
            layout: Layout::Plain,
            files: vec![(PathBuf::from(&own), resolve(&own))],
        };
    }
    let update = std::fs::read_to_string(resolve(&format!("{dir}/update-exim4.conf.conf")))
        .unwrap_or_default();
    if debian_split(&update) {
        Assembly {
            layout: Layout::DebianSplit,
            files: conf_d_main(&format!("{dir}/conf.d/main"), resolve),
        }
    } else {
        let mut files = Vec::new();
        for n in ["exim4.conf.localmacros", "exim4.conf.template"] {
            let conf = format!("{dir}/{n}");
            if resolve(&conf).is_file() {
                files.push((PathBuf::from(&conf), resolve(&conf)));
            }
        }
        Assembly {
            layout: Layout::DebianUnsplit,
            files,
        }
    }
}

/// The files of a `conf.d/main` directory in `update-exim4.conf`'s run-parts order (names
/// of letters, digits, `_`, `-`; `NAME.rul` replaces `NAME`).
pub fn conf_d_main(main: &str, resolve: &dyn Fn(&str) -> PathBuf) -> Vec<(PathBuf, PathBuf)> {
    let mut names: Vec<String> = std::fs::read_dir(resolve(main))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut files = Vec::new();
    for n in names {
        if n.is_empty()
            || !n
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            continue;
        }
        let mut conf = format!("{main}/{n}");
        if resolve(&format!("{conf}.rul")).is_file() {
            conf.push_str(".rul");
        }
        if resolve(&conf).is_file() {
            files.push((PathBuf::from(&conf), resolve(&conf)));
        }
    }
    files
}

/// Macros defined in more than one of Debian's pieces (or twice in one): Exim refuses to
/// start (`macro "X" is already defined`) unless guarded by `.ifndef`. Returns (name,
/// first place, second place) for the names in `names`.
pub fn duplicate_macros(
    sources: &[(PathBuf, String)],
    names: &[&str],
) -> Vec<(String, String, String)> {
    let mut seen: Vec<(String, String)> = Vec::new();
    let mut out = Vec::new();
    for (file, text) in sources {
        let mut depth = 0usize;
        for (i, l) in text.lines().enumerate() {
            let t = l.trim();
            if t.starts_with(".if") {
                depth += 1;
            } else if t.starts_with(".endif") {
                depth = depth.saturating_sub(1);
            }
            if depth > 0 {
                continue;
            }
            if let Some(n) = names
                .iter()
                .find(|n| defines(l, n) && !l.starts_with([' ', '\t']))
            {
                let here = format!("{} line {}", file.display(), i + 1);
                if let Some((_, first)) = seen.iter().find(|(s, _)| s == n) {
                    out.push(((*n).to_owned(), first.clone(), here));
                } else {
                    seen.push(((*n).to_owned(), here));
                }
            }
        }
    }
    out
}

/// The names `debian_settings` writes that are macros.
pub const DEBIAN_MACROS: [&str; 6] = [
    "MAIN_TLS_ENABLE",
    "MAIN_TLS_ADVERTISE_HOSTS",
    "MAIN_TLS_CERTIFICATE",
    "MAIN_TLS_PRIVATEKEY",
    "MAIN_TLS_VERIFY_CERTIFICATES",
    "MAIN_TLS_TRY_VERIFY_HOSTS",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> TlsFiles {
        TlsFiles::layout("/etc/exim4/certs", "mx1", None, false)
    }

    #[test]
    fn library_from_bv() {
        let debian = "Exim version 4.96 #2 built 26-Nov-2026 14:26:47\nSupport for: crypteq iconv() IPv6 GnuTLS TLS_resume move_frozen_messages DANE\n";
        assert_eq!(detect_library(debian), Some(TlsLibrary::Gnutls));
        let newer = "Exim version 4.97\nSupport for: crypteq IPv6 OpenSSL DANE\nLibrary version: OpenSSL: Compile: OpenSSL 3.0.13\n";
        assert_eq!(detect_library(newer), Some(TlsLibrary::Openssl));
        assert_eq!(
            detect_library("Exim version 4.96\nSupport for: crypteq\n"),
            None
        );
    }

    #[test]
    fn cipher_syntax_follows_the_library() {
        let g = render(
            &files(),
            Profile::Intermediate,
            TlsLibrary::Gnutls,
            Layout::Plain,
        );
        assert!(
            g.contains("tls_require_ciphers = NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2\n"),
            "{g}"
        );
        assert!(!g.contains("openssl_options"), "{g}");
        let o = render(
            &files(),
            Profile::Intermediate,
            TlsLibrary::Openssl,
            Layout::Plain,
        );
        assert!(o.contains("tls_require_ciphers = ECDHE+AESGCM:"), "{o}");
        assert!(
            o.contains("openssl_options = +no_sslv3 +no_tlsv1 +no_tlsv1_1\n"),
            "{o}"
        );
        assert!(
            o.contains("tls_privatekey = /etc/exim4/certs/mx1-key.pem\n"),
            "{o}"
        );
    }

    #[test]
    fn plain_apply_goes_before_begin_and_is_idempotent() {
        let text = "primary_hostname = mx\ntls_certificate = /old.pem\ntls_advertise_hosts = \\\n  127.0.0.1\n\nbegin acl\n\nacl_check:\n  accept\n\nbegin transports\nremote_smtp:\n  driver = smtp\n  tls_certificate = /client.pem\n";
        let params = options(&files(), Profile::Intermediate, TlsLibrary::Gnutls);
        let once = apply(text, &params);
        assert!(once.starts_with("primary_hostname = mx\ntls_certificate = /etc/exim4/certs/mx1-cert.pem\ntls_advertise_hosts = *\n\ntls_privatekey = "), "{once}");
        assert!(
            once.contains(
                "tls_require_ciphers = NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2\nbegin acl\n"
            ),
            "{once}"
        );
        assert!(
            once.ends_with("  tls_certificate = /client.pem\n"),
            "transport untouched: {once}"
        );
        assert_eq!(apply(&once, &params), once);
    }

    #[test]
    fn preprocessor_follows_debian_macros() {
        let local = "MAIN_TLS_ENABLE = yes\nMAIN_TLS_PRIVATEKEY = /k.pem\n".to_owned();
        let tls = ".ifdef MAIN_TLS_ENABLE\n.ifndef MAIN_TLS_CERTIFICATE\nMAIN_TLS_CERTIFICATE = CONFDIR/exim.crt\n.endif\ntls_certificate = MAIN_TLS_CERTIFICATE\n.ifndef MAIN_TLS_PRIVATEKEY\nMAIN_TLS_PRIVATEKEY = CONFDIR/exim.key\n.endif\ntls_privatekey = MAIN_TLS_PRIVATEKEY\nMAIN_TLS_VERIFY_CERTIFICATES = ${if exists{/etc/ssl/certs/ca-certificates.crt}\\\n   {/etc/ssl/certs/ca-certificates.crt}\\\n   {/dev/null}}\ntls_verify_certificates = MAIN_TLS_VERIFY_CERTIFICATES\n.else\ntls_certificate = /never\n.endif\nbegin acl\ntls_privatekey = /never\n".to_owned();
        let m = read_main(&[
            ("/a".into(), "CONFDIR = /etc/exim4\n".into()),
            ("/b".into(), local),
            ("/c".into(), tls),
        ]);
        assert_eq!(
            m.get("tls_certificate").map(|s| s.value.as_str()),
            Some("/etc/exim4/exim.crt")
        );
        assert_eq!(
            m.get("tls_privatekey").map(|s| (s.value.as_str(), s.line)),
            Some(("/k.pem", 9))
        );
        assert_eq!(
            m.get("tls_verify_certificates").map(|s| s.value.as_str()),
            Some(
                "${if exists{/etc/ssl/certs/ca-certificates.crt}{/etc/ssl/certs/ca-certificates.crt}{/dev/null}}"
            )
        );
        assert_eq!(m.options.len(), 3);
    }

    #[test]
    fn duplicates_found_outside_guards() {
        let d = duplicate_macros(
            &[
                ("/x/000_localmacros".into(), "MAIN_TLS_CERTIFICATE = /a\n".into()),
                ("/x/000_other".into(), ".ifndef MAIN_TLS_CERTIFICATE\nMAIN_TLS_CERTIFICATE = /c\n.endif\nMAIN_TLS_CERTIFICATE = /b\n".into()),
            ],
            &DEBIAN_MACROS,
        );
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].2, "/x/000_other line 4");
    }
}
