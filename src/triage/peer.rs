//! One peer's story: its posture, what changed and when, its errors, and the mail it
//! deferred or bounced for TLS reasons, each with a likely cause.
//!
//! Everything is folded from the same records the other commands use: the posture is
//! [`Posture::add`] over the peer's records, the local-error windows are the ones `scan`
//! finds ([`crate::analysis::downgrade`], computed by the command over every record, since any TLS
//! session on the host shows that our TLS works again), kept when they touch this peer,
//! the error kinds are the peer's `Error` records. Only the change spans are new: consecutive records of one direction
//! and one log host with the same TLS state (`TLSv1.3 verify=OK`, `plaintext`) joined into one span.
//!
//! Spans are per log host because two of our MTAs that talk to the same peer are two
//! postures, not one that flips: logs of `mx1` (TLS with the peer) and `mx2` (no STARTTLS
//! offered) read together are "TLS at mx1, plaintext at mx2", not "23 changes between TLS
//! and plaintext, now plaintext".

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset};
use compact_str::CompactString;
use serde::Serialize;

use super::causes::{self, Reason};
use super::collect::{Detail, Item};
use super::term::{Painter, Tone, clean};
use crate::analysis::downgrade::{HostKey, Window, host_key, host_name, is_host};
use crate::analysis::posture::{PeerPosture, Posture};
use crate::model::{DeliveryStatus, Direction, Source, TlsErrorKind, TlsParams};
use crate::model::{Encryption, Record};

type Time = DateTime<FixedOffset>;

/// Consecutive records of one direction in the same TLS state, where a state is plaintext,
/// TLS with unknown parameters, or a protocol version with verification that passed or
/// not. A change between two spans is a real change (TLS ↔ plaintext, another protocol,
/// verification won or lost); a few sessions of another verify word or version between two
/// sessions of one state (a peer with several outbound hosts, one without a client
/// certificate) are variation, folded into the span and counted in [`Span::verify`] and
/// [`Span::versions`], so a busy peer's story is not a list of every flip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Span {
    /// The posture key of the peer (a domain question matches several hosts).
    pub peer: String,
    pub direction: Direction,
    /// Our log host whose records these are (for a log without a host field, its input
    /// file: [`crate::analysis::downgrade::host_name`], as the windows name it).
    pub host: String,
    /// `TLSv1.3 verify=OK`, `TLS (parameters unknown)`, `plaintext`: the state's protocol
    /// and its most frequent verify word.
    pub state: String,
    pub tls: bool,
    pub first: Option<Time>,
    pub last: Option<Time>,
    /// Sessions and messages in the span.
    pub records: u64,
    pub first_source: Source,
    /// How many of the span's TLS sessions had each verify word (`OK: 812, FAIL: 3`).
    #[serde(skip_serializing_if = "Counts::is_empty")]
    pub verify: Counts,
    /// How many of the span's TLS sessions used each protocol version.
    #[serde(skip_serializing_if = "Counts::is_empty")]
    pub versions: Counts,
    #[serde(skip)]
    class: Class,
    /// Verify words of every record (sessions and messages), for the state's label when
    /// the logs show messages without their session (emptied once the state is named).
    #[serde(skip)]
    words: Counts,
}

/// Counts by word, in the words' order, serialised as a JSON object (as a `BTreeMap` is):
/// a span has one or two words in each, and a busy peer has tens of thousands of spans,
/// whose three `BTreeMap`s (a node of room for eleven entries each) were most of the
/// memory of its story.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Counts(Vec<(CompactString, u64)>);

impl Counts {
    /// Adds `n` to `word`'s count.
    pub fn add(&mut self, word: &str, n: u64) {
        match self.0.binary_search_by(|(w, _)| w.as_str().cmp(word)) {
            Ok(i) => {
                if let Some(e) = self.0.get_mut(i) {
                    e.1 += n;
                }
            }
            Err(i) => {
                // Room for exactly one more: most counts hold one or two words.
                self.0.reserve_exact(1);
                self.0.insert(i, (CompactString::from(word), n));
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The words and their counts, in the words' order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.0.iter().map(|(w, n)| (w.as_str(), *n))
    }

    /// The count of `word` (0 when not counted).
    pub fn get(&self, word: &str) -> u64 {
        self.iter().find(|(w, _)| *w == word).map_or(0, |(_, n)| n)
    }
}

impl Serialize for Counts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (w, n) in &self.0 {
            m.serialize_entry(w.as_str(), n)?;
        }
        m.end()
    }
}

/// What the records of one span share; see [`Span`].
#[derive(Debug, Clone, PartialEq, Eq)]
enum Class {
    Plain,
    TlsUnknown,
    Tls { version: String, verified: bool },
}

/// A run of another TLS state shorter than this many records (about two sessions with
/// their messages), with more of the log after it, is variation within the span around
/// it rather than a change. Plaintext is never variation: every message in clear counts.
pub const VARIATION_RECORDS: u64 = 4;

/// More spans than this for one peer and direction make the headline a summary (how many
/// changes, between which states, the state now) instead of the list of each.
pub const HEADLINE_SPANS: usize = 3;

/// More spans than this for one peer and direction are summarised per state (count,
/// first, last) rather than listed one by one.
pub const MAX_LISTED: usize = 8;

impl Span {
    fn new(key: &RunKey, class: Class, m: &Mark, names: &Names) -> Span {
        let mut s = Span {
            peer: key.0.clone(),
            direction: key.1,
            host: names.get(key.2).to_owned(),
            state: String::new(),
            tls: class != Class::Plain,
            first: m.time,
            last: m.time,
            records: 0,
            first_source: names.source(m),
            verify: Counts::default(),
            versions: Counts::default(),
            class,
            words: Counts::default(),
        };
        s.add(m, names);
        s
    }

    /// Counts one more record of this span's state.
    fn add(&mut self, m: &Mark, names: &Names) {
        self.records += 1;
        if let Some(w) = m.word() {
            self.words.add(names.get(w), 1);
        }
        // Sessions only, as the posture counts them: a message rides on its session.
        if let Some((verify, version)) = m.session() {
            self.verify.add(names.get(verify), 1);
            self.versions.add(names.get(version), 1);
        }
        let t = m.time;
        self.last = t.or(self.last);
        if self.first.is_none() {
            self.first = t;
        }
    }

    /// Takes in another span (variation, or the same state again): counts, first, last.
    fn absorb(&mut self, o: Span) {
        self.records += o.records;
        for (k, v) in o.verify.iter() {
            self.verify.add(k, v);
        }
        for (k, v) in o.versions.iter() {
            self.versions.add(k, v);
        }
        for (k, v) in o.words.iter() {
            self.words.add(k, v);
        }
        if o.first.is_some() && (self.first.is_none() || o.first < self.first) {
            self.first = o.first;
            self.first_source = o.first_source;
        }
        if o.last.is_some() && o.last > self.last {
            self.last = o.last;
        }
    }

    /// Sets [`Span::state`] from the class and the words counted.
    fn label(&mut self) {
        self.state = match &self.class {
            Class::Plain => "plaintext".to_owned(),
            Class::TlsUnknown => "TLS (parameters unknown)".to_owned(),
            Class::Tls { version, verified } => {
                let word = self
                    .words
                    .iter()
                    .filter(|(w, _)| is_verified(w) == *verified)
                    .max_by_key(|&(w, n)| (n, std::cmp::Reverse(w)))
                    .map_or("?", |(w, _)| w);
                format!("{version} verify={word}")
            }
        };
        self.words = Counts::default();
    }
}

