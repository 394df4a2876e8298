//! The `<PRI>` prefix and RFC 5424 headers.

use super::Envelope;
use super::bytes::{at_boundary, full, pid_number, token_end};
use super::iso::iso_stamp;
use super::rfc3164::host_name;
use crate::model::Stamp;

/// A leading `<N>` (1–3 digits, ≤ 191 per RFC 5424 §6.2.1) → index after `>`.
pub(super) fn pri(b: &[u8]) -> Option<usize> {
    if b.first() != Some(&b'<') {
        return None;
    }
    let close = b.iter().take(5).position(|&c| c == b'>')?;
    let digits = b.get(1..close)?;
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v = digits
        .iter()
        .fold(0u32, |v, &c| v * 10 + u32::from(c - b'0'));
    (v <= 191).then_some(close + 1)
}

/// RFC 5424 §6: `VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP
/// STRUCTURED-DATA [SP MSG]`, every header field `-` when nil. `i` is just after the PRI.
/// Returns `None` unless the version and timestamp are there, so `<13>Dec  4 …` falls
/// through to RFC 3164. A line truncated inside the header keeps what was read.
pub(super) fn rfc5424(line: &str, i: usize) -> Option<Envelope<'_>> {
    let b = line.as_bytes();
    // VERSION is 1–2 digits; only 1 exists.
    if b.get(i) != Some(&b'1') || b.get(i + 1) != Some(&b' ') {
        return None;
    }
    let t = i + 2;
    let (stamp, mut p) = if b.get(t) == Some(&b'-') && at_boundary(b, t + 1) {
        (Stamp::None, t + 1)
    } else {
        let iso = iso_stamp(b.get(t..)?)?;
        if iso.sep == b' ' {
            return None;
        }
        let stamp = match iso.offset {
            Some(off) => full(iso.naive, off),
            None => Stamp::Local(iso.naive),
        };
        (stamp, t + iso.end)
    };
    let mut env = Envelope::all_message(stamp, "");
    // HOSTNAME, APP-NAME, PROCID, MSGID.
    let mut fields: [Option<&str>; 4] = [None; 4];
    for f in &mut fields {
        if p >= b.len() {
            break;
        }
        p += 1; // the SP
        let end = token_end(b, p);
        let tok = &line[p..end];
        *f = (tok != "-" && !tok.is_empty()).then_some(tok);
        p = end;
    }
    env.host = fields[0].and_then(host_name);
    env.program = fields[1];
    env.pid = fields[2].and_then(pid_number);
    if p >= b.len() {
        return Some(env);
    }
    p += 1;
    // STRUCTURED-DATA: `-` or one or more `[id k="v" …]`; in values `\"`, `\\`, `\]` are
    // escaped, so `]` only closes outside quotes.
    if b.get(p) == Some(&b'-') {
        p += 1;
    } else {
        let sd_start = p;
        while b.get(p) == Some(&b'[') {
            let mut q = p + 1;
            let mut quoted = false;
            loop {
                match b.get(q) {
                    None => {
                        // Unterminated: keep the rest as message rather than drop it.
                        env.message = &line[sd_start..];
                        return Some(env);
                    }
                    Some(b'\\') if quoted => q += 2,
                    Some(b'"') => {
                        quoted = !quoted;
                        q += 1;
                    }
                    Some(b']') if !quoted => break,
                    Some(_) => q += 1,
                }
            }
            p = q + 1;
        }
    }
    let msg = line.get(p..).unwrap_or("");
    let msg = msg.strip_prefix(' ').unwrap_or(msg);
    env.message = msg.strip_prefix('\u{feff}').unwrap_or(msg);
    Some(env)
}
