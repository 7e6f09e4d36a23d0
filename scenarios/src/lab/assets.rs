//! The page, embedded in the binary: HTML, CSS and JavaScript written by
//! hand, no build step, nothing fetched from anywhere else. The
//! Content-Security-Policy header holds the page to its own origin, so a
//! browser refuses any script, style, image or connection elsewhere.

use axum::http::header;
use axum::response::{IntoResponse, Response};

const INDEX: &str = include_str!("assets/index.html");
const SCRIPT: &str = include_str!("assets/app.js");
const STYLE: &str = include_str!("assets/style.css");

/// Only the lab itself: no CDN, no font or image from the internet.
pub const POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                          connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
            (header::CONTENT_SECURITY_POLICY, POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

pub fn page() -> Response {
    asset("text/html; charset=utf-8", INDEX)
}

pub fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

pub fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}
