// Worker-thread entry: TypeScript is loaded through tsx here too (a worker does not inherit the
// main thread's loader hooks on Node 20), then the proposal worker's module runs.
import { register } from 'tsx/esm/api';

register();
await import('./proposal-thread.ts');
