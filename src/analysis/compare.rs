//! What changed since the previous report (`scan --compare previous/posture.json`): new
//! peers, peers whose protocol or certificate verification got worse, new error kinds, and
//! plaintext growth. Comparisons are between two `mailtls.posture` snapshots, so last
//! night's report is all a nightly job has to keep.

use serde::Serialize;

use crate::analysis::policy::version_rank;
use crate::analysis::posture::{DirPosture, Posture};
use crate::model::{Direction, Verify};

/// One peer (and direction) whose posture changed, before → after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub peer: String,
    pub direction: Direction,
    pub before: String,
    pub after: String,
}

/// An error kind seen now and not in the previous snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewError {
    /// A peer key, or `local:HOST` for our own installation's errors.
    pub scope: String,
    pub kind: String,
    pub count: u64,
    pub last_text: String,
}

/// The differences that matter to someone reading last night's report.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Comparison {
    pub new_peers: Vec<String>,
    pub gone_peers: Vec<String>,
    pub protocol_downgrades: Vec<Change>,
    pub verify_downgrades: Vec<Change>,
    pub new_errors: Vec<NewError>,
    pub plaintext_growth: Vec<Change>,
    /// Overall plaintext share before and after, in percent.
    pub plaintext_before: f64,
    pub plaintext_after: f64,
}

impl Comparison {
    pub fn is_empty(&self) -> bool {
        self.new_peers.is_empty()
            && self.gone_peers.is_empty()
            && self.protocol_downgrades.is_empty()
            && self.verify_downgrades.is_empty()
            && self.new_errors.is_empty()
            && self.plaintext_growth.is_empty()
    }
}

/// The oldest ranked protocol a direction used, with its label.
fn worst_version(d: &DirPosture) -> Option<(u8, String)> {
    d.versions
        .keys()
        .filter_map(|v| version_rank(v).map(|r| (r, v.label().to_owned())))
        .min()
}

fn verified_share(d: &DirPosture) -> Option<f64> {
    let total = d.verify.total();
    if total == 0 {
        return None;
    }
    let ok = d
        .verify
        .count_where(|v| matches!(v, Verify::Ok | Verify::Trusted));
    Some(100.0 * ok as f64 / total as f64)
}

fn plain_share(d: &DirPosture) -> Option<f64> {
    let m = d.messages();
    (m > 0).then(|| 100.0 * d.plaintext_messages as f64 / m as f64)
}

fn overall_plain(p: &Posture) -> f64 {
    let (mut plain, mut all) = (0, 0);
    for peer in p.peers.values() {
        for d in [&peer.inbound, &peer.outbound] {
            plain += d.plaintext_messages;
            all += d.messages();
        }
    }
    if all == 0 {
        0.0
    } else {
        100.0 * plain as f64 / all as f64
    }
}

/// Compares `now` against `before`.
pub fn compare(before: &Posture, now: &Posture) -> Comparison {
    let mut c = Comparison {
        plaintext_before: overall_plain(before),
        plaintext_after: overall_plain(now),
        ..Comparison::default()
    };
    for key in now.peers.keys() {
        if !before.peers.contains_key(key) {
            c.new_peers.push(key.clone());
        }
    }
    for key in before.peers.keys() {
        if !now.peers.contains_key(key) {
            c.gone_peers.push(key.clone());
        }
    }
    for (key, p) in &now.peers {
        let old = before.peers.get(key);
        for dir in [Direction::Inbound, Direction::Outbound] {
            let d = p.dir(dir);
            let change = |before: String, after: String| Change {
                peer: key.clone(),
                direction: dir,
                before,
                after,
            };
            if let Some(o) = old.map(|o| o.dir(dir)) {
                if let (Some((rb, vb)), Some((ra, va))) = (worst_version(o), worst_version(d))
                    && ra < rb
                {
                    c.protocol_downgrades.push(change(vb, va));
                }
                if let (Some(b), Some(a)) = (verified_share(o), verified_share(d))
                    && a + 0.5 < b
                {
                    c.verify_downgrades.push(change(
                        format!("{b:.0}% verified"),
                        format!("{a:.0}% verified"),
                    ));
                }
                if let Some(a) = plain_share(d)
                    && a > 0.0
                {
                    let b = plain_share(o).unwrap_or(0.0);
                    if a > b + 0.5 {
                        c.plaintext_growth.push(change(
                            format!("{b:.0}% clear text"),
                            format!("{a:.0}% clear text"),
                        ));
                    }
                }
                for (kind, e) in &d.errors {
                    if !o.errors.contains_key(kind) {
                        c.new_errors.push(NewError {
                            scope: format!("{key} {}", dir.as_str()),
                            kind: kind.to_string(),
                            count: e.count,
                            last_text: e.last_text.clone(),
                        });
                    }
                }
            } else {
                for (kind, e) in &d.errors {
                    c.new_errors.push(NewError {
                        scope: format!("{key} {}", dir.as_str()),
                        kind: kind.to_string(),
                        count: e.count,
                        last_text: e.last_text.clone(),
                    });
                }
            }
        }
    }
    for (host, errs) in &now.local_errors {
        let old = before.local_errors.get(host);
        for (kind, e) in errs {
            if !old.is_some_and(|o| o.contains_key(kind)) {
                c.new_errors.push(NewError {
                    scope: format!("local:{host}"),
                    kind: kind.to_string(),
                    count: e.count,
                    last_text: e.last_text.clone(),
                });
            }
        }
    }
    c
}
