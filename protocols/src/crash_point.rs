//! Crash points as types, declared where they are emitted.
//!
//! A node names a protocol point with [`sim_core::Context::mark`]; fault plans crash a node
//! the n-th time it emits one. Each role declares its points with [`crash_points!`] in the
//! file that emits them, so the list a study or a search crashes at can never drift from the
//! code: the enum is the only way to spell a mark, and its `NAMES` are what the family's
//! [`crate::family::RoleSpec`] publishes.

/// Declares a role's crash points: an enum whose variants are the marks the role emits,
/// each with its name in traces and fault plans, plus `ALL`/`NAMES` in declaration order
/// (protocol order for the normal path).
#[macro_export]
macro_rules! crash_points {
    ($(#[$m:meta])* $vis:vis enum $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        $vis enum $name { $($(#[$vm])* $v),* }

        #[allow(dead_code)]
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v),*];
            pub const NAMES: &'static [&'static str] = &[$($s),*];
            /// The mark's name, as traces and fault plans spell it.
            pub const fn name(self) -> &'static str {
                match self { $($name::$v => $s),* }
            }
        }
    };
}
