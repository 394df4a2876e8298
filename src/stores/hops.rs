//! Stored messages → hop chains → per-peer posture, with a trust boundary.
//!
//! Every `Received:` header is a claim by whoever wrote it, and anyone upstream can write
//! any number of them. Only stamps written by *our own* hosts are facts we can stand on:
//! the topmost headers, down to the first one written by somebody else. So each message's
//! hops are split at that first foreign stamp:
//!
//! * **witnessed** hops (stamped by one of our hosts, contiguous from the top) say how a
//!   peer handed mail to us; their sending side joins the log posture under the same peer
//!   keys, as inbound messages (and TLS sessions when the stamp has details);
//! * **claimed** hops (the first foreign stamp and everything below it) are folded into a
//!   separate posture that is reported apart and never merged into the witnessed one.
//!
//! Our hosts are given (`--our-hosts`) or inferred: the most frequent `by` of the topmost
//! hop over the first [`INFER_SAMPLE`] messages. A hop whose sender was internal (loopback:
//! a content filter or LMTP on the same machine; a private or link-local address: a relay
//! on our own network) vouches for the stamp just below it, so a site's internal chain
//! (MX → filter → mailbox host) stays witnessed without listing every host.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use serde::{Deserialize, Serialize};

use crate::analysis::filter::{RecordFilter, peer_matches};
use crate::analysis::posture::{PeerPosture, Posture};
use crate::model::{Cipher, Direction, QueueId, Source, TlsVersion, Verify};
use crate::model::{max_time, min_time};
use crate::parse::headers;
use crate::parse::received::{self, Hop, HopTls};
use crate::stores::mbox::{self, Workers};
use crate::stores::messages::{RawMessage, Store};

/// One hop with the line of its `Received:` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HopAt {
    pub source: Source,
    pub hop: Hop,
}

/// The hop chain of one message, top (newest) first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageHops {
    pub source: Source,
    pub hops: Vec<HopAt>,
    /// `Received:` headers that could not be read, with their line.
    pub malformed: Vec<(Source, String)>,
    /// The header block was cut at the size limit.
    pub truncated: bool,
    /// The header block held no header field at all.
    pub no_fields: bool,
}

/// Parses the `Received:` headers of one message.
pub fn read_message(raw: &RawMessage) -> MessageHops {
    read_header(&raw.header, raw.source.clone(), raw.truncated)
}

/// Parses the `Received:` headers of one header block that starts on `source` (cut at
/// the size limit when `truncated`).
pub fn read_header(header: &[u8], source: Source, truncated: bool) -> MessageHops {
    let mut hops = Vec::new();
    let mut malformed = Vec::new();
    let any_field = headers::each_named_any(header, "received", |line, value| {
        let source = Source {
            file: Arc::clone(&source.file),
            line: source.line + line,
        };
        match received::parse(value) {
            Ok(hop) => hops.push(HopAt { source, hop }),
            Err(e) => malformed.push((source, e.0)),
        }
    });
    MessageHops {
        source,
        hops,
        malformed,
        truncated,
        no_fields: !any_field,
    }
}

/// The hosts whose stamps we trust.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OurHosts {
    names: BTreeSet<String>,
    /// True when the names were inferred rather than given.
    pub inferred: bool,
}

fn norm(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

impl OurHosts {
    /// The hosts named by `--our-hosts` (case and trailing dot ignored).
    pub fn given<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> OurHosts {
        OurHosts {
            names: names
                .into_iter()
                .map(|n| norm(n.as_ref()))
                .filter(|n| !n.is_empty())
                .collect(),
            inferred: false,
        }
    }

    /// The most frequent `by` of the topmost hop (ties: the smaller name, so the choice
    /// does not depend on reading order). Empty when no message had a `by`.
    pub fn infer(top_by_counts: &HashMap<String, u64>) -> OurHosts {
        let best = top_by_counts
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
            .map(|(n, _)| n.clone());
        OurHosts {
            names: best.into_iter().collect(),
            inferred: true,
        }
    }

    /// True when `by` is one of our hosts. Runs for every hop: a name already in
    /// normal form is looked up as it is.
    pub fn contains(&self, by: &str) -> bool {
        // `by.trim()` by bytes ([`received::trim_blanks`]: std's Unicode trim was a third
        // of this test, which runs for every hop).
        let t = received::trim_blanks(by).trim_end_matches('.');
        if self.names.len() <= 4 {
            // The names are in normal form (lower case): a case-blind compare with each
            // is `names.contains(&norm(by))`, without the walk for upper case and the
            // lower-cased copy (Microsoft's `by` names are upper case).
            return self
                .names
                .iter()
                .any(|n| n.as_bytes().eq_ignore_ascii_case(t.as_bytes()));
        }
        if t.bytes().any(|b| b.is_ascii_uppercase()) {
            self.names.contains(&norm(by))
        } else {
            self.names.contains(t)
        }
    }

    pub fn names(&self) -> Vec<String> {
        self.names.iter().cloned().collect()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// How far a hop can be believed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trust {
    /// Stamped by one of our hosts.
    Witnessed,
    /// At or below the first foreign stamp: only what somebody else says.
    Claimed,
}

/// True for addresses that only our own network can connect from: loopback, RFC 1918,
/// link-local, IPv6 unique-local. A witnessed hop from such an address was handed over by
/// one of our internal relays, so the stamp just below it is ours too.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => v6.is_loopback() || v6.is_unique_local() || v6.is_unicast_link_local(),
    }
}

