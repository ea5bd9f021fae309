// A time zone a policy (or a customer) names must be one Intl can render dates in. Here, below the
// domain's formatting: the policy's schema checks it, and the domain depends on the policy, not back.

/** True for an IANA time zone Intl can render in, e.g. "Europe/Paris". */
export function isTimeZone(timeZone: string | undefined): timeZone is string {
  if (!timeZone || timeZone.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone });
    return true;
  } catch {
    return false;
  }
}
