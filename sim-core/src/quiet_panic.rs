//! Panics caught and reported as findings print nothing of their own.
//!
//! Rust's default panic hook writes `thread 'main' panicked at ...` and a backtrace note to
//! stderr before any `catch_unwind` sees the panic. When a run or a search turns a node's
//! panic into a `no-panic` violation (with the message), that dump is noise beside the
//! report, and it reads like the tool crashed. [`catching`] silences the hook on the calling
//! thread only while it runs its closure: a panic anywhere else (another thread, or a bug of
//! the tool itself outside the closure) still prints as usual. It lives here, beside the
//! engine, because the explorer catches handlers' panics on its own worker threads.

use std::cell::Cell;
use std::sync::Once;

thread_local! {
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with this thread's panics silent. Private: only [`catching`] calls it, around a
/// `catch_unwind`, so `f` never unwinds past the flag's reset.
fn quietly<T>(f: impl FnOnce() -> T) -> T {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                previous(info);
            }
        }));
    });
    let was = QUIET.with(|q| q.replace(true));
    let out = f();
    QUIET.with(|q| q.set(was));
    out
}

/// Runs `f` quietly ([`quietly`]) and catches its panic: `Err` with the panic's message.
pub fn catching<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    quietly(|| std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))).map_err(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "a panic with no message".into())
    })
}
