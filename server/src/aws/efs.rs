//! Each person's home on a team's file system: an EFS access point rooted at `/home/<user>`,
//! entered as the person's own POSIX user, made in the team's account through the team's role.

use super::provisioning::{ProvisionError, classify};
use super::team_role::{TeamRole, TeamSessions};
use aws_sdk_efs::types::{CreationInfo, PosixUser, RootDirectory};

/// The role session homes are made and removed with.
const SESSION: &str = "atrium-homes";

#[async_trait::async_trait]
pub trait HomeDirectories: Send + Sync {
    /// Makes the person's access point on the file system: its id. The same person asking again
    /// (a retry after the first answer was lost) gets the access point made then.
    async fn create_home(&self, role: &TeamRole, file_system: &str, username: &str, uid: u32) -> Result<String, ProvisionError>;
    /// Removes an access point (the files it reached stay on the file system).
    async fn remove_home(&self, role: &TeamRole, access_point: &str) -> Result<(), ProvisionError>;
}

pub struct EfsHomes {
    sessions: TeamSessions,
}

impl EfsHomes {
    pub fn new(sessions: impl Into<TeamSessions>) -> Self {
        EfsHomes { sessions: sessions.into() }
    }

    async fn client(&self, role: &TeamRole) -> Result<aws_sdk_efs::Client, ProvisionError> {
        Ok(crate::aws::call_metrics::client!(aws_sdk_efs, &self.sessions.config(role, SESSION).await?))
    }
}

/// A person's home directory on the file system: `/home/<username>` when the name makes a
/// plain path segment EFS takes, else `/home/u<uid>`.
pub fn home_path(username: &str, uid: u32) -> String {
    let plain = (1..=64).contains(&username.len())
        && username.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        && !username.starts_with('.');
    if plain { format!("/home/{username}") } else { format!("/home/u{uid}") }
}

fn invalid(error: aws_smithy_types::error::operation::BuildError) -> ProvisionError {
    ProvisionError::Retryable(anyhow::Error::new(error))
}

#[async_trait::async_trait]
impl HomeDirectories for EfsHomes {
    #[tracing::instrument(skip(self, role))]
    async fn create_home(&self, role: &TeamRole, file_system: &str, username: &str, uid: u32) -> Result<String, ProvisionError> {
        let path = home_path(username, uid);
        let uid = i64::from(uid);
        let owner = CreationInfo::builder().owner_uid(uid).owner_gid(uid).permissions("0700").build().map_err(invalid)?;
        let created = self
            .client(role)
            .await?
            .create_access_point()
            // The person's uid is theirs alone: a retry makes no second access point.
            .client_token(format!("atrium-home-{uid}"))
            .file_system_id(file_system)
            .posix_user(PosixUser::builder().uid(uid).gid(uid).build().map_err(invalid)?)
            .root_directory(RootDirectory::builder().path(path).creation_info(owner).build())
            .send()
            .await;
        match created {
            Ok(created) => {
                created.access_point_id.ok_or_else(|| ProvisionError::Retryable(anyhow::anyhow!("EFS returned no access point id")))
            }
            Err(error) => {
                // Made already, by a first try whose answer was lost: that one is the home.
                if let Some(aws_sdk_efs::operation::create_access_point::CreateAccessPointError::AccessPointAlreadyExists(made)) =
                    error.as_service_error()
                {
                    return Ok(made.access_point_id().to_owned());
                }
                let code = error.as_service_error().and_then(aws_sdk_efs::error::ProvideErrorMetadata::code).unwrap_or_default();
                if code == "AccessPointLimitExceeded" {
                    return Err(ProvisionError::Rejected(
                        "The team's file system has as many access points as EFS allows: an administrator removes the homes of people \
                         who left (on /admin/teams) to make room."
                            .into(),
                    ));
                }
                Err(classify(error))
            }
        }
    }

    #[tracing::instrument(skip(self, role))]
    async fn remove_home(&self, role: &TeamRole, access_point: &str) -> Result<(), ProvisionError> {
        match self.client(role).await?.delete_access_point().access_point_id(access_point).send().await {
            Ok(_) => Ok(()),
            // Gone already: removed is what was asked for.
            Err(error) if error.as_service_error().is_some_and(|e| e.is_access_point_not_found()) => Ok(()),
            Err(error) => Err(classify(error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::home_path;

    #[test]
    fn a_home_is_named_after_its_person_when_the_name_makes_a_plain_path() {
        assert_eq!(home_path("ada", 20_000), "/home/ada");
        assert_eq!(home_path("jean-luc.picard_2", 20_001), "/home/jean-luc.picard_2");
        // Never inside another person's home, never hidden, never over EFS's limits.
        assert_eq!(home_path("ada/../grace", 20_002), "/home/u20002");
        assert_eq!(home_path(".profile", 20_003), "/home/u20003");
        assert_eq!(home_path(&"x".repeat(65), 20_004), "/home/u20004");
        assert_eq!(home_path("josé", 20_005), "/home/u20005");
    }
}
