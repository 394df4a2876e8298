//! Postfix's message texts, for each daemon name (the program picks the parser branch):
//! the first byte chooses the program, the rest is the message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailtls::parse::postfix;

const PROGRAMS: [&str; 8] = [
    "postfix/smtpd",
    "postfix/smtp",
    "postfix/qmgr",
    "postfix/cleanup",
    "postfix/submission/smtpd",
    "postfix/lmtp",
    "postfix/tlsproxy",
    "postfix/postscreen",
];

fuzz_target!(|data: &[u8]| {
    let Some((&which, msg)) = data.split_first() else {
        return;
    };
    let msg = String::from_utf8_lossy(msg);
    let program = PROGRAMS
        .get(usize::from(which) % (PROGRAMS.len() + 1))
        .copied();
    let _ = postfix::parse_program(program, &msg);
    let _ = postfix::parse(&msg);
});
