//! Gathering the records of a triage question, with what the records leave out.
//!
//! A [`Record`] says whether a message travelled encrypted, but not who sent it, to whom,
//! or what the receiving server answered: those stay on the [`Event`]. The pipeline shows
//! every event to a tap before correlating it ([`pipeline::run_tapped`]); the tap keeps
//! each event's process id and message facts by [`Source`], and each kept record is joined
//! to them by its own source line.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};

use serde::Serialize;

use crate::input::SourceFile;
use crate::model::Record;
use crate::model::{Event, EventKind, Source};
use crate::pipeline::{self, Options, RunReport};

/// The message facts of one `from=`/`to=` line.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Detail {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mailer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dsn: Option<String>,
    /// The delivery status text (`Sent (…)`, `Deferred: 403 4.7.0 TLS handshake failed.`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl Detail {
    /// The facts of a reception or delivery event; `None` for other events.
    pub fn of(kind: &EventKind) -> Option<Detail> {
        match kind {
            EventKind::Received(r) => Some(Detail {
                from: Some(r.from.clone()),
                ..Detail::default()
            }),
            EventKind::Delivery(d) => Some(Detail {
                to: Some(d.to.clone()),
                mailer: d.mailer.as_deref().map(str::to_owned),
                dsn: d.dsn.clone(),
                text: Some(d.text.clone()),
                ..Detail::default()
            }),
            _ => None,
        }
    }
}

/// One kept record with its process and message facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    #[serde(flatten)]
    pub record: Record,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<Detail>,
}

/// A message event that made no record (local delivery, qmgr `from=`, a Postfix queue
/// line): kept for a message's trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub event: Event,
}

/// What a triage read gathered.
#[derive(Debug, Default)]
pub struct Collected {
    /// Kept records in the order correlation produced them.
    pub items: Vec<Item>,
    /// Kept raw events (see [`Step`]), in log order.
    pub steps: Vec<Step>,
    pub report: RunReport,
}

/// Events whose facts are kept for a record still to come. Correlation releases a record
/// within its windows (minutes, a few thousand events); a record released later than this
/// many events after its line loses only its process id and message facts.
pub const TAP_CAP: usize = 200_000;

/// Reads `sources`, keeping the records `keep` accepts and the events `keep_event` accepts.
pub fn collect(
    sources: &[SourceFile],
    opts: &Options,
    keep: impl Fn(&Record) -> bool,
    keep_event: impl Fn(&Event) -> bool,
) -> Collected {
    let mut items = Vec::new();
    let (steps, report) = collect_each(
        sources,
        opts,
        |_| true,
        keep_event,
        keep,
        |it| items.push(it),
    );
    Collected {
        items,
        steps,
        report,
    }
}

/// [`collect`] handing each kept item to `sink` as correlation releases it, instead of
/// keeping them all: a busy peer's story folds ~150k records, and holding them (with the
/// facts of every event) until the end was most of its peak memory (issue 21). Only the
/// events `facts` accepts have their process id and message facts kept for a record
/// still to come; the other records' items carry none. Returns the kept events
/// ([`Step`]s) and the run's report.
pub fn collect_each(
    sources: &[SourceFile],
    opts: &Options,
    facts: impl Fn(&Event) -> bool,
    keep_event: impl Fn(&Event) -> bool,
    mut keep: impl FnMut(&Record) -> bool,
    mut sink: impl FnMut(Item),
) -> (Vec<Step>, RunReport) {
    let taps: RefCell<Taps> = RefCell::default();
    let mut steps = Vec::new();
    let report = pipeline::run_tapped(
        sources,
        opts,
        |ev| {
            if keep_event(ev) {
                steps.push(Step { event: ev.clone() });
            }
            taps.borrow_mut().add(ev, facts(ev));
        },
        |r| {
            if keep(&r) {
                let (pid, detail) = taps
                    .borrow()
                    .map
                    .get(&r.meta().source)
                    .map(|(_, pid, d)| (*pid, d.as_deref().cloned()))
                    .unwrap_or_default();
                sink(Item {
                    record: r,
                    pid,
                    detail,
                });
            }
        },
    );
    (steps, report)
}

