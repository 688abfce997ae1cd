//! One LISTEN per process for deploy events, fanned out to every live view in it (so a
//! thousand open deploy pages cost one database connection, not a thousand).
use app::deploys::repo::EVENTS_CHANNEL;
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use std::time::Duration;
use tokio::sync::broadcast;
use uuid::Uuid;

/// Starts the listener; its sender is what live views subscribe to.
pub fn spawn(pool: PgPool) -> broadcast::Sender<Uuid> {
    let (tx, _) = broadcast::channel(1024);
    let sender = tx.clone();
    tokio::spawn(async move {
        loop {
            match listen(&pool, &sender).await {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "deploy events listener lost its connection; reconnecting");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    });
    tx
}

async fn listen(pool: &PgPool, tx: &broadcast::Sender<Uuid>) -> Result<(), sqlx::Error> {
    let mut l = PgListener::connect_with(pool).await?;
    l.listen(EVENTS_CHANNEL).await?;
    loop {
        let n = l.recv().await?;
        if let Ok(id) = n.payload().parse::<Uuid>() {
            // nobody listening is fine
            let _ = tx.send(id);
        }
    }
}
