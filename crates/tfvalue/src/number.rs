//! Arbitrary-precision decimal numbers, as Terraform's `number` type.
//!
//! Terraform numbers are arbitrary-precision (cty uses 512-bit big floats); configurations routinely
//! hold values such as `0.1` or `12345678901234567890123` that no machine type keeps exactly. This
//! type stores an exact decimal so that a value read from Terraform is written back unchanged.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use bigdecimal::BigDecimal;
use bigdecimal::num_bigint::{BigInt, Sign};
use bigdecimal::num_traits::{ToPrimitive, Zero};

use crate::error::{Error, Result};
use crate::path::AttributePath;

/// Largest decimal exponent magnitude accepted, so a hostile `1e999999999` cannot make
/// [`Number::to_string`] allocate gigabytes. Far beyond anything a real configuration holds
/// (`1e400` and `1e-400` are fine).
const MAX_SCALE: i64 = 100_000;

/// An exact decimal number. Equality, ordering and hashing are numeric (`1 == 1.0`).
#[derive(Clone, Default)]
pub struct Number(BigDecimal); // invariant: normalized (no trailing zeros in the digits)

/// How a number goes onto the msgpack wire, chosen exactly as cty does (see [`Number::wire_form`]).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum WireNumber {
    Int(i64),
    Float(f64),
    Text(String),
}

impl Number {
    /// The number `i`.
    pub fn from_i64(i: i64) -> Number {
        Number(BigDecimal::from(i).normalized())
    }

    /// The number `u`.
    pub fn from_u64(u: u64) -> Number {
        Number(BigDecimal::from(u).normalized())
    }

    /// The exact value of the float `f` (so `0.1f64` is `0.1000000000000000055511151231257827…`,
    /// as cty's `NumberFloatVal` makes it). NaN and infinities are not Terraform numbers.
    pub fn from_f64(f: f64) -> Result<Number> {
        if !f.is_finite() {
            return Err(Error::InvalidNumber {
                path: AttributePath::root(),
                text: f.to_string(),
                reason: "not a finite number".into(),
            });
        }
        if f == 0.0 {
            return Ok(Number::default());
        }
        let bits = f.to_bits();
        let negative = bits >> 63 == 1;
        let exp_bits = ((bits >> 52) & 0x7ff) as i64;
        let frac = bits & ((1u64 << 52) - 1);
        let (mantissa, exp2) = if exp_bits == 0 {
            (frac, -1074)
        } else {
            (frac | (1u64 << 52), exp_bits - 1075)
        };
        let mut digits = BigInt::from(mantissa);
        let scale = if exp2 >= 0 {
            digits <<= exp2 as usize;
            0
        } else {
            // m * 2^e = m * 5^-e / 10^-e
            digits *= BigInt::from(5u8).pow((-exp2) as u32);
            -exp2
        };
        if negative {
            digits = -digits;
        }
        Ok(Number(BigDecimal::new(digits, scale).normalized()))
    }

    /// Parses decimal text such as `-12`, `0.1`, `1e400`, `-1.5E-3` (the forms Terraform and JSON
    /// use). Infinity, NaN, hex and surrounding whitespace are rejected.
    pub fn parse(s: &str) -> Result<Number> {
        let bad = |reason: &str| Error::InvalidNumber {
            path: AttributePath::root(),
            text: s.to_string(),
            reason: reason.to_string(),
        };
        let bytes = s.as_bytes();
        let mut i = 0;
        let negative = match bytes.first() {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let int_start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let int_digits = &s[int_start..i];
        let mut frac_digits = "";
        if i < bytes.len() && bytes[i] == b'.' {
            i += 1;
            let frac_start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            frac_digits = &s[frac_start..i];
        }
        if int_digits.is_empty() && frac_digits.is_empty() {
            return Err(bad("no digits"));
        }
        let mut exp: i64 = 0;
        if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
            i += 1;
            let exp_negative = match bytes.get(i) {
                Some(b'-') => {
                    i += 1;
                    true
                }
                Some(b'+') => {
                    i += 1;
                    false
                }
                _ => false,
            };
            let exp_start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            let exp_text = &s[exp_start..i];
            if exp_text.is_empty() {
                return Err(bad("no digits in the exponent"));
            }
            // Saturate: anything this large is rejected below unless the number is zero.
            exp = exp_text
                .parse::<i64>()
                .unwrap_or(i64::MAX / 4)
                .min(i64::MAX / 4);
            if exp_negative {
                exp = -exp;
            }
        }
        if i != bytes.len() {
            return Err(bad("unexpected character"));
        }
        let all_digits = format!("{int_digits}{frac_digits}");
        let mut digits =
            BigInt::parse_bytes(all_digits.as_bytes(), 10).ok_or_else(|| bad("no digits"))?;
        if digits.is_zero() {
            return Ok(Number::default());
        }
        if negative {
            digits = -digits;
        }
        let scale = frac_digits.len() as i64 - exp;
        let n = BigDecimal::new(digits, scale).normalized();
        let (_, scale) = n.as_bigint_and_exponent();
        if scale.abs() > MAX_SCALE {
            return Err(bad("exponent out of range"));
        }
        Ok(Number(n))
    }

