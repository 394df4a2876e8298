//! The readable timeline of `mailtls events` on a terminal: records grouped by session.
//!
//! A session is what one MTA process did with one peer in one direction: its TLS
//! negotiation (or none: plaintext), the messages that rode on it and the TLS errors and
//! verdicts about it. Records are grouped by (log host, process id, direction, peer); a
//! new negotiation, or a pause longer than [`SESSION_GAP`], starts a new session of the
//! same key. Peer-less errors (our own keys and certificates) are sessions of their own.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io;

use chrono::Duration;

use super::collect::Item;
use super::peer::when;
use super::term::{Painter, Tone, clean};
use super::trace::encryption_phrase;
use crate::input::{self, BlockReader, SourceFile};
use crate::model::{Direction, Source};
use crate::model::{Encryption, Record};

/// A pause after which the same process and peer count as a new session.
pub const SESSION_GAP: Duration = Duration::minutes(10);

/// One session and its items, in time order.
#[derive(Debug, Clone)]
pub struct Session<'a> {
    pub host: Option<String>,
    pub pid: Option<u32>,
    pub direction: Option<Direction>,
    /// The peer as first named, `None` for local errors.
    pub peer: Option<String>,
    pub items: Vec<&'a Item>,
}

impl Session<'_> {
    /// The negotiation that opened the session, if any.
    pub fn negotiated(&self) -> bool {
        self.items
            .iter()
            .any(|i| matches!(i.record, Record::Session { .. }))
    }
}

type Key = (
    Option<String>,
    Option<u32>,
    Option<Direction>,
    Option<String>,
);

/// Groups time-ordered items ([`super::peer::by_time`]) into sessions, ordered by their
/// first item.
pub fn group(items: &[Item]) -> Vec<Session<'_>> {
    let mut out: Vec<Session<'_>> = Vec::new();
    let mut open: HashMap<Key, usize> = HashMap::new();
    for it in items {
        let r = &it.record;
        let m = r.meta();
        let key: Key = (
            m.host.as_deref().map(str::to_owned),
            it.pid,
            r.direction(),
            r.peer().and_then(|p| p.key()),
        );
        let fresh_start = matches!(r, Record::Session { .. }) || r.peer().is_none();
        let reuse = open.get(&key).copied().filter(|&i| {
            let s = &out[i];
            let last = s.items.last().and_then(|l| l.record.meta().time);
            let near = match (last, m.time) {
                (Some(a), Some(b)) => b - a <= SESSION_GAP,
                _ => true,
            };
            near && !(fresh_start && s.negotiated()) && r.peer().is_some()
        });
        match reuse {
            Some(i) => out[i].items.push(it),
            None => {
                open.insert(key.clone(), out.len());
                out.push(Session {
                    host: key.0,
                    pid: it.pid,
                    direction: key.2,
                    peer: r.peer().map(|p| p.to_string()),
                    items: vec![it],
                });
            }
        }
    }
    out
}

/// The lines `--raw` shows, read back from their files by number.
#[derive(Debug, Default)]
pub struct RawLines {
    lines: HashMap<Source, String>,
}

impl RawLines {
    /// Reads the lines of `wanted` from `sources` (one sequential read per file that has
    /// any). Standard input cannot be read again; its lines stay unknown.
    pub fn read(sources: &[SourceFile], wanted: &[&Source]) -> io::Result<RawLines> {
        let mut by_file: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
        for s in wanted {
            by_file.entry(&s.file).or_default().push(s.line);
        }
        let mut lines = HashMap::new();
        for src in sources.iter().filter(|s| s.path.is_some()) {
            let Some(nums) = by_file.get_mut(&*src.display) else {
                continue;
            };
            nums.sort_unstable();
            nums.dedup();
            let mut br = BlockReader::new(input::open(src)?);
            let mut k = 0;
            while k < nums.len() {
                let Some(block) = br.next_block()? else { break };
                for (no, line) in block.lines() {
                    while k < nums.len() && nums[k] < no {
                        k += 1;
                    }
                    if k < nums.len() && nums[k] == no {
                        lines.insert(
                            Source {
                                file: src.display.clone(),
                                line: no,
                            },
                            String::from_utf8_lossy(line).into_owned(),
                        );
                        k += 1;
                    }
                }
            }
        }
        Ok(RawLines { lines })
    }

    pub fn get(&self, s: &Source) -> Option<&str> {
        self.lines.get(s).map(String::as_str)
    }
}

