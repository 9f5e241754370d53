//! What users type and read: token amounts, epsilon, hashes, accounts.
//!
//! - Amounts are written in whole units of the dev chains' token (12
//!   decimals, [`UNIT`]): `1.5` is 1.5 × 10^12 base units. Parsing is exact
//!   (no floating point).
//! - Epsilon is a decimal (`0.5`); the chain stores thousandths
//!   ([`MilliEpsilon`]).
//! - Hashes and contract addresses are 64 hex digits, `0x` optional.
//! - Accounts are a dev seed (`//Bob`), a key file holding a seed, or 64 hex
//!   digits (a public account id).
//! - [`hex32`]: serde helpers that write 32-byte values as hex in JSON.

use blindfold_chain::{Account, Signer};
use blindfold_market::UNIT;
use blindfold_protocol::types::{Balance, MilliEpsilon};

use crate::error::{ClientError, Result};

/// Decimal digits of one token unit.
const UNIT_DECIMALS: usize = 12;

/// Parses a decimal amount of token units (`10`, `0.25`) into base units.
pub fn parse_units(text: &str) -> Result<Balance> {
    let bad = |why: &str| {
        ClientError::Usage(format!(
            "invalid amount '{text}': {why} (write units like 10 or 0.25)"
        ))
    };
    let (whole, frac) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
    if whole.is_empty() && frac.is_empty() {
        return Err(bad("empty"));
    }
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if !digits(whole) || !digits(frac) {
        return Err(bad("not a non-negative decimal number"));
    }
    if frac.len() > UNIT_DECIMALS {
        return Err(bad("more than 12 decimals"));
    }
    let whole: Balance = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad("too large"))?
    };
    let frac_value: Balance = if frac.is_empty() {
        0
    } else {
        let padded = format!("{frac:0<width$}", width = UNIT_DECIMALS);
        padded.parse().map_err(|_| bad("not a number"))?
    };
    whole
        .checked_mul(UNIT)
        .and_then(|w| w.checked_add(frac_value))
        .ok_or_else(|| bad("too large"))
}

/// Formats base units as a decimal number of token units, without trailing
/// zeros (`1500000000000` → `1.5`).
pub fn format_units(amount: Balance) -> String {
    let whole = amount / UNIT;
    let frac = amount % UNIT;
    if frac == 0 {
        return whole.to_string();
    }
    let frac = format!("{frac:0width$}", width = UNIT_DECIMALS);
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

/// Parses epsilon (`0.5`, `1`) into thousandths, refusing more than three
/// decimals.
pub fn parse_epsilon(text: &str) -> Result<MilliEpsilon> {
    let bad = |why: &str| {
        ClientError::Usage(format!(
            "invalid epsilon '{text}': {why} (write it like 0.5 or 1, at most 3 decimals)"
        ))
    };
    let (whole, frac) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if (whole.is_empty() && frac.is_empty()) || !digits(whole) || !digits(frac) {
        return Err(bad("not a non-negative decimal number"));
    }
    if frac.len() > 3 {
        return Err(bad("more than 3 decimals"));
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad("too large"))?
    };
    let frac: u64 = format!("{frac:0<3}")
        .parse()
        .map_err(|_| bad("not a number"))?;
    whole
        .checked_mul(1000)
        .and_then(|w| w.checked_add(frac))
        .ok_or_else(|| bad("too large"))
}

/// Formats thousandths of epsilon as a decimal (`500` → `0.5`).
pub fn format_epsilon(milli: MilliEpsilon) -> String {
    let frac = milli % 1000;
    if frac == 0 {
        return (milli / 1000).to_string();
    }
    let frac = format!("{frac:03}");
    format!("{}.{}", milli / 1000, frac.trim_end_matches('0'))
}

/// Parses 32 bytes written as 64 hex digits (`0x` optional); `what` names
/// the value in the error.
pub fn parse_hex32(text: &str, what: &str) -> Result<[u8; 32]> {
    let t = text.trim();
    let t = t.strip_prefix("0x").unwrap_or(t);
    let bytes = hex::decode(t).map_err(|_| {
        ClientError::Usage(format!("invalid {what} '{text}': expected 64 hex digits"))
    })?;
    bytes.try_into().map_err(|_| {
        ClientError::Usage(format!(
            "invalid {what} '{text}': expected 64 hex digits (32 bytes)"
        ))
    })
}

