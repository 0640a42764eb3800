/** The front door for files: a job's input files stored before it is added, and artifacts read back. */
import type { Readable } from 'node:stream'
import { v7 as uuidv7 } from 'uuid'
import { storeFile } from '../artifacts/storage.js'
import { notFound } from '../core/errors.js'
import { type JobInput, jobInput, parse } from '../core/options.js'
import { assertJsonValue } from '../core/resolve.js'
import type { Artifact, ArtifactRecord, Job } from '../core/types.js'
import { checkId, checkJobId } from './arguments.js'
import type { DocketContext } from './context.js'
import type { Jobs } from './jobs.js'
import type { FileInput } from './types.js'

/** A job just added with its input files, and their records. */
export interface FilesAdded<J extends Job = Job> {
  job: J
  artifacts: Artifact[]
}

export class Files {
  readonly #ctx: DocketContext
  readonly #jobs: Jobs

  constructor(ctx: DocketContext, jobs: Jobs) {
    this.#ctx = ctx
    this.#jobs = jobs
  }

  /**
   * Adds a job with input files: the files are stored first, one after
   * another as `files` yields them (each stream read to its end before the
   * next is asked for), then the job and their records in one transaction.
   * A failure at any point removes every file stored for it: no job, no file.
   */
  async addWithFiles(
    input: JobInput,
    files: Iterable<FileInput> | AsyncIterable<FileInput>,
  ): Promise<FilesAdded> {
    const job = parse(jobInput, input, 'job')
    // Checked before any file is read, so a bad payload does not cost an upload.
    assertJsonValue(job.payload === undefined ? null : job.payload, 'payload', this.#ctx.maxPayloadBytes)
    const id = (job.id as string | undefined) ?? uuidv7()
    const stored: ArtifactRecord[] = []
    try {
      for await (const file of files)
        stored.push(await storeFile(this.#ctx.artifacts, id, 'input', file, this.#ctx.maxArtifactBytes))
      const { jobs, deduplicated } = await this.#jobs.insert([{ ...input, id }], null, stored)
      // The dedupe key matched a live job: that job is the answer, and these files belong to nobody.
      if (deduplicated[0]) await this.#removeFiles(stored)
      const added = jobs[0]!
      return { job: added, artifacts: await this.#ctx.store().listArtifacts(added.id) }
    } catch (error) {
      await this.#removeFiles(stored)
      throw error
    }
  }

  async #removeFiles(records: ArtifactRecord[]): Promise<void> {
    await Promise.all(records.map((r) => this.#ctx.artifacts.remove(r.storageKey).catch(() => {})))
  }

  async listArtifacts(jobId: string): Promise<Artifact[]> {
    return this.#ctx.store().listArtifacts(checkJobId(jobId))
  }

  /** An artifact's record, without opening its file. NOT_FOUND if there is none. */
  async getArtifact(id: string): Promise<Artifact> {
    const artifact = await this.#ctx.store().getArtifact(checkId(id, 'artifact'))
    if (!artifact) throw notFound('artifact', id)
    return artifact
  }

  /**
   * An artifact's record and its file as a stream. The stream is open: read or
   * destroy it at once (an unread file stream that fails, say because the file
   * is gone, raises its error with nobody listening).
   */
  async openArtifact(id: string): Promise<{ artifact: Artifact; stream: Readable }> {
    const artifact = await this.getArtifact(id)
    return { artifact, stream: this.#ctx.artifacts.open(artifact.storageKey) }
  }
}
