//! [`Metered`]: any chain, with a meter on every call.
//!
//! It adds up the number of calls and the time spent waiting on the chain,
//! so the demo and the benchmarks can state the chain's share of a job's
//! end-to-end time. Calls from concurrent tasks are summed, so the total
//! can exceed the wall-clock time that passed.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::{
    Account, Balance, CallReceipt, Chain, ChainError, ContractEvent, Cursor, DryRun, Hash, Signer,
};

/// A chain whose calls are counted and timed.
#[derive(Debug)]
pub struct Metered<C> {
    inner: C,
    calls: AtomicU64,
    nanos: AtomicU64,
}

impl<C> Metered<C> {
    /// Meters `inner`.
    pub fn new(inner: C) -> Self {
        Metered {
            inner,
            calls: AtomicU64::new(0),
            nanos: AtomicU64::new(0),
        }
    }

    /// The metered chain.
    pub fn inner(&self) -> &C {
        &self.inner
    }

    /// Calls made so far.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Time spent in calls so far (summed over concurrent callers).
    pub fn spent(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::Relaxed))
    }

    async fn time<T>(&self, call: impl Future<Output = T>) -> T {
        let started = Instant::now();
        let out = call.await;
        let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.nanos.fetch_add(nanos, Ordering::Relaxed);
        out
    }
}

impl<C: Chain> Chain for Metered<C> {
    fn describe(&self) -> String {
        self.inner.describe()
    }

    async fn deploy(
        &self,
        signer: &Signer,
        wasm: &[u8],
        data: Vec<u8>,
        salt: Vec<u8>,
    ) -> Result<Account, ChainError> {
        self.time(self.inner.deploy(signer, wasm, data, salt)).await
    }

    async fn call(
        &self,
        signer: &Signer,
        contract: &Account,
        data: Vec<u8>,
        value: Balance,
    ) -> Result<CallReceipt, ChainError> {
        self.time(self.inner.call(signer, contract, data, value))
            .await
    }

    async fn query(
        &self,
        origin: &Account,
        contract: &Account,
        data: Vec<u8>,
        value: Balance,
    ) -> Result<DryRun, ChainError> {
        self.time(self.inner.query(origin, contract, data, value))
            .await
    }

    async fn events(
        &self,
        contract: &Account,
        cursor: Cursor,
    ) -> Result<(Vec<ContractEvent>, Cursor), ChainError> {
        self.time(self.inner.events(contract, cursor)).await
    }

    async fn balance(&self, account: &Account) -> Result<Balance, ChainError> {
        self.time(self.inner.balance(account)).await
    }

    async fn code_hash(&self, contract: &Account) -> Result<Option<Hash>, ChainError> {
        self.time(self.inner.code_hash(contract)).await
    }

    async fn now(&self) -> Result<u64, ChainError> {
        self.time(self.inner.now()).await
    }

    async fn catch_up(&self, signer: &Signer) -> Result<u64, ChainError> {
        self.time(self.inner.catch_up(signer)).await
    }
}
