//! Narrowing a read to the lines that can matter for one peer or one message.
//!
//! A triage question ("what happened with example.org?", "where did message X go?") names
//! one peer or one id, but a log names it only on some of the lines that decide the
//! answer. Sendmail's `QID: to=…, relay=peer` names the relay, yet the `STARTTLS=client`
//! line of the same process and a `connect failed=` error before it are tied to it only by
//! the process id; Postfix's qmgr and cleanup lines carry the queue id alone. Parsing only
//! the lines that contain the peer's name would give a different (wrong) answer.
//!
//! So the read is **widened by ids** ([`Needles`]):
//!
//! 1. *Seed pass*: one multi-pattern search (aho-corasick, whose SIMD Teddy search is built
//!    on memchr) finds the lines holding the peer's name or address (or the queue id /
//!    Message-ID asked about). From each, the real parsers take the ids that correlation
//!    keys on: the process id, the queue id, and for a message the Message-ID and the next
//!    hop's queue id (`stat=Sent (QID …)`, `queued as QID`, `id=…`).
//! 2. For a message, repeat with the new ids until nothing new turns up (so a chain of
//!    MTAs is followed, forwards and backwards); process ids are taken only from lines
//!    that name a peer (a qmgr or queue-runner pid would pull in most of the log and
//!    decides nothing). A new id that holds one already searched for (a Message-ID made
//!    of the queue id) can only be on lines already found: no pass is made for it, so a
//!    message's question usually costs one widening read, not two.
//! 3. *Final read*: the pipeline parses only the lines holding a seed or one of
//!    [`LOCAL_ERROR_NEEDLES`] (local key/certificate errors name no peer but explain a
//!    peer's downgrade), or whose process id or queue id, read at its fixed place
//!    (`prog[pid]: QID: …`, Exim's id after the stamp), is one of those found. A busy peer
//!    has thousands of ids: looking them up costs a hash probe per line, where searching
//!    for thousands of patterns would cost more than parsing. A message has a few: they
//!    are searched for with the words (`QID`, `PID]: `), and only the lines they hit are
//!    read for their ids ([`Needles`]). Every other line is counted, not parsed.
//!
//! Words match ASCII case-insensitively: host names are, and a superset of lines only
//! costs time, never correctness. Process ids are not told apart by host (a superset
//! again). That the narrowed answer equals the full one is a test (`tests/it/triage_scope.rs`),
//! on every peer of the sample logs and on a generated log.
//!
//! Standard input cannot be read twice; with `-` among the inputs nothing is narrowed.
//!
//! One piece of correlation state is global rather than keyed by process or queue id, and
//! could in principle differ on a narrowed read (it does not occur in the samples or the
//! generated logs the equality tests read): Postfix's "no qmgr line at all in the input"
//! (inbound messages never confirmed by qmgr are released at the end only then). Exim's
//! sessions are keyed by message id and peer (`correlate/exim.rs`), so lines skipped by the
//! narrowing change nothing.

use std::collections::BTreeSet;
use std::io;
use std::net::IpAddr;
use std::sync::{Arc, mpsc};

use memchr::memmem;
use rayon::prelude::*;

use crate::input::{self, Block, BlockPool, BlockReader, SourceFile};
use crate::model::{EventKind, Mta};
use crate::parse::{self, LineOutcome};
use crate::pipeline::Needles;

/// Words found on every line that can carry a local (peer-less) TLS configuration error:
/// Sendmail `STARTTLS=server, error: SSL_CTX_use_PrivateKey_file…` and `…: file … unsafe`,
/// Postfix `warning:`/`fatal:`/`error:`/`panic:` lines, Exim `TLS error …`.
pub const LOCAL_ERROR_NEEDLES: &[&str] = &[
    "error",
    "warning: ",
    "fatal: ",
    "panic: ",
    "unsafe",
    "STARTTLS: ",
    "STARTTLS=server: ",
    "STARTTLS=client: ",
];

