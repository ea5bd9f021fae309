// Pre-dunning heads-ups: one item per customer and card (keys.headsUp).
import type { HeadsUpRecord } from '../../domain/case.ts';
import { StoreUnavailableError } from '../../domain/errors.ts';
import type { HeadsUps } from '../../domain/ports.ts';
import { keys } from '../table.ts';
import { type Item, RACE_ATTEMPTS, withoutStoreAttrs, type TableIO } from './table-io.ts';

function headsUpOf(item: Item): HeadsUpRecord {
  const record = withoutStoreAttrs<HeadsUpRecord>(item);
  return { ...record, claims: Array.isArray(record.claims) ? record.claims : [] };
}

export class DynamoHeadsUps implements HeadsUps {
  constructor(private readonly table: TableIO) {}

  async claimHeadsUp(
    customerId: string,
    cardId: string,
    claim: string,
    expiry: string,
    now: string,
  ): Promise<'claimed' | 'already_claimed' | 'card_updated'> {
    const claimed = await this.table.updated(keys.headsUp(customerId, cardId), {
      UpdateExpression:
        'SET claims = list_append(if_not_exists(claims, :empty), :claimed), claimedAt = :now, customerId = :customer, cardId = :card',
      // One send per renewal; and none when the card was renewed after the expiry we read.
      ConditionExpression:
        '(attribute_not_exists(claims) OR NOT contains(claims, :claim)) AND (attribute_not_exists(updatedExpiry) OR updatedExpiry <= :expiry)',
      ExpressionAttributeValues: {
        ':empty': [],
        ':claimed': [claim],
        ':claim': claim,
        ':expiry': expiry,
        ':now': now,
        ':customer': customerId,
        ':card': cardId,
      },
    });
    if (claimed) return 'claimed';
    const current = await this.getHeadsUp(customerId, cardId);
    return current?.claims.includes(claim) ? 'already_claimed' : 'card_updated';
  }

  async releaseHeadsUp(customerId: string, cardId: string, claim: string): Promise<void> {
    for (let attempt = 1; attempt <= RACE_ATTEMPTS; attempt++) {
      const index = (await this.getHeadsUp(customerId, cardId))?.claims.indexOf(claim) ?? -1;
      if (index < 0) return;
      const released = await this.table.updated(keys.headsUp(customerId, cardId), {
        UpdateExpression: `REMOVE claims[${index}]`,
        ConditionExpression: `claims[${index}] = :claim`,
        ExpressionAttributeValues: { ':claim': claim },
      });
      if (released) return;
    }
    throw new StoreUnavailableError(`could not release the heads-up ${claim} of ${customerId}: contention`);
  }

  async setHeadsUpBanner(customerId: string, cardId: string, bannerId: string): Promise<void> {
    await this.table.update(keys.headsUp(customerId, cardId), {
      UpdateExpression: 'SET bannerId = :banner',
      ExpressionAttributeValues: { ':banner': bannerId },
    });
  }

  async cancelHeadsUp(customerId: string, cardId: string, expiry: string, now: string): Promise<HeadsUpRecord | undefined> {
    const out = await this.table.update(keys.headsUp(customerId, cardId), {
      UpdateExpression:
        'SET updatedExpiry = :expiry, customerId = :customer, cardId = :card, claims = if_not_exists(claims, :empty), cardUpdatedAt = :now',
      ExpressionAttributeValues: { ':expiry': expiry, ':customer': customerId, ':card': cardId, ':empty': [], ':now': now },
      ReturnValues: 'ALL_OLD',
    });
    return out.Attributes ? headsUpOf(out.Attributes) : undefined;
  }

  async getHeadsUp(customerId: string, cardId: string): Promise<HeadsUpRecord | undefined> {
    const item = await this.table.get(keys.headsUp(customerId, cardId));
    return item ? headsUpOf(item) : undefined;
  }
}
