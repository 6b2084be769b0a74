//! The msgpack form of `DynamicValue`, which Terraform always sends and which is the only form
//! that can carry unknown values back.
//!
//! Mapping (as cty's msgpack codec, verified against Terraform 1.11.4): null = nil; unknown = any
//! extension (ext 12 carries refinements); numbers = int, float or decimal string; objects = maps
//! with every attribute; `dynamic` = `[type JSON, value]`.

use std::collections::BTreeMap;

use rmp::Marker;

use crate::error::{Error, Result};
use crate::number::{Number, WireNumber};
use crate::path::AttributePath;
use crate::shape::{Shape, resolve};
use crate::types::Type;
use crate::value::{Refinements, Value};

/// Extension type code of a refined unknown (cty >= 1.13, Terraform >= 1.6).
const EXT_REFINED_UNKNOWN: i8 = 12;
/// cty truncates string-prefix refinements to this many bytes to bound the extension size.
const MAX_PREFIX_BYTES: usize = 256;
/// Nesting bound for skipping unrecognised refinement entries (type-driven decoding is bounded by
/// the type itself).
const MAX_SKIP_DEPTH: usize = 64;

/// Decodes msgpack `bytes` as a value of type `ty`.
///
/// An empty slice is null (Terraform treats an empty `DynamicValue` as null). Object attributes
/// missing from the map decode as null, because the schema may have gained attributes the sender
/// did not know about; attributes not in the type are an error, because dropping them silently
/// would lose data. Set elements keep their wire order.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value> {
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    let mut r = Reader { rest: bytes };
    let root = AttributePath::root();
    let v = r.value(ty, &root)?;
    if !r.rest.is_empty() {
        return Err(Error::msgpack(
            &root,
            format!("{} trailing bytes after the value", r.rest.len()),
        ));
    }
    Ok(v)
}

/// Encodes `value` as msgpack for type `ty`, in the form Terraform itself writes.
///
/// The value is checked against the type as it goes (wrong kinds, attributes not in the type and
/// bad tuple lengths are errors with their path); an attribute missing from a [`Value::Object`]
/// is written as nil, since Terraform requires every attribute to be present. Unknowns are
/// `d4 00 00`, or ext 12 when they carry refinements that apply to the type. Set elements are
/// written sorted by their encoding so equal sets always encode identically.
pub fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    encode_into(&mut out, value, ty, &AttributePath::root())?;
    Ok(out)
}

// ----------------------------------------------------------------------------------------------
// Decoding

struct Reader<'a> {
    rest: &'a [u8],
}

fn eof(path: &AttributePath) -> Error {
    Error::msgpack(path, "unexpected end of input")
}

impl<'a> Reader<'a> {
    fn marker(&mut self, path: &AttributePath) -> Result<Marker> {
        rmp::decode::read_marker(&mut self.rest).map_err(|_| eof(path))
    }

