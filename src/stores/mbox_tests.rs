use super::*;
use proptest::prelude::*;

/// Every message of `bytes` as the sequential reader sees it.
fn sequential(bytes: &[u8], keep: Option<KeepBody>) -> Vec<RawMessage> {
    let mut r = MboxReader::with_buffer(bytes, Arc::from("box"), 64);
    if let Some(k) = keep {
        r = r.keeping(k);
    }
    let mut out = Vec::new();
    while let Some(m) = r.next_message().expect("read") {
        out.push(m);
    }
    out
}

/// Every message of `bytes` read in blocks of `block` bytes (at most `max_block`).
fn blocked(bytes: &[u8], keep: Option<KeepBody>, block: usize, max: usize) -> Vec<RawMessage> {
    let mut out = Vec::new();
    each_message(
        Box::new(Cursor::new(bytes.to_vec())),
        Arc::from("box"),
        keep,
        block,
        max,
        |m| RawMessage {
            source: m.source,
            index: 0,
            header: m.header.to_vec(),
            truncated: m.truncated,
            body: m.body.map(<[u8]>::to_vec),
        },
        |index, item| {
            let mut m = item.expect("no read error");
            m.index = index;
            out.push(m);
        },
    );
    out
}

fn keep_marked(header: &[u8]) -> bool {
    memmem::find(header, b"Keep").is_some()
}

const MBOX: &[u8] = b"junk before the first separator\n\n\
From alice@peer.example Mon Jul  1 10:15:02 2024\n\
Received: from mail.peer.example (mail.peer.example [192.0.2.15])\n\
\tby mx.our.example with ESMTPS id 461AFE2x012345; Mon, 1 Jul 2024 10:15:02 +0200\n\
Subject: one Keep\n\
\n\
Body line one.\n\
>From the escaped line: must not split.\n\
From here an unescaped line after text: must not split either.\n\
\r\n\
From bob@peer.example Mon Jul  1 11:00:00 2024\r\n\
Subject: two\r\n\
\r\n\
From carol@peer.example Mon Jul  1 12:00:00 2024\n\
Subject: three, no body and no empty line\n\
From dave@peer.example Mon Jul  1 13:00:00 2024\n\
Subject: four Keep\n\
\n\
last body";

#[test]
fn same_as_the_sequential_reader_at_every_block_size() {
    let want = sequential(MBOX, Some(keep_marked));
    assert_eq!(want.len(), 4);
    for block in [16, 17, 40, 100, 1000, 1 << 20] {
        for max in [block, 4 * block, 1 << 20] {
            assert_eq!(
                blocked(MBOX, Some(keep_marked), block, max),
                want,
                "block {block}, max {max}"
            );
        }
    }
}

#[test]
fn a_message_larger_than_the_largest_block_is_read_whole() {
    // The third message's body is far beyond `max`: the rest of the file goes to the
    // sequential reader, which starts on the right line and keeps the indexes going.
    let mut mbox = MBOX.to_vec();
    mbox.extend_from_slice(b"\n\nFrom eve@x Mon Jul  1 14:00:00 2024\nSubject: big\n\n");
    for _ in 0..2000 {
        mbox.extend_from_slice(b"a body line that is not a separator\n");
    }
    mbox.extend_from_slice(b"\nFrom fay@x Mon Jul  1 15:00:00 2024\nSubject: after Keep\n\nend\n");
    let want = sequential(&mbox, Some(keep_marked));
    assert_eq!(want.len(), 6);
    assert_eq!(blocked(&mbox, Some(keep_marked), 64, 256), want);
}

#[test]
fn oversized_headers_are_cut_and_flagged_alike() {
    let mut mbox = b"From a@x Mon Jul  1 10:00:00 2024\n".to_vec();
    while mbox.len() < MAX_HEADER + 4096 {
        mbox.extend_from_slice(b"X-Filler: some header value that goes on and on\n");
    }
    mbox.extend_from_slice(b"\nbody\n\nFrom b@x Mon Jul  1 11:00:00 2024\nSubject: b\n\n");
    let want = sequential(&mbox, None);
    assert!(
        want.first()
            .is_some_and(|m| m.truncated && m.header.len() == MAX_HEADER)
    );
    assert_eq!(blocked(&mbox, None, 4096, 4 << 20), want);
}

