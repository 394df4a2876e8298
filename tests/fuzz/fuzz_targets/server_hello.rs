//! The server's first TLS records (ServerHello, Certificate, alerts) fed in arbitrary
//! pieces: the first byte picks the piece size, the second whether a certificate is wanted.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailtls::probe::hello::{self, AnswerReader};

fuzz_target!(|data: &[u8]| {
    let [step, want, rest @ ..] = data else {
        return;
    };
    let piece = usize::from(*step).max(1);
    let mut reader = AnswerReader::new(want & 1 == 1);
    let mut answered = false;
    for chunk in rest.chunks(piece) {
        if reader.feed(chunk).is_some() {
            answered = true;
            break;
        }
    }
    if !answered {
        let _ = reader.at_eof();
    }
    let _ = hello::alert_name(*want);
    let _ = hello::from_wire(u16::from_be_bytes([*step as u8, *want]));
});
