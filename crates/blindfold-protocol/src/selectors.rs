//! The marketplace contract's fixed message selectors.
//!
//! The contract declares every message with an explicit `selector = 0x…` equal to
//! the constant here, so that renaming a message never changes its ABI and
//! off-chain code can call the contract without its metadata. The contract's
//! tests check its generated metadata against [`MESSAGES`] and [`NEW`].
//!
//! Layout: `0xB1D0_GGNN`: `B1D0` for Blindfold, `GG` the group, `NN` the message.
//!
//! | selector     | message              | group    |
//! |--------------|----------------------|----------|
//! | `0xB1D00000` | `new` (constructor)  |          |
//! | `0xB1D00101` | `register_dataset`   | datasets |
//! | `0xB1D00102` | `update_dataset`     | datasets |
//! | `0xB1D00103` | `deactivate_dataset` | datasets |
//! | `0xB1D00104` | `add_submissions`    | datasets |
//! | `0xB1D00105` | `revoke_submission`  | datasets |
//! | `0xB1D00201` | `stake`              | workers  |
//! | `0xB1D00202` | `withdraw_stake`     | workers  |
//! | `0xB1D00301` | `request`            | jobs     |
//! | `0xB1D00302` | `cancel`             | jobs     |
//! | `0xB1D00303` | `offer`              | jobs     |
//! | `0xB1D00304` | `commit`             | jobs     |
//! | `0xB1D00305` | `reveal`             | jobs     |
//! | `0xB1D00306` | `challenge`          | jobs     |
//! | `0xB1D00307` | `advance`            | jobs     |
//! | `0xB1D00308` | `release`            | jobs     |
//! | `0xB1D00309` | `finalize`           | jobs     |
//! | `0xB1D0030A` | `reveal_seed`        | jobs     |
//! | `0xB1D0030B` | `reject`             | jobs     |
//! | `0xB1D00401` | `withdraw`           | money    |
//! | `0xB1D00501` | `set_params`         | admin    |
//! | `0xB1D00502` | `set_paused`         | admin    |
//! | `0xB1D00503` | `announce_upgrade`   | admin    |
//! | `0xB1D00504` | `transfer_ownership` | admin    |
//! | `0xB1D00505` | `accept_ownership`   | admin    |
//! | `0xB1D00506` | `enact_upgrade`      | admin    |
//! | `0xB1D00507` | `cancel_upgrade`     | admin    |
//! | `0xB1D00601` | `dataset`            | queries  |
//! | `0xB1D00602` | `job`                | queries  |
//! | `0xB1D00603` | `worker`             | queries  |
//! | `0xB1D00604` | `earnings`           | queries  |
//! | `0xB1D00605` | `state`              | queries  |
//! | `0xB1D00606` | `is_revoked`         | queries  |

/// A 4-byte selector.
pub type Selector = [u8; 4];

/// Constructor `new(params)`.
pub const NEW: Selector = [0xB1, 0xD0, 0x00, 0x00];

/// `register_dataset(metadata_hash, server_key_hash, price, policy)`.
pub const REGISTER_DATASET: Selector = [0xB1, 0xD0, 0x01, 0x01];
/// `update_dataset(dataset_id, price, policy)`.
pub const UPDATE_DATASET: Selector = [0xB1, 0xD0, 0x01, 0x02];
/// `deactivate_dataset(dataset_id)`.
pub const DEACTIVATE_DATASET: Selector = [0xB1, 0xD0, 0x01, 0x03];
/// `add_submissions(dataset_id, blob_hashes)`.
pub const ADD_SUBMISSIONS: Selector = [0xB1, 0xD0, 0x01, 0x04];
/// `revoke_submission(dataset_id, index)`.
pub const REVOKE_SUBMISSION: Selector = [0xB1, 0xD0, 0x01, 0x05];

/// `stake()`, payable.
pub const STAKE: Selector = [0xB1, 0xD0, 0x02, 0x01];
/// `withdraw_stake(amount)`.
pub const WITHDRAW_STAKE: Selector = [0xB1, 0xD0, 0x02, 0x02];

/// `request(dataset_id, pipeline, params_hash, epsilon, deadline, expected)`, payable.
pub const REQUEST: Selector = [0xB1, 0xD0, 0x03, 0x01];
/// `cancel(job_id)`.
pub const CANCEL: Selector = [0xB1, 0xD0, 0x03, 0x02];
/// `offer(job_id, seed_hash)`: offers for a slot of the job's current round.
pub const OFFER: Selector = [0xB1, 0xD0, 0x03, 0x03];
/// `commit(job_id, sealed)`.
pub const COMMIT: Selector = [0xB1, 0xD0, 0x03, 0x04];
/// `reveal(job_id, result_blob_hash)`.
pub const REVEAL: Selector = [0xB1, 0xD0, 0x03, 0x05];
/// `challenge(job_id, sealed)`: a sealed, bonded challenge.
pub const CHALLENGE: Selector = [0xB1, 0xD0, 0x03, 0x06];
/// `advance(job_id)`.
pub const ADVANCE: Selector = [0xB1, 0xD0, 0x03, 0x07];
/// `release(job_id, released_hash)`.
pub const RELEASE: Selector = [0xB1, 0xD0, 0x03, 0x08];
/// `finalize(job_id)`.
pub const FINALIZE: Selector = [0xB1, 0xD0, 0x03, 0x09];
/// `reveal_seed(job_id, secret)`: opens an offer's seed hash for the draw.
pub const REVEAL_SEED: Selector = [0xB1, 0xD0, 0x03, 0x0A];
/// `reject(job_id, result_blob_hash)`: the data owner's bonded rejection.
pub const REJECT: Selector = [0xB1, 0xD0, 0x03, 0x0B];

