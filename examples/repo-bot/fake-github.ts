/**
 * A stand-in for the GitHub REST API, so the example runs offline: it accepts
 * `POST /repos/:owner/:name/issues/:number/comments` (what a bot calls to reply), remembers each
 * comment, and honours an `Idempotency-Key` header the way a careful receiver does (the same key
 * returns the first comment, never a second one). `GET /comments` lists what it received.
 */
import { createServer, type Server } from 'node:http';

export interface PostedComment {
  readonly id: number;
  readonly repo: string;
  readonly issue: number;
  readonly body: string;
  readonly idempotencyKey: string | null;
}

export function startFakeGithub(port: number): Promise<{ server: Server; url: string; comments: PostedComment[] }> {
  const comments: PostedComment[] = [];
  const byKey = new Map<string, PostedComment>();
  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const match = /^\/repos\/([^/]+\/[^/]+)\/issues\/(\d+)\/comments$/.exec(req.url ?? '');
      if (req.method === 'GET' && req.url === '/comments') return reply(200, comments);
      if (req.method !== 'POST' || !match) return reply(404, { message: 'Not Found' });
      const key = typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : null;
      const earlier = key ? byKey.get(key) : undefined;
      if (earlier) return reply(200, earlier);
      let body: string;
      try {
        const parsed = (JSON.parse(raw) as { body?: unknown }).body;
        body = typeof parsed === 'string' ? parsed : JSON.stringify(parsed ?? '');
      } catch {
        return reply(400, { message: 'Problems parsing JSON' });
      }
      const comment = { id: 9_000 + comments.length + 1, repo: match[1]!, issue: Number(match[2]), body, idempotencyKey: key };
      comments.push(comment);
      if (key) byKey.set(key, comment);
      return reply(201, comment);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const actual = typeof address === 'object' && address ? address.port : port;
      resolve({ server, url: `http://127.0.0.1:${actual}`, comments });
    });
  });
}