fn is_verified(word: &str) -> bool {
    matches!(word, "OK" | "TRUSTED")
}

/// `OK 812, FAIL 3`: most frequent first.
pub fn distribution<'a>(counts: impl IntoIterator<Item = (&'a str, u64)>) -> String {
    let mut v: Vec<(&str, u64)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    v.iter()
        .map(|(k, n)| format!("{} {n}", clean(k)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a run of spans is kept apart by: the peer key, the direction and our log host
/// (its name's index in [`Names`]).
type RunKey = (String, Direction, u32);

/// Folds one peer, direction and host's runs (in time order), one at a time: short TLS runs
/// with more after them go into a TLS neighbour ([`VARIATION_RECORDS`]), then neighbours
/// of one state join. Runs are taken in as they end, so a busy peer's raw runs (more
/// than its spans) are never all held.
#[derive(Debug, Default)]
struct RunFold {
    out: Vec<Span>,
    /// Short runs after plaintext (or at the start), waiting for the next TLS run.
    carry: Option<Span>,
    /// The run being counted (its state may go on).
    open: Option<Span>,
}

impl RunFold {
    /// Counts one record of the next state: into the open run when it is of the same
    /// class, else the open run is done (with more after it) and a new one opens.
    fn add(&mut self, class: &Class, key: &RunKey, m: &Mark, names: &Names) {
        match &mut self.open {
            Some(s) if s.class == *class => s.add(m, names),
            _ => {
                let next = Span::new(key, class.clone(), m, names);
                if let Some(done) = self.open.replace(next) {
                    self.step(done, true);
                }
            }
        }
    }

    /// Takes in one finished run; `more` when runs follow it.
    fn step(&mut self, mut r: Span, more: bool) {
        if r.tls && r.records < VARIATION_RECORDS && more {
            match (self.out.last_mut().filter(|p| p.tls), self.carry.as_mut()) {
                (Some(prev), _) => prev.absorb(r),
                (None, Some(c)) => c.absorb(r),
                (None, None) => self.carry = Some(r),
            }
            return;
        }
        if let Some(c) = self.carry.take() {
            if r.tls {
                r.absorb(c);
            } else {
                self.push(c);
            }
        }
        match self.out.last_mut() {
            Some(prev) if prev.class == r.class => prev.absorb(r),
            _ => self.push(r),
        }
    }

    /// Appends a span: the one before it can take in nothing more and is named now.
    fn push(&mut self, s: Span) {
        if let Some(last) = self.out.last_mut() {
            last.label();
        }
        self.out.push(s);
    }

    /// The folded spans, each named.
    fn done(mut self) -> Vec<Span> {
        if let Some(r) = self.open.take() {
            self.step(r, false);
        }
        if let Some(last) = self.out.last_mut() {
            last.label();
        }
        self.out
    }
}

/// The first and last of one kind of error of this peer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorSpan {
    pub kind: TlsErrorKind,
    pub count: u64,
    pub first: Occurrence,
    pub last: Occurrence,
}

/// One dated line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Occurrence {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<Time>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    pub source: Source,
    pub text: String,
    /// The reason logged beside an error line (Postfix's `TLS library problem: … no
    /// shared cipher` after `SSL_accept error from …: -1`): the line says that, this why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A deferred or bounced message whose reason is TLS-related.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trouble {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<Time>,
    pub queue_id: String,
    pub peer: String,
    pub status: DeliveryStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dsn: Option<String>,
    pub text: String,
    pub reason: &'static str,
    pub likely_cause: &'static str,
    pub source: Source,
}

/// Everything `mailtls peer` says about one peer.
#[derive(Debug, Clone, Serialize)]
pub struct PeerStory {
    pub schema: &'static str,
    pub query: String,
    /// The posture of every peer key the query matched (a domain matches its hosts).
    pub peers: Vec<PeerPosture>,
    pub changes: Vec<Span>,
    pub errors: Vec<ErrorSpan>,
    /// Local TLS errors (keys, certificates) and the plaintext of this peer they explain.
    pub local_windows: Vec<Window>,
    pub troubles: Vec<Trouble>,
    /// Failed STARTTLS attempts per (peer key, direction, log host): what a headline of
    /// clear text only names as its cause (the handshake failed, then the MTA went on
    /// without TLS), where it would otherwise read as a peer that never tried.
    #[serde(skip)]
    pub failed: BTreeMap<(String, Direction, String), BTreeMap<TlsErrorKind, u64>>,
}

/// The TLS state a record shows, when it shows one. Outbound attempts that did not go
/// through show none (they are [`Trouble`]s or errors, not traffic).
fn state_of(r: &Record) -> Option<(Direction, Class)> {
    let class = |p: &TlsParams| Class::Tls {
        version: p.version.to_string(),
        verified: is_verified(&p.verify.to_string()),
    };
    match r {
        Record::Session {
            direction, params, ..
        } => Some((*direction, class(params))),
        Record::Message {
            direction,
            encryption,
            status,
            ..
        } => {
            if *direction == Direction::Outbound && *status != Some(DeliveryStatus::Sent) {
                return None;
            }
            Some(match encryption {
                Encryption::Tls(p) => (*direction, class(p)),
                Encryption::TlsUnknown => (*direction, Class::TlsUnknown),
                Encryption::Plaintext => (*direction, Class::Plain),
            })
        }
        _ => None,
    }
}

fn occurrence(r: &Record, text: &str) -> Occurrence {
    let m = r.meta();
    Occurrence {
        time: m.time,
        host: m.host.as_deref().map(str::to_owned),
        source: m.source.clone(),
        text: text.to_owned(),
        reason: match r {
            Record::Error {
                reason: Some(why), ..
            } if !why.is_empty() && !text.contains(why.as_str()) => Some(why.clone()),
            _ => None,
        },
    }
}

/// Orders items by time (untimed last, by line), so spans follow the log's clock even when
/// correlation released a record late (Postfix waits for qmgr).
pub fn by_time(items: &mut [Item]) {
    items.sort_by(|a, b| {
        let (ma, mb) = (a.record.meta(), b.record.meta());
        (ma.time.is_none(), ma.time, &ma.source).cmp(&(mb.time.is_none(), mb.time, &mb.source))
    });
}

/// Strings a story repeats on most records (verify words, protocol versions, peer keys),
/// held once and named by their index.
#[derive(Debug, Default)]
struct Names {
    list: Vec<String>,
    index: HashMap<String, u32>,
    /// The files of the records' source lines.
    files: Vec<Arc<str>>,
}

impl Names {
    fn id(&mut self, s: String) -> u32 {
        if let Some(&i) = self.index.get(&s) {
            return i;
        }
        let i = self.list.len() as u32;
        self.list.push(s.clone());
        self.index.insert(s, i);
        i
    }

    fn get(&self, i: u32) -> &str {
        self.list.get(i as usize).map_or("", String::as_str)
    }

    /// The index of a file name (a story reads a few files: the last one is asked first).
    fn file_id(&mut self, file: &Arc<str>) -> u32 {
        if let Some(i) = self.files.iter().rposition(|f| **f == **file) {
            return i as u32;
        }
        self.files.push(file.clone());
        (self.files.len() - 1) as u32
    }

    fn file(&self, i: u32) -> &str {
        self.files.get(i as usize).map_or("", |f| &**f)
    }

    /// The source line of a mark.
    fn source(&self, m: &Mark) -> Source {
        Source {
            file: self
                .files
                .get(m.file as usize)
                .cloned()
                .unwrap_or_else(|| Arc::from("")),
            line: m.line,
        }
    }
}

/// What a span needs of one record with a TLS state ([`state_of`]): a few numbers instead
/// of the record, so a busy peer's ~150k records are not held until the end (48 bytes
/// each; words and files are indices into [`Names`], [`NONE`] for none).
#[derive(Debug)]
struct Mark {
    time: Option<Time>,
    line: u64,
    file: u32,
    /// The (peer key, direction, host) of its run, in [`StoryFold::runs`].
    run: u32,
    /// Its state, in [`StoryFold::classes`].
    class: u32,
    /// The verify word of a TLS session or message.
    word: u32,
    /// A session's verify word and protocol version.
    verify: u32,
    version: u32,
}

/// No word: see [`Mark`].
const NONE: u32 = u32::MAX;

// A busy peer holds one mark per record: keep them small.
const _: () = assert!(std::mem::size_of::<Mark>() <= 48);

impl Mark {
    fn word(&self) -> Option<u32> {
        (self.word != NONE).then_some(self.word)
    }

    fn session(&self) -> Option<(u32, u32)> {
        (self.verify != NONE).then_some((self.verify, self.version))
    }

    /// [`time_key`] of the mark.
    fn key<'a>(&self, names: &'a Names) -> (bool, Option<Time>, &'a str, u64) {
        (
            self.time.is_none(),
            self.time,
            names.file(self.file),
            self.line,
        )
    }
}

