//! SMTP replies as a server might send them: read replies until an error, each must be
//! well formed (one code, at least one line) or an error, and reading always ends.
#![no_main]

use std::io::{BufReader, Cursor};

use libfuzzer_sys::fuzz_target;
use mailtls::probe::smtp;

fuzz_target!(|data: &[u8]| {
    // A small buffer, as TCP segments would split lines.
    let mut r = BufReader::with_capacity(7, Cursor::new(data));
    let mut replies = 0;
    while let Ok(reply) = smtp::read_reply(&mut r) {
        assert!((200..600).contains(&reply.code));
        assert!(!reply.lines.is_empty());
        let _ = reply.text();
        let _ = reply.ehlo_extensions();
        replies += 1;
        assert!(replies <= data.len(), "more replies than bytes");
    }
});
