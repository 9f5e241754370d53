//! The evaluator: the few homomorphic operations the pipelines are built
//! from, each counted ([`Counts`]).
//!
//! * [`Ev::mul`]: ciphertext x ciphertext, relinearised (the expensive one).
//! * [`Ev::rotate`]: a column rotation by a power of two, or the row swap
//!   (a key switch: the other expensive one); [`Ev::rotate_by`] composes any
//!   column rotation from the powers of two.
//! * [`Ev::mul_plain`] / [`Ev::mul_scalar`]: by a plaintext vector or constant (cheap).
//! * [`Ev::segment_sum`]: rotate-and-add, summing each segment into its first slot.
//! * [`Ev::polynomial`]: p(x) of degree <= 15 by Paterson-Stockmeyer (7
//!   multiplications at depth 4 for degree 15); [`Ev::powers`]: x^1 .. x^k.
//!
//! [`Counts`] also has each operation's count worked out from its
//! arguments alone ([`Counts::polynomial`], [`Counts::segment_sum`], ...):
//! `Plan::counts` and `PackedPlan::counts` price an evaluation before it
//! runs. Each follows the method of the same name here, branch for branch;
//! a change to one is a change to the other (`tests/programs.rs` compares
//! them with real evaluations).
//!
//! Everything is integer arithmetic mod q, so the same inputs give the
//! same bits whatever the thread count or CPU.

use std::sync::atomic::{AtomicU64, Ordering};

use fhe::bfv::{Ciphertext, Encoding, Plaintext};
use fhe_traits::FheEncoder;

use crate::error::{BfvError, Result};
use crate::keys::ServerKey;
use crate::params::{PLAINTEXT, ROW};

/// How many of each operation an evaluation ran.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Ciphertext x ciphertext multiplications (each relinearised).
    pub multiplications: u64,
    /// Rotations (key switches).
    pub rotations: u64,
    /// Multiplications by a plaintext (vector or constant).
    pub plain_multiplications: u64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.multiplications += o.multiplications;
        self.rotations += o.rotations;
        self.plain_multiplications += o.plain_multiplications;
    }
}

impl std::ops::Add for Counts {
    type Output = Counts;

    fn add(mut self, o: Counts) -> Counts {
        self += o;
        self
    }
}

impl Counts {
    /// The expensive operations: multiplications and rotations (what a
    /// worker prices its throughput by; plaintext products are cheap).
    pub fn expensive(&self) -> u64 {
        self.multiplications + self.rotations
    }

    /// `n` rotations ([`Ev::rotate`]).
    pub(crate) fn rotations(n: u64) -> Counts {
        Counts {
            rotations: n,
            ..Counts::default()
        }
    }

    /// `n` ciphertext multiplications ([`Ev::mul`]).
    pub(crate) fn multiplications(n: u64) -> Counts {
        Counts {
            multiplications: n,
            ..Counts::default()
        }
    }

    /// `n` plaintext products ([`Ev::mul_plain`], [`Ev::mul_scalar`]).
    pub(crate) fn plain(n: u64) -> Counts {
        Counts {
            plain_multiplications: n,
            ..Counts::default()
        }
    }

    /// What [`Ev::rotate_by`] counts for a rotation by `k` (< ROW): one
    /// rotation per set bit.
    pub(crate) fn rotate_by(k: usize) -> Counts {
        Counts::rotations(u64::from((k % ROW).count_ones()))
    }

    /// What [`Ev::segment_sum`] counts: log2(segment) rotations.
    pub(crate) fn segment_sum(segment: usize) -> Counts {
        let mut n = 0;
        let mut step = 1;
        while step < segment {
            n += 1;
            step *= 2;
        }
        Counts::rotations(n)
    }

    /// What [`Ev::powers`] counts for x^1 ..= x^k: k - 1 multiplications.
    pub(crate) fn powers(k: usize) -> Counts {
        Counts::multiplications(k.saturating_sub(1) as u64)
    }

