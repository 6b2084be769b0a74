//! Naming rules of the clouds, checked at plan time so that a name the cloud (or Thanos'
//! client library) would refuse fails `terraform plan` with its path instead of a crash-looping
//! pod. Each returns `Err(detail)` with a sentence a user can act on.

use crate::validate;

/// Dotted-decimal IPv4 (`192.168.5.4`): AWS and Google refuse bucket names of that form.
fn looks_like_ipv4(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

fn alnum_lower(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// An S3 general purpose bucket name, by AWS' rules
/// (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html>), plus
/// minio-go's `checkBucketNameCommon` (`pkg/s3utils/utils.go`, the client Thanos uses), which
/// also refuses `.-` and `-.`. MinIO and most S3-compatible servers apply the same rules.
/// An S3 Express directory bucket (`<base>--<zone id>--x-s3`) is accepted in the form
/// minio-go recognises (`validBucketNameS3Express`).
pub fn s3_bucket(s: &str) -> Result<(), String> {
    let len = s.len();
    if !(3..=63).contains(&len) {
        return Err(format!(
            "{s:?} must be 3 to 63 characters long (it is {len})"
        ));
    }
    if !s.chars().all(|c| alnum_lower(c) || c == '.' || c == '-') {
        return Err(format!(
            "{s:?} may contain only lower case letters, digits, '.' and '-'"
        ));
    }
    if !s.starts_with(alnum_lower) || !s.ends_with(alnum_lower) {
        return Err(format!("{s:?} must start and end with a letter or digit"));
    }
    for bad in ["..", ".-", "-."] {
        if s.contains(bad) {
            return Err(format!("{s:?} must not contain {bad:?}"));
        }
    }
    if looks_like_ipv4(s) {
        return Err(format!("{s:?} must not be formatted as an IP address"));
    }
    for prefix in ["xn--", "sthree-", "amzn-s3-demo-"] {
        if s.starts_with(prefix) {
            return Err(format!(
                "{s:?} must not start with {prefix:?} (reserved by AWS)"
            ));
        }
    }
    if let Some(base) = s.strip_suffix("--x-s3") {
        // <base>--<zone id>--x-s3, the zone id being [a-z0-9]{3,7}-az[1-6].
        let zone_ok = base.rsplit_once("--").is_some_and(|(name, zone)| {
            let zone_ok = zone.split_once("-az").is_some_and(|(loc, n)| {
                (3..=7).contains(&loc.len())
                    && loc.chars().all(alnum_lower)
                    && n.len() == 1
                    && ('1'..='6').contains(&n.chars().next().unwrap_or('0'))
            });
            zone_ok && name.len() >= 3 && !name.contains("--")
        });
        if !zone_ok {
            return Err(format!(
                "{s:?}: names ending in \"--x-s3\" are S3 Express directory buckets and must be <name>--<zone id>--x-s3, e.g. \"metrics--usw2-az1--x-s3\""
            ));
        }
        return Ok(());
    }
    for suffix in ["-s3alias", "--ol-s3", ".mrap", "--table-s3"] {
        if s.ends_with(suffix) {
            return Err(format!(
                "{s:?} must not end with {suffix:?} (reserved by AWS)"
            ));
        }
    }
    Ok(())
}

/// A Google Cloud Storage bucket name
/// (<https://cloud.google.com/storage/docs/buckets#naming>).
pub fn gcs_bucket(s: &str) -> Result<(), String> {
    if !s
        .chars()
        .all(|c| alnum_lower(c) || c == '-' || c == '_' || c == '.')
    {
        return Err(format!(
            "{s:?} may contain only lower case letters, digits, '-', '_' and '.'"
        ));
    }
    let len = s.len();
    let max = if s.contains('.') { 222 } else { 63 };
    if len < 3 || len > max {
        return Err(format!(
            "{s:?} must be 3 to 63 characters long, or up to 222 if it contains dots (it is {len})"
        ));
    }
    if s.split('.').any(|part| part.len() > 63) {
        return Err(format!(
            "{s:?}: each dot-separated part must be at most 63 characters long"
        ));
    }
    if !s.starts_with(alnum_lower) || !s.ends_with(alnum_lower) {
        return Err(format!("{s:?} must start and end with a letter or digit"));
    }
    if looks_like_ipv4(s) {
        return Err(format!("{s:?} must not be formatted as an IP address"));
    }
    if s.starts_with("goog") {
        return Err(format!(
            "{s:?} must not start with \"goog\" (reserved by Google)"
        ));
    }
    // "close misspellings such as g00gle": the common digit-for-letter swaps.
    let folded: String = s
        .chars()
        .map(|c| match c {
            '0' => 'o',
            '1' => 'l',
            '9' => 'g',
            c => c,
        })
        .collect();
    if folded.contains("google") {
        return Err(format!(
            "{s:?} must not contain \"google\" or a close misspelling of it (reserved by Google)"
        ));
    }
    Ok(())
}

/// An Azure storage account name: 3 to 24 lower case letters and digits
/// (<https://learn.microsoft.com/azure/storage/common/storage-account-overview#storage-account-name>).
pub fn azure_account(s: &str) -> Result<(), String> {
    if (3..=24).contains(&s.len()) && s.chars().all(alnum_lower) {
        Ok(())
    } else {
        Err(format!(
            "{s:?} must be 3 to 24 characters long and contain only lower case letters and digits"
        ))
    }
}

/// An Azure blob container name
/// (<https://learn.microsoft.com/rest/api/storageservices/naming-and-referencing-containers--blobs--and-metadata#container-names>).
pub fn azure_container(s: &str) -> Result<(), String> {
    let ok = (3..=63).contains(&s.len())
        && s.chars().all(|c| alnum_lower(c) || c == '-')
        && s.starts_with(alnum_lower)
        && s.ends_with(alnum_lower)
        && !s.contains("--");
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{s:?} must be 3 to 63 characters long, contain only lower case letters, digits and '-', start and end with a letter or digit, and have no \"--\""
        ))
    }
}

