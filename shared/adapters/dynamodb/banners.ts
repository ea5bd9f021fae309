// The My Account banner: one item per customer (keys.banner).
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Banner } from '../../domain/case.ts';
import type { Banners } from '../../domain/ports.ts';
import { keys } from '../table.ts';
import { defined, isConditionFailed, withoutStoreAttrs, type TableIO } from './table-io.ts';

export class DynamoBanners implements Banners {
  constructor(private readonly table: TableIO) {}

  async putBanner(banner: Banner): Promise<void> {
    await this.table.call(() => this.table.client.send(
      new PutCommand({ TableName: this.table.name, Item: { ...defined(banner), ...keys.banner(banner.customerId) } }),
    ));
  }

  async getBanner(customerId: string): Promise<Banner | undefined> {
    const out = await this.table.call(() => this.table.client.send(
      new GetCommand({ TableName: this.table.name, Key: keys.banner(customerId), ConsistentRead: true }),
    ));
    return out.Item ? withoutStoreAttrs<Banner>(out.Item) : undefined;
  }

  async clearBanner(customerId: string, invoiceId: string): Promise<void> {
    try {
      await this.table.call(() => this.table.client.send(
        new DeleteCommand({
          TableName: this.table.name,
          Key: keys.banner(customerId),
          // The banner may belong to a newer case of the same customer; leave that one alone.
          ConditionExpression: 'invoiceId = :inv',
          ExpressionAttributeValues: { ':inv': invoiceId },
        }),
      ));
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
  }
}
