// The first module of a function's worker thread: TypeScript support (tsx), then the function's
// own container code. Plain JavaScript, because nothing can load TypeScript before this runs.
import { register } from 'tsx/esm/api';

register();
await import('./lambda-worker.ts');
