//! `mailtls peer NAME|IP [PATH…]`: one peer's whole story across every input.
//!
//! ```text
//! mailtls peer example.org /var/log/mail.log*            posture, what changed, errors
//! mailtls peer 192.0.2.25 logs/ --around '2026-11-20 10:00±1h'
//! mailtls peer mx1.example.org logs/ check.json --json   with `check --json` results
//! ```
//!
//! Logs are read narrowed to the lines that can matter ([`crate::triage::scope`]); the
//! story is folded by [`crate::triage::peer`]. Message stores among the paths add the
//! peer's `Received:` hops; `mailtls.check/1` documents (`check --json`) add the live
//! check of the peer. Exit 0 when the peer was found, 1 when nothing in the inputs names
//! it, 2 on usage or I/O errors.

use super::Error;
use std::io::IsTerminal;
use std::path::PathBuf;

use chrono::Offset;
use serde::Serialize;

use super::{Selection, exit};
use crate::analysis::downgrade::Downgrades;
use crate::analysis::filter::{RecordFilter, peer_matches};
use crate::input::SourceFile;
use crate::model::EventKind;
use crate::model::Record;
use crate::parse::envelope::Zone;
use crate::pipeline::{self, Options};
use crate::stores::hops::{self, MessagesSummary};
use crate::stores::messages;
use crate::triage::causes;
use crate::triage::collect::{self, Collected};
use crate::triage::peer::{PeerStory, StoryFold};
use crate::triage::scope::{self, Question};
use crate::triage::term::{ColorWhen, Painter, Tone};

/// The window and reading flags `peer` and `message` share.
#[derive(Debug, Clone, clap::Args)]
pub struct Window {
    // The text is --help's (clap shows it verbatim): rustdoc must not read it as links/HTML.
    #[allow(rustdoc::broken_intra_doc_links)]
    /// Only records at or after this time (YYYY-MM-DD, 'YYYY-MM-DD HH:MM[:SS]', RFC 3339,
    /// or a duration back from now such as 24h).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    /// Only records before this time (same forms as --since).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,

    /// Only records within DURATION of TIME ('2026-11-20 10:00±30m', or +- for ±; ±15m
    /// when no duration is given). Replaces --since and --until.
    #[arg(long, value_name = "TIME[±DUR]", conflicts_with_all = ["since", "until"])]
    pub around: Option<String>,

    /// Year of the first entry of each log, for syslog stamps without a year.
    #[arg(long, value_name = "YYYY", value_parser = super::year_arg)]
    pub year: Option<i32>,

    /// Read stamps without a time zone as UTC instead of local time.
    #[arg(long)]
    pub utc: bool,

    /// Include peers on this machine (127.0.0.0/8, ::1, localhost).
    #[arg(long)]
    pub loopback: bool,

    /// Parse every line instead of only those that can matter (slower; same answer).
    #[arg(long)]
    pub no_prefilter: bool,

    /// One JSON document instead of the terminal text (the same as --format json).
    #[arg(long)]
    pub json: bool,

    /// text (default) or json.
    #[arg(long, value_enum, value_name = "FORMAT", conflicts_with = "json")]
    pub format: Option<super::TextFormat>,

    /// Colour the terminal text: auto (a terminal without NO_COLOR), always, never.
    #[arg(long, value_enum, default_value_t, value_name = "WHEN")]
    pub color: ColorWhen,

    /// Do not print warnings about unreadable files and malformed lines.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

impl Window {
    /// The shared record filter for `peer` (or none).
    pub fn filter(&self, peer: Option<String>) -> Result<RecordFilter, Error> {
        Selection {
            peer,
            since: self.since.clone(),
            until: self.until.clone(),
            around: self.around.clone(),
            direction: None,
            year: self.year,
            utc: self.utc,
            loopback: self.loopback,
            no_skip: false,
        }
        .record_filter()
    }

    pub fn options(&self) -> Options {
        Options {
            year: self.year,
            zone: if self.utc {
                Zone::Fixed(chrono::Utc.fix())
            } else {
                Zone::Local
            },
            ..Options::default()
        }
    }

