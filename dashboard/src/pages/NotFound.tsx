import { PageHead } from '../components/Layout.js'

export function NotFound() {
  return (
    <>
      <PageHead title="Not found" />
      <p>
        There is no such page here. <a href="/">Go to the overview</a>.
      </p>
    </>
  )
}
