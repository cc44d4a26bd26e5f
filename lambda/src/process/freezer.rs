//! Freezing and memory figures of one process environment, shared by the engine and the
//! environment's Runtime API.
//!
//! Freezing follows AWS, amortised: an environment is frozen (`SIGSTOP` to its process group)
//! by its keeper task once it has been idle for `freeze_after` with its runtime waiting in
//! `next`, and thawed (`SIGCONT`) by the invocation that hands the runtime its next event — only
//! when the group is actually stopped, so back-to-back invocations send no signal. The freeze
//! happens under the Runtime API's slot lock while the `next` is parked there, and an invocation
//! takes it under the same lock before thawing, so a freeze can never overtake a thaw.
//!
//! Memory: `Max Memory Used` is the larger of the process's peak RSS (`VmHWM` of
//! `/proc/<pid>/status`, sampled by the keeper as it freezes, off the invocation's path) and its
//! resident set when the invocation ended (`/proc/<pid>/statm`, a few numbers, cheap to read on
//! the path).

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use rustix::process::{Pid, Signal};
use tokio::sync::watch;

struct Attached {
    pid: Pid,
    status: Option<File>,
    statm: Option<File>,
    exited: watch::Receiver<Option<String>>,
}

/// One environment's process controls.
pub(crate) struct Freezer {
    /// `LambdaConfig::freeze`.
    freezes: bool,
    attached: OnceLock<Attached>,
    frozen: AtomicBool,
    peak_kb: AtomicU64,
}

impl Freezer {
    pub(crate) fn new(freezes: bool) -> Self {
        Freezer {
            freezes,
            attached: OnceLock::new(),
            frozen: AtomicBool::new(false),
            peak_kb: AtomicU64::new(0),
        }
    }

    /// Connects the spawned process (once).
    pub(crate) fn attach(&self, pid: Pid, exited: watch::Receiver<Option<String>>) {
        let open = |file: &str| File::open(format!("/proc/{}/{file}", pid.as_raw_nonzero())).ok();
        let _ = self.attached.set(Attached {
            pid,
            status: open("status"),
            statm: open("statm"),
            exited,
        });
    }

    fn live(&self) -> Option<&Attached> {
        // Only while the leader lives: once it is reaped its group id may belong to someone else.
        self.attached.get().filter(|a| a.exited.borrow().is_none())
    }

    /// Stops the process group (the runtime waits for an event and none is there).
    pub(crate) fn freeze(&self) {
        if !self.freezes {
            return;
        }
        if let Some(a) = self.live()
            && rustix::process::kill_process_group(a.pid, Signal::STOP).is_ok()
        {
            self.frozen.store(true, Ordering::Release);
        }
    }

    /// Continues the process group, if it is stopped.
    pub(crate) fn thaw(&self) {
        if self.frozen.swap(false, Ordering::AcqRel)
            && let Some(a) = self.live()
        {
            let _ = rustix::process::kill_process_group(a.pid, Signal::CONT);
        }
    }

    /// Kills the process group (the environment is reclaimed).
    pub(crate) fn kill(&self) {
        if let Some(a) = self.live() {
            let _ = rustix::process::kill_process_group(a.pid, Signal::KILL);
        }
    }

    /// Whether the group is stopped now.
    #[cfg(test)]
    pub(crate) fn is_frozen(&self) -> bool {
        self.frozen.load(Ordering::Acquire)
    }

    /// Reads the peak RSS (`VmHWM`) into the running maximum.
    pub(crate) fn sample_peak(&self) {
        let Some(status) = self.attached.get().and_then(|a| a.status.as_ref()) else {
            return;
        };
        let mut buf = [0u8; 4096];
        let Ok(n) = status.read_at(&mut buf, 0) else {
            return;
        };
        if let Some(kb) = parse_vm_hwm(&buf[..n]) {
            self.peak_kb.fetch_max(kb, Ordering::AcqRel);
        }
    }

    /// `Max Memory Used` in MB, if the process can be measured.
    pub(crate) fn used_mb(&self) -> Option<u64> {
        let a = self.attached.get()?;
        let rss_kb = a.statm.as_ref().and_then(|f| {
            let mut buf = [0u8; 128];
            let n = f.read_at(&mut buf, 0).ok()?;
            parse_statm_rss_kb(&buf[..n], rustix::param::page_size() as u64)
        });
        let peak = self.peak_kb.load(Ordering::Acquire);
        match (rss_kb, peak) {
            (None, 0) => None,
            (rss, peak) => Some(rss.unwrap_or(0).max(peak).div_ceil(1024)),
        }
    }
}

/// `VmHWM` in KB from the text of `/proc/<pid>/status`.
pub(crate) fn parse_vm_hwm(status: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(status).ok()?;
    let line = text.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The resident set in KB from the text of `/proc/<pid>/statm` (its second field, in pages).
pub(crate) fn parse_statm_rss_kb(statm: &[u8], page_size: u64) -> Option<u64> {
    let text = std::str::from_utf8(statm).ok()?;
    let pages: u64 = text.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages.saturating_mul(page_size) / 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_figures() {
        let status =
            b"Name:\tbootstrap\nVmPeak:\t  10000 kB\nVmHWM:\t    2048 kB\nVmRSS:\t 1024 kB\n";
        assert_eq!(parse_vm_hwm(status), Some(2048));
        assert_eq!(parse_vm_hwm(b"Name: x\n"), None);
        assert_eq!(
            parse_statm_rss_kb(b"1000 300 20 1 0 50 0\n", 4096),
            Some(1200)
        );
        assert_eq!(parse_statm_rss_kb(b"1000\n", 4096), None);
        assert_eq!(parse_statm_rss_kb(b"\xff\xfe", 4096), None);
    }

    #[test]
    fn unattached_freezer_does_nothing() {
        let f = Freezer::new(true);
        f.freeze();
        assert!(!f.is_frozen());
        f.thaw();
        f.sample_peak();
        assert_eq!(f.used_mb(), None);
    }
}