/// The order of [`by_time`]: by time, untimed last, then by line.
fn time_key(time: Option<Time>, source: &Source) -> (bool, Option<Time>, &Source) {
    (time.is_none(), time, source)
}

/// [`PeerStory::build`] one record at a time, in any order: the posture is a sum, the
/// rest keeps only what it needs of each record (`Mark`, the peer's error lines and
/// troubles) and puts them in time order at the end, exactly as building from the items
/// sorted by [`by_time`] does.
#[derive(Debug, Default)]
pub struct StoryFold {
    posture: Posture,
    names: Names,
    runs: Vec<RunKey>,
    run_index: HashMap<RunKey, u32>,
    /// The host of the last record and its name's index: consecutive records nearly
    /// always share their host, so its name is neither built nor looked up again.
    last_host: Option<(HostKey, u32)>,
    classes: Vec<Class>,
    marks: Vec<Mark>,
    errors: Vec<(TlsErrorKind, Occurrence)>,
    failed: BTreeMap<(String, Direction, String), BTreeMap<TlsErrorKind, u64>>,
    troubles: Vec<Trouble>,
    lo: Option<Time>,
    hi: Option<Time>,
}

impl StoryFold {
    /// Adds one record of the peer (or a local error, which names none and is not part of
    /// the story), with the message facts of its line.
    pub fn add(&mut self, r: &Record, detail: Option<&Detail>) {
        let Some(peer) = r.peer() else { return };
        let meta = r.meta();
        if let Some(t) = meta.time {
            self.lo = Some(self.lo.map_or(t, |lo| lo.min(t)));
            self.hi = Some(self.hi.map_or(t, |hi| hi.max(t)));
        }
        self.posture.add(r);
        if let Some((direction, class)) = state_of(r) {
            let host = match &self.last_host {
                Some((k, id)) if is_host(k, meta) => *id,
                _ => {
                    let id = self.names.id(host_name(meta));
                    self.last_host = Some((host_key(meta), id));
                    id
                }
            };
            let key = (peer.key().unwrap_or_default(), direction, host);
            let run = match self.run_index.get(&key) {
                Some(&i) => i,
                None => {
                    let i = self.runs.len() as u32;
                    self.runs.push(key.clone());
                    self.run_index.insert(key, i);
                    i
                }
            };
            let class = match self.classes.iter().position(|c| *c == class) {
                Some(i) => i as u32,
                None => {
                    self.classes.push(class);
                    (self.classes.len() - 1) as u32
                }
            };
            let params = match r {
                Record::Session { params, .. } => Some(params),
                Record::Message {
                    encryption: Encryption::Tls(p),
                    ..
                } => Some(p),
                _ => None,
            };
            let word = params.map_or(NONE, |p| self.names.id(p.verify.to_string()));
            let (verify, version) = match r {
                Record::Session { params: p, .. } => (
                    self.names.id(p.verify.to_string()),
                    self.names.id(p.version.to_string()),
                ),
                _ => (NONE, NONE),
            };
            let file = self.names.file_id(&meta.source.file);
            self.marks.push(Mark {
                time: meta.time,
                line: meta.source.line,
                file,
                run,
                class,
                word,
                verify,
                version,
            });
        }
        match r {
            Record::Error { kind, text, .. } => {
                // A required STARTTLS the peer did not offer is not an attempt that failed.
                if let Some(d) = r.direction()
                    && !matches!(kind, TlsErrorKind::NotOffered | TlsErrorKind::Policy)
                {
                    let key = (peer.key().unwrap_or_default(), d, host_name(meta));
                    *self
                        .failed
                        .entry(key)
                        .or_default()
                        .entry(*kind)
                        .or_default() += 1;
                }
                self.errors.push((*kind, occurrence(r, text)))
            }
            Record::Message {
                status: Some(status @ (DeliveryStatus::Deferred | DeliveryStatus::Bounced)),
                queue_id,
                peer,
                meta,
                ..
            } => {
                let detail = detail.cloned().unwrap_or_default();
                let text = detail.text.clone().unwrap_or_default();
                if let Some(Reason { label, cause }) = causes::tls_reason(&text) {
                    self.troubles.push(Trouble {
                        time: meta.time,
                        queue_id: queue_id.to_string(),
                        peer: peer.to_string(),
                        status: *status,
                        to: detail.to,
                        dsn: detail.dsn,
                        text,
                        reason: label,
                        likely_cause: cause,
                        source: meta.source.clone(),
                    });
                }
            }
            _ => {}
        }
    }

