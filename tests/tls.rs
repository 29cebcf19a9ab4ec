//! TLS to the targets: a custom CA from the scenario is trusted (and needed: the system roots do
//! not know it), HTTP/2 is negotiated by ALPN for remote-write, and OTLP/gRPC runs over TLS.

mod support;

use lgtm_bench::client::http::HttpTarget;
use lgtm_bench::scenario::{Connection, TlsOptions};
use lgtm_bench::stats::OutcomeClass;
use lgtm_bench::stats::PathTable;
use lgtm_bench::targets::mimir::config::SeriesModel;
use lgtm_bench::targets::mimir::write::series::SeriesSet;
use lgtm_bench::targets::mimir::write::RemoteWrite;
use lgtm_bench::targets::tempo::config::TraceShape;
use lgtm_bench::targets::tempo::otlp::payload::Mix;
use lgtm_bench::targets::tempo::otlp::shape::{IdSource, Shape};
use lgtm_bench::targets::tempo::otlp::transport::GrpcExporter;
use lgtm_bench::targets::tempo::otlp::{AckLedger, Exporter, OtlpWrite};
use lgtm_bench::units::Dur;
use lgtm_bench::workload::{RunClock, Ticket, Workload};
use std::sync::Arc;
use support::otlp_receiver::{Answer, Receiver};
use support::replay::{Canned, ReplayServer};
use tokio::time::Instant;

struct Pki {
    _dir: tempfile::TempDir,
    ca_file: String,
    cert: String,
    key: String,
}

fn pki() -> Pki {
    let rcgen::CertifiedKey { cert, signing_key } = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, cert.pem()).unwrap();
    Pki { ca_file: ca_file.display().to_string(), cert: cert.pem(), key: signing_key.serialize_pem(), _dir: dir }
}

fn with_ca(ca: Option<&str>) -> Connection {
    Connection { tls: TlsOptions { ca_file: ca.map(String::from), http2_prior_knowledge: false }, ..Connection::default() }
}

fn ticket() -> Ticket {
    Ticket { seq: 0, intended: Instant::now(), measured: true }
}

fn remote_write(base: &str, conn: Connection) -> RemoteWrite {
    let model = SeriesModel {
        active: 4,
        metrics: vec!["tls_total".into()],
        labels: vec![],
        samples_per_request: 4,
        scrape_interval: None,
        churn_share: 0.0,
        churn_period: Dur::secs(60),
        families: vec![],
        preset: None,
        exemplar_share: 0.0,
    };
    let series = Arc::new(SeriesSet::new(&model, "tls", 1));
    let path = PathTable::default().register("mimir.write");
    let uri = format!("{base}/api/v1/push").parse().unwrap();
    RemoteWrite::new(HttpTarget::new(&conn, 1).unwrap(), uri, series, path, RunClock::starting_at(Instant::now()), 1, Dur::secs(5).get(), None)
}

#[tokio::test]
async fn remote_write_over_tls_trusts_the_scenarios_ca_and_negotiates_http2() {
    let pki = pki();
    let server = ReplayServer::start_tls(vec![Canned::new(200, "")], &pki.cert, &pki.key).await;
    let base = format!("https://127.0.0.1:{}", server.port);

    let w = remote_write(&base, with_ca(Some(&pki.ca_file)));
    assert_eq!(w.call(&mut w.new_state(0), ticket()).await.class, OutcomeClass::Success);
    assert_eq!(server.received()[0].version, http::Version::HTTP_2, "ALPN chose h2");

    let untrusted = remote_write(&base, with_ca(None));
    assert_eq!(untrusted.call(&mut untrusted.new_state(0), ticket()).await.class, OutcomeClass::ConnectionFailure);
    assert_eq!(server.received().len(), 1, "nothing reached the server without the CA");
}

#[tokio::test]
async fn otlp_grpc_over_tls_with_a_custom_ca() {
    let pki = pki();
    let receiver = Receiver::start_tls(vec![Answer::Ok], &pki.cert, &pki.key).await;
    let url = format!("https://127.0.0.1:{}", receiver.port);
    let export = |ca: Option<&str>| {
        let exporter = GrpcExporter::new(&url, &with_ca(ca), 1, false).unwrap();
        OtlpWrite {
            exporter: Exporter::Grpc(exporter),
            mix: Arc::new(Mix::new(&[(1.0, Arc::new(Shape::new(&TraceShape::default())))], "tls", 7)),
            ids: IdSource::new(1, "tls"),
            path: PathTable::default().register("tempo.write"),
            clock: RunClock::starting_at(Instant::now()),
            connections: 1,
            ledger: Arc::new(AckLedger::default()),
            visibility: None,
        }
    };
    let trusted = export(Some(&pki.ca_file));
    assert_eq!(trusted.call(&mut trusted.new_state(0), ticket()).await.class, OutcomeClass::Success);
    assert_eq!(receiver.received().len(), 1);
    let untrusted = export(None);
    assert_eq!(untrusted.call(&mut untrusted.new_state(0), ticket()).await.class, OutcomeClass::ConnectionFailure);
    assert_eq!(receiver.received().len(), 1);
}