    fn take(&mut self, n: usize, path: &AttributePath) -> Result<&'a [u8]> {
        if self.rest.len() < n {
            return Err(eof(path));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn be<const N: usize>(&mut self, path: &AttributePath) -> Result<[u8; N]> {
        let bytes = self.take(N, path)?;
        let mut a = [0u8; N];
        a.copy_from_slice(bytes);
        Ok(a)
    }

    fn u8(&mut self, path: &AttributePath) -> Result<u8> {
        Ok(self.be::<1>(path)?[0])
    }

    fn u16(&mut self, path: &AttributePath) -> Result<u16> {
        Ok(u16::from_be_bytes(self.be(path)?))
    }

    fn u32(&mut self, path: &AttributePath) -> Result<u32> {
        Ok(u32::from_be_bytes(self.be(path)?))
    }

    fn u64(&mut self, path: &AttributePath) -> Result<u64> {
        Ok(u64::from_be_bytes(self.be(path)?))
    }

    /// The length that follows a str/bin marker, or `None` if `m` is neither.
    fn bytes_len(&mut self, m: Marker, path: &AttributePath) -> Result<Option<usize>> {
        Ok(Some(match m {
            Marker::FixStr(n) => n as usize,
            Marker::Str8 | Marker::Bin8 => self.u8(path)? as usize,
            Marker::Str16 | Marker::Bin16 => self.u16(path)? as usize,
            Marker::Str32 | Marker::Bin32 => self.u32(path)? as usize,
            _ => return Ok(None),
        }))
    }

    fn array_len(&mut self, m: Marker, path: &AttributePath) -> Result<Option<usize>> {
        Ok(Some(match m {
            Marker::FixArray(n) => n as usize,
            Marker::Array16 => self.u16(path)? as usize,
            Marker::Array32 => self.u32(path)? as usize,
            _ => return Ok(None),
        }))
    }

    fn map_len(&mut self, m: Marker, path: &AttributePath) -> Result<Option<usize>> {
        Ok(Some(match m {
            Marker::FixMap(n) => n as usize,
            Marker::Map16 => self.u16(path)? as usize,
            Marker::Map32 => self.u32(path)? as usize,
            _ => return Ok(None),
        }))
    }

    /// The (type, payload) of an extension whose marker `m` was just read, or `None` if `m` is not
    /// an extension marker.
    fn ext(&mut self, m: Marker, path: &AttributePath) -> Result<Option<(i8, &'a [u8])>> {
        let len = match m {
            Marker::FixExt1 => 1,
            Marker::FixExt2 => 2,
            Marker::FixExt4 => 4,
            Marker::FixExt8 => 8,
            Marker::FixExt16 => 16,
            Marker::Ext8 => self.u8(path)? as usize,
            Marker::Ext16 => self.u16(path)? as usize,
            Marker::Ext32 => self.u32(path)? as usize,
            _ => return Ok(None),
        };
        let code = self.u8(path)? as i8;
        Ok(Some((code, self.take(len, path)?)))
    }

    fn utf8(&mut self, len: usize, path: &AttributePath) -> Result<&'a str> {
        let bytes = self.take(len, path)?;
        std::str::from_utf8(bytes).map_err(|_| Error::msgpack(path, "string is not valid UTF-8"))
    }

    /// A number whose marker `m` was just read: any int width, float32/64 or a decimal string.
    fn number(&mut self, m: Marker, path: &AttributePath) -> Result<Option<Number>> {
        let float = |f: f64| Number::from_f64(f).map_err(|e| e.at(path));
        Ok(Some(match m {
            Marker::FixPos(n) => Number::from_u64(n.into()),
            Marker::FixNeg(n) => Number::from_i64(n.into()),
            Marker::U8 => Number::from_u64(self.u8(path)?.into()),
            Marker::U16 => Number::from_u64(self.u16(path)?.into()),
            Marker::U32 => Number::from_u64(self.u32(path)?.into()),
            Marker::U64 => Number::from_u64(self.u64(path)?),
            Marker::I8 => Number::from_i64((self.u8(path)? as i8).into()),
            Marker::I16 => Number::from_i64((self.u16(path)? as i16).into()),
            Marker::I32 => Number::from_i64((self.u32(path)? as i32).into()),
            Marker::I64 => Number::from_i64(self.u64(path)? as i64),
            Marker::F32 => float(f32::from_bits(self.u32(path)?).into())?,
            Marker::F64 => float(f64::from_bits(self.u64(path)?))?,
            Marker::FixStr(_) | Marker::Str8 | Marker::Str16 | Marker::Str32 => {
                let len = self.bytes_len(m, path)?.unwrap_or_default();
                let text = self.utf8(len, path)?;
                Number::parse(text).map_err(|e| e.at(path))?
            }
            _ => return Ok(None),
        }))
    }

