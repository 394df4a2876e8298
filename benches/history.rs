//! `mailtls report --history` on a year of a fleet: 365 nights × 50 hosts of generated
//! nightly snapshots (`benches/gen/nights.rs`, a few hundred peers each, as `scan --since
//! 24h --format json` writes them), timed with its peak RSS (GNU `time -f %M`), and the same
//! on 30 nights to show that memory does not grow with the nights.
//!
//! `cargo bench --bench history [-- --nights N --hosts H --peers P --keep DIR]`
//! (defaults 365, 50, 300). The snapshots go to a temporary folder (about 3 GB for the
//! defaults) removed at the end, unless `--keep DIR` names a folder to generate into (and
//! reuse: a folder that already holds the plan's last file is not generated again).
//! benches/README.md has the figures.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "gen/nights.rs"]
mod nights;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use chrono::NaiveDate;

fn arg(name: &str, default: u32) -> u32 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |v| v.parse().expect("a number"))
}

/// Runs `report --history dir` under GNU time: (wall seconds, peak RSS MiB, exit code).
fn timed(dir: &Path, out: &Path) -> (f64, f64, i32) {
    let rss = out.with_extension("rss");
    let t = Instant::now();
    let status = Command::new("/usr/bin/time")
        .args(["-f", "%M", "-o"])
        .arg(&rss)
        .arg(env!("CARGO_BIN_EXE_mailtls"))
        .args(["report", "-q", "--history"])
        .arg(dir)
        .arg("-o")
        .arg(out)
        .status()
        .expect("/usr/bin/time (Debian package `time`)");
    let wall = t.elapsed().as_secs_f64();
    let kib: f64 = std::fs::read_to_string(&rss)
        .unwrap()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .next_back()
        .expect("peak RSS");
    (wall, kib / 1024.0, status.code().unwrap_or(-1))
}

fn size_of(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}

fn main() {
    let (n, hosts, peers) = (
        arg("--nights", 365),
        arg("--hosts", 50),
        arg("--peers", 300),
    );
    let args: Vec<String> = std::env::args().collect();
    let keep = args
        .iter()
        .position(|a| a == "--keep")
        .and_then(|i| args.get(i + 1))
        .map(std::path::PathBuf::from);
    let tmp = tempfile::tempdir().unwrap();
    let base = keep.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    let first = NaiveDate::from_ymd_opt(2025, 12, 7).unwrap();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("history: {n} nights × {hosts} hosts × {peers} peers, {threads} cores");
    for nights in [n, n.min(30)] {
        let dir = base.join(format!("n{nights}-h{hosts}-p{peers}"));
        let last = dir.join(nights::file_name(
            hosts - 1,
            first + chrono::Duration::days((nights - 1).into()),
        ));
        if !last.exists() {
            std::fs::create_dir_all(&dir).unwrap();
            let t = Instant::now();
            let plan = nights::Plan {
                first,
                nights,
                hosts,
                peers_per_host: peers,
                rotate: 3,
                seed: 7,
            };
            nights::write(&dir, &plan, |_, _, _| {});
            println!(
                "  generated {nights} nights in {:.1} s",
                t.elapsed().as_secs_f64()
            );
        }
        let bytes = size_of(&dir);
        let out = base.join(format!("report-{nights}"));
        let (wall, rss, code) = timed(&dir, &out);
        let snaps = u64::from(nights) * u64::from(hosts);
        println!(
            "  {nights} nights × {hosts} hosts: {snaps} snapshots, {:.2} GB of JSON: {wall:.1} s wall ({:.0} MB/s, {:.0} snapshots/s), peak RSS {rss:.0} MiB, exit {code}",
            bytes as f64 / 1e9,
            bytes as f64 / 1e6 / wall,
            snaps as f64 / wall,
        );
        if keep.is_none() {
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }
}
