//! The crate's only use of `ring`: sealing and opening blobs with AES-256-GCM under a host-supplied
//! key, and the device's Ed25519 key (generated here, kept as PKCS#8 bytes sealed in the store,
//! used to sign the relay's token challenges).
//!
//! A sealed blob is `nonce (12 bytes) || ciphertext || tag (16 bytes)`. The nonce is random (from
//! the operating system), which is safe for far more seals per key than a phone will ever make
//! (the usual bound for random 96-bit nonces is 2^32 messages). The associated data (AAD) is not
//! stored: callers bind each blob to what it is and where it belongs (e.g. kind and case id), so a
//! blob moved elsewhere fails to open.

use std::fmt;

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};

/// Length in bytes of a [`StoreKey`].
pub const KEY_LEN: usize = 32;

/// Bytes a sealed blob adds to its plaintext (nonce and tag).
pub const SEAL_OVERHEAD: usize = NONCE_LEN + TAG_LEN;

const TAG_LEN: usize = 16;

/// Why sealing or opening failed. Carries no key material and no plaintext.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The key given by the host app is not [`KEY_LEN`] bytes long.
    #[error("a store key must be {KEY_LEN} bytes, got {len}")]
    KeyLength { len: usize },
    /// The operating system gave no random bytes for a nonce.
    #[error("the system random number generator failed")]
    Random,
    /// The plaintext is too large for one AES-GCM message.
    #[error("the value is too large to seal")]
    TooLarge,
    /// The blob is shorter than a nonce and a tag, so it cannot be a sealed blob.
    #[error("the sealed blob is truncated")]
    Truncated,
    /// Wrong key, wrong associated data, or the blob was altered.
    #[error("the sealed blob does not open with this key and context")]
    Unauthentic,
    /// The stored device key is not a valid Ed25519 PKCS#8 document.
    #[error("the device key is damaged")]
    BadDeviceKey,
}

/// The 256-bit key that seals a device's local data, supplied by the host app's keystore.
/// Its `Debug` output never shows the key.
pub struct StoreKey(LessSafeKey);

impl StoreKey {
    /// A key from the host's key bytes, which must be exactly [`KEY_LEN`] long.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        let unbound = UnboundKey::new(&AES_256_GCM, bytes)
            .map_err(|_| CryptoError::KeyLength { len: bytes.len() })?;
        Ok(Self(LessSafeKey::new(unbound)))
    }
}

impl fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoreKey(..)")
    }
}

/// Encrypts and authenticates `plaintext`, bound to `aad`, under a fresh random nonce.
pub fn seal(key: &StoreKey, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| CryptoError::Random)?;
    let mut sealed = Vec::with_capacity(SEAL_OVERHEAD + plaintext.len());
    sealed.extend_from_slice(&nonce);
    let mut body = plaintext.to_vec();
    key.0
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut body,
        )
        .map_err(|_| CryptoError::TooLarge)?;
    sealed.append(&mut body);
    Ok(sealed)
}

/// Decrypts a blob made by [`seal`] with the same key and `aad`; fails cleanly on anything else.
pub fn open(key: &StoreKey, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if sealed.len() < SEAL_OVERHEAD {
        return Err(CryptoError::Truncated);
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::Truncated)?;
    let mut body = body.to_vec();
    let plaintext_len = key
        .0
        .open_in_place(nonce, Aad::from(aad), &mut body)
        .map_err(|_| CryptoError::Unauthentic)?
        .len();
    body.truncate(plaintext_len);
    Ok(body)
}

/// Length in bytes of a raw Ed25519 public key.
pub const DEVICE_PUBLIC_KEY_LEN: usize = 32;

/// Length in bytes of an Ed25519 signature.
pub const DEVICE_SIGNATURE_LEN: usize = 64;

/// A device's Ed25519 signing key. Its `Debug` output never shows key material.
pub struct DeviceKey(Ed25519KeyPair);

impl DeviceKey {
    /// A fresh key pair from the operating system's random source, as PKCS#8 v2 bytes: the form
    /// the store keeps (sealed) and [`DeviceKey::from_pkcs8`] reads back.
    pub fn generate_pkcs8() -> Result<Vec<u8>, CryptoError> {
        let document = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .map_err(|_| CryptoError::Random)?;
        Ok(document.as_ref().to_vec())
    }

    /// The key held in PKCS#8 bytes made by [`DeviceKey::generate_pkcs8`].
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, CryptoError> {
        Ed25519KeyPair::from_pkcs8(pkcs8)
            .map(Self)
            .map_err(|_| CryptoError::BadDeviceKey)
    }

    /// The raw 32-byte public key (what the relay's enrolment takes, in base64).
    pub fn public_key(&self) -> [u8; DEVICE_PUBLIC_KEY_LEN] {
        let mut out = [0u8; DEVICE_PUBLIC_KEY_LEN];
        out.copy_from_slice(self.0.public_key().as_ref());
        out
    }

    /// Signs `message` (Ed25519 is deterministic: same key and message, same signature).
    pub fn sign(&self, message: &[u8]) -> [u8; DEVICE_SIGNATURE_LEN] {
        let mut out = [0u8; DEVICE_SIGNATURE_LEN];
        out.copy_from_slice(self.0.sign(message).as_ref());
        out
    }
}

impl fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DeviceKey(..)")
    }
}

