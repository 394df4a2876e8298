//! Tests of the follower on real files in temporary directories.

use super::*;
use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

fn append(p: &Path, text: &str) {
    let mut f = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(p)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

fn texts(chunks: &[Chunk]) -> Vec<String> {
    lines_of(chunks).into_iter().map(|(_, t)| t).collect()
}

fn notices(chunks: &[Chunk]) -> Vec<Notice> {
    chunks
        .iter()
        .filter_map(|c| match c {
            Chunk::Notice(n) => Some(n.clone()),
            _ => None,
        })
        .collect()
}

fn opts(start: Start) -> FollowOptions {
    FollowOptions {
        start,
        force_poll: true,
        ..FollowOptions::default()
    }
}

#[test]
fn starts_at_the_end_and_waits_for_whole_lines() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("maillog");
    append(&p, "old 1\nold 2\npart");
    let mut f = Follower::new(&p, opts(Start::End));
    let first = f.poll();
    assert_eq!(texts(&first), Vec::<String>::new());
    // The lines before the end are warm-up only.
    assert!(
        matches!(&first[1], Chunk::Warmup(b) if b.first_line == 1 && b.data == b"old 1\nold 2\n")
    );
    assert_eq!(
        notices(&first)[1],
        Notice::Reading {
            offset: 12,
            line: 2
        }
    );
    append(&p, "ial\nnew 4");
    let got = lines_of(&f.poll());
    assert_eq!(got, vec![(3, "partial".to_owned())]);
    append(&p, "\n");
    assert_eq!(lines_of(&f.poll()), vec![(4, "new 4".to_owned())]);
    assert_eq!(f.checkpoint().map(|c| (c.offset, c.line)), Some((26, 4)));
}

#[test]
fn rotations_of_both_kinds_lose_and_repeat_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("mail.log");
    let old = dir.path().join("mail.log.1");
    append(&p, "1\n");
    let mut f = Follower::new(&p, opts(Start::Beginning));
    let mut seen = texts(&f.poll());
    // rename-and-create, with the writer still writing to the renamed file until it
    // reopens: the follower stays on the old file while the new one is empty.
    append(&p, "2\n");
    fs::rename(&p, &old).unwrap();
    File::create(&p).unwrap();
    seen.extend(texts(&f.poll()));
    append(&old, "3\n");
    seen.extend(texts(&f.poll()));
    append(&old, "4 unterminated");
    append(&p, "5\n");
    let chunks = f.poll();
    assert!(notices(&chunks).contains(&Notice::Rotated));
    seen.extend(texts(&chunks));
    // copytruncate
    append(&p, "6\n");
    seen.extend(texts(&f.poll()));
    fs::copy(&p, dir.path().join("mail.log.2")).unwrap();
    fs::OpenOptions::new()
        .write(true)
        .open(&p)
        .unwrap()
        .set_len(0)
        .unwrap();
    append(&p, "7\n");
    let chunks = f.poll();
    assert!(notices(&chunks).contains(&Notice::Truncated));
    seen.extend(texts(&chunks));
    // missing for a while, then a new file
    append(&p, "8\n");
    fs::rename(&p, &old).unwrap();
    let chunks = f.poll();
    assert!(notices(&chunks).contains(&Notice::Missing));
    seen.extend(texts(&chunks));
    assert!(f.poll().is_empty(), "missing is told once");
    append(&p, "9\n");
    let chunks = f.poll();
    assert!(notices(&chunks).contains(&Notice::Rotated));
    seen.extend(texts(&chunks));
    assert_eq!(
        seen,
        vec!["1", "2", "3", "4 unterminated", "5", "6", "7", "8", "9"]
    );
}

#[test]
fn a_file_truncated_and_refilled_past_the_offset_is_read_again() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("maillog");
    append(&p, "Nov 28 10:00:01 mail sm-mta[101]: one\n");
    let mut f = Follower::new(&p, opts(Start::Beginning));
    assert_eq!(texts(&f.poll()).len(), 1);
    // Emptied and written past the old offset before the next look (polling).
    fs::write(
        &p,
        "Nov 28 10:00:02 mail sm-mta[202]: two\nNov 28 10:00:03 mail sm-mta[203]: three\n",
    )
    .unwrap();
    let chunks = f.poll();
    assert!(notices(&chunks).contains(&Notice::Truncated));
    assert_eq!(
        texts(&chunks),
        vec![
            "Nov 28 10:00:02 mail sm-mta[202]: two",
            "Nov 28 10:00:03 mail sm-mta[203]: three"
        ]
    );
}

