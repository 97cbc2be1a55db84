//! "Did you mean": the closest known name to a mistyped one, for every name a user types
//! (protocols, settings, marks, properties).

/// The closest of `known` to `input` (for "did you mean" in error messages), if any is close.
pub fn closest<'a>(input: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = input.to_lowercase();
    known
        .into_iter()
        .map(|k| (strsim::damerau_levenshtein(&lower, k), k))
        .filter(|(d, k)| *d <= (k.len().max(3) / 2) || k.starts_with(&lower) && lower.len() >= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// "unknown X "input" (did you mean "y"? known: a, b, c)".
pub fn unknown_name<'a>(
    what: &str,
    input: &str,
    known: impl IntoIterator<Item = &'a str>,
) -> String {
    let known: Vec<&str> = known.into_iter().collect();
    let hint = closest(input, known.iter().copied())
        .map(|c| format!("did you mean {c:?}? "))
        .unwrap_or_default();
    format!("unknown {what} {input:?} ({hint}known: {})", known.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_suggests_near_names_only() {
        let known = ["2pc", "3pc", "paxos-commit", "faster-paxos-commit"];
        assert_eq!(closest("3PC", known), Some("3pc"));
        assert_eq!(closest("paxos", known), Some("paxos-commit"));
        assert_eq!(closest("raft-with-snapshots", known), None);
    }
}
