//! A small OAuth2 provider on loopback for the OAuth2 tests, playing Microsoft's and Google's
//! part: a token endpoint (refresh tokens rotated on every use, client credentials with a
//! secret or a certificate assertion, the device code flow, the authorization code flow with
//! PKCE, Google's JWT bearer grant), and the introspection endpoint the test mail stack's
//! Dovecot asks whether a token is good. Tests change its behaviour (token lifetimes,
//! revocation) while the daemon runs, and read what it was asked.

#![allow(dead_code)]

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub const CLIENT_ID: &str = "11111111-2222-3333-4444-555555555555";
pub const CLIENT_SECRET: &str = "app-secret-value-do-not-log";

#[derive(Default)]
pub struct Provider {
    /// access token -> (user, expires at unix seconds)
    pub access: HashMap<String, (String, i64)>,
    /// live refresh tokens -> user
    pub refresh: HashMap<String, String>,
    /// every token ever issued, to check that none leaks into a log
    pub issued: Vec<String>,
    /// the `expires_in` told to the client
    pub lifetime: i64,
    /// how long a token is really accepted (shorter than `lifetime` simulates a token revoked
    /// server-side before its announced expiry)
    pub valid_for: Option<i64>,
    /// refresh tokens answer invalid_grant (the user revoked the app)
    pub revoked: bool,
    /// the token endpoint answers 503 (an outage: nothing a person must do)
    pub down: bool,
    /// requests by grant type
    pub requests: HashMap<String, u32>,
    /// device codes -> polls so far
    pub device: HashMap<String, u32>,
    /// authorization codes -> (PKCE challenge, redirect URI)
    pub codes: HashMap<String, (String, String)>,
    /// the mailbox app-only and device sign-ins act for
    pub user: String,
    pub introspections: u32,
    counter: u64,
}

impl Provider {
    fn new_token(&mut self, prefix: &str) -> String {
        self.counter += 1;
        let token = format!("{prefix}-{}-{:08x}", self.counter, rand_u32());
        self.issued.push(token.clone());
        token
    }

    /// Issues an access token (and, with `refresh`, a new refresh token) for `user`.
    fn grant(&mut self, user: &str, refresh: bool) -> serde_json::Value {
        let access = self.new_token("at");
        let valid = self.valid_for.unwrap_or(self.lifetime);
        self.access.insert(access.clone(), (user.to_string(), now() + valid));
        let mut answer =
            serde_json::json!({"token_type": "Bearer", "access_token": access, "expires_in": self.lifetime});
        if refresh {
            let rt = self.new_token("rt");
            self.refresh.insert(rt.clone(), user.to_string());
            answer["refresh_token"] = rt.into();
        }
        answer
    }

    pub fn count(&self, grant: &str) -> u32 {
        self.requests.get(grant).copied().unwrap_or(0)
    }
}

fn rand_u32() -> u32 {
    let mut b = [0u8; 4];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b);
    u32::from_le_bytes(b)
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

pub type Shared = Arc<Mutex<Provider>>;

/// The provider on a loopback port, served from a thread of its own until the test ends.
pub struct TokenServer {
    pub state: Shared,
    pub port: u16,
}

impl TokenServer {
    pub fn start(user: &str, lifetime: i64) -> TokenServer {
        let state: Shared = Arc::new(Mutex::new(Provider { lifetime, user: user.to_string(), ..Default::default() }));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let app = Router::new()
            .route("/token", post(token))
            .route("/devicecode", post(devicecode))
            .route("/introspect", post(introspect))
            .with_state(state.clone());
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let _ = axum::serve(listener, app).await;
            });
        });
        TokenServer { state, port }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn with<T>(&self, f: impl FnOnce(&mut Provider) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }

    /// Registers an authorization code as Google's consent page would hand it out.
    pub fn authorize(&self, challenge: &str, redirect: &str) -> String {
        self.with(|p| {
            let code = p.new_token("code");
            p.codes.insert(code.clone(), (challenge.to_string(), redirect.to_string()));
            code
        })
    }
}

fn error(status: StatusCode, code: &str, description: &str) -> Response {
    (status, axum::Json(serde_json::json!({"error": code, "error_description": description}))).into_response()
}

fn claims(jwt: &str) -> Option<(serde_json::Value, serde_json::Value)> {
    let mut parts = jwt.split('.');
    let header = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts.next()?).ok()?).ok()?;
    let claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts.next()?).ok()?).ok()?;
    let signature = URL_SAFE_NO_PAD.decode(parts.next()?).ok()?;
    (signature.len() >= 256).then_some((header, claims))
}

