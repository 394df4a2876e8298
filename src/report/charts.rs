//! The report's charts, drawn with plotters once per backend: SVG for the page (and
//! `charts/*.svg`), PNG for mail clients and tickets (`charts/*.png`).
//!
//! Text goes through plotters' `ab_glyph` renderer with DejaVu Sans embedded in the binary,
//! so charts look the same on every machine and need no system fonts or fontconfig. The
//! palette is Okabe–Ito (distinguishable with the common colour-vision deficiencies). Each
//! chart stays readable whatever the input: time axes re-bucket by range, peer charts show
//! the top N and fold the rest into "others", and an empty input gives a framed "no data"
//! chart rather than nothing.
//!
//! Charts are drawn [`WIDTH`] units wide and scaled by the page (an SVG `viewBox`, width
//! 100%): that width and the font sizes are chosen so that axis text stays about 12 px
//! or more both in a 760 px window (one chart per row, scaled up) and at 1280 px (two per
//! row, scaled down a little). Legends wrap instead of running off the edge.
//!
//! Every TLS error kind has one fixed colour ([`kind_colour`]), the same in every chart
//! and every report (and in the page's "What broke"), whatever kinds a run happens to see.

use std::collections::BTreeMap;
use std::sync::Once;

use chrono::{DateTime, FixedOffset, Offset, Utc};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::Report;
use crate::analysis::policy::family_of;
use crate::analysis::timeline::{BASE_SECS, Bucket};
use crate::model::text::count;
use crate::model::{Hist, TlsErrorKind, TlsVersion, Verify};

/// How many peers the per-peer chart shows before "others".
pub const TOP_PEERS: usize = 12;

/// The width every chart is drawn at (SVG user units, PNG pixels).
pub const WIDTH: u32 = 640;

/// Height of the charts over time.
pub(super) const TIME_HEIGHT: u32 = 340;

/// At most this many labels on a time axis (each up to "Nov 20 00:00" wide).
const MAX_TIME_LABELS: usize = 5;

/// Font sizes as given to plotters (its SVG text is this size / 1.24 in user units).
const TITLE_SIZE: f64 = 20.0;
const LEGEND_SIZE: f64 = 16.0;
const LABEL_SIZE: f64 = 16.0;

const FONT: &str = "sans-serif";
static DEJAVU: &[u8] = include_bytes!("fonts/DejaVuSans.ttf");

/// Okabe–Ito.
pub const BLUE: RGBColor = RGBColor(0x00, 0x72, 0xB2);
pub const VERMILLION: RGBColor = RGBColor(0xD5, 0x5E, 0x00);
pub const ORANGE: RGBColor = RGBColor(0xE6, 0x9F, 0x00);
pub const SKY: RGBColor = RGBColor(0x56, 0xB4, 0xE9);
pub const GREEN: RGBColor = RGBColor(0x00, 0x9E, 0x73);
pub const YELLOW: RGBColor = RGBColor(0xF0, 0xE4, 0x42);
pub const PURPLE: RGBColor = RGBColor(0xCC, 0x79, 0xA7);
pub const GREY: RGBColor = RGBColor(0x99, 0x99, 0x99);
const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
const GRID: RGBColor = RGBColor(0xDD, 0xDD, 0xDD);

