//! Clients for the targets: connection pools, TLS, tenant and auth headers, timeouts.

pub mod http;
