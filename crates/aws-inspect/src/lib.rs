#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

mod error;
mod format;
mod history;
mod permissions;
mod resources;

pub use error::{InspectError, kind_of_code};
pub use format::{format_events, format_permissions, format_resources};
pub use history::{
    COGNITO_SESSION_NAME, DEFAULT_TRAIL_LOG_GROUP, Event, History, HistoryOptions, HistorySource, caller_history,
    cloudtrail_username, get_user_history, identity_history, user_history,
};
pub use permissions::{
    DEFAULT_TEST_ACTIONS, PartError, PermissionTest, PermissionsResult, PolicySummary, StatementSummary,
    get_user_permissions, simulation_arn, summarize_document, test_permissions,
};
pub use resources::{
    AccountRegions, DEFAULT_REGIONS, Progress, RegionFailure, RegionsFrom, ResourceOptions, ResourceResult,
    SkippedRegion, account_regions, list_user_resources, resource_type,
};
