//! Prometheus rule files for the `thanos_rule` resource: checked at plan time the way the
//! pinned Thanos (v0.42.5) checks them, parsed into typed groups, and rendered back to one
//! canonical YAML text for the ruler.
//!
//! [`check_rule_file`] gives the verdict of `thanos tools rules-check --rules=<file>`
//! (`cmd/thanos/tools.go` → `rules.ValidateAndCount` in `pkg/rules/manager.go`):
//! - the text is decoded as by `yaml.UnmarshalStrict` of gopkg.in/yaml.v2 (`rules/yaml.rs`):
//!   unknown fields and repeated keys are errors, durations follow `model.Duration`, and a
//!   group may carry Thanos' `partial_response_strategy` (`warn` or `abort`, any case;
//!   `storepb.PartialResponseStrategy.UnmarshalJSON`);
//! - each group needs a name, and each rule passes Prometheus' `Rule.Validate`
//!   (`model/rulefmt/rulefmt.go` of Prometheus v0.309.1) with UTF-8 name validation, as Thanos
//!   calls it: exactly one of `record`/`alert`, a non-empty `expr` that parses as PromQL
//!   (`rules/promql.rs`), no `for`/`keep_firing_for`/`annotations` on recording rules, no
//!   braces in a recorded name, label names neither empty nor `__name__`, annotation names not
//!   empty, and the labels and annotations of alerting rules parse as Go templates
//!   (`rules/gotemplate.rs`).
//!
//! Deliberately stricter than rules-check (each such file in `tests/rules/` is marked
//! `# thanos: ok`):
//! - a group name repeated in the file (rules-check's per-group check never sees the other
//!   groups; Prometheus' `RuleGroups.Validate` refuses it when the ruler loads the file);
//! - group `labels` with an empty or `__name__` name (likewise checked only at load);
//! - more than one YAML document, or anything after the first (Thanos reads the first and
//!   ignores the rest unread);
//! - not supported here: YAML merge keys (`<<`), `!!binary` scalars, YAML nested deeper than 64
//!   levels or aliases copying more than 100000 nodes, Go templates nested deeper than 1000.
//!
//! Known limits (where the verdict may still differ from rules-check; rules-check was run on
//! thousands of generated expressions, templates and mutated files without finding another):
//! - YAML syntax is read by yaml-rust2 (YAML 1.2) where Thanos uses libyaml's (YAML 1.1); the
//!   scalar typing is yaml.v2's, but exotic syntax (directives, odd indentation) may be judged
//!   differently;
//! - PromQL: regexes with `\Q...\E` quoting are refused (Rust's regex syntax lacks it, Go's
//!   has it); the grammar is promql-parser's (Prometheus v3.8) with the adjustments in
//!   `rules/promql.rs`, so a v3.9 syntax change that neither the table nor the generated
//!   expressions exercise could be judged differently.
//!
//! Every error carries a [`Location`] (group and rule by index and name, the field, the line)
//! that a caller turns into a Terraform diagnostic ([`RuleError::to_invalid`]).

mod duration;
mod gotemplate;
mod promql;
mod yaml;

use std::collections::{BTreeMap, HashSet};
use std::fmt;

pub use duration::Duration;
pub use yaml::Pos;

use crate::validate::{Invalid, PathSegment, display_path};
use yaml::{DecodeError, Node};

/// A checked rule file: its groups in file order (order matters: rules in a group are
/// evaluated one after another, and the ruler keeps group order).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RuleFile {
    pub groups: Vec<RuleGroup>,
}

/// One rule group.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RuleGroup {
    pub name: String,
    /// Evaluation interval; zero means the ruler's `--eval-interval`.
    pub interval: Duration,
    /// `query_offset`; `None` means the ruler's default (an explicit `0s` overrides it).
    pub query_offset: Option<Duration>,
    /// Most alerts or series one evaluation may produce; 0 means no limit.
    pub limit: i64,
    /// Thanos' per-group partial response strategy; `None` means the default, `ABORT`.
    pub partial_response_strategy: Option<PartialResponseStrategy>,
    /// Labels added to every rule of the group.
    pub labels: BTreeMap<String, String>,
    pub rules: Vec<Rule>,
}

