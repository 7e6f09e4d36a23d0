//! The lab's HTTP side: `app(lab) -> Router`, so tests drive it with
//! `oneshot` and no port. The page (`/`, `/app.js`, `/style.css`) uses the
//! JSON API below and nothing else; `docs/lab.md` documents every route.
//!
//! Errors are `{"error": "...", "status": N}`. Bodies are JSON whatever
//! their content type. A request that changes something and carries an
//! `Origin` header must come from the page's own origin (a page on another
//! site cannot drive the lab through the trainer's browser).

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use futures_util::stream::{self, Stream, StreamExt as _};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use super::assets;
use super::error::LabError;
use super::faults::FaultRequest;
use super::servers::ServerAction;
use super::state::Lab;

impl IntoResponse for LabError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(json!({"error": self.to_string(), "status": status.as_u16()}))).into_response()
    }
}

/// The lab's routes.
pub fn app(lab: Arc<Lab>) -> Router {
    Router::new()
        .route("/", get(|| async { assets::page() }))
        .route("/app.js", get(|| async { assets::script() }))
        .route("/style.css", get(|| async { assets::style() }))
        .route("/api/state", get(state))
        .route("/api/faults", post(add_fault).get(list_faults))
        .route("/api/faults/{id}", delete(remove_fault))
        .route("/api/servers/{name}/logs", get(logs))
        .route("/api/servers/{name}/{action}", post(server_action))
        .route("/api/events", get(events))
        .fallback(|method: Method, uri: axum::http::Uri| async move { LabError::NoRoute(format!("{method} {uri}")) })
        .layer(middleware::from_fn(same_origin))
        .with_state(lab)
}

/// A body as JSON (any content type), or 400 naming what is wrong.
fn json_body<T: for<'de> Deserialize<'de>>(body: &Bytes) -> Result<T, LabError> {
    serde_json::from_slice(body).map_err(|e| LabError::BadRequest(format!("bad request body: {e}")))
}

async fn state(State(lab): State<Arc<Lab>>) -> Response {
    Json(lab.state().await).into_response()
}

async fn list_faults(State(lab): State<Arc<Lab>>) -> Response {
    let faults: Vec<_> = lab.faults_on().into_iter().map(|(_, v)| v).collect();
    Json(faults).into_response()
}

async fn add_fault(State(lab): State<Arc<Lab>>, body: Bytes) -> Result<Response, LabError> {
    let req: FaultRequest = json_body(&body)?;
    let view = lab.add_fault(req).await?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

async fn remove_fault(State(lab): State<Arc<Lab>>, Path(id): Path<String>) -> Result<Response, LabError> {
    lab.remove_fault(&id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn server_action(
    State(lab): State<Arc<Lab>>,
    Path((name, action)): Path<(String, String)>,
) -> Result<Response, LabError> {
    // The server first: an unknown server is 404 whatever the action.
    lab.server(&name)?;
    let action = ServerAction::parse(&action)?;
    Ok(Json(lab.server_action(&name, action).await?).into_response())
}

#[derive(Debug, Deserialize)]
struct LogsQuery {
    lines: Option<String>,
}

async fn logs(
    State(lab): State<Arc<Lab>>,
    Path(name): Path<String>,
    Query(q): Query<LogsQuery>,
) -> Result<Response, LabError> {
    let lines = match q.lines.as_deref() {
        None => 200,
        Some(t) => {
            t.parse::<usize>().map_err(|_| LabError::BadRequest(format!("lines must be a whole number, not {t:?}")))?
        }
    };
    Ok(Json(lab.logs(&name, lines)?).into_response())
}

/// `GET /api/events`: `ready` first, then every change; `lagged` when this
/// stream fell behind (the page then reads `/api/state` again). It ends
/// when the lab shuts down.
async fn events(State(lab): State<Arc<Lab>>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    Sse::new(event_stream(&lab)).keep_alive(KeepAlive::default())
}

/// The events of `GET /api/events` as a stream.
pub fn event_stream(lab: &Lab) -> impl Stream<Item = Result<Event, Infallible>> + Send + 'static {
    let rx = lab.subscribe();
    let cancel = lab.cancel_token();
    let ready = Event::default().event("ready").data(json!({"time_scale": lab.settings().plan.time_scale}).to_string());
    let changes = stream::unfold((rx, cancel), |(mut rx, cancel)| async move {
        let event = tokio::select! {
            _ = cancel.cancelled() => return None,
            r = rx.recv() => match r {
                Ok(ev) => Event::default().event(ev.kind).data(ev.data.to_string()),
                Err(RecvError::Lagged(n)) => Event::default().event("lagged").data(json!({"missed": n}).to_string()),
                Err(RecvError::Closed) => return None,
            },
        };
        Some((Ok(event), (rx, cancel)))
    });
    stream::once(async move { Ok(ready) }).chain(changes)
}

/// Refuses a changing request whose `Origin` is not the page's own.
async fn same_origin(req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD) || origin_ok(req.headers()) {
        return next.run(req).await;
    }
    (
        StatusCode::FORBIDDEN,
        Json(json!({"error": "cross-origin request refused: the lab takes changes from its own page only", "status": 403})),
    )
        .into_response()
}

fn origin_ok(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else { return true };
    let (Ok(origin), Some(Ok(host))) = (origin.to_str(), headers.get(header::HOST).map(|h| h.to_str())) else {
        return false;
    };
    let authority = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://"));
    authority.is_some_and(|a| a.eq_ignore_ascii_case(host))
}