    /// What [`Ev::polynomial`] counts for `coeffs` (at most 16): it depends
    /// on the degree and on which coefficients are zero mod t, exactly as
    /// the evaluation skips them (see `polynomial` and `giant_steps`).
    pub(crate) fn polynomial(coeffs: &[u64]) -> Counts {
        let mut c: Vec<u64> = coeffs.iter().map(|v| v % PLAINTEXT).collect();
        c.resize(16, 0);
        let degree = c.iter().rposition(|&v| v != 0).unwrap_or(0);
        let mut n = Counts::default();
        // Baby steps x^2, x^3 and y = x^4.
        if degree >= 2 {
            n += Counts::multiplications(1 + u64::from(degree >= 3) + u64::from(degree >= 4));
        }
        // lin(): one constant product per nonzero x^1 .. x^3 coefficient of
        // each block; its ciphertext part exists iff any of them does.
        let has_ct = |j: usize| c[4 * j + 1..4 * j + 4].iter().any(|&v| v != 0);
        for j in 0..4 {
            n += Counts::plain(c[4 * j + 1..4 * j + 4].iter().filter(|&&v| v != 0).count() as u64);
        }
        // lin_times(): a product by the ciphertext part, a constant product
        // by the constant; it returns something iff either is there.
        let lin_times = |ct: bool, c0: u64| Counts {
            multiplications: u64::from(ct),
            plain_multiplications: u64::from(c0 != 0),
            ..Counts::default()
        };
        let (mut q1y, mut q3y) = (false, false);
        if degree >= 4 {
            n += lin_times(has_ct(1), c[4]);
            q1y = has_ct(1) || c[4] != 0;
            if degree >= 8 {
                n += Counts::multiplications(1);
                n += lin_times(has_ct(3), c[12]);
                q3y = has_ct(3) || c[12] != 0;
            }
        }
        // A constant polynomial: `0 * x + c0`.
        if !has_ct(0) && !q1y {
            n += Counts::plain(1);
        }
        if degree >= 8 {
            n += lin_times(has_ct(2) || q3y, c[8]);
        }
        n
    }
}

/// `x mod t` of a signed value.
pub fn reduce(x: i64) -> u64 {
    x.rem_euclid(PLAINTEXT as i64) as u64
}

/// The centred representative of `x mod t`, in (-t/2, t/2].
pub fn center(x: u64) -> i64 {
    let x = x % PLAINTEXT;
    if x > PLAINTEXT / 2 {
        x as i64 - PLAINTEXT as i64
    } else {
        x as i64
    }
}

fn pow_mod(mut b: u64, mut e: u64) -> u64 {
    let mut r = 1u64;
    b %= PLAINTEXT;
    while e > 0 {
        if e & 1 == 1 {
            r = r * b % PLAINTEXT;
        }
        b = b * b % PLAINTEXT;
        e >>= 1;
    }
    r
}

/// The coefficients (mod t, lowest degree first) of the polynomial of
/// degree < n that takes `values[i]` at `x = i` for `i in 0..n`
/// (Lagrange interpolation over the field Z_t).
pub fn interpolate(values: &[u64]) -> Vec<u64> {
    let n = values.len();
    let t = PLAINTEXT;
    let mut out = vec![0u64; n];
    for (i, &v) in values.iter().enumerate() {
        if v.is_multiple_of(t) {
            continue;
        }
        // basis = prod_{j != i} (x - j) / (i - j)
        let mut basis = vec![1u64];
        let mut denom = 1u64;
        for j in 0..n {
            if j == i {
                continue;
            }
            let mut next = vec![0u64; basis.len() + 1];
            for (k, &c) in basis.iter().enumerate() {
                next[k + 1] = (next[k + 1] + c) % t;
                next[k] = (next[k] + c * (t - j as u64 % t)) % t;
            }
            basis = next;
            denom = denom * reduce(i as i64 - j as i64) % t;
        }
        let scale = v % t * pow_mod(denom, t - 2) % t;
        for (k, c) in basis.iter().enumerate() {
            out[k] = (out[k] + c * scale) % t;
        }
    }
    out
}

