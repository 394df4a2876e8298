//! RFC 3164 month names, English and localized.

/// Month abbreviations as glibc's `%b` prints them (journalctl's `short` format is
/// `%b %d %H:%M:%S` in the user's locale), lower-case, without a trailing dot. Old and
/// new glibc spellings both appear (fr `fév`/`févr`, ru `май`/`мая`, cs `čen`/`čvn`); a
/// few CLDR forms (`сент`, `нояб`) are added because other tools print them.
/// Every entry maps to one month (checked by a test), so the order does not matter.
pub(super) const MONTHS: &[(&str, u8)] = &[
    // de, de_AT
    ("jän", 1),
    ("mär", 3),
    ("märz", 3),
    ("mrz", 3),
    ("mai", 5),
    ("okt", 10),
    ("dez", 12),
    // fr (glibc ≥ 2.x and older)
    ("janv", 1),
    ("févr", 2),
    ("fév", 2),
    ("mars", 3),
    ("avr", 4),
    ("avril", 4),
    ("juin", 6),
    ("juil", 7),
    ("août", 8),
    ("aoû", 8),
    ("sept", 9),
    ("déc", 12),
    // es
    ("ene", 1),
    ("abr", 4),
    ("ago", 8),
    ("dic", 12),
    // it
    ("gen", 1),
    ("mag", 5),
    ("giu", 6),
    ("lug", 7),
    ("set", 9),
    ("ott", 10),
    // pt
    ("fev", 2),
    ("out", 10),
    // nl
    ("mrt", 3),
    ("mei", 5),
    // sv, da, nb
    ("maj", 5),
    ("des", 12),
    // pl
    ("sty", 1),
    ("lut", 2),
    ("kwi", 4),
    ("cze", 6),
    ("lip", 7),
    ("sie", 8),
    ("wrz", 9),
    ("paź", 10),
    ("lis", 11),
    ("gru", 12),
    // cs
    ("led", 1),
    ("úno", 2),
    ("bře", 3),
    ("dub", 4),
    ("kvě", 5),
    ("čen", 6),
    ("čvn", 6),
    ("čec", 7),
    ("čvc", 7),
    ("srp", 8),
    ("zář", 9),
    ("říj", 10),
    ("pro", 12),
    // fi
    ("tammi", 1),
    ("helmi", 2),
    ("maalis", 3),
    ("huhti", 4),
    ("touko", 5),
    ("kesä", 6),
    ("heinä", 7),
    ("elo", 8),
    ("syys", 9),
    ("loka", 10),
    ("marras", 11),
    ("joulu", 12),
    // tr
    ("oca", 1),
    ("şub", 2),
    ("nis", 4),
    ("haz", 6),
    ("tem", 7),
    ("ağu", 8),
    ("eyl", 9),
    ("eki", 10),
    ("kas", 11),
    ("ara", 12),
    // ru (glibc abmon and ab_alt_mon, plus CLDR)
    ("янв", 1),
    ("фев", 2),
    ("февр", 2),
    ("мар", 3),
    ("апр", 4),
    ("май", 5),
    ("мая", 5),
    ("июн", 6),
    ("июня", 6),
    ("июл", 7),
    ("июля", 7),
    ("авг", 8),
    ("сен", 9),
    ("сент", 9),
    ("окт", 10),
    ("ноя", 11),
    ("нояб", 11),
    ("дек", 12),
    // uk
    ("січ", 1),
    ("лют", 2),
    ("бер", 3),
    ("кві", 4),
    ("тра", 5),
    ("чер", 6),
    ("лип", 7),
    ("сер", 8),
    ("вер", 9),
    ("жов", 10),
    ("лис", 11),
    ("гру", 12),
];

/// The English month named by three ASCII letters in any case (`Nov`, `NOV`), without the
/// locale table: what nearly every log writes. A `match` on the three bytes as one word,
/// folded to lower case (`| 0x20` makes a lowercase letter of a byte exactly when the byte
/// is an ASCII letter), inlined: it runs on every line's stamp.
#[inline]
pub(super) fn english_month([a, b, c]: [u8; 3]) -> Option<u8> {
    const fn key(s: &[u8; 3]) -> u32 {
        let [a, b, c] = *s;
        u32::from_le_bytes([a, b, c, 0])
    }
    const JAN: u32 = key(b"jan");
    const FEB: u32 = key(b"feb");
    const MAR: u32 = key(b"mar");
    const APR: u32 = key(b"apr");
    const MAY: u32 = key(b"may");
    const JUN: u32 = key(b"jun");
    const JUL: u32 = key(b"jul");
    const AUG: u32 = key(b"aug");
    const SEP: u32 = key(b"sep");
    const OCT: u32 = key(b"oct");
    const NOV: u32 = key(b"nov");
    const DEC: u32 = key(b"dec");
    Some(
        match u32::from_le_bytes([a | 0x20, b | 0x20, c | 0x20, 0]) {
            JAN => 1,
            FEB => 2,
            MAR => 3,
            APR => 4,
            MAY => 5,
            JUN => 6,
            JUL => 7,
            AUG => 8,
            SEP => 9,
            OCT => 10,
            NOV => 11,
            DEC => 12,
            _ => return None,
        },
    )
}

/// [`english_month`] as it was (lower-casing and a `match`), its specification.
#[cfg(test)]
pub(super) fn english_month_by_match([a, b, c]: [u8; 3]) -> Option<u8> {
    Some(
        match &[
            a.to_ascii_lowercase(),
            b.to_ascii_lowercase(),
            c.to_ascii_lowercase(),
        ] {
            b"jan" => 1,
            b"feb" => 2,
            b"mar" => 3,
            b"apr" => 4,
            b"may" => 5,
            b"jun" => 6,
            b"jul" => 7,
            b"aug" => 8,
            b"sep" => 9,
            b"oct" => 10,
            b"nov" => 11,
            b"dec" => 12,
            _ => return None,
        },
    )
}

/// The month named by `tok` (letters only, any case). English three-letter names, by far
/// the most common, are matched on bytes before the locale table is scanned.
pub(super) fn month_number(tok: &str) -> Option<u8> {
    if let &[a, b, c] = tok.as_bytes()
        && let Some(m) = english_month([a, b, c])
    {
        return Some(m);
    }
    // Lower-case into a stack buffer once, then compare bytes: no allocation, and the
    // Unicode case tables are consulted once per character, not once per table entry.
    let mut buf = [0u8; 32];
    let mut n = 0;
    for c in tok.chars().flat_map(char::to_lowercase) {
        let w = c.len_utf8();
        let slot = buf.get_mut(n..n + w)?;
        c.encode_utf8(slot);
        n += w;
    }
    let key = buf.get(..n)?;
    MONTHS
        .iter()
        .find(|(name, _)| name.as_bytes() == key)
        .map(|&(_, m)| m)
}
