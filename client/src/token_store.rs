//! Where the session token lives between runs, so that a restart logs in without the password.
//!
//! The OS keyring is preferred (the Secret Service on Linux, through the `keyring` crate), one entry per account
//! and relay. Where no keyring service runs — a server over SSH, a minimal desktop — the tokens go to
//! `tokens.toml` in the data directory, created readable only by its owner (0600, in a 0700 directory on Unix),
//! and [`TokenStore::notice`] says so once, in a sentence for the user.
//!
//! Keyring calls go over D-Bus and may block briefly (or show an unlock prompt). They happen rarely — at start,
//! login and logout — so callers may make them directly, or on a blocking thread if the UI must never wait.
//!
//! A token logs in as its owner until logout, so it is a secret: it is never logged, and no type here prints it.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use keyring::credential::CredentialPersistence;
use serde::{Deserialize, Serialize};

/// The keyring service name of every Huddle entry.
const SERVICE: &str = "huddle";
/// An entry that is never written; reading it tells whether a keyring service answers.
const PROBE_USER: &str = "huddle-keyring-probe";
/// The fallback file inside the data directory.
pub const TOKEN_FILE: &str = "tokens.toml";

/// Why a token could not be read, saved or removed. The `Display` text is a sentence for the user and never
/// contains the token.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("Huddle could not read your saved login from {}: {source}.", path.display())]
    FileRead { path: PathBuf, source: std::io::Error },
    #[error("Huddle could not save your login in {}: {source}.", path.display())]
    FileWrite { path: PathBuf, source: std::io::Error },
    #[error("The saved logins in {} are damaged ({message}); delete the file and log in again.", path.display())]
    FileDamaged { path: PathBuf, message: String },
    #[error("The system keyring could not {action} your login: {message}.")]
    Keyring { action: &'static str, message: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Keyring,
    File,
}

/// The session tokens of every account on every relay, in the keyring or the fallback file.
#[derive(Debug)]
pub struct TokenStore {
    backend: Backend,
    /// `tokens.toml`: the store itself in file mode; with the keyring, where tokens saved during an earlier run
    /// without a keyring (say over SSH) are still found, and removed once the keyring holds the login.
    file: PathBuf,
    data_dir: PathBuf,
    notice: Option<String>,
}

impl TokenStore {
    /// Uses the OS keyring if a keyring service answers, else the file in `data_dir`. Creates nothing yet.
    pub fn open(data_dir: &Path) -> TokenStore {
        match probe_keyring() {
            Ok(()) => TokenStore { backend: Backend::Keyring, ..TokenStore::file_only(data_dir) },
            Err(reason) => {
                let mut store = TokenStore::file_only(data_dir);
                // The reason is for whoever reads the log; the user gets the notice.
                tracing::info!(reason = %reason, file = %store.file.display(), "no usable system keyring, using the token file");
                store.notice = Some(format!(
                    "No system keyring is available, so your login is kept in {} (readable only by you).",
                    store.file.display()
                ));
                store
            }
        }
    }

    /// Keeps tokens only in the file in `data_dir`, never asking the keyring: for `--no-keyring` and tests.
    /// There is no notice, since the user chose this.
    pub fn file_only(data_dir: &Path) -> TokenStore {
        TokenStore {
            backend: Backend::File,
            file: data_dir.join(TOKEN_FILE),
            data_dir: data_dir.to_owned(),
            notice: None,
        }
    }

    /// When no keyring was found: a sentence telling the user where their login is kept instead.
    pub fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    /// Whether tokens go to the OS keyring (rather than the file).
    pub fn uses_keyring(&self) -> bool {
        self.backend == Backend::Keyring
    }

