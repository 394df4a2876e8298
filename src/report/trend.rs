//! The trend of `mailtls report --history DIR`: the nightly series as charts (drawn by
//! [`super::charts`], one palette with the rest of the report), as a page section and a
//! Markdown section, and as `trend.csv` (one row per night, [`COLUMNS`]).
//!
//! Only rendering: the nights and the changes come from [`crate::analysis::history`].

use maud::{Markup, html};
use plotters::style::RGBColor;

use super::charts::{
    BLUE, Chart, ChartError, GREY, Layout, SKY, Series, Spec, TIME_HEIGHT, VERMILLION, WIDTH,
    kind_colour, render, version_colour,
};
use crate::analysis::history::{Changes, Night, Trend};
use crate::model::text::count;
use crate::model::{Hist, TlsErrorKind, TlsVersion};

/// The header row of `trend.csv`. Shares are percentages with one decimal (empty when
/// there is nothing to divide); `new_peers`, `gone_peers` and `regressions` compare a
/// night with the previous night of the series (empty on the first).
pub const COLUMNS: &[&str] = &[
    "night",
    "snapshots",
    "hosts",
    "peers",
    "messages",
    "tls_messages",
    "plaintext_messages",
    "tls_percent",
    "sessions",
    "verified_sessions",
    "verified_percent",
    "tls13_sessions",
    "tls12_sessions",
    "tls11_sessions",
    "tls10_sessions",
    "ssl_sessions",
    "other_sessions",
    "plaintext_peers",
    "local_errors",
    "peer_errors",
    "new_peers",
    "gone_peers",
    "regressions",
];

/// `part/whole` in percent with one decimal, empty when `whole` is 0 (the number a
/// report's headline shows for the night, without its `%`).
fn share(part: u64, whole: u64) -> String {
    if whole == 0 {
        String::new()
    } else {
        format!("{:.1}", 100.0 * part as f64 / whole as f64)
    }
}

fn is_ssl(v: &TlsVersion) -> bool {
    matches!(v, TlsVersion::Ssl2 | TlsVersion::Ssl3)
}

fn is_other(v: &TlsVersion) -> bool {
    matches!(v, TlsVersion::Legacy | TlsVersion::Other(_))
}

