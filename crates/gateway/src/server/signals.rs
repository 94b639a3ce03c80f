//! Unix signals to [`ServerHandle`] calls: SIGHUP reloads, SIGTERM and Ctrl-C (SIGINT)
//! shut down gracefully.

use super::ServerHandle;

/// Spawns a task that turns signals into reloads and shutdowns for `handle`.
///
/// # Errors
///
/// The error from installing a signal handler.
pub fn install(handle: ServerHandle) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hangup = signal(SignalKind::hangup())?;
        let mut terminate = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = hangup.recv() => {
                        tracing::info!(target: "tollgate::server", "SIGHUP: reloading the configuration");
                        // The outcome is logged by `reload`.
                        let _ = handle.reload();
                    }
                    _ = terminate.recv() => {
                        handle.shutdown();
                        break;
                    }
                    _ = interrupt.recv() => {
                        handle.shutdown();
                        break;
                    }
                }
            }
        });
    }
    #[cfg(not(unix))]
    {
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                handle.shutdown();
            }
        });
    }
    Ok(())
}
