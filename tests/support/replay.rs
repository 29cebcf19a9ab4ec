//! A loopback HTTP server that answers every request with a canned response (a recorded fixture,
//! garbage, or a sequence) and keeps what it received for assertions.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

#[derive(Clone, Debug)]
pub struct Canned {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Canned {
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Canned {
        Canned { status, headers: vec![], body: body.into() }
    }
    pub fn header(mut self, name: &str, value: &str) -> Canned {
        self.headers.push((name.into(), value.into()));
        self
    }
    /// The response recorded in a fixture.
    pub fn from_fixture(f: &serde_json::Value) -> Canned {
        let headers = f["response"]["headers"]
            .as_object()
            .map(|h| h.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
            .unwrap_or_default();
        Canned { status: f["response"]["status"].as_u64().unwrap() as u16, headers, body: super::fixtures::response_body(f) }
    }
}

#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    pub uri: String,
    pub headers: http::HeaderMap,
    pub version: http::Version,
    pub body: Bytes,
}

pub struct ReplayServer {
    pub port: u16,
    pub received: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl ReplayServer {
    /// Answers with `sequence` in order, then repeats the last answer forever.
    pub async fn start(sequence: Vec<Canned>) -> ReplayServer {
        Self::start_with(sequence, None, Vec::new()).await
    }

    /// Answers each request with the first route whose pattern its path and query contain (a
    /// 404 naming the request when none does), as an API answers by path.
    pub async fn routed(routes: Vec<(&str, Canned)>) -> ReplayServer {
        let routes = routes.into_iter().map(|(p, c)| (p.to_string(), c)).collect();
        Self::start_with(vec![Canned::new(404, "no route")], None, routes).await
    }

    /// The same over TLS (ALPN offers h2 and http/1.1) with the given certificate and key.
    pub async fn start_tls(sequence: Vec<Canned>, cert_pem: &str, key_pem: &str) -> ReplayServer {
        use rustls_pki_types::pem::PemObject;
        use rustls_pki_types::{CertificateDer, PrivateKeyDer};
        let certs = vec![CertificateDer::from_pem_slice(cert_pem.as_bytes()).unwrap()];
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap();
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Self::start_with(sequence, Some(tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config))), Vec::new()).await
    }

    async fn start_with(sequence: Vec<Canned>, tls: Option<tokio_rustls::TlsAcceptor>, routes: Vec<(String, Canned)>) -> ReplayServer {
        let routes = Arc::new(routes);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let queue = Arc::new(Mutex::new(VecDeque::from(sequence)));
        let rec = received.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { break };
                let (rec, queue, tls, routes) = (rec.clone(), queue.clone(), tls.clone(), routes.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |req: Request<hyper::body::Incoming>| {
                        let (rec, queue, routes) = (rec.clone(), queue.clone(), routes.clone());
                        async move {
                            let (parts, body) = req.into_parts();
                            let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                            rec.lock().unwrap().push(Received {
                                method: parts.method.to_string(),
                                uri: parts.uri.to_string(),
                                headers: parts.headers,
                                version: parts.version,
                                body,
                            });
                            let uri = percent_decoded(&parts.uri.to_string());
                            let routed = routes.iter().find(|(pattern, _)| uri.contains(pattern.as_str())).map(|(_, c)| c.clone());
                            let canned = if !routes.is_empty() {
                                routed.unwrap_or_else(|| Canned::new(404, format!("no route for {uri}")))
                            } else {
                                let mut q = queue.lock().unwrap();
                                if q.len() > 1 {
                                    q.pop_front().unwrap()
                                } else {
                                    q.front().cloned().unwrap()
                                }
                            };
                            let mut resp = Response::builder().status(canned.status);
                            for (k, v) in &canned.headers {
                                resp = resp.header(k, v);
                            }
                            Ok::<_, std::convert::Infallible>(resp.body(Full::new(Bytes::from(canned.body))).unwrap())
                        }
                    });
                    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                    match tls {
                        Some(acceptor) => {
                            if let Ok(stream) = acceptor.accept(stream).await {
                                let _ = builder.serve_connection(TokioIo::new(stream), service).await;
                            }
                        }
                        None => {
                            let _ = builder.serve_connection(TokioIo::new(stream), service).await;
                        }
                    }
                });
            }
        });
        ReplayServer { port, received, task }
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

impl Drop for ReplayServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A request's path and query with `%XX` and `+` decoded, for matching routes.
fn percent_decoded(uri: &str) -> String {
    let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
    let query: Vec<String> = form_urlencoded::parse(query.as_bytes()).map(|(k, v)| format!("{k}={v}")).collect();
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}
