/**
 * Files: input files uploaded with a job (multipart), output files uploaded
 * by the worker holding the job's lease, and downloads, each with the same
 * access checks as the job they belong to.
 */
import type { FastifyPluginAsync, FastifyRequest, FastifySchemaCompiler } from 'fastify'
import { validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { invalidArgument, notFound } from '../../core/errors.js'
import type { JobInput } from '../../core/options.js'
import type { Docket } from '../../docket.js'
import { assertLeaseBinding } from '../lease-binding.js'
import { handleUpload, readUpload, type UploadLimits } from '../uploads.js'
import { artifactJson, artifactView, jobJson, jobView } from '../views.js'
import { canSee, holdsLease, ownerFor, READERS, scopeJobIds, visibleJob } from './access.js'
import { errorResponses, idParams, leaseQuery } from './common.js'

/** The `job` field of an upload: the job to create, as JSON. */
function jobField(text: string | undefined): Record<string, unknown> {
  if (text === undefined)
    throw invalidArgument('missing the `job` field (it must come before the files)', [
      { path: 'body.job', message: 'required' },
    ])
  let input: unknown
  try {
    input = JSON.parse(text)
  } catch {
    throw invalidArgument('the `job` field is not JSON', [{ path: 'body.job', message: 'expected JSON' }])
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw invalidArgument('the `job` field must be a JSON object', [
      { path: 'body.job', message: 'expected an object' },
    ])
  }
  return input as Record<string, unknown>
}

const files = z
  .array(z.file())
  .describe('the files, each a part with a filename and a Content-Type from the accepted media types')

/** What a multipart route documents as its body; the body itself is read as a stream, not validated up front. */
const multipartBodies = {
  input: z.object({
    job: z
      .string()
      .describe('the job to create, as JSON (the body of POST /jobs); must come before the files'),
    file: files,
  }),
  output: z.object({
    token: z.string().describe('the lease token of the job; must come before the files'),
    file: files,
  }),
}

/** Whether the caller may read the files of job `jobId`: its admin, its owner, or the worker holding its lease. */
async function mayRead(docket: Docket, request: FastifyRequest, jobId: string): Promise<boolean> {
  const { principal } = request
  if (principal.role === 'worker') return holdsLease(docket, request, jobId)
  if (principal.role === 'admin') return true
  const job = await docket.findJob(jobId)
  return job !== null && canSee(principal, job.owner)
}

/** Validates a route's parameters as usual, and lets its multipart body through to be streamed. */
const streamedBody: FastifySchemaCompiler<unknown> = (route) =>
  route.httpPart === 'body' ? () => ({ value: undefined }) : validatorCompiler(route as never)

export const artifactRoutes =
  ({ docket, limits }: { docket: Docket; limits: UploadLimits }): FastifyPluginAsync =>
  async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>()
    const tags = ['artifacts']

    app.post(
      '/jobs/upload',
      {
        config: { roles: [...READERS] },
        validatorCompiler: streamedBody,
        schema: {
          tags,
          summary:
            'Create a job with input files (multipart/form-data: a `job` field holding the job as JSON, then files)',
          description: `Each file is streamed to storage as it arrives and checked against its declared type. At most ${limits.maxFileBytes} bytes a file and ${limits.maxRequestBytes} bytes a request; past a limit the answer is 413 at once and the connection is closed. A refused upload creates no job and keeps no file.`,
          consumes: ['multipart/form-data'],
          body: multipartBodies.input,
          response: {
            201: z.object({ job: jobView, artifacts: z.array(artifactView) }),
            ...errorResponses(400, 403, 404, 409, 413, 415),
          },
        },
      },
      (request, reply) =>
        handleUpload(request, reply, limits, async () => {
          const upload = await readUpload(request, limits)
          const input = jobField(upload.fields.job)
          // The fields read are the body: a refusal of the job names its field there (body.job.priority).
          ;(request as { body: unknown }).body = { ...upload.fields, job: input }
          const owner = ownerFor(request.principal, input.owner as string | undefined)
          const [job] = scopeJobIds(request.principal, [{ ...(input as unknown as JobInput), owner }])
          const result = await docket.addWithFiles(job!, upload.files)
          return reply
            .status(201)
            .send({ job: jobJson(result.job), artifacts: result.artifacts.map(artifactJson) })
        }),
    )

    app.post(
      '/jobs/:id/artifacts',
      {
        config: { roles: ['admin', 'worker'] },
        validatorCompiler: streamedBody,
        schema: {
          tags,
          summary:
            'Upload output files of a leased job (multipart/form-data: a `token` field with the lease token, then files)',
          description: `Streamed and checked like POST /jobs/upload, under the same limits. The files are recorded only once all of them are stored: a refused upload records none.`,
          consumes: ['multipart/form-data'],
          params: idParams,
          body: multipartBodies.output,
          response: {
            201: z.object({ artifacts: z.array(artifactView) }),
            ...errorResponses(400, 403, 404, 409, 413, 415),
          },
        },
      },
      (request, reply) =>
        handleUpload(request, reply, limits, async () => {
          const upload = await readUpload(request, limits)
          const token = upload.fields.token
          if (!token)
            throw invalidArgument(
              'missing the `token` field (the lease token; it must come before the files)',
              [{ path: 'body.token', message: 'required' }],
            )
          const ref = { id: request.params.id, token }
          // Before any file is stored: the token must be the caller's key's lease (lease-binding.ts).
          await assertLeaseBinding(docket, request.principal, ref)
          const saved = await docket.workers.saveOutputs(ref, upload.files)
          return reply.status(201).send({ artifacts: saved.map(artifactJson) })
        }),
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
          response: {
            200: {
              description:
                'The file’s bytes, sent with its media type as Content-Type, as an attachment, and its SHA-256 in X-Checksum-Sha256',
              content: { 'application/octet-stream': { schema: z.file() } },
            },
            ...errorResponses(400, 403, 404),
          },
        },
      },
      async (request, reply) => {
        // Access first, then the file: a stream opened before an await could fail (a file gone
        // from the disk) with nobody listening, and an unhandled stream error ends the process.
        const known = await docket.getArtifact(request.params.id)
        if (!(await mayRead(docket, request, known.jobId))) throw notFound('artifact', request.params.id)
        const { artifact, stream } = await docket.openArtifact(request.params.id)
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
