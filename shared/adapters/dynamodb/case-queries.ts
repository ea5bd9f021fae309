// Lists of cases: a scan for the demo, the sparse open-cases index, and the cases-by-customer index.
import { QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { DunningCase } from '../../domain/case.ts';
import type { CaseQueries } from '../../domain/ports.ts';
import { CASES_BY_CUSTOMER, keys, OPEN_CASES } from '../table.ts';
import { withoutStoreAttrs, type TableIO } from './table-io.ts';

export class DynamoCaseQueries implements CaseQueries {
  constructor(private readonly table: TableIO) {}

  /** A full-table scan: fine for the local runtime and a demo dashboard, not for a large table. */
  async listCases(): Promise<DunningCase[]> {
    const items = await this.table.allPages((startKey) => this.table.client.send(
      new ScanCommand({
        TableName: this.table.name,
        FilterExpression: 'sk = :case',
        ExpressionAttributeValues: { ':case': keys.case('').sk },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    ));
    return items.map((item) => withoutStoreAttrs<DunningCase>(item));
  }

  /** The open cases, newest first, from the sparse open-cases index: never a scan of closed ones. */
  async listOpenCases(): Promise<DunningCase[]> {
    const cases = await this.newestFirst(OPEN_CASES, OPEN_CASES.value);
    // An index is eventually consistent: a case that closed a moment ago may still be listed.
    return cases.filter((c) => c.status === 'open');
  }

  listCasesOfCustomer(customerId: string): Promise<DunningCase[]> {
    return this.newestFirst(CASES_BY_CUSTOMER, customerId);
  }

  /** The cases under one partition key value of an index whose sort key is createdAt: newest first. */
  private async newestFirst(index: { indexName: string; partitionKey: string }, value: string): Promise<DunningCase[]> {
    const items = await this.table.allPages((startKey) => this.table.client.send(
      new QueryCommand({
        TableName: this.table.name,
        IndexName: index.indexName,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': index.partitionKey },
        ExpressionAttributeValues: { ':pk': value },
        ScanIndexForward: false,
        ExclusiveStartKey: startKey,
      }),
    ));
    return items.map((item) => withoutStoreAttrs<DunningCase>(item));
  }
}
