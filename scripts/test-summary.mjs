// A node:test reporter for scripts/test.mjs, which runs one file per test
// runner: how many tests the file passed, failed and skipped (with the
// reasons), as one JSON object, so that the run can refuse a file that ran
// nothing and list what was skipped.
export default async function* summary(source) {
  const f = { tests: 0, passed: 0, failed: 0, skipped: 0, skips: [] }
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue
    const { name, file, nesting, skip, todo, details } = event.data
    // The runner reports the file itself as a test when it ran none, or did not load.
    const isFile = nesting === 0 && file && (name === file || file.endsWith(`/${name}`))
    if (isFile && event.type === 'test:pass') continue
    if (skip || todo) {
      f.skipped++
      f.tests++
      f.skips.push(
        `${name}${typeof skip === 'string' ? `: ${skip}` : typeof todo === 'string' ? `: ${todo}` : ''}`,
      )
      continue
    }
    if (details?.type === 'suite' && event.type === 'test:pass') continue
    f.tests++
    if (event.type === 'test:pass') f.passed++
    else f.failed++
  }
  yield JSON.stringify(f)
}
