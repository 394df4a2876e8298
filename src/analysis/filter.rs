//! The record filters shared by every command that reads logs (`--peer`, `--since`,
//! `--until`, `--direction`), so that `scan`, `events` and `follow` select the same things.

use chrono::{DateTime, FixedOffset, Local, NaiveDate, NaiveDateTime, TimeZone};

use crate::model::Record;
use crate::model::{Direction, Peer};

/// Which records to keep. The default keeps everything.
#[derive(Debug, Clone, Default)]
pub struct RecordFilter {
    /// A peer name, domain or IP (see [`peer_matches`]).
    pub peer: Option<String>,
    /// Keep records at or after this time; records without a time are dropped.
    pub since: Option<DateTime<FixedOffset>>,
    /// Keep records before this time; records without a time are dropped.
    pub until: Option<DateTime<FixedOffset>>,
    pub direction: Option<Direction>,
    /// Keep peers on the local machine (127.0.0.0/8, ::1, `localhost`); dropped by default.
    pub loopback: bool,
}

/// True when `pattern` names this peer: its key or any of its names (case-insensitive,
/// trailing dot ignored), a parent domain of its name (`example.org` matches
/// `mx1.example.org`), or its IP.
pub fn peer_matches(peer: &Peer, pattern: &str) -> bool {
    let pat = pattern.trim().trim_end_matches('.').to_ascii_lowercase();
    if pat.is_empty() {
        return false;
    }
    if let Some(ip) = peer.ip
        && (ip.to_string() == pat || pattern.parse().ok() == Some(ip))
    {
        return true;
    }
    match peer.key() {
        Some(k) => k == pat || k.ends_with(&format!(".{pat}")),
        None => false,
    }
}

impl RecordFilter {
    pub fn is_empty(&self) -> bool {
        self.peer.is_none()
            && self.since.is_none()
            && self.until.is_none()
            && self.direction.is_none()
    }

    pub fn keep(&self, r: &Record) -> bool {
        self.reject(r).is_none()
    }

    /// Which filter leaves `r` out, or `None` to keep it: what a run that kept nothing
    /// reports ("all 812 records left out: 800 by the time window, 12 loopback").
    ///
    /// A peer named by `--peer` (or `mailtls peer NAME`) is kept even when it is on this
    /// machine: asking for `127.0.0.1` or for the logging host itself is asking for it.
    pub fn reject(&self, r: &Record) -> Option<Left> {
        let named = self
            .peer
            .as_ref()
            .map(|p| r.peer().is_some_and(|peer| peer_matches(peer, p)));
        if !self.loopback && named != Some(true) && r.peer().is_some_and(Peer::is_loopback) {
            return Some(Left::Loopback);
        }
        if named == Some(false) {
            return Some(Left::Peer);
        }
        if let Some(d) = self.direction
            && r.direction().is_some_and(|rd| rd != d)
        {
            return Some(Left::Direction);
        }
        if self.since.is_some() || self.until.is_some() {
            let Some(t) = r.meta().time else {
                return Some(Left::Window);
            };
            if self.since.is_some_and(|s| t < s) || self.until.is_some_and(|u| t >= u) {
                return Some(Left::Window);
            }
        }
        None
    }
}

/// The filter that left a record out ([`RecordFilter::reject`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Left {
    /// A peer on this machine, without `--loopback`.
    Loopback,
    /// Not the peer asked for (`--peer`).
    Peer,
    /// Not the direction asked for (`--direction`).
    Direction,
    /// Outside `--since`/`--until`/`--around`, or without a time.
    Window,
}

impl Left {
    /// How the summary names the filter: the flag that changes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Left::Loopback => "loopback (--loopback)",
            Left::Peer => "--peer",
            Left::Direction => "--direction",
            Left::Window => "time window (--since/--until/--around)",
        }
    }
}

/// Reads `--since`/`--until` values: RFC 3339 (`2026-11-27T10:00:00+01:00`), a local
/// `YYYY-MM-DD`, `YYYY-MM-DD HH:MM` or `YYYY-MM-DD HH:MM:SS` (also with `T`), read in the
/// local zone or in `zone` when given, or a duration back from now (`24h`, `7d`, `90min`,
/// `2w`, `1h 30m`): what a nightly job means by "the last day".
pub fn parse_time(s: &str, zone: Option<FixedOffset>) -> Result<DateTime<FixedOffset>, String> {
    parse_time_at(s, zone, Local::now().fixed_offset())
}

/// How far `--around TIME` reaches on each side when no duration is given.
pub const AROUND_DEFAULT: chrono::Duration = chrono::Duration::minutes(15);

/// Reads `--around TIME[±DURATION]` (also `TIME+-DURATION`, for keyboards without `±`):
/// the window from TIME − DURATION to TIME + DURATION, ±15 minutes when no duration is
/// given. TIME takes the forms of [`parse_time`]. An incident is reported as "around
/// 10:00", and the log lines that explain it are on both sides of that moment.
pub fn parse_around(
    s: &str,
    zone: Option<FixedOffset>,
) -> Result<(DateTime<FixedOffset>, DateTime<FixedOffset>), String> {
    let s = s.trim();
    let (time, dur) = match s
        .rfind('±')
        .map(|i| (i, '±'.len_utf8()))
        .or_else(|| s.rfind("+-").map(|i| (i, 2)))
    {
        Some((i, n)) => (&s[..i], Some(s[i + n..].trim())),
        None => (s, None),
    };
    let t = parse_time(time, zone)?;
    let d = match dur {
        Some(d) => {
            let d = humantime::parse_duration(d).map_err(|e| {
                format!("invalid duration '{d}' in --around: {e} (use 15m, 2h, 1d)")
            })?;
            chrono::Duration::from_std(d).map_err(|_| format!("duration '{s}' too long"))?
        }
        None => AROUND_DEFAULT,
    };
    match (t.checked_sub_signed(d), t.checked_add_signed(d)) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err(format!("--around '{s}' reaches beyond the calendar")),
    }
}

