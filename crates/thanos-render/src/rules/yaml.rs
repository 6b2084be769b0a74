//! A YAML node tree with the decoding semantics of `gopkg.in/yaml.v2` (v2.4.0), the library
//! Thanos' `tools rules-check` reads rule files with (`UnmarshalStrict` in
//! `pkg/rules/manager.go`).
//!
//! yaml-rust2 does the syntax (YAML 1.2, close to libyaml for the block and flow styles rule
//! files use); this module keeps each scalar's text, style and tag so the few yaml.v2 rules
//! that decide a verdict can be applied as yaml.v2 applies them (`decode.go`, `resolve.go`):
//! which scalars are null, that any other scalar decodes into a string field as its text, how
//! an integer field resolves, and that a strict decode rejects repeated keys.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A position in the rule file (1-based line and column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

impl Pos {
    fn from_marker(m: Marker) -> Self {
        Pos {
            line: m.line(),
            column: m.col() + 1,
        }
    }
}

/// One YAML node: what yaml.v2's decoder sees.
#[derive(Debug, Clone)]
pub struct Node {
    pub pos: Pos,
    /// The tag written in the file, shortened as yaml.v2 does (`!!str`), or `None`.
    pub tag: Option<String>,
    pub kind: Kind,
}

#[derive(Debug, Clone)]
pub enum Kind {
    Scalar {
        value: String,
        /// A plain (unquoted, not block) scalar: only these are resolved implicitly.
        plain: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

/// Why the text is not one YAML document.
#[derive(Debug, Clone)]
pub struct SyntaxError {
    pub pos: Pos,
    pub message: String,
}

const YAML_TAG_PREFIX: &str = "tag:yaml.org,2002:";

/// Collections nest at most this deep (a rule file needs 4 levels); deeper input is refused
/// rather than risking the stack when the tree is copied or dropped.
const MAX_DEPTH: usize = 64;

/// At most this many nodes may be copied by aliases in one file.
const MAX_ALIAS_NODES: usize = 100_000;

/// Parses `text` into the node of its only document (`None` for an empty stream or an empty
/// document, which yaml.v2 decodes as nothing at all).
///
/// yaml.v2's `Unmarshal` reads the first document and ignores the rest; a rule file with more
/// than one is refused here (a deliberate stricter check: the later documents would be
/// dropped without a word).
pub fn parse(text: &str) -> Result<Option<Node>, SyntaxError> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    if let Err(e) = parser.load(&mut builder, true) {
        let first_done =
            builder.stack.is_empty() && builder.docs.first().is_some_and(Option::is_some);
        return Err(SyntaxError {
            pos: Pos::from_marker(*e.marker()),
            message: if first_done {
                format!(
                    "{} after the first YAML document: a rule file is one document (Thanos would ignore the rest); remove it",
                    e.info()
                )
            } else {
                e.info().to_string()
            },
        });
    }
    if let Some(e) = builder.error {
        return Err(e);
    }
    match builder.docs.len() {
        0 => Ok(None),
        1 => Ok(builder.docs.pop().flatten()),
        _ => Err(SyntaxError {
            pos: builder.second_doc.unwrap_or(Pos { line: 1, column: 1 }),
            message: "more than one YAML document: a rule file is one document (Thanos reads only the first)".into(),
        }),
    }
}

/// Collects parser events into [`Node`]s, resolving aliases to copies of their anchors.
#[derive(Default)]
struct Builder {
    /// Open collections: the node and, for a mapping, a pending key.
    stack: Vec<(Node, Option<Node>)>,
    anchors: HashMap<usize, Node>,
    /// Anchor ids of the open collections (0 for none), to record them when they close.
    open_anchors: Vec<usize>,
    docs: Vec<Option<Node>>,
    second_doc: Option<Pos>,
    /// Nodes copied so far by aliases: bounded, so a small text cannot expand into a huge
    /// tree ("billion laughs"; yaml.v2 refuses excessive aliasing too).
    alias_nodes: usize,
    error: Option<SyntaxError>,
}

impl Builder {
    fn push_value(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => {
                if let Some(last) = self.docs.last_mut() {
                    *last = Some(node);
                }
            }
            Some((parent, pending)) => match &mut parent.kind {
                Kind::Seq(items) => items.push(node),
                Kind::Map(entries) => match pending.take() {
                    None => *pending = Some(node),
                    Some(key) => entries.push((key, node)),
                },
                Kind::Scalar { .. } => unreachable!("scalars are never open"),
            },
        }
    }

