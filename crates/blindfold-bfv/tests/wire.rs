//! Untrusted bytes: every BFV blob reader (`ServerKey`, `Video`,
//! `BfvResult`, `ClientKey`) answers malformed, truncated, oversized,
//! mislabelled or misplaced bytes with an `Err`, never a panic.
//!
//! The blobs are built by hand from the documented layout (`wire.rs`,
//! `keys.rs`, `video.rs`, `result.rs`):
//!
//! ```text
//! header   magic 8 | kind 1 | set id u16            (11 bytes)
//! video    width u16 | height u16 | frames u32 | bits u8 | count u32 | count x item
//! result   class u8 | count u32 | count x item
//! packed   members u32 | members x class u8 | count u32 | count x item
//! server   relin item | count u8 | count x (step u32 | item)
//! client   item
//! item     length u32 (big-endian) | that many bytes (an fhe.rs protobuf)
//! ```

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

use blindfold_bfv::params::{CLIENT_KEY_LIMIT, SERVER_KEY_LIMIT};
use blindfold_bfv::wire::MAGIC;
use blindfold_bfv::{
    evaluate, BfvError, BfvParamSet, BfvResult, ChaCha20Rng, ClientKey, Layout, Plan, Program,
    SeedableRng, ServerKey, Shape, Video,
};
use fhe::bfv::Ciphertext;
use fhe::proto::bfv::Ciphertext as CiphertextProto;
use fhe_traits::{DeserializeParametrized, Serialize};
use prost::Message;
use rand09::RngCore;

const SET: BfvParamSet = BfvParamSet::V1;
const HEADER: usize = 11;
/// Video body: width, height, frames, bits, class, count.
const VIDEO_ITEMS: usize = HEADER + 2 + 2 + 4 + 1 + 1 + 4;
/// Result body: class, count.
const RESULT_ITEMS: usize = HEADER + 1 + 4;

const SHAPE: Shape = Shape {
    width: 4,
    height: 4,
    frames: 2,
    bits: 4,
};

/// fhe-math's polynomial protobuf (`fhe-math/src/proto/rq.proto`, not
/// public in fhe-math 0.1.1), to craft polynomials inside ciphertexts.
#[derive(Clone, PartialEq, prost::Message)]
struct Rq {
    #[prost(int32, tag = "1")]
    representation: i32,
    #[prost(uint32, tag = "2")]
    degree: u32,
    #[prost(bytes = "vec", tag = "3")]
    coefficients: Vec<u8>,
    #[prost(bool, tag = "4")]
    allow_variable_time: bool,
}

/// Keys, a video and a result, made once per test binary (keys are the
/// expensive part) from a fixed seed.
struct Fixture {
    client: Vec<u8>,
    server: Vec<u8>,
    video: Vec<u8>,
    plan: Plan,
    result: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let mut rng = ChaCha20Rng::from_seed([3; 32]);
        let ck = ClientKey::generate(SET, &mut rng).unwrap();
        let sk = ck.server_key(&mut rng).unwrap();
        let frames: Vec<Vec<u8>> = (0..SHAPE.frames)
            .map(|_| (0..16).map(|_| (rng.next_u32() % 16) as u8).collect())
            .collect();
        let video = Video::encrypt(&ck, SHAPE, &frames, &mut rng).unwrap();
        let plan = Program::Conv3x3 {
            frames: vec![0, 1],
            kernel: [-1, 0, 1, -2, 0, 2, -1, 0, 1],
        }
        .plan(&Layout::new(SHAPE).unwrap())
        .unwrap();
        let (result, _) = evaluate(&sk, &plan, &video).unwrap();
        assert_eq!(plan.result_ciphertexts(), 1);
        Fixture {
            client: ck.to_bytes().to_vec(),
            server: sk.to_bytes(),
            video: video.to_bytes(),
            plan,
            result: result.to_bytes(),
        }
    })
}