    /// The story, with the downgrade windows of the whole input.
    pub fn finish(self, query: &str, windows: Vec<Window>) -> PeerStory {
        let StoryFold {
            posture,
            names,
            runs: run_keys,
            classes,
            mut marks,
            mut errors,
            failed,
            mut troubles,
            lo,
            hi,
            ..
        } = self;
        // Stable sorts: records of one time and line keep the order they came in, as in
        // one stable sort of all the items.
        marks.sort_by(|a, b| a.key(&names).cmp(&b.key(&names)));
        errors
            .sort_by(|a, b| time_key(a.1.time, &a.1.source).cmp(&time_key(b.1.time, &b.1.source)));
        troubles.sort_by(|a, b| time_key(a.time, &a.source).cmp(&time_key(b.time, &b.source)));
        let mut by_run: Vec<RunFold> = run_keys.iter().map(|_| RunFold::default()).collect();
        for m in &marks {
            let (Some(f), Some(class), Some(key)) = (
                by_run.get_mut(m.run as usize),
                classes.get(m.class as usize),
                run_keys.get(m.run as usize),
            ) else {
                continue;
            };
            f.add(class, key, m, &names);
        }
        drop(marks);
        // Runs in the order of their peer, direction and host name (not of the hosts'
        // first appearance), so that the order records come in does not show.
        let runs: BTreeMap<(String, Direction, &str), RunFold> = run_keys
            .into_iter()
            .map(|(peer, d, host)| (peer, d, names.get(host)))
            .zip(by_run)
            .collect();
        let mut error_spans: BTreeMap<TlsErrorKind, ErrorSpan> = BTreeMap::new();
        for (kind, o) in errors {
            error_spans
                .entry(kind)
                .and_modify(|e| {
                    e.count += 1;
                    e.last = o.clone();
                })
                .or_insert(ErrorSpan {
                    kind,
                    count: 1,
                    first: o.clone(),
                    last: o,
                });
        }
        let mut changes: Vec<Span> = runs.into_values().flat_map(RunFold::done).collect();
        changes.sort_by_key(|s| (s.first.is_none(), s.first));
        // Local errors matter to this peer when its mail went plaintext through their
        // window, or when they happened while the peer was active.
        let local_windows = windows
            .into_iter()
            .filter(|w| {
                w.peers.keys().any(|k| posture.peers.contains_key(k))
                    || (lo.is_some_and(|lo| w.start >= lo) && hi.is_some_and(|hi| w.start <= hi))
            })
            .collect();
        PeerStory {
            schema: "mailtls.peer/1",
            query: query.to_owned(),
            peers: posture.peers.into_values().collect(),
            changes,
            errors: error_spans.into_values().collect(),
            local_windows,
            troubles,
            failed,
        }
    }
}

impl PeerStory {
    /// Builds the story from the peer's items (in any order: see [`StoryFold`]) and the
    /// downgrade windows of the whole input.
    pub fn build(query: &str, items: &[Item], windows: Vec<Window>) -> PeerStory {
        let mut f = StoryFold::default();
        for it in items {
            f.add(&it.record, it.detail.as_ref());
        }
        f.finish(query, windows)
    }