    /// A map key, which must be a string.
    fn key(&mut self, path: &AttributePath) -> Result<&'a str> {
        let m = self.marker(path)?;
        match m {
            Marker::FixStr(_) | Marker::Str8 | Marker::Str16 | Marker::Str32 => {
                let len = self.bytes_len(m, path)?.unwrap_or_default();
                self.utf8(len, path)
            }
            other => Err(Error::msgpack(
                path,
                format!("map keys must be strings, found {}", marker_kind(other)),
            )),
        }
    }

    fn value(&mut self, ty: &Type, path: &AttributePath) -> Result<Value> {
        let m = self.marker(path)?;
        if m == Marker::Null {
            return Ok(Value::Null);
        }
        if let Some((code, payload)) = self.ext(m, path)? {
            return Ok(Value::Unknown(applicable(
                unknown_refinements(code, payload),
                ty,
            )));
        }
        let mismatch = || Error::mismatch(path, ty.to_string(), marker_kind(m));
        match ty {
            Type::String => match self.bytes_len(m, path)? {
                Some(len) => Ok(Value::String(self.utf8(len, path)?.to_string())),
                None => Err(mismatch()),
            },
            Type::Number => self
                .number(m, path)?
                .map(Value::Number)
                .ok_or_else(mismatch),
            Type::Bool => match m {
                Marker::True => Ok(Value::Bool(true)),
                Marker::False => Ok(Value::Bool(false)),
                _ => Err(mismatch()),
            },
            Type::List(t) | Type::Set(t) => {
                let n = self.array_len(m, path)?.ok_or_else(mismatch)?;
                let elems = self.elements(n, |_| t, path)?;
                Ok(if matches!(ty, Type::Set(_)) {
                    Value::Set(elems)
                } else {
                    Value::List(elems)
                })
            }
            Type::Tuple(ts) => {
                let n = self.array_len(m, path)?.ok_or_else(mismatch)?;
                if n != ts.len() {
                    return Err(Error::TupleLength {
                        path: path.clone(),
                        expected: ts.len(),
                        found: n,
                    });
                }
                Ok(Value::Tuple(self.elements(n, |i| &ts[i], path)?))
            }
            Type::Map(t) => {
                let n = self.map_len(m, path)?.ok_or_else(mismatch)?;
                let mut out = BTreeMap::new();
                for _ in 0..n {
                    let k = self.key(path)?;
                    let p = path.key(k);
                    let v = self.value(t, &p)?;
                    if out.insert(k.to_string(), v).is_some() {
                        return Err(Error::msgpack(&p, "duplicate map key"));
                    }
                }
                Ok(Value::Map(out))
            }
            Type::Object(ot) => {
                let n = self.map_len(m, path)?.ok_or_else(mismatch)?;
                let mut out = BTreeMap::new();
                for _ in 0..n {
                    let k = self.key(path)?;
                    let p = path.attr(k);
                    let Some(t) = ot.attributes.get(k) else {
                        return Err(Error::UnsupportedAttribute { path: p });
                    };
                    let v = self.value(t, &p)?;
                    if out.insert(k.to_string(), v).is_some() {
                        return Err(Error::msgpack(&p, "duplicate attribute"));
                    }
                }
                for name in ot.attributes.keys() {
                    out.entry(name.clone()).or_insert(Value::Null);
                }
                Ok(Value::Object(out))
            }
            Type::Dynamic => {
                let n = self.array_len(m, path)?.ok_or_else(|| {
                    Error::mismatch(
                        path,
                        "a [type, value] pair for a dynamic value",
                        marker_kind(m),
                    )
                })?;
                if n != 2 {
                    return Err(Error::dynamic(
                        path,
                        format!("expected a [type, value] pair, found an array of {n}"),
                    ));
                }
                let tm = self.marker(path)?;
                let len = self.bytes_len(tm, path)?.ok_or_else(|| {
                    Error::dynamic(
                        path,
                        format!("the type must be bin or str, found {}", marker_kind(tm)),
                    )
                })?;
                let t = Type::from_json_bytes(self.take(len, path)?).map_err(|e| e.at(path))?;
                let v = self.value(&t, path)?;
                Ok(Value::Dynamic(t, Box::new(v)))
            }
        }
    }

    fn elements<'t>(
        &mut self,
        n: usize,
        ty_of: impl Fn(usize) -> &'t Type,
        path: &AttributePath,
    ) -> Result<Vec<Value>> {
        // Don't trust the declared length for the allocation: each element takes >= 1 byte.
        let mut out = Vec::with_capacity(n.min(self.rest.len()));
        for i in 0..n {
            out.push(self.value(ty_of(i), &path.index(i as i64))?);
        }
        Ok(out)
    }

    fn skip(&mut self, depth: usize, path: &AttributePath) -> Result<()> {
        if depth > MAX_SKIP_DEPTH {
            return Err(Error::msgpack(path, "nesting too deep"));
        }
        let m = self.marker(path)?;
        if let Some(len) = self.bytes_len(m, path)? {
            self.take(len, path)?;
        } else if let Some(n) = self.array_len(m, path)? {
            for _ in 0..n {
                self.skip(depth + 1, path)?;
            }
        } else if let Some(n) = self.map_len(m, path)? {
            for _ in 0..2 * n {
                self.skip(depth + 1, path)?;
            }
        } else if self.ext(m, path)?.is_none() {
            let fixed = match m {
                Marker::U8 | Marker::I8 => 1,
                Marker::U16 | Marker::I16 => 2,
                Marker::U32 | Marker::I32 | Marker::F32 => 4,
                Marker::U64 | Marker::I64 | Marker::F64 => 8,
                Marker::Reserved => return Err(Error::msgpack(path, "reserved marker 0xc1")),
                _ => 0,
            };
            self.take(fixed, path)?;
        }
        Ok(())
    }
}

