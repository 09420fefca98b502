//! Get order: `GET /api/v2/project/{project_id}/order/{order_id}`, its error bodies and the
//! per-order HTTP faults.

use crate::chaos::HttpChaos;
use crate::faults::HttpFault;
use crate::http::{plain_error, Request, Response};
use crate::state::Shared;

/// What to do with a Get-order request.
#[derive(Debug)]
pub(crate) enum Outcome {
    Respond(Response),
    /// Close the connection without a response (`http_drop`).
    Drop,
}

/// `(project_id, order_id)` if `path` is a Get-order path.
pub(crate) fn parse_order_path(path: &str) -> Option<(i64, i64)> {
    let rest = path.strip_prefix("/api/v2/project/")?;
    let (project, rest) = rest.split_once('/')?;
    let order = rest.strip_prefix("order/")?;
    Some((project.parse().ok()?, order.parse().ok()?))
}

/// 404 body for an unknown order (or another project).
const NOT_FOUND: &str =
    r#"{"statusCode":404,"errorCode":9001,"errorMessage":"[0401-9001]: Order not found"}"#;
/// 401 body without (usable) `Authorization`.
const NO_AUTH: &str = r#"{"statusCode":401,"errorCode":1501,"errorMessage":"[0401-1501]: Authorization failed: Provide authorization"}"#;
/// 401 body for an expired token.
const EXPIRED: &str = r#"{"statusCode":401,"errorCode":1020,"errorMessage":"[0401-1020]: Error in Authentication method occurred"}"#;
/// 422 body.
const UNPROCESSABLE: &str =
    r#"{"statusCode":422,"errorCode":1102,"errorMessage":"[0401-1102]: Unprocessable Entity"}"#;

/// Xsolla's error response for `status`: the protocol document's bodies for 401 (1501), 404
/// and 422, `Internal Server Error` with errorCode 0 for every 5xx, the reason phrase otherwise.
pub(crate) fn error_response(status: u16) -> Response {
    match status {
        401 => Response::json(401, NO_AUTH),
        404 => Response::json(404, NOT_FOUND),
        422 => Response::json(422, UNPROCESSABLE),
        500..=599 => Response::json(
            status,
            format!(
                r#"{{"statusCode":{status},"errorCode":0,"errorMessage":"Internal Server Error"}}"#
            ),
        ),
        _ => plain_error(status),
    }
}

/// An error answer whose `errorMessage` echoes the request's token (chaos mode: a server that
/// quotes the credentials back; the client must not pass them on).
fn echo_error(status: u16, token: &str) -> Response {
    let message = serde_json::Value::String(format!(
        "upstream refused Authorization: Bearer {token} (token {token})"
    ));
    Response::json(
        status,
        format!(r#"{{"statusCode":{status},"errorCode":0,"errorMessage":{message}}}"#),
    )
}

/// The token of an `Authorization: Bearer <token>` header (empty if absent or another scheme).
fn bearer_token(request: &Request) -> &str {
    request
        .header("authorization")
        .and_then(|value| {
            let (scheme, token) = value.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .unwrap_or_default()
}

/// Answers a Get-order request: counts it, applies the order's next HTTP fault, then checks the
/// token, the project and the order.
pub(crate) async fn get_order(
    shared: &Shared,
    request: &Request,
    project_id: i64,
    order_id: i64,
) -> Outcome {
    if request.method != "GET" {
        return Outcome::Respond(plain_error(405).with_header("Allow", "GET"));
    }
    let has_auth = request.header("authorization").is_some();
    shared.stats_mut(|s| {
        *s.http_requests.entry(order_id).or_insert(0) += 1;
        if has_auth {
            s.http_auth_headers_seen += 1;
        }
    });
    let fault = shared.lock().faults.take_http(order_id);
    let (index, chaos) = match &shared.chaos {
        Some(c) => c.http(order_id),
        None => (0, None),
    };
    if let (None, Some(chaos)) = (fault, chaos) {
        shared.stats_mut(|s| s.chaos_faults += 1);
        match chaos {
            HttpChaos::Error { status, echo } => {
                return Outcome::Respond(if echo {
                    echo_error(status, bearer_token(request))
                } else {
                    error_response(status)
                })
            }
            HttpChaos::NotFoundLag => return Outcome::Respond(error_response(404)),
            HttpChaos::RateLimit(value) => {
                return Outcome::Respond(error_response(429).with_header("Retry-After", value))
            }
            HttpChaos::Drop => return Outcome::Drop,
            HttpChaos::Delay(delay) => tokio::time::sleep(delay).await,
        }
    }
    match fault {
        Some(HttpFault::Error(status)) => return Outcome::Respond(error_response(status)),
        Some(HttpFault::RateLimit(secs)) => {
            return Outcome::Respond(
                error_response(429).with_header("Retry-After", secs.to_string()),
            )
        }
        Some(HttpFault::Drop) => return Outcome::Drop,
        Some(HttpFault::Delay(delay)) => tokio::time::sleep(delay).await,
        None => {}
    }
    let token = bearer_token(request);
    let state = shared.lock();
    let response = if token.is_empty() {
        Response::json(401, NO_AUTH)
    } else if state.expired_tokens.contains(token) {
        Response::json(401, EXPIRED)
    } else if project_id != shared.config.project_id {
        Response::json(404, NOT_FOUND)
    } else {
        match state.orders.get(&order_id) {
            None => Response::json(404, NOT_FOUND),
            Some(order) => {
                let (status, extra) = match &shared.chaos {
                    Some(c) => c.body(order_id, index, &order.status),
                    None => (order.status.clone(), ""),
                };
                Response::json(
                    200,
                    format!(
                        r#"{{"order_id":{order_id},"status":{},"content":{}{extra}}}"#,
                        serde_json::Value::String(status),
                        order.contents
                    ),
                )
            }
        }
    };
    Outcome::Respond(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_paths() {
        let _watchdog = crate::test_watchdog::arm();
        assert_eq!(
            parse_order_path("/api/v2/project/1001/order/42"),
            Some((1001, 42))
        );
        assert_eq!(parse_order_path("/api/v2/project/1001/order/x"), None);
        assert_eq!(parse_order_path("/api/v2/project/1001/order/42/x"), None);
        assert_eq!(parse_order_path("/api/v3/project/1/order/2"), None);
    }

    #[test]
    fn error_bodies_are_json_with_the_status() {
        let _watchdog = crate::test_watchdog::arm();
        for status in [400, 401, 404, 422, 429, 500, 502, 503] {
            let response = error_response(status);
            let body: serde_json::Value =
                serde_json::from_slice(&response.body).expect("JSON body");
            assert_eq!(body["statusCode"], serde_json::json!(status));
            assert_eq!(response.status, status);
        }
    }
}
