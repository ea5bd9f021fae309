// The table I/O every DynamoDB adapter shares: one client and table name, the mapping of transient
// failures to StoreUnavailableError, conditional writes, pagination, and the attributes a store keeps
// on an item that are not part of the domain object. The item layout itself is in ../table.ts.
import {
  GetCommand,
  PutCommand,
  UpdateCommand,
  type DeleteCommand,
  type DynamoDBDocumentClient,
  type UpdateCommandInput,
  type UpdateCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import type { DunningCase } from '../../domain/case.ts';
import { CaseClosedError, CaseNotFoundError, StoreUnavailableError } from '../../domain/errors.ts';
import { errorName, isTransientAwsError, messageOf } from '../aws-errors.ts';
import { CASES_BY_CUSTOMER, keys, OPEN_CASES } from '../table.ts';

export type Item = Record<string, unknown>;

/** An item's key, as table.ts's `keys` make it. */
export type Key = NonNullable<UpdateCommandInput['Key']>;

/** What an update says, without the table and key that TableIO supplies. */
export type Update = Omit<UpdateCommandInput, 'TableName' | 'Key'>;

export type ClosingEmailKind = 'confirmation' | 'termination';

/** The attribute that claims a closing email of `kind` on the case item. */
export const claimAttr = (kind: ClosingEmailKind) => `${kind}EmailClaimedAt` as const;

/** Attributes the store keeps on an item that are not part of the domain object it holds. */
const STORE_ONLY_ATTRS = ['pk', 'sk', 'payLock', 'payLockUntil', CASES_BY_CUSTOMER.partitionKey, OPEN_CASES.partitionKey, claimAttr('confirmation'), claimAttr('termination')];

/** Attempts for the read-then-write paths that can lose a race to a concurrent writer. */
export const RACE_ATTEMPTS = 3;

export function withoutStoreAttrs<T>(item: Item): T {
  const copy: Item = { ...item };
  for (const attr of STORE_ONLY_ATTRS) delete copy[attr];
  return copy as T;
}

/** DynamoDB rejects undefined values; the client may not be configured to drop them. */
export function defined(obj: object): Item {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined));
}

export function isConditionFailed(err: unknown): boolean {
  return errorName(err) === 'ConditionalCheckFailedException';
}

export class TableIO {
  constructor(
    readonly client: DynamoDBDocumentClient,
    readonly name: string,
  ) {}

  /** Sends a conditional write: true if it was written, false if its condition did not hold. */
  async written(command: PutCommand | UpdateCommand | DeleteCommand): Promise<boolean> {
    try {
      await this.call(() => this.client.send(command as UpdateCommand));
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }

  /** Reads an item consistently: a write just made is always seen. */
  async get(key: Key): Promise<Item | undefined> {
    const out = await this.call(() => this.client.send(new GetCommand({ TableName: this.name, Key: key, ConsistentRead: true })));
    return out.Item;
  }

  /** Writes a whole item, unconditionally. */
  async put(item: Item): Promise<void> {
    await this.call(() => this.client.send(new PutCommand({ TableName: this.name, Item: item })));
  }

  /** Updates the item at `key`; a failed condition, if it has one, is thrown as DynamoDB's own error. */
  update(key: Key, update: Update): Promise<UpdateCommandOutput> {
    return this.call(() => this.client.send(new UpdateCommand({ TableName: this.name, Key: key, ...update })));
  }

  /** A conditional update: true if it was written, false if its condition did not hold. */
  updated(key: Key, update: Update): Promise<boolean> {
    return this.written(new UpdateCommand({ TableName: this.name, Key: key, ...update }));
  }

  /**
   * Every item a Query or Scan finds, following LastEvaluatedKey page by page (DynamoDB stops a page
   * at 1 MB). Each page goes through `call`, so a transient failure is the store's own error. Written
   * here rather than with lib-dynamodb's paginators so every page keeps that mapping.
   */
  async allPages(page: (startKey: Item | undefined) => Promise<{ Items?: Item[]; LastEvaluatedKey?: Item }>): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      const out = await this.call(() => page(startKey));
      items.push(...(out.Items ?? []));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  /** Runs one call, turning throttling, 5xx and network failures into StoreUnavailableError. */
  async call<T>(send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (err) {
      if (isTransientAwsError(err)) {
        throw new StoreUnavailableError(`DynamoDB unavailable (${errorName(err) || 'network'}): ${messageOf(err)}`, {
          cause: err,
        });
      }
      throw err;
    }
  }
}

/** The case item, read consistently; every port that keeps state on the case item reads it so. */
export async function readCase(table: TableIO, invoiceId: string): Promise<DunningCase | undefined> {
  const item = await table.get(keys.case(invoiceId));
  return item ? withoutStoreAttrs<DunningCase>(item) : undefined;
}

/**
 * Updates the case item on the update's condition and returns the case as it is now, or undefined
 * when the condition did not hold (so the caller decides what that means).
 */
export async function updateCaseIf(table: TableIO, invoiceId: string, update: Update): Promise<DunningCase | undefined> {
  try {
    const out = await table.update(keys.case(invoiceId), { ...update, ReturnValues: 'ALL_NEW' });
    return withoutStoreAttrs<DunningCase>(out.Attributes ?? {});
  } catch (err) {
    if (isConditionFailed(err)) return undefined;
    throw err;
  }
}

/** Updates a case item that must exist: CaseNotFoundError when there is no case. */
export async function updateExistingCase(table: TableIO, invoiceId: string, update: Omit<Update, 'ConditionExpression'>): Promise<void> {
  if (!(await table.updated(keys.case(invoiceId), { ...update, ConditionExpression: 'attribute_exists(pk)' }))) {
    throw new CaseNotFoundError(invoiceId);
  }
}

/**
 * A once-only write on the case item, whose condition includes `attribute_exists(pk)`: true for the
 * call that wrote it, false once it is done; CaseNotFoundError when there is no case.
 */
export async function claimOnCase(table: TableIO, invoiceId: string, update: Update): Promise<boolean> {
  if (await table.updated(keys.case(invoiceId), update)) return true;
  if (!(await readCase(table, invoiceId))) throw new CaseNotFoundError(invoiceId);
  return false;
}

/** After a write conditioned on an open case failed: the error that says why. */
export async function whyNotOpen(table: TableIO, invoiceId: string): Promise<Error> {
  const current = await readCase(table, invoiceId);
  if (!current) return new CaseNotFoundError(invoiceId);
  return new CaseClosedError(invoiceId, current.status);
}