    pub fn painter(&self) -> Painter {
        Painter::new(self.color.enabled(std::io::stdout().is_terminal()))
    }
}

/// The inputs of a triage command, sorted by kind.
pub struct TriageInputs {
    pub logs: Vec<SourceFile>,
    pub stores: Vec<messages::Store>,
    /// `mailtls.check/1` results (`check --json`), one JSON value per result.
    pub checks: Vec<serde_json::Value>,
}

/// Splits the paths into logs, message stores and `check --json` documents. Problems are
/// printed; `None` when nothing can be read.
pub fn triage_inputs(cmd: &str, paths: &[PathBuf]) -> Result<TriageInputs, Error> {
    let mut checks = Vec::new();
    let mut rest = Vec::new();
    for p in paths {
        if p.extension().is_some_and(|e| e == "json") && p.is_file() {
            match std::fs::read(p)
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            {
                Some(v) if v["schema"] == crate::probe::SCHEMA => {
                    if let Some(rs) = v["results"].as_array() {
                        checks.extend(rs.iter().cloned());
                    }
                }
                _ => eprintln!(
                    "mailtls {cmd}: {}: not a mailtls.check/1 document (check --json)",
                    p.display()
                ),
            }
        } else {
            rest.push(p.clone());
        }
    }
    if rest.is_empty() && checks.is_empty() {
        if std::io::stdin().is_terminal() {
            return Err(Error::Usage(
                "no input: give log files or directories, or - for stdin".to_owned(),
            ));
        }
        rest.push(PathBuf::from("-"));
    }
    let messages::Inputs {
        logs,
        stores,
        errors,
        skipped,
    } = if rest.is_empty() {
        messages::Inputs::default()
    } else {
        messages::split_inputs(&rest)
    };
    for e in &errors {
        eprintln!("mailtls: {}", crate::model::text::plain_error(&e));
    }
    messages::note_skipped(&skipped);
    if logs.is_empty() && stores.is_empty() && checks.is_empty() {
        return Err(Error::Failed("nothing to read".to_owned()));
    }
    Ok(TriageInputs {
        logs,
        stores,
        checks,
    })
}

/// Narrows `opts` to `question` unless `--no-prefilter`; an I/O error while widening
/// falls back to reading everything.
pub fn narrow(
    opts: &mut Options,
    logs: &[SourceFile],
    question: &Question,
    no_prefilter: bool,
) -> scope::Scope {
    if no_prefilter {
        return scope::Scope::default();
    }
    match scope::widen(logs, question, opts.max_line) {
        Ok(s) => {
            opts.needles = s.needles.clone();
            s
        }
        Err(_) => scope::Scope::default(),
    }
}

/// Prints the run's warnings (unless quiet). A narrowed read parses only some lines, so
/// "no mail log lines recognised" says nothing about the file then and is left out.
pub fn warn(quiet: bool, c: &Collected, narrowed: bool) {
    if quiet {
        return;
    }
    for w in &c.report.warnings {
        if narrowed && is_nothing_recognised(w) {
            continue;
        }
        eprintln!("mailtls: warning: {w}");
    }
    for (src, why) in &c.report.malformed {
        eprintln!("mailtls: warning: {src}: malformed line skipped: {why}");
    }
}

/// The pipeline's warning for a file in which no line was recognised.
pub fn is_nothing_recognised(warning: &str) -> bool {
    warning.contains(": no mail log lines recognised in ")
}

/// Flags of `mailtls peer`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  mailtls peer example.org /var/log/mail.log /var/log/mail.log.1
  mailtls peer 192.0.2.25 logs/ --around '2026-11-20 10:00±1h'
  mailtls peer mx1.example.org logs/ check.json --json
  mailtls peer 127.0.0.1 sample-logs/maillog --year 2026

Prints the peer's TLS posture (per direction), what changed and when (spans of the same TLS
state, with the local key/certificate errors that opened a plaintext window), the first and
last of each TLS error kind, and the messages deferred or bounced for TLS reasons, each with a
likely cause. NAME matches a host, a domain (its hosts) or an IP address. Only lines that can
matter are parsed (lines naming the peer, widened by process and queue ids), so a question
about one peer in a large log costs about one search of it. Exit 1 when nothing names the peer.")]
pub struct Args {
    /// The peer: a host name, a domain (matches its hosts) or an IP address.
    #[arg(value_name = "NAME|IP")]
    pub peer: String,

    /// Logs, rotated .gz logs, message stores, directories, `check --json` results (.json),
    /// or - for stdin.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    #[command(flatten)]
    pub window: Window,
}

