//! Inputs that once made a parser panic, loop or blow up (found by the fuzz targets in
//! tests/fuzz or while writing them), kept so they never come back. One row per input,
//! with what the parser must make of it.

use mailtls::setup::postfix;

use crate::common::main_cf::{NESTED, nested_main_cf};

/// `a = $b$b…` nested eight deep: the expansion is refused instead of building gigabytes
/// (or, with empty names at the bottom, looping for hours; benches/timing.rs times it).
#[test]
fn nested_main_cf_references_are_refused_not_expanded() {
    for (fan_out, bottom) in NESTED {
        let settings = postfix::read_main_cf(&nested_main_cf(fan_out, bottom));
        let got = postfix::expand("$v0", &settings, "/etc/postfix");
        assert_eq!(got, None, "fan-out {fan_out}");
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
