/** Every job the signed-in key may see, across queues, with filters and search in the URL. */
import { useLocation } from 'preact-iso'
import { isAdmin, useSession } from '../api/session.js'
import { JobList } from '../components/JobList.js'
import { PageHead } from '../components/Layout.js'

export function JobsPage() {
  const { session } = useSession()
  const { query } = useLocation()
  const searched = [query.search, query.where].filter(Boolean).join(' and ')
  const scope = isAdmin(session) ? 'Every job of every queue' : `The jobs owned by ${session.name}`
  return (
    <>
      <PageHead title={isAdmin(session) ? 'Jobs' : 'Your jobs'}>
        {searched ? `${scope} that match “${searched}”.` : `${scope}.`}
      </PageHead>
      <JobList path="/jobs" />
    </>
  )
}
