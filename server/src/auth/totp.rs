//! Time-based one-time passwords (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps) for the
//! dashboard's second factor: secret generation, the `otpauth://` URI authenticator apps scan,
//! and verification with one step of clock drift either way and no reuse of a step. Pure apart
//! from drawing the secret; the caller passes the time.

use super::crypto::{self, CryptoError};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Seconds per step.
pub const STEP_SECS: i64 = 30;
/// Digits per code.
pub const DIGITS: u32 = 6;
/// Secret length in bytes (160 bits, as RFC 4226 recommends).
pub const SECRET_LEN: usize = 20;

/// Why a code was not accepted. Says nothing about how close it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TotpError {
    #[error("the code must be {DIGITS} digits")]
    Malformed,
    #[error("the code is wrong or expired")]
    Wrong,
    #[error("this code was already used; wait for the next one")]
    Replayed,
}

/// A new random secret.
pub fn new_secret() -> Result<[u8; SECRET_LEN], CryptoError> {
    crypto::random_bytes::<SECRET_LEN>()
}

/// The step a Unix time (seconds) falls in.
pub fn step_at(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(STEP_SECS)
}

/// The code for one step (RFC 4226 dynamic truncation).
pub fn code_at_step(secret: &[u8], step: i64) -> u32 {
    let mac = crypto::hmac_sha1(secret, &step.to_be_bytes());
    let offset = usize::from(mac[19] & 0x0f);
    let binary = u32::from_be_bytes([
        mac[offset],
        mac[offset + 1],
        mac[offset + 2],
        mac[offset + 3],
    ]) & 0x7fff_ffff;
    binary % 10u32.pow(DIGITS)
}

/// Checks `input` against the steps around `unix_secs`. `last_used_step` is the step of the last
/// accepted code, so a code (or an older one) cannot be used twice. Returns the step to store.
pub fn verify(
    secret: &[u8],
    input: &str,
    unix_secs: i64,
    last_used_step: Option<i64>,
) -> Result<i64, TotpError> {
    let digits: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() != DIGITS as usize || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TotpError::Malformed);
    }
    let now = step_at(unix_secs);
    let mut matched = None;
    for step in [now - 1, now, now + 1] {
        let code = format!(
            "{:0width$}",
            code_at_step(secret, step),
            width = DIGITS as usize
        );
        if crypto::constant_time_eq(code.as_bytes(), digits.as_bytes()) {
            matched = Some(step);
        }
    }
    let step = matched.ok_or(TotpError::Wrong)?;
    if last_used_step.is_some_and(|last| step <= last) {
        return Err(TotpError::Replayed);
    }
    Ok(step)
}

/// RFC 4648 base32 without padding, the form authenticator apps expect for the secret.
pub fn base32(bytes: &[u8]) -> String {
    data_encoding::BASE32_NOPAD.encode(bytes)
}

/// The `otpauth://` URI an authenticator app scans (as a QR code) or takes as text. `account` is
/// the user's login name, which the app shows next to the codes.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let enc = |s: &str| utf8_percent_encode(s, URI_COMPONENT).to_string();
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        enc(issuer),
        enc(account),
        base32(secret),
        enc(issuer)
    )
}

/// Everything but RFC 3986's unreserved characters is escaped.
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B's SHA-1 secret.
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn matches_the_rfc_6238_test_vectors() {
        // Appendix B lists 8-digit codes; 6-digit codes are their last six digits.
        for (time, code) in [
            (59, 287_082),
            (1_111_111_109, 81_804),
            (1_111_111_111, 50_471),
            (1_234_567_890, 5_924),
            (2_000_000_000, 279_037),
            (20_000_000_000, 353_130),
        ] {
            assert_eq!(code_at_step(RFC_SECRET, step_at(time)), code, "at {time}");
        }
    }

    #[test]
    fn accepts_one_step_of_drift_and_refuses_reuse() {
        let now = 1_234_567_890;
        let code = |step: i64| format!("{:06}", code_at_step(RFC_SECRET, step));
        let current = step_at(now);
        assert_eq!(verify(RFC_SECRET, &code(current), now, None), Ok(current));
        assert_eq!(
            verify(RFC_SECRET, &code(current - 1), now, None),
            Ok(current - 1)
        );
        assert_eq!(
            verify(RFC_SECRET, &code(current + 1), now, None),
            Ok(current + 1)
        );
        assert_eq!(
            verify(RFC_SECRET, &code(current - 2), now, None),
            Err(TotpError::Wrong)
        );
        assert_eq!(
            verify(RFC_SECRET, &code(current), now, Some(current)),
            Err(TotpError::Replayed)
        );
        assert_eq!(
            verify(RFC_SECRET, &code(current - 1), now, Some(current)),
            Err(TotpError::Replayed)
        );
        let spaced = format!("{} {}", &code(current)[..3], &code(current)[3..]);
        assert_eq!(verify(RFC_SECRET, &spaced, now, None), Ok(current));
    }

    #[test]
    fn malformed_codes_are_refused_without_checking() {
        for input in ["", "12345", "1234567", "12a456", "١٢٣٤٥٦"] {
            assert_eq!(
                verify(RFC_SECRET, input, 59, None),
                Err(TotpError::Malformed),
                "{input:?}"
            );
        }
    }

    #[test]
    fn base32_and_uri_match_what_authenticator_apps_expect() {
        // RFC 4648 section 10 vectors, without padding.
        for (input, encoded) in [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ] {
            assert_eq!(base32(input.as_bytes()), encoded);
        }
        assert_eq!(base32(RFC_SECRET), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(
            otpauth_uri("Peerlog North", "kari@example.org", RFC_SECRET),
            "otpauth://totp/Peerlog%20North:kari%40example.org?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Peerlog%20North&algorithm=SHA1&digits=6&period=30"
        );
        assert_eq!(new_secret().unwrap().len(), SECRET_LEN);
        assert_ne!(new_secret().unwrap(), new_secret().unwrap());
    }
}
