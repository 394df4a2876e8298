//! Inputs that once made a parser panic, loop or blow up (found by the fuzz targets in
//! tests/fuzz or while writing them), kept so they never come back. One row per input,
//! with what the parser must make of it.

// A test: failing loudly is its job (Cargo.toml's [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use mailtls::setup::postfix;

/// `a = $b$b…` nested eight deep: the expansion is refused, quickly, instead of building
/// gigabytes (or, with empty names at the bottom, looping for hours).
#[test]
fn nested_main_cf_references_are_refused_not_expanded() {
    // (references per level, value at the bottom)
    for (fan_out, bottom) in [(16, "0123456789abcdef"), (64, ""), (1000, "")] {
        let mut text = String::new();
        for level in 0..9u8 {
            let next = format!("$v{}", level + 1);
            text.push_str(&format!("v{level} = {}\n", next.repeat(fan_out)));
        }
        text.push_str(&format!("v9 = {bottom}\n"));
        let settings = postfix::read_main_cf(&text);
        let t = Instant::now();
        let got = postfix::expand("$v0", &settings, "/etc/postfix");
        assert_eq!(got, None, "fan-out {fan_out}");
        assert!(t.elapsed() < Duration::from_secs(2), "fan-out {fan_out}");
    }
}

#[test]
fn ordinary_main_cf_references_still_expand() {
    let text = "\
queue_directory = /var/spool/postfix
certs = ${config_directory}/certs
smtpd_tls_cert_file = $certs/mx.pem
smtpd_tls_key_file = $(certs)/mx.key
";
    let settings = postfix::read_main_cf(text);
    let rows = [
        ("$smtpd_tls_cert_file", "/etc/postfix/certs/mx.pem"),
        ("$smtpd_tls_key_file", "/etc/postfix/certs/mx.key"),
        ("${queue_directory}/pid", "/var/spool/postfix/pid"),
    ];
    for (value, want) in rows {
        assert_eq!(
            postfix::expand(value, &settings, "/etc/postfix").as_deref(),
            Some(want),
            "{value}"
        );
    }
}
