// Every store port on the one DynamoDB table, for wiring: each port's adapter is a file of this
// folder, over the shared table I/O (table-io.ts) and the key layout (../table.ts). Every state change is a
// single conditional write, never a transaction, so the same code runs on dynalite, which has none.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CaseStore } from '../../domain/ports.ts';
import { DynamoCases } from './cases.ts';
import { DynamoCaseQueries } from './case-queries.ts';
import { DynamoCardBlocks } from './card-blocks.ts';
import { DynamoRetryLedger } from './retry-ledger.ts';
import { DynamoCaseClaims } from './case-claims.ts';
import { DynamoBanners } from './banners.ts';
import { DynamoSuppressions } from './suppressions.ts';
import { DynamoEmailEventClaims } from './email-event-claims.ts';
import { DynamoHeadsUps } from './heads-ups.ts';
import { DynamoTimeline } from './timeline.ts';
import { TableIO } from './table-io.ts';
import { DynamoAccessRecords } from './access-records.ts';
import { DynamoOutbox } from './outbox.ts';

/** All the ports at once; a use case's deps name only the ones it uses. */
export class DynamoCaseStore implements CaseStore {
  readonly cases: DynamoCases;
  readonly caseQueries: DynamoCaseQueries;
  readonly cardBlocks: DynamoCardBlocks;
  readonly retryLedger: DynamoRetryLedger;
  readonly claims: DynamoCaseClaims;
  readonly banners: DynamoBanners;
  readonly suppressions: DynamoSuppressions;
  readonly emailEvents: DynamoEmailEventClaims;
  readonly headsUps: DynamoHeadsUps;
  readonly timeline: DynamoTimeline;
  readonly accessRecords: DynamoAccessRecords;
  readonly outbox: DynamoOutbox;

  constructor(client: DynamoDBDocumentClient, tableName: string) {
    const table = new TableIO(client, tableName);
    this.cases = new DynamoCases(table);
    this.caseQueries = new DynamoCaseQueries(table);
    this.cardBlocks = new DynamoCardBlocks(table);
    this.retryLedger = new DynamoRetryLedger(table);
    this.claims = new DynamoCaseClaims(table);
    this.banners = new DynamoBanners(table);
    this.suppressions = new DynamoSuppressions(table);
    this.emailEvents = new DynamoEmailEventClaims(table);
    this.headsUps = new DynamoHeadsUps(table);
    this.timeline = new DynamoTimeline(table);
    this.accessRecords = new DynamoAccessRecords(table);
    this.outbox = new DynamoOutbox(table);
  }

  // Cases
  createCase(...args: Parameters<DynamoCases['createCase']>) {
    return this.cases.createCase(...args);
  }
  getCase(...args: Parameters<DynamoCases['getCase']>) {
    return this.cases.getCase(...args);
  }
  findCaseOfInvoice(...args: Parameters<DynamoCases['findCaseOfInvoice']>) {
    return this.cases.findCaseOfInvoice(...args);
  }
  joinInvoice(...args: Parameters<DynamoCases['joinInvoice']>) {
    return this.cases.joinInvoice(...args);
  }
  setAmountDue(...args: Parameters<DynamoCases['setAmountDue']>) {
    return this.cases.setAmountDue(...args);
  }
  setExecutionArn(...args: Parameters<DynamoCases['setExecutionArn']>) {
    return this.cases.setExecutionArn(...args);
  }
  beginStage(...args: Parameters<DynamoCases['beginStage']>) {
    return this.cases.beginStage(...args);
  }
  closeCase(...args: Parameters<DynamoCases['closeCase']>) {
    return this.cases.closeCase(...args);
  }
  reopenCase(...args: Parameters<DynamoCases['reopenCase']>) {
    return this.cases.reopenCase(...args);
  }
  refineRecoveredBy(...args: Parameters<DynamoCases['refineRecoveredBy']>) {
    return this.cases.refineRecoveredBy(...args);
  }
  setPause(...args: Parameters<DynamoCases['setPause']>) {
    return this.cases.setPause(...args);
  }

  // RetryLedger
  recordChargeAttempt(...args: Parameters<DynamoRetryLedger['recordChargeAttempt']>) {
    return this.retryLedger.recordChargeAttempt(...args);
  }
  setNextRetry(...args: Parameters<DynamoRetryLedger['setNextRetry']>) {
    return this.retryLedger.setNextRetry(...args);
  }
  setClockAnchor(...args: Parameters<DynamoRetryLedger['setClockAnchor']>) {
    return this.retryLedger.setClockAnchor(...args);
  }

  // CaseQueries
  listCases(...args: Parameters<DynamoCaseQueries['listCases']>) {
    return this.caseQueries.listCases(...args);
  }
  listOpenCases(...args: Parameters<DynamoCaseQueries['listOpenCases']>) {
    return this.caseQueries.listOpenCases(...args);
  }
  listCasesOfCustomer(...args: Parameters<DynamoCaseQueries['listCasesOfCustomer']>) {
    return this.caseQueries.listCasesOfCustomer(...args);
  }

