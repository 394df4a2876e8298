//! The lexer of a `Received:` value: a byte walk that cuts it into words, comments and
//! `;` without copying (every token is a `&str` span of the value). (It was nom
//! combinators; they are kept in the tests as the oracle of `lexer_is_the_nom_lexer`.)
//!
//! A stamp is a run of words (`from`, `mail.example`, `[192.0.2.1]:25`) and comments
//! (`(…)`, nested, quote-aware), and the last top-level `;` starts the date. Commas between
//! tokens are separators (Microsoft folds `version=TLS1_2,` before `cipher=`).

/// A lexical piece of the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tok<'a> {
    Word(&'a str),
    /// The text inside balanced parentheses (nested parentheses kept). `closed` is false
    /// for a comment that ran to the end of the value without its `)`.
    Comment {
        text: &'a str,
        closed: bool,
    },
    /// A top-level `;`.
    Semi,
}

/// [`CLASS`] bit: a blank or comma, skipped between tokens.
const SEP: u8 = 1;
/// [`CLASS`] bit: a byte that ends a plain word (a blank, `(` or `;`).
const END: u8 = 2;

/// The lexer's classes of every byte: one load and one test a byte where the word and
/// separator walks compared each byte with five or six values (the lexer was ~10% of the
/// instructions of a mailbox scan, issue 21). Every classed byte is ASCII, so a cut
/// before or after one is a character boundary.
// Evaluated at compile time: an index out of range would fail the build, not a run.
#[allow(clippy::indexing_slicing)]
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b' ' as usize] = SEP | END;
    t[b'\t' as usize] = SEP | END;
    t[b'\r' as usize] = SEP | END;
    t[b'\n' as usize] = SEP | END;
    t[b',' as usize] = SEP;
    t[b'(' as usize] = END;
    t[b';' as usize] = END;
    t
};

/// The [`CLASS`] bits of `c`.
#[inline]
fn class(c: u8) -> u8 {
    CLASS.get(usize::from(c)).copied().unwrap_or(0)
}

/// The length of the plain word at the start of `b`: up to a blank, `(` or `;`.
#[inline]
fn word_len(b: &[u8]) -> usize {
    b.iter()
        .position(|&c| class(c) & END != 0)
        .unwrap_or(b.len())
}

/// A plain word at the start of `i` (not empty: the caller saw a byte that is neither a
/// separator nor `(` or `;`).
fn word(i: &str) -> (&str, Tok<'_>) {
    let n = word_len(i.as_bytes());
    (i.get(n..).unwrap_or(""), Tok::Word(i.get(..n).unwrap_or(i)))
}

/// Where the comment whose body is `b` closes: first without escapes (memchr jumps to the
/// bytes that matter); only when a backslash lies within what that walk covered (rare) is
/// the walk redone byte by byte. Without a backslash both walks are the same.
fn comment_close(b: &[u8]) -> Option<usize> {
    let fast = closing_paren(b, false);
    let covered = b.get(..fast.unwrap_or(b.len())).unwrap_or_default();
    if memchr::memchr(b'\\', covered).is_some() {
        closing_paren(b, true)
    } else {
        fast
    }
}

/// `(…)` at the start of `i`: nested parentheses balance, quoted strings hide them (a
/// Postfix `Client CN "a (b)"` must not close early), a backslash escapes the next byte.
/// An unterminated comment runs to the end of the value.
fn comment(i: &str) -> (&str, Tok<'_>) {
    let body = i.get(1..).unwrap_or("");
    let b = body.as_bytes();
    let close = comment_close(b);
    let Some(j) = close else {
        return (
            "",
            Tok::Comment {
                text: body,
                closed: false,
            },
        );
    };
    // `)` is ASCII: both slices fall on character boundaries.
    let text = body.get(..j).unwrap_or(body);
    let rest = body.get(j + 1..).unwrap_or("");
    (rest, Tok::Comment { text, closed: true })
}

/// The index of the `)` that closes a comment whose body starts `b`.
fn closing_paren(b: &[u8], escapes: bool) -> Option<usize> {
    let mut depth = 1usize;
    let mut quoted = false;
    let mut j = 0;
    while let Some(&d) = b.get(j) {
        match d {
            b'\\' if escapes => j += 1,
            b'"' => quoted = !quoted,
            b'(' if !quoted => depth += 1,
            b')' if !quoted => {
                depth -= 1;
                if depth == 0 {
                    return Some(j);
                }
            }
            _ if !escapes => {
                // Not a byte that matters: jump to the next one that does.
                let n = memchr::memchr3(b'(', b')', b'"', b.get(j + 1..).unwrap_or_default())?;
                j += n + 1;
                continue;
            }
            _ => {}
        }
        j += 1;
    }
    None
}