/// The trust of each hop (same order as `hops`): witnessed from the top while the stamp is
/// by one of our hosts, or sits just below a witnessed hop whose sender was internal
/// ([`is_internal`]: the same machine, or a relay on our own network); claimed from the
/// first foreign stamp on.
pub fn classify(hops: &[HopAt], ours: &OurHosts) -> Vec<Trust> {
    let mut out = Vec::with_capacity(hops.len());
    let mut trusted = true;
    let mut above_internal = false;
    for h in hops {
        let by_ours = h.hop.by.as_deref().is_some_and(|b| ours.contains(b));
        trusted = trusted && (by_ours || above_internal);
        out.push(if trusted {
            Trust::Witnessed
        } else {
            Trust::Claimed
        });
        above_internal = trusted && h.hop.from_ip.is_some_and(is_internal);
    }
    out
}

/// What a chain of hops says about a message's encryption.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// Every network hop was TLS.
    AllTls,
    /// A hop was in clear; `hop` is its 1-based position from the top (1 = the topmost
    /// `Received:`, the hop nearest to the mailbox): the plaintext hop closest to us.
    Plaintext { hop: usize },
    /// No plaintext hop, but at least one hop says nothing about TLS.
    Unknown,
    /// No network hop at all (local submissions only, or no `Received:`).
    NoHops,
}

/// The verdict over the hops `hops[..upto]` (local hops are skipped).
pub fn verdict(hops: &[HopAt], upto: usize) -> Verdict {
    let mut any = false;
    let mut unknown = false;
    for (i, h) in hops.iter().take(upto).enumerate() {
        if h.hop.is_local() {
            continue;
        }
        any = true;
        match h.hop.tls {
            HopTls::Plaintext => return Verdict::Plaintext { hop: i + 1 },
            HopTls::Unknown => unknown = true,
            HopTls::Tls(_) | HopTls::TlsNoDetails => {}
        }
    }
    match (any, unknown) {
        (false, _) => Verdict::NoHops,
        (true, true) => Verdict::Unknown,
        (true, false) => Verdict::AllTls,
    }
}

/// Verdict counts.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct VerdictCounts {
    pub all_tls: u64,
    pub plaintext: u64,
    pub unknown: u64,
    pub no_hops: u64,
}

impl VerdictCounts {
    fn add(&mut self, v: Verdict) {
        match v {
            Verdict::AllTls => self.all_tls += 1,
            Verdict::Plaintext { .. } => self.plaintext += 1,
            Verdict::Unknown => self.unknown += 1,
            Verdict::NoHops => self.no_hops += 1,
        }
    }
}

/// A message with a plaintext witnessed hop, kept as an example for the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaintextExample {
    /// The `Received:` header of the plaintext hop (`file:line`).
    pub source: String,
    /// 1-based position from the top.
    pub hop: usize,
    pub peer: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub with: Option<String>,
}

/// What reading the message stores found, for the report (`messages` in the snapshot).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MessagesSummary {
    pub stores: u64,
    pub messages: u64,
    /// TLS-RPT report messages (RFC 8460, recognised by their header): read by `scan` for
    /// their report ([`crate::tlsrpt`]), not folded here as hops, nor counted in `messages`,
    /// so a mailbox of machine reports never skews the per-message verdicts or the
    /// inference of our hosts.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub report_messages: u64,
    /// Message files that could not be read.
    pub messages_unreadable: u64,
    /// Messages with an unreadable `Received:`, a cut header or no header at all.
    pub messages_malformed: u64,
    pub hops: u64,
    pub hops_malformed: u64,
    /// Loopback and local-submission hops (never a peer).
    pub hops_local: u64,
    /// Network hops stamped by our hosts: their peers are in the posture.
    pub hops_witnessed: u64,
    /// Network hops at or below the first foreign stamp: only in `claimed`.
    pub hops_claimed: u64,
    /// Witnessed hops whose queue id the logs already showed (counted once, from the log).
    pub hops_also_in_logs: u64,
    /// Witnessed hops left out by `--peer`/`--since`/`--until`/`--direction`.
    pub hops_filtered: u64,
    pub our_hosts: Vec<String>,
    pub our_hosts_inferred: bool,
    /// Per-message verdicts over the witnessed hops only.
    pub verdicts: VerdictCounts,
    /// Per-message verdicts over the whole chain, claimed hops included.
    pub chain_verdicts: VerdictCounts,
    /// The first messages whose witnessed hops include plaintext.
    pub plaintext_examples: Vec<PlaintextExample>,
    /// The first problems, `file:line: why`.
    pub problems: Vec<String>,
    /// What foreign stamps claim about their own inbound hops, by sending peer. Never
    /// merged into the witnessed posture.
    pub claimed: Posture,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl VerdictCounts {
    fn merge(&mut self, o: &VerdictCounts) {
        self.all_tls += o.all_tls;
        self.plaintext += o.plaintext;
        self.unknown += o.unknown;
        self.no_hops += o.no_hops;
    }
}

