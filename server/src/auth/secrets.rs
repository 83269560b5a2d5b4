//! The relay's secrets and what is signed: enrolment codes (human-typable), challenges, tokens,
//! and the exact challenge message a device signs.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use super::crypto::{self, CryptoError};
use peerlog_core::ids::DeviceId;

/// Crockford's base32 alphabet (no I, L, O, U): easy to read aloud and type.
const CODE_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Characters in an enrolment code (60 bits; with a 15-minute life and rate limiting, far out of
/// reach of guessing).
const CODE_LEN: usize = 12;

/// The domain-separation prefix of the message a device signs to get a token.
pub const TOKEN_SIGNING_PREFIX: &str = "peerlog-token-v1";

/// A new enrolment code as shown to a person (`XXXX-XXXX-XXXX`) and the hash to store.
pub fn new_enrolment_code() -> Result<(String, [u8; 32]), CryptoError> {
    let bytes = crypto::random_bytes::<CODE_LEN>()?;
    let raw: String = bytes
        .iter()
        .map(|b| char::from(CODE_ALPHABET[usize::from(b & 31)]))
        .collect();
    let shown = format!("{}-{}-{}", &raw[0..4], &raw[4..8], &raw[8..12]);
    Ok((shown, hash_code(&raw)))
}

/// Normalises a typed code (case, dashes, spaces, look-alike letters); `None` if it cannot be one.
pub fn normalise_code(input: &str) -> Option<String> {
    if input.len() > 64 {
        return None;
    }
    let mut out = String::with_capacity(CODE_LEN);
    for c in input.chars() {
        let c = match c.to_ascii_uppercase() {
            '-' | ' ' => continue,
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        };
        if !c.is_ascii() || !CODE_ALPHABET.contains(&(c as u8)) {
            return None;
        }
        out.push(c);
    }
    (out.len() == CODE_LEN).then_some(out)
}

/// The stored hash of a normalised code.
pub fn hash_code(normalised: &str) -> [u8; 32] {
    crypto::sha256(normalised.as_bytes())
}

/// A fresh challenge (32 random bytes, base64url).
pub fn new_challenge() -> Result<String, CryptoError> {
    Ok(URL_SAFE_NO_PAD.encode(crypto::random_bytes::<32>()?))
}

/// A fresh token and the hash to store.
pub fn new_token() -> Result<(String, [u8; 32]), CryptoError> {
    let token = URL_SAFE_NO_PAD.encode(crypto::random_bytes::<32>()?);
    let hash = hash_token(&token);
    Ok((token, hash))
}

pub fn hash_token(token: &str) -> [u8; 32] {
    crypto::sha256(token.as_bytes())
}

/// The bytes a device signs to redeem `challenge`: `peerlog-token-v1\n<deviceId>\n<challenge>`
/// (UTF-8), binding the signature to this purpose, this device and this challenge.
pub fn challenge_message(device: &DeviceId, challenge: &str) -> Vec<u8> {
    format!("{TOKEN_SIGNING_PREFIX}\n{device}\n{challenge}").into_bytes()
}

/// Decodes base64 (standard or URL-safe, padded or not) of at most `max` decoded bytes.
pub fn decode_base64(input: &str, max: usize) -> Option<Vec<u8>> {
    if input.len() > max.div_ceil(3) * 4 + 4 {
        return None;
    }
    let trimmed = input.trim_end_matches('=');
    STANDARD
        .decode(input)
        .ok()
        .or_else(|| URL_SAFE_NO_PAD.decode(trimmed).ok())
        .or_else(|| {
            base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(trimmed)
                .ok()
        })
        .filter(|b| b.len() <= max)
}

/// Standard base64, for tests and tools that act as devices.
pub fn encode_base64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_normalise_and_hash_consistently() {
        let (shown, hash) = new_enrolment_code().unwrap();
        assert_eq!(shown.len(), 14);
        let typed = shown.to_lowercase().replace('-', " ");
        let normal = normalise_code(&typed).unwrap();
        assert_eq!(hash_code(&normal), hash);
        assert_eq!(
            normalise_code("abcd-efgh-jkmO"),
            Some("ABCDEFGHJKM0".to_owned())
        );
        assert_eq!(normalise_code("short"), None);
        assert_eq!(
            normalise_code("ABCD-EFGH-JKMU"),
            None,
            "U is not in the alphabet"
        );
        assert_eq!(normalise_code(&"A".repeat(10_000)), None);
        assert_eq!(normalise_code("ÅBCD-EFGH-JKMN"), None);
    }

    #[test]
    fn base64_accepts_both_alphabets_and_bounds_size() {
        let bytes = [0xfbu8; 32];
        assert_eq!(decode_base64(&STANDARD.encode(bytes), 32).unwrap(), bytes);
        assert_eq!(
            decode_base64(&URL_SAFE_NO_PAD.encode(bytes), 32).unwrap(),
            bytes
        );
        assert!(decode_base64(&STANDARD.encode([0u8; 33]), 32).is_none());
        assert!(decode_base64("not base64!", 32).is_none());
        assert!(decode_base64(&"A".repeat(100_000), 32).is_none());
    }
}
