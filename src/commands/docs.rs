//! `mailtls completions SHELL` and `mailtls man`: what a packager or an administrator
//! installs beside the binary, generated from the same clap definitions as `--help` so
//! they never disagree with it.

use std::io::Write as _;

use clap::CommandFactory;

use super::exit;
use crate::cli::Cli;

/// Flags of `mailtls completions`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  mailtls completions bash > /etc/bash_completion.d/mailtls
  mailtls completions zsh > \"${fpath[1]}/_mailtls\"
  mailtls completions fish > ~/.config/fish/completions/mailtls.fish")]
pub struct CompletionsArgs {
    /// The shell to write completions for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Flags of `mailtls man`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  mailtls man > mailtls.1 && man -l mailtls.1
  mailtls man | gzip > /usr/local/share/man/man1/mailtls.1.gz")]
pub struct ManArgs {}

/// Writes the completion script on stdout.
pub fn completions(args: &CompletionsArgs) -> u8 {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "mailtls", &mut buf);
    write("completions", &buf)
}

/// Writes the man page (roff, section 1) on stdout: the top page, then each subcommand's
/// page after it, so one `mailtls.1` documents every command.
pub fn man(_: &ManArgs) -> u8 {
    let cmd = Cli::command();
    let mut buf = Vec::new();
    if let Err(e) = clap_mangen::Man::new(cmd.clone()).render(&mut buf) {
        eprintln!("mailtls man: {}", crate::report::plain_error(&e));
        return exit::ERROR;
    }
    for sub in cmd.get_subcommands() {
        // clap names are `&'static str`; one leak per subcommand in a one-shot command.
        let name: &'static str = Box::leak(format!("mailtls-{}", sub.get_name()).into_boxed_str());
        let sub = sub.clone().name(name);
        buf.extend_from_slice(b".bp\n");
        let man = clap_mangen::Man::new(sub);
        let mut part = Vec::new();
        // Only the sections of a subcommand: its .TH header would reset the page.
        if man.render_name_section(&mut part).is_err()
            || man.render_synopsis_section(&mut part).is_err()
            || man.render_description_section(&mut part).is_err()
            || man.render_options_section(&mut part).is_err()
            || man.render_extra_section(&mut part).is_err()
        {
            eprintln!("mailtls man: could not render {name}");
            return exit::ERROR;
        }
        buf.extend_from_slice(&part);
    }
    write("man", &buf)
}

fn write(cmd: &str, buf: &[u8]) -> u8 {
    let mut out = std::io::stdout().lock();
    match out.write_all(buf).and_then(|()| out.flush()) {
        Ok(()) => exit::OK,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => exit::OK,
        Err(e) => {
            eprintln!(
                "mailtls {cmd}: cannot write the output: {}",
                crate::report::plain_error(&e)
            );
            exit::ERROR
        }
    }
}
