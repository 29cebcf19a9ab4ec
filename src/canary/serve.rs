//! `GET /metrics` for the canary (OpenMetrics text, as Prometheus negotiates it), anything else a
//! 404 naming the path; on loopback or any address `--listen` gives. Ends when `cancel` fires.

use super::metrics::CanaryMetrics;
use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Binds `addr` (an error names it) and serves until `cancel`; returns the bound address.
pub async fn serve(addr: SocketAddr, metrics: Arc<CanaryMetrics>, cancel: CancellationToken) -> Result<SocketAddr, String> {
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| format!("--listen {addr}: {e}; choose a free address, e.g. 127.0.0.1:9464"))?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        loop {
            let stream = tokio::select! {
                _ = cancel.cancelled() => break,
                accepted = listener.accept() => match accepted { Ok((s, _)) => s, Err(_) => continue },
            };
            let metrics = metrics.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: Request<hyper::body::Incoming>| {
                    let metrics = metrics.clone();
                    async move {
                        let resp = if req.uri().path() == "/metrics" {
                            Response::builder().header("content-type", CONTENT_TYPE).body(Full::new(Bytes::from(metrics.encode())))
                        } else {
                            Response::builder()
                                .status(404)
                                .body(Full::new(Bytes::from(format!("{} not found: the canary serves /metrics\n", req.uri().path()))))
                        };
                        Ok::<_, std::convert::Infallible>(resp.unwrap_or_default())
                    }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new()).serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
    Ok(bound)
}