impl MessagesSummary {
    /// The summary of two runs' message stores (the `messages` section of merged
    /// snapshots): counts and verdicts add, our hosts are the union, the claimed posture
    /// merges, and the examples and problems are the first `KEEP` (20) of both in a fixed
    /// order (source, then the whole entry), so that merging is associative and
    /// commutative. Stores are per host: a store read by two snapshots counts twice.
    pub fn merge(&mut self, o: MessagesSummary) {
        self.add_counts(&o);
        let hosts: BTreeSet<String> = self.our_hosts.drain(..).chain(o.our_hosts).collect();
        self.our_hosts = hosts.into_iter().collect();
        // Inferred when any part had to guess: the merged list is only as sure as its
        // least sure part.
        self.our_hosts_inferred |= o.our_hosts_inferred;
        self.plaintext_examples.extend(o.plaintext_examples);
        self.plaintext_examples.sort_by(|a, b| {
            (&a.source, a.hop, &a.peer, &a.by, &a.with)
                .cmp(&(&b.source, b.hop, &b.peer, &b.by, &b.with))
        });
        self.plaintext_examples.truncate(KEEP);
        self.problems.extend(o.problems);
        self.problems.sort();
        self.problems.truncate(KEEP);
        self.claimed.merge(o.claimed);
    }

    /// Adds the counts and verdicts of `o` (a worker's share of one store scan, whose
    /// ordered lists and posture are merged apart).
    fn add_counts(&mut self, o: &MessagesSummary) {
        self.stores += o.stores;
        self.messages += o.messages;
        self.report_messages += o.report_messages;
        self.messages_unreadable += o.messages_unreadable;
        self.messages_malformed += o.messages_malformed;
        self.hops += o.hops;
        self.hops_malformed += o.hops_malformed;
        self.hops_local += o.hops_local;
        self.hops_witnessed += o.hops_witnessed;
        self.hops_claimed += o.hops_claimed;
        self.hops_also_in_logs += o.hops_also_in_logs;
        self.hops_filtered += o.hops_filtered;
        self.verdicts.merge(&o.verdicts);
        self.chain_verdicts.merge(&o.chain_verdicts);
    }
}

/// How many examples and problems the summary keeps.
const KEEP: usize = 20;
/// Messages held to infer our hosts before the first one is folded.
pub const INFER_SAMPLE: usize = 2_000;

/// Folds one hop's sending side into `posture` as an inbound message (and session);
/// returns the peer's posture key.
///
/// The name and key are those of [`Hop::from_peer`] and [`crate::model::Peer::key`], read from the hop
/// without building either: this runs for every hop of a mailbox, and most keys are
/// already in the posture and already lower case, so a hop usually allocates nothing.
pub fn add_hop<'p>(posture: &'p mut Posture, hop: &Hop) -> Option<&'p str> {
    let (key, name) = hop_key(hop)?;
    if !posture.peers.contains_key(&*key) {
        let key = key.to_string();
        posture.peers.insert(key.clone(), new_peer(key));
    }
    let pp = posture.peers.get_mut(&*key)?;
    fold_hop(pp, name, hop);
    let pp: &'p PeerPosture = pp;
    Some(pp.peer.as_str())
}

/// The peers of a store scan while it runs, hashed (the posture's ordered map compared
/// long, similar host names on every hop); moved into the posture at the end.
type PeerMap = HashMap<String, PeerAcc, foldhash::fast::FixedState>;

/// The TLS details of a hop as the histograms count them: version, cipher, verify word.
type Details = (Option<TlsVersion>, Option<Cipher>, Option<Verify>);

/// One peer's posture while a store scan folds it, with what its last hop added.
///
/// Why: the fold runs on one thread for every hop of a mailbox, and each hop looked up
/// its name and address in ordered sets and its version, cipher and verify word in three
/// histograms (a few cold cache lines each). A peer's hops mostly repeat the same name,
/// address and details, so a hop that repeats them only compares; repeated details are
/// counted here and added to the histograms when they change and at the end
/// ([`PeerAcc::finish`]), which gives the same counts in the same maps.
#[derive(Default)]
struct PeerAcc {
    pp: PeerPosture,
    /// A name equal to the posture key is already in `pp.names`.
    key_named: bool,
    /// The last address added to `pp.ips`.
    last_ip: Option<IpAddr>,
    /// Details counted since they were last added to the histograms, and how often.
    pending: Option<(Details, u64)>,
}

impl PeerAcc {
    /// The peer's posture with every count added.
    fn finish(mut self) -> PeerPosture {
        if let Some((k, n)) = self.pending.take() {
            add_details(&mut self.pp.inbound, &k, n);
        }
        self.pp
    }
}

/// `n` sessions with the details `k` into the histograms of `d`.
fn add_details(d: &mut crate::analysis::posture::DirPosture, k: &Details, n: u64) {
    if let Some(v) = &k.0 {
        d.versions.add_n(v, n);
    }
    if let Some(c) = &k.1 {
        d.ciphers.add_n(c, n);
    }
    if let Some(v) = &k.2 {
        d.verify.add_n(v, n);
    }
}

/// [`add_hop`] into a [`PeerMap`].
fn add_hop_to(peers: &mut PeerMap, hop: &Hop) {
    let Some((key, name)) = hop_key(hop) else {
        return;
    };
    // A borrowed key is the name itself (already lower case).
    let name_is_key = matches!(key, std::borrow::Cow::Borrowed(_));
    let acc = match peers.get_mut(&*key) {
        Some(acc) => acc,
        None => {
            let key = key.into_owned();
            peers.entry(key.clone()).or_insert_with(|| PeerAcc {
                pp: new_peer(key),
                ..PeerAcc::default()
            })
        }
    };
    fold_hop_acc(acc, name, name_is_key, hop);
}

