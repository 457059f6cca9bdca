/**
 * LISTEN on a connection of its own, kept: when the connection is lost (a
 * PostgreSQL restart, a failover), it reconnects with backoff and listens
 * again. Notifications sent while it was away are lost, so `onLost` and
 * `onRestored` let the owner stop trusting what it caches and catch up.
 */
import type pg from 'pg';

export interface ListenerHandlers {
  onNotification(channel: string, payload: string): void;
  /** The connection is gone: notifications may be missed from now on. */
  onLost?(): void;
  /** Listening again (after a loss): catch up on what may have been missed. */
  onRestored?(): void;
  onError?(error: unknown): void;
}

const MAX_BACKOFF_MS = 5000;

export class Listener {
  private client?: pg.PoolClient;
  private stopped = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly channels: string[],
    private readonly handlers: ListenerHandlers,
  ) {}

  /** Connects and listens (the first time must succeed: the server does not start without it). */
  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    const client = await this.pool.connect();
    let lost = false;
    const onLost = (error?: unknown) => {
      if (lost) return;
      lost = true;
      if (this.client === client) this.client = undefined;
      if (this.stopped) return; // stop() has released it
      client.release(error instanceof Error ? error : new Error('listener connection ended'));
      if (error) this.handlers.onError?.(error);
      this.handlers.onLost?.();
      void this.reconnect();
    };
    this.client = client;
    client.on('notification', (n) => this.handlers.onNotification(n.channel, n.payload ?? ''));
    client.on('error', onLost);
    client.on('end', () => onLost());
    try {
      for (const channel of this.channels) await client.query(`LISTEN ${channel}`);
    } catch (error) {
      // Not listening: given back; the caller (start, or the reconnect loop) decides what next.
      lost = true;
      this.client = undefined;
      client.release(error instanceof Error ? error : true);
      throw error;
    }
  }

  private async reconnect(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(MAX_BACKOFF_MS, 100 * 2 ** attempt)).unref());
      if (this.stopped) return;
      try {
        await this.connect();
        this.handlers.onRestored?.();
        return;
      } catch (error) {
        this.handlers.onError?.(error);
      }
    }
  }

  stop(): void {
    this.stopped = true;
    this.client?.release(true);
    this.client = undefined;
  }
}
