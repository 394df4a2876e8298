//! OpenSSL's subject-name hash: the `<hash>` of the `<hash>.0` links in a CA directory.
//!
//! Sendmail's `CACertPath` (and Postfix's `smtpd_tls_CApath`) is an OpenSSL hashed
//! directory: to find the issuer of a certificate, OpenSSL hashes the issuer name and opens
//! `<hash>.0`, `<hash>.1`, … in that directory. The seed makes the link with
//! ``ln -s cacert.pem `openssl x509 -noout -hash < cacert.pem`.0``; a link with any other
//! name is never opened. This is `X509_NAME_hash_ex()` from OpenSSL ≥ 1.0
//! (`crypto/x509/x509_cmp.c`): SHA-1 over the name's *canonical* encoding
//! (`x509_name_canon()` in `crypto/x509/x_name.c`), whose first four bytes, read
//! little-endian, are printed as `%08lx`.
//!
//! The canonical encoding re-encodes every RDN as a DER `SET` of `SEQUENCE { OID, value }`
//! where each text value (UTF8String, BMPString, UniversalString, PrintableString,
//! T61String, IA5String, VisibleString) becomes a UTF8String with leading and trailing
//! white space removed, inner runs of white space collapsed to one space and ASCII letters
//! lower-cased. Other values are copied unchanged. The RDN sets are concatenated without the
//! outer `SEQUENCE` header.

use x509_parser::prelude::{FromDer, X509Certificate, X509Name};

use super::SetupError;

/// ASN.1 universal tags whose values OpenSSL canonicalises (`ASN1_MASK_CANON`).
const TAG_UTF8: u32 = 12;
const TAG_PRINTABLE: u32 = 19;
const TAG_T61: u32 = 20;
const TAG_IA5: u32 = 22;
const TAG_VISIBLE: u32 = 26;
const TAG_UNIVERSAL: u32 = 28;
const TAG_BMP: u32 = 30;

/// The subject hash of a DER certificate, as `openssl x509 -hash -noout` prints it.
pub fn subject_hash(cert_der: &[u8]) -> Result<u32, SetupError> {
    let (_, cert) = X509Certificate::from_der(cert_der)
        .map_err(|e| SetupError::Parse(format!("certificate: {e}")))?;
    Ok(name_hash(cert.subject()))
}

/// The file name OpenSSL looks for in a hashed directory: `%08x.0`.
pub fn link_name(hash: u32) -> String {
    format!("{hash:08x}.0")
}

/// The hash of any X.509 name (subject or issuer).
pub fn name_hash(name: &X509Name<'_>) -> u32 {
    let canon = canonical_encoding(name);
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &canon);
    let d = digest.as_ref();
    u32::from_le_bytes([d[0], d[1], d[2], d[3]])
}

/// `x509_name_canon()`: the concatenated canonical RDN sets.
pub fn canonical_encoding(name: &X509Name<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    for rdn in name.iter() {
        let mut entries: Vec<Vec<u8>> = rdn
            .iter()
            .map(|atv| {
                let mut body = Vec::new();
                let oid = atv.attr_type().as_bytes();
                push_tlv(&mut body, &[0x06], oid);
                let value = atv.attr_value();
                let tag = value.header.tag().0;
                let universal =
                    value.header.class() == x509_parser::der_parser::asn1_rs::Class::Universal;
                match canonical_text(universal, tag, value.data) {
                    Some(text) => push_tlv(&mut body, &[TAG_UTF8 as u8], &text),
                    None => {
                        let ident =
                            identifier(value.header.class() as u8, value.header.constructed(), tag);
                        push_tlv(&mut body, &ident, value.data);
                    }
                }
                let mut seq = Vec::new();
                push_tlv(&mut seq, &[0x30], &body);
                seq
            })
            .collect();
        // DER `SET OF`: elements sorted by their encodings (OpenSSL sorts when > 1).
        entries.sort();
        let set_body: Vec<u8> = entries.concat();
        push_tlv(&mut out, &[0x31], &set_body);
    }
    out
}

