//! Normalized events as NDJSON, schema `mailtls.event/1` (and its ECS rendering).
//!
//! One JSON object per line, one line per correlated record, in log order. The full
//! description with examples and Vector, Loki and Elasticsearch recipes is in
//! `docs/events.md`; the machine-checkable JSON Schema is `docs/mailtls.event-1.schema.json`.
//!
//! ```text
//! { "schema": "mailtls.event/1",
//!   "type": "session" | "message" | "verdict" | "error" | "hop",
//!   "time"?: RFC 3339, "host"?: log host, "mta": "sendmail" | "postfix" | "exim",
//!   "file": source file, "line": 1-based line number,
//!   "direction"?: "inbound" | "outbound",
//!   "peer"?: { "key", "name"?, "ip"?, "forged"? },
//!   // session:  "tls": TLS
//!   // message:  "queue_id", "encryption": "tls" | "tls_unknown" | "plaintext", "tls"?: TLS,
//!   //           "status"?: "sent" | "deferred" | "bounced" | "other"   (outbound only)
//!   // verdict:  "verify", "reject", "outcome"
//!   // error:    "kind", "text"
//! }
//! hop (a stored message's `Received:`; no mta/file/line/time/direction):
//! { "schema", "type": "hop", "source": "file:line", "message": "file:line", "position",
//!   "trust": "witnessed" | "claimed", "local", "peer"?, "from_helo"?, "from_rdns"?,
//!   "from_ip"?, "forged"?, "by"?, "with"?, "id"?, "for"?, "date"?,
//!   "tls": { "state": "tls" | "tls_no_details" | "plaintext" | "unknown", … } }
//! TLS = { "version", "cipher"?, "bits"?: { "secret"?, "alg"? }, "verify", "detail"?: {…} }
//! ```
//!
//! Fields are only ever added within `mailtls.event/1`; consumers ignore unknown ones.

use std::io::{self, Write};

use serde_json::{Map, Value, json};

use crate::model::{Direction, Peer, TlsParams, TlsVersion};
use crate::model::{Encryption, Meta, Record};
use crate::stores::hops::HopEvent;

/// The schema name written into every event line.
pub const EVENT_SCHEMA: &str = "mailtls.event/1";

/// The `mailtls.event/1` object of one record.
pub fn event_json(r: &Record) -> Value {
    let mut o = Map::new();
    o.insert("schema".into(), json!(EVENT_SCHEMA));
    o.insert("type".into(), json!(record_type(r)));
    meta_fields(&mut o, r.meta());
    if let Some(d) = r.direction() {
        o.insert("direction".into(), json!(direction_word(d)));
    }
    if let Some(p) = r.peer() {
        o.insert("peer".into(), peer_json(p));
    }
    match r {
        Record::Session { params, .. } => {
            o.insert("tls".into(), tls_json(params));
        }
        Record::Message {
            queue_id,
            encryption,
            status,
            ..
        } => {
            o.insert("queue_id".into(), json!(queue_id));
            let (word, params) = encryption_parts(encryption);
            o.insert("encryption".into(), json!(word));
            if let Some(p) = params {
                o.insert("tls".into(), tls_json(p));
            }
            if let Some(s) = status {
                o.insert("status".into(), json!(s));
            }
        }
        Record::Verdict {
            verify,
            reject,
            outcome,
            ..
        } => {
            o.insert("verify".into(), json!(verify.as_str()));
            o.insert("reject".into(), json!(reject));
            o.insert("outcome".into(), json!(outcome));
        }
        Record::Error {
            kind, text, reason, ..
        } => {
            o.insert("kind".into(), json!(kind));
            o.insert("side".into(), json!(kind.side().as_str()));
            o.insert("text".into(), json!(text));
            if let Some(r) = reason {
                o.insert("reason".into(), json!(r));
            }
        }
        Record::Start {
            version: Some(v), ..
        } => {
            o.insert("version".into(), json!(v));
        }
        Record::Ready { .. } | Record::Start { .. } => {}
    }
    Value::Object(o)
}

