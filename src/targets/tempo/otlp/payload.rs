//! The Export request as a pre-encoded template: built once with prost from sentinel ids, times and
//! tags, whose byte offsets are then found. Every request copies the template and patches trace and
//! span ids (fixed 16/8 bytes), timestamps (fixed64), the trace tag and the status in place: no
//! allocation per span, no protobuf encoding per request.

use super::shape::{IdSource, Shape, TraceInstance, ERROR_MESSAGE, OK_MESSAGE};
use prost::Message;
use std::sync::Arc;

const TIME_MARK: u64 = 0xF00D << 48;
const TIME_SLOT_BITS: u32 = 36; // 68 s of relative time per trace slot
/// Growth of the nested length varints (ResourceSpans, ScopeSpans) of one service, at most.
const LENGTH_SLACK: usize = 16;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Patch {
    TraceId {
        at: usize,
        k: usize,
    },
    SpanId {
        at: usize,
        k: usize,
        j: usize,
    },
    Time {
        at: usize,
        k: usize,
        rel: u64,
    },
    Tag {
        at: usize,
        k: usize,
    },
    /// Offset of the 8-byte status message; the code's varint byte follows 2 bytes after it.
    Status {
        at: usize,
        k: usize,
    },
}

/// The shared, read-only template of one request.
#[derive(Debug)]
pub struct Template {
    pub shape: Arc<Shape>,
    pub traces_per_request: usize,
    /// Trace indices a request takes: request `seq`'s k-th trace is `seq × stride + k` (in a mix,
    /// the most traces any variant puts in a request; else `traces_per_request`).
    pub stride: u64,
    bytes: Vec<u8>,
    patches: Vec<Patch>,
}

fn sentinel_trace(k: usize) -> [u8; 16] {
    let mut id = [0xA5, 0x5A, 0xA5, 0x5A, 0, 0, 0, 0, 0x5A, 0xA5, 0x5A, 0xA5, 0x11, 0x22, 0x33, 0x44];
    id[4..8].copy_from_slice(&(k as u32).to_be_bytes());
    id
}

fn sentinel_span(k: usize, j: usize) -> [u8; 8] {
    let k = (k as u32).to_be_bytes();
    let j = (j as u32).to_be_bytes();
    [0xC3, 0x3C, k[1], k[2], k[3], j[1], j[2], j[3]]
}

fn sentinel_tag(k: usize) -> String {
    format!("@@{k:014x}")
}

fn be(bytes: &[u8]) -> usize {
    bytes.iter().fold(0, |acc, b| (acc << 8) | *b as usize)
}

fn hex_value(text: &[u8]) -> Option<usize> {
    std::str::from_utf8(text).ok().and_then(|t| usize::from_str_radix(t, 16).ok())
}

/// Every place of the encoded template that a request patches, found in one pass.
fn find_patches(bytes: &[u8], traces: usize, spans: usize, error_span: usize) -> Vec<Patch> {
    let mut patches = Vec::new();
    let trace_tail = &sentinel_trace(0)[8..];
    let mut at = 1;
    while at + 8 <= bytes.len() {
        let rest = &bytes[at..];
        // A trace id: A5 5A A5 5A <k: 4 bytes> 5A A5 5A A5 11 22 33 44, after its length byte 16.
        if bytes[at - 1] == 16 && rest.len() >= 16 && rest[..4] == [0xA5, 0x5A, 0xA5, 0x5A] && &rest[8..16] == trace_tail {
            patches.push(Patch::TraceId { at, k: be(&rest[4..8]) });
            at += 16;
            continue;
        }
        // A span id: C3 3C <k: 3 bytes> <j: 3 bytes>, after its length byte 8.
        if bytes[at - 1] == 8 && rest[..2] == [0xC3, 0x3C] {
            let (k, j) = (be(&rest[2..5]), be(&rest[5..8]));
            if k < traces && j < spans {
                patches.push(Patch::SpanId { at, k, j });
                // The error span's own id (field 2, tag 0x12) is followed, within the span, by its status.
                if j == error_span && at >= 2 && bytes[at - 2] == 0x12 {
                    if let Some(offset) = bytes[at..].windows(OK_MESSAGE.len()).position(|w| w == OK_MESSAGE.as_bytes()) {
                        patches.push(Patch::Status { at: at + offset, k });
                    }
                }
                at += 8;
                continue;
            }
        }
        // The trace tag: "@@" and 14 hex digits, after its length byte 16.
        if bytes[at - 1] == 16 && rest.len() >= 16 && rest[..2] == *b"@@" {
            if let Some(k) = hex_value(&rest[2..16]) {
                patches.push(Patch::Tag { at, k });
                at += 16;
                continue;
            }
        }
        // A timestamp (fixed64 after tag 0x39 start, 0x41 end, 0x09 event time).
        if matches!(bytes[at - 1], 0x39 | 0x41 | 0x09) {
            let v = u64::from_le_bytes(rest[..8].try_into().expect("8 bytes"));
            if v & (0xFFFF << 48) == TIME_MARK {
                let k = ((v & !(0xFFFF << 48)) >> TIME_SLOT_BITS) as usize;
                patches.push(Patch::Time { at, k, rel: v & ((1 << TIME_SLOT_BITS) - 1) });
                at += 8;
                continue;
            }
        }
        at += 1;
    }
    patches
}