/// The colour of a TLS error kind, fixed: the same kind has the same colour in every
/// chart of every report, whatever other kinds appear and in whatever order. The kinds on
/// our side ([`TlsErrorKind::side`]: keys, certificates, files, a peer rejecting our
/// certificate: ours to fix) are warm reds, oranges, pinks and browns; the kinds of a
/// peer are blues, greens, purples and greys. Most are from Kelly's 22 colours of maximum
/// contrast.
pub fn kind_colour(k: TlsErrorKind) -> RGBColor {
    match k {
        TlsErrorKind::PrivateKey => RGBColor(0xBE, 0x00, 0x32),
        TlsErrorKind::Certificate => RGBColor(0xE2, 0x58, 0x22),
        TlsErrorKind::CaLocations => RGBColor(0xF6, 0xA6, 0x00),
        TlsErrorKind::UnsafeFile => RGBColor(0x88, 0x2D, 0x17),
        TlsErrorKind::MissingFile => RGBColor(0xB3, 0x44, 0x6C),
        TlsErrorKind::CipherConfig => RGBColor(0xF9, 0x93, 0x79),
        TlsErrorKind::DhParams => RGBColor(0xC9, 0xB2, 0x6B),
        TlsErrorKind::CipherIgnored => RGBColor(0xF3, 0x84, 0x00),
        TlsErrorKind::Init => RGBColor(0x65, 0x45, 0x22),
        TlsErrorKind::Handshake => RGBColor(0x00, 0x67, 0xA5),
        TlsErrorKind::Io => RGBColor(0xA1, 0xCA, 0xF1),
        TlsErrorKind::CertVerify => RGBColor(0x87, 0x56, 0x92),
        TlsErrorKind::CertificateRejected => RGBColor(0xE6, 0x8F, 0xAC),
        TlsErrorKind::Policy => RGBColor(0x60, 0x4E, 0x97),
        TlsErrorKind::Library => RGBColor(0x82, 0x82, 0x88),
        TlsErrorKind::NotOffered => RGBColor(0x00, 0x88, 0x56),
        TlsErrorKind::Dane => RGBColor(0x2A, 0x9D, 0x8F),
        TlsErrorKind::Shutdown => RGBColor(0xB8, 0xC4, 0xD6),
        TlsErrorKind::Other => RGBColor(0x2B, 0x3D, 0x4F),
    }
}

/// A colour as CSS `#rrggbb`.
pub fn hex(c: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

/// One rendered chart.
#[derive(Debug, Clone)]
pub struct Chart {
    /// File stem: `charts/<name>.svg`, `charts/<name>.png`.
    pub name: &'static str,
    pub title: String,
    /// A sentence for `alt` text and for readers without images.
    pub alt: String,
    pub svg: String,
    pub png: Vec<u8>,
}

/// A series of a stacked chart.
pub(super) struct Series {
    pub(super) label: String,
    pub(super) colour: RGBColor,
    pub(super) values: Vec<f64>,
}

/// How a chart lays out its bars (the trend charts of [`super::trend`] draw nights on
/// the time layout).
pub(super) enum Layout {
    /// Vertical stacked bars over time buckets (`x_desc` names them under the axis).
    Time {
        x_labels: Vec<String>,
        x_desc: &'static str,
    },
    /// Horizontal stacked bars, one row per label.
    Rows { rows: Vec<String> },
}

/// What one chart draws.
pub(super) struct Spec {
    pub(super) name: &'static str,
    pub(super) title: String,
    pub(super) axis: String,
    pub(super) layout: Layout,
    pub(super) series: Vec<Series>,
    /// Values are shares summing to 100 per bucket.
    pub(super) percent: bool,
    pub(super) width: u32,
    pub(super) height: u32,
}

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is compiled in; a failure here would be a broken build artefact, and the
        // charts then simply lack text.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, DEJAVU);
    });
}

/// A chart that could not be drawn or encoded: which one, and what refused (plotters or
/// the PNG encoder).
#[derive(Debug, thiserror::Error)]
#[error("chart {chart}: {reason}")]
pub struct ChartError {
    pub chart: &'static str,
    pub reason: String,
}