/// `[…]` at the start of `i` runs to its `]` (`[via Frontend Transport]` has blanks)
/// unless a comment or the date separator comes first (then it was never closed and is a
/// plain word); what follows the `]` up to a blank stays in the token (`[ip]:port`).
fn bracket(i: &str) -> (&str, Tok<'_>) {
    let b = i.as_bytes();
    let close = memchr::memchr(b']', b).filter(|&n| {
        let inside = b.get(..n).unwrap_or_default();
        memchr::memchr2(b';', b'(', inside).is_none()
    });
    let Some(n) = close else {
        return word(i);
    };
    let end = n + 1 + word_len(b.get(n + 1..).unwrap_or_default());
    (
        i.get(end..).unwrap_or(""),
        Tok::Word(i.get(..end).unwrap_or(i)),
    )
}

/// The tokens of a value, in order, as an iterator (no collection is built).
pub(super) struct Tokens<'a> {
    rest: &'a str,
}

impl<'a> Tokens<'a> {
    pub(super) fn new(s: &'a str) -> Tokens<'a> {
        Tokens { rest: s }
    }

    /// The byte offset in `whole` where the next token would be read (`whole` must be
    /// the text this iterator was made from).
    pub(super) fn offset_in(&self, whole: &str) -> usize {
        whole.len() - self.rest.len()
    }
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Tok<'a>;

    /// Skips the blanks and commas before the token, then the first byte picks the
    /// reader. Inlined into `parse`'s token loop: as a call (1.2 M of them on a 64 MB
    /// mailbox) its entry, exit and the token returned through memory were a fifth of it.
    #[inline(always)]
    fn next(&mut self) -> Option<Tok<'a>> {
        let b = self.rest.as_bytes();
        let Some(start) = b.iter().position(|&c| class(c) & SEP == 0) else {
            self.rest = "";
            return None;
        };
        let i = self.rest.get(start..).unwrap_or("");
        let (rest, tok) = match b.get(start) {
            Some(b';') => (i.get(1..).unwrap_or(""), Tok::Semi),
            Some(b'(') => comment(i),
            Some(b'[') => bracket(i),
            _ => word(i),
        };
        self.rest = rest;
        Some(tok)
    }
}

/// Where the stamp's clauses and its date lie in a value: the clauses are the tokens
/// after the last-but-one top-level `;` and before the last one; the date is the text
/// after the last one. (A stray `;` in the clauses ends them: what comes before it is
/// not read, as it never was.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Layout<'a> {
    pub(super) clauses: &'a str,
    pub(super) date: &'a str,
}

/// Splits `value` into its clauses and date. With an unterminated comment the last `;`
/// may have been swallowed by it: then the last `;` of the raw text counts.
pub(super) fn layout(value: &str) -> Layout<'_> {
    // Most stamps have one `;`, not inside a comment: then the lexer need not run. A `;`
    // outside comments is always a token (words and open brackets stop at it), and one
    // with no `)` after it is either top-level or inside a comment that never closes, for
    // which the last raw `;` counts anyway.
    let b = value.as_bytes();
    match memchr::memrchr(b';', b) {
        None => {
            return Layout {
                clauses: value,
                date: "",
            };
        }
        Some(n)
            if memchr::memchr(b')', b.get(n..).unwrap_or_default()).is_none()
                && memchr::memchr(b';', b.get(..n).unwrap_or_default()).is_none() =>
        {
            return Layout {
                clauses: value.get(..n).unwrap_or(value),
                date: value.get(n + 1..).unwrap_or(""),
            };
        }
        Some(_) => {}
    }
    let (semis, unbalanced) = last_semis(value);
    let last = if unbalanced {
        value.rfind(';').or(semis.0)
    } else {
        semis.0
    };
    let Some(last) = last else {
        return Layout {
            clauses: value,
            date: "",
        };
    };
    let head = value.get(..last).unwrap_or(value);
    let date = value.get(last + 1..).unwrap_or("");
    // Balanced: the last `;` of the head is the one before `last`, already known.
    let clauses = match (unbalanced, semis.1) {
        (false, Some(prev)) => head.get(prev + 1..).unwrap_or(""),
        (false, None) => head,
        (true, _) => clauses_after_semi(head),
    };
    Layout { clauses, date }
}