    /// The saved token of `account` on `relay`, if any.
    pub fn get(&self, relay: &str, account: &str) -> Result<Option<String>, TokenError> {
        if self.backend == Backend::Keyring {
            match entry(relay, account)?.get_password() {
                Ok(token) => return Ok(Some(token)),
                Err(keyring::Error::NoEntry) => {}
                Err(e) => return Err(keyring_error("read", &e)),
            }
        }
        Ok(self.read_file()?.get(relay).and_then(|accounts| accounts.get(account)).map(|t| t.0.clone()))
    }

    /// Saves the token of `account` on `relay`, replacing any earlier one.
    pub fn set(&self, relay: &str, account: &str, token: &str) -> Result<(), TokenError> {
        match self.backend {
            Backend::Keyring => {
                entry(relay, account)?.set_password(token).map_err(|e| keyring_error("save", &e))?;
                // A copy left in the file from a run without keyring would outlive this login's logout.
                self.remove_from_file(relay, account)
            }
            Backend::File => {
                let mut tokens = self.read_file()?;
                tokens.entry(relay.to_owned()).or_default().insert(account.to_owned(), Secret(token.to_owned()));
                self.write_file(&tokens)
            }
        }
    }

    /// Forgets the token of `account` on `relay` (logout). Forgetting one that is not saved is not an error.
    pub fn delete(&self, relay: &str, account: &str) -> Result<(), TokenError> {
        if self.backend == Backend::Keyring {
            match entry(relay, account)?.delete_credential() {
                Ok(()) | Err(keyring::Error::NoEntry) => {}
                Err(e) => return Err(keyring_error("remove", &e)),
            }
        }
        self.remove_from_file(relay, account)
    }

    fn remove_from_file(&self, relay: &str, account: &str) -> Result<(), TokenError> {
        let mut tokens = self.read_file()?;
        let Some(accounts) = tokens.get_mut(relay) else { return Ok(()) };
        if accounts.remove(account).is_none() {
            return Ok(());
        }
        if accounts.is_empty() {
            tokens.remove(relay);
        }
        self.write_file(&tokens)
    }

    /// relay → account → token. A missing file holds no tokens.
    fn read_file(&self) -> Result<Tokens, TokenError> {
        let text = match fs::read_to_string(&self.file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Tokens::new()),
            Err(source) => return Err(TokenError::FileRead { path: self.file.clone(), source }),
        };
        let file: TokenFile = toml::from_str(&text).map_err(|e| TokenError::FileDamaged {
            path: self.file.clone(),
            // Only the message: the span and snippet of a TOML error could quote a token.
            message: e.message().trim_end().to_owned(),
        })?;
        Ok(file.tokens)
    }

    /// Replaces the file atomically (a temporary file renamed over it), private to the user from its creation.
    fn write_file(&self, tokens: &Tokens) -> Result<(), TokenError> {
        let write_err = |source| TokenError::FileWrite { path: self.file.clone(), source };
        let mut dir = fs::DirBuilder::new();
        dir.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut dir, 0o700);
        dir.create(&self.data_dir).map_err(write_err)?;

        let body = toml::to_string(&TokenFile { tokens: tokens.clone() })
            .map_err(|e| write_err(std::io::Error::other(e.to_string())))?;
        let text = format!(
            "# Huddle's saved logins, used where no system keyring is available. Keep this file private:\n\
             # a token logs in as you until you log out. Logging out removes it.\n\n{body}"
        );
        let tmp = self.file.with_extension("toml.tmp");
        let result = write_private(&tmp, text.as_bytes()).and_then(|()| fs::rename(&tmp, &self.file));
        if result.is_err() {
            // Best effort: the error returned is what matters.
            let _ = fs::remove_file(&tmp);
        }
        result.map_err(write_err)
    }
}

/// Writes `bytes` to a new file at `path` that only the owner can read (0600 on Unix).
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    // `mode` applies only when the file is created; a leftover temporary file may have other permissions.
    #[cfg(unix)]
    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    file.write_all(bytes)?;
    file.sync_all()
}

type Tokens = BTreeMap<String, BTreeMap<String, Secret>>;

