//! Sendmail's TLS options: the sendmail.cf / submit.cf `O` lines, the sendmail.mc m4
//! form, a reader for existing cf files, and the in-place editor behind `--apply`.
//!
//! The option names and their order are those of `cf/m4/proto.m4`, which writes an unset
//! option as a placeholder comment (`#O CACertPath`) and a set one as `O CACertPath=…`.
//! Option names are compared case-insensitively, as `readcf.c` does.

use std::path::Path;

/// The MTA's configuration (sendmail.cf) or the mail submission program's (submit.cf).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CfKind {
    Sendmail,
    Submit,
}

/// The TLS file locations for one installation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub ca_path: String,
    pub ca_file: String,
    pub server_cert: String,
    pub server_key: String,
    pub client_cert: String,
    pub client_key: String,
    /// `RandFile` (only needed without `/dev/urandom`, e.g. `egd:/dev/random` in the seed).
    pub rand_file: Option<String>,
    /// The MSP reads the keys: they are 0640 group smmsp and both cf files need
    /// `DontBlameSendmail=GroupReadableKeyFile`.
    pub msp: bool,
}

impl TlsFiles {
    /// The seed's layout under `dir` for server pair `name` (and client pair `client`, else
    /// the server pair is used for both roles, as in the seed).
    pub fn layout(dir: &str, name: &str, client: Option<&str>, msp: bool) -> TlsFiles {
        let dir = dir.trim_end_matches('/');
        let c = client.unwrap_or(name);
        TlsFiles {
            ca_path: dir.to_owned(),
            ca_file: format!("{dir}/cacert.pem"),
            server_cert: format!("{dir}/{name}-cert.pem"),
            server_key: format!("{dir}/{name}-key.pem"),
            client_cert: format!("{dir}/{c}-cert.pem"),
            client_key: format!("{dir}/{c}-key.pem"),
            rand_file: None,
            msp,
        }
    }
}

/// The value DontBlameSendmail needs for MSP-readable keys.
pub const GROUP_READABLE: &str = "GroupReadableKeyFile";

/// One option setting: the cf name, the proto.m4 comment above it, the m4 macro, the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CfOption {
    pub name: &'static str,
    pub comment: &'static str,
    pub m4: &'static str,
    pub value: String,
}

/// The options to set in `kind`'s cf, in proto.m4 order.
///
/// The MSP (submit.cf) is only ever a client of the local MTA, so it gets the CA and the
/// client pair but no server pair.
pub fn options(files: &TlsFiles, kind: CfKind) -> Vec<CfOption> {
    let mut v = Vec::new();
    if files.msp {
        v.push(CfOption {
            name: "DontBlameSendmail",
            comment: "level of dangerous file permissions Sendmail tolerates",
            m4: "confDONT_BLAME_SENDMAIL",
            value: GROUP_READABLE.into(),
        });
    }
    let mut push = |name, comment, m4, value: &str| {
        v.push(CfOption {
            name,
            comment,
            m4,
            value: value.to_owned(),
        })
    };
    push(
        "CACertPath",
        "CA directory",
        "confCACERT_PATH",
        &files.ca_path,
    );
    push("CACertFile", "CA file", "confCACERT", &files.ca_file);
    if kind == CfKind::Sendmail {
        push(
            "ServerCertFile",
            "Server Cert",
            "confSERVER_CERT",
            &files.server_cert,
        );
        push(
            "ServerKeyFile",
            "Server private key",
            "confSERVER_KEY",
            &files.server_key,
        );
    }
    push(
        "ClientCertFile",
        "Client Cert",
        "confCLIENT_CERT",
        &files.client_cert,
    );
    push(
        "ClientKeyFile",
        "Client private key",
        "confCLIENT_KEY",
        &files.client_key,
    );
    if let Some(r) = &files.rand_file {
        push(
            "RandFile",
            "Random data source (required for systems without /dev/urandom under OpenSSL)",
            "confRAND_FILE",
            r,
        );
    }
    v
}

/// The cf block to paste, with proto.m4's comments.
pub fn render_cf(files: &TlsFiles, kind: CfKind) -> String {
    let mut s = String::new();
    for o in options(files, kind) {
        s.push_str(&format!("# {}\nO {}={}\n", o.comment, o.name, o.value));
    }
    s
}

/// The sendmail.mc / submit.mc lines (`define(`confSERVER_CERT', `…')dnl`).
pub fn render_mc(files: &TlsFiles, kind: CfKind) -> String {
    let mut s = String::new();
    for o in options(files, kind) {
        s.push_str(&format!("define(`{}', `{}')dnl\n", o.m4, o.value));
    }
    s
}

/// What the administrator must do to the key files for this choice.
pub fn key_mode_instructions(files: &TlsFiles) -> String {
    let keys = if files.server_key == files.client_key {
        files.server_key.clone()
    } else {
        format!("{} {}", files.server_key, files.client_key)
    };
    if files.msp {
        format!(
            "# The MSP (submit.cf, user smmsp) reads the keys: group smmsp, mode 640,\n\
             # and DontBlameSendmail=GroupReadableKeyFile in sendmail.cf and submit.cf.\n\
             chgrp smmsp {keys}\nchmod 640 {keys}\n"
        )
    } else {
        format!(
            "# Without the MSP only root reads the keys: mode 600, group root.\n\
             chgrp root {keys}\nchmod 600 {keys}\n"
        )
    }
}

