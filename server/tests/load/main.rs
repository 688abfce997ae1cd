//! Switchyard under faults and load, as separate processes on a Postgres of the run's own:
//! the fault run (`chaos`: servers killed, Postgres restarted, nothing acknowledged lost or
//! doubled) and the soak (`soak`: a fixed offered rate for ten minutes, memory and latency
//! steady). `make test` runs the fault run's short version; `make chaos` and `make soak` the
//! whole ones (`--ignored`).

#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;

mod chaos;
mod harness;
mod soak;
