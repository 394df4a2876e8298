//! The terminal table: one row per peer and direction, worst peers first, so the line an
//! administrator must act on is at the top.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use comfy_table::{Cell, Color, ContentArrangement, Table, presets};

use super::Snapshot;
use super::safe::terminal;
use crate::event::{Direction, TlsVersion, Verify};
use crate::posture::{DirPosture, ErrorMap};

/// `TLSv1.3:5 TLSv1.2:2`, largest first.
fn histogram(m: &BTreeMap<String, u64>) -> String {
    let mut v: Vec<(&String, &u64)> = m.iter().collect();
    v.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    v.iter()
        .map(|(k, n)| format!("{}:{n}", terminal(k)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn errors(m: &ErrorMap) -> String {
    m.iter()
        .map(|(k, e)| format!("{}:{}", terminal(&k.to_string()), e.count))
        .collect::<Vec<_>>()
        .join(" ")
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "-".to_owned()
    } else {
        format!("{:.0}%", 100.0 * part as f64 / whole as f64)
    }
}

fn row(peer: &str, dir: Direction, d: &DirPosture, colour: bool) -> Vec<Cell> {
    let paint = |text: String, bad: bool, c: Color| {
        let cell = Cell::new(text);
        if colour && bad { cell.fg(c) } else { cell }
    };
    let msgs = d.messages();
    let has_old = d
        .versions
        .keys()
        .any(|v| TlsVersion::parse(v).is_deprecated());
    let has_fail = d
        .verify
        .keys()
        .any(|w| Verify::parse(w).is_failed_verification() || Verify::parse(w).is_tls_failure());
    vec![
        Cell::new(terminal(peer)),
        Cell::new(dir.as_str()),
        Cell::new(d.tls_sessions),
        Cell::new(d.tls_messages),
        paint(
            d.plaintext_messages.to_string(),
            d.plaintext_messages > 0,
            Color::Red,
        ),
        paint(
            percent(d.plaintext_messages, msgs),
            d.plaintext_messages > 0,
            Color::Red,
        ),
        paint(histogram(&d.versions), has_old, Color::Yellow),
        paint(histogram(&d.verify), has_fail, Color::Red),
        Cell::new(d.min_bits.map_or("-".to_owned(), |b| b.to_string())),
        paint(errors(&d.errors), !d.errors.is_empty(), Color::Red),
        Cell::new(format!("{}/{}", d.deferred, d.bounced)),
        Cell::new(
            d.last_seen
                .map_or("-".to_owned(), |t| t.format("%Y-%m-%d %H:%M").to_string()),
        ),
    ]
}

/// Renders the posture table, the local errors and the summary line.
pub fn render(snap: &Snapshot, colour: bool) -> String {
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(vec![
            "PEER",
            "DIR",
            "TLS SESS",
            "TLS MSGS",
            "PLAIN MSGS",
            "PLAIN",
            "VERSIONS",
            "VERIFY",
            "MIN BITS",
            "ERRORS",
            "DEFER/BOUNCE",
            "LAST SEEN",
        ]);
    if !colour {
        table.force_no_tty();
    }
    let mut out = String::new();
    let peers = snap.posture.worst_first();
    for p in &peers {
        for dir in [Direction::Inbound, Direction::Outbound] {
            let d = p.dir(dir);
            if !d.is_empty() {
                table.add_row(row(&p.peer, dir, d, colour));
            }
        }
    }
    if peers.is_empty() {
        out.push_str("No peers found.\n");
    } else {
        let _ = writeln!(out, "{table}");
    }
    if !snap.posture.local_errors.is_empty() {
        out.push_str("\nLocal and unattributed TLS errors:\n");
        for (host, errs) in &snap.posture.local_errors {
            for (kind, e) in errs {
                let when = e.last_seen.map_or("-".to_owned(), |t| {
                    t.format("%Y-%m-%d %H:%M:%S").to_string()
                });
                let _ = writeln!(
                    out,
                    "  {}  {} ×{}  last {when}: {}",
                    terminal(host),
                    terminal(&kind.to_string()),
                    e.count,
                    terminal(&e.last_text)
                );
            }
        }
    }
    out.push('\n');
    out.push_str(&summary_line(snap));
    out.push('\n');
    if let Some(n) = &snap.input {
        for l in n.lines() {
            out.push_str(&terminal(&l));
            out.push('\n');
        }
        if let Some(b) = n.banner() {
            out.push_str(&terminal(&b));
            out.push('\n');
        }
    }
    if let Some(line) = unparsed_line(snap) {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// `not understood: postfix/cleanup 12, postfix/qmgr 9, sm-mta 3 (--explain-unparsed N
/// shows them)`: lines of the MTAs that no parser read, by program, most first.
pub fn unparsed_line(snap: &Snapshot) -> Option<String> {
    let u = &snap.summary.counts.unparsed;
    if u.is_empty() {
        return None;
    }
    let mut v: Vec<(&String, &u64)> = u.iter().collect();
    v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let list: Vec<String> = v
        .iter()
        .map(|(p, n)| format!("{} {n}", terminal(p)))
        .collect();
    Some(format!(
        "not understood: {} (--explain-unparsed N shows them)",
        list.join(", ")
    ))
}

/// `read 3 files, 812 lines: 402 recognised, 0 malformed, 0 too long; 14 peers; … → …`
pub fn summary_line(snap: &Snapshot) -> String {
    let s = &snap.summary.counts;
    let range = match (s.first_seen, s.last_seen) {
        (Some(a), Some(b)) => format!(
            "; {} → {}",
            a.format("%Y-%m-%d %H:%M:%S"),
            b.format("%Y-%m-%d %H:%M:%S")
        ),
        _ => String::new(),
    };
    let dup = if s.lines_duplicate > 0 {
        format!(" ({} more skipped as duplicates)", s.lines_duplicate)
    } else {
        String::new()
    };
    let incomplete = if s.files_incomplete > 0 {
        format!(" ({} not read to the end)", s.files_incomplete)
    } else {
        String::new()
    };
    format!(
        "read {} file{}{incomplete}, {} lines: {} recognised{dup}, {} malformed, {} too long; {} peer{}{}",
        s.files,
        if s.files == 1 { "" } else { "s" },
        s.lines_read,
        s.lines_recognized,
        s.lines_malformed,
        s.lines_too_long,
        snap.summary.peers,
        if snap.summary.peers == 1 { "" } else { "s" },
        range
    )
}

/// The `--enforce-readiness` answer as text, appended to the table. Entries keep their
/// real tab (access maps and Postfix tables are tab- or blank-separated and are pasted
/// from here); only the fields between tabs are escaped.
pub fn readiness(rd: &[crate::policy::Readiness]) -> String {
    let mut out = String::from("\nWhat breaks if we enforce TLS (outbound peers):\n");
    for x in rd {
        let tls = if x.tls_safe() {
            "safe".to_owned()
        } else {
            format!("would fail ({})", terminal(&x.tls_blockers.join("; ")))
        };
        // Verification is required on top of TLS: what stops TLS stops it too.
        let ver = if x.verify_safe() {
            "safe".to_owned()
        } else {
            let why: Vec<&str> = x
                .verify_blockers
                .iter()
                .chain(&x.tls_blockers)
                .map(String::as_str)
                .collect();
            format!("would fail ({})", terminal(&why.join("; ")))
        };
        let _ = writeln!(
            out,
            "  {}  require TLS: {tls}; require verified: {ver}",
            terminal(&x.peer)
        );
    }
    let entries: Vec<&String> = rd.iter().flat_map(|x| &x.entries).collect();
    if !entries.is_empty() {
        out.push_str("\nEntries for the safe peers (access map, then smtp_tls_policy_maps):\n");
        for e in entries {
            let fields: Vec<_> = e.split('\t').map(terminal).collect();
            let _ = writeln!(out, "  {}", fields.join("\t"));
        }
    }
    out
}