    /// The value as an `i64`, if it is an integer in range.
    pub fn to_i64(&self) -> Option<i64> {
        self.to_bigint()?.to_i64()
    }

    /// The value as a `u64`, if it is a non-negative integer in range.
    pub fn to_u64(&self) -> Option<u64> {
        self.to_bigint()?.to_u64()
    }

    /// The nearest `f64` (correctly rounded; ±infinity or ±0 when out of range).
    pub fn to_f64(&self) -> f64 {
        let (digits, scale) = self.0.as_bigint_and_exponent();
        format!("{digits}e{}", -scale)
            .parse::<f64>()
            .unwrap_or(f64::NAN)
    }

    /// Whether the number has no fractional part.
    pub fn is_integer(&self) -> bool {
        self.0.as_bigint_and_exponent().1 <= 0
    }

    /// Whether the number is zero.
    pub fn is_zero(&self) -> bool {
        self.0.is_zero()
    }

    /// Whether the number is below zero.
    pub fn is_negative(&self) -> bool {
        self.0.sign() == Sign::Minus
    }

    /// The exact value as a `bigdecimal::BigDecimal`, for arithmetic.
    pub fn to_bigdecimal(&self) -> BigDecimal {
        self.0.clone()
    }

    fn to_bigint(&self) -> Option<BigInt> {
        let (digits, scale) = self.0.as_bigint_and_exponent();
        if scale > 0 {
            return None;
        }
        // Anything beyond 10^20 overflows 64 bits anyway; don't build huge integers.
        if -scale > 20 {
            return None;
        }
        Some(digits * BigInt::from(10u8).pow((-scale) as u32))
    }

    /// The msgpack form cty's marshaller picks: an int when exact in int64, else a float64 when the
    /// float is exactly this number, else the decimal text. (cty never emits uint64: a value in
    /// `(i64::MAX, u64::MAX]` goes out as a float64 or a string, both of which every decoder reads.)
    pub(crate) fn wire_form(&self) -> WireNumber {
        if let Some(i) = self.to_i64() {
            return WireNumber::Int(i);
        }
        let f = self.to_f64();
        if f.is_finite() && Number::from_f64(f).is_ok_and(|back| back == *self) {
            return WireNumber::Float(f);
        }
        WireNumber::Text(self.to_string())
    }
}

impl fmt::Display for Number {
    /// Plain decimal text without exponent (as Go's `big.Float.Text('f', -1)`): `0.1`, `-7`,
    /// `12345678901234567890123`, and `1e400` written out in full.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (digits, scale) = self.0.as_bigint_and_exponent();
        let negative = digits.sign() == Sign::Minus;
        let text = digits.magnitude().to_string();
        let mut out = String::with_capacity(text.len() + scale.unsigned_abs() as usize + 3);
        if negative {
            out.push('-');
        }
        if scale <= 0 {
            out.push_str(&text);
            if !digits.is_zero() {
                out.extend(std::iter::repeat_n('0', (-scale) as usize));
            }
        } else {
            let scale = scale as usize;
            if text.len() > scale {
                let (int, frac) = text.split_at(text.len() - scale);
                out.push_str(int);
                out.push('.');
                out.push_str(frac);
            } else {
                out.push_str("0.");
                out.extend(std::iter::repeat_n('0', scale - text.len()));
                out.push_str(&text);
            }
        }
        f.pad(&out)
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Number({self})")
    }
}

impl PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl Eq for Number {}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.cmp(&other.0)
    }
}

impl Hash for Number {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Normalized, so numerically equal numbers have identical digits and scale.
        let (digits, scale) = self.0.as_bigint_and_exponent();
        digits.hash(state);
        scale.hash(state);
    }
}

impl FromStr for Number {
    type Err = Error;
    fn from_str(s: &str) -> Result<Number> {
        Number::parse(s)
    }
}

impl From<i64> for Number {
    fn from(i: i64) -> Number {
        Number::from_i64(i)
    }
}

impl From<i32> for Number {
    fn from(i: i32) -> Number {
        Number::from_i64(i.into())
    }
}

impl From<u64> for Number {
    fn from(u: u64) -> Number {
        Number::from_u64(u)
    }
}

impl From<u32> for Number {
    fn from(u: u32) -> Number {
        Number::from_u64(u.into())
    }
}

