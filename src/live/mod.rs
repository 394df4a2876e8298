//! The live side of the log pipeline, for `mailtls follow`: whole lines as they arrive →
//! events → correlated [`Record`]s, one line at a time, plus the silent-downgrade watch.
//!
//! It is the sequential half of [`crate::pipeline`] (parse, year resolution,
//! [`Correlator`]) without the parallel block parsing, which buys nothing for a few lines
//! at a time. Correlation state stays bounded by the correlator's own sweep; the set of
//! peers known to use TLS is capped (oldest forgotten first).
//!
//! # Silent downgrade
//!
//! When the MTA cannot load its own key or certificate (Sendmail `SSL_CTX_use_PrivateKey_file
//! … failed`, Postfix `cannot get RSA private key … disabling TLS support`, Exim `cert/key
//! setup: … Decryption has failed`) it does not stop: it goes on in plaintext with every
//! peer that does not insist. Nothing bounces and nobody notices. The windows are decided
//! by the same state machine as `scan` and `peer` ([`crate::analysis::downgrade::Machine`], per log
//! host and per role): a window opening raises [`Alert::TlsDisabled`] for that direction,
//! every plaintext message in it from or to a peer that used TLS before raises
//! [`Alert::Downgrade`], and evidence that TLS works again for that role (a TLS session,
//! `init=1`, a daemon start not followed by the incident) raises [`Alert::TlsResumed`].
//! An informational line or a daemon start alone raises nothing.

pub mod metrics;
pub mod print;
pub mod watch;

use std::collections::{HashMap, HashSet, VecDeque};

use crate::analysis::downgrade::{Machine, Step};
use std::sync::Arc;

use chrono::Local;
use serde::Serialize;

use crate::correlate::Correlator;

use crate::analysis::filter::{RecordFilter, peer_matches};
use crate::input::Block;
use crate::input::follow::Notice;
use crate::model::{Direction, Peer, QueueId, TlsErrorKind, Verify};
use crate::model::{Encryption, Meta, Record};
use crate::parse::envelope::{YearBase, YearResolver, Zone};
use crate::parse::{self, LineOutcome};

/// Peers remembered as TLS users, at most (oldest forgotten first).
pub const MAX_TLS_PEERS: usize = 100_000;

/// Something an administrator must see now, beyond the records themselves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "alert", rename_all = "snake_case")]
pub enum Alert {
    /// Our own key, certificate or TLS settings failed to load: the MTA has stopped
    /// offering (or using) STARTTLS and mail goes on in plaintext.
    TlsDisabled {
        #[serde(flatten)]
        meta: Meta,
        /// The role that broke: inbound = our server side, outbound = our client side.
        direction: Direction,
        kind: TlsErrorKind,
        text: String,
    },
    /// A plaintext message with a peer that used TLS before, while our TLS is broken.
    Downgrade {
        #[serde(flatten)]
        meta: Meta,
        direction: Direction,
        peer: Peer,
        queue_id: QueueId,
    },
    /// TLS works again on this log host for this role; `downgraded` plaintext messages
    /// were reported meanwhile. `meta` is the line that proved it.
    TlsResumed {
        #[serde(flatten)]
        meta: Meta,
        direction: Direction,
        downgraded: u64,
    },
    /// This log host has done no TLS at all in this role while its peers' mail went in
    /// clear ([`crate::analysis::host_tls`], the rule `scan` blames our host with): STARTTLS
    /// not offered (or not tried), which no MTA logs. Once per host and role; `meta` is
    /// the message that made the case.
    NoTls {
        #[serde(flatten)]
        meta: Meta,
        direction: Direction,
        messages: u64,
        peers: u64,
    },
}

impl Alert {
    pub fn meta(&self) -> &Meta {
        match self {
            Alert::TlsDisabled { meta, .. }
            | Alert::Downgrade { meta, .. }
            | Alert::TlsResumed { meta, .. }
            | Alert::NoTls { meta, .. } => meta,
        }
    }

