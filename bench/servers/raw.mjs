// Anchor: plain node:http, res.write of a template string over a Set.
//   node bench/servers/raw.mjs <port>
import { serve, portArg } from './common.mjs';

const subs = new Set();

serve(
  {
    name: 'raw',
    fanout: () => 'set-loop',
    count: () => subs.size,
    subscribe(req, res) {
      res.writeHead(200, {
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-cache, no-transform',
      });
      res.flushHeaders();
      subs.add(res);
      res.on('close', () => subs.delete(res));
    },
    deliver(data) {
      const frame = `data: ${data}\n\n`;
      for (const res of subs) res.write(frame);
    },
  },
  portArg(),
);