impl TryFrom<f64> for Number {
    type Error = Error;
    fn try_from(f: f64) -> Result<Number> {
        Number::from_f64(f)
    }
}

impl From<BigDecimal> for Number {
    fn from(d: BigDecimal) -> Number {
        Number(d.normalized())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Number {
        Number::parse(s).unwrap()
    }

    #[test]
    fn parse_and_display() {
        let cases = [
            ("0", "0"),
            ("-0", "0"),
            ("0.000", "0"),
            ("1", "1"),
            ("+1", "1"),
            ("1.0", "1"),
            ("1.50", "1.5"),
            ("0.1", "0.1"),
            ("-7", "-7"),
            (".5", "0.5"),
            ("5.", "5"),
            ("1e3", "1000"),
            ("1E+3", "1000"),
            ("1.5e-3", "0.0015"),
            ("-0.00012", "-0.00012"),
            ("12345678901234567890123", "12345678901234567890123"),
            ("0e999999999999999999999", "0"),
        ];
        for (input, want) in cases {
            assert_eq!(n(input).to_string(), want, "{input}");
        }
        let big = n("1e400").to_string();
        assert_eq!(big.len(), 401);
        assert!(big.starts_with("10000") && big.bytes().skip(1).all(|b| b == b'0'));
        let tiny = n("-1e-400").to_string();
        assert_eq!(tiny.len(), 403);
        assert!(tiny.starts_with("-0.000") && tiny.ends_with("01"));
    }

    #[test]
    fn parse_rejects() {
        for bad in [
            "", "-", ".", "e5", "1e", "1e+", "abc", " 1", "1 ", "inf", "NaN", "0x10", "1_000",
            "1e999999",
        ] {
            assert!(Number::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn numeric_equality_and_order() {
        assert_eq!(n("1"), n("1.0"));
        assert_eq!(n("100"), n("1e2"));
        assert!(n("0.1") < n("0.2"));
        assert!(n("-1e400") < n("-7"));
        let hash = |x: &Number| {
            use std::collections::hash_map::DefaultHasher;
            let mut h = DefaultHasher::new();
            x.hash(&mut h);
            h.finish()
        };
        assert_eq!(hash(&n("1.000")), hash(&n("1")));
        assert_eq!(hash(&n("1e2")), hash(&Number::from_i64(100)));
    }

    #[test]
    fn floats_are_exact() {
        assert_eq!(Number::from_f64(1.5).unwrap(), n("1.5"));
        assert_ne!(Number::from_f64(0.1).unwrap(), n("0.1"));
        assert_eq!(
            Number::from_f64(0.1).unwrap().to_string(),
            "0.1000000000000000055511151231257827021181583404541015625"
        );
        assert_eq!(Number::from_f64(-0.0).unwrap(), Number::default());
        assert_eq!(Number::from_f64(1e20).unwrap(), n("100000000000000000000"));
        assert_eq!(
            Number::from_f64(f64::MIN_POSITIVE / 4.0).unwrap().to_f64(),
            f64::MIN_POSITIVE / 4.0
        );
        assert!(Number::from_f64(f64::NAN).is_err());
        assert!(Number::from_f64(f64::INFINITY).is_err());
        assert_eq!(n("0.1").to_f64(), 0.1);
        assert_eq!(n("1e400").to_f64(), f64::INFINITY);
        assert_eq!(n("-1e-400").to_f64(), 0.0);
    }

    #[test]
    fn integers() {
        assert_eq!(n("42").to_i64(), Some(42));
        assert_eq!(n("4.2e1").to_i64(), Some(42));
        assert_eq!(n("4.25").to_i64(), None);
        assert_eq!(n("9223372036854775807").to_i64(), Some(i64::MAX));
        assert_eq!(n("9223372036854775808").to_i64(), None);
        assert_eq!(n("18446744073709551615").to_u64(), Some(u64::MAX));
        assert_eq!(n("1e400").to_i64(), None);
        assert!(n("1e400").is_integer());
        assert!(!n("0.5").is_integer());
        assert!(n("-3").is_negative());
    }

    #[test]
    fn wire_form_matches_cty() {
        assert_eq!(n("-7").wire_form(), WireNumber::Int(-7));
        assert_eq!(n("1.5").wire_form(), WireNumber::Float(1.5));
        assert_eq!(n("0.1").wire_form(), WireNumber::Text("0.1".into()));
        assert_eq!(n("1e20").wire_form(), WireNumber::Float(1e20));
        assert_eq!(
            n("12345678901234567890123").wire_form(),
            WireNumber::Text("12345678901234567890123".into())
        );
        assert_eq!(
            n("18446744073709551615").wire_form(),
            WireNumber::Text("18446744073709551615".into())
        );
    }
}
