//! The integration tests of mailtls: one test crate, so the library and its dependencies
//! are linked once instead of once per file. Each module is one subject (the old
//! `tests/<name>.rs`); `common` holds what several of them share (running the binary,
//! the follow harness, the SMTP/DNS/TLS servers on 127.0.0.1, the setup trees).
//! Run one subject with `cargo test --test it <name>::`.

// Tests and benches fail loudly by design; Cargo.toml's [lints] deny these in the library
// and the binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

mod bad_input;
mod browser;
mod check;
mod cli_check;
mod correlate;
mod correlate_mta;
mod docs_engines;
mod domain_check;
mod events_cli;
mod example_report;
mod faults;
mod fleet;
mod fleet_merge;
mod follow;
mod fuzz_regressions;
mod generated;
mod history_cli;
mod hostile_servers;
mod inputs_cli;
mod journald_cli;
mod layout;
mod memory_bounds;
mod merge_cli;
mod output_safety;
mod pipeline_blocks;
mod posture;
mod protocols;
mod real_fixtures;
mod report_dir;
mod rotated_year;
mod scan_messages;
mod scan_samples;
mod scan_samples_mta;
mod setup_certs;
mod setup_config;
mod setup_doctor;
mod setup_exim;
mod setup_files;
mod tlsrpt_cli;
mod triage_cli;
mod triage_scope;
mod truth_hosts;
mod truth_lines;
mod truth_messages;
mod truth_windows;
mod unparsed_cli;
mod ux_cli;
