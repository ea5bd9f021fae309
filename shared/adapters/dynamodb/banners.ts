// The My Account banner: one item per customer (keys.banner).
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import type { Banner } from '../../domain/case.ts';
import type { Banners } from '../../domain/ports.ts';
import { keys } from '../table.ts';
import { defined, withoutStoreAttrs, type TableIO } from './table-io.ts';

export class DynamoBanners implements Banners {
  constructor(private readonly table: TableIO) {}

  async putBanner(banner: Banner): Promise<void> {
    await this.table.put({ ...defined(banner), ...keys.banner(banner.customerId) });
  }

  async getBanner(customerId: string): Promise<Banner | undefined> {
    const item = await this.table.get(keys.banner(customerId));
    return item ? withoutStoreAttrs<Banner>(item) : undefined;
  }

  async clearBanner(customerId: string, invoiceId: string): Promise<void> {
    await this.table.written(
      new DeleteCommand({
        TableName: this.table.name,
        Key: keys.banner(customerId),
        // The banner may belong to a newer case of the same customer; leave that one alone.
        ConditionExpression: 'invoiceId = :inv',
        ExpressionAttributeValues: { ':inv': invoiceId },
      }),
    );
  }
}