/// `withdraw()`.
pub const WITHDRAW: Selector = [0xB1, 0xD0, 0x04, 0x01];

/// `set_params(params)`.
pub const SET_PARAMS: Selector = [0xB1, 0xD0, 0x05, 0x01];
/// `set_paused(paused)`.
pub const SET_PAUSED: Selector = [0xB1, 0xD0, 0x05, 0x02];
/// `announce_upgrade(code_hash)`: starts the upgrade delay.
pub const ANNOUNCE_UPGRADE: Selector = [0xB1, 0xD0, 0x05, 0x03];
/// `transfer_ownership(new_owner)`: proposes; the new owner accepts.
pub const TRANSFER_OWNERSHIP: Selector = [0xB1, 0xD0, 0x05, 0x04];
/// `accept_ownership()`, by the proposed owner.
pub const ACCEPT_OWNERSHIP: Selector = [0xB1, 0xD0, 0x05, 0x05];
/// `enact_upgrade()`: sets the announced code hash once its delay passed.
pub const ENACT_UPGRADE: Selector = [0xB1, 0xD0, 0x05, 0x06];
/// `cancel_upgrade()`.
pub const CANCEL_UPGRADE: Selector = [0xB1, 0xD0, 0x05, 0x07];

/// `dataset(dataset_id)`.
pub const DATASET: Selector = [0xB1, 0xD0, 0x06, 0x01];
/// `job(job_id)`.
pub const JOB: Selector = [0xB1, 0xD0, 0x06, 0x02];
/// `worker(account)`.
pub const WORKER: Selector = [0xB1, 0xD0, 0x06, 0x03];
/// `earnings(account)`.
pub const EARNINGS: Selector = [0xB1, 0xD0, 0x06, 0x04];
/// `state()`: owner, pause flag, params, money totals, id counters.
pub const STATE: Selector = [0xB1, 0xD0, 0x06, 0x05];
/// `is_revoked(dataset_id, index)`.
pub const IS_REVOKED: Selector = [0xB1, 0xD0, 0x06, 0x06];

/// Every message: (name, selector), in the order of the table above.
pub const MESSAGES: &[(&str, Selector)] = &[
    ("register_dataset", REGISTER_DATASET),
    ("update_dataset", UPDATE_DATASET),
    ("deactivate_dataset", DEACTIVATE_DATASET),
    ("add_submissions", ADD_SUBMISSIONS),
    ("revoke_submission", REVOKE_SUBMISSION),
    ("stake", STAKE),
    ("withdraw_stake", WITHDRAW_STAKE),
    ("request", REQUEST),
    ("cancel", CANCEL),
    ("offer", OFFER),
    ("commit", COMMIT),
    ("reveal", REVEAL),
    ("challenge", CHALLENGE),
    ("advance", ADVANCE),
    ("release", RELEASE),
    ("finalize", FINALIZE),
    ("reveal_seed", REVEAL_SEED),
    ("reject", REJECT),
    ("withdraw", WITHDRAW),
    ("set_params", SET_PARAMS),
    ("set_paused", SET_PAUSED),
    ("announce_upgrade", ANNOUNCE_UPGRADE),
    ("transfer_ownership", TRANSFER_OWNERSHIP),
    ("accept_ownership", ACCEPT_OWNERSHIP),
    ("enact_upgrade", ENACT_UPGRADE),
    ("cancel_upgrade", CANCEL_UPGRADE),
    ("dataset", DATASET),
    ("job", JOB),
    ("worker", WORKER),
    ("earnings", EARNINGS),
    ("state", STATE),
    ("is_revoked", IS_REVOKED),
];

/// The selector of message `name`, if the contract has one.
pub fn by_name(name: &str) -> Option<Selector> {
    MESSAGES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, selector)| *selector)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_are_unique_and_prefixed() {
        for (i, (name, sel)) in MESSAGES.iter().enumerate() {
            assert_eq!(sel[..2], [0xB1, 0xD0], "{name}");
            assert_ne!(*sel, NEW, "{name}");
            for (other, other_sel) in &MESSAGES[i + 1..] {
                assert_ne!(sel, other_sel, "{name} vs {other}");
                assert_ne!(name, other);
            }
        }
        assert_eq!(MESSAGES.len(), 32);
    }

    #[test]
    fn lookup_by_name() {
        assert_eq!(by_name("reveal"), Some([0xB1, 0xD0, 0x03, 0x05]));
        assert_eq!(by_name("nope"), None);
    }

    #[test]
    fn doc_table_matches_constants() {
        // Each row of the table in the module docs, as written there.
        let doc = include_str!("selectors.rs");
        for (name, sel) in MESSAGES {
            let row = format!(
                "`0x{:02X}{:02X}{:02X}{:02X}` | `{name}`",
                sel[0], sel[1], sel[2], sel[3]
            );
            assert!(doc.contains(&row), "doc table row for {name}");
        }
    }
}