/// The peer's `Received:` hops in stored messages.
#[derive(Debug, Default, Serialize)]
struct HopCount {
    tls: u64,
    plaintext: u64,
    /// The first few, `file:line  by … with …`.
    examples: Vec<String>,
}

#[derive(Serialize)]
struct PeerJson<'a> {
    #[serde(flatten)]
    story: &'a PeerStory,
    /// One sentence per peer and direction: what changed and when.
    headlines: Vec<Headline>,
    #[serde(skip_serializing_if = "Option::is_none")]
    received_hops: Option<&'a HopCount>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    checks: Vec<&'a serde_json::Value>,
}

#[derive(Serialize)]
struct Headline {
    peer: String,
    direction: crate::model::Direction,
    /// The log host the sentence is about, when the peer's records come from several.
    #[serde(skip_serializing_if = "Option::is_none")]
    host: Option<String>,
    text: String,
}

/// Runs `peer`.
pub fn run(args: &Args) -> Result<u8, Error> {
    let w = &args.window;
    let filter = w.filter(Some(args.peer.clone()))?;
    let inputs = triage_inputs("peer", &args.paths)?;
    let mut opts = w.options();
    narrow(
        &mut opts,
        &inputs.logs,
        &Question::Peer(args.peer.clone()),
        w.no_prefilter,
    );
    let local = RecordFilter {
        peer: None,
        ..filter.clone()
    };
    // What the windows are folded over: every record `scan` would fold, and the named
    // peer's own even when it is on this machine (`peer 127.0.0.1` without `--loopback`),
    // or its clear text during our outage would not be counted ("this peer: 0 plaintext
    // messages meanwhile") and an outage it alone saw would not be shown at all.
    let for_windows = |r: &crate::model::Record| local.keep(r) || filter.keep(r);
    // Downgrade windows are the host's, not the peer's: they are folded over every record
    // read (within the time filter), exactly as `scan` folds them.
    let mut downgrades = Downgrades::default();
    // The story is folded as records come (a busy peer's records are not all held), and
    // message facts are kept only for what a trouble shows: a deferral or bounce whose
    // status text gives a TLS reason.
    let mut fold = StoryFold::default();
    let (_, report) = collect::collect_each(
        &inputs.logs,
        &opts,
        |ev| matches!(&ev.kind, EventKind::Delivery(d) if causes::tls_reason(&d.text).is_some()),
        |_| false,
        |r| {
            // A client's hang-up after our own 454 is ours: not in this peer's story.
            if for_windows(r) && downgrades.add(r) {
                return false;
            }
            filter.keep(r) || (is_local_error(r) && local.keep(r))
        },
        |it| fold.add(&it.record, it.detail.as_ref()),
    );
    let c = Collected {
        report,
        ..Collected::default()
    };
    warn(w.quiet, &c, opts.needles.is_some());
    let mut windows = downgrades.finish();
    if opts.needles.is_some() && !windows.is_empty() {
        // The narrowed read parsed only this peer's lines: the TLS sessions of other peers
        // that show our TLS working again were skipped. Read everything once more for the
        // windows (only when there is a local incident to explain).
        let whole = Options {
            needles: None,
            // Only records are folded here.
            detail: crate::parse::Detail::Records,
            ..opts.clone()
        };
        let mut all = Downgrades::default();
        pipeline::run(&inputs.logs, &whole, |r| {
            if for_windows(&r) {
                all.add(&r);
            }
        });
        windows = all.finish();
    }
    let story = fold.finish(&args.peer, windows);

    let mut hops = HopCount::default();
    if !inputs.stores.is_empty() {
        let mut summary = MessagesSummary::default();
        hops::walk(&inputs.stores, None, &mut summary, |m, _, _| {
            for h in &m.hops {
                if h.hop.is_local() || !hops::hop_kept(&h.hop, &filter) {
                    continue;
                }
                if h.hop.tls.is_tls() {
                    hops.tls += 1;
                } else {
                    hops.plaintext += 1;
                }
                if hops.examples.len() < 5 {
                    hops.examples.push(format!(
                        "{}  by {} with {}",
                        h.source,
                        h.hop.by.as_deref().unwrap_or("?"),
                        h.hop.with.as_deref().unwrap_or("?")
                    ));
                }
            }
        });
    }
    let checks: Vec<&serde_json::Value> = inputs
        .checks
        .iter()
        .filter(|v| check_matches(v, &args.peer))
        .collect();
    let has_hops = hops.tls + hops.plaintext > 0;
    if story.is_empty() && !has_hops && checks.is_empty() {
        let s = &c.report.summary;
        eprintln!(
            "mailtls peer: nothing in the inputs names '{}' ({} in {}{}): check the spelling, or try its domain or IP address{}",
            args.peer,
            crate::model::text::count(s.lines_read, "line", "lines"),
            crate::model::text::count(s.files, "file", "files"),
            if filter.since.is_some() || filter.until.is_some() {
                ", inside the time window"
            } else {
                ""
            },
            // The logging host is no peer of its own: what it hands to itself (MSP, content
            // filters) is logged as 127.0.0.1 / localhost, which only shows when named.
            if c.report.hosts.iter().any(|h| {
                let p = args.peer.to_ascii_lowercase();
                p == *h || p.split('.').next() == Some(h.as_str())
            }) {
                "; it is the logging host itself: its mail to itself shows as `mailtls peer 127.0.0.1` (or localhost)"
            } else {
                ""
            }
        );
        return Ok(exit::FINDINGS);
    }
    let out = if w.json || w.format == Some(super::TextFormat::Json) {
        let doc = PeerJson {
            story: &story,
            headlines: story
                .headlines()
                .into_iter()
                .map(|(peer, direction, host, text)| Headline {
                    peer,
                    direction,
                    host,
                    text,
                })
                .collect(),
            received_hops: has_hops.then_some(&hops),
            checks,
        };
        super::stream_json(&doc)?;
        return Ok(exit::OK);
    } else {
        let p = w.painter();
        let mut o = story.render(&p);
        if has_hops {
            o.push_str(&format!(
                "\n{}\n  {} over TLS, {} plaintext or unknown\n",
                p.paint(
                    Tone::Strong,
                    "Received: hops from this peer (stored messages)"
                ),
                hops.tls,
                hops.plaintext
            ));
            for e in &hops.examples {
                o.push_str(&format!("    {}\n", p.paint(Tone::Dim, e)));
            }
        }
        if !checks.is_empty() {
            o.push_str(&format!(
                "\n{}\n",
                p.paint(Tone::Strong, "Live checks (check --json)")
            ));
            for v in &checks {
                o.push_str(&format!("  {}\n", check_line(v, &p)));
            }
        }
        o
    };
    super::write_stdout(&out)?;
    Ok(exit::OK)
}

