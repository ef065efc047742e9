// Jest project `js`: the TypeScript backend (lib/native/js-engine).
process.env.SSE_NATIVE = 'js';
