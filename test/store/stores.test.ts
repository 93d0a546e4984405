import { describe } from 'vitest';
import { runStoreContract } from './run-store-contract';
import { storeKinds } from './store-fixtures';

describe.each(storeKinds)('$name store', runStoreContract);
