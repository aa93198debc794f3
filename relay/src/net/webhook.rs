//! The webhook: external systems publish an issue of a topic with `POST /topics/{id}/issues`, the topic's bearer
//! token, and a JSON body `{"title": …, "body": …, "link": …}`. HTTP/1.1 is hyper's; this module only routes the one
//! path, reads the body within its bound, and hands the issue to the core thread, which answers after the commit —
//! so a `201 Created` means the issue and its huddle are on disk.
//!
//! Bounds: [`MAX_WEBHOOK_CONNECTIONS`] connections at once (more are closed at accept), a body of at most
//! [`MAX_WEBHOOK_BODY`] bytes (`413` beyond), [`HEADER_TIMEOUT`] to send the request head, [`REQUEST_TIMEOUT`] for
//! the whole request. The token, the body and the issue are never logged.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use huddle_shared::ErrorCode;
use huddle_shared::model::TopicId;
use hyper::body::{Bytes, Incoming};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, broadcast, mpsc, oneshot};

use super::core_loop::CoreMsg;
use crate::core::domain::topics::{IssueDraft, Published};

/// Webhook connections served at once.
pub const MAX_WEBHOOK_CONNECTIONS: usize = 64;
/// Largest request body, in bytes (an issue's body is at most a message body, 8 KiB, escaped at worst six times).
pub const MAX_WEBHOOK_BODY: usize = 64 * 1024;
/// Time to send the request head.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Time for the whole request, body and answer included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What the core thread answers: the issue published, or why not.
pub type WebhookOutcome = Result<Published, (ErrorCode, String)>;

/// An issue as the webhook's caller sends it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IssueBody {
    title: String,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    link: Option<String>,
}

/// The answer to a published issue.
#[derive(Debug, Serialize)]
struct PublishedBody {
    topic: TopicId,
    issue: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    room: Option<huddle_shared::RoomId>,
    members: usize,
}

#[derive(Debug, Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    message: &'a str,
}

/// Serves until `shutdown` fires.
pub async fn serve(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    core: mpsc::Sender<CoreMsg>,
    mut shutdown: broadcast::Receiver<()>,
) {
    let slots = Arc::new(Semaphore::new(MAX_WEBHOOK_CONNECTIONS));
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(listen = %addr, tls = tls.is_some(), "webhook listening");
    }
    loop {
        let accepted = tokio::select! {
            _ = shutdown.recv() => return,
            accepted = listener.accept() => accepted,
        };
        let Ok((stream, peer)) = accepted else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            tracing::debug!(%peer, "webhook: too many connections; closing one");
            continue;
        };
        let core = core.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let service = hyper::service::service_fn(move |req| answer(req, core.clone()));
            let builder = {
                let mut b = hyper::server::conn::http1::Builder::new();
                b.timer(TokioTimer::new()).header_read_timeout(HEADER_TIMEOUT).keep_alive(false);
                b
            };
            let served = async {
                match tls {
                    Some(acceptor) => match acceptor.accept(stream).await {
                        Ok(stream) => {
                            builder.serve_connection(TokioIo::new(stream), service).await.map_err(|e| e.to_string())
                        }
                        Err(e) => Err(e.to_string()),
                    },
                    None => builder.serve_connection(TokioIo::new(stream), service).await.map_err(|e| e.to_string()),
                }
            };
            match tokio::time::timeout(REQUEST_TIMEOUT, served).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "webhook connection failed"),
                Err(_) => tracing::debug!(%peer, "webhook request timed out"),
            }
        });
    }
}