/// Passes after which a message trace stops widening (a longer chain is cut off).
pub const MAX_PASSES: usize = 8;

/// What a triage question is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Question {
    /// A host name, a domain (its hosts) or an IP address.
    Peer(String),
    /// A queue id (Sendmail, Postfix, Exim message id) or a Message-ID.
    Message(String),
}

/// The ids found while widening, and the needles of the final read.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// What the final read searches for; `None` when the read cannot be narrowed (stdin).
    pub needles: Option<Arc<Needles>>,
    /// Queue ids seen on the lines of the question (for a message: its whole chain).
    pub queue_ids: BTreeSet<String>,
    /// Message-IDs seen, without angle brackets.
    pub message_ids: BTreeSet<String>,
    /// Process ids of the lines that named the peer (for a message: a peer).
    pub pids: BTreeSet<u32>,
    /// Passes over the inputs made to find them.
    pub passes: usize,
    /// Lines that held a seed or id in the last pass.
    pub lines_matched: u64,
}

/// The seed needles of a peer: the name or address as given, and an address in its
/// canonical spelling too (`2001:DB8::1` is logged `2001:db8::1`).
pub fn peer_seeds(peer: &str) -> Vec<String> {
    let p = peer.trim().trim_end_matches('.');
    let mut seeds = vec![p.to_owned()];
    if let Ok(ip) = p.trim_matches(['[', ']']).parse::<IpAddr>() {
        seeds.push(ip.to_string());
    }
    seeds
}

/// A queue id or Message-ID as given, without angle brackets.
pub fn message_seed(id: &str) -> String {
    id.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_owned()
}

/// Widens `question` over `sources` (see the module doc). I/O errors of a source are
/// returned: the caller reads everything instead.
pub fn widen(sources: &[SourceFile], question: &Question, max_line: usize) -> io::Result<Scope> {
    let mut scope = Scope::default();
    if sources.iter().any(|s| s.path.is_none()) {
        return Ok(scope);
    }
    let (seeds, is_message) = match question {
        Question::Peer(p) => (
            peer_seeds(p)
                .into_iter()
                .map(|s| s.to_ascii_lowercase())
                .collect::<Vec<_>>(),
            false,
        ),
        Question::Message(m) => (vec![message_seed(m)], true),
    };
    // How the peer is spelled in these logs (host names are case-insensitive): the final
    // read searches for exactly these spellings.
    let mut spellings: BTreeSet<String> = BTreeSet::new();
    let mut wanted: BTreeSet<String> = seeds.iter().cloned().collect();
    loop {
        scope.passes += 1;
        let ids: Vec<&String> = if is_message {
            wanted.iter().collect()
        } else {
            Vec::new()
        };
        let Some(n) = Needles::new(&wanted, [], ids) else {
            return Ok(scope);
        };
        let mut found = Found::default();
        for src in sources {
            // The lines are searched and their ids read on the pool; only the sets are
            // filled here, in order.
            scan_source(
                src,
                &n,
                max_line,
                !is_message,
                |line, folded| {
                    let mut spelled = Vec::new();
                    if !is_message {
                        for seed in &seeds {
                            for at in memmem::find_iter(folded, seed.as_bytes()) {
                                let orig = &line[at..at + seed.len()];
                                spelled.push(String::from_utf8_lossy(orig).into_owned());
                            }
                        }
                    }
                    (spelled, line_ids(line))
                },
                |(spelled, ids)| {
                    spellings.extend(spelled);
                    found.add(ids, is_message);
                },
            )?;
        }
        scope.lines_matched = found.lines;
        scope.queue_ids.extend(found.queue_ids.iter().cloned());
        scope.message_ids.extend(found.message_ids.iter().cloned());
        scope.pids.extend(found.pids);
        let searched = wanted.clone();
        if is_message {
            wanted.extend(found.queue_ids);
            wanted.extend(found.message_ids);
            wanted.extend(found.next_hops);
        }
        // A new id holding one already searched for (a Message-ID made of the queue id,
        // `<2026…Q.4AKA01xK004242@host>`) is only on lines this pass found: the next pass
        // would find the same lines and ids again, so it is not made.
        let finds_more = wanted
            .difference(&searched)
            .any(|w| !finds_no_new_line(w, &searched));
        if !finds_more || scope.passes >= MAX_PASSES {
            break;
        }
    }
    // A message's own ids are few: search for them anywhere (the previous hop's reply names
    // them); a peer's queue ids are many: look them up at their place only.
    let mut ids: BTreeSet<String> = scope.queue_ids.clone();
    let pids = scope.pids.iter().copied();
    scope.needles = if is_message {
        let mut words = wanted;
        ids.extend(words.iter().cloned());
        words.extend(scope.queue_ids.iter().cloned());
        words.extend(LOCAL_ERROR_NEEDLES.iter().map(|s| (*s).to_owned()));
        Needles::new(&words, pids, &ids)
    } else {
        // The peer's spellings are searched apart from the local-error words (whose
        // first bytes, `STAR`, are on many lines): `Needles::with_rare`.
        let local: Vec<String> = LOCAL_ERROR_NEEDLES
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        Needles::with_rare(spellings, local, pids, ids)
    }
    .map(Arc::new);
    Ok(scope)
}