fn read_client(b: &[u8]) -> Result<(), BfvError> {
    ClientKey::from_bytes(b, SET).map(drop)
}
fn read_server(b: &[u8]) -> Result<(), BfvError> {
    ServerKey::from_bytes(b, SET).map(drop)
}
fn read_video(b: &[u8]) -> Result<(), BfvError> {
    Video::from_bytes(b, SET, SHAPE).map(drop)
}
fn read_result(b: &[u8]) -> Result<(), BfvError> {
    BfvResult::from_bytes(b, SET, &fixture().plan).map(drop)
}

type Reader = fn(&[u8]) -> Result<(), BfvError>;

/// The four blobs with their readers.
fn blobs() -> [(&'static str, &'static [u8], Reader); 4] {
    let f = fixture();
    [
        ("client key", &f.client, read_client),
        ("server key", &f.server, read_server),
        ("video", &f.video, read_video),
        ("result", &f.result, read_result),
    ]
}

/// Runs `read` on `bytes`: it must return an `Err` (a panic or an `Ok`
/// fails the test, naming `case`).
fn refused(case: &str, read: impl Fn(&[u8]) -> Result<(), BfvError>, bytes: &[u8]) -> BfvError {
    match catch_unwind(AssertUnwindSafe(|| read(bytes))) {
        Err(_) => panic!("{case}: the reader panicked"),
        Ok(Ok(())) => panic!("{case}: accepted"),
        Ok(Err(e)) => e,
    }
}

/// `refused`, and the error is `Malformed` with `needle` in its message.
fn malformed(case: &str, read: Reader, bytes: &[u8], needle: &str) {
    let e = refused(case, read, bytes);
    assert!(
        matches!(e, BfvError::Malformed { .. }),
        "{case}: not Malformed: {e}"
    );
    assert!(
        e.to_string().contains(needle),
        "{case}: {e:?} does not mention {needle:?}"
    );
}

/// `refused`, and the error is `TooLarge` with this size and limit.
fn too_large(case: &str, read: Reader, bytes: &[u8], limit: u64) {
    match refused(case, read, bytes) {
        BfvError::TooLarge { size, limit: l, .. } => {
            assert_eq!(l, limit, "{case}: limit");
            assert!(size > limit, "{case}: size {size} <= limit {limit}");
        }
        e => panic!("{case}: not TooLarge: {e}"),
    }
}

fn be_u32(b: &[u8], at: usize) -> usize {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap()) as usize
}

/// The first item at `at` (after its length prefix).
fn item_at(b: &[u8], at: usize) -> &[u8] {
    let len = be_u32(b, at);
    &b[at + 4..at + 4 + len]
}

fn with_item(mut out: Vec<u8>, item: &[u8]) -> Vec<u8> {
    out.extend_from_slice(&(item.len() as u32).to_be_bytes());
    out.extend_from_slice(item);
    out
}

/// A video blob of `SHAPE` holding exactly `items`.
fn video_with(items: &[&[u8]]) -> Vec<u8> {
    let f = fixture();
    let mut out = f.video[..VIDEO_ITEMS - 4].to_vec();
    out.extend_from_slice(&(items.len() as u32).to_be_bytes());
    items.iter().fold(out, |o, i| with_item(o, i))
}

/// A result blob holding exactly `items`.
fn result_with(items: &[&[u8]]) -> Vec<u8> {
    let f = fixture();
    let mut out = f.result[..HEADER + 1].to_vec();
    out.extend_from_slice(&(items.len() as u32).to_be_bytes());
    items.iter().fold(out, |o, i| with_item(o, i))
}

fn video_item() -> &'static [u8] {
    item_at(&fixture().video, VIDEO_ITEMS)
}

fn result_item() -> &'static [u8] {
    item_at(&fixture().result, RESULT_ITEMS)
}

/// Offsets inside the server key: (end of the relinearisation item, start
/// of the first Galois step).
fn server_offsets() -> (usize, usize) {
    let s = &fixture().server;
    let relin_end = HEADER + 4 + be_u32(s, HEADER);
    (relin_end, relin_end + 1)
}

