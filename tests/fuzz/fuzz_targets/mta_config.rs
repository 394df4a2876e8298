//! The MTA configuration readers `config` and `doctor` use on existing files: Sendmail's
//! sendmail.cf options, Postfix main.cf (with `$name` expansion), and both rewriters.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailtls::setup::{cf, postfix};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let opts = cf::read_options(&text);
    let _ = cf::lookup(&opts, "CertFile");
    let settings = postfix::read_main_cf(&text);
    for s in settings.iter().take(16) {
        if let Some(v) = postfix::expand(&s.value, &settings, "/etc/postfix") {
            // Expansion is bounded (no "billion laughs" from nested $names).
            assert!(v.len() <= 1 << 20, "expansion of {} bytes", v.len());
        }
    }
});
