//! Prometheus remote write 1.0 (protobuf `WriteRequest`, snappy block format) and the query
//! HTTP API, over plain HTTP on loopback.

// Shared by several test binaries (datapath, crosscluster): not all use every item.
#![allow(dead_code)]

use std::time::Duration;

/// `prometheus.WriteRequest` (only the fields remote write 1.0 needs).
#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteRequest {
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Label {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Sample {
    #[prost(double, tag = "1")]
    pub value: f64,
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// One series: labels (sorted by name, as the protocol requires) and `(ms, value)` samples.
pub fn series(labels: &[(&str, &str)], samples: &[(i64, f64)]) -> TimeSeries {
    let mut labels: Vec<Label> = labels
        .iter()
        .map(|(n, v)| Label {
            name: (*n).to_owned(),
            value: (*v).to_owned(),
        })
        .collect();
    labels.sort_by(|a, b| a.name.cmp(&b.name));
    TimeSeries {
        labels,
        samples: samples
            .iter()
            .map(|&(timestamp, value)| Sample { value, timestamp })
            .collect(),
    }
}

/// An HTTP client that returns every status as a response (no proxies: loopback only).
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

/// POSTs a remote-write request for `tenant` to `url` (`…/api/v1/receive`); returns the
/// status and body.
pub fn send(url: &str, tenant_header: &str, tenant: &str, req: &WriteRequest) -> (u16, String) {
    try_send(url, tenant_header, tenant, req).unwrap_or_else(|e| panic!("POST {url}: {e}"))
}

/// [`send`], with a request that never got an answer (refused, reset, timed out) as `Err`.
pub fn try_send(
    url: &str,
    tenant_header: &str,
    tenant: &str,
    req: &WriteRequest,
) -> Result<(u16, String), String> {
    let body = prost::Message::encode_to_vec(req);
    let compressed = snap::raw::Encoder::new()
        .compress_vec(&body)
        .expect("snappy");
    let mut resp = agent()
        .post(url)
        .header("Content-Encoding", "snappy")
        .header("Content-Type", "application/x-protobuf")
        .header("X-Prometheus-Remote-Write-Version", "0.1.0")
        .header(tenant_header, tenant)
        .send(&compressed[..])
        .map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    Ok((status, resp.body_mut().read_to_string().unwrap_or_default()))
}

/// GET `…/api/v1/query` with `params`; the JSON `data` on success, else the error text.
pub fn query(http: &str, params: &[(&str, &str)]) -> Result<serde_json::Value, String> {
    api_get(http, "query", params)
}

/// GET `…/api/v1/<endpoint>` (`query`, `query_range`, …) with `params`; the JSON `data` on
/// success, else the error text.
pub fn api_get(
    http: &str,
    endpoint: &str,
    params: &[(&str, &str)],
) -> Result<serde_json::Value, String> {
    let mut req = agent().get(format!("http://{http}/api/v1/{endpoint}"));
    for (k, v) in params {
        req = req.query(*k, *v);
    }
    let mut resp = req.call().map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let text = resp
        .body_mut()
        .read_to_string()
        .map_err(|e| e.to_string())?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{status}: {e}: {text}"))?;
    if status != 200 || v["status"] != "success" {
        return Err(format!("{status}: {text}"));
    }
    Ok(v["data"].clone())
}

/// A process's `/metrics` text, or why it could not be read.
pub fn metrics(http: &str) -> Result<String, String> {
    let mut resp = agent()
        .get(format!("http://{http}/metrics"))
        .call()
        .map_err(|e| format!("GET {http}/metrics: {e}"))?;
    resp.body_mut()
        .read_to_string()
        .map_err(|e| format!("GET {http}/metrics: {e}"))
}
