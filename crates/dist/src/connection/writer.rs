//! The writer task: writes what senders queued in the outbox in as few `write` calls as
//! possible, sends ticks on an idle connection, closes a silent one, and on a close of ours
//! delivers what was queued before it.

use super::{until_closed, CloseReason, ConnectionConfig, Shared};
use crate::frame;
use crate::outbox::Outbox;
use bytes::BytesMut;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncWrite, AsyncWriteExt};

pub(super) async fn writer<W: AsyncWrite + Unpin>(
    mut wr: W,
    shared: Arc<Shared>,
    cfg: ConnectionConfig,
) {
    let mut shutdown = shared.shutdown.subscribe();
    let slot = (cfg.net_ticktime / 4).max(Duration::from_millis(10));
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + slot, slot);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut wrote = false;
    let mut silent_slots = 0u32;
    let mut batch = BytesMut::with_capacity(64 * 1024);
    loop {
        tokio::select! {
            biased;
            _ = until_closed(&mut shutdown) => break,
            _ = shared.outbox.wake.notified() => {
                // Let the tasks that are ready to run now (senders woken by the same burst of
                // input, a server working through its mailbox) add to this batch first: fewer,
                // larger writes. With nothing else ready this returns at once.
                tokio::task::yield_now().await;
                // Everything queued so far goes out in one write.
                match flush(&mut wr, &shared.outbox, &mut batch).await {
                    Ok(false) => continue,
                    Ok(true) => {}
                    Err(e) => {
                        shared.close(CloseReason::Io(e.to_string()));
                        break;
                    }
                }
                if let Some(b) = &cfg.busy_wait {
                    b.touch();
                }
                wrote = true;
            }
            _ = ticker.tick() => {
                if !wrote {
                    // Through the outbox like every other byte: its lock and in-flight count
                    // are what keep senders' early writes from cutting into a partial write.
                    shared.outbox.push(|q| frame::put_tick(&mut q.buf));
                    if let Err(e) = flush(&mut wr, &shared.outbox, &mut batch).await {
                        shared.close(CloseReason::Io(e.to_string()));
                        break;
                    }
                }
                wrote = false;
                if shared.read_activity.swap(false, Ordering::Relaxed) {
                    silent_slots = 0;
                } else {
                    silent_slots += 1;
                    if silent_slots >= 4 {
                        shared.close(CloseReason::NetTickTimeout);
                        break;
                    }
                }
            }
        }
    }
    // A close of ours (disconnect, node stop) comes after sends that processes already made:
    // deliver what is queued, so that a node that sends and then stops loses nothing. A broken
    // or silent connection (any other reason) has no one to deliver to.
    if shared.reason() == CloseReason::ClosedByUs {
        shared.outbox.take(&mut batch);
        if !batch.is_empty() {
            let _ = tokio::time::timeout(FLUSH_ON_CLOSE, wr.write_all(&batch)).await;
        }
    }
    let _ = wr.shutdown().await;
}

/// Writes everything queued in the outbox, if anything: whether there was.
async fn flush<W: AsyncWrite + Unpin>(
    wr: &mut W,
    outbox: &Outbox,
    batch: &mut BytesMut,
) -> std::io::Result<bool> {
    outbox.take(batch);
    if batch.is_empty() {
        return Ok(false);
    }
    write_out(wr, batch, outbox).await?;
    Ok(true)
}

/// `write_all`, telling the outbox after every partial write how much is left, so that a
/// sender suspended on a busy connection resumes as soon as it is below the limit again, while
/// the rest is still being written (the socket stays busy).
async fn write_out<W: AsyncWrite + Unpin>(
    wr: &mut W,
    batch: &[u8],
    outbox: &Outbox,
) -> std::io::Result<()> {
    let mut at = 0;
    while at < batch.len() {
        match wr.write(&batch[at..]).await? {
            0 => return Err(std::io::ErrorKind::WriteZero.into()),
            n => at += n,
        }
        outbox.written(batch.len() - at);
    }
    Ok(())
}

/// How long a closing writer may take to deliver what was queued before the close.
const FLUSH_ON_CLOSE: Duration = Duration::from_secs(2);
