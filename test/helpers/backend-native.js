// Jest project `native`: the addon or a loud failure, never a silent fallback.
process.env.SSE_NATIVE = process.env.SSE_NATIVE || 'native';
