//! [`EventIndex`]: every dataset's submissions and revocations, kept up to
//! date from the contract's events, so that finding one job's inputs reads
//! only the blocks since the last look instead of replaying the chain from
//! genesis.
//!
//! - [`EventIndex::refresh`] folds the new blocks' `SubmissionsAdded` and
//!   `SubmissionRevoked` events into per-dataset lists.
//! - [`EventIndex::dataset_inputs`] answers in O(1) lookups.
//! - [`EventIndex::open`] and [`EventIndex::save`] keep it in a file between
//!   runs of the CLI (SCALE, behind a magic and the contract address). A
//!   file for another contract, or one that does not decode, is ignored and
//!   rebuilt. The index is only a cache: [`DatasetInputs::for_job`] still
//!   checks every list against the digest the job bound on chain, and a
//!   caller whose check fails rebuilds from genesis
//!   ([`EventIndex::rebuild`]) before it gives up (a chain that was reset
//!   under the same contract address, say).

use std::collections::BTreeMap;
use std::path::Path;

use blindfold_chain::{Account, Chain, Cursor};
use blindfold_protocol::events::MarketEvent;
use blindfold_protocol::types::{DatasetId, Hash};
use parity_scale_codec::{Decode, Encode};

use crate::contract::{BlockEvent, Market, Result};
use crate::inputs::DatasetInputs;

/// The magic prefix of an index file.
const MAGIC: &[u8; 16] = b"blindfold/index1";

/// Each dataset's submission and revocation lists, as of `cursor`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventIndex {
    /// The next block to read.
    pub cursor: Cursor,
    datasets: BTreeMap<DatasetId, DatasetInputs>,
}

/// The file form: who it belongs to, then the index.
#[derive(Encode, Decode)]
struct Stored {
    contract: Account,
    next_block: u64,
    datasets: Vec<(DatasetId, Vec<Hash>, Vec<u64>)>,
}

impl EventIndex {
    /// Folds `events` (in chain order) into the lists.
    pub fn apply<'a>(&mut self, events: impl IntoIterator<Item = &'a BlockEvent>) {
        for e in events {
            match &e.event {
                MarketEvent::SubmissionsAdded(a) => {
                    let inputs = self.entry(a.dataset_id);
                    // Events arrive in order; `first_index` guards against gaps.
                    if a.first_index == inputs.blob_hashes.len() as u64 {
                        inputs.blob_hashes.extend_from_slice(&a.blob_hashes);
                    }
                }
                MarketEvent::SubmissionRevoked(r) => self.entry(r.dataset_id).revoked.push(r.index),
                _ => {}
            }
        }
    }

    fn entry(&mut self, dataset_id: DatasetId) -> &mut DatasetInputs {
        self.datasets
            .entry(dataset_id)
            .or_insert_with(|| DatasetInputs {
                dataset_id,
                ..Default::default()
            })
    }

    /// Reads the blocks since the last refresh; returns how many events were new.
    pub async fn refresh<C: Chain>(&mut self, market: &Market<C>) -> Result<usize> {
        let (new, next) = market.events(self.cursor).await?;
        self.apply(&new);
        self.cursor = next;
        Ok(new.len())
    }

    /// A dataset's submissions and revocations as of the last refresh.
    pub fn dataset_inputs(&self, dataset_id: DatasetId) -> DatasetInputs {
        self.datasets
            .get(&dataset_id)
            .cloned()
            .unwrap_or_else(|| DatasetInputs {
                dataset_id,
                ..Default::default()
            })
    }

    /// The index of `market` kept in `path`, brought up to date and saved.
    /// A missing, foreign or unreadable file starts a new index from
    /// genesis. A file that cannot be written is only a lost cache: the
    /// second value says whether it was saved.
    pub async fn open<C: Chain>(market: &Market<C>, path: &Path) -> Result<(Self, bool)> {
        let mut index = std::fs::read(path)
            .ok()
            .and_then(|bytes| Self::decode(&bytes, &market.address()))
            .unwrap_or_default();
        index.refresh(market).await?;
        let saved = index.save(path, &market.address()).is_ok();
        Ok((index, saved))
    }

    /// A new index of `market` from genesis, saved to `path` (replacing a
    /// stale file). The second value says whether it was saved.
    pub async fn rebuild<C: Chain>(market: &Market<C>, path: &Path) -> Result<(Self, bool)> {
        let mut index = EventIndex::default();
        index.refresh(market).await?;
        let saved = index.save(path, &market.address()).is_ok();
        Ok((index, saved))
    }

    fn decode(bytes: &[u8], contract: &Account) -> Option<Self> {
        let body = bytes.strip_prefix(MAGIC.as_slice())?;
        let stored = Stored::decode(&mut &body[..]).ok()?;
        if &stored.contract != contract {
            return None;
        }
        let datasets = stored
            .datasets
            .into_iter()
            .map(|(dataset_id, blob_hashes, revoked)| {
                let inputs = DatasetInputs {
                    dataset_id,
                    blob_hashes,
                    revoked,
                };
                (dataset_id, inputs)
            })
            .collect();
        Some(EventIndex {
            cursor: Cursor {
                next_block: stored.next_block,
            },
            datasets,
        })
    }

    /// Writes the index to `path` (through a temporary file and a rename,
    /// so a crash leaves the old file or the new one).
    pub fn save(&self, path: &Path, contract: &Account) -> std::io::Result<()> {
        let stored = Stored {
            contract: *contract,
            next_block: self.cursor.next_block,
            datasets: self
                .datasets
                .values()
                .map(|d| (d.dataset_id, d.blob_hashes.clone(), d.revoked.clone()))
                .collect(),
        };
        let mut bytes = MAGIC.to_vec();
        stored.encode_to(&mut bytes);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, &bytes)?;
        std::fs::rename(&tmp, path)
    }
}

