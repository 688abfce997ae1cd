//! Reading input from outside Switchyard (descriptor YAML today; GraphML, OpenLineage and
//! NetBox JSON as they come): under limits that stop a reader as soon as one is crossed, on a
//! blocking thread (never an async worker), a few at a time, with a deadline — and before the
//! request takes a database connection. A refusal names the limit: 413 for size, 422 for the
//! rest.
use crate::error::FieldProblem;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// What one request's outside input may cost to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes in all (beyond: 413).
    pub max_bytes: usize,
    /// Files in all.
    pub max_files: usize,
    /// Nesting of mappings and sequences.
    pub max_depth: usize,
    /// Documents in all files together.
    pub max_documents: usize,
    /// Values (mappings, sequences and scalars) in all files together.
    pub max_nodes: usize,
    /// How long reading may take, waiting for a reader included.
    pub deadline: Duration,
}

/// Backstage descriptors: generous for real catalogs (Backstage's example catalog is 81
/// entities, about 2,500 values, nested 6 deep), small enough that a hostile file costs little.
/// Anchors may be defined but aliases (`*name`) are refused: no descriptor seen uses them, and
/// they are how a small file expands into a large one.
pub const DESCRIPTORS: Limits = Limits {
    max_bytes: 2 * 1024 * 1024,
    max_files: 5_000,
    max_depth: 32,
    max_documents: 10_000,
    max_nodes: 250_000,
    deadline: Duration::from_secs(10),
};

/// At most this many readers at once (the machine's cores); others wait their turn.
static READERS: LazyLock<Arc<Semaphore>> =
    LazyLock::new(|| Arc::new(Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))));

/// Why outside input was refused, naming the input and the limit.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Over its size limit (a 413 at the edge).
    #[error(transparent)]
    TooLarge(FieldProblem),
    /// Over another limit (nesting, documents, values, aliases) or past the deadline.
    #[error(transparent)]
    OverLimit(FieldProblem),
    /// The reader itself failed (not the input's fault).
    #[error("reading failed: {0}")]
    Failed(String),
}

/// A refusal for input over its size limit.
pub fn too_large(field: &str, message: impl Into<String>) -> ReadError {
    ReadError::TooLarge(FieldProblem::new(field, message))
}

fn over_limit(field: &str, message: impl Into<String>) -> ReadError {
    ReadError::OverLimit(FieldProblem::new(field, message))
}

/// When reading must have ended; readers check it between pieces of work.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    at: Instant,
    limit: Duration,
}

impl Deadline {
    /// The deadline of a reader starting now (for reading outside `off_thread`).
    pub fn from_now(limits: &Limits) -> Self {
        Deadline { at: Instant::now() + limits.deadline, limit: limits.deadline }
    }

    pub fn check(&self, field: &str) -> Result<(), ReadError> {
        if Instant::now() > self.at {
            return Err(over_limit(field, self.message()));
        }
        Ok(())
    }

    fn message(&self) -> String {
        format!("reading took longer than {} s, the most one request may take; send the files in smaller parts", self.limit.as_secs())
    }
}

/// Runs `read` on a blocking thread once a reader is free, and gives up at the deadline (the
/// reader stops at its next check). The async workers stay free for other requests meanwhile.
pub async fn off_thread<T: Send + 'static>(
    limits: &Limits,
    field: &str,
    read: impl FnOnce(Deadline) -> Result<T, ReadError> + Send + 'static,
) -> Result<T, ReadError> {
    let deadline = Deadline::from_now(limits);
    let work = async {
        let permit = READERS.clone().acquire_owned().await.map_err(|e| ReadError::Failed(e.to_string()))?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit; // held while reading
            read(deadline)
        })
        .await
        .map_err(|e| ReadError::Failed(e.to_string()))?
    };
    tokio::time::timeout(limits.deadline, work).await.unwrap_or_else(|_| Err(over_limit(field, deadline.message())))
}

/// Checks the count and total size of the files before anything is read.
pub fn check_sizes(limits: &Limits, field: &str, sizes: impl IntoIterator<Item = usize>) -> Result<(), ReadError> {
    let (mut files, mut bytes) = (0usize, 0usize);
    for size in sizes {
        files += 1;
        bytes += size;
    }
    if files > limits.max_files {
        return Err(too_large(field, format!("{files} files given; one request takes at most {}", limits.max_files)));
    }
    if bytes > limits.max_bytes {
        return Err(too_large(field, format!("{bytes} bytes given; one request takes at most {} ({} MiB)", limits.max_bytes, limits.max_bytes >> 20)));
    }
    Ok(())
}

/// What has been read so far, across the files of one request.
#[derive(Debug, Default)]
pub struct Used {
    documents: usize,
    nodes: usize,
}

/// The documents of one YAML file, as JSON values. `Err` is a refusal of the whole request (a
/// limit crossed); `Ok(Err(..))` is a file that is not YAML, said with the line and column.
pub fn yaml_documents(
    path: &str,
    text: &str,
    limits: &Limits,
    used: &mut Used,
) -> Result<Result<Vec<serde_json::Value>, String>, ReadError> {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = limits.max_depth;
    // flow collections (`[[[…`) are counted by the scanner before any event: the same limit
    budget.flow_nesting_limit = limits.max_depth;
    budget.max_documents = limits.max_documents.saturating_sub(used.documents);
    budget.max_nodes = limits.max_nodes.saturating_sub(used.nodes);
    budget.max_events = budget.max_nodes.saturating_mul(4).saturating_add(16);
    budget.max_aliases = 0;
    budget.max_total_scalar_bytes = limits.max_bytes;
    budget.max_merge_keys = 0;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    // YAML 1.2's booleans only (`y`, `on`, `no` stay text, as in Backstage), no source snippets
    options.strict_booleans = true;
    options.with_snippet = false;
    let mut alias_limits = serde_saphyr::options::AliasLimits::default();
    alias_limits.max_total_replayed_events = 0;
    options.alias_limits = alias_limits;
    match serde_saphyr::from_multiple_with_options::<serde_json::Value>(text, options) {
        Ok(docs) => {
            used.documents += docs.len();
            used.nodes += docs.iter().map(count_nodes).sum::<usize>();
            Ok(Ok(docs))
        }
        Err(e) => match breach(&e, limits) {
            Some(limit) => Err(over_limit(path, limit)),
            None => Ok(Err(e.to_string())),
        },
    }
}

