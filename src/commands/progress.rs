//! The progress bar of long scans: bytes, rate and ETA on stderr.
//!
//! Shown only when a person is watching (stderr is a terminal), the input is large enough
//! for waiting to be noticeable ([`MIN_BYTES`]) and `--quiet` was not given; never in a
//! pipeline or a cron job, whose stderr is not a terminal. The pipeline only counts bytes
//! into an atomic; a separate thread turns the count into the bar ten times a second, so
//! the hot path pays one relaxed add per read.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::input::SourceFile;

/// Inputs smaller than this are read before a bar would be worth drawing.
pub const MIN_BYTES: u64 = 64 << 20;

/// A running progress bar; [`Progress::finish`] removes it.
pub struct Progress {
    counter: Arc<AtomicU64>,
    done: Arc<AtomicBool>,
    drawer: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts a bar over `sources` when it should be shown (see the module doc). Standard
    /// input has no known size, so it never gets one.
    pub fn start(sources: &[SourceFile], quiet: bool) -> Option<Progress> {
        if quiet || !std::io::stderr().is_terminal() {
            return None;
        }
        let mut total = 0u64;
        for s in sources {
            total += std::fs::metadata(s.path.as_ref()?).ok()?.len();
        }
        if total < MIN_BYTES {
            return None;
        }
        let bar =
            ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr_with_hz(10));
        bar.set_style(
            ProgressStyle::with_template(
                "{bytes:>10}/{total_bytes} {wide_bar} {bytes_per_sec:>12} ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let counter = Arc::new(AtomicU64::new(0));
        let done = Arc::new(AtomicBool::new(false));
        let (c, d) = (Arc::clone(&counter), Arc::clone(&done));
        let drawer = thread::spawn(move || {
            while !d.load(Ordering::Relaxed) {
                bar.set_position(c.load(Ordering::Relaxed));
                thread::sleep(Duration::from_millis(100));
            }
            bar.finish_and_clear();
        });
        Some(Progress {
            counter,
            done,
            drawer: Some(drawer),
        })
    }

    /// The counter the pipeline adds the bytes it reads to.
    pub fn counter(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.counter)
    }

    /// Clears the bar (before the report is printed).
    pub fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(h) = self.drawer.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop();
    }
}
