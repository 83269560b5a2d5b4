//! New identifiers the relay hands out: opaque ids for teams, users and devices, document ids.

use peerlog_core::ids::{CaseId, OpaqueId};
use rand::Rng;

const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// A fresh opaque id such as `u-7k2m9q4xw1ab` (prefix, dash, 12 random base32 characters).
///
/// `prefix` is one of the relay's own constants (`t`, `u`, `d`), never input.
pub fn new_opaque(prefix: &'static str) -> OpaqueId {
    let mut rng = rand::rng();
    let mut s = String::with_capacity(prefix.len() + 13);
    s.push_str(prefix);
    s.push('-');
    for _ in 0..12 {
        s.push(char::from(ALPHABET[rng.random_range(0..32)]));
    }
    s.parse()
        .expect("a short ASCII prefix and base32 characters form a valid opaque id")
}

/// A fresh document id (case or directory), in automerge-repo's format.
pub fn new_doc_id() -> CaseId {
    CaseId::random(&mut rand::rng())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opaque_ids_are_valid_and_distinct() {
        let a = new_opaque("u");
        let b = new_opaque("u");
        assert_ne!(a, b);
        assert!(a.as_str().starts_with("u-"));
        assert_eq!(a.as_str().len(), 14);
    }
}
