//! What each user chooses for themselves on `/settings`.

use serde::{Deserialize, Serialize};

/// Whether signing out stops the user's running workspaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum SignOutStop {
    /// As each workspace's configuration says.
    AsConfigured,
    Always,
    Never,
}

impl SignOutStop {
    pub const ALL: [SignOutStop; 3] = [SignOutStop::AsConfigured, SignOutStop::Always, SignOutStop::Never];

    pub fn as_str(self) -> &'static str {
        match self {
            SignOutStop::AsConfigured => "as-configured",
            SignOutStop::Always => "always",
            SignOutStop::Never => "never",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SignOutStop::AsConfigured => "As each workspace's configuration says",
            SignOutStop::Always => "Always stop my running workspaces when I sign out",
            SignOutStop::Never => "Never stop them when I sign out",
        }
    }

    pub fn parse(raw: &str) -> Option<SignOutStop> {
        SignOutStop::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// As stored: `None` follows the configuration.
    pub fn stored(self) -> Option<bool> {
        match self {
            SignOutStop::AsConfigured => None,
            SignOutStop::Always => Some(true),
            SignOutStop::Never => Some(false),
        }
    }

    pub fn from_stored(stored: Option<bool>) -> SignOutStop {
        match stored {
            None => SignOutStop::AsConfigured,
            Some(true) => SignOutStop::Always,
            Some(false) => SignOutStop::Never,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserSettings {
    pub stop_on_sign_out: SignOutStop,
    /// The e-mail they want: idle warnings and stop notices of their workspaces, health
    /// alarms, budget alerts (for team admins and admins).
    pub mail_workspace: bool,
    pub mail_health: bool,
    pub mail_budget: bool,
    /// Where it goes, if the portal knows an address.
    pub email: Option<String>,
}

/// The settings form as submitted: a choice's name and checked boxes ("on").
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SettingsForm {
    pub stop_on_sign_out: String,
    pub mail_workspace: String,
    pub mail_health: String,
    pub mail_budget: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_choice_round_trips_through_its_name_and_its_stored_form() {
        for choice in SignOutStop::ALL {
            assert_eq!(SignOutStop::parse(choice.as_str()), Some(choice));
            assert_eq!(SignOutStop::from_stored(choice.stored()), choice);
        }
        assert_eq!(SignOutStop::parse("sometimes"), None);
    }
}
