//! A loopback sink for `selftest`: takes any request over HTTP/1.1 or HTTP/2 without TLS and
//! answers success at once, without decoding the body, so that the generator alone is measured.
//! A gRPC call (content type `application/grpc`) gets an empty message and `grpc-status: 0`; an
//! empty message is what an OTLP Export answers; anything else gets 204. A remote-write 2.0
//! request (its content type names `io.prometheus.write.v2.Request`) gets written-count headers as
//! high as they go, since the sink does not count: the writer then sees a complete write.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::convert::Infallible;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub struct Sink {
    pub port: u16,
    task: JoinHandle<()>,
}

impl Sink {
    pub async fn start() -> std::io::Result<Sink> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                tokio::spawn(async move {
                    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                    let _ = builder.serve_connection(TokioIo::new(stream), service_fn(answer)).await;
                });
            }
        });
        Ok(Sink { port, task })
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type Body = http_body_util::combinators::BoxBody<Bytes, Infallible>;

async fn answer(req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let content_type = req.headers().get(http::header::CONTENT_TYPE).map(|v| v.as_bytes().to_vec()).unwrap_or_default();
    let grpc = content_type.starts_with(b"application/grpc");
    let rw2 = content_type.windows(7).any(|w| w == b"v2.Requ");
    // Read the body through (without decoding it), as a receiver does.
    let mut body = req.into_body();
    while let Some(frame) = body.frame().await {
        if frame.is_err() {
            break;
        }
    }
    let response = if grpc {
        let mut trailers = HeaderMap::new();
        trailers.insert("grpc-status", HeaderValue::from_static("0"));
        // One message, not compressed, zero bytes long: an empty protobuf message.
        let message = Full::new(Bytes::from_static(&[0, 0, 0, 0, 0])).with_trailers(async move { Some(Ok(trailers)) });
        Response::builder().header(http::header::CONTENT_TYPE, "application/grpc").body(message.boxed())
    } else if rw2 {
        let all = u64::MAX.to_string();
        Response::builder()
            .status(StatusCode::NO_CONTENT)
            .header("x-prometheus-remote-write-samples-written", &all)
            .header("x-prometheus-remote-write-histograms-written", &all)
            .header("x-prometheus-remote-write-exemplars-written", &all)
            .body(Full::new(Bytes::new()).boxed())
    } else {
        Response::builder().status(StatusCode::NO_CONTENT).body(Full::new(Bytes::new()).boxed())
    };
    Ok(response.unwrap_or_else(|_| Response::new(Full::new(Bytes::new()).boxed())))
}