/// [`fold_hop`] into a [`PeerAcc`]: the same sums, with repeats only compared.
fn fold_hop_acc(acc: &mut PeerAcc, name: Option<&str>, name_is_key: bool, hop: &Hop) {
    if let Some(n) = name
        && !(name_is_key && acc.key_named)
    {
        if !acc.pp.names.contains(n) {
            acc.pp.names.insert(n.to_owned());
        }
        acc.key_named |= name_is_key;
    }
    if let Some(ip) = hop.from_ip
        && acc.last_ip != Some(ip)
    {
        acc.pp.ips.insert(ip);
        acc.last_ip = Some(ip);
    }
    let d = &mut acc.pp.inbound;
    count_hop(d, hop);
    if let HopTls::Tls(det) = &hop.tls {
        match &mut acc.pending {
            Some((k, n)) if k.0 == det.version && k.1 == det.cipher && k.2 == det.verify => {
                *n += 1;
            }
            Some((k, n)) => {
                add_details(d, k, *n);
                k.0.clone_from(&det.version);
                // The cipher's string is reused: details that alternate do not
                // allocate on every change.
                match (&mut k.1, &det.cipher) {
                    (Some(mine), Some(theirs)) => {
                        mine.0.clear();
                        mine.0.push_str(&theirs.0);
                    }
                    (mine, theirs) => mine.clone_from(theirs),
                }
                k.2.clone_from(&det.verify);
                *n = 1;
            }
            None => {
                acc.pending = Some((
                    (det.version.clone(), det.cipher.clone(), det.verify.clone()),
                    1,
                ));
            }
        }
    }
}

/// What every hop adds to its peer's inbound side whatever the fold: the message (TLS or
/// plaintext), the session, the least bits and the time. The version, cipher and verify
/// words are the callers' ([`fold_hop`] adds them at once, [`fold_hop_acc`] while they
/// repeat).
fn count_hop(d: &mut crate::analysis::posture::DirPosture, hop: &Hop) {
    match &hop.tls {
        HopTls::Tls(det) => {
            d.tls_messages += 1;
            d.tls_sessions += 1;
            if let Some(b) = det.bits.effective() {
                d.min_bits = Some(d.min_bits.map_or(b, |m| m.min(b)));
            }
        }
        HopTls::TlsNoDetails => d.tls_messages += 1,
        HopTls::Plaintext => d.plaintext_messages += 1,
        HopTls::Unknown => {}
    }
    d.first_seen = min_time(d.first_seen, hop.date);
    d.last_seen = max_time(d.last_seen, hop.date);
}

fn new_peer(key: String) -> PeerPosture {
    PeerPosture {
        peer: key,
        ..PeerPosture::default()
    }
}

/// The posture key and name of a hop's sending side, `None` when the hop says nothing
/// about TLS or names nobody.
fn hop_key(hop: &Hop) -> Option<(std::borrow::Cow<'_, str>, Option<&str>)> {
    if matches!(hop.tls, HopTls::Unknown) {
        return None;
    }
    let name = hop
        .from_rdns
        .as_deref()
        .or(if hop.from_ip.is_none() {
            hop.from_helo.as_deref()
        } else {
            None
        })
        .map(|n| received::trim_blanks(n).trim_end_matches('.'))
        .filter(|n| !n.is_empty() && !n.eq_ignore_ascii_case("unknown"));
    let key: std::borrow::Cow<'_, str> = match (name, hop.from_ip) {
        (Some(n), _) if !n.bytes().any(|b| b.is_ascii_uppercase()) => n.into(),
        (Some(n), _) => n.to_ascii_lowercase().into(),
        (None, Some(IpAddr::V4(v4))) => v4_text(v4).into(),
        (None, Some(IpAddr::V6(v6))) => v6_text(v6).into(),
        (None, None) => return None,
    };
    Some((key, name))
}

/// An IPv4 address as its `Display` writes it (`192.0.2.1`), without the formatter.
///
/// Why: a hop that names no host is keyed by its address on the fold's one thread, and
/// `to_string` through `fmt` was ~1,600 instructions an address, 2% of a mailbox scan's
/// (issue 21); the proptest `v4_text_is_display` holds the two equal.
fn v4_text(ip: std::net::Ipv4Addr) -> String {
    let mut s = String::with_capacity(15);
    for (i, o) in ip.octets().into_iter().enumerate() {
        if i > 0 {
            s.push('.');
        }
        if o >= 100 {
            s.push(char::from(b'0' + o / 100));
        }
        if o >= 10 {
            s.push(char::from(b'0' + o / 10 % 10));
        }
        s.push(char::from(b'0' + o % 10));
    }
    s
}

