//! [`Router`]: maps `ChatRequest::model` to a [`Route`].

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tollgate_core::{ChatReply, ChatRequest, Error, ErrorKind};
use tower::Service;

use crate::ConfigError;
use crate::health::HealthSnapshot;
use crate::route::Route;

/// Maps the model a caller asks for to the route of that name.
///
/// An unknown name answers [`ErrorKind::NotFound`] listing the known routes. It is a
/// `tower::Service<ChatRequest, Response = ChatReply, Error = tollgate_core::Error>`,
/// cheap to clone.
#[derive(Debug, Clone)]
pub struct Router {
    routes: Arc<BTreeMap<String, Route>>,
}

impl Router {
    /// Starts building a router.
    pub fn builder() -> RouterBuilder {
        RouterBuilder::default()
    }

    /// The route called `name`.
    pub fn route(&self, name: &str) -> Option<&Route> {
        self.routes.get(name)
    }

    /// Every route, by name.
    pub fn routes(&self) -> impl Iterator<Item = &Route> {
        self.routes.values()
    }

    /// Every route's deployments' health, by route name.
    pub fn health(&self) -> BTreeMap<String, Vec<HealthSnapshot>> {
        self.routes
            .iter()
            .map(|(name, route)| (name.clone(), route.health()))
            .collect()
    }
}

impl Service<ChatRequest> for Router {
    type Response = ChatReply;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<ChatReply, Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: ChatRequest) -> Self::Future {
        match self.routes.get(&request.model) {
            Some(route) => route.clone().call(request),
            None => {
                let known: Vec<&str> = self.routes.keys().map(String::as_str).collect();
                let error = Error::new(
                    ErrorKind::NotFound,
                    format!(
                        "no route named `{}`; known routes: {}",
                        request.model,
                        known.join(", ")
                    ),
                );
                Box::pin(std::future::ready(Err(error)))
            }
        }
    }
}

/// Builds a [`Router`].
#[derive(Debug, Default)]
pub struct RouterBuilder {
    routes: Vec<Route>,
}

impl RouterBuilder {
    /// Adds a route.
    pub fn route(mut self, route: Route) -> Self {
        self.routes.push(route);
        self
    }

    /// Builds the router.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] when two routes share a name.
    pub fn build(self) -> Result<Router, ConfigError> {
        let mut routes = BTreeMap::new();
        for route in self.routes {
            let name = route.name().to_owned();
            if routes.insert(name.clone(), route).is_some() {
                return Err(ConfigError::invalid(format!(
                    "two routes are called `{name}`"
                )));
            }
        }
        Ok(Router {
            routes: Arc::new(routes),
        })
    }
}
