// sse-native, res.write sink (adopt: false).  node bench/servers/sse-native-fallback.mjs <port>
process.argv.push('--fallback');
await import('./sse-native.mjs');
