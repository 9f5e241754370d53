//! One integration suite for both chain implementations.
//!
//! Every check is written once, generic over [`Chain`], and runs against:
//! - the embedded chain (always), and
//! - a real substrate-contracts-node when `BLINDFOLD_NODE_URL` is set
//!   (`scripts/test.sh` starts one when the cached binary exists; the
//!   `node_` tests are `#[ignore]`d otherwise).
//!
//! They deploy the release `artifacts/marketplace.wasm` built by
//! `scripts/build-contract.sh`.

use blindfold_chain::embedded::EmbeddedChain;
use blindfold_chain::node::NodeChain;
use blindfold_chain::{Account, Chain, ChainError, Cursor, Signer};
use blindfold_protocol::events::{MarketEvent, Staked};
use blindfold_protocol::selectors;
use blindfold_protocol::types::{MarketState, Params, WorkerInfo};
use blindfold_protocol::{Error as MarketError, UNIT};
use parity_scale_codec::{Decode, Encode};

fn wasm() -> Vec<u8> {
    // Cargo sets CARGO_MANIFEST_DIR when it runs a test; the compiled-in
    // path may name another checkout that shared the target directory.
    let crate_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into());
    let path = crate_dir.join("../../artifacts/marketplace.wasm");
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run scripts/build-contract.sh first",
            path.display()
        )
    })
}

fn params() -> Params {
    Params {
        worker_fee: UNIT,
        claim_stake: 10 * UNIT,
        min_compute_window: 1_000,
        max_compute_window: 86_400_000,
        offer_window: 1_000,
        reveal_window: 60_000,
        challenge_window: 60_000,
        tiebreak_window: 60_000,
        release_window: 60_000,
        upgrade_delay: 60_000,
    }
}

fn call_data(selector: [u8; 4], args: impl Encode) -> Vec<u8> {
    let mut data = selector.to_vec();
    args.encode_to(&mut data);
    data
}

/// Decodes ink's `MessageResult<Result<T, Error>>`.
fn decode_result<T: Decode>(bytes: &[u8]) -> Result<T, MarketError> {
    let outer =
        <Result<Result<T, MarketError>, u8>>::decode(&mut &bytes[..]).expect("decodable return");
    outer.expect("no LangError")
}

/// The whole suite: deploy, read, a payable call with its event, a contract
/// error surfaced by the dry run (and no state change), and a balance change.
async fn suite(chain: &impl Chain, salt: &[u8]) {
    let alice = Signer::from_uri("//Alice").unwrap();
    let bob = Signer::from_uri("//Bob").unwrap();
    let contract: Account = chain
        .deploy(
            &alice,
            &wasm(),
            call_data(selectors::NEW, params()),
            salt.to_vec(),
        )
        .await
        .expect("deploy");

    // Read state.
    let state = chain
        .query(&alice.account(), &contract, selectors::STATE.to_vec(), 0)
        .await
        .expect("query state");
    assert!(!state.reverted);
    let state: MarketState = decode_result(&state.data).expect("state");
    assert_eq!(state.owner, alice.account());
    assert_eq!(state.params, params());

    // A payable call with an event.
    let (_, start) = chain
        .events(&contract, Cursor::default())
        .await
        .expect("events");
    let before = chain.balance(&bob.account()).await.expect("balance");
    let receipt = chain
        .call(&bob, &contract, selectors::STAKE.to_vec(), 25 * UNIT)
        .await
        .expect("stake");
    let total: u128 = decode_result(&receipt.data).expect("stake result");
    assert_eq!(total, 25 * UNIT);
    let after = chain.balance(&bob.account()).await.expect("balance");
    // The new stake entry's storage deposit is charged to Bob too.
    let deposit = u128::try_from(receipt.storage_deposit.max(0)).unwrap();
    assert!(deposit > 0, "a new worker entry costs a storage deposit");
    assert_eq!(
        before - after,
        25 * UNIT + receipt.fee + deposit,
        "stake, fee and storage deposit left Bob's account"
    );

    let (events, next) = chain.events(&contract, start).await.expect("events");
    assert!(next > start);
    let staked: Vec<Staked> = events
        .iter()
        .filter_map(|e| match MarketEvent::decode(&e.topics[0], &e.data) {
            Ok(Some(MarketEvent::Staked(s))) => Some(s),
            _ => None,
        })
        .collect();
    assert_eq!(staked.len(), 1, "one Staked event: {events:?}");
    assert_eq!(staked[0].worker, bob.account());
    assert_eq!(staked[0].stake, 25 * UNIT);
    // Topics carry the worker, so a worker can filter on itself.
    assert!(events
        .iter()
        .any(|e| e.topics.iter().any(|t| t == &bob.account())));
    // Resuming from the returned cursor yields nothing new.
    let (again, _) = chain.events(&contract, next).await.expect("events");
    assert!(again.is_empty());

    // The contract's own error comes back from the dry run; nothing is sent.
    let err = chain
        .call(
            &bob,
            &contract,
            call_data(selectors::WITHDRAW_STAKE, 1_000 * UNIT),
            0,
        )
        .await
        .expect_err("withdrawing more than the stake must fail");
    let ChainError::Reverted { data } = err else {
        panic!("expected a revert, got {err}")
    };
    let err = decode_result::<()>(&data).expect_err("contract error");
    assert_eq!(err, MarketError::InvalidAmount, "more than the stake");
    assert_eq!(
        stake_of(chain, &contract, &bob).await,
        25 * UNIT,
        "a refused call changes nothing"
    );

    // Two withdrawals of 20 from a stake of 25, sent together: on a node both
    // dry runs pass and the second reverts in its block. Either way the
    // refusal is the contract's own error, as from a dry run.
    let withdraw = || call_data(selectors::WITHDRAW_STAKE, 20 * UNIT);
    let (first, second) = tokio::join!(
        chain.call(&bob, &contract, withdraw(), 0),
        chain.call(&bob, &contract, withdraw(), 0)
    );
    let (ok, refused) = match (first, second) {
        (Ok(ok), Err(e)) | (Err(e), Ok(ok)) => (ok, e),
        (a, b) => panic!("expected one withdrawal to land and one refused: {a:?}, {b:?}"),
    };
    decode_result::<()>(&ok.data).expect("the first withdrawal");
    let ChainError::Reverted { data } = refused else {
        panic!("expected the contract's refusal, got {refused}")
    };
    let err = decode_result::<()>(&data).expect_err("contract error");
    assert_eq!(err, MarketError::InvalidAmount, "only 5 left to withdraw");
    assert_eq!(
        stake_of(chain, &contract, &bob).await,
        5 * UNIT,
        "one withdrawal landed"
    );
}

