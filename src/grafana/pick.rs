//! Which dashboards a Grafana's users open, to replay them: the most viewed, where Grafana sorts by
//! views (usage insights: Grafana Enterprise and Cloud offer a "Views 30 days" sort in
//! `/api/search/sorting`), else every dashboard of a folder; each fetched whole
//! (`/api/dashboards/uid/{uid}`), with how it was chosen.

use super::api::{GrafanaApi, GrafanaError};

/// A dashboard chosen, with its JSON as Grafana stores it.
#[derive(Clone, Debug)]
pub struct Picked {
    pub uid: String,
    pub title: String,
    pub folder: String,
    /// Its views by Grafana's sort (`sortMeta`), where Grafana counts them.
    pub views: Option<u64>,
    pub dashboard: serde_json::Value,
}

/// The dashboards chosen and how.
#[derive(Clone, Debug)]
pub struct Picking {
    pub dashboards: Vec<Picked>,
    pub how: String,
}

/// The sort by views Grafana offers, if any: the name of a descending sort whose name or display
/// name speaks of views, the one over 30 days first.
pub fn views_sort(options: &serde_json::Value) -> Option<(String, String)> {
    let mut found: Vec<(String, String)> = options
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| Some((o["name"].as_str()?.to_string(), o["displayName"].as_str().unwrap_or_default().to_string())))
        .filter(|(name, shown)| (name.to_lowercase().contains("view") || shown.to_lowercase().contains("view")) && name.ends_with("desc"))
        .collect();
    found.sort_by_key(|(name, shown)| !(shown.contains("30") || name.contains("30") || name.contains("recent")));
    found.into_iter().next()
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Why no dashboards were picked.
#[derive(Debug, thiserror::Error)]
pub enum PickError {
    /// Grafana sorts by no views and no folder was named: which flag to give.
    #[error("{0}")]
    NeedsFolder(String),
    #[error(transparent)]
    Grafana(#[from] GrafanaError),
}

/// Chooses up to `limit` dashboards: by views where Grafana sorts by them, else all of `folder`
/// (by its uid); an error says which flag to give when neither is possible.
pub async fn pick(api: &GrafanaApi, folder: Option<&str>, limit: usize) -> Result<Picking, PickError> {
    let sorting = api.get("/api/search/sorting").await.unwrap_or(serde_json::Value::Null);
    let in_folder = folder.map_or(String::new(), |f| format!("&folderUIDs={}", enc(f)));
    let (hits, how) = match (views_sort(&sorting), folder) {
        (Some((sort, shown)), _) => {
            let hits = api.get(&format!("/api/search?type=dash-db&sort={}&limit={limit}{in_folder}", enc(&sort))).await?;
            (hits, format!("the {limit} most viewed by Grafana's `{shown}` sort ({sort})"))
        }
        (None, Some(f)) => {
            let hits = api.get(&format!("/api/search?type=dash-db&limit=5000{in_folder}")).await?;
            (hits, format!("every dashboard of folder `{f}` (Grafana offers no sort by views: usage insights are Grafana Enterprise and Cloud)"))
        }
        (None, None) => {
            return Err(PickError::NeedsFolder(format!(
                "{} offers no sort by views (usage insights are Grafana Enterprise and Cloud): give --grafana-folder UID to replay every dashboard of a folder",
                api.base
            )))
        }
    };
    let mut dashboards = Vec::new();
    for h in hits.as_array().into_iter().flatten().filter(|h| h["type"] == "dash-db") {
        let Some(uid) = h["uid"].as_str() else { continue };
        let full = api.get(&format!("/api/dashboards/uid/{}", enc(uid))).await?;
        if !full["dashboard"].is_object() {
            return Err(GrafanaError::Refused(format!("{}/api/dashboards/uid/{uid}: the answer holds no dashboard", api.base)).into());
        }
        dashboards.push(Picked {
            uid: uid.to_string(),
            title: h["title"].as_str().unwrap_or(uid).to_string(),
            folder: h["folderTitle"].as_str().unwrap_or("General").to_string(),
            views: h["sortMeta"].as_u64(),
            dashboard: full["dashboard"].clone(),
        });
    }
    if folder.is_none() {
        dashboards.truncate(limit);
    }
    Ok(Picking { dashboards, how })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_sort_by_recent_views_is_preferred_and_open_source_grafana_has_none() {
        let oss =
            serde_json::json!([{"name": "alpha-asc", "displayName": "Alphabetically (A–Z)"}, {"name": "alpha-desc", "displayName": "Alphabetically (Z–A)"}]);
        assert_eq!(super::views_sort(&oss), None);
        let insights = serde_json::json!([
            {"name": "alpha-asc", "displayName": "Alphabetically (A–Z)"},
            {"name": "views-total-desc", "displayName": "Views total"},
            {"name": "views-recent-desc", "displayName": "Views 30 days"},
            {"name": "views-recent-asc", "displayName": "Views 30 days (least)"}
        ]);
        assert_eq!(super::views_sort(&insights), Some(("views-recent-desc".into(), "Views 30 days".into())));
    }
}