/// Writes the `mailtls.event/1` line of one record, newline included, straight to `w`: the
/// same bytes as [`event_json`] displayed (keys in the same sorted order, the same
/// escaping), without building a map of values per record, which was half of `events`'
/// time. `tests/it/events_cli.rs` checks the two agree on every record of the samples.
pub fn write_event(w: &mut impl Write, r: &Record) -> io::Result<()> {
    let m = r.meta();
    let mut o = Obj::open(w)?;
    if let Some(d) = r.direction() {
        o.field("direction", direction_word(d))?;
    }
    if let Record::Message { encryption, .. } = r {
        o.field("encryption", encryption_parts(encryption).0)?;
    }
    o.field("file", m.source.file.as_ref())?;
    if let Some(h) = &m.host {
        o.field("host", h.as_ref())?;
    }
    if let Record::Error { kind, .. } = r {
        o.field("kind", kind)?;
    }
    o.field("line", &m.source.line)?;
    o.field("mta", &m.mta)?;
    if let Record::Verdict { outcome, .. } = r {
        o.field("outcome", outcome)?;
    }
    if let Some(p) = r.peer() {
        o.key("peer")?;
        let mut po = Obj::open(o.w)?;
        if p.forged {
            po.field("forged", &true)?;
        }
        if let Some(ip) = p.ip {
            po.field("ip", &ip.to_string())?;
        }
        if let Some(k) = p.key() {
            po.field("key", &k)?;
        }
        if let Some(n) = &p.name {
            po.field("name", n)?;
        }
        po.close()?;
    }
    if let Record::Message { queue_id, .. } = r {
        o.field("queue_id", queue_id)?;
    }
    if let Record::Error {
        reason: Some(x), ..
    } = r
    {
        o.field("reason", x)?;
    }
    if let Record::Verdict { reject, .. } = r {
        o.field("reject", reject)?;
    }
    o.field("schema", EVENT_SCHEMA)?;
    if let Record::Error { kind, .. } = r {
        o.field("side", kind.side().as_str())?;
    }
    if let Record::Message {
        status: Some(s), ..
    } = r
    {
        o.field("status", s)?;
    }
    if let Record::Error { text, .. } = r {
        o.field("text", text)?;
    }
    if let Some(t) = m.time {
        o.field("time", &t.to_rfc3339())?;
    }
    let tls = match r {
        Record::Session { params, .. } => Some(&**params),
        Record::Message { encryption, .. } => encryption_parts(encryption).1,
        _ => None,
    };
    if let Some(p) = tls {
        // Through a Value: its keys are sorted, as they always were here.
        o.field("tls", &tls_json(p))?;
    }
    o.field("type", record_type(r))?;
    if let Record::Verdict { verify, .. } = r {
        o.field("verify", verify.as_str())?;
    }
    if let Record::Start {
        version: Some(v), ..
    } = r
    {
        o.field("version", v)?;
    }
    o.close()?.write_all(b"\n")
}

/// A JSON object being written: commas between fields, keys and values serialised by
/// serde_json (so the escaping is that of a `Value`).
struct Obj<'a, W: Write> {
    w: &'a mut W,
    first: bool,
}

impl<'a, W: Write> Obj<'a, W> {
    fn open(w: &'a mut W) -> io::Result<Self> {
        w.write_all(b"{")?;
        Ok(Obj { w, first: true })
    }

    fn key(&mut self, k: &str) -> io::Result<()> {
        if !std::mem::take(&mut self.first) {
            self.w.write_all(b",")?;
        }
        serde_json::to_writer(&mut *self.w, k)?;
        self.w.write_all(b":")
    }

    fn field<T: serde::Serialize + ?Sized>(&mut self, k: &str, v: &T) -> io::Result<()> {
        self.key(k)?;
        serde_json::to_writer(&mut *self.w, v)?;
        Ok(())
    }

    fn close(self) -> io::Result<&'a mut W> {
        self.w.write_all(b"}")?;
        Ok(self.w)
    }
}

/// The `type` word of a record.
fn record_type(r: &Record) -> &'static str {
    match r {
        Record::Session { .. } => "session",
        Record::Message { .. } => "message",
        Record::Verdict { .. } => "verdict",
        Record::Error { .. } => "error",
        Record::Ready { .. } => "tls_ready",
        Record::Start { .. } => "daemon_start",
    }
}

/// The `mailtls.event/1` object of one `Received:` hop of a stored message (`type` =
/// `hop`): the hop's own fields (`from_helo`, `from_rdns`, `from_ip`, `by`, `with`, `id`,
/// `for`, `date`, `tls` with its `state`), where it is (`source`, `message`, `position`),
/// whether it can be believed (`trust`), and `peer` in the same `{key, name?, ip?,
/// forged?}` shape as the log events so one query selects a peer across both.
pub fn hop_json(h: &HopEvent) -> Value {
    let mut o = match serde_json::to_value(h) {
        Ok(Value::Object(o)) => o,
        _ => Map::new(),
    };
    o.insert("schema".into(), json!(EVENT_SCHEMA));
    o.insert("type".into(), json!(h.kind));
    match h.hop.from_peer() {
        Some(p) => o.insert("peer".into(), peer_json(&p)),
        None => o.remove("peer"),
    };
    Value::Object(o)
}

