//! The needles of a narrowed read: `peer` and `message` ask about one peer or one
//! message, so the pipeline parses only the lines that can matter to it (triage widens the
//! needles until the answer is the same as a full read's: `triage::scope`).

use std::collections::{BTreeSet, HashSet};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, Input, MatchKind};

/// Which lines a narrowed read keeps: those holding one of a few words (the peer's name or
/// address, a Message-ID, the local-error words), searched together ASCII
/// case-insensitively, or whose process id or queue id (read at their fixed place: after
/// `prog[pid]: `, or an Exim id near the start) is one of the sets. Ids are looked up, not
/// searched for: a busy peer has thousands of them, and a search for thousands of patterns
/// is slower than parsing.
#[derive(Debug, Clone)]
pub struct Needles {
    searcher: Option<AhoCorasick>,
    /// The only word, when there is one (a peer's widening pass): `memmem` looks for its
    /// rarest bytes, where the multi-pattern search keys on its first bytes, and a host
    /// name's first bytes (`mail`, `mx`, `smtp`) are on most lines of a mail log.
    single: Option<memchr::memmem::Finder<'static>>,
    patterns: Vec<String>,
    pids: IdSet<u32>,
    /// The same process ids as bits (below [`PID_BITS`], Linux's largest `pid_max`): one
    /// load per line instead of a hash probe.
    pid_bits: Vec<u64>,
    ids: IdSet<Vec<u8>>,
    /// Every queue id is also a word and no process id is wanted (a message's own ids):
    /// a line whose id is one of ours holds it as a word, so only the words and the
    /// lines starting with `{` or `<` need finding, not every line's id.
    ids_in_words: bool,
    /// Bit `n` set when some queue id is `n` bytes long (63 for any longer): most lines'
    /// ids are of another length, or skipped without hashing (this runs on every line of
    /// a narrowed read).
    id_lens: u64,
    /// With a few process and queue ids (a message's): the words, each id and each process
    /// id's `PID]: ` searched together. A line whose id is one of ours holds one of them
    /// (see [`Needles::next_match`]), so only the lines they hit are read for their ids,
    /// not every line.
    candidates: Option<AhoCorasick>,
    /// Set by [`Needles::with_rare`]: how the words are searched when there are many
    /// lines between two of them (a peer's narrowed read).
    split: Option<Split>,
}

/// A peer's words searched in two groups ([`Needles::with_rare`]). One multi-pattern
/// search keys on each word's first bytes, and in a mail log those are on most lines:
/// `mail` (of `mail-out.example.org`) on 63% of the lines of the generated log, `STAR` (of
/// `STARTTLS=server: `) on 3.5%; each such line was a false candidate to verify (half of
/// the word search's time, issue 21). So the peer's own spellings are searched one by one
/// with `memmem` (which keys on its rarest bytes), and the other words by their last
/// [`KEY_LEN`] bytes (`ver: `, `ing: `, `error`: on almost no line that does not hold the
/// whole word), each hit verified against the whole word.
#[derive(Debug, Clone)]
struct Split {
    rare: Vec<memchr::memmem::Finder<'static>>,
    /// Over each word's key (its last [`KEY_LEN`] bytes); `None` without other words.
    keys: Option<AhoCorasick>,
    /// Each other word and where its key starts in it.
    words: Vec<(Vec<u8>, usize)>,
}

/// Bytes of a word's end searched for in [`Split`].
const KEY_LEN: usize = 5;

impl Split {
    /// The first position at or after `from` that is in a line holding a word: a rare
    /// word's start, or the start of a verified key of another word (in the same line as
    /// the word: words hold no newline).
    fn next_rare(&self, data: &[u8], from: usize) -> Option<usize> {
        let hay = data.get(from..)?;
        self.rare
            .iter()
            .filter_map(|f| f.find(hay))
            .min()
            .map(|i| from + i)
    }

