//! Calls handled in batches: calls that arrive while every handler is busy wait, and the next free
//! handler takes them all at once (up to a limit). With no load a batch is one call and waits for
//! nothing; under load one round trip serves many calls. The deploy queue writes kick-offs this way
//! (group commit).
use std::future::Future;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Semaphore};

/// One call in a batch: its input and where its answer goes (a dropped caller is no error).
pub struct Call<I, O> {
    pub input: I,
    pub answer: oneshot::Sender<O>,
}

impl<I, O> Call<I, O> {
    pub fn reply(self, output: O) {
        let _ = self.answer.send(output);
    }
}

/// The batcher is gone (its task ended: the runtime is shutting down).
#[derive(Debug, thiserror::Error)]
#[error("the {0} batcher has stopped")]
pub struct Stopped(pub &'static str);

/// A handle on a batcher; cheap to clone.
pub struct Batcher<I, O> {
    name: &'static str,
    calls: mpsc::Sender<Call<I, O>>,
}

impl<I, O> Clone for Batcher<I, O> {
    fn clone(&self) -> Self {
        Batcher { name: self.name, calls: self.calls.clone() }
    }
}

impl<I: Send + 'static, O: Send + 'static> Batcher<I, O> {
    /// Starts the task that hands batches of at most `most` calls to `handle`, `handlers` batches
    /// at a time. `handle` must answer every call of its batch. The task ends when the last
    /// handle is dropped.
    pub fn start<H, F>(name: &'static str, handlers: usize, most: usize, handle: H) -> Self
    where
        H: Fn(Vec<Call<I, O>>) -> F + Send + Sync + 'static,
        F: Future<Output = ()> + Send + 'static,
    {
        let (calls, mut waiting) = mpsc::channel::<Call<I, O>>(4 * most);
        tokio::spawn(async move {
            let free = Arc::new(Semaphore::new(handlers));
            while let Some(first) = waiting.recv().await {
                let Ok(handler) = free.clone().acquire_owned().await else { break };
                // what arrived while every handler was busy goes together
                let mut batch = vec![first];
                while batch.len() < most {
                    match waiting.try_recv() {
                        Ok(next) => batch.push(next),
                        Err(_) => break,
                    }
                }
                let done = handle(batch);
                tokio::spawn(async move {
                    done.await;
                    drop(handler);
                });
            }
        });
        Batcher { name, calls }
    }

    /// Queues `input` for the next batch and waits for its answer.
    pub async fn call(&self, input: I) -> Result<O, Stopped> {
        let (answer, output) = oneshot::channel();
        self.calls.send(Call { input, answer }).await.map_err(|_| Stopped(self.name))?;
        output.await.map_err(|_| Stopped(self.name))
    }
}
