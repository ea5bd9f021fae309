// Where the X-Ray SDK's async context tracking (a cls-hooked namespace: an async_hooks hook on every
// promise) is on: in a function, as Lambda loads it, so the Tracer can attach subsegments; never in
// the local runtime, which does not trace and would pay for the hook on every promise.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The cls-hooked namespaces a fresh Node process has after importing `module`. */
function namespacesAfterImporting(module: string): string[] {
  const script = `await import(${JSON.stringify(`${ROOT}${module}`)}); process.stdout.write(JSON.stringify(Object.keys(process.namespaces ?? {})));`;
  const env = { ...process.env };
  delete env.AWS_XRAY_MANUAL_MODE;
  return JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, env, encoding: 'utf8' })) as string[];
}

describe('the X-Ray context tracking', () => {
  it('is on in a function, where the Tracer needs it', () => {
    expect(namespacesAfterImporting('functions/send-notice/handler.ts')).toEqual(['AWSXRay']);
  });

  it('is off in the local runtime, which never traces', () => {
    expect(namespacesAfterImporting('local/runtime.ts')).toEqual([]);
  });
});