fn json_response(status: StatusCode, body: &impl Serialize) -> Response<Full<Bytes>> {
    let text = serde_json::to_string(body).unwrap_or_else(|_| "{}".to_owned());
    let mut response = Response::new(Full::new(Bytes::from(text)));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn error(status: StatusCode, code: &str, message: &str) -> Response<Full<Bytes>> {
    let mut response = json_response(status, &ErrorBody { error: code, message });
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(hyper::header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    if status == StatusCode::METHOD_NOT_ALLOWED {
        response.headers_mut().insert(hyper::header::ALLOW, HeaderValue::from_static("POST"));
    }
    response
}

/// The topic a path names: `/topics/{id}/issues`.
fn topic_of(path: &str) -> Option<&str> {
    path.strip_prefix("/topics/")?.strip_suffix("/issues").filter(|id| !id.contains('/'))
}

async fn answer(req: Request<Incoming>, core: mpsc::Sender<CoreMsg>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(publish(req, core).await.unwrap_or_else(|response| response))
}

async fn publish(
    req: Request<Incoming>,
    core: mpsc::Sender<CoreMsg>,
) -> Result<Response<Full<Bytes>>, Response<Full<Bytes>>> {
    let Some(raw_topic) = topic_of(req.uri().path()) else {
        return Err(error(StatusCode::NOT_FOUND, "not_found", "The webhook is POST /topics/{id}/issues."));
    };
    if req.method() != Method::POST {
        return Err(error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "Publish an issue with POST."));
    }
    let topic = TopicId::parse(raw_topic)
        .map_err(|_| error(StatusCode::NOT_FOUND, "no_such_topic", ErrorCode::NoSuchTopic.sentence()))?;
    let token = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            error(
                StatusCode::UNAUTHORIZED,
                "not_publisher",
                "Send the topic's token as \"Authorization: Bearer TOKEN\".",
            )
        })?;
    let json = req.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(|v| v.starts_with("application/json"));
    if json == Some(false) {
        return Err(error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "bad_frame", "Send the issue as application/json."));
    }
    let bytes = match Limited::new(req.into_body(), MAX_WEBHOOK_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => {
            let message = format!("An issue is at most {MAX_WEBHOOK_BODY} bytes of JSON.");
            return Err(error(StatusCode::PAYLOAD_TOO_LARGE, "frame_too_large", &message));
        }
        Err(_) => return Err(error(StatusCode::BAD_REQUEST, "bad_frame", "The request body could not be read.")),
    };
    let issue: IssueBody = serde_json::from_slice(&bytes).map_err(|e| {
        let message = format!("The issue is not valid JSON of the documented shape: {e}.");
        error(StatusCode::BAD_REQUEST, "bad_frame", &message)
    })?;
    let (reply, answered) = oneshot::channel();
    let draft = IssueDraft { title: issue.title, body: issue.body, link: issue.link };
    let busy = || error(StatusCode::SERVICE_UNAVAILABLE, "server_busy", ErrorCode::ServerBusy.sentence());
    core.try_send(CoreMsg::Webhook { topic, token, draft, reply }).map_err(|_| busy())?;
    match answered.await {
        Ok(Ok(published)) => Ok(json_response(
            StatusCode::CREATED,
            &PublishedBody {
                topic: published.topic,
                issue: published.issue,
                room: published.room,
                members: published.members.len(),
            },
        )),
        Ok(Err((code, message))) => {
            let status = match code {
                ErrorCode::NoSuchTopic => StatusCode::NOT_FOUND,
                ErrorCode::NotPublisher => StatusCode::UNAUTHORIZED,
                ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
                _ => StatusCode::BAD_REQUEST,
            };
            Err(error(status, code.as_str(), &message))
        }
        // The core stopped before answering (shutdown, storage failure): nothing was acknowledged.
        Err(_) => Err(busy()),
    }
}

#[cfg(test)]
mod tests {
    use super::topic_of;

    #[test]
    fn only_the_issues_path_of_a_topic_is_routed() {
        assert_eq!(topic_of("/topics/rust-weekly/issues"), Some("rust-weekly"));
        for other in ["/", "/topics/x", "/topics/x/issues/1", "/topics/a/b/issues", "/topics//issues/x"] {
            assert_eq!(topic_of(other), None, "{other}");
        }
    }
}