/// Whether `signature` is a valid Ed25519 signature of `message` under the raw `public_key`.
pub fn verify_device_signature(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    UnparsedPublicKey::new(&ED25519, public_key)
        .verify(message, signature)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn device_key_round_trips_through_pkcs8_and_signs() {
        let pkcs8 = DeviceKey::generate_pkcs8().unwrap();
        let key = DeviceKey::from_pkcs8(&pkcs8).unwrap();
        let again = DeviceKey::from_pkcs8(&pkcs8).unwrap();
        assert_eq!(key.public_key(), again.public_key());
        let sig = key.sign(b"peerlog-token-v1\ndev\nchallenge");
        assert!(verify_device_signature(
            &key.public_key(),
            b"peerlog-token-v1\ndev\nchallenge",
            &sig
        ));
        assert!(!verify_device_signature(
            &key.public_key(),
            b"peerlog-token-v1\ndev\nother",
            &sig
        ));
        let other = DeviceKey::from_pkcs8(&DeviceKey::generate_pkcs8().unwrap()).unwrap();
        assert_ne!(other.public_key(), key.public_key());
        assert_eq!(format!("{key:?}"), "DeviceKey(..)");
    }

    #[test]
    fn damaged_device_key_is_refused() {
        let mut pkcs8 = DeviceKey::generate_pkcs8().unwrap();
        pkcs8.truncate(pkcs8.len() - 1);
        assert_eq!(
            DeviceKey::from_pkcs8(&pkcs8).unwrap_err(),
            CryptoError::BadDeviceKey
        );
        assert!(DeviceKey::from_pkcs8(b"").is_err());
    }

    fn key(byte: u8) -> StoreKey {
        StoreKey::from_bytes(&[byte; KEY_LEN]).unwrap()
    }

    #[test]
    fn seal_then_open_round_trips() {
        let sealed = seal(&key(1), b"aad", b"a short note").unwrap();
        assert_eq!(sealed.len(), SEAL_OVERHEAD + b"a short note".len());
        assert_eq!(open(&key(1), b"aad", &sealed).unwrap(), b"a short note");
    }

    #[test]
    fn empty_plaintext_round_trips() {
        let sealed = seal(&key(1), b"", b"").unwrap();
        assert_eq!(open(&key(1), b"", &sealed).unwrap(), b"");
    }

    #[test]
    fn sealing_twice_uses_fresh_nonces() {
        let a = seal(&key(1), b"aad", b"same").unwrap();
        let b = seal(&key(1), b"aad", b"same").unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn wrong_key_fails() {
        let sealed = seal(&key(1), b"aad", b"secret").unwrap();
        assert_eq!(
            open(&key(2), b"aad", &sealed),
            Err(CryptoError::Unauthentic)
        );
    }

    #[test]
    fn wrong_aad_fails() {
        let sealed = seal(&key(1), b"peerlog/v1/change/A", b"secret").unwrap();
        assert_eq!(
            open(&key(1), b"peerlog/v1/change/B", &sealed),
            Err(CryptoError::Unauthentic)
        );
    }

    #[test]
    fn every_tampered_byte_fails() {
        let sealed = seal(&key(1), b"aad", b"secret").unwrap();
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert_eq!(
                open(&key(1), b"aad", &bad),
                Err(CryptoError::Unauthentic),
                "byte {i}"
            );
        }
    }

    #[test]
    fn truncated_input_fails_without_panic() {
        let sealed = seal(&key(1), b"aad", b"secret").unwrap();
        for len in 0..sealed.len() {
            let expected = if len < SEAL_OVERHEAD {
                CryptoError::Truncated
            } else {
                CryptoError::Unauthentic
            };
            assert_eq!(open(&key(1), b"aad", &sealed[..len]), Err(expected));
        }
    }

    #[test]
    fn overhead_matches_ring() {
        assert_eq!(AES_256_GCM.tag_len(), TAG_LEN);
        assert_eq!(AES_256_GCM.nonce_len(), NONCE_LEN);
    }

    #[test]
    fn key_of_wrong_length_is_rejected() {
        assert_eq!(
            StoreKey::from_bytes(&[0; 16]).unwrap_err(),
            CryptoError::KeyLength { len: 16 }
        );
        assert!(StoreKey::from_bytes(&[0; 33]).is_err());
    }

    #[test]
    fn debug_does_not_show_the_key() {
        let shown = format!("{:?}", StoreKey::from_bytes(&[0xAB; KEY_LEN]).unwrap());
        assert_eq!(shown, "StoreKey(..)");
    }

    proptest! {
        #[test]
        fn seal_open_round_trip(
            key_bytes in any::<[u8; KEY_LEN]>(),
            aad in proptest::collection::vec(any::<u8>(), 0..64),
            plaintext in proptest::collection::vec(any::<u8>(), 0..2048),
        ) {
            let key = StoreKey::from_bytes(&key_bytes).unwrap();
            let sealed = seal(&key, &aad, &plaintext).unwrap();
            prop_assert_eq!(open(&key, &aad, &sealed).unwrap(), plaintext);
        }

        #[test]
        fn arbitrary_bytes_never_open_or_panic(
            junk in proptest::collection::vec(any::<u8>(), 0..128),
        ) {
            prop_assert!(open(&key(1), b"aad", &junk).is_err());
        }
    }
}