/// [`parse_time`] with durations counted back from `now` (for tests and replays).
pub fn parse_time_at(
    s: &str,
    zone: Option<FixedOffset>,
    now: DateTime<FixedOffset>,
) -> Result<DateTime<FixedOffset>, String> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t);
    }
    if s.starts_with(|c: char| c.is_ascii_digit())
        && !s.contains('-')
        && let Ok(d) = humantime::parse_duration(s)
    {
        let d = chrono::Duration::from_std(d).map_err(|_| format!("duration '{s}' too long"))?;
        return now
            .checked_sub_signed(d)
            .ok_or_else(|| format!("duration '{s}' reaches before the calendar"));
    }
    let naive = [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
    .or_else(|| {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
    })
    .ok_or_else(|| {
        format!(
            "invalid time '{s}': use YYYY-MM-DD, 'YYYY-MM-DD HH:MM[:SS]', RFC 3339 or a duration back from now (24h, 7d)"
        )
    })?;
    match zone {
        Some(z) => z
            .from_local_datetime(&naive)
            .earliest()
            .ok_or_else(|| format!("invalid time '{s}'")),
        None => Local
            .from_local_datetime(&naive)
            .earliest()
            .map(|t| t.fixed_offset())
            .ok_or_else(|| format!("time '{s}' does not exist in the local zone")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_match_by_name_domain_and_ip() {
        let p = Peer::new(Some("MX1.Example.ORG."), "192.0.2.7".parse().ok());
        for yes in [
            "mx1.example.org",
            "example.org",
            "EXAMPLE.ORG.",
            "192.0.2.7",
        ] {
            assert!(peer_matches(&p, yes), "{yes}");
        }
        for no in ["ample.org", "mx2.example.org", "192.0.2.70", ""] {
            assert!(!peer_matches(&p, no), "{no}");
        }
        let v6 = Peer::new(None, "2001:db8::1".parse().ok());
        assert!(peer_matches(&v6, "2001:DB8:0:0:0:0:0:1"));
    }

    #[test]
    fn times_parse_in_the_given_zone() {
        let utc = FixedOffset::east_opt(0);
        assert_eq!(
            parse_time("2026-11-27", utc).unwrap().to_rfc3339(),
            "2026-11-27T00:00:00+00:00"
        );
        assert_eq!(
            parse_time("2026-11-27 10:05", utc).unwrap().to_rfc3339(),
            "2026-11-27T10:05:00+00:00"
        );
        assert_eq!(
            parse_time("2026-11-27T10:05:00+03:00", utc)
                .unwrap()
                .to_rfc3339(),
            "2026-11-27T10:05:00+03:00"
        );
        assert!(parse_time("yesterday", utc).unwrap_err().contains("24h"));
        assert!(
            parse_time("yesterday", utc)
                .unwrap_err()
                .contains("yesterday")
        );
    }
}

#[cfg(test)]
mod around {
    use super::*;

    #[test]
    fn around_spans_both_sides() {
        let utc = FixedOffset::east_opt(0);
        for (arg, since, until) in [
            (
                "2026-11-20 10:00",
                "2026-11-20T09:45:00+00:00",
                "2026-11-20T10:15:00+00:00",
            ),
            (
                "2026-11-20 10:00±1h",
                "2026-11-20T09:00:00+00:00",
                "2026-11-20T11:00:00+00:00",
            ),
            (
                "2026-11-20T10:00:00+01:00+-30m",
                "2026-11-20T09:30:00+01:00",
                "2026-11-20T10:30:00+01:00",
            ),
            (
                "2026-11-20 10:00 ± 90s",
                "2026-11-20T09:58:30+00:00",
                "2026-11-20T10:01:30+00:00",
            ),
        ] {
            let (a, b) = parse_around(arg, utc).unwrap();
            assert_eq!(
                (a.to_rfc3339().as_str(), b.to_rfc3339().as_str()),
                (since, until),
                "{arg}"
            );
        }
        assert!(
            parse_around("2026-11-20 10:00±soon", utc)
                .unwrap_err()
                .contains("soon")
        );
        assert!(parse_around("noon", utc).is_err());
    }
}

#[cfg(test)]
mod relative {
    use super::*;

    #[test]
    fn durations_count_back_from_now() {
        let now = DateTime::parse_from_rfc3339("2026-11-28T06:00:00+01:00").unwrap();
        for (arg, want) in [
            ("24h", "2026-11-27T06:00:00+01:00"),
            ("7d", "2026-11-21T06:00:00+01:00"),
            ("90min", "2026-11-28T04:30:00+01:00"),
            ("1h 30m", "2026-11-28T04:30:00+01:00"),
            ("2w", "2026-11-14T06:00:00+01:00"),
            (" 30s ", "2026-11-28T05:59:30+01:00"),
        ] {
            assert_eq!(
                parse_time_at(arg, None, now).unwrap().to_rfc3339(),
                want,
                "{arg}"
            );
        }
        // Dates still read as dates, not as durations.
        let utc = FixedOffset::east_opt(0);
        assert_eq!(
            parse_time_at("2026-11-27", utc, now).unwrap().to_rfc3339(),
            "2026-11-27T00:00:00+00:00"
        );
        for bad in ["24", "h24", "24 parsecs", "-24h"] {
            assert!(parse_time_at(bad, utc, now).is_err(), "{bad}");
        }
    }
}