#[cfg(test)]
mod tests {
    use blindfold_protocol::events::{SubmissionRevoked, SubmissionsAdded};

    use super::*;

    fn added(dataset_id: DatasetId, first_index: u64, n: u8) -> BlockEvent {
        BlockEvent {
            block: 1,
            event: MarketEvent::SubmissionsAdded(SubmissionsAdded {
                dataset_id,
                first_index,
                blob_hashes: (0..n).map(|i| [i + first_index as u8; 32]).collect(),
                count: first_index + u64::from(n),
                digest: [0; 32],
            }),
        }
    }

    #[test]
    fn folds_events_per_dataset_and_round_trips_a_file() {
        let revoked = BlockEvent {
            block: 2,
            event: MarketEvent::SubmissionRevoked(SubmissionRevoked {
                dataset_id: 1,
                index: 0,
                count: 1,
                digest: [0; 32],
            }),
        };
        let events = [added(0, 0, 2), added(1, 0, 1), added(0, 2, 1), revoked];
        let mut index = EventIndex::default();
        index.apply(&events);
        // The same lists as a replay from genesis.
        for ds in [0, 1, 7] {
            assert_eq!(
                index.dataset_inputs(ds),
                DatasetInputs::from_events(ds, &events)
            );
        }
        assert_eq!(index.dataset_inputs(0).blob_hashes.len(), 3);
        assert_eq!(index.dataset_inputs(1).revoked, [0]);

        let dir = std::env::temp_dir().join(format!("bf-index-{}", std::process::id()));
        let path = dir.join("index.bin");
        index.cursor = Cursor { next_block: 9 };
        index.save(&path, &[1; 32]).expect("save");
        let bytes = std::fs::read(&path).expect("read");
        assert_eq!(EventIndex::decode(&bytes, &[1; 32]), Some(index));
        assert_eq!(
            EventIndex::decode(&bytes, &[3; 32]),
            None,
            "another contract"
        );
        assert_eq!(EventIndex::decode(&bytes[..20], &[1; 32]), None);
        let _ = std::fs::remove_dir_all(dir);
    }
}
