//! OTLP hot path: building Export requests from the patched template, and build + send over gRPC
//! to an in-process receiver on loopback (which decodes every request on the same machine).
//! Goal: at least 250,000 spans/s per core for encode-and-send.

#[path = "../tests/support/otlp_receiver.rs"]
#[allow(dead_code)]
mod otlp_receiver;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lgtm_bench::scenario::Connection;
use lgtm_bench::targets::tempo::config::TraceShape;
use lgtm_bench::targets::tempo::otlp::payload::{PayloadBuilder, Template};
use lgtm_bench::targets::tempo::otlp::shape::{IdSource, Shape};
use lgtm_bench::targets::tempo::otlp::transport::GrpcExporter;
use std::hint::black_box;
use std::sync::Arc;

const IN_FLIGHT: usize = 8;
const REQUESTS: usize = 64;

fn template() -> Arc<Template> {
    // 7 spans per trace, 3 http + 1 db attributes per span: 14 traces, 98 spans per request.
    Arc::new(Template::new(Arc::new(Shape::new(&TraceShape::default())), "bench0001", 100))
}

fn build(c: &mut Criterion) {
    let template = template();
    let mut g = c.benchmark_group("otlp");
    g.throughput(Throughput::Elements(template.spans_per_request() as u64));
    let mut b = PayloadBuilder::new(template, IdSource::new(1, "bench0001"));
    let mut seq = 0u64;
    g.bench_function("build_98_spans", |bench| {
        bench.iter(|| {
            seq += 1;
            black_box(b.build(seq, 1_795_629_741_681_569_889 + seq).len())
        })
    });
    g.finish();
}

fn export(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let receiver = rt.block_on(otlp_receiver::Receiver::start(vec![otlp_receiver::Answer::Ok]));
    // Keep the receiver from storing what it decodes (it would grow without bound).
    let exporter = rt.block_on(async { GrpcExporter::new(&receiver.url(), &Connection::default(), 1, false).unwrap() });
    let template = template();
    let spans = (template.spans_per_request() * REQUESTS) as u64;
    let mut g = c.benchmark_group("otlp");
    g.throughput(Throughput::Elements(spans));
    g.sample_size(20);
    let mut seq = 0u64;
    g.bench_function("build_and_export_grpc_loopback", |bench| {
        bench.iter(|| {
            rt.block_on(async {
                let mut builders: Vec<PayloadBuilder> = (0..IN_FLIGHT).map(|_| PayloadBuilder::new(template.clone(), IdSource::new(1, "bench0001"))).collect();
                let mut set = tokio::task::JoinSet::new();
                for (i, b) in builders.iter_mut().enumerate() {
                    let bodies: Vec<Bytes> = (0..REQUESTS / IN_FLIGHT)
                        .map(|r| {
                            seq += 1;
                            Bytes::copy_from_slice(b.build(seq * 64 + (i * 8 + r) as u64, 1_795_629_741_681_569_889))
                        })
                        .collect();
                    let exporter = exporter.clone();
                    set.spawn(async move {
                        for body in bodies {
                            exporter.export(0, body).await.unwrap();
                        }
                    });
                }
                while set.join_next().await.is_some() {}
            });
            receiver.shared.received.lock().unwrap().clear();
        })
    });
    g.finish();
}

/// A gRPC endpoint that reads each request body and answers OK with an empty response, without
/// decoding: what remains is the generator's own cost plus HTTP/2 on loopback.
async fn sink() -> u16 {
    use http_body_util::{BodyExt, StreamBody};
    use hyper::body::Frame;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            stream.set_nodelay(true).unwrap();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(|req: hyper::Request<hyper::body::Incoming>| async move {
                    let _ = req.into_body().collect().await;
                    let mut trailers = http::HeaderMap::new();
                    trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
                    let frames: Vec<Result<Frame<Bytes>, std::convert::Infallible>> =
                        vec![Ok(Frame::data(Bytes::from_static(&[0, 0, 0, 0, 0]))), Ok(Frame::trailers(trailers))];
                    let body = StreamBody::new(futures_util_stream(frames));
                    Ok::<_, std::convert::Infallible>(hyper::Response::builder().header("content-type", "application/grpc").body(body).unwrap())
                });
                let _ = hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
                    .initial_stream_window_size(1 << 20)
                    .initial_connection_window_size(8 << 20)
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    port
}

fn futures_util_stream<T: Unpin>(items: Vec<T>) -> impl futures_core::Stream<Item = T> + Unpin {
    struct Iter<T>(std::vec::IntoIter<T>);
    impl<T: Unpin> futures_core::Stream for Iter<T> {
        type Item = T;
        fn poll_next(mut self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<Option<T>> {
            std::task::Poll::Ready(self.0.next())
        }
    }
    Iter(items.into_iter())
}

fn export_to_sink(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let port = rt.block_on(sink());
    let exporter = rt.block_on(async { GrpcExporter::new(&format!("http://127.0.0.1:{port}"), &Connection::default(), 1, false).unwrap() });
    let template = template();
    let mut g = c.benchmark_group("otlp");
    g.throughput(Throughput::Elements((template.spans_per_request() * REQUESTS) as u64));
    g.sample_size(20);
    let mut seq = 0u64;
    g.bench_function("build_and_export_grpc_loopback_sink", |bench| {
        bench.iter(|| {
            rt.block_on(async {
                let mut set = tokio::task::JoinSet::new();
                for i in 0..IN_FLIGHT {
                    let mut b = PayloadBuilder::new(template.clone(), IdSource::new(1, "bench0001"));
                    let exporter = exporter.clone();
                    seq += 1;
                    let base = seq * 1024 + i as u64 * 64;
                    set.spawn(async move {
                        for r in 0..(REQUESTS / IN_FLIGHT) as u64 {
                            let body = Bytes::copy_from_slice(b.build(base + r, 1_795_629_741_681_569_889));
                            exporter.export(0, body).await.unwrap();
                        }
                    });
                }
                while set.join_next().await.is_some() {}
            })
        })
    });
    g.finish();
}

criterion_group!(benches, build, export, export_to_sink);
criterion_main!(benches);
