#!/usr/bin/env node
/**
 * The `docket` command. Exit codes: 0 success; 1 the operation failed (a
 * refused request, a job that failed under --wait); 2 a usage error; 3 the
 * server or database could not be reached. The program is in program.ts.
 */
import { run } from './program.js'

// On success the process ends by itself: `serve` and `worker` go on until a signal.
const code = await run(process.argv.slice(2))
if (code !== 0) process.exit(code)
