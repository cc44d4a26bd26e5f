//! A process function's output: its stdout and stderr share the write end of one pipe (so their
//! lines interleave in the order the function wrote them, as in one CloudWatch stream), and the
//! engine reads the other end.
//!
//! Guarantee: no output is lost and nothing waits on wall time. A background task reads whenever
//! the pipe is readable (so a chatty function never blocks on a full pipe), and
//! [`Output::flush`] reads everything already written, without blocking: non-blocking reads until
//! the pipe is empty. The engine calls it when the runtime's `/response` or `/error` POST
//! (or the process's exit) ends an invocation — everything the function wrote before that POST
//! is in the pipe by then, because its writes returned before it sent the request — so an
//! invocation's log holds exactly what the function printed up to its answer.

use std::io::ErrorKind;
use std::os::fd::OwnedFd;
use std::process::Stdio;
use std::sync::Arc;

use parking_lot::Mutex;
use rustix::io::Errno;
use tokio::net::unix::pipe::Receiver;

use crate::logs::Line;

/// Lines kept while nobody takes them (a function printing between invocations); the oldest
/// are dropped past this, as a log group drops its oldest events.
const MAX_PENDING_LINES: usize = 10_000;
/// A line is cut at CloudWatch's largest event (256 KB).
const MAX_LINE_BYTES: usize = 262_144;

#[derive(Default)]
struct State {
    partial: Vec<u8>,
    lines: Vec<String>,
    eof: bool,
}

impl State {
    fn push_line(&mut self, raw: &[u8]) {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if self.lines.len() == MAX_PENDING_LINES {
            self.lines.remove(0);
        }
        self.lines.push(String::from_utf8_lossy(raw).into_owned());
    }

    fn feed(&mut self, mut data: &[u8]) {
        while let Some(i) = data.iter().position(|&b| b == b'\n') {
            if self.partial.is_empty() {
                self.push_line(&data[..i]);
            } else {
                self.partial.extend_from_slice(&data[..i]);
                let line = std::mem::take(&mut self.partial);
                self.push_line(&line);
            }
            data = &data[i + 1..];
        }
        self.partial.extend_from_slice(data);
        if self.partial.len() >= MAX_LINE_BYTES {
            let line = std::mem::take(&mut self.partial);
            self.push_line(&line);
        }
    }
}

/// The engine's end of a process's output.
pub(crate) struct Output {
    pipe: Arc<Receiver>,
    state: Arc<Mutex<State>>,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for Output {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// Reads until the pipe is empty (`Err(WouldBlock)`) or closed (`Ok`), holding the state lock
/// so that reads from the background task and from [`Output::flush`] never reorder bytes. The
/// reads are plain non-blocking `read(2)` calls, so they see every byte already queued whatever
/// Tokio's cached readiness says.
fn drain(pipe: &Receiver, state: &Mutex<State>) -> std::io::Result<()> {
    let mut st = state.lock();
    if st.eof {
        return Ok(());
    }
    let mut buf = [0u8; 16 * 1024];
    loop {
        match rustix::io::read(pipe, &mut buf[..]) {
            Ok(0) => {
                st.eof = true;
                return Ok(());
            }
            Ok(n) => st.feed(&buf[..n]),
            Err(Errno::INTR) => {}
            Err(e) => return Err(std::io::Error::from(e)),
        }
    }
}

impl Output {
    /// A pipe: the returned `Stdio`s go to the child as stdout and stderr.
    pub(crate) fn capture() -> std::io::Result<(Output, Stdio, Stdio)> {
        let (ours, theirs) = std::io::pipe()?;
        let stderr = Stdio::from(theirs.try_clone()?);
        let stdout = Stdio::from(theirs);
        Ok((Output::reading(ours)?, stdout, stderr))
    }

    /// Reads `ours` in the background from now on.
    fn reading(ours: std::io::PipeReader) -> std::io::Result<Output> {
        // Tokio checks it is a pipe and makes it non-blocking.
        let pipe = Arc::new(Receiver::from_owned_fd(OwnedFd::from(ours))?);
        let state = Arc::new(Mutex::new(State::default()));
        let reader = tokio::spawn({
            let pipe = Arc::clone(&pipe);
            let state = Arc::clone(&state);
            async move {
                loop {
                    if pipe.readable().await.is_err() {
                        return;
                    }
                    match pipe.try_io(|| drain(&pipe, &state)) {
                        // Drained to empty: readiness is cleared, wait for more.
                        Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
                        // Closed, or a read error: nothing more will come.
                        _ => return,
                    }
                }
            }
        });
        Ok(Output {
            pipe,
            state,
            reader,
        })
    }

    /// Reads everything written so far (see the module docs) and moves it into `lines`; a last
    /// line without its newline is taken too.
    pub(crate) fn flush(&self, lines: &mut Vec<Line>) {
        let _ = drain(&self.pipe, &self.state);
        self.take(lines);
    }

    /// Moves the lines read so far into `lines`, without reading.
    pub(crate) fn take(&self, lines: &mut Vec<Line>) {
        let mut st = self.state.lock();
        if !st.partial.is_empty() {
            let line = std::mem::take(&mut st.partial);
            st.push_line(&line);
        }
        lines.extend(st.lines.drain(..).map(Line::Text));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_on_newlines_across_reads() {
        let mut st = State::default();
        st.feed(b"one\ntw");
        st.feed(b"o\r\nthree");
        assert_eq!(st.lines, vec!["one", "two"]);
        assert_eq!(st.partial, b"three");
    }

    #[tokio::test]
    async fn flush_reads_everything_already_written() {
        use std::io::Write;
        let (ours, mut theirs) = std::io::pipe().unwrap();
        let out = Output::reading(ours).unwrap();
        // A write returns once its bytes are queued at the other end: flush must see them all,
        // whether or not the background reader has run.
        for i in 0..100 {
            writeln!(theirs, "line {i}").unwrap();
        }
        theirs.write_all(b"no newline").unwrap();
        let mut lines = Vec::new();
        out.flush(&mut lines);
        let text: Vec<String> = lines.iter().map(Line::render).collect();
        assert_eq!(text.len(), 101);
        assert_eq!(text[99], "line 99");
        assert_eq!(text[100], "no newline");
    }
}
