//! Tables for people. JSON comes from the results' `Serialize`.

use crate::history::{Event, HistorySource};
use crate::permissions::{PermissionTest, PermissionsResult};
use crate::resources::{RegionsFrom, ResourceResult};

/// Aligns rows under a header; the last column is not padded.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let cols = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate().take(cols) {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| -> String {
        let mut out = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                out.push_str(c);
            } else {
                out.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        out.trim_end().to_owned() + "\n"
    };
    let mut out = line(header.to_vec());
    out.push_str(&line(widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().iter().map(String::as_str).collect()));
    for r in rows {
        out.push_str(&line(r.iter().map(String::as_str).collect()));
    }
    out
}

/// The history table (at most `limit` rows; `verbose` adds IP, region and resources).
pub fn format_events(events: &[Event], source: HistorySource, limit: usize, verbose: bool) -> String {
    let source = match source {
        HistorySource::CloudTrail => "CloudTrail",
        HistorySource::CloudWatchLogs => "CloudWatch Logs",
    };
    if events.is_empty() {
        return format!("No events found (source: {source}).\n");
    }
    let shown = &events[..events.len().min(limit)];
    let rows: Vec<Vec<String>> = shown
        .iter()
        .map(|e| {
            let mut r = vec![
                e.time.clone(),
                e.event_name.clone(),
                e.event_source.clone(),
                e.error_code.clone().unwrap_or_default(),
            ];
            if verbose {
                r.push(e.region.clone().unwrap_or_default());
                r.push(e.source_ip.clone().unwrap_or_default());
                r.push(e.resources.join(","));
            }
            r
        })
        .collect();
    let mut header = vec!["TIME", "EVENT", "SOURCE", "ERROR"];
    if verbose {
        header.extend(["REGION", "SOURCE IP", "RESOURCES"]);
    }
    format!("{}{} event(s) from {source}\n", table(&header, &rows), shown.len())
}

/// The resources table, grouped by type.
pub fn format_resources(result: &ResourceResult, verbose: bool) -> String {
    let mut out = String::new();
    let whose = result.owner.as_deref().map(|o| format!(" owned by {o}")).unwrap_or_default();
    let from = match result.regions_from {
        RegionsFrom::Account => " (the account's enabled regions)",
        RegionsFrom::BuiltIn => " (the built-in list)",
        _ => "",
    };
    out.push_str(&format!(
        "{} resource(s){whose} in {} region(s){from}\n",
        result.total_resources,
        result.regions_scanned.len()
    ));
    let rows: Vec<Vec<String>> =
        result.resources_by_type.iter().map(|(t, arns)| vec![t.clone(), arns.len().to_string()]).collect();
    if !rows.is_empty() {
        out.push_str(&table(&["TYPE", "COUNT"], &rows));
    }
    if verbose {
        for (t, arns) in &result.resources_by_type {
            out.push_str(&format!("{t}:\n"));
            for a in arns {
                out.push_str(&format!("  {a}\n"));
            }
        }
    }
    if result.truncated {
        out.push_str("(list cut at the limit)\n");
    }
    if verbose {
        out.push_str(&format!("scanned: {}\n", result.regions_scanned.join(", ")));
    }
    if !result.regions_skipped.is_empty() {
        let skipped: Vec<String> =
            result.regions_skipped.iter().map(|s| format!("{} ({})", s.region, s.status)).collect();
        out.push_str(&format!("skipped, not enabled for the account: {}\n", skipped.join(", ")));
    }
    for f in &result.failed_regions {
        out.push_str(&format!("warning: region {} not scanned: {}\n", f.region, f.error));
    }
    for w in &result.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    out
}

