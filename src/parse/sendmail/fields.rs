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
///
/// Runs for every Sendmail line: the run of letters and digits and whether it holds a
/// digit are read from one 16-byte load ([`alnum_digit_bytes`]) instead of two range tests
/// per byte (the byte loop, kept as `split_qid_by_bytes` in the tests, cost ~200
/// instructions a line).
pub(super) fn split_qid(s: &str) -> (Option<&str>, &str) {
    let b = s.as_bytes();
    let (i, digits) = match b.get(..16).map(<[u8; 16]>::try_from) {
        Some(Ok(bytes)) => {
            let (alnum, digit) = alnum_digit_bytes(u128::from_le_bytes(bytes));
            let stop = !alnum & u128::from_le_bytes([0x80; 16]);
            if stop == 0 {
                // Sixteen letters and digits: an id is at most 20, the rest byte by byte.
                let mut i = 16;
                while i <= 20 && b.get(i).is_some_and(u8::is_ascii_alphanumeric) {
                    i += 1;
                }
                let more = b.get(16..i).unwrap_or_default();
                (i, digit != 0 || more.iter().any(u8::is_ascii_digit))
            } else {
                // The first byte that is no letter or digit, and the digits before it.
                let i = (stop.trailing_zeros() / 8) as usize;
                (i, digit & (stop - 1) != 0)
            }
        }
        _ => {
            let mut i = 0;
            while i <= 20 && b.get(i).is_some_and(u8::is_ascii_alphanumeric) {
                i += 1;
            }
            (i, b.iter().take(i).any(u8::is_ascii_digit))
        }
    };
    if !(8..=20).contains(&i) || !digits {
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
    match (b.get(end..end + 2), s.get(..end), s.get(end + 2..)) {
        (Some(b": "), Some(qid), Some(rest)) => (Some(qid), rest),
        _ => (None, s),
    }
}

/// The ASCII letters and digits among the 16 bytes of `w` (read little-endian): the high
/// bit of each such byte in the first mask, of each digit in the second.
///
/// Exact for every byte value: a byte is tested on its low seven bits `x`, where
/// `x + (0x80 - lo)` has the high bit set iff `x >= lo` and `x + (0x7F - hi)` iff
/// `x > hi` (no sum carries out of its byte: both terms are below 0x80); letters are
/// tested folded to lower case (`x | 0x20`); bytes with the high bit set are no ASCII and
/// are cleared at the end.
#[inline]
fn alnum_digit_bytes(w: u128) -> (u128, u128) {
    const fn rep(b: u8) -> u128 {
        u128::from_le_bytes([b; 16])
    }
    let x = w & rep(0x7F);
    let ascii = !w & rep(0x80);
    let digit = (x + rep(0x80 - b'0')) & !(x + rep(0x7F - b'9')) & ascii;
    let folded = x | rep(0x20);
    let letter = (folded + rep(0x80 - b'a')) & !(folded + rep(0x7F - b'z')) & ascii;
    (digit | letter, digit)
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
///
/// One walk over the line: each value is read by [`boundary`] (one `memchr3` per comma or
/// angle bracket), which also returns the [`KeyId`] of the key after it, so a key is looked
/// up once and a caller can match on its id instead of comparing strings.
pub(super) struct Fields<'a, 't> {
    /// The text from the current field's key on; `None` once the last value was returned.
    rest: Option<&'a str>,
    /// The current key's length and id when the previous boundary already found them.
    known: Option<(usize, KeyId)>,
    tail: &'t [&'t str],
}

impl<'a, 't> Fields<'a, 't> {
    pub(super) fn new(s: &'a str, tail: &'t [&'t str]) -> Self {
        Fields {
            rest: Some(s),
            known: None,
            tail,
        }
    }

    /// The next field: its key's id (`None` for a key not in [`KEYS`], the first key of a
    /// line included), its key and its value.
    pub(super) fn next_field(&mut self) -> Option<(Option<KeyId>, &'a str, &'a str)> {
        let cur = self.rest.take()?;
        let (eq, id) = match self.known.take() {
            Some((eq, id)) => (eq, Some(id)),
            None => {
                let Some(eq) = memchr::memchr(b'=', cur.as_bytes()) else {
                    return Some((None, "", cur));
                };
                (eq, key_id(cur.as_bytes(), eq))
            }
        };
        let (Some(key), Some(after)) = (cur.get(..eq), cur.get(eq + 1..)) else {
            return Some((None, "", cur));
        };
        if !self.tail.is_empty() && self.tail.contains(&key) {
            return Some((id, key, after));
        }
        match boundary(after.as_bytes()) {
            Some((at, next_eq, next_id)) => {
                self.rest = after.get(at + 2..);
                self.known = Some((next_eq, next_id));
                Some((id, key, after.get(..at).unwrap_or_default()))
            }
            None => Some((id, key, after)),
        }
    }
}

/// Calls `f` with each field of `s` in turn (its key's id, key and value), exactly the
/// fields [`Fields::next_field`] returns, in one loop.
///
/// The message lines walk their fields with this: with the walk's state in registers
/// rather than stored in a [`Fields`] and reloaded around one call per field, a `from=`
/// or `to=` line costs some 17% fewer instructions (~9 fields a line).
#[inline]
pub(super) fn each_field<'a>(
    s: &'a str,
    tail: &[&str],
    mut f: impl FnMut(Option<KeyId>, &'a str, &'a str),
) {
    let mut cur = s;
    let (mut eq, mut id) = match memchr::memchr(b'=', cur.as_bytes()) {
        Some(eq) => (eq, key_id(cur.as_bytes(), eq)),
        None => return f(None, "", cur),
    };
    loop {
        let (Some(key), Some(after)) = (cur.get(..eq), cur.get(eq + 1..)) else {
            return f(None, "", cur);
        };
        if !tail.is_empty() && tail.contains(&key) {
            return f(id, key, after);
        }
        let Some((at, next_eq, next_id)) = boundary(after.as_bytes()) else {
            return f(id, key, after);
        };
        f(id, key, after.get(..at).unwrap_or_default());
        let Some(rest) = after.get(at + 2..) else {
            return;
        };
        cur = rest;
        eq = next_eq;
        id = Some(next_id);
    }
}

impl<'a> Iterator for Fields<'a, '_> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<(&'a str, &'a str)> {
        self.next_field().map(|(_, k, v)| (k, v))
    }
}