fn count_nodes(v: &serde_json::Value) -> usize {
    match v {
        serde_json::Value::Array(items) => 1 + items.iter().map(count_nodes).sum::<usize>(),
        serde_json::Value::Object(map) => 1 + map.values().map(|v| 1 + count_nodes(v)).sum::<usize>(),
        _ => 1,
    }
}

/// The limit a reader's error reports crossing, said for people; `None` for a syntax error.
fn breach(mut e: &serde_saphyr::Error, limits: &Limits) -> Option<String> {
    use serde_saphyr::budget::BudgetBreach as B;
    use serde_saphyr::Error as E;
    while let E::WithSnippet { error, .. } | E::AliasError { error, .. } = e {
        e = error;
    }
    let aliases = "uses a YAML alias (*name); descriptors may not (write the value out)".to_owned();
    match e {
        E::Budget { breach, .. } => Some(match breach {
            B::Depth { .. } => format!("nests deeper than {} levels, the most a descriptor may", limits.max_depth),
            B::Documents { .. } => format!("brings the documents over {}, the most one request may hold", limits.max_documents),
            B::Nodes { .. } | B::Events { .. } => format!("brings the values over {}, the most one request may hold", limits.max_nodes),
            B::Aliases { .. } | B::MergeKeys { .. } => aliases,
            B::ScalarBytes { .. } => format!("holds more than {} bytes of text", limits.max_bytes),
            other => format!("is over a reading limit ({other:?})"),
        }),
        E::ExternalMessage { source, .. }
            if matches!(&**source, serde_saphyr::ExternalMessageSource::Parser(scan)
                if matches!(scan.kind(), serde_saphyr::granit_parser::ErrorKind::RecursionLimitExceeded)) =>
        {
            Some(format!("nests deeper than {} levels, the most a descriptor may", limits.max_depth))
        }
        E::AliasReplayLimitExceeded { .. } | E::AliasReplayStackDepthExceeded { .. } => Some(aliases),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Result<Vec<serde_json::Value>, String>, ReadError> {
        yaml_documents("a.yaml", text, &DESCRIPTORS, &mut Used::default())
    }

    #[test]
    fn a_descriptor_reads_as_json() {
        let docs = read("kind: Component\nmetadata: {name: a, tags: [x, y]}\n---\nkind: API\n").expect("within limits").expect("yaml");
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0]["metadata"]["tags"][1], "y");
    }

    #[test]
    fn deep_nesting_is_refused_naming_the_limit() {
        let text = "[".repeat(100_000);
        let r = read(&text);
        let Err(ReadError::OverLimit(FieldProblem { field, message })) = r else { panic!("not refused: {r:?}") };
        assert_eq!(field, "a.yaml");
        assert!(message.contains("deeper than 32 levels"), "{message}");
    }

    #[test]
    fn deep_block_nesting_is_refused_too() {
        let text: String = (0..40).map(|i| format!("{}k:\n", "  ".repeat(i))).collect::<String>() + &"  ".repeat(40) + "x\n";
        let Err(ReadError::OverLimit(FieldProblem { message, .. })) = read(&text) else { panic!("not refused") };
        assert!(message.contains("deeper than 32 levels"), "{message}");
    }

    #[test]
    fn booleans_are_yaml_1_2s() {
        let docs = read("tags: [y, n, on, off, yes, no, true]\n").expect("within limits").expect("yaml");
        assert_eq!(docs[0]["tags"], serde_json::json!(["y", "n", "on", "off", "yes", "no", true]));
    }

    #[test]
    fn aliases_are_refused() {
        let Err(ReadError::OverLimit(FieldProblem { message, .. })) = read("a: &big x\nb: [*big, *big]\n") else { panic!("not refused") };
        assert!(message.contains("alias"), "{message}");
    }

    #[test]
    fn the_node_budget_spans_files() {
        let limits = Limits { max_nodes: 10, ..DESCRIPTORS };
        let mut used = Used::default();
        assert!(yaml_documents("a.yaml", "[1, 2, 3, 4]", &limits, &mut used).expect("within").is_ok());
        let Err(ReadError::OverLimit(FieldProblem { field, message })) = yaml_documents("b.yaml", "[1, 2, 3, 4, 5, 6]", &limits, &mut used) else {
            panic!("the second file must cross the shared budget")
        };
        assert_eq!(field, "b.yaml");
        assert!(message.contains("over 10"), "{message}");
    }

    #[test]
    fn a_syntax_error_is_the_files_own() {
        let Ok(Err(message)) = read("a: [1, 2\n") else { panic!("a syntax error is not a limit") };
        assert!(!message.is_empty());
    }

    #[test]
    fn sizes_are_checked_before_reading() {
        let limits = Limits { max_files: 2, max_bytes: 100, ..DESCRIPTORS };
        assert!(check_sizes(&limits, "files", [10, 20]).is_ok());
        assert!(matches!(check_sizes(&limits, "files", [10, 20, 30]), Err(ReadError::TooLarge(_))));
        assert!(matches!(check_sizes(&limits, "files", [101]), Err(ReadError::TooLarge(_))));
    }
}
