//! A panic caught as a finding prints nothing of its own on any thread, while a panic
//! outside [`catching`] still reaches the hook (the tool's own bugs stay loud). One test in
//! its own binary: the panic hook is process-wide. The threads are the test's subject (the
//! explorer's and the search's workers catch on their own threads), outside any run.

use std::sync::atomic::{AtomicUsize, Ordering};

use sim_core::quiet_panic::catching;

static HOOK_CALLS: AtomicUsize = AtomicUsize::new(0);

#[test]
fn caught_panics_are_silent_on_every_thread_and_others_still_reach_the_hook() {
    // Installed before `catching` wraps it, as the default hook is in the tool.
    std::panic::set_hook(Box::new(|_| {
        HOOK_CALLS.fetch_add(1, Ordering::SeqCst);
    }));
    let on_worker = std::thread::spawn(|| catching(|| -> u32 { panic!("on a worker") }))
        .join()
        .expect("the worker's panic was caught");
    assert_eq!(on_worker, Err("on a worker".to_string()));
    let formatted = catching(|| -> u32 { panic!("node {} asserted", 3) });
    assert_eq!(formatted, Err("node 3 asserted".to_string()));
    assert_eq!(catching(|| 7), Ok(7));
    assert_eq!(HOOK_CALLS.load(Ordering::SeqCst), 0, "a caught panic reached the hook");
    let loud = std::thread::spawn(|| panic!("a bug of the tool")).join();
    assert!(loud.is_err());
    assert_eq!(HOOK_CALLS.load(Ordering::SeqCst), 1, "an uncaught panic still reaches the hook");
}
