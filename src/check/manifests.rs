//! Secrets and manifests, with `--manifests DIR` (e.g. `kubernetes/`): every `*.sops.yaml` is
//! encrypted (SOPS metadata, age recipients, every value `ENC[...]`, no plaintext: AC-lgtm-004-01),
//! an S3 secret carries the credentials as its keys (AC-lgtm-004-02), the S3 endpoint is HTTPS
//! (AC-lgtm-004-04); the HelmReleases of the targets take those credentials from the secret as
//! environment variables (`envFrom`/`secretKeyRef`), never inline (AC-lgtm-004-02), and keep each
//! memory limit within the target's budget and one replica per component (NFR-SCALE-002, ADR-002).

use super::config::CheckSection;
use super::model::Criterion;
use crate::units::ByteSize;
use serde_yaml_ng::Value;
use std::path::{Path, PathBuf};

/// The plan's ids: secrets SOPS-encrypted, the S3 credentials as the secret's keys, the S3
/// endpoint HTTPS; each component's resources within its budget (and one replica, ADR-002).
const ENCRYPTED: &str = "AC-lgtm-004-01";
const CREDENTIALS: &str = "AC-lgtm-004-02";
const HTTPS: &str = "AC-lgtm-004-04";
const RESOURCES: &str = "NFR-SCALE-002";
/// The keys an S3 credentials secret (`*-s3-secret`) must carry.
pub const S3_SECRET_KEYS: [&str; 4] = ["S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "S3_ENDPOINT", "S3_BUCKET"];

pub fn check(dir: Option<&Path>, targets: &[Box<dyn super::TargetChecks>], section: Option<&CheckSection>) -> Vec<Criterion> {
    let Some(dir) = dir else {
        return vec![Criterion::skipped(
            ENCRYPTED,
            "secrets are SOPS-encrypted and the manifests follow the plan",
            "pass --manifests DIR (e.g. kubernetes/) to check them",
        )];
    };
    let files = yaml_files(dir);
    if files.is_empty() {
        return vec![Criterion::new(ENCRYPTED, "secrets and manifests").fail(format!("no YAML files under {}", dir.display()))];
    }
    // `.sops.yaml` itself is SOPS's configuration, not a secret.
    let secrets = files.iter().filter(|f| f.file_name().is_some_and(|n| n != ".sops.yaml" && n.to_string_lossy().ends_with(".sops.yaml")));
    let mut out: Vec<Criterion> = secrets.flat_map(|f| secret(f, section)).collect();
    if out.is_empty() {
        out.push(
            Criterion::new(ENCRYPTED, "secrets are SOPS-encrypted").fail(format!("no *.sops.yaml under {}: where are the S3 credentials kept?", dir.display())),
        );
    }
    out.extend(helm_releases(&files, targets));
    out
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(yaml_files(&p));
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn docs(path: &Path) -> Result<Vec<Value>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|d| <Value as serde::Deserialize>::deserialize(d).map_err(|e| format!("not YAML: {e}")))
        .filter(|d| !matches!(d, Ok(Value::Null)))
        .collect()
}

fn is_encrypted(v: &Value) -> bool {
    v.as_str().is_some_and(|s| s.starts_with("ENC[AES256_GCM,data:") && s.ends_with(']'))
}

