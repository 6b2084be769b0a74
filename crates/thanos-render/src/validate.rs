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
    let err = || {
        Err(format!(
            "{s:?} is not a Prometheus duration: use an integer followed by a unit, units from largest to smallest, e.g. \"15d\", \"1w2d\", \"90m\" (units: y, w, d, h, m, s, ms)"
        ))
    };
    if s == "0" {
        return Ok(());
    }
    if s.is_empty() {
        return err();
    }
    const UNITS: [&str; 7] = ["y", "w", "d", "h", "m", "s", "ms"];
    let mut next_unit = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.chars().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return err();
        }
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
        let pos = UNITS.iter().position(|u| *u == unit).expect("known unit");
        if pos < next_unit {
            return err();
        }
        next_unit = pos + 1;
        rest = &rest[unit.len()..];
    }
    Ok(())
}

/// Thanos `--min-time`/`--max-time`: an RFC 3339 timestamp or a Prometheus duration relative
/// to now, optionally negative (`-2w`).
pub fn thanos_time_or_duration(s: &str) -> Result<(), String> {
    let d = s.strip_prefix('-').unwrap_or(s);
    if prometheus_duration(d).is_ok() || rfc3339(s) {
        Ok(())
    } else {
        Err(format!(
            "{s:?} must be an RFC 3339 time (2006-01-02T15:04:05Z) or a Prometheus duration relative to now, e.g. \"-2w\""
        ))
    }
}

fn rfc3339(s: &str) -> bool {
    // YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)
    let b = s.as_bytes();
    if b.len() < 20 {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if !(digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && (b[10] == b'T' || b[10] == b't')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19))
    {
        return false;
    }
    let mut i = 19;
    if b[i] == b'.' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    let tz = &s[i..];
    tz == "Z"
        || tz == "z"
        || (tz.len() == 6
            && (tz.starts_with('+') || tz.starts_with('-'))
            && tz.as_bytes()[3] == b':'
            && tz[1..3].bytes().all(|c| c.is_ascii_digit())
            && tz[4..6].bytes().all(|c| c.is_ascii_digit()))
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

    #[test]
    fn names() {
        assert!(dns_label("thanos-1").is_ok());
        assert!(dns_label("Thanos").is_err());
        assert!(dns_label("-a").is_err());
        assert!(qualified_name("app.kubernetes.io/name").is_ok());
        assert!(qualified_name("a/b/c").is_err());
        assert!(label_value("").is_ok());
        assert!(prometheus_label_name("receive_replica").is_ok());
        assert!(prometheus_label_name("1a").is_err());
    }
}
