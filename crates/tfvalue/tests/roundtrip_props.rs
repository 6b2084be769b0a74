//! Property-style round trips over generated (type, value) pairs: decode(encode(v)) == v for
//! msgpack (unknowns included) and JSON (wholly known values), and encoding is a fixed point.
//! A small deterministic generator keeps the test reproducible without extra dependencies.

use std::collections::BTreeMap;

use tfvalue::{Number, Refinements, Type, Value, json, msgpack};

/// xorshift64*: deterministic and good enough to pick shapes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }
}

fn gen_type(r: &mut Rng, depth: u32) -> Type {
    let leaf = depth == 0 || r.chance(3);
    if leaf {
        return match r.below(4) {
            0 => Type::String,
            1 => Type::Number,
            2 => Type::Bool,
            _ => Type::Dynamic,
        };
    }
    match r.below(5) {
        0 => Type::list(gen_type(r, depth - 1)),
        1 => Type::set(gen_type(r, depth - 1)),
        2 => Type::map(gen_type(r, depth - 1)),
        3 => Type::Tuple((0..r.below(3)).map(|_| gen_type(r, depth - 1)).collect()),
        _ => Type::object((0..r.below(4)).map(|i| (format!("a{i}"), gen_type(r, depth - 1)))),
    }
}

const NUMBERS: &[&str] = &[
    "0",
    "-7",
    "127",
    "-129",
    "65536",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551615",
    "1.5",
    "0.1",
    "-0.25",
    "1e20",
    "12345678901234567890123",
    "1e400",
    "-1e-400",
    "3.14159265358979323846264338327950288",
];

fn gen_number(r: &mut Rng) -> Number {
    match r.below(3) {
        0 => Number::parse(NUMBERS[r.below(NUMBERS.len() as u64) as usize]).unwrap(),
        1 => Number::from_i64(r.next() as i64 >> r.below(64)),
        _ => loop {
            let f = f64::from_bits(r.next());
            if f.is_finite() {
                break Number::from_f64(f).unwrap();
            }
        },
    }
}

fn gen_string(r: &mut Rng) -> String {
    const PARTS: &[&str] = &["a", "b-", "é", "\"", "\\", "\n", "日本", "x y", "{", "0.1"];
    (0..r.below(5))
        .map(|_| PARTS[r.below(PARTS.len() as u64) as usize])
        .collect()
}

fn gen_unknown(r: &mut Rng, ty: &Type) -> Value {
    let mut ref_ = Refinements::default();
    if *ty != Type::Dynamic && r.chance(2) {
        ref_.not_null = true;
        match ty {
            Type::String if r.chance(2) => ref_.string_prefix = Some(format!("p{}", gen_string(r))),
            Type::Number if r.chance(2) => {
                ref_.number_lower = Some((gen_number(r), r.chance(2)));
                if r.chance(2) {
                    ref_.number_upper = Some((gen_number(r), r.chance(2)));
                }
            }
            Type::List(_) | Type::Set(_) | Type::Map(_) if r.chance(2) => {
                ref_.length_lower = Some(r.below(3));
                ref_.length_upper = Some(3 + r.below(1000));
            }
            _ => {}
        }
    }
    Value::Unknown(ref_)
}

fn gen_value(r: &mut Rng, ty: &Type, unknowns: bool) -> Value {
    if r.chance(8) {
        return Value::Null;
    }
    if unknowns && r.chance(8) {
        return gen_unknown(r, ty);
    }
    let n = r.below(4);
    match ty {
        Type::String => Value::String(gen_string(r)),
        Type::Number => Value::Number(gen_number(r)),
        Type::Bool => Value::Bool(r.chance(2)),
        Type::List(t) => Value::List((0..n).map(|_| gen_value(r, t, unknowns)).collect()),
        Type::Set(t) => Value::Set((0..n).map(|_| gen_value(r, t, unknowns)).collect()),
        Type::Map(t) => Value::Map(
            (0..n)
                .map(|_| (gen_string(r), gen_value(r, t, unknowns)))
                .collect::<BTreeMap<_, _>>(),
        ),
        Type::Tuple(ts) => Value::Tuple(ts.iter().map(|t| gen_value(r, t, unknowns)).collect()),
        Type::Object(o) => Value::Object(
            o.attributes
                .iter()
                .map(|(k, t)| (k.clone(), gen_value(r, t, unknowns)))
                .collect(),
        ),
        Type::Dynamic => {
            let t = gen_type(r, 2);
            Value::dynamic(t.clone(), gen_value(r, &t, unknowns))
        }
    }
}

#[test]
fn msgpack_round_trips_generated_values() {
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    for i in 0..2000 {
        let ty = gen_type(&mut r, 3);
        let v = gen_value(&mut r, &ty, true);
        v.conforms(&ty).unwrap_or_else(|e| panic!("case {i}: {e}"));
        let bytes = msgpack::encode(&v, &ty).unwrap_or_else(|e| panic!("case {i}: {e}\n{v:?}"));
        let back = msgpack::decode(&bytes, &ty).unwrap_or_else(|e| panic!("case {i}: {e}"));
        assert_eq!(back, v, "case {i}: {ty}");
        assert_eq!(
            msgpack::encode(&back, &ty).unwrap(),
            bytes,
            "case {i}: {ty}"
        );
    }
}

#[test]
fn json_round_trips_generated_values() {
    let mut r = Rng(0x0123_4567_89ab_cdef);
    for i in 0..2000 {
        let ty = gen_type(&mut r, 3);
        let v = gen_value(&mut r, &ty, false);
        let text = json::encode(&v, &ty).unwrap_or_else(|e| panic!("case {i}: {e}\n{v:?}"));
        serde_json::from_slice::<&serde_json::value::RawValue>(&text)
            .unwrap_or_else(|e| panic!("case {i}: not JSON: {e}"));
        let back = json::decode(&text, &ty).unwrap_or_else(|e| panic!("case {i}: {e}"));
        assert_eq!(back, v, "case {i}: {ty}");
        assert_eq!(json::decode_strict(&text, &ty).unwrap(), v, "case {i}");
        assert_eq!(json::encode(&back, &ty).unwrap(), text, "case {i}: {ty}");
        // And across codecs, as UpgradeResourceState does.
        let bytes = msgpack::encode(&back, &ty).unwrap();
        assert_eq!(msgpack::decode(&bytes, &ty).unwrap(), v, "case {i}");
    }
}
