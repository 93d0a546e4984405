import Database from 'better-sqlite3';
import { resolve } from 'node:path';

/**
 * Takes the file's lock: an exclusive lock on a small SQLite file beside it, held while the store
 * is open and released by the operating system if the process dies. Two server processes on one
 * file would each think their generations were the only ones.
 */
export function lockFile(filename: string): Database.Database {
  const lock = new Database(`${filename}.lock`);
  try {
    lock.pragma('busy_timeout = 0');
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS owner (pid INTEGER); COMMIT');
    return lock;
  } catch (error) {
    lock.close();
    if ((error as { code?: unknown }).code !== 'SQLITE_BUSY') throw error;
    throw new Error(
      `${resolve(filename)} is in use by another Concord server; one server process owns a SQLite file (use PostgreSQL for several)`,
    );
  }
}