fn draw<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, spec: &Spec) -> Result<(), ChartError> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| ChartError {
        chart: spec.name,
        reason: e.to_string(),
    };
    root.fill(&WHITE).map_err(err)?;
    let root = root.margin(8, 8, 12, 16);
    // Legend: swatches under the title, wrapped into as many rows as the width needs.
    let avail = root.dim_in_pixel().0 as i32;
    let legend_font = TextStyle::from((FONT, LEGEND_SIZE).into_font());
    let mut placed: Vec<(i32, i32, &Series)> = Vec::new();
    let (mut x, mut row) = (0i32, 0i32);
    for s in &spec.series {
        let w = root
            .estimate_text_size(&s.label, &legend_font)
            .map(|(w, _)| w as i32)
            .unwrap_or(8 * s.label.chars().count() as i32);
        let item = 14 + 5 + w;
        if x > 0 && x + item > avail {
            (x, row) = (0, row + 1);
        }
        placed.push((x, row, s));
        x += item + 22;
    }
    let rows = if spec.series.is_empty() { 0 } else { row + 1 };
    let (head, body) = root.split_vertically(34 + 22 * rows as u32 + 4);
    head.draw(&Text::new(
        spec.title.clone(),
        (0, 0),
        (FONT, TITLE_SIZE).into_font().color(&INK),
    ))
    .map_err(err)?;
    for (x, row, s) in placed {
        let y = 32 + 22 * row;
        head.draw(&Rectangle::new(
            [(x, y + 1), (x + 14, y + 15)],
            s.colour.filled(),
        ))
        .map_err(err)?;
        head.draw(&Text::new(
            s.label.clone(),
            (x + 19, y),
            (FONT, LEGEND_SIZE).into_font().color(&INK),
        ))
        .map_err(err)?;
    }
    let n = match &spec.layout {
        Layout::Time { x_labels, .. } => x_labels.len(),
        Layout::Rows { rows } => rows.len(),
    };
    let totals: Vec<f64> = (0..n)
        .map(|i| {
            spec.series
                .iter()
                .map(|s| s.values.get(i).copied().unwrap_or(0.0))
                .sum()
        })
        .collect();
    let max = if spec.percent {
        100.0
    } else {
        totals.iter().copied().fold(0.0, f64::max).max(1.0) * 1.08
    };
    if n == 0 || totals.iter().all(|t| *t == 0.0) {
        let (w, h) = body.dim_in_pixel();
        body.draw(&Rectangle::new(
            [(0, 0), (w as i32 - 1, h as i32 - 1)],
            GRID.stroke_width(1),
        ))
        .map_err(err)?;
        body.draw(&Text::new(
            "no data in the logs read".to_string(),
            (w as i32 / 2, h as i32 / 2),
            (FONT, LEGEND_SIZE)
                .into_font()
                .color(&GREY)
                .pos(Pos::new(HPos::Center, VPos::Center)),
        ))
        .map_err(err)?;
        return root.present().map_err(err);
    }
    let maxc = max.ceil();
    let x_ticks = if spec.percent {
        11
    } else {
        (maxc as usize + 1).clamp(2, 11)
    };
    let nf = n as f64;
    match &spec.layout {
        Layout::Time { x_labels, x_desc } => {
            let mut chart = ChartBuilder::on(&body)
                .x_label_area_size(46)
                .y_label_area_size(60)
                .build_cartesian_2d(0f64..nf, 0f64..maxc)
                .map_err(err)?;
            // Label a bucket start at most every `step` buckets, so labels never overlap.
            let step = n.div_ceil(MAX_TIME_LABELS).max(1);
            chart
                .configure_mesh()
                .disable_x_mesh()
                .light_line_style(WHITE)
                .bold_line_style(GRID)
                .y_desc(spec.axis.clone())
                .x_desc(*x_desc)
                .axis_desc_style((FONT, LABEL_SIZE))
                .label_style((FONT, LABEL_SIZE))
                .x_labels(n + 1)
                .y_labels(x_ticks)
                .x_label_formatter(&|x| {
                    let i = x.round() as usize;
                    if (x - x.round()).abs() < 1e-9 && i.is_multiple_of(step) {
                        x_labels.get(i).cloned().unwrap_or_default()
                    } else {
                        String::new()
                    }
                })
                .y_label_formatter(&|y| {
                    if spec.percent {
                        format!("{y:.0}%")
                    } else if (y - y.round()).abs() < 1e-9 {
                        format!("{y:.0}")
                    } else {
                        String::new()
                    }
                })
                .draw()
                .map_err(err)?;
            let pad = if n > 60 { 0.0 } else { 0.08 };
            let mut base = vec![0.0; n];
            for s in &spec.series {
                let rects: Vec<_> = (0..n)
                    .filter_map(|i| {
                        let v = s.values.get(i).copied().unwrap_or(0.0);
                        if v <= 0.0 {
                            return None;
                        }
                        let x = i as f64;
                        let r = Rectangle::new(
                            [(x + pad, base[i]), (x + 1.0 - pad, base[i] + v)],
                            s.colour.filled(),
                        );
                        base[i] += v;
                        Some(r)
                    })
                    .collect();
                chart.draw_series(rects).map_err(err)?;
            }
        }
        Layout::Rows { rows } => {
            // Row labels get at most 40% of the width; longer ones lose their start
            // ("…partner.example": the domain is what tells peers apart).
            let label_font = TextStyle::from((FONT, LABEL_SIZE).into_font());
            let width_of = |t: &str| {
                body.estimate_text_size(t, &label_font)
                    .map(|(w, _)| w)
                    .unwrap_or(8 * t.chars().count() as u32)
            };
            let most = body.dim_in_pixel().0 * 2 / 5;
            let rows: Vec<String> = rows
                .iter()
                .map(|r| {
                    let mut t = r.clone();
                    while width_of(&t) > most && t.chars().count() > 4 {
                        let rest: String = t
                            .chars()
                            .skip(if t.starts_with('…') { 2 } else { 1 })
                            .collect();
                        t = format!("…{rest}");
                    }
                    t
                })
                .collect();
            let longest = rows.iter().map(|r| width_of(r)).max().unwrap_or(40);
            let mut chart = ChartBuilder::on(&body)
                .x_label_area_size(46)
                .y_label_area_size((longest + 14).clamp(60, most + 14))
                .build_cartesian_2d(0f64..maxc, 0f64..nf)
                .map_err(err)?;
            chart
                .configure_mesh()
                .disable_y_mesh()
                .light_line_style(WHITE)
                .bold_line_style(GRID)
                .x_desc(spec.axis.clone())
                .axis_desc_style((FONT, LABEL_SIZE))
                .label_style((FONT, LABEL_SIZE))
                .y_labels(2)
                .y_label_formatter(&|_| String::new())
                .x_labels(x_ticks)
                .x_label_formatter(&|x| {
                    if (x - x.round()).abs() < 1e-9 {
                        format!("{x:.0}")
                    } else {
                        String::new()
                    }
                })
                .draw()
                .map_err(err)?;
            // Row 0 (the biggest) at the top.
            let top = |i: usize| nf - i as f64;
            let mut base = vec![0.0; n];
            for s in &spec.series {
                let rects: Vec<_> = (0..n)
                    .filter_map(|i| {
                        let v = s.values.get(i).copied().unwrap_or(0.0);
                        if v <= 0.0 {
                            return None;
                        }
                        let r = Rectangle::new(
                            [(base[i], top(i) - 0.15), (base[i] + v, top(i) - 0.85)],
                            s.colour.filled(),
                        );
                        base[i] += v;
                        Some(r)
                    })
                    .collect();
                chart.draw_series(rects).map_err(err)?;
            }
            // Row labels drawn by hand, so that every row is named whatever ticks plotters
            // would pick.
            let (bx, by) = body.get_base_pixel();
            let style = (FONT, LABEL_SIZE)
                .into_font()
                .color(&INK)
                .pos(Pos::new(HPos::Right, VPos::Center));
            for (i, label) in rows.iter().enumerate() {
                let (x, y) = chart.backend_coord(&(0.0, top(i) - 0.5));
                body.draw(&Text::new(
                    label.clone(),
                    (x - bx - 8, y - by),
                    style.clone(),
                ))
                .map_err(err)?;
            }
        }
    }
    root.present().map_err(err)
}

