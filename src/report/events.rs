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
use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Timelike};
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

/// Writes the `mailtls.event/1` line of one record, newline included, to `w`: the same bytes
/// as [`event_json`] displayed (keys in the same sorted order, the same escaping), without
/// building a map of values per record. One record at a time; a run writes through one
/// [`EventWriter`], which keeps what repeats from line to line.
pub fn write_event(w: &mut impl Write, r: &Record) -> io::Result<()> {
    let mut buf = Vec::with_capacity(512);
    EventWriter::default().write(&mut buf, r);
    w.write_all(&buf)
}

/// Formats `mailtls.event/1` lines into a byte buffer: the bytes of [`event_json`]
/// displayed, key order and escaping included (`tests/it/events_cli.rs` checks the two agree
/// on every record of the samples, and a property test here on generated records), without a
/// map of values, a `String` per field or a `Value` per TLS object. Building the `Value`
/// was half of `events`' time; writing it field by field through serde_json still cost a
/// quarter (escaping the same file name on every line, `to_rfc3339`'s `String`, the TLS
/// object's `Value`, the peer key's `String`). What repeats from one line to the next is
/// kept: the escaped file and host names, and the formatted second and offset of the time
/// (a busy log writes many lines a second).
#[derive(Debug, Default)]
pub struct EventWriter {
    file: Escaped,
    host: Escaped,
    time: TimeCache,
}

impl EventWriter {
    /// Appends the line of `r`, newline included, to `buf`.
    pub fn write(&mut self, buf: &mut Vec<u8>, r: &Record) {
        let m = r.meta();
        buf.push(b'{');
        let mut o = Fields { first: true };
        if let Some(d) = r.direction() {
            o.key(buf, b"direction");
            put_str(buf, direction_word(d));
        }
        if let Record::Message { encryption, .. } = r {
            o.key(buf, b"encryption");
            put_str(buf, encryption_parts(encryption).0);
        }
        o.key(buf, b"file");
        buf.extend_from_slice(self.file.json(&m.source.file));
        if let Some(h) = &m.host {
            buf.extend_from_slice(b",\"host\":");
            buf.extend_from_slice(self.host.json(h));
        }
        if let Record::Error { kind, .. } = r {
            buf.extend_from_slice(b",\"kind\":");
            put_str(buf, kind.as_str());
        }
        buf.extend_from_slice(b",\"line\":");
        put_u64(buf, m.source.line);
        buf.extend_from_slice(b",\"mta\":");
        put_str(buf, m.mta.as_str());
        if let Record::Verdict { outcome, .. } = r {
            buf.extend_from_slice(b",\"outcome\":");
            put_str(buf, outcome);
        }
        if let Some(p) = r.peer() {
            buf.extend_from_slice(b",\"peer\":");
            put_peer(buf, p);
        }
        if let Record::Message { queue_id, .. } = r {
            buf.extend_from_slice(b",\"queue_id\":");
            put_str(buf, queue_id);
        }
        if let Record::Error {
            reason: Some(x), ..
        } = r
        {
            buf.extend_from_slice(b",\"reason\":");
            put_str(buf, x);
        }
        if let Record::Verdict { reject, .. } = r {
            buf.extend_from_slice(b",\"reject\":");
            put_bool(buf, *reject);
        }
        buf.extend_from_slice(b",\"schema\":");
        put_str(buf, EVENT_SCHEMA);
        if let Record::Error { kind, .. } = r {
            buf.extend_from_slice(b",\"side\":");
            put_str(buf, kind.side().as_str());
        }
        if let Record::Message {
            status: Some(s), ..
        } = r
        {
            buf.extend_from_slice(b",\"status\":");
            put_str(buf, s.as_str());
        }
        if let Record::Error { text, .. } = r {
            buf.extend_from_slice(b",\"text\":");
            put_str(buf, text);
        }
        if let Some(t) = &m.time {
            buf.extend_from_slice(b",\"time\":");
            self.time.put(buf, t);
        }
        let tls = match r {
            Record::Session { params, .. } => Some(&**params),
            Record::Message { encryption, .. } => encryption_parts(encryption).1,
            _ => None,
        };
        if let Some(p) = tls {
            buf.extend_from_slice(b",\"tls\":");
            put_tls(buf, p);
        }
        buf.extend_from_slice(b",\"type\":");
        put_str(buf, record_type(r));
        if let Record::Verdict { verify, .. } = r {
            buf.extend_from_slice(b",\"verify\":");
            put_str(buf, verify.as_str());
        }
        if let Record::Start {
            version: Some(v), ..
        } = r
        {
            buf.extend_from_slice(b",\"version\":");
            put_str(buf, v);
        }
        buf.extend_from_slice(b"}\n");
    }
}

