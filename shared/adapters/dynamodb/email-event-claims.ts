// SES event notifications already handled, one item each with a TTL (keys.emailEvent).
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { EmailEventClaims } from '../../domain/ports.ts';
import { keys, TABLE_KEYS } from '../table.ts';
import type { TableIO } from './table-io.ts';

/** SNS retries a delivery for up to days; an event id is remembered a little longer. */
const EMAIL_EVENT_TTL_SECONDS = 30 * 86_400;

export class DynamoEmailEventClaims implements EmailEventClaims {
  constructor(private readonly table: TableIO) {}

  async claimEmailEvent(eventKey: string, now: Date): Promise<boolean> {
    const nowSeconds = Math.floor(now.getTime() / 1000);
    return this.table.written(
      new PutCommand({
        TableName: this.table.name,
        Item: { ...keys.emailEvent(eventKey), [TABLE_KEYS.ttlAttribute]: nowSeconds + EMAIL_EVENT_TTL_SECONDS },
        // dynalite never expires items: an expired record counts as absent.
        ConditionExpression: 'attribute_not_exists(pk) OR #ttl < :now',
        ExpressionAttributeNames: { '#ttl': TABLE_KEYS.ttlAttribute },
        ExpressionAttributeValues: { ':now': nowSeconds },
      }),
    );
  }

  async releaseEmailEvent(eventKey: string): Promise<void> {
    await this.table.call(() => this.table.client.send(new DeleteCommand({ TableName: this.table.name, Key: keys.emailEvent(eventKey) })));
  }
}
