//! `kubernetes/`: every manifest parses and is wired correctly (kustomizations, Flux dependencies,
//! chart sources), the plan's invariants hold (replicas, memory limits, ports, S3, secrets,
//! datasources, remote-write queue), Kubernetes objects deserialize into the API's own types,
//! chart values use only keys of the charts' own values.yaml (`tests/fixtures/charts/`), the
//! Go runtimes know their memory limits, Tempo listens on OTLP only, both stores keep 30 days,
//! patches replace no list unannounced, and no plaintext credential is committed.

use serde_yaml_ng::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn k8s() -> PathBuf {
    root().join("kubernetes")
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            out.extend(yaml_files(&p));
        } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn docs(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|d| serde::Deserialize::deserialize(d).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .filter(|v: &Value| !v.is_null())
        .collect()
}

fn doc(rel: &str) -> Value {
    let mut d = docs(&k8s().join(rel));
    assert_eq!(d.len(), 1, "{rel}");
    d.remove(0)
}

/// Follows a dotted path (`spec.values.tempo.retention`); numbers index sequences.
fn at<'a>(v: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(v, |node, key| match key.parse::<usize>() {
        Ok(i) if node.is_sequence() => &node[i],
        _ => &node[key],
    })
}

fn s<'a>(v: &'a Value, path: &str) -> &'a str {
    at(v, path).as_str().unwrap_or_else(|| panic!("{path} is not a string: {:?}", at(v, path)))
}

fn bytes(quantity: &str) -> u64 {
    let (num, unit) = quantity.split_at(quantity.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(quantity.len()));
    let n: u64 = num.parse().unwrap();
    n * match unit {
        "" => 1,
        "Ki" => 1 << 10,
        "Mi" => 1 << 20,
        "Gi" => 1 << 30,
        other => panic!("unit {other}"),
    }
}

#[test]
fn every_manifest_parses_and_names_itself() {
    let files = yaml_files(&k8s());
    assert!(files.len() >= 17, "{files:?}");
    for f in files {
        if f.ends_with(".sops.yaml") && f.parent() == Some(&k8s()) {
            continue; // kubernetes/.sops.yaml is SOPS configuration, not a Kubernetes object
        }
        for d in docs(&f) {
            assert!(d["apiVersion"].is_string(), "{}: apiVersion", f.display());
            assert!(d["kind"].is_string(), "{}: kind", f.display());
            if d["kind"] != "Kustomization" || s(&d, "apiVersion").starts_with("kustomize.toolkit") {
                assert!(d["metadata"]["name"].is_string(), "{}: metadata.name", f.display());
            }
        }
    }
}

#[test]
fn kustomizations_list_files_that_exist_and_flux_wiring_is_complete() {
    let mut flux_names = BTreeSet::new();
    let mut depends = Vec::new();
    for f in yaml_files(&k8s()) {
        for d in docs(&f) {
            let kind = d["kind"].as_str().unwrap_or_default();
            let api = d["apiVersion"].as_str().unwrap_or_default();
            if kind == "Kustomization" && api.starts_with("kustomize.config.k8s.io") {
                let dir = f.parent().unwrap();
                let mut listed: Vec<String> = d["resources"].as_sequence().unwrap().iter().map(|r| r.as_str().unwrap().to_string()).collect();
                for g in d["configMapGenerator"].as_sequence().into_iter().flatten() {
                    listed.extend(g["files"].as_sequence().unwrap().iter().map(|r| r.as_str().unwrap().to_string()));
                }
                for r in listed {
                    assert!(dir.join(&r).exists(), "{} lists {r}, which does not exist", f.display());
                }
            }
            if kind == "Kustomization" && api.starts_with("kustomize.toolkit.fluxcd.io") {
                flux_names.insert(s(&d, "metadata.name").to_string());
                assert_eq!(s(&d, "spec.targetNamespace"), "monitoring");
                let path = s(&d, "spec.path").trim_start_matches("./");
                assert!(root().join(path).join("kustomization.yaml").is_file(), "{}: path {path}", f.display());
                for dep in d["spec"]["dependsOn"].as_sequence().into_iter().flatten() {
                    depends.push((s(&d, "metadata.name").to_string(), s(dep, "name").to_string()));
                }
            }
            if kind == "HelmRelease" && d["spec"]["chartRef"].is_mapping() {
                let source = s(&d, "spec.chartRef.name");
                let dir = f.parent().unwrap();
                let oci = doc(dir.join("ocirepository.yaml").strip_prefix(k8s()).unwrap().to_str().unwrap());
                assert_eq!((s(&oci, "kind"), s(&oci, "metadata.name")), ("OCIRepository", source));
                assert!(s(&oci, "spec.url").starts_with("oci://ghcr.io/grafana/helm-charts/"));
            }
        }
    }
    assert_eq!(flux_names, BTreeSet::from(["tempo".into(), "mimir".into(), "lgtm-bench".into(), "lgtm-bench-canary".into()]));
    for (from, to) in &depends {
        assert!(flux_names.contains(to), "{from} depends on {to}, which does not exist");
    }
    assert!(depends.contains(&("mimir".to_string(), "tempo".to_string())), "Mimir is deployed after Tempo");
}