/// An `O Name=value` line read from a cf file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CfSetting {
    pub name: String,
    pub value: String,
    /// 1-based line number.
    pub line: usize,
}

/// Parses `O Name=value` (long-form) option lines; comments and other lines are skipped.
/// Later settings of the same option win, as in `readcf.c`.
pub fn read_options(text: &str) -> Vec<CfSetting> {
    text.lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let (name, value) = parse_option_line(l)?;
            Some(CfSetting {
                name: name.to_owned(),
                value: value.to_owned(),
                line: i + 1,
            })
        })
        .collect()
}

/// The effective value of an option (last setting, name compared case-insensitively).
pub fn lookup<'a>(settings: &'a [CfSetting], name: &str) -> Option<&'a CfSetting> {
    settings
        .iter()
        .rev()
        .find(|s| s.name.eq_ignore_ascii_case(name))
}

/// Reads a cf file's settings.
pub fn read_cf(path: &Path) -> std::io::Result<Vec<CfSetting>> {
    Ok(read_options(&String::from_utf8_lossy(&std::fs::read(
        path,
    )?)))
}

fn parse_option_line(l: &str) -> Option<(&str, &str)> {
    let rest = l.strip_prefix('O')?;
    // `O Name=value`; short options (`Ox`) have no space and are not TLS options.
    let rest = rest.strip_prefix([' ', '\t'])?.trim_start();
    let (name, value) = match rest.split_once('=') {
        Some((n, v)) => (n.trim(), v.trim()),
        None => (rest.trim(), ""),
    };
    (!name.is_empty()).then_some((name, value))
}

/// `#O Name` or `#O Name=default`: proto.m4's placeholder for an unset option.
fn placeholder_name(l: &str) -> Option<&str> {
    let rest = l.strip_prefix("#O")?;
    let rest = rest.strip_prefix([' ', '\t'])?.trim_start();
    let name = rest.split('=').next()?.trim();
    (!name.is_empty() && !name.contains(' ')).then_some(name)
}

/// The value to write for an option given its current one: DontBlameSendmail is a list, and
/// GroupReadableKeyFile is added to what is there instead of replacing it.
fn merged_value(opt: &CfOption, current: Option<&str>) -> String {
    if opt.name != "DontBlameSendmail" {
        return opt.value.clone();
    }
    let Some(cur) = current else {
        return opt.value.clone();
    };
    let mut items: Vec<&str> = cur
        .split([',', ' ', '\t'])
        .map(str::trim)
        .filter(|s| !s.is_empty() && !s.eq_ignore_ascii_case("safe"))
        .collect();
    if !items.iter().any(|s| s.eq_ignore_ascii_case(&opt.value)) {
        items.push(&opt.value);
    }
    items.join(",")
}

/// Edits cf text so that every option in `opts` is set: an existing `O` line is replaced
/// (later duplicates are dropped, which is also what readcf's "last one wins" made
/// effective), else proto.m4's `#O Name` placeholder is turned into the setting, else the
/// line is added after the last option line. Every other line is kept byte for byte, and
/// applying the same options twice changes nothing.
pub fn apply(text: &str, opts: &[CfOption]) -> String {
    let mut lines: Vec<String> = split_keep_newlines(text);
    for opt in opts {
        let active: Vec<usize> = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| {
                parse_option_line(l.trim_end_matches(['\n', '\r']))
                    .is_some_and(|(n, _)| n.eq_ignore_ascii_case(opt.name))
            })
            .map(|(i, _)| i)
            .collect();
        if let Some((&first, rest)) = active.split_first() {
            let current = active
                .last()
                .and_then(|&i| lines.get(i))
                .and_then(|l| parse_option_line(l.trim_end_matches(['\n', '\r'])))
                .map(|(_, v)| v.to_owned());
            let value = merged_value(opt, current.as_deref());
            if let Some(l) = lines.get_mut(first) {
                let eol = line_end(l);
                let wanted = format!("O {}={}{}", opt.name, value, eol);
                if *l != wanted {
                    *l = wanted;
                }
            }
            for &i in rest.iter().rev() {
                lines.remove(i);
            }
            continue;
        }
        let placeholder = lines.iter().position(|l| {
            placeholder_name(l.trim_end_matches(['\n', '\r']))
                .is_some_and(|n| n.eq_ignore_ascii_case(opt.name))
        });
        let value = merged_value(opt, None);
        if let Some(i) = placeholder
            && let Some(l) = lines.get_mut(i)
        {
            let eol = line_end(l);
            *l = format!("O {}={}{}", opt.name, value, eol);
            continue;
        }
        let after = lines
            .iter()
            .rposition(|l| parse_option_line(l.trim_end_matches(['\n', '\r'])).is_some());
        let new = format!("O {}={}\n", opt.name, value);
        match after {
            Some(i) => {
                if let Some(l) = lines.get_mut(i)
                    && !l.ends_with('\n')
                {
                    l.push('\n');
                }
                lines.insert(i + 1, new);
            }
            None => {
                if let Some(l) = lines.last_mut()
                    && !l.ends_with('\n')
                {
                    l.push('\n');
                }
                lines.push(new);
            }
        }
    }
    lines.concat()
}

