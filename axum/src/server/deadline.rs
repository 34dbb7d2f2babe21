//! A request body that must arrive whole by a deadline: a client that sends
//! one byte every few seconds would otherwise hold its connection (and its
//! buffer) forever, since every byte resets an idle timer.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use axum::body::Bytes;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep};

use crate::BodyTimeout;

pin_project! {
    /// `B`, failing with [`BodyTimeout`] once `deadline` passes while
    /// waiting for bytes. The timer is armed only when the body first has
    /// to wait, so a body that arrives with its headers costs no timer.
    pub(crate) struct DeadlineBody<B> {
        #[pin]
        body: B,
        deadline: Instant,
        #[pin]
        sleep: Option<Sleep>,
    }
}

impl<B> DeadlineBody<B> {
    pub(crate) fn new(body: B, deadline: Instant) -> Self {
        Self { body, deadline, sleep: None }
    }
}

impl<B> Body for DeadlineBody<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<axum::BoxError>,
{
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::BoxError>>> {
        let mut this = self.project();
        if let Poll::Ready(frame) = this.body.poll_frame(cx) {
            return Poll::Ready(frame.map(|frame| frame.map_err(Into::into)));
        }
        if this.sleep.is_none() {
            this.sleep.set(Some(tokio::time::sleep_until(*this.deadline)));
        }
        match this.sleep.as_pin_mut().map(|sleep| sleep.poll(cx)) {
            Some(Poll::Ready(())) => Poll::Ready(Some(Err(Box::new(BodyTimeout)))),
            _ => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