    /// True when nothing in the inputs was about this peer.
    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }

    /// One sentence per direction: "TLSv1.3 verify=OK until 2026-11-20 10:02, then
    /// plaintext until …" for a few changes; for many, each state once with how often and
    /// when first and last ("plaintext 70 times (70 records), first …, last …"), then
    /// the state now. The local errors that opened a window meanwhile follow, each kind
    /// and host once with its count.
    /// `host`: only that log host's spans and windows (see [`PeerStory::headlines`]).
    pub fn headline(&self, peer: &str, direction: Direction, host: Option<&str>) -> Option<String> {
        let spans: Vec<&Span> = self
            .changes
            .iter()
            .filter(|s| s.direction == direction && s.peer == peer)
            .filter(|s| host.is_none_or(|h| s.host == h))
            .collect();
        if spans.is_empty() {
            return None;
        }
        let mut out = String::new();
        if spans.len() <= HEADLINE_SPANS {
            for (i, s) in spans.iter().enumerate() {
                if i > 0 {
                    out.push_str(", then ");
                }
                out.push_str(&s.state);
                if i + 1 < spans.len() {
                    let _ = write!(out, " until {}", when(s.last));
                }
            }
        } else {
            let states: Vec<&str> = by_state(&spans).iter().map(|g| g.state).collect();
            let now = spans[spans.len() - 1];
            let _ = write!(
                out,
                "{} changes between {}; now {} since {}",
                spans.len() - 1,
                and_list(&states),
                now.state,
                when(now.first)
            );
        }
        // A host's own windows; a window of a host that has no span of this peer goes
        // with every host's sentence.
        let spanned = |h: &str| {
            self.changes
                .iter()
                .any(|s| s.direction == direction && s.peer == peer && s.host == h)
        };
        let windows: Vec<&Window> = self
            .local_windows
            .iter()
            .filter(|w| {
                w.direction == direction && host.is_none_or(|h| w.host == h || !spanned(&w.host))
            })
            // A cause of this sentence only when the peer's mail went through the window in
            // clear text (counted there, or a plaintext span of it overlaps the window): an
            // outage of another day, another role, or one the peer's TLS went on through, is
            // in the section of local errors, not named beside a state it did not cause.
            .filter(|w| {
                w.peers.contains_key(peer)
                    || spans.iter().any(|s| {
                        !s.tls
                            && s.last.is_some_and(|l| l >= w.start)
                            && w.resumed.is_none_or(|r| s.first.is_some_and(|f| f <= r))
                    })
            })
            .collect();
        // All plaintext at this host while another of ours had TLS with the same peer, and
        // no local error of this host to explain it: the peer can do TLS, so the side to
        // look at is ours (this host does not offer STARTTLS, or does not try it).
        if let Some(h) = host
            && spans.iter().all(|s| !s.tls)
            && !windows.iter().any(|w| w.host == h)
        {
            let mut with_tls: Vec<&str> = self
                .changes
                .iter()
                .filter(|s| s.direction == direction && s.peer == peer && s.tls && s.host != h)
                .map(|s| s.host.as_str())
                .collect();
            with_tls.sort_unstable();
            with_tls.dedup();
            if !with_tls.is_empty() {
                let names: Vec<String> = with_tls.iter().map(|h| clean(h).into_owned()).collect();
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                let _ = match direction {
                    Direction::Inbound => write!(
                        out,
                        "; the peer used TLS with {}: does {} offer STARTTLS?",
                        and_list(&names),
                        clean(h)
                    ),
                    Direction::Outbound => write!(
                        out,
                        "; {} used TLS with the peer: does {} try STARTTLS?",
                        and_list(&names),
                        clean(h)
                    ),
                };
            }
        }
        // Clear text only, after failed handshakes: STARTTLS was tried (Sendmail and Exim
        // then retry without it), the peer is not one that never offers or asks for it.
        if spans.iter().all(|s| !s.tls) {
            let mut kinds: BTreeMap<TlsErrorKind, u64> = BTreeMap::new();
            let mine = self.failed.iter().filter(|((p, d, h), _)| {
                p == peer && *d == direction && host.is_none_or(|want| want == h)
            });
            for (_, ks) in mine {
                for (k, n) in ks {
                    *kinds.entry(*k).or_default() += n;
                }
            }
            if !kinds.is_empty() {
                let list: Vec<String> = kinds.iter().map(|(k, n)| format!("{k} ×{n}")).collect();
                let _ = write!(out, "; STARTTLS tried and failed ({})", list.join(", "));
            }
        }
        for g in window_groups(windows.into_iter()) {
            if g.count == 1 {
                let _ = write!(
                    out,
                    "; {} error on {} at {}",
                    g.kinds,
                    clean(&g.host),
                    short(g.first)
                );
            } else {
                let _ = write!(
                    out,
                    "; {} error on {} ×{}, first {}, last {}",
                    g.kinds,
                    clean(&g.host),
                    g.count,
                    short(g.first),
                    short(g.last)
                );
            }
        }
        Some(out)
    }

    /// Every (peer, direction) headline, peers in posture order; one per log host (named)
    /// when the peer's records in that direction come from several of our hosts.
    pub fn headlines(&self) -> Vec<(String, Direction, Option<String>, String)> {
        let mut out = Vec::new();
        for pp in &self.peers {
            for d in [Direction::Inbound, Direction::Outbound] {
                let hosts = self.hosts(&pp.peer, d);
                if hosts.len() <= 1 {
                    if let Some(h) = self.headline(&pp.peer, d, None) {
                        out.push((pp.peer.clone(), d, None, h));
                    }
                    continue;
                }
                for host in hosts {
                    if let Some(h) = self.headline(&pp.peer, d, Some(host)) {
                        out.push((pp.peer.clone(), d, Some(host.to_owned()), h));
                    }
                }
            }
        }
        out
    }

    /// Our log hosts with spans of `peer` in `direction`, by name.
    fn hosts(&self, peer: &str, direction: Direction) -> Vec<&str> {
        let mut hosts: Vec<&str> = self
            .changes
            .iter()
            .filter(|s| s.direction == direction && s.peer == peer)
            .map(|s| s.host.as_str())
            .collect();
        hosts.sort_unstable();
        hosts.dedup();
        hosts
    }

    /// The terminal text. Repetition is counted, never repeated: a state seen many times,
    /// a local error that opened seventy windows and a deferral retried all day are each
    /// one line with a count, the first and the last; variation within a state is a
    /// distribution (`verify: OK 812, FAIL 3`).
    pub fn render(&self, p: &Painter) -> String {
        let mut o = String::new();
        let names: Vec<String> = self
            .peers
            .iter()
            .map(|pp| {
                let ips: Vec<String> = pp.ips.iter().map(|i| i.to_string()).collect();
                if ips.is_empty() {
                    pp.peer.clone()
                } else {
                    format!("{} [{}]", pp.peer, ips.join(", "))
                }
            })
            .collect();
        let _ = writeln!(
            o,
            "{} {}",
            p.paint(Tone::Strong, "Peer"),
            p.paint(Tone::Strong, &self.query)
        );
        let _ = writeln!(o, "  matched: {}", p.paint(Tone::Dim, &names.join(", ")));
        let _ = writeln!(o, "\n{}", p.paint(Tone::Strong, "Posture"));
        for pp in &self.peers {
            for d in [Direction::Inbound, Direction::Outbound] {
                let dp = pp.dir(d);
                if dp.is_empty() {
                    continue;
                }
                let plain = dp.plaintext_messages;
                let _ = writeln!(
                    o,
                    "  {} {}: {}, {}, {} plaintext, {} deferred, {} bounced",
                    p.paint(Tone::Strong, &pp.peer),
                    d.as_str(),
                    plural(dp.tls_sessions, "TLS session"),
                    plural(dp.tls_messages, "TLS message"),
                    p.paint(
                        if plain > 0 { Tone::Bad } else { Tone::Good },
                        &plain.to_string()
                    ),
                    dp.deferred,
                    dp.bounced,
                );
                if !dp.versions.is_empty() || !dp.verify.is_empty() {
                    let _ = writeln!(
                        o,
                        "      versions: {}; verify: {}",
                        distribution(dp.versions.words()),
                        distribution(dp.verify.words())
                    );
                }
            }
        }
        let _ = writeln!(o, "\n{}", p.paint(Tone::Strong, "What changed"));
        for (peer, d, host, h) in self.headlines() {
            // The sentence's clauses on lines of their own: the story, then each local
            // error, so no line runs past the terminal.
            // A story of a few changes breaks after a ", then" when it would not fit.
            let mut clauses = h.split("; ");
            let at = host.map_or(String::new(), |h| format!(" at {}", clean(&h)));
            let head = format!("  {peer} {}{at}: ", d.as_str());
            let story = clauses.next().unwrap_or_default();
            let mut lines: Vec<String> = Vec::new();
            let mut width = head.chars().count();
            for (i, part) in story.split(", then ").enumerate() {
                let part = if i == 0 {
                    part.to_owned()
                } else {
                    format!("then {part}")
                };
                match lines.last_mut() {
                    Some(last) if width + 2 + part.chars().count() <= LINE_WIDTH => {
                        last.push_str(", ");
                        last.push_str(&part);
                        width += 2 + part.chars().count();
                    }
                    Some(last) => {
                        last.push(',');
                        width = 6 + part.chars().count();
                        lines.push(part);
                    }
                    None => {
                        width += part.chars().count();
                        lines.push(part);
                    }
                }
            }
            let _ = writeln!(
                o,
                "  {} {}{at}: {}",
                p.paint(Tone::Strong, &peer),
                d.as_str(),
                p.paint(Tone::Strong, lines.first().map_or("", String::as_str))
            );
            for l in lines.iter().skip(1) {
                let _ = writeln!(o, "      {}", p.paint(Tone::Strong, l));
            }
            for c in clauses {
                let _ = writeln!(o, "      {}", p.paint(Tone::Strong, c));
            }
        }
        for pp in &self.peers {
            for d in [Direction::Inbound, Direction::Outbound] {
                let hosts = self.hosts(&pp.peer, d);
                for host in &hosts {
                    let spans: Vec<&Span> = self
                        .changes
                        .iter()
                        .filter(|s| s.direction == d && s.peer == pp.peer && s.host == *host)
                        .collect();
                    if spans.is_empty() {
                        continue;
                    }
                    // Each peer, direction (and host, when there are several) under a line of
                    // its own: the spans' lines stay short however long the peer's name.
                    let at = if hosts.len() > 1 {
                        format!(" at {}", clean(host))
                    } else {
                        String::new()
                    };
                    let _ = writeln!(
                        o,
                        "\n  {} {}{at}",
                        p.paint(Tone::Strong, &pp.peer),
                        d.as_str()
                    );
                    if spans.len() > MAX_LISTED {
                        for g in by_state(&spans) {
                            let _ = writeln!(
                                o,
                                "    {}  {}, {}, first {}, last {}",
                                p.paint(tone_of(g.state), g.state),
                                times(g.spans),
                                plural(g.records, "record"),
                                p.paint(Tone::Dim, &when(g.first)),
                                p.paint(Tone::Dim, &when(g.last)),
                            );
                        }
                        let _ = writeln!(o, "    the last changes:");
                    }
                    let skip = spans.len().saturating_sub(MAX_LISTED);
                    for s in &spans[skip..] {
                        let span = range(s.first, s.last);
                        let _ = writeln!(
                            o,
                            "    {}  {}  {}  {}",
                            p.paint(Tone::Dim, &span),
                            p.paint(tone_of(&s.state), &s.state),
                            plural(s.records, "record"),
                            p.paint(Tone::Dim, &s.first_source.to_string())
                        );
                        // The variation inside the span, when there is any.
                        let mut parts = Vec::new();
                        if s.versions.len() > 1 {
                            parts.push(format!("versions: {}", distribution(s.versions.iter())));
                        }
                        if s.verify.len() > 1 {
                            parts.push(format!("verify: {}", distribution(s.verify.iter())));
                        }
                        if !parts.is_empty() {
                            let _ =
                                writeln!(o, "        {}", p.paint(Tone::Dim, &parts.join("; ")));
                        }
                    }
                }
            }
        }
        if !self.local_windows.is_empty() {
            let _ = writeln!(
                o,
                "\n{}",
                p.paint(Tone::Strong, "Local TLS errors (our keys, certificates)")
            );
            for g in window_groups(self.local_windows.iter()) {
                let kinds: Vec<String> = g.errors.iter().map(|(k, n)| format!("{k}×{n}")).collect();
                let mine: u64 = g
                    .windows
                    .iter()
                    .flat_map(|w| self.peers.iter().filter_map(|pp| w.peers.get(&pp.peer)))
                    .sum();
                let until = match (g.count, g.resumed, g.open) {
                    (_, None, _) => "not resumed in the logs read".to_owned(),
                    (1, Some(t), _) => format!("TLS works again at {}", when(Some(t))),
                    (_, Some(t), 0) => {
                        format!("TLS back after each, last at {}", when(Some(t)))
                    }
                    (_, Some(_), n) => format!("{n} not resumed in the logs read"),
                };
                let at = if g.count == 1 {
                    when(Some(g.first))
                } else {
                    format!(
                        "{} windows, first {}, last {}",
                        g.count,
                        when(Some(g.first)),
                        when(Some(g.last))
                    )
                };
                let _ = writeln!(
                    o,
                    "  {} on {} {}: {}",
                    p.paint(Tone::Bad, &kinds.join(" ")),
                    clean(&g.host),
                    g.direction.as_str(),
                    at,
                );
                let _ = writeln!(
                    o,
                    "      {}; this peer: {} meanwhile",
                    until,
                    plural(mine, "plaintext message"),
                );
                let _ = writeln!(
                    o,
                    "      first: {}\n        {}",
                    p.paint(Tone::Dim, &g.first_source.to_string()),
                    p.paint(Tone::Dim, &g.first_error)
                );
            }
        }
        if !self.errors.is_empty() {
            let _ = writeln!(o, "\n{}", p.paint(Tone::Strong, "TLS errors by kind"));
            for e in &self.errors {
                let _ = writeln!(o, "  {} ×{}", p.paint(Tone::Bad, e.kind.as_str()), e.count);
                for (label, occ) in [("first", &e.first), ("last", &e.last)] {
                    if label == "last" && e.count == 1 {
                        break;
                    }
                    let _ = writeln!(
                        o,
                        "      {label:<5} {} {}  {}\n            {}",
                        when(occ.time),
                        clean(occ.host.as_deref().unwrap_or("-")),
                        p.paint(Tone::Dim, &occ.source.to_string()),
                        p.paint(Tone::Dim, &occ.text)
                    );
                    if let Some(why) = &occ.reason {
                        let _ = writeln!(o, "            reason: {}", p.paint(Tone::Dim, why));
                    }
                }
            }
        }
        if !self.troubles.is_empty() {
            let _ = writeln!(
                o,
                "\n{}",
                p.paint(Tone::Strong, "Deferred or bounced for TLS reasons")
            );
            // One group per status and reason: a deferral retried all day is one count
            // with its first and last attempt, not a line per retry.
            let mut groups: Vec<(DeliveryStatus, &str, Vec<&Trouble>)> = Vec::new();
            for t in &self.troubles {
                match groups
                    .iter_mut()
                    .find(|g| g.0 == t.status && g.1 == t.reason)
                {
                    Some(g) => g.2.push(t),
                    None => groups.push((t.status, t.reason, vec![t])),
                }
            }
            for (status, reason, ts) in groups {
                let word = match status {
                    DeliveryStatus::Bounced => p.paint(Tone::Bad, "bounced"),
                    _ => p.paint(Tone::Warn, "deferred"),
                };
                let shown: Vec<&Trouble> = if ts.len() <= 3 {
                    ts.clone()
                } else {
                    let _ = writeln!(
                        o,
                        "  {} {} ×{}, first {}, last {}",
                        word,
                        p.paint(Tone::Warn, reason),
                        ts.len(),
                        when(ts[0].time),
                        when(ts[ts.len() - 1].time)
                    );
                    vec![ts[0], ts[ts.len() - 1]]
                };
                for t in &shown {
                    let _ = writeln!(
                        o,
                        "  {} {} {} to=<{}> {}\n      {}",
                        when(t.time),
                        clean(&t.queue_id),
                        word,
                        p.paint(Tone::Strong, t.to.as_deref().unwrap_or("?")),
                        t.dsn
                            .as_deref()
                            .map_or(String::new(), |d| format!("dsn={d}")),
                        p.paint(Tone::Dim, &t.text)
                    );
                }
                let t = ts[0];
                let _ = writeln!(
                    o,
                    "      {} ({})",
                    p.paint(Tone::Warn, &format!("{}:", t.reason)),
                    p.paint(Tone::Dim, &t.source.to_string())
                );
                for line in crate::model::text::wrap(t.likely_cause, PROSE_WIDTH) {
                    let _ = writeln!(o, "        {line}");
                }
            }
        }
        o
    }
}

