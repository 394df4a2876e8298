//! Stored mail (mbox, Maildir, `.eml`): [`messages`] splits a store into messages and
//! their headers, [`hops`] reads each message's `Received:` trail into hops and folds the
//! ones that name our peers into posture, beside the logs' view.

pub mod hops;
pub mod mbox;
pub mod messages;