/// `trend.csv`: one row per night, oldest first.
pub fn csv(t: &Trend) -> std::io::Result<String> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    w.write_record(COLUMNS)?;
    for (i, n) in t.nights.iter().enumerate() {
        let vs = |v: TlsVersion| n.versions.get(&v).to_string();
        let since = |x: u64| if i == 0 { String::new() } else { x.to_string() };
        let row = [
            n.date.to_string(),
            n.snapshots.to_string(),
            n.hosts.len().to_string(),
            n.peers.to_string(),
            n.messages().to_string(),
            n.tls_messages.to_string(),
            n.plaintext_messages.to_string(),
            share(n.tls_messages, n.messages()),
            n.sessions.to_string(),
            n.verified_sessions.to_string(),
            share(n.verified_sessions, n.sessions),
            vs(TlsVersion::Tls1_3),
            vs(TlsVersion::Tls1_2),
            vs(TlsVersion::Tls1_1),
            vs(TlsVersion::Tls1_0),
            n.sessions_where(is_ssl).to_string(),
            n.sessions_where(is_other).to_string(),
            n.plaintext_peers.to_string(),
            n.local_error_count().to_string(),
            n.peer_errors.to_string(),
            since(n.new_peers),
            since(n.gone_peers),
            since(n.regressions),
        ];
        w.write_record(&row)?;
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    String::from_utf8(bytes).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

fn span(t: &Trend) -> String {
    match (t.nights.first(), t.nights.last()) {
        (Some(a), Some(b)) => format!(
            "{}, {} → {}",
            count(t.nights.len() as u64, "night", "nights"),
            a.date,
            b.date
        ),
        _ => "no nights".to_owned(),
    }
}

fn spec(t: &Trend, name: &'static str, title: String, axis: &str, series: Vec<Series>) -> Spec {
    Spec {
        name,
        title,
        axis: axis.to_owned(),
        layout: Layout::Time {
            x_labels: t.nights.iter().map(|n| n.date.to_string()).collect(),
            x_desc: "night (one bar each)",
        },
        series,
        percent: false,
        width: WIDTH,
        height: TIME_HEIGHT,
    }
}

fn series(label: &str, colour: RGBColor, t: &Trend, f: impl Fn(&Night) -> f64) -> Series {
    Series {
        label: label.to_owned(),
        colour,
        values: t.nights.iter().map(f).collect(),
    }
}

/// `part` as a percentage of `whole` for a chart (0 when there is nothing).
fn pc(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

/// The trend charts, in the section's order; their names start with `trend-` (that is
/// how the page tells them from the run's own charts).
pub fn charts(t: &Trend) -> Result<Vec<Chart>, ChartError> {
    let mut out = Vec::new();
    let total = |f: fn(&Night) -> u64| t.nights.iter().map(f).sum::<u64>();
    let (tm, all) = (total(|n| n.tls_messages), total(Night::messages));
    let mut s = spec(
        t,
        "trend-tls",
        "Share of messages over TLS, per night".into(),
        "share of messages",
        vec![
            series("TLS", BLUE, t, |n| pc(n.tls_messages, n.messages())),
            series("clear text", VERMILLION, t, |n| {
                pc(n.plaintext_messages, n.messages())
            }),
        ],
    );
    s.percent = true;
    out.push(render(
        &s,
        format!(
            "{} over TLS of {} in {}",
            super::percent(tm, all),
            count(all, "message", "messages"),
            span(t)
        ),
    )?);

    let (vs, ss) = (total(|n| n.verified_sessions), total(|n| n.sessions));
    let mut s = spec(
        t,
        "trend-verified",
        "Share of TLS sessions with a verified certificate, per night".into(),
        "share of sessions",
        vec![
            series("verified (OK, TRUSTED)", BLUE, t, |n| {
                pc(n.verified_sessions, n.sessions)
            }),
            series("not verified", SKY, t, |n| {
                pc(n.sessions - n.verified_sessions.min(n.sessions), n.sessions)
            }),
        ],
    );
    s.percent = true;
    out.push(render(
        &s,
        format!(
            "{} of {} verified",
            super::percent(vs, ss),
            count(ss, "TLS session", "TLS sessions")
        ),
    )?);

    let mut all_versions: Hist<TlsVersion> = Hist::default();
    for n in &t.nights {
        all_versions.merge_ref(&n.versions);
    }
    let mut labels: Vec<TlsVersion> = all_versions.keys().cloned().collect();
    labels.sort_by_key(|l| {
        std::cmp::Reverse(crate::analysis::policy::version_rank(l).map_or(-1, i32::from))
    });
    let mut s = spec(
        t,
        "trend-versions",
        "Protocol mix of TLS sessions, per night".into(),
        "share of sessions",
        labels
            .iter()
            .map(|l| {
                series(&l.to_string(), version_colour(l), t, |n| {
                    pc(n.versions.get(l), n.versions.total())
                })
            })
            .collect(),
    );
    s.percent = true;
    out.push(render(
        &s,
        format!(
            "Sessions by protocol over {}: {}",
            span(t),
            all_versions
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )?);

    let plain_peers: Vec<u64> = t.nights.iter().map(|n| n.plaintext_peers).collect();
    out.push(render(
        &spec(
            t,
            "trend-peers",
            "Peers, and those with mail in clear text, per night".into(),
            "peers",
            vec![
                series("with clear text", VERMILLION, t, |n| {
                    n.plaintext_peers as f64
                }),
                series("TLS only", GREY, t, |n| {
                    n.peers.saturating_sub(n.plaintext_peers) as f64
                }),
            ],
        ),
        format!(
            "Peers with mail in clear text: {} on the newest night, at most {} on one night",
            plain_peers.last().copied().unwrap_or(0),
            plain_peers.iter().max().copied().unwrap_or(0)
        ),
    )?);

    let mut kinds: std::collections::BTreeMap<TlsErrorKind, u64> = Default::default();
    for n in &t.nights {
        for (k, c) in &n.local_errors {
            *kinds.entry(*k).or_default() += c;
        }
    }
    let mut order: Vec<(TlsErrorKind, u64)> = kinds.iter().map(|(k, c)| (*k, *c)).collect();
    order.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    out.push(render(
        &spec(
            t,
            "trend-local-errors",
            "Errors of our own installation, per night".into(),
            "errors",
            order
                .iter()
                .map(|(k, _)| {
                    series(k.as_str(), kind_colour(*k), t, |n| {
                        n.local_errors.get(k).copied().unwrap_or(0) as f64
                    })
                })
                .collect(),
        ),
        format!(
            "Local errors: {}",
            if order.is_empty() {
                "none".to_owned()
            } else {
                order
                    .iter()
                    .map(|(k, c)| format!("{k} {c}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ),
    )?);
    Ok(out)
}

/// How many names a list of the page or the Markdown shows before "and N more".
const MAX_NAMES: usize = 40;

fn names(v: &[String]) -> String {
    let mut s = v
        .iter()
        .take(MAX_NAMES)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if v.len() > MAX_NAMES {
        s.push_str(&format!(" and {} more", v.len() - MAX_NAMES));
    }
    s
}

/// "since yesterday (2026-12-05)", "since 7 nights ago (2026-11-29)".
pub fn since(c: &Changes) -> String {
    let when = match c.nights_back {
        1 => "yesterday".to_owned(),
        n => format!("{n} nights ago"),
    };
    format!("since {when} ({})", c.against)
}

/// The page's trend section: what changed, then the charts (`charts` are those of
/// [`charts`], drawn once for the page and the `charts/` files).
pub fn html_section(t: &Trend, charts: &[&Chart]) -> Markup {
    html! {
        section #trend {
            h2 { "Trend: " (span(t)) }
            p.meta { "Every night's snapshots merged (all hosts of the night); a regression is a peer still seen that lost TLS, a verified certificate, or TLS ≥ 1.2. The numbers per night are in " a href="trend.csv" { "trend.csv" } "." }
            @if t.changes.is_empty() { p.quiet { "One night only: nothing to compare with." } }
            @if !t.changes.is_empty() {
                div.scroll { table #trend-changes {
                    thead { tr { th { "newest night " (t.newest().map(|n| n.date.to_string()).unwrap_or_default()) } th.num { "new peers" } th.num { "gone peers" } th.num { "regressions" } } }
                    tbody { @for c in &t.changes {
                        tr { td { (since(c)) } td.num { (c.new_peers.len()) } td.num { (c.gone_peers.len()) }
                             td.num { @if c.regressions.is_empty() { "0" } @else { span.warn { (c.regressions.len()) } } } }
                    } }
                } }
                @for c in &t.changes {
                    @if !(c.regressions.is_empty() && c.new_peers.is_empty() && c.gone_peers.is_empty()) {
                        div id={ "trend-since-" (c.nights_back) } {
                            h3 { "Changes " (since(c)) }
                            ul {
                                @for r in &c.regressions { li.warn { (r.peer) ": " (r.lost.as_str()) } }
                                @if !c.new_peers.is_empty() { li { "New: " (names(&c.new_peers)) } }
                                @if !c.gone_peers.is_empty() { li { "Gone: " (names(&c.gone_peers)) } }
                            }
                        }
                    }
                }
            }
            div.charts { @for c in charts { (super::html::chart_figure(c)) } }
        }
    }
}

/// The Markdown trend section (for `summary.md`).
pub fn markdown(t: &Trend) -> String {
    let mut s = format!("\n## Trend: {}\n\n", span(t));
    if let Some(n) = t.newest() {
        s.push_str(&format!(
            "Newest night {}: {}% of messages over TLS, {}% of sessions verified, {} with clear text, {}.\n\n",
            n.date,
            or_dash(share(n.tls_messages, n.messages())),
            or_dash(share(n.verified_sessions, n.sessions)),
            count(n.plaintext_peers, "peer", "peers"),
            count(n.local_error_count(), "local error", "local errors"),
        ));
    }
    if !t.changes.is_empty() {
        s.push_str("| since | new peers | gone peers | regressions |\n|---|---:|---:|---:|\n");
        for c in &t.changes {
            s.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                since(c),
                c.new_peers.len(),
                c.gone_peers.len(),
                c.regressions.len()
            ));
        }
        s.push('\n');
        for c in &t.changes {
            for r in &c.regressions {
                s.push_str(&format!(
                    "- **{}** {} ({})\n",
                    super::markdown::escape(&r.peer),
                    r.lost.as_str(),
                    since(c)
                ));
            }
        }
    }
    s.push_str("\nThe numbers per night are in `trend.csv`.\n");
    s
}

fn or_dash(s: String) -> String {
    if s.is_empty() { "–".to_owned() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::history::History;
    use crate::analysis::posture::{DirPosture, PeerPosture, Posture};
    use crate::model::{Summary, Verify};
    use chrono::NaiveDate;

    fn trend() -> Trend {
        let mut h = History::new();
        for (i, d) in ["2026-12-01", "2026-12-02"].iter().enumerate() {
            let mut p = Posture::default();
            let mut dir = DirPosture {
                tls_sessions: 3,
                tls_messages: 3,
                plaintext_messages: i as u64,
                ..DirPosture::default()
            };
            dir.verify.add_n(&Verify::Ok, 2);
            dir.verify.add_n(&Verify::No, 1);
            dir.versions.add_n(&TlsVersion::Tls1_3, 3);
            p.peers.insert(
                "a.example".into(),
                PeerPosture {
                    peer: "a.example".into(),
                    inbound: dir,
                    ..PeerPosture::default()
                },
            );
            let day = NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
            h.add(day, &["mx1".into()], &Summary::default(), &p);
        }
        h.finish()
    }

    #[test]
    fn csv_has_a_row_per_night_with_shares() {
        let text = csv(&trend()).unwrap();
        let rows: Vec<&str> = text.lines().collect();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0], COLUMNS.join(","));
        assert_eq!(
            rows[1],
            "2026-12-01,1,1,1,3,3,0,100.0,3,2,66.7,3,0,0,0,0,0,0,0,0,,,"
        );
        assert_eq!(
            rows[2],
            "2026-12-02,1,1,1,4,3,1,75.0,3,2,66.7,3,0,0,0,0,0,1,0,0,0,0,0"
        );
    }

    #[test]
    fn five_trend_charts_named_trend() {
        let c = charts(&trend()).unwrap();
        assert_eq!(c.len(), 5);
        assert!(c.iter().all(|c| c.name.starts_with("trend-")));
        assert!(
            c[0].alt.starts_with("85.7% over TLS of 7 messages"),
            "{}",
            c[0].alt
        );
    }
}
