//! The terminal table: headline totals, then one row per peer and direction, worst grade
//! first (the HTML report's order), so the line an administrator must act on is at the
//! top; fitted to the terminal's width with whole peer names.

use std::fmt::Write as _;

use comfy_table::{Cell, Color, ContentArrangement, Table, presets};

use super::{Report, Snapshot};
use crate::analysis::policy::Grade;
use crate::analysis::posture::{DirPosture, ErrorMap, PeerPosture};
use crate::model::text::terminal;
use crate::model::{Direction, Hist, TlsVersion, Word};

/// `TLSv1.3:5 TLSv1.2:2`, largest first.
fn histogram<K: Word>(m: &Hist<K>) -> String {
    let mut v: Vec<(&str, u64)> = m.words().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
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
    let has_old = d.versions.keys().any(TlsVersion::is_deprecated);
    let has_fail = d
        .verify
        .keys()
        .any(|v| v.is_failed_verification() || v.is_tls_failure());
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

/// Renders the posture table, the local errors and the summary line (`merge`'s table:
/// no grades there, so the boxed all-columns layout).
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
    if colour {
        // --color always: styled even when stdout is a pipe.
        table.enforce_styling();
    } else {
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
    local_errors(&mut out, snap, None);
    trailer(&mut out, snap, None);
    out
}

/// The local-error lines (`host kind ×n last …: text`), each cut to `width` when given.
fn local_errors(out: &mut String, snap: &Snapshot, width: Option<usize>) {
    if snap.posture.local_errors.is_empty() {
        return;
    }
    out.push_str("\nLocal and unattributed TLS errors:\n");
    for (host, errs) in &snap.posture.local_errors {
        for (kind, e) in errs {
            let when = e.last_seen.map_or("-".to_owned(), |t| {
                t.format("%Y-%m-%d %H:%M:%S").to_string()
            });
            let line = format!(
                "  {}  {} ×{}  last {when}: {}",
                terminal(host),
                terminal(&kind.to_string()),
                e.count,
                terminal(&e.last_text)
            );
            out.push_str(&wrap(&line, width, "      "));
        }
    }
}

/// The summary line, the input notes and the not-understood line, wrapped to `width`.
fn trailer(out: &mut String, snap: &Snapshot, width: Option<usize>) {
    out.push('\n');
    out.push_str(&wrap(&summary_line(snap), width, "  "));
    if let Some(n) = &snap.input {
        for l in n.lines() {
            out.push_str(&wrap(&terminal(&l), width, "  "));
        }
        if let Some(b) = n.banner() {
            out.push_str(&wrap(&terminal(&b), width, "  "));
        }
    }
    if let Some(line) = unparsed_line(snap) {
        out.push_str(&wrap(&line, width, "  "));
    }
}

/// Display width of terminal text (escaped already: no control characters).
fn cols(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

/// Greedy word wrap to `width` (continuation lines indented); each line ends in `\n`.
/// A single word longer than the width is broken across lines rather than overflowing the
/// terminal.
pub fn wrap(text: &str, width: Option<usize>, indent: &str) -> String {
    let Some(w) = width else {
        return format!("{text}\n");
    };
    // The text's own leading blanks stay on its first line.
    let body = text.trim_start_matches(' ');
    let mut line = text[..text.len() - body.len()].to_owned();
    let mut fresh = true;
    let mut out = String::new();
    for word in body.split(' ') {
        if fresh {
            line.push_str(word);
            fresh = false;
        } else if cols(&line) + 1 + cols(word) <= w {
            line.push(' ');
            line.push_str(word);
        } else {
            out.push_str(&line);
            out.push('\n');
            line = format!("{indent}{word}");
        }
    }
    out.push_str(&line);
    out.push('\n');
    // A word longer than the line (a long path) is broken, not cut: nothing is lost.
    let mut fitted = String::with_capacity(out.len());
    for l in out.lines() {
        let mut rest = l;
        while cols(rest) > w {
            let mut used = 0;
            let mut at = 0;
            for (i, c) in rest.char_indices() {
                let cw = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
                if used + cw > w {
                    break;
                }
                used += cw;
                at = i + c.len_utf8();
            }
            fitted.push_str(&rest[..at]);
            fitted.push('\n');
            fitted.push_str(indent);
            rest = &rest[at..];
            if cols(indent) >= w {
                break;
            }
        }
        fitted.push_str(rest);
        fitted.push('\n');
    }
    fitted
}

/// Wraps the lines of a text section that are wider than `width` (tables drawn with box
/// characters are left alone: they were fitted when drawn). Continuation lines keep the
/// line's indentation plus two spaces.
pub fn fit(text: &str, width: Option<usize>) -> String {
    let Some(w) = width else {
        return text.to_owned();
    };
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches('\n');
        let boxed = body
            .trim_start()
            .starts_with(['│', '┌', '╞', '└', '├', '┆']);
        if boxed || cols(&strip_ansi(body)) <= w {
            out.push_str(line);
        } else {
            let lead = body.len() - body.trim_start().len();
            let indent = format!("{}  ", &body[..lead]);
            out.push_str(&wrap(body, Some(w), &indent));
        }
    }
    out
}

/// `s` without ANSI SGR sequences (to measure coloured text).
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `TLSv1.3` → `1.3`, `TLSv1` → `1`; anything else as written.
fn short_version(v: &str) -> &str {
    match v.strip_prefix("TLSv") {
        Some(rest) if !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit() || c == '.') => {
            rest
        }
        _ => v,
    }
}

