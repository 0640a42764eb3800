/**
 * For tests only, and not exported by the package: the Store behind a Docket.
 * The Store-level conformance suite (test/conformance/store.ts) and the tests
 * that stall a store call as a frozen process would need the store itself;
 * everything in src/ goes through Docket's validated methods instead.
 */
import type { Store } from '../storage/store.js'

const stores = new WeakMap<object, Store>()

export function registerStore(docket: object, store: Store): void {
  stores.set(docket, store)
}

export function storeOf(docket: object): Store {
  const store = stores.get(docket)
  if (!store) throw new Error('not a Docket')
  return store
}