#[test]
fn the_fixture_round_trips() {
    let f = fixture();
    for (name, bytes, read) in blobs() {
        read(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(&bytes[..8], MAGIC, "{name}");
    }
    // The server key holds 12 column rotations (1 .. 2048) and the row swap.
    let (relin_end, _) = server_offsets();
    assert_eq!(f.server[relin_end], 13);
    println!(
        "sizes: client {} B, server {} B, video {} B, result {} B",
        f.client.len(),
        f.server.len(),
        f.video.len(),
        f.result.len()
    );
}

#[test]
fn empty_and_truncated_bytes_are_refused() {
    let f = fixture();
    // Inside the magic, at the kind, inside the set id, right after the header.
    let common = [0usize, 1, 4, 7, 8, 9, 10, HEADER];
    let (relin_end, first_step) = server_offsets();
    let per_blob: [(&str, &[u8], Reader, Vec<usize>); 4] = [
        (
            "client key",
            &f.client,
            read_client,
            vec![HEADER + 2, HEADER + 4, HEADER + 4 + 100, f.client.len() - 1],
        ),
        (
            "server key",
            &f.server,
            read_server,
            vec![
                HEADER + 3,            // inside the relin length prefix
                HEADER + 4 + 100,      // inside the relin protobuf
                relin_end,             // no Galois key count
                first_step + 2,        // inside the first step
                first_step + 4,        // no item length
                first_step + 6,        // inside the item length prefix
                first_step + 8 + 1000, // inside the first Galois key
                f.server.len() - 1,    // inside the last Galois key
            ],
        ),
        (
            "video",
            &f.video,
            read_video,
            vec![
                HEADER + 1,          // inside the width
                HEADER + 7,          // inside the frame count
                HEADER + 8,          // no bits
                VIDEO_ITEMS - 2,     // inside the ciphertext count
                VIDEO_ITEMS,         // no item
                VIDEO_ITEMS + 2,     // inside the length prefix
                VIDEO_ITEMS + 4,     // an empty item body
                VIDEO_ITEMS + 4 + 7, // inside the protobuf
                f.video.len() / 2,
                f.video.len() - 1,
            ],
        ),
        (
            "result",
            &f.result,
            read_result,
            vec![
                HEADER + 2,           // inside the count
                RESULT_ITEMS,         // no item
                RESULT_ITEMS + 3,     // inside the length prefix
                RESULT_ITEMS + 4 + 5, // inside the protobuf
                f.result.len() - 1,
            ],
        ),
    ];
    for (name, bytes, read, offsets) in per_blob {
        for at in common.iter().copied().chain(offsets) {
            assert!(at < bytes.len());
            malformed(
                &format!("{name} cut at {at}"),
                read,
                &bytes[..at],
                "truncated",
            );
        }
    }
}

#[test]
fn a_truncated_protobuf_with_a_consistent_length_is_refused() {
    // The wire length says the item is complete; the protobuf inside is cut.
    let v = video_item();
    let r = result_item();
    for cut in [0, 1, 2, 5, 12, 100, v.len() / 2, v.len() - 33, v.len() - 1] {
        refused(
            &format!("video item cut at {cut}"),
            read_video,
            &video_with(&[&v[..cut]]),
        );
    }
    for cut in [0, 1, 3, 9, 1000, r.len() / 2, r.len() - 1] {
        refused(
            &format!("result item cut at {cut}"),
            read_result,
            &result_with(&[&r[..cut]]),
        );
    }
    let c = item_at(&fixture().client, HEADER);
    for cut in [0, 1, 2, 3, c.len() / 2, c.len() - 1] {
        let mut bytes = fixture().client[..HEADER].to_vec();
        bytes = with_item(bytes, &c[..cut]);
        refused(&format!("client item cut at {cut}"), read_client, &bytes);
    }
}

#[test]
fn oversized_bytes_are_refused_before_decoding() {
    let f = fixture();
    let video_limit = Video::limit(SET, SHAPE).unwrap();
    let result_limit = BfvResult::limit(SET, &f.plan);
    let cases: [(&str, &[u8], Reader, u64); 4] = [
        ("client key", &f.client, read_client, CLIENT_KEY_LIMIT),
        ("server key", &f.server, read_server, SERVER_KEY_LIMIT),
        ("video", &f.video, read_video, video_limit),
        ("result", &f.result, read_result, result_limit),
    ];
    for (name, bytes, read, limit) in cases {
        // A valid header followed by zeros: decoding would say Malformed.
        let mut zeros = bytes[..HEADER].to_vec();
        zeros.resize(limit as usize + 1, 0);
        too_large(&format!("{name}: zeros"), read, &zeros, limit);
        // The real blob padded past the limit: TooLarge, not "trailing bytes".
        let mut padded = bytes.to_vec();
        padded.resize(limit as usize + 1, 0);
        too_large(&format!("{name}: padded"), read, &padded, limit);
        // Exactly at the limit: not TooLarge (but malformed).
        let e = refused(
            &format!("{name}: at the limit"),
            read,
            &zeros[..limit as usize],
        );
        assert!(matches!(e, BfvError::Malformed { .. }), "{name}: {e}");
    }

    // A length prefix over the item limit is refused before it is read
    // (nothing of that size is allocated or waited for).
    let item_limit = SET.ciphertext_limit(0);
    let mut v = f.video[..VIDEO_ITEMS].to_vec();
    v.extend_from_slice(&u32::MAX.to_be_bytes());
    too_large("video item length u32::MAX", read_video, &v, item_limit);
    let mut v = f.video[..VIDEO_ITEMS].to_vec();
    v.extend_from_slice(&(item_limit as u32 + 1).to_be_bytes());
    v.resize(v.len() + item_limit as usize + 1, 0);
    too_large("video item one over", read_video, &v, item_limit);

    let last = SET.ciphertext_limit(SET.last_level());
    let mut r = f.result[..RESULT_ITEMS].to_vec();
    r.extend_from_slice(&(last as u32 + 1).to_be_bytes());
    too_large("result item length", read_result, &r, last);

    let mut s = f.server[..HEADER].to_vec();
    s.extend_from_slice(&u32::MAX.to_be_bytes());
    assert!(matches!(
        refused("server relin length u32::MAX", read_server, &s),
        BfvError::TooLarge { .. }
    ));
    let mut c = f.client[..HEADER].to_vec();
    c.extend_from_slice(&u32::MAX.to_be_bytes());
    too_large(
        "client item length u32::MAX",
        read_client,
        &c,
        CLIENT_KEY_LIMIT,
    );
}

#[test]
fn wrong_magic_kind_and_parameter_set_are_refused() {
    for (name, bytes, read) in blobs() {
        for (at, x) in [(0, 0x01), (5, 0xff), (7, 0x03)] {
            let mut b = bytes.to_vec();
            b[at] ^= x;
            malformed(&format!("{name}: magic byte {at}"), read, &b, "magic");
        }
        for kind in [0u8, 1, 2, 3, 4, 5, 0xff] {
            if kind == bytes[8] {
                continue;
            }
            let mut b = bytes.to_vec();
            b[8] = kind;
            malformed(&format!("{name}: kind {kind}"), read, &b, "kind");
        }
        for id in [0u16, 2, 0x0100, 0xffff] {
            let mut b = bytes.to_vec();
            b[9..11].copy_from_slice(&id.to_be_bytes());
            malformed(
                &format!("{name}: set id {id}"),
                read,
                &b,
                "parameter set id",
            );
        }
    }

    // Whole blobs given to the wrong reader.
    let f = fixture();
    malformed("result as video", read_video, &f.result, "kind");
    malformed("video as server key", read_server, &f.video, "kind");
    malformed("client key as server key", read_server, &f.client, "kind");
    malformed("result as client key", read_client, &f.result, "kind");
    malformed("client key as result", read_result, &f.client, "kind");
    // Blobs over the other reader's limit are refused by size first.
    assert!(matches!(
        refused("video as result", read_result, &f.video),
        BfvError::TooLarge { .. }
    ));
    assert!(matches!(
        refused("server key as video", read_video, &f.server),
        BfvError::TooLarge { .. }
    ));
    assert!(matches!(
        refused("server key as client key", read_client, &f.server),
        BfvError::TooLarge { .. }
    ));
    // A video header on a result's body (and the reverse).
    let mut b = f.result.clone();
    b[8] = 3;
    malformed("result relabelled as video", read_video, &b, "shape");
}

#[test]
fn a_video_of_another_shape_or_count_is_refused() {
    let f = fixture();
    for other in [
        Shape { width: 8, ..SHAPE },
        Shape { height: 5, ..SHAPE },
        Shape { frames: 3, ..SHAPE },
        Shape { frames: 1, ..SHAPE },
        Shape { bits: 3, ..SHAPE },
    ] {
        let e = refused(
            &format!("expected {other:?}"),
            |b| Video::from_bytes(b, SET, other).map(drop),
            &f.video,
        );
        assert!(e.to_string().contains("shape"), "{e}");
    }
    // An impossible expected shape.
    let e = Video::from_bytes(&f.video, SET, Shape { bits: 5, ..SHAPE }).unwrap_err();
    assert!(matches!(e, BfvError::Invalid(_)), "{e}");

    // The shape fields of the bytes edited.
    // width 260, width 5, height 9, 3 frames, 2 bits.
    for (at, v) in [
        (HEADER, 1u8),
        (HEADER + 1, 5),
        (HEADER + 3, 9),
        (HEADER + 7, 3),
        (HEADER + 8, 2),
    ] {
        let mut b = f.video.clone();
        b[at] = v;
        malformed(&format!("shape byte {at} = {v}"), read_video, &b, "shape");
    }

    // The ciphertext count.
    let item = video_item();
    for count in [0u32, 2, 3, u32::MAX] {
        let mut b = f.video.clone();
        b[VIDEO_ITEMS - 4..VIDEO_ITEMS].copy_from_slice(&count.to_be_bytes());
        malformed(
            &format!("video count {count}"),
            read_video,
            &b,
            "ciphertexts",
        );
    }
    malformed(
        "video of no item",
        read_video,
        &video_with(&[]),
        "ciphertexts",
    );
    malformed(
        "video of two items",
        read_video,
        &video_with(&[item, item]),
        "ciphertexts",
    );
    let r = result_item();
    for count in [0u32, 2, u32::MAX] {
        let mut b = f.result.clone();
        b[HEADER + 1..RESULT_ITEMS].copy_from_slice(&count.to_be_bytes());
        malformed(
            &format!("result count {count}"),
            read_result,
            &b,
            "ciphertexts",
        );
    }
    // Two items where the plan makes one: over the plan's size limit.
    let e = refused("result of two items", read_result, &result_with(&[r, r]));
    assert!(matches!(e, BfvError::TooLarge { .. }), "{e}");
    // A result read against a plan of another size.
    let plan2 = Program::CountBelow {
        frames: vec![0, 8],
        mask: vec![0, 5],
        threshold: 3,
    }
    .plan(
        &Layout::new(Shape {
            width: 32,
            height: 32,
            frames: 9,
            bits: 4,
        })
        .unwrap(),
    )
    .unwrap();
    assert_eq!(plan2.result_ciphertexts(), 2);
    let e = BfvResult::from_bytes(&f.result, SET, &plan2).unwrap_err();
    assert!(e.to_string().contains("ciphertexts"), "{e}");

    // The server key's Galois key count and steps.
    let (relin_end, first_step) = server_offsets();
    for count in [0u8, 12, 14, 0xff] {
        let mut b = f.server.clone();
        b[relin_end] = count;
        malformed(
            &format!("server key count {count}"),
            read_server,
            &b,
            "Galois keys",
        );
    }
    for step in [0u32, 2, 3, 4096] {
        let mut b = f.server.clone();
        b[first_step..first_step + 4].copy_from_slice(&step.to_be_bytes());
        malformed(
            &format!("server key first step {step}"),
            read_server,
            &b,
            "step",
        );
    }
}

/// Positions of the protobuf framing (tags, lengths, small fields) of a
/// ciphertext item: everything but the coefficient bytes and the seed.
fn framing(item: &[u8]) -> Vec<usize> {
    let ct = CiphertextProto::decode(item).unwrap();
    let mut pos: Vec<usize> = Vec::new();
    // Field 1 (each polynomial): tag, length varint, and the Rq fields
    // around the coefficients (representation, degree, coefficient length
    // before them; allow_variable_time after them, when set).
    let mut at = 0;
    for c in &ct.c {
        let rq = Rq::decode(c.as_slice()).unwrap();
        let outer = 1 + prost::encoding::encoded_len_varint(c.len() as u64);
        let suffix = if rq.allow_variable_time { 2 } else { 0 };
        let prefix = c.len() - rq.coefficients.len() - suffix;
        pos.extend(at..at + outer + prefix);
        let end = at + outer + c.len();
        pos.extend(end - suffix..end);
        at = end;
    }
    // The seed's tag and length (its 32 bytes may be any value), and the level.
    if !ct.seed.is_empty() {
        pos.extend([at, at + 1]);
        at += 2 + ct.seed.len();
    }
    pos.extend(at..item.len());
    pos
}

#[test]
fn flipped_bytes_in_a_ciphertext_are_refused_or_harmless() {
    // Every single-bit flip in the protobuf framing of a ciphertext is an
    // Err (malformed protobuf, wrong structure, or not canonical).
    for (name, item, wrap, read) in [
        (
            "video",
            video_item(),
            video_with as fn(&[&[u8]]) -> Vec<u8>,
            read_video as Reader,
        ),
        ("result", result_item(), result_with, read_result),
    ] {
        let pos = framing(item);
        assert!(pos.len() >= 8, "{name}: framing {pos:?}");
        for &at in &pos {
            for bit in 0..8 {
                let mut b = item.to_vec();
                b[at] ^= 1 << bit;
                refused(
                    &format!("{name}: bit {bit} of byte {at}"),
                    read,
                    &wrap(&[&b]),
                );
            }
        }
        // Flips in the coefficient bytes (or the seed) give another
        // well-formed ciphertext or an Err; never a panic. (Integrity of a
        // blob is its hash, not its format.)
        let mut ok = 0;
        for k in 0..64 {
            let at = k * (item.len() - 1) / 63;
            let mut b = item.to_vec();
            b[at] ^= 0x5a;
            let bytes = wrap(&[&b]);
            match catch_unwind(AssertUnwindSafe(|| read(&bytes))) {
                Err(_) => panic!("{name}: flip at {at} panicked"),
                Ok(r) => ok += usize::from(r.is_ok()),
            }
        }
        println!("{name}: {ok} of 64 data flips decode to another ciphertext");
    }
}

/// Rewrites polynomial `i` of a ciphertext item with `edit`.
fn edit_poly(item: &[u8], i: usize, edit: impl FnOnce(&mut Rq)) -> Vec<u8> {
    let mut ct = CiphertextProto::decode(item).unwrap();
    let mut rq = Rq::decode(ct.c[i].as_slice()).unwrap();
    edit(&mut rq);
    ct.c[i] = rq.encode_to_vec();
    ct.encode_to_vec()
}

#[test]
fn crafted_polynomials_are_refused() {
    for (name, item, wrap, read) in [
        (
            "video",
            video_item(),
            video_with as fn(&[&[u8]]) -> Vec<u8>,
            read_video as Reader,
        ),
        ("result", result_item(), result_with, read_result),
    ] {
        // Sanity: re-encoding through the local Rq type is the identity.
        assert_eq!(edit_poly(item, 0, |_| ()), item, "{name}");
        let cases: Vec<(&str, Vec<u8>)> = vec![
            // The first coefficient 2^43 - 1 >= q_0: unreduced.
            (
                "unreduced coefficient",
                edit_poly(item, 0, |rq| rq.coefficients[..6].fill(0xff)),
            ),
            // Every coefficient 2^43 - 1 ... (all bits set).
            (
                "all ones",
                edit_poly(item, 0, |rq| rq.coefficients.fill(0xff)),
            ),
            (
                "unknown representation 0",
                edit_poly(item, 0, |rq| rq.representation = 0),
            ),
            (
                "power basis",
                edit_poly(item, 0, |rq| rq.representation = 1),
            ),
            ("NTT-Shoup", edit_poly(item, 0, |rq| rq.representation = 3)),
            (
                "representation 7",
                edit_poly(item, 0, |rq| rq.representation = 7),
            ),
            ("degree 0", edit_poly(item, 0, |rq| rq.degree = 0)),
            ("degree 4096", edit_poly(item, 0, |rq| rq.degree = 4096)),
            (
                // A short polynomial fhe-math pads with zeros: not canonical.
                "degree 16",
                edit_poly(item, 0, |rq| {
                    rq.degree = 16;
                    let short = rq.coefficients.len() * 16 / 8192;
                    rq.coefficients.truncate(short);
                    rq.coefficients.fill(0);
                }),
            ),
            (
                "no coefficients",
                edit_poly(item, 0, |rq| rq.coefficients.clear()),
            ),
            (
                "one coefficient byte more",
                edit_poly(item, 0, |rq| rq.coefficients.push(0)),
            ),
        ];
        for (case, b) in cases {
            refused(&format!("{name}: {case}"), read, &wrap(&[&b]));
        }
        // Whole-ciphertext edits.
        let ct = CiphertextProto::decode(item).unwrap();
        let mut three = ct.clone();
        three.c.push(ct.c[0].clone());
        let mut none = ct.clone();
        none.c.clear();
        let mut bad_seed = ct.clone();
        bad_seed.seed = vec![7; 31];
        let mut level9 = ct.clone();
        level9.level = 9;
        for (case, p) in [
            ("three polynomials", three),
            ("no polynomial", none),
            ("31-byte seed", bad_seed),
            ("level 9", level9),
        ] {
            refused(
                &format!("{name}: {case}"),
                read,
                &wrap(&[&p.encode_to_vec()]),
            );
        }
    }
}

#[test]
fn ciphertexts_at_the_wrong_level_are_refused() {
    let par = SET.parameters();
    // A result's last-level ciphertext inside a video (level 0 expected):
    // small enough for the level-0 limit, refused by its level.
    let r = result_item();
    let e = refused("last-level ct in a video", read_video, &video_with(&[r]));
    assert!(
        matches!(e, BfvError::Malformed { .. }) && e.to_string().contains("level"),
        "{e}"
    );
    // A video's ciphertext switched to level 1, 2, 3 and 4, inside a video.
    let fresh = Ciphertext::from_bytes(video_item(), par).unwrap();
    for level in 1..=SET.last_level() {
        let mut ct = fresh.clone();
        ct.switch_to_level(level).unwrap();
        let b = ct.to_bytes();
        let e = refused(
            &format!("level {level} in a video"),
            read_video,
            &video_with(&[&b]),
        );
        assert!(e.to_string().contains("level"), "level {level}: {e}");
        // The same at the last level in a result is accepted (it is what
        // evaluation writes); any other level is refused.
        let res = result_with(&[&b]);
        if level == SET.last_level() {
            read_result(&res).unwrap();
        } else {
            refused(&format!("level {level} in a result"), read_result, &res);
        }
    }
    // A level-0 (video) ciphertext inside a result: over the last-level
    // item limit, refused before decoding.
    let e = refused(
        "level-0 ct in a result",
        read_result,
        &result_with(&[video_item()]),
    );
    assert!(matches!(e, BfvError::TooLarge { .. }), "{e}");
    // The level field lying about the polynomials.
    let mut p = CiphertextProto::decode(r).unwrap();
    p.level = 0;
    refused(
        "level field 0 on last-level polys",
        read_video,
        &video_with(&[&p.encode_to_vec()]),
    );
    let mut p = CiphertextProto::decode(video_item()).unwrap();
    p.level = SET.last_level() as u32;
    refused(
        "level field 4 on level-0 polys",
        read_result,
        &result_with(&[&p.encode_to_vec()]),
    );
}

#[test]
fn flipped_bytes_in_keys_are_refused() {
    let f = fixture();
    // Client key: the secret's protobuf framing, and coefficients out of range.
    let c = item_at(&f.client, HEADER);
    let wrap_client = |item: &[u8]| with_item(f.client[..HEADER].to_vec(), item);
    for at in [0usize, 1, 2] {
        for bit in 0..8 {
            let mut b = c.to_vec();
            b[at] ^= 1 << bit;
            refused(
                &format!("client key: bit {bit} of byte {at}"),
                read_client,
                &wrap_client(&b),
            );
        }
    }
    let sk = fhe::proto::bfv::SecretKey::decode(c).unwrap();
    assert_eq!(sk.coeffs.len(), 8192);
    for (case, edit) in [
        ("a coefficient 21", (0usize, 21i64)),
        ("a coefficient -1000", (8191, -1000)),
        ("a coefficient i64::MIN", (17, i64::MIN)),
    ] {
        let mut s = sk.clone();
        s.coeffs[edit.0] = edit.1;
        malformed(
            case,
            read_client,
            &wrap_client(&s.encode_to_vec()),
            "coefficients",
        );
    }
    let mut s = sk.clone();
    s.coeffs.pop();
    refused(
        "8191 coefficients",
        read_client,
        &wrap_client(&s.encode_to_vec()),
    );

    // Server key: the relinearisation key's framing and a Galois key's framing.
    let (relin_end, first_step) = server_offsets();
    let galois = first_step + 8;
    for at in [HEADER + 4, HEADER + 5, galois, galois + 1] {
        let mut b = f.server.clone();
        b[at] ^= 0x04;
        refused(&format!("server key: byte {at}"), read_server, &b);
    }
    // The count byte flipped.
    let mut b = f.server.clone();
    b[relin_end] ^= 0x01;
    refused("server key count", read_server, &b);
}

/// Replaces the item at `at` (a length prefix and its bytes) with `item`.
fn replace_item(bytes: &[u8], at: usize, item: &[u8]) -> Vec<u8> {
    let end = at + 4 + be_u32(bytes, at);
    let mut out = with_item(bytes[..at].to_vec(), item);
    out.extend_from_slice(&bytes[end..]);
    out
}

#[test]
fn a_server_key_holding_keys_of_another_level_fails_cleanly() {
    // Keys made by fhe.rs for ciphertexts at level 1 instead of 0: well-formed
    // protobufs under the right parameters. `ServerKey::from_bytes` checks
    // every key's levels, so such a key does not load.
    use fhe::bfv::{EvaluationKeyBuilder, RelinearizationKey, SecretKey};
    let f = fixture();
    let par = SET.parameters();
    let sk = SecretKey::from_bytes(item_at(&f.client, HEADER), par).unwrap();
    let mut rng = ChaCha20Rng::from_seed([9; 32]);
    let (_, first_step) = server_offsets();
    let galois = EvaluationKeyBuilder::new_leveled(&sk, 1, 1)
        .and_then(|mut b| {
            b.enable_column_rotation(1)?;
            b.build(&mut rng)
        })
        .unwrap();
    let relin = RelinearizationKey::new_leveled(&sk, 1, 1, &mut rng).unwrap();
    let video = Video::from_bytes(&f.video, SET, SHAPE).unwrap();
    let layout = Layout::new(SHAPE).unwrap();
    let count = Program::CountBelow {
        frames: vec![0],
        mask: vec![1, 2],
        threshold: 5,
    }
    .plan(&layout)
    .unwrap();
    for (case, bytes, plan) in [
        (
            "Galois key for step 1 at level 1",
            replace_item(&f.server, first_step + 4, &galois.to_bytes()),
            &f.plan,
        ),
        (
            "relinearisation key at level 1",
            replace_item(&f.server, HEADER, &relin.to_bytes()),
            &count,
        ),
    ] {
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let key = ServerKey::from_bytes(&bytes, SET)?;
            evaluate(&key, plan, &video).map(drop)
        }));
        match outcome {
            Err(_) => panic!("{case}: panicked"),
            Ok(Ok(())) => panic!("{case}: evaluated"),
            Ok(Err(e)) => assert!(e.to_string().contains("level"), "{case}: {e}"),
        }
    }
}