/// What a Thanos ruler does when some StoreAPIs fail during a rule's query
/// (`storepb.PartialResponseStrategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PartialResponseStrategy {
    /// Evaluate on the partial data, with a warning.
    Warn,
    /// Fail the evaluation (the default for rules: alerting on partial data misleads).
    Abort,
}

impl PartialResponseStrategy {
    pub fn as_str(self) -> &'static str {
        match self {
            PartialResponseStrategy::Warn => "WARN",
            PartialResponseStrategy::Abort => "ABORT",
        }
    }
}

/// A recording or an alerting rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub kind: RuleKind,
    pub expr: String,
    /// How long an alert must be pending before it fires; zero for recording rules.
    pub r#for: Duration,
    /// How long an alert keeps firing after its condition cleared; zero for recording rules.
    pub keep_firing_for: Duration,
    pub labels: BTreeMap<String, String>,
    /// Empty for recording rules.
    pub annotations: BTreeMap<String, String>,
}

/// A rule's kind, with the name it records or alerts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleKind {
    Record(String),
    Alert(String),
}

impl RuleKind {
    pub fn name(&self) -> &str {
        match self {
            RuleKind::Record(n) | RuleKind::Alert(n) => n,
        }
    }
}

/// Where in a rule file an error is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    /// The group (index in the file, and its name as far as it could be read).
    pub group: Option<GroupRef>,
    /// The rule (index in its group, and its `record`/`alert` name if it has one).
    pub rule: Option<RuleRef>,
    /// The field within the rule (or group, or file): `expr`, `labels["severity"]`, ...
    pub field: Vec<PathSegment>,
    /// Line and column in the text, where the error is tied to one spot.
    pub pos: Option<Pos>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRef {
    pub index: usize,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleRef {
    pub index: usize,
    /// `Some(Record(..))`/`Some(Alert(..))` when the rule names one (the alert when it names
    /// both), `None` when it names neither.
    pub name: Option<RuleKind>,
}

impl Location {
    /// The path within the file, as Terraform would print it: `groups[0].rules[2].expr`.
    pub fn path(&self) -> Vec<PathSegment> {
        let mut path = Vec::new();
        if let Some(g) = &self.group {
            path.push(PathSegment::Attr("groups".into()));
            path.push(PathSegment::Index(g.index));
        }
        if let Some(r) = &self.rule {
            path.push(PathSegment::Attr("rules".into()));
            path.push(PathSegment::Index(r.index));
        }
        path.extend(self.field.iter().cloned());
        path
    }
}

impl fmt::Display for Location {
    /// `group 0 "api", rule 2 (alert "HighErrorRate"), labels["severity"] (line 9, column 11)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(g) = &self.group {
            parts.push(format!("group {} {:?}", g.index, g.name));
        }
        if let Some(r) = &self.rule {
            parts.push(match &r.name {
                Some(RuleKind::Record(n)) => format!("rule {} (record {n:?})", r.index),
                Some(RuleKind::Alert(n)) => format!("rule {} (alert {n:?})", r.index),
                None => format!("rule {}", r.index),
            });
        }
        if !self.field.is_empty() {
            parts.push(display_path(&self.field));
        }
        let mut s = parts.join(", ");
        match self.pos {
            Some(p) if s.is_empty() => s = format!("line {}, column {}", p.line, p.column),
            Some(p) => s.push_str(&format!(" (line {}, column {})", p.line, p.column)),
            None => {}
        }
        f.write_str(&s)
    }
}

/// One reason a rule file is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct RuleError {
    pub location: Location,
    /// What is wrong and what to do about it.
    pub message: String,
}

impl RuleError {
    /// A Terraform diagnostic at `attribute` (the rule file's attribute) whose detail names
    /// the group, rule and field.
    pub fn to_invalid(&self, attribute: Vec<PathSegment>) -> Invalid {
        Invalid {
            path: attribute,
            summary: "Invalid rule file".into(),
            detail: self.to_string(),
        }
    }
}