/// The keys of a histogram, largest count first, joined by `,`.
fn brief<K: Word>(m: &Hist<K>, short: fn(&str) -> &str) -> String {
    let mut v: Vec<(&str, u64)> = m.words().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let list: Vec<String> = v
        .iter()
        .map(|(k, _)| terminal(short(k)).into_owned())
        .collect();
    if list.is_empty() {
        "-".to_owned()
    } else {
        list.join(",")
    }
}

/// How a cell is painted when colour is on.
#[derive(Clone, Copy, PartialEq, Default)]
enum Paint {
    #[default]
    Plain,
    Good,
    Warn,
    Bad,
}

impl Paint {
    fn style(self) -> Option<anstyle::Style> {
        let c = match self {
            Paint::Plain => return None,
            Paint::Good => anstyle::AnsiColor::Green,
            Paint::Warn => anstyle::AnsiColor::Yellow,
            Paint::Bad => anstyle::AnsiColor::Red,
        };
        Some(anstyle::Style::new().fg_color(Some(c.into())))
    }
}

/// One column of the scan table: a header and, per row, the text and its paint.
struct Column {
    header: &'static str,
    cells: Vec<(String, Paint)>,
    /// Right-aligned (numbers).
    right: bool,
}

impl Column {
    fn width(&self) -> usize {
        self.cells
            .iter()
            .map(|(t, _)| cols(t))
            .chain([cols(self.header)])
            .max()
            .unwrap_or(0)
    }
}

fn grade_paint(g: Option<Grade>) -> Paint {
    match g {
        Some(Grade::A | Grade::B) => Paint::Good,
        Some(Grade::C) => Paint::Warn,
        Some(Grade::D | Grade::F) => Paint::Bad,
        None => Paint::Plain,
    }
}

