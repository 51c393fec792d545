//! Posting a form to a token endpoint and reading its JSON answer: the only HTTP client
//! uketsuke needs. hyper's HTTP/1.1 client over our own TCP and rustls (the same verified TLS
//! as the mail channels), one connection per request; token requests are rare.

use crate::channels::stream::MailStream;
use crate::channels::tls;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use std::time::Duration;

/// An endpoint's answer: its status and body (at most 1 MiB).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

const TIMEOUT: Duration = Duration::from_secs(30);

/// POSTs `form` (application/x-www-form-urlencoded) to `url`. Errors say what failed and
/// where, never what was sent (it holds secrets).
pub async fn post_form(url: &str, form: &[(&str, &str)]) -> Result<Answer, String> {
    let body = serde_urlencoded::to_string(form).map_err(|e| format!("cannot encode the request to {url}: {e}"))?;
    tokio::time::timeout(TIMEOUT, post(url, body))
        .await
        .map_err(|_| format!("{url} did not answer within {} s", TIMEOUT.as_secs()))?
}

async fn post(url: &str, body: String) -> Result<Answer, String> {
    let uri: hyper::Uri = url.parse().map_err(|_| format!("`{url}` is not a URL"))?;
    let https = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err(format!("`{url}` is neither https nor http")),
    };
    let host = uri.host().ok_or_else(|| format!("`{url}` has no host"))?.trim_matches(['[', ']']).to_string();
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let tcp = tokio::net::TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| format!("cannot connect to {host}:{port}: {e}"))?;
    let _ = tcp.set_nodelay(true);
    let stream = if https {
        let connector = tokio_rustls::TlsConnector::from(tls::client_config(None)?);
        let tls = connector
            .connect(tls::server_name(&host)?, tcp)
            .await
            .map_err(|e| format!("TLS with {host} failed: {e}"))?;
        MailStream::Tls(Box::new(tls))
    } else {
        MailStream::Plain(tcp)
    };
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("HTTP with {host} failed: {e}"))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let authority = uri.authority().map(|a| a.as_str().to_string()).unwrap_or(host.clone());
    let request = hyper::Request::post(path)
        .header(hyper::header::HOST, authority)
        .header(hyper::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(hyper::header::ACCEPT, "application/json")
        .header(hyper::header::USER_AGENT, concat!("uketsuke/", env!("CARGO_PKG_VERSION")))
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| format!("cannot build the request to {host}: {e}"))?;
    let response = sender.send_request(request).await.map_err(|e| format!("the request to {host} failed: {e}"))?;
    let status = response.status().as_u16();
    let body = Limited::new(response.into_body(), 1 << 20)
        .collect()
        .await
        .map_err(|e| format!("reading the answer of {host} failed: {e}"))?
        .to_bytes();
    Ok(Answer { status, body: body.to_vec() })
}
