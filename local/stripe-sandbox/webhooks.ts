// Delivers events to the configured endpoint the way Stripe does: signed JSON POSTs, one at a
// time in creation order, retried with exponential backoff, after the API call that caused them.
import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';

export interface WebhookTarget {
  url: string;
  secret: string;
  /**
   * The endpoint's `enabled_events`, as on a Stripe webhook endpoint: only these types are sent
   * (every event is still recorded and listed by /v1/events). Omitted or `['*']`: every type.
   */
  enabledEvents?: readonly string[];
}

export interface RetryPolicy {
  /** Total attempts per event, the first included. */
  attempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, initialDelayMs: 100, maxDelayMs: 5_000 };
const REQUEST_TIMEOUT_MS = 10_000;

/** Stripe-Signature as Stripe computes it: HMAC-SHA256 of "<t>.<payload>" with the endpoint secret. */
export function signPayload(payload: string, secret: string, timestamp = Math.floor(Date.now() / 1000)): string {
  const v1 = createHmac('sha256', secret).update(`${timestamp}.${payload}`, 'utf8').digest('hex');
  return `t=${timestamp},v1=${v1}`;
}

interface DispatcherOptions {
  /** The event's type and its JSON as sent. */
  getEvent: (id: string) => { type: string; payload: string } | undefined;
  onDelivered: (id: string) => void;
  log: (line: string) => void;
  retry: RetryPolicy;
}

export class WebhookDispatcher {
  private target: WebhookTarget | undefined;
  private enabled: ReadonlySet<string> | undefined;
  private readonly queue: string[] = [];
  private pumping = false;
  private closed = false;
  private waiters: Array<() => void> = [];
  private sleeping: { timer: NodeJS.Timeout; wake: () => void } | undefined;
  private readonly opts: DispatcherOptions;

  constructor(opts: DispatcherOptions, target?: WebhookTarget) {
    this.opts = opts;
    this.setTarget(target);
  }

  get hasTarget(): boolean {
    return this.target !== undefined && !this.closed;
  }

  /** Whether an event of `type` is sent to the endpoint (so counts in its `pending_webhooks`). */
  wants(type: string): boolean {
    return this.hasTarget && (this.enabled === undefined || this.enabled.has(type));
  }

  setTarget(target: WebhookTarget | undefined): void {
    this.target = target;
    const enabled = target?.enabledEvents;
    this.enabled = enabled === undefined || enabled.includes('*') ? undefined : new Set(enabled);
    // Like deleting a Stripe endpoint: what was still queued for it is abandoned.
    if (!target) this.queue.length = 0;
    this.settle();
  }

  enqueue(eventId: string, type: string): void {
    if (!this.wants(type)) return;
    this.queue.push(eventId);
    // Delivery starts after the API response that caused the event has been written.
    setImmediate(() => void this.pump());
  }

  idle(): Promise<void> {
    if (this.queue.length === 0 && !this.pumping) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  close(): void {
    this.closed = true;
    this.queue.length = 0;
    if (this.sleeping) {
      clearTimeout(this.sleeping.timer);
      this.sleeping.wake();
    }
    this.settle();
  }

  private settle(): void {
    if (this.queue.length > 0 || this.pumping) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const id = this.queue[0]!;
        await this.deliverWithRetries(id);
        if (this.queue[0] === id) this.queue.shift();
      }
    } finally {
      this.pumping = false;
      this.settle();
    }
  }

  private async deliverWithRetries(id: string): Promise<void> {
    const { attempts, initialDelayMs, maxDelayMs } = this.opts.retry;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const target = this.target;
      const event = this.opts.getEvent(id);
      if (!target || !event || this.closed) return;
      const outcome = await this.post(target, event);
      if (outcome === 'ok') {
        this.opts.onDelivered(id);
        return;
      }
      this.opts.log(`webhook ${event.type} ${id} attempt ${attempt}/${attempts} failed: ${outcome}`);
      if (attempt < attempts) await this.sleep(Math.min(initialDelayMs * 2 ** (attempt - 1), maxDelayMs));
    }
    this.opts.log(`webhook ${id} given up after ${attempts} attempts`);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.sleeping = undefined;
        resolve();
      };
      this.sleeping = { timer: setTimeout(wake, ms), wake };
    });
  }

  private post(target: WebhookTarget, event: { payload: string }): Promise<'ok' | string> {
    const { payload } = event;
    const url = new URL(target.url);
    const client = url.protocol === 'https:' ? https : http;
    return new Promise((resolve) => {
      const req = client.request(
        url,
        {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json; charset=utf-8',
            'Content-Length': Buffer.byteLength(payload),
            'User-Agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
            'Cache-Control': 'no-cache',
            Accept: '*/*; q=0.5, application/xml',
            'Stripe-Signature': signPayload(payload, target.secret),
          },
          timeout: REQUEST_TIMEOUT_MS,
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            resolve(status >= 200 && status < 300 ? 'ok' : `HTTP ${status}`);
          });
          res.on('error', (err) => resolve(err.message));
        },
      );
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (err) => resolve(err.message));
      req.end(payload);
    });
  }
}