/// The commas between the fields of one object being written.
struct Fields {
    first: bool,
}

impl Fields {
    /// `,"key":` (no comma before the first); `key` needs no escaping.
    fn key(&mut self, buf: &mut Vec<u8>, key: &[u8]) {
        if !std::mem::take(&mut self.first) {
            buf.push(b',');
        }
        buf.push(b'"');
        buf.extend_from_slice(key);
        buf.extend_from_slice(b"\":");
    }
}

/// A name as a JSON string, kept while the name repeats: the records of one block share
/// their file name and nearly always their host name, so the escaping is done once.
#[derive(Debug, Default)]
struct Escaped {
    raw: Option<Arc<str>>,
    json: Vec<u8>,
}

impl Escaped {
    fn json(&mut self, s: &Arc<str>) -> &[u8] {
        let same = match &self.raw {
            Some(r) if Arc::ptr_eq(r, s) => true,
            // Each parsed block has its own copy of the name: the same text, kept under
            // the newer pointer so the next record of its block compares by address.
            Some(r) if **r == **s => {
                self.raw = Some(Arc::clone(s));
                true
            }
            _ => false,
        };
        if !same {
            self.json.clear();
            put_str(&mut self.json, s);
            self.raw = Some(Arc::clone(s));
        }
        &self.json
    }
}

/// The RFC 3339 form of [`DateTime::to_rfc3339`], its date, clock and offset formatted once
/// per second: `2026-11-20T23:45:59` and `+00:00` around the fraction (chrono's `AutoSi`:
/// none, 3, 6 or 9 digits).
#[derive(Debug, Default)]
struct TimeCache {
    /// Unix seconds and offset of the second formatted in `head`/`tail`.
    key: Option<(i64, i32)>,
    head: [u8; 19],
    tail: [u8; 6],
}

impl TimeCache {
    fn put(&mut self, buf: &mut Vec<u8>, t: &DateTime<FixedOffset>) {
        let off = t.offset().local_minus_utc();
        let nano = t.nanosecond();
        // A leap second or a year of other than four digits: chrono's own formatting.
        if nano >= 1_000_000_000 {
            put_str(buf, &t.to_rfc3339());
            return;
        }
        let key = (t.timestamp(), off);
        if self.key != Some(key) {
            let Some(head) = crate::model::time_json::date_clock(&t.naive_local()) else {
                put_str(buf, &t.to_rfc3339());
                return;
            };
            self.head = head;
            self.tail = crate::model::time_json::offset(off, false).0;
            self.key = Some(key);
        }
        buf.push(b'"');
        buf.extend_from_slice(&self.head);
        let (frac, len) = crate::model::time_json::fraction(nano);
        buf.extend_from_slice(&frac[..len]);
        buf.extend_from_slice(&self.tail);
        buf.push(b'"');
    }
}

