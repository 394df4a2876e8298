//! `index.html`: the page an administrator opens in the morning.
//!
//! One self-contained file: inline CSS, the charts inline as SVG, no script, no external
//! asset, readable with JavaScript off and printable. The markup is built with maud,
//! which escapes every interpolated string, so a relay or EHLO name such as
//! `<script>alert(1)</script>` from a log is shown as text.
//!
//! The answer comes first: the header (when the page was made, from which hosts and
//! inputs, whether the policy is enforced), the headline numbers, the violations (or the
//! findings of a policy that is not enforced), the peers with the grade legend beside the
//! grades, what broke, the trend of `report --history`, then the charts; TLS-RPT is an
//! appendix.
//!
//! Charts are inline `<svg>` with a `viewBox` and width 100%, so they scale with the
//! window (no sideways scrolling at 760 px). The SVG comes from plotters, which escapes
//! every text and attribute; before inlining, [`inline_svg`] still checks that it holds
//! only the drawing elements plotters writes and no event attribute or link, and falls
//! back to an `<img>` (which can never run script) otherwise.

use base64::Engine as _;
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::charts::{Chart, hex, kind_colour};
use super::{Report, percent};
use crate::analysis::downgrade::Window;
use crate::analysis::policy::Grade;
use crate::analysis::posture::DirPosture;
use crate::model::text::count;
use crate::model::{Hist, TlsErrorKind, Word};

/// The page title (also what the browser test looks for).
pub const TITLE: &str = "mailtls TLS posture report";

