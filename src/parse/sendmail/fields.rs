//! Taking a sendmail message text apart: the split-line and queue-id prefixes in front,
//! and the `key=value, …` fields after them.

use std::sync::LazyLock;

/// Every `key=` sendmail writes on the lines we read. A value ends at the next
/// `, key=` with a key from this list, so commas inside values (`stat=Sent (ok 1234,
/// queued as …)`, `reason=` texts, quoted addresses) never split a field, and the order of
/// the fields does not matter.
const KEYS: &[&str] = &[
    // STARTTLS summary and relay-keyed STARTTLS lines
    "relay",
    "version",
    "verify",
    "cipher",
    "bits",
    "pubkey_fp",
    "status",
    "note",
    // from= line
    "from",
    "size",
    "class",
    "nrcpts",
    "msgid",
    "bodytype",
    "proto",
    "daemon",
    "auth",
    // to= line
    "to",
    "ctladdr",
    "delay",
    "xdelay",
    "mailer",
    "pri",
    "dsn",
    "stat",
    "reply",
    "quarantine",
    "ntries",
    "stage",
    // _FFR_LOG_MORE1/2 extras on from=/to= lines
    "tls_verify",
    "tls_version",
    // ruleset= lines
    "ruleset",
    "arg1",
    "arg2",
    "reject",
    // accept/connect failed
    "reason",
    "SSL_error",
    "errno",
    "retry",
    "timedout",
    // tls_*_features lines
    "opt",
    "errors",
    "error",
];

/// Strips a Solaris `[ID 702911 mail.notice] ` tag, normally removed with the envelope,
/// in case the message reached us with it (pasted lines).
pub(super) fn strip_solaris_tag(s: &str) -> &str {
    if let Some(t) = s.strip_prefix("[ID ")
        && let Some(close) = t.find("] ")
        && close <= 40
        && let Some(rest) = t.get(close + 2..)
    {
        return rest;
    }
    s
}

/// Strips the `[N]: ` prefix of a piece of a split line (NOQID form). Returns whether one
/// was there.
pub(super) fn strip_piece(s: &str) -> (bool, &str) {
    if let Some(inner) = s.strip_prefix('[')
        && let Some(close) = inner.find("]: ")
        && close > 0
        && close <= 4
        && inner
            .get(..close)
            .is_some_and(|d| d.bytes().all(|c| c.is_ascii_digit()))
        && let Some(rest) = inner.get(close + 3..)
    {
        return (true, rest);
    }
    (false, s)
}

/// Splits an optional queue id (`l65DnTLe028546: `, `JAA12345[2]: `) off the front.
///
/// A queue id is 8 to 20 ASCII letters and digits with at least one digit, optionally
/// followed by a split-line piece number `[N]`, then `: `. `STARTTLS` (8 letters, as in
/// `STARTTLS: read error`) is excluded by the digit rule.
pub(super) fn split_qid(s: &str) -> (Option<&str>, &str) {
    let b = s.as_bytes();
    let mut i = 0;
    while i <= 20 && b.get(i).is_some_and(u8::is_ascii_alphanumeric) {
        i += 1;
    }
    if !(8..=20).contains(&i) || !b.iter().take(i).any(u8::is_ascii_digit) {
        return (None, s);
    }
    let mut end = i;
    if b.get(i) == Some(&b'[') {
        let mut j = i + 1;
        while j <= i + 5 && b.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        if j > i + 1 && b.get(j) == Some(&b']') {
            end = j + 1;
        } else {
            return (None, s);
        }
    }
    if b.get(end) == Some(&b':') && b.get(end + 1) == Some(&b' ') {
        (Some(&s[..end]), &s[end + 2..])
    } else {
        (None, s)
    }
}

/// Splits `key=value, key=value, …` into pairs. A value runs to the next `, KEY=` where
/// KEY is one of [`KEYS`]; a key listed in `tail` takes the rest of the line (sendmail
/// writes `stat=`, `reject=` last and their texts contain anything).
pub(super) fn split_fields<'a>(s: &'a str, tail: &[&str]) -> Vec<(&'a str, &'a str)> {
    Fields::new(s, tail).collect()
}

