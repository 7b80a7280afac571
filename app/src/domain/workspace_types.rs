//! Workspace types: Service Catalog product versions an admin has imported, and whether they
//! may be launched (approved) or no longer (retired).

use super::parameters::ParameterSpec;
use serde::{Deserialize, Serialize};

/// A product in Service Catalog, as offered for import.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CatalogProduct {
    pub id: String,
    pub name: String,
    pub owner: String,
    pub description: String,
    pub versions: Vec<CatalogVersion>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CatalogVersion {
    pub id: String,
    pub name: String,
    pub description: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TypeStatus {
    /// Known to the portal, not yet launchable.
    Imported,
    /// Launchable through its configurations.
    Approved,
    /// No new launches; existing workspaces are untouched.
    Retired,
}

impl TypeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TypeStatus::Imported => "imported",
            TypeStatus::Approved => "approved",
            TypeStatus::Retired => "retired",
        }
    }

    pub fn parse(raw: &str) -> Option<TypeStatus> {
        [TypeStatus::Imported, TypeStatus::Approved, TypeStatus::Retired].into_iter().find(|s| s.as_str() == raw)
    }

    /// Approving and retiring are the two moves; each only from where it makes sense.
    pub fn can_become(self, next: TypeStatus) -> bool {
        matches!(
            (self, next),
            (TypeStatus::Imported | TypeStatus::Retired, TypeStatus::Approved)
                | (TypeStatus::Imported | TypeStatus::Approved, TypeStatus::Retired)
        )
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WorkspaceType {
    pub id: i64,
    pub product_id: String,
    pub product_name: String,
    pub version_id: String,
    pub version_name: String,
    pub description: String,
    pub status: TypeStatus,
    pub parameters: Vec<ParameterSpec>,
    /// The version has Stop and Start self-service actions; otherwise terminate only.
    pub has_stop_start: bool,
    /// "2026-12-31": its workspaces must move to a newer version by then.
    #[serde(default)]
    pub upgrade_by: Option<String>,
}

/// The admin's catalog page: what Service Catalog offers, what has been imported, the
/// configurations written for it, and the teams a configuration can be given to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CatalogOverview {
    pub products: Vec<CatalogProduct>,
    pub types: Vec<WorkspaceType>,
    pub configurations: Vec<super::configurations::Configuration>,
    pub teams: Vec<super::TeamSummary>,
}

#[cfg(test)]
mod tests {
    use super::TypeStatus::*;

    #[test]
    fn a_type_is_approved_or_retired_only_from_a_sensible_status() {
        assert!(Imported.can_become(Approved));
        assert!(Approved.can_become(Retired));
        assert!(Retired.can_become(Approved), "a retired version may be approved again");
        assert!(!Approved.can_become(Approved));
        assert!(!Retired.can_become(Retired));
        assert!(!Approved.can_become(Imported));
    }
}
