#!/usr/bin/env node
// The one entry point. TypeScript is loaded through tsx so that a fresh clone
// runs after `npm install` with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
await main(process.argv);
