//! Validation findings with their attribute paths, and the syntax checkers every resource
//! shares (Kubernetes names and quantities, Prometheus durations and label names, addresses).
//!
//! Checkers take a known value and return `Err(sentence)` a user can act on; the resource
//! layer decides which values are known and where they sit. Paths use the Terraform attribute
//! names, list blocks are indexed by position and maps by key.

use std::fmt;

/// One step of a Terraform attribute path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathSegment {
    /// An attribute or block name.
    Attr(String),
    /// A position in a list (or list block).
    Index(usize),
    /// A key in a map.
    Key(String),
}

/// One validation failure, ready to become a Terraform diagnostic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub path: Vec<PathSegment>,
    pub summary: String,
    pub detail: String,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: {}",
            display_path(&self.path),
            self.summary,
            self.detail
        )
    }
}

/// `router.hard_tenant_hashrings[0].tenants`, `labels["a"]`, as Terraform prints paths.
pub fn display_path(path: &[PathSegment]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            PathSegment::Attr(a) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(a);
            }
            PathSegment::Index(i) => out.push_str(&format!("[{i}]")),
            PathSegment::Key(k) => out.push_str(&format!("[{k:?}]")),
        }
    }
    out
}

/// A path under construction. Cheap to clone; paths are short.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Path(pub Vec<PathSegment>);

impl Path {
    pub fn root() -> Self {
        Path(Vec::new())
    }
    pub fn attr(&self, name: &str) -> Self {
        let mut p = self.0.clone();
        p.push(PathSegment::Attr(name.to_owned()));
        Path(p)
    }
    pub fn index(&self, i: usize) -> Self {
        let mut p = self.0.clone();
        p.push(PathSegment::Index(i));
        Path(p)
    }
    pub fn key(&self, k: &str) -> Self {
        let mut p = self.0.clone();
        p.push(PathSegment::Key(k.to_owned()));
        Path(p)
    }
}

/// Collects failures while walking a spec.
#[derive(Debug, Default)]
pub struct Report(pub Vec<Invalid>);

impl Report {
    pub fn push(&mut self, path: &Path, summary: impl Into<String>, detail: impl Into<String>) {
        self.0.push(Invalid {
            path: path.0.clone(),
            summary: summary.into(),
            detail: detail.into(),
        });
    }
}

// ---------------------------------------------------------------------------------------------
// Syntax checkers. Each returns `Err(detail)` with a sentence a user can act on.

fn is_alnum_lower(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// RFC 1123 DNS label: what Kubernetes requires of namespaces, Service names and pod hostnames.
pub fn dns_label(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 63 {
        return Err(format!(
            "{s:?} must be 1 to 63 characters long (it is {})",
            s.len()
        ));
    }
    let ok = s.chars().all(|c| is_alnum_lower(c) || c == '-')
        && s.starts_with(is_alnum_lower)
        && s.ends_with(is_alnum_lower);
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{s:?} must consist of lower case alphanumeric characters or '-', and start and end with an alphanumeric character (RFC 1123 label)"
        ))
    }
}

/// RFC 1123 DNS subdomain: what Kubernetes requires of Secret and ConfigMap names.
pub fn dns_subdomain(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 253 {
        return Err(format!("{s:?} must be 1 to 253 characters long"));
    }
    for part in s.split('.') {
        let ok = !part.is_empty()
            && part.chars().all(|c| is_alnum_lower(c) || c == '-')
            && part.starts_with(is_alnum_lower)
            && part.ends_with(is_alnum_lower);
        if !ok {
            return Err(format!(
                "{s:?} must consist of lower case alphanumeric characters, '-' or '.', and each dot-separated part must start and end with an alphanumeric character (RFC 1123 subdomain)"
            ));
        }
    }
    Ok(())
}

