// sse-native-accept with an SSEStream per connection (req.accept()).
//   node bench/servers/sse-native-accept-stream.mjs <port>
process.argv.push('--stream');
await import('./sse-native-accept.mjs');
