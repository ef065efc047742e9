// App Router route handler: POST /api/announce with {"text": "..."}
// broadcasts an `announcement` event to every stream registered under the
// key 'announcements' (the pages route /api/ticks registers its streams
// there). GET returns how many streams each key holds.
import { broadcast, getConnectionCount } from 'sse-native';

export const dynamic = 'force-dynamic';

export async function POST(request: Request): Promise<Response> {
  const body = (await request.json().catch(() => ({}))) as { text?: unknown };
  const text = typeof body.text === 'string' ? body.text : '';
  broadcast('announcements', 'announcement', { text });
  return Response.json({ delivered: getConnectionCount('announcements') });
}

export function GET(): Response {
  return Response.json({
    clock: getConnectionCount('clock'),
    announcements: getConnectionCount('announcements'),
  });
}
