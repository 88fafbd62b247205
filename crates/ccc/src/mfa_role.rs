//! A role profile that names `mfa_serial`: AssumeRole needs the MFA device's serial number
//! and a code only a person can give. The credential engine (cloud-sessions) assumes it with
//! the code ccc's one prompt set (`Ctx::assume_with_mfa_code`); without one, its refresh fails
//! as "needs a person" (`NotAuthorized`), which `ccc creds` turns into one prompt on the
//! terminal for every process asking at once, or one line naming what to run.

/// The role and MFA device of a role profile that names `mfa_serial`.
pub fn role_and_device(p: &cred_store::Profile) -> Option<(String, String)> {
    Some((p.role_arn.clone()?, p.other.get("mfa_serial")?.clone()))
}
