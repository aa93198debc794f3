//! Password hashing (Argon2id) and session tokens. Hashing blocks for tens of milliseconds by design; the relay runs
//! it on a fixed pool of threads (`net::hash_pool`).
//!
//! Memory: Argon2id needs `memory_kib` of working memory per hash. Each thread keeps one such buffer and reuses it,
//! because allocating and freeing 19 MiB per login made glibc keep the freed buffers around (its mmap threshold
//! adapts upwards), and the relay's memory grew with the number of logins. With the fixed pool, the relay holds at
//! most `max_concurrent_hashes × memory_kib`.

use std::cell::RefCell;

use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::Engine;
use sha2::{Digest, Sha256};

/// Argon2id cost. The default is OWASP's recommendation: 19 MiB of memory, 2 passes, 1 lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for PasswordParams {
    fn default() -> Self {
        Self { memory_kib: 19 * 1024, iterations: 2, parallelism: 1 }
    }
}

impl PasswordParams {
    /// The cheapest parameters Argon2 accepts, for tests only.
    pub fn insecure_for_tests() -> Self {
        Self { memory_kib: 8, iterations: 1, parallelism: 1 }
    }

    fn params(&self) -> Result<Params, String> {
        Params::new(self.memory_kib, self.iterations, self.parallelism, Some(OUTPUT_BYTES)).map_err(|e| e.to_string())
    }
}

const OUTPUT_BYTES: usize = 32;
const SALT_BYTES: usize = 16;

thread_local! {
    /// This thread's Argon2 working memory, grown to the largest cost seen and reused.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

fn compute(argon2: &Argon2<'_>, password: &[u8], salt: &[u8], out: &mut [u8]) -> Result<(), String> {
    let blocks = argon2.params().block_count();
    MEMORY.with_borrow_mut(|memory| {
        if memory.len() < blocks {
            memory.resize(blocks, Block::default());
        }
        argon2.hash_password_into_with_memory(password, salt, out, &mut memory[..blocks]).map_err(|e| e.to_string())
    })
}

fn phc(params: &PasswordParams, salt: &[u8], output: &[u8]) -> Result<String, String> {
    let salt = SaltString::encode_b64(salt).map_err(|e| e.to_string())?;
    let output = Output::new(output).map_err(|e| e.to_string())?;
    Ok(format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.memory_kib,
        params.iterations,
        params.parallelism,
        salt.as_str(),
        output
    ))
}

/// Hashes a password into a PHC string (algorithm, parameters, salt and hash).
pub fn hash(password: &str, params: PasswordParams) -> Result<String, String> {
    let mut salt = [0u8; SALT_BYTES];
    getrandom::fill(&mut salt).map_err(|e| e.to_string())?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.params()?);
    let mut out = [0u8; OUTPUT_BYTES];
    compute(&argon2, password.as_bytes(), &salt, &mut out)?;
    phc(&params, &salt, &out)
}

/// A PHC string with the given cost that no password matches (random salt and output). Verifying against it costs
/// as much as a real check, so logins for unknown handles take the same time as real ones.
pub fn dummy(params: PasswordParams) -> Result<String, String> {
    let mut bytes = [0u8; SALT_BYTES + OUTPUT_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| e.to_string())?;
    phc(&params, &bytes[..SALT_BYTES], &bytes[SALT_BYTES..])
}

/// Checks a password against a PHC string. The cost comes from the string, so old hashes keep working when the
/// configured cost changes. The comparison is constant-time.
pub fn verify(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else { return false };
    if parsed.algorithm != argon2::ARGON2ID_IDENT {
        return false;
    }
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else { return false };
    let Ok(params) = Params::try_from(&parsed) else { return false };
    let version = parsed.version.and_then(|v| Version::try_from(v).ok()).unwrap_or(Version::V0x13);
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else { return false };
    let argon2 = Argon2::new(Algorithm::Argon2id, version, params);
    let mut out = vec![0u8; expected.len()];
    if compute(&argon2, password.as_bytes(), salt, &mut out).is_err() {
        return false;
    }
    // `Output`'s equality is constant-time.
    Output::new(&out).is_ok_and(|computed| computed == expected)
}

/// A fresh secret: 32 random bytes, base64url without padding.
pub fn new_secret() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// A short random id (for sessions and invite codes): 12 random bytes, base64url.
pub fn new_id() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// An invite code people read, type and paste: 10 random bytes as lowercase hex (never starts with '-', so no
/// command line takes it for an option).
pub fn new_invite_code() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 10];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// How tokens are stored: SHA-256, hex. Tokens carry 256 bits of randomness, so a fast hash is the right tool here
/// (unlike passwords).
pub fn token_hash(token: &str) -> String {
    format!("{:x}", Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::PasswordHasher;

    #[test]
    fn hash_and_verify() {
        let phc = hash("correct horse", PasswordParams::insecure_for_tests()).unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=8,t=1,p=1$"), "{phc}");
        assert!(verify("correct horse", &phc));
        assert!(!verify("wrong horse", &phc));
        assert!(!verify("correct horse", "not a phc"));
        assert!(!verify("correct horse", &dummy(PasswordParams::insecure_for_tests()).unwrap()));
    }

    #[test]
    fn compatible_with_the_argon2_crates_own_phc_strings() {
        let params = Params::new(16, 1, 1, None).unwrap();
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let standard =
            Argon2::new(Algorithm::Argon2id, Version::V0x13, params).hash_password(b"pw", &salt).unwrap().to_string();
        assert!(verify("pw", &standard));
        assert!(!verify("px", &standard));
        // And ours parses as a standard PHC string.
        let ours = hash("pw", PasswordParams { memory_kib: 16, iterations: 1, parallelism: 1 }).unwrap();
        assert!(PasswordHash::new(&ours).is_ok());
    }

    #[test]
    fn secrets_are_random_and_hashes_stable() {
        let a = new_secret().unwrap();
        assert_ne!(a, new_secret().unwrap());
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash("x"), token_hash("x"));
        assert_eq!(token_hash("x").len(), 64);
        let code = new_invite_code().unwrap();
        assert_eq!(code.len(), 20);
        assert!(code.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
