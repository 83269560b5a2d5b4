//! Dashboard passwords: the length policy and Argon2id hashing (PHC strings, so parameters can
//! be raised later and old hashes still verify). Coordinators and admins can read
//! health-related records, so hashes must stay expensive to brute-force if the database leaks.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use super::crypto::{self, CryptoError};

/// Shortest accepted password (NIST SP 800-63B asks for at least 8; passphrases are encouraged).
pub const MIN_CHARS: usize = 12;
/// Longest accepted password, to bound hashing work per request.
pub const MAX_CHARS: usize = 256;

/// Argon2id with OWASP's minimum parameters: 19 MiB, 2 passes, 1 lane.
const MEMORY_KIB: u32 = 19 * 1024;
const PASSES: u32 = 2;
const LANES: u32 = 1;

/// Why a password was refused or could not be hashed. Never contains the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("the password must be at least {MIN_CHARS} characters")]
    TooShort,
    #[error("the password must be at most {MAX_CHARS} characters")]
    TooLong,
    #[error("the password must not be the login name")]
    SameAsLogin,
    #[error("hashing the password failed")]
    Hashing,
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

fn hasher() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None)
        .unwrap_or_else(|_| unreachable!("constant Argon2 parameters are valid"));
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Checks the policy for a new password of the user `login`.
pub fn check_policy(login: &str, password: &str) -> Result<(), PasswordError> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(PasswordError::TooShort);
    }
    if chars > MAX_CHARS {
        return Err(PasswordError::TooLong);
    }
    if password.trim().eq_ignore_ascii_case(login.trim()) {
        return Err(PasswordError::SameAsLogin);
    }
    Ok(())
}

/// Hashes a password that passed [`check_policy`] into a PHC string with a fresh random salt.
pub fn hash(password: &str) -> Result<String, PasswordError> {
    let salt = crypto::random_bytes::<16>()?;
    let salt = SaltString::encode_b64(&salt).map_err(|_| PasswordError::Hashing)?;
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| PasswordError::Hashing)
}

/// Whether `password` matches `stored` (a PHC string from [`hash`]). A malformed stored hash
/// matches nothing. Over-long input is refused before hashing.
pub fn verify(password: &str, stored: &str) -> bool {
    if password.chars().count() > MAX_CHARS {
        return false;
    }
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    hasher()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// A hash of a random password, to verify against when the login name is unknown, so that
/// unknown and known names take the same time.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        let random = crypto::random_bytes::<24>().unwrap_or([7; 24]);
        hash(&super::secrets::encode_base64(&random)).unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_only_the_same_password_and_use_argon2id() {
        let stored = hash("correct horse battery").unwrap();
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert!(verify("correct horse battery", &stored));
        assert!(!verify("correct horse battery ", &stored));
        assert!(!verify("Correct horse battery", &stored));
        assert_ne!(hash("correct horse battery").unwrap(), stored, "salted");
        assert!(!verify("anything", "not a phc string"));
        assert!(!verify("anything", ""));
        assert!(!verify(&"x".repeat(MAX_CHARS + 1), &stored));
        assert!(!verify("anything", decoy_hash()));
    }

    #[test]
    fn the_policy_refuses_short_long_and_login_passwords() {
        assert_eq!(
            check_policy("kari", "short-pass1"),
            Err(PasswordError::TooShort)
        );
        assert_eq!(check_policy("kari", "twelve chars"), Ok(()));
        assert_eq!(
            check_policy("kari", &"x".repeat(MAX_CHARS + 1)),
            Err(PasswordError::TooLong)
        );
        assert_eq!(
            check_policy("kari.nordmann", "KARI.NORDMANN"),
            Err(PasswordError::SameAsLogin)
        );
        // Characters, not bytes: twelve Norwegian letters are enough.
        assert_eq!(check_policy("kari", "ææææøøøøåååå"), Ok(()));
    }
}
