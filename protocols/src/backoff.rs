//! Bounded exponential backoff for every retry loop (decision re-sends, termination queries,
//! client retries): the delay doubles per attempt up to a cap, and attempts stop at a limit,
//! so no loop can flood the network or run forever.

use serde::{Deserialize, Serialize};
use sim_core::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Backoff {
    pub initial_us: u64,
    pub max_us: u64,
    /// Attempts after which the loop gives up (a run's horizon usually ends it first).
    pub max_attempts: u32,
}

impl Backoff {
    pub const fn new(initial_us: u64, max_us: u64) -> Backoff {
        Backoff { initial_us, max_us, max_attempts: 10_000 }
    }

    /// Delay before retry number `attempt` (0-based), or `None` once the budget is spent.
    pub fn delay(&self, attempt: u32) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        let factor = 1u64.checked_shl(attempt.min(32)).unwrap_or(u64::MAX);
        Some(Duration::from_us(self.initial_us.saturating_mul(factor).min(self.max_us)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_then_caps_then_stops() {
        let b = Backoff { initial_us: 10, max_us: 35, max_attempts: 5 };
        let d: Vec<_> = (0..6).map(|a| b.delay(a).map(|d| d.as_us())).collect();
        assert_eq!(d, [Some(10), Some(20), Some(35), Some(35), Some(35), None]);
    }
}