/// Checks a rule file as `thanos tools rules-check` does (plus the stricter checks in the
/// module docs) and returns its typed groups, or every error found.
///
/// Decoding errors (YAML syntax, unknown fields, wrong types) are reported alone: as with
/// Thanos, the rules are validated only once the whole file decodes.
pub fn check_rule_file(text: &str) -> Result<RuleFile, Vec<RuleError>> {
    let root = yaml::parse(text).map_err(|e| {
        vec![RuleError {
            location: Location {
                pos: Some(e.pos),
                ..Location::default()
            },
            message: format!("not valid YAML: {}", e.message),
        }]
    })?;
    let mut errors = Vec::new();
    let raw = decode_file(root.as_ref(), &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    let file = validate(raw, &mut errors);
    if errors.is_empty() {
        Ok(file)
    } else {
        Err(errors)
    }
}

impl RuleFile {
    /// How many rules the file has (what rules-check reports as "rules found").
    pub fn rule_count(&self) -> usize {
        self.groups.iter().map(|g| g.rules.len()).sum()
    }

    /// The canonical YAML text of the file: groups and rules in order, fields in a fixed
    /// order, label and annotation keys sorted, every string double-quoted (JSON escapes, which
    /// YAML 1.1 and 1.2 read alike), durations in Prometheus' canonical spelling. The same
    /// groups always render the same bytes, and [`check_rule_file`] reads them back equal.
    pub fn to_yaml(&self) -> String {
        let mut out = String::new();
        if self.groups.is_empty() {
            out.push_str("groups: []\n");
            return out;
        }
        out.push_str("groups:\n");
        for g in &self.groups {
            out.push_str(&format!("  - name: {}\n", quote(&g.name)));
            if !g.interval.is_zero() {
                out.push_str(&format!(
                    "    interval: {}\n",
                    quote(&g.interval.to_string())
                ));
            }
            if let Some(q) = g.query_offset {
                out.push_str(&format!("    query_offset: {}\n", quote(&q.to_string())));
            }
            if g.limit != 0 {
                out.push_str(&format!("    limit: {}\n", g.limit));
            }
            if let Some(s) = g.partial_response_strategy {
                out.push_str(&format!("    partial_response_strategy: {}\n", s.as_str()));
            }
            write_map(&mut out, "    ", "labels", &g.labels);
            if g.rules.is_empty() {
                out.push_str("    rules: []\n");
                continue;
            }
            out.push_str("    rules:\n");
            for r in &g.rules {
                match &r.kind {
                    RuleKind::Record(n) => out.push_str(&format!("      - record: {}\n", quote(n))),
                    RuleKind::Alert(n) => out.push_str(&format!("      - alert: {}\n", quote(n))),
                }
                out.push_str(&format!("        expr: {}\n", quote(&r.expr)));
                if !r.r#for.is_zero() {
                    out.push_str(&format!("        for: {}\n", quote(&r.r#for.to_string())));
                }
                if !r.keep_firing_for.is_zero() {
                    out.push_str(&format!(
                        "        keep_firing_for: {}\n",
                        quote(&r.keep_firing_for.to_string())
                    ));
                }
                write_map(&mut out, "        ", "labels", &r.labels);
                write_map(&mut out, "        ", "annotations", &r.annotations);
            }
        }
        out
    }
}

/// A YAML double-quoted scalar. Besides `"` and `\\`, every character YAML does not allow
/// as is (controls, DEL, C1 controls, BOM, U+FFFE/U+FFFF) and the ones YAML 1.1 reads as line
/// breaks inside a scalar (NEL, U+2028, U+2029) are escaped, so both yaml.v2 and yaml.v3 read
/// back exactly the text.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{0}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{feff}'
            | '\u{fffe}'
            | '\u{ffff}' => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn write_map(out: &mut String, indent: &str, key: &str, map: &BTreeMap<String, String>) {
    if map.is_empty() {
        return;
    }
    out.push_str(&format!("{indent}{key}:\n"));
    for (k, v) in map {
        out.push_str(&format!("{indent}  {}: {}\n", quote(k), quote(v)));
    }
}

// ---------------------------------------------------------------------------------------------
// Decoding: yaml.v2's strict decode into Thanos' `configGroups` / `configRuleAdapter` and
// Prometheus' `rulefmt.RuleGroup` / `rulefmt.Rule`.

/// A group as decoded, before validation.
#[derive(Default)]
struct RawGroup {
    pos: Option<Pos>,
    /// Where each field and label value is, to point errors at it.
    at: BTreeMap<Vec<PathSegment>, Pos>,
    name: String,
    interval: Duration,
    query_offset: Option<Duration>,
    limit: i64,
    strategy: Option<PartialResponseStrategy>,
    labels: BTreeMap<String, String>,
    rules: Vec<RawRule>,
}

#[derive(Default)]
struct RawRule {
    pos: Option<Pos>,
    /// Where each field, label and annotation value is, to point errors at it.
    at: BTreeMap<Vec<PathSegment>, Pos>,
    record: String,
    alert: String,
    expr: String,
    r#for: Duration,
    keep_firing_for: Duration,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
}

/// Where decoding is, for error locations.
#[derive(Clone, Default)]
struct Ctx {
    group: Option<GroupRef>,
    rule: Option<RuleRef>,
}

impl Ctx {
    fn error(&self, field: Vec<PathSegment>, e: DecodeError) -> RuleError {
        RuleError {
            location: Location {
                group: self.group.clone(),
                rule: self.rule.clone(),
                field,
                pos: Some(e.pos),
            },
            message: e.message,
        }
    }
}

fn attr(name: &str) -> Vec<PathSegment> {
    vec![PathSegment::Attr(name.into())]
}

/// The mapping entries of `node` with keys as text; a repeated key is an error, as in a
/// strict yaml.v2 decode ("already set").
fn keyed_entries<'n>(
    node: &'n Node,
    into: &str,
    ctx: &Ctx,
    field: &[PathSegment],
    errors: &mut Vec<RuleError>,
) -> Vec<(String, &'n Node, &'n Node)> {
    let entries = match node.entries(into) {
        Ok(e) => e.unwrap_or(&[]),
        Err(e) => {
            errors.push(ctx.error(field.to_vec(), e));
            return Vec::new();
        }
    };
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (k, v) in entries {
        match k.key() {
            Ok(key) => {
                if !seen.insert(key.clone()) {
                    // A struct's field (`expr`) or a map's key (`labels["severity"]`).
                    let mut at = field.to_vec();
                    at.push(if field.is_empty() {
                        PathSegment::Attr(key.clone())
                    } else {
                        PathSegment::Key(key.clone())
                    });
                    errors.push(ctx.error(
                        at,
                        DecodeError {
                            pos: k.pos,
                            message: format!(
                                "{key:?} is set twice; keep one (a strict YAML decode refuses repeated keys)"
                            ),
                        },
                    ));
                    continue;
                }
                out.push((key, k, v));
            }
            Err(e) => errors.push(ctx.error(field.to_vec(), e)),
        }
    }
    out
}

fn unknown_field(ctx: &Ctx, key: &str, k: &Node, allowed: &str) -> RuleError {
    ctx.error(
        attr(key),
        DecodeError {
            pos: k.pos,
            message: format!("unknown field {key:?}; the fields here are {allowed}"),
        },
    )
}

fn decode_file(root: Option<&Node>, errors: &mut Vec<RuleError>) -> Vec<RawGroup> {
    let ctx = Ctx::default();
    let Some(root) = root else {
        return Vec::new();
    };
    let mut groups = Vec::new();
    for (key, k, v) in keyed_entries(
        root,
        "a rule file (a mapping with `groups`)",
        &ctx,
        &[],
        errors,
    ) {
        if key != "groups" {
            errors.push(unknown_field(&ctx, &key, k, "`groups`"));
            continue;
        }
        match v.items("a list of groups") {
            Ok(items) => {
                for (i, g) in items.unwrap_or(&[]).iter().enumerate() {
                    groups.push(decode_group(i, g, errors));
                }
            }
            Err(e) => errors.push(ctx.error(attr("groups"), e)),
        }
    }
    groups
}

const GROUP_FIELDS: &str = "`name`, `interval`, `query_offset`, `limit`, `labels`, `partial_response_strategy` and `rules`";
const RULE_FIELDS: &str =
    "`record`, `alert`, `expr`, `for`, `keep_firing_for`, `labels` and `annotations`";

/// The text of a scalar field of a mapping, if it has one (for naming a group or rule in
/// errors before it is fully decoded).
fn peek_string(node: &Node, field: &str) -> Option<String> {
    let entries = node.entries("").ok()??;
    entries
        .iter()
        .find(|(k, _)| k.key().ok().as_deref() == Some(field))
        .and_then(|(_, v)| v.string().ok())
}

fn decode_group(index: usize, node: &Node, errors: &mut Vec<RuleError>) -> RawGroup {
    let ctx = Ctx {
        group: Some(GroupRef {
            index,
            name: peek_string(node, "name").unwrap_or_default(),
        }),
        rule: None,
    };
    let mut g = RawGroup {
        pos: Some(node.pos),
        ..RawGroup::default()
    };
    for (key, k, v) in keyed_entries(node, "a rule group (a mapping)", &ctx, &[], errors) {
        let field = attr(&key);
        g.at.insert(field.clone(), v.pos);
        let result = match key.as_str() {
            "name" => v.string().map(|s| g.name = s),
            "interval" => decode_duration(v).map(|d| g.interval = d.unwrap_or_default()),
            "query_offset" => decode_duration(v).map(|d| g.query_offset = d),
            "limit" => v.int().map(|l| g.limit = l),
            "partial_response_strategy" => v
                .string()
                .and_then(|s| decode_strategy(v, &s))
                .map(|s| g.strategy = s),
            "labels" => {
                g.labels = decode_string_map(v, &ctx, &field, &mut g.at, errors);
                Ok(())
            }
            "rules" => match v.items("a list of rules") {
                Ok(items) => {
                    for (i, r) in items.unwrap_or(&[]).iter().enumerate() {
                        g.rules.push(decode_rule(&ctx, i, r, errors));
                    }
                    Ok(())
                }
                Err(e) => Err(e),
            },
            _ => {
                errors.push(unknown_field(&ctx, &key, k, GROUP_FIELDS));
                Ok(())
            }
        };
        if let Err(e) = result {
            errors.push(ctx.error(field, e));
        }
    }
    g
}

fn rule_ref(index: usize, record: Option<String>, alert: Option<String>) -> RuleRef {
    let name = match (
        record.filter(|r| !r.is_empty()),
        alert.filter(|a| !a.is_empty()),
    ) {
        (_, Some(a)) => Some(RuleKind::Alert(a)),
        (Some(r), None) => Some(RuleKind::Record(r)),
        (None, None) => None,
    };
    RuleRef { index, name }
}

fn decode_rule(group: &Ctx, index: usize, node: &Node, errors: &mut Vec<RuleError>) -> RawRule {
    let ctx = Ctx {
        group: group.group.clone(),
        rule: Some(rule_ref(
            index,
            peek_string(node, "record"),
            peek_string(node, "alert"),
        )),
    };
    let mut r = RawRule {
        pos: Some(node.pos),
        ..RawRule::default()
    };
    for (key, k, v) in keyed_entries(node, "a rule (a mapping)", &ctx, &[], errors) {
        let field = attr(&key);
        r.at.insert(field.clone(), v.pos);
        let result = match key.as_str() {
            "record" => v.string().map(|s| r.record = s),
            "alert" => v.string().map(|s| r.alert = s),
            "expr" => v.string().map(|s| r.expr = s),
            "for" => decode_duration(v).map(|d| r.r#for = d.unwrap_or_default()),
            "keep_firing_for" => {
                decode_duration(v).map(|d| r.keep_firing_for = d.unwrap_or_default())
            }
            "labels" => {
                r.labels = decode_string_map(v, &ctx, &field, &mut r.at, errors);
                Ok(())
            }
            "annotations" => {
                r.annotations = decode_string_map(v, &ctx, &field, &mut r.at, errors);
                Ok(())
            }
            _ => {
                errors.push(unknown_field(&ctx, &key, k, RULE_FIELDS));
                Ok(())
            }
        };
        if let Err(e) = result {
            errors.push(ctx.error(field, e));
        }
    }
    r
}

/// A `model.Duration` field: its own `UnmarshalYAML` reads a string and parses it.
fn decode_duration(v: &Node) -> Result<Option<Duration>, DecodeError> {
    // yaml.v2 skips `UnmarshalYAML` for `null`, `~`, an empty plain scalar and `!!null`; a
    // real null then decodes to zero, but a quoted "null" or "~" reaches `UnmarshalText` as
    // text (and is no duration).
    if v.is_null_before_unmarshaler() && v.is_null() {
        return Ok(None);
    }
    let text = v.string()?;
    Duration::parse(&text).map(Some).map_err(|e| DecodeError {
        pos: v.pos,
        message: format!(
            "{e}; write a Prometheus duration such as 30s, 5m, 1h30m (units ms, s, m, h, d, w, y from largest to smallest)"
        ),
    })
}

/// `partial_response_strategy` (`storepb.PartialResponseStrategy.UnmarshalJSON`, which sees
/// the text wrapped in double quotes): empty means ABORT, otherwise `warn` or `abort` in any
/// case.
fn decode_strategy(v: &Node, text: &str) -> Result<Option<PartialResponseStrategy>, DecodeError> {
    let bad = || DecodeError {
        pos: v.pos,
        message: format!(
            "partial_response_strategy {text:?} is not one of WARN, ABORT (any case; empty means ABORT)"
        ),
    };
    let unquoted = gotemplate::unquote(&format!("\"{text}\"")).map_err(|_| bad())?;
    match unquoted.to_uppercase().as_str() {
        "" => Ok(None),
        "WARN" => Ok(Some(PartialResponseStrategy::Warn)),
        "ABORT" => Ok(Some(PartialResponseStrategy::Abort)),
        _ => Err(bad()),
    }
}

/// A `map[string]string` (labels, annotations): keys and values are scalars' text, null
/// values are empty strings.
fn decode_string_map(
    v: &Node,
    ctx: &Ctx,
    field: &[PathSegment],
    positions: &mut BTreeMap<Vec<PathSegment>, Pos>,
    errors: &mut Vec<RuleError>,
) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for (key, _, value) in keyed_entries(v, "a map of strings", ctx, field, errors) {
        let mut at = field.to_vec();
        at.push(PathSegment::Key(key.clone()));
        positions.insert(at.clone(), value.pos);
        match value.string() {
            Ok(s) => {
                map.insert(key, s);
            }
            Err(e) => errors.push(ctx.error(at, e)),
        }
    }
    map
}

// ---------------------------------------------------------------------------------------------
// Validation: `configRuleAdapter.validate` (Thanos) and `Rule.Validate` (Prometheus).

fn validate(groups: Vec<RawGroup>, errors: &mut Vec<RuleError>) -> RuleFile {
    let mut names = HashSet::new();
    let mut out = Vec::new();
    for (gi, g) in groups.into_iter().enumerate() {
        let ctx = Ctx {
            group: Some(GroupRef {
                index: gi,
                name: g.name.clone(),
            }),
            rule: None,
        };
        let at = |field: Vec<PathSegment>, message: String| RuleError {
            location: Location {
                group: ctx.group.clone(),
                rule: None,
                pos: g.at.get(&field).copied().or(g.pos),
                field,
            },
            message,
        };
        if g.name.is_empty() {
            errors.push(at(
                attr("name"),
                "the group has no name; give every group a `name`".into(),
            ));
        } else if !names.insert(g.name.clone()) {
            errors.push(at(
                attr("name"),
                format!(
                    "group name {:?} is repeated in the same file; give each group its own name",
                    g.name
                ),
            ));
        }
        for k in g.labels.keys() {
            if let Err(msg) = label_name(k) {
                errors.push(at(
                    vec![
                        PathSegment::Attr("labels".into()),
                        PathSegment::Key(k.clone()),
                    ],
                    msg,
                ));
            }
        }
        let mut rules = Vec::new();
        for (ri, r) in g.rules.into_iter().enumerate() {
            let rctx = Ctx {
                group: ctx.group.clone(),
                rule: Some(rule_ref(ri, Some(r.record.clone()), Some(r.alert.clone()))),
            };
            if let Some(rule) = validate_rule(&rctx, r, errors) {
                rules.push(rule);
            }
        }
        out.push(RuleGroup {
            name: g.name,
            interval: g.interval,
            query_offset: g.query_offset,
            limit: g.limit,
            partial_response_strategy: g.strategy,
            labels: g.labels,
            rules,
        });
    }
    RuleFile { groups: out }
}

/// A label name under Prometheus' UTF-8 validation (`model.UTF8Validation`, what Thanos
/// passes): any non-empty text except `__name__`, which the rule's own name sets.
fn label_name(k: &str) -> Result<(), String> {
    if k.is_empty() {
        return Err("invalid label name: a label name must not be empty".into());
    }
    if k == "__name__" {
        return Err(
            "invalid label name: __name__ is set by the rule itself (its `record` name); remove it"
                .into(),
        );
    }
    Ok(())
}

fn validate_rule(ctx: &Ctx, r: RawRule, errors: &mut Vec<RuleError>) -> Option<Rule> {
    let before = errors.len();
    let at = r.at.clone();
    let mut push = |field: Vec<PathSegment>, message: String| {
        errors.push(RuleError {
            location: Location {
                group: ctx.group.clone(),
                rule: ctx.rule.clone(),
                pos: at.get(&field).copied().or(r.pos),
                field,
            },
            message,
        })
    };
    let (is_record, is_alert) = (!r.record.is_empty(), !r.alert.is_empty());
    if is_record && is_alert {
        push(
            Vec::new(),
            "only one of `record` and `alert` may be set: a rule either records a series or fires an alert; split it into two rules".into(),
        );
    }
    if !is_record && !is_alert {
        push(
            Vec::new(),
            "one of `record` (a recording rule) or `alert` (an alerting rule) must be set".into(),
        );
    }
    if r.expr.is_empty() {
        push(
            attr("expr"),
            "field `expr` must be set: the PromQL expression the rule evaluates".into(),
        );
    } else if let Err(e) = promql::check(&r.expr) {
        push(attr("expr"), format!("could not parse expression: {e}"));
    }
    if is_record {
        if !r.annotations.is_empty() {
            push(
                attr("annotations"),
                "invalid field `annotations` in recording rule: only alerts have annotations; remove them or make the rule an `alert`".into(),
            );
        }
        if !r.r#for.is_zero() {
            push(
                attr("for"),
                "invalid field `for` in recording rule: only alerts wait before firing; remove it or make the rule an `alert`".into(),
            );
        }
        if !r.keep_firing_for.is_zero() {
            push(
                attr("keep_firing_for"),
                "invalid field `keep_firing_for` in recording rule: only alerts keep firing; remove it or make the rule an `alert`".into(),
            );
        }
        if r.record.contains(['{', '}']) {
            push(
                attr("record"),
                format!(
                    "braces present in the recording rule name {:?}; label matchers belong in `expr`, the name is only the new metric's name",
                    r.record
                ),
            );
        }
    }
    for k in r.labels.keys() {
        if let Err(msg) = label_name(k) {
            push(
                vec![
                    PathSegment::Attr("labels".into()),
                    PathSegment::Key(k.clone()),
                ],
                msg,
            );
        }
    }
    for k in r.annotations.keys() {
        if k.is_empty() {
            push(
                vec![
                    PathSegment::Attr("annotations".into()),
                    PathSegment::Key(k.clone()),
                ],
                "invalid annotation name: an annotation name must not be empty".into(),
            );
        }
    }
    if is_alert {
        for (field, map) in [("labels", &r.labels), ("annotations", &r.annotations)] {
            for (k, v) in map {
                if let Err(e) = gotemplate::check(&r.alert, v) {
                    push(
                        vec![PathSegment::Attr(field.into()), PathSegment::Key(k.clone())],
                        format!(
                            "template does not parse: {e} (Go text/template syntax, with Prometheus' functions and $labels, $externalLabels, $externalURL, $value)"
                        ),
                    );
                }
            }
        }
    }
    if errors.len() > before {
        return None;
    }
    let kind = if is_alert {
        RuleKind::Alert(r.alert)
    } else {
        RuleKind::Record(r.record)
    };
    Some(Rule {
        kind,
        expr: r.expr,
        r#for: r.r#for,
        keep_firing_for: r.keep_firing_for,
        labels: r.labels,
        annotations: r.annotations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
groups:
  - name: api
    interval: 90s
    partial_response_strategy: warn
    labels: {team: web}
    rules:
      - record: job:http_requests:rate5m
        expr: sum by (job) (rate(http_requests_total[5m]))
      - alert: HighErrorRate
        expr: job:http_requests:rate5m > 100
        for: 10m
        labels:
          severity: page
        annotations:
          summary: "{{ $labels.job }} serves {{ $value | humanize }} req/s"
"#;

    #[test]
    fn parses_typed_groups() {
        let file = check_rule_file(GOOD).unwrap();
        assert_eq!(file.rule_count(), 2);
        let g = &file.groups[0];
        assert_eq!(g.name, "api");
        assert_eq!(g.interval.to_string(), "1m30s");
        assert_eq!(
            g.partial_response_strategy,
            Some(PartialResponseStrategy::Warn)
        );
        assert_eq!(g.rules[1].kind, RuleKind::Alert("HighErrorRate".into()));
        assert_eq!(g.rules[1].r#for.to_string(), "10m");
    }

    #[test]
    fn renders_canonically_and_reads_back_equal() {
        let file = check_rule_file(GOOD).unwrap();
        let text = file.to_yaml();
        let again = check_rule_file(&text).unwrap();
        assert_eq!(again, file);
        assert_eq!(again.to_yaml(), text);
        assert!(text.contains("    interval: \"1m30s\"\n"), "{text}");
        assert!(
            text.contains("    partial_response_strategy: WARN\n"),
            "{text}"
        );
        assert_eq!(RuleFile::default().to_yaml(), "groups: []\n");
    }

    #[test]
    fn renders_awkward_text_exactly() {
        let awkward =
            "quote \" backslash \\ tab\t nl\n nel\u{85} ls\u{2028} del\u{7f} bom\u{feff} é 日本";
        let mut file = check_rule_file(GOOD).unwrap();
        file.groups[0].rules[1]
            .annotations
            .insert(awkward.into(), awkward.into());
        let text = file.to_yaml();
        assert_eq!(check_rule_file(&text).unwrap(), file, "{text}");
    }

    #[test]
    fn locates_errors_by_group_rule_and_field() {
        let text = "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    labels:\n      severity: '{{ nope }}'\n";
        let errs = check_rule_file(text).unwrap_err();
        assert_eq!(errs.len(), 1, "{errs:?}");
        let e = &errs[0];
        assert_eq!(
            display_path(&e.location.path()),
            "groups[0].rules[0].labels[\"severity\"]"
        );
        assert_eq!(
            e.location.rule.as_ref().unwrap().name,
            Some(RuleKind::Alert("A".into()))
        );
        assert!(e.message.contains("function \"nope\" not defined"), "{e}");
        assert_eq!(
            e.location.pos.map(|p| p.line),
            Some(7),
            "points at the value: {e}"
        );
        assert!(
            e.to_string()
                .starts_with("group 0 \"g\", rule 0 (alert \"A\"), labels[\"severity\"]"),
            "{e}"
        );
    }
}