/// The race CI once lost: the follower looked (size fine), was stopped before it read,
/// and meanwhile logrotate's copytruncate emptied the file and the writer refilled it past
/// the offset. The read itself must notice, not hand out the refill's middle.
#[test]
fn a_truncation_between_the_check_and_the_read_is_caught_by_the_read() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("maillog");
    append(&p, "Nov 28 10:00:01 mail sm-mta[101]: one\n");
    let mut f = Follower::new(&p, opts(Start::Beginning));
    assert_eq!(texts(&f.poll()).len(), 1);
    let cur = f.cur.as_mut().unwrap();
    assert!(!truncated(cur).unwrap(), "nothing changed yet");
    fs::write(
        &p,
        "Nov 28 10:00:02 mail sm-mta[202]: two\nNov 28 10:00:03 mail sm-mta[203]: three\n",
    )
    .unwrap();
    let mut out = Vec::new();
    assert_eq!(drain(cur, 1 << 16, &mut out).unwrap(), Drained::Changed);
    assert!(texts(&out).is_empty(), "{out:?}");
    // The next look starts the emptied file over, as for any truncation.
    let chunks = f.poll();
    assert!(notices(&chunks).contains(&Notice::Truncated), "{chunks:?}");
    assert_eq!(
        texts(&chunks),
        vec![
            "Nov 28 10:00:02 mail sm-mta[202]: two",
            "Nov 28 10:00:03 mail sm-mta[203]: three"
        ]
    );
}

/// A copytruncate while behind whose emptied file was refilled past the copy's size
/// before the follower looked: the size it then sees is the new content's, not the old
/// file's, so nothing is lost (all of it is in the copy) and no loss may be announced.
#[test]
fn a_refill_larger_than_the_copy_is_no_loss() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("maillog");
    append(&p, "Nov 28 10:00:01 mail sm-mta[101]: one\n");
    let mut f = Follower::new(&p, opts(Start::Beginning));
    assert_eq!(texts(&f.poll()).len(), 1);
    append(&p, "Nov 28 10:00:02 mail sm-mta[102]: two\n");
    // logrotate's copytruncate: the copy holds everything written so far.
    fs::copy(&p, dir.path().join("maillog.1")).unwrap();
    let refill: String = (3..40)
        .map(|i| format!("Nov 28 10:00:{i:02} mail sm-mta[{}]: n{i}\n", 100 + i))
        .collect();
    fs::write(&p, &refill).unwrap();
    let chunks = f.poll();
    let n = notices(&chunks);
    assert!(n.contains(&Notice::Truncated), "{chunks:?}");
    assert!(!n.iter().any(|x| matches!(x, Notice::Lost { .. })), "{n:?}");
    let got = texts(&chunks);
    assert_eq!(
        got.first().map(String::as_str),
        Some("Nov 28 10:00:02 mail sm-mta[102]: two")
    );
    assert_eq!(got.len(), 1 + 37, "{got:?}");
}

#[test]
fn a_missing_file_is_read_from_its_start_when_it_appears() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("maillog");
    let mut f = Follower::new(&p, opts(Start::End));
    assert_eq!(
        notices(&f.poll()),
        vec![
            Notice::Polling {
                reason: "--poll".into()
            },
            Notice::Missing
        ]
    );
    append(&p, "a\nb\n");
    let chunks = f.poll();
    assert_eq!(notices(&chunks), vec![Notice::Appeared]);
    assert_eq!(texts(&chunks), vec!["a", "b"]);
}

