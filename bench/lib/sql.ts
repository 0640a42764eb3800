/** Plain SQL on a benchmark's database from outside Docket: the tests' openSql, and its time reader. */
export { ms, openSql, type Sql } from '../../test/support/sql.js'
