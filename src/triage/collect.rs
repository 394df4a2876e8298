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

/// What the tap keeps of one event: its process id and message facts. The facts are
/// boxed: most events have none, and the table holds up to [`TAP_CAP`] entries (unboxed,
/// each was five words of `Option<String>` more, tens of MiB of a busy peer's peak).
type Tap = (Option<u32>, Option<Box<Detail>>);

/// Reads `sources`, keeping the records `keep` accepts and the events `keep_event` accepts.
pub fn collect(
    sources: &[SourceFile],
    opts: &Options,
    keep: impl Fn(&Record) -> bool,
    keep_event: impl Fn(&Event) -> bool,
) -> Collected {
    let taps: RefCell<(HashMap<Source, Tap>, VecDeque<Source>)> = RefCell::default();
    let mut items = Vec::new();
    let mut steps = Vec::new();
    let report = pipeline::run_tapped(
        sources,
        opts,
        |ev| {
            if keep_event(ev) {
                steps.push(Step { event: ev.clone() });
            }
            let (map, order) = &mut *taps.borrow_mut();
            map.insert(
                ev.source.clone(),
                (ev.pid, Detail::of(&ev.kind).map(Box::new)),
            );
            order.push_back(ev.source.clone());
            if order.len() > TAP_CAP
                && let Some(old) = order.pop_front()
            {
                map.remove(&old);
            }
        },
        |r| {
            if keep(&r) {
                let (pid, detail) = taps
                    .borrow()
                    .0
                    .get(&r.meta().source)
                    .map(|(pid, d)| (*pid, d.as_deref().cloned()))
                    .unwrap_or_default();
                items.push(Item {
                    record: r,
                    pid,
                    detail,
                });
            }
        },
    );
    Collected {
        items,
        steps,
        report,
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