#[test]
fn tempo_follows_the_plan() {
    let hr = doc("apps/monitoring/tempo/app/helmrelease.yaml");
    let v = at(&hr, "spec.values");
    assert_eq!(at(v, "replicas").as_u64(), Some(1));
    assert!(bytes(s(v, "tempo.resources.limits.memory")) <= 1 << 30);
    assert_eq!(s(v, "tempo.retention"), "720h");
    assert_eq!(at(v, "tempo.server.http_listen_port").as_u64(), Some(3200));
    assert_eq!(s(v, "tempo.receivers.otlp.protocols.grpc.endpoint"), "0.0.0.0:4317");
    assert_eq!(s(v, "tempo.receivers.otlp.protocols.http.endpoint"), "0.0.0.0:4318");
    let s3 = at(v, "tempo.storage.trace");
    assert_eq!(s(s3, "backend"), "s3");
    assert_eq!((s(s3, "s3.endpoint"), at(s3, "s3.insecure").as_bool()), ("s3.68cc.io", Some(false)), "HTTPS only");
    assert_eq!(s(s3, "s3.bucket"), "${S3_BUCKET}");
    assert_eq!(s(v, "tempo.extraEnvFrom.0.secretRef.name"), "tempo-s3-secret");
    assert_eq!(at(v, "tempo.extraArgs")["config.expand-env"].as_str(), Some("true"), "S3_* variables are expanded");
    secret_follows_plan("apps/monitoring/tempo/app/secret.sops.yaml", "tempo-s3-secret", "tempo-traces");
}

#[test]
fn mimir_follows_the_plan() {
    let hr = doc("apps/monitoring/mimir/app/helmrelease.yaml");
    let v = at(&hr, "spec.values");
    let components = ["gateway", "distributor", "ingester", "querier", "query_frontend", "store_gateway", "compactor"];
    let mut total = 0;
    for c in components {
        assert_eq!(at(v, &format!("{c}.replicas")).as_u64(), Some(1), "{c}");
        let limit = bytes(s(v, &format!("{c}.resources.limits.memory")));
        assert!(limit <= 3 << 29, "{c} may take more than 1.5Gi");
        total += limit;
    }
    let readme = std::fs::read_to_string(k8s().join("README.md")).unwrap();
    assert!(readme.contains(&format!("**{}Mi", total >> 20)), "kubernetes/README.md states the total of the limits ({}Mi)", total >> 20);
    for c in ["ingester", "store_gateway"] {
        assert_eq!(at(v, &format!("{c}.zoneAwareReplication.enabled")).as_bool(), Some(false));
    }
    assert_eq!(at(v, "gateway.enabledNonEnterprise").as_bool(), Some(true));
    assert_eq!(at(v, "gateway.service.port").as_u64(), Some(8080));
    assert_eq!(at(v, "minio.enabled").as_bool(), Some(false));
    let cfg = at(v, "mimir.structuredConfig");
    assert_eq!((s(cfg, "common.storage.s3.endpoint"), at(cfg, "common.storage.s3.insecure").as_bool()), ("s3.68cc.io", Some(false)));
    assert_eq!(at(cfg, "ingester.ring.replication_factor").as_u64(), Some(1));
    assert_eq!(s(v, "global.extraEnvFrom.0.secretRef.name"), "mimir-s3-secret");
    secret_follows_plan("apps/monitoring/mimir/app/secret.sops.yaml", "mimir-s3-secret", "mimir-blocks");
    // The scenario the cluster benchmark runs points at this gateway.
    let homelab = std::fs::read_to_string(root().join("scenarios/homelab.toml")).unwrap();
    assert!(homelab.contains("http://mimir-gateway.monitoring.svc:8080/api/v1/push"));
}

