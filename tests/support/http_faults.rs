//! An HTTP proxy on loopback that answers some requests itself and passes the rest to a real
//! server: a repeating pattern of faults by request number, e.g. 429s and 503s in bursts and
//! 300 ms stalls, counted by kind, so a test can inject a retry storm deterministically.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fault {
    /// Pass the request to the server.
    Pass,
    /// Answer with this status and body, never reaching the server.
    Answer(u16, &'static str),
    /// Pass it, but hold the server's answer this long.
    Stall(Duration),
}

/// Which fault a request meets: by its number (`pattern[n % len]`), or by when it comes (every
/// `period` from the proxy's start, the last `refused` of it answered `status` by the proxy).
#[derive(Clone, Debug)]
pub enum Faults {
    ByCount(Vec<Fault>),
    ByTime {
        period: Duration,
        refused: Duration,
        status: u16,
    },
    /// Each trace's first `times` lookups by ID (`/api/v2/traces/{id}`) are answered as Tempo 3.x
    /// answers a trace it does not have (200 `{"trace":{},"metrics":{}}`); later ones pass.
    /// `u32::MAX` hides them for good. Other requests pass.
    HideTraces {
        times: u32,
    },
}

/// Tempo 3.x's answer for a trace it does not have (`tests/fixtures/tempo/`).
pub const NO_TRACE: &str = r#"{"trace":{},"metrics":{}}"#;

impl Faults {
    /// The fault for request `n` to `path`; `asked` counts lookups per trace id.
    fn pick_for(&self, n: u64, since_start: Duration, path: &str, asked: &std::sync::Mutex<std::collections::HashMap<String, u32>>) -> Fault {
        if let Faults::HideTraces { times } = self {
            let Some(id) = path.strip_prefix("/api/v2/traces/") else { return Fault::Pass };
            let mut asked = asked.lock().unwrap();
            let seen = asked.entry(id.to_string()).or_default();
            *seen = seen.saturating_add(1);
            return if *seen <= *times { Fault::Answer(200, NO_TRACE) } else { Fault::Pass };
        }
        self.pick(n, since_start)
    }

    fn pick(&self, n: u64, since_start: Duration) -> Fault {
        match self {
            Faults::HideTraces { .. } => Fault::Pass,
            Faults::ByCount(pattern) => pattern[(n % pattern.len() as u64) as usize],
            Faults::ByTime { period, refused, status } => {
                let into = Duration::from_nanos((since_start.as_nanos() % period.as_nanos().max(1)) as u64);
                if into >= period.saturating_sub(*refused) {
                    Fault::Answer(*status, "ingestion rate limit exceeded")
                } else {
                    Fault::Pass
                }
            }
        }
    }
}

#[derive(Default)]
pub struct Counts {
    pub requests: AtomicU64,
    pub answered_by_proxy: AtomicU64,
    pub stalled: AtomicU64,
}

pub struct HttpFaults {
    pub port: u16,
    pub counts: Arc<Counts>,
    task: tokio::task::JoinHandle<()>,
}

impl HttpFaults {
    /// Request n (from 0) meets `pattern[n % pattern.len()]`.
    pub async fn start(upstream: u16, pattern: Vec<Fault>) -> HttpFaults {
        Self::start_with(upstream, Faults::ByCount(pattern)).await
    }

    pub async fn start_with(upstream: u16, faults: Faults) -> HttpFaults {
        let started = std::time::Instant::now();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let counts = Arc::new(Counts::default());
        let pattern = Arc::new(faults);
        let asked = Arc::new(std::sync::Mutex::new(std::collections::HashMap::new()));
        let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
        let c = counts.clone();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (pattern, counts, client, asked) = (pattern.clone(), c.clone(), client.clone(), asked.clone());
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                        let (pattern, counts, client, asked) = (pattern.clone(), counts.clone(), client.clone(), asked.clone());
                        async move {
                            let n = counts.requests.fetch_add(1, Ordering::Relaxed);
                            let fault = pattern.pick_for(n, started.elapsed(), req.uri().path(), &asked);
                            let (parts, body) = req.into_parts();
                            let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                            if let Fault::Answer(status, text) = fault {
                                counts.answered_by_proxy.fetch_add(1, Ordering::Relaxed);
                                return Ok::<_, hyper::Error>(Response::builder().status(status).body(Full::new(Bytes::from_static(text.as_bytes()))).unwrap());
                            }
                            let mut forward = Request::builder()
                                .method(parts.method)
                                .uri(format!("http://127.0.0.1:{upstream}{}", parts.uri.path_and_query().map_or("/", |p| p.as_str())));
                            for (k, v) in &parts.headers {
                                if k != http::header::HOST {
                                    forward = forward.header(k, v);
                                }
                            }
                            let answer = client.request(forward.body(Full::new(body)).unwrap()).await;
                            if let Fault::Stall(d) = fault {
                                counts.stalled.fetch_add(1, Ordering::Relaxed);
                                tokio::time::sleep(d).await;
                            }
                            Ok(match answer {
                                Ok(resp) => {
                                    let (parts, body) = resp.into_parts();
                                    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                                    Response::from_parts(parts, Full::new(body))
                                }
                                Err(e) => Response::builder().status(502).body(Full::new(Bytes::from(e.to_string()))).unwrap(),
                            })
                        }
                    });
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new()).serve_connection(TokioIo::new(socket), svc).await;
                });
            }
        });
        HttpFaults { port, counts, task }
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for HttpFaults {
    fn drop(&mut self) {
        self.task.abort();
    }
}