/// Draws `spec` as SVG and PNG.
pub(super) fn render(spec: &Spec, alt: String) -> Result<Chart, ChartError> {
    register_font();
    let mut svg = String::new();
    draw(
        SVGBackend::with_string(&mut svg, (spec.width, spec.height)).into_drawing_area(),
        spec,
    )?;
    let (w, h) = (spec.width, spec.height);
    let mut rgb = vec![0u8; (w * h * 3) as usize];
    draw(
        BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area(),
        spec,
    )?;
    let mut png = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut png, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let png_err = |e: png::EncodingError| ChartError {
            chart: spec.name,
            reason: e.to_string(),
        };
        let mut wr = enc.write_header().map_err(png_err)?;
        wr.write_image_data(&rgb).map_err(png_err)?;
    }
    Ok(Chart {
        name: spec.name,
        title: spec.title.clone(),
        alt,
        svg,
        png,
    })
}

fn bucket_label(start: i64, width: i64, tz: FixedOffset) -> String {
    let t = DateTime::from_timestamp(start, 0)
        .map(|t| t.with_timezone(&tz))
        .map(|t| {
            if width >= 24 * BASE_SECS {
                t.format("%Y-%m-%d").to_string()
            } else {
                t.format("%b %d %H:%M").to_string()
            }
        });
    t.unwrap_or_default()
}

fn width_words(width: i64) -> String {
    match width / BASE_SECS {
        1 => "hour".into(),
        24 => "day".into(),
        168 => "week".into(),
        h => format!("{h} hours"),
    }
}

