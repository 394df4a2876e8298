//! One line per record or alert, as `follow` prints them: a terse line for people
//! (coloured on a terminal) or one NDJSON object in the `mailtls.event/1` schema.
//!
//! Records are written exactly as `mailtls events` writes them ([`crate::report::events`]); alerts
//! take the same shape with `"type": "alert"`.

use crate::model::text::terminal;
use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use crate::live::Alert;
use crate::model::{Direction, TlsParams};
use crate::model::{Encryption, Meta, Record};

/// The schema name written into every NDJSON line (the `events` command's).
pub use crate::report::events::EVENT_SCHEMA;

/// A record as one NDJSON line (without the newline): exactly what `mailtls events`
/// writes for it ([`crate::report::events::event_json`]).
pub fn record_json(r: &Record) -> String {
    crate::report::events::event_json(r).to_string()
}

/// An alert as one NDJSON line in the same shape: `"type": "alert"`, the alert's name in
/// `"alert"`, the record fields (`time`, `host`, `mta`, `file`, `line`, `direction`,
/// `peer`) and the alert's own (`kind`/`text`, `queue_id`, `downgraded`).
pub fn alert_json(a: &Alert) -> String {
    let mut o = Map::new();
    o.insert("schema".into(), json!(EVENT_SCHEMA));
    o.insert("type".into(), json!("alert"));
    o.insert("alert".into(), json!(a.name()));
    crate::report::events::meta_fields(&mut o, a.meta());
    match a {
        Alert::TlsDisabled {
            kind,
            text,
            direction,
            ..
        } => {
            o.insert("direction".into(), json!(direction));
            o.insert("kind".into(), json!(kind));
            o.insert("text".into(), json!(text));
        }
        Alert::Downgrade {
            direction,
            peer,
            queue_id,
            ..
        } => {
            o.insert("direction".into(), json!(direction));
            let mut p = serde_json::to_value(peer).unwrap_or_default();
            if let (Value::Object(po), Some(k)) = (&mut p, peer.key()) {
                po.insert("key".into(), json!(k));
            }
            o.insert("peer".into(), p);
            o.insert("queue_id".into(), json!(queue_id));
        }
        Alert::TlsResumed {
            downgraded,
            direction,
            ..
        } => {
            o.insert("direction".into(), json!(direction));
            o.insert("downgraded".into(), json!(downgraded));
        }
        Alert::NoTls {
            direction,
            messages,
            peers,
            ..
        } => {
            o.insert("direction".into(), json!(direction));
            o.insert("messages".into(), json!(messages));
            o.insert("peers".into(), json!(peers));
        }
    }
    Value::Object(o).to_string()
}

