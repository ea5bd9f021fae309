#!/usr/bin/env node
// `npx stripe-sandbox …`: registers tsx so the TypeScript CLI runs as it is (no build step), then runs it.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