fn name_part(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// Kubernetes qualified name (`[prefix/]name`): label and annotation keys.
pub fn qualified_name(s: &str) -> Result<(), String> {
    let (prefix, name) = match s.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    if let Some(p) = prefix {
        dns_subdomain(p).map_err(|e| format!("the prefix of {s:?} is invalid: {e}"))?;
    }
    if name_part(name) {
        Ok(())
    } else {
        Err(format!(
            "{s:?} must be a qualified name: an optional DNS subdomain prefix and '/', then 1 to 63 alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric character"
        ))
    }
}

/// A key of a container's `resources.requests` or `resources.limits`, as the API server
/// checks it (`ValidateContainerResourceName` in `pkg/apis/core/validation/validation.go` of
/// Kubernetes): `cpu`, `memory`, `ephemeral-storage` or `hugepages-<size>` without a prefix;
/// with one, a native (`kubernetes.io/`) or extended resource name (`example.com/gpu`: with
/// `requests.` in front it must still be a qualified name).
pub fn container_resource_name(s: &str) -> Result<(), String> {
    const STANDARD: [&str; 3] = ["cpu", "memory", "ephemeral-storage"];
    let advice = "use cpu, memory, ephemeral-storage, hugepages-<size>, or an extended resource with a domain prefix such as example.com/gpu";
    qualified_name(s).map_err(|e| format!("{e}; {advice}"))?;
    if !s.contains('/') {
        if STANDARD.contains(&s) || s.starts_with("hugepages-") {
            return Ok(());
        }
        return Err(format!(
            "{s:?} is not a resource a container can request: {advice}"
        ));
    }
    if s.contains("kubernetes.io/") {
        return Ok(());
    }
    if s.starts_with("requests.") || qualified_name(&format!("requests.{s}")).is_err() {
        return Err(format!(
            "{s:?} is not an extended resource name (its prefix must stay a valid domain with \"requests.\" in front, as quotas name it): {advice}"
        ));
    }
    Ok(())
}

/// Kubernetes label value: empty, or up to 63 characters of the name alphabet.
pub fn label_value(s: &str) -> Result<(), String> {
    if s.is_empty() || name_part(s) {
        Ok(())
    } else {
        Err(format!(
            "{s:?} must be empty or 1 to 63 alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric character"
        ))
    }
}

/// Prometheus label name (`[a-zA-Z_][a-zA-Z0-9_]*`): selector and replica labels.
pub fn prometheus_label_name(s: &str) -> Result<(), String> {
    let ok = s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not a valid Prometheus label name: it must match [a-zA-Z_][a-zA-Z0-9_]*"
        ))
    }
}

/// Key of a ConfigMap or Secret entry.
pub fn config_key(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 253
        && s != "."
        && s != ".."
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{s:?} must be a valid Secret key: 1 to 253 alphanumeric characters, '-', '_' or '.'"
        ))
    }
}

/// Prometheus duration (`model.ParseDuration`): `1y2w3d4h5m6s7ms` with units in that order,
/// or `0`. This is what Thanos parses for retention and refresh intervals; Go's `1.5h` and
/// RFC 3339 durations are rejected.
pub fn prometheus_duration(s: &str) -> Result<(), String> {
    parse_prometheus_duration(s).map(|_| ())
}

/// [`prometheus_duration`] with its value. Like `model.ParseDuration` of prometheus/common
/// (`model/time.go`), a duration longer than Go's `time.Duration` holds (about 292 years) is
/// refused: Thanos would refuse it when it starts.
pub fn parse_prometheus_duration(s: &str) -> Result<std::time::Duration, String> {
    let err = || {
        Err(format!(
            "{s:?} is not a Prometheus duration: use an integer followed by a unit, units from largest to smallest, e.g. \"15d\", \"1w2d\", \"90m\" (units: y, w, d, h, m, s, ms)"
        ))
    };
    if s == "0" {
        return Ok(std::time::Duration::ZERO);
    }
    if s.is_empty() {
        return err();
    }
    const MS: u64 = 1_000_000;
    const UNITS: [(&str, u64); 7] = [
        ("y", 365 * 24 * 3600 * 1000 * MS),
        ("w", 7 * 24 * 3600 * 1000 * MS),
        ("d", 24 * 3600 * 1000 * MS),
        ("h", 3600 * 1000 * MS),
        ("m", 60 * 1000 * MS),
        ("s", 1000 * MS),
        ("ms", MS),
    ];
    // Go's time.Duration: nanoseconds in an int64.
    const MAX_NANOS: u128 = i64::MAX as u128;
    let mut next_unit = 0;
    let mut nanos: u128 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.chars().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return err();
        }
        let number = &rest[..digits];
        rest = &rest[digits..];
        // "ms" must be tried before "m".
        let unit = if rest.starts_with("ms") {
            "ms"
        } else if let Some(c) = rest.chars().next() {
            match c {
                'y' => "y",
                'w' => "w",
                'd' => "d",
                'h' => "h",
                'm' => "m",
                's' => "s",
                _ => return err(),
            }
        } else {
            return err();
        };
        let pos = UNITS
            .iter()
            .position(|(u, _)| *u == unit)
            .expect("known unit");
        if pos < next_unit {
            return err();
        }
        next_unit = pos + 1;
        rest = &rest[unit.len()..];
        let too_long = || {
            Err(format!(
                "{s:?} is too long: Thanos takes durations up to about 292 years"
            ))
        };
        let Ok(value) = number.parse::<u64>() else {
            return too_long();
        };
        nanos += u128::from(value) * u128::from(UNITS[pos].1);
        if nanos > MAX_NANOS {
            return too_long();
        }
    }
    Ok(std::time::Duration::from_nanos(
        u64::try_from(nanos).expect("at most i64::MAX"),
    ))
}

