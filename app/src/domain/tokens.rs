//! Personal access tokens for the REST API (`/api/v1`): what a token may do, and the form that
//! creates one.

use crate::error::FieldError;
use serde::{Deserialize, Serialize};

/// What a token may be used for. A token never does more than its user may.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Read what the user may see: teams, workspaces, costs. Every token may; a token with
    /// only this scope is read-only.
    Read,
    /// Launch, stop, start, terminate, connect to, share and update workspaces.
    Workspaces,
    /// Study data: upload, delete, set writers, request and review imports and exports.
    Studies,
    /// The teams the user administers: add and remove members.
    Teams,
    /// The user's own settings and tokens (list and revoke; a token never makes tokens).
    Account,
    /// Admin endpoints (catalog, audit, teams, people, budgets, notifications), for admins only.
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 6] = [Scope::Read, Scope::Workspaces, Scope::Studies, Scope::Teams, Scope::Account, Scope::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Workspaces => "workspaces",
            Scope::Studies => "studies",
            Scope::Teams => "teams",
            Scope::Account => "account",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(raw: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    pub fn describe(self) -> &'static str {
        match self {
            Scope::Read => "read: see teams, workspaces and costs (every token may; alone, a read-only token)",
            Scope::Workspaces => "workspaces: launch, stop, start, terminate, connect, share and update",
            Scope::Studies => "studies: upload, delete and export study data, review imports and exports",
            Scope::Teams => "teams: add and remove members of the teams you administer",
            Scope::Account => "account: your settings, and list or revoke your tokens",
            Scope::Admin => "admin: the catalog, audit log, teams, people, budgets and notifications (admins only)",
        }
    }
}

/// The longest a token may live.
pub const MAX_TOKEN_DAYS: u32 = 90;

/// A token as its owner (or an admin) sees it: never the secret itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TokenView {
    pub id: i64,
    pub owner: String,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub created_at: String,
    pub expires_at: String,
    pub last_used_at: Option<String>,
    /// "active", "expired" or "revoked".
    pub status: String,
}

/// A token just created: the secret is shown this once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreatedToken {
    pub token: TokenView,
    pub secret: String,
}

/// The tokens page: the user's own, and everyone's for an admin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TokenList {
    pub mine: Vec<TokenView>,
    /// Every user's active tokens, for admins (who may revoke any); empty for others.
    pub everyone: Vec<TokenView>,
}

/// The "new token" form as submitted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TokenForm {
    pub name: String,
    pub days: String,
    pub scopes: Vec<String>,
}

/// A form that passed validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidTokenForm {
    pub name: String,
    pub days: u32,
    pub scopes: Vec<Scope>,
}

impl TokenForm {
    /// Checks each field; `admin` says whether the admin scope may be asked for.
    pub fn validate(&self, admin: bool) -> Result<ValidTokenForm, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
            errors.push(FieldError::new("name", "Give the token a name of 1 to 80 characters, e.g. the script that uses it."));
        }
        let days = self.days.trim().parse::<u32>().ok().filter(|d| (1..=MAX_TOKEN_DAYS).contains(d));
        if days.is_none() {
            errors.push(FieldError::new("days", format!("The token must expire in 1 to {MAX_TOKEN_DAYS} days.")));
        }
        let mut scopes = Vec::new();
        for raw in &self.scopes {
            match Scope::parse(raw.trim()) {
                Some(Scope::Admin) if !admin => {
                    errors.push(FieldError::new("scopes", "Only admins may create tokens with the admin scope."))
                }
                Some(scope) => scopes.push(scope),
                None => errors
                    .push(FieldError::new("scopes", format!("There is no scope called \"{}\".", raw.chars().take(40).collect::<String>()))),
            }
        }
        scopes.sort();
        scopes.dedup();
        if scopes.is_empty() && !errors.iter().any(|e| e.field == "scopes") {
            errors.push(FieldError::new("scopes", "Choose at least one scope."));
        }
        match days {
            Some(days) if errors.is_empty() => Ok(ValidTokenForm { name: name.to_owned(), days, scopes }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(name: &str, days: &str, scopes: &[&str]) -> TokenForm {
        TokenForm { name: name.into(), days: days.into(), scopes: scopes.iter().map(|s| s.to_string()).collect() }
    }

    #[test]
    fn a_token_lives_at_most_ninety_days_and_has_a_scope() {
        let valid = form(" notebook ", "90", &["workspaces", "read", "read"]).validate(false).expect("valid");
        assert_eq!(valid, ValidTokenForm { name: "notebook".into(), days: 90, scopes: vec![Scope::Read, Scope::Workspaces] });
        let fields = |f: TokenForm| f.validate(false).expect_err("invalid").into_iter().map(|e| e.field).collect::<Vec<_>>();
        assert_eq!(fields(form("x", "91", &["read"])), ["days"]);
        assert_eq!(fields(form("x", "0", &["read"])), ["days"]);
        assert_eq!(fields(form("", "30", &[])), ["name", "scopes"]);
        assert_eq!(fields(form("x", "30", &["root"])), ["scopes"]);
    }

    #[test]
    fn only_admins_may_ask_for_the_admin_scope() {
        assert!(form("x", "7", &["admin"]).validate(false).is_err());
        assert_eq!(form("x", "7", &["admin"]).validate(true).expect("valid").scopes, [Scope::Admin]);
    }
}