/// The next `, KEY=` (KEY in [`KEYS`]) in the value `s`, read as [`next_boundary`] reads it,
/// in one pass: its position, the length of KEY and KEY's id.
///
/// Angle brackets are counted as the pass meets them (from the start of the value, as
/// [`next_boundary`] counts them); a comma is looked at only when a blank follows it, and
/// its key only when an `=` follows within the longest key's length.
fn boundary(s: &[u8]) -> Option<(usize, usize, KeyId)> {
    let mut open = 0usize;
    let mut from = 0;
    while let Some(at) = next_special(s, from) {
        from = at + 1;
        match s.get(at) {
            Some(b'<') => open += 1,
            Some(b'>') => open = open.saturating_sub(1),
            _ => {
                if s.get(at + 1) != Some(&b' ') {
                    continue;
                }
                let rest = s.get(at + 2..).unwrap_or_default();
                let Some((eq, id)) = key_ahead(rest) else {
                    continue;
                };
                if open == 0
                    || memchr::memchr2(b'<', b'>', rest).is_none_or(|i| rest.get(i) != Some(&b'>'))
                {
                    return Some((at, eq, id));
                }
            }
        }
    }
    None
}

/// The first `,`, `<` or `>` in `s` at or after `from`.
///
/// Eight bytes at a time (values are short: a `memchr3` call per comma or bracket cost
/// more than the search): a byte equal to one of the three is the lowest zero byte of the
/// word XORed with that byte repeated (for the brackets, of the word with bit 1 set in
/// every byte), and the classic zero-byte test flags the lowest zero byte exactly (its
/// false positives only sit above a true one).
#[inline]
fn next_special(s: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    const fn zero_bytes(v: u64) -> u64 {
        v.wrapping_sub(ONES) & !v & HIGHS
    }
    let mut i = from;
    while let Some(chunk) = s.get(i..i + 8) {
        let Ok(bytes) = <[u8; 8]>::try_from(chunk) else {
            break;
        };
        let w = u64::from_le_bytes(bytes);
        // `<` and `>` are the two bytes with `c | 2 == b'>'`: one test finds both.
        let hits = zero_bytes(w ^ (ONES * u64::from(b',')))
            | zero_bytes((w | (ONES * 2)) ^ (ONES * u64::from(b'>')));
        if hits != 0 {
            return Some(i + (hits.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    s.get(i..)?
        .iter()
        .position(|&c| matches!(c, b',' | b'<' | b'>'))
        .map(|p| i + p)
}

/// The key at the start of `rest` when an `=` follows it within [`KEY_MAX`] bytes and
/// it is one of [`KEYS`]: its length and id. The `=` is looked for in one 16-byte load
/// (two words, as [`next_special`] looks) when `rest` is that long.
#[inline]
fn key_ahead(rest: &[u8]) -> Option<(usize, KeyId)> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    const EQS: u64 = ONES * b'=' as u64;
    let eq = match rest.get(..16).map(<[u8; 16]>::try_from) {
        Some(Ok(bytes)) => {
            let w = u128::from_le_bytes(bytes);
            let (lo, hi) = (w as u64 ^ EQS, (w >> 64) as u64 ^ EQS);
            let (zlo, zhi) = (
                lo.wrapping_sub(ONES) & !lo & HIGHS,
                hi.wrapping_sub(ONES) & !hi & HIGHS,
            );
            if zlo != 0 {
                (zlo.trailing_zeros() / 8) as usize
            } else if zhi != 0 {
                8 + (zhi.trailing_zeros() / 8) as usize
            } else {
                return None;
            }
        }
        _ => rest.iter().take(KEY_MAX + 1).position(|&c| c == b'=')?,
    };
    Some((eq, key_id(rest, eq)?))
}

/// A key's position in [`KEYS`].
pub(super) type KeyId = u8;

/// The id of `name`, which must be in [`KEYS`] (checked when the constant using it is
/// built: a name not in the list yields an id past its end, which a test rejects).
// Only called to build constants: an index out of range would fail the build, not a run.
#[allow(clippy::indexing_slicing)]
pub(super) const fn id_of(name: &str) -> KeyId {
    let n = name.as_bytes();
    let mut i = 0;
    while i < KEYS.len() {
        let k = KEYS[i].as_bytes();
        if k.len() == n.len() {
            let mut j = 0;
            while j < k.len() && k[j] == n[j] {
                j += 1;
            }
            if j == k.len() {
                return i as KeyId;
            }
        }
        i += 1;
    }
    KEYS.len() as KeyId
}

/// Slots of the open-addressing table of [`KEYS`] (a power of two, several times the
/// number of keys so that a probe nearly always ends at its first slot).
const SLOTS: usize = 256;

/// Marks an empty slot of [`KEY_SLOTS`].
const EMPTY: KeyId = KeyId::MAX;

/// [`KEYS`] by the hash of their [`key_code`]: each slot holds a key's id or [`EMPTY`];
/// the id's code is in [`KEY_CODES_BY_ID`]. Both built when compiling, some 1 KiB in all
/// (a table of codes per slot was 8 KiB, and its loads missed the cache).
// Evaluated at compile time: an index out of range would fail the build, not a run.
#[allow(clippy::indexing_slicing)]
static KEY_SLOTS: [KeyId; SLOTS] = {
    let mut table = [EMPTY; SLOTS];
    let mut i = 0;
    while i < KEYS.len() {
        let mut slot = key_slot(key_code_const(KEYS[i].as_bytes()));
        while table[slot] != EMPTY {
            slot = (slot + 1) % SLOTS;
        }
        table[slot] = i as KeyId;
        i += 1;
    }
    table
};

/// The [`key_code`] of each key, by id.
// Evaluated at compile time: an index out of range would fail the build, not a run.
#[allow(clippy::indexing_slicing)]
static KEY_CODES_BY_ID: [u128; KEYS.len()] = {
    let mut codes = [0u128; KEYS.len()];
    let mut i = 0;
    while i < KEYS.len() {
        codes[i] = key_code_const(KEYS[i].as_bytes());
        i += 1;
    }
    codes
};

const _: () = assert!(KEYS.len() < SLOTS / 2 && KEYS.len() < EMPTY as usize);

/// Where the probe for `code` starts in [`KEY_SLOTS`].
const fn key_slot(code: u128) -> usize {
    let folded = (code as u64) ^ ((code >> 64) as u64).rotate_left(29);
    (folded.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as usize % SLOTS
}

/// [`key_code`] for the table built when compiling.
// Evaluated at compile time only.
#[allow(clippy::indexing_slicing)]
const fn key_code_const(b: &[u8]) -> u128 {
    let mut code = 0u128;
    let mut i = 0;
    while i < b.len() && i < 15 {
        code |= (b[i] as u128) << (8 * i);
        i += 1;
    }
    code | (b.len() as u128) << 120
}

/// The low `len` bytes of a [`key_code`] set, by `len`: one load instead of shifting a
/// `u128` by a variable amount (a dozen instructions, per key).
// Evaluated at compile time: an index out of range would fail the build, not a run.
#[allow(clippy::indexing_slicing)]
static KEY_MASKS: [u128; KEY_MAX + 1] = {
    let mut masks = [0u128; KEY_MAX + 1];
    let mut len = 1;
    while len <= KEY_MAX {
        masks[len] = (1u128 << (8 * len)) - 1;
        len += 1;
    }
    masks
};

/// The id of the key `s[..len]` when it is one of [`KEYS`].
///
/// The key's [`key_code`] is one 16-byte load masked to `len` bytes when `s` has 16 bytes
/// (nearly always: a key is followed by its value), so no copy of a variable length (a
/// `memcpy` call) is made per key.
#[inline]
fn key_id(s: &[u8], len: usize) -> Option<KeyId> {
    if len == 0 || len > KEY_MAX {
        return None;
    }
    let code = match (s.get(..16).map(<[u8; 16]>::try_from), KEY_MASKS.get(len)) {
        (Some(Ok(bytes)), Some(mask)) => (u128::from_le_bytes(bytes) & mask) | (len as u128) << 120,
        _ => key_code(s.get(..len)?),
    };
    let mut slot = key_slot(code);
    loop {
        let id = KEY_SLOTS.get(slot).copied()?;
        if id == EMPTY {
            return None;
        }
        if KEY_CODES_BY_ID.get(usize::from(id)) == Some(&code) {
            return Some(id);
        }
        slot = (slot + 1) % SLOTS;
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

    /// The walk [`Fields`] replaced (each value cut by [`next_boundary`], each key found by
    /// its own `memchr` and compared as a string), kept as its specification.
    struct FieldsByBoundary<'a, 't> {
        rest: Option<&'a str>,
        tail: &'t [&'t str],
    }

    impl<'a> Iterator for FieldsByBoundary<'a, '_> {
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

    /// The tails the parsers pass, and none.
    const TAILS: &[&[&str]] = &[&[], &["stat"], &["reject", "status", "quarantine"]];

    /// `s` walked by [`Fields`] and by [`FieldsByBoundary`] with every tail: the same
    /// pairs, and each id names its key; and [`each_field`] calls back with exactly the
    /// fields (ids included) [`Fields`] returns.
    fn walks_agree(s: &str) -> Result<(), String> {
        for tail in TAILS {
            let old: Vec<_> = FieldsByBoundary {
                rest: Some(s),
                tail,
            }
            .collect();
            let mut new = Vec::new();
            let mut with_ids = Vec::new();
            let mut fields = Fields::new(s, tail);
            while let Some((id, k, v)) = fields.next_field() {
                let named = KEYS.iter().position(|key| *key == k).map(|i| i as KeyId);
                if id != named {
                    return Err(format!("{s:?}: key {k:?} has id {id:?}, not {named:?}"));
                }
                new.push((k, v));
                with_ids.push((id, k, v));
            }
            if new != old {
                return Err(format!("{s:?} with tail {tail:?}: {new:?} != {old:?}"));
            }
            let mut called = Vec::new();
            each_field(s, tail, |id, k, v| called.push((id, k, v)));
            if called != with_ids {
                return Err(format!(
                    "{s:?} with tail {tail:?}: each_field {called:?} != {with_ids:?}"
                ));
            }
        }
        Ok(())
    }

    /// The byte-by-byte reading [`split_qid`] replaced, kept as its specification.
    fn split_qid_by_bytes(s: &str) -> (Option<&str>, &str) {
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

    /// Every Sendmail message of the fixtures and samples, and every cut of its first 40
    /// characters from the front and the back: the queue id the byte loop reads.
    #[test]
    fn split_qid_reads_every_known_line_as_the_byte_loop() {
        for msg in sendmail_messages() {
            for (i, _) in msg.char_indices().chain([(msg.len(), ' ')]).take(41) {
                for s in [&msg[..i], &msg[i..]] {
                    assert_eq!(split_qid(s), split_qid_by_bytes(s), "{s:?}");
                }
            }
        }
    }

    proptest! {
        /// Ids of every length around the limits, with digits or not, piece numbers, the
        /// neighbours of the letter and digit ranges and non-ASCII bytes.
        #[test]
        fn split_qid_agrees_with_the_byte_loop(
            parts in prop::collection::vec(prop::sample::select(&[
                "a", "Z", "0", "9", "l65DnTLe", "028546", "@", "[", "`", "{", "/", ":", " ",
                ": ", "[1]", "[12345]", "[123456]", "[]", "]", "é", "\u{80}", "\u{ff}", "x",
            ][..]), 0..16),
        ) {
            let s: String = parts.concat();
            prop_assert_eq!(split_qid(&s), split_qid_by_bytes(&s), "{:?}", s);
        }
    }

    /// The message texts of every Sendmail line in `tests/fixtures/` and `sample-logs/`.
    fn sendmail_messages() -> Vec<String> {
        fn walk(dir: &std::path::Path, out: &mut Vec<String>) {
            let mut entries: Vec<_> = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            entries.sort();
            for path in entries {
                if path.is_dir() {
                    walk(&path, out);
                    continue;
                }
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                for line in text.lines() {
                    let env = crate::parse::envelope::parse(line);
                    if crate::parse::mta_for_program(env.program)
                        == Some(crate::model::Mta::Sendmail)
                    {
                        out.push(env.message.to_owned());
                    }
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut out = Vec::new();
        walk(&root.join("tests/fixtures"), &mut out);
        walk(&root.join("sample-logs"), &mut out);
        out
    }

    /// The one-pass walk reads every Sendmail line of the fixtures and samples as the walk
    /// by boundaries did: the line's fields (after its queue id), every cut of them from
    /// the front and from the back, and the whole message text.
    #[test]
    fn one_pass_walk_keeps_every_field_of_every_known_line() {
        let messages = sendmail_messages();
        assert!(messages.len() > 300, "only {} lines", messages.len());
        let mut message_lines = 0;
        for msg in &messages {
            let (_, body) = split_qid(strip_piece(strip_solaris_tag(msg.trim_end())).1);
            message_lines += usize::from(body.starts_with("from=") || body.starts_with("to="));
            for s in [msg.as_str(), body] {
                for (i, _) in s.char_indices().chain([(s.len(), ' ')]) {
                    walks_agree(&s[..i]).unwrap();
                    walks_agree(&s[i..]).unwrap();
                }
            }
        }
        assert!(message_lines > 50, "only {message_lines} from=/to= lines");
    }

    proptest! {
        /// Near-misses of real fields: keys one letter off, brackets that close or not,
        /// commas with and without a blank, `=` further than a key's length.
        #[test]
        fn one_pass_walk_agrees_on_near_misses(
            parts in prop::collection::vec(prop::sample::select(&[
                "from=", "to=", "<a@b>", "<", ">", ", ", ",", "=", " ", "relay=", "stat=",
                "Stat=", "stat", "msgid=<x, size=1@y>", "nrcpts=", "nrcptsx=", "tls_version=",
                "tls_verifyx_long_key=", "size=12", "(ok 12, queued as x)", "reject=",
                "status=", "quarantine=", "x", "[1.2.3.4]", "é",
            ][..]), 0..24),
        ) {
            let s: String = parts.concat();
            prop_assert_eq!(walks_agree(&s), Ok(()));
        }
    }

    proptest! {
        /// The eight-bytes-at-a-time search finds what a search byte by byte finds, from
        /// any start, with multi-byte characters and the three bytes' neighbours around.
        #[test]
        fn next_special_agrees_with_a_search_byte_by_byte(
            parts in prop::collection::vec(prop::sample::select(&[
                ",", "<", ">", "=", ".", "-", "+", "a", "é", "\u{2c00}", "\u{3c3c}", " ", "\u{80}",
            ][..]), 0..40),
            from in 0usize..48,
        ) {
            let s: String = parts.concat();
            let b = s.as_bytes();
            let want = b
                .get(from..)
                .and_then(|t| t.iter().position(|&c| matches!(c, b',' | b'<' | b'>')))
                .map(|p| from + p);
            prop_assert_eq!(next_special(b, from), want);
        }
    }

    proptest! {
        /// The key after a comma is the one the walk by boundaries read: the first `=`
        /// within the longest key's length, and a key of the list before it.
        #[test]
        fn key_ahead_is_the_key_before_the_first_equals(
            parts in prop::collection::vec(prop::sample::select(&[
                "relay", "to", "stat", "=", "x", "tls_verify", "é", " ", "<",
            ][..]), 0..8),
        ) {
            let s: String = parts.concat();
            let b = s.as_bytes();
            let want = b
                .iter()
                .take(KEY_MAX + 1)
                .position(|&c| c == b'=')
                .filter(|&eq| is_key(&b[..eq]))
                .map(|eq| (eq, KEYS.iter().position(|k| k.as_bytes() == &b[..eq]).unwrap() as KeyId));
            prop_assert_eq!(key_ahead(b), want);
        }
    }

    #[test]
    fn ids_of_the_keys_read_are_in_the_list() {
        for k in [
            "relay",
            "nrcpts",
            "proto",
            "mailer",
            "dsn",
            "stat",
            "tls_version",
            "tls_verify",
            "cipher",
        ] {
            assert_eq!(KEYS.get(usize::from(id_of(k))), Some(&k));
        }
        assert_eq!(usize::from(id_of("nope")), KEYS.len());
        for (i, k) in KEYS.iter().enumerate() {
            assert_eq!(key_id(k.as_bytes(), k.len()), Some(i as KeyId), "{k}");
            let long = format!("{k}=<long value follows>");
            assert_eq!(key_id(long.as_bytes(), k.len()), Some(i as KeyId), "{k}");
        }
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
