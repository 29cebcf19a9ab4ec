//! Test support: an in-process OTLP/gRPC TraceService on loopback that decodes and keeps what
//! arrives (with its metadata) and answers as told: OK, partial success, or any gRPC status.
//! It also serves a minimal Tempo query API (trace by ID v2, search, tags, echo) over what it
//! received, in the shapes real Tempo answers (`tests/fixtures/tempo/`).

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{TraceService, TraceServiceServer};
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse};
use std::sync::{Arc, Mutex};
use tonic::{Code, Request, Response, Status};

#[derive(Clone, Debug)]
pub enum Answer {
    Ok,
    Partial(i64),
    Fail(Code, String),
}

#[derive(Clone, Debug)]
pub struct Received {
    pub tenant: Option<String>,
    pub request: ExportTraceServiceRequest,
}

impl Received {
    /// Every span of this Export, across its resources and scopes.
    pub fn spans(&self) -> impl Iterator<Item = &opentelemetry_proto::tonic::trace::v1::Span> {
        self.request.resource_spans.iter().flat_map(|rs| rs.scope_spans.iter()).flat_map(|ss| ss.spans.iter())
    }
}

#[derive(Clone, Default)]
pub struct Shared {
    pub received: Arc<Mutex<Vec<Received>>>,
    answers: Arc<Mutex<Vec<Answer>>>,
}

impl Shared {
    /// Forgets every trace received so far (a Tempo whose data was wiped).
    pub fn forget_traces(&self) {
        self.received.lock().unwrap().clear();
    }
}

struct Service(Shared);

#[tonic::async_trait]
impl TraceService for Service {
    async fn export(&self, req: Request<ExportTraceServiceRequest>) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let tenant = req.metadata().get("x-scope-orgid").and_then(|v| v.to_str().ok()).map(String::from);
        let answer = {
            let mut a = self.0.answers.lock().unwrap();
            if a.len() > 1 {
                a.remove(0)
            } else {
                a.first().cloned().unwrap_or(Answer::Ok)
            }
        };
        let request = req.into_inner();
        if !request.resource_spans.is_empty() {
            self.0.received.lock().unwrap().push(Received { tenant, request });
        }
        match answer {
            Answer::Ok => Ok(Response::new(ExportTraceServiceResponse::default())),
            Answer::Partial(n) => Ok(Response::new(ExportTraceServiceResponse {
                partial_success: Some(ExportTracePartialSuccess { rejected_spans: n, error_message: "some spans rejected".into() }),
            })),
            Answer::Fail(code, message) => Err(Status::new(code, message)),
        }
    }
}

pub struct Receiver {
    pub port: u16,
    pub shared: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    /// Answers with `answers` in order (the empty preflight Export included), then the last forever.
    pub async fn start(answers: Vec<Answer>) -> Receiver {
        Self::start_with(answers, None).await
    }

    /// The same over TLS with the given PEM certificate and key.
    pub async fn start_tls(answers: Vec<Answer>, cert_pem: &str, key_pem: &str) -> Receiver {
        Self::start_with(answers, Some((cert_pem.to_string(), key_pem.to_string()))).await
    }

