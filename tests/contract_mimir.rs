//! Contract tests: every recorded answer of a real Cortex (Mimir's upstream, same API) in
//! `tests/fixtures/mimir/` is replayed through a loopback server and sent through lgtm-bench's
//! own client; the class lgtm-bench assigns must be the right one.

mod support;

use lgtm_bench::client::http::{join_uri, HttpTarget};
use lgtm_bench::client::promql::classify_query;
use lgtm_bench::scenario::Connection;
use lgtm_bench::stats::OutcomeClass;
use lgtm_bench::targets::mimir::write::proto::WriteRequest;
use lgtm_bench::targets::mimir::write::{classify::classify, protocol_headers};
use prost::Message;
use support::replay::{Canned, ReplayServer};

/// What each recorded exchange must be classified as; `None`: an endpoint lgtm-bench does not
/// call for load (its test says which).
fn expected(name: &str) -> Option<(OutcomeClass, u64)> {
    use OutcomeClass::*;
    Some(match name {
        "push-ok" | "push-duplicate-same-value" => (Success, 0),
        "push-duplicate-new-value" => (Duplicate, 0),
        "push-out-of-order" => (OutOfOrder, 0),
        "push-too-old" => (TooOld, 0),
        "push-series-limit" | "push-per-metric-series-limit-partial" => (SeriesLimit, 0),
        "push-garbage" | "push-not-snappy" | "push-missing-metric-name" => (BadRequest, 0),
        "push-no-tenant" | "query-no-tenant" => (Unauthenticated, 0),
        "push-rate-limited" => (RateLimited, 0),
        "query-instant-ok" | "query-post-form" => (Success, 3),
        "query-instant-scalar" => (Success, 1),
        "query-instant-empty" | "query-other-tenant" | "query-range-24h-rate" => (Success, 0),
        "query-range-7d" => (Success, 3),
        "query-bad-syntax" | "query-range-too-many-points" => (BadRequest, 0),
        "ready" | "labels" | "series" | "metrics" => return None,
        other => panic!("fixture {other} has no expected class: add it to this table"),
    })
}

async fn replay_through_client(fixture: &serde_json::Value) -> lgtm_bench::client::http::Answer {
    let server = ReplayServer::start(vec![Canned::from_fixture(fixture)]).await;
    let target = HttpTarget::new(&Connection::default(), 1).unwrap();
    let req = &fixture["request"];
    let uri = join_uri(&server.base(), req["path"].as_str().unwrap()).unwrap();
    let method: http::Method = req["method"].as_str().unwrap().parse().unwrap();
    let body = req["body_b64"].as_str().map(support::fixtures::b64).unwrap_or_default();
    let answer = target.send(0, method, &uri, &http::HeaderMap::new(), body.into()).await.unwrap();
    assert_eq!(server.received().len(), 1);
    answer
}

#[tokio::test]
async fn every_recorded_mimir_answer_gets_its_class() {
    let fixtures = support::fixtures::all("mimir");
    assert!(fixtures.len() >= 25, "expected the whole recorded set, found {}", fixtures.len());
    let mut checked = 0;
    for (name, fixture) in &fixtures {
        let Some((class, items)) = expected(name) else { continue };
        let answer = replay_through_client(fixture).await;
        assert_eq!(answer.status.as_u16() as u64, fixture["response"]["status"].as_u64().unwrap(), "{name}");
        let got = if name.starts_with("push-") { (classify(answer.status, &answer.body), 0) } else { classify_query(&answer) };
        assert_eq!(got, (class, items), "fixture {name}: {}", fixture["note"]);
        checked += 1;
    }
    assert_eq!(checked, fixtures.len() - 4);
}

#[test]
fn recorded_pushes_decode_as_our_write_request_and_match_our_headers() {
    let ours = protocol_headers();
    for (name, fixture) in support::fixtures::all("mimir").iter().filter(|(n, _)| n.starts_with("push-")) {
        let req = &fixture["request"];
        if let Some(raw) = req["uncompressed_writerequest_b64"].as_str() {
            let decoded = WriteRequest::decode(support::fixtures::b64(raw).as_slice()).unwrap();
            assert!(!decoded.timeseries.is_empty(), "{name}");
        }
        if req["headers"]["Content-Encoding"] == "snappy" {
            for h in ["Content-Encoding", "Content-Type", "X-Prometheus-Remote-Write-Version"] {
                assert_eq!(ours.get(h).unwrap().to_str().unwrap(), req["headers"][h].as_str().unwrap(), "{name}: {h}");
            }
        }
    }
}

#[test]
fn a_rejected_push_can_still_be_a_partial_write() {
    // The recorded 400 stored 2 of 5 series: the class must not claim the samples were lost.
    let (_, f) = support::fixtures::all("mimir").into_iter().find(|(n, _)| n == "push-per-metric-series-limit-partial").unwrap();
    assert_eq!(f["partially_accepted"], true);
    let class = classify(http::StatusCode::BAD_REQUEST, f["response"]["body"].as_str().unwrap().as_bytes());
    assert_eq!(class, OutcomeClass::SeriesLimit);
    assert!(class.describe().contains("partly written"));
}
