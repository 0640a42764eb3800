/**
 * Files: input files uploaded with a job (multipart), output files uploaded
 * by the worker holding the job's lease, and downloads, each with the same
 * access checks as the job they belong to.
 */
import type { MultipartFile } from '@fastify/multipart'
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { checkMediaType, DEFAULT_MEDIA_TYPES } from '../../artifacts/storage.js'
import { DocketError, invalidArgument, notFound } from '../../core/errors.js'
import type { JobInput } from '../../core/options.js'
import type { Docket, FileInput } from '../../docket.js'
import type { Artifact } from '../../storage/store.js'
import { artifactJson, artifactView, jobJson, jobView } from '../views.js'
import { canSee, ownerFor, READERS, scopeJobIds, visibleJob } from './access.js'
import { errorResponses, idParams } from './common.js'

interface Parts {
  fields: Record<string, string>
  files: FileInput[]
}

/** Reads a multipart request: text fields, and files checked against the allowed media types. */
async function readParts(request: FastifyRequest, mediaTypes: string[]): Promise<Parts> {
  if (!request.isMultipart()) {
    throw new DocketError('UNSUPPORTED_MEDIA_TYPE', 'expected multipart/form-data')
  }
  const parts: Parts = { fields: {}, files: [] }
  for await (const part of request.parts()) {
    if (part.type === 'field') {
      parts.fields[part.fieldname] = String(part.value)
      continue
    }
    const file = part as MultipartFile
    const data = await file.toBuffer()
    checkMediaType(file.mimetype, mediaTypes, data)
    parts.files.push({ name: file.filename, mediaType: file.mimetype, data })
  }
  return parts
}

/**
 * A worker key reads a job's files only while it holds the job's lease: the
 * lease token comes as the `x-lease-token` header or the `token` query
 * parameter. Without a live lease the job (or file) is answered as missing.
 */
const leaseQuery = z.strictObject({
  token: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .describe('worker keys: the lease token (or send x-lease-token)'),
})

async function holdsLease(docket: Docket, request: FastifyRequest, jobId: string): Promise<boolean> {
  const header = request.headers['x-lease-token']
  const token =
    (typeof header === 'string' ? header : undefined) ?? (request.query as { token?: string }).token
  if (!token) return false
  const [outcome] = await docket.checkLeases({ id: jobId, token })
  return outcome!.ok
}

/** Whether the caller may read the files of job `jobId`: its admin, its owner, or the worker holding its lease. */
async function mayRead(docket: Docket, request: FastifyRequest, jobId: string): Promise<boolean> {
  const { principal } = request
  if (principal.role === 'worker') return holdsLease(docket, request, jobId)
  if (principal.role === 'admin') return true
  const job = await docket.store.getJob(jobId)
  return job !== null && canSee(principal, job.owner)
}

const multipartBody = {
  description: 'multipart/form-data',
} as const

export const artifactRoutes =
  ({
    docket,
    mediaTypes = DEFAULT_MEDIA_TYPES,
  }: {
    docket: Docket
    mediaTypes?: string[]
  }): FastifyPluginAsync =>
  async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>()
    const tags = ['artifacts']

    app.post(
      '/jobs/upload',
      {
        config: { roles: [...READERS] },
        schema: {
          tags,
          summary:
            'Create a job with input files (multipart/form-data: a `job` field holding the job as JSON, then files)',
          consumes: ['multipart/form-data'],
          ...{ description: multipartBody.description },
          response: {
            201: z.object({ job: jobView, artifacts: z.array(artifactView) }),
            ...errorResponses(400, 403, 404, 409, 413, 415),
          },
        },
      },
      async (request, reply) => {
        const { fields, files } = await readParts(request, mediaTypes)
        if (fields.job === undefined)
          throw invalidArgument('missing the `job` field', [{ path: 'job', message: 'required' }])
        let input: Record<string, unknown>
        try {
          input = JSON.parse(fields.job)
        } catch {
          throw invalidArgument('the `job` field is not JSON', [{ path: 'job', message: 'expected JSON' }])
        }
        if (input === null || typeof input !== 'object' || Array.isArray(input)) {
          throw invalidArgument('the `job` field must be a JSON object', [
            { path: 'job', message: 'expected an object' },
          ])
        }
        const owner = ownerFor(request.principal, input.owner as string | undefined)
        const [job] = scopeJobIds(request.principal, [{ ...(input as unknown as JobInput), owner }])
        const result = await docket.addWithFiles(job!, files)
        return reply
          .status(201)
          .send({ job: jobJson(result.job), artifacts: result.artifacts.map(artifactJson) })
      },
    )

    app.post(
      '/jobs/:id/artifacts',
      {
        config: { roles: ['admin', 'worker'] },
        schema: {
          tags,
          summary:
            'Upload output files of a leased job (multipart/form-data: a `token` field with the lease token, then files)',
          consumes: ['multipart/form-data'],
          params: idParams,
          response: {
            201: z.object({ artifacts: z.array(artifactView) }),
            ...errorResponses(400, 403, 404, 409, 413, 415),
          },
        },
      },
      async (request, reply) => {
        const { fields, files } = await readParts(request, mediaTypes)
        if (!fields.token)
          throw invalidArgument('missing the `token` field (the lease token)', [
            { path: 'token', message: 'required' },
          ])
        const saved: Artifact[] = []
        for (const file of files)
          saved.push(await docket.saveOutput({ id: request.params.id, token: fields.token }, file))
        return reply.status(201).send({ artifacts: saved.map(artifactJson) })
      },
    )

    app.get(
      '/jobs/:id/artifacts',
      {
        config: { roles: ['admin', 'user', 'worker'] },
        schema: {
          tags,
          summary:
            'List a job’s artifacts (a worker key: only with the job’s lease token, as the x-lease-token header or ?token=)',
          params: idParams,
          querystring: leaseQuery,
          response: { 200: z.object({ artifacts: z.array(artifactView) }), ...errorResponses(400, 403, 404) },
        },
      },
      async (request) => {
        if (request.principal.role !== 'worker')
          await visibleJob(docket, request.principal, request.params.id)
        else if (!(await holdsLease(docket, request, request.params.id)))
          throw notFound('job', request.params.id)
        return { artifacts: (await docket.listArtifacts(request.params.id)).map(artifactJson) }
      },
    )

    app.get(
      '/artifacts/:id',
      {
        config: { roles: ['admin', 'user', 'worker'] },
        schema: {
          tags,
          summary:
            'Download an artifact (a worker key: only with its job’s lease token, as the x-lease-token header or ?token=)',
          params: idParams,
          querystring: leaseQuery,
          response: errorResponses(400, 403, 404),
        },
      },
      async (request, reply) => {
        const { artifact, stream } = await docket.openArtifact(request.params.id)
        if (!(await mayRead(docket, request, artifact.jobId))) {
          stream.destroy()
          throw notFound('artifact', request.params.id)
        }
        const ascii = artifact.name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_')
        return reply
          .header('content-type', artifact.mediaType)
          .header('content-length', artifact.size)
          .header('x-content-type-options', 'nosniff')
          .header(
            'content-disposition',
            `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(artifact.name)}`,
          )
          .header('x-checksum-sha256', artifact.sha256)
          .send(stream as never)
      },
    )
  }
