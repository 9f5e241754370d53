//! Measures the single-thread PBS latency and the 2-thread PBS throughput of
//! candidate tfhe parameter sets for a 4-bit (16-value) message space.
//!
//! Run: `cargo run --release -p blindfold-fhe --example param_probe [-- name-filter]`
use std::time::Instant;

use rayon::prelude::*;
use tfhe::shortint::atomic_pattern::AtomicPatternParameters;
use tfhe::shortint::parameters::v1_2::*;
use tfhe::shortint::parameters::v1_8::*;

fn probe(name: &str, p: AtomicPatternParameters) {
    let config = tfhe::ConfigBuilder::with_custom_parameters(p).build();
    let t = Instant::now();
    let ck = tfhe::ClientKey::generate(config);
    let sk = ck.generate_server_key();
    let keygen = t.elapsed().as_secs_f64();
    let cks = ck.into_raw_parts().0.into_raw_parts();
    let sks = sk.into_raw_parts().0.into_raw_parts();
    let lut = sks.generate_lookup_table(|x| u64::from(x < 7));
    let ct = cks.unchecked_encrypt(9);
    // warm up
    let _ = sks.apply_lookup_table(&ct, &lut);
    let mut times = Vec::new();
    for _ in 0..15 {
        let t = Instant::now();
        let r = sks.apply_lookup_table(&ct, &lut);
        times.push(t.elapsed().as_secs_f64());
        assert_eq!(cks.decrypt_message_and_carry(&r), 0);
    }
    times.sort_by(f64::total_cmp);
    let single = times[times.len() / 2];
    let n = 64;
    let cts: Vec<_> = (0..n).map(|_| ct.clone()).collect();
    let t = Instant::now();
    let _r: Vec<_> = cts
        .par_iter()
        .map(|c| sks.apply_lookup_table(c, &lut))
        .collect();
    let par = t.elapsed().as_secs_f64();
    println!(
        "{{\"params\":\"{name}\",\"keygen_s\":{keygen:.2},\"single_pbs_ms\":{:.2},\"par_pbs_per_s\":{:.1},\"threads\":{}}}",
        single * 1e3,
        n as f64 / par,
        rayon::current_num_threads()
    );
}

fn main() {
    let filter = std::env::args().nth(1).unwrap_or_default();
    let cands: Vec<(&str, AtomicPatternParameters)> = vec![
        (
            "V1_8_2_2_KS_PBS_TUNIFORM_2M128",
            V1_8_PARAM_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128.into(),
        ),
        (
            "V1_8_2_2_KS32_PBS_TUNIFORM_2M128",
            V1_8_PARAM_MESSAGE_2_CARRY_2_KS32_PBS_TUNIFORM_2M128.into(),
        ),
        (
            "V1_2_2_2_KS_PBS_TUNIFORM_2M64",
            V1_2_PARAM_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M64.into(),
        ),
        (
            "V1_8_MB2_2_2_KS_PBS_TUNIFORM_2M128",
            V1_8_PARAM_MULTI_BIT_GROUP_2_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128.into(),
        ),
        (
            "V1_8_MB3_2_2_KS_PBS_TUNIFORM_2M128",
            V1_8_PARAM_MULTI_BIT_GROUP_3_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128.into(),
        ),
        (
            "V1_8_MB4_2_2_KS_PBS_TUNIFORM_2M128",
            V1_8_PARAM_MULTI_BIT_GROUP_4_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128.into(),
        ),
    ];
    for (name, p) in cands {
        if name.contains(&filter) {
            probe(name, p);
        }
    }
}
