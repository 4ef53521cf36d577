import type { Session } from '../api/session.js';
import { PendingApprovals } from '../components/PendingApprovals.js';

/** Every pending gate across the tenant's runs. */
export function ApprovalsPage(props: { session: Session }) {
  return (
    <section aria-labelledby="approvals-title">
      <h1 id="approvals-title">Approvals</h1>
      <p class="hint">Tool calls waiting for a human. The list follows decisions taken elsewhere.</p>
      <PendingApprovals session={props.session} empty="Nothing waits for a decision." />
    </section>
  );
}
