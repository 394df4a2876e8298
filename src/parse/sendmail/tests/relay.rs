use super::*;

#[test]
fn relay_forms() {
    let rows = [
        (
            "mail.peer.example [192.0.2.10]",
            ni("mail.peer.example", "192.0.2.10"),
        ),
        ("[192.0.2.10]", i("192.0.2.10")),
        (
            "host.example [192.0.2.1] (may be forged)",
            p(Some("host.example"), Some("192.0.2.1"), true),
        ),
        (
            "root@host.example [192.0.2.1]",
            ni("host.example", "192.0.2.1"),
        ),
        (
            "h.example [IPv6:2001:db8::1]",
            ni("h.example", "2001:db8::1"),
        ),
        (
            "h.example [IPv6:2001:db8:400c:c08:0:0:0:1b]",
            ni("h.example", "2001:db8:400c:c08::1b"),
        ),
        ("[IPv6:::ffff:192.0.2.7]", i("192.0.2.7")),
        ("mx1.peer.example.", n("mx1.peer.example")),
        ("smarthost.example", n("smarthost.example")),
        ("[127.0.0.1]", i("127.0.0.1")),
        ("[smarthost.example]", n("smarthost.example")),
        ("[127.0.0.1] [127.0.0.1]", i("127.0.0.1")),
        (
            "mx.peer.example. [192.0.2.20]",
            ni("mx.peer.example", "192.0.2.20"),
        ),
        (
            "long.name.example [IPv6:2001:db8:1234:",
            n("long.name.example"),
        ),
        (
            "long.name.example [IPv6:2001:db8::1] (may be",
            p(Some("long.name.example"), Some("2001:db8::1"), true),
        ),
        ("host.example (192.0.2.8)", ni("host.example", "192.0.2.8")),
        ("unknown [192.0.2.9]", i("192.0.2.9")),
        ("", Peer::default()),
        ("[", Peer::default()),
    ];
    for (raw, want) in rows {
        assert_eq!(parse_relay(raw), want, "relay: {raw:?}");
    }
}

proptest::proptest! {
    /// The shortcut trim is `str::trim`, with Unicode blanks and non-ASCII ends around.
    #[test]
    fn relay_trim_is_str_trim(
        parts in proptest::collection::vec(proptest::sample::select(&[
            " ", "\t", "\n", "\u{b}", "\u{a0}", "\u{2003}", "\u{3000}", "\u{85}", "a", "[", "é",
            "localhost", "[127.0.0.1]", "\u{feff}",
        ][..]), 0..8),
    ) {
        let s: String = parts.concat();
        proptest::prop_assert_eq!(crate::parse::sendmail::relay::trim(&s), s.trim());
    }
}
