pub mod audit;
pub mod budgets;
pub mod catalog;
pub mod notifications;
pub mod people;
pub mod teams;
pub mod workspaces;
