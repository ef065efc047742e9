// sse-native under test: createSSEStream on the adopted path (the C++ core
// owns the socket) or, with `--fallback`, on the res.write sink (adopt: false).
// Fan-out goes through the hub (registerConnection + broadcast) when dist
// exports it, else a loop over a Set calling stream.send(); one subscriber
// always gets stream.send() (the single-stream scenario).
//   node bench/servers/sse-native.mjs <port> [--fallback]
import { createRequire } from 'node:module';
import { serve, portArg } from './common.mjs';

const lib = createRequire(import.meta.url)('../../dist/index.js');
const adopt = !process.argv.includes('--fallback');
const KEY = 'bench';
const subs = new Set();
// Limits high enough that no slow-consumer policy fires in a burst: the
// anchors buffer without limit, so this measures delivery, not policy.
const opts = { adopt, heartbeatMs: 0, highWaterMark: 64 << 20, maxBuffered: 1 << 30 };

// 'hub-msg': broadcast(key, { data }); 'hub-args': broadcast(key, event, data);
// 'set-loop': no hub in dist (or neither form accepted).
let fanout = typeof lib.broadcast === 'function' && typeof lib.registerConnection === 'function' ? 'hub-msg' : 'set-loop';

function deliverSet(data) {
  for (const s of subs) s.send({ data });
}

serve(
  {
    name: adopt ? 'sse-native-adopted' : 'sse-native-fallback',
    fanout: () => fanout,
    count: () => subs.size,
    subscribe(req, res) {
      const s = createStream(req, res);
      if (!s) return;
      subs.add(s);
      s.on('close', () => subs.delete(s));
      if (fanout !== 'set-loop') lib.registerConnection(KEY, s);
    },
    deliver(data) {
      if (subs.size === 1) {
        for (const s of subs) s.send({ data });
        return;
      }
      if (fanout === 'set-loop') return deliverSet(data);
      try {
        if (fanout === 'hub-msg') lib.broadcast(KEY, { data });
        else lib.broadcast(KEY, 'message', data);
      } catch (err) {
        if (!(err instanceof TypeError)) throw err;
        fanout = fanout === 'hub-msg' ? 'hub-args' : 'set-loop';
        process.stderr.write(`sse-native bench server: broadcast form rejected (${err.message}); now ${fanout}\n`);
        this.deliver(data);
      }
    },
  },
  portArg(),
);

function createStream(req, res) {
  const s = lib.createSSEStream(req, res, opts);
  const want = adopt ? 'adopted' : 'response';
  if (s.sinkKind !== want && s.sinkKind !== 'pending') {
    process.stderr.write(`sse-native bench server: expected sink ${want}, got ${s.sinkKind}\n`);
  }
  return s;
}
