//! Logs in the form go-plugin expects on a plugin's stderr, so `TF_LOG=debug terraform plan`
//! shows ours at the right level next to Terraform's own.
//!
//! One JSON object per line with the string fields `@level` (trace|debug|info|warn|error),
//! `@message`, `@timestamp` (`YYYY-MM-DDTHH:MM:SS.ffffffZ`, exactly six fractional digits) and
//! `@module`, followed by the event's and its spans' fields. Every extra value is written as a
//! string: go-plugin pushes JSON numbers through float64 and a non-string `@level` or `@message`
//! crashes Terraform. stdout is never touched: it carries only the handshake line.
//!
//! Level: `RUST_LOG` (a full filter) wins; otherwise `TF_LOG_PROVIDER_THANOS`, then
//! `TF_LOG_PROVIDER`, then `TF_LOG`. Unset or `OFF` means no logs, which is also what Terraform
//! would do with them.

use std::io::Write as _;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer};

/// The `@module` of every line; go-plugin shows it after the provider name.
const MODULE: &str = "thanos";

/// Picks the level from Terraform's variables, most specific first.
pub fn level_from_env(get: impl Fn(&str) -> Option<String>) -> Option<Level> {
    let raw = ["TF_LOG_PROVIDER_THANOS", "TF_LOG_PROVIDER", "TF_LOG"]
        .iter()
        .find_map(|name| get(name).filter(|v| !v.trim().is_empty()))?;
    match raw.trim().to_ascii_uppercase().as_str() {
        "TRACE" | "JSON" => Some(Level::TRACE),
        "DEBUG" => Some(Level::DEBUG),
        "INFO" => Some(Level::INFO),
        "WARN" => Some(Level::WARN),
        "ERROR" => Some(Level::ERROR),
        // OFF, and anything Terraform itself would not recognise.
        _ => None,
    }
}

/// Installs the stderr JSON logger for the process. Safe to call once; later calls are ignored.
pub fn init() {
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => EnvFilter::new(spec),
        _ => match level_from_env(|k| std::env::var(k).ok()) {
            Some(level) => EnvFilter::new(level.as_str().to_ascii_lowercase()),
            None => return,
        },
    };
    let _ = tracing_subscriber::registry()
        .with(HclogLayer)
        .with(filter)
        .try_init();
}

/// Writes one hclog JSON line per event.
pub struct HclogLayer;

/// Span fields, kept in the span's extensions so every event inside it carries them.
struct SpanFields(Map<String, Value>);

struct Collect<'a> {
    message: Option<String>,
    fields: &'a mut Map<String, Value>,
}

impl Visit for Collect<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, value.to_string());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field, format!("{value:?}"));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, value.to_string());
    }
}

impl Collect<'_> {
    fn put(&mut self, field: &Field, text: String) {
        if field.name() == "message" {
            self.message = Some(text);
        } else {
            self.fields
                .insert(field.name().to_string(), Value::String(text));
        }
    }
}

impl<S> Layer<S> for HclogLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        let mut fields = Map::new();
        attrs.record(&mut Collect {
            message: None,
            fields: &mut fields,
        });
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanFields(fields));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = Map::new();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(SpanFields(span_fields)) = span.extensions().get::<SpanFields>() {
                    fields.extend(span_fields.clone());
                }
            }
        }
        let mut collect = Collect {
            message: None,
            fields: &mut fields,
        };
        event.record(&mut collect);
        let message = collect.message.unwrap_or_default();
        let line = format_line(*event.metadata().level(), &message, fields);
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(line.as_bytes());
    }
}

/// Formats one line (with its trailing newline). Public for tests.
pub fn format_line(level: Level, message: &str, extra: Map<String, Value>) -> String {
    let mut obj = Map::new();
    obj.insert("@level".into(), Value::String(hclog_level(level).into()));
    obj.insert("@message".into(), Value::String(message.into()));
    obj.insert("@module".into(), Value::String(MODULE.into()));
    obj.insert("@timestamp".into(), Value::String(timestamp()));
    for (k, v) in extra {
        if !k.starts_with('@') {
            obj.insert(k, v);
        }
    }
    let mut line = Value::Object(obj).to_string();
    line.push('\n');
    line
}

fn hclog_level(level: Level) -> &'static str {
    match level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

/// go-plugin parses `2006-01-02T15:04:05.000000Z07:00`; any other form turns the whole line
/// into an unparsed DEBUG message.
fn timestamp() -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    time::OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_else(|_| "1970-01-01T00:00:00.000000Z".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_have_string_fields_go_plugin_accepts() {
        let mut extra = Map::new();
        extra.insert("tf_rpc".into(), Value::String("PlanResourceChange".into()));
        let line = format_line(Level::WARN, "hello", extra);
        assert!(line.ends_with('\n'));
        let v: Value = serde_json::from_str(line.trim_end()).unwrap();
        assert_eq!(v["@level"], "warn");
        assert_eq!(v["@message"], "hello");
        assert_eq!(v["tf_rpc"], "PlanResourceChange");
        let ts = v["@timestamp"].as_str().unwrap();
        // 2026-11-24T11:17:33.612145Z
        assert_eq!(ts.len(), 27, "{ts}");
        assert_eq!(&ts[19..20], ".");
        assert!(ts.ends_with('Z'));
    }

    #[test]
    fn level_precedence_follows_terraform() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(level_from_env(env(&[])), None);
        assert_eq!(
            level_from_env(env(&[("TF_LOG", "debug")])),
            Some(Level::DEBUG)
        );
        assert_eq!(
            level_from_env(env(&[("TF_LOG", "JSON")])),
            Some(Level::TRACE)
        );
        assert_eq!(level_from_env(env(&[("TF_LOG", "off")])), None);
        assert_eq!(
            level_from_env(env(&[("TF_LOG", "trace"), ("TF_LOG_PROVIDER", "error")])),
            Some(Level::ERROR)
        );
        assert_eq!(
            level_from_env(env(&[
                ("TF_LOG_PROVIDER", "error"),
                ("TF_LOG_PROVIDER_THANOS", "info")
            ])),
            Some(Level::INFO)
        );
    }
}