    fn open(&mut self, pos: Pos, anchor: usize, tag: Option<Tag>, kind: Kind) {
        if self.stack.len() >= MAX_DEPTH && self.error.is_none() {
            self.error = Some(SyntaxError {
                pos,
                message: format!("nested deeper than {MAX_DEPTH} levels"),
            });
        }
        let node = Node {
            pos,
            tag: tag.map(short_tag),
            kind,
        };
        self.stack.push((node, None));
        self.open_anchors.push(anchor);
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        let pos = Pos::from_marker(mark);
        match ev {
            Event::DocumentStart => {
                if !self.docs.is_empty() && self.second_doc.is_none() {
                    self.second_doc = Some(pos);
                }
                self.docs.push(None);
            }
            Event::DocumentEnd => {}
            Event::Scalar(value, style, anchor, tag) => {
                let node = Node {
                    pos,
                    tag: tag.map(short_tag),
                    kind: Kind::Scalar {
                        value,
                        plain: style == TScalarStyle::Plain,
                    },
                };
                if anchor > 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                self.push_value(node);
            }
            Event::SequenceStart(anchor, tag) => self.open(pos, anchor, tag, Kind::Seq(Vec::new())),
            Event::MappingStart(anchor, tag) => self.open(pos, anchor, tag, Kind::Map(Vec::new())),
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, _) = self.stack.pop().expect("balanced events");
                let anchor = self.open_anchors.pop().unwrap_or(0);
                if anchor > 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                self.push_value(node);
            }
            Event::Alias(id) => match self.anchors.get(&id) {
                Some(node) => {
                    self.alias_nodes += node.size();
                    if self.alias_nodes > MAX_ALIAS_NODES {
                        self.error = Some(SyntaxError {
                            pos,
                            message: "aliases expand to too many nodes".into(),
                        });
                        return;
                    }
                    let node = node.clone();
                    self.push_value(node);
                }
                None => {
                    self.error = Some(SyntaxError {
                        pos,
                        message: "unknown anchor".into(),
                    })
                }
            },
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
        }
    }
}

/// yaml.v2 spells the standard tags `!!x`; others stay as written.
fn short_tag(tag: Tag) -> String {
    let full = format!("{}{}", tag.handle, tag.suffix);
    match full.strip_prefix(YAML_TAG_PREFIX) {
        Some(rest) => format!("!!{rest}"),
        None => full,
    }
}

/// What a scalar resolves to under yaml.v2's implicit typing (`resolve.go`, YAML 1.1 style:
/// `yes`/`on` are booleans, `~` is null). Timestamps are left as strings: no field of a rule
/// file decodes one.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Resolved {
    Null,
    Bool,
    Int(i128),
    Float(f64),
    Str,
}

impl Resolved {
    fn tag(self) -> &'static str {
        match self {
            Resolved::Null => "!!null",
            Resolved::Bool => "!!bool",
            Resolved::Int(_) => "!!int",
            Resolved::Float(_) => "!!float",
            Resolved::Str => "!!str",
        }
    }
}

/// The tags yaml.v2 resolves a scalar against (`resolvableTag`); any other tag keeps the
/// scalar's text as a string.
fn resolvable(tag: &str) -> bool {
    matches!(
        tag,
        "!!str" | "!!bool" | "!!null" | "!!int" | "!!float" | "!!timestamp"
    )
}

/// Implicit resolution of a scalar's text (`resolve` in yaml.v2's `resolve.go`).
fn resolve_text(text: &str) -> Resolved {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" | "n"
        | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Resolved::Bool;
        }
        ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Resolved::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY),
        _ => {}
    }
    match text.as_bytes()[0] {
        b'.' => match text.parse::<f64>() {
            Ok(f) if is_go_float(text) => Resolved::Float(f),
            _ => Resolved::Str,
        },
        b'+' | b'-' | b'0'..=b'9' => {
            let plain: String = text.chars().filter(|&c| c != '_').collect();
            if let Some(i) = go_parse_int_base0(&plain) {
                return Resolved::Int(i);
            }
            if is_yaml_style_float(&plain)
                && let Ok(f) = plain.parse::<f64>()
            {
                return Resolved::Float(f);
            }
            Resolved::Str
        }
        _ => Resolved::Str,
    }
}

