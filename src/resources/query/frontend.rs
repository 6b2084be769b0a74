//! The `frontend` block of `thanos_query` and its validation into
//! [`thanos_render::frontend::Frontend`].

use tfplugin::framework::{Input, Model, Validator};
use thanos_render::args::DENY_ALWAYS;
use thanos_render::frontend::{self as render, Frontend, ResultsCache};
use thanos_render::validate::{self, Path, Report};

use crate::resources::blocks::{self, ResourcesModel};
use crate::resources::checks::{self, Checked};

/// A query frontend (`thanos query-frontend`) in front of the querier: it splits long range
/// queries into intervals it runs in parallel, retries failed requests, and caches results, so
/// a dashboard's repeated query is answered without the querier. With it, `http_url` and the
/// `http_ingress` serve the frontend; the querier stays reachable at
/// `thanosquery-<name>-operated:10902` (and for other queries and rulers over gRPC at
/// `grpc_endpoint`). Removing the block deletes the frontend.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct FrontendModel {
    /// Number of frontend pods. Defaults to `1`. With an in-memory cache each pod has a cache
    /// of its own.
    #[tf(default = thanos_render::common::DEFAULT_REPLICAS, validate = Validator::int_at_least(0))]
    pub replicas: Input<i64>,
    /// Range queries are split into intervals this long, run in parallel and cached one by
    /// one (`--query-range.split-interval`, a Go duration such as `24h` or `6h`; there are no
    /// days). Unset uses Thanos's default, `24h`. Must be more than `0`: the results cache
    /// needs it.
    pub split_interval: Input<String>,
    /// Retries of a failed range, instant or label request before the querier's error is
    /// returned (`--query-range.max-retries-per-request` and its instant and label siblings).
    /// Unset uses Thanos's default, `5`.
    #[tf(validate = Validator::int_at_least(0))]
    pub max_retries: Input<i64>,
    /// How long the frontend waits for the querier to start answering a request before it
    /// fails it (a Prometheus duration such as `2m`). Unset waits as long as the querier takes
    /// (its own `--query.timeout`, 2 minutes by default, ends a query).
    pub downstream_timeout: Input<String>,
    /// Where query results are cached. Unset caches in each frontend pod's memory, at most
    /// `256MB`.
    #[tf(block)]
    pub results_cache: Input<ResultsCacheModel>,
    /// Compute resources of the frontend container.
    #[tf(block)]
    pub resources: Input<ResourcesModel>,
    /// Extra `thanos query-frontend` flags (the resource's `extra_args` are the querier's),
    /// with the same rules: a flag the provider renders is replaced, the managed ones are
    /// refused.
    pub extra_args: Input<Vec<String>>,
}

/// Where query results are cached: set `in_memory_max_size` or `config`.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct ResultsCacheModel {
    /// Cache in each frontend pod's memory, at most this much (e.g. `512MB`, `1GiB`). Count it
    /// in the frontend's memory limit.
    pub in_memory_max_size: Input<String>,
    /// A Thanos response cache configuration in YAML (`type` `IN-MEMORY`, `MEMCACHED` or
    /// `REDIS`, and its `config`), e.g. a memcached shared by every frontend pod:
    /// `yamlencode({ type = "MEMCACHED", config = { addresses = ["dnssrv+_client._tcp.memcached.monitoring.svc"] } })`.
    /// It is passed in the pod spec, so keep passwords out of it.
    pub config: Input<String>,
}

/// A `frontend` block, checked (unset: no frontend).
pub fn frontend(v: &Input<FrontendModel>, p: &Path, r: &mut Report) -> Checked<Frontend> {
    checks::block(v, |f| {
        let replicas = checks::replicas(r, &p.attr("replicas"), &f.replicas);
        let split = checks::string(r, &p.attr("split_interval"), &f.split_interval, |d| {
            validate::go_duration(d).map_err(|e| ("Invalid split_interval", e))?;
            if validate::go_duration_is_zero(d) {
                return Err((
                    "Invalid split_interval",
                    "the results cache needs an interval greater than 0 (Thanos refuses to start with 0)".into(),
                ));
            }
            Ok(())
        });
        let retries = checks::int(r, &p.attr("max_retries"), &f.max_retries, |n| {
            (0..=i64::from(i32::MAX))
                .contains(&n)
                .then_some(())
                .ok_or(("Invalid max_retries", format!("{n} must be 0 or more")))
        });
        let timeout = checks::string(
            r,
            &p.attr("downstream_timeout"),
            &f.downstream_timeout,
            |d| validate::prometheus_duration(d).map_err(|e| ("Invalid duration", e)),
        );
        let cache = results_cache(&f.results_cache, &p.attr("results_cache"), r);
        let resources = blocks::resources(&f.resources, &p.attr("resources"), r);
        let deny: &[&[thanos_render::args::Denied]] = if f.downstream_timeout.is_null() {
            &[DENY_ALWAYS, render::DENY_FRONTEND]
        } else {
            &[
                DENY_ALWAYS,
                render::DENY_FRONTEND,
                render::DENY_FRONTEND_TIMEOUT,
            ]
        };
        let extra_args = checks::extra_args(r, &p.attr("extra_args"), &f.extra_args, deny);
        Checked::all(|| {
            Some(Frontend {
                replicas: replicas.into_value()?,
                resources: resources.into_value()?,
                split_interval: split.into_option()?,
                max_retries: retries.into_option()?,
                results_cache: cache.into_value()?,
                downstream_timeout: timeout.into_option()?,
                extra_args: extra_args.into_value()?,
            })
        })
    })
}

fn results_cache(v: &Input<ResultsCacheModel>, p: &Path, r: &mut Report) -> Checked<ResultsCache> {
    checks::block(v, |c| {
        let size = checks::string(r, &p.attr("in_memory_max_size"), &c.in_memory_max_size, |s| {
            validate::byte_size(s).map_err(|e| ("Invalid in_memory_max_size", e))
        });
        let config = checks::string(r, &p.attr("config"), &c.config, |t| {
            render::check_cache_config(t).map_err(|e| ("Invalid cache configuration", e))
        });
        match (&size, &config) {
            (Checked::Unset, Checked::Unset) => {
                r.push(
                    p,
                    "Empty results_cache",
                    "set in_memory_max_size (a cache in each frontend pod's memory) or config (a cache configuration), or remove the block for the default in-memory cache",
                );
                return Checked::Missing;
            }
            (Checked::Known(_), Checked::Known(_)) => {
                r.push(
                    &p.attr("config"),
                    "Conflicting results_cache",
                    "set in_memory_max_size or config, not both (an in-memory cache is configured with config too: type IN-MEMORY)",
                );
                return Checked::Missing;
            }
            _ => {}
        }
        Checked::all(|| match (size.into_option()?, config.into_option()?) {
            (Some(max_size), None) => Some(ResultsCache::InMemory { max_size }),
            (None, Some(text)) => Some(ResultsCache::Config(text)),
            _ => None,
        })
    })
    .or(ResultsCache::default)
}