#[test]
fn resume_finds_the_rotated_file_and_reads_the_newer_ones() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("mail.log");
    append(&p, "1\n2\n");
    let mut f = Follower::new(&p, opts(Start::Beginning));
    assert_eq!(texts(&f.poll()), vec!["1", "2"]);
    let cp = f.checkpoint().unwrap();
    drop(f);
    // While down: more lines, two rotations.
    append(&p, "3\n");
    fs::rename(&p, dir.path().join("mail.log.1")).unwrap();
    append(&p, "4\n");
    fs::rename(dir.path().join("mail.log.1"), dir.path().join("mail.log.2")).unwrap();
    fs::rename(&p, dir.path().join("mail.log.1")).unwrap();
    append(&p, "5\n");
    fs::write(dir.path().join("mail.log.state"), "not a rotation\n").unwrap();
    let mut f = Follower::new(&p, opts(Start::Resume(cp)));
    let mut chunks = f.poll();
    while let Some(more) = Some(f.poll()).filter(|c| !c.is_empty()) {
        chunks.extend(more);
    }
    assert_eq!(texts(&chunks), vec!["3", "4", "5"]);
    // Warm-up carried the lines before the checkpoint.
    assert!(
        chunks
            .iter()
            .any(|c| matches!(c, Chunk::Warmup(b) if b.data == b"1\n2\n"))
    );
    // Same identity, no change: nothing repeats.
    let cp = f.checkpoint().unwrap();
    let mut f = Follower::new(&p, opts(Start::Resume(cp)));
    assert_eq!(texts(&f.poll()), Vec::<String>::new());
    append(&p, "6\n");
    assert_eq!(lines_of(&f.poll()), vec![(2, "6".to_owned())]);
}

#[test]
fn long_lines_are_skipped_and_numbering_holds() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("maillog");
    let mut o = opts(Start::Beginning);
    o.max_line = 10;
    append(
        &p,
        &format!("a\n{}\nb\n{}", "x".repeat(100), "y".repeat(50)),
    );
    let mut f = Follower::new(&p, o);
    let chunks = f.poll();
    assert_eq!(
        lines_of(&chunks),
        vec![(1, "a".to_owned()), (3, "b".to_owned())]
    );
    append(&p, "\nc\n");
    let chunks = f.poll();
    let skipped: u64 = chunks
        .iter()
        .map(|c| match c {
            Chunk::Lines(b) => b.skipped_long_lines,
            _ => 0,
        })
        .sum();
    assert_eq!(skipped, 1);
    assert_eq!(lines_of(&chunks), vec![(5, "c".to_owned())]);
}

#[test]
fn a_missing_directory_means_polling_until_it_exists() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("log");
    let p = sub.join("maillog");
    let mut f = Follower::new(&p, FollowOptions::default());
    assert!(!f.is_watching());
    let n = notices(&f.poll());
    assert!(matches!(&n[0], Notice::Polling { reason } if reason.contains("cannot watch")));
    assert_eq!(n[1], Notice::Missing);
    let t = std::time::Instant::now();
    f.wait(Duration::from_secs(30));
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "polls, does not sleep 30 s"
    );
    fs::create_dir(&sub).unwrap();
    append(&p, "a\n");
    let chunks = f.poll();
    assert_eq!(notices(&chunks), vec![Notice::Appeared]);
    assert_eq!(texts(&chunks), vec!["a"]);
}

#[test]
fn inotify_wakes_the_waiting_follower() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("maillog");
    append(&p, "");
    let mut f = Follower::new(
        &p,
        FollowOptions {
            safety_interval: Duration::from_secs(30),
            ..FollowOptions::default()
        },
    );
    assert!(f.is_watching());
    f.poll();
    let writer = {
        let p = p.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            append(&p, "line\n");
        })
    };
    let t = std::time::Instant::now();
    f.wait(Duration::from_secs(20));
    let waited = t.elapsed();
    writer.join().unwrap();
    assert_eq!(texts(&f.poll()), vec!["line"]);
    // Woken by the event, not by the 20 s timeout.
    assert!(waited < Duration::from_secs(5), "{waited:?}");
}

