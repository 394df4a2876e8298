//! Helpers shared by the setup tests: the real `openssl` binary and a
//! fixture tree laid out like a Sendmail host under a temporary root.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::mailtls;

/// Runs the openssl binary. Fails loudly when it is missing: these tests compare mailtls
/// with OpenSSL and must not pass silently without it (Debian package `openssl`).
pub fn openssl(args: &[&str]) -> std::process::Output {
    Command::new("openssl")
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "the `openssl` binary is required for these tests (apt-get install openssl): {e}"
            )
        })
}

/// Runs openssl and insists on success; returns stdout.
pub fn openssl_ok(args: &[&str]) -> String {
    let out = openssl(args);
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `mailtls ARGS`, which must exit 0: its stdout (the generated configuration text).
pub fn stdout(args: &[&str]) -> String {
    let out = mailtls().args(args).output().expect("run");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A fake host root: `root/etc/mail/certs` holds the certificates, `root/root/mail-ca` the
/// CA key, and cf files name the paths as the real host would (`/etc/mail/certs/…`).
pub struct Tree {
    pub tmp: tempfile::TempDir,
}

pub const CERTS: &str = "/etc/mail/certs";

impl Tree {
    pub fn new() -> Tree {
        let tmp = tempfile::tempdir().expect("tempdir");
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
        for d in ["etc", "etc/mail", "root"] {
            fs::create_dir_all(tmp.path().join(d)).expect("mkdir");
            fs::set_permissions(tmp.path().join(d), fs::Permissions::from_mode(0o755))
                .expect("chmod");
        }
        Tree { tmp }
    }

    pub fn root(&self) -> &Path {
        self.tmp.path()
    }

    /// The real path of a configured absolute path.
    pub fn p(&self, configured: &str) -> PathBuf {
        self.root().join(configured.trim_start_matches('/'))
    }

    /// The gid the test runs under (files it creates get it), for `--msp-group`.
    pub fn my_gid(&self) -> u32 {
        fs::metadata(self.root()).expect("stat").gid()
    }

    /// `mailtls config certs` into the tree.
    pub fn certs(&self, extra: &[&str]) {
        let dir = self.p(CERTS);
        let ca = self.p("/root/mail-ca");
        let mut args: Vec<String> = vec![
            "config".into(),
            "certs".into(),
            "--dir".into(),
            dir.display().to_string(),
            "--ca-dir".into(),
            ca.display().to_string(),
            "--name".into(),
            "mx1".into(),
            "--san".into(),
            "mx1.example.org".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        mailtls().args(&args).assert().success();
    }

    /// sendmail.cf (and submit.cf when `msp`) with the TLS options `config` prints.
    pub fn cf(&self, msp: bool) {
        let mut flags = vec!["--dir", CERTS, "--name", "mx1"];
        if msp {
            flags.push("--msp");
        }
        let out = mailtls()
            .arg("config")
            .arg("sendmail")
            .args(&flags)
            .output()
            .expect("run");
        let mut text = String::from(DEBIAN_CF_HEAD);
        text.push_str(&String::from_utf8_lossy(&out.stdout));
        text.push_str(DEBIAN_CF_TAIL);
        fs::write(self.p("/etc/mail/sendmail.cf"), text).expect("write cf");
        if msp {
            let out = mailtls()
                .arg("config")
                .arg("submit")
                .args(&flags)
                .output()
                .expect("run");
            let mut text = String::from("V10/Berkeley\nO RunAsUser=smmsp\n");
            text.push_str(&String::from_utf8_lossy(&out.stdout));
            fs::write(self.p("/etc/mail/submit.cf"), text).expect("write submit.cf");
        }
    }

    /// `mailtls doctor --format json` with the tree as root; returns (exit code, findings).
    pub fn doctor(&self, extra: &[&str]) -> (i32, Vec<Value>) {
        let out = mailtls()
            .args(["doctor", "--format", "json", "--root"])
            .arg(self.root())
            .args(extra)
            .output()
            .expect("run doctor");
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "doctor output is not JSON ({e}): {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        let findings = v["findings"].as_array().cloned().unwrap_or_default();
        (out.status.code().unwrap_or(-1), findings)
    }
}

/// The findings with `check`.
pub fn with_check<'a>(findings: &'a [Value], check: &str) -> Vec<&'a Value> {
    findings.iter().filter(|f| f["check"] == check).collect()
}

/// The beginning of a Debian-style sendmail.cf (as m4 writes it from sendmail.mc), up to
/// the TLS options.
pub const DEBIAN_CF_HEAD: &str = "#\n\
# Copyright (c) 1998-2005 Proofpoint, Inc. and its suppliers.\n\
#\tAll rights reserved.\n\
#\n\
######################################################################\n\
#####\n\
#####\t\tSENDMAIL CONFIGURATION FILE\n\
#####\n\
######################################################################\n\
V10/Debian\n\
# level of dangerous file permissions Sendmail tolerates\n\
O DontBlameSendmail=safe\n\
Cwlocalhost\n\
DSmailhub.example.org\n\
O SevenBitInput=False\n\
O AliasWait=10\n\
O AliasFile=/etc/mail/aliases\n\
O QueueDirectory=/var/spool/mqueue\n\
O TLSSrvOptions=V\n";

/// The end of it: rulesets and a mailer, which apply must leave alone.
pub const DEBIAN_CF_TAIL: &str = "# Random data source (required for systems without /dev/urandom under OpenSSL)\n\
#O RandFile\n\
O PidFile=/run/sendmail/mta/sendmail.pid\n\
\n\
Scanonify=3\n\
R$@\t\t\t$@ <@>\n\
R$*\t\t\t$: $1 <@>\t\t\tmark addresses\n\
\n\
Mesmtp,\t\tP=[IPC], F=mDFMuXa, S=EnvFromSMTP/HdrFromSMTP, R=EnvToSMTP, E=\\r\\n, L=990,\n\
\t\tT=DNS/RFC822/SMTP,\n\
\t\tA=TCP $h\n";