/// One SOPS file: encrypted with age and nothing in plaintext (AC-lgtm-004-01); an S3 secret
/// carries the credentials as its keys (AC-lgtm-004-02); the S3 endpoint is HTTPS (AC-lgtm-004-04).
fn secret(path: &Path, section: Option<&CheckSection>) -> Vec<Criterion> {
    let shown = path.display().to_string();
    let mut c = Criterion::new(ENCRYPTED, &format!("{shown} is SOPS-encrypted (age, MAC, every value ENC[…])"));
    let docs = match docs(path) {
        Ok(d) => d,
        Err(e) => return vec![c.fail(e)],
    };
    let mut credentials: Option<Criterion> = None;
    // The endpoint as the secret holds it, when it is readable (plaintext).
    let mut plain_endpoint: Option<String> = None;
    for doc in &docs {
        let name = doc["metadata"]["name"].as_str().unwrap_or("?").to_string();
        plain_endpoint = plain_endpoint.or_else(|| doc["stringData"]["S3_ENDPOINT"].as_str().filter(|v| !v.starts_with("ENC[")).map(str::to_string));
        let sops = &doc["sops"];
        if !sops.is_mapping() {
            c = c.fail(format!("`{name}` has no sops metadata: it is plaintext; encrypt it: sops --encrypt --in-place {shown}"));
            continue;
        }
        let recipients: Vec<&str> = sops["age"].as_sequence().into_iter().flatten().filter_map(|r| r["recipient"].as_str()).collect();
        c = c.expect(
            !recipients.is_empty() && recipients.iter().all(|r| r.starts_with("age1")),
            format!("`{name}`: age recipients {}", recipients.len()),
            format!("`{name}`: no age recipient in its sops metadata (see kubernetes/.sops.yaml)"),
        );
        c = c.expect(
            sops["mac"].as_str().is_some_and(|m| m.starts_with("ENC[")),
            format!("`{name}`: sops MAC present"),
            format!("`{name}`: no sops MAC: the file was edited after encryption"),
        );
        let mut keys = Vec::new();
        for field in ["data", "stringData"] {
            for (k, v) in doc[field].as_mapping().into_iter().flatten() {
                let key = k.as_str().unwrap_or("?").to_string();
                if !is_encrypted(v) {
                    c = c.fail(format!("`{name}`: {field}.{key} is plaintext"));
                }
                keys.push(key);
            }
        }
        c = c.saw(format!("`{name}`: {} value(s), all ENC[AES256_GCM,…]", keys.len()));
        if name.ends_with("s3-secret") {
            let missing: Vec<&str> = S3_SECRET_KEYS.iter().copied().filter(|k| !keys.iter().any(|have| have == k)).collect();
            let k = credentials.take().unwrap_or_else(|| Criterion::new(CREDENTIALS, &format!("{shown}: the S3 credentials are the secret's keys")));
            credentials = Some(k.expect(
                missing.is_empty(),
                format!("`{name}`: carries {}", S3_SECRET_KEYS.join(", ")),
                format!("`{name}` lacks {}", missing.join(", ")),
            ));
        }
    }
    let https = Criterion::new(HTTPS, &format!("{shown}: the S3 endpoint is HTTPS"));
    let https = match (plain_endpoint, section.and_then(|s| s.s3.as_ref())) {
        (Some(e), _) => https.expect(e.starts_with("https://"), format!("S3 endpoint {e} (in the secret)"), format!("the S3 endpoint {e} is not HTTPS")),
        (None, Some(s3)) => https.expect(
            s3.endpoint.starts_with("https://"),
            format!("S3 endpoint {} (check.s3.endpoint; the secret's copy is encrypted)", s3.endpoint),
            format!("the S3 endpoint {} is not HTTPS", s3.endpoint),
        ),
        (None, None) => Criterion::skipped(
            HTTPS,
            &format!("{shown}: the S3 endpoint is HTTPS"),
            "the endpoint is encrypted in the secret: set check.s3.endpoint to check it",
        ),
    };
    std::iter::once(c).chain(credentials).chain(std::iter::once(https)).collect()
}

/// The targets' HelmReleases: memory limits within the budgets, one replica per component.
fn helm_releases(files: &[PathBuf], targets: &[Box<dyn super::TargetChecks>]) -> Vec<Criterion> {
    let mut out = Vec::new();
    for t in targets {
        let title = format!("the {} HelmRelease keeps memory within {} and one replica", t.name(), t.memory().map_or("?".into(), |m| m.budget.to_string()));
        let found =
            files.iter().filter_map(|f| docs(f).ok()).flatten().find(|d| d["kind"] == "HelmRelease" && d["metadata"]["name"].as_str() == Some(t.name()));
        let Some(hr) = found else {
            out.push(Criterion::skipped(RESOURCES, &title, format!("no HelmRelease named `{}` under --manifests", t.name())));
            continue;
        };
        out.push(credentials_from_secret(&hr, t.name()));
        let Some(budget) = t.memory().map(|m| m.budget.0) else {
            out.push(Criterion::skipped(RESOURCES, &title, format!("set [{}.memory] budget to check the limits against it", t.name())));
            continue;
        };
        // (holds, fact, why not) for every memory limit and replica count in its values.
        let mut findings: Vec<(bool, String, String)> = Vec::new();
        let mut limits = 0;
        walk(&hr["spec"]["values"], String::new(), &mut |path, v| {
            if path.ends_with(".resources.limits.memory") {
                limits += 1;
                let text = v.as_str().map(str::to_string).unwrap_or_else(|| v.as_u64().map(|n| n.to_string()).unwrap_or_default());
                match text.parse::<ByteSize>() {
                    Ok(b) => findings.push((b.0 <= budget, format!("{path}: {text}"), format!("{path}: {text} is over the {} budget", ByteSize(budget)))),
                    Err(_) => findings.push((false, format!("{path}: {text}"), format!("{path}: `{text}` is not a memory quantity"))),
                }
            } else if path.ends_with(".replicas") {
                let n = v.as_u64().unwrap_or(0);
                findings.push((n <= 1, format!("{path}: {n}"), format!("{path}: {n} replicas, the plan is one")));
            }
        });
        let mut c = findings.into_iter().fold(Criterion::new(RESOURCES, &title), |c, (ok, fact, why)| c.expect(ok, fact, why));
        if limits == 0 {
            c = c.fail("no resources.limits.memory in its values: the pods run without a memory limit");
        }
        out.push(c);
    }
    out
}