fn sentinel_instances(shape: &Shape, traces: usize) -> Vec<TraceInstance> {
    (0..traces)
        .map(|k| TraceInstance {
            trace_id: sentinel_trace(k),
            span_ids: (0..shape.spans_per_trace).map(|j| sentinel_span(k, j)).collect(),
            start_ns: TIME_MARK | ((k as u64) << TIME_SLOT_BITS),
            tag: sentinel_tag(k),
            error: false,
        })
        .collect()
}

impl Template {
    pub fn new(shape: Arc<Shape>, run_id: &str, spans_per_request: u64) -> Template {
        let traces_per_request = Self::traces_per_request(&shape, spans_per_request);
        let bytes = shape.request(run_id, &sentinel_instances(&shape, traces_per_request)).encode_to_vec();
        let patches = find_patches(&bytes, traces_per_request, shape.spans_per_trace, shape.error_span());
        Template { shape, traces_per_request, stride: traces_per_request as u64, bytes, patches }
    }

    /// Whole traces in a request of about `spans_per_request` spans (at least one).
    pub fn traces_per_request(shape: &Shape, spans_per_request: u64) -> usize {
        ((spans_per_request as usize) / shape.spans_per_trace).max(1)
    }

    /// An upper bound of the encoded size of a request, without building it: each further trace
    /// adds the same bytes, and each service's nested length prefixes may grow by a few bytes.
    pub fn estimated_len(shape: &Shape, run_id: &str, spans_per_request: u64) -> usize {
        let one = shape.request(run_id, &sentinel_instances(shape, 1)).encoded_len();
        let two = shape.request(run_id, &sentinel_instances(shape, 2)).encoded_len();
        one + (two - one) * (Self::traces_per_request(shape, spans_per_request) - 1) + LENGTH_SLACK * shape.services.len()
    }

    pub fn spans_per_request(&self) -> usize {
        self.traces_per_request * self.shape.spans_per_trace
    }

    pub fn encoded_len(&self) -> usize {
        self.bytes.len()
    }
}

/// The run's request templates, one per trace shape of the mix: request `seq` is built from the
/// variant its number picks (a Weyl walk over the cumulative shares: the same in every run, each
/// variant in its share of any long enough stretch of requests).
pub struct Mix {
    pub templates: Vec<Arc<Template>>,
    shares: Vec<f64>,
    cumulative: Vec<f64>,
}

impl Mix {
    pub fn new(shapes: &[(f64, Arc<Shape>)], run_id: &str, spans_per_request: u64) -> Mix {
        let mut templates: Vec<Template> = shapes.iter().map(|(_, s)| Template::new(s.clone(), run_id, spans_per_request)).collect();
        let stride = templates.iter().map(|t| t.traces_per_request as u64).max().unwrap_or(1);
        for t in &mut templates {
            t.stride = stride;
        }
        let total: f64 = shapes.iter().map(|(w, _)| *w).sum::<f64>().max(f64::MIN_POSITIVE);
        let shares: Vec<f64> = shapes.iter().map(|(w, _)| w / total).collect();
        let cumulative = shares.iter().scan(0.0, |acc, w| {
            *acc += w;
            Some(*acc)
        });
        Mix { templates: templates.into_iter().map(Arc::new).collect(), cumulative: cumulative.collect(), shares }
    }

    /// The variant request `seq` is built from.
    pub fn variant_of(&self, seq: u64) -> usize {
        if self.templates.len() == 1 {
            return 0;
        }
        let x = (seq.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11) as f64 / (1u64 << 53) as f64;
        self.cumulative.partition_point(|c| *c <= x).min(self.templates.len() - 1)
    }