    fn next_keyed(&self, data: &[u8], from: usize) -> Option<usize> {
        let keys = self.keys.as_ref()?;
        let mut pos = from;
        while pos < data.len() {
            let p = keys.find(Input::new(data).span(pos..data.len()))?.start();
            // Every word whose key could start here is checked (the search reports one).
            let whole = self.words.iter().any(|(w, off)| {
                p.checked_sub(*off)
                    .and_then(|s| data.get(s..s + w.len()))
                    .is_some_and(|d| d == w.as_slice())
            });
            if whole {
                return Some(p);
            }
            pos = p + 1;
        }
        None
    }
}

/// Where the next word is in one block, as [`Needles::next_match_in`] last found it.
#[derive(Debug, Clone, Copy, Default)]
pub struct WordCursor {
    /// `(from, at)`: no word starts in `from..at`, and one starts at `at` (`None`: none
    /// from `from` to the end of the block). With [`Split`], `at` is a position in the
    /// line of the next word (no line in `from..at` holds one).
    found: Option<(usize, Option<usize>)>,
    /// The same for each group of a [`Split`] search: the rare words, the keyed ones.
    rare: Slot,
    keyed: Slot,
}

/// Where one search last found its next hit (see [`WordCursor::found`]).
#[derive(Debug, Clone, Copy, Default)]
struct Slot(Option<(usize, Option<usize>)>);

impl Slot {
    /// The hit at or after `from`, searched with `search` unless what was found answers.
    fn next(&mut self, from: usize, search: impl FnOnce(usize) -> Option<usize>) -> Option<usize> {
        if let Some((start, at)) = self.0
            && start <= from
            && at.is_none_or(|a| a >= from)
        {
            return at;
        }
        let at = search(from);
        self.0 = Some((from, at));
        at
    }
}

impl WordCursor {
    /// The next word start at or after `from`, when what was found answers it.
    fn get(&self, from: usize) -> Option<Option<usize>> {
        let (start, at) = self.found?;
        (start <= from && at.is_none_or(|a| a >= from)).then_some(at)
    }

    fn set(&mut self, from: usize, at: Option<usize>) {
        self.found = Some((from, at));
    }
}

/// Up to this many process and queue ids together are searched for ([`Needles::candidates`]);
/// more are looked up line by line (a multi-pattern search slows down past a few dozen
/// patterns, a per-line lookup does not).
const MAX_SEARCHED_IDS: usize = 32;

/// The sets probed on every line of a narrowed read: a fast, fixed hash (the keys are
/// ids from the logs being read, not an attacker's choice of collisions worth a slower
/// hash).
type IdSet<T> = HashSet<T, foldhash::fast::FixedState>;

/// The first line start in `data[from..upto]` (`from` a line start) whose line starts with
/// `{` or `<` (journald JSON, RFC 5424: always read by a narrowed read).
fn structured_line(data: &[u8], from: usize, upto: usize) -> Option<usize> {
    if matches!(data.get(from), Some(b'{' | b'<')) && from < upto {
        return Some(from);
    }
    let hay = data.get(from..upto.min(data.len()))?;
    let a = memchr::memmem::find(hay, b"\n{");
    let b = memchr::memmem::find(hay, b"\n<");
    let at = match (a, b) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b)?,
    };
    // The `{`/`<` itself must be inside the range (a newline at its end starts a line
    // that is not).
    (from + at + 1 < upto).then_some(from + at + 1)
}

/// Process ids below this are kept as bits (`pid_max` is at most 2^22 on Linux).
const PID_BITS: u32 = 1 << 22;

/// The [`Needles::id_lens`] bit of an id `n` bytes long.
fn len_bit(n: usize) -> u64 {
    1u64 << n.min(63)
}

/// Where the first `]: ` (the end of the syslog `prog[pid]` tag) is in `line`. A `]` is
/// looked for with `memchr` and its next two bytes checked: on a line of a few dozen bytes
/// that is cheaper than a substring search, and this runs on every line of a narrowed read.
fn tag_end(line: &[u8]) -> Option<usize> {
    memchr::memchr_iter(b']', line).find(|&i| line.get(i + 1..i + 3) == Some(b": "))
}

