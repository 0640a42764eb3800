/**
 * The request generators of the fuzzer (fuzz.test.ts): for one operation of
 * the OpenAPI document, fast-check arbitraries of its path, query string and
 * body, built from the operation's own schemas, mostly plausible and
 * sometimes anything.
 */
import fc from 'fast-check'
import type { OpenAPIV3 } from 'openapi-types'
import type { Json } from '../server/harness.js'

export const NASTY = [
  "' OR '1'='1",
  "'; DROP TABLE jobs; --",
  '" OR 1=1 --',
  "1' UNION SELECT key, hash FROM api_keys --",
  '$1',
  '%',
  '_',
  '\\',
  '../../../../etc/passwd',
  '..%2F..%2Fetc%2Fpasswd',
  '/etc/passwd',
  'C:\\Windows\\win.ini',
  '\u0000',
  '\ud800',
  '𝕯𝖔𝖈𝖐𝖊𝖙',
  '<script>alert(1)</script>',
  '{{7*7}}',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, on purpose
  '${process.env}',
  '__proto__',
  'constructor',
  'null',
  'NaN',
  '-1',
  '1e309',
  '9007199254740993',
  ' ',
  '',
  'x'.repeat(5000),
]

export type Op = { method: string; path: string; op: OpenAPIV3.OperationObject }
export interface Pools {
  ids: string[]
  names: string[]
  tokens: string[]
}

const wild = (pools: Pools): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc.constantFrom(...NASTY),
    fc.string(),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.constantFrom(...pools.ids, ...pools.names, ...pools.tokens),
    fc.jsonValue({ maxDepth: 2 }),
  )

/** Strings that fit a field, going by its name: queue names, lease tokens, ids. */
function hinted(key: string, pools: Pools): fc.Arbitrary<string> | null {
  if (/^(queue|queues|name|dependsOn)$/.test(key)) return fc.constantFrom(...pools.names)
  if (key === 'token') return fc.constantFrom(...pools.tokens)
  if (/(^id$|Id$|^ids$)/.test(key)) return fc.constantFrom(...pools.ids)
  return null
}

/** Values for a JSON schema: mostly plausible, sometimes anything. `key` is the field's name. */
function valueFor(schema: Json | undefined, pools: Pools, depth = 0, key = ''): fc.Arbitrary<unknown> {
  if (!schema || depth > 3) return wild(pools)
  const variants = (schema.anyOf ?? schema.oneOf) as Json[] | undefined
  if (variants) return fc.oneof(...variants.map((v) => valueFor(v, pools, depth + 1, key)))
  let plausible: fc.Arbitrary<unknown>
  const hint = hinted(key, pools)
  if (schema.enum) plausible = fc.constantFrom(...(schema.enum as unknown[]))
  else if (schema.const !== undefined) plausible = fc.constant(schema.const)
  else if (schema.type === 'string')
    plausible = fc.oneof(
      ...(hint ? [{ weight: 6, arbitrary: hint }] : []),
      { weight: 1, arbitrary: fc.constantFrom(...pools.ids, ...pools.names, ...pools.tokens) },
      { weight: 2, arbitrary: fc.string({ minLength: 1, maxLength: 30 }) },
      { weight: 1, arbitrary: fc.constantFrom(...NASTY) },
    )
  else if (schema.type === 'integer' || schema.type === 'number')
    plausible = fc.oneof(
      fc.integer({
        min: Math.max(Number(schema.minimum ?? -1e6), -1e9),
        max: Math.min(Number(schema.maximum ?? 1e6), 1e9),
      }),
      fc.constantFrom(-1, 0, 1, 2 ** 53, 1e300, 0.5),
    )
  else if (schema.type === 'boolean') plausible = fc.boolean()
  else if (schema.type === 'array')
    plausible = fc.array(valueFor(schema.items, pools, depth + 1, key), { maxLength: 4 })
  else if (schema.type === 'object' || schema.properties) {
    const props = Object.entries((schema.properties ?? {}) as Record<string, Json>)
    const required = ((schema.required ?? []) as string[]).filter((k) => props.some(([p]) => p === k))
    const field = ([k, s]: [string, Json]) => [k, valueFor(s, pools, depth + 1, k)] as const
    // Only the required fields (and so, often, a valid body), or any of them.
    const minimal = fc.record(Object.fromEntries(props.filter(([k]) => required.includes(k)).map(field)))
    const any = fc.record(Object.fromEntries(props.map(field)), { requiredKeys: required })
    plausible = fc.oneof(minimal, any).chain((r) =>
      fc.oneof(
        { weight: 4, arbitrary: fc.constant(r) },
        {
          weight: 1,
          arbitrary: fc
            .dictionary(fc.string({ maxLength: 10 }), wild(pools), { maxKeys: 3 })
            .map((extra) => ({ ...r, ...extra })),
        },
      ),
    )
  } else plausible = fc.jsonValue({ maxDepth: 2 })
  return fc.oneof({ weight: 5, arbitrary: plausible }, { weight: 1, arbitrary: wild(pools) })
}

