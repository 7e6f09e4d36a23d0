//! The control API: a drop-in for Toxiproxy's HTTP API.
//!
//! Same paths, status codes and `{"error","status"}` bodies; partial updates
//! merged; unknown keys ignored; `PATCH` and the older `POST` both update.
//! Additions Toxiproxy clients simply don't use: the `reject`, `drop` and
//! `hold` toxic types, `schedule` and `target` on toxics, `toxics` in
//! `/populate` entries, and `GET /proxies/{proxy}/connections`.

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::error::ProxyError;
use crate::metrics;
use crate::registry::{ProxyServer, ProxySpec};
use crate::toxic::Toxic;

/// An error as Toxiproxy answers it.
#[derive(Debug)]
pub struct ApiError(pub ProxyError);

impl From<ProxyError> for ApiError {
    fn from(e: ProxyError) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (code, Json(json!({"error": self.0.to_string(), "status": status}))).into_response()
    }
}

type ApiResult = Result<Response, ApiError>;

/// Parses a body; an empty body is an empty object.
fn body(bytes: &Bytes) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(bytes).map_err(|e| ApiError(ProxyError::BadRequest(format!("bad request body: {e}"))))
}

/// The router; tests drive it with `oneshot`, no port needed.
pub fn app(server: ProxyServer) -> Router {
    Router::new()
        .route("/proxies", get(list_proxies).post(create_proxy))
        .route("/populate", post(populate))
        .route("/reset", post(reset))
        .route("/version", get(version))
        .route("/metrics", get(metrics))
        .route("/proxies/{proxy}", get(show_proxy).post(update_proxy).patch(update_proxy).delete(delete_proxy))
        .route("/proxies/{proxy}/toxics", get(list_toxics).post(create_toxic))
        .route(
            "/proxies/{proxy}/toxics/{toxic}",
            get(show_toxic).post(update_toxic).patch(update_toxic).delete(delete_toxic),
        )
        .route("/proxies/{proxy}/connections", get(connections))
        .fallback(|| async { ApiError(ProxyError::BadRequest("no such endpoint".into())).into_response() })
        .layer(middleware::from_fn(browser_guard))
        .with_state(server)
}

/// Toxiproxy refuses browsers (a page could otherwise drive a local proxy).
async fn browser_guard(req: Request, next: Next) -> Response {
    let is_browser = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ua| ua.starts_with("Mozilla/"));
    if is_browser {
        return ApiError(ProxyError::UserAgent).into_response();
    }
    let mut resp = next.run(req).await;
    resp.headers_mut().insert("X-Fault-Proxy", HeaderValue::from_static("1"));
    resp
}

async fn list_proxies(State(s): State<ProxyServer>) -> ApiResult {
    let map: serde_json::Map<String, Value> = s.list().iter().map(|p| (p.name().to_owned(), p.to_json())).collect();
    Ok(Json(Value::Object(map)).into_response())
}

async fn create_proxy(State(s): State<ProxyServer>, raw: Bytes) -> ApiResult {
    let spec = ProxySpec::from_json(&body(&raw)?)?;
    let p = s.create(spec).await?;
    Ok((StatusCode::CREATED, Json(p.to_json())).into_response())
}

async fn populate(State(s): State<ProxyServer>, raw: Bytes) -> ApiResult {
    let v = body(&raw)?;
    // Toxiproxy takes an array; `{"proxies": [...]}` is accepted too.
    let list = match &v {
        Value::Array(a) => a.clone(),
        Value::Object(o) => match o.get("proxies") {
            Some(Value::Array(a)) => a.clone(),
            _ => return Err(ApiError(ProxyError::BadRequest("bad request body: expected an array of proxies".into()))),
        },
        _ => return Err(ApiError(ProxyError::BadRequest("bad request body: expected an array of proxies".into()))),
    };
    let specs = list.iter().map(ProxySpec::from_json).collect::<Result<Vec<_>, _>>()?;
    match s.populate(specs).await {
        Ok(done) => {
            let proxies: Vec<Value> = done.iter().map(|p| p.to_json()).collect();
            Ok((StatusCode::CREATED, Json(json!({"proxies": proxies}))).into_response())
        }
        Err((e, done)) => {
            let status = e.status();
            let proxies: Vec<Value> = done.iter().map(|p| p.to_json()).collect();
            let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            Ok((code, Json(json!({"error": e.to_string(), "status": status, "proxies": proxies}))).into_response())
        }
    }
}

async fn reset(State(s): State<ProxyServer>) -> ApiResult {
    s.reset().await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn version() -> ApiResult {
    Ok(Json(json!({"version": env!("CARGO_PKG_VERSION")})).into_response())
}

async fn metrics(State(s): State<ProxyServer>) -> ApiResult {
    Ok(([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], metrics::render(&s)).into_response())
}

async fn show_proxy(State(s): State<ProxyServer>, Path(name): Path<String>) -> ApiResult {
    Ok(Json(s.get(&name)?.to_json()).into_response())
}

async fn update_proxy(State(s): State<ProxyServer>, Path(name): Path<String>, raw: Bytes) -> ApiResult {
    let p = s.update(&name, &body(&raw)?).await?;
    Ok(Json(p.to_json()).into_response())
}

async fn delete_proxy(State(s): State<ProxyServer>, Path(name): Path<String>) -> ApiResult {
    s.delete(&name).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_toxics(State(s): State<ProxyServer>, Path(name): Path<String>) -> ApiResult {
    let toxics: Vec<Value> = s.get(&name)?.faults().iter().map(Toxic::to_json).collect();
    Ok(Json(toxics).into_response())
}

async fn create_toxic(State(s): State<ProxyServer>, Path(name): Path<String>, raw: Bytes) -> ApiResult {
    let p = s.get(&name)?;
    let t = p.add_fault(Toxic::from_json(&body(&raw)?)?).await?;
    Ok(Json(t.to_json()).into_response())
}

async fn show_toxic(State(s): State<ProxyServer>, Path((name, toxic)): Path<(String, String)>) -> ApiResult {
    Ok(Json(s.get(&name)?.fault(&toxic)?.to_json()).into_response())
}

async fn update_toxic(
    State(s): State<ProxyServer>,
    Path((name, toxic)): Path<(String, String)>,
    raw: Bytes,
) -> ApiResult {
    let t = s.get(&name)?.update_fault(&toxic, &body(&raw)?).await?;
    Ok(Json(t.to_json()).into_response())
}

async fn delete_toxic(State(s): State<ProxyServer>, Path((name, toxic)): Path<(String, String)>) -> ApiResult {
    s.get(&name)?.remove_fault(&toxic).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn connections(State(s): State<ProxyServer>, Path(name): Path<String>) -> ApiResult {
    Ok(Json(s.get(&name)?.connections()).into_response())
}