/// A Thanos `--min-time`/`--max-time` value (`model.TimeOrDurationValue` in
/// `pkg/model/timeduration.go` of Thanos).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeOrDuration {
    /// An RFC 3339 time, in milliseconds since the Unix epoch.
    At(i64),
    /// An offset from the moment Thanos reads it (when the process starts), in milliseconds;
    /// negative is in the past.
    FromNow(i64),
}

impl TimeOrDuration {
    /// Milliseconds since the Unix epoch, with relative values taken from `now_ms`.
    pub fn at(self, now_ms: i64) -> i64 {
        match self {
            TimeOrDuration::At(t) => t,
            TimeOrDuration::FromNow(d) => now_ms.saturating_add(d),
        }
    }
}

/// Thanos `--min-time`/`--max-time`: an RFC 3339 timestamp or a Prometheus duration relative
/// to now, optionally negative (`-2w`).
pub fn thanos_time_or_duration(s: &str) -> Result<(), String> {
    parse_thanos_time_or_duration(s).map(|_| ())
}

/// [`thanos_time_or_duration`] with its value. Thanos tries Go's `time.Parse(time.RFC3339)`
/// first, then a duration with an optional leading `-`.
pub fn parse_thanos_time_or_duration(s: &str) -> Result<TimeOrDuration, String> {
    if let Some(ms) = rfc3339_millis(s) {
        return Ok(TimeOrDuration::At(ms));
    }
    let (negative, d) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s),
    };
    let invalid = || {
        format!(
            "{s:?} must be an RFC 3339 time (2006-01-02T15:04:05Z) or a Prometheus duration relative to now, e.g. \"-2w\""
        )
    };
    let duration = match parse_prometheus_duration(d) {
        Ok(duration) => duration,
        // A duration that only fails for its length says so.
        Err(e) if e.contains("too long") => return Err(e),
        Err(_) => return Err(invalid()),
    };
    let ms = i64::try_from(duration.as_millis()).expect("at most 292 years");
    Ok(TimeOrDuration::FromNow(if negative { -ms } else { ms }))
}

