//! A role profile that names `mfa_serial`: AssumeRole needs the MFA device's serial number
//! and a code only a person can give. The credential engine (cloud-sessions) assumes it with
//! the code ccc's one prompt set (`Ctx::assume_with_mfa_code`); without one, its refresh fails
//! as "needs a person" (`NotAuthorized`), which `ccc creds` turns into one prompt on the
//! terminal for every process asking at once, or one line naming what to run.

/// What needs a code on a profile that names `mfa_serial`, and the device: its role
/// (`role ARN`), or, for a profile served from a key `ccc keys` keeps, that key's sessions.
pub fn role_and_device(p: &cred_store::Profile) -> Option<(String, String)> {
    let serial = p.other.get("mfa_serial")?.clone();
    match (&p.role_arn, &p.credential_process) {
        (Some(role), _) => Some((format!("role {role}"), serial)),
        (None, Some(process)) if process.contains("ccc") => Some(("the kept key's session".to_owned(), serial)),
        _ => None,
    }
}