/// The fields every record and alert of `mailtls.event/1` carries (time, host, mta, file,
/// line).
pub(crate) fn meta_fields(o: &mut Map<String, Value>, m: &Meta) {
    if let Some(t) = m.time {
        o.insert("time".into(), json!(t.to_rfc3339()));
    }
    if let Some(h) = &m.host {
        o.insert("host".into(), json!(h.as_ref()));
    }
    o.insert("mta".into(), json!(m.mta));
    o.insert("file".into(), json!(m.source.file.as_ref()));
    o.insert("line".into(), json!(m.source.line));
}

fn direction_word(d: Direction) -> &'static str {
    match d {
        Direction::Inbound => "inbound",
        Direction::Outbound => "outbound",
    }
}

fn peer_json(p: &Peer) -> Value {
    let mut o = Map::new();
    if let Some(k) = p.key() {
        o.insert("key".into(), json!(k));
    }
    if let Some(n) = &p.name {
        o.insert("name".into(), json!(n));
    }
    if let Some(ip) = p.ip {
        o.insert("ip".into(), json!(ip.to_string()));
    }
    if p.forged {
        o.insert("forged".into(), json!(true));
    }
    Value::Object(o)
}

fn tls_json(p: &TlsParams) -> Value {
    // TlsParams' own serde form is the documented one (version label, cipher, bits,
    // verify word, optional detail).
    serde_json::to_value(p).unwrap_or(Value::Null)
}

fn encryption_parts(e: &Encryption) -> (&'static str, Option<&TlsParams>) {
    match e {
        Encryption::Tls(p) => ("tls", Some(p)),
        Encryption::TlsUnknown => ("tls_unknown", None),
        Encryption::Plaintext => ("plaintext", None),
    }
}

