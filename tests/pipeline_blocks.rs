//! Cutting the input into blocks at any size gives the same posture and the same counts:
//! parallel parsing never changes the answer.

// A test: failing loudly is its job (Cargo.toml's [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use chrono::{FixedOffset, Offset, Utc};
use mailtls::analysis::posture::Posture;
use mailtls::input;
use mailtls::parse::envelope::Zone;
use mailtls::pipeline::{self, Options};

fn run(block_size: usize) -> (Posture, mailtls::model::Summary) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample-logs");
    let (sources, errors) = input::discover(&[dir]);
    assert!(errors.is_empty(), "{errors:?}");
    let utc: FixedOffset = Utc.fix();
    let opts = Options {
        year: Some(2026),
        zone: Zone::Fixed(utc),
        block_size,
        ..Options::default()
    };
    let mut posture = Posture::default();
    let report = pipeline::run(&sources, &opts, |r| posture.add(&r));
    (posture, report.summary)
}

#[test]
fn block_size_does_not_change_the_result() {
    let (reference, summary) = run(input::DEFAULT_BLOCK_SIZE);
    assert!(summary.lines_recognized > 200);
    assert!(reference.peers.len() > 15);
    for bs in [17, 100, 333, 4096] {
        let (p, s) = run(bs);
        assert_eq!(s, summary, "summary with block size {bs}");
        assert_eq!(p, reference, "posture with block size {bs}");
    }
}
