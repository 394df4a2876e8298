//! RFC 5322 header blocks: where the block ends, which lines start a field, and unfolding.
//!
//! Stored messages are not clean: mailboxes mix CRLF and LF, peers send 8-bit bytes in
//! header values, and broken software writes continuation lines without the leading
//! whitespace. The block is therefore read as bytes, each field value is decoded lossily
//! (the TLS facts we need are ASCII), and a line that neither starts a field nor is a
//! proper continuation is glued to the previous field instead of being dropped, so a
//! `Received:` clause split by a broken folder still reaches the parser whole.

use memchr::memchr;

/// One header field of a message, unfolded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderField {
    /// The field name as written (case kept; compare with `eq_ignore_ascii_case`).
    pub name: String,
    /// The unfolded value: line breaks before continuation whitespace removed (RFC 5322
    /// §2.2.3), the whitespace itself kept, leading and trailing blanks trimmed. A
    /// continuation line that lacked its leading whitespace is joined with one space.
    pub value: String,
    /// 0-based index of the field's first line within the header block, so callers can
    /// name the exact line of a file.
    pub line: u64,
    /// Byte offset of the field's first line within the header block.
    pub offset: usize,
}

/// The length of the header block at the start of `buf`: up to and including the empty
/// line that ends it (`\n\n`, `\r\n\r\n` or a mix). `None` when `buf` holds no empty line,
/// i.e. the whole buffer is header (a message without body) or the block is incomplete.
pub fn block_end(buf: &[u8]) -> Option<usize> {
    let mut start = 0;
    while start < buf.len() {
        let rest = buf.get(start..)?;
        let nl = memchr(b'\n', rest)?;
        let line = rest.get(..nl)?;
        if line.is_empty() || line == b"\r" {
            return Some(start + nl + 1);
        }
        start += nl + 1;
    }
    None
}

/// True when `line` starts a header field: a name of printable ASCII without `:` or
/// blanks, beginning with a letter, then optional blanks (RFC 5322 obs-syntax) and `:`.
pub fn is_field_start(line: &[u8]) -> bool {
    field_name_colon(line).is_some()
}

/// The length of the field name at the start of `line` and the index of its `:` (the
/// first of the line), when it starts a field: the walk searched the line for the `:`
/// again after this found it.
fn field_name_colon(line: &[u8]) -> Option<(usize, usize)> {
    let first = *line.first()?;
    if !first.is_ascii_alphabetic() {
        return None;
    }
    let mut i = 0;
    while let Some(&b) = line.get(i) {
        if b == b':' {
            return (i > 0).then_some((i, i));
        }
        if !(33..=126).contains(&b) {
            break;
        }
        i += 1;
        if i > 200 {
            return None;
        }
    }
    let name_len = i;
    while let Some(&b) = line.get(i) {
        match b {
            b' ' | b'\t' => i += 1,
            b':' => return (name_len > 0).then_some((name_len, i)),
            _ => return None,
        }
    }
    None
}

/// Splits `block` into lines without their `\n` / `\r\n`, with each line's byte offset.
fn lines(block: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= block.len() {
            return None;
        }
        let rest = block.get(pos..)?;
        let (line, adv) = match memchr(b'\n', rest) {
            Some(n) => (rest.get(..n)?, n + 1),
            None => (rest, rest.len()),
        };
        let start = pos;
        pos += adv;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        Some((start, line))
    })
}

/// Reads every field of a header block (everything up to the first empty line; the
/// caller may pass the block with or without that line, or a whole message).
///
/// Lines before the first field that are not fields (an mbox `From ` line left in,
/// garbage) are skipped; later non-field lines are treated as broken continuations.
pub fn fields(block: &[u8]) -> Vec<HeaderField> {
    collect(block, None).0
}

/// The fields called `name` (case ignored) in order, and how many fields the block has
/// in all. Only the wanted values are unfolded and decoded: a mail store's scan reads
/// every header block for its `Received:` fields alone.
pub fn fields_named(block: &[u8], name: &str) -> (Vec<HeaderField>, usize) {
    collect(block, Some(name))
}

