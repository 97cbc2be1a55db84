//! Virtual time. A run never reads a wall clock: every instant is a count of simulated
//! microseconds since the run began, and every span is a count of microseconds.

use std::fmt;
use std::ops::{Add, Sub};

use serde::{Deserialize, Serialize};

/// An instant of simulated time, in microseconds since the start of the run.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Time(u64);

/// A span of simulated time, in microseconds.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Duration(u64);

impl Time {
    pub const ZERO: Time = Time(0);
    pub const MAX: Time = Time(u64::MAX);

    pub const fn from_us(us: u64) -> Time {
        Time(us)
    }
    pub const fn from_ms(ms: u64) -> Time {
        Time(ms * 1_000)
    }
    pub const fn from_secs(s: u64) -> Time {
        Time(s * 1_000_000)
    }
    pub const fn as_us(self) -> u64 {
        self.0
    }
    /// The span from `earlier` to `self`; zero if `earlier` is later.
    pub const fn since(self, earlier: Time) -> Duration {
        Duration(self.0.saturating_sub(earlier.0))
    }
}

impl Duration {
    pub const ZERO: Duration = Duration(0);

    pub const fn from_us(us: u64) -> Duration {
        Duration(us)
    }
    pub const fn from_ms(ms: u64) -> Duration {
        Duration(ms * 1_000)
    }
    pub const fn from_secs(s: u64) -> Duration {
        Duration(s * 1_000_000)
    }
    pub const fn as_us(self) -> u64 {
        self.0
    }
    pub fn as_ms_f64(self) -> f64 {
        self.0 as f64 / 1_000.0
    }
    /// Scales the span by `(1e6 + drift_ppm) / 1e6`, rounding down; integer arithmetic so
    /// every platform gets the same answer. `drift_ppm` > -1e6 is checked by plan validation.
    pub fn drifted(self, drift_ppm: i64) -> Duration {
        if drift_ppm == 0 {
            return self;
        }
        let scaled = (self.0 as i128) * (1_000_000 + drift_ppm as i128) / 1_000_000;
        Duration(scaled.clamp(0, u64::MAX as i128) as u64)
    }
}

impl Add<Duration> for Time {
    type Output = Time;
    fn add(self, d: Duration) -> Time {
        Time(self.0.saturating_add(d.0))
    }
}

impl Sub<Time> for Time {
    type Output = Duration;
    fn sub(self, earlier: Time) -> Duration {
        self.since(earlier)
    }
}

impl Add for Duration {
    type Output = Duration;
    fn add(self, o: Duration) -> Duration {
        Duration(self.0.saturating_add(o.0))
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}us", self.0)
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}us", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drift_scales_spans_exactly() {
        let d = Duration::from_ms(10);
        assert_eq!(d.drifted(0), d);
        assert_eq!(d.drifted(100_000).as_us(), 11_000);
        assert_eq!(d.drifted(-500_000).as_us(), 5_000);
    }

    #[test]
    fn time_arithmetic_saturates() {
        assert_eq!(Time::MAX + Duration::from_us(1), Time::MAX);
        assert_eq!(Time::from_us(5).since(Time::from_us(9)), Duration::ZERO);
        assert_eq!(Time::from_ms(2) - Time::from_ms(1), Duration::from_ms(1));
    }
}