/// `worker`'s stake, as the contract reports it.
async fn stake_of(chain: &impl Chain, contract: &Account, worker: &Signer) -> u128 {
    let info = chain
        .query(
            &worker.account(),
            contract,
            call_data(selectors::WORKER, worker.account()),
            0,
        )
        .await
        .expect("worker");
    let info: WorkerInfo = decode_result(&info.data).expect("worker info");
    info.stake
}

#[tokio::test]
async fn embedded_suite() {
    suite(&EmbeddedChain::new(), b"embedded").await;
}

#[tokio::test]
async fn embedded_time_advances_only_on_demand() {
    let chain = EmbeddedChain::new();
    let t0 = chain.now().await.unwrap();
    assert_eq!(chain.now().await.unwrap(), t0);
    assert_eq!(chain.advance_time(5_000).unwrap(), t0 + 5_000);
    assert_eq!(chain.now().await.unwrap(), t0 + 5_000);
}

#[tokio::test]
async fn embedded_state_is_shared_through_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("chain.state");
    let alice = Signer::from_uri("//Alice").unwrap();
    let first = EmbeddedChain::open(&file).unwrap();
    let contract = first
        .deploy(&alice, &wasm(), call_data(selectors::NEW, params()), vec![])
        .await
        .unwrap();
    first.advance_time(1_000).unwrap();

    // A second handle (as another process would open it) sees the contract,
    // and what it writes is seen by the first.
    let second = EmbeddedChain::open(&file).unwrap();
    assert_eq!(second.now().await.unwrap(), first.now().await.unwrap());
    let bob = Signer::from_uri("//Bob").unwrap();
    second
        .call(&bob, &contract, selectors::STAKE.to_vec(), 3 * UNIT)
        .await
        .unwrap();
    let info = first
        .query(
            &bob.account(),
            &contract,
            call_data(selectors::WORKER, bob.account()),
            0,
        )
        .await
        .unwrap();
    let info: WorkerInfo = decode_result(&info.data).unwrap();
    assert_eq!(info.stake, 3 * UNIT);
    let (events, _) = first.events(&contract, Cursor::default()).await.unwrap();
    assert!(!events.is_empty());

    // A corrupt file is a clear error, not a panic.
    std::fs::write(&file, b"garbage").unwrap();
    let err = EmbeddedChain::open(&file).unwrap_err();
    assert!(err.to_string().contains("corrupt"), "{err}");
}

#[tokio::test]
#[ignore = "needs a running node: BLINDFOLD_NODE_URL=ws://127.0.0.1:9944 (scripts/test.sh starts one)"]
async fn node_suite() {
    let Ok(url) = std::env::var("BLINDFOLD_NODE_URL") else {
        println!("SKIPPED node_suite: BLINDFOLD_NODE_URL is not set (scripts/node.sh build && scripts/node.sh start)");
        return;
    };
    let chain = NodeChain::connect(&url).await.expect("connect to node");
    let salt = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        .to_le_bytes();
    suite(&chain, &salt).await;
}

#[tokio::test]
async fn node_url_is_validated() {
    let err = NodeChain::connect("http://127.0.0.1:1").await.unwrap_err();
    assert!(err.to_string().contains("ws://"), "{err}");
}
