//! `summary.md` (and `scan --format md`): the short report a nightly job mails.
//!
//! Plain enough to read as text in a mail client, valid Markdown for a wiki or ticket.
//! Every log-derived string goes through [`escape`]: Markdown punctuation is
//! backslash-escaped and `<`, `>`, `&` become entities, so a relay name like
//! `<script>alert(1)</script>` stays text in any renderer.

use std::fmt::Write as _;

use super::{Report, percent};

/// Escapes a log-derived string for Markdown (inline text or a table cell).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '#' => {
                out.push('\\');
                out.push(c);
            }
            c if crate::model::text::is_unsafe(c) => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn when(t: Option<chrono::DateTime<chrono::FixedOffset>>) -> String {
    t.map_or("–".to_owned(), |t| {
        t.format("%Y-%m-%d %H:%M:%S").to_string()
    })
}

/// The Markdown summary.
pub fn render(r: &Report) -> String {
    let mut o = String::new();
    let h = r.headline();
    let s = &r.snap.summary.counts;
    let _ = writeln!(o, "# mailtls TLS posture report\n");
    let _ = writeln!(
        o,
        "Logs from {} to {}; {}, {} read; policy: {}.{}\n",
        when(s.first_seen),
        when(s.last_seen),
        crate::model::text::count(s.files, "file", "files"),
        crate::model::text::count(s.lines_read, "line", "lines"),
        escape(&r.policy_source),
        r.generated
            .as_ref()
            .map(|g| format!(" Generated {}.", escape(g)))
            .unwrap_or_default()
    );
    let _ = writeln!(o, "{}\n", escape(&r.enforcement_note()));
    let _ = writeln!(
        o,
        "| messages | over TLS | in clear text | sessions verified | peers | TLS errors | {} |",
        if r.enforced {
            "violations"
        } else {
            "findings (not enforced)"
        }
    );
    let _ = writeln!(o, "|---:|---:|---:|---:|---:|---:|---:|");
    let _ = writeln!(
        o,
        "| {} | {} | {} | {} | {} | {} | {} |\n",
        h.messages,
        percent(h.tls_messages, h.messages),
        h.plaintext_messages,
        percent(h.verified, h.sessions),
        h.peers,
        h.errors,
        r.evaluation.violations.len()
    );

    if let Some(n) = &r.snap.input {
        if let Some(b) = n.banner() {
            let _ = writeln!(o, "> **{}**\n", escape(&b));
        }
        let lines = n.lines();
        if !lines.is_empty() {
            let _ = writeln!(o, "## What was read\n");
            for l in lines {
                let _ = writeln!(o, "* {}", escape(&l));
            }
            let _ = writeln!(o);
        }
    }
    let _ = writeln!(
        o,
        "## {}\n",
        if r.enforced {
            "Policy violations"
        } else {
            "Findings of the built-in policy (not enforced)"
        }
    );
    if r.evaluation.violations.is_empty() && r.snap.input.as_ref().is_some_and(|n| n.empty) {
        let _ = writeln!(o, "Nothing judged: empty input.\n");
    } else if r.evaluation.violations.is_empty() {
        let _ = writeln!(o, "None.\n");
    } else {
        for v in &r.evaluation.violations {
            let _ = writeln!(
                o,
                "* **{}** {}{}: {}",
                v.rule,
                v.peer
                    .as_deref()
                    .map(escape)
                    .unwrap_or_else(|| "overall".into()),
                v.direction
                    .map(|d| format!(" ({})", d.as_str()))
                    .unwrap_or_default(),
                escape(&v.text)
            );
        }
        let _ = writeln!(o);
    }
    for e in &r.evaluation.expired {
        let _ = writeln!(
            o,
            "* expired exception: {} until {} ({})",
            escape(&e.peer),
            e.expires,
            escape(&e.reason)
        );
    }

    if let Some(c) = r.comparison {
        let _ = writeln!(o, "## What changed since the previous report\n");
        if c.is_empty() {
            let _ = writeln!(o, "Nothing that matters.\n");
        }
        for p in &c.new_peers {
            let _ = writeln!(o, "* new peer {}", escape(p));
        }
        for p in &c.gone_peers {
            let _ = writeln!(o, "* peer no longer seen: {}", escape(p));
        }
        for (what, list) in [
            ("protocol downgrade", &c.protocol_downgrades),
            ("verification downgrade", &c.verify_downgrades),
            ("more clear text", &c.plaintext_growth),
        ] {
            for ch in list {
                let _ = writeln!(
                    o,
                    "* {what}: {} ({}): {} → {}",
                    escape(&ch.peer),
                    ch.direction.as_str(),
                    escape(&ch.before),
                    escape(&ch.after)
                );
            }
        }
        for e in &c.new_errors {
            let _ = writeln!(
                o,
                "* new error kind {} at {} ×{}: {}",
                escape(&e.kind),
                escape(&e.scope),
                e.count,
                escape(&e.last_text)
            );
        }
        let _ = writeln!(
            o,
            "\nClear-text share overall: {:.1}% → {:.1}%.\n",
            c.plaintext_before, c.plaintext_after
        );
    }

    let _ = writeln!(o, "## What broke\n");
    let broken = r.broken();
    let no_tls = r.without_tls();
    if broken.is_empty() && no_tls.is_empty() {
        let _ = writeln!(o, "No TLS errors.\n");
    }
    for d in &no_tls {
        let a = crate::analysis::policy::no_tls(d.mta, d.direction);
        let _ = writeln!(
            o,
            "### {} {}: no TLS at all ({} → {})\n",
            escape(&d.host),
            d.direction.as_str(),
            when(d.first),
            when(d.last)
        );
        let _ = writeln!(o, "* what: {}", d.summary());
        if let Some(s) = &d.first_source {
            let _ = writeln!(o, "* first: {}", escape(&s.to_string()));
        }
        let _ = writeln!(o, "* cause: {}", a.cause);
        let _ = writeln!(o, "* fix: {}\n", a.fix);
    }
    for b in &broken {
        let _ = writeln!(
            o,
            "### {} ×{} ({} → {})\n",
            b.kind,
            b.stat.count,
            when(b.stat.first_seen),
            when(b.stat.last_seen)
        );
        let _ = writeln!(
            o,
            "* where: {}",
            b.scopes
                .iter()
                .map(|(s, n)| format!("{} ×{n}", escape(s)))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let _ = writeln!(o, "* example: {}", escape(&b.example()));
        let advice = b.advice();
        let many = advice.len() > 1;
        for (m, a) in advice {
            let on = if many {
                format!(" ({m})")
            } else {
                String::new()
            };
            let _ = writeln!(o, "* cause{on}: {}", a.cause);
            let _ = writeln!(o, "* fix{on}: {}", a.fix);
        }
        let _ = writeln!(o);
    }
    if !r.windows.is_empty() {
        let _ = writeln!(o, "## Silent downgrade windows\n");
        for w in r.windows {
            let down: Vec<_> = w.downgraded(&r.snap.posture).collect();
            let _ = writeln!(
                o,
                "* {} {}: from {} until {}: {} message{} in clear text, {} of them from peers that otherwise used TLS{}{}",
                escape(&w.host),
                w.direction.as_str(),
                w.start.format("%Y-%m-%d %H:%M:%S"),
                w.resumed
                    .map_or("the end of the logs (TLS never resumed)".to_owned(), |t| t
                        .format("%Y-%m-%d %H:%M:%S")
                        .to_string()),
                w.plaintext_messages,
                if w.plaintext_messages == 1 { "" } else { "s" },
                down.len(),
                if down.is_empty() {
                    String::new()
                } else {
                    format!(
                        " ({})",
                        down.iter()
                            .map(|m| format!("{} {}", escape(&m.peer), m.time.format("%H:%M:%S")))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                },
                if w.failed_handshakes > 0 {
                    format!(
                        "; {} client STARTTLS attempts failed against our broken TLS (ours, not the peers')",
                        w.failed_handshakes
                    )
                } else {
                    String::new()
                }
            );
        }
        let _ = writeln!(o);
    }

    if let Some(t) = &r.snap.tlsrpt {
        let s = &t.summary;
        let _ = writeln!(o, "## TLS reports from other senders (TLS-RPT)\n");
        let _ = writeln!(
            o,
            "{} reports ({} invalid skipped): {} successful and {} failed sessions reported; **{} mismatches** with our logs.\n",
            s.distinct_reports,
            s.read.invalid,
            s.successful_sessions,
            s.failed_sessions,
            s.mismatches
        );
        for row in t.join.iter().filter(|r| {
            r.status.is_mismatch() || r.status == crate::tlsrpt::join::Status::Confirmed
        }) {
            let _ = writeln!(o, "* `{}`: {}", row.status.as_str(), escape(&row.text));
        }
        for p in &s.read.problems {
            let _ = writeln!(o, "* skipped: {}", escape(p));
        }
        let _ = writeln!(o);
    }

    if let Some(t) = r.trend {
        o.push_str(&super::trend::markdown(t));
    }

    if let Some(rd) = r.readiness {
        let _ = writeln!(o, "## What breaks if we enforce TLS?\n");
        let _ = writeln!(
            o,
            "| peer | attempts | require TLS | require verified TLS |"
        );
        let _ = writeln!(o, "|---|---:|---|---|");
        for x in rd {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} |",
                escape(&x.peer),
                x.attempts,
                if x.tls_safe() {
                    "safe".to_owned()
                } else {
                    format!("would fail: {}", escape(&x.tls_blockers.join("; ")))
                },
                if x.verify_safe() {
                    "safe".to_owned()
                } else {
                    format!(
                        "would fail: {}",
                        escape(
                            &x.verify_blockers
                                .iter()
                                .chain(&x.tls_blockers)
                                .cloned()
                                .collect::<Vec<_>>()
                                .join("; ")
                        )
                    )
                },
            );
        }
        let entries: Vec<&String> = rd.iter().flat_map(|x| &x.entries).collect();
        if !entries.is_empty() {
            let _ = writeln!(
                o,
                "\nEntries for the safe peers (Sendmail access map; Postfix smtp_tls_policy_maps; recipient domains guessed from the MX name):\n"
            );
            let _ = writeln!(o, "```");
            for e in entries {
                // Inside a fence nothing is interpreted; a fence in a peer name cannot occur
                // (names are host names), but strip backticks anyway.
                let _ = writeln!(o, "{}", e.replace('`', ""));
            }
            let _ = writeln!(o, "```\n");
        }
    }

    let _ = writeln!(o, "## Peers, worst first\n");
    let _ = writeln!(
        o,
        "| grade | peer | in TLS/clear | out TLS/clear/deferred | reason |"
    );
    let _ = writeln!(o, "|:-:|---|---:|---:|---|");
    for p in r.peers_by_grade() {
        let g = r.evaluation.grades.get(&p.peer);
        let _ = writeln!(
            o,
            "| {} | {} | {}/{} | {}/{}/{} | {} |",
            g.map(|g| g.grade.as_str()).unwrap_or("–"),
            escape(&p.peer),
            p.inbound.tls_messages,
            p.inbound.plaintext_messages,
            p.outbound.tls_messages,
            p.outbound.plaintext_messages,
            p.outbound.deferred,
            g.map(|g| escape(&g.reason)).unwrap_or_default()
        );
    }
    o
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn log_text_cannot_become_markup() {
        for (raw, want) in [
            (
                "<script>alert(1)</script>",
                "&lt;script&gt;alert(1)&lt;/script&gt;",
            ),
            ("mx.example.org", "mx.example.org"),
            ("a|b", "a\\|b"),
            ("[x](javascript:alert(1))", "\\[x\\](javascript:alert(1))"),
            ("*bold* _it_ `code`", "\\*bold\\* \\_it\\_ \\`code\\`"),
            ("line\nbreak", "line break"),
            ("&amp;", "&amp;amp;"),
            ("# heading", "\\# heading"),
        ] {
            assert_eq!(escape(raw), want, "{raw}");
        }
    }
}
