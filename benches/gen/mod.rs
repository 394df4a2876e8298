//! The deterministic sample generator: realistic mixed mail logs and mbox files of any
//! size, and the counts mailtls must find in them.
//!
//! Shared by the `gen` example (`cargo run --release --example gen -- …`, see
//! `benches/README.md`) and the correctness test `tests/it/generated.rs`, which includes
//! this file with `#[path]`: the test then generates a small log in memory, scans it with
//! the real binary and compares every peer's counts with [`Expected`].
//!
//! Everything follows from the seed: a SplitMix64 stream (hand-written on purpose, so a
//! seed gives the same bytes on every platform and every version of every crate) drives
//! which MTA, direction, peer (Zipf-distributed over `peers`), TLS or plaintext, and error
//! each session gets. Line shapes are the ones the parsers read (FORMATS.md §1–3):
//! Sendmail `sm-mta[pid]` with 14-character queue ids, Postfix `postfix/<daemon>[pid]`
//! with 10-hex-digit queue ids and `connect`/`disconnect` framing, Exim via syslog with
//! `1aZ1HS-0006iF-Rk` message ids; plus the unrelated traffic of a real mail host (cron,
//! systemd, dovecot, milters, qmgr bookkeeping), so that about 60% of the lines are of no
//! interest to mailtls.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

/// What to generate.
#[derive(Debug, Clone)]
pub struct Config {
    pub seed: u64,
    /// Stop after the session that brings the output to at least this many bytes.
    pub bytes: u64,
    /// Relative weights of Sendmail, Postfix and Exim sessions.
    pub mix: [u32; 3],
    /// Number of distinct peer domains (Zipf-distributed).
    pub peers: usize,
    /// Zipf exponent.
    pub zipf_s: f64,
    /// How many days the timestamps span (estimated from `bytes`).
    pub days: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: 7,
            bytes: 10 << 20,
            mix: [45, 40, 15],
            peers: 2000,
            zipf_s: 1.1,
            days: 5,
        }
    }
}

/// Counts of one direction of one peer, as `mailtls scan --format json` reports them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DirCounts {
    pub tls_sessions: u64,
    pub tls_messages: u64,
    pub plaintext_messages: u64,
    pub deferred: u64,
}

/// Counts of one peer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PeerCounts {
    pub inbound: DirCounts,
    pub outbound: DirCounts,
}

/// What a generated log holds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Expected {
    pub schema: &'static str,
    pub seed: u64,
    pub bytes: u64,
    pub lines: u64,
    /// Lines that carry TLS content (a negotiation, a TLS error, an Exim `X=`).
    pub tls_lines: u64,
    /// Lines no parser turns into an event (noise and MTA bookkeeping).
    pub irrelevant_lines: u64,
    /// Lines per MTA (noise not counted).
    pub lines_by_mta: BTreeMap<&'static str, u64>,
    /// Postfix lines only (what pflogsumm and mtail read in the benchmark).
    pub sessions: u64,
    /// Per peer key (the lower-case host name mailtls reports).
    pub peers: BTreeMap<String, PeerCounts>,
}

/// What a generated mbox holds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MboxExpected {
    pub schema: &'static str,
    pub seed: u64,
    pub bytes: u64,
    pub messages: u64,
    pub received_headers: u64,
}

mod rng;
pub use rng::Rng;