/// An IPv6 address as its `Display` writes it (`2001:db8::1`: lower-case hex groups
/// without leading zeros, the first longest run of two or more zero groups as `::`),
/// without the formatter; an IPv4-mapped address goes to `Display` (its dotted tail).
///
/// Why: Microsoft's stamps name the sender by its IPv6 address alone, so those hops are
/// keyed by it, and `to_string` through `fmt` (a `write!` per group) was ~600 instructions
/// an address, 2% of a mailbox scan's worker time (issue 21); `v6_text_is_display`.
fn v6_text(ip: std::net::Ipv6Addr) -> String {
    if ip.to_ipv4_mapped().is_some() {
        return ip.to_string();
    }
    let seg = ip.segments();
    // The first longest run of zero groups.
    let (mut best, mut best_len, mut cur, mut cur_len) = (0usize, 0usize, 0usize, 0usize);
    for (i, &g) in seg.iter().enumerate() {
        if g == 0 {
            if cur_len == 0 {
                cur = i;
            }
            cur_len += 1;
            if cur_len > best_len {
                (best, best_len) = (cur, cur_len);
            }
        } else {
            cur_len = 0;
        }
    }
    let mut s = String::with_capacity(39);
    let hex = |s: &mut String, g: u16| {
        let mut started = false;
        for shift in [12u32, 8, 4, 0] {
            let d = (g >> shift) & 0xf;
            if d != 0 || started || shift == 0 {
                started = true;
                let d = d as u8;
                s.push(char::from(if d < 10 { b'0' + d } else { b'a' + d - 10 }));
            }
        }
    };
    let groups = |s: &mut String, part: &[u16]| {
        for (i, &g) in part.iter().enumerate() {
            if i > 0 {
                s.push(':');
            }
            hex(s, g);
        }
    };
    if best_len > 1 {
        groups(&mut s, seg.get(..best).unwrap_or_default());
        s.push_str("::");
        groups(&mut s, seg.get(best + best_len..).unwrap_or_default());
    } else {
        groups(&mut s, &seg);
    }
    s
}

/// Folds one hop into its peer's posture in place (the same sums as merging a one-hop
/// posture, without building one).
fn fold_hop(pp: &mut PeerPosture, name: Option<&str>, hop: &Hop) {
    if let Some(n) = name
        && !pp.names.contains(n)
    {
        pp.names.insert(n.to_owned());
    }
    if let Some(ip) = hop.from_ip {
        pp.ips.insert(ip);
    }
    let d = &mut pp.inbound;
    count_hop(d, hop);
    if let HopTls::Tls(det) = &hop.tls {
        if let Some(v) = &det.version {
            d.versions.add(v);
        }
        if let Some(c) = &det.cipher {
            d.ciphers.add(c);
        }
        if let Some(v) = &det.verify {
            d.verify.add(v);
        }
    }
}

/// `--peer`, `--since`/`--until` (the hop's date; a hop without one is dropped) and
/// `--direction` (hops are receptions: `out` drops them all) applied to one hop.
pub fn hop_kept(hop: &Hop, filter: &RecordFilter) -> bool {
    if filter.direction == Some(Direction::Outbound) {
        return false;
    }
    if let Some(p) = &filter.peer {
        match hop.from_peer() {
            Some(peer) if peer_matches(&peer, p) => {}
            _ => return false,
        }
    }
    if filter.since.is_some() || filter.until.is_some() {
        let Some(t) = hop.date else { return false };
        if filter.since.is_some_and(|s| t < s) || filter.until.is_some_and(|u| t >= u) {
            return false;
        }
    }
    true
}

/// What the read of the stores hands to the reader of TLS-RPT reports, so that a mailbox
/// is read once for its hops and its reports alike.
#[derive(Debug)]
pub enum ReportItem {
    /// A report message (recognised by its header), header and body copied out, with its
    /// 1-based index in its store.
    Message(RawMessage),
    /// A store, or a message of one, that could not be read: the reports' summary names
    /// it as well.
    Problem(String),
}

/// Where the report messages met while reading the stores go (`None`: only counted).
pub type Reports<'r> = Option<&'r mut dyn FnMut(ReportItem)>;

/// What the pool makes of one message: its hops, or the report it carries.
enum Mapped {
    Message(Handed),
    /// A TLS-RPT report message: its copy when reports are wanted.
    Report(Option<RawMessage>),
}

/// What reaches the reading thread for one (non-report) message.
enum Handed {
    /// Its hops, for the reading thread to use.
    Hops(MessageHops),
    /// Already folded on the pool (by a store scan): only what it adds to the summary's
    /// ordered lists, when anything.
    Folded(Option<Box<Notes>>),
}

/// Reads every store on the rayon pool ([`mbox::each_store_message_folding`]: an mbox is
/// cut into blocks and each block split into messages in parallel), turns each message's
/// hops into what `fold` makes of them with an accumulator of `workers`, and hands that to
/// `f`, in store order. TLS-RPT report messages are counted, and handed to `reports` when
/// it is given (their bodies are kept only then); I/O problems go to `summary` (and to
/// `reports`).
fn for_each_message<A: Default + Send>(
    stores: &[Store],
    summary: &mut MessagesSummary,
    mut reports: Reports<'_>,
    workers: &Workers<A>,
    fold: impl Fn(&mut A, MessageHops) -> Handed + Sync,
    mut f: impl FnMut(Handed, &mut MessagesSummary),
) {
    let want_reports = reports.is_some();
    let keep = want_reports.then_some(crate::stores::messages::is_report_header as _);
    for store in stores {
        let read = mbox::each_store_message_folding(
            store,
            keep,
            workers,
            |acc, m| {
                // With reports wanted the reader already asked `keep` (a whole message
                // has its body exactly when it did): the header is not searched twice.
                // A cut message file keeps no body, so it is asked again.
                let report = if want_reports && !m.truncated {
                    m.body.is_some()
                } else {
                    crate::stores::messages::is_report_header(m.header)
                };
                if !report {
                    let hops = read_header(m.header, m.source, m.truncated);
                    return Mapped::Message(fold(acc, hops));
                }
                Mapped::Report(want_reports.then(|| RawMessage {
                    source: m.source,
                    index: 0,
                    header: m.header.to_vec(),
                    truncated: m.truncated,
                    body: m.body.map(<[u8]>::to_vec),
                }))
            },
            |index, item| match item {
                Ok(Mapped::Message(m)) => f(m, summary),
                Ok(Mapped::Report(copy)) => {
                    summary.report_messages += 1;
                    if let (Some(mut m), Some(r)) = (copy, reports.as_mut()) {
                        m.index = index;
                        r(ReportItem::Message(m));
                    }
                }
                Err(e) => unreadable(summary, &mut reports, e.to_string()),
            },
        );
        if let Err(e) = read {
            unreadable(
                summary,
                &mut reports,
                format!("{}: {e}", store.path.display()),
            );
        }
    }
}

