/**
 * The ceiling: a bare node:http server that reads each request body and answers with a fixed body of the
 * size the parent asks for (over IPC, `{ bodyBytes }`), with the same headers Coffer sends. Whatever this
 * reaches under the load generator is the most any Node server can reach on this machine.
 * Run as `node bare-server.js PORT`, forked with an IPC channel.
 */
import { createServer } from 'node:http';

let body: Buffer = Buffer.alloc(0);
const headers = () => ({
  'content-type': 'application/x-amz-json-1.1',
  'x-amzn-requestid': '00000000-0000-4000-8000-000000000000',
  'content-length': String(body.length),
});

function fixedBody(bytes: number): Buffer {
  // A JSON-shaped body of exactly `bytes` bytes (bytes >= 12), so clients parse it like a real answer.
  const filler = Math.max(0, bytes - '{"Value":""}'.length);
  return Buffer.from(`{"Value":"${'x'.repeat(filler)}"}`, 'utf8');
}

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    res.writeHead(200, headers());
    res.end(body);
  });
});

process.on('message', (message: { bodyBytes: number }) => {
  body = fixedBody(message.bodyBytes);
  process.send!('ok');
});
process.on('SIGTERM', () => process.exit(0));
process.on('disconnect', () => process.exit(0));

server.listen(Number(process.argv[2]), '127.0.0.1');