/// Ranked keys: the largest `keep` by total, then everything else summed into "other".
fn top<K: Ord + Clone>(m: &BTreeMap<K, f64>, keep: usize) -> Vec<K> {
    let mut v: Vec<(&K, &f64)> = m.iter().collect();
    v.sort_by(|a, b| b.1.total_cmp(a.1).then_with(|| a.0.cmp(b.0)));
    v.into_iter().take(keep).map(|(k, _)| k.clone()).collect()
}

/// The time axis the time charts share: the timeline re-bucketed to a readable width, in
/// the zone of the first record.
struct TimeAxis {
    buckets: Vec<(i64, Bucket)>,
    /// One label per bucket (its start).
    x_labels: Vec<String>,
    /// The bucket width in words (`hour`, `day`, `6 hours`).
    per: String,
    /// `UTC` or `UTC+01:00`.
    zone: String,
}

impl TimeAxis {
    fn of(r: &Report) -> TimeAxis {
        let tz = r
            .snap
            .summary
            .counts
            .first_seen
            .map(|t| *t.offset())
            .unwrap_or_else(|| Utc.fix());
        let width = r.timeline.auto_width();
        let buckets = r.timeline.rebucket(width);
        let x_labels = buckets
            .iter()
            .map(|(t, _)| bucket_label(*t, width, tz))
            .collect();
        let zone = if tz.local_minus_utc() == 0 {
            "UTC".to_owned()
        } else {
            format!("UTC{tz}")
        };
        TimeAxis {
            buckets,
            x_labels,
            per: width_words(width),
            zone,
        }
    }

    fn layout(&self) -> Layout {
        Layout::Time {
            x_labels: self.x_labels.clone(),
            x_desc: "time (bucket start)",
        }
    }
}

/// Draws every chart of the report, in the page's order.
pub fn render_all(r: &Report) -> Result<Vec<Chart>, ChartError> {
    let axis = TimeAxis::of(r);
    Ok(vec![
        messages_chart(&axis)?,
        versions_chart(&axis)?,
        verify_chart(r)?,
        ciphers_chart(r)?,
        errors_chart(&axis)?,
    ])
}

/// 1. Messages over TLS and in clear text, per bucket.
fn messages_chart(axis: &TimeAxis) -> Result<Chart, ChartError> {
    let TimeAxis {
        buckets, per, zone, ..
    } = axis;
    let tls: Vec<f64> = buckets.iter().map(|(_, b)| b.tls_messages as f64).collect();
    let plain: Vec<f64> = buckets
        .iter()
        .map(|(_, b)| b.plaintext_messages as f64)
        .collect();
    let (ts, ps) = (tls.iter().sum::<f64>(), plain.iter().sum::<f64>());
    render(
        &Spec {
            name: "messages",
            title: format!("Messages over TLS and in clear text, per {per} ({zone})"),
            axis: "messages".into(),
            layout: axis.layout(),
            series: vec![
                Series {
                    label: "TLS".into(),
                    colour: BLUE,
                    values: tls,
                },
                Series {
                    label: "clear text".into(),
                    colour: VERMILLION,
                    values: plain,
                },
            ],
            percent: false,
            width: WIDTH,
            height: TIME_HEIGHT,
        },
        format!(
            "{} over TLS and {ps:.0} in clear text, per {per}",
            count(ts as u64, "message", "messages")
        ),
    )
}

/// The colour of a protocol: blues for current ones, warm colours for the deprecated.
pub(super) fn version_colour(v: &TlsVersion) -> RGBColor {
    match v {
        TlsVersion::Tls1_3 => BLUE,
        TlsVersion::Tls1_2 => SKY,
        TlsVersion::Legacy => GREY,
        TlsVersion::Tls1_1 => ORANGE,
        TlsVersion::Tls1_0 => VERMILLION,
        TlsVersion::Ssl3 | TlsVersion::Ssl2 => PURPLE,
        TlsVersion::Other(_) => YELLOW,
    }
}