/// `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)` as Go's `time.Parse(time.RFC3339, ...)` reads it
/// (`time/format_rfc3339.go`, then the general parser of `time/format.go` when that fails):
/// month, day (for the month and year), hour, minute and second in range, an upper-case `T`
/// and `Z`, a fraction after `.` or `,`, an offset of at most 24 hours and 60 minutes. (The
/// general parser also takes a one-digit hour; we do not.) Milliseconds since the Unix epoch.
fn rfc3339_millis(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let number = |r: std::ops::Range<usize>| -> Option<i64> {
        b[r].iter().try_fold(0i64, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
        })
    };
    if !(b[4] == b'-' && b[7] == b'-' && b[10] == b'T' && b[13] == b':' && b[16] == b':') {
        return None;
    }
    let year = number(0..4)?;
    let month = number(5..7).filter(|m| (1..=12).contains(m))?;
    let day = number(8..10).filter(|d| *d >= 1 && *d <= days_in_month(year, month))?;
    let hour = number(11..13).filter(|h| *h <= 23)?;
    let minute = number(14..16).filter(|m| *m <= 59)?;
    let second = number(17..19).filter(|s| *s <= 59)?;
    let mut i = 19;
    let mut millis = 0;
    if b[i] == b'.' || b[i] == b',' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 3 {
                millis = millis * 10 + i64::from(b[i] - b'0');
            }
            i += 1;
        }
        if i == start {
            return None;
        }
        for _ in (i - start)..3 {
            millis *= 10;
        }
    }
    let tz = &b[i..];
    let offset_minutes = match tz {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2]
            if [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit()) =>
        {
            let (h, m) = (
                (h1 - b'0') * 10 + (h2 - b'0'),
                (m1 - b'0') * 10 + (m2 - b'0'),
            );
            // Go's general parser allows offsets of 24 hours and 60 minutes.
            if h > 24 || m > 60 {
                return None;
            }
            let minutes = i64::from(h) * 60 + i64::from(m);
            if *sign == b'-' { -minutes } else { minutes }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(seconds * 1000 + millis)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The RFC 3339 form (`2006-01-02T15:04:05Z`, UTC, whole seconds) of milliseconds since the
/// Unix epoch, for messages.
pub fn format_rfc3339(ms: i64) -> String {
    let seconds = ms.div_euclid(1000);
    let days = seconds.div_euclid(86_400);
    let rem = seconds.rem_euclid(86_400);
    // Howard Hinnant's `civil_from_days`.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Kubernetes resource quantity (`500m`, `1Gi`, `1e3`), non-negative.
pub fn quantity(s: &str) -> Result<(), String> {
    let err = || {
        Err(format!(
            "{s:?} is not a valid Kubernetes quantity, e.g. \"500m\", \"2\", \"512Mi\", \"10Gi\""
        ))
    };
    let body = s.strip_prefix('+').unwrap_or(s);
    let num_len = body
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .count();
    let (num, suffix) = body.split_at(num_len);
    if num.is_empty() || num == "." || num.matches('.').count() > 1 {
        return err();
    }
    const SUFFIXES: [&str; 16] = [
        "", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n", "u", "m", "k", "M", "G", "T", "P", "E",
    ];
    if SUFFIXES.contains(&suffix) {
        return Ok(());
    }
    if let Some(exp) = suffix.strip_prefix(['e', 'E']) {
        let exp = exp.strip_prefix(['+', '-']).unwrap_or(exp);
        if !exp.is_empty() && exp.chars().all(|c| c.is_ascii_digit()) {
            return Ok(());
        }
    }
    err()
}

/// A host name (RFC 1123, case-insensitive) or an IP literal.
pub fn host(s: &str) -> Result<(), String> {
    if s.parse::<std::net::IpAddr>().is_ok() {
        return Ok(());
    }
    dns_subdomain(&s.to_ascii_lowercase())
        .map_err(|_| format!("{s:?} is not a valid host name or IP address"))
}

/// Splits `host:port` (IPv6 in brackets) and checks both parts.
pub fn host_port(s: &str) -> Result<(String, u16), String> {
    let err = || {
        format!(
            "{s:?} must be host:port, e.g. \"thanos.example.com:443\" or \"[2001:db8::1]:10901\""
        )
    };
    let (h, p) = if let Some(rest) = s.strip_prefix('[') {
        let (h, p) = rest.split_once("]:").ok_or_else(err)?;
        if h.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(err());
        }
        (h, p)
    } else {
        let (h, p) = s.rsplit_once(':').ok_or_else(err)?;
        if h.contains(':') {
            return Err(format!("{} (put IPv6 addresses in brackets)", err()));
        }
        host(h).map_err(|e| format!("{}: {e}", err()))?;
        (h, p)
    };
    let port: u16 = p.parse().map_err(|_| err())?;
    if port == 0 {
        return Err(err());
    }
    Ok((h.to_owned(), port))
}

/// HTTP header name (RFC 7230 token).
pub fn http_header_name(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!("{s:?} is not a valid HTTP header name"))
    }
}

