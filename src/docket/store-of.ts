/**
 * For tests only, and not exported by the package: the Store behind a Docket.
 * The Store-level conformance suite (test/conformance/store.ts) and the tests
 * that stall a store call as a frozen process would need the store itself;
 * everything in src/ goes through Docket's validated methods instead.
 */
import type { Store } from '../storage/store.js'
import { internalsOf } from './internals.js'

export function storeOf(docket: object): Store {
  return internalsOf(docket).store
}