/// `peer`: `{forged?, ip?, key?, name?}` in that (sorted) order, as [`peer_json`] displays.
fn put_peer(buf: &mut Vec<u8>, p: &Peer) {
    buf.push(b'{');
    let mut o = Fields { first: true };
    if p.forged {
        o.key(buf, b"forged");
        buf.extend_from_slice(b"true");
    }
    if let Some(ip) = &p.ip {
        o.key(buf, b"ip");
        put_ip(buf, ip);
    }
    // The key (`Peer::key`) without its `String`: the name lower-cased, else the address.
    match (&p.name, &p.ip) {
        (Some(n), _) => {
            o.key(buf, b"key");
            let at = buf.len();
            put_str(buf, n);
            // The escape of the lower-cased name is the lower-cased escape: letters are
            // never escaped, and the escapes' own letters (`\n`, `\u001f`) are lower-case.
            if let Some(written) = buf.get_mut(at..) {
                written.make_ascii_lowercase();
            }
        }
        (None, Some(ip)) => {
            o.key(buf, b"key");
            put_ip(buf, ip);
        }
        (None, None) => {}
    }
    if let Some(n) = &p.name {
        o.key(buf, b"name");
        put_str(buf, n);
    }
    buf.push(b'}');
}

/// A TLS object as [`tls_json`] displays it: `bits` (always, `{alg?, secret?}`),
/// `cipher?`, `detail?` (its fields sorted), `verify`, `version`.
fn put_tls(buf: &mut Vec<u8>, p: &TlsParams) {
    buf.extend_from_slice(b"{\"bits\":{");
    let mut b = Fields { first: true };
    if let Some(a) = p.bits.alg {
        b.key(buf, b"alg");
        put_u64(buf, u64::from(a));
    }
    if let Some(s) = p.bits.secret {
        b.key(buf, b"secret");
        put_u64(buf, u64::from(s));
    }
    buf.push(b'}');
    if let Some(c) = &p.cipher {
        buf.extend_from_slice(b",\"cipher\":");
        put_str(buf, c.as_str());
    }
    if let Some(d) = &p.detail {
        buf.extend_from_slice(b",\"detail\":{");
        let mut o = Fields { first: true };
        // In the keys' sorted order; `reused` is a flag written only when set.
        let fields: [(&[u8], Option<&str>); 9] = [
            (b"client_digest", d.client_digest.as_deref()),
            (b"client_signature", d.client_signature.as_deref()),
            (b"key_exchange", d.key_exchange.as_deref()),
            (b"peer_dn", d.peer_dn.as_deref()),
            (b"raw_verify", d.raw_verify.as_deref()),
            (b"reused", None),
            (b"server_digest", d.server_digest.as_deref()),
            (b"server_signature", d.server_signature.as_deref()),
            (b"sni", d.sni.as_deref()),
        ];
        for (k, v) in fields {
            if let Some(v) = v {
                o.key(buf, k);
                put_str(buf, v);
            } else if k == b"reused" && d.reused {
                o.key(buf, k);
                buf.extend_from_slice(b"true");
            }
        }
        buf.push(b'}');
    }
    buf.extend_from_slice(b",\"verify\":");
    put_str(buf, p.verify.as_str());
    buf.extend_from_slice(b",\"version\":");
    put_str(buf, p.version.label());
    buf.push(b'}');
}

/// A JSON string with serde_json's escaping: `"` and `\` escaped, the control characters
/// as `\b \t \n \f \r` or `\u00xx` (lower-case hex), everything else (`/`, DEL, non-ASCII)
/// as it is. The text is looked at eight bytes at a time ([`escapes_in`]) and runs without
/// an escape are copied whole: most fields have none.
fn put_str(buf: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    buf.reserve(bytes.len() + 2);
    buf.push(b'"');
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if let Some(chunk) = bytes
            .get(i..i + 8)
            .and_then(|c| <[u8; 8]>::try_from(c).ok())
            && !escapes_in(u64::from_le_bytes(chunk))
        {
            i += 8;
            continue;
        }
        let c = bytes[i];
        i += 1;
        if c >= 0x20 && c != b'"' && c != b'\\' {
            continue;
        }
        buf.extend_from_slice(&bytes[start..i - 1]);
        match c {
            b'"' => buf.extend_from_slice(b"\\\""),
            b'\\' => buf.extend_from_slice(b"\\\\"),
            0x08 => buf.extend_from_slice(b"\\b"),
            b'\t' => buf.extend_from_slice(b"\\t"),
            b'\n' => buf.extend_from_slice(b"\\n"),
            0x0c => buf.extend_from_slice(b"\\f"),
            b'\r' => buf.extend_from_slice(b"\\r"),
            _ => buf.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(c >> 4)],
                HEX[usize::from(c & 0xf)],
            ]),
        }
        start = i;
    }
    buf.extend_from_slice(&bytes[start..]);
    buf.push(b'"');
}

