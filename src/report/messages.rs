//! The terminal section for stored messages: counts, our hosts, per-message verdicts, the
//! first plaintext hops, and the claimed posture kept apart from the witnessed one.

use std::fmt::Write as _;

use comfy_table::{ContentArrangement, Table, presets};

use crate::model::text::terminal_lines;
use crate::stores::hops::{MessagesSummary, VerdictCounts};

fn verdicts(v: &VerdictCounts) -> String {
    format!(
        "all TLS {}, plaintext {}, unknown {}, no network hop {}",
        v.all_tls, v.plaintext, v.unknown, v.no_hops
    )
}

/// Renders the messages section (appended after the posture table). Host names, hops and
/// peers come from Received: headers that strangers wrote: each line of the section goes
/// through [`terminal_lines`] (it holds no escapes of ours).
/// `width`: the terminal's columns to fit the claimed-peers table in (`None`: unlimited).
pub fn render(m: &MessagesSummary, colour: bool, width: Option<usize>) -> String {
    terminal_lines(&render_raw(m, colour, width))
}

fn render_raw(m: &MessagesSummary, colour: bool, width: Option<usize>) -> String {
    let mut out = String::new();
    if m.messages == 0 && m.messages_unreadable == 0 && m.report_messages > 0 {
        // Stores of TLS-RPT reports only: nothing to say about hops.
        let _ = writeln!(
            out,
            "\nMessages: only TLS-RPT reports ({} in {} store{}, read as reports below)",
            m.report_messages,
            m.stores,
            if m.stores == 1 { "" } else { "s" },
        );
        return out;
    }
    let _ = writeln!(
        out,
        "\nMessages: {} in {} store{} ({} malformed, {} unreadable); {} Received: hops: {} witnessed, {} claimed, {} local, {} malformed",
        m.messages,
        m.stores,
        if m.stores == 1 { "" } else { "s" },
        m.messages_malformed,
        m.messages_unreadable,
        m.hops,
        m.hops_witnessed,
        m.hops_claimed,
        m.hops_local,
        m.hops_malformed,
    );
    if m.report_messages > 0 {
        let _ = writeln!(
            out,
            "TLS-RPT report messages (read as reports below, not as hops): {}",
            m.report_messages
        );
    }
    let hosts = if m.our_hosts.is_empty() {
        "none found (every hop is claimed)".to_owned()
    } else {
        m.our_hosts.join(", ")
    };
    let _ = writeln!(
        out,
        "Our hosts ({}): {hosts}",
        if m.our_hosts_inferred {
            "inferred from the most frequent `by` of the top Received:; set with --our-hosts"
        } else {
            "--our-hosts"
        }
    );
    if m.hops_also_in_logs > 0 || m.hops_filtered > 0 {
        let _ = writeln!(
            out,
            "Witnessed hops already counted from the logs: {}; left out by filters: {}",
            m.hops_also_in_logs, m.hops_filtered
        );
    }
    let _ = writeln!(
        out,
        "Per message, witnessed hops: {}",
        verdicts(&m.verdicts)
    );
    let _ = writeln!(
        out,
        "Per message, whole chain (includes claimed hops): {}",
        verdicts(&m.chain_verdicts)
    );
    if !m.plaintext_examples.is_empty() {
        out.push_str("Plaintext witnessed hops:\n");
        for e in &m.plaintext_examples {
            let _ = writeln!(
                out,
                "  {}  hop {} from {} by {} with {}",
                e.source,
                e.hop,
                e.peer,
                e.by.as_deref().unwrap_or("?"),
                e.with.as_deref().unwrap_or("?")
            );
        }
    }
    if !m.claimed.peers.is_empty() {
        out.push_str("Claimed by foreign stamps (not verified, not in the posture above):\n");
        let mut t = Table::new();
        t.load_preset(presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_header(vec!["PEER", "TLS MSGS", "PLAIN MSGS", "VERSIONS"]);
        if colour {
            t.enforce_styling();
        } else {
            t.force_no_tty();
        }
        if let Some(w) = width {
            t.set_width(u16::try_from(w).unwrap_or(u16::MAX));
        }
        for p in m.claimed.peers.values() {
            let d = &p.inbound;
            let versions = d
                .versions
                .iter()
                .map(|(k, n)| format!("{k}:{n}"))
                .collect::<Vec<_>>()
                .join(" ");
            t.add_row(vec![
                p.peer.clone(),
                d.tls_messages.to_string(),
                d.plaintext_messages.to_string(),
                versions,
            ]);
        }
        let _ = writeln!(out, "{t}");
    }
    out
}
