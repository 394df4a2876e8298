//! `index.html`: the page an administrator opens in the morning.
//!
//! One self-contained file: inline CSS, the charts embedded as SVG images (data URIs), no
//! script, no external asset, readable with JavaScript off and printable. The markup is
//! built with maud, which escapes every interpolated string, so a relay or EHLO name such
//! as `<script>alert(1)</script>` from a log is shown as text. Charts are embedded as
//! `<img>` rather than inline `<svg>`: an SVG image can never run script, whatever its
//! text says.

use base64::Engine as _;
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::charts::Chart;
use super::{Report, percent};
use crate::analysis::policy::Grade;
use crate::analysis::posture::DirPosture;
use crate::model::Direction;
use crate::model::{Hist, Word};

/// The page title (also what the browser test looks for).
pub const TITLE: &str = "mailtls TLS posture report";

const CSS: &str = r#"
:root { --ink:#1f2328; --muted:#59636e; --line:#d1d9e0; --bg:#f6f8fa; --blue:#0072b2;
  --red:#b84a00; --green:#007a5a; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.45 "DejaVu Sans", system-ui, -apple-system, "Segoe UI", sans-serif;
  color:var(--ink); background:#fff; }
main { max-width:1240px; margin:0 auto; padding:24px 28px 48px; }
header { border-bottom:3px solid var(--blue); padding-bottom:12px; margin-bottom:18px; }
h1 { font-size:26px; margin:0 0 4px; }
h2 { font-size:20px; margin:34px 0 10px; padding-bottom:4px; border-bottom:1px solid var(--line); }
h3 { font-size:16px; margin:18px 0 6px; }
h3 code { font-size:15px; }
.meta { color:var(--muted); margin:0; }
.cards { display:grid; grid-template-columns:repeat(auto-fit,minmax(150px,1fr)); gap:12px; }
.card { background:var(--bg); border:1px solid var(--line); border-radius:8px; padding:12px 14px; }
.card .n { font-size:28px; font-weight:bold; display:block; }
.card .l { color:var(--muted); font-size:13px; }
.card.bad .n { color:var(--red); }
table { border-collapse:collapse; width:100%; margin:6px 0 12px; font-size:14px; }
th, td { text-align:left; padding:5px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
th { background:var(--bg); font-weight:600; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
tbody tr:nth-child(even) { background:#fbfcfd; }
code, pre { font-family:"DejaVu Sans Mono", ui-monospace, monospace; font-size:13px; }
code.line { display:block; white-space:pre-wrap; word-break:break-all; background:var(--bg);
  border-left:3px solid var(--line); padding:4px 8px; }
pre { background:var(--bg); border:1px solid var(--line); padding:10px; overflow-x:auto; }
.grade { display:inline-block; width:26px; text-align:center; font-weight:bold; border-radius:4px;
  color:#fff; }
.g-A { background:#007a5a; } .g-B { background:#2b7bb9; } .g-C { background:#8a6d00; }
.g-D { background:#b84a00; } .g-F { background:#8b1e3f; }
.ok { color:var(--green); } .warn { color:var(--red); font-weight:600; }
figure { margin:14px 0 22px; }
figure img { max-width:100%; height:auto; border:1px solid var(--line); border-radius:6px; }
figcaption { color:var(--muted); font-size:13px; }
.broken { border:1px solid var(--line); border-radius:8px; padding:8px 14px 10px; margin:10px 0; }
dl { margin:4px 0; display:grid; grid-template-columns:90px 1fr; gap:2px 10px; }
dt { color:var(--muted); } dd { margin:0; }
footer { color:var(--muted); font-size:13px; margin-top:36px; border-top:1px solid var(--line);
  padding-top:10px; }
"#;

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

fn chart_figure(c: &Chart) -> Markup {
    let data = base64::engine::general_purpose::STANDARD.encode(c.svg.as_bytes());
    html! {
        figure id={ "chart-" (c.name) } {
            img src={ "data:image/svg+xml;base64," (data) } alt=(c.alt) title=(c.title);
            figcaption { (c.alt) " · " a href={ "charts/" (c.name) ".png" } { "PNG" } " · " a href={ "charts/" (c.name) ".svg" } { "SVG" } }
        }
    }
}

/// The whole page.
pub fn render(r: &Report, charts: &[Chart]) -> String {
    let h = r.headline();
    let s = &r.snap.summary.counts;
    let ev = r.evaluation;
    let broken = r.broken();
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
                    p.meta {
                        "Logs from " strong { (when(s.first_seen)) } " to " strong { (when(s.last_seen)) }
                        " · " (s.files) " files, " (s.lines_read) " lines ("
                        (s.lines_recognized) " recognised, " (s.lines_malformed) " malformed)"
                        " · policy: " (r.policy_source)
                        @if let Some(g) = &r.generated { " · generated " (g) }
                    }
                }
                @if let Some(b) = r.snap.input.as_ref().and_then(|n| n.banner()) {
                    p.warn #empty-input role="alert" { (b) }
                }
                @if let Some(n) = &r.snap.input {
                    @let lines = n.lines();
                    @if !lines.is_empty() {
                        section #input-notes {
                            h2 { "What was read" }
                            ul { @for l in &lines { li { (l) } } }
                        }
                    }
                }
                section #headline .cards {
                    div.card { span.n { (h.messages) } span.l { "messages" } }
                    div.card.bad[h.plaintext_messages > 0] { span.n { (percent(h.tls_messages, h.messages)) } span.l { "over TLS (" (h.plaintext_messages) " in clear text)" } }
                    div.card { span.n { (percent(h.verified, h.sessions)) } span.l { "of " (h.sessions) " TLS sessions verified" } }
                    div.card { span.n { (h.peers) } span.l { "peers" } }
                    div.card.bad[h.errors > 0] { span.n { (h.errors) } span.l { "TLS errors" } }
                    div.card.bad[!ev.violations.is_empty()] { span.n { (ev.violations.len()) } span.l { "policy violations" } }
                }

                section #violations {
                    h2 { "Policy violations" }
                    @if ev.violations.is_empty() && r.snap.input.as_ref().is_some_and(|n| n.empty) {
                        p.warn { "Nothing judged: empty input." }
                    } @else if ev.violations.is_empty() {
                        p.ok { "None: every peer meets the policy (" (r.policy_source) ")." }
                    } @else {
                        table {
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
                        }
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

                section #broken {
                    h2 { "What broke" }
                    @if broken.is_empty() { p.ok { "No TLS errors in the logs read." } }
                    @for b in &broken {
                        div.broken id={ "err-" (b.kind.as_str()) } {
                            h3 { code { (b.kind.as_str()) } " ×" (b.stat.count) }
                            dl {
                                dt { "when" } dd { (when(b.stat.first_seen)) " → " (when(b.stat.last_seen)) }
                                dt { "where" } dd { (b.scopes.iter().map(|(s, n)| format!("{s} ×{n}")).collect::<Vec<_>>().join(", ")) }
                                dt { "example" } dd { code.line { (b.stat.last_text) } }
                                @let advice = b.advice();
                                @let many = advice.len() > 1;
                                @for (m, a) in &advice {
                                    dt { "cause" @if many { " (" (m) ")" } } dd { (a.cause) }
                                    dt { "fix" @if many { " (" (m) ")" } } dd { (a.fix) }
                                }
                                @let ws: Vec<_> = r.windows.iter().filter(|w| w.errors.contains_key(&b.kind)).collect();
                                @if !ws.is_empty() {
                                    dt { "cost" }
                                    dd {
                                        @for w in ws {
                                            @let down = w.downgraded(&r.snap.posture).count();
                                            span.warn { "silent downgrade" } " on " (w.host) " " (w.direction.as_str()) " from "
                                            (w.start.format("%H:%M:%S").to_string()) " "
                                            @match w.resumed { Some(t) => { "until " (t.format("%Y-%m-%d %H:%M:%S").to_string()) }, None => { "until the end of the logs" } }
                                            ": " (w.plaintext_messages) " messages in clear text, " (down) " from peers that otherwise used TLS ("
                                            a href="#downgrade" { "details" } ")" br;
                                        }
                                    }
                                }
                            }
                        }
                    }
                    @if !r.windows.is_empty() {
                        h3 #downgrade { "Silent downgrade: from a configuration error until TLS resumed" }
                        p.meta { "An MTA keeps running after a key or certificate error: Sendmail stops offering STARTTLS, Postfix and Exim answer 454 to it, and mail goes on in clear text. Each window below runs, per host and role (inbound = our server side, outbound = our client side), from the first error to the first evidence that TLS works again for that role: a TLS session, init=1, or a restart not followed by the error." }
                        table {
                            thead { tr { th { "host" } th { "direction" } th { "from" } th { "until" } th { "errors" } th.num { "clear-text messages" } th { "from peers that otherwise used TLS" } } }
                            tbody {
                                @for w in r.windows {
                                    @let down: Vec<_> = w.downgraded(&r.snap.posture).collect();
                                    tr {
                                        td { (w.host) }
                                        td { (w.direction.as_str()) }
                                        td { (w.start.format("%Y-%m-%d %H:%M:%S").to_string()) }
                                        td { @match w.resumed { Some(t) => { (t.format("%Y-%m-%d %H:%M:%S").to_string()) " (" (format_duration(t - w.start)) ")" }, None => span.warn { "not resumed by the end of the logs" } } }
                                        td { (w.errors.iter().map(|(k, n)| format!("{k}×{n}")).collect::<Vec<_>>().join(" ")) br; small { (w.first_source.to_string()) } }
                                        td.num { (w.plaintext_messages) @if w.failed_handshakes > 0 { br; small { (w.failed_handshakes) " failed STARTTLS (ours)" } } }
                                        td { @if down.is_empty() { "–" } @else { @for m in &down { span.warn { (m.peer) } " " (m.time.format("%H:%M:%S").to_string()) " " small { (m.queue_id) } br; } } }
                                    }
                                }
                            }
                        }
                    }
                }

                @if let Some(t) = &r.snap.tlsrpt { (super::tlsrpt::html_section(t)) }

                section #charts {
                    h2 { "Charts" }
                    @for c in charts { (chart_figure(c)) }
                }

                @if let Some(rd) = r.readiness {
                    section #readiness {
                        h2 { "What breaks if we enforce TLS?" }
                        p.meta { "Per peer we delivered to: would requiring TLS, or TLS with a verified certificate, have failed any delivery in the logs read?" }
                        table {
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
                        }
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

                section #peers {
                    h2 { "Peers, worst first" }
                    table {
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
                    }
                }

                footer {
                    p {
                        "Policy (" (r.policy_source) "): minimum " code { (r.policy.min_version) }
                        "; forbidden cipher families " (r.policy.forbidden_ciphers.iter().map(|f| f.policy_name()).collect::<Vec<_>>().join(", "))
                        "; must verify " @if r.policy.must_verify.is_empty() { "nobody" } @else { (r.policy.must_verify.join(", ")) }
                        "; clear text at most " (r.policy.max_plaintext_percent) "% overall, "
                        (r.policy.max_peer_plaintext_percent) "% per peer."
                    }
                    p { "Grades: A all TLS, modern and verified where it matters · B TLS with an unverified certificate, an old log format or an exception · C old protocols or TLS failures · D some clear text, forbidden ciphers, no STARTTLS · F only clear text or SSL. "
                        "Also in this folder: " a href="posture.json" { "posture.json" } ", " a href="posture.csv" { "posture.csv" } ", " a href="summary.md" { "summary.md" } ". " (r.snap.generator) "." }
                }
            } }
        }
    };
    let _ = Direction::Inbound;
    page.into_string()
}

fn format_duration(d: chrono::Duration) -> String {
    let m = d.num_minutes();
    if m < 60 {
        format!("{m} min")
    } else if m < 48 * 60 {
        format!("{} h {} min", m / 60, m % 60)
    } else {
        format!("{} days", m / (24 * 60))
    }
}