/// The refinements of an unknown encoded as extension `code` with `payload`. Anything but a
/// well-formed ext 12 is a plain unknown: refinements are advisory, so losing them is safe, and
/// Terraform itself treats every extension as unknown.
fn unknown_refinements(code: i8, payload: &[u8]) -> Refinements {
    if code != EXT_REFINED_UNKNOWN || payload.len() <= 1 {
        return Refinements::default();
    }
    let mut r = Reader { rest: payload };
    parse_refinements(&mut r).unwrap_or_default()
}

/// The refinements that can hold for a value of `ty`, as cty keeps them
/// (`cty/msgpack/unknown.go`): a prefix for strings, bounds for numbers, lengths for
/// collections, none for `dynamic`. cty refuses the others; we drop them (refinements are
/// advisory), so that what we decode is what we encode again.
fn applicable(r: Refinements, ty: &Type) -> Refinements {
    let collection = matches!(ty, Type::List(_) | Type::Set(_) | Type::Map(_));
    match ty {
        Type::Dynamic => Refinements::default(),
        _ => Refinements {
            not_null: r.not_null,
            string_prefix: r.string_prefix.filter(|_| *ty == Type::String),
            number_lower: r.number_lower.filter(|_| *ty == Type::Number),
            number_upper: r.number_upper.filter(|_| *ty == Type::Number),
            length_lower: r.length_lower.filter(|_| collection),
            length_upper: r.length_upper.filter(|_| collection),
        },
    }
}