  // CardBlocks
  blockPaymentMethod(...args: Parameters<DynamoCardBlocks['blockPaymentMethod']>) {
    return this.cardBlocks.blockPaymentMethod(...args);
  }
  unblockPaymentMethod(...args: Parameters<DynamoCardBlocks['unblockPaymentMethod']>) {
    return this.cardBlocks.unblockPaymentMethod(...args);
  }

  // CaseClaims
  claimStageEmail(...args: Parameters<DynamoCaseClaims['claimStageEmail']>) {
    return this.claims.claimStageEmail(...args);
  }
  releaseStageEmail(...args: Parameters<DynamoCaseClaims['releaseStageEmail']>) {
    return this.claims.releaseStageEmail(...args);
  }
  claimClosingEmail(...args: Parameters<DynamoCaseClaims['claimClosingEmail']>) {
    return this.claims.claimClosingEmail(...args);
  }
  releaseClosingEmail(...args: Parameters<DynamoCaseClaims['releaseClosingEmail']>) {
    return this.claims.releaseClosingEmail(...args);
  }
  acquirePayLock(...args: Parameters<DynamoCaseClaims['acquirePayLock']>) {
    return this.claims.acquirePayLock(...args);
  }
  releasePayLock(...args: Parameters<DynamoCaseClaims['releasePayLock']>) {
    return this.claims.releasePayLock(...args);
  }

  // Banners
  putBanner(...args: Parameters<DynamoBanners['putBanner']>) {
    return this.banners.putBanner(...args);
  }
  getBanner(...args: Parameters<DynamoBanners['getBanner']>) {
    return this.banners.getBanner(...args);
  }
  clearBanner(...args: Parameters<DynamoBanners['clearBanner']>) {
    return this.banners.clearBanner(...args);
  }

  // Suppressions
  suppressEmail(...args: Parameters<DynamoSuppressions['suppressEmail']>) {
    return this.suppressions.suppressEmail(...args);
  }
  getEmailSuppression(...args: Parameters<DynamoSuppressions['getEmailSuppression']>) {
    return this.suppressions.getEmailSuppression(...args);
  }
  flagEmailSuppressed(...args: Parameters<DynamoSuppressions['flagEmailSuppressed']>) {
    return this.suppressions.flagEmailSuppressed(...args);
  }
  liftEmailSuppression(...args: Parameters<DynamoSuppressions['liftEmailSuppression']>) {
    return this.suppressions.liftEmailSuppression(...args);
  }
  clearEmailSuppressed(...args: Parameters<DynamoSuppressions['clearEmailSuppressed']>) {
    return this.suppressions.clearEmailSuppressed(...args);
  }

  // EmailEventClaims
  claimEmailEvent(...args: Parameters<DynamoEmailEventClaims['claimEmailEvent']>) {
    return this.emailEvents.claimEmailEvent(...args);
  }
  releaseEmailEvent(...args: Parameters<DynamoEmailEventClaims['releaseEmailEvent']>) {
    return this.emailEvents.releaseEmailEvent(...args);
  }

  // HeadsUps
  claimHeadsUp(...args: Parameters<DynamoHeadsUps['claimHeadsUp']>) {
    return this.headsUps.claimHeadsUp(...args);
  }
  releaseHeadsUp(...args: Parameters<DynamoHeadsUps['releaseHeadsUp']>) {
    return this.headsUps.releaseHeadsUp(...args);
  }
  setHeadsUpBanner(...args: Parameters<DynamoHeadsUps['setHeadsUpBanner']>) {
    return this.headsUps.setHeadsUpBanner(...args);
  }
  cancelHeadsUp(...args: Parameters<DynamoHeadsUps['cancelHeadsUp']>) {
    return this.headsUps.cancelHeadsUp(...args);
  }
  getHeadsUp(...args: Parameters<DynamoHeadsUps['getHeadsUp']>) {
    return this.headsUps.getHeadsUp(...args);
  }

  // Timeline
  appendTimeline(...args: Parameters<DynamoTimeline['appendTimeline']>) {
    return this.timeline.appendTimeline(...args);
  }
  listTimeline(...args: Parameters<DynamoTimeline['listTimeline']>) {
    return this.timeline.listTimeline(...args);
  }
  markRecorded(...args: Parameters<DynamoTimeline['markRecorded']>) {
    return this.timeline.markRecorded(...args);
  }

  // AccessRecords
  setAccess(...args: Parameters<DynamoAccessRecords['setAccess']>) {
    return this.accessRecords.setAccess(...args);
  }

  // Outbox
  pendingEntry(...args: Parameters<DynamoOutbox['pendingEntry']>) {
    return this.outbox.pendingEntry(...args);
  }
  pendingEntries(...args: Parameters<DynamoOutbox['pendingEntries']>) {
    return this.outbox.pendingEntries(...args);
  }
  markPublished(...args: Parameters<DynamoOutbox['markPublished']>) {
    return this.outbox.markPublished(...args);
  }
}
