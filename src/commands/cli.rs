//! The command line: clap definitions only. Each subcommand's flags live with the
//! subcommand (`commands/<name>.rs`, xsv style) and are gathered here.

use clap::{Parser, Subcommand};

use crate::commands;

/// Mail-log analyzer and STARTTLS audit reporter for Sendmail, Postfix and Exim.
///
/// mailtls answers one question: how safely does my mail travel, peer by peer, and what
/// broke? It reads mail logs (plain, rotated .gz, directories, stdin), ties each TLS
/// negotiation to the messages that rode on it, and reports every peer's TLS posture.
#[derive(Debug, Parser)]
#[command(
    name = "mailtls",
    version,
    about,
    long_about = None,
    propagate_version = true,
    after_help = "\
Exit codes (scan; README \"Exit codes\"):
  0  read and reported (no violation of an enforced policy)
  1  violations of an enforced policy (--policy FILE, or --fail-on-violations)
  2  nothing done: usage error, no input, nothing recognised, output not written
  3  report made, but some inputs were missing or cut short while read
  4  policy enforced, but nothing left to judge (--allow-empty: 0)

Settings an administrator sets once (policy, our_hosts, loopback, report_dir, utc) are read
from $MAILTLS_CONFIG, else /etc/mailtls/mailtls.toml when it exists (docs/usage.md);
flags on the command line win."
)]
pub struct Cli {
    /// Read settings from FILE instead of $MAILTLS_CONFIG or /etc/mailtls/mailtls.toml.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
    /// Read no settings file.
    #[arg(long, global = true, conflicts_with = "config")]
    pub no_config: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Per-peer TLS posture from mail logs (the main job).
    Scan(commands::scan::Args),
    /// Live TLS events and downgrade alerts from a growing log, like tail -F; metrics.
    Follow(commands::follow::Args),
    /// Check a server's STARTTLS: EHLO, handshake, chain, verify (Sendmail's words).
    Check(commands::check::Args),
    /// Generate keys and certificates, and sendmail/submit/mc/postfix/exim TLS configuration.
    #[command(after_help = "\
Examples:
  mailtls config certs --ca-dir /etc/mail/ca --name mx --san mx.example.net
  mailtls config sendmail --dir /etc/mail/certs --name mx
  mailtls config postfix --dir /etc/postfix/tls --name mx
  mailtls config exim --dir /etc/exim4/tls --name mx
  mailtls config certs --dir /tmp/demo/certs --ca-dir /tmp/demo/ca --name demo")]
    Config(commands::config::Args),
    /// Diagnose an installed TLS configuration before the MTA fails on it.
    Doctor(commands::doctor::Args),
    /// Every normalized event: a timeline grouped by session on a terminal, NDJSON
    /// (schema mailtls.event/1) when piped or with --json.
    Events(commands::events::Args),
    /// One peer's story: posture, what changed and when, errors, TLS deferrals and causes.
    Peer(commands::peer::Args),
    /// One message across processes, queue ids and MTAs, with each hop's TLS verdict.
    Message(commands::message::Args),
    /// Merge posture snapshots (scan --format json) from several hosts into one.
    Merge(commands::merge::Args),
    /// The report (HTML, charts, CSV, Markdown, JSON) of several hosts' snapshots, as one scan of all their logs.
    Report(commands::report::Args),
    /// Shell completions for bash, zsh or fish, on stdout.
    Completions(commands::docs::CompletionsArgs),
    /// The manual page (roff), on stdout.
    Man(commands::docs::ManArgs),
}
