//! [`BfvResult`]: the result blob, stored at the last level (one 43-bit
//! modulus: about 88 kB per ciphertext instead of 446 kB), and its
//! decryption into the plan's outputs.
//!
//! Bytes (after the [`wire`](crate::wire) header):
//!
//! ```text
//! class u8             the input video's packing class (the plan is moved there)
//! count u32            = Plan::result_ciphertexts
//! count x item         fhe.rs Ciphertext protobuf at the last level
//! ```

use fhe::bfv::Ciphertext;
use fhe_traits::Serialize;

use crate::cipher;
use crate::error::{BfvError, Result};
use crate::eval::center;
use crate::keys::ClientKey;
use crate::params::{BfvParamSet, MAX_CIPHERTEXTS, PLAINTEXT};
use crate::program::{Part, Plan};
use crate::wire::{header, put_item, Kind, Reader};

/// An evaluated result.
#[derive(Clone, Debug)]
pub struct BfvResult {
    set: BfvParamSet,
    class: u8,
    cts: Vec<Ciphertext>,
}

impl BfvResult {
    /// Switches freshly evaluated ciphertexts to the last level.
    pub(crate) fn from_evaluated(
        set: BfvParamSet,
        class: u8,
        mut cts: Vec<Ciphertext>,
    ) -> Result<Self> {
        for ct in &mut cts {
            ct.switch_to_level(set.last_level())
                .map_err(BfvError::fhe("switch a result to the last level"))?;
        }
        Ok(BfvResult { set, class, cts })
    }

    /// The parameter set.
    pub fn param_set(&self) -> BfvParamSet {
        self.set
    }

    /// The ciphertexts.
    pub fn ciphertexts(&self) -> &[Ciphertext] {
        &self.cts
    }

    /// The blob's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = header(Kind::Result, self.set);
        out.push(self.class);
        self.put_body(&mut out);
        out
    }

    /// Appends `count u32 ‖ count x item` (the body after the header).
    pub(crate) fn put_body(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&(self.cts.len() as u32).to_be_bytes());
        for ct in &self.cts {
            put_item(out, &ct.to_bytes());
        }
    }

    /// Reads a body of exactly `expected` last-level ciphertexts.
    pub(crate) fn read_body(r: &mut Reader, set: BfvParamSet, expected: usize) -> Result<Self> {
        let count = r.u32()? as usize;
        if count != expected || count > MAX_CIPHERTEXTS {
            return Err(BfvError::malformed(
                r.what(),
                format!("{count} ciphertexts, not the {expected} of this job"),
            ));
        }
        let mut cts = Vec::with_capacity(count);
        for _ in 0..count {
            let item = r.item(set.ciphertext_limit(set.last_level()))?;
            cts.push(cipher::decode(
                item,
                set,
                set.last_level(),
                "result ciphertext",
            )?);
        }
        Ok(BfvResult { set, class: 0, cts })
    }

    /// The largest result blob `plan` can give.
    pub fn limit(set: BfvParamSet, plan: &Plan) -> u64 {
        65 + plan.result_ciphertexts() as u64 * (4 + set.ciphertext_limit(set.last_level()))
    }

    /// Reads result bytes, which must hold exactly the ciphertexts `plan` makes.
    pub fn from_bytes(bytes: &[u8], set: BfvParamSet, plan: &Plan) -> Result<Self> {
        let mut r = Reader::open(bytes, Kind::Result, set, Self::limit(set, plan))?;
        let class = r.u8()?;
        let moved = plan
            .for_class(class)
            .map_err(|e| BfvError::malformed(r.what(), e.to_string()))?;
        let result = Self::read_body(&mut r, set, moved.result_ciphertexts())?;
        r.finish()?;
        Ok(BfvResult { class, ..result })
    }

    /// Decrypts the outputs of `plan`. Only for results the data owner has
    /// verified (see `blindfold-job`).
    pub fn decrypt(&self, key: &ClientKey, plan: &Plan) -> Result<Vec<i64>> {
        let plan = plan.for_class(self.class)?;
        self.decrypt_outputs(key, plan.result_ciphertexts(), &plan.outputs)
    }

    /// Decrypts `outputs` (each a sum of parts over this result's
    /// `ciphertexts` ciphertexts): every part centred, the parts added.
    pub(crate) fn decrypt_outputs(
        &self,
        key: &ClientKey,
        ciphertexts: usize,
        outputs: &[Vec<Part>],
    ) -> Result<Vec<i64>> {
        if self.cts.len() != ciphertexts {
            return Err(BfvError::Invalid(format!(
                "{} result ciphertexts, not the plan's {ciphertexts}",
                self.cts.len()
            )));
        }
        let slots = self
            .cts
            .iter()
            .map(|ct| cipher::decrypt(key, ct))
            .collect::<Result<Vec<_>>>()?;
        Ok(outputs
            .iter()
            .map(|parts| {
                parts
                    .iter()
                    .map(|part| {
                        let raw = part.terms.iter().fold(part.offset, |acc, &(ct, slot, c)| {
                            (acc + slots[ct][slot] * c) % PLAINTEXT
                        });
                        center(raw)
                    })
                    .sum()
            })
            .collect())
    }

    /// The least noise budget left over the result's ciphertexts, in bits
    /// ([`noise_budget`](crate::noise_budget)); `None` for an empty result.
    pub fn least_noise_budget(&self, key: &ClientKey) -> Result<Option<i64>> {
        let mut least: Option<i64> = None;
        for ct in &self.cts {
            let b = cipher::noise_budget(key, ct)?;
            least = Some(least.map_or(b, |l| l.min(b)));
        }
        Ok(least)
    }
}