/// What the tap keeps of one wanted event: the number of the event, its process id and
/// message facts (boxed: most events have none).
type Tap = (u64, Option<u32>, Option<Box<Detail>>);

/// The facts of the last [`TAP_CAP`] events (those wanted), by source line.
#[derive(Default)]
struct Taps {
    /// Events tapped so far (all of them, wanted or not).
    seen: u64,
    /// The wanted events' facts, with the number of the event that gave them.
    map: HashMap<Source, Tap>,
    /// The wanted events in order, to forget them [`TAP_CAP`] events later.
    order: VecDeque<(u64, Source)>,
}

impl Taps {
    /// Notes one event: its facts when `wanted`. An entry lives for the next [`TAP_CAP`]
    /// events of any kind, whether the others are kept or not, so what a record gets does
    /// not depend on which events are wanted.
    fn add(&mut self, ev: &Event, wanted: bool) {
        self.seen += 1;
        if wanted {
            self.map.insert(
                ev.source.clone(),
                (self.seen, ev.pid, Detail::of(&ev.kind).map(Box::new)),
            );
            self.order.push_back((self.seen, ev.source.clone()));
        } else if !self.map.is_empty() {
            // A line gives one event; the same source again (the same file read twice)
            // replaces what the first one left, as keeping every event would.
            self.map.remove(&ev.source);
        }
        while let Some((n, _)) = self.order.front()
            && n + (TAP_CAP as u64) <= self.seen
        {
            if let Some((_, old)) = self.order.pop_front() {
                self.map.remove(&old);
            }
        }
    }
}

/// The queue id of a message event, if it has one.
pub fn event_queue_id(kind: &EventKind) -> Option<&str> {
    match kind {
        EventKind::Received(r) => Some(&r.queue_id),
        EventKind::Delivery(d) => Some(&d.queue_id),
        EventKind::QueueClient { queue_id, .. } => Some(queue_id),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DeliveryStatus;
    use crate::parse::envelope::Zone;
    use crate::triage::causes;
    use chrono::Offset;
    use std::sync::Arc;

    /// Keeping the facts of only some events (`peer` keeps those of TLS deferrals) gives
    /// those records the same facts as keeping every event's, and the others none.
    #[test]
    fn facts_of_wanted_events_are_those_of_keeping_all() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs/maillog");
        let src = [SourceFile {
            display: Arc::from(path.display().to_string()),
            path: Some(path),
            mtime: None,
            walked: false,
        }];
        let opts = Options {
            year: Some(2026),
            zone: Zone::Fixed(chrono::Utc.fix()),
            ..Options::default()
        };
        let all = collect(&src, &opts, |_| true, |_| false);
        let wanted = |ev: &Event| matches!(&ev.kind, EventKind::Delivery(d) if causes::tls_reason(&d.text).is_some());
        let mut some = Vec::new();
        let (steps, _) = collect_each(&src, &opts, wanted, |_| false, |_| true, |it| some.push(it));
        assert!(steps.is_empty());
        assert_eq!(all.items.len(), some.len());
        let mut troubles = 0;
        for (a, s) in all.items.iter().zip(&some) {
            assert_eq!(a.record, s.record);
            let tls_text = a
                .detail
                .as_ref()
                .and_then(|d| d.text.as_deref())
                .is_some_and(|t| causes::tls_reason(t).is_some());
            if tls_text {
                assert_eq!(a.detail, s.detail);
                assert_eq!(a.pid, s.pid);
                if matches!(
                    a.record,
                    Record::Message {
                        status: Some(DeliveryStatus::Deferred | DeliveryStatus::Bounced),
                        ..
                    }
                ) {
                    troubles += 1;
                }
            } else {
                assert_eq!(s.detail, None);
                assert_eq!(s.pid, None);
            }
        }
        // The sample log's TLS deferrals (mx1.partner.example, mx.legacy.example …).
        assert!(troubles >= 2, "{troubles}");
    }
}
