// A todo service with the day-one kit: JSON Schema validation (body, params, querystring),
// the /api/todos routes in their own plugin under a prefix, CORS, compression, static files
// (examples/public/), pino logging, request timeouts and an error handler.
//   npx tsx examples/microservice.ts            (or: node dist/examples/microservice.js)
//   open http://127.0.0.1:8080/                 (examples/public/index.html)
//   curl -s -X POST http://127.0.0.1:8080/api/todos -H 'content-type: application/json' -d '{"title":"milk"}'
//   curl -s 'http://127.0.0.1:8080/api/todos?done=false&limit=10'
//   curl -s -X PATCH http://127.0.0.1:8080/api/todos/1 -H 'content-type: application/json' -d '{"done":true}'
//   curl -s -X POST http://127.0.0.1:8080/api/todos -H 'content-type: application/json' -d '{"title":""}'   # 400
// PORT and HOST choose where it listens (defaults 8080 and 127.0.0.1); LOG_LEVEL the pino
// level (default info; 'silent' for none); CORS_ORIGIN the origin allowed to call the API.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { App, compress, cors, serveStatic } from 'salvo';

interface Todo { id: number; title: string; done: boolean }

const todo = {
  type: 'object',
  properties: { id: { type: 'integer' }, title: { type: 'string' }, done: { type: 'boolean' } },
  required: ['id', 'title', 'done'],
} as const;
const title = { type: 'string', minLength: 1, maxLength: 200 } as const;
const byId = { params: { type: 'object', properties: { id: { type: 'integer', minimum: 1 } }, required: ['id'] } };

/** The todo routes; registered with a prefix, so '/' here is /api/todos. */
async function todos(api: App): Promise<void> {
  const store = new Map<number, Todo>();
  let nextId = 1;
  const find = (id: number): Todo => {
    const t = store.get(id);
    if (t === undefined) throw Object.assign(new Error(`no todo with id ${id}`), { statusCode: 404, code: 'TODO_NOT_FOUND' });
    return t;
  };

  // Query strings are coerced by their schema: ?done=false is a boolean, limit a number.
  api.get('/', {
    schema: {
      querystring: {
        type: 'object',
        properties: { done: { type: 'boolean' }, limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
      },
      response: { 200: { type: 'array', items: todo } },
    },
  }, (req) => {
    const q = req.query as unknown as { done?: boolean; limit: number };
    return [...store.values()].filter((t) => q.done === undefined || t.done === q.done).slice(0, q.limit);
  });

  api.get('/:id', { schema: { ...byId, response: { 200: todo } } }, (req) => find(req.params.id as unknown as number));

  // Unknown fields are removed, `done` defaults to false: req.body is the validated value.
  api.post('/', {
    schema: {
      body: { type: 'object', properties: { title, done: { type: 'boolean', default: false } }, required: ['title'], additionalProperties: false },
      response: { 201: todo },
    },
  }, (req, res) => {
    const t: Todo = { id: nextId++, ...(req.body as unknown as Omit<Todo, 'id'>) };
    store.set(t.id, t);
    res.status(201).header('location', `/api/todos/${t.id}`);
    return t;
  });

  api.patch('/:id', {
    schema: {
      ...byId,
      body: { type: 'object', properties: { title, done: { type: 'boolean' } }, additionalProperties: false, minProperties: 1 },
      response: { 200: todo },
    },
  }, (req) => Object.assign(find(req.params.id as unknown as number), req.body));

  api.delete('/:id', { schema: byId }, (req) => {
    store.delete(find(req.params.id as unknown as number).id);
    return null; // 204 No Content
  });

  // A slow upstream: after the route's 200 ms, salvo answers 503 and aborts req.signal.
  api.get('/export', { timeout: 200 }, async (req) => {
    await sleep(5_000, undefined, { signal: req.signal });
    return [...store.values()];
  });
}

const app = new App({
  logger: { level: process.env.LOG_LEVEL ?? 'info' },
  requestTimeout: 10_000, // every other route: 503 after 10 s without an answer
});

app.register(cors, { origin: process.env.CORS_ORIGIN ?? 'http://localhost:3000' });
app.register(compress, { threshold: 1024 }); // gzip / brotli / deflate by Accept-Encoding
// examples/public, next to this file (tsx) or two folders up from dist/examples (node).
const publicDir = [join(__dirname, 'public'), join(__dirname, '..', '..', 'examples', 'public')].find((d) => existsSync(d));
app.register(serveStatic, { root: publicDir ?? join(__dirname, 'public') });
app.register(todos, { prefix: '/api/todos' });
app.get('/health', () => ({ status: 'ok' }));

// Validation failures arrive here as 400 SALVO_ERR_VALIDATION with err.validation.
app.setErrorHandler((err, req, res) => {
  const status = Number.isInteger(err.statusCode) && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
  if (status >= 500) req.log.error({ err }, 'request failed');
  res.status(status);
  return {
    statusCode: status,
    code: err.code ?? 'INTERNAL',
    message: status >= 500 ? 'Internal Server Error' : err.message,
    ...(err.validation ? { validation: err.validation } : {}),
    requestId: req.id,
  };
});

void app.listen({ port: Number(process.env.PORT ?? 8080), host: process.env.HOST ?? '127.0.0.1' }).then((server) => {
  app.log.info(`salvo microservice listening on http://${server.host}:${server.port}/`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void server.close().then(() => process.exit(0)));
  }
});
