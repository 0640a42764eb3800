/** Every job the signed-in key may see, across queues, with filters in the URL. */
import { isAdmin, useSession } from '../api/session.js'
import { JobList } from '../components/JobList.js'
import { PageHead } from '../components/Layout.js'

export function JobsPage() {
  const { session } = useSession()
  return (
    <>
      <PageHead title={isAdmin(session) ? 'Jobs' : 'Your jobs'}>
        {isAdmin(session) ? 'Every job of every queue.' : `The jobs owned by ${session.name}.`}
      </PageHead>
      <JobList path="/jobs" />
    </>
  )
}
