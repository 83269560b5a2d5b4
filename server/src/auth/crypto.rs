//! The relay's only use of `ring`: random secrets, SHA-256 of secrets, Ed25519 signature checks,
//! HMAC-SHA1 for TOTP codes, constant-time comparison (and, for tests and tools, a device key pair
//! that signs).

use ring::digest::{SHA256, digest};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};

/// Length of an Ed25519 public key.
pub const PUBLIC_KEY_LEN: usize = 32;

/// Why a cryptographic step failed. Carries no secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("the system random number generator failed")]
    Random,
    #[error("the signature does not verify")]
    BadSignature,
    #[error("generating a key pair failed")]
    KeyGeneration,
}

/// `N` bytes from the operating system's random number generator.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut bytes = [0u8; N];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| CryptoError::Random)?;
    Ok(bytes)
}

/// SHA-256 of a secret (enrolment codes, tokens), as stored in the database.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, data).as_ref());
    out
}

/// HMAC-SHA1, which RFC 6238 TOTP needs (every authenticator app uses SHA-1 codes).
pub fn hmac_sha1(key: &[u8], message: &[u8]) -> [u8; 20] {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, key);
    let mut out = [0u8; 20];
    out.copy_from_slice(ring::hmac::sign(&key, message).as_ref());
    out
}

/// Compares two secrets without leaking where they differ through timing.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    bool::from(a.ct_eq(b))
}

/// Checks an Ed25519 signature by `public_key` over `message`.
pub fn verify_ed25519(
    public_key: &[u8; PUBLIC_KEY_LEN],
    message: &[u8],
    signature: &[u8],
) -> Result<(), CryptoError> {
    UnparsedPublicKey::new(&ED25519, public_key)
        .verify(message, signature)
        .map_err(|_| CryptoError::BadSignature)
}

/// A device's Ed25519 key pair. Phones make theirs in core; the relay uses this in tests, the
/// demo and benchmark provisioning. Its `Debug` output never shows the key.
pub struct DeviceKeyPair(Ed25519KeyPair);

impl DeviceKeyPair {
    pub fn generate() -> Result<Self, CryptoError> {
        let rng = SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| CryptoError::KeyGeneration)?;
        Ed25519KeyPair::from_pkcs8(pkcs8.as_ref())
            .map(Self)
            .map_err(|_| CryptoError::KeyGeneration)
    }

    pub fn public_key(&self) -> [u8; PUBLIC_KEY_LEN] {
        let mut out = [0u8; PUBLIC_KEY_LEN];
        out.copy_from_slice(self.0.public_key().as_ref());
        out
    }

    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.0.sign(message).as_ref().to_vec()
    }
}

impl std::fmt::Debug for DeviceKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceKeyPair(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_only_for_the_signed_message_and_key() {
        let key = DeviceKeyPair::generate().unwrap();
        let other = DeviceKeyPair::generate().unwrap();
        let sig = key.sign(b"hello");
        assert_eq!(verify_ed25519(&key.public_key(), b"hello", &sig), Ok(()));
        assert!(verify_ed25519(&key.public_key(), b"hellO", &sig).is_err());
        assert!(verify_ed25519(&other.public_key(), b"hello", &sig).is_err());
        assert!(verify_ed25519(&key.public_key(), b"hello", &sig[..10]).is_err());
    }

    #[test]
    fn sha256_matches_a_known_vector() {
        let h = sha256(b"abc");
        assert_eq!(h[0], 0xba);
        assert_eq!(h[31], 0xad);
        assert_ne!(random_bytes::<16>().unwrap(), random_bytes::<16>().unwrap());
    }
}
