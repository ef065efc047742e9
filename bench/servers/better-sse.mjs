// Anchor: better-sse with one Channel (its defaults: JSON serializer, an id
// per event, keep-alive comments every 10 s).
//   node bench/servers/better-sse.mjs <port>
import { createRequire } from 'node:module';
import { serve, portArg } from './common.mjs';

const { createSession, createChannel } = createRequire(import.meta.url)('better-sse');
const channel = createChannel();
let single = null; // the one session, when there is exactly one

serve(
  {
    name: 'better-sse',
    fanout: () => 'channel',
    count: () => channel.sessionCount,
    async subscribe(req, res) {
      const session = await createSession(req, res);
      channel.register(session);
      session.once('disconnected', () => {
        if (single === session) single = null;
      });
    },
    deliver(data) {
      // One subscriber: push to the session (the single-stream scenario).
      if (channel.sessionCount === 1) {
        if (!single) single = channel.activeSessions[0];
        single.push(data);
      } else {
        channel.broadcast(data);
      }
    },
  },
  portArg(),
);
