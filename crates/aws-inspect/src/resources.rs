//! What does a user own: resources tagged with the user as owner, in every region at once
//! (Resource Groups Tagging API `GetResources`). Regions are scanned concurrently with a
//! bound and a per-region timeout; a failing region is reported and does not sink the rest.
//! Unless the caller names regions, the scan covers the regions enabled for the account
//! (`account:ListRegions`, the lightest client that knows), and falls back to a built-in
//! list, with a warning, when the account's list cannot be read.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_resourcegroupstagging::types::TagFilter;
use core_types::{CallFailure, ErrorKind};
use serde::Serialize;

use crate::error::InspectError;

/// Commercial regions enabled in every account, scanned when the account's own list cannot
/// be read.
pub const DEFAULT_REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "sa-east-1",
];

/// Called after each region finishes: (regions done, regions in all, the region).
pub type Progress = Arc<dyn Fn(usize, usize, &str) + Send + Sync>;

/// Options for [`list_user_resources`].
#[derive(Clone)]
#[non_exhaustive]
pub struct ResourceOptions {
    /// Regions to scan (default, empty: the account's enabled regions, else
    /// [`DEFAULT_REGIONS`]).
    pub regions: Vec<String>,
    /// Tag keys that name an owner.
    pub owner_tag_keys: Vec<String>,
    /// Regions scanned at once.
    pub concurrency: usize,
    /// Give up on a region after this long.
    pub region_timeout: Duration,
    /// Progress callback.
    pub progress: Option<Progress>,
}

impl std::fmt::Debug for ResourceOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceOptions")
            .field("regions", &self.regions)
            .field("owner_tag_keys", &self.owner_tag_keys)
            .field("concurrency", &self.concurrency)
            .field("region_timeout", &self.region_timeout)
            .finish_non_exhaustive()
    }
}

impl Default for ResourceOptions {
    fn default() -> Self {
        Self {
            regions: Vec::new(),
            owner_tag_keys: ["Owner", "owner", "CreatedBy"].iter().map(|s| (*s).to_owned()).collect(),
            concurrency: 16,
            region_timeout: Duration::from_secs(30),
            progress: None,
        }
    }
}

impl ResourceOptions {
    /// Scans these regions (none: the account's enabled regions).
    #[must_use]
    pub fn regions(mut self, regions: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.regions = regions.into_iter().map(Into::into).collect();
        self
    }
    /// These tag keys name an owner.
    #[must_use]
    pub fn owner_tag_keys(mut self, keys: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.owner_tag_keys = keys.into_iter().map(Into::into).collect();
        self
    }
    /// Scans this many regions at once.
    #[must_use]
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n;
        self
    }
    /// Gives up on a region after this long.
    #[must_use]
    pub fn region_timeout(mut self, timeout: Duration) -> Self {
        self.region_timeout = timeout;
        self
    }
    /// Calls `progress(done, total, region)` as regions finish.
    #[must_use]
    pub fn progress(mut self, progress: impl Fn(usize, usize, &str) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(progress));
        self
    }
}

/// A region that could not be scanned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RegionFailure {
    /// The region.
    pub region: String,
    /// Why.
    pub error: String,
}

/// A region the account has not enabled, left out of the scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SkippedRegion {
    /// The region.
    pub region: String,
    /// Its opt-in status (`DISABLED`, `ENABLING`, `DISABLING`).
    pub status: String,
}

/// Where the list of scanned regions came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RegionsFrom {
    /// The caller named them.
    #[default]
    Requested,
    /// The account's enabled regions (`account:ListRegions`).
    Account,
    /// [`DEFAULT_REGIONS`], because the account's list could not be read.
    BuiltIn,
}

/// The regions of an account, as `account:ListRegions` reports them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AccountRegions {
    /// Enabled (by default or by opting in), sorted.
    pub enabled: Vec<String>,
    /// The others, with their status, sorted.
    pub skipped: Vec<SkippedRegion>,
}

