//! Counts keyed by a typed word: sessions by [`TlsVersion`], by [`Verify`] word, by
//! [`Cipher`].
//!
//! The posture, the timeline and the hop stores count sessions by what the parsers typed;
//! the policy, the comparison and the charts then judge those keys (is it deprecated,
//! below the minimum, verified?). Keeping the key typed means nobody parses a label back.
//! What is written stays the word: a [`Hist`] is ordered, iterated and serialised by its
//! keys' words, exactly as the `word → count` maps it replaces, so snapshots written by
//! earlier versions read back and new ones are byte-for-byte the same.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Cipher, TlsVersion, Verify};

/// A key a [`Hist`] counts by: written as one word and read back from it.
///
/// `from_word(k.word())` must give `k` back (two keys with one word are one key).
pub trait Word: Clone {
    /// The written form (a report's label, a snapshot's map key).
    fn word(&self) -> &str;
    /// Reads a written form; never fails (unknown words are kept by the key type).
    fn from_word(word: &str) -> Self;
}

impl Word for TlsVersion {
    fn word(&self) -> &str {
        self.label()
    }
    fn from_word(word: &str) -> Self {
        TlsVersion::parse(word)
    }
}

impl Word for Verify {
    fn word(&self) -> &str {
        self.as_str()
    }
    fn from_word(word: &str) -> Self {
        Verify::parse(word)
    }
}

impl Word for Cipher {
    fn word(&self) -> &str {
        self.as_str()
    }
    fn from_word(word: &str) -> Self {
        Cipher(word.to_owned())
    }
}

/// A key ordered and compared by its word, so the map's order is the words' order (what
/// reports print and snapshots write) and it can be looked up by `&str`.
#[derive(Clone)]
struct ByWord<K>(K);

impl<K: Word> PartialEq for ByWord<K> {
    fn eq(&self, o: &Self) -> bool {
        self.0.word() == o.0.word()
    }
}

impl<K: Word> Eq for ByWord<K> {}

impl<K: Word> PartialOrd for ByWord<K> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

impl<K: Word> Ord for ByWord<K> {
    fn cmp(&self, o: &Self) -> Ordering {
        self.0.word().cmp(o.0.word())
    }
}

impl<K: Word> Borrow<str> for ByWord<K> {
    fn borrow(&self) -> &str {
        self.0.word()
    }
}

/// Occurrences by typed key, in the order of the keys' words. A commutative monoid like
/// the posture it sits in: [`Hist::default`] is empty and [`Hist::merge`] adds.
#[derive(Clone)]
pub struct Hist<K: Word>(BTreeMap<ByWord<K>, u64>);

impl<K: Word> Default for Hist<K> {
    fn default() -> Self {
        Hist(BTreeMap::new())
    }
}

impl<K: Word> PartialEq for Hist<K> {
    fn eq(&self, o: &Self) -> bool {
        self.0 == o.0
    }
}

impl<K: Word> Eq for Hist<K> {}

impl<K: Word> fmt::Debug for Hist<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.words()).finish()
    }
}

impl<K: Word> Hist<K> {
    /// `+1` for `key`, cloning the key only the first time it is counted: the fold sees
    /// the same few versions, ciphers and verify words millions of times.
    pub fn add(&mut self, key: &K) {
        self.add_n(key, 1);
    }

    /// `+n` for `key` (nothing is stored for `n == 0`).
    pub fn add_n(&mut self, key: &K, n: u64) {
        if n == 0 {
            return;
        }
        match self.0.get_mut(key.word()) {
            Some(c) => *c += n,
            None => {
                self.0.insert(ByWord(key.clone()), n);
            }
        }
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: Hist<K>) {
        for (k, n) in other.0 {
            *self.0.entry(k).or_default() += n;
        }
    }

    /// Adds every count of `other`, by reference.
    pub fn merge_ref(&mut self, other: &Hist<K>) {
        for (k, n) in other.iter() {
            self.add_n(k, n);
        }
    }

    /// The count of `key` (0 when never counted).
    pub fn get(&self, key: &K) -> u64 {
        self.0.get(key.word()).copied().unwrap_or(0)
    }

    /// Keys and counts, in the order of the keys' words.
    pub fn iter(&self) -> Iter<'_, K> {
        Iter(self.0.iter())
    }

    /// Words and counts, in order: what a report prints.
    pub fn words(&self) -> impl Iterator<Item = (&str, u64)> + '_ {
        self.0.iter().map(|(k, n)| (k.0.word(), *n))
    }

    /// The keys, in the order of their words.
    pub fn keys(&self) -> impl Iterator<Item = &K> + '_ {
        self.0.keys().map(|k| &k.0)
    }

    /// The sum of the counts of the keys `pick` accepts.
    pub fn count_where(&self, pick: impl Fn(&K) -> bool) -> u64 {
        self.iter().filter(|(k, _)| pick(k)).map(|(_, n)| n).sum()
    }

    /// The sum of all counts.
    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many distinct keys.
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// The iterator of [`Hist::iter`]: keys and counts in the order of the keys' words.
pub struct Iter<'a, K>(std::collections::btree_map::Iter<'a, ByWord<K>, u64>);