/// The pairs of [`split_fields`] one at a time, for the message lines (one `from=` or
/// `to=` per message and recipient), which take what they need in one pass instead of
/// collecting a vector and looking keys up in it.
pub(super) struct Fields<'a, 't> {
    rest: Option<&'a str>,
    tail: &'t [&'t str],
}

impl<'a, 't> Fields<'a, 't> {
    pub(super) fn new(s: &'a str, tail: &'t [&'t str]) -> Self {
        Fields {
            rest: Some(s),
            tail,
        }
    }
}

impl<'a> Iterator for Fields<'a, '_> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<(&'a str, &'a str)> {
        let cur = self.rest.take()?;
        let Some(eq) = memchr::memchr(b'=', cur.as_bytes()) else {
            return Some(("", cur));
        };
        let key = &cur[..eq];
        let after = &cur[eq + 1..];
        if self.tail.contains(&key) {
            return Some((key, after));
        }
        match next_boundary(after) {
            Some(i) => {
                self.rest = Some(&after[i + 2..]);
                Some((key, &after[..i]))
            }
            None => Some((key, after)),
        }
    }
}

/// Position of the next `, KEY=` (KEY in [`KEYS`]) in `s`.
///
/// A candidate inside angle brackets (`msgid=<a, size=1@x>`) is skipped when the bracket
/// closes after it; an address cut by `%.200s` that never closes its `<` does not swallow
/// the rest of the line.
fn next_boundary(s: &str) -> Option<usize> {
    // Runs for every field of every message line: one memchr per comma, the key looked up
    // only when `=` follows within the longest key's length, and the bracket check only
    // inside an open `<`.
    let b = s.as_bytes();
    let mut from = 0;
    let mut open = 0usize;
    let mut scanned = 0;
    while let Some(off) = memchr::memchr(b',', b.get(from..).unwrap_or_default()) {
        let at = from + off;
        if b.get(at + 1) != Some(&b' ') {
            from = at + 1;
            continue;
        }
        let seg = b.get(scanned..at).unwrap_or_default();
        // `<` and `>` are the two bytes with `c | 2 == b'>'`: a branch-free pass finds
        // whether the segment has either (most values have none) before counting.
        if seg.iter().fold(false, |any, &c| any | (c | 2 == b'>')) {
            for &c in seg {
                match c {
                    b'<' => open += 1,
                    b'>' => open = open.saturating_sub(1),
                    _ => {}
                }
            }
        }
        scanned = at;
        let rest = b.get(at + 2..).unwrap_or_default();
        let eq = rest.iter().take(KEY_MAX + 1).position(|&c| c == b'=');
        if let Some(eq) = eq
            && is_key(rest.get(..eq).unwrap_or_default())
        {
            let closes_later =
                || memchr::memchr2(b'<', b'>', rest).is_some_and(|i| rest.get(i) == Some(&b'>'));
            if open == 0 || !closes_later() {
                return Some(at);
            }
        }
        from = at + 2;
    }
    None
}

/// A key candidate (at most [`KEY_MAX`] bytes) as one integer: its bytes and its length,
/// so that the lookup in [`KEYS`] compares integers instead of calling `memcmp` per key.
fn key_code(b: &[u8]) -> u128 {
    // Bytes in order from the lowest, the length in the top byte: one copy and one load.
    let mut buf = [0u8; 16];
    let n = b.len().min(15);
    if let (Some(to), Some(from)) = (buf.get_mut(..n), b.get(..n)) {
        to.copy_from_slice(from);
    }
    u128::from_le_bytes(buf) | (b.len() as u128) << 120
}

const _: () = assert!(KEY_MAX < 15, "key_code packs keys of at most 15 bytes");

/// [`KEYS`] as [`key_code`]s, sorted (looked up by binary search).
static KEY_CODES: LazyLock<Vec<u128>> = LazyLock::new(|| {
    let mut codes: Vec<u128> = KEYS.iter().map(|k| key_code(k.as_bytes())).collect();
    codes.sort_unstable();
    codes
});

/// True when `k` is one of [`KEYS`].
fn is_key(k: &[u8]) -> bool {
    k.len() <= KEY_MAX && KEY_CODES.binary_search(&key_code(k)).is_ok()
}