/// A store or a message that could not be read: counted, named in the first problems and
/// handed to the reports' reader.
fn unreadable(summary: &mut MessagesSummary, reports: &mut Reports<'_>, p: String) {
    summary.messages_unreadable += 1;
    if let Some(r) = reports {
        r(ReportItem::Problem(p.clone()));
    }
    if summary.problems.len() < KEEP {
        summary.problems.push(p);
    }
}

/// What one message adds to the summary's ordered lists: its problem and its plaintext
/// example, each built only while the list still takes entries ([`Want`]).
#[derive(Debug, Default)]
struct Notes {
    problem: Option<String>,
    example: Option<PlaintextExample>,
}

impl Notes {
    fn is_empty(&self) -> bool {
        self.problem.is_none() && self.example.is_none()
    }

    /// Adds the notes to the lists that still take them (the first [`KEEP`], in message
    /// order: the caller keeps notes in the order of the messages).
    fn keep(self, s: &mut MessagesSummary) {
        if let Some(p) = self.problem
            && s.problems.len() < KEEP
        {
            s.problems.push(p);
        }
        if let Some(e) = self.example
            && s.plaintext_examples.len() < KEEP
        {
            s.plaintext_examples.push(e);
        }
    }
}

/// Which notes are worth building: the lists not yet full (on the pool, as last seen by
/// the reading thread: a list seen short builds a note that may be dropped, never the
/// other way round).
#[derive(Debug, Clone, Copy)]
struct Want {
    problem: bool,
    example: bool,
}

impl Want {
    fn of(s: &MessagesSummary) -> Want {
        Want {
            problem: s.problems.len() < KEEP,
            example: s.plaintext_examples.len() < KEEP,
        }
    }
}

/// The counts every reader of stores shares: messages, hops by trust, verdicts, examples.
fn account(m: &MessageHops, trust: &[Trust], s: &mut MessagesSummary) {
    let want = Want::of(s);
    count(m, trust, s, want).keep(s);
}

/// The counts of [`account`] into `s`; the problem and the example it would keep are
/// returned (when `want`ed) for the caller to keep in message order.
fn count(m: &MessageHops, trust: &[Trust], s: &mut MessagesSummary, want: Want) -> Notes {
    let mut notes = Notes::default();
    s.messages += 1;
    s.hops += (m.hops.len() + m.malformed.len()) as u64;
    s.hops_malformed += m.malformed.len() as u64;
    if !m.malformed.is_empty() || m.truncated || m.no_fields {
        s.messages_malformed += 1;
        if want.problem {
            let why = match m.malformed.first() {
                Some((src, why)) => format!("{src}: {why}"),
                None if m.truncated => {
                    format!("{}: header block cut at the size limit", m.source)
                }
                None => format!("{}: no header fields", m.source),
            };
            notes.problem = Some(why);
        }
    }
    let n_witnessed = trust.iter().take_while(|t| **t == Trust::Witnessed).count();
    let witnessed_verdict = verdict(&m.hops, n_witnessed);
    s.verdicts.add(witnessed_verdict);
    s.chain_verdicts.add(verdict(&m.hops, m.hops.len()));
    if let Verdict::Plaintext { hop } = witnessed_verdict
        && want.example
        && let Some(h) = hop.checked_sub(1).and_then(|i| m.hops.get(i))
    {
        notes.example = Some(PlaintextExample {
            source: h.source.to_string(),
            hop,
            peer: h.hop.from_peer().map_or("?".to_owned(), |p| p.to_string()),
            by: h.hop.by.as_deref().map(String::from),
            with: h.hop.with.as_deref().map(String::from),
        });
    }
    for (h, t) in m.hops.iter().zip(trust) {
        if h.hop.is_local() {
            s.hops_local += 1;
        } else if *t == Trust::Witnessed {
            s.hops_witnessed += 1;
        } else {
            s.hops_claimed += 1;
        }
    }
    notes
}

/// Reads `stores` in one pass and calls `f` with each message, the trust of each of its
/// hops and the summary (already counted for that message).
///
/// With `ours` = `None` our hosts are inferred from the first [`INFER_SAMPLE`] messages
/// (held parsed, so memory stays bounded by the sample), then those messages and all the
/// rest are handed on in order. TLS-RPT report messages are only counted.
pub fn walk(
    stores: &[Store],
    ours: Option<OurHosts>,
    summary: &mut MessagesSummary,
    f: impl FnMut(&MessageHops, &[Trust], &mut MessagesSummary),
) {
    walk_with_reports(stores, ours, summary, None, f);
}