/// `0x` followed by the 64 hex digits of `bytes`.
pub fn hex32(bytes: &[u8; 32]) -> String {
    format!("0x{}", hex::encode(bytes))
}

/// The first 8 bytes of `bytes` in hex, for tables.
pub fn short_hex(bytes: &[u8; 32]) -> String {
    format!("0x{}…", hex::encode(&bytes[..8]))
}

/// An account named by a dev seed (`//Bob`), a key file, or its 64-hex-digit
/// public id.
pub fn parse_account(spec: &str) -> Result<Account> {
    let t = spec.trim();
    let looks_hex = t.strip_prefix("0x").unwrap_or(t).len() == 64;
    if looks_hex {
        if let Ok(id) = parse_hex32(t, "account") {
            return Ok(id);
        }
    }
    Signer::from_spec(t).map(|s| s.account()).map_err(|e| {
        ClientError::Usage(format!(
            "invalid account '{spec}': {e} (use a dev seed like //Bob, a key file, or 64 hex digits)"
        ))
    })
}

/// Serde helpers that write 32-byte hashes and accounts as `0x` hex strings.
pub mod hex32 {
    use serde::Serializer;

    /// Serialises `[u8; 32]` as a `0x` hex string.
    pub fn serialize<S: Serializer>(value: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::hex32(value))
    }

    /// `Option<[u8; 32]>` as a hex string or `null`.
    pub mod option {
        use serde::Serializer;

        /// Serialises `Option<[u8; 32]>`.
        pub fn serialize<S: Serializer>(value: &Option<[u8; 32]>, s: S) -> Result<S::Ok, S::Error> {
            match value {
                Some(v) => s.serialize_str(&super::super::hex32(v)),
                None => s.serialize_none(),
            }
        }
    }
}

/// Serde helper that writes a balance as a decimal string of token units
/// (JSON numbers cannot hold every `u128`).
pub mod units_str {
    use blindfold_protocol::types::Balance;
    use serde::Serializer;

    /// Serialises a balance as `"1.5"`.
    pub fn serialize<S: Serializer>(value: &Balance, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_units(*value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_round_trip_exactly() {
        assert_eq!(parse_units("1").unwrap(), UNIT);
        assert_eq!(parse_units("0.25").unwrap(), UNIT / 4);
        assert_eq!(parse_units(".5").unwrap(), UNIT / 2);
        assert_eq!(parse_units("0.000000000001").unwrap(), 1);
        assert_eq!(format_units(3 * UNIT / 2), "1.5");
        assert_eq!(format_units(7 * UNIT), "7");
        assert_eq!(format_units(1), "0.000000000001");
        for bad in ["", "-1", "1e3", "1.0000000000001", "abc", "1.2.3"] {
            let err = parse_units(bad).unwrap_err();
            assert!(
                err.is_usage() && err.to_string().contains("invalid amount"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn epsilon_is_thousandths() {
        assert_eq!(parse_epsilon("0.5").unwrap(), 500);
        assert_eq!(parse_epsilon("2").unwrap(), 2000);
        assert_eq!(format_epsilon(1500), "1.5");
        assert_eq!(format_epsilon(2000), "2");
        assert!(parse_epsilon("0.0001").is_err());
        assert!(parse_epsilon("-1").is_err());
    }

    #[test]
    fn hashes_and_accounts() {
        let h = [0xab; 32];
        assert_eq!(parse_hex32(&hex32(&h), "hash").unwrap(), h);
        assert_eq!(parse_hex32(&hex::encode(h), "hash").unwrap(), h);
        assert!(parse_hex32("0x1234", "hash")
            .unwrap_err()
            .to_string()
            .contains("64 hex"));
        let bob = parse_account("//Bob").unwrap();
        assert_eq!(parse_account(&hex32(&bob)).unwrap(), bob);
        assert!(parse_account("not an account").is_err());
    }
}