fn parse_refinements(r: &mut Reader<'_>) -> Result<Refinements> {
    let path = AttributePath::root();
    let p = &path;
    let m = r.marker(p)?;
    let n = r
        .map_len(m, p)?
        .ok_or_else(|| Error::msgpack(p, "not a map"))?;
    let mut out = Refinements::default();
    for _ in 0..n {
        let km = r.marker(p)?;
        let key = r.number(km, p)?.and_then(|k| k.to_i64());
        match key {
            Some(1) => {
                // cty only ever sends `false` (definitely not null).
                if r.marker(p)? == Marker::False {
                    out.not_null = true;
                }
            }
            Some(2) => {
                let m = r.marker(p)?;
                let len = r
                    .bytes_len(m, p)?
                    .ok_or_else(|| Error::msgpack(p, "prefix"))?;
                out.string_prefix = Some(r.utf8(len, p)?.to_string());
            }
            Some(k @ (3 | 4)) => {
                let m = r.marker(p)?;
                if r.array_len(m, p)? != Some(2) {
                    return Err(Error::msgpack(p, "bound"));
                }
                let m = r.marker(p)?;
                let bound = r.number(m, p)?.ok_or_else(|| Error::msgpack(p, "bound"))?;
                let inclusive = match r.marker(p)? {
                    Marker::True => true,
                    Marker::False => false,
                    _ => return Err(Error::msgpack(p, "bound")),
                };
                let slot = if k == 3 {
                    &mut out.number_lower
                } else {
                    &mut out.number_upper
                };
                *slot = Some((bound, inclusive));
            }
            Some(k @ (5 | 6)) => {
                let m = r.marker(p)?;
                let len = r.number(m, p)?.and_then(|n| n.to_u64());
                let slot = if k == 5 {
                    &mut out.length_lower
                } else {
                    &mut out.length_upper
                };
                *slot = Some(len.ok_or_else(|| Error::msgpack(p, "length"))?);
            }
            _ => r.skip(0, p)?,
        }
    }
    Ok(out)
}

fn marker_kind(m: Marker) -> &'static str {
    match m {
        Marker::Null => "nil",
        Marker::True | Marker::False => "bool",
        Marker::FixPos(_)
        | Marker::FixNeg(_)
        | Marker::U8
        | Marker::U16
        | Marker::U32
        | Marker::U64
        | Marker::I8
        | Marker::I16
        | Marker::I32
        | Marker::I64
        | Marker::F32
        | Marker::F64 => "number",
        Marker::FixStr(_) | Marker::Str8 | Marker::Str16 | Marker::Str32 => "string",
        Marker::Bin8 | Marker::Bin16 | Marker::Bin32 => "binary",
        Marker::FixArray(_) | Marker::Array16 | Marker::Array32 => "array",
        Marker::FixMap(_) | Marker::Map16 | Marker::Map32 => "map",
        Marker::FixExt1
        | Marker::FixExt2
        | Marker::FixExt4
        | Marker::FixExt8
        | Marker::FixExt16
        | Marker::Ext8
        | Marker::Ext16
        | Marker::Ext32 => "extension",
        Marker::Reserved => "reserved marker",
    }
}

// ----------------------------------------------------------------------------------------------
// Encoding

/// rmp reports io errors, which a `Vec<u8>` never produces.
fn ok<T, E: std::fmt::Debug>(r: std::result::Result<T, E>) {
    r.expect("writing msgpack to a Vec<u8> cannot fail");
}

fn len32(n: usize, path: &AttributePath) -> Result<u32> {
    u32::try_from(n).map_err(|_| Error::msgpack(path, "too large for msgpack"))
}