/// Checks `value` against one of `allowed`.
pub fn one_of(value: &str, allowed: &[&str]) -> Result<(), String> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(format!(
            "{value:?} is not one of {}",
            allowed
                .iter()
                .map(|a| format!("{a:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
}

/// Go duration (`time.ParseDuration`, what kingpin's duration flags parse): decimal numbers,
/// each with a unit (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`), e.g. `24h`, `1h30m`, `1.5h`; or
/// `0`. Unlike a Prometheus duration there is no `d`, `w` or `y`. No sign: every duration
/// flag we render is a length.
pub fn go_duration(s: &str) -> Result<(), String> {
    let err = || {
        Err(format!(
            "{s:?} is not a Go duration: use numbers with units h, m, s or ms, e.g. \"24h\", \"1h30m\", \"90m\" (there are no days: write \"48h\" for two)"
        ))
    };
    if s == "0" {
        return Ok(());
    }
    let mut rest = s;
    if rest.is_empty() {
        return err();
    }
    while !rest.is_empty() {
        let number = rest
            .char_indices()
            .take_while(|(_, c)| c.is_ascii_digit() || *c == '.')
            .last()
            .map_or(0, |(i, c)| i + c.len_utf8());
        let digits = &rest[..number];
        if digits.is_empty() || digits == "." || digits.matches('.').count() > 1 {
            return err();
        }
        rest = &rest[number..];
        let unit = ["ns", "us", "µs", "μs", "ms", "s", "m", "h"]
            .into_iter()
            .find(|u| rest.starts_with(u) && !(*u == "m" && rest.starts_with("ms")));
        let Some(unit) = unit else {
            return err();
        };
        rest = &rest[unit.len()..];
    }
    Ok(())
}

/// Whether a valid [`go_duration`] is zero.
pub fn go_duration_is_zero(s: &str) -> bool {
    s.chars().all(|c| !c.is_ascii_digit() || c == '0')
}

/// A size in bytes as go-humanize's `ParseBytes` reads it (Thanos's in-memory cache sizes):
/// a number, optionally a space, and an optional unit, SI (`KB`, `MB`, `GB`, `TB`, `PB`, `EB`,
/// or `K`, `M`, ...) or IEC (`KiB`, `MiB`, ... or `Ki`, `Mi`, ...), case-insensitive; at least
/// one byte.
pub fn byte_size(s: &str) -> Result<(), String> {
    let err = || {
        Err(format!(
            "{s:?} is not a size in bytes: a positive number with a unit, e.g. \"256MB\", \"1GiB\", \"512MiB\""
        ))
    };
    let number = s
        .char_indices()
        .take_while(|(_, c)| c.is_ascii_digit() || *c == '.')
        .last()
        .map_or(0, |(i, _)| i + 1);
    let (digits, unit) = s.split_at(number);
    if digits.is_empty() || digits == "." || digits.matches('.').count() > 1 {
        return err();
    }
    if digits.chars().all(|c| c == '0' || c == '.') {
        return err();
    }
    let unit = unit.strip_prefix(' ').unwrap_or(unit).to_ascii_lowercase();
    const UNITS: &[&str] = &[
        "", "b", "k", "kb", "ki", "kib", "m", "mb", "mi", "mib", "g", "gb", "gi", "gib", "t", "tb",
        "ti", "tib", "p", "pb", "pi", "pib", "e", "eb", "ei", "eib",
    ];
    if UNITS.contains(&unit.as_str()) {
        Ok(())
    } else {
        err()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_follow_prometheus_grammar() {
        for ok in [
            "0", "15d", "1w2d", "90m", "1y", "1h30m", "500ms", "0d", "1d1ms",
        ] {
            assert!(prometheus_duration(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "1.5h", "15", "d", "1m1h", "P1D", "1 h", "-1d", "1hh", "1msm",
        ] {
            assert!(prometheus_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn go_durations_and_byte_sizes() {
        for ok in ["0", "24h", "1h30m", "1.5h", "90m", "500ms", "10s", "1h0m0s"] {
            assert!(go_duration(ok).is_ok(), "{ok}");
        }
        for bad in ["", "1d", "24", "h", "-1h", "1 h", "1..5h", "1w"] {
            assert!(go_duration(bad).is_err(), "{bad}");
        }
        assert!(go_duration_is_zero("0s") && go_duration_is_zero("0h0m"));
        assert!(!go_duration_is_zero("10m"));
        for ok in ["256MB", "1GiB", "512 MiB", "1.5gb", "1024", "64k"] {
            assert!(byte_size(ok).is_ok(), "{ok}");
        }
        for bad in ["", "0", "0MB", "MB", "1 XB", "-1MB", "1..5MB", "256M B"] {
            assert!(byte_size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn quantities() {
        for ok in ["1", "500m", "5Gi", "1.5", "1e3", "0.5Gi", "+1"] {
            assert!(quantity(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Gi", "5GB", "-1", "1..2", "five"] {
            assert!(quantity(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn host_ports() {
        assert_eq!(
            host_port("a.example.com:443").unwrap(),
            ("a.example.com".into(), 443)
        );
        assert_eq!(host_port("[::1]:10901").unwrap(), ("::1".into(), 10901));
        for bad in [
            "a.example.com",
            "a:b",
            "::1:10901",
            "dns+a:1",
            "a:0",
            "a:70000",
            "[x]:1",
        ] {
            assert!(host_port(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn times() {
        for ok in [
            "-2w",
            "2006-01-02T15:04:05Z",
            "2006-01-02T15:04:05.5+02:00",
            "0d",
        ] {
            assert!(thanos_time_or_duration(ok).is_ok(), "{ok}");
        }
        for bad in ["yesterday", "2006-01-02", "--2w"] {
            assert!(thanos_time_or_duration(bad).is_err(), "{bad}");
        }
    }

    /// What Go's `time.Parse(time.RFC3339, ...)` refuses, Thanos refuses when it starts.
    #[test]
    fn times_are_read_as_thanos_reads_them() {
        use TimeOrDuration::{At, FromNow};
        let t = |s: &str| parse_thanos_time_or_duration(s);
        assert_eq!(t("1970-01-01T00:00:00Z"), Ok(At(0)));
        assert_eq!(t("1970-01-01T00:00:01.5Z"), Ok(At(1500)));
        assert_eq!(t("1970-01-01T01:00:00+01:00"), Ok(At(0)));
        assert_eq!(t("1970-01-01T00:00:01,25Z"), Ok(At(1250)));
        assert_eq!(t("1970-01-02T00:00:00+24:00"), Ok(At(0)));
        assert_eq!(t("2024-02-29T00:00:00Z"), Ok(At(1_709_164_800_000)));
        assert_eq!(t("-2w"), Ok(FromNow(-14 * 86_400_000)));
        assert_eq!(t("1h30m"), Ok(FromNow(5_400_000)));
        assert_eq!(t("0d"), Ok(FromNow(0)));
        for bad in [
            "2026-13-01T00:00:00Z",
            "2026-00-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:60:00Z",
            "2026-01-01T00:00:60Z",
            "2026-01-01t00:00:00Z",
            "2026-01-01T00:00:00z",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00+0100",
            "2026-01-01T00:00:00+25:00",
            "2026-01-01T00:00:00+01:61",
            "2026-01-01T00:00:00é:00",
        ] {
            assert!(t(bad).is_err(), "{bad}");
        }
        let long = t("-300y").unwrap_err();
        assert!(long.contains("292 years"), "{long}");
    }

    #[test]
    fn durations_have_values_and_go_limits() {
        let d = |s: &str| parse_prometheus_duration(s).map(|d| d.as_millis());
        assert_eq!(d("0"), Ok(0));
        assert_eq!(d("1w2d"), Ok(9 * 86_400_000));
        assert_eq!(d("1s500ms"), Ok(1500));
        assert_eq!(d("292y"), Ok(292 * 365 * 86_400_000));
        assert!(d("293y").is_err());
        assert!(
            d("106751d23h47m16s854ms").is_ok(),
            "the largest time.Duration"
        );
        assert!(d("106751d23h47m16s855ms").is_err());
        assert!(d("99999999999999999999999s").is_err());
    }

    #[test]
    fn rfc3339_formatting_inverts_parsing() {
        for s in [
            "1970-01-01T00:00:00Z",
            "2000-02-29T23:59:59Z",
            "2026-12-31T12:00:00Z",
            "1969-07-20T20:17:40Z",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
        ] {
            let TimeOrDuration::At(ms) = parse_thanos_time_or_duration(s).unwrap() else {
                panic!("{s}")
            };
            assert_eq!(format_rfc3339(ms), s);
        }
    }

    #[test]
    fn names() {
        assert!(dns_label("thanos-1").is_ok());
        assert!(dns_label("Thanos").is_err());
        assert!(dns_label("-a").is_err());
        assert!(qualified_name("app.kubernetes.io/name").is_ok());
        assert!(qualified_name("a/b/c").is_err());
    }

    #[test]
    fn container_resource_names_as_the_api_server_checks_them() {
        for ok in [
            "cpu",
            "memory",
            "ephemeral-storage",
            "hugepages-2Mi",
            "nvidia.com/gpu",
            "example.com/foo_bar",
            "kubernetes.io/whatever",
        ] {
            assert!(container_resource_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            // The property test's finding: a qualified name the API server refuses.
            "THANOS-TENANT",
            "storage",
            "pods",
            "hugepages-",
            "requests.example.com/gpu",
            "-x.com/gpu",
            "a/b/c",
            "",
        ] {
            let e = container_resource_name(bad).unwrap_err();
            assert!(
                e.contains("extended resource with a domain prefix"),
                "{bad}: {e}"
            );
        }
        assert!(label_value("").is_ok());
        assert!(prometheus_label_name("receive_replica").is_ok());
        assert!(prometheus_label_name("1a").is_err());
    }
}
