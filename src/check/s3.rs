//! Reading the object store Tempo and Mimir write to: list a bucket under a prefix and fetch an
//! object, with requests signed by `rusty-s3` (SigV4, path style) and sent through the tool's own
//! HTTP client (rustls, the system's roots). Credentials come from the environment and are never
//! printed: errors name the variable, not its value.

use super::config::S3Section;
use crate::client::http::HttpTarget;
use crate::scenario::Connection;
use bytes::Bytes;
use http::{HeaderMap, Method};
use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};
use std::time::Duration;

const SIGNED_FOR: Duration = Duration::from_secs(300);

/// The object store: endpoint, region, credentials and a client.
pub struct S3 {
    endpoint: url::Url,
    region: String,
    credentials: Credentials,
    http: HttpTarget,
    pub endpoint_shown: String,
}

/// One object of a listing.
#[derive(Clone, Debug, PartialEq)]
pub struct Object {
    pub key: String,
    pub size: u64,
}

impl S3 {
    /// Reads the credentials from the environment variables the section names.
    pub fn from_section(s: &S3Section) -> Result<S3, String> {
        let var = |name: &str| std::env::var(name).map_err(|_| format!("the environment variable {name} (check.s3 credentials) is not set"));
        let credentials = Credentials::new(var(&s.access_key_env)?, var(&s.secret_key_env)?);
        let endpoint = url::Url::parse(&s.endpoint).map_err(|e| format!("check.s3.endpoint `{}`: {e}", s.endpoint))?;
        let http = HttpTarget::new(&Connection::default(), 1).map_err(|e| e.to_string())?;
        Ok(S3 { endpoint, region: s.region.clone(), credentials, http, endpoint_shown: s.endpoint.clone() })
    }

    fn bucket(&self, name: &str) -> Result<Bucket, String> {
        Bucket::new(self.endpoint.clone(), UrlStyle::Path, name.to_string(), self.region.clone()).map_err(|e| format!("bucket `{name}`: {e}"))
    }

    async fn get(&self, url: url::Url) -> Result<Bytes, String> {
        let uri: http::Uri = url.as_str().parse().map_err(|e| format!("{e}"))?;
        let answer =
            self.http.send(0, Method::GET, &uri, &HeaderMap::new(), Bytes::new()).await.map_err(|e| format!("{} did not answer: {e}", self.endpoint_shown))?;
        if answer.status.is_success() {
            return Ok(answer.body);
        }
        Err(format!("HTTP {} {}", answer.status.as_u16(), error_code(&answer.body).unwrap_or_default()).trim_end().to_string())
    }

    /// Every object under `prefix` (all pages).
    pub async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<Object>, String> {
        let b = self.bucket(bucket)?;
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut action = b.list_objects_v2(Some(&self.credentials));
            action.with_prefix(prefix);
            if let Some(t) = &token {
                action.with_continuation_token(t.clone());
            }
            let body = self.get(action.sign(SIGNED_FOR)).await?;
            let (objects, next) = parse_listing(&body).map_err(|e| format!("the listing of {bucket} is not S3's XML: {e}"))?;
            out.extend(objects);
            match next {
                Some(t) if !t.is_empty() => token = Some(t),
                _ => return Ok(out),
            }
        }
    }

    /// One object's bytes.
    pub async fn object(&self, bucket: &str, key: &str) -> Result<Bytes, String> {
        let b = self.bucket(bucket)?;
        self.get(b.get_object(Some(&self.credentials), key).sign(SIGNED_FOR)).await
    }
}

/// A `ListBucketResult` page: its objects (key and size; other fields are optional across
/// stores) and the continuation token of the next page.
fn parse_listing(body: &[u8]) -> Result<(Vec<Object>, Option<String>), String> {
    let text = std::str::from_utf8(body).map_err(|e| e.to_string())?;
    let doc = roxmltree::Document::parse(text).map_err(|e| e.to_string())?;
    let root = doc.root_element();
    if root.tag_name().name() != "ListBucketResult" {
        return Err(format!("<{}> instead of <ListBucketResult>", root.tag_name().name()));
    }
    let child = |n: roxmltree::Node, name: &str| n.children().find(|c| c.has_tag_name(name)).and_then(|c| c.text()).map(str::to_string);
    let objects = root
        .children()
        .filter(|n| n.has_tag_name("Contents"))
        .filter_map(|n| Some(Object { key: child(n, "Key")?, size: child(n, "Size").and_then(|s| s.parse().ok()).unwrap_or(0) }))
        .collect();
    Ok((objects, child(root, "NextContinuationToken")))
}

/// The `<Code>` of an S3 error answer (`NoSuchBucket`, `InvalidAccessKeyId`, …).
fn error_code(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find("<Code>")? + "<Code>".len();
    let end = text[start..].find("</Code>")? + start;
    Some(text[start..end].to_string())
}

/// What an S3 failure means and what to do about it.
pub fn explain(bucket: &str, error: &str) -> String {
    let fix = if error.contains("NoSuchBucket") {
        "the bucket does not exist: check the bucket name (check.s3.*_bucket) and the Helm values"
    } else if error.contains("InvalidAccessKeyId") || error.contains("SignatureDoesNotMatch") || error.contains("AccessDenied") || error.contains("HTTP 403") {
        "the credentials were refused: check the variables named by check.s3.access_key_env / secret_key_env"
    } else {
        "check check.s3.endpoint and that the store is reachable from here"
    };
    format!("bucket `{bucket}`: {error}; {fix}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_listing_without_etags_is_read_with_its_continuation() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Contents><Key>perf/01M8BXB8Y7T6P1NKPV15DQQNK8/meta.json</Key><Size>761</Size></Contents><IsTruncated>true</IsTruncated><NextContinuationToken>abc</NextContinuationToken></ListBucketResult>"#;
        let (objects, next) = super::parse_listing(xml).unwrap();
        assert_eq!(objects, vec![super::Object { key: "perf/01M8BXB8Y7T6P1NKPV15DQQNK8/meta.json".into(), size: 761 }]);
        assert_eq!(next.as_deref(), Some("abc"));
        assert!(super::parse_listing(b"<Error><Code>NoSuchBucket</Code></Error>").is_err());
    }

    #[test]
    fn s3_error_codes_are_read_and_explained() {
        let body = b"<?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>";
        assert_eq!(super::error_code(body).as_deref(), Some("NoSuchBucket"));
        assert!(super::explain("b", "HTTP 404 NoSuchBucket").contains("does not exist"));
        assert!(super::explain("b", "HTTP 403 InvalidAccessKeyId").contains("credentials were refused"));
    }
}
