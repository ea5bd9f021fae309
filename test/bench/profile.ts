// Where the CPU went: a V8 CPU profile's self time, grouped by the part of the local runtime that
// spent it (dynalite, the SES server, the Stripe sandbox, the Step Functions engine, our handlers…).
import type { Profiler } from 'node:inspector';

export interface ProfileShare {
  part: string;
  percent: number;
}

const PARTS: Array<[RegExp, string]> = [
  [/node_modules\/(dynalite|levelup|leveldown|memdown|abstract-leveldown|level-[a-z-]+|encoding-down|deferred-leveldown|subleveldown|lazy|big\.js|lock|once)\//, 'dynalite (DynamoDB)'],
  [/node_modules\/(aws-ses-v2-local|nodemailer|express|body-parser|mailparser|libmime|iconv-lite)\//, 'aws-ses-v2-local (SES)'],
  [/node_modules\/(aws-local-stepfunctions|jsonpath-plus|p-limit|lodash)\//, 'aws-local-stepfunctions (engine)'],
  [/packages\/stripe-sandbox\//, 'Stripe sandbox'],
  [/node_modules\/(@aws-sdk|@smithy|fast-xml-parser|@aws-crypto)\//, 'AWS SDK clients'],
  [/node_modules\/stripe\//, 'stripe SDK'],
  [/node_modules\/@aws-lambda-powertools\//, 'Powertools'],
  [/node_modules\/zod\//, 'zod'],
  [/\/(shared|functions)\//, 'our handlers (shared/, functions/)'],
  [/\/local\//, 'local runtime glue (local/)'],
  [/\/test\//, 'the bench itself'],
];

export function attribute(profile: Profiler.Profile): ProfileShare[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const hits = new Map<number, number>();
  for (const id of profile.samples ?? []) hits.set(id, (hits.get(id) ?? 0) + 1);
  const total = profile.samples?.length ?? 0;
  const parts = new Map<string, number>();
  for (const [id, count] of hits) {
    const frame = byId.get(id)!.callFrame;
    const part = partOf(frame.url, frame.functionName);
    parts.set(part, (parts.get(part) ?? 0) + count);
  }
  return [...parts]
    .map(([part, count]) => ({ part, percent: Math.round((count / Math.max(1, total)) * 1000) / 10 }))
    .sort((a, b) => b.percent - a.percent);
}

function partOf(url: string, functionName: string): string {
  if (functionName === '(idle)') return 'idle (waiting: timers, sockets)';
  if (functionName === '(garbage collector)') return 'garbage collector';
  if (functionName === '(program)') return 'V8/Node native (program)';
  for (const [pattern, part] of PARTS) if (pattern.test(url)) return part;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];
  if (pkg) return `other: ${pkg}`;
  if (url.startsWith('node:') || url === '') return 'Node core (http, streams, crypto, timers)';
  return 'other';
}

/** The functions with the most self time, named with their file (package-relative), for the detail under the parts. */
export function topFunctions(profile: Profiler.Profile, n: number): ProfileShare[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const total = profile.samples?.length ?? 0;
  const counts = new Map<string, number>();
  for (const id of profile.samples ?? []) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const where = url ? `${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(shared|functions|local|test)\//, '$1/')}:${lineNumber + 1}` : 'native';
    const key = `${functionName || '(anonymous)'} (${where})`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([part, count]) => ({ part, percent: Math.round((count / Math.max(1, total)) * 1000) / 10 }));
}