/// Length of the longest key in [`KEYS`]: an `=` further away cannot end one.
// Evaluated at compile time: an index out of range would fail the build, not a run.
#[allow(clippy::indexing_slicing)]
const KEY_MAX: usize = {
    let mut max = 0;
    let mut i = 0;
    while i < KEYS.len() {
        if KEYS[i].len() > max {
            max = KEYS[i].len();
        }
        i += 1;
    }
    max
};

/// Position of the next `, word=` in `s`, whatever the word: the relay value on
/// `STARTTLS=%s, relay=…` lines is followed by many different keys (`version=`,
/// `field=`, `warning=`, `AltName=`, …) and never contains `, ` itself.
pub(super) fn next_any_key(s: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(off) = s
        .get(from..)
        .and_then(|t| crate::parse::find(t, crate::parse::needle!(", ")))
    {
        let at = from + off;
        let rest = &s[at + 2..];
        let word = rest
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count();
        if word > 0 && rest.as_bytes().get(word) == Some(&b'=') {
            return Some(at);
        }
        from = at + 2;
    }
    None
}

/// The value of one `key=` field anywhere in a line (not for tail keys).
pub(super) fn field<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    let mut from = 0;
    while let Some(off) = s.get(from..).and_then(|t| t.find(key)) {
        let at = from + off;
        let starts_field = at == 0 || s[..at].ends_with(", ") || s[..at].ends_with(' ');
        let after = &s[at + key.len()..];
        if starts_field && let Some(v) = after.strip_prefix('=') {
            let end = next_boundary(v).unwrap_or(v.len());
            return Some(&v[..end]);
        }
        from = at + key.len();
    }
    None
}

pub(super) fn lookup<'a>(fields: &[(&'a str, &'a str)], key: &str) -> Option<&'a str> {
    fields.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The straightforward reading of [`next_boundary`] (bytes one by one, keys looked up
    /// in the list as strings), kept as its specification.
    fn boundary_by_bytes(s: &str) -> Option<usize> {
        let b = s.as_bytes();
        let mut open = 0usize;
        for at in 0..b.len() {
            match b[at] {
                b'<' => open += 1,
                b'>' => open = open.saturating_sub(1),
                b',' if b.get(at + 1) == Some(&b' ') => {
                    let rest = &b[at + 2..];
                    let Some(eq) = rest.iter().take(KEY_MAX + 1).position(|&c| c == b'=') else {
                        continue;
                    };
                    if !KEYS.iter().any(|k| k.as_bytes() == &rest[..eq]) {
                        continue;
                    }
                    let closes_later =
                        memchr::memchr2(b'<', b'>', rest).is_some_and(|i| rest[i] == b'>');
                    if open == 0 || !closes_later {
                        return Some(at);
                    }
                }
                _ => {}
            }
        }
        None
    }

    #[test]
    fn every_key_is_a_key_and_near_misses_are_not() {
        for k in KEYS {
            assert!(is_key(k.as_bytes()), "{k}");
            let longer = format!("{k}x");
            assert_eq!(
                is_key(longer.as_bytes()),
                KEYS.contains(&longer.as_str()),
                "{longer}"
            );
            assert!(
                !is_key(&k.as_bytes()[1..]) || KEYS.contains(&&k[1..]),
                "{k}"
            );
        }
        assert!(!is_key(b""));
        assert!(!is_key(b"Relay"));
        assert!(!is_key(b"tls_verifyx_long_key"));
    }

    proptest! {
        /// Values with commas, brackets and keys anywhere: the boundary is the one the
        /// byte-by-byte reading finds.
        #[test]
        fn next_boundary_agrees_with_reading_byte_by_byte(
            parts in prop::collection::vec(prop::sample::select(&[
                "a", "<", ">", ", ", ",", "=", "relay=", "to=", "stat=", "msgid=", "size=",
                "Relay=", "x y", "<a@b>", "toolongkeyname=", "(ok 12, queued as x)",
            ][..]), 0..24),
        ) {
            let s: String = parts.concat();
            prop_assert_eq!(next_boundary(&s), boundary_by_bytes(&s), "{}", s);
        }
    }
}