/// The regions of the account the credentials belong to (`account:ListRegions`, every
/// page), within `timeout`.
pub async fn account_regions(sdk: &SdkConfig, timeout: Duration) -> Result<AccountRegions, InspectError> {
    let client = aws_sdk_account::Client::new(sdk);
    let list = async {
        let mut pages = client.list_regions().max_results(50).into_paginator().send();
        let mut out = AccountRegions::default();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| InspectError::aws("account:ListRegions", e))?;
            for r in page.regions() {
                let (Some(name), status) = (r.region_name(), r.region_opt_status()) else { continue };
                match status.map(|s| s.as_str()) {
                    Some("ENABLED" | "ENABLED_BY_DEFAULT") => out.enabled.push(name.to_owned()),
                    other => out
                        .skipped
                        .push(SkippedRegion { region: name.to_owned(), status: other.unwrap_or("UNKNOWN").to_owned() }),
                }
            }
        }
        out.enabled.sort();
        out.skipped.sort_by(|a, b| a.region.cmp(&b.region));
        Ok(out)
    };
    tokio::time::timeout(timeout, list).await.unwrap_or_else(|_| {
        Err(InspectError::Aws {
            failure: Box::new(
                CallFailure::new("Account", "ListRegions", ErrorKind::Unavailable)
                    .with_summary(format!("timed out after {timeout:?}")),
            ),
            cause: None,
        })
    })
}

/// The regions to scan and where they came from, with the skipped ones and any warning.
async fn regions_to_scan(
    sdk: &SdkConfig,
    options: &ResourceOptions,
) -> (Vec<String>, RegionsFrom, Vec<SkippedRegion>, Vec<String>) {
    if !options.regions.is_empty() {
        return (options.regions.clone(), RegionsFrom::Requested, Vec::new(), Vec::new());
    }
    match account_regions(sdk, options.region_timeout).await {
        Ok(r) if !r.enabled.is_empty() => (r.enabled, RegionsFrom::Account, r.skipped, Vec::new()),
        outcome => {
            let why = match outcome {
                Ok(_) => "it lists no enabled region".to_owned(),
                Err(e) => e.to_string(),
            };
            let warning = format!(
                "could not read the account's enabled regions ({why}); scanned the {} regions every account has (allow account:ListRegions, or name regions)",
                DEFAULT_REGIONS.len()
            );
            tracing::warn!("{warning}");
            (DEFAULT_REGIONS.iter().map(|r| (*r).to_owned()).collect(), RegionsFrom::BuiltIn, Vec::new(), vec![warning])
        }
    }
}

/// The resources found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ResourceResult {
    /// The user the filter matched (or `None` with `show_all`).
    pub owner: Option<String>,
    /// How many resources.
    pub total_resources: usize,
    /// `service:type` → ARNs, sorted.
    pub resources_by_type: BTreeMap<String, Vec<String>>,
    /// Regions that answered.
    pub regions_scanned: Vec<String>,
    /// Regions that failed.
    pub failed_regions: Vec<RegionFailure>,
    /// Where the scanned regions came from.
    pub regions_from: RegionsFrom,
    /// Regions the account has not enabled (not scanned).
    pub regions_skipped: Vec<SkippedRegion>,
    /// What the caller should know (a fallback to the built-in region list).
    pub warnings: Vec<String>,
    /// Whether `limit` cut the list.
    pub truncated: bool,
}

/// `service:type` of an ARN (`arn:aws:ec2:us-east-1:123:instance/i-1` → `ec2:instance`).
pub fn resource_type(arn: &str) -> String {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        [_, _, service, _, _, rest] => {
            let kind = rest.split(['/', ':']).next().filter(|k| *k != *rest).unwrap_or(match *service {
                "s3" => "bucket",
                "sqs" => "queue",
                "sns" => "topic",
                _ => "resource",
            });
            format!("{service}:{kind}")
        }
        _ => "unknown".to_owned(),
    }
}

