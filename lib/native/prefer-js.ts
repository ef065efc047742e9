// Imported first by lib/index-js.ts: the TypeScript engine, no addon.
import { preferJs } from './backend-choice';

preferJs();
