//! Clients for the targets, shared by all of them: a pooled HTTP client with TLS, tenant, auth and
//! timeouts, and the Prometheus query API that Mimir, Prometheus and the cluster's Prometheus speak.

pub mod buildinfo;
pub(crate) mod config;
pub mod http;
pub mod promql;
