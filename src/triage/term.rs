//! Writing log data to a person's terminal: colour only when wanted, and never a byte from
//! a log that the terminal would obey.
//!
//! Peer names, HELO strings, addresses and status texts are chosen by whoever connects to
//! the mail server. Printed raw, an escape sequence in them could recolour, retitle or
//! rewrite the screen of the administrator reading the timeline at 3 a.m. Every
//! log-derived string goes through [`clean`] before it reaches a terminal.

use anstyle::{AnsiColor, Style};

/// `--color`: when to colour the terminal output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorWhen {
    /// On a terminal, unless NO_COLOR is set.
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorWhen {
    /// Whether to colour, given whether stdout is a terminal. `NO_COLOR` (non-empty) turns
    /// `auto` off; `always` is the user's explicit wish and wins.
    pub fn enabled(self, stdout_is_tty: bool) -> bool {
        match self {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => {
                stdout_is_tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        }
    }
}

/// What a piece of text means, so each gets one colour everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Times, file:line, secondary facts.
    Dim,
    /// Headings and peer names.
    Strong,
    /// TLS that verified, sent mail.
    Good,
    /// TLS without verification, deferrals.
    Warn,
    /// Plaintext, errors, bounces.
    Bad,
}

/// Paints text when colour is on; always cleans it first.
#[derive(Debug, Clone, Copy)]
pub struct Painter {
    pub colour: bool,
}

impl Painter {
    pub fn new(colour: bool) -> Painter {
        Painter { colour }
    }

    /// `text` cleaned of control characters, in the colour of `tone` when colour is on.
    pub fn paint(&self, tone: Tone, text: &str) -> String {
        let text = clean(text);
        if !self.colour {
            return text.into_owned();
        }
        let style = match tone {
            Tone::Dim => Style::new().dimmed(),
            Tone::Strong => Style::new().bold(),
            Tone::Good => AnsiColor::Green.on_default(),
            Tone::Warn => AnsiColor::Yellow.on_default(),
            Tone::Bad => AnsiColor::Red.on_default().bold(),
        };
        format!("{}{text}{}", style.render(), style.render_reset())
    }
}

/// Log data made safe for a terminal: the one shared rule of [`crate::model::text`]
/// (control characters, C1, bidi and zero-width characters shown as escapes).
pub use crate::model::text::terminal as clean;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_never_reach_the_terminal() {
        let rows = [
            ("mx1.example.org", "mx1.example.org"),
            (
                "evil\x1b[2J\x1b]0;owned\x07.example",
                "evil\\x1b[2J\\x1b]0;owned\\x07.example",
            ),
            ("a\rb\nc\td", "a\\x0db\\x0ac\\x09d"),
            ("c1\u{9b}31m", "c1\\u{9b}31m"),
            ("rtl\u{202e}gro.elpmaxe", "rtl\\u{202e}gro.elpmaxe"),
            ("ünïcödé.example", "ünïcödé.example"),
        ];
        for (raw, want) in rows {
            assert_eq!(clean(raw), want, "{raw:?}");
            let painted = Painter::new(true).paint(Tone::Bad, raw);
            // The style's own two sequences, and no escape from the data.
            assert!(painted.contains(want), "{raw:?}");
            let style_only = Painter::new(true).paint(Tone::Bad, "x");
            assert_eq!(
                painted.matches('\x1b').count(),
                style_only.matches('\x1b').count(),
                "{raw:?}"
            );
        }
        assert_eq!(Painter::new(false).paint(Tone::Good, "x\x1b"), "x\\x1b");
    }

    #[test]
    fn colour_choice() {
        assert!(ColorWhen::Always.enabled(false));
        assert!(!ColorWhen::Never.enabled(true));
        assert!(!ColorWhen::Auto.enabled(false));
    }
}
