//! Fault classes (what a user enables: `--faults crash,partition`) and fault kinds (the
//! actions a class lets a plan contain). One class may bring two kinds: a partition class
//! also brings the heal that undoes it, so a plan can both cut and repair.

use serde::{Deserialize, Serialize};

use crate::error::SimError;
use crate::fault::Action;

/// A kind of fault a plan may be drawn from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultClass {
    Crash,
    /// Crashed nodes come back (as a delay on the crash, or as a separate recover fault).
    Recover,
    Partition,
    OneWayCut,
    Drop,
    Duplicate,
    Delay,
    ClockDrift,
}

impl FaultClass {
    pub const ALL: [FaultClass; 8] = [
        FaultClass::Crash,
        FaultClass::Recover,
        FaultClass::Partition,
        FaultClass::OneWayCut,
        FaultClass::Drop,
        FaultClass::Duplicate,
        FaultClass::Delay,
        FaultClass::ClockDrift,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FaultClass::Crash => "crash",
            FaultClass::Recover => "recover",
            FaultClass::Partition => "partition",
            FaultClass::OneWayCut => "one-way-cut",
            FaultClass::Drop => "drop",
            FaultClass::Duplicate => "duplicate",
            FaultClass::Delay => "delay",
            FaultClass::ClockDrift => "clock-drift",
        }
    }

    pub fn parse(s: &str) -> Result<FaultClass, SimError> {
        FaultClass::ALL.into_iter().find(|c| c.name() == s).ok_or_else(|| {
            let known: Vec<&str> = FaultClass::ALL.iter().map(|c| c.name()).collect();
            SimError::invalid(
                "faults",
                format!("unknown fault class {s:?} (known: {})", known.join(", ")),
            )
        })
    }

    /// The kinds of action this class lets a plan contain.
    pub fn kinds(self) -> &'static [FaultKind] {
        match self {
            FaultClass::Crash => &[FaultKind::Crash],
            FaultClass::Recover => &[FaultKind::Recover],
            FaultClass::Partition => &[FaultKind::Partition, FaultKind::Heal],
            FaultClass::OneWayCut => &[FaultKind::CutOneWay, FaultKind::HealLink],
            FaultClass::Drop => &[FaultKind::Drop],
            FaultClass::Duplicate => &[FaultKind::Duplicate],
            FaultClass::Delay => &[FaultKind::Delay],
            FaultClass::ClockDrift => &[FaultKind::ClockDrift],
        }
    }
}

/// One kind of generated action; [`ActionDraw`](super::ActionDraw) carries its draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultKind {
    Crash,
    Recover,
    Partition,
    Heal,
    CutOneWay,
    HealLink,
    Drop,
    Duplicate,
    Delay,
    ClockDrift,
}

impl FaultKind {
    /// The kind of a plan's action; `None` for actions no sampler generates (`CutLink`, the
    /// marked actions).
    pub fn of(action: &Action) -> Option<FaultKind> {
        Some(match action {
            Action::Crash { .. } => FaultKind::Crash,
            Action::Recover { .. } => FaultKind::Recover,
            Action::Partition { .. } => FaultKind::Partition,
            Action::Heal => FaultKind::Heal,
            Action::CutOneWay { .. } => FaultKind::CutOneWay,
            Action::HealLink { .. } => FaultKind::HealLink,
            Action::SetDrop { .. } => FaultKind::Drop,
            Action::SetDuplicate { .. } => FaultKind::Duplicate,
            Action::SetLatency { .. } => FaultKind::Delay,
            Action::ClockDrift { .. } => FaultKind::ClockDrift,
            Action::CutLink { .. } | Action::CrashMarked { .. } | Action::IsolateMarked { .. } => {
                return None;
            }
        })
    }
}