/// True when a pass searching for `id` too finds no line that `searched` did not: `id` (as
/// a needle: trimmed) holds one of `searched`, so every line holding it holds that one,
/// or is blank (no needle at all).
fn finds_no_new_line(id: &str, searched: &BTreeSet<String>) -> bool {
    let id = id.trim();
    id.is_empty()
        || searched
            .iter()
            .map(|s| s.trim())
            .any(|s| !s.is_empty() && id.contains(s))
}

/// Calls `sink` with `map` of every line of `src` that holds a needle, in order. With
/// `fold`, the needles are lower case and are searched in a lower-cased copy of each block
/// (ASCII case folding at memory speed, then the exact SIMD search); `map` gets the
/// original line and its folded copy.
///
/// One thread reads blocks while the rayon pool folds and searches them and runs `map`
/// on their matching lines: a widening pass reads the whole input, and on one thread it
/// was most of a triage question's time (issue 21).
fn scan_source<T: Send>(
    src: &SourceFile,
    needles: &Needles,
    max_line: usize,
    fold: bool,
    map: impl Fn(&[u8], &[u8]) -> T + Sync,
    mut sink: impl FnMut(T),
) -> io::Result<()> {
    let reader = input::open(src)?;
    let batch = (rayon::current_num_threads() * 2).max(2);
    let (tx, rx) = mpsc::sync_channel::<io::Result<Block>>(batch);
    // Searched blocks' buffers go back to the reader (as in the pipeline): a fresh megabyte
    // per block cost its zeroing and page faults, a tenth of a peer's widening.
    let pool = BlockPool::new(2 * batch + 2);
    let reader_pool = pool.clone();
    std::thread::scope(|s| {
        s.spawn(move || {
            let mut br = BlockReader::with_sizes(reader, input::DEFAULT_BLOCK_SIZE, max_line)
                .with_pool(reader_pool);
            loop {
                let next = br.next_block().transpose();
                let Some(item) = next else { return };
                let failed = item.is_err();
                if tx.send(item).is_err() || failed {
                    return;
                }
            }
        });
        let mut ended = false;
        while !ended {
            let mut blocks = Vec::with_capacity(batch);
            while blocks.len() < batch {
                match rx.recv() {
                    Ok(b) => blocks.push(b?),
                    Err(_) => {
                        ended = true;
                        break;
                    }
                }
            }
            let outs: Vec<Vec<T>> = blocks
                .par_iter()
                .map(|b| block_matches(&b.data, needles, max_line, fold, &map))
                .collect();
            for b in blocks {
                pool.put(b.data);
            }
            outs.into_iter().flatten().for_each(&mut sink);
        }
        Ok(())
    })
}

