#![no_main]
//! The Runtime API's HTTP/1.1 reader: any byte stream, delivered in reads of any size, yields
//! requests or a typed error, never a panic, and a kept body never exceeds the limit.
use libfuzzer_sys::fuzz_target;
use nubis_lambda::process::http1::{Body, Connection};
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, ReadBuf};

/// Hands out the input in reads of `step` bytes.
struct Trickle<'a>(&'a [u8], usize);
impl AsyncRead for Trickle<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let n = self.0.len().min(self.1).min(buf.remaining());
        buf.put_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Poll::Ready(Ok(()))
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else { return };
    let step = usize::from(first % 64) + 1;
    let limit = usize::from(first);
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let mut c = Connection::new(tokio::io::join(Trickle(rest, step), tokio::io::sink()));
        while let Ok(Some(head)) = c.read_head().await {
            match c.read_body(&head, limit).await {
                Ok(Body::Complete(b)) => assert!(b.len() <= limit),
                Ok(Body::TooLarge) => {}
                Err(_) => break,
            }
            if !c.reusable() {
                break;
            }
        }
    });
});
