// The once-only rights on a case, kept on the case item: each stage email (noticesSent), each closing
// email (<kind>EmailClaimedAt), and the pay lock (payLock, payLockUntil).
import { CaseClosedError, CaseNotFoundError, StoreUnavailableError } from '../../domain/errors.ts';
import type { CaseClaims } from '../../domain/ports.ts';
import { keys } from '../table.ts';
import { claimAttr, claimOnCase, type ClosingEmailKind, RACE_ATTEMPTS, readCase, type TableIO, updateExistingCase } from './table-io.ts';

export class DynamoCaseClaims implements CaseClaims {
  constructor(private readonly table: TableIO) {}

  async claimStageEmail(invoiceId: string, stage: string, now: string): Promise<boolean> {
    for (let attempt = 1; attempt <= RACE_ATTEMPTS; attempt++) {
      const claimed = await this.table.updated(keys.case(invoiceId), {
        UpdateExpression: 'SET noticesSent = list_append(if_not_exists(noticesSent, :empty), :claimed), updatedAt = :now',
        ConditionExpression: '#status = :open AND NOT contains(noticesSent, :stage)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':open': 'open', ':stage': stage, ':claimed': [stage], ':empty': [], ':now': now },
      });
      if (claimed) return true;
      const current = await readCase(this.table, invoiceId);
      if (!current) throw new CaseNotFoundError(invoiceId);
      if (current.status !== 'open') throw new CaseClosedError(invoiceId, current.status);
      if (current.noticesSent?.includes(stage)) return false;
      // A concurrent release gave the claim back between our write and read: claim again.
    }
    throw new StoreUnavailableError(`could not claim notice ${stage} of case ${invoiceId}: contention`);
  }

  async releaseStageEmail(invoiceId: string, stage: string, now: string): Promise<void> {
    // DynamoDB removes list elements by index only, so find the index, then remove it on the
    // condition that it still holds this stage; a concurrent change moves it, so look again.
    for (let attempt = 1; attempt <= RACE_ATTEMPTS; attempt++) {
      const current = await readCase(this.table, invoiceId);
      if (!current) throw new CaseNotFoundError(invoiceId);
      const index = (current.noticesSent ?? []).indexOf(stage);
      if (index < 0) return;
      const released = await this.table.updated(keys.case(invoiceId), {
        UpdateExpression: `REMOVE noticesSent[${index}] SET updatedAt = :now`,
        ConditionExpression: `noticesSent[${index}] = :stage`,
        ExpressionAttributeValues: { ':stage': stage, ':now': now },
      });
      if (released) return;
    }
    throw new StoreUnavailableError(`could not release notice ${stage} of case ${invoiceId}: contention`);
  }

  async claimClosingEmail(invoiceId: string, kind: ClosingEmailKind, now: string): Promise<boolean> {
    return claimOnCase(this.table, invoiceId, {
      UpdateExpression: 'SET #claim = :now',
      ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#claim)',
      ExpressionAttributeNames: { '#claim': claimAttr(kind) },
      ExpressionAttributeValues: { ':now': now },
    });
  }

  async releaseClosingEmail(invoiceId: string, kind: ClosingEmailKind): Promise<void> {
    await updateExistingCase(this.table, invoiceId, {
      UpdateExpression: 'REMOVE #claim',
      ExpressionAttributeNames: { '#claim': claimAttr(kind) },
    });
  }

  async acquirePayLock(invoiceId: string, holder: string, now: Date, ttlMs: number): Promise<boolean> {
    return this.table.updated(keys.case(invoiceId), {
      UpdateExpression: 'SET payLock = :holder, payLockUntil = :until',
      // A lock left by a crashed holder expires; a missing case is never locked into existence.
      ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(payLock) OR payLockUntil < :now OR payLock = :holder)',
      ExpressionAttributeValues: { ':holder': holder, ':until': now.getTime() + ttlMs, ':now': now.getTime() },
    });
  }

  async releasePayLock(invoiceId: string, holder: string): Promise<void> {
    // Not written when the lock already expired and someone else took it: theirs now.
    await this.table.updated(keys.case(invoiceId), {
      UpdateExpression: 'REMOVE payLock, payLockUntil',
      ConditionExpression: 'payLock = :holder',
      ExpressionAttributeValues: { ':holder': holder },
    });
  }
}
