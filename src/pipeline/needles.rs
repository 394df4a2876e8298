//! The needles of a narrowed read: `peer` and `message` ask about one peer or one
//! message, so the pipeline parses only the lines that can matter to it (triage widens the
//! needles until the answer is the same as a full read's: `triage::scope`).

use std::collections::{BTreeSet, HashSet};
use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, Input, MatchKind};
use memchr::memmem;

/// Which lines a narrowed read keeps: those holding one of a few words (the peer's name or
/// address, a Message-ID, the local-error words), searched together ASCII
/// case-insensitively, or whose process id or queue id (read at their fixed place: after
/// `prog[pid]: `, or an Exim id near the start) is one of the sets. Ids are looked up, not
/// searched for: a busy peer has thousands of them, and a search for thousands of patterns
/// is slower than parsing.
#[derive(Debug, Clone)]
pub struct Needles {
    searcher: Option<AhoCorasick>,
    patterns: Vec<String>,
    pids: HashSet<u32>,
    ids: HashSet<Vec<u8>>,
}

/// `]: ` ends the syslog `prog[pid]` tag.
static TAG_END: LazyLock<memmem::Finder<'static>> = LazyLock::new(|| memmem::Finder::new(b"]: "));

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
        let pids: HashSet<u32> = pids.into_iter().collect();
        let ids: HashSet<Vec<u8>> = ids
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
        Some(Needles {
            searcher,
            patterns,
            pids,
            ids,
        })
    }

    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// True when `line` (without its newline) is to be parsed.
    pub fn is_match(&self, line: &[u8]) -> bool {
        self.searcher.as_ref().is_some_and(|s| s.is_match(line)) || self.id_match(line)
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
        match TAG_END.find(line) {
            Some(end) => {
                let open = memchr::memrchr(b'[', &line[..end]).map_or(end, |i| i + 1);
                let pid = std::str::from_utf8(&line[open..end])
                    .ok()
                    .and_then(|p| p.parse::<u32>().ok());
                if pid.is_some_and(|p| self.pids.contains(&p)) {
                    return true;
                }
                let rest = &line[end + 3..];
                let tok = rest
                    .iter()
                    .position(|&b| b == b':' || b == b' ')
                    .map_or(rest, |i| &rest[..i]);
                self.ids.contains(tok)
            }
            // Exim's own mainlog: the message id follows the stamp (and a +pid or zone).
            None => line
                .split(|&b| b == b' ')
                .skip(2)
                .take(3)
                .any(|t| self.ids.contains(t)),
        }
    }

    /// Offset of the start of the first line at or after `from` (a line start) that
    /// [`Needles::is_match`] keeps. The words are searched once over the block (SIMD),
    /// not line by line; only the id lookup looks at each line.
    pub fn next_match(&self, data: &[u8], from: usize) -> Option<usize> {
        let next_word = |at: usize| {
            self.searcher.as_ref().and_then(|s| {
                s.find(Input::new(data).span(at..data.len()))
                    .map(|m| m.start())
            })
        };
        let mut word = if from < data.len() {
            next_word(from)
        } else {
            None
        };
        let by_line = !self.pids.is_empty() || !self.ids.is_empty();
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
                word = next_word(pos);
            }
        }
        None
    }
}
