pub mod audit;
pub mod budgets;
pub mod catalog;
pub mod notifications;
