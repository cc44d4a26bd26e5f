//! A per-thread hook the engine runs when a statement is about to sleep in a row-lock wait (see
//! [`crate::locks`]): the cluster layer uses it to give up its instance's execution lock for the
//! wait, so the lock holder's next statement on the same instance can run.
//!
//! Guarantee: a hook runs at most once, on the thread that installed it, and only while
//! [`with_hook`]'s closure runs; with no hook installed nothing happens.

use std::cell::RefCell;

thread_local! {
    static HOOK: RefCell<Option<Box<dyn Fn()>>> = const { RefCell::new(None) };
}

/// Runs `f` with `hook` installed for this thread.
pub fn with_hook<R>(hook: impl Fn() + 'static, f: impl FnOnce() -> R) -> R {
    let previous = HOOK.with(|h| h.borrow_mut().replace(Box::new(hook)));
    let r = f();
    HOOK.with(|h| *h.borrow_mut() = previous);
    r
}

/// Runs (and removes) this thread's hook, if one is installed.
pub(crate) fn before_sleep() {
    if let Some(hook) = HOOK.with(|h| h.borrow_mut().take()) {
        hook();
    }
}
