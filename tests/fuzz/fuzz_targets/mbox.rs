//! The mbox splitter (with a tiny buffer so separators straddle refills), then each
//! message's header block through the header and Received readers.
#![no_main]

use std::io::Cursor;
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use mailtls::stores::hops;
use mailtls::stores::messages::{self, MboxReader};
use mailtls::parse::headers;

fuzz_target!(|data: &[u8]| {
    let Some((&size, body)) = data.split_first() else {
        return;
    };
    let _ = messages::detect_bytes(body);
    let mut reader =
        MboxReader::with_buffer(Cursor::new(body), Arc::from("fuzz"), 16 + usize::from(size));
    let mut n = 0;
    while let Ok(Some(msg)) = reader.next_message() {
        let _ = headers::fields(&msg.header);
        let _ = headers::received(&msg.header);
        let _ = hops::read_message(&msg);
        n += 1;
        assert!(n <= body.len() + 1, "more messages than bytes");
    }
    let _ = headers::block_end(body);
    let _ = messages::read_header(Cursor::new(body));
});
