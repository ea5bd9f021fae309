// The Stripe sandbox package as the local runtime starts it. Its port in use is a setting to change,
// so it ends `npm start` as the other services' ports do: one line naming DUNNING_STRIPE_PORT, exit 2.
import {
  PortInUseError,
  startStripeSandbox as startSandbox,
  type StripeSandbox,
  type StripeSandboxOptions,
} from '@stripe-dunning/stripe-sandbox';
import { SettingsError } from '#shared/command-line.ts';

export type { StripeSandbox, WebhookTarget } from '@stripe-dunning/stripe-sandbox';

export async function startStripeSandbox(options: StripeSandboxOptions): Promise<StripeSandbox> {
  try {
    return await startSandbox(options);
  } catch (error) {
    if (error instanceof PortInUseError) throw new SettingsError(`${error.message}: set DUNNING_STRIPE_PORT to a free port`);
    throw error;
  }
}