impl<'a, K> Iterator for Iter<'a, K> {
    type Item = (&'a K, u64);
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, n)| (&k.0, *n))
    }
}

impl<'a, K: Word> IntoIterator for &'a Hist<K> {
    type Item = (&'a K, u64);
    type IntoIter = Iter<'a, K>;
    fn into_iter(self) -> Iter<'a, K> {
        self.iter()
    }
}

impl<K: Word> FromIterator<(K, u64)> for Hist<K> {
    fn from_iter<I: IntoIterator<Item = (K, u64)>>(it: I) -> Self {
        let mut h = Hist::default();
        for (k, n) in it {
            h.add_n(&k, n);
        }
        h
    }
}

/// A map `word → count`, in word order: what the string-keyed maps wrote.
impl<K: Word> Serialize for Hist<K> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (w, n) in self.words() {
            m.serialize_entry(w, &n)?;
        }
        m.end()
    }
}

/// Reads `word → count`; two spellings of one key (`TLSv1` and `TLSv1.0` in a hand-made
/// snapshot) add up.
impl<'de, K: Word> Deserialize<'de> for Hist<K> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<K>(PhantomData<K>);
        impl<'de, K: Word> Visitor<'de> for V<K> {
            type Value = Hist<K>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of words to counts")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Hist<K>, A::Error> {
                let mut h = Hist::default();
                while let Some((w, n)) = a.next_entry::<std::borrow::Cow<'de, str>, u64>()? {
                    h.add_n(&K::from_word(&w), n);
                }
                Ok(h)
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Order, iteration and JSON follow the words, as the `BTreeMap<String, u64>` it
    /// replaced did (the variants' own order would put TLSv1.3 after SSLv2 and `Other`
    /// last).
    #[test]
    fn ordered_and_written_by_word() {
        let mut h: Hist<TlsVersion> = Hist::default();
        for w in [
            "TLSv1.3",
            "TLSv1",
            "SSLv3",
            "TLSv1/SSLv3",
            "UNKNOWN",
            "TLSv1.3",
            "TLSv1.2",
        ] {
            h.add(&TlsVersion::parse(w));
        }
        let old: BTreeMap<String, u64> = [
            ("TLSv1.3", 2),
            ("TLSv1", 1),
            ("SSLv3", 1),
            ("TLSv1/SSLv3", 1),
            ("UNKNOWN", 1),
            ("TLSv1.2", 1),
        ]
        .into_iter()
        .map(|(w, n)| (w.to_owned(), n))
        .collect();
        assert_eq!(
            serde_json::to_string(&h).unwrap(),
            serde_json::to_string(&old).unwrap()
        );
        let words: Vec<_> = h.words().collect();
        let old_words: Vec<_> = old.iter().map(|(w, n)| (w.as_str(), *n)).collect();
        assert_eq!(words, old_words);
        assert_eq!(h.get(&TlsVersion::Tls1_3), 2);
        assert_eq!(h.get(&TlsVersion::Tls1_1), 0);
        assert_eq!(h.total(), 7);
        assert_eq!(h.count_where(TlsVersion::is_deprecated), 2);
    }

    /// What an older snapshot wrote reads back to the same typed counts, and a second
    /// spelling of one version adds to it.
    #[test]
    fn reads_words_back_and_merges_spellings() {
        let h: Hist<TlsVersion> =
            serde_json::from_str(r#"{"TLSv1":2,"TLSv1.0":1,"TLSv1.3":4,"QUIC":1}"#).unwrap();
        assert_eq!(h.get(&TlsVersion::Tls1_0), 3);
        assert_eq!(h.get(&TlsVersion::Other("QUIC".into())), 1);
        assert_eq!(
            serde_json::to_string(&h).unwrap(),
            r#"{"QUIC":1,"TLSv1":3,"TLSv1.3":4}"#
        );
        let v: Hist<Verify> = serde_json::from_str(r#"{"OK":3,"UNKNOWN":1}"#).unwrap();
        assert_eq!(v.get(&Verify::Unknown), 1);
        let mut m = v.clone();
        m.merge(v);
        assert_eq!(m.get(&Verify::Ok), 6);
        assert!(serde_json::from_str::<Hist<Verify>>(r#"{"OK":-1}"#).is_err());
    }
}
