pub mod admin;
pub mod errors;
pub mod landing;
pub mod layout;
pub mod new_password;
pub mod team_catalog;
pub mod team_home;
pub mod teams;