export interface FuzzRequest {
  /** `METHOD /path/{param}`: the operation, by its key in `operations`. */
  op: string
  path: string
  query: [string, string][]
  body:
    | { kind: 'json'; value: unknown }
    | { kind: 'raw'; value: string; type: string }
    | { kind: 'form'; fields: [string, string][]; files: [string, string, string][] }
    | { kind: 'none' }
  who: 'admin' | 'alice' | 'bob' | 'worker'
}

/** Percent-encodes a path segment; a lone surrogate goes as the bytes a careless client would send. */
function encodeSegment(value: string): string {
  try {
    return encodeURIComponent(value)
  } catch {
    return `${encodeURIComponent(value.replace(/[\ud800-\udfff]/g, ''))}%ED%A0%80`
  }
}

export function requestFor(op: Op, spec: OpenAPIV3.Document, pools: Pools): fc.Arbitrary<FuzzRequest> {
  const params = (op.op.parameters ?? []) as OpenAPIV3.ParameterObject[]
  const segment = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...pools.ids, ...pools.names) },
    { weight: 1, arbitrary: fc.uuid() },
    {
      weight: 2,
      arbitrary: fc.oneof(
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.constantFrom(...NASTY.filter(Boolean)),
      ),
    },
  )
  const pathArb = fc.tuple(...params.filter((p) => p.in === 'path').map(() => segment)).map((values) => {
    let i = 0
    return op.path.replace(/\{[^}]+\}/g, () => encodeSegment(String(values[i++])))
  })
  const queryArb = fc
    .tuple(
      ...params
        .filter((p) => p.in === 'query')
        .map((p) =>
          fc.option(
            valueFor(p.schema as Json, pools).map((v) => [p.name, String(v)] as [string, string]),
            { freq: 2 },
          ),
        ),
      fc.array(
        fc.tuple(
          fc.constantFrom('extra', 'status', 'limit', 'sort', '__proto__', 'key'),
          fc.constantFrom(...NASTY),
        ),
        { maxLength: 2 },
      ),
    )
    .map((parts) => {
      const extras = parts[parts.length - 1] as [string, string][]
      return [...(parts.slice(0, -1).filter(Boolean) as [string, string][]), ...extras]
    })
  const content = (op.op.requestBody as OpenAPIV3.RequestBodyObject | undefined)?.content
  const jsonSchema = content?.['application/json']?.schema as Json | undefined
  // The upload routes document their body as multipart/form-data (a form of fields, then files).
  const multipart = content?.['multipart/form-data'] !== undefined
  const resolved = jsonSchema?.$ref
    ? (spec.components?.schemas?.[String(jsonSchema.$ref).split('/').pop()!] as Json)
    : jsonSchema
  const bodyArb: fc.Arbitrary<FuzzRequest['body']> = multipart
    ? fc.record({
        kind: fc.constant('form' as const),
        fields: fc.array(
          fc.tuple(
            fc.constantFrom('job', 'token', 'file', 'x'),
            fc.oneof(
              fc.constant(JSON.stringify({ queue: 'fz', type: 'upload' })),
              fc.constantFrom(...pools.tokens),
              fc.jsonValue().map((v) => JSON.stringify(v)),
              fc.constantFrom(...NASTY),
            ),
          ),
          { maxLength: 3 },
        ),
        files: fc.array(
          fc.tuple(
            fc.constantFrom(
              '../../etc/passwd',
              'a.txt',
              '..\\..\\x.pdf',
              '/abs/path.png',
              '\u0000.txt',
              'invoice\u202Efdp.exe',
              'ok.csv',
              '',
            ),
            fc.constantFrom('text/plain', 'application/pdf', 'application/x-sh', 'image/png', 'text/csv', ''),
            fc.string({ maxLength: 200 }),
          ),
          { maxLength: 3 },
        ),
      })
    : resolved
      ? fc.oneof(
          {
            weight: 8,
            arbitrary: valueFor(resolved, pools).map((value) => ({ kind: 'json' as const, value })),
          },
          {
            weight: 1,
            arbitrary: fc.record({
              kind: fc.constant('raw' as const),
              value: fc.oneof(
                fc.string(),
                fc.constantFrom('{', '{"a":', '[]', 'null', '"x"', '{"__proto__":{"x":1}}'),
              ),
              type: fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded'),
            }),
          },
        )
      : fc.oneof(
          { weight: 6, arbitrary: fc.constant({ kind: 'none' as const }) },
          {
            weight: 1,
            arbitrary: fc.jsonValue({ maxDepth: 1 }).map((value) => ({ kind: 'json' as const, value })),
          },
        )
  return fc.record({
    op: fc.constant(`${op.method} ${op.path}`),
    path: pathArb,
    query: queryArb,
    body: bodyArb,
    who: fc.constantFrom(
      'admin' as const,
      'admin' as const,
      'alice' as const,
      'bob' as const,
      'worker' as const,
    ),
  })
}
