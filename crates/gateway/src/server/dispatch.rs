//! The service the listener serves: chat completions straight to their handler, every
//! other request through axum's router.
//!
//! Nearly every request a gateway gets is `POST /v1/chat/completions`. Through axum's
//! router such a request paid for a path lookup, a URL-parameter map inserted into its
//! extensions, a boxed clone of the route's service and its `oneshot`: ~2,600
//! instructions and four allocations, 3.5% of a proxied request
//! (`docs/benchmarks.md`). [`Dispatch`] checks the method and path itself and calls
//! [`chat_completions`] directly; the router (which serves the same paths, so nothing
//! depends on this shortcut) answers everything else, 404s and 405s included.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::Router;
use axum::extract::{Request, State};
use axum::response::Response;
use http::Method;
use tower::Service;

use super::app;
use super::chat::chat_completions;
use crate::state::SharedState;

/// The paths chat completions are served on (with `POST`).
const CHAT_PATHS: [&str; 2] = ["/v1/chat/completions", "/chat/completions"];

/// [`app`], with chat completions handed straight to their handler.
#[derive(Clone)]
pub struct Dispatch {
    shared: SharedState,
    router: Router,
}

impl Dispatch {
    /// The service for `shared`.
    pub fn new(shared: SharedState) -> Self {
        Self {
            router: app(shared.clone()),
            shared,
        }
    }
}

impl Service<Request> for Dispatch {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // Neither the handler nor axum's router ever waits to be ready.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if request.method() == Method::POST && CHAT_PATHS.contains(&request.uri().path()) {
            let shared = self.shared.clone();
            Box::pin(async move { Ok(chat_completions(State(shared), request).await) })
        } else {
            Box::pin(self.router.call(request))
        }
    }
}
