//! The command line, as clap definitions: what `huddle --help` shows, and what the man page (`huddle man`) and the
//! shell completions (`huddle completions SHELL`) are generated from, so the three never disagree.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "huddle",
    version,
    about = "Huddle: keyboard-driven chat with friends, in your terminal.",
    long_about = "Huddle: keyboard-driven chat with friends, in your terminal.\n\n\
        The first start offers a personal relay on this machine or a relay of your choice; the choice is kept in \
        client.toml. Every key types into the message you are writing; actions are on Alt-, Ctrl- and F-keys (F1 \
        lists them) and in /commands (/help).",
    after_help = "Files: client.toml, keymap.toml and theme.toml in the config directory (~/.config/huddle); \
        huddle.log, the personal relay's data and, without a keyring, tokens.toml (mode 0600) in the data \
        directory (~/.local/share/huddle)."
)]
pub struct Cli {
    /// Where client.toml, keymap.toml and theme.toml live (default: the platform config dir, ~/.config/huddle).
    #[arg(long, global = true, env = "HUDDLE_CONFIG_DIR", value_name = "DIR")]
    pub config_dir: Option<PathBuf>,
    /// Where huddle.log, the personal relay's data and (without a keyring) tokens.toml live
    /// (default: ~/.local/share/huddle).
    #[arg(long, global = true, env = "HUDDLE_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Connect to this relay (ws:// or wss://) instead of the configured one, and remember it.
    #[arg(long, value_name = "URL")]
    pub relay: Option<String>,
    /// Trust this CA certificate (PEM) for a relay with a self-signed certificate.
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Keep the login token in a private file (tokens.toml, mode 0600) instead of the system keyring.
    #[arg(long, global = true)]
    pub no_keyring: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// A personal relay with three scripted friends who show every flow. Nothing is kept afterwards.
    Demo,
    /// Print the man page (roff) to standard output: huddle man > ~/.local/share/man/man1/huddle.1
    Man,
    /// Print the completion script for a shell to standard output.
    Completions {
        /// The shell to complete for.
        shell: Shell,
    },
}

/// The shells completions are made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Elvish,
    Powershell,
}

/// The man page of `huddle`, in roff.
pub fn man_page() -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(&mut out)?;
    Ok(out)
}

/// The completion script for `shell`.
pub fn completions(shell: Shell) -> Vec<u8> {
    let generator = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
        Shell::Elvish => clap_complete::Shell::Elvish,
        Shell::Powershell => clap_complete::Shell::PowerShell,
    };
    let mut out = Vec::new();
    clap_complete::generate(generator, &mut <Cli as clap::CommandFactory>::command(), "huddle", &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_definitions_are_consistent() {
        <Cli as clap::CommandFactory>::command().debug_assert();
    }

    #[test]
    fn the_man_page_and_completions_name_the_options_and_the_real_files() {
        let man = String::from_utf8(man_page().unwrap()).unwrap();
        for text in ["huddle", "config\\-dir", "client.toml", "keymap.toml", "tokens.toml", "demo"] {
            assert!(man.contains(text), "the man page lacks {text:?}");
        }
        let bash = String::from_utf8(completions(Shell::Bash)).unwrap();
        assert!(bash.contains("--config-dir") && bash.contains("completions"), "{bash}");
        let fish = String::from_utf8(completions(Shell::Fish)).unwrap();
        assert!(fish.contains("no-keyring"), "{fish}");
    }
}
