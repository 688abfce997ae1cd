mod card;
mod detail;
mod inbox;

pub use detail::ApprovalPage;
pub use inbox::InboxPage;