/// The keys under which Tempo's and Mimir's S3 configurations hold credentials.
const CREDENTIAL_KEYS: [&str; 4] = ["access_key", "secret_key", "access_key_id", "secret_access_key"];

/// AC-lgtm-004-02 for one HelmRelease: its pods get the S3 secret as environment variables
/// (`envFrom: secretRef` or `env: valueFrom.secretKeyRef` naming a `*s3-secret`) and every
/// credential in its values is a `${VAR}` reference to them, never a literal.
fn credentials_from_secret(hr: &Value, target: &str) -> Criterion {
    let c = Criterion::new(CREDENTIALS, &format!("the {target} HelmRelease takes the S3 credentials from the secret as environment variables, never inline"));
    let mut from_secret = Vec::new();
    let mut credentials = Vec::new();
    let mut expand_env = false;
    visit(&hr["spec"]["values"], String::new(), &mut |path, v| {
        let key = path.rsplit('.').next().unwrap_or_default();
        if path.ends_with(".secretRef.name") || path.ends_with(".secretKeyRef.name") {
            if let Some(name) = v.as_str().filter(|n| n.ends_with("s3-secret")) {
                let how = if path.ends_with(".secretRef.name") { "envFrom" } else { "secretKeyRef" };
                from_secret.push(format!("{path}: {how} {name}"));
            }
        } else if CREDENTIAL_KEYS.contains(&key.to_ascii_lowercase().as_str()) {
            credentials.push((path.to_string(), v.as_str().unwrap_or_default().to_string()));
        } else if path.ends_with(".config.expand-env") || v.as_str().is_some_and(|a| a.contains("config.expand-env=true")) {
            expand_env = true;
        }
    });
    let mut c = c.expect(
        !from_secret.is_empty(),
        from_secret.join("; "),
        format!("no envFrom/secretKeyRef naming a `{target}-s3-secret` in its values: mount the secret as environment variables (extraEnvFrom)"),
    );
    for (path, value) in &credentials {
        let env = value.trim().starts_with("${") && value.trim().ends_with('}');
        c = c.expect(
            env,
            format!("{path}: {value} (from the environment)"),
            format!("{path} holds a literal credential: use ${{S3_ACCESS_KEY_ID}} / ${{S3_SECRET_ACCESS_KEY}} from the secret"),
        );
    }
    if credentials.is_empty() {
        c = c.saw("no credential key in its values (the S3 client reads them from the environment)");
    }
    if expand_env {
        c = c.saw("config.expand-env=true: ${VAR} references are expanded");
    }
    c
}

/// Every leaf of `v` with its dotted path; sequence items are `[i]`.
fn visit(v: &Value, path: String, f: &mut impl FnMut(&str, &Value)) {
    match v {
        Value::Mapping(m) => {
            for (k, child) in m {
                visit(child, format!("{path}.{}", k.as_str().unwrap_or("?")), f);
            }
        }
        Value::Sequence(items) => {
            for (i, child) in items.iter().enumerate() {
                visit(child, format!("{path}[{i}]"), f);
            }
        }
        leaf => f(&path, leaf),
    }
}

fn walk(v: &Value, path: String, f: &mut impl FnMut(&str, &Value)) {
    if let Some(m) = v.as_mapping() {
        for (k, child) in m {
            let key = format!("{path}.{}", k.as_str().unwrap_or("?"));
            walk(child, key, f);
        }
    } else {
        f(&path, v);
    }
}