/// The headline totals, pflogsumm's "Grand Totals" way: number first, then what it counts.
fn headline(r: &Report) -> String {
    let h = r.headline();
    let plaintext_peers = r
        .snap
        .posture
        .peers
        .values()
        .filter(|p| p.inbound.plaintext_messages + p.outbound.plaintext_messages > 0)
        .count() as u64;
    let local: u64 = r
        .snap
        .posture
        .local_errors
        .values()
        .flat_map(|e| e.values())
        .map(|e| e.count)
        .sum();
    let violations = r.evaluation.violations.len() as u64;
    let no_tls_hosts = r.without_tls();
    let no_tls = no_tls_hosts.len() as u64;
    let s = |n: u64, one: &'static str, many: &'static str| if n == 1 { one } else { many };
    let mut rows = vec![
        (
            h.messages.to_string(),
            s(h.messages, "message", "messages").to_owned(),
        ),
        (
            super::percent(h.tls_messages, h.messages),
            "of messages over TLS".to_owned(),
        ),
        (
            super::percent(h.verified, h.sessions),
            "of TLS sessions verified".to_owned(),
        ),
        (
            plaintext_peers.to_string(),
            s(
                plaintext_peers,
                "peer with clear-text mail",
                "peers with clear-text mail",
            )
            .to_owned(),
        ),
        (
            local.to_string(),
            s(
                local,
                "local TLS error (ours to fix)",
                "local TLS errors (ours to fix)",
            )
            .to_owned(),
        ),
        (
            violations.to_string(),
            if r.enforced {
                format!(
                    "{} ({} policy, enforced{})",
                    s(violations, "policy violation", "policy violations"),
                    terminal(&r.policy_source),
                    if violations > 0 { ": exit 1" } else { "" }
                )
            } else {
                format!(
                    "{} ({} policy, not enforced)",
                    s(violations, "finding", "findings"),
                    terminal(&r.policy_source)
                )
            },
        ),
    ];
    if no_tls > 0 {
        rows.insert(
            5,
            (
                no_tls.to_string(),
                format!(
                    "{} (ours to fix): {}",
                    s(
                        no_tls,
                        "host of ours without any TLS",
                        "hosts of ours without any TLS"
                    ),
                    no_tls_hosts
                        .iter()
                        .map(|d| format!("{} {}", terminal(&d.host), d.direction.as_str()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
        );
    }
    let w = rows.iter().map(|(n, _)| cols(n)).max().unwrap_or(0);
    let mut out = String::from("Totals\n");
    for (n, what) in rows {
        let _ = writeln!(out, "  {n:>w$}  {what}");
    }
    out
}

/// The width to lay the scan table out in, and whether prose lines are wrapped to it: the
/// terminal's own width when stdout is one (wrapped); else `$COLUMNS`, else 80 (what a
/// pipe into `less` or a mail most likely shows), with lines left whole for `grep`.
pub fn terminal_width() -> (usize, bool) {
    if let Some((terminal_size::Width(w), _)) = terminal_size::terminal_size() {
        return (usize::from(w).max(20), true);
    }
    let w = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|w| *w >= 20)
        .unwrap_or(80);
    (w, false)
}

/// The scan table: headline totals, then one row per peer and direction in the HTML's
/// order (worst grade first), fitted to `width` columns (`None`: every column, `--wide`);
/// the other lines are wrapped to `wrap_to` (`None`: left whole).
///
/// Grade, peer, direction, TLS share and the versions and verify words in brief always
/// show, with peer names whole (a name too long for the line gets a line of its own);
/// the other columns join, most useful first, while they fit.
pub fn render_report(
    r: &Report,
    colour: bool,
    width: Option<usize>,
    wrap_to: Option<usize>,
) -> String {
    let snap = r.snap;
    let mut out = headline(r);
    out.push('\n');
    let peers = r.peers_by_grade();
    if peers.is_empty() {
        out.push_str("No peers found.\n");
    } else {
        out.push_str(&peer_table(r, &peers, colour, width));
    }
    if let Some(c) = r.comparison {
        out.push_str(&comparison(c, wrap_to));
    }
    local_errors(&mut out, snap, wrap_to);
    trailer(&mut out, snap, wrap_to);
    out
}

fn peer_table(r: &Report, peers: &[&PeerPosture], colour: bool, width: Option<usize>) -> String {
    let mut rows: Vec<(&PeerPosture, Direction, &DirPosture)> = Vec::new();
    for p in peers {
        for dir in [Direction::Inbound, Direction::Outbound] {
            let d = p.dir(dir);
            if !d.is_empty() {
                rows.push((p, dir, d));
            }
        }
    }
    let col = |header: &'static str,
               right: bool,
               f: &dyn Fn(&PeerPosture, &DirPosture) -> (String, Paint)| Column {
        header,
        right,
        cells: rows.iter().map(|(p, _, d)| f(p, d)).collect(),
    };
    let grade = |p: &PeerPosture| r.evaluation.grades.get(&p.peer);
    let required = vec![
        col("G", false, &|p, _| {
            let g = grade(p).map(|g| g.grade);
            (g.map_or("-".to_owned(), |g| g.to_string()), grade_paint(g))
        }),
        Column {
            header: "PEER",
            right: false,
            cells: rows
                .iter()
                .map(|(p, _, _)| (terminal(&p.peer).into_owned(), Paint::Plain))
                .collect(),
        },
        Column {
            header: "DIR",
            right: false,
            cells: rows
                .iter()
                .map(|(_, dir, _)| (dir.as_str().to_owned(), Paint::Plain))
                .collect(),
        },
        col("TLS", true, &|_, d| {
            let paint = if d.plaintext_messages > 0 {
                Paint::Bad
            } else {
                Paint::Plain
            };
            (percent(d.tls_messages, d.messages()), paint)
        }),
        col("VERSIONS", false, &|_, d| {
            let old = d.versions.keys().any(TlsVersion::is_deprecated);
            (
                brief(&d.versions, short_version),
                if old { Paint::Warn } else { Paint::Plain },
            )
        }),
        col("VERIFY", false, &|_, d| {
            let fail = d
                .verify
                .keys()
                .any(|v| v.is_failed_verification() || v.is_tls_failure());
            (
                brief(&d.verify, |w| w),
                if fail { Paint::Bad } else { Paint::Plain },
            )
        }),
    ];
    let optional = vec![
        col("MSGS", true, &|_, d| {
            (d.messages().to_string(), Paint::Plain)
        }),
        col("PLAIN", true, &|_, d| {
            let n = d.plaintext_messages;
            (n.to_string(), if n > 0 { Paint::Bad } else { Paint::Plain })
        }),
        col("SESS", true, &|_, d| {
            (d.tls_sessions.to_string(), Paint::Plain)
        }),
        col("ERRORS", false, &|_, d| {
            let e = errors(&d.errors);
            if e.is_empty() {
                ("-".to_owned(), Paint::Plain)
            } else {
                (e, Paint::Bad)
            }
        }),
        col("LAST SEEN", false, &|_, d| {
            (
                d.last_seen
                    .map_or("-".to_owned(), |t| t.format("%Y-%m-%d %H:%M").to_string()),
                Paint::Plain,
            )
        }),
        col("BITS", true, &|_, d| {
            (
                d.min_bits.map_or("-".to_owned(), |b| b.to_string()),
                Paint::Plain,
            )
        }),
        col("DEF/BNC", true, &|_, d| {
            (format!("{}/{}", d.deferred, d.bounced), Paint::Plain)
        }),
        col("WHY", false, &|p, _| {
            (
                grade(p).map_or(String::new(), |g| terminal(&g.reason).into_owned()),
                Paint::Plain,
            )
        }),
    ];
    let mut cols_shown: Vec<Column> = required;
    let gap = 2;
    let others: usize = cols_shown
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 1)
        .map(|(_, c)| c.width() + gap)
        .sum();
    // The peer column: its widest name, or what is left of the line (longer names then
    // stand on a line of their own, whole).
    let peer_w = match width {
        Some(w) => {
            let room = w.saturating_sub(others).max(4);
            cols_shown[1]
                .cells
                .iter()
                .map(|(t, _)| cols(t))
                .chain([cols("PEER")])
                .filter(|n| *n <= room)
                .max()
                .unwrap_or(room)
        }
        None => cols_shown[1].width(),
    };
    let mut used = others + peer_w;
    for mut c in optional {
        let w = c.width();
        if width.is_none_or(|lim| used + gap + w <= lim) {
            used += gap + w;
            cols_shown.push(c);
        } else if c.header == "WHY"
            && let Some(lim) = width
            && lim >= used + gap + 20
        {
            // The grade's reason, last, in what is left of the line (whole with --wide).
            let room = lim - used - gap;
            for (t, _) in &mut c.cells {
                if cols(t) > room {
                    let mut kept = String::new();
                    for ch in t.chars() {
                        if cols(&kept) + 2 > room {
                            break;
                        }
                        kept.push(ch);
                    }
                    kept.push('…');
                    *t = kept;
                }
            }
            used += gap + c.width();
            cols_shown.push(c);
        }
    }
    let widths: Vec<usize> = cols_shown
        .iter()
        .enumerate()
        .map(|(i, c)| if i == 1 { peer_w } else { c.width() })
        .collect();
    let line = |cells: Vec<(String, Paint, bool)>| -> String {
        let mut s = String::new();
        for (i, ((text, paint, right), w)) in cells.into_iter().zip(&widths).enumerate() {
            if i > 0 {
                s.push_str("  ");
            }
            let pad = w.saturating_sub(cols(&text));
            let padded = if right {
                format!("{}{text}", " ".repeat(pad))
            } else {
                format!("{text}{}", " ".repeat(pad))
            };
            match paint.style().filter(|_| colour) {
                Some(st) => {
                    let _ = write!(s, "{st}{padded}{st:#}");
                }
                None => s.push_str(&padded),
            }
        }
        format!("{}\n", s.trim_end())
    };
    let mut out = String::new();
    out.push_str(&line(
        cols_shown
            .iter()
            .map(|c| (c.header.to_owned(), Paint::Plain, c.right))
            .collect(),
    ));
    for i in 0..rows.len() {
        let mut cells: Vec<(String, Paint, bool)> = cols_shown
            .iter()
            .map(|c| (c.cells[i].0.clone(), c.cells[i].1, c.right))
            .collect();
        if cols(&cells[1].0) > peer_w {
            // The grade and the whole name on a line of their own; the figures below.
            let name = std::mem::take(&mut cells[1].0);
            let (grade, paint, _) = std::mem::take(&mut cells[0]);
            let grade = match paint.style().filter(|_| colour) {
                Some(st) => format!("{st}{grade:<w$}{st:#}", w = widths[0]),
                None => format!("{grade:<w$}", w = widths[0]),
            };
            let _ = writeln!(out, "{grade}  {name}");
        }
        out.push_str(&line(cells));
    }
    out
}

/// "What changed since the previous report" (`--compare`), as in the other formats.
fn comparison(c: &crate::analysis::compare::Comparison, width: Option<usize>) -> String {
    let mut out = String::from("\nWhat changed since the previous report:\n");
    let mut item = |s: String| out.push_str(&wrap(&format!("  {s}"), width, "    "));
    if c.is_empty() {
        item("nothing that matters".to_owned());
    }
    for p in &c.new_peers {
        item(format!("new peer {}", terminal(p)));
    }
    for p in &c.gone_peers {
        item(format!("peer no longer seen: {}", terminal(p)));
    }
    for (what, list) in [
        ("protocol downgrade", &c.protocol_downgrades),
        ("verification downgrade", &c.verify_downgrades),
        ("more clear text", &c.plaintext_growth),
    ] {
        for ch in list {
            item(format!(
                "{what}: {} ({}): {} → {}",
                terminal(&ch.peer),
                ch.direction.as_str(),
                terminal(&ch.before),
                terminal(&ch.after)
            ));
        }
    }
    for e in &c.new_errors {
        item(format!(
            "new error kind {} at {} ×{}: {}",
            terminal(&e.kind),
            terminal(&e.scope),
            e.count,
            terminal(&e.last_text)
        ));
    }
    item(format!(
        "clear-text share overall: {:.1}% → {:.1}%",
        c.plaintext_before, c.plaintext_after
    ));
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
        "read {} file{}{incomplete}, {}: {} recognised{dup}, {} malformed, {} too long; {} peer{}{}",
        s.files,
        if s.files == 1 { "" } else { "s" },
        crate::model::text::count(s.lines_read, "line", "lines"),
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
pub fn readiness(rd: &[crate::analysis::policy::Readiness]) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_keeps_the_indent_and_the_width() {
        let text = "  mail  private_key ×2  last 2026-11-27 12:36:22: SSL_CTX_use_PrivateKey_file(/etc/mail/certs/servername-key.pem) failed";
        let out = wrap(text, Some(60), "      ");
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines.len() >= 2, "{out}");
        assert!(lines[0].starts_with("  mail  private_key"), "{out}");
        assert!(lines[1].starts_with("      "), "{out}");
        assert!(lines.iter().all(|l| cols(l) <= 60), "{out}");
        // Nothing lost but the breaks (a long path is broken, not cut).
        let squeeze = |t: &str| t.split_whitespace().collect::<String>();
        assert_eq!(squeeze(&out), squeeze(text));
        assert_eq!(wrap(text, None, "  "), format!("{text}\n"));
    }

    #[test]
    fn versions_in_brief() {
        assert_eq!(short_version("TLSv1.3"), "1.3");
        assert_eq!(short_version("TLSv1"), "1");
        assert_eq!(short_version("TLSv1/SSLv3"), "TLSv1/SSLv3");
        let m: Hist<TlsVersion> = [(TlsVersion::Tls1_2, 1), (TlsVersion::Tls1_3, 5)]
            .into_iter()
            .collect();
        assert_eq!(brief(&m, short_version), "1.3,1.2");
        assert_eq!(brief(&Hist::<crate::model::Verify>::default(), |w| w), "-");
    }

    #[test]
    fn fit_wraps_prose_and_leaves_tables() {
        let long = format!("Messages: {}", "word ".repeat(30));
        let boxed = format!("│ {} │", "x".repeat(100));
        let out = fit(&format!("{long}\n{boxed}\n"), Some(40));
        assert!(
            out.lines()
                .filter(|l| !l.starts_with('│'))
                .all(|l| cols(l) <= 40)
        );
        assert!(out.contains(&boxed));
    }
}