/// One item as a timeline line (without its indentation).
fn item_line(it: &Item, p: &Painter) -> String {
    let m = it.record.meta();
    let t = m
        .time
        .map_or("?".to_owned(), |t| t.format("%H:%M:%S").to_string());
    let mut s = format!("{}  ", p.paint(Tone::Dim, &t));
    match &it.record {
        Record::Session { params, .. } => {
            let phrase = encryption_phrase(&Encryption::Tls(params.clone()));
            let tone = if params.verify.is_failed_verification() || params.version.is_deprecated() {
                Tone::Bad
            } else if matches!(
                params.verify,
                crate::model::Verify::Ok | crate::model::Verify::Trusted
            ) {
                Tone::Good
            } else {
                Tone::Warn
            };
            let _ = write!(s, "STARTTLS  {}", p.paint(tone, &phrase));
        }
        Record::Message {
            queue_id,
            encryption,
            status,
            direction,
            ..
        } => {
            let _ = write!(s, "message {}", p.paint(Tone::Strong, queue_id));
            let d = it.detail.clone().unwrap_or_default();
            if let Some(f) = &d.from {
                let _ = write!(s, "  from=<{}>", p.paint(Tone::Strong, f));
            }
            if let Some(to) = &d.to {
                let _ = write!(s, "  to=<{}>", p.paint(Tone::Strong, to));
            }
            if let Some(st) = status {
                let w = st.as_str();
                let tone = match w {
                    "sent" => Tone::Good,
                    "deferred" => Tone::Warn,
                    _ => Tone::Bad,
                };
                let _ = write!(s, "  {}", p.paint(tone, w));
            } else if *direction == Direction::Inbound {
                let _ = write!(s, "  received");
            }
            if let Some(dsn) = &d.dsn {
                let _ = write!(s, " dsn={}", clean(dsn));
            }
            // One rule with `message`: an attempt that did not go through is "not
            // delivered" (its reason follows), never "plaintext".
            let (word, tone) = match (status, encryption) {
                (Some(st), _) if *st != crate::model::DeliveryStatus::Sent => {
                    ("not delivered", Tone::Warn)
                }
                (_, Encryption::Plaintext) => ("plaintext", Tone::Bad),
                _ => ("over TLS", Tone::Good),
            };
            let _ = write!(s, "  {}", p.paint(tone, word));
            if let Some(text) = &d.text {
                let _ = write!(s, "  {}", p.paint(Tone::Dim, text));
            }
        }
        Record::Verdict {
            verify,
            reject,
            outcome,
            ..
        } => {
            let tone = if *reject { Tone::Bad } else { Tone::Warn };
            let _ = write!(
                s,
                "verdict verify={}  {}",
                p.paint(tone, verify.as_str()),
                p.paint(Tone::Dim, outcome)
            );
        }
        Record::Error { kind, text, .. } => {
            let _ = write!(
                s,
                "{} {}  {}",
                p.paint(Tone::Bad, "TLS error"),
                p.paint(Tone::Bad, kind.as_str()),
                p.paint(Tone::Dim, text)
            );
        }
        Record::Ready { .. } => s.push_str("TLS initialised"),
        Record::Start { .. } => s.push_str("daemon started"),
    }
    s
}

/// Writes the sessions as the terminal timeline. With `raw`, each item is followed by its
/// `file:line` and the line itself.
pub fn render(sessions: &[Session<'_>], p: &Painter, raw: Option<&RawLines>) -> String {
    let mut o = String::new();
    for s in sessions {
        let first = s.items.first().and_then(|i| i.record.meta().time);
        let dir = match s.direction {
            Some(Direction::Inbound) => "← from",
            Some(Direction::Outbound) => "→ to",
            None => "  ",
        };
        let who = match &s.peer {
            Some(peer) => format!("{dir} {}", p.paint(Tone::Strong, peer)),
            None => p.paint(Tone::Bad, "local (no peer)"),
        };
        let proc_ = s.pid.map_or(String::new(), |pid| format!(" [{pid}]"));
        let _ = writeln!(
            o,
            "{}  {}{}  {}",
            p.paint(Tone::Dim, &when(first)),
            p.paint(Tone::Dim, s.host.as_deref().unwrap_or("-")),
            p.paint(Tone::Dim, &proc_),
            who
        );
        if s.peer.is_some() && !s.negotiated() {
            let _ = writeln!(
                o,
                "    {}",
                p.paint(Tone::Warn, "no STARTTLS logged in this session")
            );
        }
        for it in &s.items {
            let _ = writeln!(o, "    {}", item_line(it, p));
            if let Some(raw) = raw {
                let src = &it.record.meta().source;
                let text = raw.get(src).unwrap_or("");
                let _ = writeln!(
                    o,
                    "        {}  {}",
                    p.paint(Tone::Dim, &src.to_string()),
                    p.paint(Tone::Dim, text)
                );
            }
        }
    }
    o
}
