//! Sending pre-encoded Export requests: OTLP/gRPC through tonic with a codec that writes the bytes
//! as they are (no second encoding), over several channels (h2c for http://, TLS for https://);
//! or OTLP/HTTP (`POST /v1/traces`, protobuf) through the shared HTTP client.

use crate::client::http::{ClientSetupError, HttpTarget, TransportError};
use crate::scenario::Connection;
use bytes::{Buf, BufMut, Bytes};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use prost::Message;
use std::time::Duration;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Status};

pub const EXPORT_PATH: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

/// Encodes `Bytes` as they are, decodes the Export response with prost.
#[derive(Clone, Copy, Debug, Default)]
pub struct RawCodec;

pub struct RawEncoder;
pub struct ResponseDecoder;

impl Encoder for RawEncoder {
    type Item = Bytes;
    type Error = Status;
    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for ResponseDecoder {
    type Item = ExportTraceServiceResponse;
    type Error = Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Self::Item>, Status> {
        let bytes = src.copy_to_bytes(src.remaining());
        ExportTraceServiceResponse::decode(bytes).map(Some).map_err(|e| Status::new(Code::Internal, format!("bad response: {e}")))
    }
}

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = ExportTraceServiceResponse;
    type Encoder = RawEncoder;
    type Decoder = ResponseDecoder;
    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }
    fn decoder(&mut self) -> ResponseDecoder {
        ResponseDecoder
    }
}

/// Tenant, auth and extra headers as gRPC metadata.
pub fn metadata(conn: &Connection) -> Result<MetadataMap, ClientSetupError> {
    let mut md = MetadataMap::new();
    let header = |name: &str, e: String| ClientSetupError::Header { name: name.into(), reason: e };
    let mut put = |name: &str, value: String| -> Result<(), ClientSetupError> {
        let key = MetadataKey::from_bytes(name.to_ascii_lowercase().as_bytes()).map_err(|e| header(name, e.to_string()))?;
        let value = MetadataValue::try_from(value.as_str()).map_err(|e| header(name, e.to_string()))?;
        md.insert(key, value);
        Ok(())
    };
    if let Some(tenant) = &conn.tenant {
        put("x-scope-orgid", tenant.clone())?;
    }
    if let Some(auth) = crate::client::http::authorization(conn)? {
        put("authorization", auth)?;
    }
    for (k, v) in &conn.headers {
        put(k, v.clone())?;
    }
    put("user-agent", crate::client::http::USER_AGENT_VALUE.to_string())?;
    Ok(md)
}

/// OTLP/gRPC client over several lazily connected channels.
#[derive(Clone)]
pub struct GrpcExporter {
    channels: Vec<Channel>,
    metadata: MetadataMap,
    timeout: Duration,
    gzip: bool,
}

impl GrpcExporter {
    pub fn new(url: &str, conn: &Connection, connections: usize, gzip: bool) -> Result<GrpcExporter, ClientSetupError> {
        let bad = |reason: String| ClientSetupError::Endpoint { url: url.to_string(), reason };
        let mut endpoint = Endpoint::from_shared(url.to_string())
            .map_err(|e| bad(e.to_string()))?
            .connect_timeout(conn.connect_timeout.get())
            .tcp_nodelay(true)
            .http2_adaptive_window(true);
        if url.starts_with("https://") {
            let mut tls = tonic::transport::ClientTlsConfig::new().with_native_roots();
            if let Some(path) = &conn.tls.ca_file {
                let pem = std::fs::read(path).map_err(|e| ClientSetupError::CaFile { path: path.clone(), reason: e.to_string() })?;
                tls = tls.ca_certificate(tonic::transport::Certificate::from_pem(pem));
            }
            endpoint = endpoint.tls_config(tls).map_err(|e| bad(e.to_string()))?;
        }
        let channels = (0..connections.max(1)).map(|_| endpoint.connect_lazy()).collect();
        Ok(GrpcExporter { channels, metadata: metadata(conn)?, timeout: conn.timeout.get(), gzip })
    }

    /// One Export call with the pre-encoded request on channel `pool % channels`.
    pub async fn export(&self, pool: usize, body: Bytes) -> Result<ExportTraceServiceResponse, Status> {
        let channel = self.channels[pool % self.channels.len()].clone();
        let mut grpc = tonic::client::Grpc::new(channel);
        if self.gzip {
            grpc = grpc.send_compressed(tonic::codec::CompressionEncoding::Gzip);
        }
        grpc = grpc.accept_compressed(tonic::codec::CompressionEncoding::Gzip);
        let call = async {
            grpc.ready().await.map_err(|e| Status::new(Code::Unavailable, format!("connection failed: {e}")))?;
            let mut req = tonic::Request::new(body);
            *req.metadata_mut() = self.metadata.clone();
            req.set_timeout(self.timeout);
            let path = http::uri::PathAndQuery::from_static(EXPORT_PATH);
            grpc.unary(req, path, RawCodec).await.map(|r| r.into_inner())
        };
        match tokio::time::timeout(self.timeout, call).await {
            Ok(result) => result,
            Err(_) => Err(Status::new(Code::DeadlineExceeded, "no answer within the timeout")),
        }
    }
}

/// OTLP/HTTP: `POST <base>/v1/traces`, protobuf, optionally gzip.
#[derive(Clone)]
pub struct HttpExporter {
    pub target: HttpTarget,
    pub uri: http::Uri,
    pub gzip: bool,
}

impl HttpExporter {
    pub async fn export(&self, pool: usize, body: &[u8]) -> Result<crate::client::http::Answer, TransportError> {
        use http::header::{HeaderValue, CONTENT_ENCODING, CONTENT_TYPE};
        let mut headers = http::HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/x-protobuf"));
        let body = if self.gzip {
            headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            let mut gz = flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 4), flate2::Compression::fast());
            std::io::Write::write_all(&mut gz, body).map_err(|e| TransportError::Connect(e.to_string()))?;
            Bytes::from(gz.finish().map_err(|e| TransportError::Connect(e.to_string()))?)
        } else {
            Bytes::copy_from_slice(body)
        };
        self.target.send(pool, http::Method::POST, &self.uri, &headers, body).await
    }
}