const CSS: &str = r#"
:root { --ink:#1f2328; --muted:#59636e; --line:#d1d9e0; --bg:#f6f8fa; --blue:#0072b2;
  --red:#b84a00; --green:#007a5a; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.45 "DejaVu Sans", system-ui, -apple-system, "Segoe UI", sans-serif;
  color:var(--ink); background:#fff; }
main { max-width:1240px; margin:0 auto; padding:24px 28px 48px; }
header { border-bottom:3px solid var(--blue); padding-bottom:10px; margin-bottom:16px; }
h1 { font-size:26px; margin:0 0 4px; }
h2 { font-size:20px; margin:30px 0 10px; padding-bottom:4px; border-bottom:1px solid var(--line); }
h3 { font-size:16px; margin:18px 0 6px; }
h3 code { font-size:15px; }
.meta { color:var(--muted); margin:0 0 2px; }
.meta strong { color:var(--ink); font-weight:600; }
.notes { color:var(--muted); margin:4px 0 0; padding-left:20px; }
.cards { display:grid; grid-template-columns:repeat(auto-fit,minmax(150px,1fr)); gap:12px; }
.card { background:var(--bg); border:1px solid var(--line); border-radius:8px; padding:12px 14px; }
.card .n { font-size:28px; font-weight:bold; display:block; }
.card .l { color:var(--muted); font-size:13px; }
.card.bad .n { color:var(--red); }
.scroll { overflow-x:auto; }
table { border-collapse:collapse; width:100%; margin:6px 0 12px; font-size:14px; }
th, td { text-align:left; padding:5px 8px; border-bottom:1px solid var(--line); vertical-align:top;
  overflow-wrap:anywhere; }
th { background:var(--bg); font-weight:600; overflow-wrap:normal; }
#violations td > code, #violations td:nth-child(2) { overflow-wrap:normal; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
tbody tr:nth-child(even) { background:#fbfcfd; }
tr.quiet td { color:var(--muted); }
code, pre { font-family:"DejaVu Sans Mono", ui-monospace, monospace; font-size:13px; }
code.line { display:block; white-space:pre-wrap; word-break:break-all; background:var(--bg);
  border-left:3px solid var(--line); padding:4px 8px; }
pre { background:var(--bg); border:1px solid var(--line); padding:10px; overflow-x:auto; }
.grade { display:inline-block; width:26px; text-align:center; font-weight:bold; border-radius:4px;
  color:#fff; }
.g-A { background:#007a5a; } .g-B { background:#2b7bb9; } .g-C { background:#8a6d00; }
.g-D { background:#b84a00; } .g-F { background:#8b1e3f; }
.legend { color:var(--muted); font-size:13px; margin:0 0 6px; }
.legend .grade { font-size:12px; width:22px; }
.swatch { display:inline-block; width:12px; height:12px; border-radius:2px; margin-right:5px;
  vertical-align:-1px; }
.ok { color:var(--green); } .warn { color:var(--red); font-weight:600; }
.quiet { color:var(--muted); }
.charts { display:grid; grid-template-columns:repeat(auto-fit,minmax(min(100%,520px),1fr)); gap:16px; }
figure { margin:0; min-width:0; }
figure svg, figure img { display:block; width:100%; height:auto; border:1px solid var(--line);
  border-radius:6px; }
figcaption { color:var(--muted); font-size:13px; margin-top:4px; }
.broken { border:1px solid var(--line); border-radius:8px; padding:8px 14px 10px; margin:10px 0; }
dl { margin:4px 0; display:grid; grid-template-columns:90px 1fr; gap:2px 10px; }
dt { color:var(--muted); } dd { margin:0; min-width:0; overflow-wrap:anywhere; }
footer { color:var(--muted); font-size:13px; margin-top:36px; border-top:1px solid var(--line);
  padding-top:10px; }
@media (max-width:800px) { main { padding:16px 14px 32px; } dl { grid-template-columns:70px 1fr; } }
"#;

/// The grade legend, shown beside the grades (the peers table).
const GRADES: [(Grade, &str); 5] = [
    (Grade::A, "all TLS, modern and verified where it matters"),
    (
        Grade::B,
        "TLS with an unverified certificate, an old log format or an exception",
    ),
    (Grade::C, "old protocols or TLS failures"),
    (Grade::D, "some clear text, forbidden ciphers, no STARTTLS"),
    (Grade::F, "only clear text or SSL"),
];

fn when(t: Option<chrono::DateTime<chrono::FixedOffset>>) -> String {
    t.map_or("–".to_owned(), |t| {
        t.format("%Y-%m-%d %H:%M:%S").to_string()
    })
}

/// `WORD:n` by count, most first, then by word.
fn hist<K: Word>(m: &Hist<K>) -> String {
    let mut v: Vec<(&str, u64)> = m.words().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    v.iter()
        .map(|(k, n)| format!("{k}:{n}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// [`hist`] of both directions' counts together.
fn both<K: Word>(inbound: &Hist<K>, outbound: &Hist<K>) -> String {
    let mut m = inbound.clone();
    m.merge_ref(outbound);
    hist(&m)
}

fn grade_badge(g: Option<Grade>) -> Markup {
    match g {
        Some(g) => {
            html! { span class={ "grade g-" (g.as_str()) } title={ "grade " (g.as_str()) } { (g.as_str()) } }
        }
        None => html! { "–" },
    }
}

fn dir_cell(d: &DirPosture, out: bool) -> Markup {
    if d.is_empty() {
        return html! { "–" };
    }
    html! {
        (d.tls_messages) " / "
        @if d.plaintext_messages > 0 { span.warn { (d.plaintext_messages) } } @else { "0" }
        @if out { " / " (d.deferred) }
    }
}

/// A chart's SVG ready to inline: the root element rewritten to scale (its `viewBox`
/// kept, width 100%, no fixed size) with the title as its accessible name. `None` when the
/// SVG holds anything but the drawing elements plotters writes, an event attribute, a link
/// or markup declarations: the caller then embeds it as an image, which cannot run script.
pub fn inline_svg(c: &Chart) -> Option<Markup> {
    let svg = c.svg.as_str();
    let end = svg.find('>')?;
    let root = svg.get(..end)?;
    if !root.starts_with("<svg ") {
        return None;
    }
    let vb = root
        .split("viewBox=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())?;
    if !vb
        .chars()
        .all(|c| c.is_ascii_digit() || c == ' ' || c == '.')
    {
        return None;
    }
    let body = svg.get(end + 1..)?;
    const ELEMENTS: [&str; 9] = [
        "svg", "rect", "text", "polyline", "polygon", "line", "circle", "path", "g",
    ];
    for tag in svg.split('<').skip(1) {
        // Text is escaped, so everything up to the next `>` is the tag itself.
        let inner = tag.split('>').next().unwrap_or("");
        let name: String = inner
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if !ELEMENTS.contains(&name.as_str()) {
            return None;
        }
        // Attribute names (the tag with its quoted values taken out): no event handler,
        // no link.
        let mut quoted = false;
        let names: String = inner
            .chars()
            .filter(|c| {
                if *c == '"' {
                    quoted = !quoted;
                }
                !quoted && *c != '"'
            })
            .collect();
        let bad = names
            .split(|c: char| c.is_whitespace() || c == '=' || c == '/')
            .map(str::to_ascii_lowercase)
            .any(|a| a.starts_with("on") || a.contains("href"));
        if bad {
            return None;
        }
    }
    Some(html! {
        svg xmlns="http://www.w3.org/2000/svg" viewBox=(vb) width="100%" role="img" aria-label=(c.alt) {
            title { (c.title) }
            (PreEscaped(body.strip_suffix("</svg>\n").or_else(|| body.strip_suffix("</svg>")).unwrap_or(body)))
        }
    })
}

/// A chart as a figure with its caption and links to its files.
pub(super) fn chart_figure(c: &Chart) -> Markup {
    let drawing = inline_svg(c).unwrap_or_else(|| {
        let data = base64::engine::general_purpose::STANDARD.encode(c.svg.as_bytes());
        html! { img src={ "data:image/svg+xml;base64," (data) } alt=(c.alt) title=(c.title); }
    });
    html! {
        figure id={ "chart-" (c.name) } {
            (drawing)
            figcaption { (c.alt) " · " a href={ "charts/" (c.name) ".png" } { "PNG" } " · " a href={ "charts/" (c.name) ".svg" } { "SVG" } }
        }
    }
}

/// The fixed colour of an error kind as a small square (the same as in the charts).
fn swatch(k: TlsErrorKind) -> Markup {
    html! { span.swatch style={ "background:" (hex(kind_colour(k))) } title=(k.as_str()) {} }
}

/// True when a window cost nothing visible: no clear-text message and no failed
/// handshake. It is still listed, in a neutral style rather than as an alarm.
fn quiet(w: &Window) -> bool {
    w.plaintext_messages == 0 && w.failed_handshakes == 0
}

fn stamp(t: chrono::DateTime<chrono::FixedOffset>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// What one window cost, for the "cost" line of its error kind.
fn window_cost(r: &Report, w: &Window) -> Markup {
    let down = w.downgraded(&r.snap.posture).count() as u64;
    html! {
        @if quiet(w) { span.quiet { "TLS outage, no mail in clear text" } } @else { span.warn { "silent downgrade" } }
        " on " (w.host) " " (w.direction.as_str()) " from " (w.start.format("%H:%M:%S").to_string()) " "
        @match w.resumed { Some(t) => { "until " (stamp(t)) }, None => { "until the end of the logs" } }
        ": " (count(w.plaintext_messages, "message", "messages")) " in clear text"
        @if down > 0 { ", " (down) " from peers that otherwise used TLS" }
        " (" a href="#downgrade" { "details" } ")"
    }
}

/// The whole page.
pub fn render(r: &Report, charts: &[Chart]) -> String {
    let h = r.headline();
    let s = &r.snap.summary.counts;
    let ev = r.evaluation;
    let broken = r.broken();
    let hosts: Vec<String> = r
        .snap
        .identity
        .as_ref()
        .map(|i| i.hosts.clone())
        .unwrap_or_default();
    let nviol = ev.violations.len() as u64;
    // The trend's charts (`trend-*`) go into the trend section, the run's into #charts.
    let (trend_charts, charts): (Vec<&Chart>, Vec<&Chart>) =
        charts.iter().partition(|c| c.name.starts_with("trend-"));
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="generator" content=(r.snap.generator);
                title { (TITLE) }
                style { (PreEscaped(CSS)) }
            }
            body { main {
                header {
                    h1 { (TITLE) }
                    p.meta #run {
                        @if let Some(g) = &r.generated { "Generated " strong #generated { (g) } " · " }
                        "logs from " strong { (when(s.first_seen)) } " to " strong { (when(s.last_seen)) }
                    }
                    p.meta #hosts {
                        (if hosts.len() == 1 { "Host: " } else { "Hosts: " })
                        @if hosts.is_empty() { "none named in the logs" } @else { strong { (hosts.join(", ")) } }
                    }
                    p.meta #inputs {
                        "Read: " (r.inputs.join(" ")) " · " (count(s.files, "file", "files")) ", "
                        (count(s.lines_read, "line", "lines")) " (" (s.lines_recognized) " recognised, "
                        (s.lines_malformed) " malformed)"
                        @if let Some(m) = &r.snap.messages {
                            " · " (count(m.stores, "message store", "message stores")) ", "
                            (count(m.messages, "message", "messages"))
                        }
                    }
                    p.meta #policy { (r.enforcement_note()) }
                    @if let Some(n) = &r.snap.input {
                        @let lines = n.lines();
                        @if !lines.is_empty() {
                            ul.notes #input-notes { @for l in &lines { li { (l) } } }
                        }
                    }
                }
                @if let Some(b) = r.snap.input.as_ref().and_then(|n| n.banner()) {
                    p.warn #empty-input role="alert" { (b) }
                }
                section #headline .cards {
                    div.card { span.n { (h.messages) } span.l { (if h.messages == 1 { "message" } else { "messages" }) } }
                    div.card.bad[h.plaintext_messages > 0] { span.n { (percent(h.tls_messages, h.messages)) } span.l { "over TLS (" (h.plaintext_messages) " in clear text)" } }
                    div.card { span.n { (percent(h.verified, h.sessions)) } span.l { "of " (count(h.sessions, "TLS session", "TLS sessions")) " verified" } }
                    div.card { span.n { (h.peers) } span.l { (if h.peers == 1 { "peer" } else { "peers" }) } }
                    div.card.bad[h.errors > 0] { span.n { (h.errors) } span.l { (if h.errors == 1 { "TLS error" } else { "TLS errors" }) } }
                    div.card.bad[r.enforced && nviol > 0] #policy-card {
                        span.n { (nviol) }
                        span.l {
                            @if r.enforced { (if nviol == 1 { "policy violation" } else { "policy violations" }) @if nviol > 0 { " (exit 1)" } }
                            @else { (if nviol == 1 { "finding" } else { "findings" }) " of the built-in policy, not enforced" }
                        }
                    }
                }

                section #violations {
                    h2 { @if r.enforced { "Policy violations" } @else { "Findings of the built-in policy (not enforced)" } }
                    @if ev.violations.is_empty() && r.snap.input.as_ref().is_some_and(|n| n.empty) {
                        p.warn { "Nothing judged: empty input." }
                    } @else if ev.violations.is_empty() {
                        p.ok { "None: every peer meets the policy (" (r.policy_source) ")." }
                    } @else {
                        div.scroll { table {
                            thead { tr { th { "rule" } th { "peer" } th { "direction" } th { "what" } } }
                            tbody {
                                @for v in &ev.violations {
                                    tr {
                                        td { code { (v.rule.as_str()) } }
                                        td { (v.peer.as_deref().unwrap_or("overall")) }
                                        td { (v.direction.map(|d| d.as_str()).unwrap_or("")) }
                                        td { (v.text) }
                                    }
                                }
                            }
                        } }
                    }
                    @for e in &ev.expired {
                        p.warn { "Expired exception: " (e.peer) " (" (e.reason) "), until " (e.expires.to_string()) }
                    }
                }

                @if let Some(c) = r.comparison {
                    section #changes {
                        h2 { "What changed since the previous report" }
                        @if c.is_empty() { p.ok { "Nothing that matters." } }
                        ul {
                            @for p in &c.new_peers { li { "New peer " strong { (p) } } }
                            @for p in &c.gone_peers { li { "Peer no longer seen: " (p) } }
                            @for ch in &c.protocol_downgrades { li.warn { "Protocol downgrade: " (ch.peer) " (" (ch.direction.as_str()) "): " (ch.before) " → " (ch.after) } }
                            @for ch in &c.verify_downgrades { li.warn { "Verification downgrade: " (ch.peer) " (" (ch.direction.as_str()) "): " (ch.before) " → " (ch.after) } }
                            @for ch in &c.plaintext_growth { li.warn { "More clear text: " (ch.peer) " (" (ch.direction.as_str()) "): " (ch.before) " → " (ch.after) } }
                            @for e in &c.new_errors { li.warn { "New error kind " code { (e.kind) } " at " (e.scope) " ×" (e.count) } }
                        }
                        p.meta { "Clear-text share overall: " (format!("{:.1}%", c.plaintext_before)) " → " (format!("{:.1}%", c.plaintext_after)) }
                    }
                }

                section #peers {
                    h2 { "Peers, worst first" }
                    p.legend #grades {
                        "Grades: "
                        @for (i, (g, what)) in GRADES.iter().enumerate() {
                            @if i > 0 { " · " }
                            (grade_badge(Some(*g))) " " (what)
                        }
                        "."
                    }
                    div.scroll { table {
                        thead { tr {
                            th { "grade" } th { "peer" } th.num { "in TLS / clear" } th.num { "out TLS / clear / deferred" }
                            th { "versions" } th { "verify" } th.num { "min bits" } th { "reason" }
                        } }
                        tbody {
                            @for p in r.peers_by_grade() {
                                @let g = ev.grades.get(&p.peer);
                                tr {
                                    td { (grade_badge(g.map(|g| g.grade))) }
                                    td { (p.peer) }
                                    td.num { (dir_cell(&p.inbound, false)) }
                                    td.num { (dir_cell(&p.outbound, true)) }
                                    td { (both(&p.inbound.versions, &p.outbound.versions)) }
                                    td { (both(&p.inbound.verify, &p.outbound.verify)) }
                                    td.num { (p.inbound.min_bits.into_iter().chain(p.outbound.min_bits).min().map(|b| b.to_string()).unwrap_or_else(|| "–".into())) }
                                    td { (g.map(|g| g.reason.as_str()).unwrap_or("")) }
                                }
                            }
                        }
                    } }
                }

                section #broken {
                    h2 { "What broke" }
                    @let no_tls = r.without_tls();
                    @if broken.is_empty() && no_tls.is_empty() { p.ok { "No TLS errors in the logs read." } }
                    @for d in &no_tls {
                        @let a = crate::analysis::policy::no_tls(d.mta, d.direction);
                        div.broken id={ "no-tls-" (d.direction.as_str()) } {
                            h3 { code { (d.host) } " " (d.direction.as_str()) ": no TLS at all" }
                            dl {
                                dt { "when" } dd { (when(d.first)) " → " (when(d.last)) }
                                dt { "what" } dd { (d.summary()) }
                                @if let Some(s) = &d.first_source { dt { "first" } dd { code.line { (s.to_string()) } } }
                                dt { "cause" } dd { (a.cause) }
                                dt { "fix" } dd { (a.fix) }
                            }
                        }
                    }
                    @for b in &broken {
                        div.broken id={ "err-" (b.kind.as_str()) } {
                            h3 { (swatch(b.kind)) code { (b.kind.as_str()) } " ×" (b.stat.count) }
                            dl {
                                dt { "when" } dd { (when(b.stat.first_seen)) " → " (when(b.stat.last_seen)) }
                                dt { "where" } dd { (b.scopes.iter().map(|(s, n)| format!("{s} ×{n}")).collect::<Vec<_>>().join(", ")) }
                                dt { "example" } dd { code.line { (b.example()) } }
                                @let advice = b.advice();
                                @let many = advice.len() > 1;
                                @for (m, a) in &advice {
                                    dt { "cause" @if many { " (" (m) ")" } } dd { (a.cause) }
                                    dt { "fix" @if many { " (" (m) ")" } } dd { (a.fix) }
                                }
                                @let ws: Vec<_> = r.windows.iter().filter(|w| w.errors.contains_key(&b.kind)).collect();
                                @if !ws.is_empty() {
                                    dt { "cost" }
                                    dd { @for w in ws { (window_cost(r, w)) br; } }
                                }
                            }
                        }
                    }
                    @if !r.windows.is_empty() {
                        h3 #downgrade { "Silent downgrade: from a configuration error until TLS resumed" }
                        p.meta { "An MTA keeps running after a key or certificate error: Sendmail stops offering STARTTLS, Postfix and Exim answer 454 to it, and mail goes on in clear text. Each window below runs, per host and role (inbound = our server side, outbound = our client side), from the first error to the first evidence that TLS works again for that role: a TLS session, init=1, or a restart not followed by the error. A window in grey had no mail in clear text." }
                        div.scroll { table {
                            thead { tr { th { "host" } th { "direction" } th { "from" } th { "until" } th { "errors" } th.num { "clear-text messages" } th { "from peers that otherwise used TLS" } } }
                            tbody {
                                @for w in r.windows {
                                    @let down: Vec<_> = w.downgraded(&r.snap.posture).collect();
                                    tr.quiet[quiet(w)] {
                                        td { (w.host) }
                                        td { (w.direction.as_str()) }
                                        td { (stamp(w.start)) }
                                        td { @match (w.resumed, w.duration()) {
                                            (Some(t), Some(d)) => { (stamp(t)) " (" (format_duration(d)) ")" },
                                            _ => { @if quiet(w) { "not resumed by the end of the logs" } @else { span.warn { "not resumed by the end of the logs" } } },
                                        } }
                                        td { @for (k, n) in &w.errors { (swatch(*k)) (k.as_str()) "×" (n) " " } br; small { (w.first_source.to_string()) } }
                                        td.num { (w.plaintext_messages) @if w.failed_handshakes > 0 { br; small { (w.failed_handshakes) " failed STARTTLS (ours)" } } }
                                        td { @if down.is_empty() { "–" } @else { @for m in &down { span.warn { (m.peer) } " " (m.time.format("%H:%M:%S").to_string()) " " small { (m.queue_id) } br; } } }
                                    }
                                }
                            }
                        } }
                    }
                }

                @if let Some(rd) = r.readiness {
                    section #readiness {
                        h2 { "What breaks if we enforce TLS?" }
                        p.meta { "Per peer we delivered to: would requiring TLS, or TLS with a verified certificate, have failed any delivery in the logs read?" }
                        div.scroll { table {
                            thead { tr { th { "peer" } th.num { "attempts" } th { "require TLS" } th { "require verified TLS" } } }
                            tbody {
                                @for x in rd {
                                    tr {
                                        td { (x.peer) }
                                        td.num { (x.attempts) }
                                        td { @if x.tls_safe() { span.ok { "safe" } } @else { span.warn { "would fail: " } (x.tls_blockers.join("; ")) } }
                                        td { @if x.verify_safe() { span.ok { "safe" } } @else { span.warn { "would fail: " } (x.verify_blockers.iter().chain(&x.tls_blockers).cloned().collect::<Vec<_>>().join("; ")) } }
                                    }
                                }
                            }
                        } }
                        @let sendmail: Vec<&String> = rd.iter().flat_map(|x| &x.entries).filter(|e| e.starts_with("TLS_")).collect();
                        @let postfix: Vec<&String> = rd.iter().flat_map(|x| &x.entries).filter(|e| !e.starts_with("TLS_")).collect();
                        @if !sendmail.is_empty() {
                            h3 { "Sendmail access map (" code { "/etc/mail/access" } ")" }
                            pre { @for e in &sendmail { (e) "\n" } }
                            h3 { "Postfix " code { "smtp_tls_policy_maps" } }
                            p.meta { "Recipient domains are guessed from the MX name; check them before use." }
                            pre { @for e in &postfix { (e) "\n" } }
                        }
                    }
                }

                @if let Some(t) = r.trend { (super::trend::html_section(t, &trend_charts)) }

                section #charts {
                    h2 { "Charts" }
                    div.charts { @for c in &charts { (chart_figure(c)) } }
                }

                @if let Some(t) = &r.snap.tlsrpt { (super::tlsrpt::html_section(t)) }

                footer {
                    p {
                        "Policy (" (r.policy_source) @if r.enforced { ", enforced" } @else { ", not enforced" } "): minimum " code { (r.policy.min_version) }
                        "; forbidden cipher families " (r.policy.forbidden_ciphers.iter().map(|f| f.policy_name()).collect::<Vec<_>>().join(", "))
                        "; must verify " @if r.policy.must_verify.is_empty() { "nobody" } @else { (r.policy.must_verify.join(", ")) }
                        "; clear text at most " (r.policy.max_plaintext_percent) "% overall, "
                        (r.policy.max_peer_plaintext_percent) "% per peer."
                    }
                    p { "Also in this folder: " a href="posture.json" { "posture.json" } ", " a href="posture.csv" { "posture.csv" } ", " a href="summary.md" { "summary.md" } ". " (r.snap.generator) "." }
                }
            } }
        }
    };
    page.into_string()
}

