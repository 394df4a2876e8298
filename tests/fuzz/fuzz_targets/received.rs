//! One Received: header value (RFC 5321 §4.4 plus each MTA's TLS clause).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailtls::parse::received;

fuzz_target!(|data: &[u8]| {
    let value = String::from_utf8_lossy(data);
    if let Ok(hop) = received::parse(&value) {
        let _ = hop.tls.is_tls();
        let _ = hop.from_peer();
        let _ = hop.is_local();
        let _ = hop.is_local_submission();
    }
    let _ = received::parse_ip(&value);
});