    /// The snake_case name used in JSON and metrics labels.
    pub fn name(&self) -> &'static str {
        match self {
            Alert::TlsDisabled { .. } => "tls_disabled",
            Alert::Downgrade { .. } => "downgrade",
            Alert::TlsResumed { .. } => "tls_resumed",
            Alert::NoTls { .. } => "no_tls",
        }
    }
}

/// What the live pipeline hands out, in log order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Record(Record),
    Alert(Alert),
}

/// Counts over everything followed, for the closing summary and the metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LiveCounts {
    pub lines: u64,
    pub recognized: u64,
    pub malformed: u64,
    pub too_long: u64,
    /// Rename-and-create rotations followed (and files appearing under the name).
    pub rotations: u64,
    /// copytruncate rotations followed.
    pub truncations: u64,
    /// Times log data was lost before it could be read: logrotate's own copytruncate gap
    /// (lines written between its copy and its truncate), a truncated file with no copy,
    /// a checkpointed file compressed or deleted before its rest was read. An
    /// administrator alerts on this: the counts of such a night are short.
    pub losses: u64,
    /// Bytes known lost in those (a gone checkpointed file adds none: its rest's size is
    /// not known).
    pub lost_bytes: u64,
}

/// The silent-downgrade watch; see the module documentation.
#[derive(Default)]
pub struct DowngradeGuard {
    tls_peers: HashSet<String>,
    order: VecDeque<String>,
    /// One window machine per log host.
    hosts: HashMap<crate::analysis::downgrade::HostKey, Machine>,
    /// Downgrade alerts raised per open window (host, role).
    downgraded: HashMap<(Option<Arc<str>>, Direction), u64>,
    steps: Vec<Step>,
    /// What each host did in each role, for the hosts that do no TLS at all.
    host_tls: crate::analysis::host_tls::HostTlsFold,
    /// (host, role) already reported without TLS.
    no_tls: HashSet<(String, Direction)>,
}

impl DowngradeGuard {
    /// True while some log host's TLS is reported broken.
    pub fn is_broken(&self) -> bool {
        self.hosts.values().any(Machine::is_open)
    }

    fn remember(&mut self, peer: &Peer) {
        if let Some(k) = peer.key()
            && !self.tls_peers.contains(&k)
        {
            self.tls_peers.insert(k.clone());
            self.order.push_back(k);
            while self.order.len() > MAX_TLS_PEERS {
                if let Some(old) = self.order.pop_front() {
                    self.tls_peers.remove(&old);
                }
            }
        }
    }

    /// The log has gone quiet at `now` (wall clock): a daemon start whose burst has passed
    /// without an incident shows TLS working again now, not at the next record.
    pub fn tick(&mut self, now: chrono::DateTime<chrono::FixedOffset>, alerts: &mut Vec<Alert>) {
        let hosts: Vec<crate::analysis::downgrade::HostKey> = self.hosts.keys().cloned().collect();
        for h in hosts {
            if let Some(m) = self.hosts.get_mut(&h) {
                m.tick(now, &mut self.steps);
            }
            for s in std::mem::take(&mut self.steps) {
                if let Step::Closed { window, at } = s {
                    let downgraded = self
                        .downgraded
                        .remove(&(h.0.clone(), window.direction))
                        .unwrap_or(0);
                    alerts.push(Alert::TlsResumed {
                        meta: at,
                        direction: window.direction,
                        downgraded,
                    });
                }
            }
        }
    }

