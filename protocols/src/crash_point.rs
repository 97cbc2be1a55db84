//! Crash points as types, declared where they are emitted.
//!
//! A node names a protocol point with [`sim_core::Context::mark`]; fault plans crash a node
//! the n-th time it emits one. Each role declares its points with [`crash_points!`] in the
//! file that emits them, so the list a study or a search crashes at can never drift from the
//! code: the enum is the only way to spell a mark, and its `NAMES` are what the family's
//! [`crate::family::RoleSpec`] publishes.
//!
//! A mark's name is its variant's name in kebab-case (`AllVotesIn` → `all-votes-in`), worked
//! out at compile time: there is no second spelling to keep in step with the first.

/// Declares a role's crash points: an enum whose variants are the marks the role emits, plus
/// `ALL`/`NAMES` in declaration order (protocol order for the normal path). Each mark is
/// spelled in traces and fault plans as its variant's name in kebab-case.
///
/// ```
/// protocols::crash_points! {
///     /// A coordinator's crash points.
///     pub enum Point { PrepareSent, AllVotesIn, Phase2bSent }
/// }
/// assert_eq!(Point::NAMES, ["prepare-sent", "all-votes-in", "phase2b-sent"]);
/// assert_eq!(Point::AllVotesIn.name(), "all-votes-in");
/// ```
#[macro_export]
macro_rules! crash_points {
    ($(#[$m:meta])* $vis:vis enum $name:ident { $($(#[$vm:meta])* $v:ident),* $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        $vis enum $name { $($(#[$vm])* $v),* }

        #[allow(dead_code)]
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v),*];
            pub const NAMES: &'static [&'static str] = &[$($name::$v.name()),*];
            /// The mark's name, as traces and fault plans spell it.
            pub const fn name(self) -> &'static str {
                match self {
                    $($name::$v => {
                        const LEN: usize = $crate::crash_point::kebab_len(stringify!($v));
                        const BYTES: [u8; LEN] = $crate::crash_point::kebab(stringify!($v));
                        const NAME: &str = $crate::crash_point::ascii(&BYTES);
                        NAME
                    })*
                }
            }
        }
    };
}

/// The length of `camel` in kebab-case: one more byte per capital after the first.
#[doc(hidden)]
pub const fn kebab_len(camel: &str) -> usize {
    let bytes = camel.as_bytes();
    let mut len = bytes.len();
    let mut i = 1;
    while i < bytes.len() {
        if bytes[i].is_ascii_uppercase() {
            len += 1;
        }
        i += 1;
    }
    len
}

/// `camel` in kebab-case: a dash before each capital but the first, every capital lowered.
/// Digits stay with the word before them (`Phase1Started` → `phase1-started`).
#[doc(hidden)]
pub const fn kebab<const LEN: usize>(camel: &str) -> [u8; LEN] {
    let bytes = camel.as_bytes();
    let mut out = [0u8; LEN];
    let mut i = 0;
    let mut o = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        assert!(byte.is_ascii_alphanumeric(), "a crash point is an ASCII identifier");
        if byte.is_ascii_uppercase() && i > 0 {
            out[o] = b'-';
            o += 1;
        }
        out[o] = byte.to_ascii_lowercase();
        o += 1;
        i += 1;
    }
    assert!(o == LEN, "kebab_len and kebab agree");
    out
}

/// The kebab-case bytes as a string (they are ASCII by construction).
#[doc(hidden)]
pub const fn ascii(bytes: &'static [u8]) -> &'static str {
    match core::str::from_utf8(bytes) {
        Ok(name) => name,
        Err(_) => panic!("a crash point's name is ASCII"),
    }
}
