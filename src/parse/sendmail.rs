//! Sendmail's TLS-relevant log lines (FORMATS.md §1).
//!
//! (stub: the full parser lands next)

use super::Parsed;

/// Reads one Sendmail message text (the part after `sm-mta[pid]: `).
pub fn parse(_msg: &str) -> Parsed {
    Parsed::Irrelevant
}
