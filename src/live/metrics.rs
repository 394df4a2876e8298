//! Counters over what `follow` saw, rendered as Prometheus text exposition (format 0.0.4)
//! for `--metrics ADDR`.
//!
//! Every label takes values from a closed set, so the number of series stays bounded
//! whatever the log says: directions, protocol labels and verify words we know (anything
//! else is `other`), cipher *families* rather than cipher names, error kinds. The one
//! label drawn from the log, `peer`, is kept to the top N peers by messages (plus
//! `peer="other"`): a bounded table of candidate counts ranks peers, a peer enters the top
//! N when it is busier than the quietest member by a margin, and the member it replaces
//! loses its series. A series only ever counts from the moment its peer entered, and
//! `other` only ever grows, so every exposed counter is monotonic as Prometheus requires.
//!
//! Counters start at zero with the process (a restart is an ordinary counter reset for
//! `rate()`); `--state` only guarantees that events are not repeated.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, FixedOffset};

use crate::live::{Alert, LiveCounts};
use crate::model::{Cipher, DeliveryStatus, Direction, TlsErrorKind, TlsVersion, Verify};
use crate::model::{Encryption, Record};

/// Default number of peers with their own series.
pub const DEFAULT_TOP_PEERS: usize = 20;

/// The family of a cipher suite as a closed set of label values; the one classifier is
/// [`crate::analysis::policy::CipherFamily`], shared with the policy and the charts.
pub fn cipher_family(c: Option<&Cipher>) -> &'static str {
    match c {
        Some(c) => crate::analysis::policy::family_of(c).metric_label(),
        None => "unknown",
    }
}

fn version_label(v: &TlsVersion) -> &str {
    match v {
        TlsVersion::Other(_) => "other",
        known => known.label(),
    }
}

fn verify_label(v: &Verify) -> &str {
    match v {
        // `Unknown` was an unknown word before it had its variant: the label stays.
        Verify::Other(_) | Verify::Unknown => "other",
        known => known.as_str(),
    }
}

fn dir_label(d: Direction) -> &'static str {
    match d {
        Direction::Inbound => "inbound",
        Direction::Outbound => "outbound",
    }
}

