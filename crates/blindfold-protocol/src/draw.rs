//! The stake-weighted draw that assigns a round's free slots among the
//! workers that offered in its offer window.
//!
//! Racing wins nothing: every offer made within the window counts the same,
//! whenever it arrived. Each offer weighs its worker's stake at the time of
//! the offer, so a party that splits its stake over k accounts wins slots in
//! proportion to the stake, not to the accounts. The seed folds in every
//! revealed secret ([`hash::draw_step_with`]), so it is unpredictable while
//! one offerer is honest; an offerer that withholds its secret to steer the
//! draw loses its bond (the contract slashes it as `Missed`).
//!
//! - [`seed_with`]: the seed from the job, the round and the secrets;
//! - [`draw_with`]: the winners, without replacement.
//!
//! The contract and off-chain code both call these, so a worker (or anyone)
//! can check a draw.

use alloc::vec::Vec;

use crate::hash::{self, Sha256};
use crate::ids::{Balance, Hash, JobId};

/// The draw seed of `round` of `job_id` from the revealed `secrets`, in
/// offer order.
pub fn seed_with<'a, H: Sha256>(
    job_id: JobId,
    round: u8,
    secrets: impl IntoIterator<Item = &'a Hash>,
) -> Hash {
    secrets
        .into_iter()
        .fold(hash::draw_start_with::<H>(job_id, round), |acc, secret| {
            hash::draw_step_with::<H>(&acc, secret)
        })
}

/// Picks `slots` distinct indices of `weights` (or all of them, if fewer),
/// each pick with probability proportional to its weight among those not
/// yet picked. Slot `i`'s random number is [`hash::draw_pick_with`]`(seed,
/// i)`, reduced modulo the remaining total weight (a bias below 2^-64 for
/// any total below 2^64). Zero weights are picked only when nothing else is
/// left, in index order.
pub fn draw_with<H: Sha256>(seed: &Hash, weights: &[Balance], slots: usize) -> Vec<usize> {
    let mut left: Vec<usize> = (0..weights.len()).collect();
    let mut picked = Vec::new();
    for slot in 0..slots.min(weights.len()) {
        let weight = |i: &usize| weights.get(*i).copied().unwrap_or(0);
        let total = left
            .iter()
            .map(weight)
            .fold(0u128, |sum, w| sum.saturating_add(w));
        let mut at = match total {
            0 => 0,
            _ => {
                let slot = u8::try_from(slot).unwrap_or(u8::MAX);
                hash::draw_pick_with::<H>(seed, slot)
                    .checked_rem(total)
                    .unwrap_or(0)
            }
        };
        let mut chosen = 0;
        for (position, i) in left.iter().enumerate() {
            let w = weight(i);
            if at < w || (total == 0) {
                chosen = position;
                break;
            }
            at = at.saturating_sub(w);
        }
        picked.push(left.remove(chosen));
    }
    picked
}

#[cfg(all(test, feature = "sha2"))]
mod tests {
    use super::*;
    use crate::hash::Sha2;

    fn seed(n: u64) -> Hash {
        seed_with::<Sha2>(n, 0, &[[n as u8; 32]])
    }

    #[test]
    fn picks_distinct_indices_and_all_when_few() {
        let w = [5, 1, 7, 3];
        for n in 0..50 {
            let mut p = draw_with::<Sha2>(&seed(n), &w, 3);
            assert_eq!(p.len(), 3);
            p.sort_unstable();
            p.dedup();
            assert_eq!(p.len(), 3, "distinct");
        }
        let mut all = draw_with::<Sha2>(&seed(1), &w, 9);
        all.sort_unstable();
        assert_eq!(all, vec![0, 1, 2, 3]);
        assert!(draw_with::<Sha2>(&seed(1), &[], 2).is_empty());
        assert_eq!(draw_with::<Sha2>(&seed(1), &[0, 0], 1), vec![0]);
    }

    #[test]
    fn the_same_seed_draws_the_same() {
        let w = [10, 20, 30];
        assert_eq!(
            draw_with::<Sha2>(&seed(4), &w, 2),
            draw_with::<Sha2>(&seed(4), &w, 2)
        );
    }

    #[test]
    fn every_secret_changes_the_seed() {
        let a = seed_with::<Sha2>(1, 0, &[[1; 32], [2; 32]]);
        assert_ne!(a, seed_with::<Sha2>(1, 0, &[[1; 32], [3; 32]]));
        assert_ne!(a, seed_with::<Sha2>(1, 0, &[[2; 32], [1; 32]]), "order");
        assert_ne!(a, seed_with::<Sha2>(1, 1, &[[1; 32], [2; 32]]), "round");
        assert_ne!(a, seed_with::<Sha2>(2, 0, &[[1; 32], [2; 32]]), "job");
    }

    /// One slot among stakes 1 : 3: the second wins about three in four
    /// draws (4,000 draws: the 1 % quantile of the binomial is ~2,930).
    #[test]
    fn wins_are_proportional_to_weight() {
        let draws = 4_000u64;
        let wins = (0..draws)
            .filter(|n| draw_with::<Sha2>(&seed(*n), &[100, 300], 1) == vec![1])
            .count() as f64;
        let share = wins / draws as f64;
        assert!((0.72..0.78).contains(&share), "share {share}");
    }
}
