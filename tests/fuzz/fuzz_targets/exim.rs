//! Exim mainlog message texts (`<=`, `=>`, `X=` cipher strings, TLS errors).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailtls::parse::exim;

fuzz_target!(|data: &[u8]| {
    let msg = String::from_utf8_lossy(data);
    let _ = exim::parse(&msg);
    let _ = exim::cipher_string(&msg);
    let _ = exim::status_tls_error(&msg);
});
