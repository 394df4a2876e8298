//! Sendmail's message texts (STARTTLS summaries, deliveries, rulesets, errors).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailtls::parse::sendmail;

fuzz_target!(|data: &[u8]| {
    let _ = sendmail::parse(&String::from_utf8_lossy(data));
});
