//! `mailtls scan -o DIR` through the real binary: the files are parsed (HTML with scraper,
//! SVG with roxmltree, PNG with png, CSV with csv, JSON with serde) and their content
//! asserted; log-derived markup must come out as text; policies and `--compare` are
//! judged through the exit code.

use std::fs;
use std::path::Path;
use std::process::Output;

use crate::common::stderr;
use mailtls::report::Snapshot;
use scraper::{Html, Selector};

fn mailtls(args: &[&str]) -> Output {
    crate::common::mailtls().args(args).output().unwrap()
}

fn sample_report(dir: &Path, extra: &[&str]) -> Output {
    let d = dir.to_str().unwrap();
    let mut args = vec![
        "scan",
        "sample-logs/maillog",
        "sample-logs/oldrelay",
        "sample-logs/relay2",
        "--year",
        "2026",
        "--utc",
        "--as-of",
        "2026-11-28",
        "--enforce-readiness",
        "-o",
        d,
    ];
    args.extend_from_slice(extra);
    mailtls(&args)
}

fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap()
}

fn text(doc: &Html, s: &str) -> Vec<String> {
    doc.select(&sel(s))
        .map(|e| {
            e.text()
                .collect::<Vec<_>>()
                .join(" ")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

#[test]
fn report_folder_has_every_file_with_the_right_content() {
    let tmp = tempfile::tempdir().unwrap();
    let out = sample_report(tmp.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        out.stdout.is_empty(),
        "with -o and no --format, stdout stays empty"
    );
    let dir = tmp.path();

    // index.html
    let html = fs::read_to_string(dir.join("index.html")).unwrap();
    let doc = Html::parse_document(&html);
    assert_eq!(text(&doc, "head > title"), ["mailtls TLS posture report"]);
    assert!(
        doc.select(&sel("script")).next().is_none(),
        "no script at all"
    );
    for (attr, s) in [("src", "[src]"), ("href", "[href]")] {
        for e in doc.select(&sel(s)) {
            let v = e.value().attr(attr).unwrap();
            assert!(
                v.starts_with("data:") || !v.contains(':'),
                "external asset {v}"
            );
        }
    }
    let cards = text(&doc, "#headline .card");
    assert_eq!(cards.len(), 6);
    assert_eq!(cards[0], "64 messages");
    assert_eq!(cards[1], "82.8% over TLS (11 in clear text)");
    assert_eq!(cards[2], "48.1% of 52 TLS sessions verified");
    assert_eq!(cards[3], "18 peers");
    // 20 error lines, 15 incidents: the five `ruleset=tls_server, arg1=SOFTWARE, …,
    // reject=` refusals of a failed handshake are that handshake's incident (issue 18).
    assert_eq!(cards[4], "15 TLS errors");
    // 10, not 12: one `nrcpts=0` rejected transaction is no message, and the clear-text
    // mail of mail-out.partner.example (in) went through our own server key outage (issue
    // 18: ours, not a peer_plaintext violation of the peer). The clear deliveries to
    // mx1.partner.example and mail.lists.example.org after our *client* key errors are the
    // peers' findings: Sendmail's client goes on with STARTTLS whatever is wrong with its
    // own files (the real client_key_* captures), so a clear delivery means the peer did
    // not offer it.
    // The built-in policy is not enforced (no --policy, no --fail-on-violations): the page
    // says findings, as the exit code 0 does.
    assert_eq!(cards[5], "10 findings of the built-in policy, not enforced");
    assert!(text(&doc, "#violations h2")[0].contains("not enforced"));
    assert_eq!(doc.select(&sel("#violations tbody tr")).count(), 10);

    // What broke: the private-key error with its example line, cause and fix.
    let pk = text(&doc, "#err-private_key");
    assert_eq!(pk.len(), 1);
    assert!(pk[0].contains("private_key ×2"), "{}", pk[0]);
    assert!(
        pk[0].contains("SSL_CTX_use_PrivateKey_file(/etc/mail/certs/servername-key.pem) failed")
    );
    assert!(pk[0].contains("-nodes"));
    assert!(pk[0].contains("2026-11-27 12:20:04 → 2026-11-27 12:36:22"));
    // mx.bank.example's `ruleset=tls_server, arg1=NONE, …, reject=` is `not_offered`
    // (issue 18: TLS required, STARTTLS not offered; was `policy`).
    for kind in ["not_offered", "handshake", "unsafe_file"] {
        assert_eq!(
            doc.select(&sel(&format!("#err-{kind}"))).count(),
            1,
            "{kind}"
        );
    }
    // The silent-downgrade window: inbound 12:02:10 → 12:48:21 with the partner's and the
    // list's clear-text messages; it closes at the 12:48:21 restart, which no key error
    // followed (issue 18: a clean daemon start is evidence that TLS is up). The client-side
    // key errors (12:14:09 unsafe, 12:36:22 not loaded) open no outbound window: Sendmail's
    // client goes on with STARTTLS without its key (the real client_key_* captures).
    let windows = text(&doc, "#broken table tbody tr");
    assert_eq!(windows.len(), 1, "{windows:?}");
    assert!(
        windows[0].starts_with("mail in 2026-11-27 12:02:10 2026-11-27 12:48:21 (46 min)"),
        "{}",
        windows[0]
    );
    assert!(windows[0].contains("mail-out.partner.example 12:12:32"));
    assert!(windows[0].contains("smtp.lists.example.org 12:33:42"));
    assert!(!windows[0].contains("mx1.partner.example"));

    // Peers table: one row per peer, worst grade first, a reason on every row.
    let rows: Vec<Vec<String>> = doc
        .select(&sel("#peers tbody tr"))
        .map(|tr| {
            tr.select(&sel("td"))
                .map(|td| td.text().collect::<String>())
                .collect()
        })
        .collect();
    assert_eq!(rows.len(), 18);
    let grade_of = |peer: &str| {
        rows.iter()
            .find(|r| r[1] == peer)
            .map(|r| r[0].clone())
            .unwrap()
    };
    assert_eq!(grade_of("mx.bigmail.example"), "A");
    assert_eq!(grade_of("198.51.100.7"), "F");
    assert_eq!(grade_of("fax.oldcorp.example"), "D");
    assert_eq!(grade_of("mx.customer.example"), "B");
    assert_eq!(rows[0][0], "F");
    assert_eq!(rows[rows.len() - 1][0], "A");
    assert!(rows.iter().all(|r| !r[7].is_empty()));

    // Readiness: safe peers get access-map and Postfix lines.
    let pre = text(&doc, "#readiness pre");
    assert!(
        pre[0].contains("TLS_Srv:mx.bigmail.example VERIFY:128"),
        "{pre:?}"
    );
    assert!(pre[1].contains("bigmail.example secure match=mx.bigmail.example"));
    assert!(!pre[0].contains("mx.nostarttls.example"));

    // Charts: five inline SVGs that scale, each parseable with its title, plus files.
    let svgs: Vec<_> = doc.select(&sel("#charts figure > svg")).collect();
    assert_eq!(svgs.len(), 5);
    assert_eq!(doc.select(&sel("#charts img")).count(), 0);
    let titles = [
        ("messages", "Messages over TLS and in clear text, per hour"),
        (
            "versions",
            "Protocol version share of TLS sessions, per hour",
        ),
        (
            "verify",
            "Certificate verification, top 12 peers by sessions",
        ),
        ("ciphers", "Cipher families of TLS sessions"),
        ("errors", "TLS errors by kind, per hour"),
    ];
    for (inline, (name, title)) in svgs.iter().zip(titles) {
        let svg = fs::read_to_string(dir.join(format!("charts/{name}.svg"))).unwrap();
        // The page's copy is the file's drawing, scaled: the file's viewBox, width 100%.
        let (root_tag, drawing) = svg.split_once('>').unwrap();
        let vb = root_tag
            .split("viewBox=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert_eq!(
            inline
                .value()
                .attr("viewbox")
                .or(inline.value().attr("viewBox")),
            Some(vb)
        );
        assert_eq!(inline.value().attr("width"), Some("100%"));
        let rects = |h: &str| h.matches("<rect").count();
        assert_eq!(rects(&inline.html()), rects(drawing), "{name}");
        assert!(inline.html().contains(&format!("<title>{title}")), "{name}");
        let xml = roxmltree::Document::parse(&svg).unwrap();
        let texts: Vec<&str> = xml
            .descendants()
            .filter(|n| n.has_tag_name("text"))
            .filter_map(|n| n.text().map(str::trim))
            .collect();
        assert!(
            texts.iter().any(|t| t.starts_with(title)),
            "{name}: {texts:?}"
        );
        assert!(
            xml.descendants().filter(|n| n.has_tag_name("rect")).count() > 5,
            "{name} has bars"
        );
        let png = png::Decoder::new(std::io::BufReader::new(
            fs::File::open(dir.join(format!("charts/{name}.png"))).unwrap(),
        ));
        let info = png.read_info().unwrap().info().clone();
        assert_eq!(info.width, mailtls::report::charts::WIDTH, "{name}");
        assert!(info.height >= 200, "{name}");
    }
    let svg = fs::read_to_string(dir.join("charts/verify.svg")).unwrap();
    let xml = roxmltree::Document::parse(&svg).unwrap();
    let texts: Vec<&str> = xml
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text().map(str::trim))
        .collect();
    for label in [
        "mx1.partner.example",
        "others (2 peers)",
        "verified (OK, TRUSTED)",
        "no STARTTLS (NONE)",
    ] {
        assert!(texts.contains(&label), "{label} in {texts:?}");
    }

    // posture.json is the snapshot.
    let snap: Snapshot =
        serde_json::from_str(&fs::read_to_string(dir.join("posture.json")).unwrap()).unwrap();
    assert_eq!(snap.schema, "mailtls.posture/2");
    assert_eq!(snap.posture.peers.len(), 18);

    // posture.csv: header, one row per peer and direction.
    let mut rdr = csv::Reader::from_path(dir.join("posture.csv")).unwrap();
    assert_eq!(
        rdr.headers().unwrap().iter().collect::<Vec<_>>(),
        mailtls::report::csv::COLUMNS
    );
    let recs: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    assert_eq!(recs.len(), 19, "mail.example.net has both directions");
    let fax = recs
        .iter()
        .find(|r| &r[0] == "fax.oldcorp.example")
        .unwrap();
    assert_eq!((&fax[1], &fax[2], &fax[4], &fax[5]), ("in", "D", "6", "5"));
    assert_eq!(&fax[12], "NO:6");

    // summary.md
    let md = fs::read_to_string(dir.join("summary.md")).unwrap();
    for h in [
        "# mailtls TLS posture report",
        "## Findings of the built-in policy (not enforced)",
        "## What broke",
        "## Silent downgrade windows",
        "## What breaks if we enforce TLS?",
        "## Peers, worst first",
    ] {
        assert!(md.lines().any(|l| l == h), "{h}");
    }
    assert!(md.contains("| 64 | 82.8% | 11 | 48.1% | 18 | 15 | 10 |"));
}

/// A relay name and error texts carrying markup, and a relay name that is a spreadsheet
/// formula: every output shows them as text.
#[test]
fn log_derived_markup_is_text_and_formulas_are_neutralised() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("xss.log");
    fs::write(&log, "\
2026-11-27T10:00:00+00:00 mx sm-mta[100]: 4ARA00X1000100: from=<a@b.example>, size=10, class=0, nrcpts=1, msgid=<1@b>, proto=ESMTP, daemon=MTA, relay=<script>alert(1)</script> [192.0.2.9]
2026-11-27T10:01:00+00:00 mx sm-mta[101]: STARTTLS=server, relay==cmd|' /C calc'!A0 [192.0.2.10], version=TLSv1.3, verify=NO, cipher=TLS_AES_256_GCM_SHA384, bits=256/256
2026-11-27T10:01:01+00:00 mx sm-mta[101]: 4ARA01X1000101: from=<a@c.example>, size=10, class=0, nrcpts=1, msgid=<2@c>, proto=ESMTPS, daemon=MTA, relay==cmd|' /C calc'!A0 [192.0.2.10]
2026-11-27T10:02:00+00:00 mx sm-mta[102]: STARTTLS=server, error: accept failed=-1, reason=no shared cipher <img src=x onerror=alert(2)>, SSL_error=1, errno=0, retry=-1, relay=<b>bold</b>.example [192.0.2.11]
2026-11-27T10:03:00+00:00 mx sm-mta[103]: STARTTLS=server: file /etc/mail/<i>k</i>.pem unsafe: Group readable file
").unwrap();
    let out_dir = tmp.path().join("r");
    let out = mailtls(&[
        "scan",
        log.to_str().unwrap(),
        "--as-of",
        "2026-11-28",
        "-o",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let html = fs::read_to_string(out_dir.join("index.html")).unwrap();
    let doc = Html::parse_document(&html);
    for tag in ["script", "img:not(figure img)", "b", "i"] {
        assert_eq!(
            doc.select(&sel(tag)).count(),
            0,
            "no <{tag}> element from a log"
        );
    }
    let peers = text(&doc, "#peers tbody tr td:nth-child(2)");
    assert!(
        peers.contains(&"<script>alert(1)</script>".to_owned()),
        "{peers:?}"
    );
    assert!(peers.contains(&"<b>bold</b>.example".to_owned()));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    let broken = text(&doc, "#err-handshake code.line");
    assert!(
        broken[0].contains("no shared cipher <img src=x onerror=alert(2)>"),
        "{broken:?}"
    );
    assert!(text(&doc, "#err-unsafe_file code.line")[0].contains("/etc/mail/<i>k</i>.pem"));
    // Charts embed peer names as text too (verify chart rows).
    let svg = fs::read_to_string(out_dir.join("charts/verify.svg")).unwrap();
    let xml = roxmltree::Document::parse(&svg).unwrap();
    assert!(xml.descendants().all(|n| !n.has_tag_name("script")));

    let md = fs::read_to_string(out_dir.join("summary.md")).unwrap();
    assert!(!md.contains("<script>") && !md.contains("<img") && !md.contains("<b>"));
    assert!(
        md.contains("&lt;script&gt;alert\\(1\\)&lt;/script&gt;")
            || md.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{md}"
    );

    let mut rdr = csv::Reader::from_path(out_dir.join("posture.csv")).unwrap();
    let recs: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    let formula = recs.iter().find(|r| r[0].contains("cmd")).unwrap();
    assert_eq!(&formula[0], "'=cmd|' /c calc'!a0");
    assert_eq!(&formula[17], "'=cmd|' /C calc'!A0");
    for r in &recs {
        for cell in r.iter() {
            assert!(!cell.starts_with(['=', '+', '-', '@']), "{cell}");
        }
    }
}

#[test]
fn policy_violations_exit_1_and_exceptions_excuse() {
    let tmp = tempfile::tempdir().unwrap();
    let strict = tmp.path().join("strict.toml");
    fs::write(&strict, "min_version = \"TLSv1.2\"\nmust_verify = [\"*.customer.example\"]\nmax_plaintext_percent = 100\nmax_peer_plaintext_percent = 100\n").unwrap();
    let base = [
        "scan",
        "sample-logs/maillog",
        "sample-logs/oldrelay",
        "sample-logs/relay2",
        "--year",
        "2026",
        "--utc",
        "--as-of",
        "2026-11-28",
        "--format",
        "json",
    ];
    let run = |policy: &Path, as_of: Option<&str>| {
        let mut a: Vec<&str> = base.to_vec();
        if let Some(d) = as_of {
            let i = a.iter().position(|x| *x == "--as-of").unwrap() + 1;
            a[i] = d;
        }
        a.extend(["--policy", policy.to_str().unwrap()]);
        mailtls(&a)
    };
    let out = run(&strict, None);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("mailtls: violation:"))
        .collect();
    assert_eq!(
        lines,
        [
            "mailtls: violation: min_version fax.oldcorp.example (in): TLSv1 in 2 of 6 sessions (minimum TLSv1.2)",
            "mailtls: violation: forbidden_cipher fax.oldcorp.example (in): forbidden cipher DES-CBC3-SHA (3DES) ×6",
            "mailtls: violation: forbidden_cipher mx.legacy.example (out): forbidden cipher RC4-MD5 (RC4) ×1",
            "mailtls: violation: must_verify mx.customer.example (out): must verify, but FAIL:2",
        ],
        "{err}"
    );
    // stdout still carries the JSON.
    let _: Snapshot = serde_json::from_slice(&out.stdout).unwrap();

    // Exceptions for exactly those, valid until the end of the year: clean, exit 0.
    let excused = tmp.path().join("excused.toml");
    fs::write(&excused, format!("{}\n[[exception]]\npeer = \"fax.oldcorp.example\"\nexpires = \"2026-12-31\"\nreason = \"fax gateway\"\n\n[[exception]]\npeer = \"mx.*.example\"\nrules = [\"forbidden_cipher\", \"must_verify\"]\nexpires = \"2026-12-31\"\n", fs::read_to_string(&strict).unwrap())).unwrap();
    let out = run(&excused, None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("violation"));
    // In January they have expired: violations again, and a warning each.
    let out = run(&excused, Some("2027-01-02"));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out).matches("mailtls: violation:").count(), 4);
    assert_eq!(stderr(&out).matches("expired on 2026-12-31").count(), 2);

    // An unusable policy is a usage error.
    let bad = tmp.path().join("bad.toml");
    fs::write(&bad, "min_version = \"TLSv7\"\n").unwrap();
    let out = run(&bad, None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("min_version 'TLSv7'"),
        "{}",
        stderr(&out)
    );
    // Without --policy the built-in one grades but never fails the run.
    let out = mailtls(&base);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn compare_reports_what_changed() {
    let tmp = tempfile::tempdir().unwrap();
    // Yesterday's report: only what was logged before 2026-11-27 (the old relay's day).
    let prev = tmp.path().join("prev");
    let out = mailtls(&[
        "scan",
        "sample-logs/maillog",
        "sample-logs/oldrelay",
        "sample-logs/relay2",
        "--year",
        "2026",
        "--utc",
        "--until",
        "2026-11-27",
        "-o",
        prev.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Make yesterday look better on two peers, as if they had since degraded.
    let path = prev.join("posture.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    for p in v["peers"].as_array_mut().unwrap() {
        if p["peer"] == "fax.oldcorp.example" {
            p["inbound"]["versions"] = serde_json::json!({"TLSv1.2": 4});
        }
        if p["peer"] == "mx.legacy.example" {
            p["outbound"]["verify"] = serde_json::json!({"OK": 1});
        }
    }
    fs::write(&path, serde_json::to_string(&v).unwrap()).unwrap();
    let now = tmp.path().join("now");
    let out = mailtls(&[
        "scan",
        "sample-logs/maillog",
        "sample-logs/oldrelay",
        "sample-logs/relay2",
        "--year",
        "2026",
        "--utc",
        "--compare",
        path.to_str().unwrap(),
        "--format",
        "md",
        "-o",
        now.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let md = String::from_utf8(out.stdout).unwrap();
    let section: Vec<&str> = md
        .split("## What changed since the previous report")
        .nth(1)
        .unwrap()
        .split("\n## ")
        .next()
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("* "))
        .collect();
    for want in [
        "* new peer mx.bigmail.example",
        "* new peer app1.internal.example",
        "* protocol downgrade: fax.oldcorp.example (in): TLSv1.2 → TLSv1",
        "* more clear text: mail-out.partner.example (in): 0% clear text → 10% clear text",
        "* verification downgrade: mx.legacy.example (out): 100% verified → 0% verified",
        "* new error kind private\\_key at local:mail ×2: SSL\\_CTX\\_use\\_PrivateKey\\_file(/etc/mail/certs/servername-key.pem) failed",
        "* new error kind not\\_offered at mx.bank.example out ×4: tls\\_server arg1=NONE reject=403 4.7.0 other side does not support STARTTLS",
    ] {
        assert!(section.contains(&want), "missing {want:?} in {section:#?}");
    }
    // mail.example.net verified everything both times (its NOT:1 is inbound).
    assert!(
        !section
            .iter()
            .any(|l| l.contains("downgrade: mail.example.net")),
        "{section:#?}"
    );
    assert!(
        !section
            .iter()
            .any(|l| l.contains("new peer mail-out.partner.example"))
    );
    let html = fs::read_to_string(now.join("index.html")).unwrap();
    let doc = Html::parse_document(&html);
    assert!(
        text(&doc, "#changes li")
            .iter()
            .any(|l| l == "Protocol downgrade: fax.oldcorp.example (in): TLSv1.2 → TLSv1")
    );

    // A file that is not a snapshot is a usage error.
    let out = mailtls(&["scan", "sample-logs/maillog", "--compare", "Cargo.toml"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn since_takes_durations_back_from_now() {
    let count = |since: &str| {
        let out = mailtls(&[
            "scan",
            "sample-logs/maillog",
            "sample-logs/oldrelay",
            "sample-logs/relay2",
            "--year",
            "2026",
            "--utc",
            "--format",
            "json",
            "--since",
            since,
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let s: Snapshot = serde_json::from_slice(&out.stdout).unwrap();
        s.posture.peers.len()
    };
    // The samples are from November 2026 or earlier than "now" on any machine running this.
    let days = (chrono::Utc::now().date_naive()
        - chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap())
    .num_days()
    .max(0)
        + 60;
    assert_eq!(count(&format!("{days}d")), 18);
    assert_eq!(count("1s"), 0);
}

/// Charts stay sensible with no data, one peer, and 10,000 peers.
#[test]
fn charts_for_empty_one_and_ten_thousand_peers() {
    let tmp = tempfile::tempdir().unwrap();
    let make_log = |name: &str, peers: usize| {
        // Issue 19: a log with no mail line at all is exit 2 now; "no data" is a log whose
        // only peer is on this machine (left out: zero peers, an empty-input banner).
        let mut s = String::from(
            "2026-11-27T09:00:00+00:00 mx CRON[1]: (root) CMD (true)\n\
             2026-11-27T09:00:01+00:00 mx sm-mta[9]: STARTTLS=server, relay=localhost [127.0.0.1], version=TLSv1.3, verify=NO, cipher=TLS_AES_256_GCM_SHA384, bits=256/256\n",
        );
        for i in 0..peers {
            let (a, b) = (i / 250, i % 250);
            s.push_str(&format!(
                "2026-11-27T{:02}:{:02}:00+00:00 mx sm-mta[{}]: STARTTLS=server, relay=p{i}.example [10.{a}.{b}.1], version=TLSv1.3, verify=NO, cipher=TLS_AES_256_GCM_SHA384, bits=256/256\n",
                10 + (i % 10), i % 60, 1000 + i
            ));
        }
        let p = tmp.path().join(name);
        fs::write(&p, s).unwrap();
        p
    };
    for (name, peers, rows) in [
        ("empty.log", 0, 0),
        ("one.log", 1, 1),
        ("many.log", 10_000, 13),
    ] {
        let log = make_log(name, peers);
        let out_dir = tmp.path().join(format!("r-{name}"));
        let out = mailtls(&[
            "scan",
            log.to_str().unwrap(),
            "-q",
            "-o",
            out_dir.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        for chart in ["messages", "versions", "verify", "ciphers", "errors"] {
            let svg = fs::read_to_string(out_dir.join(format!("charts/{chart}.svg"))).unwrap();
            let xml = roxmltree::Document::parse(&svg).unwrap();
            let texts: Vec<&str> = xml
                .descendants()
                .filter(|n| n.has_tag_name("text"))
                .filter_map(|n| n.text().map(str::trim))
                .collect();
            if peers == 0 {
                assert!(
                    texts.contains(&"no data in the logs read"),
                    "{name} {chart}"
                );
            }
            if chart == "verify" && peers > 0 {
                let labels = texts
                    .iter()
                    .filter(|t| t.ends_with(".example") || t.starts_with("others"))
                    .count();
                assert_eq!(labels, rows, "{name}: {texts:?}");
                if peers > 1 {
                    assert!(texts.contains(&"others (9988 peers)"));
                }
            }
        }
    }
}

/// The legend colour of each error kind in a report's errors chart.
fn error_legend(dir: &Path) -> Vec<(String, String)> {
    let svg = fs::read_to_string(dir.join("charts/errors.svg")).unwrap();
    let xml = roxmltree::Document::parse(&svg).unwrap();
    let nodes: Vec<roxmltree::Node> = xml.descendants().filter(|n| n.is_element()).collect();
    let mut out = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        let label = n.text().map(str::trim).unwrap_or("");
        // A legend entry: a swatch, then its label (the axis texts follow other elements).
        if n.has_tag_name("text")
            && i > 0
            && nodes[i - 1].has_tag_name("rect")
            && nodes[i - 1].attribute("width") == Some("14")
            && !label.is_empty()
        {
            let fill = nodes[i - 1].attribute("fill").unwrap().to_ascii_lowercase();
            out.push((label.to_owned(), fill));
        }
    }
    out
}

/// One colour per error kind in every report: the same kind keeps its colour whatever
/// other kinds a run saw, and the page's "What broke" shows the chart's colour.
#[test]
fn an_error_kind_has_one_colour_in_every_report_and_chart() {
    let tmp = tempfile::tempdir().unwrap();
    let mut legends = Vec::new();
    for (i, input) in [
        "sample-logs/maillog",
        "sample-logs/exim",
        "sample-logs/tlsrpt",
    ]
    .into_iter()
    .enumerate()
    {
        let dir = tmp.path().join(format!("r{i}"));
        let out = mailtls(&[
            "scan",
            input,
            "--year",
            "2026",
            "--utc",
            "-o",
            dir.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let legend = error_legend(&dir);
        assert!(!legend.is_empty(), "{input}");
        let html = Html::parse_document(&fs::read_to_string(dir.join("index.html")).unwrap());
        for (kind, fill) in &legend {
            let swatch: Vec<String> = html
                .select(&sel(&format!("#err-{kind} h3 .swatch")))
                .map(|e| e.value().attr("style").unwrap().to_ascii_lowercase())
                .collect();
            assert_eq!(swatch, [format!("background:{fill}")], "{input} {kind}");
        }
        legends.push(legend);
    }
    let colour_of = |kind: &str| -> Vec<String> {
        legends
            .iter()
            .filter_map(|l| l.iter().find(|(k, _)| k == kind).map(|(_, c)| c.clone()))
            .collect()
    };
    // handshake: in all three runs (one of four kinds, alone, one of three); unsafe_file
    // in two: each keeps its colour, and the two differ.
    let handshake = colour_of("handshake");
    assert_eq!(handshake.len(), 3);
    assert!(
        handshake.iter().all(|c| *c == handshake[0]),
        "{handshake:?}"
    );
    let unsafe_file = colour_of("unsafe_file");
    assert_eq!(unsafe_file.len(), 2);
    assert!(
        unsafe_file.iter().all(|c| *c == unsafe_file[0]),
        "{unsafe_file:?}"
    );
    assert_ne!(handshake[0], unsafe_file[0]);
}

/// A downgrade window that cost nothing (no clear-text message, no failed handshake) is
/// still listed, in the neutral style, not as an alarm; one that cost a message is an
/// alarm, and its count reads "1 message".
#[test]
fn a_window_without_clear_text_is_listed_quietly() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("maillog");
    fs::write(&log, "\
2026-11-28T09:00:00+00:00 mail sm-mta[700]: STARTTLS=server, error: SSL_CTX_use_PrivateKey_file(/etc/mail/tls/key.pem) failed
2026-11-28T09:20:00+00:00 mail sm-mta[720]: STARTTLS=server, relay=mx.partner.example [192.0.2.25], version=TLSv1.3, verify=NO, cipher=TLS_AES_256_GCM_SHA384, bits=256/256
2026-11-28T10:00:00+00:00 mail sm-mta[800]: STARTTLS=server, error: SSL_CTX_use_PrivateKey_file(/etc/mail/tls/key.pem) failed
2026-11-28T10:05:00+00:00 mail sm-mta[810]: 2ASAaa2b000810: from=<b@partner.example>, size=912, class=0, nrcpts=1, msgid=<9@partner.example>, proto=ESMTP, daemon=MTA, relay=mx.partner.example [192.0.2.25]
2026-11-28T10:20:00+00:00 mail sm-mta[820]: STARTTLS=server, relay=mx.partner.example [192.0.2.25], version=TLSv1.3, verify=NO, cipher=TLS_AES_256_GCM_SHA384, bits=256/256
").unwrap();
    let dir = tmp.path().join("r");
    let out = mailtls(&[
        "scan",
        log.to_str().unwrap(),
        "--as-of",
        "2026-11-28",
        "-o",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc = Html::parse_document(&fs::read_to_string(dir.join("index.html")).unwrap());
    let rows: Vec<_> = doc.select(&sel("#broken table tbody tr")).collect();
    assert_eq!(rows.len(), 2, "{:?}", text(&doc, "#broken table tbody tr"));
    let classes: Vec<&str> = rows
        .iter()
        .map(|r| r.value().attr("class").unwrap_or(""))
        .collect();
    assert_eq!(classes, ["quiet", ""]);
    let cost = text(&doc, "#err-private_key dd");
    let cost = cost.last().unwrap();
    assert!(
        cost.contains("TLS outage, no mail in clear text on mail in from 09:00:00")
            && cost.contains(": 0 messages in clear text"),
        "{cost}"
    );
    assert!(
        cost.contains("silent downgrade on mail in from 10:00:00")
            && cost.contains(": 1 message in clear text"),
        "{cost}"
    );
    // Only the costly one is in the alarm colour.
    assert_eq!(
        text(&doc, "#err-private_key dd span.warn"),
        ["silent downgrade"]
    );
    assert_eq!(text(&doc, "#err-private_key dd span.quiet").len(), 1);
    // And its length reads in minutes, never negative.
    assert!(text(&doc, "#broken table tbody tr")[0].contains("(20 min)"));
}