#[test]
fn a_read_error_keeps_the_whole_messages_before_it() {
    struct Failing(Cursor<Vec<u8>>);
    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match self.0.read(buf)? {
                0 => Err(io::Error::other("disk on fire")),
                n => Ok(n),
            }
        }
    }
    let mut got = Vec::new();
    let mut errors = Vec::new();
    each_message(
        Box::new(Failing(Cursor::new(MBOX.to_vec()))),
        Arc::from("box"),
        None,
        32,
        1 << 20,
        |m| m.source.line,
        |_, item| match item {
            Ok(line) => got.push(line),
            Err(e) => errors.push(e.to_string()),
        },
    );
    // The last message never saw its end (no separator after it): it is lost, as with
    // the sequential reader.
    let all: Vec<u64> = sequential(MBOX, None)
        .iter()
        .map(|m| m.source.line)
        .collect();
    assert_eq!(got, all.get(..all.len() - 1).unwrap_or_default());
    assert_eq!(errors.len(), 1);
    assert!(
        errors
            .iter()
            .all(|e| e.starts_with("box:") && e.ends_with("disk on fire"))
    );
}

/// Lines an mbox is made of, including the awkward ones: separators with and without an
/// empty line before them, escaped ones, CRLF, lone `\r`, header-looking body lines.
fn line() -> impl Strategy<Value = &'static [u8]> {
    prop::sample::select(vec![
        &b"From a@x Mon Jul  1 10:00:00 2024\n"[..],
        b"From \n",
        b"From",
        b"\n",
        b"\r\n",
        b"\r",
        b">From escaped\n",
        b"Received: from x (x [192.0.2.1]) by mx with ESMTP; Mon, 1 Jul 2024 10:00:00 +0000\n",
        b"Subject: Keep me\n",
        b"\tcontinued\n",
        b"body text\n",
        b"no newline at all",
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    #[test]
    fn blocks_read_like_the_sequential_reader(
        lines in prop::collection::vec(line(), 0..80),
        block in 16usize..200,
        grow in 1usize..6,
        keep in any::<bool>(),
    ) {
        let mbox = lines.concat();
        let keep: Option<KeepBody> = keep.then_some(keep_marked as KeepBody);
        prop_assert_eq!(blocked(&mbox, keep, block, block * grow), sequential(&mbox, keep));
    }
}

/// One framed message as owned values: where, header, cut, body.
type Framed = (Source, Vec<u8>, bool, Option<Vec<u8>>);

/// The messages [`frame`] hands over, as owned values.
fn framed(data: &[u8], keep: Option<KeepBody>, by_lines: bool) -> Vec<Framed> {
    let mut out = Vec::new();
    let file: Arc<str> = Arc::from("box");
    let push = |m: Msg<'_>| {
        out.push((
            m.source,
            m.header.to_vec(),
            m.truncated,
            m.body.map(<[u8]>::to_vec),
        ));
    };
    if by_lines {
        frame_by_lines(data, 7, &file, keep, push);
    } else {
        frame(data, 7, &file, keep, push);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    /// The framing by whole-block searches cuts every block as the line walk it replaced
    /// did: the same messages, headers, bodies and lines, with LF, CRLF and lone `\r`
    /// lines, `From ` lines inside headers and bodies, blocks that end inside a header.
    #[test]
    fn frame_is_the_line_walk(
        lines in prop::collection::vec(line(), 0..60),
        keep in any::<bool>(),
    ) {
        let data = lines.concat();
        let keep: Option<KeepBody> = keep.then_some(keep_marked as KeepBody);
        prop_assert_eq!(framed(&data, keep, false), framed(&data, keep, true));
        // Every line start of the block as a header start.
        let starts = std::iter::once(0).chain(memchr::memchr_iter(b'\n', &data).map(|i| i + 1));
        let finder = memmem::Finder::new(b"\nFrom ");
        let blank = memmem::Finder::new(b"\n\n");
        let mut from_at = NextAt::new(&data, |r: &[u8]| finder.find(r));
        let mut cr_at = NextAt::new(&data, |r: &[u8]| memchr::memchr(b'\r', r));
        for s in starts {
            prop_assert_eq!(
                header_end(&data, s, &blank, &mut from_at, &mut cr_at),
                header_end_by_lines(&data, s),
                "start {}", s
            );
        }
    }
}
