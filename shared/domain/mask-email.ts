// Email addresses in text meant for logs and case timelines: masked, so an operator can tell
// customers apart without being able to write to them.

/**
 * An email address as it appears in a message: a domain with a dotted name. Stricter than SES's
 * own masking, so a stack trace's `node_modules/@scope/pkg` or a `pkg@1.2.3` is left readable.
 */
const EMAIL = /[A-Za-z0-9._%+-]+@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})/g;

/** `jane.doe@acme.com` becomes `j***@acme.com`: enough to tell customers apart, not to write to them. */
export function maskEmailAddresses(text: string): string {
  return text.replace(EMAIL, (address: string, domain: string) => `${address.slice(0, 1)}***@${domain}`);
}
