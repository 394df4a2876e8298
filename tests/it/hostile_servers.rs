//! `mailtls check` against hostile servers on 127.0.0.1 (common::hostile): each scenario
//! ends with a clear verdict that names what cut it (the protocol limit, the per-read
//! timeout or the whole-check deadline), and (through the binary) in bounded memory. How
//! long each takes is measured, not asserted: benches/timing.rs.

use std::net::SocketAddr;

use mailtls::model::Verify;
use mailtls::probe::{self, CheckResult, Options, Status, StepKind, Target};

use crate::common::hostile::{
    endless_banner, endless_ehlo_reply, options, plaintext_after_starttls, reset_mid_handshake,
    serve, sixteen_megabyte_record, ten_thousand_continuations, trickled_ehlo_reply,
    trickled_handshake,
};
use crate::common::peak_rss;

fn check(addr: SocketAddr, opts: &Options) -> CheckResult {
    let target = Target {
        host: addr.ip().to_string(),
        port: addr.port(),
    };
    probe::check(&target, opts)
}

fn codes(r: &CheckResult) -> Vec<&'static str> {
    r.findings.iter().map(|f| f.code).collect()
}

fn failed_step(r: &CheckResult) -> Option<StepKind> {
    r.steps.iter().find(|s| !s.ok).map(|s| s.step)
}
#[test]
fn an_endless_banner_line_is_protocol_at_once() {
    let r = check(serve(endless_banner), &options());
    assert_eq!(r.verify, Some(Verify::Protocol), "{r:#?}");
    assert_eq!(r.status, Status::Fail);
    assert_eq!(failed_step(&r), Some(StepKind::Banner));
    assert!(codes(&r).contains(&"smtp_protocol"), "{r:#?}");
}

#[test]
fn ten_thousand_continuation_lines_are_protocol() {
    let r = check(serve(ten_thousand_continuations), &options());
    assert_eq!(r.verify, Some(Verify::Protocol), "{r:#?}");
    assert_eq!(failed_step(&r), Some(StepKind::Banner));
    let detail = &r.steps.iter().find(|s| !s.ok).unwrap().detail;
    assert!(detail.contains("more than"), "{detail}");
}

#[test]
fn an_endless_ehlo_reply_is_protocol() {
    let r = check(serve(endless_ehlo_reply), &options());
    assert_eq!(r.verify, Some(Verify::Protocol), "{r:#?}");
    assert_eq!(failed_step(&r), Some(StepKind::Ehlo));
}

#[test]
fn a_trickled_reply_that_never_ends_is_cut_by_the_deadline() {
    // Each byte arrives well inside the per-read timeout: only the whole-check deadline
    // can end this, and the verdict says it was a timeout.
    let r = check(serve(trickled_ehlo_reply), &options());
    assert_eq!(r.status, Status::Error, "{r:#?}");
    assert!(codes(&r).contains(&"timeout"), "{r:#?}");
    assert_eq!(failed_step(&r), Some(StepKind::Ehlo));
}

#[test]
fn a_trickled_handshake_is_cut_by_the_deadline() {
    let r = check(serve(trickled_handshake), &options());
    assert_eq!(r.verify, Some(Verify::Software), "{r:#?}");
    assert_eq!(failed_step(&r), Some(StepKind::Handshake));
    let detail = &r.steps.iter().find(|s| !s.ok).unwrap().detail;
    assert!(detail.contains("deadline"), "{detail}");
}

#[test]
fn a_sixteen_megabyte_handshake_message_is_refused() {
    let r = check(serve(sixteen_megabyte_record), &options());
    assert_eq!(r.verify, Some(Verify::Software), "{r:#?}");
    assert_eq!(failed_step(&r), Some(StepKind::Handshake));
    assert!(codes(&r).contains(&"handshake_failed"), "{r:#?}");
}

#[test]
fn a_sixteen_megabyte_handshake_message_is_refused_by_the_protocol_probe() {
    let mut o = options();
    o.protocols = true;
    let r = check(serve(sixteen_megabyte_record), &o);
    let protocols = r.protocols.as_ref().expect("protocols probed");
    assert_eq!(protocols.len(), 5, "{protocols:#?}");
    for p in protocols {
        // No TLS answer: not tested (issue 20), never "refused".
        assert_eq!(p.accepted, None, "{p:?}");
        assert!(p.detail.contains("not TLS"), "{p:?}");
    }
}

#[test]
fn a_reset_in_mid_handshake_is_software() {
    let r = check(serve(reset_mid_handshake), &options());
    assert_eq!(r.verify, Some(Verify::Software), "{r:#?}");
    assert_eq!(failed_step(&r), Some(StepKind::Handshake));
    let detail = &r.steps.iter().find(|s| !s.ok).unwrap().detail;
    assert!(
        detail.contains("reset") || detail.contains("closed"),
        "{detail}"
    );
}

#[test]
fn plaintext_after_a_220_to_starttls_is_software_not_a_pass() {
    let r = check(serve(plaintext_after_starttls), &options());
    assert_eq!(r.verify, Some(Verify::Software), "{r:#?}");
    assert_eq!(r.status, Status::Fail);
    assert_eq!(failed_step(&r), Some(StepKind::Handshake));
    assert!(r.tls.is_none());
}

/// Runs `mailtls check` on `addr`; returns its exit code, stdout and peak RSS (bytes).
fn binary_check_peak_rss(addr: SocketAddr, extra: &[&str]) -> (i32, String, u64) {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("stdout");
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("mailtls"));
    cmd.args(["check", "--timeout", "2", "--max-time", "4", "--json"])
        .args(extra)
        .arg(addr.to_string())
        .env("NO_COLOR", "1");
    let (status, peak) = peak_rss::run(&cmd, &out_path, None);
    let out = std::fs::read_to_string(&out_path).unwrap();
    (status.code().unwrap_or(-1), out, peak)
}

#[test]
fn floods_cost_the_binary_no_memory() {
    if !peak_rss::in_own_process("hostile_servers::floods_cost_the_binary_no_memory") {
        return;
    }
    // Baseline: a server that closes at once.
    let baseline_addr = serve(drop);
    let (_, _, baseline) = binary_check_peak_rss(baseline_addr, &[]);
    let cases: [(crate::common::hostile::Script, &[&str], &str); 4] = [
        (endless_banner, &[], "PROTOCOL"),
        (endless_ehlo_reply, &[], "PROTOCOL"),
        (sixteen_megabyte_record, &[], "SOFTWARE"),
        (sixteen_megabyte_record, &["--protocols"], "SOFTWARE"),
    ];
    for (script, extra, verify) in cases {
        let (code, out, peak) = binary_check_peak_rss(serve(script), extra);
        let doc: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
        assert_eq!(doc["results"][0]["verify"], verify, "{extra:?}: {out}");
        assert_eq!(code, 1, "{extra:?}: {out}");
        // The floods run to hundreds of MB in these seconds; the checker keeps at most a
        // line, a reply or a record of them.
        assert!(
            peak < baseline + 16 * 1024 * 1024,
            "{extra:?}: peak RSS {} MiB, baseline {} MiB",
            peak >> 20,
            baseline >> 20
        );
    }
}