/// `host` or `host:port` with an optional bracketed IPv6 literal, no scheme, no path: what
/// minio-go's `getEndpointURL` (`utils.go`) accepts after prepending `http(s)://` itself.
/// Returns the host.
pub fn endpoint(s: &str) -> Result<String, String> {
    if let Some((scheme, _)) = s.split_once("://") {
        return Err(format!(
            "{s:?} must be host[:port] without a scheme: Thanos adds {scheme:?}:// itself (https unless insecure = true)"
        ));
    }
    if s.contains('/') {
        return Err(format!(
            "{s:?} must be host[:port] without a path (the bucket goes in bucket, a key prefix in prefix)"
        ));
    }
    let host = if s.starts_with('[') || s.contains(':') {
        let (h, _) = validate::host_port(s)?;
        h
    } else {
        validate::host(s)?;
        s.to_owned()
    };
    Ok(host)
}

/// A region token. Providers other than AWS use names of their own (`auto` on Cloudflare R2,
/// `nyc3` on DigitalOcean, `default` on Ceph), so only the characters are checked; on an AWS
/// endpoint the AWS form is checked by [`aws_region`].
pub fn region(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{s:?} must be a region name such as \"eu-west-1\": letters, digits, '-' and '_'"
        ))
    }
}

/// An AWS region (`us-east-1`, `us-gov-west-1`, `cn-northwest-1`, `eusc-de-east-1`).
pub fn aws_region(s: &str) -> Result<(), String> {
    let parts: Vec<&str> = s.split('-').collect();
    let ok = parts.len() >= 3
        && (2..=4).contains(&parts[0].len())
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty();
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not an AWS region: AWS regions look like \"us-east-1\" or \"eu-central-2\""
        ))
    }
}

/// The region an AWS S3 endpoint names (`s3.eu-west-1.amazonaws.com`,
/// `s3-eu-west-1.amazonaws.com`, `s3.dualstack.eu-west-1.amazonaws.com`,
/// `s3-fips.us-east-1.amazonaws.com`, `s3.cn-north-1.amazonaws.com.cn`); `None` for the global
/// `s3.amazonaws.com` and anything else. The forms of minio-go's `GetRegionFromURL`.
pub fn region_of_aws_endpoint(host: &str) -> Option<&str> {
    let rest = host
        .strip_suffix(".amazonaws.com")
        .or_else(|| host.strip_suffix(".amazonaws.com.cn"))?;
    let region = rest
        .strip_prefix("s3-fips.dualstack.")
        .or_else(|| rest.strip_prefix("s3-fips."))
        .or_else(|| rest.strip_prefix("s3.dualstack."))
        .or_else(|| rest.strip_prefix("s3."))
        .or_else(|| rest.strip_prefix("s3-"))?;
    (!region.is_empty() && !region.contains('.') && region != "external-1").then_some(region)
}