    /// Looks at one record and appends the alerts it raises.
    pub fn observe(&mut self, r: &Record, alerts: &mut Vec<Alert>) {
        let meta = r.meta();
        let m = self
            .hosts
            .entry(crate::analysis::downgrade::host_key(meta))
            .or_insert_with(|| Machine::new(&crate::analysis::downgrade::host_name(meta)));
        m.push(r, &mut self.steps);
        // A window of ours open in the message's role explains its clear text.
        let window_open = match r {
            Record::Message { direction, .. } => m.open(*direction).is_some(),
            _ => false,
        };
        // Closing first: a restart's evidence is reported when its burst has passed, at
        // the record that ended the burst, before what that record did.
        for s in std::mem::take(&mut self.steps) {
            match s {
                Step::Closed { window, at } => {
                    let downgraded = self
                        .downgraded
                        .remove(&(meta.host.clone(), window.direction))
                        .unwrap_or(0);
                    alerts.push(Alert::TlsResumed {
                        meta: at,
                        direction: window.direction,
                        downgraded,
                    });
                }
                Step::Opened(direction) => {
                    if let Record::Error { kind, text, .. } = r {
                        alerts.push(Alert::TlsDisabled {
                            meta: meta.clone(),
                            direction,
                            kind: *kind,
                            text: text.clone(),
                        });
                    }
                }
                Step::InWindow { direction, late } => {
                    // The pushed message, or one seen shortly before the incident that
                    // explains it was handed out.
                    let (m, peer, queue_id) = match (&late, r) {
                        (Some(l), _) => (&l.meta, &l.peer, &l.queue_id),
                        (None, Record::Message { peer, queue_id, .. }) => (meta, peer, queue_id),
                        (None, _) => continue,
                    };
                    if peer.key().is_some_and(|k| self.tls_peers.contains(&k)) {
                        *self
                            .downgraded
                            .entry((meta.host.clone(), direction))
                            .or_default() += 1;
                        alerts.push(Alert::Downgrade {
                            meta: m.clone(),
                            direction,
                            peer: peer.clone(),
                            queue_id: queue_id.clone(),
                        });
                    }
                }
                Step::InClosed { late, .. } => {
                    // A message of the outage handed out after TLS was seen working again
                    // (already reported): the downgrade is still one.
                    if late.peer.key().is_some_and(|k| self.tls_peers.contains(&k)) {
                        alerts.push(Alert::Downgrade {
                            meta: late.meta.clone(),
                            direction: late.direction,
                            peer: late.peer.clone(),
                            queue_id: late.queue_id.clone(),
                        });
                    }
                }
                Step::StartHeld { .. } | Step::Absorbed(_) => {}
            }
        }
        match r {
            Record::Session { peer, .. }
            | Record::Message {
                peer,
                encryption: Encryption::Tls(_) | Encryption::TlsUnknown,
                ..
            } => self.remember(peer),
            _ => {}
        }
        // A host and role already reported is not folded further: its peers would grow
        // with every new sender for as long as the follower runs.
        let reported = match r {
            Record::Message { direction, .. } if !self.no_tls.is_empty() => self
                .no_tls
                .contains(&(crate::analysis::downgrade::host_name(meta), *direction)),
            _ => false,
        };
        if !reported {
            self.host_tls.add(r);
        }
        if let Record::Message {
            direction,
            encryption: Encryption::Plaintext,
            ..
        } = r
            && !window_open
            && let Some(d) = self.host_tls.get(meta, *direction)
            && d.never_tls_with(|k| self.tls_peers.contains(k))
            && self.no_tls.insert((d.host.clone(), *direction))
        {
            alerts.push(Alert::NoTls {
                meta: meta.clone(),
                direction: *direction,
                messages: d.plaintext_messages,
                peers: d.peers.len() as u64,
            });
        }
    }
}

/// Lines in, records and alerts out; see the module documentation.
pub struct Live {
    file: Arc<str>,
    zone: Zone,
    years: YearResolver,
    corr: Correlator,
    guard: DowngradeGuard,
    max_line: usize,
    records: Vec<Record>,
    alerts: Vec<Alert>,
    pub counts: LiveCounts,
}

fn resolver(zone: Zone) -> YearResolver {
    // A live log is written now: its year-less stamps are this year's (or, for a December
    // line read in January, last year's — the resolver's rule for an mtime).
    YearResolver::new(YearBase::Mtime(Local::now().date_naive()), zone)
}

