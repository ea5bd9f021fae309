#!/usr/bin/env node
// `npx dunning …`: registers tsx so the TypeScript CLI runs as it is (no build step), then runs it.
import { register } from 'tsx/esm/api';

// The SDK warns about Node 20 on every run; the local runtime silences it the same way.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
