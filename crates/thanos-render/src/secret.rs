//! A Secret a resource owns whose data holds values from Terraform write-only attributes (the
//! objstore file with its credentials).
//!
//! Such a Secret has two faces. Its **public** form, with every write-only value replaced by a
//! marker naming its version, is what everything outside the cluster sees: `Debug`,
//! serialization, [`crate::Object::to_json`], the content hash in the state's `objects`, golden
//! files. Its **sealed** data, the real file, exists only while Terraform sends the write-only
//! values (plan and apply) and is only ever handed to the API server
//! ([`crate::Object::apply_json`]). When the values are withheld (a refresh or an import has
//! only their versions) the Secret cannot be applied, and drift is judged by comparing the
//! live data, with its write-only values redacted the same way ([`OwnedSecret::redact`]), to
//! the public form: a changed bucket or a hand edit of the file shows as drift; a changed
//! credential cannot (the state never knew it).

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1 as core;
use serde::Serialize;

/// How to turn a live data key back into its public form: every line that starts with one of
/// `lines`' prefixes is replaced by its public line. Exact for files this crate renders, whose
/// write-only values are each one double-quoted scalar on one line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Redaction {
    /// The data key holding the file.
    pub key: String,
    /// `(line prefix, public line)`.
    pub lines: Vec<(String, String)>,
}

/// An owned Secret with write-only content (see the module docs).
#[derive(Clone, PartialEq)]
pub struct OwnedSecret {
    public: core::Secret,
    sealed: Option<BTreeMap<String, ByteString>>,
    redaction: Redaction,
}

impl OwnedSecret {
    /// `public`: the Secret with public data; `sealed`: its real data, when at hand.
    pub fn new(
        public: core::Secret,
        sealed: Option<BTreeMap<String, ByteString>>,
        redaction: Redaction,
    ) -> Self {
        OwnedSecret {
            public,
            sealed,
            redaction,
        }
    }

    /// The Secret as plans and the state see it.
    pub fn public(&self) -> &core::Secret {
        &self.public
    }

    /// The Secret as the cluster must hold it; `None` while the write-only values are
    /// withheld.
    pub fn sealed(&self) -> Option<core::Secret> {
        self.sealed.as_ref().map(|data| core::Secret {
            data: Some(data.clone()),
            ..self.public.clone()
        })
    }

    /// Whether the write-only values are at hand.
    pub fn is_withheld(&self) -> bool {
        self.sealed.is_none()
    }

    /// Live data with its write-only values replaced by their markers: equal to the public
    /// data exactly when everything but the write-only values is as rendered.
    pub fn redact(&self, live: &BTreeMap<String, ByteString>) -> BTreeMap<String, ByteString> {
        live.iter()
            .map(|(k, v)| {
                if *k != self.redaction.key {
                    return (k.clone(), v.clone());
                }
                let Ok(text) = std::str::from_utf8(&v.0) else {
                    return (k.clone(), v.clone());
                };
                let mut out = String::with_capacity(text.len());
                for line in text.split_inclusive('\n') {
                    let (body, end) = match line.strip_suffix('\n') {
                        Some(b) => (b, "\n"),
                        None => (line, ""),
                    };
                    match self
                        .redaction
                        .lines
                        .iter()
                        .find(|(prefix, _)| body.starts_with(prefix.as_str()))
                    {
                        Some((_, public)) => out.push_str(public),
                        None => out.push_str(body),
                    }
                    out.push_str(end);
                }
                (k.clone(), ByteString(out.into_bytes()))
            })
            .collect()
    }
}

impl fmt::Debug for OwnedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSecret")
            .field("public", &self.public)
            .field(
                "sealed",
                &if self.sealed.is_some() {
                    "<given, redacted>"
                } else {
                    "<withheld>"
                },
            )
            .finish()
    }
}

/// Serialized as its public form only.
impl Serialize for OwnedSecret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.public.serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(sealed: Option<&str>) -> OwnedSecret {
        let data = |s: &str| BTreeMap::from([("f.yaml".to_owned(), ByteString(s.into()))]);
        OwnedSecret::new(
            core::Secret {
                data: Some(data("a: 1\n  key: \"(v1)\"\n")),
                ..Default::default()
            },
            sealed.map(data),
            Redaction {
                key: "f.yaml".into(),
                lines: vec![("  key: ".into(), "  key: \"(v1)\"".into())],
            },
        )
    }

    #[test]
    fn debug_and_serialization_show_the_public_form_only() {
        let s = secret(Some("a: 1\n  key: \"hunter2\"\n"));
        assert!(!format!("{s:?}").contains("hunter2"));
        let json = serde_json::to_string(&s).unwrap();
        assert!(!json.contains("aHVudGVyMg"), "{json}");
        let sealed = s.sealed().unwrap();
        assert_eq!(
            sealed.data.unwrap()["f.yaml"].0,
            b"a: 1\n  key: \"hunter2\"\n"
        );
        assert!(secret(None).is_withheld());
        assert!(secret(None).sealed().is_none());
    }

    #[test]
    fn redaction_maps_live_data_onto_the_public_form() {
        let s = secret(None);
        let public = s.public().data.clone().unwrap();
        let live = |t: &str| BTreeMap::from([("f.yaml".to_owned(), ByteString(t.into()))]);
        assert_eq!(s.redact(&live("a: 1\n  key: \"hunter2\"\n")), public);
        // Anything else edited stays visible.
        assert_ne!(s.redact(&live("a: 2\n  key: \"hunter2\"\n")), public);
        assert_ne!(s.redact(&live("a: 1\n")), public);
    }
}
