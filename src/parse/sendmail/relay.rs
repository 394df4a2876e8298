//! `relay=` values: host names, address literals and the `(may be forged)` mark.

use std::net::IpAddr;

use crate::model::Peer;

/// Reads a `relay=` value, either side's form.
///
/// Server side (`$_`): `[ident@]name [addr]`, `[addr]`, optionally ` (may be forged)`;
/// addresses `[1.2.3.4]`, `[IPv6:2001:db8::1]` (compressed or not), IPv4-mapped IPv6
/// folded to IPv4. Client side: a name with or without trailing dot, or an address
/// literal `[127.0.0.1]`; a bracketed non-address (`[smarthost.example]`, a mailertable
/// literal) is a name. Values cut at 100 characters may lose the closing bracket: the
/// name is kept and the address dropped. Never panics.
pub fn parse_relay(s: &str) -> Peer {
    let mut s = trim(s);
    let mut forged = false;
    // Most values have no parenthesis: the substring search only when one is there.
    if memchr::memchr(b'(', s.as_bytes()).is_some()
        && let Some(i) = crate::parse::find(s, crate::parse::needle!(" (may be"))
    {
        forged = true;
        s = s[..i].trim_end();
    }
    // The `name (addr)` form logsender() writes when `$_` is unset.
    let mut paren_ip = None;
    if let Some(inner) = s.strip_suffix(')')
        && let Some(open) = crate::parse::rfind_pair(inner, *b" (")
        && let Some(ip) = parse_ip(&inner[open + 2..])
    {
        paren_ip = Some(ip);
        s = &s[..open];
    }
    let (name_part, addr_part) = match crate::parse::rfind_pair(s, *b" [") {
        Some(i) => (s[..i].trim(), Some(&s[i + 2..])),
        None if s.starts_with('[') => ("", Some(&s[1..])),
        None => (s, None),
    };
    // After the last `@` (an ident), found by `memrchr`.
    let mut name = match memchr::memrchr(b'@', name_part.as_bytes()) {
        Some(at) => name_part.get(at + 1..).unwrap_or_default(),
        None => name_part,
    };
    let mut ip = paren_ip;
    // `relay=[127.0.0.1] [127.0.0.1]` (to= line for an address-literal relay host): the
    // name part is itself a literal.
    if let Some(inner) = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
        match parse_ip(inner) {
            Some(addr) => {
                ip = Some(addr);
                name = "";
            }
            None => name = inner,
        }
    }
    if let Some(a) = addr_part {
        // Without the closing bracket the value was truncated: keep the name only.
        if let Some(inner) = a.strip_suffix(']') {
            match parse_ip(inner) {
                Some(addr) => ip = Some(addr),
                // `[smarthost.example]`: an address literal that is a name.
                None if name.is_empty() => name = inner,
                None => {}
            }
        }
    }
    let mut peer = Peer::new(Some(name), ip);
    peer.forged = forged;
    peer
}

/// An address as sendmail prints it: `1.2.3.4`, `IPv6:2001:db8::1`, or uncompressed
/// `IPv6:2001:db8:0:0:0:0:0:1`. IPv4-mapped IPv6 is folded to IPv4.
fn parse_ip(s: &str) -> Option<IpAddr> {
    let s = trim(s);
    let s = match s.get(..5) {
        Some(p) if p.eq_ignore_ascii_case("IPv6:") => &s[5..],
        _ => s,
    };
    let ip: IpAddr = crate::parse::ip_addr(s)?;
    Some(match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    })
}

pub(super) use crate::model::text::trim_solid as trim;
