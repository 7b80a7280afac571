//! The user pool as a directory an admin manages: list and invite users, add them to and remove
//! them from groups, disable and enable them (Cognito's Admin* APIs).

use super::is_unreachable;
use app::domain::people::AccountStatus;
use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cognitoidentityprovider::types::{AttributeType, DeliveryMediumType, UserStatusType, UserType};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryUser {
    pub username: String,
    pub email: Option<String>,
    pub status: AccountStatus,
}

pub struct UserPage {
    pub users: Vec<DirectoryUser>,
    pub next_page: Option<String>,
}

pub struct NewUser<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub temporary_password: Option<&'a str>,
}

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("there is no such user")]
    UnknownUser,
    #[error("the username is taken")]
    UsernameTaken,
    /// Cognito refused the request's content; its message is for the admin.
    #[error("{0}")]
    Refused(String),
    #[error("the user pool is unreachable")]
    Unavailable(#[source] anyhow::Error),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

#[async_trait::async_trait]
pub trait Directory: Send + Sync {
    /// One page of users; `search` is a username prefix, or an e-mail prefix when it has an `@`.
    async fn list_users(&self, search: Option<&str>, page: Option<&str>) -> Result<UserPage, DirectoryError>;
    async fn user(&self, username: &str) -> Result<DirectoryUser, DirectoryError>;
    /// The user's group names.
    async fn groups_of(&self, username: &str) -> Result<Vec<String>, DirectoryError>;
    /// The usernames in a group.
    async fn members_of(&self, group: &str) -> Result<Vec<DirectoryUser>, DirectoryError>;
    /// AdminCreateUser: Cognito e-mails the temporary password.
    async fn create_user(&self, user: &NewUser<'_>) -> Result<(), DirectoryError>;
    /// Creates the group; one that exists already is fine.
    async fn create_group(&self, name: &str, description: &str) -> Result<(), DirectoryError>;
    async fn add_to_group(&self, username: &str, group: &str) -> Result<(), DirectoryError>;
    async fn remove_from_group(&self, username: &str, group: &str) -> Result<(), DirectoryError>;
    async fn set_enabled(&self, username: &str, enabled: bool) -> Result<(), DirectoryError>;
    /// Invalidates every refresh token of the user (AdminUserGlobalSignOut).
    async fn sign_out_everywhere(&self, username: &str) -> Result<(), DirectoryError>;
}

pub struct CognitoDirectory {
    client: Client,
    user_pool_id: String,
}

impl CognitoDirectory {
    pub fn new(sdk: &aws_config::SdkConfig, user_pool_id: String) -> Self {
        CognitoDirectory { client: crate::aws::call_metrics::client!(aws_sdk_cognitoidentityprovider, sdk), user_pool_id }
    }
}

/// Cognito's answer as a `DirectoryError`: the error code decides, the message explains.
fn classify<E, R>(operation: &'static str, error: SdkError<E, R>) -> DirectoryError
where
    E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    if is_unreachable(&error) {
        return DirectoryError::Unavailable(anyhow::Error::new(error).context(format!("Failed to call {operation}")));
    }
    let code = error.code().unwrap_or_default().to_owned();
    let message = error.message().unwrap_or("no message").to_owned();
    match code.as_str() {
        "UserNotFoundException" => DirectoryError::UnknownUser,
        "UsernameExistsException" => DirectoryError::UsernameTaken,
        "InvalidParameterException" | "InvalidPasswordException" | "ResourceNotFoundException" => DirectoryError::Refused(message),
        "TooManyRequestsException" | "InternalErrorException" | "LimitExceededException" => {
            DirectoryError::Unavailable(anyhow::anyhow!("{operation}: {code}: {message}"))
        }
        _ => DirectoryError::Unexpected(anyhow::anyhow!("{operation} failed: {code}: {message}")),
    }
}

fn status_of(status: Option<&UserStatusType>, enabled: bool) -> AccountStatus {
    match status {
        _ if !enabled => AccountStatus::Disabled,
        Some(UserStatusType::Confirmed) => AccountStatus::Confirmed,
        Some(UserStatusType::ForceChangePassword) => AccountStatus::MustChangePassword,
        Some(other) => AccountStatus::Other(other.as_str().to_owned()),
        None => AccountStatus::Other("unknown".into()),
    }
}

fn email_of(attributes: &[AttributeType]) -> Option<String> {
    attributes.iter().find(|a| a.name() == "email").and_then(|a| a.value()).map(str::to_owned)
}

fn from_user_type(user: &UserType) -> Option<DirectoryUser> {
    Some(DirectoryUser {
        username: user.username()?.to_owned(),
        email: email_of(user.attributes()),
        status: status_of(user.user_status(), user.enabled()),
    })
}

/// A Cognito filter value: the search text with its quotes and backslashes escaped.
fn filter_for(search: &str) -> String {
    let attribute = if search.contains('@') { "email" } else { "username" };
    let escaped = search.replace('\\', "\\\\").replace('"', "\\\"");
    format!("{attribute} ^= \"{escaped}\"")
}

#[async_trait::async_trait]
impl Directory for CognitoDirectory {
    #[tracing::instrument(skip(self))]
    async fn list_users(&self, search: Option<&str>, page: Option<&str>) -> Result<UserPage, DirectoryError> {
        let response = self
            .client
            .list_users()
            .user_pool_id(&self.user_pool_id)
            .limit(25)
            .set_filter(search.map(filter_for))
            .set_pagination_token(page.map(str::to_owned))
            .send()
            .await
            .map_err(|e| classify("ListUsers", e))?;
        Ok(UserPage {
            users: response.users().iter().filter_map(from_user_type).collect(),
            next_page: response.pagination_token().map(str::to_owned),
        })
    }

    #[tracing::instrument(skip(self))]
    async fn user(&self, username: &str) -> Result<DirectoryUser, DirectoryError> {
        let user = self
            .client
            .admin_get_user()
            .user_pool_id(&self.user_pool_id)
            .username(username)
            .send()
            .await
            .map_err(|e| classify("AdminGetUser", e))?;
        Ok(DirectoryUser {
            username: user.username().to_owned(),
            email: email_of(user.user_attributes()),
            status: status_of(user.user_status(), user.enabled()),
        })
    }

    #[tracing::instrument(skip(self))]
    async fn groups_of(&self, username: &str) -> Result<Vec<String>, DirectoryError> {
        let mut groups = Vec::new();
        let mut next = None;
        loop {
            let response = self
                .client
                .admin_list_groups_for_user()
                .user_pool_id(&self.user_pool_id)
                .username(username)
                .limit(60)
                .set_next_token(next)
                .send()
                .await
                .map_err(|e| classify("AdminListGroupsForUser", e))?;
            groups.extend(response.groups().iter().filter_map(|g| g.group_name()).map(str::to_owned));
            next = response.next_token().map(str::to_owned);
            if next.is_none() {
                return Ok(groups);
            }
        }
    }

    #[tracing::instrument(skip(self))]
    async fn members_of(&self, group: &str) -> Result<Vec<DirectoryUser>, DirectoryError> {
        let mut users = Vec::new();
        let mut next = None;
        loop {
            let response = self
                .client
                .list_users_in_group()
                .user_pool_id(&self.user_pool_id)
                .group_name(group)
                .limit(60)
                .set_next_token(next)
                .send()
                .await
                .map_err(|e| classify("ListUsersInGroup", e))?;
            users.extend(response.users().iter().filter_map(from_user_type));
            next = response.next_token().map(str::to_owned);
            if next.is_none() {
                return Ok(users);
            }
        }
    }

    #[tracing::instrument(skip(self, user), fields(username = user.username))]
    async fn create_user(&self, user: &NewUser<'_>) -> Result<(), DirectoryError> {
        let attribute = |name: &str, value: &str| AttributeType::builder().name(name).value(value).build();
        let email = attribute("email", user.email).map_err(|e| DirectoryError::Unexpected(e.into()))?;
        let verified = attribute("email_verified", "true").map_err(|e| DirectoryError::Unexpected(e.into()))?;
        self.client
            .admin_create_user()
            .user_pool_id(&self.user_pool_id)
            .username(user.username)
            .user_attributes(email)
            .user_attributes(verified)
            .desired_delivery_mediums(DeliveryMediumType::Email)
            .set_temporary_password(user.temporary_password.map(str::to_owned))
            .send()
            .await
            .map_err(|e| classify("AdminCreateUser", e))?;
        Ok(())
    }

    #[tracing::instrument(skip(self))]
    async fn create_group(&self, name: &str, description: &str) -> Result<(), DirectoryError> {
        let created = self.client.create_group().user_pool_id(&self.user_pool_id).group_name(name).description(description).send().await;
        match created {
            Ok(_) => Ok(()),
            Err(error) if error.code() == Some("GroupExistsException") => Ok(()),
            Err(error) => Err(classify("CreateGroup", error)),
        }
    }

    #[tracing::instrument(skip(self))]
    async fn add_to_group(&self, username: &str, group: &str) -> Result<(), DirectoryError> {
        self.client
            .admin_add_user_to_group()
            .user_pool_id(&self.user_pool_id)
            .username(username)
            .group_name(group)
            .send()
            .await
            .map_err(|e| classify("AdminAddUserToGroup", e))?;
        Ok(())
    }

    #[tracing::instrument(skip(self))]
    async fn remove_from_group(&self, username: &str, group: &str) -> Result<(), DirectoryError> {
        self.client
            .admin_remove_user_from_group()
            .user_pool_id(&self.user_pool_id)
            .username(username)
            .group_name(group)
            .send()
            .await
            .map_err(|e| classify("AdminRemoveUserFromGroup", e))?;
        Ok(())
    }

    #[tracing::instrument(skip(self))]
    async fn set_enabled(&self, username: &str, enabled: bool) -> Result<(), DirectoryError> {
        if enabled {
            self.client
                .admin_enable_user()
                .user_pool_id(&self.user_pool_id)
                .username(username)
                .send()
                .await
                .map_err(|e| classify("AdminEnableUser", e))?;
        } else {
            self.client
                .admin_disable_user()
                .user_pool_id(&self.user_pool_id)
                .username(username)
                .send()
                .await
                .map_err(|e| classify("AdminDisableUser", e))?;
        }
        Ok(())
    }

    #[tracing::instrument(skip(self))]
    async fn sign_out_everywhere(&self, username: &str) -> Result<(), DirectoryError> {
        self.client
            .admin_user_global_sign_out()
            .user_pool_id(&self.user_pool_id)
            .username(username)
            .send()
            .await
            .map_err(|e| classify("AdminUserGlobalSignOut", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::filter_for;

    #[test]
    fn searches_by_username_or_email_prefix_with_quotes_escaped() {
        assert_eq!(filter_for("ad"), "username ^= \"ad\"");
        assert_eq!(filter_for("ada@uni"), "email ^= \"ada@uni\"");
        assert_eq!(filter_for("a\"b"), "username ^= \"a\\\"b\"");
    }
}
