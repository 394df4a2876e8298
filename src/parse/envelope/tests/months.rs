use crate::parse::envelope::months::{MONTHS, month_number};

#[test]
fn month_table_is_unambiguous() {
    for (i, (a, ma)) in MONTHS.iter().enumerate() {
        assert_eq!(a.to_lowercase(), *a, "{a} not lower case");
        for (b, mb) in &MONTHS[i + 1..] {
            assert!(a != b || ma == mb, "{a} maps to {ma} and {mb}");
        }
        if let Some(en) = month_number(&a.to_ascii_uppercase()).filter(|_| a.len() == 3) {
            assert_eq!(en, *ma, "{a} clashes with an English month");
        }
    }
}

#[test]
fn month_lookup_cases() {
    let rows = [
        ("JAN", Some(1)),
        ("sep", Some(9)),
        ("Sept", Some(9)),
        ("AOÛT", Some(8)),
        ("Дек", Some(12)),
        ("ДЕК", Some(12)),
        ("Okt", Some(10)),
        ("Dez", Some(12)),
        ("giu", Some(6)),
        ("foo", None),
        ("Ja", None),
    ];
    for (tok, want) in rows {
        assert_eq!(month_number(tok), want, "{tok}");
    }
}
