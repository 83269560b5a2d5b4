//! A cookie-keeping browser stand-in for dashboard tests: requests go through the router with
//! `oneshot`, cookies set by responses are sent back, forms are posted as a same-origin browser
//! posts them (with `Sec-Fetch-Site: same-origin`) and carry the CSRF token of the last page.

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use peerlog_server::auth::password;
use peerlog_server::clock::now_ms;
use peerlog_server::db::{identity, logins};
use peerlog_server::sync::ports::Role;
use tower::ServiceExt as _;

use super::TestRelay;

/// One response, body as text.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> Option<&str> {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
    }

    /// The value of the first hidden `csrf` field on the page.
    pub fn csrf(&self) -> Option<String> {
        let at = self.body.find("name=\"csrf\" value=\"")?;
        let rest = &self.body[at + "name=\"csrf\" value=\"".len()..];
        Some(rest[..rest.find('"')?].to_owned())
    }
}

/// A browser: a cookie jar and extra headers for every request.
#[derive(Debug, Clone)]
pub struct Browser {
    pub app: Router,
    pub cookies: BTreeMap<String, String>,
    pub extra: Vec<(&'static str, String)>,
}

impl Browser {
    pub fn new(app: Router) -> Self {
        Self {
            app,
            cookies: BTreeMap::new(),
            extra: Vec::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn send(&mut self, req: Request<Body>) -> Page {
        let response = self.app.clone().oneshot(req).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        for set in headers.get_all(header::SET_COOKIE) {
            let set = set.to_str().unwrap();
            let pair = set.split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            if v.is_empty() || set.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
        let bytes = axum::body::to_bytes(response.into_body(), 8 << 20)
            .await
            .unwrap();
        Page {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    fn request(&self, method: &str, path: &str) -> axum::http::request::Builder {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, "127.0.0.1")
            .header(header::COOKIE, self.cookie_header());
        for (k, v) in &self.extra {
            req = req.header(*k, v);
        }
        req
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let req = self.request("GET", path).body(Body::empty()).unwrap();
        self.send(req).await
    }

    /// Posts a form as a same-origin page would.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body = serde_urlencoded_pairs(fields);
        let req = self
            .request("POST", path)
            .header("sec-fetch-site", "same-origin")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    /// Posts a form from another site (what a CSRF attack looks like to the relay).
    pub async fn post_cross_site(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body = serde_urlencoded_pairs(fields);
        let req = self
            .request("POST", path)
            .header("sec-fetch-site", "cross-site")
            .header(header::ORIGIN, "https://evil.example")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    /// Loads `form_page`, then posts `fields` plus its CSRF token to `action`.
    pub async fn submit(&mut self, form_page: &str, action: &str, fields: &[(&str, &str)]) -> Page {
        let page = self.get(form_page).await;
        let csrf = page
            .csrf()
            .unwrap_or_else(|| panic!("no form token on {form_page}: {}", page.status));
        let mut all: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post(action, &all).await
    }

    /// Signs in with a password (no second factor); panics unless it lands signed in.
    pub async fn sign_in(&mut self, name: &str, password: &str) -> Page {
        let page = self
            .submit(
                "/login",
                "/login",
                &[("name", name), ("password", password)],
            )
            .await;
        assert_eq!(
            page.status,
            StatusCode::SEE_OTHER,
            "sign-in of {name}: {}",
            page.body
        );
        page
    }
}

fn serde_urlencoded_pairs(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A password that passes the policy, used for every test account.
pub const PASSWORD: &str = "correct horse battery staple";

impl TestRelay {
    /// Adds a dashboard user (coordinator or admin) in `team` (created if missing) with
    /// [`PASSWORD`]; returns the user id.
    pub fn add_staff(&self, name: &str, role: Role, team: &str) -> String {
        let now = now_ms();
        let hash = password::hash(PASSWORD).unwrap();
        self.relay
            .state
            .db
            .write(|tx| {
                let team = match identity::find_team(tx, team)? {
                    Some(t) => t,
                    None => identity::add_team(tx, team, now)?,
                };
                let user = identity::add_user(tx, name, role, &[team.id], now)?;
                logins::set_password(tx, &user.id, &hash, now)?;
                Ok::<_, peerlog_server::db::DbError>(user.id.to_string())
            })
            .unwrap()
    }

    /// Adds a PRW in `team` (created if missing); returns the user id.
    pub fn add_prw(&self, name: &str, team: &str) -> String {
        let now = now_ms();
        self.relay
            .state
            .db
            .write(|tx| {
                let team = match identity::find_team(tx, team)? {
                    Some(t) => t,
                    None => identity::add_team(tx, team, now)?,
                };
                let user = identity::add_user(tx, name, Role::Prw, &[team.id], now)?;
                Ok::<_, peerlog_server::db::DbError>(user.id.to_string())
            })
            .unwrap()
    }

    /// Re-reads the access rules after a direct database change (what the watch loop does).
    pub fn reload_access(&self) {
        self.relay
            .state
            .access
            .reload(&self.relay.state.db)
            .unwrap();
    }
}

impl TestRelay {
    /// Gives an existing user (e.g. a seeded coordinator) the test [`PASSWORD`].
    pub fn set_password(&self, name: &str) -> String {
        let now = now_ms();
        let hash = password::hash(PASSWORD).unwrap();
        self.relay
            .state
            .db
            .write(|tx| {
                let user = identity::find_user(tx, name)?.expect("user exists");
                logins::set_password(tx, &user.id, &hash, now)?;
                Ok::<_, peerlog_server::db::DbError>(user.id.to_string())
            })
            .unwrap()
    }
}

/// Decodes RFC 4648 base32 (no padding), as an authenticator app reads the TOTP key.
pub fn base32_decode(text: &str) -> Vec<u8> {
    data_encoding::BASE32_NOPAD
        .decode(text.as_bytes())
        .expect("base32")
}

/// The TOTP code of `secret` for the current 30-second step, plus `offset` steps.
pub fn totp_now(secret: &[u8], offset: i64) -> String {
    use peerlog_server::auth::totp;
    let step = totp::step_at(now_ms() / 1000) + offset;
    format!("{:06}", totp::code_at_step(secret, step))
}