/// `tokens.toml`: `[tokens."wss://chat.example.org"]` then `alice = "…"`.
#[derive(Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenFile {
    #[serde(default)]
    tokens: Tokens,
}

/// A token, wrapped so that no `Debug` output can show it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
struct Secret(String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

fn entry(relay: &str, account: &str) -> Result<keyring::Entry, TokenError> {
    keyring::Entry::new(SERVICE, &format!("{account}@{relay}")).map_err(|e| keyring_error("find", &e))
}

fn keyring_error(action: &'static str, error: &keyring::Error) -> TokenError {
    let message = match error {
        // The keyring's own text for these could show stored data; say what happened instead.
        keyring::Error::BadEncoding(_) => "the saved entry is not text".to_owned(),
        keyring::Error::Ambiguous(_) => "there is more than one entry for this login".to_owned(),
        other => other.to_string(),
    };
    TokenError::Keyring { action, message }
}

/// `Ok` when a keyring service answers and keeps entries across runs; otherwise why not, for the log.
fn probe_keyring() -> Result<(), String> {
    // Without a native store for the platform, the keyring crate falls back to a mock that forgets everything
    // when the process ends; a token there would silently be lost.
    if !matches!(keyring::default::default_credential_builder().persistence(), CredentialPersistence::UntilDelete) {
        return Err("this build has no keyring store for this platform".to_owned());
    }
    let probe = keyring::Entry::new(SERVICE, PROBE_USER).map_err(|e| e.to_string())?;
    match probe.get_password() {
        // NoEntry is the expected answer: the service is there and looked.
        Ok(_) | Err(keyring::Error::NoEntry | keyring::Error::Ambiguous(_)) => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_store_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let store = TokenStore::file_only(&data);
        assert!(!store.uses_keyring());
        assert_eq!(store.notice(), None);
        assert_eq!(store.get("wss://chat.example.org", "alice").unwrap(), None, "no file yet");
        store.set("wss://chat.example.org", "alice", "tok-1").unwrap();
        assert_eq!(store.get("wss://chat.example.org", "alice").unwrap().as_deref(), Some("tok-1"));
        store.set("wss://chat.example.org", "alice", "tok-2").unwrap();
        assert_eq!(store.get("wss://chat.example.org", "alice").unwrap().as_deref(), Some("tok-2"));
        // A second store over the same directory (the next run) sees it.
        let again = TokenStore::file_only(&data);
        assert_eq!(again.get("wss://chat.example.org", "alice").unwrap().as_deref(), Some("tok-2"));
        assert!(!data.join("tokens.toml.tmp").exists());
    }

    #[test]
    fn accounts_and_relays_are_kept_apart() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::file_only(dir.path());
        store.set("wss://a.example", "alice", "a-alice").unwrap();
        store.set("wss://a.example", "bob", "a-bob").unwrap();
        store.set("wss://b.example", "alice", "b-alice").unwrap();
        store.set("personal", "alice", "p-alice").unwrap();
        assert_eq!(store.get("wss://a.example", "alice").unwrap().as_deref(), Some("a-alice"));
        assert_eq!(store.get("wss://a.example", "bob").unwrap().as_deref(), Some("a-bob"));
        assert_eq!(store.get("wss://b.example", "alice").unwrap().as_deref(), Some("b-alice"));
        assert_eq!(store.get("personal", "alice").unwrap().as_deref(), Some("p-alice"));
        assert_eq!(store.get("wss://b.example", "bob").unwrap(), None);
    }

    #[test]
    fn delete_forgets_one_login_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::file_only(dir.path());
        store.set("wss://a.example", "alice", "a-alice").unwrap();
        store.set("wss://a.example", "bob", "a-bob").unwrap();
        store.delete("wss://a.example", "alice").unwrap();
        assert_eq!(store.get("wss://a.example", "alice").unwrap(), None);
        assert_eq!(store.get("wss://a.example", "bob").unwrap().as_deref(), Some("a-bob"));
        // Deleting what is not there is fine, with or without a file.
        store.delete("wss://a.example", "alice").unwrap();
        store.delete("wss://nowhere.example", "carol").unwrap();
        TokenStore::file_only(&dir.path().join("none")).delete("personal", "x").unwrap();
        store.delete("wss://a.example", "bob").unwrap();
        let text = fs::read_to_string(dir.path().join(TOKEN_FILE)).unwrap();
        assert!(!text.contains("a-bob") && !text.contains("a.example"), "{text}");
    }

    #[cfg(unix)]
    #[test]
    fn the_file_and_its_directory_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("fresh").join("data");
        let store = TokenStore::file_only(&data);
        // A leftover temporary file with loose permissions must not make the new file readable by others.
        store.set("personal", "alice", "secret").unwrap();
        fs::write(data.join("tokens.toml.tmp"), "").unwrap();
        fs::set_permissions(data.join("tokens.toml.tmp"), fs::Permissions::from_mode(0o644)).unwrap();
        store.set("personal", "alice", "secret-2").unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&data.join(TOKEN_FILE)), 0o600);
        assert_eq!(mode(&data), 0o700);
    }

    #[test]
    fn a_damaged_file_is_an_error_without_the_token() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(TOKEN_FILE), "[tokens.\"personal\"]\nalice = \"sekrit\nbob = 1\n").unwrap();
        let err = TokenStore::file_only(dir.path()).get("personal", "alice").unwrap_err();
        assert!(matches!(err, TokenError::FileDamaged { .. }), "{err}");
        let text = err.to_string();
        assert!(text.contains("delete the file and log in again") && !text.contains("sekrit"), "{text}");
    }

    #[test]
    fn debug_output_never_shows_a_token() {
        let mut tokens = Tokens::new();
        tokens.entry("personal".to_owned()).or_default().insert("alice".to_owned(), Secret("sekrit".to_owned()));
        assert!(!format!("{tokens:?}").contains("sekrit"));
    }

    /// Run by `.ci/run` inside a throwaway D-Bus session with gnome-keyring (`HUDDLE_TEST_KEYRING=1`): the pure-Rust
    /// Secret Service client stores, finds and forgets a login, also when called on a tokio runtime's thread as the
    /// client does. Without that variable it checks nothing, since a developer's real keyring must not be touched.
    #[test]
    fn a_real_secret_service_keeps_the_login() {
        if std::env::var_os("HUDDLE_TEST_KEYRING").is_none() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).build().unwrap();
        runtime.block_on(async {
            let store = TokenStore::open(dir.path());
            assert!(store.uses_keyring(), "a Secret Service answers in this session: {:?}", store.notice());
            let relay = format!("test-{}", std::process::id());
            store.set(&relay, "alice", "secret-token").unwrap();
            assert_eq!(store.get(&relay, "alice").unwrap().as_deref(), Some("secret-token"));
            assert!(!dir.path().join(TOKEN_FILE).exists(), "the keyring holds it, not the file");
            store.delete(&relay, "alice").unwrap();
            assert_eq!(store.get(&relay, "alice").unwrap(), None);
        });
    }

    #[test]
    fn open_falls_back_to_the_file_without_a_keyring_service() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::open(dir.path());
        if store.uses_keyring() {
            // A desktop session with a keyring: nothing to check about the fallback here.
            assert_eq!(store.notice(), None);
            return;
        }
        let notice = store.notice().unwrap();
        assert!(notice.starts_with("No system keyring is available, so your login is kept in "), "{notice}");
        assert!(notice.contains(&dir.path().join(TOKEN_FILE).display().to_string()), "{notice}");
        assert!(notice.ends_with("(readable only by you)."), "{notice}");
        store.set("personal", "alice", "tok").unwrap();
        assert_eq!(store.get("personal", "alice").unwrap().as_deref(), Some("tok"));
    }
}
