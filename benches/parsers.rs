//! Parser throughput on generated lines (benches/gen): the syslog envelope, each MTA's
//! line parser, and the `Received:` parser. Each benchmark runs once with
//! `Throughput::Bytes` (MB/s) and once with `Throughput::Elements` (lines/s, i.e. ns/line).
//!
//! `cargo bench --bench parsers` (add `-- envelope` to run one group).

// A benchmark, not the product: it may unwrap (Cargo.toml's [lints]).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "gen/mod.rs"]
mod generator;

use std::hint::black_box;
use std::time::Duration;

use criterion::{
    BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main, measurement::WallTime,
};
use mailtls::model::Mta;
use mailtls::parse::{
    envelope, exim, mta_for_program, parse_line, postfix, prefilter, received, sendmail,
};

/// The lines of a 4 MiB generated log (the default mix).
fn lines() -> Vec<String> {
    let cfg = generator::Config {
        seed: 42,
        bytes: 4 << 20,
        ..generator::Config::default()
    };
    let mut buf = Vec::new();
    generator::write_log(&cfg, &mut buf).expect("in-memory write");
    String::from_utf8(buf)
        .expect("generator writes UTF-8")
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Message texts (after the envelope) of the lines whose program belongs to `mta`.
fn messages_of(lines: &[String], mta: Mta) -> Vec<(Option<String>, String)> {
    lines
        .iter()
        .filter_map(|l| {
            let env = envelope::parse(l);
            (mta_for_program(env.program) == Some(mta))
                .then(|| (env.program.map(str::to_owned), env.message.to_owned()))
        })
        .collect()
}

fn run<T>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    items: &[T],
    bytes: u64,
    f: impl Fn(&T) -> usize,
) {
    for (unit, tp) in [
        ("bytes", Throughput::Bytes(bytes)),
        ("lines", Throughput::Elements(items.len() as u64)),
    ] {
        g.throughput(tp);
        g.bench_function(format!("{name}/{unit}"), |b| {
            b.iter(|| items.iter().map(|x| f(black_box(x))).sum::<usize>())
        });
    }
}

fn config(c: &mut Criterion) -> BenchmarkGroup<'_, WallTime> {
    let mut g = c.benchmark_group("parse");
    g.sample_size(15)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    g
}

fn bench_parsers(c: &mut Criterion) {
    let lines = lines();
    let bytes: u64 = lines.iter().map(|l| l.len() as u64 + 1).sum();
    let mut g = config(c);
    run(&mut g, "envelope", &lines, bytes, |l| {
        let e = envelope::parse(l);
        e.message.len() + usize::from(e.pid.is_some())
    });
    let file: std::sync::Arc<str> = std::sync::Arc::from("bench");
    run(&mut g, "whole_line", &lines, bytes, |l| {
        match parse_line(l.as_bytes(), &file, 1) {
            mailtls::parse::LineOutcome::Event(_) => 1,
            _ => 0,
        }
    });
    let sm = messages_of(&lines, Mta::Sendmail);
    let sm_bytes = sm.iter().map(|(_, m)| m.len() as u64).sum();
    run(&mut g, "sendmail", &sm, sm_bytes, |(_, m)| {
        usize::from(matches!(
            sendmail::parse(m),
            mailtls::parse::Parsed::Event(_)
        ))
    });
    let pf = messages_of(&lines, Mta::Postfix);
    let pf_bytes = pf.iter().map(|(_, m)| m.len() as u64).sum();
    run(&mut g, "postfix", &pf, pf_bytes, |(p, m)| {
        usize::from(matches!(
            postfix::parse_program(p.as_deref(), m),
            mailtls::parse::Parsed::Event(_)
        ))
    });
    let ex = messages_of(&lines, Mta::Exim);
    let ex_bytes = ex.iter().map(|(_, m)| m.len() as u64).sum();
    run(&mut g, "exim", &ex, ex_bytes, |(_, m)| {
        usize::from(matches!(exim::parse(m), mailtls::parse::Parsed::Event(_)))
    });
    run(&mut g, "prefilter", &lines, bytes, |l| {
        usize::from(prefilter::may_matter(l.as_bytes()))
    });
    g.finish();
}

fn bench_received(c: &mut Criterion) {
    let cfg = generator::Config {
        seed: 42,
        bytes: 2 << 20,
        ..generator::Config::default()
    };
    let mut buf = Vec::new();
    generator::write_mbox(&cfg, &mut buf).expect("in-memory write");
    // Every unfolded Received: value of the mbox.
    let mut values = Vec::new();
    let text = String::from_utf8(buf).expect("UTF-8");
    let mut cur: Option<String> = None;
    for line in text.lines() {
        if let Some(c) = cur.as_mut() {
            if line.starts_with([' ', '\t']) {
                c.push(' ');
                c.push_str(line.trim());
                continue;
            }
            values.push(cur.take().unwrap_or_default());
        }
        if let Some(v) = line.strip_prefix("Received: ") {
            cur = Some(v.to_owned());
        }
    }
    let bytes = values.iter().map(|v| v.len() as u64).sum();
    let mut g = config(c);
    run(&mut g, "received", &values, bytes, |v| {
        usize::from(received::parse(v).is_ok())
    });
    g.finish();
}

criterion_group!(benches, bench_parsers, bench_received);
criterion_main!(benches);
