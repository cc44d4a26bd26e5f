//! The response body every service returns: whole bytes, or a stream (S3 Select's event stream,
//! large objects).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::Stream;
use futures::stream::BoxStream;
use http_body::Frame;

/// A response body.
pub enum Body {
    /// The whole body, already in memory.
    Full(Bytes),
    /// A body produced piece by piece. An `Err` item ends the response abruptly, so streams that
    /// can fail mid-way (S3 Select) report errors as events instead.
    Stream(BoxStream<'static, Result<Bytes, std::io::Error>>),
}

impl Body {
    /// An empty body.
    pub fn empty() -> Self {
        Body::Full(Bytes::new())
    }

    /// A streamed body.
    pub fn stream(s: impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static) -> Self {
        Body::Stream(Box::pin(s))
    }

    /// The bytes of a [`Body::Full`], or `None` for a stream.
    pub fn as_bytes(&self) -> Option<&Bytes> {
        match self {
            Body::Full(b) => Some(b),
            Body::Stream(_) => None,
        }
    }
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Body::Full(b) => f.debug_tuple("Full").field(&b.len()).finish(),
            Body::Stream(_) => f.write_str("Stream"),
        }
    }
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Self {
        Body::Full(b)
    }
}

impl From<Vec<u8>> for Body {
    fn from(b: Vec<u8>) -> Self {
        Body::Full(Bytes::from(b))
    }
}

impl From<String> for Body {
    fn from(s: String) -> Self {
        Body::Full(Bytes::from(s))
    }
}

impl From<&'static str> for Body {
    fn from(s: &'static str) -> Self {
        Body::Full(Bytes::from_static(s.as_bytes()))
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.get_mut() {
            Body::Full(b) => {
                if b.is_empty() {
                    Poll::Ready(None)
                } else {
                    Poll::Ready(Some(Ok(Frame::data(std::mem::take(b)))))
                }
            }
            Body::Stream(s) => s
                .as_mut()
                .poll_next(cx)
                .map(|o| o.map(|r| r.map(Frame::data))),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Body::Full(b) if b.is_empty())
    }

    fn size_hint(&self) -> http_body::SizeHint {
        match self {
            Body::Full(b) => http_body::SizeHint::with_exact(b.len() as u64),
            Body::Stream(_) => http_body::SizeHint::default(),
        }
    }
}
