//! Busy waiting after network output, as BEAM's schedulers do (`+sbwt`): for a short while
//! after a node's connections last wrote, one task keeps a runtime worker awake instead of
//! letting it sleep in `epoll_wait`. A sleeping CPU is woken by an interrupt when the next
//! packet arrives, and on a virtual machine that wake-up costs tens of microseconds, more than
//! the whole round trip it delays; a worker that is still polling sees the packet at once.
//! Only writes count: a node that wrote (a request, a reply) expects an answer or the next
//! request, while a node that only reads (a sink) is busy with its input anyway and would
//! merely take CPU time from its peer on the same machine (measured: BEAM->ferl (b) fell by a
//! fifth when reads counted too).
//!
//! How: the spinner task yields in a loop. Each yield lets the tokio worker run whatever is
//! ready and poll its I/O driver without blocking, so readiness is noticed as soon as it exists;
//! `std::thread::yield_now` in between hands the CPU to any other runnable thread, so a busy
//! thread on the same CPU loses only the spinner's own short turns. Once nothing has been
//! written for the window, the spinner sleeps until the next write wakes it. Connections report
//! writes with `BusyWait::touch`: one relaxed load in the common case.

use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// No activity since the spinner last looked.
const QUIET: u8 = 0;
/// A connection wrote since the spinner last looked.
const ACTIVE: u8 = 1;
/// The spinner is asleep: the next `touch` wakes it.
const ASLEEP: u8 = 2;
/// Every handle is gone: the spinner ends.
const STOPPED: u8 = 3;

/// A node's busy-wait: the handle its connections share (through `ConnectionConfig`). The
/// spinner task ends when the last handle is dropped.
pub struct BusyWait {
    shared: Arc<State>,
    window: Duration,
}

struct State {
    state: AtomicU8,
    wake: Notify,
}

impl fmt::Debug for BusyWait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BusyWait({:?})", self.window)
    }
}

impl BusyWait {
    /// Spawns the spinner on the current tokio runtime: after activity it spins for `window`.
    pub fn start(window: Duration) -> Arc<BusyWait> {
        let shared = Arc::new(State {
            state: AtomicU8::new(ASLEEP),
            wake: Notify::new(),
        });
        tokio::spawn(spin(shared.clone(), window));
        Arc::new(BusyWait { shared, window })
    }

    /// Network activity: a write completed. Called on every one, so the common case (the state
    /// already says so) is a plain load.
    #[inline]
    pub fn touch(&self) {
        let s = &self.shared;
        if s.state.load(Ordering::Relaxed) != ACTIVE
            && s.state.swap(ACTIVE, Ordering::AcqRel) == ASLEEP
        {
            s.wake.notify_one();
        }
    }

    /// Whether the spinner is awake (activity within the window), rather than asleep.
    pub fn is_spinning(&self) -> bool {
        matches!(self.shared.state.load(Ordering::Acquire), QUIET | ACTIVE)
    }

    /// The spin window.
    pub fn window(&self) -> Duration {
        self.window
    }
}

impl Drop for BusyWait {
    fn drop(&mut self) {
        self.shared.state.store(STOPPED, Ordering::Release);
        self.shared.wake.notify_one();
    }
}

/// Spins while there was activity in the last `window`, sleeps otherwise, ends once stopped.
async fn spin(s: Arc<State>, window: Duration) {
    loop {
        // Asleep until a connection is active (a permit stored by an earlier `touch` counts).
        match s
            .state
            .compare_exchange(QUIET, ASLEEP, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) | Err(ASLEEP) => s.wake.notified().await,
            Err(_) => {}
        }
        let mut last = Instant::now();
        loop {
            match s.state.load(Ordering::Acquire) {
                STOPPED => return,
                ACTIVE => {
                    // Only this task clears ACTIVE; a `touch` racing with it sets it again.
                    let _ = s.state.compare_exchange(
                        ACTIVE,
                        QUIET,
                        Ordering::AcqRel,
                        Ordering::Acquire,
                    );
                    last = Instant::now();
                }
                _ if last.elapsed() >= window => break,
                _ => {}
            }
            tokio::task::yield_now().await;
            std::thread::yield_now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn until(s: &State, want: u8) {
        let wait = async {
            while s.state.load(Ordering::Acquire) != want {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(5), wait)
            .await
            .unwrap_or_else(|_| panic!("state {want} not reached"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn spins_after_activity_sleeps_when_quiet_and_ends_with_its_handle() {
        let b = BusyWait::start(Duration::from_millis(20));
        let s = b.shared.clone();
        until(&s, ASLEEP).await;
        // Activity wakes it; the spinning loop consumes it (ACTIVE -> QUIET).
        b.touch();
        until(&s, QUIET).await;
        // Quiet for longer than the window: asleep again; and activity wakes it again.
        until(&s, ASLEEP).await;
        b.touch();
        until(&s, QUIET).await;
        // The last handle gone: the spinner task ends (it held the only other reference).
        drop(b);
        let ended = async {
            while Arc::strong_count(&s) > 1 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(5), ended)
            .await
            .expect("the spinner ended");
    }
}