/// The permissions report, and the simulation table when there is one.
pub fn format_permissions(result: &PermissionsResult, tests: Option<&[PermissionTest]>) -> String {
    let mut out = format!("{} ({} in account {})\n", result.arn, result.principal_type, result.account);
    if !result.groups.is_empty() {
        out.push_str(&format!("groups: {}\n", result.groups.join(", ")));
    }
    let rows: Vec<Vec<String>> = result
        .policies
        .iter()
        .flat_map(|p| {
            let name = p.name.clone();
            let origin = p.origin.clone();
            if p.statements.is_empty() {
                return vec![vec![name, origin, String::new(), String::new(), String::new()]];
            }
            p.statements
                .iter()
                .map(|s| {
                    vec![name.clone(), origin.clone(), s.effect.clone(), s.actions.join(","), s.resources.join(",")]
                })
                .collect()
        })
        .collect();
    if rows.is_empty() {
        out.push_str("No policies found.\n");
    } else {
        out.push_str(&table(&["POLICY", "ORIGIN", "EFFECT", "ACTIONS", "RESOURCES"], &rows));
    }
    if let Some(tests) = tests {
        let rows: Vec<Vec<String>> =
            tests.iter().map(|t| vec![t.action.clone(), t.decision.clone(), t.detail.clone()]).collect();
        out.push('\n');
        out.push_str(&table(&["ACTION", "DECISION", "DETAIL"], &rows));
    }
    // what could not be read, after what could: the tables above are partial
    if !result.errors.is_empty() {
        out.push('\n');
    }
    for e in &result.errors {
        out.push_str(&format!(
            "warning: could not read {} ({}); the policies above may be incomplete\n",
            e.part, e.error
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::permissions::{PartError, PolicySummary, StatementSummary};
    use crate::resources::{RegionFailure, SkippedRegion};

    fn events() -> Vec<Event> {
        vec![
            Event {
                time: "2026-01-02T03:04:05Z".into(),
                event_name: "GetObject".into(),
                event_source: "s3.amazonaws.com".into(),
                region: Some("eu-west-1".into()),
                resources: vec!["arn:aws:s3:::bucket-1".into()],
                source_ip: Some("203.0.113.7".into()),
                error_code: None,
                username: Some("alice".into()),
            },
            Event {
                time: "2026-01-02T03:00:00Z".into(),
                event_name: "RunInstances".into(),
                event_source: "ec2.amazonaws.com".into(),
                region: Some("us-east-1".into()),
                resources: vec![],
                source_ip: Some("203.0.113.8".into()),
                error_code: Some("UnauthorizedOperation".into()),
                username: Some("alice".into()),
            },
        ]
    }

    fn resources() -> ResourceResult {
        let mut by_type = std::collections::BTreeMap::new();
        by_type.insert("sqs:queue".to_owned(), vec!["arn:aws:sqs:us-east-1:123456789012:q-alice".to_owned()]);
        by_type.insert(
            "sns:topic".to_owned(),
            vec![
                "arn:aws:sns:eu-west-1:123456789012:t-alice".to_owned(),
                "arn:aws:sns:us-east-1:123456789012:t-alice".to_owned(),
            ],
        );
        ResourceResult {
            owner: Some("alice".into()),
            total_resources: 3,
            resources_by_type: by_type,
            regions_scanned: vec!["eu-west-1".into(), "us-east-1".into()],
            failed_regions: vec![RegionFailure { region: "eu-west-3".into(), error: "timed out after 30s".into() }],
            truncated: false,
            regions_from: RegionsFrom::Account,
            regions_skipped: vec![SkippedRegion { region: "af-south-1".into(), status: "DISABLED".into() }],
            warnings: Vec::new(),
        }
    }

    fn permissions() -> (PermissionsResult, Vec<PermissionTest>) {
        let stmt = |e: &str, a: &str| StatementSummary {
            effect: e.into(),
            actions: vec![a.into()],
            resources: vec!["*".into()],
        };
        (
            PermissionsResult {
                arn: "arn:aws:iam::123456789012:user/alice".into(),
                account: "123456789012".into(),
                principal_type: "user".into(),
                principal_name: Some("alice".into()),
                groups: vec!["devs".into()],
                policies: vec![
                    PolicySummary {
                        name: "ReadS3".into(),
                        origin: "attached".into(),
                        arn: Some("arn:aws:iam::123456789012:policy/ReadS3".into()),
                        statements: vec![stmt("Allow", "s3:GetObject")],
                    },
                    PolicySummary {
                        name: "no-iam".into(),
                        origin: "group:devs inline".into(),
                        arn: None,
                        statements: vec![stmt("Deny", "iam:*")],
                    },
                ],
                errors: vec![PartError { part: "ListUserPolicies".into(), error: "AccessDenied".into() }],
            },
            vec![
                PermissionTest { action: "s3:GetObject".into(), decision: "allowed".into(), detail: "allowed".into() },
                PermissionTest {
                    action: "iam:CreateUser".into(),
                    decision: "denied".into(),
                    detail: "explicitDeny".into(),
                },
            ],
        )
    }

    #[test]
    fn events_table_and_json() {
        insta::assert_snapshot!("events_table", format_events(&events(), HistorySource::CloudTrail, 10, false));
        insta::assert_snapshot!(
            "events_table_verbose",
            format_events(&events(), HistorySource::CloudWatchLogs, 1, true)
        );
        insta::assert_json_snapshot!("events_json", events());
    }

    #[test]
    fn resources_table_and_json() {
        insta::assert_snapshot!("resources_table", format_resources(&resources(), true));
        insta::assert_json_snapshot!("resources_json", resources());
    }

    #[test]
    fn permissions_table_and_json() {
        let (p, t) = permissions();
        insta::assert_snapshot!("permissions_table", format_permissions(&p, Some(&t)));
        insta::assert_json_snapshot!("permissions_json", p);
    }
}