impl Live {
    /// `file` names the followed path in every record's `source`.
    pub fn new(file: Arc<str>, zone: Zone, max_line: usize) -> Live {
        Live {
            file,
            zone,
            years: resolver(zone),
            corr: Correlator::new(),
            guard: DowngradeGuard::default(),
            max_line,
            records: Vec::new(),
            alerts: Vec::new(),
            counts: LiveCounts::default(),
        }
    }

    /// True while a local TLS failure is unresolved.
    pub fn tls_broken(&self) -> bool {
        self.guard.is_broken()
    }

    /// Nothing new to read: what waited for the log to go on (a daemon start's burst) is
    /// decided by the wall clock.
    pub fn idle(&mut self, out: &mut Vec<Output>) {
        self.guard
            .tick(Local::now().fixed_offset(), &mut self.alerts);
        out.extend(self.alerts.drain(..).map(Output::Alert));
    }

    /// Lines from before the starting point: they teach the correlation and the downgrade
    /// watch about sessions in progress, and produce no output and no counts.
    pub fn warm(&mut self, block: &Block) {
        let mut sink = Vec::new();
        self.lines(block, &mut sink, false);
    }

    /// New lines: appends their records and alerts to `out`, in log order.
    pub fn feed(&mut self, block: &Block, out: &mut Vec<Output>) {
        self.lines(block, out, true);
    }

    /// Keeps year inference right across files and counts rotations and losses.
    pub fn notice(&mut self, n: &Notice) {
        match n {
            Notice::Rotated | Notice::Appeared | Notice::ResumedRotated { .. } => {
                self.counts.rotations += 1;
                self.years = resolver(self.zone);
            }
            Notice::Truncated => {
                self.counts.truncations += 1;
                self.years = resolver(self.zone);
            }
            Notice::Lost { bytes } => {
                self.counts.losses += 1;
                self.counts.lost_bytes += bytes;
            }
            Notice::ResumeLost => self.counts.losses += 1,
            Notice::Reading { .. }
            | Notice::Missing
            | Notice::Copy { .. }
            | Notice::Polling { .. }
            | Notice::Error(_) => {}
        }
    }

    /// Ends the stream (at shutdown): errors still waiting for a peer are handed out
    /// unattributed. The correlation starts afresh if more lines come.
    pub fn finish(&mut self, out: &mut Vec<Output>) {
        std::mem::take(&mut self.corr).finish(&mut self.records);
        self.emit(out, true);
    }

    /// Hands the records the correlator completed to the alert guard and, when live, to
    /// `out` with the alerts each one raised (warm-up only teaches the guard).
    fn emit(&mut self, out: &mut Vec<Output>, live: bool) {
        for r in self.records.drain(..) {
            self.guard.observe(&r, &mut self.alerts);
            if live {
                out.push(Output::Record(r));
                out.extend(self.alerts.drain(..).map(Output::Alert));
            } else {
                self.alerts.clear();
            }
        }
    }

    fn lines(&mut self, block: &Block, out: &mut Vec<Output>, live: bool) {
        let mut counts = LiveCounts {
            lines: block.skipped_long_lines,
            too_long: block.skipped_long_lines,
            ..LiveCounts::default()
        };
        // Only records are shown and alerted on: no event field they leave out is built.
        let mut hosts = parse::HostNames::default();
        for (no, line) in block.lines() {
            counts.lines += 1;
            if line.len() > self.max_line {
                counts.too_long += 1;
                continue;
            }
            match parse::parse_line_detailed(
                line,
                &self.file,
                no,
                &mut hosts,
                parse::Detail::Records,
                |_| {},
            ) {
                LineOutcome::Event(mut ev) => {
                    counts.recognized += 1;
                    ev.stamp = self.years.resolve(ev.stamp);
                    self.corr.push(ev, &mut self.records);
                    self.emit(out, live);
                }
                LineOutcome::Irrelevant => {}
                LineOutcome::Malformed(_) => counts.malformed += 1,
            }
        }
        // What was appended so far is all there is: an error burst still gathering into
        // an incident is complete for now (live alerts must not wait for the next line).
        self.corr.flush_incidents(&mut self.records);
        self.emit(out, live);
        if live {
            let c = &mut self.counts;
            c.lines += counts.lines;
            c.recognized += counts.recognized;
            c.malformed += counts.malformed;
            c.too_long += counts.too_long;
        }
    }
}

