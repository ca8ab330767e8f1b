//! `BigInt`: integers outside `i64`, as sign + little-endian magnitude bytes (the SMALL_BIG_EXT /
//! LARGE_BIG_EXT layout), normalised (no trailing zero bytes). No arithmetic: ferl only carries them.

use std::cmp::Ordering;

/// An integer outside the `i64` range. Invariant (kept by the constructors): `magnitude` has no
/// most-significant zero bytes and the value does not fit in `i64`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BigInt {
    negative: bool,
    magnitude: Vec<u8>,
}

impl BigInt {
    /// Sign + little-endian magnitude. Returns `Err(i64)` when the value fits in `i64`
    /// (callers then use `Term::Int`), so a `BigInt` is always normalised.
    pub fn from_parts(negative: bool, mut magnitude: Vec<u8>) -> Result<BigInt, i64> {
        while magnitude.last() == Some(&0) {
            magnitude.pop();
        }
        if magnitude.len() <= 8 {
            let mut w = [0u8; 8];
            w[..magnitude.len()].copy_from_slice(&magnitude);
            let m = u64::from_le_bytes(w);
            if !negative && m <= i64::MAX as u64 {
                return Err(m as i64);
            }
            if negative && m <= 1u64 << 63 {
                return Err((m as i64).wrapping_neg());
            }
        }
        Ok(BigInt {
            negative,
            magnitude,
        })
    }

    /// From an `i128`; `Err(i64)` when it fits in `i64`.
    pub fn from_i128(v: i128) -> Result<BigInt, i64> {
        let m = v.unsigned_abs().to_le_bytes().to_vec();
        BigInt::from_parts(v < 0, m)
    }

    /// The value as `i128` if it fits.
    pub fn to_i128(&self) -> Option<i128> {
        if self.magnitude.len() > 16 {
            return None;
        }
        let mut w = [0u8; 16];
        w[..self.magnitude.len()].copy_from_slice(&self.magnitude);
        let m = u128::from_le_bytes(w);
        if self.negative {
            if m <= 1u128 << 127 {
                Some((m as i128).wrapping_neg())
            } else {
                None
            }
        } else {
            i128::try_from(m).ok()
        }
    }

    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// Little-endian magnitude bytes.
    pub fn magnitude(&self) -> &[u8] {
        &self.magnitude
    }

    /// Approximate value as f64 (for printing and float comparison).
    pub fn to_f64(&self) -> f64 {
        let mut v = 0f64;
        for b in self.magnitude.iter().rev() {
            v = v * 256.0 + *b as f64;
        }
        if self.negative {
            -v
        } else {
            v
        }
    }

    /// Compare magnitudes (both normalised).
    pub(crate) fn cmp_magnitude(a: &[u8], b: &[u8]) -> Ordering {
        a.len()
            .cmp(&b.len())
            .then_with(|| a.iter().rev().cmp(b.iter().rev()))
    }

    /// Numeric comparison of two normalised bignums.
    pub fn cmp_value(&self, other: &BigInt) -> Ordering {
        match (self.negative, other.negative) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => Self::cmp_magnitude(&self.magnitude, &other.magnitude),
            (true, true) => Self::cmp_magnitude(&other.magnitude, &self.magnitude),
        }
    }

    /// Decimal digits (schoolbook division by 10^19 chunks; fine for printing).
    pub fn to_decimal(&self) -> String {
        // Work on u32 limbs, most significant first.
        let mut limbs: Vec<u32> = self
            .magnitude
            .chunks(4)
            .map(|c| {
                let mut w = [0u8; 4];
                w[..c.len()].copy_from_slice(c);
                u32::from_le_bytes(w)
            })
            .rev()
            .collect();
        let mut chunks: Vec<u32> = Vec::new(); // base 1e9, least significant first
        while limbs.iter().any(|&l| l != 0) {
            let mut rem: u64 = 0;
            for l in limbs.iter_mut() {
                let cur = (rem << 32) | *l as u64;
                *l = (cur / 1_000_000_000) as u32;
                rem = cur % 1_000_000_000;
            }
            chunks.push(rem as u32);
            while limbs.first() == Some(&0) {
                limbs.remove(0);
            }
        }
        let mut s = String::new();
        if self.negative {
            s.push('-');
        }
        match chunks.split_last() {
            None => s.push('0'),
            Some((top, rest)) => {
                s.push_str(&top.to_string());
                for c in rest.iter().rev() {
                    s.push_str(&format!("{c:09}"));
                }
            }
        }
        s
    }
}

impl std::fmt::Display for BigInt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_decimal())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_to_i64() {
        assert_eq!(BigInt::from_i128(5), Err(5));
        assert_eq!(BigInt::from_i128(i64::MIN as i128), Err(i64::MIN));
        assert!(BigInt::from_i128(i64::MAX as i128 + 1).is_ok());
        assert!(BigInt::from_i128(i64::MIN as i128 - 1).is_ok());
        assert_eq!(BigInt::from_parts(false, vec![1, 0, 0]), Err(1));
    }

    #[test]
    fn decimal() {
        let b = BigInt::from_i128(1i128 << 64).unwrap();
        assert_eq!(b.to_decimal(), "18446744073709551616");
        let b = BigInt::from_i128(-(1i128 << 100)).unwrap();
        assert_eq!(b.to_decimal(), "-1267650600228229401496703205376");
        assert_eq!(b.to_i128(), Some(-(1i128 << 100)));
    }
}
