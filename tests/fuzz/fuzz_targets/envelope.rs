//! The syslog envelope (RFC 3164, RFC 5424, ISO stamps, journald JSON) and the whole
//! line path after it: any bytes must give an outcome, never a panic.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use mailtls::parse::{self, envelope, journald};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let env = envelope::parse(&text);
    let _ = parse::needs_year(&env.stamp);
    let _ = parse::mta_for_program(env.program);
    let _ = journald::parse(&text);
    let _ = parse::mail_program(data);
    let file: Arc<str> = Arc::from("fuzz");
    let _ = parse::parse_line(data, &file, 1);
});
