// A fixed-window rate limiter on the dunning table: one conditional counter per key and window, and
// optionally a second count in the same item (an endpoint's inside the account's), taken together.
// The window's start is part of the item key, so a new window starts at zero with no reset write,
// and the count is right on dynalite, which never deletes items by TTL.
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { StoreUnavailableError } from '../domain/errors.ts';
import type { RateLimiter, SubCounter } from '../domain/ports.ts';
import { errorName, isTransientAwsError, messageOf } from './aws-errors.ts';
import { keys, TABLE_KEYS } from './table.ts';

export class DynamoRateLimiter implements RateLimiter {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async take(key: string, limit: number, windowMs: number, now: Date, within?: SubCounter): Promise<boolean> {
    const windowStart = Math.floor(now.getTime() / windowMs) * windowMs;
    // One conditional write for both counts: DynamoDB applies it whole or not at all.
    const sub = within ? { set: ', #sub = if_not_exists(#sub, :zero) + :one', condition: ' AND (attribute_not_exists(#sub) OR #sub < :subLimit)' } : { set: '', condition: '' };
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.rateWindow(key, windowStart),
          UpdateExpression: `SET hits = if_not_exists(hits, :zero) + :one, #ttl = :expires${sub.set}`,
          ConditionExpression: `(attribute_not_exists(hits) OR hits < :limit)${sub.condition}`,
          ExpressionAttributeNames: { '#ttl': TABLE_KEYS.ttlAttribute, ...(within ? { '#sub': `hits:${within.name}` } : {}) },
          ExpressionAttributeValues: {
            ':zero': 0,
            ':one': 1,
            ':limit': limit,
            // Kept a window past its end, then DynamoDB TTL may delete it (in AWS).
            ':expires': Math.ceil((windowStart + 2 * windowMs) / 1000),
            ...(within ? { ':subLimit': within.limit } : {}),
          },
        }),
      );
      return true;
    } catch (err) {
      if (errorName(err) === 'ConditionalCheckFailedException') return false;
      if (isTransientAwsError(err)) {
        throw new StoreUnavailableError(`DynamoDB unavailable (${errorName(err) || 'network'}): ${messageOf(err)}`, { cause: err });
      }
      throw err;
    }
  }
}
