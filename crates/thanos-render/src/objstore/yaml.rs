//! The few YAML shapes an objstore config needs, written so that Thanos' parser
//! (`gopkg.in/yaml.v2`, strict mode) reads back exactly the values we mean.
//!
//! Why not a YAML library: the output is a handful of scalar fields in a fixed order, and the
//! one thing that matters is that every string stays a string, byte for byte. So every string
//! (keys chosen by users included) is double-quoted, and everything outside printable ASCII
//! is escaped. yaml.v2 knows `\"`, `\\`, `\t`, `\n`, `\r`, `\uXXXX` and `\UXXXXXXXX` in a
//! double-quoted scalar (`scannerc.go`, `yaml_parser_scan_flow_scalar`); it has no `\/`. An
//! ASCII-only file also avoids yaml.v2's refusal of some non-printable characters.

/// A value in the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    Str(String),
    Bool(bool),
    /// A mapping in insertion order (the caller decides the order; maps from users arrive
    /// sorted from a `BTreeMap`).
    Map(Vec<(String, Value)>),
}

/// An ordered mapping under construction; `None` values are left out, so Thanos applies its
/// own default for them.
#[derive(Debug, Default)]
pub(crate) struct Map(pub(crate) Vec<(String, Value)>);

impl Map {
    pub(crate) fn str(mut self, key: &str, v: Option<&str>) -> Self {
        if let Some(v) = v {
            self.0.push((key.to_owned(), Value::Str(v.to_owned())));
        }
        self
    }
    pub(crate) fn bool(mut self, key: &str, v: Option<bool>) -> Self {
        if let Some(v) = v {
            self.0.push((key.to_owned(), Value::Bool(v)));
        }
        self
    }
    /// A nested mapping; an empty one is left out.
    pub(crate) fn map(mut self, key: &str, m: Map) -> Self {
        if !m.0.is_empty() {
            self.0.push((key.to_owned(), Value::Map(m.0)));
        }
        self
    }
}

/// The document for a top-level mapping, block style, two-space indents, trailing newline.
pub(crate) fn document(top: &Map) -> String {
    let mut out = String::new();
    write_map(&mut out, &top.0, 0);
    out
}

fn write_map(out: &mut String, entries: &[(String, Value)], indent: usize) {
    for (k, v) in entries {
        out.push_str(&" ".repeat(indent));
        write_key(out, k);
        match v {
            Value::Str(s) => {
                out.push_str(": ");
                quote_into(out, s);
                out.push('\n');
            }
            Value::Bool(b) => {
                out.push_str(if *b { ": true\n" } else { ": false\n" });
            }
            Value::Map(m) => {
                out.push_str(":\n");
                write_map(out, m, indent + 2);
            }
        }
    }
}

/// Field names of the Go structs are plain (`[a-z][a-z0-9_]*`) and written as such; any other
/// key (a KMS encryption context key such as `aws:s3:arn`) is quoted.
fn write_key(out: &mut String, k: &str) {
    let plain = k.starts_with(|c: char| c.is_ascii_lowercase())
        && k.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        out.push_str(k);
    } else {
        quote_into(out, k);
    }
}

/// A double-quoted YAML scalar that yaml.v2 decodes to exactly `s`.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::new();
    quote_into(&mut out, s);
    out
}

fn quote_into(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            ' '..='~' => out.push(c),
            c if u32::from(c) <= 0xFFFF => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push_str(&format!("\\U{:08X}", u32::from(c))),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each row: the string, and the scalar yaml.v2 decodes back to it.
    #[test]
    fn quoting_table() {
        let rows = [
            ("", r#""""#),
            ("plain", r#""plain""#),
            ("true", r#""true""#),
            ("0123", r#""0123""#),
            ("a: b # c", r#""a: b # c""#),
            (r#"say "hi""#, r#""say \"hi\"""#),
            (r"C:\dir", r#""C:\\dir""#),
            ("a\nb\tc\rd", r#""a\nb\tc\rd""#),
            ("\u{7f}", r#""\u007F""#),
            ("\u{0}", r#""\u0000""#),
            ("é", r#""\u00E9""#),
            ("\u{1F600}", r#""\U0001F600""#),
            ("/slash/", r#""/slash/""#),
        ];
        for (input, want) in rows {
            assert_eq!(quote(input), want, "{input:?}");
        }
    }

    #[test]
    fn nested_maps_and_omitted_values() {
        let ctx = Map::default().str("aws:s3:arn", Some("arn:aws:s3:::b"));
        let top = Map::default().str("type", Some("S3")).map(
            "config",
            Map::default()
                .str("bucket", Some("b"))
                .str("region", None)
                .bool("insecure", Some(false))
                .map(
                    "sse_config",
                    Map::default().map("kms_encryption_context", ctx),
                )
                .map("empty", Map::default()),
        );
        assert_eq!(
            document(&top),
            "type: \"S3\"\nconfig:\n  bucket: \"b\"\n  insecure: false\n  sse_config:\n    kms_encryption_context:\n      \"aws:s3:arn\": \"arn:aws:s3:::b\"\n"
        );
    }
}
