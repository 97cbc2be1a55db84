//! A participant's vote, the same in every commit protocol: prepare the writes under lock,
//! force the record the vote stands on, report it. Apart from [`crate::store`] (the data)
//! because it forces records: it reads them through [`TxnRecord`], which reads the store.

use sim_core::rng::Chance;

use crate::durable::TxnRecord;
use crate::store::{Store, choose_vote};
use crate::txn::{Observation, Outcome, TxnId, Vote};

/// A participant's vote, asked to hold the writes of its `prepared` record under lock: it
/// prepares them in `store` (a no vote when a lock is taken, the store refuses, or the
/// no-vote chance strikes — an explicit choice, see [`choose_vote`]), forces the record for
/// its vote (`prepared` on yes; `abort` on no, if the protocol logs one: with presumed abort
/// no record means abort), and reports it. Yes: forced, `marks.0` (prepared-logged) marked,
/// locks and vote reported. No: it aborted alone, reported so, `marks.1` (decided) marked.
/// The caller keeps its own state and sends the vote.
pub fn vote<P: sim_core::Protocol<Obs = Observation>>(
    ctx: &mut sim_core::Context<'_, P>,
    store: &mut Store,
    no_vote: Chance,
    prepared: P::Record,
    abort: Option<P::Record>,
    (logged, decided): (&'static str, &'static str),
) -> Vote
where
    P::Record: TxnRecord,
{
    let (txn, writes) = prepared.prepared().expect("a yes vote forces a prepared record");
    assert!(
        abort.as_ref().is_none_or(|a| a.decision() == Some((txn, Outcome::Abort))),
        "{txn}: a no vote forces an abort of the same transaction"
    );
    if store.prepare(txn, writes, || choose_vote(ctx, no_vote)).is_err() {
        if let Some(abort) = abort {
            ctx.persist(abort);
        }
        ctx.observe(Observation::Voted { txn, vote: Vote::No });
        ctx.observe(Observation::Decided { txn, outcome: Outcome::Abort });
        ctx.mark(decided);
        return Vote::No;
    }
    let keys = writes.len() as u32;
    ctx.persist(prepared);
    ctx.mark(logged);
    ctx.observe(Observation::LocksAcquired { txn, keys });
    ctx.observe(Observation::Voted { txn, vote: Vote::Yes });
    Vote::Yes
}

/// A participant that has not voted yes aborts alone (it may: nobody can have committed
/// without its vote), the same in every commit protocol: it forces `abort`, its abort
/// record, since a late request to prepare must still be answered no, reports the decision
/// and marks `decided`. The caller keeps its own state.
pub fn abort_alone<P: sim_core::Protocol<Obs = Observation>>(
    ctx: &mut sim_core::Context<'_, P>,
    abort: P::Record,
    decided: &'static str,
) where
    P::Record: TxnRecord,
{
    let Some((txn, Outcome::Abort)) = abort.decision() else {
        panic!("aborting alone forces an abort record, not {abort:?}")
    };
    ctx.persist(abort);
    ctx.observe(Observation::Decided { txn, outcome: Outcome::Abort });
    ctx.mark(decided);
}

/// After a yes vote is sent, the same in every commit protocol: the participant is uncertain
/// from now on, until it learns the outcome. Marks `voted` (its voted-yes crash point),
/// reports it uncertain, and arms `timer` to fire after `timeout_us` (its wait for the
/// outcome; what it does then — ask, elect a backup — is its protocol's).
pub fn await_outcome<P: sim_core::Protocol<Obs = Observation>>(
    ctx: &mut sim_core::Context<'_, P>,
    txn: TxnId,
    voted: &'static str,
    (timeout_us, timer): (u64, P::Timer),
) {
    ctx.mark(voted);
    ctx.observe(Observation::Uncertain { txn });
    ctx.set_timer(sim_core::Duration::from_us(timeout_us), timer);
}