/// True for records about something that went wrong: errors and failing verdicts.
pub fn is_error(r: &Record) -> bool {
    match r {
        Record::Error { .. } => true,
        Record::Verdict { verify, reject, .. } => *reject || verify.is_tls_failure(),
        Record::Session { .. }
        | Record::Message { .. }
        | Record::Ready { .. }
        | Record::Start { .. } => false,
    }
}

/// What `follow` prints: [`RecordFilter`] (peer, direction, loopback, times) plus a
/// verify word and errors only. Alerts about our own TLS (disabled, working again) are
/// always shown; a downgrade alert obeys the peer and direction filters only.
#[derive(Debug, Clone, Default)]
pub struct DisplayFilter {
    pub records: RecordFilter,
    pub verify: Option<Verify>,
    pub errors_only: bool,
}

impl DisplayFilter {
    pub fn keep(&self, o: &Output) -> bool {
        match o {
            // A downgrade is about one peer: it obeys --peer and --direction.
            Output::Alert(Alert::Downgrade {
                peer, direction, ..
            }) => {
                self.records
                    .peer
                    .as_deref()
                    .is_none_or(|p| peer_matches(peer, p))
                    && self.records.direction.is_none_or(|d| d == *direction)
            }
            Output::Alert(_) => true,
            Output::Record(r) => {
                self.records.keep(r)
                    && self.verify.as_ref().is_none_or(|v| r.verify() == Some(v))
                    && (!self.errors_only || is_error(r))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(live: &mut Live, text: &str) -> Vec<Output> {
        let mut out = Vec::new();
        live.feed(
            &Block {
                first_line: 1,
                data: text.as_bytes().to_vec(),
                skipped_long_lines: 0,
            },
            &mut out,
        );
        out
    }

    fn summary(out: &[Output]) -> Vec<String> {
        out.iter()
            .map(|o| match o {
                Output::Record(r) => match r {
                    Record::Session { peer, .. } => format!("session {}", peer.key().unwrap()),
                    Record::Message {
                        peer, encryption, ..
                    } => format!(
                        "message {} {}",
                        peer.key().unwrap(),
                        if encryption.is_tls() { "tls" } else { "plain" }
                    ),
                    Record::Error { kind, .. } => format!("error {kind}"),
                    Record::Verdict { verify, .. } => format!("verdict {verify}"),
                    Record::Ready { .. } => "ready".to_owned(),
                    Record::Start { .. } => "start".to_owned(),
                },
                Output::Alert(a) => match a {
                    Alert::Downgrade { peer, .. } => {
                        format!("ALERT downgrade {}", peer.key().unwrap())
                    }
                    Alert::TlsResumed {
                        downgraded,
                        direction,
                        ..
                    } => {
                        format!("ALERT tls_resumed {} {downgraded}", direction.as_str())
                    }
                    Alert::TlsDisabled { kind, .. } => format!("ALERT tls_disabled {kind}"),
                    Alert::NoTls { .. } => "ALERT no_tls".to_owned(),
                },
            })
            .collect()
    }

    /// One row: the lines fed at once and what must come out, in order.
    #[test]
    fn silent_downgrade_is_reported_until_tls_resumes() {
        let rows: &[(&str, &[&str])] = &[
            (
                "Nov 28 09:00:01 mail sm-mta[4101]: STARTTLS=server, relay=mx.partner.example [192.0.2.25], version=TLSv1.3, verify=NO, cipher=TLS_AES_256_GCM_SHA384, bits=256/256\n\
                 Nov 28 09:00:02 mail sm-mta[4101]: 6ASA01a4004101: from=<a@partner.example>, size=912, class=0, nrcpts=1, msgid=<1@partner.example>, proto=ESMTPS, daemon=MTA, relay=mx.partner.example [192.0.2.25]\n",
                &[
                    "session mx.partner.example",
                    "message mx.partner.example tls",
                ],
            ),
            (
                "Nov 28 09:02:00 mail sm-mta[4120]: STARTTLS=client, relay=mx1.bigmail.example., version=TLSv1.3, verify=OK, cipher=TLS_AES_128_GCM_SHA256, bits=128/128\n",
                &["session mx1.bigmail.example"],
            ),
            (
                // A plaintext peer before the failure: not a downgrade.
                "Nov 28 09:05:00 mail sm-mta[4200]: 6ASA05a4004200: from=<scan@printer.example>, size=100, class=0, nrcpts=1, msgid=<2@printer.example>, proto=ESMTP, daemon=MTA, relay=printer.example [198.51.100.7]\n",
                &["message printer.example plain"],
            ),
            (
                "Nov 28 09:10:00 mail sm-mta[4300]: STARTTLS=server, error: SSL_CTX_use_PrivateKey_file(/etc/mail/certs/host.key) failed\n",
                &["error private_key", "ALERT tls_disabled private_key"],
            ),
            (
                // A second key error in the same spell: a record, no second alert.
                "Nov 28 09:10:05 mail sm-mta[4301]: STARTTLS=server: file /etc/mail/certs/host.key unsafe: Group readable file\n",
                &["error unsafe_file"],
            ),
            (
                "Nov 28 09:11:00 mail sm-mta[4302]: 6ASA11a4004302: from=<a@partner.example>, size=900, class=0, nrcpts=1, msgid=<3@partner.example>, proto=ESMTP, daemon=MTA, relay=mx.partner.example [192.0.2.25]\n\
                 Nov 28 09:11:30 mail sm-mta[4303]: 6ASA11b4004303: from=<scan@printer.example>, size=100, class=0, nrcpts=1, msgid=<4@printer.example>, proto=ESMTP, daemon=MTA, relay=printer.example [198.51.100.7]\n",
                &[
                    "message mx.partner.example plain",
                    "ALERT downgrade mx.partner.example",
                    // never used TLS: plaintext as always, no alert
                    "message printer.example plain",
                ],
            ),
            (
                // Outbound: the server key is broken, not the client side (its own files),
                // so plaintext delivered to a TLS peer is not a downgrade of our outage.
                "Nov 28 09:12:00 mail sm-mta[4310]: 6ASA12a4004310: to=<bob@bigmail.example>, delay=00:00:01, xdelay=00:00:01, mailer=esmtp, pri=30312, relay=mx1.bigmail.example. [203.0.113.10], dsn=4.0.0, stat=Deferred: Connection reset by mx1.bigmail.example.\n\
                 Nov 28 09:20:00 mail sm-mta[4320]: 6ASA12a4004310: to=<bob@bigmail.example>, delay=00:08:01, xdelay=00:00:01, mailer=esmtp, pri=120312, relay=mx1.bigmail.example. [203.0.113.10], dsn=2.0.0, stat=Sent (OK queued)\n",
                &[
                    "message mx1.bigmail.example plain",
                    "message mx1.bigmail.example plain",
                ],
            ),
            (
                // An outbound session is no evidence for our server side.
                "Nov 28 09:25:00 mail sm-mta[4330]: STARTTLS=client, relay=mx1.bigmail.example., version=TLSv1.3, verify=OK, cipher=TLS_AES_128_GCM_SHA256, bits=128/128\n",
                &["session mx1.bigmail.example"],
            ),
            (
                "Nov 28 09:30:00 mail sm-mta[4400]: STARTTLS=server, relay=mx.partner.example [192.0.2.25], version=TLSv1.3, verify=NO, cipher=TLS_AES_256_GCM_SHA384, bits=256/256\n",
                &["session mx.partner.example", "ALERT tls_resumed in 1"],
            ),
            (
                "Nov 28 09:31:00 mail sm-mta[4401]: 6ASA31a4004401: from=<a@partner.example>, size=900, class=0, nrcpts=1, msgid=<5@partner.example>, proto=ESMTP, daemon=MTA, relay=mx.partner.example [192.0.2.25]\n",
                &["message mx.partner.example plain"],
            ),
        ];
        let mut live = Live::new(Arc::from("maillog"), Zone::Local, 64 * 1024);
        for (i, (lines, want)) in rows.iter().enumerate() {
            let got = summary(&feed(&mut live, lines));
            assert_eq!(got, *want, "row {i}");
        }
        assert_eq!(live.counts.lines, 13);
        assert_eq!(live.counts.recognized, 13);
    }

    /// Postfix hands a message out at its qmgr/disconnect line: one accepted in clear in
    /// our outage can come out after another client's TLS session ended the outage. It is
    /// still a downgrade of a peer that used TLS before.
    #[test]
    fn a_downgrade_handed_out_after_tls_resumed_is_still_alerted() {
        let mut live = Live::new(Arc::from("maillog"), Zone::Local, 64 * 1024);
        let out = feed(
            &mut live,
            "Nov 28 09:00:01 mx postfix/smtpd[100]: Anonymous TLS connection established from mail-out.partner.example[192.0.2.25]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\n\
             Nov 28 09:10:00 mx postfix/smtpd[200]: warning: cannot get RSA private key from file \"/etc/ssl/private/mx.key\": disabling TLS support\n\
             Nov 28 09:11:00 mx postfix/smtpd[200]: connect from mail-out.partner.example[192.0.2.25]\n\
             Nov 28 09:11:01 mx postfix/smtpd[200]: 4XyZ1A2B3C: client=mail-out.partner.example[192.0.2.25]\n\
             Nov 28 09:11:02 mx postfix/smtpd[300]: Anonymous TLS connection established from mail-out.other.example[198.51.100.20]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\n\
             Nov 28 09:11:03 mx postfix/qmgr[50]: 4XyZ1A2B3C: from=<a@partner.example>, size=900, nrcpt=1 (queue active)\n\
             Nov 28 09:11:03 mx postfix/smtpd[200]: disconnect from mail-out.partner.example[192.0.2.25] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5\n",
        );
        let got = summary(&out);
        let resumed = got.iter().position(|l| l.starts_with("ALERT tls_resumed"));
        let downgrade = got
            .iter()
            .position(|l| l == "ALERT downgrade mail-out.partner.example");
        assert!(
            resumed.is_some() && downgrade.is_some_and(|d| Some(d) > resumed),
            "{got:#?}"
        );
    }

    /// A server that offers no STARTTLS logs nothing about it: the alert comes once the
    /// host's clear text is several peers' (the rule `scan` uses), and only once.
    #[test]
    fn a_host_without_tls_is_alerted_once() {
        let msg = |t: &str, pid: u32, qid: &str, relay: &str| {
            format!(
                "Nov 28 09:{t} mail sm-mta[{pid}]: {qid}: from=<a@x.example>, size=900, class=0, nrcpts=1, msgid=<{qid}@x.example>, proto=ESMTP, daemon=MTA, relay={relay}\n"
            )
        };
        let mut live = Live::new(Arc::from("maillog"), Zone::Local, 64 * 1024);
        let two = format!(
            "{}{}",
            msg("00:01", 4101, "6ASA01a4004101", "mx.a.example [192.0.2.1]"),
            msg("00:02", 4102, "6ASA02a4004102", "mx.b.example [192.0.2.2]")
        );
        let out = summary(&feed(&mut live, &two));
        assert!(!out.iter().any(|l| l.starts_with("ALERT")), "{out:?}");
        let third = msg("00:03", 4103, "6ASA03a4004103", "mx.a.example [192.0.2.1]");
        let out = summary(&feed(&mut live, &third));
        assert_eq!(
            out.last().map(String::as_str),
            Some("ALERT no_tls"),
            "{out:?}"
        );
        let fourth = msg("00:04", 4104, "6ASA04a4004104", "mx.c.example [192.0.2.3]");
        let out = summary(&feed(&mut live, &fourth));
        assert!(!out.iter().any(|l| l.starts_with("ALERT")), "once: {out:?}");
        // A host that did TLS in that role is not one.
        let mut live = Live::new(Arc::from("maillog"), Zone::Local, 64 * 1024);
        let tls = "Nov 28 08:59:00 mail sm-mta[4100]: STARTTLS=server, relay=mx.d.example [192.0.2.4], version=TLSv1.3, verify=NO, cipher=TLS_AES_256_GCM_SHA384, bits=256/256\n";
        let out = summary(&feed(&mut live, &format!("{tls}{two}{third}{fourth}")));
        assert!(!out.iter().any(|l| l.starts_with("ALERT")), "{out:?}");
    }

    #[test]
    fn warm_up_teaches_without_output() {
        let mut live = Live::new(Arc::from("maillog"), Zone::Local, 64 * 1024);
        live.warm(&Block {
            first_line: 1,
            data: b"Nov 28 09:00:01 mail sm-mta[4101]: STARTTLS=server, relay=mx.partner.example [192.0.2.25], version=TLSv1.3, verify=NO, cipher=TLS_AES_256_GCM_SHA384, bits=256/256\n".to_vec(),
            skipped_long_lines: 0,
        });
        assert_eq!(live.counts, LiveCounts::default());
        // The message after the start rides the session seen during warm-up.
        let out = feed(
            &mut live,
            "Nov 28 09:00:02 mail sm-mta[4101]: 6ASA01a4004101: from=<a@partner.example>, size=912, class=0, nrcpts=1, msgid=<1@partner.example>, proto=ESMTP, daemon=MTA, relay=mx.partner.example [192.0.2.25]\n",
        );
        assert_eq!(summary(&out), vec!["message mx.partner.example tls"]);
    }

    #[test]
    fn display_filter_selects_verify_and_errors() {
        let mut live = Live::new(Arc::from("maillog"), Zone::Local, 64 * 1024);
        let out = feed(
            &mut live,
            "Nov 28 10:05:21 mail sm-mta[29183]: STARTTLS=server, relay=mx.v6only.example [IPv6:2001:db8:5::25], version=TLSv1.3, verify=FAIL, cipher=TLS_AES_128_GCM_SHA256, bits=128/128\n\
             Nov 28 10:05:30 mail sm-mta[29190]: STARTTLS=server, relay=mx.partner.example [192.0.2.25], version=TLSv1.3, verify=OK, cipher=TLS_AES_256_GCM_SHA384, bits=256/256\n\
             Nov 28 10:06:00 mail sm-mta[29191]: ruleset=tls_server, arg1=SOFTWARE, relay=mx.bank.example., reject=403 4.7.0 TLS handshake failed.\n",
        );
        let fail = DisplayFilter {
            verify: Some(Verify::Fail),
            ..DisplayFilter::default()
        };
        let kept: Vec<_> = out.iter().filter(|o| fail.keep(o)).cloned().collect();
        assert_eq!(summary(&kept), vec!["session mx.v6only.example"]);
        let errors = DisplayFilter {
            errors_only: true,
            ..DisplayFilter::default()
        };
        let kept: Vec<_> = out.iter().filter(|o| errors.keep(o)).cloned().collect();
        assert_eq!(summary(&kept), vec!["error policy", "verdict SOFTWARE"]);
    }
}