/// [`walk`], handing the TLS-RPT report messages it meets to `reports`.
fn walk_with_reports(
    stores: &[Store],
    ours: Option<OurHosts>,
    summary: &mut MessagesSummary,
    reports: Reports<'_>,
    mut f: impl FnMut(&MessageHops, &[Trust], &mut MessagesSummary),
) {
    summary.stores += stores.len() as u64;
    let mut ours = ours.filter(|o| !o.is_empty());
    let mut counts: HashMap<String, u64> = HashMap::new();
    let mut pending: Vec<MessageHops> = Vec::new();
    let mut emit = |m: &MessageHops, o: &OurHosts, s: &mut MessagesSummary| {
        let trust = classify(&m.hops, o);
        account(m, &trust, s);
        f(m, &trust, s);
    };
    let none = Workers::<()>::default();
    let hand = |_: &mut (), m| Handed::Hops(m);
    for_each_message(stores, summary, reports, &none, hand, |m, s| {
        match (m, &ours) {
            (Handed::Folded(_), _) => {}
            (Handed::Hops(m), Some(o)) => emit(&m, o, s),
            (Handed::Hops(m), None) => {
                if let Some(by) = m.hops.first().and_then(|h| h.hop.by.as_deref()) {
                    *counts.entry(norm(by)).or_default() += 1;
                }
                pending.push(m);
                if pending.len() >= INFER_SAMPLE {
                    let o = OurHosts::infer(&counts);
                    for p in pending.drain(..) {
                        emit(&p, &o, s);
                    }
                    ours = Some(o);
                }
            }
        }
    });
    let o = match ours {
        Some(o) => o,
        None => {
            let o = OurHosts::infer(&counts);
            for p in pending.drain(..) {
                emit(&p, &o, summary);
            }
            o
        }
    };
    summary.our_hosts = o.names();
    summary.our_hosts_inferred = o.inferred;
}

/// The filter and the log's queue ids every hop of a store scan is checked against.
struct ScanCtx<'a> {
    filter: &'a RecordFilter,
    log_queue_ids: &'a HashSet<QueueId>,
    /// The peers, one map for all workers (one per worker held every peer twice: +20 MiB
    /// peak on a 1 GiB mbox).
    peers: Mutex<Peers>,
}

/// The witnessed and the claimed peers of a store scan.
#[derive(Default)]
struct Peers {
    witnessed: PeerMap,
    claimed: PeerMap,
}

/// Hops a share holds before it takes the peers' lock to fold them.
const FOLD_BATCH: usize = 256;

/// One worker's share of a store scan: its counts, and the messages whose hops it is about
/// to fold into the peers (`picks`: message, hop, witnessed). Messages do not depend on one
/// another and every part is a commutative sum (counts, sets, histograms, least bits,
/// first and last times), so the result is the same whichever worker folded which message,
/// and in which order; the ordered lists (problems, examples) are kept by the reading
/// thread in message order.
#[derive(Default)]
struct ScanAcc {
    counts: MessagesSummary,
    held: Vec<MessageHops>,
    picks: Vec<(u32, u32, bool)>,
}

impl ScanAcc {
    /// Classifies and counts one message and queues its hops for the peers; returns its
    /// notes.
    fn message(&mut self, m: MessageHops, ours: &OurHosts, ctx: &ScanCtx<'_>, w: Want) -> Notes {
        let trust = classify(&m.hops, ours);
        let notes = count(&m, &trust, &mut self.counts, w);
        let s = &mut self.counts;
        let at = self.held.len() as u32;
        let picked = self.picks.len();
        for (i, (h, t)) in m.hops.iter().zip(trust).enumerate() {
            // `--loopback` keeps loopback senders, as it does for log peers.
            let local = if ctx.filter.loopback {
                h.hop.is_local_submission()
            } else {
                h.hop.is_local()
            };
            if local {
                continue;
            }
            match t {
                Trust::Witnessed => {
                    if h.hop
                        .id
                        .as_ref()
                        .is_some_and(|id| ctx.log_queue_ids.contains(id.as_str()))
                    {
                        s.hops_also_in_logs += 1;
                    } else if !hop_kept(&h.hop, ctx.filter) {
                        s.hops_filtered += 1;
                    } else {
                        self.picks.push((at, i as u32, true));
                    }
                }
                Trust::Claimed => {
                    if hop_kept(&h.hop, ctx.filter) {
                        self.picks.push((at, i as u32, false));
                    }
                }
            }
        }
        if self.picks.len() > picked {
            self.held.push(m);
        }
        if self.picks.len() >= FOLD_BATCH {
            self.fold(ctx);
        }
        notes
    }

    /// Folds the picked hops into the peers (their messages are freed after the lock).
    fn fold(&mut self, ctx: &ScanCtx<'_>) {
        {
            let mut peers = ctx.peers.lock().unwrap_or_else(PoisonError::into_inner);
            for &(m, h, witnessed) in &self.picks {
                let Some(h) = self
                    .held
                    .get(m as usize)
                    .and_then(|m| m.hops.get(h as usize))
                else {
                    continue;
                };
                let map = if witnessed {
                    &mut peers.witnessed
                } else {
                    &mut peers.claimed
                };
                add_hop_to(map, &h.hop);
            }
        }
        self.picks.clear();
        self.held.clear();
    }
}