/// Per-peer message counts, bounded; see the module documentation.
#[derive(Debug, Clone)]
pub struct PeerTop {
    n: usize,
    /// Candidates ranked by messages; at most `cap` entries.
    activity: HashMap<String, u64>,
    cap: usize,
    /// Peers with their own series → counts since they entered.
    members: BTreeMap<String, BTreeMap<(Direction, &'static str), u64>>,
    other: BTreeMap<(Direction, &'static str), u64>,
}

impl PeerTop {
    pub fn new(n: usize) -> PeerTop {
        PeerTop {
            n,
            activity: HashMap::new(),
            cap: (n * 50).max(1000),
            members: BTreeMap::new(),
            other: BTreeMap::new(),
        }
    }

    /// Counts one message of `peer`. A key is copied only when it enters a table (a new
    /// candidate, a new member), never per message: the quietest member is found by
    /// reference.
    pub fn add(&mut self, peer: &str, dir: Direction, enc: &'static str) {
        let seen = match self.activity.get_mut(peer) {
            Some(c) => {
                *c += 1;
                *c
            }
            None => {
                self.activity.insert(peer.to_owned(), 1);
                1
            }
        };
        if self.activity.len() > self.cap {
            self.shrink();
        }
        if !self.members.contains_key(peer) && self.n > 0 {
            if self.members.len() < self.n {
                self.members.insert(peer.to_owned(), BTreeMap::new());
            } else {
                let activity = &self.activity;
                let quietest = self
                    .members
                    .keys()
                    .map(|k| (activity.get(k).copied().unwrap_or(0), k.as_str()))
                    .min();
                if let Some((quiet_n, quiet)) = quietest
                    && seen > quiet_n + (quiet_n / 10).max(1)
                {
                    let quiet = quiet.to_owned();
                    self.members.remove(&quiet);
                    self.members.insert(peer.to_owned(), BTreeMap::new());
                }
            }
        }
        let slot = match self.members.get_mut(peer) {
            Some(m) => m,
            None => &mut self.other,
        };
        *slot.entry((dir, enc)).or_insert(0) += 1;
    }

    /// Forgets the quieter half of the candidates that are not members.
    fn shrink(&mut self) {
        let mut v: Vec<(String, u64)> = self
            .activity
            .iter()
            .filter(|(k, _)| !self.members.contains_key(*k))
            .map(|(k, c)| (k.clone(), *c))
            .collect();
        v.sort_by_key(|(_, c)| *c);
        for (k, _) in v.iter().take(v.len() / 2 + 1) {
            self.activity.remove(k);
        }
    }

    /// The exposed series: (peer label, direction, encryption, count).
    pub fn series(&self) -> Vec<(&str, Direction, &'static str, u64)> {
        let mut out = Vec::new();
        for (peer, m) in &self.members {
            for ((d, e), c) in m {
                out.push((peer.as_str(), *d, *e, *c));
            }
        }
        for ((d, e), c) in &self.other {
            out.push(("other", *d, *e, *c));
        }
        out
    }
}

/// Everything `/metrics` shows.
#[derive(Debug, Clone)]
pub struct Metrics {
    sessions: BTreeMap<(Direction, String, String, &'static str), u64>,
    messages: BTreeMap<(Direction, &'static str), u64>,
    errors: BTreeMap<TlsErrorKind, u64>,
    alerts: BTreeMap<&'static str, u64>,
    peers: PeerTop,
    last_event: Option<DateTime<FixedOffset>>,
    tls_broken: bool,
    counts: LiveCounts,
    started: SystemTime,
    /// TLS-RPT counters, when `follow --tlsrpt-dir` watches a directory of reports.
    pub tlsrpt: Option<crate::live::watch::Counters>,
}

impl Metrics {
    /// `top_peers` peers get their own series.
    pub fn new(top_peers: usize) -> Metrics {
        Metrics {
            sessions: BTreeMap::new(),
            messages: BTreeMap::new(),
            errors: BTreeMap::new(),
            alerts: BTreeMap::new(),
            peers: PeerTop::new(top_peers),
            last_event: None,
            tls_broken: false,
            counts: LiveCounts::default(),
            started: SystemTime::now(),
            tlsrpt: None,
        }
    }

    pub fn record(&mut self, r: &Record) {
        if let Some(t) = r.meta().time {
            self.last_event = Some(self.last_event.map_or(t, |l| l.max(t)));
        }
        match r {
            Record::Session {
                direction, params, ..
            } => {
                let key = (
                    *direction,
                    version_label(&params.version).to_owned(),
                    verify_label(&params.verify).to_owned(),
                    cipher_family(params.cipher.as_ref()),
                );
                *self.sessions.entry(key).or_insert(0) += 1;
            }
            // Messages received, or delivered (`stat=Sent`), as in the posture: a deferred
            // message retried ten times is one message, not ten.
            Record::Message {
                direction,
                peer,
                encryption,
                status: None | Some(DeliveryStatus::Sent),
                ..
            } => {
                let enc = match encryption {
                    Encryption::Plaintext => "plaintext",
                    Encryption::Tls(_) | Encryption::TlsUnknown => "tls",
                };
                *self.messages.entry((*direction, enc)).or_insert(0) += 1;
                let key = peer.key().unwrap_or_else(|| "unknown".to_owned());
                self.peers.add(&key, *direction, enc);
            }
            Record::Error { kind, .. } => *self.errors.entry(*kind).or_insert(0) += 1,
            Record::Message { .. }
            | Record::Verdict { .. }
            | Record::Ready { .. }
            | Record::Start { .. } => {}
        }
    }

    pub fn alert(&mut self, a: &Alert) {
        *self.alerts.entry(a.name()).or_insert(0) += 1;
    }

    /// Line counts and whether TLS is currently broken, from the live pipeline.
    pub fn set_state(&mut self, counts: &LiveCounts, tls_broken: bool) {
        self.counts = counts.clone();
        self.tls_broken = tls_broken;
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut s = String::with_capacity(4096);
        family(
            &mut s,
            "mailtls_tls_sessions_total",
            "counter",
            "TLS negotiations, by direction, protocol version, certificate verification (Sendmail's verify words) and cipher family.",
        );
        for ((d, v, ver, fam), n) in &self.sessions {
            sample(
                &mut s,
                "mailtls_tls_sessions_total",
                &[
                    ("direction", dir_label(*d)),
                    ("version", v),
                    ("verify", ver),
                    ("cipher_family", fam),
                ],
                *n as f64,
            );
        }
        family(
            &mut s,
            "mailtls_messages_total",
            "counter",
            "Messages received from peers or delivered to them (stat=Sent), by direction and encryption (tls or plaintext).",
        );
        for d in [Direction::Inbound, Direction::Outbound] {
            for e in ["plaintext", "tls"] {
                let n = self.messages.get(&(d, e)).copied().unwrap_or(0);
                sample(
                    &mut s,
                    "mailtls_messages_total",
                    &[("direction", dir_label(d)), ("encryption", e)],
                    n as f64,
                );
            }
        }
        family(
            &mut s,
            "mailtls_tls_errors_total",
            "counter",
            "TLS errors by kind (local kinds: private_key, certificate, ca_locations, unsafe_file, missing_file, cipher_config, init).",
        );
        for (k, n) in &self.errors {
            sample(
                &mut s,
                "mailtls_tls_errors_total",
                &[("kind", k.as_str())],
                *n as f64,
            );
        }
        family(
            &mut s,
            "mailtls_alerts_total",
            "counter",
            "Alerts raised: tls_disabled (our key or certificate failed), downgrade (plaintext with a peer that used TLS before), tls_resumed, no_tls (a host of ours that does no TLS at all in a role).",
        );
        for a in ["tls_disabled", "downgrade", "tls_resumed", "no_tls"] {
            let n = self.alerts.get(a).copied().unwrap_or(0);
            sample(&mut s, "mailtls_alerts_total", &[("alert", a)], n as f64);
        }
        family(
            &mut s,
            "mailtls_tls_broken",
            "gauge",
            "1 while a local TLS failure is unresolved (no TLS session since), else 0.",
        );
        sample(
            &mut s,
            "mailtls_tls_broken",
            &[],
            if self.tls_broken { 1.0 } else { 0.0 },
        );
        family(
            &mut s,
            "mailtls_peer_messages_total",
            "counter",
            "Messages per peer for the busiest peers (bounded); all others are counted under peer=\"other\".",
        );
        for (p, d, e, n) in self.peers.series() {
            sample(
                &mut s,
                "mailtls_peer_messages_total",
                &[("peer", p), ("direction", dir_label(d)), ("encryption", e)],
                n as f64,
            );
        }
        if let Some(t) = self.last_event {
            family(
                &mut s,
                "mailtls_last_event_timestamp_seconds",
                "gauge",
                "Log time of the newest record seen, in seconds since the epoch.",
            );
            let secs = t.timestamp() as f64 + f64::from(t.timestamp_subsec_millis()) / 1000.0;
            sample(&mut s, "mailtls_last_event_timestamp_seconds", &[], secs);
        }
        let c = &self.counts;
        for (name, help, v) in [
            ("mailtls_follow_lines_total", "Log lines read.", c.lines),
            (
                "mailtls_follow_lines_recognized_total",
                "Log lines that yielded an event.",
                c.recognized,
            ),
            (
                "mailtls_follow_lines_malformed_total",
                "Log lines that looked like mail-log lines but could not be read.",
                c.malformed,
            ),
        ] {
            family(&mut s, name, "counter", help);
            sample(&mut s, name, &[], v as f64);
        }
        family(
            &mut s,
            "mailtls_follow_rotations_total",
            "counter",
            "Log rotations followed: rename (a new file under the name) or truncate (copytruncate).",
        );
        sample(
            &mut s,
            "mailtls_follow_rotations_total",
            &[("kind", "rename")],
            c.rotations as f64,
        );
        sample(
            &mut s,
            "mailtls_follow_rotations_total",
            &[("kind", "truncate")],
            c.truncations as f64,
        );
        family(
            &mut s,
            "mailtls_follow_losses_total",
            "counter",
            "Times log data was lost before it was read: logrotate's copytruncate gap, a truncated file without a copy, a checkpointed file gone before its rest was read.",
        );
        sample(&mut s, "mailtls_follow_losses_total", &[], c.losses as f64);
        family(
            &mut s,
            "mailtls_follow_lost_bytes_total",
            "counter",
            "Bytes of the log known lost in those (a gone checkpointed file adds none).",
        );
        sample(
            &mut s,
            "mailtls_follow_lost_bytes_total",
            &[],
            c.lost_bytes as f64,
        );
        family(
            &mut s,
            "mailtls_build_info",
            "gauge",
            "Always 1; the version of mailtls.",
        );
        sample(
            &mut s,
            "mailtls_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))],
            1.0,
        );
        let started = self
            .started
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        family(
            &mut s,
            "process_start_time_seconds",
            "gauge",
            "Start time of the process since unix epoch in seconds.",
        );
        sample(&mut s, "process_start_time_seconds", &[], started);
        let p = process_stats();
        if let Some(cpu) = p.cpu_seconds {
            family(
                &mut s,
                "process_cpu_seconds_total",
                "counter",
                "Total user and system CPU time spent in seconds.",
            );
            sample(&mut s, "process_cpu_seconds_total", &[], cpu);
        }
        if let Some(rss) = p.rss_bytes {
            family(
                &mut s,
                "process_resident_memory_bytes",
                "gauge",
                "Resident memory size in bytes.",
            );
            sample(&mut s, "process_resident_memory_bytes", &[], rss as f64);
        }
        if let Some(t) = &self.tlsrpt {
            t.render(&mut s);
        }
        s
    }
}

pub(crate) fn family(s: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(s, "# HELP {name} {}", help.replace('\\', "\\\\"));
    let _ = writeln!(s, "# TYPE {name} {kind}");
}

pub(crate) fn sample(s: &mut String, name: &str, labels: &[(&str, &str)], v: f64) {
    s.push_str(name);
    if !labels.is_empty() {
        s.push('{');
        for (i, (k, val)) in labels.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            let _ = write!(s, "{k}=\"");
            for ch in val.chars() {
                match ch {
                    '\\' => s.push_str("\\\\"),
                    '"' => s.push_str("\\\""),
                    '\n' => s.push_str("\\n"),
                    c => s.push(c),
                }
            }
            s.push('"');
        }
        s.push('}');
    }
    let _ = writeln!(s, " {v}");
}

/// This process's CPU time and resident memory, where the platform tells.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessStats {
    pub cpu_seconds: Option<f64>,
    pub rss_bytes: Option<u64>,
}

/// Reads [`ProcessStats`]: the process CPU clock and `/proc/self/statm`.
pub fn process_stats() -> ProcessStats {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    let cpu_seconds = Some(t.tv_sec as f64 + t.tv_nsec as f64 / 1e9);
    let page = rustix::param::page_size() as u64;
    let rss_bytes = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map(|pages| pages * page);
    ProcessStats {
        cpu_seconds,
        rss_bytes,
    }
}

/// The `--metrics` HTTP endpoint: one acceptor thread and a small fixed pool of workers
/// fed through a bounded queue, so that what connects cannot make threads (a thread per
/// connection made 206 threads for 200 idle connections). A connection that finds the
/// queue full gets `503` and is closed at once; a worker gives a connection
/// [`HTTP_IO_TIMEOUT`] to send its request and to take the answer, so idle connections
/// hold a worker only that long. Answers close the connection (`Connection: close`):
/// Prometheus reconnects per scrape anyway.
pub struct HttpServer {
    addr: std::net::SocketAddr,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    acceptor: Option<std::thread::JoinHandle<()>>,
    workers: Vec<std::thread::JoinHandle<()>>,
}

/// Worker threads of the metrics endpoint.
pub const HTTP_WORKERS: usize = 2;
/// Accepted connections waiting for a worker, at most.
pub const HTTP_QUEUE: usize = 16;
/// How long a connection may take to send its request or to take the answer.
pub const HTTP_IO_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

impl HttpServer {
    /// Binds `addr` and serves `GET /metrics` with what `render` returns (404 elsewhere).
    pub fn serve(
        addr: std::net::SocketAddr,
        render: impl Fn() -> String + Send + Sync + 'static,
    ) -> std::io::Result<HttpServer> {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::{Arc, Mutex, mpsc};
        let listener = std::net::TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::sync_channel::<std::net::TcpStream>(HTTP_QUEUE);
        let rx = Arc::new(Mutex::new(rx));
        let render = Arc::new(render);
        let workers = (0..HTTP_WORKERS)
            .map(|_| {
                let rx = Arc::clone(&rx);
                let render = Arc::clone(&render);
                std::thread::spawn(move || {
                    loop {
                        let next = rx
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .recv();
                        match next {
                            Ok(conn) => answer(conn, &*render),
                            Err(_) => return, // the acceptor stopped
                        }
                    }
                })
            })
            .collect();
        let stopping = Arc::clone(&stop);
        let acceptor = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                match tx.try_send(conn) {
                    Ok(()) => {}
                    Err(mpsc::TrySendError::Full(mut conn)) => {
                        let _ = conn.set_nonblocking(true);
                        let _ = std::io::Write::write_all(
                            &mut conn,
                            b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                        );
                    }
                    Err(mpsc::TrySendError::Disconnected(_)) => return,
                }
            }
        });
        Ok(HttpServer {
            addr,
            stop,
            acceptor: Some(acceptor),
            workers,
        })
    }

    /// The address actually bound (port 0 resolved).
    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    /// Stops accepting, lets the workers finish what they hold, and joins them.
    pub fn stop(mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        // Wake the blocking accept.
        let _ = std::net::TcpStream::connect_timeout(&self.addr, HTTP_IO_TIMEOUT);
        if let Some(a) = self.acceptor.take() {
            let _ = a.join();
        }
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

/// Reads one request head (8 KiB at most) and answers it.
fn answer(mut conn: std::net::TcpStream, render: &dyn Fn() -> String) {
    use std::io::{Read, Write};
    let _ = conn.set_read_timeout(Some(HTTP_IO_TIMEOUT));
    let _ = conn.set_write_timeout(Some(HTTP_IO_TIMEOUT));
    let mut buf = vec![0u8; 8192];
    let mut len = 0;
    let path = loop {
        let n = match conn.read(buf.get_mut(len..).unwrap_or_default()) {
            Ok(0) | Err(_) => return, // closed or idle past the timeout
            Ok(n) => n,
        };
        len += n;
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(buf.get(..len).unwrap_or_default()) {
            Ok(httparse::Status::Complete(_)) => {
                break (req.method == Some("GET") || req.method == Some("HEAD")).then(|| {
                    req.path
                        .unwrap_or("")
                        .split('?')
                        .next()
                        .unwrap_or("")
                        .to_owned()
                });
            }
            Ok(httparse::Status::Partial) if len < buf.len() => {}
            _ => break None,
        }
    };
    let (status, ctype, body) = match path.as_deref() {
        Some("/metrics") => (
            "200 OK",
            "text/plain; version=0.0.4; charset=utf-8",
            render(),
        ),
        Some(_) => (
            "404 Not Found",
            "text/plain; charset=utf-8",
            "mailtls: see /metrics\n".to_owned(),
        ),
        None => (
            "400 Bad Request",
            "text/plain; charset=utf-8",
            String::new(),
        ),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = conn.write_all(head.as_bytes());
    let _ = conn.write_all(body.as_bytes());
    let _ = conn.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `verify` label is a closed set: the log's silence (`UNKNOWN`, now its own
    /// variant) stays under `other` with the unknown words, as before it had one.
    #[test]
    fn verify_labels_keep_unknown_under_other() {
        assert_eq!(verify_label(&Verify::parse("UNKNOWN")), "other");
        assert_eq!(verify_label(&Verify::parse("MAYBE")), "other");
        assert_eq!(verify_label(&Verify::parse("FAIL")), "FAIL");
    }

    #[test]
    fn cipher_families() {
        let rows = [
            ("TLS_AES_256_GCM_SHA384", "aes-gcm"),
            ("ECDHE-RSA-AES256-GCM-SHA384", "aes-gcm"),
            ("TLS_CHACHA20_POLY1305_SHA256", "chacha20-poly1305"),
            ("ECDHE-RSA-AES128-SHA", "aes-cbc"),
            ("DHE-RSA-AES256-CCM", "aes-ccm"),
            ("DES-CBC3-SHA", "3des"),
            ("TLS_RSA_WITH_3DES_EDE_CBC_SHA", "3des"),
            ("RC4-SHA", "rc4"),
            ("EDH-RSA-DES-CBC-SHA", "des"),
            ("CAMELLIA256-SHA", "camellia"),
            ("WEIRD-CIPHER", "other"),
            // Anonymous and EXPORT suites are named as such (the policy's classifier):
            // OpenSSL, IANA and GnuTLS spellings.
            ("EXP-RC4-MD5", "export"),
            ("TLS_RSA_EXPORT_WITH_RC4_40_MD5", "export"),
            ("RSA_EXPORT_ARCFOUR_40_MD5", "export"),
            ("ADH-AES256-GCM-SHA384", "anonymous"),
            ("AECDH-AES128-SHA", "anonymous"),
            ("TLS_DH_anon_WITH_AES_128_CBC_SHA", "anonymous"),
            ("ANON_DH_AES_128_CBC_SHA1", "anonymous"),
            ("RSA_ARCFOUR_128_SHA1", "rc4"),
        ];
        for (name, fam) in rows {
            assert_eq!(cipher_family(Some(&Cipher::new(name))), fam, "{name}");
        }
        assert_eq!(cipher_family(None), "unknown");
    }

    #[test]
    fn peer_series_stay_bounded_and_monotonic() {
        let mut top = PeerTop::new(2);
        let d = Direction::Inbound;
        for p in ["a", "b", "c", "c", "c", "c"] {
            top.add(p, d, "tls");
        }
        // a and b took the two slots; c overtook the quieter of them (a) by the margin
        // on its third message, and its series counts from then on: its first two stay
        // in `other`, and a's series ends (no counter goes down; a's one message leaves
        // the exposition with its series).
        let s = top.series();
        assert_eq!(
            s,
            vec![
                ("b", d, "tls", 1),
                ("c", d, "tls", 2),
                ("other", d, "tls", 2)
            ]
        );
        // Thousands of one-off peers never add series.
        for i in 0..5000 {
            top.add(&format!("p{i}"), d, "plaintext");
        }
        let s = top.series();
        assert_eq!(s.len(), 4, "{s:?}");
        assert!(top.activity.len() <= top.cap);
        assert_eq!(s.iter().map(|x| x.3).sum::<u64>(), 5 + 5000);
    }

    #[test]
    fn label_values_are_escaped() {
        let mut s = String::new();
        sample(&mut s, "m", &[("peer", "a\"b\\c\nd")], 2.0);
        assert_eq!(s, "m{peer=\"a\\\"b\\\\c\\nd\"} 2\n");
    }
}
