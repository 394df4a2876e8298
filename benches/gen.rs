//! `gen`: writes a deterministic, realistic mixed mail log (and optionally an mbox) of any
//! size and prints what mailtls must find in it as JSON on stdout.
//!
//! ```text
//! cargo run --release --example gen -- --log /tmp/mix.log --size 1G
//! cargo run --release --example gen -- --log pf.log --size 100M --mix 0,100,0
//! cargo run --release --example gen -- --mbox /tmp/big.mbox --size 1G
//! ```
//!
//! Flags: `--seed N` (default 7), `--size N[K|M|G]` (bytes, default 10M), `--mix S,P,E`
//! (relative weights of Sendmail, Postfix and Exim sessions, default 45,40,15), `--peers N`
//! (default 2000), `--days N` (span of the timestamps, default 5), `--log PATH` and/or
//! `--mbox PATH` (`-` for stdout; then the JSON goes to stderr).

// A benchmark, not the product: it may unwrap (Cargo.toml's [lints]).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "gen/mod.rs"]
mod generator;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

fn size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, mult) = match s.chars().last()? {
        'k' | 'K' => (&s[..s.len() - 1], 1u64 << 10),
        'm' | 'M' => (&s[..s.len() - 1], 1 << 20),
        'g' | 'G' => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    let v: f64 = num.parse().ok()?;
    (v >= 0.0).then_some((v * mult as f64) as u64)
}

fn open(path: &str) -> io::Result<Box<dyn Write>> {
    Ok(if path == "-" {
        Box::new(BufWriter::with_capacity(1 << 20, io::stdout().lock()))
    } else {
        Box::new(BufWriter::with_capacity(1 << 20, File::create(path)?))
    })
}

fn main() -> ExitCode {
    let mut cfg = generator::Config::default();
    let (mut log, mut mbox) = (None, None);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let v = args.next();
        let ok = match (a.as_str(), v.as_deref()) {
            ("--seed", Some(v)) => v.parse().map(|n| cfg.seed = n).is_ok(),
            ("--size", Some(v)) => size(v).map(|n| cfg.bytes = n).is_some(),
            ("--peers", Some(v)) => v.parse().map(|n| cfg.peers = n).is_ok(),
            ("--days", Some(v)) => v.parse().map(|n| cfg.days = n).is_ok(),
            ("--mix", Some(v)) => {
                let w: Vec<u32> = v.split(',').filter_map(|x| x.trim().parse().ok()).collect();
                match w.as_slice() {
                    [s, p, e] if s + p + e > 0 => {
                        cfg.mix = [*s, *p, *e];
                        true
                    }
                    _ => false,
                }
            }
            ("--log", Some(v)) => {
                log = Some(v.to_owned());
                true
            }
            ("--mbox", Some(v)) => {
                mbox = Some(v.to_owned());
                true
            }
            _ => false,
        };
        if !ok {
            eprintln!("gen: bad argument {a} {}", v.unwrap_or_default());
            eprintln!(
                "usage: gen [--seed N] [--size N[K|M|G]] [--mix S,P,E] [--peers N] [--days N] [--log PATH] [--mbox PATH]"
            );
            return ExitCode::from(2);
        }
    }
    if log.is_none() && mbox.is_none() {
        log = Some("-".to_owned());
    }
    let to_stdout = log.as_deref() == Some("-") || mbox.as_deref() == Some("-");
    let mut report = serde_json::Map::new();
    let result = (|| -> io::Result<()> {
        if let Some(p) = &log {
            let e = generator::write_log(&cfg, open(p)?)?;
            report.insert(
                "log".into(),
                serde_json::to_value(e).map_err(io::Error::other)?,
            );
        }
        if let Some(p) = &mbox {
            let e = generator::write_mbox(&cfg, open(p)?)?;
            report.insert(
                "mbox".into(),
                serde_json::to_value(e).map_err(io::Error::other)?,
            );
        }
        Ok(())
    })();
    if let Err(e) = result {
        eprintln!("gen: {e}");
        return ExitCode::from(2);
    }
    let text = serde_json::to_string_pretty(&report).unwrap_or_default();
    if to_stdout {
        eprintln!("{text}");
    } else {
        println!("{text}");
    }
    ExitCode::SUCCESS
}
