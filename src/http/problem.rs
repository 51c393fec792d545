//! Errors a person can act on, as RFC 9457 problem details: what went wrong, and for a bad
//! submission, each field and what is wrong with it.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct Problem {
    pub status: StatusCode,
    /// A short slug: `urn:uketsuke:problem:{slug}` is the problem type.
    pub slug: &'static str,
    pub title: &'static str,
    pub detail: String,
    pub errors: Vec<FieldError>,
    pub retry_after: Option<u64>,
}

impl Problem {
    pub fn new(status: StatusCode, slug: &'static str, title: &'static str, detail: impl Into<String>) -> Problem {
        Problem { status, slug, title, detail: detail.into(), errors: Vec::new(), retry_after: None }
    }

    pub fn invalid(errors: Vec<FieldError>) -> Problem {
        let names: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        Problem {
            errors: errors.clone(),
            ..Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid-fields",
                "The submission has missing or invalid fields",
                format!("Fix these fields and submit again: {}.", names.join(", ")),
            )
        }
    }

    pub fn internal(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "The report could not be recorded", detail)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut body = serde_json::json!({
            "type": format!("urn:uketsuke:problem:{}", self.slug),
            "title": self.title,
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        if !self.errors.is_empty() {
            body["errors"] = serde_json::to_value(&self.errors).unwrap_or_default();
        }
        let mut response = (self.status, body.to_string()).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Some(seconds) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}