/// The colour of a state: plaintext bad, verified TLS good, other TLS a warning.
fn tone_of(state: &str) -> Tone {
    if state == "plaintext" {
        Tone::Bad
    } else if state.contains("verify=OK") || state.contains("verify=TRUSTED") {
        Tone::Good
    } else {
        Tone::Warn
    }
}

/// `2026-11-20 10:02:11`, or `?` for records without a time.
pub fn when(t: Option<Time>) -> String {
    t.map_or("?".to_owned(), |t| {
        t.format("%Y-%m-%d %H:%M:%S").to_string()
    })
}

/// `2026-11-21 15:57:00 → 16:27:03` (the date once when both ends share it), or one time.
fn range(first: Option<Time>, last: Option<Time>) -> String {
    match (first, last) {
        (Some(a), Some(b)) if a == b => when(first),
        (Some(a), Some(b)) if a.date_naive() == b.date_naive() => {
            format!("{} → {}", when(first), b.format("%H:%M:%S"))
        }
        _ if first == last => when(first),
        _ => format!("{} → {}", when(first), when(last)),
    }
}

fn short(t: Time) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

/// The headline of a few changes breaks between them to stay within this many columns.
pub const LINE_WIDTH: usize = 96;

/// Prose (likely causes) is wrapped to this many columns, indentation included: it reads
/// on an 80-column terminal.
pub const PROSE_WIDTH: usize = 70;

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn plural(n: u64, one: &str) -> String {
    crate::model::text::count(n, one, &format!("{one}s"))
}

/// `once`, `twice`, `70 times`.
fn times(n: usize) -> String {
    match n {
        1 => "once".to_owned(),
        2 => "twice".to_owned(),
        n => format!("{n} times"),
    }
}

/// The spans of one state, taken together.
struct StateGroup<'a> {
    state: &'a str,
    spans: usize,
    records: u64,
    first: Option<Time>,
    last: Option<Time>,
}

/// The spans grouped by state, in order of first appearance.
fn by_state<'a>(spans: &[&'a Span]) -> Vec<StateGroup<'a>> {
    let mut out: Vec<StateGroup<'a>> = Vec::new();
    for s in spans {
        match out.iter_mut().find(|g| g.state == s.state) {
            Some(g) => {
                g.spans += 1;
                g.records += s.records;
                g.last = s.last.or(g.last);
            }
            None => out.push(StateGroup {
                state: &s.state,
                spans: 1,
                records: s.records,
                first: s.first,
                last: s.last,
            }),
        }
    }
    out
}