/// The evaluator over one server key, with operation counters.
pub(crate) struct Ev<'a> {
    key: &'a ServerKey,
    mults: AtomicU64,
    rots: AtomicU64,
    plain: AtomicU64,
}

/// A linear combination `ct + c` (either part may be absent).
struct Lin {
    ct: Option<Ciphertext>,
    c: u64,
}

impl<'a> Ev<'a> {
    pub(crate) fn new(key: &'a ServerKey) -> Self {
        Ev {
            key,
            mults: AtomicU64::new(0),
            rots: AtomicU64::new(0),
            plain: AtomicU64::new(0),
        }
    }

    pub(crate) fn counts(&self) -> Counts {
        Counts {
            multiplications: self.mults.load(Ordering::Relaxed),
            rotations: self.rots.load(Ordering::Relaxed),
            plain_multiplications: self.plain.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn mul(&self, a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext> {
        self.mults.fetch_add(1, Ordering::Relaxed);
        self.key.multiply(a, b)
    }

    /// Rotates each row left by `step` (a power of two), or swaps rows (0).
    pub(crate) fn rotate(&self, ct: &Ciphertext, step: u32) -> Result<Ciphertext> {
        self.rots.fetch_add(1, Ordering::Relaxed);
        self.key.rotate(ct, step)
    }

    /// Rotates each row left by any `k < ROW`: one rotation per set bit of `k`.
    pub(crate) fn rotate_by(&self, ct: &Ciphertext, k: usize) -> Result<Ciphertext> {
        if k >= ROW {
            return Err(BfvError::Invalid(format!(
                "a rotation by {k} slots is not within a row"
            )));
        }
        let mut out = ct.clone();
        for bit in 0..ROW.trailing_zeros() {
            if k >> bit & 1 == 1 {
                out = self.rotate(&out, 1 << bit)?;
            }
        }
        Ok(out)
    }

    fn plaintext(&self, values: &[u64], encoding: Encoding) -> Result<Plaintext> {
        Plaintext::try_encode(values, encoding, self.key.parameters())
            .map_err(BfvError::fhe("encode a plaintext"))
    }

    /// `ct * values`, slot by slot.
    pub(crate) fn mul_plain(&self, ct: &Ciphertext, values: &[u64]) -> Result<Ciphertext> {
        self.plain.fetch_add(1, Ordering::Relaxed);
        let pt = self.plaintext(values, Encoding::simd())?;
        Ok(ct * &pt)
    }

    /// `ct * c` in every slot. The noise grows by the constant's size, so
    /// a constant above t/2 is applied as its centred value: `-(ct * (t - c))`
    /// (a weight of -3 costs 2 bits, not the 17 of t - 3).
    pub(crate) fn mul_scalar(&self, ct: &Ciphertext, c: u64) -> Result<Ciphertext> {
        self.plain.fetch_add(1, Ordering::Relaxed);
        let c = c % PLAINTEXT;
        if c > PLAINTEXT / 2 {
            let pt = self.plaintext(&[PLAINTEXT - c], Encoding::poly())?;
            Ok(-(ct * &pt))
        } else {
            let pt = self.plaintext(&[c], Encoding::poly())?;
            Ok(ct * &pt)
        }
    }

    /// `ct + c` in every slot.
    pub(crate) fn add_scalar(&self, ct: &Ciphertext, c: u64) -> Result<Ciphertext> {
        if c.is_multiple_of(PLAINTEXT) {
            return Ok(ct.clone());
        }
        let pt = self.plaintext(&[c % PLAINTEXT], Encoding::poly())?;
        Ok(ct + &pt)
    }

    /// Rotate-and-add by 1, 2, ..., segment/2: the first slot of every
    /// aligned segment of `segment` slots then holds that segment's sum.
    pub(crate) fn segment_sum(&self, ct: &Ciphertext, segment: usize) -> Result<Ciphertext> {
        let mut acc = ct.clone();
        let mut step = 1;
        while step < segment {
            let r = self.rotate(&acc, step as u32)?;
            acc += &r;
            step *= 2;
        }
        Ok(acc)
    }

    /// x^1 ..= x^k (k <= 15), each at the least depth: 1, 2, 2, 3, ... (k - 1
    /// multiplications). x^e = x^hi * x^(e - hi) with hi the largest power
    /// of two below e, so the powers in (2^w, 2^(w+1)] need only earlier
    /// ones: each such wave runs in parallel.
    pub(crate) fn powers(&self, x: &Ciphertext, k: usize) -> Result<Vec<Ciphertext>> {
        use rayon::prelude::*;
        let mut p: Vec<Ciphertext> = vec![x.clone()];
        let mut hi = 1usize;
        while p.len() < k {
            let wave: Vec<Ciphertext> = (hi + 1..=(2 * hi).min(k))
                .into_par_iter()
                .map(|e| self.mul(&p[hi - 1], &p[e - hi - 1]))
                .collect::<Result<_>>()?;
            p.extend(wave);
            hi *= 2;
        }
        Ok(p)
    }

    fn lin(&self, coeffs: &[u64], pows: &[Ciphertext]) -> Result<Lin> {
        let mut ct: Option<Ciphertext> = None;
        for (i, &c) in coeffs.iter().enumerate().skip(1) {
            if c.is_multiple_of(PLAINTEXT) {
                continue;
            }
            let term = self.mul_scalar(&pows[i - 1], c)?;
            ct = Some(match ct {
                None => term,
                Some(acc) => &acc + &term,
            });
        }
        Ok(Lin {
            ct,
            c: coeffs.first().copied().unwrap_or(0) % PLAINTEXT,
        })
    }

    /// `l * y`, or `None` if `l` is zero.
    fn lin_times(&self, l: &Lin, y: &Ciphertext) -> Result<Option<Ciphertext>> {
        let mut out = match &l.ct {
            Some(ct) => Some(self.mul(ct, y)?),
            None => None,
        };
        if l.c != 0 {
            let cy = self.mul_scalar(y, l.c)?;
            out = Some(match out {
                None => cy,
                Some(o) => &o + &cy,
            });
        }
        Ok(out)
    }

    /// p(x) for `coeffs` (lowest first, at most 16): Paterson-Stockmeyer
    /// with baby steps x, x^2, x^3 and giant steps y = x^4, y^2:
    /// `p = (q0 + q1 y) + y^2 (q2 + q3 y)`: 7 multiplications at depth 4
    /// for degree 15. Independent products run side by side
    /// (`rayon::join`), so one ciphertext's polynomial has a critical path
    /// of 4 multiplications; the bits do not depend on the schedule.
    pub(crate) fn polynomial(&self, x: &Ciphertext, coeffs: &[u64]) -> Result<Ciphertext> {
        if coeffs.len() > 16 {
            return Err(BfvError::Invalid(format!(
                "a polynomial of degree {} (at most 15 is supported)",
                coeffs.len() - 1
            )));
        }
        let mut c = coeffs.iter().map(|v| v % PLAINTEXT).collect::<Vec<_>>();
        c.resize(16, 0);
        let degree = c.iter().rposition(|&v| v != 0).unwrap_or(0);
        let block = |j: usize| &c[4 * j..4 * j + 4];
        // Baby steps x^1 ..= x^3 (x^2 and x^3 only as needed), and y = x^4
        // when a giant step is needed: x^3 and x^4 both need only x^2.
        let mut pows = vec![x.clone()];
        if degree >= 2 {
            let x2 = self.mul(x, x)?;
            let (x3, y) = rayon::join(
                || (degree >= 3).then(|| self.mul(&x2, x)).transpose(),
                || (degree >= 4).then(|| self.mul(&x2, &x2)).transpose(),
            );
            pows.push(x2);
            if let Some(x3) = x3? {
                pows.push(x3);
            }
            return self.giant_steps(x, &c, degree, pows, y?, &block);
        }
        self.giant_steps(x, &c, degree, pows, None, &block)
    }

    fn giant_steps<'b>(
        &self,
        x: &Ciphertext,
        c: &'b [u64],
        degree: usize,
        mut pows: Vec<Ciphertext>,
        y: Option<Ciphertext>,
        block: &dyn Fn(usize) -> &'b [u64],
    ) -> Result<Ciphertext> {
        debug_assert_eq!(c.len(), 16);
        // Pad so that lin() can index x^1 ..= x^3 (unused entries are never read).
        while pows.len() < 3 {
            pows.push(x.clone());
        }
        let q: Vec<Lin> = (0..4)
            .map(|j| self.lin(block(j), &pows))
            .collect::<Result<_>>()?;

        // low = q0 + q1 * y;  high = q2 + q3 * y;  y2 = y * y: side by side.
        let (q1y, (y2, q3y)) = match &y {
            Some(y) => rayon::join(
                || self.lin_times(&q[1], y),
                || {
                    rayon::join(
                        || (degree >= 8).then(|| self.mul(y, y)).transpose(),
                        || {
                            if degree >= 8 {
                                self.lin_times(&q[3], y)
                            } else {
                                Ok(None)
                            }
                        },
                    )
                },
            ),
            None => (Ok(None), (Ok(None), Ok(None))),
        };
        let mut low = q[0].ct.clone();
        if let Some(t) = q1y? {
            low = Some(match low {
                None => t,
                Some(l) => &l + &t,
            });
        }
        let mut out = match low {
            Some(l) => self.add_scalar(&l, q[0].c)?,
            None => {
                // A constant polynomial: c0 in every slot, as 0 * x + c0.
                let zero = self.mul_scalar(x, 0)?;
                self.add_scalar(&zero, q[0].c)?
            }
        };
        if let Some(y2) = y2? {
            let mut high = q[2].ct.clone();
            if let Some(t) = q3y? {
                high = Some(match high {
                    None => t,
                    Some(h) => &h + &t,
                });
            }
            let high_lin = Lin {
                ct: high,
                c: q[2].c,
            };
            if let Some(t) = self.lin_times(&high_lin, &y2)? {
                out = &out + &t;
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(coeffs: &[u64], x: u64) -> u64 {
        coeffs
            .iter()
            .rev()
            .fold(0, |acc, &c| (acc * x + c) % PLAINTEXT)
    }

    #[test]
    fn interpolation_hits_every_point() {
        for threshold in 0..=16u64 {
            let values: Vec<u64> = (0..16).map(|x| u64::from(x < threshold)).collect();
            let c = interpolate(&values);
            assert_eq!(c.len(), 16);
            for x in 0..16u64 {
                assert_eq!(eval(&c, x), values[x as usize], "T={threshold} x={x}");
            }
        }
    }

    #[test]
    fn polynomial_counts_follow_the_degree() {
        let mults = |coeffs: &[u64]| Counts::polynomial(coeffs).multiplications;
        // Constant and linear: none; then x^2, x^3, y = x^4, and the giant steps.
        assert_eq!(mults(&[5]), 0);
        assert_eq!(mults(&[0, 3]), 0);
        assert_eq!(mults(&[0, 0, 1]), 1);
        assert_eq!(mults(&[0, 0, 0, 1]), 2);
        assert_eq!(mults(&[0, 0, 0, 0, 1]), 3);
        assert_eq!(mults(&[1; 16]), 7);
        // A coefficient of t is zero: [x < 16] on 4 bits is the constant 1.
        assert_eq!(mults(&[1, PLAINTEXT, 0, 0]), 0);
        for threshold in 1..16u64 {
            let values: Vec<u64> = (0..16).map(|x| u64::from(x < threshold)).collect();
            assert_eq!(mults(&interpolate(&values)), 7, "T={threshold}");
        }
        assert_eq!(Counts::segment_sum(1024).rotations, 10);
        assert_eq!(Counts::segment_sum(1).rotations, 0);
        assert_eq!(Counts::powers(15).multiplications, 14);
        assert_eq!(Counts::rotate_by(3 * 8).rotations, 2);
    }

    #[test]
    fn center_and_reduce() {
        assert_eq!(center(reduce(-5)), -5);
        assert_eq!(center(reduce(57344)), 57344);
        assert_eq!(center(reduce(-57344)), -57344);
    }
}