/// `str::parse::<u32>` on bytes (an optional `+`, then decimal digits, no overflow),
/// without the UTF-8 check.
fn parse_u32(b: &[u8]) -> Option<u32> {
    let digits = b.strip_prefix(b"+").unwrap_or(b);
    if digits.is_empty() {
        return None;
    }
    if digits.len() <= 9 {
        // Nine digits cannot overflow a `u32`: no checked arithmetic, which was a third of
        // the per-line id reading (issue 21).
        let mut n = 0u32;
        for &d in digits {
            let v = d.wrapping_sub(b'0');
            if v > 9 {
                return None;
            }
            n = n * 10 + u32::from(v);
        }
        return Some(n);
    }
    digits.iter().try_fold(0u32, |n, &d| {
        if d.is_ascii_digit() {
            n.checked_mul(10)?.checked_add(u32::from(d - b'0'))
        } else {
            None
        }
    })
}

impl Needles {
    /// The matcher for these words, process ids and queue ids; `None` when all are empty.
    pub fn new<S: AsRef<str>>(
        words: impl IntoIterator<Item = S>,
        pids: impl IntoIterator<Item = u32>,
        ids: impl IntoIterator<Item = S>,
    ) -> Option<Needles> {
        let set: BTreeSet<String> = words
            .into_iter()
            .map(|p| p.as_ref().trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect();
        let patterns: Vec<String> = set.into_iter().collect();
        let pids: IdSet<u32> = pids.into_iter().collect();
        let ids: IdSet<Vec<u8>> = ids
            .into_iter()
            .map(|i| i.as_ref().trim().as_bytes().to_vec())
            .filter(|i| !i.is_empty())
            .collect();
        if patterns.is_empty() && pids.is_empty() && ids.is_empty() {
            return None;
        }
        let searcher = if patterns.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::LeftmostFirst)
                    .build(&patterns)
                    .ok()?,
            )
        };
        let id_lens = ids.iter().fold(0, |m, i| m | len_bit(i.len()));
        let ids_in_words = pids.is_empty()
            && ids
                .iter()
                .all(|i| patterns.iter().any(|p| p.as_bytes() == i.as_slice()));
        let candidates = if !ids_in_words
            && pids.len() + ids.len() <= MAX_SEARCHED_IDS
            && (!pids.is_empty() || !ids.is_empty())
        {
            let mut all: BTreeSet<Vec<u8>> =
                patterns.iter().map(|p| p.as_bytes().to_vec()).collect();
            all.extend(ids.iter().cloned());
            all.extend(pids.iter().map(|p| format!("{p}]: ").into_bytes()));
            Some(
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::LeftmostFirst)
                    .build(&all)
                    .ok()?,
            )
        } else {
            None
        };
        let mut pid_bits = Vec::new();
        if !pids.is_empty() {
            pid_bits = vec![0u64; (PID_BITS / 64) as usize];
            for &p in pids.iter().filter(|&&p| p < PID_BITS) {
                if let Some(w) = pid_bits.get_mut((p / 64) as usize) {
                    *w |= 1 << (p % 64);
                }
            }
        }
        Some(Needles {
            single: match patterns.as_slice() {
                [only] => Some(memchr::memmem::Finder::new(only.as_bytes()).into_owned()),
                _ => None,
            },
            searcher,
            patterns,
            pids,
            pid_bits,
            ids,
            ids_in_words,
            id_lens,
            candidates,
            split: None,
        })
    }

    /// [`Needles::new`] with `rare` words too (a peer's spellings), searched apart from
    /// the other words (`Split`): the lines kept are the same, found with fewer false
    /// candidates.
    pub fn with_rare<S: AsRef<str>>(
        rare: impl IntoIterator<Item = S>,
        words: impl IntoIterator<Item = S>,
        pids: impl IntoIterator<Item = u32>,
        ids: impl IntoIterator<Item = S>,
    ) -> Option<Needles> {
        let trimmed = |w: S| w.as_ref().trim().to_owned();
        let rare: BTreeSet<String> = rare
            .into_iter()
            .map(trimmed)
            .filter(|w| !w.is_empty())
            .collect();
        let words: BTreeSet<String> = words
            .into_iter()
            .map(trimmed)
            .filter(|w| !w.is_empty() && !rare.contains(w))
            .collect();
        let ids: Vec<String> = ids.into_iter().map(|i| i.as_ref().to_owned()).collect();
        let mut n = Needles::new(rare.iter().chain(&words), pids, ids.iter())?;
        let keyed: Vec<(Vec<u8>, usize)> = words
            .iter()
            .map(|w| (w.as_bytes().to_vec(), w.len().saturating_sub(KEY_LEN)))
            .collect();
        let keys = if keyed.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::LeftmostFirst)
                    .build(keyed.iter().map(|(w, off)| &w[*off..]))
                    .ok()?,
            )
        };
        n.split = Some(Split {
            rare: rare
                .iter()
                .map(|w| memchr::memmem::Finder::new(w.as_bytes()).into_owned())
                .collect(),
            keys,
            words: keyed,
        });
        Some(n)
    }

    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// True when `line` (without its newline) is to be parsed.
    pub fn is_match(&self, line: &[u8]) -> bool {
        self.has_word(line) || self.id_match(line)
    }

    fn has_word(&self, line: &[u8]) -> bool {
        match &self.single {
            Some(f) => f.find(line).is_some(),
            None => self.searcher.as_ref().is_some_and(|s| s.is_match(line)),
        }
    }

    fn has_pid(&self, p: u32) -> bool {
        if p < PID_BITS {
            self.pid_bits
                .get((p / 64) as usize)
                .is_some_and(|w| w & (1 << (p % 64)) != 0)
        } else {
            self.pids.contains(&p)
        }
    }

    /// The line's process id or queue id is one of ours (or the line keeps them elsewhere).
    fn id_match(&self, line: &[u8]) -> bool {
        // journald JSON and RFC 5424 lines keep their process elsewhere: always read.
        if matches!(line.first(), Some(b'{' | b'<')) {
            return true;
        }
        if self.pids.is_empty() && self.ids.is_empty() {
            return false;
        }
        match tag_end(line) {
            Some(end) => {
                let open = memchr::memrchr(b'[', &line[..end]).map_or(end, |i| i + 1);
                let pid = parse_u32(&line[open..end]);
                if pid.is_some_and(|p| self.has_pid(p)) {
                    return true;
                }
                let rest = &line[end + 3..];
                let tok = rest
                    .iter()
                    .position(|&b| b == b':' || b == b' ')
                    .map_or(rest, |i| &rest[..i]);
                self.id_lens & len_bit(tok.len()) != 0 && self.ids.contains(tok)
            }
            // Exim's own mainlog: the message id follows the stamp (and a +pid or zone).
            None => line
                .split(|&b| b == b' ')
                .skip(2)
                .take(3)
                .any(|t| self.id_lens & len_bit(t.len()) != 0 && self.ids.contains(t)),
        }
    }

    /// Offset of the start of the first line at or after `from` (a line start) that
    /// [`Needles::is_match`] keeps. The words are searched once over the block (SIMD),
    /// not line by line; only the id lookup looks at each line.
    pub fn next_match(&self, data: &[u8], from: usize) -> Option<usize> {
        self.next_match_in(data, from, &mut WordCursor::default())
    }

    /// [`Needles::next_match`] for calls on one block at increasing offsets: `cursor`
    /// keeps where the next word was found, so a word far ahead is not searched for again
    /// at every line kept for its ids before it (that search was a sixth of a busy peer's
    /// narrowed read).
    pub fn next_match_in(
        &self,
        data: &[u8],
        from: usize,
        cursor: &mut WordCursor,
    ) -> Option<usize> {
        if let Some(c) = &self.candidates {
            return self.next_candidate(c, data, from);
        }
        let next_word = |at: usize, cursor: &mut WordCursor| {
            if let Some(sp) = &self.split {
                let r = cursor.rare.next(at, |f| sp.next_rare(data, f));
                let k = cursor.keyed.next(at, |f| sp.next_keyed(data, f));
                return match (r, k) {
                    (Some(r), Some(k)) => Some(r.min(k)),
                    (r, k) => r.or(k),
                };
            }
            if let Some(f) = &self.single {
                return data.get(at..).and_then(|d| f.find(d)).map(|i| at + i);
            }
            self.searcher.as_ref().and_then(|s| {
                s.find(Input::new(data).span(at..data.len()))
                    .map(|m| m.start())
            })
        };
        let mut word = match cursor.get(from) {
            Some(w) => w,
            None if from < data.len() => next_word(from, cursor),
            None => None,
        };
        cursor.set(from, word);
        let by_line = !self.pids.is_empty() || !self.ids.is_empty();
        if by_line && self.ids_in_words {
            // The first line holding a word or starting with `{`/`<` (see `ids_in_words`).
            let w =
                word.map(|w| memchr::memrchr(b'\n', &data[from..w]).map_or(from, |i| from + i + 1));
            return match (w, structured_line(data, from, w.unwrap_or(data.len()))) {
                (Some(w), Some(j)) => Some(w.min(j)),
                (w, j) => w.or(j),
            };
        }
        let mut pos = from;
        while pos < data.len() {
            if !by_line {
                // Only words (and journald/RFC 5424 lines, which start with `{`/`<`).
                let w = word?;
                let start = memchr::memrchr(b'\n', &data[pos..w]).map_or(pos, |i| pos + i + 1);
                return Some(start);
            }
            let end = memchr::memchr(b'\n', &data[pos..]).map_or(data.len(), |i| pos + i);
            if word.is_some_and(|w| w < end) {
                return Some(pos);
            }
            let line = &data[pos..end];
            if self.id_match(line.strip_suffix(b"\r").unwrap_or(line)) {
                return Some(pos);
            }
            pos = end + 1;
            if word.is_some_and(|w| w < pos) {
                word = next_word(pos, cursor);
                cursor.set(pos, word);
            }
        }
        None
    }

    /// [`Needles::next_match`] with [`Needles::candidates`]: a line the per-line reading
    /// keeps holds a word, or starts with `{`/`<`, or has one of our process ids before
    /// its tag's `]: ` (its digits end with the id's decimal spelling, whatever zeros or
    /// `+` come first) or one of our queue ids as a token. So the next such line is among
    /// the lines holding a candidate or starting with `{`/`<`; each of those is read as
    /// the per-line reading does, and the first it keeps is the answer.
    fn next_candidate(&self, c: &AhoCorasick, data: &[u8], from: usize) -> Option<usize> {
        let mut pos = from;
        while pos < data.len() {
            let hit = c.find(Input::new(data).span(pos..data.len())).map(|m| {
                memchr::memrchr(b'\n', &data[pos..m.start()]).map_or(pos, |i| pos + i + 1)
            });
            let start = match (hit, structured_line(data, pos, hit.unwrap_or(data.len()))) {
                (Some(h), Some(j)) => h.min(j),
                (h, j) => h.or(j)?,
            };
            let end = memchr::memchr(b'\n', &data[start..]).map_or(data.len(), |i| start + i);
            let line = &data[start..end];
            if self.has_word(line) || self.id_match(line.strip_suffix(b"\r").unwrap_or(line)) {
                return Some(start);
            }
            pos = end + 1;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The hand-written readers agree with the library ones they replace.
        #[test]
        fn tag_end_and_parse_u32_agree_with_the_std_readers(
            line in "[a-z0-9 \\[\\]:+-]{0,40}",
            num in "[+-]?[0-9]{0,12}",
        ) {
            let want = memchr::memmem::find(line.as_bytes(), b"]: ");
            prop_assert_eq!(tag_end(line.as_bytes()), want);
            prop_assert_eq!(parse_u32(num.as_bytes()), num.parse::<u32>().ok());
            prop_assert_eq!(parse_u32(line.as_bytes()), line.parse::<u32>().ok());
        }
    }

    /// The first line at or after each line start that `is_match` keeps, line by line.
    fn reference(n: &Needles, data: &[u8], from: usize) -> Option<usize> {
        let mut pos = from;
        while pos < data.len() {
            let end = memchr::memchr(b'\n', &data[pos..]).map_or(data.len(), |i| pos + i);
            let line = &data[pos..end];
            if n.is_match(line.strip_suffix(b"\r").unwrap_or(line)) {
                return Some(pos);
            }
            pos = end + 1;
        }
        None
    }

    /// The lines a block's reading keeps (each search starting after the line kept
    /// before, one cursor for the block) are those of searching afresh from each start.
    fn walk_agrees(n: &Needles, data: &[u8]) -> Result<(), TestCaseError> {
        let mut cursor = WordCursor::default();
        let mut pos = 0;
        while pos <= data.len() {
            let got = n.next_match_in(data, pos, &mut cursor);
            prop_assert_eq!(got, n.next_match(data, pos), "walk from {}", pos);
            let Some(m) = got else { break };
            pos = memchr::memchr(b'\n', &data[m..]).map_or(data.len(), |i| m + i) + 1;
        }
        Ok(())
    }

    /// Lines of other shapes both line generators mix in: journald JSON, RFC 5424, empty
    /// lines, and text holding the `{` / `<` a shape test looks for.
    const OTHER_SHAPES: [&str; 5] = [
        "{\"MESSAGE\":\"anything\"}\n",
        "<13>1 2026-11-27T10:00:00Z mx postfix 70 - - 4F1b2C3d4X: removed\n",
        "\r\n",
        "\n",
        "plain text with < and { inside\n",
    ];

    fn log_line() -> impl Strategy<Value = &'static str> {
        prop::sample::select([OTHER_SHAPES.as_slice(), &[
            "Nov 27 10:00:03 mx postfix/qmgr[70]: 4F1b2C3d4E: removed\n",
            "Nov 27 10:00:03 mx postfix/qmgr[70]: 4F1b2C3d4X: from=<a@b>\n",
            "Nov 27 10:00:03 mx postfix/smtp[71]: 4F1b2C3d4X: to=<a@b>, status=sent (queued as 4F1b2C3d4E)\n",
            "Nov 27 10:00:03 mx postfix/smtp[71]: x: msgid=<m1@example.org>\n",
            "no newline {",
        ]].concat())
    }

    proptest! {
        /// With a message's ids (all of them words, no process ids) the words alone are
        /// searched, and the lines found are those of reading line by line.
        #[test]
        fn ids_that_are_words_find_the_same_lines(
            lines in prop::collection::vec(log_line(), 0..30),
        ) {
            let n = Needles::new(
                ["4F1b2C3d4E", "m1@example.org"],
                [],
                ["4F1b2C3d4E"],
            ).expect("needles");
            prop_assert!(n.ids_in_words && n.single.is_none());
            let one = Needles::new(["4F1b2C3d4E"], [], ["4F1b2C3d4E"]).expect("needles");
            prop_assert!(one.ids_in_words && one.single.is_some());
            let word = Needles::new(["4F1b2C3d4E"], [], []).expect("needles");
            let data = lines.concat().into_bytes();
            let mut starts = vec![0];
            starts.extend(memchr::memchr_iter(b'\n', &data).map(|i| i + 1));
            for from in starts {
                for n in [&n, &one] {
                    prop_assert_eq!(n.next_match(&data, from), reference(n, &data, from), "from {}", from);
                }
                walk_agrees(&n, &data)?;
                // Words alone: the first line holding the word (no line is read for its
                // ids, so `{`/`<` lines are not either).
                let want = memchr::memmem::find(&data[from..], b"4F1b2C3d4E")
                    .map(|w| memchr::memrchr(b'\n', &data[from..from + w]).map_or(from, |i| from + i + 1));
                prop_assert_eq!(word.next_match(&data, from), want, "from {}", from);
            }
        }
    }

    fn id_line() -> impl Strategy<Value = &'static str> {
        prop::sample::select([OTHER_SHAPES.as_slice(), &[
            "Nov 27 10:00:03 mx postfix/qmgr[70]: 4F1b2C3d4E: removed\n",
            "Nov 27 10:00:03 mx postfix/qmgr[170]: 4F1b2C3d4X: removed\n",
            "Nov 27 10:00:03 mx postfix/qmgr[070]: x: removed\n",
            "Nov 27 10:00:03 mx postfix/qmgr[+70]: x: removed\n",
            "Nov 27 10:00:03 mx postfix/smtp[71]: x: to=<a@b>, relay=h[1.2.3.4]:25 70]: \n",
            "Nov 27 10:00:03 mx postfix/smtp[71]: 4F1b2C3d4X: status=sent (queued as 4F1b2C3d4E)\n",
            "Nov 27 10:00:03 mx sm-mta[4242]: STARTTLS=client, relay=h\r\n",
            "Nov 27 10:00:03 mx sm-mta[14242]: STARTTLS=client, relay=h\n",
            "Nov 27 10:00:03 mx sm-mta[99]: x: relay=MX.Example.ORG [1.2.3.4]\n",
            "2026-11-27 10:00:00 1aZ1HS-0006iF-Rk => bob@example.com R=local\n",
            "2026-11-27 10:00:00 [4242] 1aZ1HS-0006iF-Rx Completed\n",
            "no newline 4242]: ",
        ]].concat())
    }

    proptest! {
        /// A few process and queue ids are searched for ([`Needles::candidates`]), many are
        /// looked up line by line: both keep the lines `is_match` keeps, from any line.
        #[test]
        fn searched_and_looked_up_ids_find_the_same_lines(
            lines in prop::collection::vec(id_line(), 0..30),
        ) {
            let few = Needles::new(
                ["MX.Example.ORG", "STARTTLS=server"],
                [70, 4242],
                ["4F1b2C3d4E", "1aZ1HS-0006iF-Rk"],
            ).expect("needles");
            prop_assert!(few.candidates.is_some());
            let many_ids: Vec<String> = (0..40).map(|i| format!("AAAA{i:06}")).chain(["4F1b2C3d4E".to_owned()]).collect();
            let many = Needles::new(["MX.Example.ORG".to_owned()], [70, 4242], many_ids).expect("needles");
            prop_assert!(many.candidates.is_none());
            let pids_only = Needles::new(Vec::<String>::new(), [70], []).expect("needles");
            prop_assert!(pids_only.candidates.is_some());
            let data = lines.concat().into_bytes();
            let mut starts = vec![0];
            starts.extend(memchr::memchr_iter(b'\n', &data).map(|i| i + 1));
            for from in starts {
                for n in [&few, &many, &pids_only] {
                    prop_assert_eq!(n.next_match(&data, from), reference(n, &data, from), "from {}", from);
                }
            }
            let words_only = Needles::new(["MX.Example.ORG", "STARTTLS"], [], []).expect("needles");
            for n in [&few, &many, &pids_only, &words_only] {
                walk_agrees(n, &data)?;
            }
        }
    }

    fn split_line() -> impl Strategy<Value = &'static str> {
        prop::sample::select([OTHER_SHAPES.as_slice(), &[
            "Nov 27 10:00:03 mx sm-mta[70]: STARTTLS=server, relay=mail-out.other.example, version=TLSv1.3\n",
            "Nov 27 10:00:03 mx sm-mta[71]: STARTTLS=server: file /etc/mail/key.pem unsafe\n",
            "Nov 27 10:00:03 mx sm-mta[72]: x: to=<a@b>, relay=MAIL-OUT.Wonka1.example.org. [192.0.2.1]\n",
            "Nov 27 10:00:03 mx sm-mta[72]: x: to=<a@b>, relay=mail-out.wonka1.example.org. [192.0.2.1]\n",
            "Nov 27 10:00:03 mx postfix/smtp[73]: 4F1b2C3d4E: to=<a@b>, relay=mail-out.wonka2.example.org\n",
            "Nov 27 10:00:03 mx postfix/qmgr[74]: 4F1b2C3d4E: removed\n",
            "Nov 27 10:00:03 mx postfix/smtpd[75]: warning: hostname x does not resolve\n",
            "Nov 27 10:00:03 mx dovecot[76]: imap-login: driver: ver: ent: ing: \n",
            "Nov 27 10:00:03 mx kernel: error",
            "rver: \n",
            "LS=client: \n",
            "STARTTLS=client: \n",
        ]].concat())
    }

    proptest! {
        /// A peer's spellings searched apart from the other words ([`Needles::with_rare`]):
        /// the lines kept are those `is_match` keeps, from any line; keys that are not
        /// the end of their whole word (`ver: ` without `STARTTLS=ser` before it) find no
        /// line.
        #[test]
        fn rare_words_apart_find_the_same_lines(
            lines in prop::collection::vec(split_line(), 0..30),
        ) {
            let others = ["error", "warning: ", "STARTTLS=server: ", "STARTTLS=client: ", "unsafe"];
            let rare = ["MAIL-OUT.Wonka1.example.org", "mail-out.wonka1.example.org"];
            let words = Needles::with_rare(rare, others, [], []).expect("needles");
            let ids = Needles::with_rare(rare, others, [75], ["4F1b2C3d4E"]).expect("needles");
            let no_rare = Needles::with_rare([], others, [70], []).expect("needles");
            let data = lines.concat().into_bytes();
            let mut starts = vec![0];
            starts.extend(memchr::memchr_iter(b'\n', &data).map(|i| i + 1));
            for from in starts {
                for n in [&ids, &no_rare] {
                    prop_assert!(n.split.is_some());
                    prop_assert_eq!(n.next_match(&data, from), reference(n, &data, from), "from {}", from);
                }
                // Words alone: the first line holding one (`{`/`<` lines are not read).
                let want = data[from..]
                    .split_inclusive(|&b| b == b'\n')
                    .scan(from, |at, l| { let s = *at; *at += l.len(); Some((s, l)) })
                    .find(|(_, l)| words.has_word(l))
                    .map(|(s, _)| s);
                prop_assert_eq!(words.next_match(&data, from), want, "from {}", from);
            }
            for n in [&words, &ids, &no_rare] {
                walk_agrees(n, &data)?;
            }
        }
    }

    #[test]
    fn ids_of_another_length_are_not_looked_up_but_still_match_when_equal() {
        let n = Needles::new(["nothing-here"], [7], ["ABCDE12345"]).expect("needles");
        let line = |s: &str| n.is_match(s.as_bytes());
        assert!(line(
            "Nov 27 10:00:03 mx postfix/qmgr[70]: ABCDE12345: removed"
        ));
        assert!(!line(
            "Nov 27 10:00:03 mx postfix/qmgr[70]: ABCDE1234: removed"
        ));
        assert!(!line(
            "Nov 27 10:00:03 mx postfix/qmgr[70]: ABCDE123456: removed"
        ));
        assert!(line("Nov 27 10:00:03 mx postfix/qmgr[7]: x: removed"));
        assert!(line("Nov 27 10:00:03 mx postfix/qmgr[+7]: x: removed"));
        assert!(!line(
            "Nov 27 10:00:03 mx postfix/qmgr[99999999999]: x: removed"
        ));
        let big = Needles::new(["nothing-here"], [PID_BITS + 5, 64], []).expect("needles");
        assert!(!big.ids_in_words && !n.ids_in_words);
        let pid = |p: u32| big.is_match(format!("Nov 27 10:00:03 mx sm-mta[{p}]: x").as_bytes());
        assert!(pid(PID_BITS + 5) && pid(64));
        assert!(!pid(PID_BITS + 4) && !pid(65) && !pid(0) && !pid(5));
    }
}