#[test]
fn a_replaced_directory_is_watched_again() {
    let top = tempfile::tempdir().unwrap();
    let dir = top.path().join("log");
    fs::create_dir(&dir).unwrap();
    let p = dir.join("maillog");
    append(&p, "");
    let mut f = Follower::new(
        &p,
        FollowOptions {
            safety_interval: Duration::from_millis(100),
            watch_retry: Duration::from_millis(100),
            ..FollowOptions::default()
        },
    );
    assert!(f.is_watching());
    f.poll();
    fs::rename(&dir, top.path().join("log.old")).unwrap();
    fs::create_dir(&dir).unwrap();
    // The safety look notices the new directory and watches it.
    for _ in 0..5 {
        f.wait(Duration::from_millis(200));
        f.poll();
    }
    append(&p, "fresh\n");
    let chunks = f.poll();
    assert_eq!(texts(&chunks), vec!["fresh"]);
    // Now an event wakes it long before the (restored) long safety interval.
    f.opts.safety_interval = Duration::from_secs(30);
    let writer = {
        let p = p.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            append(&p, "evented\n");
        })
    };
    let t = std::time::Instant::now();
    f.wait(Duration::from_secs(20));
    writer.join().unwrap();
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert_eq!(texts(&f.poll()), vec!["evented"]);
}

#[test]
fn copytruncate_while_behind_reads_the_copy_and_counts_the_lost_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("maillog");
    // More than one look reads (4 MiB): the follower is behind.
    let line = format!("Nov 28 10:00:00 mail sm-mta[1]: {}\n", "x".repeat(90));
    let n = (6 << 20) / line.len();
    let mut all = String::with_capacity(n * line.len());
    for i in 0..n {
        all.push_str(&format!("{i:08} {line}"));
    }
    append(&p, &all);
    let mut f = Follower::new(&p, opts(Start::Beginning));
    let mut seen = texts(&f.poll());
    assert!(seen.len() < n, "the first look stops at its batch size");
    // logrotate copied the first 5 MiB (whole lines), the writer added the rest before
    // the truncate: that rest is gone, and we saw it.
    let copy_len = all[..5 << 20].rfind('\n').unwrap() + 1;
    fs::write(dir.path().join("maillog.1"), &all[..copy_len]).unwrap();
    fs::OpenOptions::new()
        .write(true)
        .open(&p)
        .unwrap()
        .set_len(0)
        .unwrap();
    append(&p, "after 1\nafter 2\n");
    let mut chunks = Vec::new();
    for _ in 0..4 {
        chunks.extend(f.poll());
    }
    seen.extend(texts(&chunks));
    let ns = notices(&chunks);
    assert!(ns.contains(&Notice::Truncated), "{ns:?}");
    assert!(
        ns.contains(&Notice::Lost {
            bytes: (all.len() - copy_len) as u64
        }),
        "{ns:?}"
    );
    let in_copy = all[..copy_len].lines().count();
    let mut want: Vec<String> = all[..copy_len].lines().map(str::to_owned).collect();
    want.push("after 1".into());
    want.push("after 2".into());
    assert_eq!(seen.len(), in_copy + 2);
    assert!(seen == want, "lines lost or repeated");
}

#[test]
fn two_rotations_behind_reads_the_middle_file_too() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("maillog");
    append(&p, "Nov 28 10:00:01 a\n");
    let mut f = Follower::new(&p, opts(Start::Beginning));
    let mut seen = texts(&f.poll());
    append(&p, "Nov 28 10:00:02 b\n");
    // Two rename rotations, the older one compressed, before the next look.
    fs::rename(&p, dir.path().join("maillog.1")).unwrap();
    append(&p, "Nov 28 10:00:03 c\n");
    let gz = File::create(dir.path().join("maillog.2.gz")).unwrap();
    let mut enc = flate2::write::GzEncoder::new(gz, flate2::Compression::default());
    enc.write_all(&fs::read(dir.path().join("maillog.1")).unwrap())
        .unwrap();
    enc.finish().unwrap();
    fs::remove_file(dir.path().join("maillog.1")).unwrap();
    fs::rename(&p, dir.path().join("maillog.1")).unwrap();
    append(&p, "Nov 28 10:00:04 d\n");
    for _ in 0..4 {
        seen.extend(texts(&f.poll()));
    }
    assert_eq!(
        seen,
        vec![
            "Nov 28 10:00:01 a",
            "Nov 28 10:00:02 b",
            "Nov 28 10:00:03 c",
            "Nov 28 10:00:04 d"
        ]
    );
}