/// Whether any of eight bytes needs a JSON escape: a control character (below 0x20), `"`
/// or `\`. The bit tricks are exact for "any" (a borrow can only set bits above a byte
/// that matches already); bytes of 0x80 and above never match.
fn escapes_in(x: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let below = |v: u64, n: u8| v.wrapping_sub(ONES * u64::from(n)) & !v & HIGHS != 0;
    below(x, 0x20)
        || below(x ^ (ONES * u64::from(b'"')), 1)
        || below(x ^ (ONES * u64::from(b'\\')), 1)
}

fn put_u64(buf: &mut Vec<u8>, v: u64) {
    buf.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

fn put_bool(buf: &mut Vec<u8>, b: bool) {
    buf.extend_from_slice(if b { b"true" } else { b"false" });
}

/// An address as a JSON string (an address needs no escaping): IPv4 digit by digit,
/// IPv6 through its `Display` (its compression rules are std's).
fn put_ip(buf: &mut Vec<u8>, ip: &IpAddr) {
    buf.push(b'"');
    match ip {
        IpAddr::V4(v4) => {
            for (i, o) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    buf.push(b'.');
                }
                put_u64(buf, u64::from(o));
            }
        }
        IpAddr::V6(v6) => {
            use std::fmt::Write as _;
            let mut s = String::with_capacity(40);
            // Writing into a String cannot fail.
            let _ = write!(s, "{v6}");
            buf.extend_from_slice(s.as_bytes());
        }
    }
    buf.push(b'"');
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        Bits, Cipher, DeliveryStatus, Mta, Source, TlsDetail, TlsErrorKind, Verify,
    };
    use chrono::{NaiveDateTime, TimeZone};
    use proptest::prelude::*;

    /// Text with everything JSON escapes (quotes, backslashes, every control character),
    /// DEL, `/`, upper-case letters and non-ASCII, or any string at all.
    fn text() -> BoxedStrategy<String> {
        prop_oneof![
            "[a-zA-Z0-9 .:/\"\\\\\\x00-\\x1f\\x7fé€😀]{0,10}",
            any::<String>(),
        ]
        .boxed()
    }

    fn opt_text() -> impl Strategy<Value = Option<String>> {
        prop::option::of(text())
    }

    /// A time near `base` (so that seconds and offsets repeat from record to record, and
    /// the cached second is used and replaced), or anywhere from year -250 to 11500, with
    /// a fraction of 0, 3, 6 or 9 digits, a leap second, an offset in minutes or with
    /// seconds.
    fn time(base: i64) -> BoxedStrategy<Option<DateTime<FixedOffset>>> {
        let secs = prop_oneof![
            3 => (0i64..3).prop_map(move |d| base + d),
            1 => -70_000_000_000i64..300_000_000_000,
        ];
        let nano = prop_oneof![
            Just(0u32),
            (0u32..1000).prop_map(|m| m * 1_000_000),
            (0u32..1_000_000).prop_map(|u| u * 1000),
            0u32..1_000_000_000,
            1_000_000_000u32..2_000_000_000,
        ];
        let off = prop_oneof![
            Just(0i32),
            Just(3600i32),
            (-1439i32..1440).prop_map(|m| m * 60),
            -86_399i32..86_400,
        ];
        prop::option::weighted(0.9, (secs, nano, off))
            .prop_map(|t| {
                let (secs, nano, off) = t?;
                let utc = DateTime::from_timestamp(secs, 0)?.naive_utc();
                // A leap second's fraction is only valid on a :59 second.
                let utc = NaiveDateTime::new(
                    utc.date(),
                    utc.time()
                        .with_nanosecond(nano)
                        .or_else(|| utc.time().with_nanosecond(nano % 1_000_000_000))?,
                );
                Some(FixedOffset::east_opt(off)?.from_utc_datetime(&utc))
            })
            .boxed()
    }

    fn meta(base: i64) -> BoxedStrategy<Meta> {
        (
            time(base),
            prop::option::of(prop_oneof![Just("mx".to_owned()), text()]),
            0u8..3,
            prop_oneof![Just("/var/log/mail.log".to_owned()), text()],
            any::<u64>(),
        )
            .prop_map(|(time, host, mta, file, line)| Meta {
                time,
                host: host.map(Arc::from),
                mta: [Mta::Sendmail, Mta::Postfix, Mta::Exim][usize::from(mta)],
                source: Source {
                    file: Arc::from(file),
                    line,
                },
            })
            .boxed()
    }

    fn peer() -> BoxedStrategy<Peer> {
        (opt_text(), prop::option::of(any::<IpAddr>()), any::<bool>())
            .prop_map(|(name, ip, forged)| Peer {
                name: name.map(Into::into),
                ip,
                forged,
            })
            .boxed()
    }

    fn word(words: &'static [&'static str]) -> impl Strategy<Value = String> {
        prop_oneof![prop::sample::select(words).prop_map(str::to_owned), text()]
    }

    fn tls() -> BoxedStrategy<TlsParams> {
        let detail = (
            (opt_text(), opt_text(), opt_text(), opt_text()),
            (
                opt_text(),
                any::<bool>(),
                opt_text(),
                opt_text(),
                opt_text(),
            ),
        )
            .prop_map(|((cd, cs, kx, dn), (rv, reused, sd, ss, sni))| TlsDetail {
                raw_verify: rv,
                reused,
                sni,
                peer_dn: dn,
                key_exchange: kx,
                server_signature: ss,
                server_digest: sd,
                client_signature: cs,
                client_digest: cd,
            });
        (
            word(&[
                "TLSv1.3",
                "TLSv1.2",
                "TLSv1",
                "SSLv3",
                "TLSv1/SSLv3",
                "SSLv2",
            ]),
            prop::option::of(text()),
            prop::option::of(any::<u16>()),
            prop::option::of(any::<u16>()),
            word(&[
                "OK", "NO", "NOT", "FAIL", "NONE", "TEMP", "SOFTWARE", "TRUSTED",
            ]),
            prop::option::of(detail.prop_map(Box::new)),
        )
            .prop_map(|(v, cipher, secret, alg, verify, detail)| TlsParams {
                version: TlsVersion::parse(&v),
                cipher: cipher.map(Cipher),
                bits: Bits { secret, alg },
                verify: Verify::parse(&verify),
                detail,
            })
            .boxed()
    }

    fn direction() -> impl Strategy<Value = Direction> {
        prop_oneof![Just(Direction::Inbound), Just(Direction::Outbound)]
    }

    fn record(base: i64) -> BoxedStrategy<Record> {
        let status = prop::option::of(prop::sample::select(vec![
            DeliveryStatus::Sent,
            DeliveryStatus::Deferred,
            DeliveryStatus::Bounced,
            DeliveryStatus::Other,
        ]));
        let encryption = prop_oneof![
            tls().prop_map(|p| Encryption::Tls(p.into())),
            Just(Encryption::TlsUnknown),
            Just(Encryption::Plaintext),
        ];
        prop_oneof![
            (meta(base), direction(), peer(), tls())
                .prop_map(|(meta, direction, peer, params)| {
                    Record::Session {
                        meta,
                        direction,
                        peer,
                        params: params.into(),
                    }
                })
                .boxed(),
            (meta(base), direction(), peer(), text(), encryption, status)
                .prop_map(
                    |(meta, direction, peer, queue_id, encryption, status)| Record::Message {
                        meta,
                        direction,
                        peer,
                        queue_id: queue_id.into(),
                        encryption,
                        status,
                    }
                )
                .boxed(),
            (
                meta(base),
                direction(),
                peer(),
                word(&["NONE", "FAIL"]),
                any::<bool>(),
                text()
            )
                .prop_map(|(meta, direction, peer, v, reject, outcome)| {
                    Record::Verdict {
                        meta,
                        direction,
                        peer,
                        verify: Verify::parse(&v),
                        reject,
                        outcome,
                    }
                })
                .boxed(),
            (meta(base), prop::option::of(direction()))
                .prop_map(|(meta, direction)| { Record::Ready { meta, direction } })
                .boxed(),
            (meta(base), opt_text())
                .prop_map(|(meta, version)| Record::Start { meta, version })
                .boxed(),
            (
                meta(base),
                prop::option::of(direction()),
                prop::option::of(peer()),
                prop::sample::select(TlsErrorKind::ALL.to_vec()),
                text(),
                opt_text()
            )
                .prop_map(|(meta, direction, peer, kind, text, reason)| {
                    Record::Error {
                        meta,
                        direction,
                        peer,
                        kind,
                        text,
                        reason,
                    }
                })
                .boxed(),
        ]
        .boxed()
    }

    fn records() -> impl Strategy<Value = Vec<Record>> {
        (1_600_000_000i64..1_900_000_000)
            .prop_flat_map(|base| prop::collection::vec(record(base), 1..24))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        /// Through one writer (its caches carried from record to record), every line is
        /// the displayed `event_json` of its record: every record type, every optional
        /// field present or not, every escape, times of any year, fraction, leap second
        /// and offset, IPv4 and IPv6 peers.
        #[test]
        fn the_writer_writes_the_bytes_of_the_value(rs in records()) {
            let mut w = EventWriter::default();
            let mut buf = Vec::new();
            for r in &rs {
                buf.clear();
                w.write(&mut buf, r);
                prop_assert_eq!(String::from_utf8_lossy(&buf), format!("{}\n", event_json(r)));
            }
        }
    }

    #[test]
    fn the_cached_second_is_not_reused_across_offsets_or_files() {
        // The same instant in two offsets, then the next second, each through one writer:
        // every line has its own time and file.
        let at = |secs: i64, nano: u32, off: i32, file: &str| {
            let t = DateTime::from_timestamp(secs, nano)
                .and_then(|t| Some(t.with_timezone(&FixedOffset::east_opt(off)?)));
            Record::Start {
                meta: Meta {
                    time: t,
                    host: None,
                    mta: Mta::Postfix,
                    source: Source {
                        file: Arc::from(file),
                        line: 1,
                    },
                },
                version: None,
            }
        };
        let rs = [
            at(1_795_000_000, 0, 0, "a"),
            at(1_795_000_000, 5_000_000, 3600, "a"),
            at(1_795_000_000, 5_000_000, 3600, "b\"\n"),
            at(1_795_000_001, 123, 3600, "b\"\n"),
        ];
        let mut w = EventWriter::default();
        let mut lines = Vec::new();
        for r in &rs {
            let mut buf = Vec::new();
            w.write(&mut buf, r);
            lines.push(String::from_utf8_lossy(&buf).into_owned());
        }
        assert!(
            lines[0].contains(r#""time":"2026-11-18T11:06:40+00:00""#),
            "{}",
            lines[0]
        );
        assert!(
            lines[1].contains(r#""time":"2026-11-18T12:06:40.005+01:00""#),
            "{}",
            lines[1]
        );
        assert!(lines[2].contains(r#""file":"b\"\n""#), "{}", lines[2]);
        assert!(
            lines[3].contains(r#""time":"2026-11-18T12:06:41.000000123+01:00""#),
            "{}",
            lines[3]
        );
        for (l, r) in lines.iter().zip(&rs) {
            assert_eq!(*l, format!("{}\n", event_json(r)));
        }
    }
}