/// A window's length for people: seconds under a minute, then minutes, hours and
/// minutes, days. The windows never run backwards ([`Window::resumed`] is never before
/// its start, see [`crate::analysis::downgrade`]); a negative length would be a bug, shown as such
/// rather than as "-11 min".
fn format_duration(d: chrono::Duration) -> String {
    let secs = d.num_seconds();
    if secs < 0 {
        return "ends before it starts".to_owned();
    }
    let m = secs / 60;
    if m == 0 {
        format!("{secs} s")
    } else if m < 60 {
        format!("{m} min")
    } else if m < 48 * 60 {
        format!("{} h {} min", m / 60, m % 60)
    } else {
        count((m / (24 * 60)) as u64, "day", "days")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(svg: &str) -> Chart {
        Chart {
            name: "t",
            title: "T".into(),
            alt: "a".into(),
            svg: svg.into(),
            png: Vec::new(),
        }
    }

    #[test]
    fn plotters_svg_is_inlined_with_its_view_box_and_width_100() {
        let c = chart(
            "<svg width=\"640\" height=\"340\" viewBox=\"0 0 640 340\" xmlns=\"http://www.w3.org/2000/svg\">\n<rect x=\"0\" y=\"0\" width=\"640\" height=\"340\" fill=\"#FFFFFF\"/>\n<text x=\"1\" y=\"2\">&lt;b&gt;on=x</text>\n</svg>\n",
        );
        let m = inline_svg(&c).expect("inlined").into_string();
        assert!(
            m.starts_with(
                "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 640 340\" width=\"100%\""
            ),
            "{m}"
        );
        let root = m.split('>').next().unwrap();
        assert!(!root.contains("640\" height"), "{root}");
        assert!(
            m.contains("<title>T</title>") && m.contains("&lt;b&gt;on=x"),
            "{m}"
        );
        assert_eq!(m.matches("</svg>").count(), 1, "{m}");
    }

    #[test]
    fn an_svg_with_script_events_or_links_is_not_inlined() {
        for bad in [
            "<svg viewBox=\"0 0 1 1\">\n<script>alert(1)</script>\n</svg>\n",
            "<svg viewBox=\"0 0 1 1\">\n<rect onload=\"alert(1)\"/>\n</svg>\n",
            "<svg viewBox=\"0 0 1 1\">\n<rect x=\"1\" onclick = \"x\"/>\n</svg>\n",
            "<svg viewBox=\"0 0 1 1\">\n<a href=\"javascript:alert(1)\"><rect/></a>\n</svg>\n",
            "<svg viewBox=\"0 0 1 1\">\n<!-- x --><rect/>\n</svg>\n",
            "<svg viewBox=\"0 0 1 1\">\n<foreignObject/>\n</svg>\n",
            "<svg viewBox=\"0 0 1 1\"onload=\"x\">\n</svg>\n",
            "<html><svg viewBox=\"0 0 1 1\"></svg>",
        ] {
            assert!(inline_svg(&chart(bad)).is_none(), "{bad}");
        }
        // The figure falls back to an image then.
        let f = chart_figure(&chart(
            "<svg viewBox=\"0 0 1 1\">\n<script>alert(1)</script>\n</svg>\n",
        ))
        .into_string();
        assert!(f.contains("<img src=\"data:image/svg+xml;base64,"), "{f}");
        assert!(!f.contains("<script"), "{f}");
    }

    #[test]
    fn durations_read_as_people_say_them_and_never_negative() {
        let d = chrono::Duration::seconds;
        assert_eq!(format_duration(d(42)), "42 s");
        assert_eq!(format_duration(d(46 * 60 + 11)), "46 min");
        assert_eq!(format_duration(d(65 * 60)), "1 h 5 min");
        assert_eq!(format_duration(d(49 * 3600)), "2 days");
        assert_eq!(format_duration(d(-11 * 60)), "ends before it starts");
    }
}
