//! How any stage words things for a person: [`count`] for plurals, [`plain_error`] for
//! errors without Rust-isms, and making strangers' text safe to show. Log lines, Received headers and SMTP replies are
//! written by whoever connects (a peer chooses its EHLO name and its banner); printed
//! raw, an escape sequence in them would drive the reader's terminal (retitle it, hide
//! lines, move the cursor, on some terminals write files), and a bidi override or a zero-
//! width character would make a peer name read as another.
//!
//! [`terminal`] is the one function every human-readable renderer (table, `follow`
//! lines, `check` text, warnings) passes log- and network-derived strings through. The
//! file formats have their own: HTML is escaped by maud, Markdown by
//! `report::markdown::escape`, CSV cells by `report::csv::neutralise`, JSON by serde.

use std::borrow::Cow;
use std::fmt::Write as _;

/// True for characters that must not reach a terminal as they are: C0 controls
/// (including ESC, CR, LF and TAB: one field is one line, one cell), DEL, C1 controls
/// (U+0080–U+009F, 8-bit CSI among them), and the invisible formatting characters that
/// reorder or hide text (bidi embeddings, overrides and isolates, zero-width characters,
/// the BOM, line and paragraph separators).
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{206f}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
        )
}

/// `s` with every [`is_unsafe`] character shown as an escape (`\x1b`, `\u{202e}`), so
/// the text stays readable and nothing in it acts on the terminal. Borrows when there
/// is nothing to escape (nearly always).
pub fn terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !is_unsafe(c) {
            out.push(c);
        } else if u32::from(c) < 0x80 {
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        } else {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
    }
    Cow::Owned(out)
}

/// [`terminal`] for a multi-line text that holds no escapes of its own: each line is
/// escaped, its newline kept.
pub fn terminal_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        out.push_str(&terminal(body));
        out.push_str(nl);
    }
    out
}

/// An error as a sentence for an administrator: Rust's `(os error 2)` dropped wherever it
/// is (a message may carry a path before it) and the first letter of the sentence it ended
/// lower-cased, so `/etc/x: No such file or directory (os error 2)` reads
/// `/etc/x: no such file or directory`. The first letter of the whole text is lower-cased
/// too (`No such file …` after `path: `); a capital word (`TLS`, `EHLO`) is kept.
pub fn plain_error(e: &dyn std::fmt::Display) -> String {
    let mut s = e.to_string();
    let mut starts = vec![0];
    while let Some(i) = s.find(" (os error ") {
        let Some(j) = s[i..].find(')') else { break };
        s.replace_range(i..i + j + 1, "");
        starts.push(s[..i].rfind(": ").map_or(0, |k| k + 2));
    }
    for at in starts {
        let mut c = s[at..].chars();
        if let (Some(a), Some(b)) = (c.next(), c.next())
            && a.is_uppercase()
            && b.is_lowercase()
        {
            let lower: String = a.to_lowercase().collect();
            s.replace_range(at..at + a.len_utf8(), &lower);
        }
    }
    s
}

/// `n` and its noun, singular for one: "1 file", "2 files", "0 lines".
pub fn count(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `text` in lines of at most `width` characters, broken between words: a word longer
/// than the width stays whole, and so does a `quoted command` (it must copy and paste as
/// one line). For prose on a terminal (likely causes, advice); tables fit their cells with
/// `report::table::wrap`, which also breaks long words.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut open = false;
    for w in text.split_whitespace() {
        match words.last_mut() {
            Some(last) if open => {
                last.push(' ');
                last.push_str(w);
            }
            _ => words.push(w.to_owned()),
        }
        if w.matches('`').count() % 2 == 1 {
            open = !open;
        }
    }
    let mut out: Vec<String> = Vec::new();
    let mut line = String::new();
    for w in words {
        if !line.is_empty() && line.chars().count() + 1 + w.chars().count() > width {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&w);
    }
    if !line.is_empty() {
        out.push(line);
    }
    out
}

/// `s.trim()`, returning `s` at once when it starts and ends with a visible ASCII byte.
///
/// Why: nearly every value a parser trims (Sendmail relay and address values, Postfix
/// peers and TLS clauses, the versions and ciphers of `Received:` comments) needs no trim
/// at all, and `str::trim` decodes characters from both ends through the generic pattern
/// code (~45 instructions a call, issue 21). Not `is_ascii_whitespace`: that leaves out the
/// vertical tab, which `trim` removes.
#[inline]
pub fn trim_solid(s: &str) -> &str {
    let solid = |c: Option<&u8>| c.is_some_and(u8::is_ascii_graphic);
    let b = s.as_bytes();
    if solid(b.first()) && solid(b.last()) {
        s
    } else {
        s.trim()
    }
}

/// An error line with the reason logged beside it (`… -1 (reason: … no shared cipher …)`),
/// or the line alone when there is none or the line already says it.
pub fn with_reason(text: &str, reason: Option<&str>) -> String {
    match reason {
        Some(r) if !r.is_empty() && !text.contains(r) => format!("{text} (reason: {r})"),
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn wrap_keeps_words_and_quoted_commands_whole() {
        let text = "the peer did not advertise STARTTLS (disabled, or a middlebox stripped it) while our policy requires TLS for it";
        let lines = super::wrap(text, 30);
        assert!(lines.iter().all(|l| l.chars().count() <= 30), "{lines:?}");
        assert_eq!(lines.join(" "), text);
        assert_eq!(super::wrap("", 10), Vec::<String>::new());
        let text = "the MTA could not load its key. Run `mailtls doctor --cf /etc/mail/sendmail.cf --log /var/log/mail.log` to find which.";
        let lines = super::wrap(text, 40);
        let cmd = "`mailtls doctor --cf /etc/mail/sendmail.cf --log /var/log/mail.log`";
        assert!(lines.iter().any(|l| l.contains(cmd)), "{lines:?}");
        assert_eq!(lines.join(" "), text);
        assert!(lines[0].chars().count() <= 40);
    }

    #[test]
    fn plain_error_drops_only_the_os_error_code() {
        let e = std::io::Error::from_raw_os_error(27);
        assert_eq!(super::plain_error(&e), "file too large");
        let kept = format!("{e} (the previous report, if any, is kept as it was)");
        assert_eq!(
            super::plain_error(&kept),
            "file too large (the previous report, if any, is kept as it was)"
        );
        assert_eq!(super::plain_error(&"Not found"), "not found");
    }
    use super::*;

    #[test]
    fn escapes_what_acts_on_a_terminal_and_keeps_the_rest() {
        let rows = [
            ("mx.example.org", "mx.example.org"),
            ("caf\u{e9}.example", "caf\u{e9}.example"),
            ("\x1b]0;pwned\x07mx", "\\x1b]0;pwned\\x07mx"),
            ("\x1b[2J\x1b[1;1H", "\\x1b[2J\\x1b[1;1H"),
            ("a\r\nb\tc", "a\\x0d\\x0ab\\x09c"),
            ("\u{9b}31m", "\\u{9b}31m"),
            ("evil\u{202e}gro.elpmaxe", "evil\\u{202e}gro.elpmaxe"),
            ("pay\u{200b}pal.example", "pay\\u{200b}pal.example"),
            ("nul\0del\x7f", "nul\\x00del\\x7f"),
        ];
        for (input, want) in rows {
            assert_eq!(terminal(input), want, "{input:?}");
        }
        assert!(matches!(terminal("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn lines_keep_their_newlines_only() {
        assert_eq!(
            terminal_lines("a\x1b[2J\nb\r\n\nc"),
            "a\\x1b[2J\nb\\x0d\n\nc"
        );
    }
}
