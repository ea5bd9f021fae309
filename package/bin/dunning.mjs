#!/usr/bin/env node
// `npx dunning …` from the installed package: the CLI compiled to JavaScript (the repository's own
// bin/dunning.mjs runs the TypeScript through tsx instead).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { main } = await import('../dist/esm/cli/main.js');
process.exitCode = await main(process.argv.slice(2));