fn line_end(l: &str) -> &'static str {
    if l.ends_with("\r\n") {
        "\r\n"
    } else if l.ends_with('\n') {
        "\n"
    } else {
        ""
    }
}

/// Splits text into lines that keep their line ends, so joining them gives the text back.
pub(crate) fn split_keep_newlines(text: &str) -> Vec<String> {
    text.split_inclusive('\n').map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed_files(msp: bool) -> TlsFiles {
        TlsFiles::layout("/etc/mail/certs", "servername", None, msp)
    }

    #[test]
    fn sendmail_block_is_the_seeds() {
        let want = "# CA directory\nO CACertPath=/etc/mail/certs\n\
# CA file\nO CACertFile=/etc/mail/certs/cacert.pem\n\
# Server Cert\nO ServerCertFile=/etc/mail/certs/servername-cert.pem\n\
# Server private key\nO ServerKeyFile=/etc/mail/certs/servername-key.pem\n\
# Client Cert\nO ClientCertFile=/etc/mail/certs/servername-cert.pem\n\
# Client private key\nO ClientKeyFile=/etc/mail/certs/servername-key.pem\n";
        assert_eq!(render_cf(&seed_files(false), CfKind::Sendmail), want);
    }

    #[test]
    fn msp_adds_dont_blame_and_submit_has_no_server_pair() {
        let s = render_cf(&seed_files(true), CfKind::Submit);
        assert!(s.starts_with("# level of dangerous file permissions Sendmail tolerates\nO DontBlameSendmail=GroupReadableKeyFile\n"), "{s}");
        assert!(!s.contains("ServerKeyFile"), "{s}");
        assert!(
            s.contains("O ClientKeyFile=/etc/mail/certs/servername-key.pem\n"),
            "{s}"
        );
    }

    #[test]
    fn mc_lines() {
        let mut f = seed_files(false);
        f.rand_file = Some("egd:/dev/random".into());
        let mc = render_mc(&f, CfKind::Sendmail);
        assert_eq!(
            mc.lines().collect::<Vec<_>>(),
            [
                "define(`confCACERT_PATH', `/etc/mail/certs')dnl",
                "define(`confCACERT', `/etc/mail/certs/cacert.pem')dnl",
                "define(`confSERVER_CERT', `/etc/mail/certs/servername-cert.pem')dnl",
                "define(`confSERVER_KEY', `/etc/mail/certs/servername-key.pem')dnl",
                "define(`confCLIENT_CERT', `/etc/mail/certs/servername-cert.pem')dnl",
                "define(`confCLIENT_KEY', `/etc/mail/certs/servername-key.pem')dnl",
                "define(`confRAND_FILE', `egd:/dev/random')dnl",
            ]
        );
    }

    #[test]
    fn reader_rows() {
        let rows = [
            (
                "O CACertPath=/etc/mail/certs",
                Some(("CACertPath", "/etc/mail/certs")),
            ),
            (
                "O ServerKeyFile = /k.pem  ",
                Some(("ServerKeyFile", "/k.pem")),
            ),
            ("#O CACertFile", None),
            ("Odv", None),
            ("O TLSSrvOptions=V", Some(("TLSSrvOptions", "V"))),
            ("DSmail.example", None),
        ];
        for (line, want) in rows {
            assert_eq!(parse_option_line(line), want, "{line}");
        }
    }

    #[test]
    fn apply_replaces_placeholders_and_existing_and_is_idempotent() {
        let cf = "# header\r\nO DontBlameSendmail=forward2\nOdv\n# CA directory\n#O CACertPath\n# CA file\nO CACertFile=/old/ca.pem\nO CACertFile=/older/ca.pem\n# Server Cert\n#O ServerCertFile\nS0\nR$* $@ $1\n";
        let opts = options(&seed_files(true), CfKind::Sendmail);
        let once = apply(cf, &opts);
        assert_eq!(
            once,
            "# header\r\nO DontBlameSendmail=forward2,GroupReadableKeyFile\nOdv\n# CA directory\nO CACertPath=/etc/mail/certs\n# CA file\nO CACertFile=/etc/mail/certs/cacert.pem\n# Server Cert\nO ServerCertFile=/etc/mail/certs/servername-cert.pem\nO ServerKeyFile=/etc/mail/certs/servername-key.pem\nO ClientCertFile=/etc/mail/certs/servername-cert.pem\nO ClientKeyFile=/etc/mail/certs/servername-key.pem\nS0\nR$* $@ $1\n"
        );
        assert_eq!(apply(&once, &opts), once);
    }
}
