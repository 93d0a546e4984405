/**
 * Asks once for persistent storage (`navigator.storage.persist()`, unless already granted):
 * without it the browser may evict the database. Undefined where unknown; never fails.
 */
export async function requestPersistence(storage: Partial<StorageManager> | undefined): Promise<boolean | undefined> {
  try {
    return (await storage?.persisted?.()) || (await storage?.persist?.());
  } catch {
    // Storage APIs can throw in private modes; persistence stays unknown.
    return undefined;
  }
}