/// The byte offsets of the last two top-level `;` (last first), and whether a comment
/// was left unterminated.
fn last_semis(s: &str) -> ((Option<usize>, Option<usize>), bool) {
    let mut toks = Tokens::new(s);
    let mut last = None;
    let mut prev = None;
    let mut unbalanced = false;
    while let Some(t) = toks.next() {
        match t {
            Tok::Semi => {
                // The `;` is the last byte consumed.
                prev = last;
                last = toks.offset_in(s).checked_sub(1);
            }
            Tok::Comment { closed: false, .. } => unbalanced = true,
            _ => {}
        }
    }
    ((last, prev), unbalanced)
}

/// The text after the last top-level `;` of `s` (all of it when there is none).
fn clauses_after_semi(s: &str) -> &str {
    let ((last, _), _) = last_semis(s);
    match last {
        Some(n) => s.get(n + 1..).unwrap_or(""),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The nom lexer this module replaced, kept as the oracle of
    /// `lexer_is_the_nom_lexer`.
    mod nom_lexer {
        use super::super::{Tok, comment_close};
        use nom::character::complete::char;
        use nom::combinator::value;
        use nom::error::{Error, ErrorKind};
        use nom::{IResult, Parser};

        /// Bytes that end a plain word.
        fn is_word_end(c: char) -> bool {
            matches!(c, ' ' | '\t' | '\r' | '\n' | '(' | ';')
        }

        /// Blanks and commas between tokens.
        ///
        /// A byte walk: every separator is ASCII (so the cut is a character boundary), and
        /// nom's `take_while` decoded each character first (it runs before every token).
        fn separators(i: &str) -> IResult<&str, &str> {
            let n = i
                .bytes()
                .position(|c| !matches!(c, b' ' | b'\t' | b'\r' | b'\n' | b','))
                .unwrap_or(i.len());
            Ok((i.get(n..).unwrap_or(""), i.get(..n).unwrap_or("")))
        }

        /// A plain word: up to a blank, `(` or `;`.
        fn word(i: &str) -> IResult<&str, Tok<'_>> {
            // Every stop byte is ASCII, so the byte position is a character boundary.
            let n = i.bytes().position(is_word_end_byte).unwrap_or(i.len());
            if n == 0 {
                return Err(nom::Err::Error(Error::new(i, ErrorKind::TakeWhile1)));
            }
            Ok((i.get(n..).unwrap_or(""), Tok::Word(i.get(..n).unwrap_or(i))))
        }

        /// [`is_word_end`] on a byte.
        fn is_word_end_byte(c: u8) -> bool {
            matches!(c, b' ' | b'\t' | b'\r' | b'\n' | b'(' | b';')
        }

        /// `(…)`: nested parentheses balance, quoted strings hide them (a Postfix
        /// `Client CN "a (b)"` must not close early), a backslash escapes the next byte. An
        /// unterminated comment runs to the end of the value.
        fn comment(i: &str) -> IResult<&str, Tok<'_>> {
            let (body, _) = char('(').parse(i)?;
            let b = body.as_bytes();
            let close = comment_close(b);
            let Some(j) = close else {
                return Ok((
                    "",
                    Tok::Comment {
                        text: body,
                        closed: false,
                    },
                ));
            };
            // `)` is ASCII: both slices fall on character boundaries.
            let text = body.get(..j).unwrap_or(body);
            let rest = body.get(j + 1..).unwrap_or("");
            Ok((rest, Tok::Comment { text, closed: true }))
        }

        /// `[…]` runs to its `]` (`[via Frontend Transport]` has blanks) unless a comment or the
        /// date separator comes first (then it was never closed and is a plain word); what
        /// follows the `]` up to a blank stays in the token (`[ip]:port`).
        fn bracket(i: &str) -> IResult<&str, Tok<'_>> {
            if !i.starts_with('[') {
                return Err(nom::Err::Error(Error::new(i, ErrorKind::Char)));
            }
            let b = i.as_bytes();
            let close = memchr::memchr(b']', b).filter(|&n| {
                let inside = b.get(..n).unwrap_or_default();
                memchr::memchr2(b';', b'(', inside).is_none()
            });
            let Some(n) = close else {
                return word(i);
            };
            let tail = i.get(n + 1..).unwrap_or("");
            let tail_len = tail.find(is_word_end).unwrap_or(tail.len());
            let end = n + 1 + tail_len;
            Ok((
                i.get(end..).unwrap_or(""),
                Tok::Word(i.get(..end).unwrap_or(i)),
            ))
        }

        /// One token after the separators before it: the first byte picks the parser.
        pub(super) fn token(i: &str) -> IResult<&str, Tok<'_>> {
            let (i, _) = separators(i)?;
            match i.as_bytes().first() {
                Some(b';') => value(Tok::Semi, char(';')).parse(i),
                Some(b'(') => comment(i),
                Some(b'[') => bracket(i),
                _ => word(i),
            }
        }

        /// All tokens of `s`, as the old `Tokens` iterator gave them.
        pub(in super::super) fn tokens(mut s: &str) -> Vec<Tok<'_>> {
            let mut out = Vec::new();
            while let Ok((rest, t)) = token(s) {
                out.push(t);
                s = rest;
            }
            out
        }
    }

    proptest::proptest! {
        /// The byte-class lexer cuts every value where the nom lexer did: words,
        /// brackets closed or not, nested and quoted comments, escapes, unterminated
        /// comments, commas, `;`, non-ASCII text and every blank.
        #[test]
        fn lexer_is_the_nom_lexer(
            parts in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Just("from"), proptest::strategy::Just("a.example"),
                    proptest::strategy::Just(" "), proptest::strategy::Just("\t"),
                    proptest::strategy::Just("\r\n"), proptest::strategy::Just(","),
                    proptest::strategy::Just("("), proptest::strategy::Just(")"),
                    proptest::strategy::Just("["), proptest::strategy::Just("]"),
                    proptest::strategy::Just(";"), proptest::strategy::Just("\""),
                    proptest::strategy::Just("\\"), proptest::strategy::Just(":25"),
                    proptest::strategy::Just("\u{A0}"), proptest::strategy::Just("é"),
                    proptest::strategy::Just("\u{0B}"), proptest::strategy::Just("192.0.2.1"),
                ],
                0..24,
            )
        ) {
            let s = parts.concat();
            let ours: Vec<Tok<'_>> = Tokens::new(&s).collect();
            proptest::prop_assert_eq!(ours, nom_lexer::tokens(&s), "{:?}", s);
        }
    }

    fn toks(s: &str) -> Vec<Tok<'_>> {
        Tokens::new(s).collect()
    }

    #[test]
    fn words_comments_brackets_and_semis() {
        assert_eq!(
            toks("from a.example ([192.0.2.1]:25 helo=x), by b;date"),
            vec![
                Tok::Word("from"),
                Tok::Word("a.example"),
                Tok::Comment {
                    text: "[192.0.2.1]:25 helo=x",
                    closed: true
                },
                Tok::Word("by"),
                Tok::Word("b"),
                Tok::Semi,
                Tok::Word("date"),
            ]
        );
        // Brackets keep blanks and a port; an unclosed one before `(` is a word.
        assert_eq!(
            toks("[via Frontend Transport] [192.0.2.1]:587 [a (b)"),
            vec![
                Tok::Word("[via Frontend Transport]"),
                Tok::Word("[192.0.2.1]:587"),
                Tok::Word("[a"),
                Tok::Comment {
                    text: "b",
                    closed: true
                },
            ]
        );
        // Quotes hide parentheses; nesting balances; an open comment runs to the end.
        assert_eq!(
            toks(r#"(Client CN "a (b", Issuer "c" (verified OK)) (open ; x"#),
            vec![
                Tok::Comment {
                    text: r#"Client CN "a (b", Issuer "c" (verified OK)"#,
                    closed: true
                },
                Tok::Comment {
                    text: "open ; x",
                    closed: false
                },
            ]
        );
    }

    #[test]
    fn backslashes_escape_inside_comments_only() {
        // `\)` does not close; a backslash after the comment does not change it.
        assert_eq!(
            toks(r"(a \) b) c\ (d)"),
            vec![
                Tok::Comment {
                    text: r"a \) b",
                    closed: true
                },
                Tok::Word(r"c\"),
                Tok::Comment {
                    text: "d",
                    closed: true
                },
            ]
        );
        assert_eq!(
            toks(r#"(q "\"" (x)) y"#),
            vec![
                Tok::Comment {
                    text: r#"q "\"" (x)"#,
                    closed: true
                },
                Tok::Word("y"),
            ]
        );
    }

    #[test]
    fn layout_takes_the_last_semicolon() {
        let l = layout("from a by b (ORCPT <rfc822;x@y>) id 1; Mon, 1 Jul 2024 10:00:00 +0200");
        assert_eq!(l.clauses, "from a by b (ORCPT <rfc822;x@y>) id 1");
        assert_eq!(l.date, " Mon, 1 Jul 2024 10:00:00 +0200");
        let l = layout("x; from a by b; date");
        assert_eq!(l.clauses, " from a by b");
        let l = layout("from a (using X (256/256 bits); Mon, 1 Jul 2024");
        assert_eq!(l.clauses, "from a (using X (256/256 bits)");
        assert_eq!(l.date, " Mon, 1 Jul 2024");
        assert_eq!(layout("from a by b").clauses, "from a by b");
    }
}