    async fn start_with(answers: Vec<Answer>, tls: Option<(String, String)>) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Shared { answers: Arc::new(Mutex::new(answers)), ..Shared::default() };
        let svc = TraceServiceServer::new(Service(shared.clone())).accept_compressed(tonic::codec::CompressionEncoding::Gzip);
        let incoming = incoming(listener);
        let mut builder = tonic::transport::Server::builder();
        if let Some((cert, key)) = tls {
            let identity = tonic::transport::Identity::from_pem(cert, key);
            builder = builder.tls_config(tonic::transport::ServerTlsConfig::new().identity(identity)).unwrap();
        }
        let task = tokio::spawn(async move {
            let _ = builder.add_service(svc).serve_with_incoming(incoming).await;
        });
        Receiver { port, shared, task }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Accepted connections of `listener` as the stream tonic serves.
fn incoming(listener: tokio::net::TcpListener) -> impl futures_core::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    struct Incoming(tokio::net::TcpListener);
    impl futures_core::Stream for Incoming {
        type Item = std::io::Result<tokio::net::TcpStream>;
        fn poll_next(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Option<Self::Item>> {
            self.0.poll_accept(cx).map(|r| {
                Some(r.map(|(s, _)| {
                    let _ = s.set_nodelay(true);
                    s
                }))
            })
        }
    }
    Incoming(listener)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn attr(attrs: &[opentelemetry_proto::tonic::common::v1::KeyValue], key: &str) -> Option<String> {
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    attrs.iter().find(|a| a.key == key).and_then(|a| match a.value.as_ref()?.value.as_ref()? {
        Value::StringValue(s) => Some(s.clone()),
        _ => None,
    })
}

/// Tempo's v2 trace-by-ID JSON for the spans received with this trace id (`{"trace":{}}` when none).
pub fn trace_json(shared: &Shared, id_hex: &str) -> String {
    let mut batches = Vec::new();
    for r in shared.received.lock().unwrap().iter() {
        for rs in &r.request.resource_spans {
            let spans: Vec<String> = rs
                .scope_spans
                .iter()
                .flat_map(|ss| ss.spans.iter())
                .filter(|s| hex(&s.trace_id) == id_hex)
                .map(|s| {
                    // As Tempo's v2 JSON writes a span (ids here in hex: only their equality matters).
                    let parent = if s.parent_span_id.is_empty() { String::new() } else { format!(r#","parentSpanId":"{}""#, hex(&s.parent_span_id)) };
                    let attrs: Vec<String> = s.attributes.iter().map(|a| format!(r#"{{"key":"{}","value":{{"stringValue":"{}"}}}}"#, a.key, attr(&s.attributes, &a.key).unwrap_or_default())).collect();
                    let status = match s.status.as_ref().map_or(0, |st| st.code) {
                        2 => r#"{"code":"STATUS_CODE_ERROR"}"#,
                        _ => "{}",
                    };
                    let events: Vec<String> = s.events.iter().map(|e| format!(r#"{{"name":"{}"}}"#, e.name)).collect();
                    let links: Vec<String> = s.links.iter().map(|l| format!(r#"{{"spanId":"{}"}}"#, hex(&l.span_id))).collect();
                    format!(
                        r#"{{"spanId":"{}"{parent},"name":"{}","startTimeUnixNano":"{}","endTimeUnixNano":"{}","attributes":[{}],"events":[{}],"links":[{}],"status":{status}}}"#,
                        hex(&s.span_id),
                        s.name,
                        s.start_time_unix_nano,
                        s.end_time_unix_nano,
                        attrs.join(","),
                        events.join(","),
                        links.join(",")
                    )
                })
                .collect();
            if spans.is_empty() {
                continue;
            }
            let res = rs.resource.as_ref().map(|r| r.attributes.clone()).unwrap_or_default();
            let attrs: Vec<String> = ["service.name", "lgtm_bench.run_id"]
                .iter()
                .filter_map(|k| attr(&res, k).map(|v| format!(r#"{{"key":"{k}","value":{{"stringValue":"{v}"}}}}"#)))
                .collect();
            batches.push(format!(r#"{{"resource":{{"attributes":[{}]}},"scopeSpans":[{{"spans":[{}]}}]}}"#, attrs.join(","), spans.join(",")));
        }
    }
    if batches.is_empty() {
        r#"{"trace":{},"metrics":{}}"#.to_string()
    } else {
        format!(r#"{{"trace":{{"resourceSpans":[{}]}},"metrics":{{}}}}"#, batches.join(","))
    }
}

/// Tempo's search JSON: traces whose root span carries the `lgtm_bench.trace` tag named in `q`.
pub fn search_json(shared: &Shared, q: &str) -> String {
    let wanted = q.split("lgtm_bench.trace = \"").nth(1).and_then(|rest| rest.split('"').next()).map(String::from);
    let mut ids = Vec::new();
    for r in shared.received.lock().unwrap().iter() {
        for span in r.spans() {
            let tag = attr(&span.attributes, "lgtm_bench.trace");
            if tag.is_some() && (wanted.is_none() || tag == wanted) {
                ids.push(format!(r#"{{"traceID":"{}","rootServiceName":"frontend"}}"#, hex(&span.trace_id)));
            }
        }
    }
    format!(r#"{{"traces":[{}],"metrics":{{}}}}"#, ids.join(","))
}

/// Serves Tempo's query API over what `shared` received, on its own loopback port.
pub async fn serve_query_api(shared: Shared) -> (u16, tokio::task::JoinHandle<()>) {
    use http_body_util::Full;
    use hyper::service::service_fn;
    use hyper_util::rt::{TokioExecutor, TokioIo};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let shared = shared.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let shared = shared.clone();
                    async move {
                        let path = req.uri().path().to_string();
                        let query = req.uri().query().unwrap_or("").to_string();
                        let q: String = form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "q").map(|(_, v)| v.to_string()).unwrap_or_default();
                        let (status, body) = if path == "/api/echo" {
                            (200, "echo\n".to_string())
                        } else if path == "/ready" {
                            (200, "ready\n".to_string())
                        } else if path == "/api/status/buildinfo" {
                            // What Tempo 3.x answers (recorded in the fixtures).
                            let f = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tempo/buildinfo.json")).unwrap_or_default();
                            let f: serde_json::Value = serde_json::from_str(&f).unwrap_or_default();
                            (200, f["response"]["body"].as_str().unwrap_or_default().to_string())
                        } else if let Some(id) = path.strip_prefix("/api/v2/traces/") {
                            (200, trace_json(&shared, id))
                        } else if let Some(id) = path.strip_prefix("/api/traces/") {
                            let json = trace_json(&shared, id);
                            if json.contains("resourceSpans") {
                                (200, json.replace(r#"{"trace":{"resourceSpans""#, r#"{"batches""#).replacen("},\"metrics\":{}}", "}", 1))
                            } else {
                                (404, String::new())
                            }
                        } else if path == "/api/search" {
                            (200, search_json(&shared, &q))
                        } else if path == "/api/v2/search/tags" {
                            (200, r#"{"scopes":[{"name":"resource","tags":["service.name","lgtm_bench.run_id"]}]}"#.to_string())
                        } else if path.starts_with("/api/v2/search/tag/") {
                            (200, r#"{"tagValues":[{"type":"string","value":"frontend"}],"metrics":{}}"#.to_string())
                        } else {
                            (404, "404 page not found\n".to_string())
                        };
                        Ok::<_, std::convert::Infallible>(hyper::Response::builder().status(status).body(Full::new(bytes::Bytes::from(body))).unwrap())
                    }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new()).serve_connection(TokioIo::new(stream), svc).await;
            });
        }
    });
    (port, task)
}
