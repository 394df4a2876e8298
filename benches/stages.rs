//! The stages after parsing, on events from a generated log (benches/gen): correlation
//! (the one sequential step) and the posture fold and merge (the commutative monoid that
//! blocks and hosts combine with): `posture_add` folds into [`Posture`] itself (the
//! reference), `posture_fold` into the interned accumulator `scan` uses, then converts. Throughput is per event (ns/event) and per byte of the
//! log lines the events came from (MB/s of input the stage keeps up with).
//!
//! `cargo bench --bench stages`.

// A benchmark, not the product: it may unwrap (Cargo.toml's [lints]).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "gen/mod.rs"]
mod generator;

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use chrono::{FixedOffset, Offset, Utc};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use mailtls::analysis::posture::Posture;
use mailtls::analysis::posture_fold::PostureFold;
use mailtls::correlate::Correlator;
use mailtls::model::Event;
use mailtls::model::Record;
use mailtls::parse::envelope::{YearBase, YearResolver, Zone};
use mailtls::parse::{LineOutcome, parse_line};

/// Events of an 8 MiB generated log in log order (years resolved), and its size in bytes.
fn events() -> (Vec<Event>, u64) {
    let cfg = generator::Config {
        seed: 42,
        bytes: 8 << 20,
        ..generator::Config::default()
    };
    let mut buf = Vec::new();
    generator::write_log(&cfg, &mut buf).expect("in-memory write");
    let file: Arc<str> = Arc::from("bench");
    let utc: FixedOffset = Utc.fix();
    let mut years = YearResolver::new(YearBase::FirstYear(2026), Zone::Fixed(utc));
    let mut out = Vec::new();
    for (i, line) in buf.split(|&b| b == b'\n').enumerate() {
        if let LineOutcome::Event(mut ev) = parse_line(line, &file, i as u64 + 1) {
            ev.stamp = years.resolve(ev.stamp);
            out.push(ev);
        }
    }
    (out, buf.len() as u64)
}

fn correlate(events: Vec<Event>) -> Vec<Record> {
    let mut c = Correlator::new();
    let mut records = Vec::new();
    for ev in events {
        c.push(ev, &mut records);
    }
    c.finish(&mut records);
    records
}

fn bench(c: &mut Criterion) {
    let (events, bytes) = events();
    let mut g = c.benchmark_group("stage");
    g.sample_size(15)
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_secs(1));
    for (unit, tp) in [
        ("bytes", Throughput::Bytes(bytes)),
        ("events", Throughput::Elements(events.len() as u64)),
    ] {
        g.throughput(tp);
        g.bench_function(format!("correlate/{unit}"), |b| {
            b.iter_batched(
                || events.clone(),
                |evs| black_box(correlate(evs).len()),
                BatchSize::LargeInput,
            )
        });
    }
    let records = correlate(events.clone());
    for (unit, tp) in [
        ("bytes", Throughput::Bytes(bytes)),
        ("records", Throughput::Elements(records.len() as u64)),
    ] {
        g.throughput(tp);
        g.bench_function(format!("posture_add/{unit}"), |b| {
            b.iter(|| {
                let mut p = Posture::default();
                for r in &records {
                    p.add(black_box(r));
                }
                p.peers.len()
            })
        });
        g.bench_function(format!("posture_fold/{unit}"), |b| {
            b.iter(|| {
                let mut f = PostureFold::default();
                for r in &records {
                    f.add(black_box(r));
                }
                f.into_posture().peers.len()
            })
        });
    }
    // The steady state of a long log: every peer already known (the 8 MiB log is mostly
    // first sightings), the same records folded eight times over.
    g.throughput(Throughput::Elements(8 * records.len() as u64));
    g.bench_function("posture_add_known/records", |b| {
        b.iter(|| {
            let mut p = Posture::default();
            for _ in 0..8 {
                for r in &records {
                    p.add(black_box(r));
                }
            }
            p.peers.len()
        })
    });
    g.bench_function("posture_fold_known/records", |b| {
        b.iter(|| {
            let mut f = PostureFold::default();
            for _ in 0..8 {
                for r in &records {
                    f.add(black_box(r));
                }
            }
            f.into_posture().peers.len()
        })
    });
    // Sixteen partial postures (as sixteen blocks or hosts would give) merged into one.
    let parts: Vec<Posture> = records
        .chunks(records.len().div_ceil(16).max(1))
        .map(|chunk| {
            let mut p = Posture::default();
            chunk.iter().for_each(|r| p.add(r));
            p
        })
        .collect();
    let peers: u64 = parts.iter().map(|p| p.peers.len() as u64).sum();
    g.throughput(Throughput::Elements(peers));
    g.bench_function("posture_merge/peer_records", |b| {
        b.iter_batched(
            || parts.clone(),
            |parts| {
                let mut all = Posture::default();
                for p in parts {
                    all.merge(p);
                }
                black_box(all.peers.len())
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