/// Is `host` one of AWS' (`*.amazonaws.com`, `*.amazonaws.com.cn`)?
pub fn is_aws_host(host: &str) -> bool {
    host.ends_with(".amazonaws.com") || host.ends_with(".amazonaws.com.cn")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_bucket_table() {
        let ok = [
            "thanos",
            "abc",
            "my.metrics-bucket-01",
            &"a".repeat(63),
            "metrics--usw2-az1--x-s3",
        ];
        for s in ok {
            assert_eq!(s3_bucket(s), Ok(()), "{s}");
        }
        let bad = [
            ("ab", "3 to 63"),
            (&"a".repeat(64), "3 to 63"),
            ("Thanos", "lower case"),
            ("thanos_blocks", "lower case"),
            ("-thanos", "start and end"),
            ("thanos.", "start and end"),
            ("a..b", "\"..\""),
            ("a.-b", "\".-\""),
            ("a-.b", "\"-.\""),
            ("192.168.5.4", "IP address"),
            ("xn--thanos", "reserved"),
            ("sthree-thanos", "reserved"),
            ("amzn-s3-demo-bucket", "reserved"),
            ("thanos-s3alias", "reserved"),
            ("thanos--ol-s3", "reserved"),
            ("thanos.mrap", "reserved"),
            ("thanos--table-s3", "reserved"),
            ("thanos--x-s3", "directory buckets"),
            ("s3://thanos", "lower case"),
        ];
        for (s, why) in bad {
            let e = s3_bucket(s).unwrap_err();
            assert!(e.contains(why), "{s}: {e}");
        }
    }

    #[test]
    fn gcs_bucket_table() {
        for s in ["thanos", "thanos_blocks", "a.b.c", "metrics-01"] {
            assert_eq!(gcs_bucket(s), Ok(()), "{s}");
        }
        let long_dotted = format!("{}.{}", "a".repeat(63), "b".repeat(63));
        assert_eq!(gcs_bucket(&long_dotted), Ok(()));
        for (s, why) in [
            ("ab", "3 to 63"),
            (&"a".repeat(64), "3 to 63"),
            (&format!("{}.b", "a".repeat(64)), "63"),
            ("Thanos", "lower case"),
            ("_thanos", "start and end"),
            ("10.0.0.1", "IP address"),
            ("goog-metrics", "goog"),
            ("my-google-bucket", "google"),
            ("my-g00gle-bucket", "google"),
            ("gs://thanos", "lower case"),
        ] {
            let e = gcs_bucket(s).unwrap_err();
            assert!(e.contains(why), "{s}: {e}");
        }
    }

    #[test]
    fn azure_names_table() {
        for s in ["thanos", "abc", "metrics0123456789abcdef0"] {
            assert_eq!(azure_account(s), Ok(()), "{s}");
        }
        for s in [
            "ab",
            "Thanos",
            "thanos-metrics",
            "metrics0123456789abcdef01",
        ] {
            assert!(azure_account(s).is_err(), "{s}");
        }
        for s in ["thanos", "thanos-blocks", "a1b"] {
            assert_eq!(azure_container(s), Ok(()), "{s}");
        }
        for s in [
            "ab",
            "Thanos",
            "-thanos",
            "thanos-",
            "thanos--blocks",
            "a_b",
        ] {
            assert!(azure_container(s).is_err(), "{s}");
        }
    }

    #[test]
    fn endpoint_table() {
        for (s, host) in [
            ("s3.amazonaws.com", "s3.amazonaws.com"),
            ("minio.minio.svc:9000", "minio.minio.svc"),
            ("127.0.0.1:9000", "127.0.0.1"),
            ("[::1]:9000", "::1"),
            ("S3.Example.COM", "S3.Example.COM"),
        ] {
            assert_eq!(endpoint(s).as_deref(), Ok(host), "{s}");
        }
        for (s, why) in [
            ("https://s3.amazonaws.com", "without a scheme"),
            ("http://minio:9000", "without a scheme"),
            ("minio:9000/thanos", "without a path"),
            ("minio:port", "host:port"),
            ("minio:0", "host:port"),
            ("::1", "host:port"),
            ("under_score.example.com", "host name"),
            ("", "host name"),
        ] {
            let e = endpoint(s).unwrap_err();
            assert!(e.contains(why), "{s}: {e}");
        }
    }

    #[test]
    fn region_table() {
        for s in [
            "us-east-1",
            "auto",
            "nyc3",
            "default",
            "us-west-004",
            "fr-par",
        ] {
            assert_eq!(region(s), Ok(()), "{s}");
        }
        for s in ["", "us east 1", "https://s3.us-east-1.amazonaws.com"] {
            assert!(region(s).is_err(), "{s}");
        }
        for s in [
            "us-east-1",
            "eu-central-2",
            "us-gov-west-1",
            "cn-northwest-1",
            "eusc-de-east-1",
        ] {
            assert_eq!(aws_region(s), Ok(()), "{s}");
        }
        for s in ["auto", "us-east", "US-EAST-1", "useast1", "us-east-1a"] {
            assert!(aws_region(s).is_err(), "{s}");
        }
    }

    #[test]
    fn aws_endpoint_regions() {
        for (host, want) in [
            ("s3.amazonaws.com", None),
            ("s3-external-1.amazonaws.com", None),
            ("s3.eu-west-1.amazonaws.com", Some("eu-west-1")),
            ("s3-eu-west-1.amazonaws.com", Some("eu-west-1")),
            ("s3.dualstack.eu-west-1.amazonaws.com", Some("eu-west-1")),
            ("s3-fips.us-east-1.amazonaws.com", Some("us-east-1")),
            (
                "s3-fips.dualstack.us-east-1.amazonaws.com",
                Some("us-east-1"),
            ),
            ("s3.cn-north-1.amazonaws.com.cn", Some("cn-north-1")),
            ("minio.example.com", None),
        ] {
            assert_eq!(region_of_aws_endpoint(host), want, "{host}");
        }
    }
}
