//! Fair use of a server's connection slots: at most N connections at once to one
//! address across all concurrent checks (SMTP servers rate-limit scanners, and a
//! `421` then says nothing about TLS).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Condvar, Mutex};

/// Limits concurrent connections per server address (SMTP servers rate-limit
/// scanners; the default is 2, like a polite MTA).
#[derive(Debug)]
pub struct IpLimiter {
    max: usize,
    busy: Mutex<HashMap<IpAddr, usize>>,
    freed: Condvar,
}

/// Held while connections to one address are open; releases the slot on drop.
pub struct Permit {
    limiter: Arc<IpLimiter>,
    ip: IpAddr,
}

impl IpLimiter {
    pub fn new(max: usize) -> Arc<IpLimiter> {
        Arc::new(IpLimiter {
            max: max.max(1),
            busy: Mutex::new(HashMap::new()),
            freed: Condvar::new(),
        })
    }

    /// Waits for a free slot for `ip`.
    pub fn acquire(self: &Arc<Self>, ip: IpAddr) -> Permit {
        let mut busy = self.busy.lock().unwrap_or_else(|p| p.into_inner());
        while busy.get(&ip).copied().unwrap_or(0) >= self.max {
            busy = self.freed.wait(busy).unwrap_or_else(|p| p.into_inner());
        }
        *busy.entry(ip).or_insert(0) += 1;
        Permit {
            limiter: Arc::clone(self),
            ip,
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut busy = self.limiter.busy.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = busy.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                busy.remove(&self.ip);
            }
        }
        self.limiter.freed.notify_all();
    }
}