async fn scan_region(
    sdk: &SdkConfig,
    region: &str,
    username: Option<&str>,
    keys: &[String],
) -> Result<BTreeSet<String>, InspectError> {
    let conf = aws_sdk_resourcegroupstagging::config::Builder::from(sdk)
        .region(aws_config::Region::new(region.to_owned()))
        .build();
    let client = aws_sdk_resourcegroupstagging::Client::from_conf(conf);
    // one filter per owner key: GetResources ANDs the filters of one call
    let filters: Vec<Option<TagFilter>> = match username {
        None => vec![None],
        Some(u) => keys.iter().map(|k| Some(TagFilter::builder().key(k).values(u).build())).collect(),
    };
    let mut arns = BTreeSet::new();
    for filter in filters {
        let mut token: Option<String> = None;
        loop {
            let page = client
                .get_resources()
                .set_tag_filters(filter.clone().map(|f| vec![f]))
                .resources_per_page(100)
                .set_pagination_token(token.take())
                .send()
                .await
                .map_err(|e| InspectError::aws("tag:GetResources", e))?;
            arns.extend(page.resource_tag_mapping_list().iter().filter_map(|m| m.resource_arn().map(str::to_owned)));
            match page.pagination_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => break,
            }
        }
    }
    Ok(arns)
}

/// Resources owned by `username` (tagged with one of the owner keys), or every tagged
/// resource with `show_all`, across the regions of `options`, at most `limit`.
pub async fn list_user_resources(
    sdk: &SdkConfig,
    username: &str,
    limit: usize,
    show_all: bool,
    options: &ResourceOptions,
) -> Result<ResourceResult, InspectError> {
    if !show_all && username.is_empty() {
        return Err(InspectError::Invalid("username is empty (or use show_all)".into()));
    }
    let owner = (!show_all).then(|| username.to_owned());
    let (regions, regions_from, regions_skipped, warnings) = regions_to_scan(sdk, options).await;
    let permits = Arc::new(tokio::sync::Semaphore::new(options.concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for region in &regions {
        let (sdk, region, owner, keys, permits) =
            (sdk.clone(), region.clone(), owner.clone(), options.owner_tag_keys.clone(), permits.clone());
        let timeout = options.region_timeout;
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let result = match tokio::time::timeout(timeout, scan_region(&sdk, &region, owner.as_deref(), &keys)).await
            {
                Ok(r) => r,
                Err(_) => Err(InspectError::Aws {
                    failure: Box::new(
                        CallFailure::new("Resource Groups Tagging", "GetResources", ErrorKind::Unavailable)
                            .with_summary(format!("timed out after {timeout:?}")),
                    ),
                    cause: None,
                }),
            };
            (region, result)
        });
    }
    let total = regions.len();
    let mut result = ResourceResult { owner, regions_from, regions_skipped, warnings, ..ResourceResult::default() };
    let mut all = BTreeSet::new();
    let mut done = 0;
    // when no region answers, there is nothing partial to show: the first failure is the error
    let mut first_failure: Option<InspectError> = None;
    while let Some(joined) = tasks.join_next().await {
        done += 1;
        let (region, outcome) = match joined {
            Ok(x) => x,
            Err(e) => ("?".to_owned(), Err(InspectError::Invalid(format!("scan task failed: {e}")))),
        };
        if let Some(p) = &options.progress {
            p(done, total, &region);
        }
        match outcome {
            Ok(arns) => {
                all.extend(arns);
                result.regions_scanned.push(region);
            }
            Err(e) => {
                result.failed_regions.push(RegionFailure { region, error: e.to_string() });
                first_failure.get_or_insert(e);
            }
        }
    }
    if result.regions_scanned.is_empty()
        && let Some(e) = first_failure
    {
        return Err(e);
    }
    result.regions_scanned.sort();
    result.failed_regions.sort_by(|a, b| a.region.cmp(&b.region));
    result.truncated = all.len() > limit;
    for arn in all.into_iter().take(limit) {
        result.resources_by_type.entry(resource_type(&arn)).or_default().push(arn);
    }
    result.total_resources = result.resources_by_type.values().map(Vec::len).sum();
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_from_arns() {
        assert_eq!(resource_type("arn:aws:ec2:us-east-1:123456789012:instance/i-0abc"), "ec2:instance");
        assert_eq!(resource_type("arn:aws:s3:::my-bucket"), "s3:bucket");
        assert_eq!(resource_type("arn:aws:sqs:us-east-1:123456789012:queue1"), "sqs:queue");
        assert_eq!(resource_type("arn:aws:lambda:us-east-1:123456789012:function:f"), "lambda:function");
        assert_eq!(resource_type("garbage"), "unknown");
    }
}