/// Zipf over `1..=n` by inverse CDF (binary search in the cumulative weights).
pub struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    pub fn new(n: usize, s: f64) -> Zipf {
        let mut cdf = Vec::with_capacity(n);
        let mut acc = 0.0;
        for k in 1..=n.max(1) {
            acc += 1.0 / (k as f64).powf(s);
            cdf.push(acc);
        }
        Zipf { cdf }
    }
    /// A rank in `0..n`, rank 0 the most frequent.
    pub fn sample(&self, rng: &mut Rng) -> usize {
        let total = self.cdf.last().copied().unwrap_or(1.0);
        let u = (rng.next() >> 11) as f64 / (1u64 << 53) as f64 * total;
        self.cdf.partition_point(|&c| c < u).min(self.cdf.len() - 1)
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const DAYS_IN: [u32; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/// A clock that advances in milliseconds from Nov 20 of the generated year.
struct Clock {
    ms: u64,
}

impl Clock {
    /// `Mon dd HH:MM:SS` (RFC 3164, space-padded day).
    fn syslog(&self) -> String {
        let secs = self.ms / 1000;
        let (mut month, mut day) = (10usize, 20 + (secs / 86400) as u32);
        while day > DAYS_IN[month] {
            day -= DAYS_IN[month];
            month = (month + 1) % 12;
        }
        let s = secs % 86400;
        format!(
            "{} {:>2} {:02}:{:02}:{:02}",
            MONTHS[month],
            day,
            s / 3600,
            s / 60 % 60,
            s % 60
        )
    }
}

/// Domains and addresses of the peers.
struct Peers {
    zipf: Zipf,
}

const WORDS: [&str; 16] = [
    "acme",
    "globex",
    "initech",
    "umbrella",
    "hooli",
    "vandelay",
    "stark",
    "wayne",
    "tyrell",
    "cyberdyne",
    "soylent",
    "wonka",
    "oscorp",
    "aperture",
    "gringotts",
    "monarch",
];
const TLDS: [&str; 6] = [
    "example",
    "example.com",
    "example.net",
    "example.org",
    "test",
    "invalid",
];

fn domain(i: usize) -> String {
    format!("{}{}.{}", WORDS[i % 16], i / 16, TLDS[(i / 7) % 6])
}

fn ipv4(i: usize, which: u8) -> String {
    // 198.18.0.0/15 (benchmarking range): room for 65k peers × 2 addresses.
    let n = (i as u32) * 2 + u32::from(which);
    format!(
        "198.{}.{}.{}",
        18 + (n >> 16),
        (n >> 8) & 0xff,
        (n & 0xff).max(1)
    )
}

fn ipv6(i: usize) -> String {
    format!("2001:db8:{:x}::25", i + 1)
}

/// A peer as the MTAs will name it.
struct Peer {
    /// Inbound host: `mail-out.<domain>`; outbound MX: `mx1.<domain>`.
    in_name: String,
    in_ip: String,
    out_name: String,
    out_ip: String,
    domain: String,
}

fn peer(i: usize) -> Peer {
    let d = domain(i);
    let v6 = i % 11 == 3;
    Peer {
        in_name: format!("mail-out.{d}"),
        in_ip: if v6 { ipv6(i) } else { ipv4(i, 0) },
        out_name: format!("mx{}.{d}", 1 + i % 2),
        out_ip: ipv4(i, 1),
        domain: d,
    }
}

/// TLS parameters in the three notations.
struct Suite {
    version: &'static str,
    cipher: &'static str,
    bits: u16,
    exim_version: &'static str,
}

const SUITES: [Suite; 4] = [
    Suite {
        version: "TLSv1.3",
        cipher: "TLS_AES_256_GCM_SHA384",
        bits: 256,
        exim_version: "TLS1.3",
    },
    Suite {
        version: "TLSv1.3",
        cipher: "TLS_AES_128_GCM_SHA256",
        bits: 128,
        exim_version: "TLS1.3",
    },
    Suite {
        version: "TLSv1.2",
        cipher: "ECDHE-RSA-AES256-GCM-SHA384",
        bits: 256,
        exim_version: "TLS1.2",
    },
    Suite {
        version: "TLSv1.2",
        cipher: "ECDHE-RSA-AES128-GCM-SHA256",
        bits: 128,
        exim_version: "TLS1.2",
    },
];

const LOCAL_USERS: [&str; 6] = ["alice", "bob", "carol", "dave", "erin", "frank"];
const ME: &str = "example.net";

/// Sendmail-style queue id: `6AR1CheR011422` (year, month, day, hour, min, sec, seq, pid).
fn sendmail_qid(clock: &Clock, seq: u64, pid: u32) -> String {
    const C: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwx";
    let s = clock.ms / 1000;
    let hour = ((s / 3600) % 24) as usize;
    let min = ((s / 60) % 60) as usize;
    let sec = (s % 60) as usize;
    let day = (20 + s / 86400) as usize % 31;
    format!(
        "6A{}{}{}{}{:02}{:06}",
        C[day] as char,
        C[hour] as char,
        C[min] as char,
        C[sec] as char,
        seq % 100,
        pid % 1_000_000
    )
}

fn postfix_qid(n: u64) -> String {
    format!(
        "{:010X}",
        (n.wrapping_mul(0x9E37_79B1) & 0xFF_FFFF_FFFF) | 0x10_0000_0000
    )
}

fn exim_id(n: u64) -> String {
    const C: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut v = n.wrapping_mul(0x2545_F491_4F6C_DD1D) | (1 << 62);
    let mut s = String::with_capacity(16);
    for i in 0..14 {
        if i == 6 || i == 12 {
            s.push('-');
        }
        s.push(C[(v % 62) as usize] as char);
        v /= 62;
        if v == 0 {
            v = n + 17;
        }
    }
    s
}

/// Writes lines, counting them.
struct Out<W: Write> {
    w: W,
    bytes: u64,
    lines: u64,
    tls_lines: u64,
    irrelevant: u64,
    by_mta: [u64; 3],
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// No parser makes an event of it.
    Noise,
    /// An event, no TLS content.
    Event,
    /// An event with TLS content.
    Tls,
}

impl<W: Write> Out<W> {
    #[allow(clippy::too_many_arguments)]
    fn line(
        &mut self,
        stamp: &str,
        host: &str,
        prog: &str,
        pid: u32,
        mta: Option<usize>,
        kind: Kind,
        msg: &str,
    ) -> io::Result<()> {
        let l = format!("{stamp} {host} {prog}[{pid}]: {msg}\n");
        self.w.write_all(l.as_bytes())?;
        self.bytes += l.len() as u64;
        self.lines += 1;
        match kind {
            Kind::Noise => self.irrelevant += 1,
            Kind::Tls => self.tls_lines += 1,
            Kind::Event => {}
        }
        if let Some(m) = mta {
            self.by_mta[m] += 1;
        }
        Ok(())
    }
}

/// The generator's state across sessions.
struct Gen {
    rng: Rng,
    clock: Clock,
    step_ms: u64,
    peers: Peers,
    pid: u32,
    seq: u64,
    expected: BTreeMap<String, PeerCounts>,
}

impl Gen {
    fn next_pid(&mut self) -> u32 {
        self.pid = if self.pid >= 4_190_000 {
            1000
        } else {
            self.pid + 1 + self.rng.below(3) as u32
        };
        self.pid
    }
    fn tick(&mut self) {
        self.clock.ms += 1 + self.rng.below(self.step_ms * 2);
    }
    fn counts(&mut self, key: &str) -> &mut PeerCounts {
        self.expected.entry(key.to_ascii_lowercase()).or_default()
    }
}

/// Writes a mixed mail log of at least `cfg.bytes` bytes to `w`.
pub fn write_log<W: Write>(cfg: &Config, w: W) -> io::Result<Expected> {
    let mut out = Out {
        w,
        bytes: 0,
        lines: 0,
        tls_lines: 0,
        irrelevant: 0,
        by_mta: [0; 3],
    };
    // About 900 bytes per session on average.
    let sessions_est = (cfg.bytes / 900).max(1);
    let step_ms = (u64::from(cfg.days.max(1)) * 86_400_000 / sessions_est).max(1);
    let mut g = Gen {
        rng: Rng::new(cfg.seed),
        clock: Clock { ms: 0 },
        step_ms,
        peers: Peers {
            zipf: Zipf::new(cfg.peers.max(1), cfg.zipf_s),
        },
        pid: 1000,
        seq: 0,
        expected: BTreeMap::new(),
    };
    let total: u64 = cfg.mix.iter().map(|&m| u64::from(m)).sum::<u64>().max(1);
    let mut sessions = 0u64;
    while out.bytes < cfg.bytes {
        g.tick();
        sessions += 1;
        g.seq += 1;
        noise(&mut g, &mut out)?;
        let r = g.rng.below(total);
        let rank = g.peers.zipf.sample(&mut g.rng);
        let p = peer(rank);
        let inbound = g.rng.pct(55);
        let tls = g.rng.pct(70);
        let error = g.rng.pct(4);
        if r < u64::from(cfg.mix[0]) {
            sendmail(&mut g, &mut out, &p, inbound, tls, error)?;
        } else if r < u64::from(cfg.mix[0] + cfg.mix[1]) {
            postfix(&mut g, &mut out, &p, inbound, tls, error)?;
        } else {
            exim(&mut g, &mut out, &p, inbound, tls, error)?;
        }
    }
    out.w.flush()?;
    let mut by = BTreeMap::new();
    for (i, name) in ["sendmail", "postfix", "exim"].into_iter().enumerate() {
        by.insert(name, out.by_mta[i]);
    }
    Ok(Expected {
        schema: "mailtls.gen/1",
        seed: cfg.seed,
        bytes: out.bytes,
        lines: out.lines,
        tls_lines: out.tls_lines,
        irrelevant_lines: out.irrelevant,
        lines_by_mta: by,
        sessions,
        peers: g.expected,
    })
}

/// Unrelated lines of a mail host, with a few that mention TLS without being MTA lines.
fn noise<W: Write>(g: &mut Gen, out: &mut Out<W>) -> io::Result<()> {
    let n = g.rng.below(8);
    for _ in 0..n {
        let t = g.clock.syslog();
        let pid = g.next_pid();
        let user = *g.rng.pick(&LOCAL_USERS);
        match g.rng.below(7) {
            0 => out.line(&t, "mail", "CRON", pid, None, Kind::Noise, "pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)")?,
            1 => out.line(&t, "mail", "CRON", pid, None, Kind::Noise, "(root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)")?,
            2 => out.line(&t, "mail", "systemd", 1, None, Kind::Noise, "Started session-4711.scope - Session 4711 of User root.")?,
            3 | 4 => {
                let msg = format!(
                    "imap-login: Login: user=<{user}>, method=PLAIN, rip=192.168.1.{}, lip=192.168.1.2, mpid={pid}, TLS, session=<x5Yq{:08x}>",
                    10 + pid % 200,
                    g.rng.next() as u32
                );
                out.line(&t, "mail", "dovecot", pid, None, Kind::Noise, &msg)?;
            }
            5 => {
                let msg = format!("imap({user})<{pid}><x5Yq{:08x}>: Disconnected: Logged out in=93 out=1012 deleted=0 expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 body_count=0 body_bytes=0", g.rng.next() as u32);
                out.line(&t, "mail", "dovecot", pid, None, Kind::Noise, &msg)?;
            }
            _ => out.line(&t, "mail", "kernel", 0, None, Kind::Noise, "[UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56 SRC=203.0.113.77 DST=192.0.2.2 LEN=44 TOS=0x00 PROTO=TCP SPT=41234 DPT=23 WINDOW=1024")?,
        }
    }
    Ok(())
}

const SM: Option<usize> = Some(0);
const PF: Option<usize> = Some(1);
const EX: Option<usize> = Some(2);

fn sendmail<W: Write>(
    g: &mut Gen,
    out: &mut Out<W>,
    p: &Peer,
    inbound: bool,
    tls: bool,
    error: bool,
) -> io::Result<()> {
    let host = "mx-sm";
    let prog = "sm-mta";
    let pid = g.next_pid();
    let suite = g.rng.pick(&SUITES);
    let t = g.clock.syslog();
    let user = *g.rng.pick(&LOCAL_USERS);
    if inbound {
        let relay = if p.in_ip.contains(':') {
            format!("{} [IPv6:{}]", p.in_name, p.in_ip)
        } else {
            format!("{} [{}]", p.in_name, p.in_ip)
        };
        if error {
            g.counts(&p.in_name);
            let msg = format!(
                "STARTTLS=server, error: accept failed=0, reason=no shared cipher, SSL_error=1, errno=0, retry=-1, relay={relay}"
            );
            out.line(&t, host, prog, pid, SM, Kind::Tls, &msg)?;
            let msg = format!("{relay} did not issue MAIL/EXPN/VRFY/ETRN during connection to MTA");
            return out.line(&t, host, prog, pid, SM, Kind::Event, &msg);
        }
        if tls {
            let msg = format!(
                "STARTTLS=server, relay={relay}, version={}, verify=NOT, cipher={}, bits={}/{}",
                suite.version, suite.cipher, suite.bits, suite.bits
            );
            out.line(&t, host, prog, pid, SM, Kind::Tls, &msg)?;
            g.counts(&p.in_name).inbound.tls_sessions += 1;
        }
        let msgs = 1 + g.rng.below(3) * u64::from(g.rng.pct(20));
        for k in 0..msgs {
            let qid = sendmail_qid(&g.clock, g.seq * 3 + k, pid);
            let msg = format!(
                "{qid}: from=<{}{}@{}>, size={}, class=0, nrcpts=1, msgid=<{}.{qid}@{}>, bodytype=8BITMIME, proto={}, daemon=MTA, relay={relay}",
                WORDS[(g.seq % 16) as usize],
                k,
                p.domain,
                800 + g.rng.below(90_000),
                g.clock.ms,
                p.domain,
                if tls { "ESMTPS" } else { "ESMTP" }
            );
            out.line(&t, host, prog, pid, SM, Kind::Event, &msg)?;
            let c = g.counts(&p.in_name);
            if tls {
                c.inbound.tls_messages += 1;
            } else {
                c.inbound.plaintext_messages += 1;
            }
            let msg = format!(
                "{qid}: Milter (clamav) add: header: X-Virus-Scanned: clamav-milter 1.0.7 at mx-sm.{ME}"
            );
            out.line(&t, host, prog, pid, SM, Kind::Noise, &msg)?;
            let msg = format!("{qid}: Milter (clamav) add: header: X-Virus-Status: Clean");
            out.line(&t, host, prog, pid, SM, Kind::Noise, &msg)?;
            let lpid = g.next_pid();
            let msg = format!(
                "{qid}: to=<{user}@{ME}>, delay=00:00:01, xdelay=00:00:00, mailer=local, pri={}, dsn=2.0.0, stat=Sent",
                30_000 + g.rng.below(90_000)
            );
            out.line(&t, host, prog, lpid, SM, Kind::Event, &msg)?;
        }
    } else {
        let qid = sendmail_qid(&g.clock, g.seq * 3, pid);
        let rpid = g.next_pid();
        let msg = format!(
            "{qid}: from=<{user}@{ME}>, size={}, class=0, nrcpts=1, msgid=<{}.{qid}@mx-sm.{ME}>, proto=ESMTP, daemon=MTA, relay=localhost [127.0.0.1]",
            500 + g.rng.below(40_000),
            g.clock.ms
        );
        out.line(&t, host, prog, rpid, SM, Kind::Event, &msg)?;
        let relay_name = format!("{}.", p.out_name);
        if tls {
            let msg = format!(
                "STARTTLS=client, relay={relay_name}, version={}, verify=FAIL, cipher={}, bits={}/{}",
                suite.version, suite.cipher, suite.bits, suite.bits
            );
            out.line(&t, host, prog, pid, SM, Kind::Tls, &msg)?;
            g.counts(&p.out_name).outbound.tls_sessions += 1;
        }
        let deferred = !tls && error;
        let stat = if deferred {
            format!("dsn=4.0.0, stat=Deferred: Connection timed out with {relay_name}")
        } else {
            format!("dsn=2.0.0, stat=Sent (OK id=1t{:x})", g.rng.next() as u32)
        };
        let msg = format!(
            "{qid}: to=<{user}.{}@{}>, delay=00:00:0{}, xdelay=00:00:0{}, mailer=esmtp, pri=12{:04}, relay={relay_name} [{}], {stat}",
            g.seq % 97,
            p.domain,
            1 + g.rng.below(8),
            1 + g.rng.below(8),
            g.rng.below(10_000),
            p.out_ip
        );
        out.line(&t, host, prog, pid, SM, Kind::Event, &msg)?;
        let c = g.counts(&p.out_name);
        if deferred {
            c.outbound.deferred += 1;
        } else if tls {
            c.outbound.tls_messages += 1;
        } else {
            c.outbound.plaintext_messages += 1;
        }
    }
    Ok(())
}

fn postfix<W: Write>(
    g: &mut Gen,
    out: &mut Out<W>,
    p: &Peer,
    inbound: bool,
    tls: bool,
    error: bool,
) -> io::Result<()> {
    let host = "mx-pf";
    let suite = g.rng.pick(&SUITES);
    let t = g.clock.syslog();
    let user = *g.rng.pick(&LOCAL_USERS);
    let tls13 = if suite.version == "TLSv1.3" {
        " key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256"
    } else {
        ""
    };
    if inbound {
        let pid = g.next_pid();
        let na = format!("{}[{}]", p.in_name, p.in_ip);
        out.line(
            &t,
            host,
            "postfix/smtpd",
            pid,
            PF,
            Kind::Event,
            &format!("connect from {na}"),
        )?;
        if error {
            g.counts(&p.in_name);
            out.line(
                &t,
                host,
                "postfix/smtpd",
                pid,
                PF,
                Kind::Tls,
                &format!("SSL_accept error from {na}: -1"),
            )?;
            out.line(&t, host, "postfix/smtpd", pid, PF, Kind::Tls, "warning: TLS library problem: error:0A0000C1:SSL routines::no shared cipher:../ssl/statem/statem_srvr.c:2220:")?;
            out.line(
                &t,
                host,
                "postfix/smtpd",
                pid,
                PF,
                Kind::Tls,
                &format!("lost connection after STARTTLS from {na}"),
            )?;
            return out.line(
                &t,
                host,
                "postfix/smtpd",
                pid,
                PF,
                Kind::Event,
                &format!("disconnect from {na} ehlo=1 starttls=0/1 commands=1/2"),
            );
        }
        if tls {
            let msg = format!(
                "Anonymous TLS connection established from {na}: {} with cipher {} ({}/{} bits){tls13}",
                suite.version, suite.cipher, suite.bits, suite.bits
            );
            out.line(&t, host, "postfix/smtpd", pid, PF, Kind::Tls, &msg)?;
            g.counts(&p.in_name).inbound.tls_sessions += 1;
        }
        let msgs = 1 + g.rng.below(3) * u64::from(g.rng.pct(20));
        for k in 0..msgs {
            g.seq += 1;
            let qid = postfix_qid(g.seq * 4 + k);
            out.line(
                &t,
                host,
                "postfix/smtpd",
                pid,
                PF,
                Kind::Event,
                &format!("{qid}: client={na}"),
            )?;
            let cpid = g.next_pid();
            out.line(
                &t,
                host,
                "postfix/cleanup",
                cpid,
                PF,
                Kind::Noise,
                &format!("{qid}: message-id=<{}.{qid}@{}>", g.clock.ms, p.domain),
            )?;
            let msg = format!(
                "{qid}: from=<news{k}@{}>, size={}, nrcpt=1 (queue active)",
                p.domain,
                900 + g.rng.below(80_000)
            );
            out.line(&t, host, "postfix/qmgr", 812, PF, Kind::Event, &msg)?;
            let lpid = g.next_pid();
            let msg = format!(
                "{qid}: to=<{user}@{ME}>, relay=local, delay=0.{:02}, delays=0.03/0.01/0/0.01, dsn=2.0.0, status=sent (delivered to mailbox)",
                g.rng.below(99)
            );
            out.line(&t, host, "postfix/local", lpid, PF, Kind::Event, &msg)?;
            out.line(
                &t,
                host,
                "postfix/qmgr",
                812,
                PF,
                Kind::Noise,
                &format!("{qid}: removed"),
            )?;
            let c = g.counts(&p.in_name);
            if tls {
                c.inbound.tls_messages += 1;
            } else {
                c.inbound.plaintext_messages += 1;
            }
        }
        let cmds = if tls {
            format!(
                "ehlo=2 starttls=1 mail={msgs} rcpt={msgs} data={msgs} quit=1 commands={}",
                4 + 3 * msgs
            )
        } else {
            format!(
                "ehlo=1 mail={msgs} rcpt={msgs} data={msgs} quit=1 commands={}",
                2 + 3 * msgs
            )
        };
        out.line(
            &t,
            host,
            "postfix/smtpd",
            pid,
            PF,
            Kind::Event,
            &format!("disconnect from {na} {cmds}"),
        )?;
        if g.rng.pct(10) {
            let msg = format!(
                "statistics: max connection rate 1/60s for (smtp:{}) at {}",
                p.in_ip, t
            );
            out.line(&t, host, "postfix/anvil", 799, PF, Kind::Noise, &msg)?;
        }
    } else {
        g.seq += 1;
        let qid = postfix_qid(g.seq * 4);
        let ppid = g.next_pid();
        out.line(
            &t,
            host,
            "postfix/pickup",
            ppid,
            PF,
            Kind::Noise,
            &format!("{qid}: uid=1000 from=<{user}>"),
        )?;
        let cpid = g.next_pid();
        out.line(
            &t,
            host,
            "postfix/cleanup",
            cpid,
            PF,
            Kind::Noise,
            &format!("{qid}: message-id=<{}.{qid}@mx-pf.{ME}>", g.clock.ms),
        )?;
        let msg = format!(
            "{qid}: from=<{user}@{ME}>, size={}, nrcpt=1 (queue active)",
            600 + g.rng.below(50_000)
        );
        out.line(&t, host, "postfix/qmgr", 812, PF, Kind::Event, &msg)?;
        let pid = g.next_pid();
        let na = format!("{}[{}]:25", p.out_name, p.out_ip);
        if tls {
            let msg = format!(
                "Untrusted TLS connection established to {na}: {} with cipher {} ({}/{} bits){tls13}",
                suite.version, suite.cipher, suite.bits, suite.bits
            );
            out.line(&t, host, "postfix/smtp", pid, PF, Kind::Tls, &msg)?;
            g.counts(&p.out_name).outbound.tls_sessions += 1;
        }
        let deferred = !tls && error;
        let status = if deferred {
            format!("dsn=4.4.1, status=deferred (connect to {na}: Connection timed out)")
        } else {
            format!(
                "dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as {})",
                postfix_qid(g.rng.next() >> 20)
            )
        };
        let msg = format!(
            "{qid}: to=<{user}.{}@{}>, relay={na}, delay=1.{}, delays=0.05/0.01/0.6/0.4, {status}",
            g.seq % 89,
            p.domain,
            g.rng.below(9)
        );
        out.line(&t, host, "postfix/smtp", pid, PF, Kind::Event, &msg)?;
        out.line(
            &t,
            host,
            "postfix/qmgr",
            812,
            PF,
            Kind::Noise,
            &format!("{qid}: removed"),
        )?;
        let c = g.counts(&p.out_name);
        if deferred {
            c.outbound.deferred += 1;
        } else if tls {
            c.outbound.tls_messages += 1;
        } else {
            c.outbound.plaintext_messages += 1;
        }
    }
    Ok(())
}

fn exim<W: Write>(
    g: &mut Gen,
    out: &mut Out<W>,
    p: &Peer,
    inbound: bool,
    tls: bool,
    error: bool,
) -> io::Result<()> {
    let host = "mx-ex";
    let suite = g.rng.pick(&SUITES);
    let t = g.clock.syslog();
    let user = *g.rng.pick(&LOCAL_USERS);
    let pid = g.next_pid();
    g.seq += 1;
    let id = exim_id(g.seq);
    let x = format!("X={}:{}:{}", suite.exim_version, suite.cipher, suite.bits);
    if inbound {
        let h = format!("H={} [{}]", p.in_name, p.in_ip);
        if error {
            g.counts(&p.in_name);
            let msg = format!(
                "TLS error on connection from {} [{}] (SSL_accept): error:0A000076:SSL routines::no suitable signature algorithm",
                p.in_name, p.in_ip
            );
            return out.line(&t, host, "exim", pid, EX, Kind::Tls, &msg);
        }
        let msg = if tls {
            format!(
                "{id} <= bounce-{}@{} {h} P=esmtps {x} CV=no S={} id={}.{id}@{}",
                g.seq % 1000,
                p.domain,
                900 + g.rng.below(80_000),
                g.clock.ms,
                p.domain
            )
        } else {
            format!(
                "{id} <= bounce-{}@{} {h} P=esmtp S={} id={}.{id}@{}",
                g.seq % 1000,
                p.domain,
                900 + g.rng.below(80_000),
                g.clock.ms,
                p.domain
            )
        };
        out.line(
            &t,
            host,
            "exim",
            pid,
            EX,
            if tls { Kind::Tls } else { Kind::Event },
            &msg,
        )?;
        let c = g.counts(&p.in_name);
        if tls {
            c.inbound.tls_sessions += 1;
            c.inbound.tls_messages += 1;
        } else {
            c.inbound.plaintext_messages += 1;
        }
        let dpid = g.next_pid();
        out.line(
            &t,
            host,
            "exim",
            dpid,
            EX,
            Kind::Event,
            &format!("{id} => {user} <{user}@{ME}> R=local_user T=mail_spool"),
        )?;
        out.line(
            &t,
            host,
            "exim",
            dpid,
            EX,
            Kind::Noise,
            &format!("{id} Completed"),
        )?;
    } else {
        out.line(
            &t,
            host,
            "exim",
            pid,
            EX,
            Kind::Event,
            &format!(
                "{id} <= {user}@{ME} U={user} P=local S={}",
                500 + g.rng.below(30_000)
            ),
        )?;
        let dpid = g.next_pid();
        let h = format!("H={} [{}]", p.out_name, p.out_ip);
        let to = format!("{user}.{}@{}", g.seq % 83, p.domain);
        let deferred = !tls && error;
        if deferred {
            let msg = format!(
                "{id} == {to} R=dnslookup T=remote_smtp defer (110) {h}: Connection timed out"
            );
            out.line(&t, host, "exim", dpid, EX, Kind::Event, &msg)?;
            g.counts(&p.out_name).outbound.deferred += 1;
        } else if tls {
            let msg = format!(
                "{id} => {to} R=dnslookup T=remote_smtp {h} {x} CV=yes C=\"250 2.0.0 OK {} - gsmtp\"",
                g.clock.ms / 1000
            );
            out.line(&t, host, "exim", dpid, EX, Kind::Tls, &msg)?;
            let c = g.counts(&p.out_name);
            c.outbound.tls_sessions += 1;
            c.outbound.tls_messages += 1;
        } else {
            let msg = format!(
                "{id} => {to} R=dnslookup T=remote_smtp {h} C=\"250 OK id={}\"",
                exim_id(g.seq + 7)
            );
            out.line(&t, host, "exim", dpid, EX, Kind::Event, &msg)?;
            g.counts(&p.out_name).outbound.plaintext_messages += 1;
        }
        out.line(
            &t,
            host,
            "exim",
            dpid,
            EX,
            Kind::Noise,
            &format!("{id} Completed"),
        )?;
    }
    Ok(())
}

/// Writes an mbox of at least `cfg.bytes` bytes: messages with 2–5 `Received:` headers in
/// the Postfix, Sendmail, Exim, Microsoft and Gmail forms, DKIM signatures, MIME headers
/// and a short body.
pub fn write_mbox<W: Write>(cfg: &Config, mut w: W) -> io::Result<MboxExpected> {
    let mut rng = Rng::new(cfg.seed ^ 0xB0C5);
    let zipf = Zipf::new(cfg.peers.max(1), cfg.zipf_s);
    let mut bytes = 0u64;
    let mut messages = 0u64;
    let mut received = 0u64;
    let mut clock = Clock { ms: 0 };
    let mut buf = String::with_capacity(8192);
    while bytes < cfg.bytes {
        buf.clear();
        clock.ms += 1 + rng.below(40_000);
        messages += 1;
        let p = peer(zipf.sample(&mut rng));
        let suite = rng.pick(&SUITES);
        let user = *rng.pick(&LOCAL_USERS);
        let secs = clock.ms / 1000;
        let day = 20 + secs / 86400;
        let (h, m, s) = (secs / 3600 % 24, secs / 60 % 60, secs % 60);
        let date = format!("{} Nov 2026 {h:02}:{m:02}:{s:02} +0000", day.min(30));
        let qid = postfix_qid(messages);
        use std::fmt::Write as _;
        let _ = writeln!(
            buf,
            "From bounce@{} Fri Nov {} {h:02}:{m:02}:{s:02} 2026",
            p.domain,
            day.min(30)
        );
        let _ = writeln!(buf, "Return-Path: <bounce@{}>", p.domain);
        let _ = writeln!(buf, "Delivered-To: {user}@{ME}");
        // Our own hop: Postfix with or without TLS.
        if rng.pct(75) {
            let _ = writeln!(
                buf,
                "Received: from {} ({} [{}])\n\t(using {} with cipher {} ({}/{} bits))\n\t(No client certificate requested)\n\tby mx-pf.{ME} (Postfix) with ESMTPS id {qid}\n\tfor <{user}@{ME}>; {date}",
                p.in_name, p.in_name, p.in_ip, suite.version, suite.cipher, suite.bits, suite.bits
            );
        } else {
            let _ = writeln!(
                buf,
                "Received: from {} ({} [{}])\n\tby mx-pf.{ME} (Postfix) with ESMTP id {qid}\n\tfor <{user}@{ME}>; {date}",
                p.in_name, p.in_name, p.in_ip
            );
        }
        received += 1;
        let hops = 1 + rng.below(4);
        for k in 0..hops {
            match rng.below(4) {
                0 => {
                    let _ = writeln!(
                        buf,
                        "Received: from internal{k}.{d} (internal{k}.{d} [10.1.{k}.{}])\n\tby {} (8.17.1.9/8.17.1.9) with ESMTPS id 6AR{}x{:06}\n\t(version={} cipher={} bits={} verify=NOT)\n\tfor <{user}@{ME}>; {date}",
                        rng.below(250) + 1,
                        p.in_name,
                        k,
                        rng.below(999_999),
                        suite.version,
                        suite.cipher,
                        suite.bits,
                        d = p.domain
                    );
                }
                1 => {
                    let _ = writeln!(
                        buf,
                        "Received: from [10.2.{k}.{}] (helo=app{k}.{d})\n\tby relay{k}.{d} with esmtps  ({}) tls {}\n\t(Exim 4.97)\n\t(envelope-from <bounce@{d}>)\n\tid {}\n\tfor {user}@{ME}; {date}",
                        rng.below(250) + 1,
                        suite.exim_version,
                        suite.cipher,
                        exim_id(messages * 5 + k),
                        d = p.domain
                    );
                }
                2 => {
                    let _ = writeln!(
                        buf,
                        "Received: from mail-ed1-f{k}.google.com (mail-ed1-f{k}.google.com. [209.85.208.{}])\n\tby mx.google.com with ESMTPS id a{:x}\n\tfor <bounce@{}>\n\t(version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384 bits=256/256);\n\t{date}",
                        40 + k,
                        rng.next() as u32,
                        p.domain
                    );
                }
                _ => {
                    let _ = writeln!(
                        buf,
                        "Received: from DB9PR01MB{:04}.eurprd01.prod.example.com (2603:10a6:10:{k}::{})\n by AM0PR01MB{:04}.eurprd01.prod.example.com\n (2603:10a6:20:{k}::1) with Microsoft SMTP Server (version=TLS1_2,\n cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.8200.{}; {date}",
                        rng.below(9999),
                        rng.below(255),
                        rng.below(9999),
                        rng.below(99)
                    );
                }
            }
            received += 1;
        }
        let _ = writeln!(
            buf,
            "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={d}; s=s{}; t={};\n\th=from:to:subject:date:message-id:mime-version:content-type;\n\tbh=Vd3cVd0Jk4mJd3h6z0S1oQ2pBvZ3F7q8h7bJxX4Ykq8=;\n\tb=dXNlcjpwYXNzd29yZA0KdGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZSwganVzdCBmaWxs\n\t ZXIgdGV4dCBvZiB0aGUgcmlnaHQgbGVuZ3RoIGZvciBhIDIwNDgtYml0IGtleS4gSXQgaXMgYmFzZTY0Lg==",
            rng.below(9),
            1_790_000_000 + clock.ms / 1000,
            d = p.domain
        );
        let _ = writeln!(buf, "Message-ID: <{}.{qid}@{}>", clock.ms, p.domain);
        let _ = writeln!(buf, "Date: {date}");
        let _ = writeln!(
            buf,
            "From: \"{} news\" <bounce@{}>",
            WORDS[messages as usize % 16],
            p.domain
        );
        let _ = writeln!(buf, "To: {user}@{ME}");
        let _ = writeln!(
            buf,
            "Subject: Your weekly {} report #{messages}",
            WORDS[(messages / 3) as usize % 16]
        );
        let _ = writeln!(
            buf,
            "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n"
        );
        let lines = 3 + rng.below(20);
        for i in 0..lines {
            let _ = writeln!(
                buf,
                "Line {i} of the report: nothing to see here, move along; everything is fine."
            );
        }
        if rng.pct(5) {
            // An mbox body line that must be quoted.
            let _ = writeln!(buf, ">From the archive: last week's numbers.");
        }
        buf.push('\n');
        w.write_all(buf.as_bytes())?;
        bytes += buf.len() as u64;
    }
    w.flush()?;
    Ok(MboxExpected {
        schema: "mailtls.gen-mbox/1",
        seed: cfg.seed,
        bytes,
        messages,
        received_headers: received,
    })
}