/// `map` of each line of `data` that holds a needle (see [`scan_source`]).
fn block_matches<T>(
    data: &[u8],
    needles: &Needles,
    max_line: usize,
    fold: bool,
    map: &impl Fn(&[u8], &[u8]) -> T,
) -> Vec<T> {
    // The folded copy goes to a buffer kept per thread (a fresh megabyte per block cost
    // page faults).
    thread_local! {
        static LOWER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let search = |hay: &[u8]| {
        let mut out = Vec::new();
        let mut pos = 0;
        while let Some(start) = needles.next_match(hay, pos) {
            let end = memchr::memchr(b'\n', &data[start..]).map_or(data.len(), |i| start + i);
            let line = &data[start..end];
            if line.len() <= max_line {
                let n = line.len() - usize::from(line.ends_with(b"\r"));
                out.push(map(&line[..n], &hay[start..start + n]));
            }
            pos = end + 1;
        }
        out
    };
    if !fold {
        return search(data);
    }
    LOWER.with(|buf| match buf.try_borrow_mut() {
        Ok(mut lower) => {
            lower.clear();
            lower.extend(data.iter().map(u8::to_ascii_lowercase));
            search(&lower)
        }
        Err(_) => search(&data.to_ascii_lowercase()),
    })
}

/// Ids gathered in one pass.
#[derive(Debug, Default)]
struct Found {
    lines: u64,
    queue_ids: BTreeSet<String>,
    message_ids: BTreeSet<String>,
    next_hops: BTreeSet<String>,
    pids: BTreeSet<u32>,
}

impl Found {
    /// Counts one matched line and keeps its ids ([`line_ids`]).
    fn add(&mut self, ids: LineIds, is_message: bool) {
        self.lines += 1;
        let names_peer = ids.names_peer;
        if let Some(q) = ids.queue_id {
            self.queue_ids.insert(q);
        }
        // For a peer every matched line names it; for a message only lines naming a peer
        // tie a process to it (see the module doc).
        if (!is_message || names_peer)
            && let Some(p) = ids.pid
        {
            self.pids.insert(p);
        }
        if is_message {
            self.message_ids.extend(ids.message_ids);
            self.next_hops.extend(ids.next_hops);
        }
    }
}

/// The ids one log line carries.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct LineIds {
    /// The process id from the envelope.
    pub pid: Option<u32>,
    pub queue_id: Option<String>,
    /// The line's event names a peer (a session, message, delivery, verdict or error).
    pub names_peer: bool,
    pub message_ids: Vec<String>,
    /// Queue ids the next MTA gave a message we handed to it.
    pub next_hops: Vec<String>,
}

/// Reads the ids of one line with the real parsers (the envelope for the process, the MTA
/// parser for the queue id), falling back to the `QID: ` prefix of lines no parser keeps
/// (Postfix cleanup `QID: message-id=<…>`, qmgr `QID: removed`).
pub fn line_ids(line: &[u8]) -> LineIds {
    let mut ids = LineIds::default();
    let file: Arc<str> = Arc::from("");
    let text = String::from_utf8_lossy(line);
    let env = parse::envelope::parse(&text);
    ids.pid = env.pid;
    match parse::parse_line(line, &file, 0) {
        LineOutcome::Event(ev) => {
            let mta = ev.mta;
            match ev.kind {
                EventKind::Received(r) => {
                    ids.names_peer = r.peer.is_some();
                    ids.queue_id = Some(r.queue_id.into());
                }
                EventKind::Delivery(d) => {
                    ids.names_peer = !d.is_local();
                    ids.next_hops = next_hop_ids(&d.text, mta);
                    ids.queue_id = Some(d.queue_id.into());
                }
                EventKind::QueueClient { queue_id, .. } => {
                    ids.names_peer = true;
                    ids.queue_id = Some(queue_id.into());
                }
                EventKind::Tls(_) | EventKind::Connect { .. } => ids.names_peer = true,
                EventKind::TlsError(e) => ids.names_peer = e.peer.is_some(),
                EventKind::Policy(p) => ids.names_peer = p.peer.is_some(),
                EventKind::SessionEnd { peer, .. } => ids.names_peer = peer.is_some(),
                EventKind::TlsReady { .. } | EventKind::DaemonStart { .. } => {}
            }
        }
        LineOutcome::Irrelevant | LineOutcome::Malformed(_) => {}
    }
    if ids.queue_id.is_none() {
        ids.queue_id = qid_prefix(env.message).map(str::to_owned);
    }
    ids.message_ids = message_ids(env.message);
    ids
}

