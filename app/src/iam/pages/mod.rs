mod access;
mod profile;
mod sessions;
mod teams;
mod tokens;

pub use profile::ProfilePage;
pub use access::AccessPanels;
pub use teams::TeamsPage;
