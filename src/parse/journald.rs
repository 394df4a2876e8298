//! `journalctl -o json` lines: one JSON object per entry, for sites without a mail.log file.
//!
//! The fields used are those journald writes for every syslog-style entry: `MESSAGE` (a
//! string, or an array of bytes when the text is not valid UTF-8), `__REALTIME_TIMESTAMP`
//! (microseconds since the epoch, as a decimal string), `_HOSTNAME`, `SYSLOG_IDENTIFIER`
//! (`postfix/smtpd`, `sm-mta`, `exim`; `_COMM` when absent) and `SYSLOG_PID` (`_PID` when
//! absent). `journalctl -o short-iso` output needs nothing special: it is an ISO 8601
//! syslog line, read by [`super::envelope`].

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use crate::model::Stamp;

/// The envelope facts and message of one journal entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    pub stamp: Stamp,
    pub host: Option<String>,
    pub program: Option<String>,
    pub pid: Option<u32>,
    pub message: String,
}

#[derive(Deserialize)]
struct Raw {
    #[serde(rename = "MESSAGE")]
    message: Option<Value>,
    #[serde(rename = "__REALTIME_TIMESTAMP")]
    realtime: Option<Value>,
    #[serde(rename = "_HOSTNAME")]
    hostname: Option<String>,
    #[serde(rename = "SYSLOG_IDENTIFIER")]
    identifier: Option<String>,
    #[serde(rename = "_COMM")]
    comm: Option<String>,
    #[serde(rename = "SYSLOG_PID")]
    syslog_pid: Option<Value>,
    #[serde(rename = "_PID")]
    pid: Option<Value>,
}

/// Reads one `journalctl -o json` line; `None` when it is not a journal entry with a
/// message (the caller then treats the line as ordinary text).
pub fn parse(line: &str) -> Option<JournalEntry> {
    let line = line.trim();
    if !line.starts_with('{') || !line.contains("\"MESSAGE\"") {
        return None;
    }
    let raw: Raw = serde_json::from_str(line).ok()?;
    let message = match raw.message? {
        Value::String(s) => s,
        Value::Array(bytes) => {
            let b: Vec<u8> = bytes
                .iter()
                .filter_map(|v| v.as_u64().and_then(|n| u8::try_from(n).ok()))
                .collect();
            String::from_utf8_lossy(&b).into_owned()
        }
        _ => return None,
    };
    let stamp = raw
        .realtime
        .as_ref()
        .and_then(number)
        .and_then(|us| i64::try_from(us).ok())
        .and_then(DateTime::<Utc>::from_timestamp_micros)
        .map(|t| Stamp::Full(t.fixed_offset()))
        .unwrap_or(Stamp::None);
    let pid = raw
        .syslog_pid
        .as_ref()
        .and_then(number)
        .or_else(|| raw.pid.as_ref().and_then(number))
        .and_then(|p| u32::try_from(p).ok());
    Some(JournalEntry {
        stamp,
        host: raw.hostname.filter(|h| !h.is_empty()),
        program: raw.identifier.or(raw.comm).filter(|p| !p.is_empty()),
        pid,
        message,
    })
}

/// journald writes numbers as decimal strings; accept plain numbers too.
fn number(v: &Value) -> Option<u64> {
    match v {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{FixedOffset, TimeZone};

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, us: u32) -> Stamp {
        let t = FixedOffset::east_opt(0)
            .and_then(|z| z.with_ymd_and_hms(y, mo, d, h, mi, s).single())
            .map(|t| t + chrono::Duration::microseconds(i64::from(us)));
        t.map_or(Stamp::None, Stamp::Full)
    }

    #[test]
    fn journal_entries() {
        let rows = [
            (
                r#"{"__CURSOR":"s=1;i=2","__REALTIME_TIMESTAMP":"1764237931081352","__MONOTONIC_TIMESTAMP":"123","_BOOT_ID":"b","PRIORITY":"6","SYSLOG_FACILITY":"2","SYSLOG_IDENTIFIER":"postfix/smtpd","SYSLOG_PID":"2210","_PID":"2210","_COMM":"smtpd","_HOSTNAME":"mx2","MESSAGE":"connect from laptop.home.example[203.0.113.45]"}"#,
                Some(JournalEntry {
                    stamp: utc(2025, 11, 27, 10, 5, 31, 81352),
                    host: Some("mx2".into()),
                    program: Some("postfix/smtpd".into()),
                    pid: Some(2210),
                    message: "connect from laptop.home.example[203.0.113.45]".into(),
                }),
            ),
            (
                // No SYSLOG_* fields (a service writing to stdout): _COMM and _PID.
                r#"{"__REALTIME_TIMESTAMP":"1764237931000000","_COMM":"exim","_PID":"4711","_HOSTNAME":"relay","MESSAGE":"1vFq2a-00000000Bx1-0Kd4 Completed"}"#,
                Some(JournalEntry {
                    stamp: utc(2025, 11, 27, 10, 5, 31, 0),
                    host: Some("relay".into()),
                    program: Some("exim".into()),
                    pid: Some(4711),
                    message: "1vFq2a-00000000Bx1-0Kd4 Completed".into(),
                }),
            ),
            (
                // Non-UTF-8 text arrives as a byte array.
                r#"{"SYSLOG_IDENTIFIER":"sm-mta","SYSLOG_PID":"77","MESSAGE":[104,233,108,108,111]}"#,
                Some(JournalEntry {
                    stamp: Stamp::None,
                    host: None,
                    program: Some("sm-mta".into()),
                    pid: Some(77),
                    message: "h\u{fffd}llo".into(),
                }),
            ),
            (r#"{"SYSLOG_IDENTIFIER":"postfix/smtpd"}"#, None),
            (r#"{"MESSAGE": broken"#, None),
            (
                "Nov 27 10:05:31 mx2 postfix/smtpd[2210]: connect from x[192.0.2.1]",
                None,
            ),
        ];
        for (line, want) in rows {
            assert_eq!(parse(line), want, "{line}");
        }
    }
}