/// A local (peer-less) TLS configuration error: explains a peer's downgrade.
fn is_local_error(r: &Record) -> bool {
    matches!(r, Record::Error { peer: None, kind, .. } if kind.is_local())
}

/// True when a `mailtls.check/1` result is about `peer` (its host, target or address).
fn check_matches(v: &serde_json::Value, peer: &str) -> bool {
    let host = v["host"].as_str();
    let ip = v["ip"].as_str().and_then(|s| s.parse().ok());
    let p = crate::model::Peer::new(host, ip);
    peer_matches(&p, peer)
}

fn check_line(v: &serde_json::Value, p: &Painter) -> String {
    let s = |k: &str| crate::triage::term::clean(v[k].as_str().unwrap_or("?")).into_owned();
    let status = s("status");
    let tone = match status.as_str() {
        "pass" => Tone::Good,
        "warn" => Tone::Warn,
        _ => Tone::Bad,
    };
    let t = &v["tls"];
    let tls = match t["version"].as_str() {
        Some(version) => {
            let mut s = version.to_owned();
            if let Some(c) = t["cipher"].as_str() {
                s.push(' ');
                s.push_str(c);
            }
            let mut s = crate::triage::term::clean(&s).into_owned();
            if let Some(b) = t["bits"]["secret"].as_u64() {
                s.push_str(&format!(" {b} bits"));
            }
            s
        }
        None => "no TLS".to_owned(),
    };
    let findings = v["findings"].as_array().map_or(0, Vec::len);
    format!(
        "{}  {}  {}  verify={}  {}",
        s("target"),
        p.paint(tone, &status),
        tls,
        crate::triage::term::clean(v["verify"].as_str().unwrap_or("-")),
        crate::model::text::count(findings as u64, "finding", "findings")
    )
}