/// The canonical UTF-8 text of a value, or `None` when OpenSSL copies it unchanged.
fn canonical_text(universal: bool, tag: u32, data: &[u8]) -> Option<Vec<u8>> {
    if !universal {
        return None;
    }
    let utf8: String = match tag {
        TAG_UTF8 => String::from_utf8_lossy(data).into_owned(),
        // One byte per character, read as Latin-1 (`ASN1_STRING_to_UTF8`).
        TAG_PRINTABLE | TAG_T61 | TAG_IA5 | TAG_VISIBLE => {
            data.iter().map(|&b| char::from(b)).collect()
        }
        TAG_BMP => data
            .chunks(2)
            .filter_map(|c| match c {
                [a, b] => char::from_u32(u32::from(u16::from_be_bytes([*a, *b]))),
                _ => None,
            })
            .collect(),
        TAG_UNIVERSAL => data
            .chunks(4)
            .filter_map(|c| match c {
                [a, b, x, y] => char::from_u32(u32::from_be_bytes([*a, *b, *x, *y])),
                _ => None,
            })
            .collect(),
        _ => return None,
    };
    Some(collapse(utf8.as_bytes()))
}

/// OpenSSL's `ossl_isspace`: space, \t, \n, \v, \f, \r.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Trim, collapse inner white space to one space, lower-case ASCII; bytes ≥ 0x80 unchanged.
fn collapse(s: &[u8]) -> Vec<u8> {
    let start = s.iter().position(|&b| !is_space(b)).unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|&b| !is_space(b))
        .map_or(start, |p| p + 1);
    let mut out = Vec::with_capacity(end.saturating_sub(start));
    let mut in_space = false;
    for &b in s.get(start..end).unwrap_or_default() {
        if b.is_ascii() && is_space(b) {
            if !in_space {
                out.push(b' ');
            }
            in_space = true;
        } else {
            in_space = false;
            out.push(b.to_ascii_lowercase());
        }
    }
    out
}

/// DER identifier octets for a class/constructed/tag triple.
fn identifier(class: u8, constructed: bool, tag: u32) -> Vec<u8> {
    let first = (class << 6) | if constructed { 0x20 } else { 0 };
    if tag < 31 {
        return vec![first | tag as u8];
    }
    let mut out = vec![first | 0x1f];
    let mut groups = Vec::new();
    let mut t = tag;
    loop {
        groups.push((t & 0x7f) as u8);
        t >>= 7;
        if t == 0 {
            break;
        }
    }
    for (i, g) in groups.iter().rev().enumerate() {
        out.push(if i + 1 < groups.len() { g | 0x80 } else { *g });
    }
    out
}

/// Appends identifier, DER length and contents.
fn push_tlv(out: &mut Vec<u8>, ident: &[u8], content: &[u8]) {
    out.extend_from_slice(ident);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        let rest = bytes.get(skip..).unwrap_or_default();
        out.push(0x80 | rest.len() as u8);
        out.extend_from_slice(rest);
    }
    out.extend_from_slice(content);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collapse_follows_openssl() {
        let rows: [(&[u8], &[u8]); 5] = [
            (b"  Example   Mail\tCA ", b"example mail ca"),
            (b"MX1.Example.ORG", b"mx1.example.org"),
            (b"", b""),
            (b"   ", b""),
            ("Zürich  Ü".as_bytes(), "zürich Ü".as_bytes()),
        ];
        for (raw, want) in rows {
            assert_eq!(collapse(raw), want, "{:?}", String::from_utf8_lossy(raw));
        }
    }

    #[test]
    fn long_lengths_and_high_tags() {
        let mut v = Vec::new();
        push_tlv(&mut v, &[0x04], &[0u8; 300]);
        assert_eq!(&v[..4], &[0x04, 0x82, 0x01, 0x2c]);
        assert_eq!(identifier(2, true, 5), vec![0xa5]);
        assert_eq!(identifier(0, false, 200), vec![0x1f, 0x81, 0x48]);
    }
}
