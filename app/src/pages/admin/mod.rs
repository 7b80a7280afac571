pub mod audit;
pub mod catalog;