/// The fields called `name` (case ignored) handed to `f` one by one, unfolded into a
/// buffer reused from field to field, with the 0-based index of each field's first line;
/// returns how many fields the block has in all. What [`fields_named`] gives without a
/// copy of each value: a store scan calls it for every message.
pub fn each_named(block: &[u8], name: &str, mut f: impl FnMut(u64, &str)) -> usize {
    walk(block, Some(name), true, |field| f(field.line, field.value))
}

/// [`each_named`] for a caller that only asks whether the block has any field at all
/// (true when it has): once one is seen, a line that cannot start a field called `name`
/// (its first byte is another letter) is not read for a field name while no wanted field
/// is open, which is what the count cost.
///
/// Why: the store scan unfolds the `Received:` fields of every header block, and reading
/// the name of each of its ~40 lines was a good part of that walk (issue 21);
/// `each_named_any_is_each_named` holds the two to the same fields.
pub fn each_named_any(block: &[u8], name: &str, mut f: impl FnMut(u64, &str)) -> bool {
    walk(block, Some(name), false, |field| f(field.line, field.value)) > 0
}

/// One field as [`walk`] hands it over: borrowed from the block and the unfolding buffer.
struct Field<'a> {
    raw_name: &'a [u8],
    value: &'a str,
    line: u64,
    offset: usize,
}

/// [`fields`] and [`fields_named`]: every field, or those called `want`.
fn collect(block: &[u8], want: Option<&str>) -> (Vec<HeaderField>, usize) {
    let mut out = Vec::new();
    let count = walk(block, want, true, |f| {
        out.push(HeaderField {
            name: String::from_utf8_lossy(f.raw_name).trim().to_owned(),
            value: f.value.to_owned(),
            line: f.line,
            offset: f.offset,
        });
    });
    (out, count)
}

