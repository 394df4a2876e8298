//! The `mailtls follow` harness shared by the follow and fault tests: the real binary as a
//! child whose stdout and stderr lines arrive on channels, waits that panic instead of
//! hanging, and numbered Sendmail lines whose events say which line they came from.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

/// How long any wait may take before the test is declared hung.
pub const HANG: Duration = Duration::from_secs(20);

pub struct Follow {
    pub child: Child,
    /// stdout lines with their arrival time.
    pub out: Receiver<(Instant, String)>,
    pub err: Receiver<String>,
    pub err_seen: Vec<String>,
}

pub fn spawn(args: &[&str]) -> Follow {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mailtls"))
        .arg("follow")
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mailtls runs");
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (otx, out) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if otx.send((Instant::now(), line)).is_err() {
                break;
            }
        }
    });
    let err = line_channel(stderr);
    Follow {
        child,
        out,
        err,
        err_seen: Vec::new(),
    }
}

/// The lines of `r` (a running child's stdout or stderr) as they arrive, read by a thread
/// of their own so the test can wait for them with a timeout instead of blocking.
pub fn line_channel(r: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(r).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

impl Follow {
    /// The `host:port` of the metrics endpoint (`--metrics 127.0.0.1:0`), from the line
    /// the follower prints when it listens.
    pub fn metrics_addr(&mut self) -> String {
        let line = self.wait_err("metrics at http://");
        line.split("http://")
            .nth(1)
            .and_then(|r| r.strip_suffix("/metrics"))
            .expect("metrics at http://ADDR/metrics")
            .to_owned()
    }

    /// Waits for a stderr line containing `needle` and returns it.
    pub fn wait_err(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + HANG;
        if let Some(l) = self.err_seen.iter().find(|l| l.contains(needle)) {
            return l.clone();
        }
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.err.recv_timeout(left) {
                Ok(l) => {
                    self.err_seen.push(l.clone());
                    if l.contains(needle) {
                        return l;
                    }
                }
                Err(_) => panic!("no stderr line with {needle:?}; saw {:?}", self.err_seen),
            }
        }
    }

    /// The next `n` stdout lines (panics after [`HANG`]).
    pub fn lines(&self, n: usize) -> Vec<(Instant, String)> {
        let deadline = Instant::now() + HANG;
        let mut v = Vec::with_capacity(n);
        while v.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.out.recv_timeout(left) {
                Ok(x) => v.push(x),
                Err(e) => panic!("got {} of {n} lines ({e:?}): last {:?}", v.len(), v.last()),
            }
        }
        v
    }

    /// Stdout lines arriving within `quiet` (to prove nothing more comes).
    pub fn extra(&self, quiet: Duration) -> Vec<String> {
        let mut v = Vec::new();
        loop {
            match self.out.recv_timeout(quiet) {
                Ok((_, l)) => v.push(l),
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {
                    return v;
                }
            }
        }
    }

    /// SIGTERM, then the exit code and the closing summary.
    pub fn stop(self) -> (i32, String) {
        self.stop_with(rustix::process::Signal::TERM)
    }

    /// Sends `signal` (SIGTERM, SIGINT), then returns the exit code and the summary.
    pub fn stop_with(mut self, signal: rustix::process::Signal) -> (i32, String) {
        self.signal(signal);
        let deadline = Instant::now() + HANG;
        let code = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s.code().unwrap_or(-1);
            }
            assert!(Instant::now() < deadline, "follow did not stop on SIGTERM");
            thread::sleep(Duration::from_millis(20));
        };
        let summary = self.wait_err("stopped (");
        (code, summary)
    }
}

impl Drop for Follow {
    /// A failed test must not leave its follower running.
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// An append handle on `p` (created if missing), as a logging daemon writes.
pub fn appender(p: &Path) -> File {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(p)
        .unwrap()
}

/// `follow LOG --json EXTRA` on a new, empty log in a fresh directory, once it reads:
/// the directory (keep it alive), the log's path and the follower.
pub fn follow_new_log(extra: &[&str]) -> (tempfile::TempDir, PathBuf, Follow) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("maillog");
    File::create(&log).unwrap();
    let mut args = vec![log.to_str().unwrap(), "--json"];
    args.extend_from_slice(extra);
    let mut f = spawn(&args);
    f.wait_err("reading from byte 0");
    (dir, log, f)
}

/// A Sendmail `STARTTLS=server` line naming peer `n` (so every event says which line it
/// came from).
pub fn numbered(n: usize) -> String {
    format!(
        "Nov 28 10:{:02}:{:02} mail sm-mta[{}]: STARTTLS=server, relay=h{n}.senders.example [198.51.100.{}], version=TLSv1.3, verify=NO, cipher=TLS_AES_256_GCM_SHA384, bits=256/256\n",
        (n / 60) % 60,
        n % 60,
        20_000 + n,
        n % 250 + 1
    )
}

/// The line number an NDJSON session event carries in its peer name.
pub fn number_of(json_line: &str) -> usize {
    let v: serde_json::Value = serde_json::from_str(json_line).expect("NDJSON");
    assert_eq!(v["schema"], "mailtls.event/1");
    let name = v["peer"]["name"].as_str().expect("peer name");
    name.trim_start_matches('h')
        .split('.')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not a numbered peer: {name}"))
}

impl Follow {
    /// Sends `sig` (STOP, CONT, TERM) to the follower.
    pub fn signal(&self, sig: rustix::process::Signal) {
        signal_child(&self.child, sig);
    }

    /// The peer numbers of the next `n` session events.
    pub fn numbers(&self, n: usize) -> Vec<usize> {
        self.lines(n).iter().map(|(_, l)| number_of(l)).collect()
    }

    /// The peer numbers of events arriving within `quiet` (to prove nothing more comes).
    pub fn extra_numbers(&self, quiet: Duration) -> Vec<usize> {
        self.extra(quiet).iter().map(|l| number_of(l)).collect()
    }

    /// All stderr seen so far plus what arrives within `quiet`.
    pub fn stderr(&mut self, quiet: Duration) -> String {
        while let Ok(l) = self.err.recv_timeout(quiet) {
            self.err_seen.push(l);
        }
        self.err_seen.join("\n")
    }
}

/// Sends `sig` to a child that has not been reaped yet (STOP, CONT, TERM).
pub fn signal_child(child: &std::process::Child, sig: rustix::process::Signal) {
    let pid = rustix::process::Pid::from_child(child);
    rustix::process::kill_process(pid, sig).unwrap();
}

/// A plain HTTP/1.0 GET on 127.0.0.1: the response's head and body.
pub fn http_get(addr: &str, path: &str) -> (String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(HANG)).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let (head, body) = resp.split_once("\r\n\r\n").expect("HTTP response");
    (head.to_owned(), body.to_owned())
}