/// `strconv.ParseInt(s, 0, 64)` / `ParseUint` (after yaml.v2 dropped the underscores): an
/// optional sign, then `0x`/`0o`/`0b`/leading-`0` octal or decimal digits, in range of i64
/// (or u64 for a number without a sign).
fn go_parse_int_base0(s: &str) -> Option<i128> {
    let (neg, sign_len) = match s.as_bytes().first()? {
        b'-' => (true, 1),
        b'+' => (false, 1),
        _ => (false, 0),
    };
    let body = &s[sign_len..];
    let (radix, digits) = if let Some(d) = body.strip_prefix("0x").or(body.strip_prefix("0X")) {
        (16, d)
    } else if let Some(d) = body.strip_prefix("0o").or(body.strip_prefix("0O")) {
        (8, d)
    } else if let Some(d) = body.strip_prefix("0b").or(body.strip_prefix("0B")) {
        (2, d)
    } else if body.len() > 1 && body.starts_with('0') {
        (8, &body[1..])
    } else {
        (10, body)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = u128::from_str_radix(digits, radix).ok()?;
    let v = i128::try_from(v).ok()?;
    let v = if neg { -v } else { v };
    let fits = if sign_len == 0 {
        v <= i128::from(u64::MAX)
    } else {
        v >= i128::from(i64::MIN) && v <= i128::from(i64::MAX)
    };
    fits.then_some(v)
}

/// yaml.v2's `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Whether `strconv.ParseFloat` would take a text starting with `.` (decimal digits and an
/// exponent; Rust's parser also takes `inf`/`nan` spellings Go's does not at this position).
fn is_go_float(s: &str) -> bool {
    is_yaml_style_float(&s.replace('_', "")) && !s.contains('_')
}

/// A decode error at a node, worded like yaml.v2's.
#[derive(Debug, Clone)]
pub struct DecodeError {
    pub pos: Pos,
    pub message: String,
}

fn err(node: &Node, message: impl Into<String>) -> DecodeError {
    DecodeError {
        pos: node.pos,
        message: message.into(),
    }
}

impl Node {
    /// How many nodes this tree has.
    fn size(&self) -> usize {
        1 + match &self.kind {
            Kind::Scalar { .. } => 0,
            Kind::Seq(items) => items.iter().map(Node::size).sum(),
            Kind::Map(entries) => entries.iter().map(|(k, v)| k.size() + v.size()).sum(),
        }
    }

    /// yaml.v2's short description of a node in type errors (`!!seq`, ``!!str `x` ``).
    fn describe(&self) -> String {
        match &self.kind {
            Kind::Seq(_) => "!!seq".into(),
            Kind::Map(_) => "!!map".into(),
            Kind::Scalar { value, .. } => {
                let shown: String = if value.chars().count() > 10 {
                    value.chars().take(7).chain("...".chars()).collect()
                } else {
                    value.clone()
                };
                format!(
                    "{} `{shown}`",
                    self.resolve().map_or("!!str", Resolved::tag)
                )
            }
        }
    }

    /// A scalar's resolution: quoted and block scalars are strings, plain ones resolve
    /// implicitly, explicit standard tags must agree with the text (yaml.v2 fails with "cannot
    /// decode" otherwise; `!!float` also takes an integer).
    fn resolve(&self) -> Result<Resolved, DecodeError> {
        let Kind::Scalar { value, plain } = &self.kind else {
            return Ok(Resolved::Str);
        };
        match self.tag.as_deref() {
            None if !*plain => Ok(Resolved::Str),
            None => Ok(resolve_text(value)),
            Some("!!str") => Ok(Resolved::Str),
            Some("!!binary") => Err(err(
                self,
                "!!binary scalars are not supported in rule files; write the text itself",
            )),
            Some(tag) if !resolvable(tag) => Ok(Resolved::Str),
            Some(tag) => {
                let r = resolve_text(value);
                match (tag, r) {
                    (t, r) if t == r.tag() => Ok(r),
                    ("!!float", Resolved::Int(i)) => Ok(Resolved::Float(i as f64)),
                    // yaml.v2 tries timestamps only for plain or `!!timestamp` scalars; a
                    // timestamp is text to every field here.
                    ("!!timestamp", Resolved::Str) => Ok(Resolved::Str),
                    _ => Err(err(
                        self,
                        format!("cannot decode {} `{value}` as a {tag}", r.tag()),
                    )),
                }
            }
        }
    }

    /// Null as yaml.v2's decoder sees it for plain values: `~`, `null`, `Null`, `NULL`, an
    /// empty plain scalar, or one of those tagged `!!null` (`!!null x` fails to resolve).
    pub fn is_null(&self) -> bool {
        matches!(self.kind, Kind::Scalar { .. }) && matches!(self.resolve(), Ok(Resolved::Null))
    }

    /// Null as yaml.v2's `prepare` sees it before calling a type's own `UnmarshalYAML` (as
    /// Prometheus' `model.Duration` has): only `~`, `null`, an empty plain scalar or `!!null`.
    /// `Null`/`NULL` reach `UnmarshalYAML` as an empty string (an "empty duration string").
    pub fn is_null_before_unmarshaler(&self) -> bool {
        if self.tag.as_deref() == Some("!!null") {
            return true;
        }
        match &self.kind {
            Kind::Scalar { value, plain } if self.tag.is_none() => {
                value == "null" || value == "~" || (value.is_empty() && *plain)
            }
            _ => false,
        }
    }

    /// Decodes into a Go `string`: null is `""`, any other scalar is its text.
    pub fn string(&self) -> Result<String, DecodeError> {
        match &self.kind {
            Kind::Scalar { value, .. } => match self.resolve()? {
                Resolved::Null => Ok(String::new()),
                _ => Ok(value.clone()),
            },
            _ if self.is_null() => Ok(String::new()),
            _ => Err(err(
                self,
                format!("cannot unmarshal {} into string", self.describe()),
            )),
        }
    }

    /// Decodes into a Go `int` (64-bit): integers in range, floats truncated (as yaml.v2
    /// does), null as 0.
    pub fn int(&self) -> Result<i64, DecodeError> {
        if self.is_null() {
            return Ok(0);
        }
        let type_err = || {
            err(
                self,
                format!("cannot unmarshal {} into int", self.describe()),
            )
        };
        if !matches!(self.kind, Kind::Scalar { .. }) {
            return Err(type_err());
        }
        match self.resolve()? {
            Resolved::Int(i) => i64::try_from(i).map_err(|_| type_err()),
            Resolved::Float(f) if f.is_finite() && f <= i64::MAX as f64 && f >= i64::MIN as f64 => {
                Ok(f as i64)
            }
            _ => Err(type_err()),
        }
    }

    /// The entries of a mapping (`None` for null), or a type error naming `into`.
    pub fn entries(&self, into: &str) -> Result<Option<&[(Node, Node)]>, DecodeError> {
        match &self.kind {
            Kind::Map(entries) => Ok(Some(entries)),
            Kind::Scalar { .. } if self.resolve()? == Resolved::Null => Ok(None),
            _ => Err(err(
                self,
                format!("cannot unmarshal {} into {into}", self.describe()),
            )),
        }
    }

    /// The items of a sequence (`None` for null), or a type error naming `into`.
    pub fn items(&self, into: &str) -> Result<Option<&[Node]>, DecodeError> {
        match &self.kind {
            Kind::Seq(items) => Ok(Some(items)),
            Kind::Scalar { .. } if self.resolve()? == Resolved::Null => Ok(None),
            _ => Err(err(
                self,
                format!("cannot unmarshal {} into {into}", self.describe()),
            )),
        }
    }

    /// A mapping key as text. yaml.v2 would treat a plain `<<` as a merge key; merges are not
    /// supported here (a deliberate stricter check), so it is refused with a clear message.
    pub fn key(&self) -> Result<String, DecodeError> {
        if let Kind::Scalar { value, plain } = &self.kind
            && value == "<<"
            && ((*plain && self.tag.is_none()) || self.tag.as_deref() == Some("!!merge"))
        {
            return Err(err(
                self,
                "merge keys (<<) are not supported in rule files; write the fields out",
            ));
        }
        self.string()
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn refuses_alias_bombs_and_deep_nesting() {
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..8 {
            let p = i - 1;
            bomb.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let err = parse(&bomb).unwrap_err();
        assert!(err.message.contains("aliases"), "{}", err.message);

        let deep = "[".repeat(100) + &"]".repeat(100);
        assert!(parse(&deep).unwrap_err().message.contains("nested"));
        assert!(parse(&("[".repeat(10) + &"]".repeat(10))).is_ok());
    }
}