fn secret_follows_plan(rel: &str, name: &str, bucket: &str) {
    let secret = doc(rel);
    assert_eq!((s(&secret, "kind"), s(&secret, "metadata.name"), s(&secret, "metadata.namespace")), ("Secret", name, "monitoring"));
    let fields: BTreeSet<String> = secret["stringData"].as_mapping().unwrap().keys().map(|k| k.as_str().unwrap().to_string()).collect();
    let expected: BTreeSet<String> = ["S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "S3_ENDPOINT", "S3_BUCKET"].map(String::from).into();
    assert_eq!(fields, expected);
    if secret["sops"].is_null() {
        assert_eq!(s(&secret, "stringData.S3_ENDPOINT"), "https://s3.68cc.io");
        assert_eq!(s(&secret, "stringData.S3_BUCKET"), bucket);
    }
}

#[test]
fn grafana_datasources_and_remote_write_follow_the_plan() {
    let g = doc("apps/monitoring/grafana/app/helmrelease-datasources.patch.yaml");
    let ds = &at(&g, "spec.values.datasources")["lgtm-datasources.yaml"];
    let sources = ds["datasources"].as_sequence().unwrap();
    let urls: Vec<(&str, &str)> = sources.iter().map(|d| (s(d, "type"), s(d, "url"))).collect();
    assert_eq!(urls, [("tempo", "http://tempo.monitoring.svc:3200"), ("prometheus", "http://mimir-gateway.monitoring.svc:8080/prometheus")]);
    // Tempo's metrics generator is off: no links to span metrics or service graphs that cannot fill.
    let tempo_hr = doc("apps/monitoring/tempo/app/helmrelease.yaml");
    let generator_on = at(&tempo_hr, "spec.values.tempo.metricsGenerator.enabled").as_bool() == Some(true);
    for link in ["tracesToMetrics", "serviceMap"] {
        assert_eq!(sources[0]["jsonData"][link].is_null(), !generator_on, "{link} only with Tempo's metrics generator on");
    }
    // The ruler and alertmanager are off: Grafana must not offer rule management against Mimir.
    let mimir_hr = doc("apps/monitoring/mimir/app/helmrelease.yaml");
    if at(&mimir_hr, "spec.values.ruler.enabled").as_bool() == Some(false) {
        assert_eq!(sources[1]["jsonData"]["manageAlerts"].as_bool(), Some(false));
    }
    let kps = doc("apps/monitoring/kube-prometheus-stack/app/helmrelease-remote-write.patch.yaml");
    assert!(at(&kps, "spec.values.prometheus.prometheusSpec.remoteWrite").is_null(), "the cluster's own remoteWrite list is left alone");
    let rw = at(&kps, "spec.values.prometheus.prometheusSpec.additionalRemoteWrite.0");
    assert_eq!(s(rw, "url"), "http://mimir-gateway.monitoring.svc:8080/api/v1/push");
    let q = &rw["queueConfig"];
    let n = |k: &str| q[k].as_u64().unwrap();
    assert_eq!((n("capacity"), n("maxShards"), n("minShards"), n("maxSamplesPerSend")), (10000, 200, 1, 1000));
    assert_eq!((s(q, "batchSendDeadline"), s(q, "minBackoff"), s(q, "maxBackoff")), ("5s", "30ms", "100ms"));
    let readme = std::fs::read_to_string(k8s().join("README.md")).unwrap();
    assert!(readme.contains("50 times"), "kubernetes/README.md explains the short maxBackoff");
}

#[test]
fn namespaced_objects_live_in_monitoring() {
    for f in yaml_files(&k8s().join("apps")) {
        for d in docs(&f) {
            let api = d["apiVersion"].as_str().unwrap_or_default();
            if api.starts_with("kustomize.") {
                continue;
            }
            assert_eq!(d["metadata"]["namespace"].as_str(), Some("monitoring"), "{}", f.display());
        }
    }
}

#[test]
fn kubernetes_objects_deserialize_into_api_types() {
    use k8s_openapi::api::batch::v1::{CronJob, Job};
    use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Secret};
    let typed = |rel: &str| doc(rel);
    let job: Job = serde_yaml_ng::from_value(typed("apps/monitoring/lgtm-bench/jobs/job.yaml")).unwrap();
    let indexed: Job = serde_yaml_ng::from_value(typed("apps/monitoring/lgtm-bench/jobs/indexed-job.yaml")).unwrap();
    let capacity: Job = serde_yaml_ng::from_value(typed("apps/monitoring/lgtm-bench/jobs/capacity-job.yaml")).unwrap();
    let check: Job = serde_yaml_ng::from_value(typed("apps/monitoring/lgtm-bench/jobs/check-job.yaml")).unwrap();
    let cron: CronJob = serde_yaml_ng::from_value(typed("apps/monitoring/lgtm-bench/app/cronjob.yaml")).unwrap();
    let _: PersistentVolumeClaim = serde_yaml_ng::from_value(typed("apps/monitoring/lgtm-bench/app/pvc.yaml")).unwrap();
    for rel in ["apps/monitoring/tempo/app/secret.sops.yaml", "apps/monitoring/mimir/app/secret.sops.yaml"] {
        let secret: Secret = serde_yaml_ng::from_value(typed(rel)).unwrap();
        assert_eq!(secret.string_data.unwrap().len(), 4);
    }
    let idx = indexed.spec.as_ref().unwrap();
    assert_eq!((idx.completion_mode.as_deref(), idx.completions, idx.parallelism), (Some("Indexed"), Some(4), Some(4)));
    let pod_specs = [
        job.spec.unwrap().template.spec.unwrap(),
        indexed.spec.unwrap().template.spec.unwrap(),
        cron.spec.unwrap().job_template.spec.unwrap().template.spec.unwrap(),
        capacity.spec.unwrap().template.spec.unwrap(),
        check.spec.unwrap().template.spec.unwrap(),
    ];
    let check_env: Vec<String> = pod_specs[4].containers[0].env.clone().unwrap().into_iter().map(|e| e.name).collect();
    assert_eq!(pod_specs[4].containers[0].args.as_ref().unwrap()[0], "check");
    assert_eq!(check_env, ["S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "GRAFANA_TOKEN"], "the variables homelab.toml's [check] names");
    let capacity_args = pod_specs[3].containers[0].args.clone().unwrap();
    assert_eq!((capacity_args[0].as_str(), capacity_args[2].as_str(), capacity_args[3].as_str()), ("capacity", "--dimension", "mimir.write.series.active"));
    for pod in &pod_specs {
        let c = &pod.containers[0];
        let res = c.resources.as_ref().unwrap();
        assert_eq!(res.requests, res.limits, "generator requests equal limits");
        assert!(pod.affinity.as_ref().unwrap().pod_anti_affinity.is_some(), "kept off the targets' nodes");
        assert_eq!(pod.security_context.as_ref().unwrap().run_as_non_root, Some(true));
        assert!(c.args.as_ref().unwrap().contains(&"/scenarios/homelab.toml".to_string()));
    }
    assert!(pod_specs[1].containers[0].args.as_ref().unwrap().iter().any(|a| a == "$(JOB_COMPLETION_INDEX)/4"));
    let group = pod_specs[1].containers[0].env.as_ref().unwrap().iter().find(|e| e.name == "LGTM_BENCH_SHARD_GROUP").expect("shards share a group");
    assert!(group.value_from.as_ref().unwrap().field_ref.as_ref().unwrap().field_path.contains("controller-uid"));
    // The ConfigMap the generator makes, built as Kustomize does, is a valid ConfigMap.
    let k = doc("apps/monitoring/lgtm-bench/app/kustomization.yaml");
    let gen = &k["configMapGenerator"][0];
    let mut data = std::collections::BTreeMap::new();
    for f in gen["files"].as_sequence().unwrap() {
        let p = k8s().join("apps/monitoring/lgtm-bench/app").join(f.as_str().unwrap());
        data.insert(p.file_name().unwrap().to_string_lossy().to_string(), std::fs::read_to_string(&p).unwrap());
    }
    let cm = ConfigMap {
        metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta { name: Some(s(gen, "name").into()), ..Default::default() },
        data: Some(data),
        ..Default::default()
    };
    assert_eq!(cm.metadata.name.as_deref(), Some("lgtm-bench-scenarios"));
    let mounted = pod_specs[0].volumes.as_ref().unwrap().iter().find(|v| v.config_map.is_some()).unwrap();
    assert_eq!(mounted.config_map.as_ref().unwrap().name, "lgtm-bench-scenarios");
}

#[test]
fn the_cluster_scenario_is_the_shipped_one() {
    let shipped = std::fs::read_to_string(root().join("scenarios/homelab.toml")).unwrap();
    let copy = std::fs::read_to_string(k8s().join("apps/monitoring/lgtm-bench/app/scenarios/homelab.toml")).unwrap();
    assert!(shipped == copy, "the ConfigMap's copy drifted: cp scenarios/homelab.toml kubernetes/apps/monitoring/lgtm-bench/app/scenarios/");
    // The dashboards it replays are read beside it: shipped beside it in the ConfigMap too.
    let s: lgtm_bench::targets::Scenario = toml::from_str(&shipped).unwrap();
    let kustomization = std::fs::read_to_string(k8s().join("apps/monitoring/lgtm-bench/app/kustomization.yaml")).unwrap();
    let dashboards = &s.mimir.as_ref().unwrap().dashboards;
    assert!(!dashboards.is_empty());
    for d in dashboards {
        let shipped = std::fs::read(root().join("scenarios").join(&d.file)).unwrap();
        let copy = std::fs::read(k8s().join("apps/monitoring/lgtm-bench/app/scenarios").join(&d.file)).unwrap_or_default();
        assert!(shipped == copy, "{}: the ConfigMap's copy drifted from scenarios/", d.file);
        assert!(kustomization.contains(&format!("./scenarios/{}", d.file)), "{} is not in the ConfigMap", d.file);
    }
}

#[test]
fn the_image_is_multi_stage_small_and_non_root() {
    let dockerfile = std::fs::read_to_string(k8s().join("apps/monitoring/lgtm-bench/Dockerfile")).unwrap();
    let froms: Vec<&str> = dockerfile.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(froms.len(), 2);
    assert!(froms[1].contains("distroless") && froms[1].contains("nonroot"));
    assert!(dockerfile.lines().any(|l| l.starts_with("USER 65532")));
}

fn chart_values(chart: &str) -> Value {
    serde_yaml_ng::from_str(&chart_text(chart)).unwrap()
}

/// A chart's own values.yaml, as copied into `tests/fixtures/charts/` (its README says from where).
fn chart_text(chart: &str) -> String {
    let path = root().join("tests/fixtures/charts").join(chart).join("values.yaml");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e} (the charts' own values are kept in tests/fixtures/charts)", path.display()))
}

/// Values under which a chart hands what it is given verbatim to the application's own
/// configuration or to Kubernetes: any key is allowed below them. Besides these, a chart value that
/// is an empty map, a list, a string or null takes anything.
const FREE_FORM: &[&str] = &["tempo.storage", "tempo.receivers", "tempo.server", "config"];

/// The paths of `values` that its chart does not have (and that sit under no free-form value).
fn unknown_keys(values: &Value, chart: &Value, prefix: &str, out: &mut Vec<String>) {
    let Some(map) = values.as_mapping() else { return };
    for (k, v) in map {
        let key = k.as_str().unwrap();
        let path = if prefix.is_empty() { key.to_string() } else { format!("{prefix}.{key}") };
        let Some(defaults) = chart.as_mapping().and_then(|m| m.get(key)) else {
            out.push(path);
            continue;
        };
        let free = FREE_FORM.contains(&path.as_str()) || key == "resources" || defaults.as_mapping().is_none_or(|m| m.is_empty());
        if !free {
            unknown_keys(v, defaults, &path, out);
        }
    }
}

const RELEASES: [(&str, &str); 4] = [
    ("apps/monitoring/tempo/app/helmrelease.yaml", "tempo-1.23.3"),
    ("apps/monitoring/mimir/app/helmrelease.yaml", "mimir-distributed-5.7.0"),
    ("apps/monitoring/grafana/app/helmrelease-datasources.patch.yaml", "grafana-10.5.15"),
    ("apps/monitoring/kube-prometheus-stack/app/helmrelease-remote-write.patch.yaml", "kube-prometheus-stack-88.5.3"),
];

#[test]
fn helm_values_use_only_the_charts_real_keys() {
    for (rel, chart) in RELEASES {
        let hr = doc(rel);
        let mut unknown = Vec::new();
        unknown_keys(&hr["spec"]["values"], &chart_values(chart), "", &mut unknown);
        assert!(unknown.is_empty(), "{rel} sets keys that {chart}'s values.yaml does not have: {unknown:?}");
    }
}

#[test]
fn a_key_the_chart_does_not_have_is_caught() {
    let mut hr = doc("apps/monitoring/tempo/app/helmrelease.yaml");
    hr["spec"]["values"]["tempo"]["memBallastSizeMb"] = Value::from(0); // one letter short
    hr["spec"]["values"]["persistance"] = Value::from(true);
    let mut unknown = Vec::new();
    unknown_keys(&hr["spec"]["values"], &chart_values("tempo-1.23.3"), "", &mut unknown);
    assert_eq!(unknown, ["tempo.memBallastSizeMb", "persistance"]);
}

/// (request, limit) of a container's memory, in bytes.
fn memory_of(v: &Value, component: &str) -> (u64, u64) {
    (bytes(s(v, &format!("{component}.resources.requests.memory"))), bytes(s(v, &format!("{component}.resources.limits.memory"))))
}

/// The environment list sets GOMEMLIMIT from the container's own memory request.
fn gomemlimit_from_request(env: &Value) -> bool {
    env.as_sequence().into_iter().flatten().any(|e| {
        e["name"] == "GOMEMLIMIT"
            && e["valueFrom"]["resourceFieldRef"]["resource"] == "requests.memory"
            && e["valueFrom"]["resourceFieldRef"]["containerName"].is_null()
    })
}

#[test]
fn the_go_runtime_knows_each_memory_limit() {
    let tempo = doc("apps/monitoring/tempo/app/helmrelease.yaml");
    let t = at(&tempo, "spec.values");
    assert_eq!(at(t, "tempo.memBallastSizeMbs").as_u64(), Some(0), "no memory ballast next to a 1Gi limit");
    assert!(gomemlimit_from_request(at(t, "tempo.extraEnv")), "Tempo's GOMEMLIMIT comes from its memory request");
    let mimir = doc("apps/monitoring/mimir/app/helmrelease.yaml");
    let m = at(&mimir, "spec.values");
    assert!(gomemlimit_from_request(at(m, "global.extraEnv")), "every Mimir component's GOMEMLIMIT comes from its memory request");
    let mut checked = vec![memory_of(t, "tempo")];
    for c in ["gateway", "distributor", "ingester", "querier", "query_frontend", "store_gateway", "compactor"] {
        checked.push(memory_of(m, c));
    }
    for (request, limit) in checked {
        let share = request as f64 / limit as f64;
        assert!((0.85..=0.95).contains(&share), "GOMEMLIMIT (the request, {request}) is {:.0}% of the limit {limit}: keep 85–95%", share * 100.0);
    }
    let readme = std::fs::read_to_string(k8s().join("README.md")).unwrap();
    assert!(readme.contains("GOMEMLIMIT") && readme.contains("ballast"), "kubernetes/README.md explains the memory settings");
}

#[test]
fn tempo_listens_on_otlp_only() {
    let tempo = doc("apps/monitoring/tempo/app/helmrelease.yaml");
    let v = at(&tempo, "spec.values");
    let receivers: Vec<&str> = at(v, "tempo.receivers").as_mapping().unwrap().keys().map(|k| k.as_str().unwrap()).collect();
    assert_eq!(receivers, ["otlp"]);
    // The chart deep-merges its jaeger and opencensus receivers into that map: the configuration
    // template must render only the otlp entry, and otherwise stay the chart's own.
    let ours = s(v, "config");
    let theirs = chart_values("tempo-1.23.3")["config"].as_str().unwrap().to_string();
    let rendered_receivers = "{{- toYaml .Values.tempo.receivers | nindent 8 }}";
    assert!(theirs.contains(rendered_receivers), "the chart's template changed; revisit this override");
    assert_eq!(ours, theirs.replace(rendered_receivers, "{{- toYaml (pick .Values.tempo.receivers \"otlp\") | nindent 8 }}"));
}

#[test]
fn mimir_keeps_blocks_as_long_as_tempo_keeps_traces() {
    let mimir = doc("apps/monitoring/mimir/app/helmrelease.yaml");
    let retention = s(&mimir, "spec.values.mimir.structuredConfig.limits.compactor_blocks_retention_period");
    let tempo = doc("apps/monitoring/tempo/app/helmrelease.yaml");
    assert_eq!(retention, s(&tempo, "spec.values.tempo.retention"), "both keep 30 days");
    let readme = std::fs::read_to_string(k8s().join("README.md")).unwrap();
    assert!(readme.contains("compactor_blocks_retention_period") && readme.contains("block_retention"), "kubernetes/README.md says where each retention lives");
}

/// Paths of the lists a patch sets under `spec.values`, with whether an ancestor key of each is one
/// that the chart neither has nor shows in an example (a key of the patch's own, so no list the
/// cluster already has is replaced).
fn patch_lists(v: &Value, prefix: &str, chart_text: &str, own_key: bool, out: &mut Vec<(String, bool)>) {
    if v.is_sequence() {
        out.push((prefix.to_string(), own_key));
    }
    for (k, child) in v.as_mapping().into_iter().flatten() {
        let key = k.as_str().unwrap();
        let path = if prefix.is_empty() { key.to_string() } else { format!("{prefix}.{key}") };
        patch_lists(child, &path, chart_text, own_key || !chart_text.contains(key), out);
    }
}

#[test]
fn no_patch_replaces_a_list_without_saying_so() {
    for (rel, chart) in RELEASES.iter().filter(|(rel, _)| rel.ends_with(".patch.yaml")) {
        let text = std::fs::read_to_string(k8s().join(rel)).unwrap();
        let mut lists = Vec::new();
        patch_lists(&doc(rel)["spec"]["values"], "", &chart_text(chart), false, &mut lists);
        assert!(!lists.is_empty(), "{rel}");
        for (path, own_key) in lists {
            assert!(own_key || text.contains("replaces a whole list"), "{rel} replaces the list {path} without saying so");
        }
    }
    // The rule catches what the old Grafana patch did: `datasources.yaml` is the chart's own example key.
    let mut lists = Vec::new();
    let old: Value = serde_yaml_ng::from_str("datasources:\n  datasources.yaml:\n    datasources: [{name: x}]\n").unwrap();
    patch_lists(&old, "", &chart_text("grafana-10.5.15"), false, &mut lists);
    assert_eq!(lists, [("datasources.datasources.yaml.datasources".to_string(), false)]);
}

/// A committed secret is either placeholders (credential fields `<LIKE_THIS>`) or a real SOPS
/// document: a `sops` block with an age recipient and every value `ENC[...]`.
fn secret_document_ok(secret: &Value) -> Result<(), String> {
    let values = secret["stringData"].as_mapping().or(secret["data"].as_mapping()).ok_or("no data or stringData")?;
    if secret["sops"].is_null() {
        for (k, v) in values {
            let (k, v) = (k.as_str().unwrap_or_default(), v.as_str().unwrap_or_default());
            if k.contains("KEY") && !(v.starts_with('<') && v.ends_with('>')) {
                return Err(format!("{k} must be a <PLACEHOLDER> until the file is encrypted"));
            }
        }
        return Ok(());
    }
    if !secret["sops"]["age"][0]["recipient"].as_str().is_some_and(|r| r.starts_with("age1")) {
        return Err("sops block without an age recipient".into());
    }
    match values.iter().find(|(_, v)| !v.as_str().is_some_and(|v| v.starts_with("ENC["))) {
        Some((k, _)) => Err(format!("{} is not encrypted", k.as_str().unwrap_or_default())),
        None => Ok(()),
    }
}

#[test]
fn secret_files_are_placeholders_or_real_sops_documents() {
    let doc = |text: &str| -> Value { serde_yaml_ng::from_str(text).unwrap() };
    let placeholders = "stringData:\n  S3_ACCESS_KEY_ID: <S3_ACCESS_KEY_ID>\n  S3_SECRET_ACCESS_KEY: <S3_SECRET_ACCESS_KEY>\n  S3_BUCKET: tempo-traces\n";
    assert_eq!(secret_document_ok(&doc(placeholders)), Ok(()));
    // Built from parts so that this file itself holds no credential-shaped literal.
    let plaintext = format!("stringData:\n  S3_ACCESS_KEY_ID: {}{}\n", "AK", "IAIOSFODNN7EXAMPLE");
    assert!(secret_document_ok(&doc(&plaintext)).unwrap_err().contains("PLACEHOLDER"));
    let sops = "stringData:\n  S3_ACCESS_KEY_ID: ENC[AES256_GCM,data:abc=,iv:x,tag:y,type:str]\n  S3_BUCKET: ENC[AES256_GCM,data:def=,iv:x,tag:y,type:str]\nsops:\n  age:\n    - recipient: age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq\n      enc: x\n";
    assert_eq!(secret_document_ok(&doc(sops)), Ok(()));
    let half = sops.replace("ENC[AES256_GCM,data:def=,iv:x,tag:y,type:str]", "tempo-traces");
    assert!(secret_document_ok(&doc(&half)).unwrap_err().contains("S3_BUCKET is not encrypted"));
    let no_recipient = sops.replace("recipient: age1", "recipient: pgp");
    assert!(secret_document_ok(&doc(&no_recipient)).unwrap_err().contains("age recipient"));
}

#[test]
fn no_plaintext_credential_is_committed() {
    let credential = regex::Regex::new(
        r#"(?i)(AKIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY-----|AGE-SECRET-KEY-1[0-9A-Z]{20,}|(secret_access_key|secret_key|access_key_id|access_key|password|token)\s*[:=]\s*["']?[A-Za-z0-9/+]{16,})"#,
    )
    .unwrap();
    let out = std::process::Command::new("git").args(["ls-files", "--cached", "--others", "--exclude-standard"]).current_dir(root()).output().unwrap();
    let files: Vec<String> = String::from_utf8(out.stdout).unwrap().lines().map(String::from).collect();
    assert!(files.iter().any(|f| f.ends_with("secret.sops.yaml")), "the listing includes the secrets");
    for f in &files {
        let Ok(text) = std::fs::read_to_string(root().join(f)) else { continue };
        if let Some(m) = credential.find(&text) {
            panic!("{f} holds what looks like a plaintext credential: `{}`", m.as_str());
        }
    }
    for f in files.iter().filter(|f| f.ends_with(".sops.yaml") && f.starts_with("kubernetes/apps")) {
        secret_document_ok(&docs(&root().join(f)).remove(0)).unwrap_or_else(|e| panic!("{f}: {e}"));
    }
    let sops: Value = serde_yaml_ng::from_str(&std::fs::read_to_string(k8s().join(".sops.yaml")).unwrap()).unwrap();
    assert_eq!(s(&sops, "creation_rules.0.encrypted_regex"), "^(data|stringData)$");
    assert!(s(&sops, "creation_rules.0.age").starts_with("age1"));
}

/// The canary's manifests: its Deployment runs `canary` on the shipped scenario (a copy kept
/// identical to scenarios/canary.toml) with its state on a volume; the Service's port is the one the
/// ServiceMonitor scrapes; the ServiceMonitor and PrometheusRule carry the release label
/// kube-prometheus-stack's Prometheus selects by (the chart's `*SelectorNilUsesHelmValues`), and the
/// dashboard's ConfigMap the label its Grafana sidecar loads (the chart's `sidecar.dashboards.label`
/// and `labelValue`), both read from the chart's own values.
#[test]
fn the_canary_is_deployed_scraped_alerted_on_and_charted() {
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Service};
    let dir = "apps/monitoring/lgtm-bench/canary";
    let deployment: Deployment = serde_yaml_ng::from_value(doc(&format!("{dir}/deployment.yaml"))).unwrap();
    let pod = deployment.spec.as_ref().unwrap().template.spec.as_ref().unwrap();
    let args = pod.containers[0].args.clone().unwrap();
    assert_eq!(&args[..2], ["canary", "/scenarios/canary.toml"]);
    let flag = |name: &str| args.iter().position(|a| a == name).map(|i| args[i + 1].clone()).unwrap_or_else(|| panic!("{name} missing"));
    assert_eq!(flag("--listen"), "0.0.0.0:9464");
    let state_mount = pod.containers[0].volume_mounts.as_ref().unwrap().iter().find(|m| m.name == "state").unwrap();
    assert_eq!(flag("--out"), state_mount.mount_path, "the state and results on the volume");
    let claim = pod.volumes.as_ref().unwrap().iter().find(|v| v.name == "state").unwrap().persistent_volume_claim.clone().unwrap().claim_name;
    let pvc: PersistentVolumeClaim = serde_yaml_ng::from_value(doc(&format!("{dir}/pvc.yaml"))).unwrap();
    assert_eq!(pvc.metadata.name.as_deref(), Some(claim.as_str()));
    assert_eq!(deployment.spec.as_ref().unwrap().strategy.as_ref().unwrap().type_.as_deref(), Some("Recreate"), "one writer of the state volume");
    // The scenario it runs is the shipped one, and valid.
    let shipped = std::fs::read_to_string(root().join("scenarios/canary.toml")).unwrap();
    let copy = std::fs::read_to_string(k8s().join(dir).join("scenarios/canary.toml")).unwrap();
    assert!(shipped == copy, "the canary's ConfigMap copy drifted: cp scenarios/canary.toml kubernetes/{dir}/scenarios/");
    assert!(lgtm_bench::targets::parse(&shipped, "canary.toml", &[]).is_ok());
    let ages = flag("--ages");
    assert!(ages.split(',').all(|a| a.parse::<lgtm_bench::units::Dur>().unwrap().get() <= flag("--max-age").parse::<lgtm_bench::units::Dur>().unwrap().get()));
    // Service → ServiceMonitor.
    let service: Service = serde_yaml_ng::from_value(doc(&format!("{dir}/service.yaml"))).unwrap();
    let port = &service.spec.as_ref().unwrap().ports.as_ref().unwrap()[0];
    let container_port = pod.containers[0].ports.as_ref().unwrap().iter().find(|p| p.name.as_deref() == Some("metrics")).unwrap().container_port;
    assert_eq!((port.port, port.name.as_deref()), (container_port, Some("metrics")));
    let monitor = doc(&format!("{dir}/servicemonitor.yaml"));
    assert_eq!(s(&monitor, "spec.endpoints.0.port"), "metrics");
    assert_eq!(at(&monitor, "spec.selector.matchLabels"), at(&doc(&format!("{dir}/service.yaml")), "metadata.labels"));
    // kube-prometheus-stack's Prometheus selects by its release label when its selectors are left nil.
    let chart = chart_values("kube-prometheus-stack-88.5.3");
    for key in ["serviceMonitorSelectorNilUsesHelmValues", "ruleSelectorNilUsesHelmValues"] {
        assert_eq!(at(&chart, &format!("prometheus.prometheusSpec.{key}")).as_bool(), Some(true), "{key}");
    }
    let release = s(&doc("apps/monitoring/kube-prometheus-stack/app/helmrelease-remote-write.patch.yaml"), "metadata.name").to_string();
    let rules = doc(&format!("{dir}/prometheusrule.yaml"));
    for (name, d) in [("ServiceMonitor", &monitor), ("PrometheusRule", &rules)] {
        assert_eq!(at(d, "metadata.labels.release").as_str(), Some(release.as_str()), "{name} selected by the release label");
    }
    // The dashboard's ConfigMap carries the Grafana sidecar's label.
    let kustomization = doc(&format!("{dir}/kustomization.yaml"));
    let generator = at(&kustomization, "configMapGenerator").as_sequence().unwrap().iter().find(|g| s(g, "name") == "lgtm-bench-canary-dashboard").unwrap();
    let (label, value) = (s(&chart, "grafana.sidecar.dashboards.label"), s(&chart, "grafana.sidecar.dashboards.labelValue"));
    assert_eq!(at(generator, &format!("options.labels.{label}")).as_str(), Some(value));
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(k8s().join(dir).join("dashboards/lgtm-bench-canary.json")).unwrap()).unwrap();
    assert!(dashboard["panels"].as_array().unwrap().len() >= 8);
}