async fn token(State(state): State<Shared>, body: String) -> Response {
    let form: HashMap<String, String> = serde_urlencoded::from_str(&body).unwrap_or_default();
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let mut p = state.lock().unwrap();
    let grant = get("grant_type");
    *p.requests.entry(grant.clone()).or_default() += 1;
    if p.down {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "AADSTS90033: a transient error has occurred",
        );
    }
    if grant != "urn:ietf:params:oauth:grant-type:jwt-bearer" && get("client_id") != CLIENT_ID {
        return error(StatusCode::BAD_REQUEST, "unauthorized_client", "AADSTS700016: unknown application");
    }
    match grant.as_str() {
        "refresh_token" => {
            let old = get("refresh_token");
            if p.revoked {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "AADSTS70008: The refresh token has been revoked",
                );
            }
            // Rotation: the old refresh token dies the moment a new one is issued.
            let Some(user) = p.refresh.remove(&old) else {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "AADSTS9002313: unknown or already used refresh token",
                );
            };
            axum::Json(p.grant(&user, true)).into_response()
        }
        "client_credentials" => {
            let by_secret = get("client_secret") == CLIENT_SECRET;
            let by_certificate = get("client_assertion_type")
                == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
                && claims(&get("client_assertion")).is_some_and(|(h, c)| {
                    h["alg"] == "RS256" && h["x5t"].is_string() && c["iss"] == CLIENT_ID && c["sub"] == CLIENT_ID
                });
            if !by_secret && !by_certificate {
                return error(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    "AADSTS7000215: Invalid client secret provided",
                );
            }
            let user = p.user.clone();
            axum::Json(p.grant(&user, false)).into_response()
        }
        "urn:ietf:params:oauth:grant-type:device_code" => {
            let code = get("device_code");
            let Some(polls) = p.device.get_mut(&code) else {
                return error(StatusCode::BAD_REQUEST, "expired_token", "unknown device code");
            };
            *polls += 1;
            // The person signs in while uketsuke polls: pending once, then done.
            if *polls < 2 {
                return error(StatusCode::BAD_REQUEST, "authorization_pending", "AADSTS70016: pending");
            }
            p.device.remove(&code);
            p.revoked = false;
            let user = p.user.clone();
            axum::Json(p.grant(&user, true)).into_response()
        }
        "authorization_code" => {
            let Some((challenge, redirect)) = p.codes.remove(&get("code")) else {
                return error(StatusCode::BAD_REQUEST, "invalid_grant", "unknown code");
            };
            let verified = URL_SAFE_NO_PAD
                .encode(ring::digest::digest(&ring::digest::SHA256, get("code_verifier").as_bytes()))
                == challenge;
            if !verified || redirect != get("redirect_uri") || get("client_secret") != CLIENT_SECRET {
                return error(StatusCode::BAD_REQUEST, "invalid_grant", "PKCE verification failed");
            }
            p.revoked = false;
            let user = p.user.clone();
            axum::Json(p.grant(&user, true)).into_response()
        }
        "urn:ietf:params:oauth:grant-type:jwt-bearer" => match claims(&get("assertion")) {
            Some((h, c))
                if h["alg"] == "RS256"
                    && c["iss"].as_str().is_some_and(|i| i.ends_with(".iam.gserviceaccount.com"))
                    && c["scope"] == "https://mail.google.com/" =>
            {
                let user = c["sub"].as_str().unwrap_or_default().to_string();
                axum::Json(p.grant(&user, false)).into_response()
            }
            _ => error(StatusCode::BAD_REQUEST, "invalid_grant", "bad assertion"),
        },
        _ => error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "unknown grant"),
    }
}

async fn devicecode(State(state): State<Shared>, body: String) -> Response {
    let form: HashMap<String, String> = serde_urlencoded::from_str(&body).unwrap_or_default();
    if form.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
        return error(StatusCode::BAD_REQUEST, "unauthorized_client", "unknown application");
    }
    let mut p = state.lock().unwrap();
    let device = p.new_token("dc");
    p.device.insert(device.clone(), 0);
    axum::Json(serde_json::json!({"device_code": device, "user_code": "TESTCODE", "verification_uri": "https://microsoft.com/devicelogin", "expires_in": 900, "interval": 1}))
        .into_response()
}

/// What Dovecot's oauth2 passdb asks (introspection_mode = post).
async fn introspect(State(state): State<Shared>, body: String) -> Response {
    let form: HashMap<String, String> = serde_urlencoded::from_str(&body).unwrap_or_default();
    let mut p = state.lock().unwrap();
    p.introspections += 1;
    match form.get("token").and_then(|t| p.access.get(t)) {
        Some((user, exp)) if *exp > now() => {
            axum::Json(serde_json::json!({"active": true, "email": user, "exp": exp})).into_response()
        }
        _ => axum::Json(serde_json::json!({"active": false})).into_response(),
    }
}
