import type pg from 'pg';

type Connection = pg.PoolClient | pg.Client;

export interface CommitChannel {
  /** Resolves once `LISTEN` is active: a commit after that is heard. */
  ready: Promise<void>;
  close(): Promise<void>;
}

/** How long to wait before listening again after the connection failed. */
const RECONNECT_MS = 1_000;

/**
 * Holds one connection that `LISTEN`s on `channel` and hands each notification's payload to
 * `onMessage`. PostgreSQL delivers a `NOTIFY` only when its transaction commits, to
 * every listening session of the database: this is how every server process hears every
 * commit. A lost connection is replaced; commits made while it was down are not replayed,
 * which is harmless for pokes (the next one, or the replica's interval, catches up).
 */
export function listenForCommits(
  connect: () => Promise<Connection>,
  channel: string,
  onMessage: (message: string) => void,
): CommitChannel {
  let client: Connection | undefined;
  let closed = false;
  let retry: ReturnType<typeof setTimeout> | undefined;
  const onNotification = (message: pg.Notification) => {
    if (message.channel === channel) onMessage(message.payload ?? '');
  };
  const drop = (connection: Connection, error?: Error) => {
    connection.off('notification', onNotification);
    if ('release' in connection) connection.release(error ?? true);
    else void connection.end().catch(() => undefined);
  };
  const retryLater = () => {
    if (!closed) retry = setTimeout(() => void start().catch(retryLater), RECONNECT_MS);
  };
  const start = async () => {
    const connection = await connect();
    connection.on('notification', onNotification);
    connection.on('error', (error) => {
      if (client !== connection) return;
      client = undefined;
      drop(connection, error);
      retryLater();
    });
    await connection.query(`LISTEN ${connection.escapeIdentifier(channel)}`);
    if (closed) return drop(connection);
    client = connection;
  };
  const ready = start();
  return {
    ready,
    async close() {
      closed = true;
      clearTimeout(retry);
      await ready.catch(() => undefined);
      const connection = client;
      client = undefined;
      // A pooled connection is destroyed rather than returned: no pooled session keeps listening.
      if (connection) drop(connection);
    },
  };
}