/// Reads the block's fields (every one, or those called `want`) and hands each, unfolded,
/// to `f`; returns how many fields the block has in all (with `count_all` false: 0 when
/// it has none, else at least 1).
fn walk(block: &[u8], want: Option<&str>, count_all: bool, mut f: impl FnMut(Field<'_>)) -> usize {
    let first = want.and_then(|w| w.as_bytes().first()).copied();
    // Sized for a long stamp at once: grown from empty, the buffer was reallocated three
    // times a message in a store scan (~1% of its instructions).
    let mut value: Vec<u8> = Vec::with_capacity(1024);
    let mut count = 0;
    // The field being unfolded: its name, first line and offset.
    let mut open: Option<(&[u8], u64, usize)> = None;
    for (idx, (offset, line)) in lines(block).enumerate() {
        if line.is_empty() {
            break;
        }
        let continuation = matches!(line.first(), Some(b' ' | b'\t'));
        if !continuation
            && !count_all
            && count > 0
            && open.is_none()
            && let (Some(w), Some(b)) = (first, line.first())
            && !b.eq_ignore_ascii_case(&w)
        {
            // Not a wanted field, and nothing open to continue or close.
            continue;
        }
        if !continuation && let Some((n, colon)) = field_name_colon(line) {
            if let Some(o) = open.take() {
                flush(o, &mut value, &mut f);
            }
            count += 1;
            let raw_name = line.get(..n).unwrap_or_default();
            if !want.is_none_or(|w| raw_name.eq_ignore_ascii_case(w.as_bytes())) {
                continue;
            }
            value.extend_from_slice(line.get(colon + 1..).unwrap_or_default());
            open = Some((raw_name, idx as u64, offset));
            continue;
        }
        if open.is_none() {
            // Not inside a field yet (nothing to continue), or inside one not wanted.
            continue;
        }
        if !continuation {
            value.push(b' ');
        }
        value.extend_from_slice(line);
    }
    if let Some(o) = open {
        flush(o, &mut value, &mut f);
    }
    count
}

/// Hands the field whose value bytes were collected to `f`, trimmed and decoded.
fn flush(
    (raw_name, line, offset): (&[u8], u64, usize),
    value: &mut Vec<u8>,
    f: &mut impl FnMut(Field<'_>),
) {
    // Almost every value is UTF-8 (mostly ASCII): checking it whole is several times
    // faster than the lossy decoder's chunk walk, which only the rest needs.
    let text = match std::str::from_utf8(value) {
        Ok(v) => std::borrow::Cow::Borrowed(v),
        Err(_) => String::from_utf8_lossy(value),
    };
    f(Field {
        raw_name,
        value: crate::parse::received::trim_blanks(&text),
        line,
        offset,
    });
    value.clear();
}

/// Unfolds one raw field (name and value, possibly spanning lines) into a single line of
/// text. Kept for callers that already hold one field's bytes.
pub fn unfold(raw: &[u8]) -> String {
    let mut out = Vec::with_capacity(raw.len());
    for (i, (_, line)) in lines(raw).enumerate() {
        if i > 0 && !matches!(line.first(), Some(b' ' | b'\t')) {
            out.push(b' ');
        }
        out.extend_from_slice(line);
    }
    String::from_utf8_lossy(&out).trim().to_owned()
}

/// The `Received:` fields of a header block in order (top = newest hop).
pub fn received(block: &[u8]) -> Vec<HeaderField> {
    fields_named(block, "received").0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_end_lf_crlf_and_none() {
        assert_eq!(block_end(b"A: 1\nB: 2\n\nbody"), Some(11));
        assert_eq!(block_end(b"A: 1\r\nB: 2\r\n\r\nbody"), Some(14));
        assert_eq!(block_end(b"A: 1\r\n\nbody"), Some(7));
        assert_eq!(block_end(b"A: 1\nB: 2\n"), None);
        assert_eq!(block_end(b""), None);
    }

    #[test]
    fn field_start_rules() {
        let rows: [(&[u8], bool); 10] = [
            (b"Received: from x", true),
            (b"received:from", true),
            (b"X-Spam-Level: ***", true),
            (b"Subject : obsolete blank before colon", true),
            (b"\tby host", false),
            (b" continuation", false),
            (b"From sender@example Mon Jul  1 10:00:00 2024", false),
            (b"2024-07-05T19:19:30+02:00 host sm-mta[1]: x", false),
            (b"no colon here", false),
            (b":empty name", false),
        ];
        for (line, want) in rows {
            assert_eq!(
                is_field_start(line),
                want,
                "{}",
                String::from_utf8_lossy(line)
            );
        }
    }

    #[test]
    fn unfolding_edge_cases() {
        // (block, field index, name, value, line)
        let rows: [(&[u8], usize, &str, &str, u64); 9] = [
            // LF folding, tab continuation kept as whitespace.
            (
                b"Received: from a\n\tby b; date\n",
                0,
                "Received",
                "from a\n\tby b; date",
                0,
            ),
            // CRLF folding.
            (
                b"Received: from a\r\n\tby b\r\n\tfor <x>; d\r\n",
                0,
                "Received",
                "from a\tby b\tfor <x>; d",
                0,
            ),
            // Postfix 3.4+ TAB+space continuation.
            (
                b"Received: (using TLSv1.3 with cipher X (256/256 bits)\n\t key-exchange X25519)\n",
                0,
                "Received",
                "(using TLSv1.3 with cipher X (256/256 bits)\t key-exchange X25519)",
                0,
            ),
            // Broken folding: continuation without leading whitespace joins with a space.
            (
                b"Received: from a\nby b; d\nX: 1\n",
                0,
                "Received",
                "from a by b; d",
                0,
            ),
            // Second field keeps its own line number.
            (b"A: 1\n 2\nB: 3\n", 1, "B", "3", 2),
            // 8-bit bytes are replaced, not fatal.
            (b"Subject: caf\xe9\n", 0, "Subject", "caf\u{fffd}", 0),
            // Empty value.
            (b"X-Empty:\nY: y\n", 0, "X-Empty", "", 0),
            // Stops at the empty line.
            (b"A: 1\n\nB: body\n", 0, "A", "1", 0),
            // Leading junk before the first field is skipped.
            (b"From x Mon Jul  1 10:00:00 2024\nA: 1\n", 0, "A", "1", 1),
        ];
        for (block, idx, name, value, line) in rows {
            let fs = fields(block);
            let f = fs
                .get(idx)
                .unwrap_or_else(|| panic!("no field {idx} in {block:?}"));
            // Unfolding removes the line break itself: compare with breaks dropped.
            let want = value.replace('\n', "");
            assert_eq!(f.name, name);
            assert_eq!(f.value, want, "{}", String::from_utf8_lossy(block));
            assert_eq!(f.line, line);
        }
        assert_eq!(fields(b"A: 1\n\nB: body\n").len(), 1);
    }

    #[test]
    fn unfold_single_field_and_received_order() {
        assert_eq!(unfold(b"from a\r\n by b\r\n"), "from a by b");
        let block = b"Received: from top by us; d1\nX: y\nReceived: from mid\n\tby top; d2\n\n";
        let r = received(block);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].value, "from top by us; d1");
        assert_eq!(r[1].value, "from mid\tby top; d2");
        assert_eq!(r[1].line, 2);
        assert_eq!(r[1].offset, 34);
    }

    #[test]
    fn named_fields_skip_the_others_and_their_continuations() {
        // A folded Subject between two Received fields, a broken continuation (no blank)
        // after a DKIM field, CRLF lines: the Received values are exactly those of
        // `fields`, and no line of another field leaks into them.
        let block = b"From x@y Mon Jul  1 10:00:00 2024\r\nReceived: from a\r\n\tby b; d1\r\nSubject: one\r\n two (by c)\r\nDKIM-Signature: v=1;\r\nbroken continuation\r\nRECEIVED: from c by a; d0\r\n\r\nReceived: in the body\r\n";
        let (named, count) = fields_named(block, "received");
        let all = fields(block);
        assert_eq!(count, all.len());
        assert_eq!(count, 4);
        let want: Vec<HeaderField> = all
            .into_iter()
            .filter(|f| f.name.eq_ignore_ascii_case("received"))
            .collect();
        assert_eq!(named, want);
        assert_eq!(named.len(), 2);
        assert_eq!(named[0].value, "from a\tby b; d1");
        assert_eq!(named[1].value, "from c by a; d0");
        assert_eq!(
            fields_named(b"no fields here\n", "received"),
            (Vec::new(), 0)
        );
        // The borrowing walk hands over the same values, lines and count, also with
        // 8-bit bytes decoded lossily.
        let odd = b"Subject: x\r\nReceived: from \xff\xfe by z;\r\n d2\r\n\r\n";
        for b in [&block[..], &odd[..]] {
            let mut seen = Vec::new();
            let count = each_named(b, "received", |line, v| seen.push((line, v.to_owned())));
            let (named, all) = fields_named(b, "received");
            assert_eq!(count, all);
            let want: Vec<_> = named.into_iter().map(|f| (f.line, f.value)).collect();
            assert_eq!(seen, want);
            assert!(!seen.is_empty());
        }
    }

    #[test]
    fn each_named_any_is_each_named() {
        // Every block of up to four lines drawn from fields, folds, broken continuations,
        // `From ` lines and lines that only look like `Received` (first letter `r`): the
        // quick walk hands over the same fields and says whether there was any.
        let pieces: [&[u8]; 10] = [
            b"Received: from a by b; d1\n",
            b"received : from c\n",
            b"\tby d; d2\n",
            b"Subject: s\n",
            b"rest of a broken line\n",
            b"Return-Path: <x@y>\n",
            b"From x@y Mon Jul  1 10:00:00 2024\n",
            b"no colon\n",
            b"X-Received: by e\n",
            b"\n",
        ];
        let mut blocks: Vec<Vec<u8>> = vec![Vec::new()];
        let mut level: Vec<Vec<u8>> = vec![Vec::new()];
        for _ in 0..4 {
            level = level
                .iter()
                .flat_map(|b| pieces.iter().map(move |p| [b.as_slice(), p].concat()))
                .collect();
            blocks.extend(level.iter().cloned());
        }
        let mut with_fields = 0;
        for b in &blocks {
            let (mut a, mut q) = (Vec::new(), Vec::new());
            let count = each_named(b, "received", |l, v| a.push((l, v.to_owned())));
            let any = each_named_any(b, "received", |l, v| q.push((l, v.to_owned())));
            assert_eq!(q, a, "{:?}", String::from_utf8_lossy(b));
            assert_eq!(any, count > 0, "{:?}", String::from_utf8_lossy(b));
            with_fields += usize::from(any);
        }
        assert!(with_fields > 1000, "{with_fields}");
    }
}