const RED: &str = "\x1b[31m";
const BOLD_RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[33m";
const GREEN: &str = "\x1b[32m";
const RESET: &str = "\x1b[0m";

fn paint(s: &str, colour: Option<&str>, on: bool) -> String {
    match colour {
        Some(c) if on => format!("{c}{s}{RESET}"),
        _ => s.to_owned(),
    }
}

fn time(meta: &Meta) -> String {
    meta.time.map_or_else(
        || "-".to_owned(),
        |t| t.format("%Y-%m-%d %H:%M:%S").to_string(),
    )
}

fn params(p: &TlsParams, colour: bool) -> String {
    let mut s = terminal(p.version.label()).into_owned();
    if let Some(c) = &p.cipher {
        let _ = write!(s, " {}", terminal(&c.to_string()));
    }
    if let Some(b) = p.bits.effective() {
        let _ = write!(s, " {b}");
    }
    let verify = format!("verify={}", terminal(&p.verify.to_string()));
    let vc = if p.verify.is_failed_verification() || p.verify.is_tls_failure() {
        Some(RED)
    } else {
        None
    };
    let _ = write!(s, " {}", paint(&verify, vc, colour));
    s
}

/// A record as one line for people: time, direction, what, peer, TLS parameters; errors
/// and failed verification in red, plaintext in yellow (when `colour`). Every string from
/// the log goes through [`terminal`].
pub fn record_line(r: &Record, colour: bool) -> String {
    let dir = r.direction().map_or("-", |d| d.as_str());
    let peer = r.peer().map_or_else(|| "-".to_owned(), ToString::to_string);
    let peer = terminal(&peer);
    let head = format!("{} {dir:<3}", time(r.meta()));
    match r {
        Record::Session { params: p, .. } => {
            format!("{head} tls     {peer}  {}", params(p, colour))
        }
        Record::Message {
            encryption,
            queue_id,
            status,
            ..
        } => {
            // A deferral or bounce carried no mail in clear: `not delivered`, the rule of
            // `message` and the timelines (`triage::trace::verdict_phrase`).
            let delivered = matches!(status, None | Some(crate::model::DeliveryStatus::Sent));
            let enc = match encryption {
                Encryption::Plaintext if !delivered => "not delivered".to_owned(),
                Encryption::Tls(p) => params(p, colour),
                Encryption::TlsUnknown => "TLS (parameters not logged)".to_owned(),
                Encryption::Plaintext => paint("PLAINTEXT", Some(YELLOW), colour),
            };
            let st = status.map_or(String::new(), |s| format!(" {s:?}").to_lowercase());
            let queue_id = terminal(queue_id);
            format!("{head} msg     {peer}  {enc}  {queue_id}{st}")
        }
        Record::Verdict {
            verify,
            reject,
            outcome,
            ..
        } => {
            let line = format!(
                "{head} verdict {peer}  verify={} {}",
                terminal(&verify.to_string()),
                terminal(&outcome.to_string())
            );
            let bad = *reject || verify.is_tls_failure() || verify.is_failed_verification();
            paint(&line, bad.then_some(RED), colour)
        }
        Record::Error { kind, text, .. } => paint(
            &format!(
                "{head} error   {peer}  {}: {}",
                terminal(&kind.to_string()),
                terminal(text)
            ),
            Some(RED),
            colour,
        ),
        Record::Ready { .. } => format!("{head} ready   TLS initialised"),
        Record::Start { version, .. } => format!(
            "{head} start   daemon started{}",
            version
                .as_deref()
                .map_or(String::new(), |v| format!(" ({})", terminal(v)))
        ),
    }
}

/// Our side that broke or works again, in words.
fn role(d: Direction) -> &'static str {
    match d {
        Direction::Inbound => "inbound (server-side)",
        Direction::Outbound => "outbound (client-side)",
    }
}

