// Echo: answers ANY method on ANY path with 200 and a JSON description of the
// request as salvo received it. Handy for checking what a client or proxy sends.
//   npx tsx examples/echo.ts
//   curl -s -X PATCH 'http://127.0.0.1:8080/a/b?x=1&y' -H 'X-A: 1' -H 'X-A: 2' -d 'hello'
// PORT and HOST choose where it listens (defaults 8080 and 127.0.0.1).
import { createHash } from 'node:crypto';
import { App, type Reply, type Request } from 'salvo';

function echo(req: Request, res: Reply) {
  const url = req.url; // the raw request-target, exactly as sent
  const q = url.indexOf('?');
  const headers: Record<string, string> = {};
  // req.headers: lower-case names, repeated fields joined with ', ' in arrival
  // order; only set-cookie is kept as an array, so join it the same way.
  for (const [name, value] of Object.entries(req.headers)) {
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  const body = req.body; // the decoded body (chunked framing removed); empty Buffer when none
  res.json({
    method: req.method,
    path: q === -1 ? url : url.slice(0, q),
    query: q === -1 ? '' : url.slice(q + 1),
    headers,
    bodyLength: body.length,
    bodySha1: createHash('sha1').update(body).digest('hex'),
  });
}

async function main(): Promise<void> {
  const app = new App();
  // '/*' is a tail wildcard on the root: it matches every path, '/' included
  // (req.params['*'] is then ''), and targets that are not origin-form such as
  // 'OPTIONS *' or 'GET http://host/x' too. The explicit '/' route costs
  // nothing and keeps the root answered by an exact (static) match.
  app.all('/', echo);
  app.all('/*', echo);

  const server = await app.listen({
    port: Number(process.env.PORT ?? 8080),
    host: process.env.HOST ?? '127.0.0.1',
  });
  console.log(`salvo echo listening on http://${server.host}:${server.port}/ (parser: ${server.parser})`);

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void server.close().then(() => process.exit(0)));
  }
}

void main();
