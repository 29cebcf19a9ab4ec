//! Contract tests for Tempo's query side: every recorded HTTP answer of a real Tempo 3.x in
//! `tests/fixtures/tempo/` is replayed through a loopback server and read by lgtm-bench's own
//! client: found (v1 JSON, v2 JSON), not found (v1 404 empty, v2 200 `{"trace":{}}`), wrong
//! tenant, malformed id, search results, search errors, tags, tag values.

mod support;

use lgtm_bench::client::http::{join_uri, HttpTarget};
use lgtm_bench::scenario::Connection;
use lgtm_bench::stats::OutcomeClass;
use lgtm_bench::targets::tempo::config::TraceApi;
use lgtm_bench::targets::tempo::query::{judge, read_search, read_tags, read_trace, ExpectedTrace, TempoApi, TraceLookup};
use std::collections::BTreeSet;
use support::replay::{Canned, ReplayServer};

#[derive(Debug, PartialEq)]
enum Read {
    Trace(TraceLookup),
    Search(Result<Vec<String>, OutcomeClass>),
    Tags(Result<u64, OutcomeClass>),
    Status(u16),
}

/// How each recorded answer must be read; `None` for the OTLP exchanges (tested in tempo_wire.rs)
/// and `/metrics` (memory_watch.rs).
fn expected(name: &str) -> Option<Read> {
    let found = || TraceLookup::Found { spans: 3, services: BTreeSet::from(["checkout".to_string()]), run_ids: BTreeSet::new() };
    Some(match name {
        "trace-by-id-v1-json" | "trace-by-id-v2-json" => Read::Trace(found()),
        "trace-by-id-v1-not-found" | "trace-by-id-v2-not-found" | "trace-by-id-wrong-tenant" => Read::Trace(TraceLookup::NotFound { descriptive: false }),
        "trace-by-id-invalid" => Read::Trace(TraceLookup::Failed(OutcomeClass::BadRequest)),
        "trace-by-id-no-tenant" => Read::Trace(TraceLookup::Failed(OutcomeClass::MissingTenant)),
        // Asked for protobuf, the answer is not JSON: lgtm-bench asks for JSON and says so.
        "trace-by-id-v1-protobuf" => Read::Trace(TraceLookup::Failed(OutcomeClass::BadResponse)),
        "search-traceql" => Read::Search(Ok(vec!["5b8efff798038103d269b633813fc60c".into()])),
        "search-traceql-empty" => Read::Search(Ok(vec![])),
        "search-bad-traceql" => Read::Search(Err(OutcomeClass::BadRequest)),
        "search-tags-v2" => Read::Tags(Ok(0)), // count checked below
        "search-tag-values-v2" => Read::Tags(Ok(0)),
        "echo" | "ready" | "buildinfo" => Read::Status(200),
        n if n.starts_with("otlp-") || n == "metrics" => return None,
        other => panic!("fixture {other} has no expectation: add it to this table"),
    })
}

#[tokio::test]
async fn every_recorded_tempo_query_answer_is_understood() {
    let fixtures = support::fixtures::all("tempo");
    assert!(fixtures.len() >= 20, "{}", fixtures.len());
    let mut checked = 0;
    for (name, f) in &fixtures {
        let Some(want) = expected(name) else { continue };
        let server = ReplayServer::start(vec![Canned::from_fixture(f)]).await;
        let target = HttpTarget::new(&Connection::default(), 1).unwrap();
        let uri = join_uri(&server.base(), f["request"]["path"].as_str().unwrap()).unwrap();
        let answer = target.send(0, http::Method::GET, &uri, &http::HeaderMap::new(), bytes::Bytes::new()).await.unwrap();
        let got = match &want {
            Read::Trace(_) => Read::Trace(read_trace(&answer)),
            Read::Search(_) => Read::Search(read_search(&answer)),
            Read::Tags(_) => Read::Tags(read_tags(&answer).map(|_| 0)),
            Read::Status(_) => Read::Status(answer.status.as_u16()),
        };
        assert_eq!(got, want, "fixture {name}: {}", f["note"]);
        if name == "search-tags-v2" {
            assert!(read_tags(&answer).unwrap() > 10, "tag names counted over scopes");
        }
        checked += 1;
    }
    assert_eq!(checked, fixtures.len() - 6, "all but the 5 OTLP exchanges and /metrics");
}

/// Tempo 3.x's build info, replayed: a source build leaves the version empty, and lgtm-bench says
/// "unknown" rather than inventing one.
#[tokio::test]
async fn tempo_build_info_is_read_and_an_empty_version_stays_unknown() {
    let f = support::fixtures::all("tempo").into_iter().find(|(n, _)| n == "buildinfo").unwrap().1;
    let server = ReplayServer::start(vec![Canned::from_fixture(&f)]).await;
    let target = HttpTarget::new(&Connection::default(), 1).unwrap();
    let info = lgtm_bench::client::buildinfo::read(&target, &server.base(), "/api/status/buildinfo").await;
    assert_eq!((info.version.as_deref(), info.shown().as_str()), (None, "unknown"));
    assert!(info.missing.as_deref().is_some_and(|m| m.contains("empty")), "{info:?}");
}

#[test]
fn a_found_trace_is_judged_against_what_was_written() {
    let expected = ExpectedTrace { spans: 3, services: BTreeSet::from(["checkout".into()]), run_id: "r1".into() };
    let found = |spans, run: &str| TraceLookup::Found { spans, services: expected.services.clone(), run_ids: BTreeSet::from([run.to_string()]) };
    assert_eq!(judge(&found(3, "r1"), &expected), OutcomeClass::Success);
    assert_eq!(judge(&found(2, "r1"), &expected), OutcomeClass::PartialTrace);
    assert_eq!(judge(&found(3, "other"), &expected), OutcomeClass::BadResponse);
    assert_eq!(judge(&TraceLookup::NotFound { descriptive: false }, &expected), OutcomeClass::NotFound);
}

#[tokio::test]
async fn the_api_version_picks_the_path_and_the_tenant_is_sent() {
    let server = ReplayServer::start(vec![Canned::new(200, r#"{"trace":{},"metrics":{}}"#)]).await;
    let conn = Connection { tenant: Some("bench".into()), ..Connection::default() };
    for api in [TraceApi::V2, TraceApi::V1] {
        let tempo = TempoApi { target: HttpTarget::new(&conn, 1).unwrap(), base: server.base(), api };
        tempo.trace_by_id(0, "00000000000000000000000000000001").await.unwrap();
    }
    let got = server.received();
    assert_eq!(got[0].uri, "/api/v2/traces/00000000000000000000000000000001");
    assert_eq!(got[1].uri, "/api/traces/00000000000000000000000000000001");
    assert!(got.iter().all(|r| r.headers["x-scope-orgid"] == "bench"));
}
