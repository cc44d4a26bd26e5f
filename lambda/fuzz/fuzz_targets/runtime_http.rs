#![no_main]
//! The Runtime API's HTTP/1.1 reader: any byte stream, delivered in reads of any size, yields
//! requests or a typed error, never a panic, and a kept body never exceeds the limit.
use libfuzzer_sys::fuzz_target;
use nubis_lambda::process::http1::{Body, Connection};
use std::io::{self, Read};

/// Hands out the input in reads of `step` bytes.
struct Trickle<'a>(&'a [u8], usize);
impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.0.len().min(self.1).min(buf.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else { return };
    let step = usize::from(first % 64) + 1;
    let limit = usize::from(first);
    let mut c = Connection::new(Trickle(rest, step));
    while let Ok(Some(head)) = c.read_head() {
        match c.read_body(&head, limit, &mut io::sink()) {
            Ok(Body::Complete(b)) => assert!(b.len() <= limit),
            Ok(Body::TooLarge) => {}
            Err(_) => break,
        }
        if !c.reusable() {
            break;
        }
    }
});