/// The peers of a map as a posture.
fn posture_of(peers: PeerMap) -> Posture {
    let mut p = Posture::default();
    p.peers
        .extend(peers.into_iter().map(|(k, a)| (k, a.finish())));
    p
}

/// Reads `stores` and returns the witnessed posture (to merge with the logs') and the
/// summary with the claimed posture. `ours` = `None` infers our hosts from the stores.
/// Witnessed hops whose queue id is in `log_queue_ids` were already counted from the log.
/// TLS-RPT report messages go to `reports` when it is given (the same read serves both).
///
/// Once our hosts are known (given, or inferred from the first [`INFER_SAMPLE`] messages
/// on this thread as [`walk`] does), each message is counted and folded on the worker that
/// parsed it (`ScanAcc`; the peers under one lock, a few hundred hops at a time) and only
/// its notes come back; the shares' counts are added at the end.
pub fn scan(
    stores: &[Store],
    ours: Option<OurHosts>,
    filter: &RecordFilter,
    log_queue_ids: &HashSet<QueueId>,
    reports: Reports<'_>,
) -> (Posture, MessagesSummary) {
    let mut summary = MessagesSummary {
        stores: stores.len() as u64,
        ..MessagesSummary::default()
    };
    let ctx = ScanCtx {
        filter,
        log_queue_ids,
        peers: Mutex::default(),
    };
    let known: OnceLock<OurHosts> = OnceLock::new();
    if let Some(o) = ours.filter(|o| !o.is_empty()) {
        let _ = known.set(o);
    }
    // Whether the problems and the examples are full, as this thread last saw them.
    let (problems_full, examples_full) = (AtomicBool::new(false), AtomicBool::new(false));
    let keep = |n: Notes, s: &mut MessagesSummary| {
        n.keep(s);
        problems_full.store(s.problems.len() >= KEEP, Ordering::Relaxed);
        examples_full.store(s.plaintext_examples.len() >= KEEP, Ordering::Relaxed);
    };
    let workers = Workers::<ScanAcc>::default();
    let mut mine = ScanAcc::default();
    let mut counts: HashMap<String, u64> = HashMap::new();
    let mut pending: Vec<MessageHops> = Vec::new();
    let fold = |acc: &mut ScanAcc, m: MessageHops| match known.get() {
        Some(o) => {
            let want = Want {
                problem: !problems_full.load(Ordering::Relaxed),
                example: !examples_full.load(Ordering::Relaxed),
            };
            let n = acc.message(m, o, &ctx, want);
            Handed::Folded((!n.is_empty()).then(|| Box::new(n)))
        }
        None => Handed::Hops(m),
    };
    for_each_message(stores, &mut summary, reports, &workers, fold, |h, s| {
        let m = match h {
            Handed::Folded(n) => {
                if let Some(n) = n {
                    keep(*n, s);
                }
                return;
            }
            Handed::Hops(m) => m,
        };
        if let Some(o) = known.get() {
            let n = mine.message(m, o, &ctx, Want::of(s));
            keep(n, s);
            return;
        }
        if let Some(by) = m.hops.first().and_then(|h| h.hop.by.as_deref()) {
            *counts.entry(norm(by)).or_default() += 1;
        }
        pending.push(m);
        if pending.len() >= INFER_SAMPLE {
            let o = OurHosts::infer(&counts);
            for p in pending.drain(..) {
                let n = mine.message(p, &o, &ctx, Want::of(s));
                keep(n, s);
            }
            let _ = known.set(o);
        }
    });
    let o = match known.into_inner() {
        Some(o) => o,
        None => {
            let o = OurHosts::infer(&counts);
            for p in pending.drain(..) {
                let n = mine.message(p, &o, &ctx, Want::of(&summary));
                n.keep(&mut summary);
            }
            o
        }
    };
    summary.our_hosts = o.names();
    summary.our_hosts_inferred = o.inferred;
    for mut share in workers.into_inner().into_iter().chain([mine]) {
        share.fold(&ctx);
        summary.add_counts(&share.counts);
    }
    let peers = ctx
        .peers
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner);
    summary.claimed = posture_of(peers.claimed);
    (posture_of(peers.witnessed), summary)
}

/// One hop as an event line (`mailtls events`): the hop's fields plus where it is, its
/// position and how far it can be believed.
#[derive(Debug, Clone, Serialize)]
pub struct HopEvent<'a> {
    /// Always `hop`, so hop lines can be told from log events in one NDJSON stream.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The `Received:` header (`file:line`).
    pub source: String,
    /// The message (`file:line` of its first header line).
    pub message: String,
    /// 1-based position from the top.
    pub position: usize,
    pub trust: Trust,
    /// Loopback or local submission: never a peer.
    pub local: bool,
    /// The sending side's posture key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer: Option<String>,
    #[serde(flatten)]
    pub hop: &'a Hop,
}

/// The hop events of one message, top first.
pub fn hop_events<'a>(m: &'a MessageHops, trust: &[Trust]) -> Vec<HopEvent<'a>> {
    m.hops
        .iter()
        .zip(trust)
        .enumerate()
        .map(|(i, (h, t))| HopEvent {
            kind: "hop",
            source: h.source.to_string(),
            message: m.source.to_string(),
            position: i + 1,
            trust: *t,
            local: h.hop.is_local(),
            peer: h.hop.from_peer().and_then(|p| p.key()),
            hop: &h.hop,
        })
        .collect()
}

#[cfg(test)]
#[path = "hops_tests.rs"]
mod tests;