/// The `QID` of a `QID: …` message text: 5 to 20 letters and digits (Sendmail's 14,
/// Postfix's 10+ hex or long ids, Exim's `1aZ1HS-0006iF-Rk` with dashes).
pub fn qid_prefix(message: &str) -> Option<&str> {
    let first = message.split([' ', ':']).next()?;
    let rest = &message[first.len()..];
    let ok = (5..=24).contains(&first.len())
        && first
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && first.bytes().any(|b| b.is_ascii_digit())
        && (rest.starts_with(": ") || rest.starts_with(" <=") || rest.starts_with(" =>"));
    ok.then_some(first)
}

/// Message-IDs named on a line: Sendmail `msgid=<…>`, Postfix cleanup `message-id=<…>`,
/// Exim `id=…` on an arrival.
pub fn message_ids(message: &str) -> Vec<String> {
    let mut out = Vec::new();
    let exim_arrival = message.contains(" <= ");
    for key in ["msgid=", "message-id=", " id="] {
        if key == " id=" && !exim_arrival {
            continue;
        }
        let mut rest = message;
        while let Some(i) = rest.find(key) {
            let v = &rest[i + key.len()..];
            let end = v.find([',', ' ']).unwrap_or(v.len());
            let id = message_seed(&v[..end]);
            if id.len() >= 3 && !out.contains(&id) {
                out.push(id);
            }
            rest = &v[end..];
        }
    }
    out
}

