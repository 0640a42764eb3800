// Types for scripts/build-migrations.mjs, which test/unit/migrations-bundle.test.ts imports.
export interface BundledMigration {
  version: number
  name: string
  file: string
  sql: string
}
export interface Output {
  path: string
  text: string
  current: string | null
}
export const DRIVERS: readonly ('sqlite' | 'postgres')[]
export const SCRIPT: string
export class MigrationRuleError extends Error {}
export function driverPaths(driver: string, root?: string): { dir: string; shipped: string; module: string }
export function sha256(text: string): string
export function readMigrations(dir: string): BundledMigration[]
export function shippedList(dir: string, migrations: BundledMigration[], listed: string): string
export interface BundledFunction {
  name: string
  file: string
  sql: string
  sha256: string
  requires: string[]
}
export function functionPaths(root?: string): { dir: string; module: string }
export function readFunctions(dir: string): BundledFunction[]
export function renderFunctionsModule(functions: BundledFunction[]): string
export function renderModule(driver: string, migrations: BundledMigration[]): string
export function buildMigrations(root?: string): Output[]