/// An alert as one line for people, marked `ALERT` (bold red when `colour`; a resumption
/// in green).
pub fn alert_line(a: &Alert, colour: bool) -> String {
    let meta = a.meta();
    let host = terminal(meta.host.as_deref().unwrap_or("this host"));
    match a {
        Alert::TlsDisabled {
            kind,
            text,
            direction,
            ..
        } => paint(
            &format!(
                "{} ALERT   {} TLS disabled on {host}: {}: {} — {} in plaintext; peers that used TLS are reported below",
                time(meta),
                role(*direction),
                terminal(&kind.to_string()),
                terminal(text),
                match direction {
                    Direction::Inbound => "mail now arrives",
                    Direction::Outbound => "mail now leaves",
                }
            ),
            Some(BOLD_RED),
            colour,
        ),
        Alert::Downgrade {
            direction,
            peer,
            queue_id,
            ..
        } => paint(
            &format!(
                "{} ALERT   downgrade: {} {} used TLS before, {} went in plaintext",
                time(meta),
                direction.as_str(),
                terminal(&peer.to_string()),
                terminal(queue_id)
            ),
            Some(BOLD_RED),
            colour,
        ),
        Alert::TlsResumed {
            downgraded,
            direction,
            ..
        } => paint(
            &format!(
                "{} ALERT   {} TLS works again on {host} ({downgraded} message(s) went in plaintext meanwhile)",
                time(meta),
                role(*direction)
            ),
            Some(GREEN),
            colour,
        ),
        Alert::NoTls {
            direction,
            messages,
            peers,
            ..
        } => paint(
            &format!(
                "{} ALERT   {} no TLS at all on {host}: {messages} message(s) {} {peers} peer(s) in plaintext, not one TLS session — {}; ours to fix, not the peers'",
                time(meta),
                role(*direction),
                match direction {
                    Direction::Inbound => "from",
                    Direction::Outbound => "to",
                },
                match direction {
                    Direction::Inbound => format!("is STARTTLS offered? (mailtls check {host}:25)"),
                    Direction::Outbound => "does our client try STARTTLS?".to_owned(),
                }
            ),
            Some(BOLD_RED),
            colour,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::{Live, Output};
    use crate::parse::envelope::Zone;
    use chrono::FixedOffset;
    use std::sync::Arc;

    fn outputs(text: &str) -> Vec<Output> {
        let mut live = Live::new(
            Arc::from("maillog"),
            Zone::Fixed(FixedOffset::east_opt(3600).unwrap()),
            65536,
        );
        let mut out = Vec::new();
        live.feed(
            &crate::input::Block {
                first_line: 7,
                data: text.as_bytes().to_vec(),
                skipped_long_lines: 0,
            },
            &mut out,
        );
        out
    }

    #[test]
    fn a_deferral_is_not_delivered_not_plaintext() {
        let out = outputs(
            "Nov 27 10:40:37 mail sm-mta[30358]: 6ARAeYIl030356: to=<it@legacy.example>, delay=00:00:02, xdelay=00:00:01, mailer=esmtp, pri=34720, relay=mx.legacy.example. [198.51.100.90], dsn=4.0.0, stat=Deferred: 454 4.7.0 TLS handshake failed.\n",
        );
        let line = out
            .iter()
            .find_map(|o| match o {
                Output::Record(r @ Record::Message { .. }) => Some(record_line(r, false)),
                _ => None,
            })
            .expect("a message record");
        assert!(line.contains("not delivered"), "{line}");
        assert!(!line.contains("PLAINTEXT"), "{line}");
        assert!(line.ends_with("6ARAeYIl030356 deferred"), "{line}");
    }

    #[test]
    fn lines_for_people_and_for_machines() {
        let out = outputs(
            "Nov 28 10:05:21 mail sm-mta[29183]: STARTTLS=server, relay=mx.v6only.example [IPv6:2001:db8:5::25], version=TLSv1.3, verify=FAIL, cipher=TLS_AES_128_GCM_SHA256, bits=128/128\n\
             Nov 28 10:06:00 mail sm-mta[1205]: STARTTLS=server, error: SSL_CTX_use_PrivateKey_file(/etc/mail/certs/host.key) failed\n",
        );
        let Output::Record(session) = &out[0] else {
            panic!("{out:?}")
        };
        let plain = record_line(session, false);
        assert!(plain.ends_with(
            " in  tls     mx.v6only.example [2001:db8:5::25]  TLSv1.3 TLS_AES_128_GCM_SHA256 128 verify=FAIL"
        ), "{plain}");
        assert!(!plain.contains('\x1b'));
        let coloured = record_line(session, true);
        assert!(
            coloured.contains("\x1b[31mverify=FAIL\x1b[0m"),
            "{coloured}"
        );

        let json: serde_json::Value = serde_json::from_str(&record_json(session)).unwrap();
        assert_eq!(json["schema"], "mailtls.event/1");
        assert_eq!(json["type"], "session");
        assert_eq!(json["direction"], "inbound");
        assert_eq!(json["peer"]["name"], "mx.v6only.example");
        assert_eq!(json["tls"]["verify"], "FAIL");
        assert_eq!(json["line"], 7);
        assert!(json["time"].as_str().unwrap().ends_with("10:05:21+01:00"));

        let Output::Record(err) = &out[1] else {
            panic!()
        };
        assert!(record_line(err, true).starts_with(RED));
        let Output::Alert(alert) = &out[2] else {
            panic!("{out:?}")
        };
        let json: serde_json::Value = serde_json::from_str(&alert_json(alert)).unwrap();
        assert_eq!(json["schema"], "mailtls.event/1");
        assert_eq!(json["type"], "alert");
        assert_eq!(json["file"], "maillog");
        assert_eq!(json["alert"], "tls_disabled");
        assert_eq!(json["kind"], "private_key");
        // A server-side key: our inbound (server) TLS is what broke.
        assert_eq!(json["direction"], "inbound");
        assert!(
            alert_line(alert, false)
                .contains("ALERT   inbound (server-side) TLS disabled on mail: private_key"),
            "{}",
            alert_line(alert, false)
        );
    }
}