fn encode_into(out: &mut Vec<u8>, v: &Value, ty: &Type, path: &AttributePath) -> Result<()> {
    let shape = resolve(v, ty, path)?;
    match &shape {
        Shape::Null => ok(rmp::encode::write_nil(out)),
        Shape::Unknown(r) => write_unknown(out, r, ty, path)?,
        Shape::String(s) => {
            len32(s.len(), path)?;
            ok(rmp::encode::write_str(out, s));
        }
        Shape::Number(n) => match n.wire_form() {
            WireNumber::Int(i) => ok(rmp::encode::write_sint(out, i)),
            WireNumber::Float(f) => ok(rmp::encode::write_f64(out, f)),
            WireNumber::Text(s) => {
                len32(s.len(), path)?;
                ok(rmp::encode::write_str(out, &s));
            }
        },
        Shape::Bool(b) => ok(rmp::encode::write_bool(out, *b)),
        Shape::Seq { set, elems } => {
            ok(rmp::encode::write_array_len(out, len32(elems.len(), path)?));
            if *set {
                let mut encoded = elems
                    .iter()
                    .enumerate()
                    .map(|(i, (x, t))| {
                        let mut buf = Vec::new();
                        encode_into(&mut buf, x, t, &shape.child_path(path, i, ""))?;
                        Ok(buf)
                    })
                    .collect::<Result<Vec<_>>>()?;
                encoded.sort();
                for buf in encoded {
                    out.extend_from_slice(&buf);
                }
            } else {
                for (i, (x, t)) in elems.iter().enumerate() {
                    encode_into(out, x, t, &shape.child_path(path, i, ""))?;
                }
            }
        }
        Shape::Map { entries, .. } => {
            ok(rmp::encode::write_map_len(out, len32(entries.len(), path)?));
            for (i, (k, x, t)) in entries.iter().enumerate() {
                ok(rmp::encode::write_str(out, k));
                let p = shape.child_path(path, i, k);
                encode_into(out, x.unwrap_or(&Value::Null), t, &p)?;
            }
        }
        Shape::Dynamic(t, inner) => {
            ok(rmp::encode::write_array_len(out, 2));
            ok(rmp::encode::write_bin(out, &t.to_json_bytes()));
            encode_into(out, inner, t, path)?;
        }
    }
    Ok(())
}

/// Writes an unknown of type `ty`: ext 12 with the refinements that apply to the type, or the
/// plain `d4 00 00` when none do (what Terraform < 1.6 and cty without refinements expect).
fn write_unknown(
    out: &mut Vec<u8>,
    r: &Refinements,
    ty: &Type,
    path: &AttributePath,
) -> Result<()> {
    let mut entries = 0u32;
    let mut body = Vec::new();
    if r.not_null && *ty != Type::Dynamic {
        entries += 1;
        ok(rmp::encode::write_sint(&mut body, 1));
        ok(rmp::encode::write_bool(&mut body, false));
    }
    if let (Some(prefix), Type::String) = (&r.string_prefix, ty)
        && !prefix.is_empty()
    {
        entries += 1;
        ok(rmp::encode::write_sint(&mut body, 2));
        ok(rmp::encode::write_str(&mut body, truncate_prefix(prefix)));
    }
    if *ty == Type::Number {
        for (key, bound) in [(3, &r.number_lower), (4, &r.number_upper)] {
            if let Some((n, inclusive)) = bound {
                entries += 1;
                ok(rmp::encode::write_sint(&mut body, key));
                ok(rmp::encode::write_array_len(&mut body, 2));
                encode_into(&mut body, &Value::Number(n.clone()), &Type::Number, path)?;
                ok(rmp::encode::write_bool(&mut body, *inclusive));
            }
        }
    }
    if matches!(ty, Type::List(_) | Type::Set(_) | Type::Map(_)) {
        for (key, len) in [(5, r.length_lower), (6, r.length_upper)] {
            if let Some(len) = len {
                entries += 1;
                ok(rmp::encode::write_sint(&mut body, key));
                ok(rmp::encode::write_uint(&mut body, len));
            }
        }
    }
    if entries == 0 {
        out.extend_from_slice(&[0xd4, 0x00, 0x00]);
        return Ok(());
    }
    let mut payload = Vec::with_capacity(body.len() + 1);
    ok(rmp::encode::write_map_len(&mut payload, entries));
    payload.extend_from_slice(&body);
    ok(rmp::encode::write_ext_meta(
        out,
        len32(payload.len(), path)?,
        EXT_REFINED_UNKNOWN,
    ));
    out.extend_from_slice(&payload);
    Ok(())
}

/// The prefix cut to at most [`MAX_PREFIX_BYTES`] on a character boundary.
fn truncate_prefix(s: &str) -> &str {
    if s.len() <= MAX_PREFIX_BYTES {
        return s;
    }
    let mut end = MAX_PREFIX_BYTES;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
