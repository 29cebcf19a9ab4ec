//! The remote-write workload on the wire: what a request carries, and how transport failures and
//! `Retry-After` are handled. Loopback servers only.

mod support;

use lgtm_bench::client::http::HttpTarget;
use lgtm_bench::scenario::Connection;
use lgtm_bench::stats::OutcomeClass;
use lgtm_bench::stats::PathTable;
use lgtm_bench::targets::mimir::config::SeriesModel;
use lgtm_bench::targets::mimir::write::proto::WriteRequest;
use lgtm_bench::targets::mimir::write::series::SeriesSet;
use lgtm_bench::targets::mimir::write::RemoteWrite;
use lgtm_bench::units::Dur;
use lgtm_bench::workload::{RunClock, Ticket, Workload};
use prost::Message;
use std::sync::Arc;
use std::time::Duration;
use support::replay::{Canned, ReplayServer};
use tokio::time::Instant;

fn writer(base: &str, conn: Connection) -> (RemoteWrite, Arc<SeriesSet>) {
    let model = SeriesModel {
        active: 8,
        metrics: vec!["wire_total".into()],
        labels: vec![],
        samples_per_request: 4,
        scrape_interval: None,
        churn_share: 0.0,
        churn_period: Dur::secs(60),
        families: vec![],
        preset: None,
        exemplar_share: 0.0,
    };
    let series = Arc::new(SeriesSet::new(&model, "wire", 3));
    let path = PathTable::default().register("mimir.write");
    let target = HttpTarget::new(&conn, 1).unwrap();
    let uri = format!("{base}/api/v1/push").parse().unwrap();
    let w = RemoteWrite::new(target, uri, series.clone(), path, RunClock::starting_at(Instant::now()), 1, Duration::from_secs(5), None);
    (w, series)
}

fn ticket(seq: u64) -> Ticket {
    Ticket { seq, intended: Instant::now(), measured: true }
}

#[tokio::test]
async fn a_request_carries_protocol_headers_tenant_and_the_planned_samples() {
    let server = ReplayServer::start(vec![Canned::new(200, "")]).await;
    let conn = Connection { tenant: Some("bench".into()), ..Connection::default() };
    let (w, series) = writer(&server.base(), conn);
    let mut state = w.new_state(0);
    let out = w.call(&mut state, ticket(1)).await;
    assert_eq!((out.class, out.items, out.retries), (OutcomeClass::Success, 4, 0));
    let got = server.received().pop().unwrap();
    assert_eq!(got.method, "POST");
    assert_eq!(got.uri, "/api/v1/push");
    for (h, v) in
        [("content-encoding", "snappy"), ("content-type", "application/x-protobuf"), ("x-prometheus-remote-write-version", "0.1.0"), ("x-scope-orgid", "bench")]
    {
        assert_eq!(got.headers[h], v, "{h}");
    }
    assert!(got.headers["user-agent"].to_str().unwrap().starts_with("lgtm-bench/"));
    let req = WriteRequest::decode(snap::raw::Decoder::new().decompress_vec(&got.body).unwrap().as_slice()).unwrap();
    let ids: Vec<String> = req.timeseries.iter().map(|t| t.labels.iter().find(|l| l.name == "series").unwrap().value.clone()).collect();
    assert_eq!(ids, ["4", "5", "6", "7"]);
    assert_eq!(req.timeseries[0].samples[0].value, series.value(1, 4));
}

#[tokio::test]
async fn retry_after_is_honoured_then_counted() {
    let server = ReplayServer::start(vec![Canned::new(429, "slow down").header("Retry-After", "0"), Canned::new(200, "")]).await;
    let (w, _) = writer(&server.base(), Connection::default());
    let out = w.call(&mut w.new_state(0), ticket(0)).await;
    assert_eq!((out.class, out.retries), (OutcomeClass::Success, 1));
    assert_eq!(server.received().len(), 2);
}

#[tokio::test]
async fn a_429_without_retry_after_is_rate_limited_and_not_retried() {
    let f = support::fixtures::all("mimir").into_iter().find(|(n, _)| n == "push-rate-limited").unwrap().1;
    let server = ReplayServer::start(vec![Canned::from_fixture(&f)]).await;
    let (w, _) = writer(&server.base(), Connection::default());
    let out = w.call(&mut w.new_state(0), ticket(0)).await;
    assert_eq!((out.class, out.retries), (OutcomeClass::RateLimited, 0));
    assert_eq!(server.received().len(), 1);
}

#[tokio::test]
async fn a_silent_target_is_a_timeout_and_a_closed_port_a_connection_failure() {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            open.push(s); // accepted, never answered
        }
    });
    let conn = Connection { timeout: Dur::millis(300), ..Connection::default() };
    let (w, _) = writer(&format!("http://127.0.0.1:{port}"), conn);
    assert_eq!(w.call(&mut w.new_state(0), ticket(0)).await.class, OutcomeClass::Timeout);
    held.abort();

    let closed = support::free_port();
    let (w, _) = writer(&format!("http://127.0.0.1:{closed}"), Connection::default());
    assert_eq!(w.call(&mut w.new_state(0), ticket(0)).await.class, OutcomeClass::ConnectionFailure);
}

#[tokio::test]
async fn plaintext_http2_with_prior_knowledge_when_asked_http1_otherwise() {
    let server = ReplayServer::start(vec![Canned::new(200, "")]).await;
    let mut conn = Connection::default();
    conn.tls.http2_prior_knowledge = true;
    let (w, _) = writer(&server.base(), conn);
    assert_eq!(w.call(&mut w.new_state(0), ticket(0)).await.class, OutcomeClass::Success);
    let (w, _) = writer(&server.base(), Connection::default());
    assert_eq!(w.call(&mut w.new_state(0), ticket(1)).await.class, OutcomeClass::Success);
    let versions: Vec<http::Version> = server.received().iter().map(|r| r.version).collect();
    assert_eq!(versions, [http::Version::HTTP_2, http::Version::HTTP_11]);
}