/// The same record with Elastic Common Schema names where ECS has them (`@timestamp`,
/// `event.*`, `host.name`, `log.file.path`, `source.*`/`client.*` for an inbound peer,
/// `destination.*`/`server.*` for an outbound one, `tls.*`, `email.*`, `error.*`), and
/// everything ECS has no name for under `mailtls.*`.
pub fn ecs_json(r: &Record) -> Value {
    let m = r.meta();
    let mut o = Map::new();
    if let Some(t) = m.time {
        o.insert("@timestamp".into(), json!(t.to_rfc3339()));
    }
    let (action, outcome) = match r {
        Record::Session { .. } => ("tls-session", "success"),
        Record::Message { status, .. } => (
            "message",
            match status {
                None | Some(crate::model::DeliveryStatus::Sent) => "success",
                Some(crate::model::DeliveryStatus::Other) => "unknown",
                Some(_) => "failure",
            },
        ),
        Record::Verdict { reject, .. } => {
            ("tls-policy", if *reject { "failure" } else { "success" })
        }
        Record::Error { .. } => ("tls-error", "failure"),
        Record::Ready { .. } => ("tls-ready", "success"),
        Record::Start { .. } => ("daemon-start", "success"),
    };
    o.insert(
        "event".into(),
        json!({"kind": "event", "category": ["network", "email"], "action": action,
               "outcome": outcome, "module": "mailtls", "dataset": "mailtls.event"}),
    );
    if let Some(h) = &m.host {
        o.insert("host".into(), json!({"name": h.as_ref()}));
    }
    o.insert(
        "log".into(),
        json!({"file": {"path": m.source.file.as_ref()}}),
    );
    let mut mt = Map::new();
    mt.insert("schema".into(), json!(EVENT_SCHEMA));
    mt.insert("line".into(), json!(m.source.line));
    mt.insert("mta".into(), json!(m.mta));
    let dir = r.direction();
    if let Some(d) = dir {
        o.insert(
            "network".into(),
            json!({"direction": if d == Direction::Inbound { "inbound" } else { "outbound" }}),
        );
    }
    if let Some(p) = r.peer() {
        let mut side = Map::new();
        if let Some(ip) = p.ip {
            side.insert("ip".into(), json!(ip.to_string()));
        }
        if let Some(n) = &p.name {
            side.insert("domain".into(), json!(n));
        }
        let addr = p
            .name
            .as_ref()
            .map(|n| n.to_string())
            .or_else(|| p.ip.map(|ip| ip.to_string()));
        if let Some(a) = addr {
            side.insert("address".into(), json!(a));
        }
        let (a, b) = match dir {
            Some(Direction::Outbound) => ("destination", "server"),
            _ => ("source", "client"),
        };
        o.insert(a.into(), Value::Object(side.clone()));
        o.insert(b.into(), Value::Object(side));
        if let Some(k) = p.key() {
            mt.insert("peer".into(), json!(k));
        }
    }
    let tls = match r {
        Record::Session { params, .. } => Some(&**params),
        Record::Message { encryption, .. } => encryption_parts(encryption).1,
        _ => None,
    };
    if let Some(p) = tls {
        o.insert("tls".into(), ecs_tls(p, dir));
        mt.insert("verify".into(), json!(p.verify.as_str()));
        if let Some(b) = p.bits.effective() {
            mt.insert("bits".into(), json!(b));
        }
    }
    match r {
        Record::Message {
            queue_id,
            encryption,
            status,
            ..
        } => {
            let mut email = Map::new();
            email.insert("local_id".into(), json!(queue_id));
            if let Some(d) = dir {
                email.insert("direction".into(), json!(direction_word(d)));
            }
            o.insert("email".into(), Value::Object(email));
            mt.insert("encryption".into(), json!(encryption_parts(encryption).0));
            if let Some(s) = status {
                mt.insert("status".into(), json!(s));
            }
        }
        Record::Verdict {
            verify,
            reject,
            outcome,
            ..
        } => {
            mt.insert("verify".into(), json!(verify.as_str()));
            mt.insert("reject".into(), json!(reject));
            mt.insert("outcome".into(), json!(outcome));
        }
        Record::Error {
            kind, text, reason, ..
        } => {
            o.insert("error".into(), json!({"type": kind, "message": text}));
            mt.insert("side".into(), json!(kind.side().as_str()));
            if let Some(r) = reason {
                mt.insert("reason".into(), json!(r));
            }
        }
        Record::Start {
            version: Some(v), ..
        } => {
            mt.insert("version".into(), json!(v));
        }
        Record::Session { .. } | Record::Ready { .. } | Record::Start { .. } => {}
    }
    o.insert("mailtls".into(), Value::Object(mt));
    Value::Object(o)
}

/// ECS `tls.*`: `version` is the bare number (`1.3`) with `version_protocol` (`tls`,
/// `ssl`), `cipher`, `established`, `resumed`, SNI as `client.server_name`, and the peer
/// certificate's subject on the peer's side.
fn ecs_tls(p: &TlsParams, dir: Option<Direction>) -> Value {
    let mut t = Map::new();
    let (proto, number) = match &p.version {
        TlsVersion::Ssl2 => (Some("ssl"), Some("2.0")),
        TlsVersion::Ssl3 => (Some("ssl"), Some("3.0")),
        TlsVersion::Tls1_0 => (Some("tls"), Some("1.0")),
        TlsVersion::Tls1_1 => (Some("tls"), Some("1.1")),
        TlsVersion::Tls1_2 => (Some("tls"), Some("1.2")),
        TlsVersion::Tls1_3 => (Some("tls"), Some("1.3")),
        TlsVersion::Legacy | TlsVersion::Other(_) => (None, None),
    };
    if let Some(n) = number {
        t.insert("version".into(), json!(n));
    }
    if let Some(pr) = proto {
        t.insert("version_protocol".into(), json!(pr));
    }
    if let Some(c) = &p.cipher {
        t.insert("cipher".into(), json!(c.as_str()));
    }
    t.insert("established".into(), json!(true));
    let detail = p.detail.as_deref();
    t.insert("resumed".into(), json!(detail.is_some_and(|d| d.reused)));
    if let Some(d) = detail {
        if let Some(sni) = &d.sni {
            t.insert("client".into(), json!({"server_name": sni}));
        }
        if let Some(dn) = &d.peer_dn {
            let side = if dir == Some(Direction::Outbound) {
                "server"
            } else {
                "client"
            };
            let entry = t.entry(side).or_insert_with(|| json!({}));
            if let Some(obj) = entry.as_object_mut() {
                obj.insert("subject".into(), json!(dn));
            }
        }
    }
    Value::Object(t)
}
