pub mod audit_csv;
pub mod health;
pub mod deploy_stream;
