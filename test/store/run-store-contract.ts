import { changePageContract } from './contract/change-pages';
import { checksumContract } from './contract/checksums';
import { commitEventContract } from './contract/commit-events';
import { partitionContract } from './contract/partitions';
import { purgeContract } from './contract/purge';
import { transactionContract } from './contract/transactions';
import type { StoreKind } from './store-fixtures';

/**
 * Every promise of the `Store` contract, as tests over one kind of store: run it over a store of
 * your own with `describe.each([kind])('$name store', runStoreContract)`.
 */
export function runStoreContract(kind: StoreKind): void {
  transactionContract(kind);
  changePageContract(kind);
  commitEventContract(kind);
  partitionContract(kind);
  purgeContract(kind);
  checksumContract(kind);
}
