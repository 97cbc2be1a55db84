//! The replicated state machine: a few integer registers, with exactly-once application of
//! retried operations.

use std::collections::BTreeMap;

use super::{KvResult, Op, OpId};

/// A replica's state machine. Volatile: a recovering replica rebuilds it by re-applying its
/// committed log from the first entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Kv {
    values: BTreeMap<u32, i64>,
    /// Every applied operation's answer, so a retried one is answered, not re-applied.
    /// Bounded by the run's operations (the client's `txns`).
    results: BTreeMap<OpId, KvResult>,
}

impl Kv {
    /// Applies `op` once: a repeat of an applied id changes nothing and returns the first
    /// answer.
    pub fn apply(&mut self, op: &Op) -> KvResult {
        if let Some(r) = self.results.get(&op.id) {
            return *r;
        }
        let (value, result) = op.call.apply(self.values.get(&op.key).copied());
        match value {
            Some(v) => self.values.insert(op.key, v),
            None => self.values.remove(&op.key),
        };
        self.results.insert(op.id, result);
        result
    }

    /// The answer `id` got, if it was applied.
    pub fn result(&self, id: OpId) -> Option<KvResult> {
        self.results.get(&id).copied()
    }

    /// Every key that holds a value, ascending, with its value (what a state machine built
    /// on the registers reads: `crate::replicated_2pc`'s transaction table).
    pub fn values(&self) -> impl Iterator<Item = (u32, i64)> + '_ {
        self.values.iter().map(|(k, v)| (*k, *v))
    }

    /// The value `key` holds, if any.
    pub fn get(&self, key: u32) -> Option<i64> {
        self.values.get(&key).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::KvCall;

    #[test]
    fn a_retried_operation_takes_effect_once() {
        let mut kv = Kv::default();
        let put = Op { id: 1, key: 0, call: KvCall::Put { value: 5 } };
        let cas = Op { id: 2, key: 0, call: KvCall::Cas { expect: Some(5), new: 6 } };
        assert_eq!(kv.apply(&put), KvResult::Written);
        assert_eq!(kv.apply(&cas), KvResult::Swapped { ok: true });
        // The retry of op 2 must not see 6 and fail: it is answered from memory.
        assert_eq!(kv.apply(&cas), KvResult::Swapped { ok: true });
        let get = Op { id: 3, key: 0, call: KvCall::Get };
        assert_eq!(kv.apply(&get), KvResult::Read { value: Some(6) });
    }
}
