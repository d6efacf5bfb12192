// Async handlers: a handler that awaits a timer, and proof that pipelined
// requests still come back in the order they were sent.
//   npx tsx examples/async.ts
//   curl -s http://127.0.0.1:8080/sleep/200
// At start-up it sends three pipelined requests over one connection, the
// slowest first, and prints the responses: the handlers finish fastest-first,
// the responses still leave in request order (salvo queues an answer that is
// ready early until the ones before it are done).
// PORT and HOST choose where it listens (defaults 8080 and 127.0.0.1).
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { App } from 'salvo';

const MAX_SLEEP_MS = 10_000;
let finished = 0;

function delay(raw: string): number {
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_SLEEP_MS) {
    // Any error with a 4xx statusCode becomes that answer (JSON: statusCode, code, error, message).
    throw Object.assign(new Error(`ms must be an integer 0-${MAX_SLEEP_MS}`), { statusCode: 400, code: 'EXAMPLE_BAD_DELAY' });
  }
  return ms;
}

/** Sends `targets` pipelined on one connection and resolves with what came back. */
function pipelined(host: string, port: number, targets: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, host);
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (received += d));
    socket.on('end', () => resolve(received));
    socket.on('error', reject);
    const last = targets.length - 1;
    // All requests in one write: they reach salvo in one read, one batch.
    socket.write(targets.map((t, i) => `GET ${t} HTTP/1.1\r\nHost: ${host}\r\n${i === last ? 'Connection: close\r\n' : ''}\r\n`).join(''));
  });
}

async function main(): Promise<void> {
  const app = new App();

  // A promise-returning handler: salvo awaits it; the request (params, headers,
  // body) stays readable after the await.
  app.get('/sleep/:ms', async (req) => {
    const ms = delay(req.params.ms);
    const started = Date.now();
    await sleep(ms);
    return { slept: ms, path: req.path, tookMs: Date.now() - started, finished: `#${++finished}` };
  });

  // Callback style: return nothing and answer through `res` later.
  app.get('/later/:ms', (req, res) => {
    const ms = delay(req.params.ms);
    setTimeout(() => res.send(`answered after ${ms} ms (finished #${++finished})\n`), ms);
  });

  const server = await app.listen({
    port: Number(process.env.PORT ?? 8080),
    host: process.env.HOST ?? '127.0.0.1',
  });
  console.log(`salvo listening on http://${server.host}:${server.port}/ (parser: ${server.parser})`);

  const raw = await pipelined(server.host, server.port, ['/sleep/300', '/sleep/100', '/later/0']);
  const bodies = raw.split('HTTP/1.1 ').slice(1).map((r) => r.slice(r.indexOf('\r\n\r\n') + 4));
  console.log('pipelined /sleep/300, /sleep/100, /later/0 on one connection; responses in arrival order:');
  for (const b of bodies) console.log('  ' + b.trim());

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void server.close().then(() => process.exit(0)));
  }
}

void main();