/// 2. Protocol version share of the TLS sessions, per bucket.
fn versions_chart(axis: &TimeAxis) -> Result<Chart, ChartError> {
    let TimeAxis { buckets, per, .. } = axis;
    let mut vtot: Hist<TlsVersion> = Hist::default();
    for (_, b) in buckets {
        vtot.merge_ref(&b.versions);
    }
    let mut labels: Vec<TlsVersion> = vtot.keys().cloned().collect();
    // Newest protocol first (TLSv1.3, TLSv1.2, …), then labels without a known order.
    labels.sort_by_key(|l| {
        std::cmp::Reverse(crate::analysis::policy::version_rank(l).map_or(-1, i32::from))
    });
    let series: Vec<Series> = labels
        .iter()
        .map(|l| Series {
            label: if *l == TlsVersion::Legacy {
                format!("{l} (Sendmail ≤ 8.14: protocol not logged)")
            } else {
                l.to_string()
            },
            colour: version_colour(l),
            values: buckets
                .iter()
                .map(|(_, b)| {
                    let all = b.versions.total();
                    if all == 0 {
                        0.0
                    } else {
                        100.0 * b.versions.get(l) as f64 / all as f64
                    }
                })
                .collect(),
        })
        .collect();
    render(
        &Spec {
            name: "versions",
            title: format!("Protocol version share of TLS sessions, per {per}"),
            axis: "share of sessions".into(),
            layout: axis.layout(),
            series,
            percent: true,
            width: WIDTH,
            height: TIME_HEIGHT,
        },
        format!(
            "Sessions by protocol: {}",
            vtot.iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
}

/// The verify chart's groups, in its legend's order.
const VERIFY_GROUPS: [(&str, RGBColor); 5] = [
    ("verified (OK, TRUSTED)", BLUE),
    ("not checked (NO, NOT)", SKY),
    ("failed (FAIL)", ORANGE),
    ("no STARTTLS (NONE)", PURPLE),
    ("handshake failed", VERMILLION),
];

/// The index in [`VERIFY_GROUPS`] of a verify word.
fn verify_group(v: &Verify) -> usize {
    match v {
        Verify::Ok | Verify::Trusted => 0,
        Verify::No | Verify::Not => 1,
        Verify::Fail | Verify::DaneFail => 2,
        Verify::None => 3,
        _ if v.is_tls_failure() => 4,
        _ => 1,
    }
}

/// Per peer, its sessions and policy verdicts by [`VERIFY_GROUPS`]; peers with none left
/// out.
fn verify_rows(r: &Report) -> BTreeMap<String, [f64; 5]> {
    let mut per_peer = BTreeMap::new();
    for (k, p) in &r.snap.posture.peers {
        let mut row = [0.0; 5];
        for d in [&p.inbound, &p.outbound] {
            // Sessions and policy verdicts (the chart's axis), now kept apart in posture.
            for (v, n) in &d.outcomes() {
                row[verify_group(v)] += n as f64;
            }
        }
        if row.iter().sum::<f64>() > 0.0 {
            per_peer.insert(k.clone(), row);
        }
    }
    per_peer
}

/// 3. Verify outcomes for the top peers by sessions, the rest summed as "others".
fn verify_chart(r: &Report) -> Result<Chart, ChartError> {
    let per_peer = verify_rows(r);
    let totals: BTreeMap<String, f64> = per_peer
        .iter()
        .map(|(k, v)| (k.clone(), v.iter().sum()))
        .collect();
    let mut rows = top(&totals, TOP_PEERS);
    let mut data: Vec<[f64; 5]> = rows.iter().map(|k| per_peer[k]).collect();
    let rest = per_peer.len().saturating_sub(rows.len());
    if rest > 0 {
        let mut sum = [0.0; 5];
        for (k, v) in &per_peer {
            if !rows.contains(k) {
                for (s, x) in sum.iter_mut().zip(v) {
                    *s += x;
                }
            }
        }
        rows.push(format!(
            "others ({})",
            crate::model::text::count(rest as u64, "peer", "peers")
        ));
        data.push(sum);
    }
    let nrows = rows.len().max(1) as u32;
    render(
        &Spec {
            name: "verify",
            title: format!(
                "Certificate verification, top {} by sessions",
                count(rows.len().min(TOP_PEERS) as u64, "peer", "peers")
            ),
            axis: "sessions and policy verdicts".into(),
            layout: Layout::Rows { rows: rows.clone() },
            series: VERIFY_GROUPS
                .iter()
                .enumerate()
                .map(|(g, (label, colour))| Series {
                    label: (*label).into(),
                    colour: *colour,
                    values: data.iter().map(|row| row[g]).collect(),
                })
                .collect(),
            percent: false,
            width: WIDTH,
            height: 170 + 30 * nrows,
        },
        format!(
            "Verify outcomes for {}",
            count(per_peer.len() as u64, "peer", "peers")
        ),
    )
}

/// 4. Sessions by cipher family, split by what the policy forbids.
fn ciphers_chart(r: &Report) -> Result<Chart, ChartError> {
    // By the family's name: the rows and their ties are ordered by it.
    let mut fam: BTreeMap<&'static str, f64> = BTreeMap::new();
    for p in r.snap.posture.peers.values() {
        for d in [&p.inbound, &p.outbound] {
            for (c, n) in &d.ciphers {
                *fam.entry(family_of(c).policy_name()).or_default() += n as f64;
            }
        }
    }
    let fams = top(&fam, 20);
    let forbidden = |f: &str| {
        r.policy
            .forbidden_ciphers
            .iter()
            .any(|x| x.policy_name() == f)
    };
    render(
        &Spec {
            name: "ciphers",
            title: "Cipher families of TLS sessions".into(),
            axis: "sessions".into(),
            layout: Layout::Rows {
                rows: fams.iter().map(|f| (*f).to_owned()).collect(),
            },
            series: vec![
                Series {
                    label: "allowed by policy".into(),
                    colour: BLUE,
                    values: fams
                        .iter()
                        .map(|f| if forbidden(f) { 0.0 } else { fam[*f] })
                        .collect(),
                },
                Series {
                    label: "forbidden by policy".into(),
                    colour: VERMILLION,
                    values: fams
                        .iter()
                        .map(|f| if forbidden(f) { fam[*f] } else { 0.0 })
                        .collect(),
                },
            ],
            percent: false,
            width: WIDTH,
            height: 150 + 30 * fams.len().max(1) as u32,
        },
        format!(
            "Sessions by cipher family: {}",
            fams.iter()
                .map(|f| format!("{f} {:.0}", fam[*f]))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
}

/// 5. TLS errors over time by kind (the most frequent kinds, each in its one colour).
fn errors_chart(axis: &TimeAxis) -> Result<Chart, ChartError> {
    let TimeAxis { buckets, per, .. } = axis;
    let mut kinds: BTreeMap<TlsErrorKind, f64> = BTreeMap::new();
    for (_, b) in buckets {
        for (k, n) in &b.errors {
            *kinds.entry(*k).or_default() += *n as f64;
        }
    }
    // Every kind seen, most frequent first, each in its own fixed colour.
    let series = top(&kinds, kinds.len())
        .into_iter()
        .map(|k| Series {
            label: k.as_str().to_owned(),
            colour: kind_colour(k),
            values: buckets
                .iter()
                .map(|(_, b)| b.errors.get(&k).copied().unwrap_or(0) as f64)
                .collect(),
        })
        .collect();
    render(
        &Spec {
            name: "errors",
            title: format!("TLS errors by kind, per {per}"),
            axis: "errors".into(),
            layout: axis.layout(),
            series,
            percent: false,
            width: WIDTH,
            height: TIME_HEIGHT,
        },
        format!(
            "Errors: {}",
            if kinds.is_empty() {
                "none".to_owned()
            } else {
                kinds
                    .iter()
                    .map(|(k, v)| format!("{k} {v:.0}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const KINDS: [TlsErrorKind; 19] = TlsErrorKind::ALL;

    #[test]
    fn every_error_kind_has_its_own_colour_warm_for_our_side() {
        let colours: Vec<String> = KINDS.iter().map(|k| hex(kind_colour(*k))).collect();
        let mut distinct = colours.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), KINDS.len(), "{colours:?}");
        // Not white nor the chart's ink or grid: a swatch must show on the page.
        for c in &colours {
            assert!(
                !["#ffffff", "#222222", "#dddddd"].contains(&c.as_str()),
                "{c}"
            );
        }
        // Our side's kinds are warm (more red than blue), the peers' are not.
        for k in KINDS {
            let c = kind_colour(k);
            let ours = k.side() == crate::model::Side::Ours;
            assert_eq!(ours, c.0 > c.2, "{k:?} {}", hex(c));
        }
        assert_eq!(hex(kind_colour(TlsErrorKind::PrivateKey)), "#be0032");
    }
}
