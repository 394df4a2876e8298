use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use mailtls::commands;
use mailtls::commands::cli::{Cli, Command};

/// mimalloc instead of the system allocator: a scan allocates and frees the owned strings
/// of millions of events on several threads, which glibc's malloc does at a fifth of the
/// CPU (benches/README.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    commands::guard_stdout();
    let matches = Cli::command().get_matches();
    // `mailtls config certs: …`: the words the user typed, for every failure message.
    let mut name = String::from("mailtls");
    let mut m = &matches;
    while let Some((sub, next)) = m.subcommand() {
        name.push(' ');
        name.push_str(sub);
        m = next;
    }
    let mut cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    // What the administrator set once (policy, our hosts, …); flags given here win.
    match commands::settings::load(cli.config.as_deref(), cli.no_config) {
        Ok(s) => s.apply(&mut cli.command),
        Err(e) => {
            eprintln!("{name}: {}", mailtls::model::text::plain_error(&e));
            return ExitCode::from(e.exit_code());
        }
    }
    let result = match cli.command {
        Command::Scan(args) => commands::scan::run(&args),
        Command::Follow(args) => commands::follow::run(&args),
        Command::Check(args) => commands::check::run(&args),
        Command::Config(args) => commands::config::run(&args),
        Command::Doctor(args) => commands::doctor::run(&args),
        Command::Events(args) => commands::events::run(&args),
        Command::Merge(args) => commands::merge::run(&args),
        Command::Report(args) => commands::report::run(&args),
        Command::Peer(args) => commands::peer::run(&args),
        Command::Message(args) => commands::message::run(&args),
        Command::Completions(args) => commands::docs::completions(&args),
        Command::Man(args) => commands::docs::man(&args),
    };
    // The one place a command's failure is printed (commands return it, typed).
    let code = result.unwrap_or_else(|e| {
        eprintln!("{name}: {}", mailtls::model::text::plain_error(&e));
        e.exit_code()
    });
    ExitCode::from(code)
}
