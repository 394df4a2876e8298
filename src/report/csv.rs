//! `posture.csv`: one row per peer and direction, for spreadsheets.
//!
//! Cells that a spreadsheet would read as a formula (starting with `=`, `+`, `-`, `@`, tab
//! or carriage return) are prefixed with `'`, so a hostile relay name in a log cannot run
//! anything in the reader's spreadsheet (CSV injection).

use super::Report;
use crate::analysis::posture::DirPosture;
use crate::model::Direction;

/// The header row.
pub const COLUMNS: &[&str] = &[
    "peer",
    "direction",
    "grade",
    "reason",
    "tls_sessions",
    "tls_messages",
    "plaintext_messages",
    "plaintext_percent",
    "deferred",
    "bounced",
    "versions",
    "ciphers",
    "verify",
    "min_bits",
    "errors",
    "first_seen",
    "last_seen",
    "names",
    "ips",
];

/// Makes a cell safe to open in a spreadsheet.
pub fn neutralise(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_owned(),
    }
}

fn hist<K: crate::model::Word>(m: &crate::model::Hist<K>) -> String {
    m.words()
        .map(|(k, n)| format!("{k}:{n}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn row(r: &Report, key: &str, dir: Direction, d: &DirPosture) -> Vec<String> {
    let p = &r.snap.posture.peers[key];
    let g = r.evaluation.grades.get(key);
    let msgs = d.messages();
    vec![
        key.to_owned(),
        dir.as_str().to_owned(),
        g.map(|g| g.grade.to_string()).unwrap_or_default(),
        g.map(|g| g.reason.clone()).unwrap_or_default(),
        d.tls_sessions.to_string(),
        d.tls_messages.to_string(),
        d.plaintext_messages.to_string(),
        if msgs == 0 {
            String::new()
        } else {
            format!("{:.1}", 100.0 * d.plaintext_messages as f64 / msgs as f64)
        },
        d.deferred.to_string(),
        d.bounced.to_string(),
        hist(&d.versions),
        hist(&d.ciphers),
        hist(&d.verify),
        d.min_bits.map(|b| b.to_string()).unwrap_or_default(),
        d.errors
            .iter()
            .map(|(k, e)| format!("{k}:{}", e.count))
            .collect::<Vec<_>>()
            .join(" "),
        d.first_seen.map(|t| t.to_rfc3339()).unwrap_or_default(),
        d.last_seen.map(|t| t.to_rfc3339()).unwrap_or_default(),
        p.names.iter().cloned().collect::<Vec<_>>().join(" "),
        p.ips
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(" "),
    ]
}

/// The CSV text, peers sorted by key, inbound before outbound.
pub fn render(r: &Report) -> std::io::Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(COLUMNS)?;
    for (key, p) in &r.snap.posture.peers {
        for dir in [Direction::Inbound, Direction::Outbound] {
            let d = p.dir(dir);
            if d.is_empty() {
                continue;
            }
            let cells: Vec<String> = row(r, key, dir, d).iter().map(|c| neutralise(c)).collect();
            w.write_record(&cells)?;
        }
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    String::from_utf8(bytes).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

#[cfg(test)]
mod tests {
    use super::neutralise;

    #[test]
    fn formula_cells_are_neutralised() {
        for (raw, want) in [
            ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
            ("+1+1", "'+1+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("mx.example.org", "mx.example.org"),
            ("12", "12"),
            ("", ""),
        ] {
            assert_eq!(neutralise(raw), want, "{raw:?}");
        }
    }
}