    /// Trace indices per request (see `Template::stride`).
    pub fn stride(&self) -> u64 {
        self.templates[0].stride
    }

    /// Spans and traces of a request, averaged over the mix by share.
    pub fn mean_spans_per_request(&self) -> f64 {
        self.templates.iter().zip(&self.shares).map(|(t, w)| w * t.spans_per_request() as f64).sum()
    }

    pub fn mean_traces_per_request(&self) -> f64 {
        self.templates.iter().zip(&self.shares).map(|(t, w)| w * t.traces_per_request as f64).sum()
    }

    /// A builder per variant (one worker's).
    pub fn builders(&self, ids: IdSource) -> Vec<PayloadBuilder> {
        self.templates.iter().map(|t| PayloadBuilder::new(t.clone(), ids)).collect()
    }
}

/// Per-worker builder: its own buffer and id caches, reused for every request.
pub struct PayloadBuilder {
    template: Arc<Template>,
    ids: IdSource,
    buf: Vec<u8>,
    trace_ids: Vec<[u8; 16]>,
    span_ids: Vec<[u8; 8]>,
    errors: Vec<bool>,
}

impl PayloadBuilder {
    pub fn new(template: Arc<Template>, ids: IdSource) -> PayloadBuilder {
        let t = template.traces_per_request;
        let n = template.shape.spans_per_trace;
        PayloadBuilder {
            buf: Vec::with_capacity(template.bytes.len()),
            trace_ids: vec![[0; 16]; t],
            span_ids: vec![[0; 8]; t * n],
            errors: vec![false; t],
            template,
            ids,
        }
    }

    pub fn spans_per_request(&self) -> usize {
        self.template.spans_per_request()
    }

    /// Index in the run of the k-th trace of request `seq`.
    pub fn trace_index(&self, seq: u64, k: usize) -> u64 {
        seq * self.template.stride + k as u64
    }

    /// Start of the k-th trace of a request whose traces end at `end_ns`.
    pub fn trace_start(&self, end_ns: u64, k: usize) -> u64 {
        let root = self.template.shape.spec.root_duration.get().as_nanos() as u64;
        end_ns.saturating_sub(root) + k as u64 * 1_000
    }

    /// The request `seq`, its traces ending at `end_ns` (unix ns). Valid until the next call.
    pub fn build(&mut self, seq: u64, end_ns: u64) -> &[u8] {
        let shape = &self.template.shape;
        let n = shape.spans_per_trace;
        for k in 0..self.template.traces_per_request {
            let t = self.trace_index(seq, k);
            self.trace_ids[k] = self.ids.trace_id(t);
            for j in 0..n {
                self.span_ids[k * n + j] = self.ids.span_id(t, j);
            }
            self.errors[k] = self.ids.is_error(t, shape.spec.error_ratio);
        }
        self.buf.clear();
        self.buf.extend_from_slice(&self.template.bytes);
        let mut digits = [0u8; 16];
        for p in &self.template.patches {
            match *p {
                Patch::TraceId { at, k } => self.buf[at..at + 16].copy_from_slice(&self.trace_ids[k]),
                Patch::SpanId { at, k, j } => self.buf[at..at + 8].copy_from_slice(&self.span_ids[k * n + j]),
                Patch::Time { at, k, rel } => {
                    let v = self.trace_start(end_ns, k) + rel;
                    self.buf[at..at + 8].copy_from_slice(&v.to_le_bytes());
                }
                Patch::Tag { at, k } => {
                    hex16(self.trace_index(seq, k), &mut digits);
                    self.buf[at..at + 16].copy_from_slice(&digits);
                }
                Patch::Status { at, k } => {
                    let (message, code) = if self.errors[k] { (ERROR_MESSAGE, 2) } else { (OK_MESSAGE, 1) };
                    self.buf[at..at + 8].copy_from_slice(message.as_bytes());
                    self.buf[at + 9] = code;
                }
            }
        }
        &self.buf
    }

    /// The traces of request `seq` as built (for the ledger and checks).
    pub fn instances(&self, seq: u64, end_ns: u64) -> Vec<TraceInstance> {
        (0..self.template.traces_per_request).map(|k| self.ids.instance(&self.template.shape, self.trace_index(seq, k), self.trace_start(end_ns, k))).collect()
    }
}