/// The queue id a receiving MTA gave a message, from our delivery's status text:
/// Sendmail's `Sent (4ARB2c3Q001234 Message accepted for delivery)`, Postfix's `250 2.0.0
/// Ok: queued as 4F1b2C3d4E`, Exim's `250 OK id=1aZ1HS-0006iF-Rk`.
pub fn next_hop_ids(text: &str, _mta: Mta) -> Vec<String> {
    let clean = |t: &str| {
        t.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '-')
            .to_owned()
    };
    let mut out = Vec::new();
    let words: Vec<&str> = text.split_whitespace().collect();
    for (i, w) in words.iter().enumerate() {
        let next = words.get(i + 1).copied().unwrap_or("");
        let cand = if next.eq_ignore_ascii_case("as") && w.eq_ignore_ascii_case("queued") {
            words.get(i + 2).map(|t| clean(t))
        } else if let Some(v) = w.strip_prefix("id=") {
            Some(clean(v))
        } else if next.eq_ignore_ascii_case("message")
            && words
                .get(i + 2)
                .is_some_and(|t| t.eq_ignore_ascii_case("accepted"))
        {
            Some(clean(w))
        } else {
            None
        };
        if let Some(c) = cand
            && c.len() >= 5
            && c.bytes().any(|b| b.is_ascii_digit())
            && !out.contains(&c)
        {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_holding_a_searched_one_finds_no_new_line() {
        let searched: BTreeSet<String> = ["6AK06i16014388".to_owned(), " ".to_owned()].into();
        assert!(finds_no_new_line(
            "404809.6AK06i16014388@wonka1.example.org",
            &searched
        ));
        assert!(finds_no_new_line("  ", &searched));
        // Another MTA's queue id, or a Message-ID of another spelling: a new pass.
        assert!(!finds_no_new_line("1td2529df0", &searched));
        assert!(!finds_no_new_line("404809.6ak06i16014388@x", &searched));
        assert!(!finds_no_new_line("x", &BTreeSet::new()));
    }

    /// A message's passes: its Message-ID holds its queue id (no pass for it), the next
    /// MTA's queue id does not (a pass, which finds that MTA's lines).
    #[test]
    fn message_passes_only_for_ids_that_can_find_new_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("maillog");
        let log = "\
Nov 20 00:00:00 mx-sm sm-mta[1032]: 6AK00012001032: from=<a@acme0.example>, size=33, class=0, nrcpts=1, msgid=<970.6AK00012001032@acme0.example>, proto=ESMTP, daemon=MTA, relay=mail-out.acme0.example [198.18.0.1]
Nov 20 00:00:01 mx-sm sm-mta[1033]: 6AK00012001032: to=<b@hooli0.example>, delay=00:00:03, mailer=esmtp, pri=1, relay=mx1.hooli0.example. [198.18.0.9], dsn=2.0.0, stat=Sent (OK id=1td2529df0)
Nov 20 00:00:02 mx-ex exim[77]: 1td2529df0 <= a@acme0.example H=mx-sm [198.18.0.2] P=esmtps id=970.6AK00012001032@acme0.example
Nov 20 00:00:03 mx-ex exim[77]: 1td2529df0 Completed
Nov 20 00:00:04 mx-sm sm-mta[1040]: 6AK00099001040: from=<c@d.example>, size=1, class=0, nrcpts=1, msgid=<1.6AK00099001040@d.example>, proto=ESMTP, daemon=MTA, relay=d.example [198.18.0.3]
";
        std::fs::write(&path, log).expect("write");
        let src = [SourceFile {
            path: Some(path.clone()),
            display: Arc::from(path.display().to_string()),
            mtime: None,
            walked: false,
        }];
        let q = |id: &str| widen(&src, &Question::Message(id.to_owned()), 1 << 16).expect("widen");
        // Sendmail's id: its lines name the Message-ID (which holds the id: no pass) and
        // the next hop's id (a second pass, which finds Exim's lines; a third for the ids
        // these add would find nothing new: not made).
        let s = q("6AK00012001032");
        assert_eq!(s.passes, 2);
        assert_eq!(s.lines_matched, 4);
        assert!(s.queue_ids.contains("1td2529df0"));
        // The other message: one pass.
        let s = q("6AK00099001040");
        assert_eq!(s.passes, 1);
        assert_eq!(s.lines_matched, 1);
        let n = s.needles.expect("needles");
        assert!(n.is_match(log.lines().nth(4).unwrap_or_default().as_bytes()));
        assert!(!n.is_match(log.lines().nth(3).unwrap_or_default().as_bytes()));
    }

    #[test]
    fn next_hop_ids_from_status_texts() {
        let rows: &[(&str, &[&str])] = &[
            (
                "Sent (4ASA2c3Q001234 Message accepted for delivery)",
                &["4ASA2c3Q001234"],
            ),
            ("sent (250 2.0.0 Ok: queued as 4F1b2C3d4E)", &["4F1b2C3d4E"]),
            (
                "sent (250 2.0.0 4ASA2c3Q001234 Message accepted for delivery)",
                &["4ASA2c3Q001234"],
            ),
            ("250 OK id=1aZ1HS-0006iF-Rk", &["1aZ1HS-0006iF-Rk"]),
            ("Deferred: 403 4.7.0 TLS handshake failed.", &[]),
            ("Sent (Ok: queued as 4dR7xY1Zq2z9AbC)", &["4dR7xY1Zq2z9AbC"]),
        ];
        for (text, want) in rows {
            assert_eq!(next_hop_ids(text, Mta::Sendmail), *want, "{text}");
        }
    }

    #[test]
    fn ids_of_real_lines() {
        // line, pid, queue id, names a peer, Message-IDs
        type Row<'a> = (&'a str, Option<u32>, Option<&'a str>, bool, &'a [&'a str]);
        let rows: &[Row] = &[
            (
                "Nov 20 10:00:01 relay sm-mta[4242]: 4AKA01xK004242: from=<alice@example.org>, size=1234, class=0, nrcpts=1, msgid=<20261120.abc@example.org>, proto=ESMTPS, daemon=MTA, relay=mail.example.org [192.0.2.7]",
                Some(4242),
                Some("4AKA01xK004242"),
                true,
                &["20261120.abc@example.org"],
            ),
            (
                "Nov 20 10:00:06 mx postfix/cleanup[711]: 4F1b2C3d4E: message-id=<20261120.abc@example.org>",
                Some(711),
                Some("4F1b2C3d4E"),
                false,
                &["20261120.abc@example.org"],
            ),
            (
                "Nov 20 10:00:07 mx postfix/qmgr[700]: 4F1b2C3d4E: removed",
                Some(700),
                Some("4F1b2C3d4E"),
                false,
                &[],
            ),
            (
                "Nov 20 10:00:07 mx CRON[99]: (root) CMD (run-parts /etc/cron.hourly)",
                Some(99),
                None,
                false,
                &[],
            ),
        ];
        for (line, pid, qid, names_peer, msgids) in rows {
            let ids = line_ids(line.as_bytes());
            assert_eq!(ids.pid, *pid, "{line}");
            assert_eq!(ids.queue_id.as_deref(), *qid, "{line}");
            assert_eq!(ids.names_peer, *names_peer, "{line}");
            assert_eq!(ids.message_ids, *msgids, "{line}");
        }
    }

    #[test]
    fn needles_match_words_pids_and_ids_from_an_offset() {
        let n = Needles::new(
            ["MX1.EXAMPLE.ORG"],
            [4242],
            ["3F2A1C0B9D", "1aZ1HS-0006iF-Rk"],
        )
        .unwrap();
        let rows: &[(&str, bool)] = &[
            (
                "Nov 27 10:00:03 relay sm-mta[4245]: x: to=<b@x>, relay=MX1.EXAMPLE.ORG. [192.0.2.1]",
                true,
            ),
            (
                "Nov 27 10:00:03 relay sm-mta[4242]: STARTTLS=client, error: connect failed=-1",
                true,
            ),
            (
                "Nov 27 10:00:03 relay sm-mta[42424]: 6ARA01xK042424: from=<a@b>",
                false,
            ),
            (
                "Nov 27 10:00:03 mx postfix/qmgr[7005]: 3F2A1C0B9D: removed",
                true,
            ),
            (
                "Nov 27 10:00:03 mx postfix/qmgr[7005]: 3F2A1C0B9E: removed",
                false,
            ),
            (
                "2026-11-27 10:00:00 1aZ1HS-0006iF-Rk => bob@example.com R=local",
                true,
            ),
            (
                "2026-11-27 10:00:00 [4242] 1aZ1HS-0006iF-Rk Completed",
                true,
            ),
            (
                "Nov 27 10:00:03 mx exim[77]: 1aZ1HS-0006iF-Rk Completed",
                true,
            ),
            ("Nov 27 10:00:03 mx CRON[4243]: (root) CMD (true)", false),
            ("{\"MESSAGE\":\"anything\",\"_PID\":\"1\"}", true),
        ];
        for (line, want) in rows {
            assert_eq!(n.is_match(line.as_bytes()), *want, "{line}");
        }
        let data = b"a\nb MX1.EXAMPLE.ORG c\nd sm-mta[4242]: e\nf\n";
        let first = n.next_match(data, 0).unwrap();
        assert_eq!(&data[first..first + 3], b"b M");
        let second = n.next_match(data, first + 20).unwrap();
        assert_eq!(&data[second..second + 3], b"d s");
        assert_eq!(n.next_match(data, second + 18), None);
        assert!(Needles::new([" ", ""], [], []).is_none());
    }
}
