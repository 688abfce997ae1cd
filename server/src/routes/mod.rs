pub mod audit_csv;
pub mod health;