fn hex16(v: u64, out: &mut [u8; 16]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = DIGITS[((v >> (60 - 4 * i)) & 0xF) as usize];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::tempo::config::TraceShape;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

    #[test]
    fn a_mix_writes_each_shape_in_its_share_of_requests_with_distinct_trace_indices() {
        let small = Arc::new(Shape::new(&TraceShape { depth: 1, ..TraceShape::default() }));
        let large = Arc::new(Shape::new(&TraceShape { depth: 3, fanout: 2, ..TraceShape::default() }));
        let mix = Mix::new(&[(1.0, small), (3.0, large)], "run1", 14);
        assert_eq!((mix.templates[0].traces_per_request, mix.templates[1].traces_per_request, mix.stride()), (14, 2, 14));
        let large_requests = (0..10_000).filter(|seq| mix.variant_of(*seq) == 1).count();
        assert!(large_requests.abs_diff(7_500) <= 10, "{large_requests} of 10,000 requests of the 3:1 shape");
        let ids = IdSource::new(1, "run1");
        let mut builders = mix.builders(ids);
        let mut seen = std::collections::BTreeSet::new();
        for seq in 0..200 {
            let v = mix.variant_of(seq);
            let req = ExportTraceServiceRequest::decode(builders[v].build(seq, 1_700_000_000_000_000_000)).unwrap();
            let spans: Vec<_> = req.resource_spans.iter().flat_map(|r| &r.scope_spans).flat_map(|s| &s.spans).collect();
            assert_eq!(spans.len(), mix.templates[v].spans_per_request(), "request {seq} holds whole traces of its shape");
            for t in spans.iter().filter(|s| s.parent_span_id.is_empty()) {
                assert!(seen.insert(t.trace_id.clone()), "trace ids never repeat across requests");
            }
        }
        assert!((mix.mean_spans_per_request() - (0.25 * 14.0 + 0.75 * 14.0)).abs() < 1e-9);
    }

    fn shape(events: u32, links: u32, error_ratio: f64) -> Arc<Shape> {
        Arc::new(Shape::new(&TraceShape { events_per_span: events, links_per_span: links, error_ratio, ..TraceShape::default() }))
    }

    #[test]
    fn patched_template_equals_a_freshly_encoded_request() {
        for (events, links, ratio) in [(0, 0, 0.0), (2, 1, 0.5), (1, 2, 1.0)] {
            let shape = shape(events, links, ratio);
            let template = Arc::new(Template::new(shape.clone(), "run1", 30));
            assert_eq!(template.traces_per_request, 4, "7 spans per trace, 30 per request: 4 traces");
            let ids = IdSource::new(9, "run1");
            let mut b = PayloadBuilder::new(template, ids);
            for seq in [0u64, 1, 977] {
                let end = 1_795_629_741_681_569_889 + seq * 1_000_000;
                let got = ExportTraceServiceRequest::decode(b.build(seq, end)).unwrap();
                let want = shape.request("run1", &b.instances(seq, end));
                assert_eq!(got, want, "events {events} links {links} seq {seq}");
            }
        }
    }

    #[test]
    fn the_size_estimate_matches_the_built_template_and_large_requests_build_fast() {
        let shape = shape(1, 1, 0.1);
        for spans in [7, 70, 700, 7000] {
            let built = Template::new(shape.clone(), "run1", spans);
            let estimate = Template::estimated_len(&shape, "run1", spans);
            let bound = built.encoded_len() + LENGTH_SLACK * shape.services.len();
            assert!((built.encoded_len()..=bound).contains(&estimate), "{spans} spans: {estimate} vs {}", built.encoded_len());
            assert_eq!(built.patches.iter().filter(|p| matches!(p, Patch::Status { .. })).count(), built.traces_per_request);
        }
    }

    #[test]
    fn ids_are_unique_across_requests_and_traces_nest_in_time() {
        let shape = shape(0, 0, 0.0);
        let ids = IdSource::new(1, "r");
        let mut seen = std::collections::HashSet::new();
        for t in 0..10_000 {
            assert!(seen.insert(ids.trace_id(t)));
        }
        for j in 1..shape.spans_per_trace {
            let (s, e) = shape.window(j);
            let (ps, pe) = shape.window(shape.parent(j).unwrap());
            assert!(ps <= s && e <= pe && s < e, "span {j} [{s},{e}] not inside its parent [{ps},{pe}]");
        }
        assert_ne!(IdSource::new(1, "r").trace_id(0), IdSource::new(1, "other-run").trace_id(0));
    }

    #[test]
    fn the_error_ratio_is_honoured() {
        let ids = IdSource::new(3, "r");
        let errors = (0..100_000).filter(|t| ids.is_error(*t, 0.01)).count();
        assert!((800..1200).contains(&errors), "{errors}");
    }
}
