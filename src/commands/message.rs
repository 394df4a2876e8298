//! `mailtls message QUEUE_ID|MESSAGE_ID [PATH…]`: one message across processes, queue ids
//! and MTAs.
//!
//! ```text
//! mailtls message 4AKA01xK004242 /var/log/maillog mx:/var/log/mail.log
//! mailtls message '<20261127100001.4AKA01xK004242@relay.example.net>' logs/ inbox.mbox
//! ```
//!
//! The ids of the message are found by [`crate::triage::scope`] (queue ids, Message-ID,
//! the next MTA's queue id named by our delivery's status text), then only the lines that
//! carry them (and the processes that handled them) are parsed; [`crate::triage::trace`]
//! lays the hops out. Stored copies among the paths add their `Received:` hops. Exit 0
//! when the message was found, 1 when no input names it, 2 on usage or I/O errors.

use super::Error;
use std::cell::RefCell;
use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;

use super::exit;
use super::peer::{Window, triage_inputs, warn};
use crate::model::Record;
use crate::stores::hops::{self, MessagesSummary};
use crate::triage::collect::{self, event_queue_id};
use crate::triage::scope::{self, Question};
use crate::triage::trace::{self, MessageTrace};

/// Flags of `mailtls message`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  mailtls message 6ARA01xK004242 sample-logs/chain/ --year 2026
  mailtls message '<20261127100001.AB12CD@partner.example>' sample-logs/chain/
  mailtls message 4F1b2C3d4E /var/log/mail.log ~/Maildir --json

Shows every hop of the message: on each MTA (log host and queue id) its reception (from which
peer, over TLS or not, with the parameters) and its deliveries (to which peer, status, dsn and
the server's reply, over TLS or not). A delivery whose reply names the next MTA's queue id
(Sendmail `stat=Sent (QID Message accepted for delivery)`, Postfix `queued as QID`, Exim
`id=QID`) is followed into that MTA's log when it is among the inputs; the Message-ID logged
by each MTA ties them too. A stored copy of the message (mbox, Maildir, .eml) adds its
Received: hops with their TLS verdict. Exit 1 when no input names the message.")]
pub struct Args {
    /// A queue id (Sendmail, Postfix, Exim message id) or a Message-ID (with or without
    /// angle brackets).
    #[arg(value_name = "QUEUE_ID|MESSAGE_ID")]
    pub id: String,

    /// Logs of every MTA the message may have crossed, rotated .gz logs, message stores,
    /// directories, or - for stdin.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    #[command(flatten)]
    pub window: Window,
}

/// Runs `message`.
pub fn run(args: &Args) -> Result<u8, Error> {
    let w = &args.window;
    // A message's hops through this machine (the MSP handing it to the MTA, a content
    // filter) are part of its story: loopback peers are kept.
    let filter = crate::analysis::filter::RecordFilter {
        loopback: true,
        ..w.filter(None)?
    };
    let inputs = triage_inputs("message", &args.paths)?;
    let seed = scope::message_seed(&args.id);
    let mut opts = w.options();
    // The ids are found by widening even with --no-prefilter (which then reads every
    // line); standard input cannot be read twice, so there only the queue ids chained by
    // the next-hop replies are followed, in one read.
    let sc = scope::widen(
        &inputs.logs,
        &Question::Message(args.id.clone()),
        opts.max_line,
    )
    .unwrap_or_default();
    if !w.no_prefilter {
        opts.needles = sc.needles.clone();
    }
    let mut qids: BTreeSet<String> = sc.queue_ids.clone();
    qids.insert(seed.clone());
    let mut msgids = sc.message_ids.clone();
    if sc.needles.is_none() {
        let full = collect::collect(
            &inputs.logs,
            &opts,
            |_| false,
            |ev| event_queue_id(&ev.kind).is_some(),
        );
        let mut changed = true;
        while changed {
            changed = false;
            for st in &full.steps {
                let ev = &st.event;
                if let crate::model::EventKind::Delivery(d) = &ev.kind
                    && qids.contains(d.queue_id.as_str())
                {
                    for n in scope::next_hop_ids(&d.text, ev.mta) {
                        changed |= qids.insert(n);
                    }
                }
            }
        }
    }
    // Failed outbound handshakes carry no queue id (Sendmail) or lose it in the parser
    // (Exim): the trace ties each to the delivery it precedes. The deliveries of other
    // messages by the same process (or to the same peer) after such a line are kept too,
    // so a line is never given to our delivery when another one came first.
    let fallback_keys: RefCell<HashSet<trace::FallbackKey>> = RefCell::default();
    let c = collect::collect(
        &inputs.logs,
        &opts,
        |r| match r {
            Record::Message { queue_id, .. } => qids.contains(queue_id.as_str()) && filter.keep(r),
            // The incident of a fallback line: its text and reason as the correlator made
            // them (the trace shows the line with them).
            Record::Error {
                direction, kind, ..
            } => direction != &Some(crate::model::Direction::Inbound) && !kind.is_local(),
            _ => false,
        },
        |ev| {
            let ours = event_queue_id(&ev.kind).is_some_and(|q| qids.contains(q));
            let fallback = trace::is_fallback_line(&ev.kind);
            let barrier = !ours
                && !fallback
                && trace::fallback_keys(ev)
                    .iter()
                    .any(|k| fallback_keys.borrow().contains(k));
            if fallback {
                fallback_keys.borrow_mut().extend(trace::fallback_keys(ev));
            }
            (ours || fallback || barrier)
                && (filter.since.is_none() && filter.until.is_none()
                    || ev.time().is_some_and(|t| {
                        filter.since.is_none_or(|s| t >= s) && filter.until.is_none_or(|u| t < u)
                    }))
        },
    );
    warn(w.quiet, &c, opts.needles.is_some());
    // A queue id asked for is not a Message-ID; a Message-ID has an `@`.
    if !seed.contains('@') {
        msgids.remove(&seed);
    }
    let mut trace = MessageTrace::build(&args.id, msgids, &c.steps, &c.items, Some(&qids));
    if !inputs.stores.is_empty() && !trace.is_empty() {
        let mut summary = MessagesSummary::default();
        hops::walk(&inputs.stores, None, &mut summary, |m, trust, _| {
            trace.add_stored(m, trust);
        });
    }
    if trace.is_empty() {
        let s = &c.report.summary;
        eprintln!(
            "mailtls message: no queue id or Message-ID '{}' in the inputs ({} in {}{})",
            seed,
            crate::model::text::count(s.lines_read, "line", "lines"),
            crate::model::text::count(s.files, "file", "files"),
            if filter.since.is_some() || filter.until.is_some() {
                ", inside the time window"
            } else {
                ""
            }
        );
        return Ok(exit::FINDINGS);
    }
    let out = if w.json || w.format == Some(super::TextFormat::Json) {
        match serde_json::to_string_pretty(&trace) {
            Ok(text) => text + "\n",
            Err(e) => {
                return Err(Error::Failed(e.to_string()));
            }
        }
    } else {
        trace.render(&w.painter())
    };
    super::write_stdout(&out)?;
    Ok(exit::OK)
}
