// The node:http / node:https peers' request handler: GET / -> "Hello World!" (Content-Type
// text/plain), POST /echo echoes the body, anything else 404.
import type { IncomingMessage, ServerResponse } from 'node:http';

export function helloHandler(req: IncomingMessage, res: ServerResponse): void {
  if (req.method === 'POST' && req.url === '/echo') {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => res.end(Buffer.concat(chunks)));
    return;
  }
  if (req.url === '/') {
    res.setHeader('Content-Type', 'text/plain');
    res.end('Hello World!');
    return;
  }
  res.statusCode = 404;
  res.end();
}