/// Local-error windows of one host, direction and error kinds, taken together.
struct WindowGroup {
    host: String,
    direction: Direction,
    /// `private_key` or `private_key/unsafe_file`.
    kinds: String,
    /// Windows, and errors in them per kind.
    count: u64,
    errors: BTreeMap<TlsErrorKind, u64>,
    first: Time,
    last: Time,
    /// Windows still open at the end of the logs read.
    open: u64,
    /// The last time TLS was seen working again.
    resumed: Option<Time>,
    first_error: String,
    first_source: Source,
    windows: Vec<Window>,
}

/// Windows grouped by host, direction and kinds, in order of first start.
fn window_groups<'a>(windows: impl Iterator<Item = &'a Window>) -> Vec<WindowGroup> {
    let mut out: Vec<WindowGroup> = Vec::new();
    for w in windows {
        let kinds = w
            .errors
            .keys()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join("/");
        let at = out
            .iter()
            .position(|g| g.host == w.host && g.direction == w.direction && g.kinds == kinds);
        let at = match at {
            Some(i) => i,
            None => {
                out.push(WindowGroup {
                    host: w.host.clone(),
                    direction: w.direction,
                    kinds,
                    count: 0,
                    errors: BTreeMap::new(),
                    first: w.start,
                    last: w.start,
                    open: 0,
                    resumed: None,
                    first_error: w.first_error.clone(),
                    first_source: w.first_source.clone(),
                    windows: Vec::new(),
                });
                out.len() - 1
            }
        };
        let Some(g) = out.get_mut(at) else { continue };
        g.count += 1;
        for (k, n) in &w.errors {
            *g.errors.entry(*k).or_default() += n;
        }
        g.first = g.first.min(w.start);
        g.last = g.last.max(w.start);
        match w.resumed {
            Some(t) => g.resumed = g.resumed.max(Some(t)),
            None => g.open += 1,
        }
        g.windows.push(w.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Meta;
    use crate::model::{Bits, Mta, Peer, TlsVersion, Verify};
    use chrono::TimeZone;

    /// One inbound session of `peer` at minute `min`: `Some((version, verify))` for TLS,
    /// `None` for a plaintext message.
    fn item(min: u32, line: u64, tls: Option<(TlsVersion, Verify)>) -> Item {
        let meta = Meta {
            time: Some(
                chrono::Utc
                    .with_ymd_and_hms(2026, 11, 20, min / 60, min % 60, 0)
                    .unwrap()
                    .fixed_offset(),
            ),
            host: Some("mx1".into()),
            mta: Mta::Sendmail,
            source: Source {
                file: "mail.log".into(),
                line,
            },
        };
        let peer = Peer::new(Some("mail-out.busy.example"), None);
        let record = match tls {
            Some((v, w)) => Record::Session {
                meta,
                direction: Direction::Inbound,
                peer,
                params: TlsParams::new(v, None, Bits::default(), w).into(),
            },
            None => Record::Message {
                meta,
                direction: Direction::Inbound,
                peer,
                queue_id: compact_str::format_compact!("Q{line}"),
                encryption: Encryption::Plaintext,
                status: None,
            },
        };
        Item {
            record,
            pid: None,
            detail: None,
        }
    }

    fn states(story: &PeerStory) -> Vec<(String, u64)> {
        story
            .changes
            .iter()
            .map(|s| (s.state.clone(), s.records))
            .collect()
    }

    #[test]
    fn verify_flips_between_sessions_are_variation_not_changes() {
        // 40 verified sessions with a failed verification every 7th and a session without a
        // client certificate every 11th: one state, its variation counted.
        let items: Vec<Item> = (0..40u32)
            .map(|i| {
                let w = if i % 7 == 3 {
                    Verify::Fail
                } else if i % 11 == 5 {
                    Verify::No
                } else {
                    Verify::Ok
                };
                item(i, u64::from(i), Some((TlsVersion::Tls1_3, w)))
            })
            .collect();
        let story = PeerStory::build("busy.example", &items, Vec::new());
        assert_eq!(states(&story), [("TLSv1.3 verify=OK".to_owned(), 40)]);
        let s = &story.changes[0];
        let fails = (0..40).filter(|i| i % 7 == 3).count() as u64;
        let nos = (0..40).filter(|i| i % 7 != 3 && i % 11 == 5).count() as u64;
        assert_eq!(s.verify.get("FAIL"), fails);
        assert_eq!(s.verify.get("NO"), nos);
        assert_eq!(s.verify.get("OK"), 40 - fails - nos);
        assert_eq!(
            distribution(s.verify.iter()),
            format!("OK {}, FAIL {fails}, NO {nos}", 40 - fails - nos)
        );
        let h = story
            .headline("mail-out.busy.example", Direction::Inbound, None)
            .unwrap();
        assert_eq!(h, "TLSv1.3 verify=OK");
    }

    #[test]
    fn real_changes_stay_changes() {
        // Verified TLS 1.3, one plaintext message, a lasting verification downgrade, then a
        // lasting protocol downgrade; a single plaintext message is never folded away.
        let mut items = Vec::new();
        let mut line = 0;
        let mut push = |n: u32, tls: Option<(TlsVersion, Verify)>, items: &mut Vec<Item>| {
            for _ in 0..n {
                line += 1;
                items.push(item(line as u32, line, tls.clone()));
            }
        };
        push(10, Some((TlsVersion::Tls1_3, Verify::Ok)), &mut items);
        push(1, None, &mut items);
        push(10, Some((TlsVersion::Tls1_3, Verify::Ok)), &mut items);
        push(10, Some((TlsVersion::Tls1_3, Verify::Fail)), &mut items);
        push(10, Some((TlsVersion::Tls1_2, Verify::Fail)), &mut items);
        let story = PeerStory::build("busy.example", &items, Vec::new());
        let want: Vec<(String, u64)> = [
            ("TLSv1.3 verify=OK", 10),
            ("plaintext", 1),
            ("TLSv1.3 verify=OK", 10),
            ("TLSv1.3 verify=FAIL", 10),
            ("TLSv1.2 verify=FAIL", 10),
        ]
        .iter()
        .map(|(s, n)| ((*s).to_owned(), *n))
        .collect();
        assert_eq!(states(&story), want);
        // A short run at the very end is the state now, not variation.
        push(1, Some((TlsVersion::Tls1_0, Verify::No)), &mut items);
        let story = PeerStory::build("busy.example", &items, Vec::new());
        assert_eq!(story.changes.last().unwrap().state, "TLSv1 verify=NO");
        // Five changes: the headline summarises instead of listing each.
        let h = story
            .headline("mail-out.busy.example", Direction::Inbound, None)
            .unwrap();
        assert!(
            h.starts_with("5 changes between TLSv1.3 verify=OK, plaintext, "),
            "{h}"
        );
        assert!(
            h.ends_with("now TLSv1 verify=NO since 2026-11-20 00:42:00"),
            "{h}"
        );
    }

    #[test]
    fn a_short_run_after_plaintext_joins_the_next_tls_state() {
        // plaintext, one NO session, one FAIL session, then verified TLS: the two short
        // runs are variation of the verified span that follows.
        let items = vec![
            item(0, 1, None),
            item(1, 2, Some((TlsVersion::Tls1_3, Verify::No))),
            item(2, 3, Some((TlsVersion::Tls1_3, Verify::Fail))),
            item(3, 4, Some((TlsVersion::Tls1_3, Verify::Ok))),
            item(4, 5, Some((TlsVersion::Tls1_3, Verify::Ok))),
            item(5, 6, Some((TlsVersion::Tls1_3, Verify::Ok))),
            item(6, 7, Some((TlsVersion::Tls1_3, Verify::Ok))),
        ];
        let story = PeerStory::build("busy.example", &items, Vec::new());
        assert_eq!(
            states(&story),
            [
                ("plaintext".to_owned(), 1),
                ("TLSv1.3 verify=OK".to_owned(), 6)
            ]
        );
        assert_eq!(story.changes[1].first_source.line, 2);
    }

    #[test]
    fn lists_and_repetitions_read_as_words() {
        assert_eq!(and_list(&["a", "b", "c"]), "a, b and c");
        assert_eq!(times(1), "once");
        assert_eq!(times(70), "70 times");
    }

    /// The story folded from records in any order is the one folded in time order: the
    /// command folds them as correlation releases them (not in time order), where the
    /// story was built from the items sorted by time. Same-minute records (ties broken by
    /// line), errors and a deferral with its status text are among them.
    #[test]
    fn the_story_does_not_depend_on_the_order_records_come_in() {
        let versions = [TlsVersion::Tls1_2, TlsVersion::Tls1_3];
        let words = [Verify::Ok, Verify::No, Verify::Fail];
        let mut items: Vec<Item> = (0..90u32)
            .map(|i| {
                let tls = (i % 13 != 4 && i % 29 != 7).then(|| {
                    (
                        versions[(i / 17) as usize % 2].clone(),
                        words[(i % 7 % 3) as usize].clone(),
                    )
                });
                // Pairs of records in one minute.
                item(i / 2, u64::from(1000 - i), tls)
            })
            .collect();
        let mut error = item(20, 5, None);
        let meta = error.record.meta().clone();
        let peer = Peer::new(Some("mail-out.busy.example"), None);
        error.record = Record::Error {
            meta: meta.clone(),
            direction: Some(Direction::Inbound),
            peer: Some(peer.clone()),
            kind: TlsErrorKind::Handshake,
            text: "accept failed=0, reason=no shared cipher".to_owned(),
            reason: None,
        };
        let mut later_error = error.clone();
        if let Record::Error { meta, text, .. } = &mut later_error.record {
            meta.source.line = 2;
            text.push_str(" (again)");
        }
        let mut deferred = item(30, 7, None);
        deferred.record = Record::Message {
            meta,
            direction: Direction::Outbound,
            peer,
            queue_id: "6ARAqieQ030758".into(),
            encryption: Encryption::Plaintext,
            status: Some(DeliveryStatus::Deferred),
        };
        deferred.detail = Some(Detail {
            to: Some("<erin@busy.example>".to_owned()),
            dsn: Some("4.7.1".to_owned()),
            text: Some("Deferred: 403 4.7.0 TLS handshake failed.".to_owned()),
            ..Detail::default()
        });
        items.extend([error, later_error, deferred]);
        let json = |items: &[Item]| {
            serde_json::to_string(&PeerStory::build("busy.example", items, Vec::new()))
                .unwrap_or_default()
        };
        let mut sorted = items.clone();
        by_time(&mut sorted);
        let want = json(&sorted);
        assert!(
            want.contains("TLS handshake failed") && want.contains("(again)"),
            "{want}"
        );
        assert!(
            PeerStory::build("busy.example", &sorted, Vec::new())
                .changes
                .len()
                > 3
        );
        items.reverse();
        assert_eq!(json(&items), want);
        // Interleaved: odd positions first.
        let (odd, even): (Vec<_>, Vec<_>) = sorted
            .iter()
            .cloned()
            .enumerate()
            .partition(|(i, _)| i % 2 == 1);
        let mixed: Vec<Item> = odd.into_iter().chain(even).map(|(_, it)| it).collect();
        assert_eq!(json(&mixed), want);
    }

    /// Two of our MTAs talking to one peer, one with TLS and one in clear, minute after
    /// minute: two steady postures (one per log host), not a peer that flips between TLS
    /// and plaintext; the plaintext host is the one to look at (the peer can do TLS). The
    /// result does not depend on the order records come in.
    #[test]
    fn two_hosts_are_two_postures_not_flips() {
        let at = |it: Item, host: &str| {
            let mut it = it;
            match &mut it.record {
                Record::Session { meta, .. } | Record::Message { meta, .. } => {
                    meta.host = Some(host.into());
                }
                _ => {}
            }
            it
        };
        let mut items: Vec<Item> = (0..20u32)
            .map(|i| {
                if i % 2 == 0 {
                    at(
                        item(i, u64::from(i), Some((TlsVersion::Tls1_3, Verify::Ok))),
                        "mx1",
                    )
                } else {
                    at(item(i, u64::from(i), None), "mx2")
                }
            })
            .collect();
        let story = PeerStory::build("busy.example", &items, Vec::new());
        let spans: Vec<(&str, &str, u64)> = story
            .changes
            .iter()
            .map(|s| (s.host.as_str(), s.state.as_str(), s.records))
            .collect();
        assert_eq!(
            spans,
            [("mx1", "TLSv1.3 verify=OK", 10), ("mx2", "plaintext", 10)]
        );
        let heads: Vec<(Option<String>, String)> = story
            .headlines()
            .into_iter()
            .map(|(_, _, h, t)| (h, t))
            .collect();
        assert_eq!(
            heads,
            [
                (Some("mx1".to_owned()), "TLSv1.3 verify=OK".to_owned()),
                (
                    Some("mx2".to_owned()),
                    "plaintext; the peer used TLS with mx1: does mx2 offer STARTTLS?".to_owned()
                )
            ]
        );
        let text = story.render(&Painter::new(false));
        assert!(
            text.contains("mail-out.busy.example in at mx2: plaintext"),
            "{text}"
        );
        assert!(!text.contains("changes between"), "{text}");
        let want = serde_json::to_string(&story).unwrap_or_default();
        items.reverse();
        let back = PeerStory::build("busy.example", &items, Vec::new());
        assert_eq!(serde_json::to_string(&back).unwrap_or_default(), want);
        // One host: no host named in the sentence.
        let one: Vec<Item> = items
            .into_iter()
            .filter(|it| it.record.meta().host.as_deref() == Some("mx1"))
            .collect();
        let story = PeerStory::build("busy.example", &one, Vec::new());
        assert_eq!(story.headlines()[0].2, None);
    }

    /// Span counts serialise exactly as the `BTreeMap` they replace.
    #[test]
    fn counts_serialise_as_a_sorted_map() {
        let mut c = Counts::default();
        let mut m: BTreeMap<String, u64> = BTreeMap::new();
        for (w, n) in [
            ("OK", 3),
            ("FAIL", 1),
            ("NO", 2),
            ("OK", 4),
            ("TRUSTED", 1),
            ("FAIL", 5),
        ] {
            c.add(w, n);
            *m.entry(w.to_owned()).or_default() += n;
        }
        assert_eq!(
            serde_json::to_string_pretty(&c).unwrap_or_default(),
            serde_json::to_string_pretty(&m).unwrap_or_default()
        );
        assert_eq!(c.len(), 4);
        assert_eq!(c.get("FAIL"), 6);
        assert_eq!(c.get("NOT"), 0);
        assert!(Counts::default().is_empty());
    }
}
