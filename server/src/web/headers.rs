//! Security headers on every response the relay sends: no MIME sniffing, no framing, no
//! referrer, no caching of (possibly personal) responses, a Content-Security-Policy that allows
//! nothing unless a page sets its own, and HSTS when the relay serves TLS itself.

use axum::extract::State;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, HeaderName, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;

use crate::state::AppState;

/// The policy for responses that do not set their own: JSON, health, metrics, errors.
pub(crate) const DEFAULT_CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const STATIC: [(HeaderName, &str); 7] = [
    (X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (X_FRAME_OPTIONS, "DENY"),
    (REFERRER_POLICY, "no-referrer"),
    (CONTENT_SECURITY_POLICY, DEFAULT_CSP),
    (CACHE_CONTROL, "no-store"),
    (
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    ),
    (
        HeaderName::from_static("cross-origin-resource-policy"),
        "same-origin",
    ),
];

/// Adds the headers a response does not already set (a page may choose its own CSP or caching).
pub(crate) async fn add(State(state): State<AppState>, mut response: Response) -> Response {
    let tls = state.config.tls_cert.is_some();
    apply(response.headers_mut(), tls);
    response
}

fn apply(headers: &mut HeaderMap, tls: bool) {
    for (name, value) in STATIC {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    if tls && !headers.contains_key(STRICT_TRANSPORT_SECURITY) {
        headers.insert(
            STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_in_missing_headers_and_keeps_a_pages_own_choice() {
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'self'"),
        );
        apply(&mut headers, false);
        assert_eq!(headers[CONTENT_SECURITY_POLICY], "default-src 'self'");
        assert_eq!(headers[X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(headers[X_FRAME_OPTIONS], "DENY");
        assert_eq!(headers[CACHE_CONTROL], "no-store");
        assert!(!headers.contains_key(STRICT_TRANSPORT_SECURITY));

        let mut headers = HeaderMap::new();
        apply(&mut headers, true);
        assert_eq!(headers[CONTENT_SECURITY_POLICY], DEFAULT_CSP);
        assert_eq!(headers[STRICT_TRANSPORT_SECURITY], "max-age=31536000");
    }
}
