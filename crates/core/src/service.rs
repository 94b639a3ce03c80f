//! The service contract every provider client and every routed stack implements, and the
//! [`Client`] facade over it.

use tower::util::BoxCloneSyncService;
use tower::{Service, ServiceExt};

use crate::error::Error;
use crate::request::ChatRequest;
use crate::response::{ChatResponse, ReplyMeta};
use crate::stream::ChatStream;

/// What a chat service answers: a complete response or a stream, as the request's
/// `stream` flag asked.
#[derive(Debug)]
pub enum ChatReply {
    /// The whole answer at once.
    Complete(ChatResponse),
    /// The answer as a stream of events, whose first event has already arrived.
    Stream(ChatStream),
}

impl ChatReply {
    /// Who answered.
    pub fn meta(&self) -> &ReplyMeta {
        match self {
            Self::Complete(response) => &response.meta,
            Self::Stream(stream) => stream.meta(),
        }
    }

    /// Who answered, for layers that add routing facts.
    pub fn meta_mut(&mut self) -> &mut ReplyMeta {
        match self {
            Self::Complete(response) => &mut response.meta,
            Self::Stream(stream) => stream.meta_mut(),
        }
    }

    /// The complete response, reading the stream to its end if it is one.
    ///
    /// # Errors
    ///
    /// A stream's error item, or a decode error if it ended without finishing.
    pub async fn into_response(self) -> Result<ChatResponse, Error> {
        match self {
            Self::Complete(response) => Ok(response),
            Self::Stream(stream) => stream.collect().await,
        }
    }

    /// The reply as a stream, replaying a complete response if it is one.
    pub fn into_stream(self) -> ChatStream {
        match self {
            Self::Complete(response) => ChatStream::from_response(response),
            Self::Stream(stream) => stream,
        }
    }
}

/// The contract of every provider client and routed stack:
/// `tower::Service<ChatRequest, Response = ChatReply, Error = tollgate_core::Error>`,
/// cloneable, shareable across threads, with a `Send` future.
///
/// It is implemented for every type that meets those bounds; it exists so signatures can
/// say `S: ChatService` instead of repeating them.
pub trait ChatService:
    Service<ChatRequest, Response = ChatReply, Error = Error, Future: Send + 'static>
    + Clone
    + Send
    + Sync
    + 'static
{
}

impl<S> ChatService for S where
    S: Service<ChatRequest, Response = ChatReply, Error = Error, Future: Send + 'static>
        + Clone
        + Send
        + Sync
        + 'static
{
}

/// A type-erased [`ChatService`], for stacks that mix providers.
pub type BoxChatService = BoxCloneSyncService<ChatRequest, ChatReply, Error>;

/// Erases a service's type.
pub fn boxed<S: ChatService>(service: S) -> BoxChatService {
    BoxCloneSyncService::new(service)
}

/// A thin facade over any [`ChatService`] with `chat()` and `stream()`.
///
/// ```no_run
/// # async fn demo(service: tollgate_core::BoxChatService) -> Result<(), tollgate_core::Error> {
/// use tollgate_core::{ChatRequest, Client};
///
/// let client = Client::new(service);
/// let response = client.chat(ChatRequest::new("gpt-4o-mini").user("Hi")).await?;
/// println!("{}", response.text());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Client<S = BoxChatService> {
    service: S,
}

impl<S: ChatService> Client<S> {
    /// Wraps a service.
    pub fn new(service: S) -> Self {
        Self { service }
    }

    /// The wrapped service.
    pub fn service(&self) -> &S {
        &self.service
    }

    /// Sends the request as it is (its `stream` flag decides the reply's form).
    ///
    /// # Errors
    ///
    /// Whatever the service fails with.
    pub async fn call(&self, request: ChatRequest) -> Result<ChatReply, Error> {
        self.service.clone().oneshot(request).await
    }

    /// Asks for a complete answer.
    ///
    /// # Errors
    ///
    /// Whatever the service fails with.
    pub async fn chat(&self, mut request: ChatRequest) -> Result<ChatResponse, Error> {
        request.stream = false;
        self.call(request).await?.into_response().await
    }

    /// Asks for a stream; resolves when its first event has arrived.
    ///
    /// # Errors
    ///
    /// Any failure before the first event.
    pub async fn stream(&self, mut request: ChatRequest) -> Result<ChatStream, Error> {
        request.stream = true;
        Ok(self.call(request).await?.into_stream())
    }
}
